//! End-to-end tests of the event sink: a real `herald-node` (manual seal, finalizing) producing to a real nisshi
//! broker on 127.0.0.1, read back by a real Kafka consumer.

use crate::common;
use std::{
	collections::{BTreeMap, HashMap},
	time::{Duration, Instant},
};

use crate::common::{kafka::Broker, kafka::Record, NodeConfig, NodeProcess};
use herald_runtime::{RuntimeCall, UNIT};
use serde_json::{json, Value};
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie};

const CONSUME_TIMEOUT: Duration = Duration::from_secs(60);

fn sink_node(broker: &Broker) -> NodeConfig {
	NodeConfig::manual_seal()
		.arg("--kafka-brokers")
		.arg(broker.address.clone())
		.arg("--kafka-topic-partitions")
		.arg("1")
}

fn schema() -> jsonschema::Validator {
	let schema: Value =
		serde_json::from_str(include_str!("../../../docs/envelope.schema.json")).expect("schema is JSON");
	jsonschema::validator_for(&schema).expect("schema compiles")
}

/// Submits a few extrinsics and seals `blocks` finalized blocks; returns their hashes by number.
fn seal_busy_blocks(node: &NodeProcess, blocks: u32) -> BTreeMap<u64, sp_core::H256> {
	let mut hashes = BTreeMap::new();
	for i in 0..blocks {
		common::submit_busy_extrinsics(node, i);
		let hash = node.seal_block(true, None);
		hashes.insert(node.block_number(hash) as u64, hash);
	}
	hashes
}

/// The runtime events of a block as the node reports them over RPC, as (pallet, variant) pairs in order.
fn rpc_events(node: &NodeProcess, hash: sp_core::H256) -> Vec<String> {
	node.events(hash)
		.iter()
		.map(|record| {
			let text = format!("{:?}", record.event);
			// `Balances(Event::Transfer { .. })` -> `Balances.Transfer`
			let (pallet, rest) = text.split_once('(').unwrap();
			let rest = rest.strip_prefix("Event::").unwrap_or(rest);
			let variant: String = rest.chars().take_while(|c| c.is_alphanumeric()).collect();
			format!("{pallet}.{variant}")
		})
		.collect()
}

fn event_records(records: &[Record]) -> Vec<&Record> {
	records.iter().filter(|r| r.envelope["meta"]["event_index"].is_number()).collect()
}

fn block_created(records: &[Record]) -> Vec<&Record> {
	records.iter().filter(|r| r.envelope["name"] == "BlockCreated").collect()
}

/// Asserts every event of every block up to `last` arrived exactly once, in order, with correct meta; returns
/// how many duplicate messages were seen.
fn assert_complete(node: &NodeProcess, records: &[Record], last: u64) -> usize {
	let validator = schema();
	for record in records {
		let errors: Vec<String> = validator.iter_errors(&record.envelope).map(|e| e.to_string()).collect();
		assert!(errors.is_empty(), "envelope violates the schema: {errors:?}\n{:#}", record.envelope);
		assert_eq!(record.header("id"), record.envelope["meta"]["id"].as_str(), "meta.id is a header");
		// The other headers are opt-in (--kafka-headers); the default sends `id` alone.
		assert_eq!(record.headers.len(), 1, "only the id header by default: {:?}", record.headers);
	}

	// Deduplicate by meta.id as a consumer would; count what was duplicated.
	let mut by_id: HashMap<String, &Record> = HashMap::new();
	let mut duplicates = 0;
	for record in records {
		let id = record.envelope["meta"]["id"].as_str().unwrap().to_string();
		if let Some(first) = by_id.insert(id, record) {
			duplicates += 1;
			assert_eq!(first.envelope, record.envelope, "a duplicate is byte-for-byte the same envelope");
		}
	}
	let unique: Vec<&Record> = by_id.values().copied().collect();

	// Every block from genesis to `last` has its BlockCreated.
	let mut blocks: Vec<u64> =
		block_created(records).iter().map(|r| r.envelope["meta"]["block"]["number"].as_u64().unwrap()).collect();
	blocks.sort();
	blocks.dedup();
	assert_eq!(blocks, (0..=last).collect::<Vec<_>>(), "a BlockCreated for every block");

	for number in 0..=last {
		let hash = node.rpc("chain_getBlockHash", json!([number]));
		let mut shipped: Vec<&Record> = unique
			.iter()
			.copied()
			.filter(|r| {
				r.envelope["meta"]["block"]["number"] == number && r.envelope["meta"]["event_index"].is_number()
			})
			.collect();
		shipped.sort_by_key(|r| r.envelope["meta"]["event_index"].as_u64().unwrap());
		let expected = rpc_events(node, common::parse_hash(&hash));
		let got: Vec<String> = shipped
			.iter()
			.map(|r| {
				format!(
					"{}.{}",
					r.envelope["meta"]["pallet"].as_str().unwrap(),
					r.envelope["meta"]["variant"].as_str().unwrap()
				)
			})
			.collect();
		assert_eq!(got, expected, "events of block #{number}");
		// BlockCreated counts the block's events and its extrinsics (read from the events: checked against the body).
		let created = unique
			.iter()
			.find(|r| r.envelope["name"] == "BlockCreated" && r.envelope["meta"]["block"]["number"] == number)
			.expect("a BlockCreated");
		let extrinsics =
			node.rpc("chain_getBlock", json!([hash]))["block"]["extrinsics"].as_array().map_or(0, Vec::len);
		assert_eq!(created.envelope["data"]["extrinsics_count"], extrinsics as u64, "extrinsics of block #{number}");
		assert_eq!(created.envelope["data"]["event_count"], expected.len() as u64, "events of block #{number}");
		for (index, record) in shipped.iter().enumerate() {
			let meta = &record.envelope["meta"];
			assert_eq!(meta["event_index"], index as u64);
			assert_eq!(meta["block"]["hash"], hash, "meta.block.hash of block #{number}");
			assert_eq!(meta["finalized"], true);
		}
		let timestamp = node.rpc(
			"state_getStorage",
			json!(["0xf0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb", hash]),
		);
		if let (Some(raw), Some(first)) = (timestamp.as_str(), shipped.first()) {
			let bytes = hex::decode(raw.trim_start_matches("0x")).unwrap();
			let now = u64::from_le_bytes(bytes[..8].try_into().unwrap());
			assert_eq!(first.envelope["meta"]["timestamp"], now, "meta.timestamp of block #{number}");
		}
	}

	// Order within a partition follows the chain: after dropping what the partition already carried (a re-sent
	// duplicate, which may come after later events), every event comes after the one before it.
	let mut last_seen: HashMap<(String, i32), (u64, u64)> = HashMap::new();
	let mut seen_in: HashMap<(String, i32), std::collections::HashSet<&str>> = HashMap::new();
	for record in event_records(records) {
		let meta = &record.envelope["meta"];
		let key = (record.topic.clone(), record.partition);
		if !seen_in.entry(key.clone()).or_default().insert(meta["id"].as_str().unwrap()) {
			continue;
		}
		let position = (meta["block"]["number"].as_u64().unwrap(), meta["event_index"].as_u64().unwrap());
		if let Some(previous) = last_seen.insert(key.clone(), position) {
			assert!(previous < position, "{key:?}: {position:?} after {previous:?}");
		}
	}
	duplicates
}

#[test]
fn ships_every_finalized_event_once_in_order() {
	let broker = Broker::start();
	let node = NodeProcess::start(sink_node(&broker));
	let hashes = seal_busy_blocks(&node, 6);
	let last = *hashes.keys().last().unwrap();

	let records = broker.consume("herald.", 40, CONSUME_TIMEOUT);
	let duplicates = assert_complete(&node, &records, last);
	assert_eq!(duplicates, 0, "a run without failures ships nothing twice");

	// Mapped names, topics and keys of Herald's own events.
	let created = records
		.iter()
		.find(|r| r.envelope["meta"]["pallet"] == "Assets" && r.envelope["meta"]["variant"] == "Created")
		.expect("Assets.Created shipped");
	assert_eq!(created.envelope["name"], "AssetCreatedEvent");
	assert_eq!(created.envelope["type"], "domain");
	assert_eq!(created.topic, "herald.assets");
	assert_eq!(created.key.as_deref(), Some(created.envelope["data"]["asset_id"].to_string().as_str()));

	// The sink's metrics report the acknowledged head.
	let deadline = Instant::now() + Duration::from_secs(30);
	loop {
		let metrics = node.metrics();
		if common::metric(&metrics, "herald_kafka_last_acked_block_number") == Some(last as f64) {
			assert_eq!(common::metric(&metrics, "herald_kafka_connected"), Some(1.0), "{metrics}");
			assert!(common::metric(&metrics, "herald_kafka_messages_total").unwrap() > 0.0, "{metrics}");
			assert!(common::metric(&metrics, "herald_kafka_events_total").unwrap() > 0.0, "{metrics}");
			assert_eq!(common::metric(&metrics, "herald_kafka_finalized_lag_blocks"), Some(0.0), "{metrics}");
			break;
		}
		assert!(Instant::now() < deadline, "metrics never showed block {last} acknowledged:\n{metrics}");
		std::thread::sleep(Duration::from_millis(500));
	}
}

#[test]
fn restart_resumes_after_the_cursor_without_gaps() {
	let broker = Broker::start();
	let base = tempfile::tempdir().unwrap();
	let node = NodeProcess::start(sink_node(&broker).base_path(base.path()));
	seal_busy_blocks(&node, 2);
	// Stop mid-stream: with the broker cut off, blocks 3 and 4 are surely in flight, not acknowledged.
	broker.proxy.cut();
	seal_busy_blocks(&node, 2);
	let acked = common::metric(&node.metrics(), "herald_kafka_last_acked_block_number").unwrap_or(0.0);
	assert!(acked < 4.0, "work is in flight when the node stops (acknowledged up to #{acked})");
	node.stop();
	broker.proxy.restore();

	let node = NodeProcess::start(sink_node(&broker).base_path(base.path()));
	let hashes = seal_busy_blocks(&node, 4);
	let last = *hashes.keys().last().unwrap();
	assert_eq!(last, 8);

	let records = broker.consume("herald.", 50, CONSUME_TIMEOUT);
	let duplicates = assert_complete(&node, &records, last);
	eprintln!("restart: {} messages, {duplicates} duplicates", records.len());
}

#[test]
fn broker_outage_loses_nothing_and_never_stalls_import() {
	let broker = Broker::start();
	let node = NodeProcess::start(sink_node(&broker));
	seal_busy_blocks(&node, 2);

	broker.proxy.cut();
	let outage = Instant::now();
	let mut sealed = 0;
	while outage.elapsed() < Duration::from_secs(30) {
		let started = Instant::now();
		seal_busy_blocks(&node, 1);
		assert!(started.elapsed() < Duration::from_secs(10), "import stalled while Kafka was down");
		sealed += 1;
		std::thread::sleep(Duration::from_secs(2));
	}
	let metrics = node.metrics();
	assert_eq!(
		common::metric(&metrics, "herald_kafka_connected"),
		Some(0.0),
		"the sink reports the outage:\n{metrics}"
	);
	broker.proxy.restore();

	let last = node.block_number(node.best_hash()) as u64;
	assert_eq!(last, 2 + sealed);
	let records = broker.consume("herald.", 3 * (last as usize + 1), Duration::from_secs(120));
	let duplicates = assert_complete(&node, &records, last);
	eprintln!("outage: {sealed} blocks sealed during a 30 s cut, {duplicates} duplicates after recovery");
}

/// The real broker process killed (SIGKILL) and started again on its `sqlite://` storage, rather than a cut
/// proxy: what was acknowledged before survives, what the node imported meanwhile follows, nothing is lost.
#[test]
fn a_broker_killed_and_restarted_on_its_storage_loses_nothing() {
	let mut broker = Broker::start_persistent();
	let node = NodeProcess::start(sink_node(&broker));
	seal_busy_blocks(&node, 2);
	broker.consume_until("herald.", CONSUME_TIMEOUT, |records| {
		records.iter().any(|r| r.envelope["name"] == "BlockFinalized" && r.envelope["meta"]["block"]["number"] == 2)
	});

	broker.kill();
	for _ in 0..4 {
		let started = Instant::now();
		seal_busy_blocks(&node, 1);
		assert!(started.elapsed() < Duration::from_secs(10), "import stalled while the broker was down");
	}
	let deadline = Instant::now() + CONSUME_TIMEOUT;
	while common::metric(&node.metrics(), "herald_kafka_connected") != Some(0.0) {
		assert!(Instant::now() < deadline, "the sink reports the broker down:\n{}", node.log_tail(30));
		std::thread::sleep(Duration::from_millis(200));
	}
	broker.resume();

	let last = node.block_number(node.best_hash()) as u64;
	assert_eq!(last, 6);
	let records = broker.consume_until("herald.", Duration::from_secs(120), |records| {
		records.iter().any(|r| r.envelope["name"] == "BlockFinalized" && r.envelope["meta"]["block"]["number"] == last)
	});
	let duplicates = assert_complete(&node, &records, last);
	eprintln!("broker killed: 4 blocks sealed while it was down, {duplicates} duplicates after its restart");
}

#[test]
fn unreachable_brokers_do_not_stop_the_node() {
	// Nothing listens on this port.
	let port = common::free_port();
	let node = NodeProcess::start(NodeConfig::manual_seal().arg("--kafka-brokers").arg(format!("127.0.0.1:{port}")));
	let block = node.seal_block(true, None);
	assert_eq!(node.finalized_hash(), block);
	// The sink did run: it tried the brokers, failed, and says so (not only gauges at their defaults).
	let deadline = Instant::now() + Duration::from_secs(60);
	let metrics = loop {
		let metrics = node.metrics();
		if common::metric(&metrics, "herald_kafka_sink_last_error_timestamp_seconds").is_some_and(|t| t > 0.0) {
			break metrics;
		}
		assert!(Instant::now() < deadline, "the sink never reported its failure:\n{metrics}\n{}", node.log());
		std::thread::sleep(Duration::from_millis(200));
	};
	assert_eq!(common::metric(&metrics, "herald_kafka_sink_up"), Some(0.0), "{metrics}");
	assert_eq!(common::metric(&metrics, "herald_kafka_connected"), Some(0.0), "{metrics}");
	assert_eq!(common::metric(&metrics, "herald_kafka_last_acked_block_number"), Some(0.0), "{metrics}");
	assert!(node.log().contains("cannot reach the brokers"), "the log names the failure:\n{}", node.log());
	assert_eq!(node.finalized_hash(), block, "the node runs on");
}

/// A node whose database was created without the sink (Substrate's default pruning) starts with it: the
/// database keeps its pruning mode, the log says what that means, and the sink ships.
#[test]
fn a_node_created_without_the_sink_starts_with_it() {
	let base = tempfile::tempdir().unwrap();
	let node = NodeProcess::start(NodeConfig::manual_seal().base_path(base.path()));
	for _ in 0..3 {
		node.seal_block(true, None);
	}
	node.stop();

	let broker = Broker::start();
	let node = NodeProcess::start(sink_node(&broker).base_path(base.path()));
	let last = node.block_number(node.seal_block(true, None)) as u64;
	let deadline = Instant::now() + CONSUME_TIMEOUT;
	while common::metric(&node.metrics(), "herald_kafka_last_acked_block_number") != Some(last as f64) {
		assert!(Instant::now() < deadline, "the sink did not ship block {last}:\n{}", node.log());
		std::thread::sleep(Duration::from_millis(100));
	}
	assert_eq!(common::metric(&node.metrics(), "herald_kafka_sink_up"), Some(1.0));
	assert!(node.log().contains("keeps the state pruning mode it was created with"), "{}", node.log());
	let records = broker.consume("herald.", last as usize + 1, CONSUME_TIMEOUT);
	assert_eq!(block_created(&records).len(), last as usize + 1, "every block from genesis on");
}

#[test]
fn crowdfunding_finish_ships_from_the_end_blocks_initialization() {
	use frame_support::traits::tokens::fungible::NativeOrWithId;

	let broker = Broker::start();
	let node = NodeProcess::start(sink_node(&broker));
	let now = node.block_number(node.best_hash());
	let (start, end) = (now + 2, now + 5);
	node.submit(
		Alice,
		RuntimeCall::Crowdfunding(pallet_crowdfunding::Call::create {
			dao_id: None,
			asset: NativeOrWithId::Native,
			beneficiary: Charlie.to_account_id(),
			soft_cap: 10 * UNIT,
			hard_cap: 100 * UNIT,
			start,
			end,
		}),
	);
	node.seal_block(true, None);
	node.seal_block(true, None);
	node.submit(
		Bob,
		RuntimeCall::Crowdfunding(pallet_crowdfunding::Call::contribute { crowdfunding_id: 0, amount: 5 * UNIT }),
	);
	while node.block_number(node.best_hash()) <= end {
		node.seal_block(true, None);
	}
	let end_hash = node.rpc("chain_getBlockHash", json!([end]));

	let records = broker.consume("herald.crowdfundings", 4, CONSUME_TIMEOUT);
	let finished = records
		.iter()
		.find(|r| r.envelope["name"] == "CrowdfundingFinishedEvent")
		.unwrap_or_else(|| panic!("no CrowdfundingFinishedEvent in {records:#?}"));
	assert_eq!(finished.topic, "herald.crowdfundings");
	assert_eq!(finished.envelope["type"], "domain");
	assert_eq!(finished.key.as_deref(), Some("0"), "keyed by crowdfunding_id");
	let meta = &finished.envelope["meta"];
	assert_eq!(meta["block"]["number"], end as u64, "shipped from the end block");
	assert_eq!(meta["block"]["hash"], end_hash);
	assert_eq!(meta["phase"]["kind"], "Initialization", "emitted by on_initialize");
	assert_eq!(meta["pallet"], "Crowdfunding");
	assert_eq!(finished.envelope["data"]["crowdfunding_id"], 0);
	assert!(
		finished.envelope["data"]["outcome"]["Failed"].is_object(),
		"5 of a 10 soft cap fails: {:#}",
		finished.envelope["data"]
	);
	// Every envelope, this one included, follows the published schema.
	let validator = schema();
	assert!(validator.is_valid(&finished.envelope));
	// The failed crowdfunding refunds Bob, on the same topic and key.
	assert!(records.iter().any(|r| r.envelope["meta"]["variant"] == "Refunded" && r.key.as_deref() == Some("0")));
}

#[test]
fn pruned_state_stops_the_sink_with_the_fix_but_not_the_node() {
	let broker = Broker::start();
	let base = tempfile::tempdir().unwrap();
	let pruned = || NodeConfig::manual_seal().base_path(base.path()).arg("--state-pruning").arg("16");
	let node = NodeProcess::start(pruned());
	for _ in 0..40 {
		node.seal_block(true, None);
	}
	node.stop();

	// The sink must ship from genesis, whose state this node no longer keeps.
	let node = NodeProcess::start(pruned().arg("--kafka-brokers").arg(broker.address.clone()));
	let deadline = Instant::now() + Duration::from_secs(60);
	while !node.log().contains("was pruned") {
		assert!(Instant::now() < deadline, "no pruning error in the log:\n{}", node.log());
		std::thread::sleep(Duration::from_millis(200));
	}
	let log = node.log();
	assert!(log.contains("--state-pruning archive-canonical") && log.contains("--kafka-start-from"), "{log}");
	// The node itself keeps running and sealing.
	let block = node.seal_block(true, None);
	assert_eq!(node.block_number(block), 41);
}

/// `--kafka-sign-key-file`: every message carries an HMAC-SHA256 of its value that a consumer with the key
/// verifies (the documented algorithm: any HMAC-SHA256 implementation), and the key id; a changed value fails.
#[test]
fn signed_envelopes_verify_with_the_key_and_a_tampered_one_does_not() {
	use herald_event_sink::kafka::signing::SigningKey;
	let broker = Broker::start();
	let dir = tempfile::tempdir().unwrap();
	let key_hex = "5f".repeat(32);
	let key_file = dir.path().join("sign.key");
	std::fs::write(&key_file, format!("{key_hex}\n")).unwrap();
	let node = NodeProcess::start(
		sink_node(&broker)
			.arg("--kafka-sign-key-file")
			.arg(key_file.to_str().unwrap())
			.arg("--kafka-sign-key-id")
			.arg("2026-11")
			.arg("--kafka-headers")
			.arg("all"),
	);
	seal_busy_blocks(&node, 2);
	let records = broker.consume_until("herald.", CONSUME_TIMEOUT, |records| {
		records.iter().any(|r| r.envelope["name"] == "BlockFinalized" && r.envelope["meta"]["block"]["number"] == 2)
	});
	let key = SigningKey::from_hex(&key_hex, None).unwrap();
	for record in &records {
		// `--kafka-headers all`: every envelope fact, in order, then the signature's two.
		let keys: Vec<&str> = record.headers.iter().map(|(key, _)| key.as_str()).collect();
		assert_eq!(
			keys,
			["id", "name", "type", "schema_version", "block_hash", "finalized", "signature", "signature_key_id"]
		);
		let envelope = &record.envelope;
		assert_eq!(record.header("name"), envelope["name"].as_str());
		assert_eq!(record.header("type"), envelope["type"].as_str());
		assert_eq!(record.header("block_hash"), envelope["meta"]["block"]["hash"].as_str());
		assert_eq!(
			record.header("finalized"),
			Some(if envelope["meta"]["finalized"] == true { "true" } else { "false" })
		);
		assert_eq!(record.header("signature_key_id"), Some("2026-11"));
		let signature = record.header("signature").expect("every message is signed");
		assert!(key.verify(&record.payload, signature), "{} verifies", record.envelope["meta"]["id"]);
		let mut tampered = record.payload.clone();
		tampered[1] ^= 1;
		assert!(!key.verify(&tampered, signature), "a changed value fails verification");
	}
	assert!(records.len() > 5, "the check ran over real messages: {}", records.len());
	assert!(!node.log().contains(&key_hex), "the signing key is in the log");
	assert!(!node.metrics().contains(&key_hex), "the signing key is in the metrics");

	// The consumer example verifies every message of a topic, and rejects a copy with one byte changed.
	let verify = || {
		let output = std::process::Command::new(common::example_binary("verify_signatures"))
			.args([&broker.address, "herald.blocks", key_file.to_str().unwrap(), "2026-11"])
			.output()
			.unwrap();
		(output.status.code(), String::from_utf8_lossy(&output.stdout).into_owned())
	};
	let blocks: Vec<_> = records.iter().filter(|r| r.topic == "herald.blocks").collect();
	let (status, stdout) = verify();
	assert_eq!(status, Some(0), "{stdout}");
	assert_eq!(stdout.lines().filter(|l| l.starts_with("ok ")).count(), blocks.len(), "{stdout}");
	let original = blocks[0];
	let mut tampered = original.payload.clone();
	tampered[1] ^= 1;
	let producer: rdkafka::producer::BaseProducer = broker.client_config().create().unwrap();
	let mut headers = rdkafka::message::OwnedHeaders::new();
	for (key, value) in &original.headers {
		headers = headers.insert(rdkafka::message::Header { key, value: Some(value) });
	}
	producer
		.send(
			rdkafka::producer::BaseRecord::to("herald.blocks")
				.partition(original.partition)
				.key(original.key.as_deref().unwrap_or_default())
				.payload(&tampered)
				.headers(headers),
		)
		.map_err(|(e, _)| e)
		.unwrap();
	rdkafka::producer::Producer::flush(&producer, Duration::from_secs(10)).unwrap();
	let (status, stdout) = verify();
	assert_eq!(status, Some(1), "{stdout}");
	let rejected: Vec<_> = stdout.lines().filter(|l| l.starts_with("REJECTED")).collect();
	assert_eq!(rejected.len(), 1, "{stdout}");
	assert!(rejected[0].contains(original.header("id").unwrap()), "{stdout}");

	// A short key is a clear start-up error.
	std::fs::write(&key_file, "abcd").unwrap();
	let output = std::process::Command::new(common::node_binary())
		.args(["--dev", "--kafka-brokers", &broker.address, "--kafka-sign-key-file", key_file.to_str().unwrap()])
		.output()
		.unwrap();
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(!output.status.success());
	assert!(stderr.contains("--kafka-sign-key-file") && stderr.contains("at least 32"), "{stderr}");
}
