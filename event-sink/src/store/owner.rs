//! The journal's and the cursor's one owner. Whatever the sink knows about what it shipped lives here, in three
//! views that only this type keeps consistent:
//!
//! - the **plan** (the [`Follower`]): what was handed to the output, acknowledged or not, and where shipping goes
//!   next; it runs ahead of acknowledgements;
//! - the **ledger**: the journal entries as the store has them, with where each block's messages went (its
//!   placements), plus the write-ahead changes not yet committed;
//! - the **store**: what survives a crash; the cursor it holds is the one every report and restart reads.
//!
//! The driver asks it for actions, tells it what each action is about to send (the write-ahead), commits that
//! before anything is sent, and hands it each action's effect once the output acknowledged the action, in order.
//! Nothing else holds a cursor or a journal entry.

use std::time::{Duration, Instant};

use crate::{
	config::{Follow, StartFrom},
	error::SinkError,
	follow::{Action, BlockId, BlockLink, ChainView, Follower, Restored},
	store::{
		cursor::check_or_start,
		identity::{self, Identity},
		journal::{Change, EntryState, JournalEntry, Placement, StateStore},
		ledger::{Effect, Ledger},
	},
};

/// How often acknowledged progress is written to the store, at most: catch-up does not write for every batch of
/// acknowledgements (a crash then re-ships at most that second's blocks, with the same ids).
pub const WRITE_INTERVAL: Duration = Duration::from_millis(1000);

/// The sink's journal and cursor, from the store on. See the module documentation.
pub struct Journal<H, S> {
	store: S,
	plan: Follower<H>,
	ledger: Ledger<H>,
	identity: Option<Identity>,
	/// The last run epoch taken, as the store has it.
	run_epoch: u64,
	/// The cursor as the store has it.
	persisted: Option<BlockId<H>>,
	/// The first block shipped when there is no cursor.
	start: u64,
	/// To commit before any message of the actions that made them is sent.
	write_ahead: Vec<Change<H>>,
	/// Made by acknowledged actions, committed at most every [`WRITE_INTERVAL`] (or with the next write-ahead).
	acknowledged: Vec<Change<H>>,
	last_write: Instant,
}

impl<H, S> Journal<H, S>
where
	H: Copy + Eq + std::hash::Hash + std::fmt::Debug,
	S: StateStore<H>,
{
	/// Loads the state, checks the stored cursor against `chain` (or places a first start from `start_from`, and
	/// persists the block before it as the cursor, so that `latest` is resolved once and a restart never moves it).
	pub fn open<C: ChainView<Hash = H>>(
		mut store: S,
		chain: &C,
		follow: Follow,
		start_from: StartFrom,
		max_unfinalized: usize,
	) -> Result<Self, SinkError> {
		let state = store.load()?;
		let (cursor, start) = match check_or_start(chain, state.cursor, start_from)? {
			Ok(cursor) => (Some(cursor), cursor.number + 1),
			Err(start) => match start.checked_sub(1) {
				Some(before) if before <= chain.heads()?.finalized.number => {
					let block = chain.canonical(before)?.ok_or_else(|| {
						SinkError::Database(format!("finalized block #{before} is not in the database"))
					})?;
					store.commit(vec![Change::Cursor(block.id())])?;
					(Some(block.id()), start)
				}
				_ => (None, start),
			},
		};
		let restored = state
			.journal
			.iter()
			.map(|entry| Restored { block: entry.block, acknowledged: entry.state == EntryState::Shipped });
		Ok(Self {
			plan: Follower::new(follow, start, cursor, restored, max_unfinalized),
			ledger: Ledger::new(&state),
			run_epoch: state.run_epoch,
			identity: state.identity,
			persisted: cursor,
			start,
			store,
			write_ahead: Vec::new(),
			acknowledged: Vec::new(),
			last_write: Instant::now(),
		})
	}

	/// Checks that the stored cursor belongs where the output now ships (`here`); records `here` on a first start.
	pub fn check_identity(&mut self, here: &Identity) -> Result<(), SinkError> {
		if let Some(identity) = identity::check(self.identity.as_ref(), here)? {
			self.store.commit(vec![Change::Identity(identity.clone())])?;
			self.identity = Some(identity);
		}
		Ok(())
	}

	/// Takes this run's epoch and commits it durably, before the run sends anything: higher than every epoch an
	/// earlier run took from this store, and at least `floor` (the wall clock in milliseconds), so that a node
	/// started on new state (a new database, `kafka-cursor reset`) still starts above its predecessors on the same
	/// topics. Consumers discard a message of a lower run epoch than their partition has shown (docs/envelope.md,
	/// "Crashes and restarts"): a previous run's request that lands late can't undo this run's retraction.
	pub fn next_run_epoch(&mut self, floor: u64) -> Result<u64, SinkError> {
		let epoch = floor.max(self.run_epoch + 1);
		self.store.commit(vec![Change::RunEpoch(epoch)])?;
		self.run_epoch = epoch;
		Ok(epoch)
	}

	/// The next actions, given the chain now; at most `budget` blocks are shipped.
	pub fn plan<C: ChainView<Hash = H>>(&mut self, chain: &C, budget: usize) -> Result<Vec<Action<H>>, SinkError> {
		self.plan.plan(chain, budget)
	}

	/// The planning view (tests inspect it).
	pub fn follower(&self) -> &Follower<H> {
		&self.plan
	}

	/// Whether the last plan stopped shipping because the journal is full (finality has stalled).
	pub fn stalled(&self) -> bool {
		self.plan.stalled()
	}

	/// Action `seq` ships `block`, not final, to `placements`: its entry goes into the write-ahead.
	pub fn shipping(
		&mut self,
		seq: u64,
		block: BlockLink<H>,
		spec_version: u32,
		timestamp: Option<u64>,
		placements: Vec<Placement>,
	) -> Effect<H> {
		let (change, effect) = self.ledger.shipping(seq, block, spec_version, timestamp, placements);
		self.write_ahead.push(change);
		effect
	}

	/// Action `seq` retracts `block`: its entry's new state goes into the write-ahead; the entry as it was (what
	/// the retraction must reach).
	pub fn retracting(&mut self, seq: u64, block: &BlockLink<H>) -> Result<(JournalEntry<H>, Effect<H>), SinkError> {
		let entry = self.entry_of(block, "retracted")?;
		let (change, effect) = self.ledger.retracting(seq, block.hash).expect("the entry exists: checked above");
		self.write_ahead.push(change);
		Ok((entry, effect))
	}

	/// The entry of a journal block the follower is about to finalize.
	pub fn finalizing(&self, block: &BlockLink<H>) -> Result<(JournalEntry<H>, Effect<H>), SinkError> {
		Ok((self.entry_of(block, "finalized")?, Effect::Finalized(block.id())))
	}

	fn entry_of(&self, block: &BlockLink<H>, action: &str) -> Result<JournalEntry<H>, SinkError> {
		self.ledger.entry(&block.hash).cloned().ok_or_else(|| {
			SinkError::Journal(format!(
				"block #{} ({:?}) is to be {action} but has no journal entry (a bug: please report)",
				block.number, block.hash
			))
		})
	}

	/// The journal entry of `hash`, as the ledger has it.
	pub fn entry(&self, hash: &H) -> Option<&JournalEntry<H>> {
		self.ledger.entry(hash)
	}

	/// Whether something must be committed before the next action's messages are sent.
	pub fn has_write_ahead(&self) -> bool {
		!self.write_ahead.is_empty()
	}

	/// Commits the write-ahead (after what acknowledgements changed since the last write), durably: the store
	/// returns only once it would survive a crash. The cursor it moved to, if it moved.
	pub fn commit_write_ahead(&mut self) -> Result<Option<BlockId<H>>, SinkError> {
		let mut changes = std::mem::take(&mut self.acknowledged);
		changes.append(&mut self.write_ahead);
		self.commit(changes)
	}

	/// An action's every message was acknowledged: what that changes is committed with the next write. Effects
	/// must be completed in the order their actions were sent.
	pub fn complete(&mut self, effect: Effect<H>) {
		let changes = self.ledger.complete(effect);
		self.acknowledged.extend(changes);
	}

	/// Commits what acknowledgements changed, if the last write is [`WRITE_INTERVAL`] old. The cursor it moved to.
	pub fn persist_if_due(&mut self) -> Result<Option<BlockId<H>>, SinkError> {
		if self.acknowledged.is_empty() || self.last_write.elapsed() < WRITE_INTERVAL {
			return Ok(None);
		}
		self.persist_now()
	}

	/// Commits what acknowledgements changed, now (before stopping on an error). The cursor it moved to.
	pub fn persist_now(&mut self) -> Result<Option<BlockId<H>>, SinkError> {
		let changes = std::mem::take(&mut self.acknowledged);
		self.commit(changes)
	}

	fn commit(&mut self, changes: Vec<Change<H>>) -> Result<Option<BlockId<H>>, SinkError> {
		if changes.is_empty() {
			return Ok(None);
		}
		let cursor = changes.iter().rev().find_map(|change| match change {
			Change::Cursor(id) => Some(*id),
			_ => None,
		});
		self.store.commit(changes)?;
		self.last_write = Instant::now();
		if cursor.is_some() {
			self.persisted = cursor;
		}
		Ok(cursor)
	}

	/// The cursor as the store has it: the last final block shipped and acknowledged.
	pub fn cursor(&self) -> Option<BlockId<H>> {
		self.persisted
	}

	/// Where shipping began when there was no cursor.
	pub fn start(&self) -> u64 {
		self.start
	}

	/// Blocks shipped and not final (journal entries).
	pub fn len(&self) -> usize {
		self.ledger.len()
	}

	pub fn is_empty(&self) -> bool {
		self.ledger.is_empty()
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		follow::Heads,
		store::{journal::SinkState, MemoryStateStore},
	};

	struct Line(u64);

	impl ChainView for Line {
		type Hash = u64;

		fn heads(&self) -> Result<Heads<u64>, SinkError> {
			Ok(Heads { best: BlockId { number: self.0, hash: self.0 }, finalized: BlockId { number: 2, hash: 2 } })
		}

		fn canonical(&self, number: u64) -> Result<Option<BlockLink<u64>>, SinkError> {
			Ok((number <= self.0).then(|| BlockLink { number, hash: number, parent: number.saturating_sub(1) }))
		}
	}

	fn state(store: &MemoryStateStore<u64>) -> SinkState<u64> {
		store.load().unwrap()
	}

	/// Each run's epoch is above every earlier one of the store, even when the clock (the floor) went back, and
	/// is committed when it is handed out.
	#[test]
	fn run_epochs_increase_and_are_committed_at_once() {
		let mut store = MemoryStateStore::default();
		let chain = Line(4);
		let mut journal = Journal::open(&mut store, &chain, Follow::Best, StartFrom::Genesis, 16).unwrap();
		assert_eq!(journal.next_run_epoch(1_000).unwrap(), 1_000);
		assert_eq!(journal.next_run_epoch(5).unwrap(), 1_001, "a clock that went back does not lower it");
		drop(journal);
		assert_eq!(state(&store).run_epoch, 1_001);
		let mut journal = Journal::open(&mut store, &chain, Follow::Best, StartFrom::Genesis, 16).unwrap();
		assert_eq!(journal.next_run_epoch(0).unwrap(), 1_002, "after a restart too");
		assert_eq!(journal.next_run_epoch(2_000).unwrap(), 2_000);
	}

	/// A first start at `latest` persists the block before it at once; the write-ahead is committed only on
	/// demand, and acknowledged effects only when due (or now).
	#[test]
	fn commits_the_write_ahead_first_and_acknowledgements_when_due() {
		let mut store = MemoryStateStore::default();
		let chain = Line(4);
		let mut journal = Journal::open(&mut store, &chain, Follow::Best, StartFrom::Latest, 16).unwrap();
		assert_eq!(journal.cursor(), Some(BlockId { number: 2, hash: 2 }));
		let actions = journal.plan(&chain, 8).unwrap();
		let ships: Vec<_> = actions
			.iter()
			.filter_map(|a| match a {
				Action::Ship { block, finalized: false } => Some(*block),
				_ => None,
			})
			.collect();
		assert_eq!(ships.iter().map(|b| b.number).collect::<Vec<_>>(), vec![3, 4]);
		let effects: Vec<_> = ships
			.iter()
			.enumerate()
			.map(|(seq, block)| journal.shipping(seq as u64, *block, 1, None, vec![]))
			.collect();
		assert!(journal.has_write_ahead());
		journal.commit_write_ahead().unwrap();
		for effect in effects {
			journal.complete(effect);
		}
		assert_eq!(journal.persist_if_due().unwrap(), None, "not due yet");
		journal.persist_now().unwrap();
		drop(journal);
		let state = state(&store);
		assert_eq!(state.journal.len(), 2);
		assert!(state.journal.iter().all(|entry| entry.state == EntryState::Shipped));
	}

	/// A missing entry is an error naming the block, never a panic.
	#[test]
	fn an_action_on_a_block_without_entry_is_a_clear_error() {
		let mut store = MemoryStateStore::default();
		let mut journal = Journal::open(&mut store, &Line(4), Follow::Best, StartFrom::Genesis, 16).unwrap();
		let block = BlockLink { number: 3, hash: 3, parent: 2 };
		let error = journal.retracting(1, &block).unwrap_err().to_string();
		assert!(error.contains("#3") && error.contains("no journal entry"), "{error}");
		assert!(!journal.has_write_ahead());
	}
}
