//! The follower: a pure state machine that decides what to ship, retract and finalize.
//!
//! It keeps the *journal*: the blocks it shipped that are not final yet, which always end up forming one chain
//! that extends the cursor (the last block shipped as final). Each time it is asked to [`Follower::plan`], it
//! reads the chain's heads and compares:
//!
//! 1. journal blocks that left the best chain are retracted, **newest first** (a re-org, a best block moved by
//!    finality, a branch displaced by finality, or any of these while the node was down);
//! 2. journal blocks a crash may have left half-shipped, and that are still on the best chain, are shipped again
//!    (same ids: consumers dedupe), after the blocks below them whose shipment the crash lost;
//! 3. journal blocks the finalized head has reached are finalized, oldest first;
//! 4. the best chain (in [`Follow::Best`] mode) or the finalized chain (in [`Follow::Finalized`] mode) is shipped
//!    from the journal's tip on, in chain order, within the caller's budget. Blocks at or below the finalized head
//!    are shipped as final directly.
//!
//! Retractions always come before anything of the new branch: the actions are returned in that order, and the
//! worker produces them in that order. Blocks are identified by hash, never by number alone: two blocks at one
//! height on different forks never collide.

use std::collections::VecDeque;

use crate::{
	config::Follow,
	error::SinkError,
	follow::chain::{BlockId, BlockLink, ChainView},
};

/// What to do next, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action<H> {
	/// Cancel a shipped block that left the best chain: `BlockRetracted` to every partition it reached.
	Retract(BlockLink<H>),
	/// Ship a block: its messages; `finalized` when it is final already (then `BlockFinalized` is its last
	/// message and it never enters the journal).
	Ship { block: BlockLink<H>, finalized: bool },
	/// A journal block became final: `BlockFinalized`, then it leaves the journal and becomes the cursor.
	Finalize(BlockLink<H>),
}

/// A journal block as the store had it at start-up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Restored<H> {
	pub block: BlockLink<H>,
	/// Every message of its last shipment was acknowledged (otherwise a crash may have lost some: if the block
	/// is still on the best chain it is shipped again).
	pub acknowledged: bool,
}

#[derive(Clone, Copy, Debug)]
struct Tracked<H> {
	block: BlockLink<H>,
	/// To be shipped (again) before anything after it: a crash may have left it half-shipped, or it fills a hole.
	reship: bool,
	/// Shipped at least once, so it has a journal entry (a hole waiting for its turn has none: leaving the chain,
	/// it is dropped without a retraction).
	shipped: bool,
}

/// The state machine. See the module documentation.
#[derive(Debug)]
pub struct Follower<H> {
	mode: Follow,
	/// The last block shipped as final, if any.
	cursor: Option<BlockId<H>>,
	/// The first block to ship when there is no cursor.
	start: u64,
	/// Shipped, not final; sorted by number. After the first plan, one chain extending the cursor.
	journal: VecDeque<Tracked<H>>,
	/// Whether the journal was checked in full against the chain (after a restart it may hold several blocks at
	/// one height; after that first check only its tip can leave the best chain first).
	verified: bool,
	max_unfinalized: usize,
	stalled: bool,
}

impl<H: Copy + Eq + std::fmt::Debug> Follower<H> {
	/// A follower resuming from the stored cursor and journal. `start` is where to begin without a cursor.
	pub fn new(
		mode: Follow,
		start: u64,
		cursor: Option<BlockId<H>>,
		journal: impl IntoIterator<Item = Restored<H>>,
		max_unfinalized: usize,
	) -> Self {
		let mut journal: Vec<Tracked<H>> =
			journal.into_iter().map(|r| Tracked { block: r.block, reship: !r.acknowledged, shipped: true }).collect();
		journal.sort_by_key(|t| t.block.number);
		Self {
			mode,
			cursor,
			start,
			journal: journal.into(),
			verified: false,
			max_unfinalized: max_unfinalized.max(1),
			stalled: false,
		}
	}

	/// The blocks shipped and not final, oldest first.
	pub fn journal(&self) -> impl Iterator<Item = &BlockLink<H>> {
		self.journal.iter().filter(|t| t.shipped).map(|t| &t.block)
	}

	/// Whether blocks of the journal (holes, or blocks a crash may have left half-shipped) still wait to be
	/// shipped: the read-ahead budget let only part of them go.
	pub fn catching_up_journal(&self) -> bool {
		self.journal.iter().any(|t| t.reship)
	}

	/// Whether the last plan stopped shipping because the journal is full (finality has stalled).
	pub fn stalled(&self) -> bool {
		self.stalled
	}

	/// The next actions, given the chain now. At most `budget` blocks are shipped (retractions and
	/// finalizations are not counted: they are small and must not wait).
	pub fn plan<C: ChainView<Hash = H>>(&mut self, chain: &C, budget: usize) -> Result<Vec<Action<H>>, SinkError> {
		let heads = chain.heads()?;
		let mut actions = Vec::new();

		// 1. Retract what left the best chain, newest first.
		let mut retracted = Vec::new();
		if self.verified {
			while let Some(tip) = self.journal.back() {
				if is_canonical(chain, &tip.block)? {
					break;
				}
				retracted.extend(self.journal.pop_back().filter(|t| t.shipped).map(|t| t.block));
			}
		} else {
			let mut kept = VecDeque::with_capacity(self.journal.len());
			let mut dropped = Vec::new();
			for tracked in self.journal.iter() {
				if is_canonical(chain, &tracked.block)? {
					kept.push_back(*tracked);
				} else if tracked.shipped {
					dropped.push(tracked.block);
				}
			}
			// Each block was checked on its own: a best-chain switch between two checks can keep a block of each
			// branch (A10 with B11). What is kept must be one chain, linked by parents to the cursor; if it isn't,
			// the chain moved under us: check it all again at the next plan.
			if !is_linked(self.cursor, kept.iter().map(|t| &t.block)) {
				return Ok(actions);
			}
			retracted = dropped;
			self.journal = kept;
			self.verified = true;
		}
		retracted.sort_by_key(|block| std::cmp::Reverse(block.number));
		actions.extend(retracted.into_iter().map(Action::Retract));

		// 2. After a crash while a final block's shipment was in flight and later blocks were already journaled, the
		//    journal has holes (or starts above the first unshipped block): ship each hole's blocks, journaled (step
		//    4 finalizes them in order), and every journal block after the first hole again, so that the chain goes
		//    out in order.
		let first_unshipped = self.cursor.map_or(self.start, |c| c.number + 1);
		let mut holes = Vec::new();
		let mut expected = first_unshipped;
		let mut base = self.cursor.map(|c| c.hash);
		for tracked in &self.journal {
			for number in expected..tracked.block.number {
				match chain.canonical(number)?.filter(|b| base.is_none_or(|base| base == b.parent)) {
					Some(block) => {
						holes.push(block);
						base = Some(block.hash);
					}
					// The best chain is moving under us: plan again later.
					None => return Ok(actions),
				}
			}
			// The hole's last block must be the journal block's parent too, or the holes belong to another branch.
			if tracked.block.number == expected && base.is_some_and(|base| base != tracked.block.parent) {
				return Ok(actions);
			}
			expected = tracked.block.number + 1;
			base = Some(tracked.block.hash);
		}
		if !holes.is_empty() {
			let mut refilled = VecDeque::with_capacity(self.journal.len() + holes.len());
			let mut holes = holes.into_iter().peekable();
			let mut after_hole = false;
			for mut tracked in std::mem::take(&mut self.journal) {
				while let Some(block) = holes.next_if(|b| b.number < tracked.block.number) {
					refilled.push_back(Tracked { block, reship: true, shipped: false });
					after_hole = true;
				}
				tracked.reship |= after_hole;
				refilled.push_back(tracked);
			}
			self.journal = refilled;
		}

		// 3. From the oldest on, in chain order: finalize what the finalized head reached, and ship what a hole or
		//    a crash left unshipped, within the budget (a restore respects the read-ahead as catch-up does). A hole
		//    the finalized head reached ships as final, like any final block.
		let mut budget = budget;
		while let Some(front) = self.journal.front_mut() {
			if front.block.number > heads.finalized.number {
				break;
			}
			// Only the canonical block at its height is final: a block the chain left since step 1 is retracted by
			// the next plan, never finalized.
			if !is_canonical(chain, &front.block)? {
				break;
			}
			let block = front.block;
			if front.reship {
				if budget == 0 {
					return Ok(actions);
				}
				budget -= 1;
				if !front.shipped {
					self.journal.pop_front();
					self.cursor = Some(block.id());
					actions.push(Action::Ship { block, finalized: true });
					continue;
				}
				front.reship = false;
				actions.push(Action::Ship { block, finalized: false });
			}
			self.journal.pop_front();
			self.cursor = Some(block.id());
			actions.push(Action::Finalize(block));
		}
		for tracked in self.journal.iter_mut().filter(|t| t.reship) {
			if budget == 0 {
				return Ok(actions);
			}
			budget -= 1;
			tracked.reship = false;
			tracked.shipped = true;
			actions.push(Action::Ship { block: tracked.block, finalized: false });
		}

		// 5. Ship the chain on from the tip, in order.
		let target = match self.mode {
			Follow::Finalized => heads.finalized.number,
			Follow::Best => heads.best.number,
		};
		let mut base = self.journal.back().map(|t| t.block.id()).or(self.cursor);
		let mut next = base.map_or(self.start, |b| b.number + 1);
		self.stalled = false;
		while next <= target && budget > 0 {
			let finalized = next <= heads.finalized.number;
			if !finalized && self.journal.len() >= self.max_unfinalized {
				self.stalled = true;
				break;
			}
			let Some(block) = chain.canonical(next)? else { break };
			if base.is_some_and(|base| base.hash != block.parent) {
				// The best chain changed since the journal was checked: the next plan retracts first.
				break;
			}
			actions.push(Action::Ship { block, finalized });
			if finalized {
				self.cursor = Some(block.id());
			} else {
				self.journal.push_back(Tracked { block, reship: false, shipped: true });
			}
			base = Some(block.id());
			next += 1;
			budget -= 1;
		}
		Ok(actions)
	}
}

/// Whether `blocks` (sorted by number) form one chain on top of `cursor`: each block at the next height has the
/// one before it as parent (the first, if right above the cursor, the cursor).
fn is_linked<'a, H: Copy + Eq + 'a>(
	cursor: Option<BlockId<H>>,
	blocks: impl Iterator<Item = &'a BlockLink<H>>,
) -> bool {
	let mut previous = cursor;
	for block in blocks {
		if previous.is_some_and(|p| p.number + 1 == block.number && p.hash != block.parent) {
			return false;
		}
		previous = Some(block.id());
	}
	true
}

fn is_canonical<C: ChainView>(chain: &C, block: &BlockLink<C::Hash>) -> Result<bool, SinkError> {
	Ok(chain.canonical(block.number)?.is_some_and(|on_chain| on_chain.hash == block.hash))
}
