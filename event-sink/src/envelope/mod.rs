//! The envelope v1: the JSON document every Kafka message carries (docs/envelope.md, docs/envelope.schema.json),
//! and its builders. What carries it (a Kafka message, a JSON-RPC notification) is the outputs' business.
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
pub mod compiled;
pub mod json;
pub mod pointer;
pub mod route;
pub mod write;

// The Kafka message of an envelope lives with the Kafka output; these paths stay for existing users.
pub use crate::kafka::{
	request::{to_message, MessageHeaders, OutgoingMessage},
	stand_in,
};

use std::sync::Arc;

use serde_json::{json, Value as Json};

use crate::{
	block::decode::{DecodedEvent, Phase, Undecodable},
	envelope::write::{envelope_json, write_envelope, BlockFrame, EventMeta, Head},
	mapping::{EventType, ResolvedMapping},
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

/// An envelope v1, as a value (tests, and the envelopes made once per block; a block's events are written
/// straight to JSON by [`assemble`]).
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
	/// Deterministic id, for deduplication.
	pub id: String,
	/// The block's part, the same in every envelope of the block.
	pub block: BlockContext,
	/// The event's index in the block's events; `null` for infrastructure envelopes.
	pub event_index: Option<u32>,
	/// When in the block; absent for infrastructure envelopes (and when an undecodable record's phase is unknown).
	pub phase: Option<Phase>,
	/// The pallet; `null` for infrastructure envelopes.
	pub pallet: Option<String>,
	/// The event variant; `null` for infrastructure envelopes.
	pub variant: Option<String>,
	/// Why the events from this index on could not be decoded.
	pub decode_error: Option<String>,
	/// The undecoded bytes, `0x`-hex, at most the first 4096 of them.
	pub raw: Option<String>,
	/// How many bytes were left undecoded (more than `raw` holds when it was capped).
	pub raw_length: Option<usize>,
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
	/// The block runs a new runtime: `spec_version` went `from` → `to`. `changes`: how the events the node ships
	/// changed between the two runtimes' contracts ([`crate::contract::diff::to_json`]), when the previous
	/// runtime's state was still there to compare with.
	RuntimeUpgraded { from: u32, to: u32, changes: Option<Arc<Json>> },
	/// A shipped block left the best chain: cancel the messages with these ids (full `meta.id`s).
	/// `part`: `(n, of)` when the retraction of one topic-partition is split into `of` messages (1-based `n`), so
	/// that none passes Kafka's message size limit; `None` (and no `part`/`parts` fields) when one message holds it.
	BlockRetracted { event_ids: Vec<String>, part: Option<(u32, u32)> },
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

	pub(crate) fn data(&self) -> Json {
		match self {
			InfrastructureEvent::BlockCreated { event_count, extrinsics_count } => {
				json!({"event_count": event_count, "extrinsics_count": extrinsics_count})
			}
			InfrastructureEvent::BlockFinalized => json!({}),
			InfrastructureEvent::RuntimeUpgraded { from, to, changes: None } => json!({"from": from, "to": to}),
			InfrastructureEvent::RuntimeUpgraded { from, to, changes: Some(changes) } => {
				json!({"from": from, "to": to, "changes": &**changes})
			}
			InfrastructureEvent::BlockRetracted { event_ids, part: None } => json!({"event_ids": event_ids}),
			InfrastructureEvent::BlockRetracted { event_ids, part: Some((part, parts)) } => {
				json!({"event_ids": event_ids, "part": part, "parts": parts})
			}
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
		envelope_json(self.head(), &BlockFrame::new(&self.meta.block), &self.meta.event_meta())
	}

	/// [`Envelope::to_json`], and where `data` sits in it.
	pub fn write(&self) -> (Vec<u8>, std::ops::Range<u32>) {
		write_envelope(self.head(), &BlockFrame::new(&self.meta.block), &self.meta.event_meta())
	}

	pub(crate) fn head(&self) -> Head<'_> {
		Head { name: &self.name, event_type: self.event_type, data: &self.data, id: &self.meta.id }
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
				phase: Some(event.phase),
				pallet: Some(event.pallet.to_string()),
				variant: Some(event.variant.to_string()),
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
				phase: remainder.phase,
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
			block: context.clone(),
			event_index: None,
			phase: None,
			pallet: None,
			variant: None,
			decode_error: None,
			raw: None,
			raw_length: None,
		}
	}

	pub(crate) fn event_meta(&self) -> EventMeta<'_> {
		EventMeta {
			event_index: self.event_index,
			phase: self.phase,
			pallet: self.pallet.as_deref(),
			variant: self.variant.as_deref(),
			decode_error: self.decode_error.as_deref(),
			raw: self.raw.as_deref(),
			raw_length: self.raw_length,
		}
	}
}
