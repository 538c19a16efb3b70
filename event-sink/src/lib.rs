//! # Herald event sink
//!
//! Ships a Substrate chain's runtime events to Kafka from inside the node. The crate is laid out as its
//! pipeline, one stage per module:
//!
//! 1. [`follow`]: following the chain. The client's notifications only wake the sink; a pure state machine
//!    ([`follow::Follower`]) compares what was shipped (the journal) with the node's best and finalized chains
//!    and decides what to ship, retract and finalize next.
//! 2. [`block`]: reading one block from the node's database: its `System::Events`, its timestamp, and the
//!    decoder of the runtime that executed it (metadata-driven SCALE decoding).
//! 3. [`envelope`]: the JSON envelope `{name, type, data, meta}` of every event and of the infrastructure
//!    envelopes (`BlockCreated`, `BlockFinalized`, `BlockRetracted`, …), written once.
//! 4. [`stream`]: the typed stream every output consumes: a block committed with its envelopes, retracted,
//!    finalized. No topic, partition or header.
//! 5. [`mapping`]: the mapping table (name, type, topic, key per event) and its guards.
//! 6. [`output`]: the output interface ([`output::Build`] turns notifications into batches, [`output::Output`]
//!    sends them and reports acknowledgements) and the generic [`output::driver`] that runs one: plan, read,
//!    write-ahead, send in order, complete on acknowledgements, restart on failures.
//! 7. [`kafka`]: the Kafka output: request builder ([`kafka::request`]), [`kafka::output::KafkaOutput`],
//!    librdkafka configuration, partitioning, the producer, topic administration and metrics.
//! 8. [`subscribe`]: the `herald_v1_follow` JSON-RPC output's core (feeds, sessions, filters), without jsonrpsee.
//! 9. [`store`]: the cursor and the journal of shipped-but-unfinalized blocks, in synced files of the sink's
//!    own; [`store::Journal`] is their one owner while the sink runs.
//!
//! [`worker`] is the Kafka sink as the node runs it: the driver with the Kafka output. The costly part (writing
//! envelopes and building requests) runs in parallel on the [`encode_pool`].

pub mod block;
pub mod config;
pub mod contract;
pub mod encode_pool;
pub mod envelope;
pub mod error;
pub mod faults;
pub mod follow;
pub mod ha;
pub mod kafka;
pub mod mapping;
pub mod output;
pub mod panic;
pub mod progress;
pub mod status;
pub mod store;
pub mod stream;
pub mod subscribe;
pub mod worker;
