//! The group's state in Kafka: the cursor and the journal of every sink node of a group, in one topic
//! (`<prefix>.sink-state`, one partition, written with `acks=all`), so that whichever node holds the lease
//! continues where the last one stopped, and retracts what it shipped even on a fork this node never saw.
//!
//! The topic is a log of [`StateRecord`]s:
//! - `Takeover`: a node took the lease as leader `epoch`; it carries the whole state as that node read it, and
//!   the group's configuration ([`GroupFacts`]). The first `Takeover` of an epoch wins; a later one of the same
//!   or a lower epoch is ignored (two nodes that raced for it: the loser sees it lost and waits).
//! - `Commit`: one [`StateStore::commit`] of the current leader, applied atomically.
//! - `Snapshot`: the current leader's whole state (and the group's facts) again, built from a fresh read of the
//!   topic, so that reading can start there: a snapshot read first stands for everything before it.
//!
//! Replaying it ([`replay`]): only the current leader's records change the state. A `Commit` of an older epoch
//! that landed after a newer `Takeover` is a stale leader's (a zombie that had not noticed it lost the lease):
//! its journal entries are *swept* into the state as not acknowledged, so the new leader ships them again when
//! they are canonical and retracts them when they are not; its cursor moves are ignored.
//!
//! The offset reading starts from is the group's committed offset on the state topic (moved to the last
//! snapshot by the leader's lease checks, which the broker fences by generation).

use std::{sync::Mutex, time::Duration};

use codec::{Decode, Encode};
use rdkafka::{
	config::ClientConfig,
	consumer::{BaseConsumer, Consumer},
	producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext},
	ClientContext, Message, Offset, TopicPartitionList,
};

use crate::{
	error::SinkError,
	follow::BlockId,
	ha::lease::Lease,
	store::{
		identity::Identity,
		journal::{Change, EntryState, JournalEntry, MemoryStateStore, SinkState, StateStore},
	},
};

const LOG_TARGET: &str = "herald::ha";

/// The version byte every record starts with.
const RECORD_VERSION: u8 = 2;

/// A fresh snapshot is written after this many commits of one leader (reading then starts there). Tests lower it
/// (`HERALD_HA_SNAPSHOT_EVERY=N`, read once) so that the takeovers of a short run read from a snapshot.
fn snapshot_every() -> u32 {
	static EVERY: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
	*EVERY.get_or_init(|| {
		std::env::var("HERALD_HA_SNAPSHOT_EVERY").ok().and_then(|n| n.parse().ok()).filter(|n| *n > 0).unwrap_or(2000)
	})
}

/// How long reading the state to its end, or one write, may take before it is an error.
const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// What every node of a group must agree on: a node started otherwise does not join (its messages would not
/// match what the others ship).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct GroupFacts {
	/// The chain's genesis hash, `0x`-hex.
	pub genesis: String,
	pub topic_prefix: String,
	pub topic_partitions: i32,
	pub follow: String,
	/// A digest of the event mappings (the runtime's table and the operator's file).
	pub mappings: String,
}

impl GroupFacts {
	/// What differs between the group's facts and this node's, in words; empty when they agree.
	pub fn differences(&self, ours: &GroupFacts) -> Vec<String> {
		let mut differences = Vec::new();
		let mut compare = |what: &str, group: String, here: String| {
			if group != here {
				differences.push(format!("{what} {here} differs from the group's {group}"));
			}
		};
		compare("chain (genesis)", self.genesis.clone(), ours.genesis.clone());
		compare("--kafka-topic-prefix", self.topic_prefix.clone(), ours.topic_prefix.clone());
		compare("--kafka-topic-partitions", self.topic_partitions.to_string(), ours.topic_partitions.to_string());
		compare("--kafka-follow", self.follow.clone(), ours.follow.clone());
		compare("event mappings (digest)", self.mappings.clone(), ours.mappings.clone());
		differences
	}
}

/// One state change as the topic holds it.
#[derive(Clone, Debug, Encode, Decode)]
pub enum Logged<H> {
	#[codec(index = 0)]
	Cursor(BlockId<H>),
	#[codec(index = 1)]
	Put(JournalEntry<H>),
	#[codec(index = 2)]
	Remove(H),
	#[codec(index = 3)]
	Identity(Identity),
	/// Unused by groups (their leader epoch fences runs); kept so that every change has a record.
	#[codec(index = 4)]
	RunEpoch(u64),
}

impl<H> From<Change<H>> for Logged<H> {
	fn from(change: Change<H>) -> Self {
		match change {
			Change::Cursor(id) => Logged::Cursor(id),
			Change::Put(entry) => Logged::Put(entry),
			Change::Remove(hash) => Logged::Remove(hash),
			Change::Identity(identity) => Logged::Identity(identity),
			Change::RunEpoch(epoch) => Logged::RunEpoch(epoch),
		}
	}
}

impl<H> From<Logged<H>> for Change<H> {
	fn from(logged: Logged<H>) -> Self {
		match logged {
			Logged::Cursor(id) => Change::Cursor(id),
			Logged::Put(entry) => Change::Put(entry),
			Logged::Remove(hash) => Change::Remove(hash),
			Logged::Identity(identity) => Change::Identity(identity),
			Logged::RunEpoch(epoch) => Change::RunEpoch(epoch),
		}
	}
}

/// The whole state, as a `Takeover` or `Snapshot` carries it.
#[derive(Clone, Debug, Encode, Decode)]
pub struct Whole<H> {
	pub cursor: Option<BlockId<H>>,
	pub identity: Option<Identity>,
	pub journal: Vec<JournalEntry<H>>,
}

/// A record of the state topic. See the module documentation.
#[derive(Clone, Debug, Encode, Decode)]
pub enum StateRecord<H> {
	#[codec(index = 0)]
	Takeover { epoch: u64, member: String, facts: GroupFacts, state: Whole<H> },
	#[codec(index = 1)]
	Commit { epoch: u64, member: String, changes: Vec<Logged<H>> },
	#[codec(index = 2)]
	Snapshot { epoch: u64, member: String, facts: GroupFacts, state: Whole<H> },
}

impl<H: Encode> StateRecord<H> {
	/// The record as the topic holds it (a version byte, then SCALE).
	pub fn to_bytes(&self) -> Vec<u8> {
		let mut bytes = vec![RECORD_VERSION];
		self.encode_to(&mut bytes);
		bytes
	}
}

impl<H: Decode> StateRecord<H> {
	fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
		match bytes.split_first() {
			Some((&RECORD_VERSION, mut rest)) => Self::decode(&mut rest).map_err(|e| e.to_string()),
			Some((version, _)) => Err(format!("record version {version} (this Herald reads {RECORD_VERSION})")),
			None => Err("an empty record".into()),
		}
	}
}

/// The state after replaying the topic.
#[derive(Clone, Debug)]
pub struct Replayed<H> {
	pub state: MemoryStateStore<H>,
	/// The last epoch taken over (0: none yet), and by whom.
	pub epoch: u64,
	pub leader: Option<String>,
	/// The group's facts, from the last takeover.
	pub facts: Option<GroupFacts>,
	/// Stale leaders' commits swept into the state.
	pub swept: usize,
	/// The offset of the last of them.
	pub swept_at: Option<i64>,
}

impl<H> Default for Replayed<H> {
	fn default() -> Self {
		Self { state: MemoryStateStore::default(), epoch: 0, leader: None, facts: None, swept: 0, swept_at: None }
	}
}

impl<H: Copy + Eq> Replayed<H> {
	/// Applies the next record of the topic (see the module documentation).
	pub fn apply(&mut self, record: StateRecord<H>) {
		match record {
			StateRecord::Takeover { epoch, member, facts, state } if epoch > self.epoch => {
				self.epoch = epoch;
				self.leader = Some(member);
				self.facts = Some(facts);
				self.state = whole_to_store(state);
			}
			StateRecord::Takeover { .. } => {} // lost a race for an epoch already taken
			// A snapshot of a newer epoch than any takeover read is where reading started: it stands for the
			// takeover and everything since. Of the current leader, it replaces the state; of anyone else, nothing.
			StateRecord::Snapshot { epoch, member, facts, state }
				if epoch > self.epoch || self.is_leader(epoch, &member) =>
			{
				self.epoch = epoch;
				self.leader = Some(member);
				self.facts = Some(facts);
				self.state = whole_to_store(state);
			}
			StateRecord::Snapshot { .. } => {}
			StateRecord::Commit { epoch, member, changes } if self.is_leader(epoch, &member) => {
				let changes = changes.into_iter().map(Change::from).collect();
				self.state.commit(changes).expect("the memory store never fails");
			}
			StateRecord::Commit { changes, .. } => {
				// A stale leader's: what it may have shipped is swept in, not acknowledged.
				let mut swept = false;
				for change in changes {
					if let Logged::Put(mut entry) = change {
						entry.state = EntryState::Shipping;
						let known = self.state.journal.iter_mut().find(|e| e.block.hash == entry.block.hash);
						match known {
							Some(existing) => existing.state = EntryState::Shipping,
							None => self.state.journal.push(entry),
						}
						swept = true;
					}
				}
				self.swept += swept as usize;
			}
		}
	}

	fn is_leader(&self, epoch: u64, member: &str) -> bool {
		epoch == self.epoch && self.leader.as_deref() == Some(member)
	}

	/// The state as a snapshot.
	pub fn whole(&self) -> Whole<H> {
		Whole { cursor: self.state.cursor, identity: self.state.identity.clone(), journal: self.state.journal.clone() }
	}
}

fn whole_to_store<H>(state: Whole<H>) -> MemoryStateStore<H> {
	MemoryStateStore { cursor: state.cursor, journal: state.journal, identity: state.identity, run_epoch: 0 }
}

/// Where the group's state lives, and how to reach it.
#[derive(Clone)]
pub struct StateTopic {
	pub topic: String,
	/// Brokers and security properties, for consumers (no producer settings).
	pub consumer: ClientConfig,
	/// Herald's producer settings (idempotent, `acks=all`) and the operator's.
	pub producer: ClientConfig,
	/// The lease group's id: its committed offset on the state topic is where reading starts.
	pub group_id: String,
}

impl StateTopic {
	/// Reads the state from the group's last snapshot (or the topic's start) to its end.
	pub fn read<H: Copy + Eq + Decode>(&self) -> Result<(Replayed<H>, i64), SinkError> {
		let consumer: BaseConsumer = self
			.consumer
			.clone()
			.set("group.id", &self.group_id)
			.set("enable.auto.commit", "false")
			.set("enable.auto.offset.store", "false")
			.create()
			.map_err(|e| ha_error(format!("cannot create the state topic's reader: {e}")))?;
		let (low, high) = consumer
			.fetch_watermarks(&self.topic, 0, IO_TIMEOUT)
			.map_err(|e| ha_error(format!("cannot read the group's state topic {}: {e}", self.topic)))?;
		let mut wanted = TopicPartitionList::new();
		wanted.add_partition(&self.topic, 0);
		let start = match consumer.committed_offsets(wanted, IO_TIMEOUT) {
			Ok(list) => match list.find_partition(&self.topic, 0).map(|p| p.offset()) {
				Some(Offset::Offset(offset)) if offset >= low && offset <= high => offset,
				_ => low,
			},
			Err(error) => return Err(ha_error(format!("cannot read the group's position in {}: {error}", self.topic))),
		};
		let mut replayed = Replayed::default();
		if start >= high {
			return Ok((replayed, high));
		}
		let mut assignment = TopicPartitionList::new();
		assignment
			.add_partition_offset(&self.topic, 0, Offset::Offset(start))
			.map_err(|e| ha_error(format!("the state topic's assignment: {e}")))?;
		consumer.assign(&assignment).map_err(|e| ha_error(format!("cannot read {}: {e}", self.topic)))?;
		let deadline = std::time::Instant::now() + IO_TIMEOUT;
		let mut next = start;
		while next < high {
			if std::time::Instant::now() > deadline {
				return Err(ha_error(format!(
					"reading the group's state topic {} stopped at offset {next} of {high}: is the broker healthy?",
					self.topic
				)));
			}
			match consumer.poll(Duration::from_millis(200)) {
				Some(Ok(message)) => {
					next = message.offset() + 1;
					let bytes = message.payload().unwrap_or_default();
					match StateRecord::<H>::from_bytes(bytes) {
						Ok(record) => {
							let swept = replayed.swept;
							replayed.apply(record);
							if replayed.swept > swept {
								replayed.swept_at = Some(message.offset());
							}
						}
						Err(error) => {
							return Err(ha_error(format!(
								"the group's state topic {} holds a record Herald can't read at offset {} ({error}): \
								 is another program writing to it?",
								self.topic,
								message.offset()
							)))
						}
					}
				}
				Some(Err(error)) => return Err(ha_error(format!("cannot read {}: {error}", self.topic))),
				None => {}
			}
		}
		Ok((replayed, high))
	}
}

/// Records the outcome of the one record in flight.
#[derive(Default)]
struct WriteContext {
	outcome: Mutex<Option<Result<i64, String>>>,
}

impl ClientContext for WriteContext {}

impl ProducerContext for WriteContext {
	type DeliveryOpaque = ();

	fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
		let outcome = match result {
			Ok(message) => Ok(message.offset()),
			Err((error, _)) => Err(error.to_string()),
		};
		*self.outcome.lock().expect("never poisoned") = Some(outcome);
	}
}

/// Appends records to the state topic, one at a time, each acknowledged (`acks=all`) before `write` returns.
pub struct StateWriter {
	topic: String,
	producer: BaseProducer<WriteContext>,
}

impl StateWriter {
	pub fn new(state: &StateTopic) -> Result<Self, SinkError> {
		let producer = state
			.producer
			.clone()
			.set("message.max.bytes", "67108864")
			.set("statistics.interval.ms", "0")
			// One record at a time, each waited for: batching would only delay it.
			.set("linger.ms", "0")
			.create_with_context(WriteContext::default())
			.map_err(|e| ha_error(format!("cannot create the state topic's producer: {e}")))?;
		Ok(Self { topic: state.topic.clone(), producer })
	}

	/// Writes `bytes`; its offset once acknowledged.
	pub fn write(&self, bytes: &[u8]) -> Result<i64, SinkError> {
		*self.producer.context().outcome.lock().expect("never poisoned") = None;
		self.producer
			.send(BaseRecord::<(), [u8], ()>::to(&self.topic).partition(0).payload(bytes))
			.map_err(|(e, _)| ha_error(format!("cannot write to the group's state topic {}: {e}", self.topic)))?;
		let deadline = std::time::Instant::now() + IO_TIMEOUT;
		loop {
			self.producer.poll(Duration::from_millis(5));
			if let Some(outcome) = self.producer.context().outcome.lock().expect("never poisoned").take() {
				return outcome
					.map_err(|e| ha_error(format!("the group's state topic {} refused a record: {e}", self.topic)));
			}
			if std::time::Instant::now() > deadline {
				return Err(ha_error(format!(
					"the group's state topic {} did not acknowledge a record within {IO_TIMEOUT:?}",
					self.topic
				)));
			}
		}
	}
}

/// The leader's [`StateStore`]: commits go to the state topic (each acknowledged before `commit` returns, the
/// lease checked at the broker first), loads re-read it (so what a stale leader wrote meanwhile is swept in).
pub struct KafkaStateStore<'a, H> {
	topic: StateTopic,
	writer: StateWriter,
	lease: &'a Lease,
	/// The lease's term this store leads in.
	term: u64,
	epoch: u64,
	member: String,
	/// Where the last stale record this store's load swept in lies: a snapshot waits while a newer one is not yet
	/// reconciled (the snapshot would move reading past it before the driver saw it).
	loaded_swept_at: Mutex<Option<i64>>,
	commits: u32,
	_hash: std::marker::PhantomData<H>,
}

impl<'a, H: Copy + Eq + Encode + Decode + std::fmt::Debug> KafkaStateStore<'a, H> {
	/// Takes the group over as the next epoch: reads the state, checks the group's facts, writes a `Takeover`
	/// with the whole state, and reads again to see that it won the epoch (the first `Takeover` of an epoch wins).
	/// `finalized` is this node's finalized block number: the group's cursor is a finalized block (in both follow
	/// modes), and a node whose finalized head is behind it could not go on from it yet, so it does not take over.
	pub fn take_over(
		topic: StateTopic,
		lease: &'a Lease,
		member: &str,
		facts: &GroupFacts,
		finalized: u64,
	) -> Result<(Self, Replayed<H>), SinkError> {
		let term = lease.term();
		let (replayed, _) = topic.read::<H>()?;
		check_facts(replayed.facts.as_ref(), facts)?;
		if let Some(cursor) = replayed.state.cursor.filter(|cursor| cursor.number > finalized) {
			return Err(SinkError::NotReady(format!(
				"this node's finalized block is #{finalized}, the group's cursor is at #{}: it hands the lease on \
				 until it has caught up",
				cursor.number
			)));
		}
		lease.check(term).map_err(SinkError::LeaseLost)?;
		let epoch = replayed.epoch + 1;
		let writer = StateWriter::new(&topic)?;
		let record =
			StateRecord::Takeover { epoch, member: member.to_string(), facts: facts.clone(), state: replayed.whole() };
		let offset = writer.write(&record.to_bytes())?;
		if crate::faults::at("kill-in-takeover", epoch) {
			crate::faults::kill_now();
		}
		let (after, _) = topic.read::<H>()?;
		if after.epoch != epoch || after.leader.as_deref() != Some(member) {
			return Err(SinkError::LeaseLost(format!(
				"another member ({}) took epoch {} first",
				after.leader.unwrap_or_default(),
				after.epoch
			)));
		}
		lease.set_snapshot_offset(offset);
		lease.check(term).map_err(SinkError::LeaseLost)?;
		Ok((Self::resume(topic, lease, member, epoch, term)?, replayed))
	}

	/// The store of a leader that already took over (as `epoch`, in the lease's `term`), for another run of the
	/// driver in the same term: its first load reads the state again (what a stale leader wrote since included).
	pub fn resume(topic: StateTopic, lease: &'a Lease, member: &str, epoch: u64, term: u64) -> Result<Self, SinkError> {
		let writer = StateWriter::new(&topic)?;
		Ok(Self {
			topic,
			writer,
			lease,
			term,
			epoch,
			member: member.to_string(),
			loaded_swept_at: Mutex::new(None),
			commits: 0,
			_hash: std::marker::PhantomData,
		})
	}

	/// The epoch this store leads.
	pub fn epoch(&self) -> u64 {
		self.epoch
	}

	/// The lease's term this store leads in.
	pub fn term(&self) -> u64 {
		self.term
	}
}

impl<'a, H: Copy + Eq + Encode + Decode + std::fmt::Debug> StateStore<H> for KafkaStateStore<'a, H> {
	/// Re-reads the topic: the leader's own records, and whatever a stale leader wrote since (swept in). A newer
	/// takeover means this node lost the group.
	fn load(&self) -> Result<SinkState<H>, SinkError> {
		let (replayed, _) = self.topic.read::<H>()?;
		if replayed.epoch != self.epoch || replayed.leader.as_deref() != Some(self.member.as_str()) {
			return Err(SinkError::LeaseLost(format!(
				"{} took the group over as epoch {}",
				replayed.leader.unwrap_or_default(),
				replayed.epoch
			)));
		}
		if replayed.swept > 0 {
			log::warn!(
				target: LOG_TARGET,
				"swept {} records a stale leader wrote after this node took over: their blocks are shipped again or \
				 retracted",
				replayed.swept
			);
		}
		*self.loaded_swept_at.lock().expect("never poisoned") = replayed.swept_at;
		replayed.state.load()
	}

	fn commit(&mut self, changes: Vec<Change<H>>) -> Result<(), SinkError> {
		let started = std::time::Instant::now();
		self.lease.check(self.term).map_err(SinkError::LeaseLost)?;
		let checked = started.elapsed();
		let record = StateRecord::Commit { epoch: self.epoch, member: self.member.clone(), changes: logged(&changes) };
		self.writer.write(&record.to_bytes())?;
		kill_at_crash_points(&changes);
		log::debug!(
			target: LOG_TARGET,
			"state commit of {} changes: lease check {:?}, write {:?}",
			changes.len(),
			checked,
			started.elapsed() - checked
		);
		self.commits += 1;
		if self.commits >= snapshot_every() {
			self.commits = 0;
			self.snapshot()?;
		}
		Ok(())
	}
}

impl<'a, H: Copy + Eq + Encode + Decode + std::fmt::Debug> KafkaStateStore<'a, H> {
	/// Writes a snapshot of the state as the topic holds it now (read afresh, so that what was swept in is kept)
	/// and moves the group's reading position to it.
	fn snapshot(&self) -> Result<(), SinkError> {
		let (fresh, _) = self.topic.read::<H>()?;
		if fresh.epoch != self.epoch || fresh.leader.as_deref() != Some(self.member.as_str()) {
			return Err(SinkError::LeaseLost(format!(
				"{} took the group over as epoch {}",
				fresh.leader.unwrap_or_default(),
				fresh.epoch
			)));
		}
		if fresh.swept_at > *self.loaded_swept_at.lock().expect("never poisoned") {
			log::debug!(target: LOG_TARGET, "snapshot deferred: a stale leader's record is not reconciled yet");
			return Ok(());
		}
		let Some(facts) = fresh.facts.clone() else { return Ok(()) };
		let snapshot =
			StateRecord::Snapshot { epoch: self.epoch, member: self.member.clone(), facts, state: fresh.whole() };
		self.lease.check(self.term).map_err(SinkError::LeaseLost)?;
		let offset = self.writer.write(&snapshot.to_bytes())?;
		self.lease.set_snapshot_offset(offset);
		Ok(())
	}
}

/// `changes` as the topic keeps them: the cursor is one value, so only its last move in a batch is written (a
/// catch-up's batch moves it once per block).
fn logged<H: Clone>(changes: &[Change<H>]) -> Vec<Logged<H>> {
	let last_cursor = changes.iter().rposition(|change| matches!(change, Change::Cursor(_)));
	changes
		.iter()
		.enumerate()
		.filter(|(index, change)| !matches!(change, Change::Cursor(_)) || Some(*index) == last_cursor)
		.map(|(_, change)| Logged::from(change.clone()))
		.collect()
}

/// The crash tests' points right after an intent reached the state topic (`HERALD_TEST_FAULTS`).
fn kill_at_crash_points<H>(changes: &[Change<H>]) {
	for change in changes {
		if let Change::Put(entry) = change {
			let point = match entry.state {
				EntryState::Shipping => "kill-after-intent",
				EntryState::Retracting => "kill-after-retract-intent",
				EntryState::Shipped => continue,
			};
			if crate::faults::at(point, entry.block.number) {
				crate::faults::kill_now();
			}
		}
	}
}

/// A node whose configuration differs from the group's does not join it.
pub fn check_facts(group: Option<&GroupFacts>, ours: &GroupFacts) -> Result<(), SinkError> {
	let Some(group) = group else { return Ok(()) };
	let differences = group.differences(ours);
	if differences.is_empty() {
		return Ok(());
	}
	Err(SinkError::Group(format!(
		"this node's {}: start every node of a group with the same chain, topic prefix, partition count, follow mode \
		 and mappings, or give this node a group of its own (--kafka-ha-group)",
		differences.join("; ")
	)))
}

fn ha_error(message: String) -> SinkError {
	SinkError::Kafka(message)
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::follow::BlockLink;

	fn entry(number: u64, hash: u64) -> JournalEntry<u64> {
		JournalEntry {
			block: BlockLink { number, hash, parent: hash - 1 },
			state: EntryState::Shipped,
			spec_version: 1,
			timestamp: None,
			placements: vec![],
		}
	}

	fn facts() -> GroupFacts {
		GroupFacts {
			genesis: "0x00".into(),
			topic_prefix: "herald".into(),
			topic_partitions: 1,
			follow: "best".into(),
			mappings: "m".into(),
		}
	}

	fn takeover(epoch: u64, member: &str) -> StateRecord<u64> {
		StateRecord::Takeover {
			epoch,
			member: member.into(),
			facts: facts(),
			state: Whole { cursor: None, identity: None, journal: vec![] },
		}
	}

	fn commit(epoch: u64, member: &str, changes: Vec<Logged<u64>>) -> StateRecord<u64> {
		StateRecord::Commit { epoch, member: member.into(), changes }
	}

	/// Only the current leader's commits count; a stale leader's journal entries are swept in as not
	/// acknowledged, its cursor is ignored; a lost race for an epoch changes nothing.
	#[test]
	fn replay_fences_stale_leaders_and_sweeps_what_they_shipped() {
		let mut replayed = Replayed::<u64>::default();
		let apply = |replayed: &mut Replayed<u64>, record: StateRecord<u64>| {
			let bytes = record.to_bytes();
			replayed.apply(StateRecord::from_bytes(&bytes).unwrap());
		};
		apply(&mut replayed, takeover(1, "a"));
		apply(
			&mut replayed,
			commit(1, "a", vec![Logged::Put(entry(5, 50)), Logged::Cursor(BlockId { number: 4, hash: 40 })]),
		);
		// b takes over with the state it read.
		let read = replayed.whole();
		apply(&mut replayed, StateRecord::Takeover { epoch: 2, member: "b".into(), facts: facts(), state: read });
		for record in [
			takeover(2, "a"), // lost the race for epoch 2
			commit(1, "a", vec![Logged::Put(entry(6, 61)), Logged::Cursor(BlockId { number: 5, hash: 50 })]),
			commit(2, "a", vec![Logged::Cursor(BlockId { number: 9, hash: 90 })]),
			commit(2, "b", vec![Logged::Put(entry(6, 60))]),
		] {
			apply(&mut replayed, record);
		}
		assert_eq!((replayed.epoch, replayed.leader.as_deref()), (2, Some("b")));
		assert_eq!(replayed.state.cursor, Some(BlockId { number: 4, hash: 40 }), "stale cursors are ignored");
		let journal: Vec<_> = replayed.state.journal.iter().map(|e| (e.block.hash, e.state)).collect();
		assert_eq!(
			journal,
			vec![(50, EntryState::Shipped), (61, EntryState::Shipping), (60, EntryState::Shipped)],
			"the stale leader's block is swept in, not acknowledged"
		);
		assert_eq!(replayed.swept, 1, "one stale commit carried journal entries");
	}

	/// Reading that starts at a snapshot (the group's committed offset after a few thousand commits) knows the
	/// leader from it: the leader's later commits count, a stale leader's are swept in.
	#[test]
	fn a_snapshot_read_first_stands_for_the_takeover_before_it() {
		let mut replayed = Replayed::<u64>::default();
		let apply = |replayed: &mut Replayed<u64>, record: StateRecord<u64>| {
			replayed.apply(StateRecord::from_bytes(&record.to_bytes()).unwrap());
		};
		let whole =
			Whole { cursor: Some(BlockId { number: 4, hash: 40 }), identity: None, journal: vec![entry(4, 40)] };
		apply(&mut replayed, StateRecord::Snapshot { epoch: 3, member: "b".into(), facts: facts(), state: whole });
		assert_eq!(
			(replayed.epoch, replayed.leader.as_deref(), replayed.facts.as_ref()),
			(3, Some("b"), Some(&facts()))
		);
		apply(&mut replayed, commit(3, "b", vec![Logged::Cursor(BlockId { number: 5, hash: 50 })]));
		assert_eq!(replayed.state.cursor, Some(BlockId { number: 5, hash: 50 }), "the leader's own commit counts");
		apply(&mut replayed, commit(2, "a", vec![Logged::Put(entry(6, 61))]));
		assert_eq!(replayed.swept, 1, "an older epoch's commit is a stale leader's");
		// A stale leader's snapshot changes nothing.
		let stale = Whole { cursor: Some(BlockId { number: 9, hash: 90 }), identity: None, journal: vec![] };
		apply(&mut replayed, StateRecord::Snapshot { epoch: 2, member: "a".into(), facts: facts(), state: stale });
		assert_eq!((replayed.epoch, replayed.state.cursor.map(|c| c.number)), (3, Some(5)));
	}

	#[test]
	fn a_batch_writes_only_its_last_cursor() {
		let id = |n| BlockId { number: n, hash: n };
		let changes = vec![Change::Cursor(id(1)), Change::Remove(7), Change::Cursor(id(2)), Change::Put(entry(3, 3))];
		let written: Vec<String> = logged(&changes).iter().map(|l| format!("{l:?}")).collect();
		assert_eq!(written.len(), 3);
		assert!(written[0].starts_with("Remove") && written[1].contains("number: 2") && written[2].starts_with("Put"));
	}

	#[test]
	fn a_node_configured_otherwise_is_refused_naming_the_difference() {
		let ours = GroupFacts { topic_partitions: 3, ..facts() };
		let error = check_facts(Some(&facts()), &ours).unwrap_err().to_string();
		assert!(error.contains("--kafka-topic-partitions 3 differs from the group's 1"), "{error}");
		assert!(check_facts(Some(&facts()), &facts()).is_ok());
		assert!(check_facts(None, &ours).is_ok());
	}

	#[test]
	fn records_of_another_version_are_refused() {
		let mut bytes = takeover(1, "a").to_bytes();
		bytes[0] = 9;
		assert!(StateRecord::<u64>::from_bytes(&bytes).unwrap_err().contains("version 9"));
	}
}
