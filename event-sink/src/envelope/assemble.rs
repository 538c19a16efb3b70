//! The messages of a block, pure JSON (no Kafka): the ones that ship it, in order (`BlockCreated`,
//! `RuntimeUpgraded` when the runtime changed, every mapped event, the undecodable remainder if any, and
//! `BlockFinalized` when it is final), the later `BlockFinalized` of a block shipped before it was final, and the
//! `BlockRetracted` of a block a re-org took back.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::{
	block::decode::DecodedEvents,
	config::SinkConfig,
	envelope::{
		infrastructure_id,
		route::{InfrastructureRoutes, Route, RuntimeRoutes},
		to_message,
		write::{envelope_json, BlockFrame, EventMeta, Head},
		BlockContext, Envelope, InfrastructureEvent, OutgoingMessage,
	},
	mapping::{EventType, Mappings},
};

/// What the sink knows about a block when it ships it.
pub struct BlockData<'a> {
	/// The chain's genesis hash, `0x`-hex.
	pub chain: &'a str,
	pub number: u64,
	pub hash: String,
	pub parent_hash: String,
	pub spec_version: u32,
	/// The parent's runtime version (`None` for genesis).
	pub previous_spec_version: Option<u32>,
	/// When the runtime changed: how the shipped events' contracts changed (`RuntimeUpgraded`'s `changes`).
	pub runtime_changes: Option<Arc<Json>>,
	/// The block's `pallet_timestamp::Now`, in ms.
	pub timestamp: Option<u64>,
	/// `None` when the body was pruned.
	pub extrinsics_count: Option<u32>,
	pub finalized: bool,
	pub events: &'a DecodedEvents,
}

/// Where a block's messages go: everything resolved before the block is read.
#[derive(Clone, Copy)]
pub struct Routing<'a> {
	/// The routes of the runtime that executed the block.
	pub events: &'a RuntimeRoutes,
	/// The routes of the sink's own envelopes.
	pub infrastructure: &'a InfrastructureRoutes,
	/// For an undecodable remainder, resolved when one is met.
	pub mappings: &'a Mappings,
	pub topic_prefix: &'a str,
}

/// The block's messages, each flagged `true` when it carries a runtime event.
pub fn block_messages(block: &BlockData<'_>, routing: &Routing<'_>) -> Vec<(OutgoingMessage, bool)> {
	let context = BlockContext {
		chain: block.chain.to_string(),
		number: block.number,
		hash: block.hash.clone(),
		parent_hash: block.parent_hash.clone(),
		spec_version: block.spec_version,
		timestamp: block.timestamp,
		finalized: block.finalized,
	};
	// The block's part of every envelope, written once.
	let frame = BlockFrame::new(&context);
	let infrastructure = |route: &Route, event: InfrastructureEvent| {
		let data = event.data().to_string();
		let id = infrastructure_id(&context.hash, event.name());
		let head = Head { name: event.name(), event_type: EventType::Infrastructure, data: &data, id: &id };
		let payload = envelope_json(head, &frame, &EventMeta::default());
		let key = route.key(&data, None, &frame.chain_key);
		(OutgoingMessage::new(route, &frame, id, payload, key), false)
	};

	let events = block.events;
	let event_count = events.record_count.unwrap_or(events.events.len() as u32);
	let mut messages = Vec::with_capacity(events.events.len() + 3);
	messages.push(infrastructure(
		&routing.infrastructure.block_created,
		InfrastructureEvent::BlockCreated { event_count, extrinsics_count: block.extrinsics_count.unwrap_or_default() },
	));
	if let Some(from) = block.previous_spec_version.filter(|from| *from != block.spec_version) {
		messages.push(infrastructure(
			&routing.infrastructure.runtime_upgraded,
			InfrastructureEvent::RuntimeUpgraded {
				from,
				to: block.spec_version,
				changes: block.runtime_changes.clone(),
			},
		));
	}
	for event in &events.events {
		let Some(route) = routing.events.get(event.pallet_index, event.variant_index) else { continue };
		let id = frame.event_id(event.index);
		let meta = EventMeta {
			event_index: Some(event.index),
			phase: Some(event.phase),
			pallet: Some(&event.pallet),
			variant: Some(&event.variant),
			..EventMeta::default()
		};
		let head = Head { name: &route.name, event_type: route.event_type, data: &event.data, id: &id };
		let payload = envelope_json(head, &frame, &meta);
		let key = route.key(&event.data, meta.pallet, &frame.chain_key);
		messages.push((OutgoingMessage::new(route, &frame, id, payload, key), true));
	}
	if let Some(remainder) = &events.undecodable {
		log::warn!(
			target: "herald::kafka",
			"block #{}: events from index {} could not be decoded ({}); shipped raw",
			block.number,
			remainder.index,
			remainder.error
		);
		let mapping = routing.mappings.resolve_undecodable(remainder.pallet.as_deref(), remainder.variant.as_deref());
		let envelope = Envelope::undecodable(&context, remainder, &mapping);
		messages.push((to_message(&envelope, &mapping, routing.topic_prefix), true));
	}
	if block.finalized {
		messages.push(infrastructure(&routing.infrastructure.block_finalized, InfrastructureEvent::BlockFinalized));
	}
	messages
}

/// The topics the sink produces to (full names), to create them before shipping.
pub fn topics(config: &SinkConfig) -> Vec<String> {
	config.mappings.topics().into_iter().map(|suffix| format!("{}.{suffix}", config.topic_prefix)).collect()
}

/// `BlockFinalized` of a block shipped before it was final (`context.finalized` must be `true`).
pub fn finalized_message(context: &BlockContext, config: &SinkConfig) -> OutgoingMessage {
	let event = InfrastructureEvent::BlockFinalized;
	let mapping = config.mappings.infrastructure(event.name());
	to_message(&Envelope::infrastructure(context, &event), &mapping, &config.topic_prefix)
}

/// `BlockRetracted` of a retracted block for one topic: `event_ids` are the full ids it cancels there (`part`:
/// which part of a split retraction, see [`InfrastructureEvent::BlockRetracted`]). The caller sends it to the
/// partition those messages went to.
pub fn retraction_message(
	context: &BlockContext,
	config: &SinkConfig,
	topic: &str,
	event_ids: Vec<String>,
	part: Option<(u32, u32)>,
) -> OutgoingMessage {
	let event = InfrastructureEvent::BlockRetracted { event_ids, part };
	let mapping = config.mappings.infrastructure(event.name());
	let mut message = to_message(&Envelope::infrastructure(context, &event), &mapping, &config.topic_prefix);
	message.topic = topic.into();
	message
}
