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
//! 3. [`envelope`]: the JSON envelope `{name, type, data, meta}` and the messages of a block (pure JSON, no
//!    Kafka), including the infrastructure envelopes (`BlockCreated`, `BlockFinalized`, `BlockRetracted`, …).
//! 4. [`mapping`]: the mapping table (name, type, topic, key per event) and its guards.
//! 5. [`kafka`]: librdkafka configuration, partitioning, the producer, topic administration and metrics.
//! 6. [`store`]: the cursor and the journal of shipped-but-unfinalized blocks, in the node's own database.
//!
//! [`worker`] runs the pipeline: it asks the follower for actions, turns them into messages (the costly part in
//! parallel, on the [`encode_pool`]), produces them in chain order and persists the cursor and journal only after
//! Kafka acknowledged them.

pub mod block;
pub mod config;
pub mod contract;
pub mod encode_pool;
pub mod envelope;
pub mod error;
pub mod faults;
pub mod follow;
pub mod kafka;
pub mod mapping;
pub mod panic;
pub mod progress;
pub mod status;
pub mod store;
pub mod stream;
pub mod subscribe;
pub mod worker;
