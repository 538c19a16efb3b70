//! The journal: shipped blocks that are not final yet, with where each of their messages went, persisted with
//! the cursor in one atomic write.
//!
//! Layout in the node's auxiliary database (bump the `v1` if an encoding changes):
//! - `herald/event-sink/cursor/v1`: the [`Cursor`] (unchanged since the first release);
//! - `herald/event-sink/journal/v1/index`: the chain's genesis hash and the hashes of the journal's blocks;
//! - `herald/event-sink/journal/v1/block/<hash>`: one [`JournalEntry`] per block.

use std::{collections::HashMap, sync::Arc};

use codec::{Decode, Encode};
use sc_client_api::AuxStore;

use crate::{
	error::SinkError,
	follow::{BlockId, BlockLink},
	store::{
		cursor::{self, Cursor},
		identity::{Identity, IDENTITY_KEY},
	},
};

const INDEX_KEY: &[u8] = b"herald/event-sink/journal/v1/index";
const ENTRY_PREFIX: &[u8] = b"herald/event-sink/journal/v1/block/";
const RUN_EPOCH_KEY: &[u8] = b"herald/event-sink/run-epoch/v1";

/// Where a block's messages went in one topic-partition.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Placement {
	/// The full topic name.
	pub topic: String,
	pub partition: i32,
	/// The messages' ids without the `"{block hash}:"` prefix (`"3"`, `"BlockCreated"`), in produce order.
	pub ids: Vec<String>,
}

/// How far a journal block's last action got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode)]
pub enum EntryState {
	/// Handed to the producer, not yet acknowledged in full.
	Shipping,
	/// Every message acknowledged.
	Shipped,
	/// Its retraction was handed to the producer and not yet acknowledged.
	Retracting,
}

/// One shipped, not final block.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct JournalEntry<H> {
	pub block: BlockLink<H>,
	pub state: EntryState,
	/// What a later `BlockFinalized` or `BlockRetracted` needs for its `meta`, when the block's state may be
	/// pruned already.
	pub spec_version: u32,
	pub timestamp: Option<u64>,
	pub placements: Vec<Placement>,
}

/// Everything the sink persists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SinkState<H> {
	pub cursor: Option<BlockId<H>>,
	pub journal: Vec<JournalEntry<H>>,
	/// The cluster and topic prefix the cursor and journal belong to.
	pub identity: Option<Identity>,
	/// The last run epoch a run of the sink took (0: none yet); see [`crate::store::Journal::next_run_epoch`].
	pub run_epoch: u64,
}

impl<H> Default for SinkState<H> {
	fn default() -> Self {
		Self { cursor: None, journal: Vec::new(), identity: None, run_epoch: 0 }
	}
}

/// One change to the persisted state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change<H> {
	Cursor(BlockId<H>),
	Put(JournalEntry<H>),
	Remove(H),
	Identity(Identity),
	/// A run of the sink took this epoch (durable before the run sends anything).
	RunEpoch(u64),
}

/// Where the sink's state lives. Every `commit` is atomic.
pub trait StateStore<H> {
	fn load(&self) -> Result<SinkState<H>, SinkError>;
	fn commit(&mut self, changes: Vec<Change<H>>) -> Result<(), SinkError>;
}

/// A run of the sink borrows the store its restarts share.
impl<H, S: StateStore<H> + ?Sized> StateStore<H> for &mut S {
	fn load(&self) -> Result<SinkState<H>, SinkError> {
		(**self).load()
	}

	fn commit(&mut self, changes: Vec<Change<H>>) -> Result<(), SinkError> {
		(**self).commit(changes)
	}
}

/// The state in memory (tests, and the property tests' crash model: what was committed survives).
#[derive(Clone, Debug)]
pub struct MemoryStateStore<H> {
	pub cursor: Option<BlockId<H>>,
	pub journal: Vec<JournalEntry<H>>,
	pub identity: Option<Identity>,
	pub run_epoch: u64,
}

impl<H> Default for MemoryStateStore<H> {
	fn default() -> Self {
		Self { cursor: None, journal: Vec::new(), identity: None, run_epoch: 0 }
	}
}

impl<H: Copy + Eq> StateStore<H> for MemoryStateStore<H> {
	fn load(&self) -> Result<SinkState<H>, SinkError> {
		Ok(SinkState {
			cursor: self.cursor,
			journal: self.journal.clone(),
			identity: self.identity.clone(),
			run_epoch: self.run_epoch,
		})
	}

	fn commit(&mut self, changes: Vec<Change<H>>) -> Result<(), SinkError> {
		for change in changes {
			match change {
				Change::Cursor(cursor) => self.cursor = Some(cursor),
				Change::Put(entry) => match self.journal.iter_mut().find(|e| e.block.hash == entry.block.hash) {
					Some(existing) => *existing = entry,
					None => self.journal.push(entry),
				},
				Change::Remove(hash) => self.journal.retain(|e| e.block.hash != hash),
				Change::Identity(identity) => self.identity = Some(identity),
				Change::RunEpoch(epoch) => self.run_epoch = epoch,
			}
		}
		Ok(())
	}
}

/// The state in the node's database, written through the backend (never the client's import lock).
pub struct AuxStateStore<S, H> {
	db: Arc<S>,
	genesis: H,
	/// The journal's hashes, in the order they were added (the persisted index); `None` until the first commit
	/// reads it.
	index: Option<Vec<H>>,
}

impl<S: AuxStore, H: Copy + Eq + std::hash::Hash + std::fmt::Debug + Encode + Decode> AuxStateStore<S, H> {
	pub fn new(db: Arc<S>, genesis: H) -> Self {
		Self { db, genesis, index: None }
	}

	fn entry_key(hash: &H) -> Vec<u8> {
		[ENTRY_PREFIX, hash.encode().as_slice()].concat()
	}

	fn unreadable(what: impl std::fmt::Display) -> SinkError {
		SinkError::Journal(format!(
			"{what}. Without it Herald cannot know which shipped blocks Kafka consumers must cancel after a re-org; \
			 restore the node's database from a backup, or start a node with a fresh database (and tell consumers \
			 to rebuild from the topics' beginning)"
		))
	}
}

/// What `herald-node kafka-cursor set|reset` change, on a stopped node's database.
impl<S: AuxStore, H: Copy + Eq + std::hash::Hash + std::fmt::Debug + Encode + Decode> AuxStateStore<S, H> {
	/// Forgets the journal and places the cursor at `cursor` (`None`: no cursor, and the cluster and prefix are
	/// forgotten too, so the next start is a first start). Returns the journal's blocks that were dropped:
	/// consumers get no `BlockFinalized` or `BlockRetracted` for them.
	pub fn replace_cursor(&mut self, cursor: Option<BlockId<H>>) -> Result<Vec<JournalEntry<H>>, SinkError> {
		let state = self.load()?;
		let mut deletes: Vec<Vec<u8>> = state.journal.iter().map(|e| Self::entry_key(&e.block.hash)).collect();
		deletes.push(INDEX_KEY.to_vec());
		let mut puts: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
		match cursor {
			Some(id) => puts.push((cursor::CURSOR_KEY.to_vec(), Cursor { number: id.number, hash: id.hash }.encode())),
			None => deletes.extend([cursor::CURSOR_KEY.to_vec(), IDENTITY_KEY.to_vec()]),
		}
		let inserts: Vec<(&[u8], &[u8])> = puts.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect();
		let deletes: Vec<&[u8]> = deletes.iter().map(|k| k.as_slice()).collect();
		self.db.insert_aux(&inserts, &deletes).map_err(SinkError::database)?;
		self.index = Some(Vec::new());
		Ok(state.journal)
	}
}

impl<S: AuxStore, H: Copy + Eq + std::hash::Hash + std::fmt::Debug + Encode + Decode> StateStore<H>
	for AuxStateStore<S, H>
{
	fn load(&self) -> Result<SinkState<H>, SinkError> {
		let cursor = cursor::load::<H, _>(&*self.db)?.map(|c| BlockId { number: c.number, hash: c.hash });
		let identity = match self.db.get_aux(IDENTITY_KEY).map_err(SinkError::database)? {
			Some(bytes) => Some(Identity::decode(&mut &bytes[..]).map_err(|e| {
				SinkError::Cursor(format!(
					"the stored cluster and topic prefix do not decode ({e}): written by an incompatible Herald \
					 version; `herald-node kafka-cursor reset` starts over"
				))
			})?),
			None => None,
		};
		let run_epoch = match self.db.get_aux(RUN_EPOCH_KEY).map_err(SinkError::database)? {
			Some(bytes) => u64::decode(&mut &bytes[..]).unwrap_or_default(),
			None => 0,
		};
		let Some(bytes) = self.db.get_aux(INDEX_KEY).map_err(SinkError::database)? else {
			return Ok(SinkState { cursor, journal: Vec::new(), identity, run_epoch });
		};
		let (genesis, index) = <(H, Vec<H>)>::decode(&mut &bytes[..])
			.map_err(|e| Self::unreadable(format!("the sink's journal index does not decode ({e})")))?;
		if genesis != self.genesis {
			return Err(Self::unreadable(format!(
				"the sink's journal belongs to another chain (genesis {genesis:?}, this node's is {:?})",
				self.genesis
			)));
		}
		let mut journal = Vec::with_capacity(index.len());
		for hash in &index {
			let bytes =
				self.db.get_aux(&Self::entry_key(hash)).map_err(SinkError::database)?.ok_or_else(|| {
					Self::unreadable(format!("the sink's journal entry of block {hash:?} is missing"))
				})?;
			let entry = JournalEntry::<H>::decode(&mut &bytes[..]).map_err(|e| {
				Self::unreadable(format!("the sink's journal entry of block {hash:?} does not decode ({e})"))
			})?;
			journal.push(entry);
		}
		Ok(SinkState { cursor, journal, identity, run_epoch })
	}

	fn commit(&mut self, changes: Vec<Change<H>>) -> Result<(), SinkError> {
		if changes.is_empty() {
			return Ok(());
		}
		// Read the persisted index once (after a restart it may hold blocks); `load` already reported a bad one.
		let index = match &mut self.index {
			Some(index) => index,
			None => {
				let stored = self.db.get_aux(INDEX_KEY).map_err(SinkError::database)?;
				let index = stored.and_then(|bytes| <(H, Vec<H>)>::decode(&mut &bytes[..]).ok()).map(|(_, i)| i);
				self.index.insert(index.unwrap_or_default())
			}
		};
		// Later changes to one key win; the whole batch is one database transaction.
		let mut puts: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
		let mut removes: Vec<Vec<u8>> = Vec::new();
		let mut index_changed = false;
		for change in changes {
			match change {
				Change::Cursor(id) => {
					puts.insert(cursor::CURSOR_KEY.to_vec(), Cursor { number: id.number, hash: id.hash }.encode());
				}
				Change::Put(entry) => {
					let key = Self::entry_key(&entry.block.hash);
					removes.retain(|k| k != &key);
					if !index.contains(&entry.block.hash) {
						index.push(entry.block.hash);
						index_changed = true;
					}
					puts.insert(key, entry.encode());
				}
				Change::Identity(identity) => {
					puts.insert(IDENTITY_KEY.to_vec(), identity.encode());
				}
				Change::RunEpoch(epoch) => {
					puts.insert(RUN_EPOCH_KEY.to_vec(), epoch.encode());
				}
				Change::Remove(hash) => {
					let key = Self::entry_key(&hash);
					puts.remove(&key);
					removes.push(key);
					if let Some(position) = index.iter().position(|h| *h == hash) {
						index.remove(position);
						index_changed = true;
					}
				}
			}
		}
		if index_changed {
			puts.insert(INDEX_KEY.to_vec(), (self.genesis, &*index).encode());
		}
		let inserts: Vec<(&[u8], &[u8])> = puts.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect();
		let deletes: Vec<&[u8]> = removes.iter().map(|k| k.as_slice()).collect();
		self.db.insert_aux(&inserts, &deletes).map_err(SinkError::database)
	}
}

#[cfg(test)]
mod tests {
	use std::{collections::HashMap, sync::Mutex};

	use super::*;

	/// An auxiliary store in memory.
	#[derive(Default)]
	struct Aux(Mutex<HashMap<Vec<u8>, Vec<u8>>>);

	impl AuxStore for Aux {
		fn insert_aux<
			'a,
			'b: 'a,
			'c: 'a,
			I: IntoIterator<Item = &'a (&'c [u8], &'c [u8])>,
			D: IntoIterator<Item = &'a &'b [u8]>,
		>(
			&self,
			insert: I,
			delete: D,
		) -> sp_blockchain::Result<()> {
			let mut map = self.0.lock().unwrap();
			for (key, value) in insert {
				map.insert(key.to_vec(), value.to_vec());
			}
			for key in delete {
				map.remove(*key);
			}
			Ok(())
		}

		fn get_aux(&self, key: &[u8]) -> sp_blockchain::Result<Option<Vec<u8>>> {
			Ok(self.0.lock().unwrap().get(key).cloned())
		}
	}

	fn entry(number: u64, hash: u8) -> JournalEntry<[u8; 4]> {
		JournalEntry {
			block: BlockLink { number, hash: [hash; 4], parent: [hash - 1; 4] },
			state: EntryState::Shipping,
			spec_version: 100,
			timestamp: Some(7),
			placements: vec![Placement {
				topic: "herald.blocks".into(),
				partition: 2,
				ids: vec!["BlockCreated".into()],
			}],
		}
	}

	#[test]
	fn state_survives_a_reopen_and_changes_apply_atomically_in_order() {
		let db = Arc::new(Aux::default());
		let mut store = AuxStateStore::new(db.clone(), [0u8; 4]);
		store.commit(vec![Change::Put(entry(1, 1)), Change::Put(entry(2, 2))]).unwrap();
		store.commit(vec![Change::Remove([1; 4]), Change::Cursor(BlockId { number: 1, hash: [1; 4] })]).unwrap();
		let mut shipped = entry(2, 2);
		shipped.state = EntryState::Shipped;
		store.commit(vec![Change::Put(shipped.clone())]).unwrap();

		let reopened = AuxStateStore::new(db, [0u8; 4]).load().unwrap();
		assert_eq!(reopened.cursor, Some(BlockId { number: 1, hash: [1; 4] }));
		assert_eq!(reopened.journal, vec![shipped]);
	}

	#[test]
	fn replacing_the_cursor_drops_the_journal_and_a_reset_forgets_everything() {
		let db = Arc::new(Aux::default());
		let mut store = AuxStateStore::new(db.clone(), [0u8; 4]);
		let identity = Identity { cluster_id: Some("c".into()), topic_prefix: "p".into() };
		store.commit(vec![Change::Put(entry(1, 1)), Change::Identity(identity.clone())]).unwrap();

		let dropped = store.replace_cursor(Some(BlockId { number: 5, hash: [5; 4] })).unwrap();
		assert_eq!(dropped, vec![entry(1, 1)]);
		let state = AuxStateStore::new(db.clone(), [0u8; 4]).load().unwrap();
		assert_eq!(state.cursor, Some(BlockId { number: 5, hash: [5; 4] }));
		assert!(state.journal.is_empty());
		assert_eq!(state.identity, Some(identity), "`set` keeps where the cursor belongs");

		store.replace_cursor(None).unwrap();
		assert_eq!(AuxStateStore::new(db, [0u8; 4]).load().unwrap(), SinkState::default());
	}

	#[test]
	fn an_unreadable_or_foreign_journal_is_a_clear_fatal_error() {
		let db = Arc::new(Aux::default());
		let mut store = AuxStateStore::new(db.clone(), [0u8; 4]);
		store.commit(vec![Change::Put(entry(1, 1))]).unwrap();

		let foreign = AuxStateStore::new(db.clone(), [9u8; 4]).load().unwrap_err();
		assert!(foreign.is_fatal());
		assert!(foreign.to_string().contains("belongs to another chain"), "{foreign}");
		assert!(foreign.to_string().contains("restore the node's database"), "{foreign}");

		db.insert_aux(&[(INDEX_KEY, &b"\x01"[..])], &[]).unwrap();
		let corrupt = store.load().unwrap_err();
		assert!(corrupt.to_string().contains("journal index does not decode"), "{corrupt}");
	}
}
