//! The ledger: what to persist before producing an action's messages (write-ahead) and after Kafka acknowledged
//! them, so that a kill at any moment leaves a state from which every shipped block is still finalized or
//! retracted. Pure bookkeeping, shared by the worker and the property tests.
//!
//! | action | before producing | after every message is acknowledged |
//! |---|---|---|
//! | ship a final block | nothing (a crash ships it again) | the cursor moves to it |
//! | ship a block that is not final | its journal entry, `Shipping` | the entry becomes `Shipped` |
//! | retract a block | its entry becomes `Retracting` | the entry goes (unless shipped again since) |
//! | finalize a journal block | nothing (a crash finalizes it again) | the entry goes, the cursor moves to it |

use std::collections::HashMap;

use crate::{
	follow::{BlockId, BlockLink},
	store::journal::{Change, EntryState, JournalEntry, Placement, SinkState},
};

/// What completing an action changes, once acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect<H> {
	ShippedFinal(BlockId<H>),
	Shipped { hash: H, seq: u64 },
	Retracted { hash: H, seq: u64 },
	Finalized(BlockId<H>),
}

/// The journal as persisted (plus which in-flight action wrote each entry last).
#[derive(Debug)]
pub struct Ledger<H> {
	entries: HashMap<H, (JournalEntry<H>, u64)>,
}

impl<H: Copy + Eq + std::hash::Hash> Ledger<H> {
	pub fn new(state: &SinkState<H>) -> Self
	where
		H: Clone,
	{
		Self { entries: state.journal.iter().map(|entry| (entry.block.hash, (entry.clone(), 0))).collect() }
	}

	/// The journal entry of `hash`.
	pub fn entry(&self, hash: &H) -> Option<&JournalEntry<H>> {
		self.entries.get(hash).map(|(entry, _)| entry)
	}

	pub fn len(&self) -> usize {
		self.entries.len()
	}

	pub fn is_empty(&self) -> bool {
		self.entries.is_empty()
	}

	/// Action `seq` ships `block`, not final, with these placements: the write-ahead change. A block shipped
	/// before keeps the placements of its earlier shipments too (a retraction must reach all of them).
	pub fn shipping(
		&mut self,
		seq: u64,
		block: BlockLink<H>,
		spec_version: u32,
		timestamp: Option<u64>,
		mut placements: Vec<Placement>,
	) -> (Change<H>, Effect<H>) {
		if let Some((earlier, _)) = self.entries.get(&block.hash) {
			merge_placements(&mut placements, &earlier.placements);
		}
		let entry = JournalEntry { block, state: EntryState::Shipping, spec_version, timestamp, placements };
		self.entries.insert(block.hash, (entry.clone(), seq));
		(Change::Put(entry), Effect::Shipped { hash: block.hash, seq })
	}

	/// Action `seq` retracts `hash`: the write-ahead change (`None` if the block is not in the journal).
	pub fn retracting(&mut self, seq: u64, hash: H) -> Option<(Change<H>, Effect<H>)> {
		let (entry, last) = self.entries.get_mut(&hash)?;
		entry.state = EntryState::Retracting;
		*last = seq;
		Some((Change::Put(entry.clone()), Effect::Retracted { hash, seq }))
	}

	/// The persisted changes once every message of an action was acknowledged. Effects must be applied in the
	/// order their actions were produced.
	pub fn complete(&mut self, effect: Effect<H>) -> Vec<Change<H>> {
		match effect {
			Effect::ShippedFinal(id) => vec![Change::Cursor(id)],
			Effect::Shipped { hash, seq } => match self.entries.get_mut(&hash) {
				Some((entry, last)) if *last == seq => {
					entry.state = EntryState::Shipped;
					vec![Change::Put(entry.clone())]
				}
				// Retracted (or shipped again) since: that later action decides.
				_ => vec![],
			},
			Effect::Retracted { hash, seq } => match self.entries.get(&hash) {
				Some((_, last)) if *last == seq => {
					self.entries.remove(&hash);
					vec![Change::Remove(hash)]
				}
				// Shipped again since (re-enacted): the entry stays for that shipment.
				_ => vec![],
			},
			Effect::Finalized(id) => {
				self.entries.remove(&id.hash);
				vec![Change::Remove(id.hash), Change::Cursor(id)]
			}
		}
	}
}

/// Adds `earlier`'s ids to `placements` (same topic-partition: ids not already there; else the placement).
pub fn merge_placements(placements: &mut Vec<Placement>, earlier: &[Placement]) {
	for old in earlier {
		match placements.iter_mut().find(|p| p.topic == old.topic && p.partition == old.partition) {
			Some(placement) => {
				for id in &old.ids {
					if !placement.ids.contains(id) {
						placement.ids.push(id.clone());
					}
				}
			}
			None => placements.push(old.clone()),
		}
	}
}
