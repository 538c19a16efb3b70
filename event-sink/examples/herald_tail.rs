//! Prints the envelopes a Herald node ships, as they arrive, and applies them as a consumer should: one line per
//! message with its topic, partition and what it does to that partition's live envelopes. Used by
//! `scripts/dev.sh` to show the stream.
//!
//! ```sh
//! cargo run -p herald-event-sink --example herald_tail -- 127.0.0.1:9092 herald
//! ```
//!
//! It follows the consumer rule of docs/envelope.md ("Retracted blocks"), which works in both follow modes of
//! the node (`--kafka-follow finalized|best`). Each topic-partition is applied on its own, in Kafka's order,
//! with a live map `meta.id` → envelope:
//!
//! - an envelope other than `BlockRetracted` is upserted by its `meta.id`. A duplicate (a node restart re-sends
//!   the blocks it was shipping) has the same id, so it changes nothing;
//! - a `BlockRetracted` (best-chain mode: its block left the best chain) deletes every id in `data.event_ids`
//!   from this partition's map; ids the map does not hold are ignored (on the blocks topic it also names the
//!   block's ids on other topics, and after a node crash it may name ids that never reached Kafka). It is never
//!   deduplicated by its own id: a block can be retracted, re-enacted and retracted again, with the same
//!   retraction id each time, and deletes are idempotent.
//!
//! - first, the epoch fences: a message whose `run_epoch` (best mode) or `leader_epoch` (a high-availability
//!   group) header is lower than the highest that header showed in the partition is an earlier run's or a stale
//!   leader's late message: discarded.
//!
//! A retraction is never applied to another partition's map: partitions are not ordered with each other, so
//! the blocks partition's `BlockRetracted` may arrive after another partition already delivered the block's
//! re-enactment.
//!
//! Output, one line per change:
//!
//! ```text
//! herald.balances [1] + 0xa1…:1 key=0xd435… {"name":"BalanceTransferredEvent",…}   new id: upserted
//! herald.balances [1] = 0xa1…:1 (duplicate) BalanceTransferredEvent                 live id again: upserted
//! herald.balances [1] ! BlockRetracted of block #10 0xa1…: 1 deleted, 0 ignored, 0 live
//! herald.balances [1] - 0xa1…:1 (retracted)
//! ```
//!
//! The maps keep every live id (this is a development tool); a real consumer keeps them in its store, e.g. a
//! table keyed by `meta.id` (and by partition, when one table serves several partitions).

use std::{
	collections::{BTreeSet, HashMap},
	time::Duration,
};

use rdkafka::{
	consumer::{BaseConsumer, Consumer},
	message::Headers,
	ClientConfig, Message, Offset, TopicPartitionList,
};
use serde_json::Value;

/// One topic-partition as this consumer holds it.
#[derive(Default)]
struct PartitionState {
	/// The live envelopes by `meta.id`.
	live: HashMap<String, Value>,
	/// Where to resume when the assignment changes: the offset after the last message applied.
	next_offset: Option<i64>,
	/// The highest value each epoch header showed here.
	max_epochs: HashMap<&'static str, u64>,
}

/// The headers that fence late messages, each on its own (docs/envelope.md, the consumer rule).
const FENCES: [&str; 2] = ["run_epoch", "leader_epoch"];

impl PartitionState {
	/// Whether a message with these epochs is late (lower than its partition showed); raises the maxima if not.
	fn is_late(&mut self, epochs: &[(&'static str, u64)]) -> bool {
		if epochs.iter().any(|(header, epoch)| self.max_epochs.get(header).is_some_and(|max| epoch < max)) {
			return true;
		}
		for (header, epoch) in epochs {
			let max = self.max_epochs.entry(header).or_insert(*epoch);
			*max = (*max).max(*epoch);
		}
		false
	}
}

/// What applying one envelope did to its partition's live map.
enum Outcome {
	/// A new id: inserted.
	Added(String),
	/// An id already live (a re-send): replaced by the same envelope.
	Duplicate(String),
	/// A `BlockRetracted`: these ids were deleted; `ignored` of its ids were not held here.
	Retracted { deleted: Vec<String>, ignored: usize },
}

/// The consumer rule, for one envelope of one partition.
fn apply(live: &mut HashMap<String, Value>, envelope: Value) -> Result<Outcome, &'static str> {
	if envelope.get("name").and_then(Value::as_str) == Some("BlockRetracted") {
		// Never deduplicated by its own id: every retraction is applied, deletes are idempotent.
		let ids = envelope
			.pointer("/data/event_ids")
			.and_then(Value::as_array)
			.ok_or("a BlockRetracted without data.event_ids")?;
		let mut deleted = Vec::new();
		let mut ignored = 0;
		for id in ids.iter().filter_map(Value::as_str) {
			if live.remove(id).is_some() {
				deleted.push(id.to_string());
			} else {
				ignored += 1;
			}
		}
		return Ok(Outcome::Retracted { deleted, ignored });
	}
	let id = envelope.pointer("/meta/id").and_then(Value::as_str).ok_or("an envelope without meta.id")?.to_string();
	Ok(match live.insert(id.clone(), envelope) {
		None => Outcome::Added(id),
		Some(_) => Outcome::Duplicate(id),
	})
}

fn main() {
	let mut args = std::env::args().skip(1);
	let brokers = args.next().unwrap_or_else(|| "127.0.0.1:9092".into());
	let prefix = format!("{}.", args.next().unwrap_or_else(|| "herald".into()));

	let consumer: BaseConsumer = ClientConfig::new()
		.set("bootstrap.servers", &brokers)
		.set("group.id", "herald-tail")
		.set("enable.auto.commit", "false")
		.create()
		.unwrap_or_else(|e| {
			eprintln!("cannot create a consumer for {brokers}: {e}");
			std::process::exit(1)
		});

	let mut partitions: HashMap<(String, i32), PartitionState> = HashMap::new();
	// Topics appear as the node creates them: re-read the cluster's topics every few seconds.
	let mut assigned: BTreeSet<(String, i32)> = BTreeSet::new();
	loop {
		if let Ok(metadata) = consumer.fetch_metadata(None, Duration::from_secs(5)) {
			let mut changed = false;
			for topic in metadata.topics().iter().filter(|t| t.name().starts_with(&prefix)) {
				for partition in topic.partitions() {
					changed |= assigned.insert((topic.name().to_string(), partition.id()));
				}
			}
			if changed {
				// A new assignment replaces the old one: partitions read so far resume where they were, new ones
				// start from their beginning (the live maps are built from the whole partition).
				let mut assignment = TopicPartitionList::new();
				for (topic, partition) in &assigned {
					let offset = partitions
						.get(&(topic.clone(), *partition))
						.and_then(|state| state.next_offset)
						.map_or(Offset::Beginning, Offset::Offset);
					let _ = assignment.add_partition_offset(topic, *partition, offset);
				}
				if let Err(e) = consumer.assign(&assignment) {
					eprintln!("cannot assign partitions: {e}");
				}
			}
		}
		for _ in 0..50 {
			let message = match consumer.poll(Duration::from_millis(100)) {
				Some(Ok(message)) => message,
				Some(Err(e)) => {
					eprintln!("consumer: {e}");
					continue;
				}
				None => continue,
			};
			let (topic, partition) = (message.topic().to_string(), message.partition());
			let here = format!("{topic} [{partition}]");
			let payload = message.payload().unwrap_or_default();
			let state = partitions.entry((topic, partition)).or_default();
			state.next_offset = Some(message.offset() + 1);
			let epochs: Vec<(&'static str, u64)> = message
				.headers()
				.map(|headers| {
					headers
						.iter()
						.filter_map(|header| {
							let fence = FENCES.into_iter().find(|fence| *fence == header.key)?;
							let epoch = std::str::from_utf8(header.value?).ok()?.parse().ok()?;
							Some((fence, epoch))
						})
						.collect()
				})
				.unwrap_or_default();
			if state.is_late(&epochs) {
				println!("{here} x a late message of an earlier run or leader {epochs:?}: discarded");
				continue;
			}

			let envelope: Value = match serde_json::from_slice(payload) {
				Ok(envelope) => envelope,
				Err(e) => {
					println!("{here} ? not an envelope ({e}): {}", String::from_utf8_lossy(payload));
					continue;
				}
			};
			let name = envelope.get("name").and_then(Value::as_str).unwrap_or("?").to_string();
			let block_number = envelope.pointer("/meta/block/number").and_then(Value::as_u64).unwrap_or_default();
			let block_hash = envelope.pointer("/meta/block/hash").and_then(Value::as_str).unwrap_or("?").to_string();
			match apply(&mut state.live, envelope) {
				Ok(Outcome::Added(id)) => println!(
					"{here} + {id} key={} {}",
					message.key().map(String::from_utf8_lossy).unwrap_or_default(),
					String::from_utf8_lossy(payload),
				),
				Ok(Outcome::Duplicate(id)) => println!("{here} = {id} (duplicate) {name}"),
				Ok(Outcome::Retracted { deleted, ignored }) => {
					println!(
						"{here} ! {name} of block #{block_number} {block_hash}: {} deleted, {ignored} ignored, {} live",
						deleted.len(),
						state.live.len(),
					);
					for id in deleted {
						println!("{here} - {id} (retracted)");
					}
				}
				Err(e) => println!("{here} ? {e}: {}", String::from_utf8_lossy(payload)),
			}
		}
	}
}
