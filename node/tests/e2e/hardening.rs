//! The core holds under anything: end-to-end tests with a real `herald-node` and a real nisshi broker, with
//! faults injected into the node (`HERALD_TEST_FAULTS`, see `event-sink/src/faults.rs`).
//!
//! - a panic in the sink (on an encode thread, or on the sink's own thread) never stops the node: blocks go on
//!   being made, the sink reports `backing_off` and restarts;
//! - a `kill -9` right after Kafka acknowledged a block that only the write-ahead journal knows, over random
//!   rounds: after the restart a re-org still retracts it (the journal was durable before the first message);
//! - a block whose retraction names more ids than a message may carry is retracted in parts, all applied;
//! - `kafka-cursor set` refuses to drop a journal without `--yes`.

use crate::common;
use std::{
	collections::BTreeSet,
	process::Command,
	time::{Duration, Instant},
};

use crate::common::{
	kafka::{partitions, Broker, Record},
	metric, node_binary, NodeConfig, NodeProcess,
};
use herald_runtime::{RuntimeCall, SystemCall};
use sp_core::H256;
use sp_keyring::Sr25519Keyring::Alice;

const TIMEOUT: Duration = Duration::from_secs(90);

fn sink_node(broker: &Broker, prefix: &str, follow: &str) -> NodeConfig {
	NodeConfig::manual_seal()
		.arg("--kafka-brokers")
		.arg(broker.address.clone())
		.arg("--kafka-topic-prefix")
		.arg(prefix)
		.arg("--kafka-follow")
		.arg(follow)
}

fn name(record: &Record) -> &str {
	record.envelope["name"].as_str().unwrap_or_default()
}

fn block_hash(record: &Record) -> &str {
	record.envelope["meta"]["block"]["hash"].as_str().unwrap_or_default()
}

fn hex(hash: H256) -> String {
	format!("{hash:?}")
}

/// Waits until the node's metric `name` satisfies `done`.
fn wait_metric(node: &NodeProcess, name: &str, done: impl Fn(f64) -> bool) -> f64 {
	let deadline = Instant::now() + TIMEOUT;
	loop {
		if let Some(value) = metric(&node.metrics(), name).filter(|v| done(*v)) {
			return value;
		}
		assert!(Instant::now() < deadline, "{name} never got there:\n{}", node.log_tail(40));
		std::thread::sleep(Duration::from_millis(100));
	}
}

/// The `run_epoch` header of a best-mode message.
fn run_epoch(record: &Record) -> Option<u64> {
	record.header("run_epoch").and_then(|epoch| epoch.parse().ok())
}

/// What a consumer of every partition holds after applying each on its own, in order: ids of live envelopes.
/// A message of a lower run epoch than its partition showed before is a dead run's late one: discarded.
fn live_ids(records: &[Record]) -> BTreeSet<String> {
	let mut live_everywhere = BTreeSet::new();
	for (_, records) in partitions(records) {
		let mut live = BTreeSet::new();
		let mut max_epoch = None;
		for record in records {
			let epoch = run_epoch(record);
			if epoch.is_some() && epoch < max_epoch {
				continue;
			}
			max_epoch = max_epoch.max(epoch);
			if name(record) == "BlockRetracted" {
				for id in record.envelope["data"]["event_ids"].as_array().unwrap() {
					live.remove(id.as_str().unwrap());
				}
			} else {
				live.insert(record.envelope["meta"]["id"].as_str().unwrap().to_string());
			}
		}
		live_everywhere.extend(live);
	}
	live_everywhere
}

#[test]
fn a_panic_in_the_sink_never_stops_the_node() {
	let broker = Broker::start();
	for (fault, why) in
		[("encode-panic@2", "making a block's messages panicked"), ("worker-panic@2", "shipping loop panicked")]
	{
		let prefix = fault.replace(['@', '-'], "");
		let node = NodeProcess::start(sink_node(&broker, &prefix, "finalized").env("HERALD_TEST_FAULTS", fault));
		for _ in 0..3 {
			node.seal_block(true, None);
		}
		// The sink panics on block 2, recovers into a backoff and restarts (and panics again, as the fault stays).
		wait_metric(&node, "herald_kafka_sink_restarts_total", |restarts| restarts >= 1.0);
		let exposition = node.metrics();
		assert_eq!(metric(&exposition, "herald_kafka_sink_up"), Some(0.0), "{fault}: the sink is down");
		assert!(node.log().contains(why), "{fault}: the panic is reported:\n{}", node.log_tail(40));
		// The node goes on: it still makes and imports blocks, and answers RPC.
		let before = node.block_number(node.best_hash());
		let sealed = node.seal_block(true, None);
		assert_eq!(node.block_number(sealed), before + 1, "{fault}: the node still makes blocks");
		assert_eq!(node.wait_exit(Duration::from_millis(500)), None, "{fault}: the node is still running");
		// Block 1 went out before the fault; block 2 never does.
		let records = broker.consume_until(&prefix, TIMEOUT, |records| {
			records.iter().any(|r| name(r) == "BlockFinalized" && r.envelope["meta"]["block"]["number"] == 1)
		});
		assert!(
			records.iter().all(|r| r.envelope["meta"]["block"]["number"].as_u64() != Some(2)),
			"{fault}: nothing of the faulty block ships"
		);
		node.stop();
	}
}

/// Seeded rounds: a best-mode node ships a branch of 1–3 blocks and is killed (SIGKILL, by its own fault hook) as
/// soon as Kafka acknowledged a message of a random one of them; restarted without the fault, it must retract
/// every block of that branch once a longer fork takes over. `HERALD_CRASH_ROUNDS` sets the number of rounds
/// (default 5, about 3 minutes; hundreds for a soak run).
#[test]
fn a_kill_right_after_kafka_acknowledged_a_block_still_retracts_it_after_a_reorg() {
	let broker = Broker::start();
	let rounds: u64 = std::env::var("HERALD_CRASH_ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(5);
	let mut seed: u64 = std::env::var("HERALD_CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed);
	let mut random = move |below: u64| {
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		seed % below
	};
	for round in 0..rounds {
		let prefix = format!("crash{round}");
		let base = tempfile::tempdir().unwrap();
		let branch = 1 + random(3);
		let killed_at = 1 + random(branch);
		let config = sink_node(&broker, &prefix, "best").base_path(base.path());
		let node = NodeProcess::start(
			sink_node(&broker, &prefix, "best")
				.base_path(base.path())
				.env("HERALD_TEST_FAULTS", format!("kill-after-ack@{killed_at}")),
		);
		let mut shipped = Vec::new();
		for _ in 0..branch {
			// The node may die while sealing the branch's later blocks: those never reached Kafka.
			match node.try_rpc("engine_createBlock", serde_json::json!([true, false, null])) {
				Ok(created) => shipped.push(common::parse_hash(&created["hash"])),
				Err(_) => break,
			}
		}
		let status = node.wait_exit(TIMEOUT).unwrap_or_else(|| {
			panic!("round {round}: the fault kill-after-ack@{killed_at} never fired:\n{}", node.log_tail(40))
		});
		assert!(!status.success(), "round {round}: killed");
		drop(node);

		// Restarted without the fault: a longer fork from genesis takes over.
		let node = NodeProcess::start(config);
		let mut parent = Some(node.genesis_hash());
		let mut fork = Vec::new();
		for _ in 0..=branch {
			let hash = node.seal_block(false, parent);
			fork.push(hash);
			parent = Some(hash);
		}
		let genesis_branch: BTreeSet<String> = shipped.iter().map(|h| hex(*h)).collect();
		let fork_tip = hex(*fork.last().unwrap());
		let records = broker.consume_until(&prefix, TIMEOUT, |records| {
			records.iter().any(|r| name(r) == "BlockCreated" && block_hash(r) == fork_tip)
		});
		// Every block of the dead branch that reached Kafka is retracted in the blocks partition.
		let reached: BTreeSet<&str> =
			records.iter().filter(|r| genesis_branch.contains(block_hash(r))).map(block_hash).collect();
		assert!(
			reached.iter().any(|h| *h == hex(shipped[killed_at as usize - 1])),
			"round {round}: the block reached Kafka"
		);
		// Each process's run took a higher epoch than the one before, and every best-mode message carries its own.
		assert!(records.iter().all(|r| run_epoch(r).is_some()), "round {round}: a message without run_epoch");
		// Two processes, two runs: the restarted one's epoch is the higher, and its retractions carry it.
		let epochs: BTreeSet<u64> = records.iter().filter_map(run_epoch).collect();
		assert_eq!(epochs.len(), 2, "round {round}: one run epoch per process: {epochs:?}");
		let restarted = epochs.last().copied();
		assert!(
			records.iter().filter(|r| name(r) == "BlockRetracted").all(|r| run_epoch(r) == restarted),
			"round {round}: the retractions carry the restarted run's (higher) epoch"
		);
		for hash in &reached {
			assert!(
				records.iter().any(|r| name(r) == "BlockRetracted" && block_hash(r) == *hash),
				"round {round} (branch of {branch}, killed at #{killed_at}): block {hash} reached Kafka and was never \
				 retracted:\n{}",
				node.log_tail(40)
			);
		}
		let live = live_ids(&records);
		assert!(
			live.iter().all(|id| !genesis_branch.iter().any(|hash| id.starts_with(hash.as_str()))),
			"round {round}: a phantom of the dead branch is live"
		);
		node.stop();
	}
}

#[test]
fn a_retraction_larger_than_a_message_is_split_into_parts_that_cancel_everything() {
	let broker = Broker::start();
	// A small message size, so that a block of a few hundred events can't be retracted in one message.
	let node = NodeProcess::start(
		sink_node(&broker, "parts", "best")
			.arg("--kafka-config")
			.arg("message.max.bytes=10000")
			.arg("--kafka-topic-partitions")
			.arg("1"),
	);
	for i in 0..60u32 {
		node.submit(Alice, RuntimeCall::System(SystemCall::remark_with_event { remark: i.to_le_bytes().to_vec() }));
	}
	let full = node.seal_block(false, None);
	let events = node.events(full).len();
	assert!(events > 200, "a block of {events} events");
	// The fork: two empty blocks on genesis.
	let b1 = node.seal_block(false, Some(node.genesis_hash()));
	let b2 = node.seal_block(false, Some(b1));
	let records = broker.consume_until("parts", TIMEOUT, |records| {
		records.iter().any(|r| name(r) == "BlockCreated" && block_hash(r) == hex(b2))
	});
	let parts: Vec<&Record> = records
		.iter()
		.filter(|r| name(r) == "BlockRetracted" && block_hash(r) == hex(full) && r.topic == "parts.blocks")
		.collect();
	assert!(parts.len() > 1, "the blocks partition's retraction is split: {} parts", parts.len());
	for (n, part) in parts.iter().enumerate() {
		assert_eq!(part.envelope["data"]["part"], n as u64 + 1, "parts in order");
		assert_eq!(part.envelope["data"]["parts"], parts.len() as u64);
		assert!(part.payload.len() <= 10_000, "a part of {} bytes", part.payload.len());
	}
	let shipped: BTreeSet<String> = records
		.iter()
		.filter(|r| block_hash(r) == hex(full) && name(r) != "BlockRetracted")
		.map(|r| r.envelope["meta"]["id"].as_str().unwrap().to_string())
		.collect();
	let cancelled: BTreeSet<String> = parts
		.iter()
		.flat_map(|p| p.envelope["data"]["event_ids"].as_array().unwrap().iter())
		.map(|id| id.as_str().unwrap().to_string())
		.collect();
	assert!(shipped.len() > events, "every event and BlockCreated shipped");
	assert_eq!(cancelled, shipped, "the parts together name every id of the block");
	assert!(live_ids(&records).iter().all(|id| !id.starts_with(&hex(full))), "nothing of the block stays live");
	assert_eq!(metric(&node.metrics(), "herald_kafka_sink_up"), Some(1.0), "the sink ships on");
}

#[test]
fn kafka_cursor_set_needs_yes_to_drop_a_journal() {
	let broker = Broker::start();
	let base = tempfile::tempdir().unwrap();
	let node = NodeProcess::start(sink_node(&broker, "yes", "best").base_path(base.path()));
	let block = node.seal_block(false, None);
	broker.consume_until("yes", TIMEOUT, |records| {
		records.iter().any(|r| name(r) == "BlockCreated" && block_hash(r) == hex(block))
	});
	node.stop();
	let cursor = |extra: &[&str]| {
		let output = Command::new(node_binary())
			.args(["kafka-cursor", "set", "0", "--dev", "--base-path"])
			.arg(base.path())
			.args(extra)
			.output()
			.unwrap();
		(
			output.status.success(),
			String::from_utf8_lossy(&output.stderr).into_owned() + &String::from_utf8_lossy(&output.stdout),
		)
	};
	let (ok, text) = cursor(&[]);
	assert!(
		!ok && text.contains("--yes") && text.contains("#1"),
		"refused, naming the journal's block and --yes: {text}"
	);
	let (ok, text) = cursor(&["--yes"]);
	assert!(ok && text.contains("dropped the journal"), "{text}");
}
