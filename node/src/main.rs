//! Herald node: a Substrate node that ships its chain's runtime events to Kafka.

#![warn(missing_docs)]

mod allocator;
mod benchmarking;
mod chain_spec;
mod cli;
mod command;
mod dev_seal;
mod event_sink;
mod export_contracts;
mod follow_rpc;
mod kafka_cursor;
mod kafka_security;
mod rpc;
mod service;

fn main() {
	// Errors are printed as one readable line (not `Debug`), and the exit code is non-zero.
	if let Err(error) = command::run() {
		eprintln!("Error: {error}");
		std::process::exit(1);
	}
}
