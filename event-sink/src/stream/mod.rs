//! The chain's envelopes as a typed stream, the one thing every output consumes (as reth's execution extensions
//! receive committed, reverted and finalized chains): a block committed with its envelopes, a block retracted,
//! a block finalized. Nothing here knows Kafka: no topic prefix, partition, header or placement. The Kafka output
//! turns a notification into messages ([`crate::kafka::request`]); the JSON-RPC subscription sends the same
//! envelope bytes to its subscribers ([`crate::subscribe`]).

use std::{ops::Range, sync::Arc};

use crate::{
	envelope::{route::Route, BlockContext},
	follow::BlockLink,
	mapping::EventType,
};

/// What happened to the chain an output follows, in chain order. Retractions come newest first and before
/// anything of the branch that replaces them.
#[derive(Clone, Debug)]
pub enum Notification<H> {
	/// A block joined the followed chain: its envelopes, in order. When `block.context.finalized`, its last
	/// envelope is its `BlockFinalized` and no later notification is about it.
	Committed(BlockLink<H>, Arc<CommittedBlock>),
	/// A block committed before, not final, left the best chain.
	Retracted(BlockLink<H>, BlockContext),
	/// A block committed before it was final became final.
	Finalized(BlockLink<H>, BlockContext),
}

/// A block and its envelopes, written once and shared by every output.
#[derive(Debug)]
pub struct CommittedBlock {
	/// The block as its envelopes describe it (`finalized`: shipped as final).
	pub context: BlockContext,
	/// `context.hash`, shared by every envelope's outputs (Kafka's `block_hash` header).
	pub block_hash: Arc<str>,
	/// In order: `BlockCreated`, `RuntimeUpgraded` when the runtime changed, every mapped event, the undecodable
	/// remainder if any, and `BlockFinalized` when the block is final.
	pub envelopes: Vec<BlockEnvelope>,
}

/// One envelope of a block: its JSON bytes (exactly what every output sends) and the facts outputs route and
/// filter on, so that none of them parses the JSON again.
#[derive(Clone, Debug)]
pub struct BlockEnvelope {
	/// `meta.id`.
	pub id: String,
	/// What the mapping table decided: name, type, topic, key.
	pub route: Arc<Route>,
	/// The envelope, compact JSON.
	pub json: Arc<[u8]>,
	/// Where `data` sits in `json`.
	pub data: Range<u32>,
	/// Where the envelope comes from.
	pub origin: Origin,
}

/// What an envelope is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
	/// The block itself (`BlockCreated`, `RuntimeUpgraded`, `BlockFinalized`, `BlockRetracted`).
	Block,
	/// A runtime event: its index in `System::Events`, pallet and variant.
	Event { index: u32, pallet: Arc<str>, variant: Arc<str> },
	/// The undecodable remainder of the block's events, from `index` on.
	Undecodable { index: u32, pallet: Option<Arc<str>>, variant: Option<Arc<str>> },
}

impl BlockEnvelope {
	/// The envelope's `name`.
	pub fn name(&self) -> &str {
		&self.route.name
	}

	/// The envelope's `type`.
	pub fn event_type(&self) -> EventType {
		self.route.event_type
	}

	/// `data` as JSON text.
	pub fn data(&self) -> &str {
		let range = self.data.start as usize..self.data.end as usize;
		// The writer put JSON text there, and ranges fall on its boundaries.
		std::str::from_utf8(&self.json[range]).unwrap_or("null")
	}

	/// Whether it carries a runtime event (or the undecodable rest of them).
	pub fn is_event(&self) -> bool {
		!matches!(self.origin, Origin::Block)
	}

	/// The pallet of the event it carries, when known.
	pub fn pallet(&self) -> Option<&str> {
		match &self.origin {
			Origin::Block => None,
			Origin::Event { pallet, .. } => Some(pallet),
			Origin::Undecodable { pallet, .. } => pallet.as_deref(),
		}
	}

	/// The variant of the event it carries, when known.
	pub fn variant(&self) -> Option<&str> {
		match &self.origin {
			Origin::Block => None,
			Origin::Event { variant, .. } => Some(variant),
			Origin::Undecodable { variant, .. } => variant.as_deref(),
		}
	}

	/// `meta.event_index`, for events.
	pub fn event_index(&self) -> Option<u32> {
		match &self.origin {
			Origin::Block => None,
			Origin::Event { index, .. } | Origin::Undecodable { index, .. } => Some(*index),
		}
	}
}

#[cfg(test)]
impl BlockEnvelope {
	/// An envelope `{}` of a domain event "X" on topic "t", for tests of what carries envelopes.
	pub(crate) fn fake(id: &str, origin: Origin) -> BlockEnvelope {
		let mapping = crate::mapping::ResolvedMapping {
			name: "X".into(),
			event_type: EventType::Domain,
			topic: "t".into(),
			key: crate::mapping::PartitionKey::Chain,
		};
		BlockEnvelope {
			id: id.into(),
			route: Arc::new(Route::new(&mapping)),
			json: b"{}"[..].into(),
			data: 0..0,
			origin,
		}
	}
}
