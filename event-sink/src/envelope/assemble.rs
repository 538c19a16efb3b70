//! The messages of a block, pure JSON (no Kafka): the ones that ship it, in order (`BlockCreated`,
//! `RuntimeUpgraded` when the runtime changed, every mapped event, the undecodable remainder if any, and
//! `BlockFinalized` when it is final), the later `BlockFinalized` of a block shipped before it was final, and the
//! `BlockRetracted` of a block a re-org took back.

use crate::{
	block::decode::DecodedEvents,
	config::SinkConfig,
	envelope::{to_message, BlockContext, Envelope, InfrastructureEvent, OutgoingMessage},
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
	/// The block's `pallet_timestamp::Now`, in ms.
	pub timestamp: Option<u64>,
	/// `None` when the body was pruned.
	pub extrinsics_count: Option<u32>,
	pub finalized: bool,
	pub events: &'a DecodedEvents,
}

/// The block's messages, each flagged `true` when it carries a runtime event.
pub fn block_messages(block: &BlockData<'_>, config: &SinkConfig) -> Vec<(OutgoingMessage, bool)> {
	let context = BlockContext {
		chain: block.chain.to_string(),
		number: block.number,
		hash: block.hash.clone(),
		parent_hash: block.parent_hash.clone(),
		spec_version: block.spec_version,
		timestamp: block.timestamp,
		finalized: block.finalized,
	};
	let mappings = &config.mappings;
	let prefix = config.topic_prefix.as_str();
	let infrastructure = |event: InfrastructureEvent| {
		let mapping = mappings.infrastructure(event.name());
		(to_message(&Envelope::infrastructure(&context, &event), &mapping, prefix), false)
	};

	let events = block.events;
	let event_count = events.record_count.unwrap_or(events.events.len() as u32);
	let mut messages = Vec::with_capacity(events.events.len() + 3);
	messages.push(infrastructure(InfrastructureEvent::BlockCreated {
		event_count,
		extrinsics_count: block.extrinsics_count.unwrap_or_default(),
	}));
	if let Some(from) = block.previous_spec_version.filter(|from| *from != block.spec_version) {
		messages.push(infrastructure(InfrastructureEvent::RuntimeUpgraded { from, to: block.spec_version }));
	}
	for event in &events.events {
		if let Some(mapping) = mappings.resolve(&event.pallet, &event.variant) {
			messages.push((to_message(&Envelope::event(&context, event, &mapping), &mapping, prefix), true));
		}
	}
	if let Some(remainder) = &events.undecodable {
		log::warn!(
			target: "herald::kafka",
			"block #{}: events from index {} could not be decoded ({}); shipped raw",
			block.number,
			remainder.index,
			remainder.error
		);
		let mapping = mappings.resolve_undecodable(remainder.pallet.as_deref(), remainder.variant.as_deref());
		messages.push((to_message(&Envelope::undecodable(&context, remainder, &mapping), &mapping, prefix), true));
	}
	if block.finalized {
		messages.push(infrastructure(InfrastructureEvent::BlockFinalized));
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

/// `BlockRetracted` of a retracted block for one topic: `event_ids` are the full ids it cancels there. The
/// caller sends it to the partition those messages went to.
pub fn retraction_message(
	context: &BlockContext,
	config: &SinkConfig,
	topic: &str,
	event_ids: Vec<String>,
) -> OutgoingMessage {
	let event = InfrastructureEvent::BlockRetracted { event_ids };
	let mapping = config.mappings.infrastructure(event.name());
	let mut message = to_message(&Envelope::infrastructure(context, &event), &mapping, &config.topic_prefix);
	message.topic = topic.to_string();
	message
}
