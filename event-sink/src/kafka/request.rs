//! The Kafka request builder (as Vector's Kafka sink has one): turns the typed stream's notifications into
//! Kafka messages. Everything Kafka-specific about an envelope is decided here and nowhere else: the full topic
//! name (`{prefix}.{topic}`), the partition key and partition, the headers, where a block's messages went
//! (placements, for its retraction), the retraction and finalization messages, and their size limits.

use std::{collections::HashMap, sync::Arc};

use serde_json::Value as Json;

use crate::{
	config::SinkConfig,
	envelope::{
		assemble::{block_envelopes, finalized_envelope, retraction_envelope, BlockData, Routing},
		json::hex0x,
		pointer as json_pointer,
		route::{InfrastructureRoutes, KeyRule, Route},
		write::{envelope_json, BlockFrame},
		BlockContext, Envelope, SCHEMA_VERSION,
	},
	kafka::partition::PartitionTable,
	mapping::{EventType, Mappings, ResolvedMapping},
	store::Placement,
	stream::{BlockEnvelope, CommittedBlock},
};

/// A Kafka message, ready for the producer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMessage {
	/// The envelope's `meta.id`.
	pub id: String,
	/// `"{prefix}.{mapping topic}"` (just the mapping's topic when the prefix is empty).
	pub topic: Arc<str>,
	/// The partition key; `None` lets the producer choose the partition.
	pub key: Option<Arc<[u8]>>,
	/// The envelope as compact JSON (shared with the stream: never copied per output).
	pub payload: Arc<[u8]>,
	/// What the headers say besides the id.
	pub headers: MessageHeaders,
}

/// The envelope's facts every message also carries as headers, so that consumers can route and deduplicate
/// without parsing the payload ([`OutgoingMessage::headers`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageHeaders {
	/// The envelope's `name`.
	pub name: Arc<str>,
	/// The envelope's `type`.
	pub event_type: EventType,
	/// `meta.block.hash`.
	pub block_hash: Arc<str>,
	/// `meta.finalized`.
	pub finalized: bool,
}

// The `schema_version` header is written as a constant.
const _: () = assert!(SCHEMA_VERSION == 1);

impl OutgoingMessage {
	/// The headers, in order: `id`, `name`, `type`, `schema_version`, `block_hash`, `finalized`.
	pub fn headers(&self) -> [(&'static str, &[u8]); 6] {
		let headers = &self.headers;
		[
			("id", self.id.as_bytes()),
			("name", headers.name.as_bytes()),
			("type", headers.event_type.as_str().as_bytes()),
			("schema_version", b"1"),
			("block_hash", headers.block_hash.as_bytes()),
			("finalized", if headers.finalized { b"true" } else { b"false" }),
		]
	}
}

/// One message for the producer, with its partition.
#[derive(Clone, Debug)]
pub struct Request {
	pub message: OutgoingMessage,
	pub partition: i32,
	/// It carries a runtime event (counted apart in the metrics).
	pub is_event: bool,
}

/// The partition key of a message with this `data` (JSON text) about `pallet` on the chain `chain_key`: the
/// mapping's key; when its pointer finds nothing in `data`, the pallet's name (or, with no pallet, the chain)
/// keeps the order.
pub fn partition_key(rule: &KeyRule, data: &str, pallet: Option<&str>, chain_key: &Arc<[u8]>) -> Arc<[u8]> {
	match rule {
		KeyRule::Fixed(key) => key.clone(),
		KeyRule::Chain => chain_key.clone(),
		KeyRule::Pointer(pointer) => {
			let raw = json_pointer::find(data, pointer);
			// A string without escapes (an account, a hash) is its text: nothing to parse or allocate but the key.
			let plain =
				raw.and_then(|raw| raw.get().strip_prefix('"')?.strip_suffix('"')).filter(|text| !text.contains('\\'));
			if let Some(text) = plain {
				return text.as_bytes().into();
			}
			// Only the value found is parsed (the rest of `data` is skipped), then keyed as before.
			let found: Option<Json> = raw.and_then(|raw| serde_json::from_str(raw.get()).ok());
			match found.as_ref() {
				None | Some(Json::Null) => match pallet {
					Some(pallet) => pallet.as_bytes().into(),
					None => chain_key.clone(),
				},
				Some(Json::String(text)) => text.as_bytes().into(),
				Some(other) => other.to_string().into_bytes().into(),
			}
		}
	}
}

/// The full topic names, `{prefix}.{topic}` (the mapping's topic alone when the prefix is empty), made once.
#[derive(Clone, Debug)]
pub struct Topics {
	prefix: String,
	full: HashMap<Arc<str>, Arc<str>>,
}

impl Topics {
	pub fn new(mappings: &Mappings, prefix: &str) -> Topics {
		let mut topics = Topics { prefix: prefix.to_string(), full: HashMap::new() };
		for topic in mappings.topics() {
			let full = topics.make(&topic);
			topics.full.insert(topic.into(), full);
		}
		topics
	}

	/// The full name of the mapping topic `topic`.
	pub fn full(&self, topic: &str) -> Arc<str> {
		self.full.get(topic).cloned().unwrap_or_else(|| self.make(topic))
	}

	fn make(&self, topic: &str) -> Arc<str> {
		if self.prefix.is_empty() {
			topic.into()
		} else {
			format!("{}.{topic}", self.prefix).into()
		}
	}
}

/// The topics the sink produces to (full names), to create them before shipping.
pub fn topics(config: &SinkConfig) -> Vec<String> {
	config.mappings.topics().into_iter().map(|suffix| format!("{}.{suffix}", config.topic_prefix)).collect()
}

/// The message carrying `envelope`, routed by `mapping` under `topic_prefix` (tests, and envelopes made as
/// values). The key is the mapping's ([`partition_key`]).
pub fn to_message(envelope: &Envelope, mapping: &ResolvedMapping, topic_prefix: &str) -> OutgoingMessage {
	let route = Route::new(mapping);
	let frame = BlockFrame::new(&envelope.meta.block);
	let meta = envelope.meta.event_meta();
	let payload = envelope_json(envelope.head(), &frame, &meta);
	let topic = Topics { prefix: topic_prefix.to_string(), full: HashMap::new() }.full(&route.topic);
	OutgoingMessage {
		id: envelope.meta.id.clone(),
		topic,
		key: Some(partition_key(&route.key, &envelope.data, meta.pallet, &frame.chain_key)),
		payload: payload.into(),
		headers: MessageHeaders {
			name: envelope.name.as_str().into(),
			event_type: envelope.event_type,
			block_hash: frame.hash.clone(),
			finalized: frame.finalized,
		},
	}
}

/// The message of one envelope of a block: its full topic, its key (`chain_key`: the chain's genesis hash as
/// bytes), the envelope's bytes (shared, not copied) and the headers (`block_hash`, `finalized`: the block's).
pub fn envelope_message(
	envelope: &BlockEnvelope,
	topics: &Topics,
	chain_key: &Arc<[u8]>,
	block_hash: &Arc<str>,
	finalized: bool,
) -> OutgoingMessage {
	let route = &envelope.route;
	OutgoingMessage {
		id: envelope.id.clone(),
		topic: topics.full(&route.topic),
		key: Some(partition_key(&route.key, envelope.data(), envelope.pallet(), chain_key)),
		payload: envelope.json.clone(),
		headers: MessageHeaders {
			name: route.name.clone(),
			event_type: route.event_type,
			block_hash: block_hash.clone(),
			finalized,
		},
	}
}

/// A block's envelopes as Kafka messages under `topic_prefix`, each flagged `true` when it carries a runtime
/// event: the stream and the request builder in one call, for tests, the contracts' checks and the benchmark.
pub fn block_messages(
	block: &BlockData<'_>,
	routing: &Routing<'_>,
	topic_prefix: &str,
) -> Vec<(OutgoingMessage, bool)> {
	let committed = block_envelopes(block, routing);
	let topics = Topics::new(routing.mappings, topic_prefix);
	let chain_key: Arc<[u8]> = block.chain.as_bytes().into();
	let finalized = committed.context.finalized;
	committed
		.envelopes
		.iter()
		.map(|envelope| {
			(envelope_message(envelope, &topics, &chain_key, &committed.block_hash, finalized), envelope.is_event())
		})
		.collect()
}

/// What turns one run's notifications into requests: made once the cluster is known (its partition counts).
pub struct KafkaBuild {
	topics: Topics,
	/// The chain's genesis hash, `0x`-hex, as bytes: the key of the chain's messages.
	chain_key: Arc<[u8]>,
	partitions: PartitionTable,
	infrastructure: InfrastructureRoutes,
	retraction_budget: usize,
}

impl KafkaBuild {
	pub fn new(config: &SinkConfig, chain: &str, partitions: PartitionTable) -> KafkaBuild {
		KafkaBuild {
			topics: Topics::new(&config.mappings, &config.topic_prefix),
			chain_key: chain.as_bytes().into(),
			partitions,
			infrastructure: InfrastructureRoutes::new(&config.mappings),
			retraction_budget: retraction_budget(config),
		}
	}

	/// The message of one envelope of a block (`block_hash`, `finalized`: the block's headers).
	pub fn message(&self, envelope: &BlockEnvelope, block_hash: &Arc<str>, finalized: bool) -> OutgoingMessage {
		envelope_message(envelope, &self.topics, &self.chain_key, block_hash, finalized)
	}

	/// A message for the partition its key chooses.
	pub fn keyed(&self, message: OutgoingMessage, is_event: bool) -> Request {
		let partition = self.partitions.partition(&message.topic, message.key.as_deref().unwrap_or_default());
		Request { message, partition, is_event }
	}

	/// A committed block's messages, in order.
	pub fn committed(&self, block: &CommittedBlock) -> Vec<Request> {
		let finalized = block.context.finalized;
		block
			.envelopes
			.iter()
			.map(|envelope| self.keyed(self.message(envelope, &block.block_hash, finalized), envelope.is_event()))
			.collect()
	}

	/// `BlockFinalized` of a block shipped before it was final (`context.finalized` must be `true`).
	pub fn finalized(&self, context: &BlockContext) -> Request {
		let envelope = finalized_envelope(context, &self.infrastructure);
		let message = self.message(&envelope, &context.hash.as_str().into(), true);
		self.keyed(message, false)
	}

	/// `BlockRetracted` for every topic-partition the block's messages reached ([`retraction_targets`]). A list of
	/// ids too long for one message (a full block retracted on its blocks partition names every id of the block)
	/// is split into parts that each stay under half of `message.max.bytes`, in the same partition, in order.
	pub fn retraction(&self, context: &BlockContext, placements: &[Placement]) -> Vec<Request> {
		let block_hash: Arc<str> = context.hash.as_str().into();
		let mut requests = Vec::new();
		for (placement, ids) in retraction_targets(placements) {
			let ids: Vec<String> = ids.into_iter().map(|id| format!("{}:{id}", context.hash)).collect();
			let parts = split_by_size(ids, self.retraction_budget);
			let count = parts.len() as u32;
			for (n, event_ids) in parts.into_iter().enumerate() {
				let part = (count > 1).then_some((n as u32 + 1, count));
				let envelope = retraction_envelope(context, &self.infrastructure, event_ids, part);
				let mut message = self.message(&envelope, &block_hash, false);
				message.topic = placement.topic.as_str().into();
				requests.push(Request { message, partition: placement.partition, is_event: false });
			}
		}
		requests
	}
}

/// Where a block's messages go, by topic-partition, ids without the block hash prefix.
pub fn placements<H: AsRef<[u8]>>(hash: &H, requests: &[Request]) -> Vec<Placement> {
	let hash = hex0x(hash);
	let mut placements: Vec<Placement> = Vec::new();
	for request in requests {
		let message = &request.message;
		let id = message.id.strip_prefix(hash.as_str()).and_then(|s| s.strip_prefix(':')).unwrap_or(&message.id);
		let topic = &*message.topic;
		match placements.iter_mut().find(|p| p.topic == topic && p.partition == request.partition) {
			Some(placement) => placement.ids.push(id.to_string()),
			None => placements.push(Placement {
				topic: topic.to_string(),
				partition: request.partition,
				ids: vec![id.to_string()],
			}),
		}
	}
	placements
}

/// Where a block's `BlockRetracted` envelopes go and the ids each cancels (suffixes, as in the journal): one per
/// topic-partition the block's messages reached; the one on the blocks partition (where `BlockCreated` went)
/// names all of the block's ids, so a consumer of the blocks topic alone can cancel the whole block.
pub fn retraction_targets(placements: &[Placement]) -> Vec<(&Placement, Vec<&str>)> {
	let all: Vec<&str> = placements.iter().flat_map(|p| p.ids.iter().map(String::as_str)).collect();
	placements
		.iter()
		.map(|placement| {
			let ids = if placement.ids.iter().any(|id| id == BLOCK_CREATED) {
				all.clone()
			} else {
				placement.ids.iter().map(String::as_str).collect()
			};
			(placement, ids)
		})
		.collect()
}

/// The id suffix of `BlockCreated`, which marks a block's blocks partition.
const BLOCK_CREATED: &str = "BlockCreated";

/// librdkafka's default `message.max.bytes`.
const DEFAULT_MESSAGE_MAX_BYTES: usize = 1_000_000;

/// The JSON bytes of ids one retraction message may carry: half of the producer's `message.max.bytes` (the rest
/// is the envelope, headers and Kafka's framing, far smaller).
fn retraction_budget(config: &SinkConfig) -> usize {
	let max = config
		.kafka_properties
		.iter()
		.rev()
		.find(|property| property.key == "message.max.bytes")
		.and_then(|property| property.value.trim().parse::<usize>().ok())
		.unwrap_or(DEFAULT_MESSAGE_MAX_BYTES);
	(max / 2).max(1024)
}

/// `ids` in consecutive parts whose JSON (quotes and commas included) stays within `budget` bytes; at least one
/// part (an empty list stays one empty part), and at least one id per part.
fn split_by_size(ids: Vec<String>, budget: usize) -> Vec<Vec<String>> {
	let mut parts: Vec<Vec<String>> = vec![Vec::new()];
	let mut size = 0;
	for id in ids {
		let cost = id.len() + 3;
		let current = parts.last_mut().expect("one part at least");
		if !current.is_empty() && size + cost > budget {
			parts.push(Vec::new());
			size = 0;
		}
		size += cost;
		parts.last_mut().expect("one part at least").push(id);
	}
	parts
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn pointer_keys_are_the_values_text_with_or_without_parsing() {
		let chain: Arc<[u8]> = b"0xchain".as_slice().into();
		let rule = KeyRule::Pointer("/who".into());
		let key = |data: &str| partition_key(&rule, data, Some("Balances"), &chain).to_vec();
		// The value's text, as the mapping's own key function (on a parsed value) gives it.
		for (data, expected) in [
			(r#"{"who":"0xab12","amount":5}"#, b"0xab12".to_vec()),
			(r#"{"who":"a\"b"}"#, b"a\"b".to_vec()),
			(r#"{"who":"\u00e9t\u00e9"}"#, "été".as_bytes().to_vec()),
			(r#"{"who":""}"#, Vec::new()),
			(r#"{"who":12}"#, b"12".to_vec()),
			(r#"{"who":{"Id":"0x01"}}"#, br#"{"Id":"0x01"}"#.to_vec()),
			(r#"{"who":null}"#, b"Balances".to_vec()),
			(r#"{"other":1}"#, b"Balances".to_vec()),
		] {
			assert_eq!(key(data), expected, "{data}");
		}
	}

	#[test]
	fn long_retractions_are_split_into_parts_within_the_budget_and_in_order() {
		let ids: Vec<String> = (0..1000).map(|n| format!("0x{:064x}:{n}", 7)).collect();
		let parts = split_by_size(ids.clone(), 10_000);
		assert!(parts.len() > 1, "split");
		for part in &parts {
			let json = serde_json::to_string(part).unwrap();
			assert!(json.len() <= 10_000, "{} bytes", json.len());
		}
		assert_eq!(parts.concat(), ids, "every id once, in order");
		assert_eq!(split_by_size(Vec::new(), 10).len(), 1, "an empty retraction is one message");
		assert_eq!(split_by_size(vec!["x".repeat(50)], 10).len(), 1, "an id longer than the budget still ships");
	}
}
