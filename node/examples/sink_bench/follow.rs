//! `bench.sh follow [SUBSCRIBERS] [BLOCKS] [TRANSFERS]`: the `herald_v1_follow` subscription's figures, with the
//! tests' Python client (tools/python/follow_client.py, `websockets`) as the subscribers:
//! - replay to one subscriber: envelopes/s from the database;
//! - live to SUBSCRIBERS subscribers: envelopes/s delivered in total while blocks are sealed back to back;
//! - import → notification latency of one live subscriber, p50/p99 (one block a second);
//! - the Kafka output of a node serving the subscription, with SUBSCRIBERS live subscribers attached against none,
//!   while a quarter of BLOCKS are sealed back to back: messages/s, send -> ack, last seal -> its acknowledgement.

use std::{
	io::{BufRead, BufReader},
	process::{Command, Stdio},
	time::{Duration, Instant},
};

use crate::common::{metric, NodeConfig, NodeProcess};

fn python() -> String {
	format!("{}/bin/python", std::env::var("HERALD_VENV").unwrap_or_else(|_| "/var/tmp/herald-venv".into()))
}

fn client() -> String {
	format!("{}/../tools/python/follow_client.py", env!("CARGO_MANIFEST_DIR"))
}

fn url(node: &NodeProcess) -> String {
	format!("ws://127.0.0.1:{}", node.rpc_port)
}

pub fn follow(subscribers: u32, blocks: u32, transfers: u32) {
	let node = NodeProcess::start(
		NodeConfig::manual_seal().arg("--herald-follow-rpc").arg("--state-pruning").arg("archive-canonical"),
	);
	eprintln!("filling {blocks} blocks with {transfers} transfers each...");
	crate::fill_blocks(&node, blocks, transfers);

	// Replay to one subscriber.
	let started = Instant::now();
	let output = Command::new(python())
		.args([client().as_str(), "follow", &url(&node), r#"{"from":{"block":1}}"#, "--until", "caughtUp"])
		.output()
		.expect("the Python client runs (scripts/setup.sh)");
	let took = started.elapsed();
	let envelopes =
		String::from_utf8_lossy(&output.stdout).lines().filter(|l| l.contains(r#""event": "envelope""#)).count();
	println!(
		"replay to 1 subscriber: {envelopes} envelopes of {blocks} blocks in {:.2} s: {:.0} envelopes/s (client: Python websockets, JSON-decoding each)",
		took.as_secs_f64(),
		envelopes as f64 / took.as_secs_f64()
	);

	// Live to SUBSCRIBERS subscribers (10 per connection), blocks sealed back to back.
	let connections = subscribers.div_ceil(10).max(1);
	let last = node.finalized_number() as u64 + blocks as u64 / 4;
	let mut many = Command::new(python())
		.args([client().as_str(), "many", &url(&node), "--connections", &connections.to_string(), "--per"])
		.arg(subscribers.min(10).to_string())
		.args(["--silent", "0", "--until-block", &last.to_string()])
		.stdout(Stdio::piped())
		.spawn()
		.expect("the Python client runs");
	let mut lines = BufReader::new(many.stdout.take().unwrap()).lines();
	while let Some(Ok(line)) = lines.next() {
		if line.contains(r#""subscribed""#) {
			break;
		}
	}
	let started = Instant::now();
	crate::fill_blocks(&node, blocks / 4, transfers);
	let summary = lines.map_while(Result::ok).find(|l| l.contains("summary")).unwrap_or_default();
	let took = started.elapsed();
	let _ = many.wait();
	let summary: serde_json::Value = serde_json::from_str(&summary).unwrap_or_default();
	let total: u64 =
		summary["readers"].as_array().map_or(0, |r| r.iter().map(|r| r["count"].as_u64().unwrap_or(0)).sum());
	println!(
		"live to {} subscribers: {total} envelopes delivered in {:.2} s (sealing {} blocks included): {:.0} envelopes/s",
		connections * subscribers.min(10),
		took.as_secs_f64(),
		blocks / 4,
		total as f64 / took.as_secs_f64()
	);

	// Latency, one live subscriber.
	let mut one = Command::new(python())
		.args([client().as_str(), "follow", &url(&node), "{}"])
		.stdout(Stdio::piped())
		.spawn()
		.expect("the Python client runs");
	let mut lines = BufReader::new(one.stdout.take().unwrap()).lines();
	let _ = lines.next();
	let mut samples = Vec::new();
	for _ in 0..30 {
		let tick = Instant::now();
		crate::submit_transfers(&node, &mut vec![0; 4], transfers);
		std::thread::sleep(Duration::from_millis(50));
		let hash = node.seal_block(true, None);
		let sealed = Instant::now();
		let id = format!("{hash:?}:BlockCreated");
		for line in lines.by_ref().map_while(Result::ok) {
			if line.contains(&id) {
				break;
			}
		}
		samples.push(sealed.elapsed());
		std::thread::sleep(Duration::from_secs(1).saturating_sub(tick.elapsed()));
	}
	let _ = one.kill();
	samples.sort();
	let at = |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
	println!(
		"import -> BlockCreated notification, finalized mode, 30 blocks at 1/s: p50 {:.1} ms, p99 {:.1} ms",
		at(0.5).as_secs_f64() * 1e3,
		at(0.99).as_secs_f64() * 1e3
	);
	let sent = metric(&node.metrics(), "herald_follow_envelopes_sent_total").unwrap_or(0.0);
	println!("herald_follow_envelopes_sent_total {sent}");
	drop(node);

	for attached in [0, subscribers] {
		kafka_beside(attached, blocks / 4, transfers);
	}
}

/// The Kafka output of a node that also serves `herald_v1_follow`, with `attached` live subscribers (10 per
/// connection, every one reading) or none, while `blocks` blocks are sealed back to back: Kafka's messages/s over
/// the window (first seal to the last block's acknowledgement), its mean send → ack time, and how long after the
/// last seal Kafka acknowledged the last block. The subscribers' Python clients share the machine's cores.
fn kafka_beside(attached: u32, blocks: u32, transfers: u32) {
	let broker = crate::common::kafka::Broker::start();
	let node = NodeProcess::start(
		NodeConfig::manual_seal().arg("--herald-follow-rpc").arg("--kafka-brokers").arg(broker.address.clone()),
	);
	let last = node.finalized_number() as u64 + blocks as u64;
	let mut many = (attached > 0).then(|| {
		let mut many = Command::new(python())
			.args([client().as_str(), "many", &url(&node), "--connections", &attached.div_ceil(10).to_string()])
			.args(["--per", &attached.min(10).to_string(), "--silent", "0", "--until-block", &last.to_string()])
			.stdout(Stdio::piped())
			.spawn()
			.expect("the Python client runs");
		let mut lines = BufReader::new(many.stdout.take().unwrap()).lines();
		while let Some(Ok(line)) = lines.next() {
			if line.contains(r#""subscribed""#) {
				break;
			}
		}
		// Keep reading its output, so that it never blocks on a full pipe.
		std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
		many
	});
	let at = |name: &str| metric(&node.metrics(), name).unwrap_or(0.0);
	let (messages, latency_sum, latency_count) = (
		at("herald_kafka_messages_total"),
		at("herald_kafka_delivery_latency_seconds_sum"),
		at("herald_kafka_delivery_latency_seconds_count"),
	);
	let started = Instant::now();
	crate::fill_blocks(&node, blocks, transfers);
	let sealed = Instant::now();
	while at("herald_kafka_last_shipped_block_number") < last as f64 {
		assert!(sealed.elapsed() < Duration::from_secs(120), "block {last} not acknowledged by Kafka within 120 s");
		std::thread::sleep(Duration::from_millis(5));
	}
	let window = started.elapsed().as_secs_f64();
	let drained = sealed.elapsed();
	let shipped = at("herald_kafka_messages_total") - messages;
	let latency = (at("herald_kafka_delivery_latency_seconds_sum") - latency_sum)
		/ (at("herald_kafka_delivery_latency_seconds_count") - latency_count).max(1.0);
	println!(
		"Kafka output with {attached} subscribers attached: {shipped:.0} messages of {blocks} blocks in {window:.2} s \
		 ({:.0} msg/s, bound by sealing), mean send -> ack {:.1} ms, last block acknowledged {:.1} ms after its seal",
		shipped / window,
		latency * 1e3,
		drained.as_secs_f64() * 1e3
	);
	if let Some(mut many) = many.take() {
		let _ = many.kill();
		let _ = many.wait();
	}
}
