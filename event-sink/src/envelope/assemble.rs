//! The envelopes of a block, pure JSON (no Kafka): the ones that ship it, in order (`BlockCreated`,
//! `RuntimeUpgraded` when the runtime changed, every mapped event, the undecodable remainder if any, and
//! `BlockFinalized` when it is final), the later `BlockFinalized` of a block shipped before it was final, and the
//! `BlockRetracted` of a block a re-org took back.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::{
	block::decode::DecodedEvents,
	envelope::{
		infrastructure_id,
		route::{InfrastructureRoutes, Route, RuntimeRoutes},
		write::{write_envelope, BlockFrame, EventMeta, Head},
		BlockContext, Envelope, InfrastructureEvent,
	},
	mapping::{EventType, Mappings},
	stream::{BlockEnvelope, CommittedBlock, Origin},
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

/// How a block's envelopes are named, typed and routed: everything resolved before the block is read.
#[derive(Clone, Copy)]
pub struct Routing<'a> {
	/// The routes of the runtime that executed the block.
	pub events: &'a RuntimeRoutes,
	/// The routes of the sink's own envelopes.
	pub infrastructure: &'a InfrastructureRoutes,
	/// For an undecodable remainder, resolved when one is met.
	pub mappings: &'a Mappings,
}

/// The block's envelopes, in order, written once for every output.
pub fn block_envelopes(block: &BlockData<'_>, routing: &Routing<'_>) -> CommittedBlock {
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
	let infrastructure =
		|route: &Arc<Route>, event: InfrastructureEvent| infrastructure_envelope(&context.hash, &frame, route, &event);

	let events = block.events;
	let event_count = events.record_count.unwrap_or(events.events.len() as u32);
	let mut envelopes = Vec::with_capacity(events.events.len() + 3);
	envelopes.push(infrastructure(
		&routing.infrastructure.block_created,
		InfrastructureEvent::BlockCreated { event_count, extrinsics_count: block.extrinsics_count.unwrap_or_default() },
	));
	if let Some(from) = block.previous_spec_version.filter(|from| *from != block.spec_version) {
		envelopes.push(infrastructure(
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
		let (json, data) = write_envelope(head, &frame, &meta);
		envelopes.push(BlockEnvelope {
			id,
			route: route.clone(),
			json: json.into(),
			data,
			origin: Origin::Event { index: event.index, pallet: event.pallet.clone(), variant: event.variant.clone() },
		});
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
		let (json, data) = envelope.write();
		envelopes.push(BlockEnvelope {
			id: envelope.meta.id,
			route: Arc::new(Route::new(&mapping)),
			json: json.into(),
			data,
			origin: Origin::Undecodable {
				index: remainder.index,
				pallet: remainder.pallet.as_deref().map(Into::into),
				variant: remainder.variant.as_deref().map(Into::into),
			},
		});
	}
	if block.finalized {
		envelopes.push(infrastructure(&routing.infrastructure.block_finalized, InfrastructureEvent::BlockFinalized));
	}
	CommittedBlock { block_hash: frame.hash.clone(), context, envelopes }
}

/// An infrastructure envelope of the block whose frame is `frame`.
fn infrastructure_envelope(
	hash: &str,
	frame: &BlockFrame,
	route: &Arc<Route>,
	event: &InfrastructureEvent,
) -> BlockEnvelope {
	let data = event.data().to_string();
	let id = infrastructure_id(hash, event.name());
	let head = Head { name: event.name(), event_type: EventType::Infrastructure, data: &data, id: &id };
	let (json, data) = write_envelope(head, frame, &EventMeta::default());
	BlockEnvelope { id, route: route.clone(), json: json.into(), data, origin: Origin::Block }
}

/// `BlockFinalized` of a block committed before it was final (`context.finalized` must be `true`).
pub fn finalized_envelope(context: &BlockContext, routes: &InfrastructureRoutes) -> BlockEnvelope {
	let frame = BlockFrame::new(context);
	infrastructure_envelope(&context.hash, &frame, &routes.block_finalized, &InfrastructureEvent::BlockFinalized)
}

/// `BlockRetracted` of a retracted block: `event_ids` are the full ids it cancels (`part`: which part of a split
/// retraction, see [`InfrastructureEvent::BlockRetracted`]).
pub fn retraction_envelope(
	context: &BlockContext,
	routes: &InfrastructureRoutes,
	event_ids: Vec<String>,
	part: Option<(u32, u32)>,
) -> BlockEnvelope {
	let frame = BlockFrame::new(context);
	let event = InfrastructureEvent::BlockRetracted { event_ids, part };
	infrastructure_envelope(&context.hash, &frame, &routes.block_retracted, &event)
}
