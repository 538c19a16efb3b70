//! # Herald event sink
//!
//! Ships a Substrate chain's runtime events to Kafka from inside the node. For each block the sink reads the raw
//! `System::Events` value, decodes every event record with the metadata of the block's runtime (no compiled-in
//! knowledge of the runtime's types), turns each event into a JSON envelope named, typed and routed by a
//! declarative mapping table, and hands the resulting messages to a Kafka producer.
//!
//! This crate's runtime-agnostic core:
//!
//! - [`decode`]: [`EventDecoder`](decode::EventDecoder), metadata (V14–V16) → decoded event records, never
//!   failing a block as a whole (an undecodable remainder is returned as such);
//! - [`json`]: the JSON conventions of event data (big integers as strings, bytes as `0x` hex, enums);
//! - [`metadata`]: reading runtime metadata into the type registry and pallet list the decoder needs;
//! - [`mapping`]: the mapping table (TOML) — envelope names, types, topics, partition keys, exclusions — and the
//!   completeness guard that makes runtime developers map every event of a domain pallet;
//! - [`envelope`]: the envelope v1 (docs/envelope.md, docs/envelope.schema.json), its builders and its Kafka
//!   message (topic, key, payload, headers);
//! - [`storage`]: the storage keys of `System::Events` and `Timestamp::Now`, and the timestamp's decoding.
//!
//! Typical use per block: `decoder.decode_events(value)`; for each event `mappings.resolve(pallet, variant)`
//! (skip on `None`), `Envelope::event(&block, &event, &mapping)`, `to_message(&envelope, &mapping, prefix)`.

pub mod assemble;
pub mod config;
pub mod cursor;
pub mod decode;
pub mod envelope;
pub mod error;
pub mod json;
pub mod mapping;
pub mod metadata;
pub mod metrics;
pub mod producer;
pub mod source;
pub mod storage;
pub mod worker;
