//! Micro-benchmark of the block-to-messages path alone: decoding a block's `System::Events` with the runtime's
//! metadata and writing every message (envelope JSON, id, key, headers), on one thread, with no node and no
//! broker, so that a regression in Herald's own per-event cost shows by itself.
//!
//! ```sh
//! source scripts/common.sh; herald_cargo bench --bench block_to_messages
//! ```
//!
//! Without `--bench` (as `cargo test --benches` runs it) it makes each block once and checks the messages: a
//! smoke test that keeps the benchmark compiling and honest.

use std::{
	hint::black_box,
	time::{Duration, Instant},
};

use codec::Encode;
use frame_system::{EventRecord, Phase};
use herald_event_sink::{
	block::decode::{DecodedEvents, EventDecoder},
	envelope::{
		assemble::{BlockData, Routing},
		route::{InfrastructureRoutes, RuntimeRoutes},
		OutgoingMessage,
	},
	kafka::request::block_messages,
	mapping::Mappings,
};
use herald_runtime::{Runtime, RuntimeEvent};
use sp_core::{crypto::AccountId32, H256};

const NODE_TABLE: &str = include_str!("../../node/event-mappings.toml");

/// A block like the catch-up benchmark's: the timestamp inherent, then `transfers` balance transfers with the
/// events FRAME deposits for each (fee withdrawn, transfer, fee deposited, extrinsic success).
fn block_events(transfers: u32) -> Vec<u8> {
	let account = |byte: u8| AccountId32::new([byte; 32]);
	let record = |phase, event| EventRecord::<RuntimeEvent, H256> { phase, event, topics: Vec::new() };
	let success = || {
		RuntimeEvent::System(frame_system::Event::ExtrinsicSuccess {
			dispatch_info: frame_system::DispatchEventInfo {
				weight: frame_support::weights::Weight::from_parts(123_456_789, 3_593),
				class: frame_support::dispatch::DispatchClass::Normal,
				pays_fee: frame_support::dispatch::Pays::Yes,
			},
		})
	};
	let mut records = vec![record(Phase::ApplyExtrinsic(0), success())];
	for i in 0..transfers {
		let phase = || Phase::ApplyExtrinsic(i + 1);
		let (from, to) = (account(1 + (i % 4) as u8), account(5));
		records.extend([
			record(
				phase(),
				RuntimeEvent::Balances(pallet_balances::Event::Withdraw { who: from.clone(), amount: 1_234_567 }),
			),
			record(
				phase(),
				RuntimeEvent::Balances(pallet_balances::Event::Transfer {
					from: from.clone(),
					to,
					amount: 1_000_000_000 + i as u128,
				}),
			),
			record(phase(), RuntimeEvent::Balances(pallet_balances::Event::Deposit { who: from, amount: 1_234 })),
			record(phase(), success()),
		]);
	}
	records.encode()
}

struct Setup {
	decoder: EventDecoder,
	mappings: Mappings,
	routes: RuntimeRoutes,
	infrastructure: InfrastructureRoutes,
}

impl Setup {
	fn new() -> Setup {
		let metadata = Runtime::metadata_at_version(15).expect("the runtime offers metadata v15").to_vec();
		let decoder = EventDecoder::new(&metadata).expect("usable metadata");
		let mappings = Mappings::from_toml(NODE_TABLE, "node/event-mappings.toml").expect("the node's table loads");
		let routes = RuntimeRoutes::new(&decoder, &mappings);
		let infrastructure = InfrastructureRoutes::new(&mappings);
		Setup { decoder, mappings, routes, infrastructure }
	}

	/// What the sink does with one block read from the database.
	fn messages(&self, raw_events: &[u8], number: u64) -> (DecodedEvents, Vec<(OutgoingMessage, bool)>) {
		let events = self.decoder.decode_events(raw_events);
		let block = BlockData {
			chain: "0x1111111111111111111111111111111111111111111111111111111111111111",
			number,
			hash: format!("0x{number:064x}"),
			parent_hash: format!("0x{:064x}", number.saturating_sub(1)),
			spec_version: 100,
			previous_spec_version: Some(100),
			runtime_changes: None,
			timestamp: Some(1_700_000_000_000 + number * 6_000),
			extrinsics_count: events.extrinsics_count(),
			finalized: true,
			events: &events,
		};
		let routing = Routing { events: &self.routes, infrastructure: &self.infrastructure, mappings: &self.mappings };
		let messages = block_messages(&block, &routing, "herald");
		(events, messages)
	}
}

/// Median time to make one block's messages, over rounds of about `round` each.
fn measure(setup: &Setup, raw: &[u8], round: Duration) -> Duration {
	let mut per_block = Vec::new();
	for _ in 0..7 {
		let (started, mut blocks) = (Instant::now(), 0u64);
		while started.elapsed() < round {
			black_box(setup.messages(black_box(raw), blocks));
			blocks += 1;
		}
		per_block.push(started.elapsed() / blocks as u32);
	}
	per_block.sort();
	per_block[per_block.len() / 2]
}

fn main() {
	let full = std::env::args().any(|arg| arg == "--bench");
	let setup = Setup::new();
	println!("block to messages, one thread, no broker (median of 7 rounds):");
	for transfers in [0, 50] {
		let raw = block_events(transfers);
		let (events, messages) = setup.messages(&raw, 1);
		let records = 1 + 4 * transfers as usize;
		// BlockCreated, every event, BlockFinalized.
		assert_eq!((events.events.len(), messages.len()), (records, records + 2), "{transfers} transfers");
		assert!(events.undecodable.is_none());
		assert_eq!(events.extrinsics_count(), Some(1 + transfers));
		let payload: serde_json::Value = serde_json::from_slice(&messages[2].0.payload).expect("JSON");
		assert_eq!(payload["meta"]["block"]["number"], 1);
		if !full {
			println!(
				"  {transfers:>2} transfers: {} messages made and checked (run with --bench to measure)",
				messages.len()
			);
			continue;
		}
		let per_block = measure(&setup, &raw, Duration::from_millis(300));
		let bytes: usize = messages.iter().map(|(message, _)| message.payload.len()).sum();
		let per_message = per_block / messages.len() as u32;
		println!(
			"  {transfers:>2} transfers ({} events, {} messages, {} KB): {:>8.1} µs per block, {:>6} ns per message, \
			 {:>9.0} messages/s, {:>6.1} MB/s",
			records,
			messages.len(),
			bytes / 1000,
			per_block.as_secs_f64() * 1e6,
			per_message.as_nanos(),
			1.0 / per_message.as_secs_f64(),
			bytes as f64 / per_block.as_secs_f64() / 1e6,
		);
	}
}
