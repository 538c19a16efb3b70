//! The envelope v1: the JSON document every Kafka message carries (docs/envelope.md, docs/envelope.schema.json),
//! its builders, and its Kafka message (topic, key, payload, headers).
//!
//! ```json
//! {"name": "AssetCreatedEvent", "type": "domain", "data": {…},
//!  "meta": {"id", "schema_version": 1, "chain", "block": {"number", "hash", "parent_hash"}, "event_index",
//!           "phase": {"kind", "extrinsic_index"}, "pallet", "variant", "spec_version", "timestamp", "finalized",
//!           "decode_error"?, "raw"?}}
//! ```
//!
//! `meta.id` is deterministic, so a consumer can drop the duplicates an at-least-once producer may send:
//! `"{block hash}:{event index}"` for the block's events, `"{block hash}:{kind}"` for infrastructure envelopes.

pub mod assemble;
pub mod json;
pub mod stand_in;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use crate::{
	block::decode::{DecodedEvent, Phase, Undecodable},
	mapping::{EventType, PartitionKey, ResolvedMapping},
};

/// The envelope version this crate writes (`meta.schema_version`).
pub const SCHEMA_VERSION: u32 = 1;

/// The block an envelope is about, as the sink knows it when it ships the block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockContext {
	/// The chain's genesis hash, `0x`-hex ([`crate::json::hex0x`]).
	pub chain: String,
	/// The block number.
	pub number: u64,
	/// The block hash, `0x`-hex.
	pub hash: String,
	/// The parent block's hash, `0x`-hex.
	pub parent_hash: String,
	/// The runtime's `spec_version` at this block (whose metadata decoded its events).
	pub spec_version: u32,
	/// The block's `Timestamp::Now`, in milliseconds since the Unix epoch, if the block has one.
	pub timestamp: Option<u64>,
	/// Whether the block is finalized.
	pub finalized: bool,
}

/// An envelope v1.
#[derive(Clone, Debug, PartialEq)]
pub struct Envelope {
	/// What happened, e.g. `"AssetCreatedEvent"` or `"BlockCreated"`.
	pub name: String,
	/// Domain or infrastructure.
	pub event_type: EventType,
	/// The event's fields as compact JSON text (JSON conventions in docs/envelope.md), written straight from the
	/// SCALE bytes; `null` for an undecodable remainder.
	pub data: String,
	/// Where and when it happened.
	pub meta: Meta,
}

/// The envelope's `meta`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
	/// Deterministic id, for deduplication.
	pub id: String,
	/// [`SCHEMA_VERSION`].
	pub schema_version: u32,
	/// The chain's genesis hash, `0x`-hex.
	pub chain: String,
	/// The block.
	pub block: BlockRef,
	/// The event's index in the block's events; `null` for infrastructure envelopes.
	pub event_index: Option<u32>,
	/// When in the block; absent for infrastructure envelopes (and when an undecodable record's phase is unknown).
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub phase: Option<PhaseMeta>,
	/// The pallet; `null` for infrastructure envelopes.
	pub pallet: Option<String>,
	/// The event variant; `null` for infrastructure envelopes.
	pub variant: Option<String>,
	/// The runtime's `spec_version` at this block.
	pub spec_version: u32,
	/// The block's timestamp (ms since the Unix epoch), `null` if unknown.
	pub timestamp: Option<u64>,
	/// Whether the block was finalized when this was sent.
	pub finalized: bool,
	/// Why the events from this index on could not be decoded.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub decode_error: Option<String>,
	/// The undecoded bytes, `0x`-hex, at most the first 4096 of them.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub raw: Option<String>,
	/// How many bytes were left undecoded (more than `raw` holds when it was capped).
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub raw_length: Option<usize>,
}

/// `meta.block`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockRef {
	/// The block number.
	pub number: u64,
	/// The block hash, `0x`-hex.
	pub hash: String,
	/// The parent's hash, `0x`-hex.
	pub parent_hash: String,
}

/// `meta.phase`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseMeta {
	/// `"ApplyExtrinsic"`, `"Initialization"` or `"Finalization"`.
	pub kind: String,
	/// The extrinsic's index in the block, for `ApplyExtrinsic`.
	#[serde(default, skip_serializing_if = "Option::is_none")]
	pub extrinsic_index: Option<u32>,
}

impl From<Phase> for PhaseMeta {
	fn from(phase: Phase) -> Self {
		let (kind, extrinsic_index) = match phase {
			Phase::ApplyExtrinsic(index) => ("ApplyExtrinsic", Some(index)),
			Phase::Initialization => ("Initialization", None),
			Phase::Finalization => ("Finalization", None),
		};
		PhaseMeta { kind: kind.into(), extrinsic_index }
	}
}

/// The envelopes the sink makes itself, about blocks rather than events. More kinds may come, hence
/// `non_exhaustive`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InfrastructureEvent {
	/// A block was shipped: how many events and extrinsics it holds.
	BlockCreated { event_count: u32, extrinsics_count: u32 },
	/// A block was finalized.
	BlockFinalized,
	/// The block runs a new runtime: `spec_version` went `from` → `to`.
	RuntimeUpgraded { from: u32, to: u32 },
	/// A shipped block left the best chain: cancel the messages with these ids (full `meta.id`s).
	BlockRetracted { event_ids: Vec<String> },
}

impl InfrastructureEvent {
	/// The envelope's `name`, which is also the last part of its `meta.id`.
	pub fn name(&self) -> &'static str {
		match self {
			InfrastructureEvent::BlockCreated { .. } => "BlockCreated",
			InfrastructureEvent::BlockFinalized => "BlockFinalized",
			InfrastructureEvent::RuntimeUpgraded { .. } => "RuntimeUpgraded",
			InfrastructureEvent::BlockRetracted { .. } => "BlockRetracted",
		}
	}

	fn data(&self) -> Json {
		match self {
			InfrastructureEvent::BlockCreated { event_count, extrinsics_count } => {
				json!({"event_count": event_count, "extrinsics_count": extrinsics_count})
			}
			InfrastructureEvent::BlockFinalized => json!({}),
			InfrastructureEvent::RuntimeUpgraded { from, to } => json!({"from": from, "to": to}),
			InfrastructureEvent::BlockRetracted { event_ids } => json!({"event_ids": event_ids}),
		}
	}
}

/// `meta.id` of the event with index `event_index` in block `block_hash`.
pub fn event_id(block_hash: &str, event_index: u32) -> String {
	format!("{block_hash}:{event_index}")
}

/// `meta.id` of the infrastructure envelope `kind` (its name) of block `block_hash`.
pub fn infrastructure_id(block_hash: &str, kind: &str) -> String {
	format!("{block_hash}:{kind}")
}

impl Envelope {
	/// The envelope as compact JSON: `{"name", "type", "data", "meta"}`, `data` copied as it was written.
	pub fn to_json(&self) -> Vec<u8> {
		let mut out = Vec::with_capacity(self.data.len() + 512);
		out.extend_from_slice(b"{\"name\":");
		// Writing strings and a `Serialize` struct to memory can't fail.
		let _ = serde_json::to_writer(&mut out, &self.name);
		out.extend_from_slice(b",\"type\":");
		let _ = serde_json::to_writer(&mut out, &self.event_type);
		out.extend_from_slice(b",\"data\":");
		out.extend_from_slice(self.data.as_bytes());
		out.extend_from_slice(b",\"meta\":");
		let _ = serde_json::to_writer(&mut out, &self.meta);
		out.push(b'}');
		out
	}

	/// The envelope of a decoded event, named, typed and routed by `mapping` ([`crate::mapping::Mappings::resolve`]).
	pub fn event(context: &BlockContext, event: &DecodedEvent, mapping: &ResolvedMapping) -> Envelope {
		Envelope {
			name: mapping.name.clone(),
			event_type: mapping.event_type,
			data: event.data.clone(),
			meta: Meta {
				id: event_id(&context.hash, event.index),
				event_index: Some(event.index),
				phase: Some(event.phase.into()),
				pallet: Some(event.pallet.clone()),
				variant: Some(event.variant.clone()),
				..Meta::of_block(context)
			},
		}
	}

	/// The envelope of the undecodable remainder of a block's events
	/// ([`crate::mapping::Mappings::resolve_undecodable`]): `data` is null, `meta.decode_error` and `meta.raw`
	/// say what failed; `meta.event_index` is the first record not decoded.
	pub fn undecodable(context: &BlockContext, remainder: &Undecodable, mapping: &ResolvedMapping) -> Envelope {
		Envelope {
			name: mapping.name.clone(),
			event_type: mapping.event_type,
			data: "null".into(),
			meta: Meta {
				id: event_id(&context.hash, remainder.index),
				event_index: Some(remainder.index),
				phase: remainder.phase.map(PhaseMeta::from),
				pallet: remainder.pallet.clone(),
				variant: remainder.variant.clone(),
				decode_error: Some(remainder.error.clone()),
				raw: Some(remainder.raw.clone()),
				raw_length: Some(remainder.raw_length),
				..Meta::of_block(context)
			},
		}
	}

	/// An infrastructure envelope about the block.
	pub fn infrastructure(context: &BlockContext, event: &InfrastructureEvent) -> Envelope {
		Envelope {
			name: event.name().into(),
			event_type: EventType::Infrastructure,
			data: event.data().to_string(),
			meta: Meta { id: infrastructure_id(&context.hash, event.name()), ..Meta::of_block(context) },
		}
	}
}

impl Meta {
	/// The block's part of `meta`; the event's part is left empty.
	fn of_block(context: &BlockContext) -> Meta {
		Meta {
			id: String::new(),
			schema_version: SCHEMA_VERSION,
			chain: context.chain.clone(),
			block: BlockRef {
				number: context.number,
				hash: context.hash.clone(),
				parent_hash: context.parent_hash.clone(),
			},
			event_index: None,
			phase: None,
			pallet: None,
			variant: None,
			spec_version: context.spec_version,
			timestamp: context.timestamp,
			finalized: context.finalized,
			decode_error: None,
			raw: None,
			raw_length: None,
		}
	}
}

/// A Kafka message, ready for the producer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMessage {
	/// The envelope's `meta.id`.
	pub id: String,
	/// `"{prefix}.{mapping topic}"` (just the mapping's topic when the prefix is empty).
	pub topic: String,
	/// The partition key; `None` lets the producer choose the partition.
	pub key: Option<Vec<u8>>,
	/// The envelope as compact JSON.
	pub payload: Vec<u8>,
	/// `id`, `name`, `type`, `schema_version`, `block_hash`, `finalized`, so that consumers can route and
	/// deduplicate without parsing the payload.
	pub headers: Vec<(String, Vec<u8>)>,
}

/// The message carrying `envelope`, routed by `mapping` under `topic_prefix`. The key is the mapping's; when its
/// pointer finds nothing in `data`, the pallet name (or, with no pallet, the chain) keeps the order; an
/// infrastructure mapping ([`PartitionKey::Chain`]) keys by `meta.chain`.
pub fn to_message(envelope: &Envelope, mapping: &ResolvedMapping, topic_prefix: &str) -> OutgoingMessage {
	let meta = &envelope.meta;
	// Only a pointer key needs `data` as a tree.
	let data = match mapping.key {
		PartitionKey::Pointer(_) => serde_json::from_str(&envelope.data).unwrap_or(Json::Null),
		_ => Json::Null,
	};
	let key = match mapping.key {
		PartitionKey::Chain => Some(meta.chain.as_bytes().to_vec()),
		_ => mapping
			.partition_key(&data)
			.or_else(|| meta.pallet.as_ref().map(|pallet| pallet.as_bytes().to_vec()))
			.or_else(|| Some(meta.chain.as_bytes().to_vec())),
	};
	let topic =
		if topic_prefix.is_empty() { mapping.topic.clone() } else { format!("{topic_prefix}.{}", mapping.topic) };
	let payload = envelope.to_json();
	let headers = vec![
		("id".to_string(), meta.id.as_bytes().to_vec()),
		("name".to_string(), envelope.name.as_bytes().to_vec()),
		("type".to_string(), envelope.event_type.as_str().as_bytes().to_vec()),
		("schema_version".to_string(), meta.schema_version.to_string().into_bytes()),
		("block_hash".to_string(), meta.block.hash.as_bytes().to_vec()),
		("finalized".to_string(), meta.finalized.to_string().into_bytes()),
	];
	OutgoingMessage { id: meta.id.clone(), topic, key, payload, headers }
}
