//! The sink's state in files of its own: a snapshot and an append-only log of changes, each write synced to disk
//! before [`StateStore::commit`] returns.
//!
//! **Durability contract.** A commit that returned `Ok` survives a `kill -9` and a power loss: its log record is
//! written and `fdatasync`ed first. The worker commits a block's write-ahead journal entry before it produces the
//! block's first message, so a block that reached Kafka is always in the journal after a crash, and a later re-org
//! still retracts it. (The node's database can't give this: ParityDB's commit only queues the write for a
//! background thread, so what was committed just before a crash may be lost.)
//!
//! Layout, in `<base-path>/chains/<chain>/herald-sink/`:
//! - `state`: a snapshot: magic, CRC-32, then the SCALE encoding of the genesis hash and the [`SinkState`];
//! - `log`: records appended since the snapshot: length, CRC-32, then a SCALE-encoded batch of [`Change`]s.
//!
//! A crash in the middle of an append leaves a torn last record: it was never reported as committed, so opening
//! the store drops it (and truncates it away). When the log grows past [`COMPACT_AT`] bytes, the state is written
//! as a new snapshot (to a temporary file, synced, renamed, the directory synced) and the log starts empty.
//!
//! The in-memory state changes only once the write succeeded: after a failed commit, memory and disk still agree.

use std::{
	fs::{self, File, OpenOptions},
	io::{Read, Write},
	path::{Path, PathBuf},
};

use codec::{Decode, Encode};

use crate::{
	error::SinkError,
	follow::BlockId,
	store::{
		identity::Identity,
		journal::{Change, JournalEntry, SinkState, StateStore},
	},
};

const SNAPSHOT_FILE: &str = "state";
const LOG_FILE: &str = "log";
const SNAPSHOT_MAGIC: &[u8; 12] = b"herald-sink2";
const SNAPSHOT_MAGIC_V1: &[u8; 12] = b"herald-sink1";
/// The log is folded into a new snapshot once it is this large.
pub const COMPACT_AT: u64 = 8 << 20;
/// A record larger than this is corruption, not data (a journal entry of a block with millions of events is
/// still far below).
const MAX_RECORD: u32 = 1 << 30;

/// One change as written in the log (the same as [`Change`], with a stable encoding of its own).
#[derive(Clone, Encode, Decode)]
enum Record<H> {
	#[codec(index = 0)]
	Cursor(BlockId<H>),
	#[codec(index = 1)]
	Put(JournalEntry<H>),
	#[codec(index = 2)]
	Remove(H),
	#[codec(index = 3)]
	Identity(Identity),
	#[codec(index = 4)]
	ClearCursor,
	#[codec(index = 5)]
	ClearJournal,
	#[codec(index = 6)]
	ClearIdentity,
	#[codec(index = 7)]
	RunEpoch(u64),
}

/// The snapshot's layout since the run epoch (magic `herald-sink2`).
#[derive(Encode, Decode)]
struct Snapshot<H> {
	genesis: H,
	cursor: Option<BlockId<H>>,
	identity: Option<Identity>,
	journal: Vec<JournalEntry<H>>,
	run_epoch: u64,
}

/// The snapshot's first layout (magic `herald-sink1`), still read.
#[derive(Encode, Decode)]
struct SnapshotV1<H> {
	genesis: H,
	cursor: Option<BlockId<H>>,
	identity: Option<Identity>,
	journal: Vec<JournalEntry<H>>,
}

/// The state in the sink's own, synced files.
pub struct FileStateStore<H> {
	dir: PathBuf,
	genesis: H,
	state: SinkState<H>,
	log: File,
	log_len: u64,
	/// Set when a failed append could not be cut off the log: every later commit fails, so the sink restarts and
	/// reopens the store (which drops the torn record).
	poisoned: bool,
}

impl<H: Copy + Eq + std::fmt::Debug + Encode + Decode> FileStateStore<H> {
	/// Opens (or creates) the store in `dir`, for the chain with this genesis hash.
	pub fn open(dir: impl Into<PathBuf>, genesis: H) -> Result<Self, SinkError> {
		let dir = dir.into();
		fs::create_dir_all(&dir).map_err(|e| io_error(&dir, "create the directory", e))?;
		let mut state = read_snapshot(&dir.join(SNAPSHOT_FILE), genesis)?;
		let log_path = dir.join(LOG_FILE);
		let mut log = OpenOptions::new()
			.read(true)
			.append(true)
			.create(true)
			.open(&log_path)
			.map_err(|e| io_error(&log_path, "open", e))?;
		let mut bytes = Vec::new();
		log.read_to_end(&mut bytes).map_err(|e| io_error(&log_path, "read", e))?;
		let mut offset = 0usize;
		while let Some((records, next)) = next_record::<H>(&bytes, offset) {
			for record in records {
				apply(&mut state, record);
			}
			offset = next;
		}
		if offset < bytes.len() {
			// A torn last record (a crash in the middle of an append): it was never committed.
			log::warn!(
				target: "herald::kafka",
				"{}: dropping {} bytes of an incomplete last record (a crash while writing it)",
				log_path.display(),
				bytes.len() - offset
			);
			log.set_len(offset as u64).map_err(|e| io_error(&log_path, "truncate", e))?;
			log.sync_all().map_err(|e| io_error(&log_path, "sync", e))?;
		}
		Ok(Self { dir, genesis, state, log, log_len: offset as u64, poisoned: false })
	}

	/// Whether the store holds nothing (a first start, or a node that kept its state in the database before).
	pub fn is_empty(&self) -> bool {
		self.state.cursor.is_none() && self.state.journal.is_empty() && self.state.identity.is_none()
	}

	/// The directory the store lives in.
	pub fn dir(&self) -> &Path {
		&self.dir
	}

	/// Replaces the whole state (migrating from the database, `kafka-cursor set|reset`), durably.
	pub fn replace(&mut self, state: SinkState<H>) -> Result<(), SinkError> {
		let mut records = vec![Record::ClearJournal];
		records.push(match state.cursor {
			Some(cursor) => Record::Cursor(cursor),
			None => Record::ClearCursor,
		});
		records.push(match state.identity.clone() {
			Some(identity) => Record::Identity(identity),
			None => Record::ClearIdentity,
		});
		records.extend(state.journal.iter().cloned().map(Record::Put));
		records.push(Record::RunEpoch(state.run_epoch));
		self.append(&records)?;
		self.state = state;
		self.compact_if_due()
	}

	/// Forgets the journal and places the cursor at `cursor` (`None`: no cursor, and the cluster and prefix are
	/// forgotten too, so the next start is a first start). Returns the journal's blocks that were dropped:
	/// consumers get no `BlockFinalized` or `BlockRetracted` for them.
	pub fn replace_cursor(&mut self, cursor: Option<BlockId<H>>) -> Result<Vec<JournalEntry<H>>, SinkError> {
		let dropped = self.state.journal.clone();
		let identity = if cursor.is_some() { self.state.identity.clone() } else { None };
		// The run epoch stays: consumers compare the next run's with the runs' before (docs/envelope.md).
		self.replace(SinkState { cursor, journal: Vec::new(), identity, run_epoch: self.state.run_epoch })?;
		Ok(dropped)
	}

	/// Appends `records` to the log and syncs it; the caller changes the in-memory state only after this
	/// succeeded (then [`Self::compact_if_due`]).
	fn append(&mut self, records: &[Record<H>]) -> Result<(), SinkError> {
		if self.poisoned {
			return Err(SinkError::Database(format!(
				"{}: an earlier write failed and could not be undone; the sink restarts to reopen its state",
				self.log_path().display()
			)));
		}
		let payload = records.encode();
		let mut frame = Vec::with_capacity(payload.len() + 8);
		frame.extend_from_slice(&(payload.len() as u32).to_le_bytes());
		frame.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
		frame.extend_from_slice(&payload);
		let path = self.log_path();
		let written = self.log.write_all(&frame).and_then(|()| self.log.sync_data());
		if let Err(error) = written {
			// Cut the partial record off, or a later record would be appended after garbage and lost on reopen.
			if self.log.set_len(self.log_len).and_then(|()| self.log.sync_all()).is_err() {
				self.poisoned = true;
			}
			return Err(io_error(&path, "write", error));
		}
		self.log_len += frame.len() as u64;
		Ok(())
	}

	fn compact_if_due(&mut self) -> Result<(), SinkError> {
		if self.log_len >= COMPACT_AT {
			self.compact()?;
		}
		Ok(())
	}

	/// Writes the state as a new snapshot and empties the log.
	fn compact(&mut self) -> Result<(), SinkError> {
		let snapshot = Snapshot {
			genesis: self.genesis,
			cursor: self.state.cursor,
			identity: self.state.identity.clone(),
			journal: self.state.journal.clone(),
			run_epoch: self.state.run_epoch,
		}
		.encode();
		let path = self.dir.join(SNAPSHOT_FILE);
		let temporary = self.dir.join(format!("{SNAPSHOT_FILE}.tmp"));
		let mut bytes = Vec::with_capacity(snapshot.len() + 16);
		bytes.extend_from_slice(SNAPSHOT_MAGIC);
		bytes.extend_from_slice(&crc32fast::hash(&snapshot).to_le_bytes());
		bytes.extend_from_slice(&snapshot);
		let write = || -> std::io::Result<()> {
			let mut file = File::create(&temporary)?;
			file.write_all(&bytes)?;
			file.sync_all()?;
			fs::rename(&temporary, &path)?;
			File::open(&self.dir)?.sync_all()
		};
		write().map_err(|e| io_error(&path, "write the snapshot", e))?;
		// The snapshot holds everything now: a crash before the truncation replays the log onto it, harmlessly
		// (every record sets a value; none adds to one).
		let log_path = self.log_path();
		self.log.set_len(0).and_then(|()| self.log.sync_all()).map_err(|e| io_error(&log_path, "truncate", e))?;
		self.log_len = 0;
		Ok(())
	}

	fn log_path(&self) -> PathBuf {
		self.dir.join(LOG_FILE)
	}
}

impl<H: Copy + Eq + std::fmt::Debug + Encode + Decode> StateStore<H> for FileStateStore<H> {
	fn load(&self) -> Result<SinkState<H>, SinkError> {
		Ok(self.state.clone())
	}

	fn commit(&mut self, changes: Vec<Change<H>>) -> Result<(), SinkError> {
		if changes.is_empty() {
			return Ok(());
		}
		// The state in memory changes only once the write is on disk, in place: applying a record can't fail, and
		// a copy of the whole state per commit would cost as much as the journal is large (every unfinalized
		// block's placements, on every block, in best mode).
		let records: Vec<Record<H>> = changes
			.into_iter()
			.map(|change| match change {
				Change::Cursor(id) => Record::Cursor(id),
				Change::Put(entry) => Record::Put(entry),
				Change::Remove(hash) => Record::Remove(hash),
				Change::Identity(identity) => Record::Identity(identity),
				Change::RunEpoch(epoch) => Record::RunEpoch(epoch),
			})
			.collect();
		self.append(&records)?;
		for record in records {
			apply(&mut self.state, record);
		}
		self.compact_if_due()
	}
}

fn apply<H: Copy + Eq>(state: &mut SinkState<H>, record: Record<H>) {
	match record {
		Record::Cursor(cursor) => state.cursor = Some(cursor),
		Record::Put(entry) => match state.journal.iter_mut().find(|e| e.block.hash == entry.block.hash) {
			Some(existing) => *existing = entry,
			None => state.journal.push(entry),
		},
		Record::Remove(hash) => state.journal.retain(|e| e.block.hash != hash),
		Record::Identity(identity) => state.identity = Some(identity),
		Record::ClearCursor => state.cursor = None,
		Record::ClearJournal => state.journal.clear(),
		Record::ClearIdentity => state.identity = None,
		Record::RunEpoch(epoch) => state.run_epoch = epoch,
	}
}

/// The record at `offset` and the offset after it; `None` at the end or at a torn or corrupt record.
fn next_record<H: Decode>(bytes: &[u8], offset: usize) -> Option<(Vec<Record<H>>, usize)> {
	let header = bytes.get(offset..offset + 8)?;
	let len = u32::from_le_bytes(header[..4].try_into().expect("4 bytes"));
	let crc = u32::from_le_bytes(header[4..].try_into().expect("4 bytes"));
	if len > MAX_RECORD {
		return None;
	}
	let payload = bytes.get(offset + 8..offset + 8 + len as usize)?;
	if crc32fast::hash(payload) != crc {
		return None;
	}
	let records = Vec::<Record<H>>::decode(&mut &payload[..]).ok()?;
	Some((records, offset + 8 + len as usize))
}

fn read_snapshot<H: Copy + Eq + std::fmt::Debug + Decode>(path: &Path, genesis: H) -> Result<SinkState<H>, SinkError> {
	let bytes = match fs::read(path) {
		Ok(bytes) => bytes,
		Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(SinkState::default()),
		Err(e) => return Err(io_error(path, "read", e)),
	};
	let unreadable = |why: String| {
		SinkError::Journal(format!(
			"{}: {why}. Without it Herald cannot know which shipped blocks Kafka consumers must cancel after a \
			 re-org; restore the directory from a backup, or run `herald-node kafka-cursor reset` and tell consumers \
			 to rebuild from the topics' beginning",
			path.display()
		))
	};
	let (body, v1) =
		match (bytes.strip_prefix(SNAPSHOT_MAGIC.as_slice()), bytes.strip_prefix(SNAPSHOT_MAGIC_V1.as_slice())) {
			(Some(body), _) => (body, false),
			(None, Some(body)) => (body, true),
			(None, None) => return Err(unreadable("not a Herald sink state file".into())),
		};
	if body.len() < 4 || crc32fast::hash(&body[4..]) != u32::from_le_bytes(body[..4].try_into().expect("4 bytes")) {
		return Err(unreadable("its checksum does not match (the file is damaged)".into()));
	}
	let decoded = if v1 {
		SnapshotV1::<H>::decode(&mut &body[4..]).map(|SnapshotV1 { genesis, cursor, identity, journal }| Snapshot {
			genesis,
			cursor,
			identity,
			journal,
			run_epoch: 0,
		})
	} else {
		Snapshot::<H>::decode(&mut &body[4..])
	};
	let snapshot = decoded.map_err(|e| unreadable(format!("it does not decode ({e})")))?;
	if snapshot.genesis != genesis {
		return Err(unreadable(format!(
			"it belongs to another chain (genesis {:?}, this node's is {genesis:?})",
			snapshot.genesis
		)));
	}
	Ok(SinkState {
		cursor: snapshot.cursor,
		journal: snapshot.journal,
		identity: snapshot.identity,
		run_epoch: snapshot.run_epoch,
	})
}

fn io_error(path: &Path, what: &str, error: std::io::Error) -> SinkError {
	SinkError::Database(format!("cannot {what} {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		follow::BlockLink,
		store::journal::{EntryState, Placement},
	};

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

	fn id(n: u8) -> BlockId<[u8; 4]> {
		BlockId { number: n as u64, hash: [n; 4] }
	}

	#[test]
	fn commits_survive_a_reopen_in_order() {
		let dir = tempfile::tempdir().unwrap();
		let mut store = FileStateStore::open(dir.path(), [0u8; 4]).unwrap();
		assert!(store.is_empty());
		store.commit(vec![Change::Put(entry(1, 1)), Change::Put(entry(2, 2))]).unwrap();
		store.commit(vec![Change::Remove([1; 4]), Change::Cursor(id(1))]).unwrap();
		let mut shipped = entry(2, 2);
		shipped.state = EntryState::Shipped;
		store.commit(vec![Change::Put(shipped.clone())]).unwrap();
		let reopened = FileStateStore::open(dir.path(), [0u8; 4]).unwrap().load().unwrap();
		assert_eq!(reopened.cursor, Some(id(1)));
		assert_eq!(reopened.journal, vec![shipped]);
	}

	#[test]
	fn a_torn_last_record_is_dropped_and_later_commits_survive() {
		let dir = tempfile::tempdir().unwrap();
		let mut store = FileStateStore::open(dir.path(), [0u8; 4]).unwrap();
		store.commit(vec![Change::Cursor(id(1))]).unwrap();
		store.commit(vec![Change::Cursor(id(2))]).unwrap();
		drop(store);
		// A crash in the middle of the second append.
		let log = dir.path().join(LOG_FILE);
		let len = fs::metadata(&log).unwrap().len();
		OpenOptions::new().write(true).open(&log).unwrap().set_len(len - 3).unwrap();
		let mut store = FileStateStore::open(dir.path(), [0u8; 4]).unwrap();
		assert_eq!(store.load().unwrap().cursor, Some(id(1)));
		store.commit(vec![Change::Cursor(id(3))]).unwrap();
		assert_eq!(FileStateStore::open(dir.path(), [0u8; 4]).unwrap().load().unwrap().cursor, Some(id(3)));
	}

	#[test]
	fn compaction_keeps_the_state_and_empties_the_log() {
		let dir = tempfile::tempdir().unwrap();
		let mut store = FileStateStore::open(dir.path(), [0u8; 4]).unwrap();
		store
			.commit(vec![
				Change::Put(entry(1, 1)),
				Change::Identity(Identity { cluster_id: None, topic_prefix: "p".into() }),
			])
			.unwrap();
		store.compact().unwrap();
		assert_eq!(fs::metadata(dir.path().join(LOG_FILE)).unwrap().len(), 0);
		store.commit(vec![Change::Cursor(id(4))]).unwrap();
		let state = FileStateStore::open(dir.path(), [0u8; 4]).unwrap().load().unwrap();
		assert_eq!(state.journal, vec![entry(1, 1)]);
		assert_eq!(state.cursor, Some(id(4)));
		assert_eq!(state.identity.unwrap().topic_prefix, "p");
		// Another chain's state is refused, naming the fix.
		let foreign = FileStateStore::open(dir.path(), [9u8; 4]).err().expect("refused");
		assert!(foreign.is_fatal() && foreign.to_string().contains("another chain"), "{foreign}");
	}

	#[test]
	fn a_failed_write_changes_nothing_in_memory() {
		let dir = tempfile::tempdir().unwrap();
		let mut store = FileStateStore::open(dir.path(), [0u8; 4]).unwrap();
		store.commit(vec![Change::Cursor(id(1))]).unwrap();
		// The log's file handle now refuses writes.
		store.log = File::open(dir.path().join(LOG_FILE)).unwrap();
		assert!(store.commit(vec![Change::Put(entry(2, 2)), Change::Cursor(id(2))]).is_err());
		let state = store.load().unwrap();
		assert_eq!((state.cursor, state.journal.len()), (Some(id(1)), 0));
		assert_eq!(FileStateStore::open(dir.path(), [0u8; 4]).unwrap().load().unwrap().cursor, Some(id(1)));
	}

	#[test]
	fn the_run_epoch_survives_a_reopen_a_compaction_and_a_reset() {
		let dir = tempfile::tempdir().unwrap();
		let mut store = FileStateStore::open(dir.path(), [0u8; 4]).unwrap();
		store.commit(vec![Change::RunEpoch(7)]).unwrap();
		assert_eq!(FileStateStore::open(dir.path(), [0u8; 4]).unwrap().load().unwrap().run_epoch, 7);
		store.compact().unwrap();
		assert_eq!(FileStateStore::open(dir.path(), [0u8; 4]).unwrap().load().unwrap().run_epoch, 7);
		// `kafka-cursor reset` forgets the position, not the epoch: the next run must still start above it.
		store.replace_cursor(None).unwrap();
		assert_eq!(FileStateStore::open(dir.path(), [0u8; 4]).unwrap().load().unwrap().run_epoch, 7);
	}

	#[test]
	fn a_snapshot_of_the_first_layout_is_still_read() {
		let dir = tempfile::tempdir().unwrap();
		let old = SnapshotV1 { genesis: [0u8; 4], cursor: Some(id(3)), identity: None, journal: vec![entry(4, 4)] };
		let body = old.encode();
		let mut bytes = SNAPSHOT_MAGIC_V1.to_vec();
		bytes.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
		bytes.extend_from_slice(&body);
		fs::write(dir.path().join(SNAPSHOT_FILE), bytes).unwrap();
		let state = FileStateStore::open(dir.path(), [0u8; 4]).unwrap().load().unwrap();
		assert_eq!((state.cursor, state.journal, state.run_epoch), (Some(id(3)), vec![entry(4, 4)], 0));
	}

	#[test]
	fn replacing_the_cursor_drops_the_journal_and_a_reset_forgets_everything() {
		let dir = tempfile::tempdir().unwrap();
		let mut store = FileStateStore::open(dir.path(), [0u8; 4]).unwrap();
		let identity = Identity { cluster_id: Some("c".into()), topic_prefix: "p".into() };
		store.commit(vec![Change::Put(entry(1, 1)), Change::Identity(identity.clone())]).unwrap();
		assert_eq!(store.replace_cursor(Some(id(5))).unwrap(), vec![entry(1, 1)]);
		let state = FileStateStore::open(dir.path(), [0u8; 4]).unwrap().load().unwrap();
		assert_eq!((state.cursor, state.journal.len(), state.identity), (Some(id(5)), 0, Some(identity)));
		store.replace_cursor(None).unwrap();
		assert!(FileStateStore::open(dir.path(), [0u8; 4]).unwrap().is_empty());
	}
}
