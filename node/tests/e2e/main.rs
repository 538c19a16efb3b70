//! The node's end-to-end tests: real `herald-node` processes, real nisshi brokers on 127.0.0.1 and clients the
//! project did not write. One test binary with a module per area, so the harness (`common`) and the runtime's
//! types are compiled and linked once, not once per file (issue 21: 16 binaries cost 228 s of a cold build).
//!
//! Run one area at a time, as `scripts/test.sh` does: `cargo test --test e2e -- ha::` (the filter is the module's
//! path). All of them in one process would start dozens of nodes and brokers at once.

mod common;

mod best_chain;
mod cli;
mod contracts;
mod domain;
mod follow_rpc;
mod ha;
mod hardening;
mod kafka_cursor;
mod kafka_sink;
mod manual_seal;
mod operations;
mod prometheus;
mod readme;
mod runtime_upgrade;
mod secured;
mod sink_guarantees;
