//! # Mapping table
//!
//! How each runtime event (`Pallet.Variant`) becomes an envelope (its `name` and `type`) and a Kafka message (its
//! topic and partition key), and which events are not shipped at all. Runtime developers declare it in TOML
//! (docs/mappings.md).
//!
//! ## Layers
//!
//! The node builds its [`Mappings`] in layers, each laid over the previous ones ([`Mappings::with_override`]):
//! 1. the runtime's table, embedded in the node (node/event-mappings.toml);
//! 2. the operator's file, given with `--kafka-mappings` ([`Mappings::load`]);
//! 3. the flags: `--kafka-skip-unmapped` sets `defaults.skip_unmapped`.
//!
//! A later layer replaces the earlier one's entry for the same event, its exclusions remove the earlier mappings
//! and inclusions they name (an excluded pallet loses all of them), its inclusions undo the earlier exclusions, its
//! `domain_pallets` add to the earlier ones and its `defaults` replace the ones it sets.
//!
//! ## Resolution
//!
//! How an event resolves ([`Mappings::resolve`]), first match wins:
//! 1. a mapping entry `[events."Pallet.Variant"]`: shipped as mapped;
//! 2. the event in `exclude.events`: skipped;
//! 3. the event in `include.events`: shipped with the defaults;
//! 4. the pallet in `exclude.pallets`: skipped;
//! 5. the pallet in `include.pallets`: shipped with the defaults;
//! 6. `defaults.skip_unmapped = true`: skipped;
//! 7. otherwise shipped with the defaults: name `PalletVariant`, type domain, topic `defaults.topic` (`events`),
//!    key the pallet name (so each pallet's events stay in order).
//!
//! ## Guards
//!
//! [`check_completeness`] makes every event of a domain pallet mapped or excluded, and [`check_references`]
//! catches entries naming events or fields the runtime's metadata does not declare.

mod guard;
mod model;
mod parse;

pub use guard::{check_completeness, check_references};
pub use model::{
	EventMapping, EventType, Mappings, PartitionKey, ResolvedMapping, DEFAULT_INFRASTRUCTURE_TOPIC, DEFAULT_TOPIC,
	UNDECODABLE_EVENT_NAME,
};
pub use parse::{MappingError, Problem};

#[cfg(test)]
use serde_json::Value as Json;

#[cfg(test)]
mod tests;
