//! End-to-end tests of best-chain mode (`--kafka-follow best`): a real `herald-node` producing to a real nisshi
//! broker, read back by a real consumer that applies every topic-partition on its own, in order.
//!
//! Manual seal builds the forks of the notes' recipe; the last test runs two validators with real Aura and
//! GRANDPA.

use crate::common;
use std::{
	collections::{BTreeMap, BTreeSet},
	time::{Duration, Instant},
};

use crate::common::{
	kafka::{partitions, Broker, Record},
	NodeConfig, NodeProcess,
};
use herald_runtime::{BalancesCall, RuntimeCall, UNIT};
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{Alice, Bob};

const TIMEOUT: Duration = Duration::from_secs(90);

fn hex(hash: H256) -> String {
	format!("{hash:?}")
}

fn best_node(broker: &Broker, base_path: Option<&std::path::Path>) -> NodeConfig {
	let mut config = NodeConfig::manual_seal()
		.arg("--kafka-brokers")
		.arg(broker.address.clone())
		.arg("--kafka-follow")
		.arg("best")
		// Several partitions, so retractions must find the right ones.
		.arg("--kafka-topic-partitions")
		.arg("3");
	if let Some(path) = base_path {
		config = config.base_path(path);
	}
	config
}

fn name(record: &Record) -> &str {
	record.envelope["name"].as_str().unwrap_or_default()
}

fn block_hash(record: &Record) -> &str {
	record.envelope["meta"]["block"]["hash"].as_str().unwrap_or_default()
}

/// What a consumer of each partition holds after applying it in order: an envelope adds its id, a
/// `BlockRetracted` removes the ids it names. Also checks that every retraction follows its block's messages in
/// its partition and names exactly the ids of that block that partition received (all of them on the
/// blocks partition). A message whose `run_epoch` is lower than its partition showed before is a dead run's late
/// message, which the consumer rule discards (finalized mode, after a mode switch, sends none).
fn apply(records: &[Record]) -> BTreeSet<String> {
	let mut live_everywhere = BTreeSet::new();
	for ((topic, partition), records) in partitions(records) {
		let mut live = BTreeSet::new();
		let mut max_epoch: Option<u64> = None;
		for (position, record) in records.iter().enumerate() {
			let epoch: Option<u64> = record.header("run_epoch").and_then(|epoch| epoch.parse().ok());
			if epoch.is_some() && epoch < max_epoch {
				continue;
			}
			max_epoch = max_epoch.max(epoch);
			if name(record) == "BlockRetracted" {
				let ids: BTreeSet<String> = record.envelope["data"]["event_ids"]
					.as_array()
					.expect("BlockRetracted has data.event_ids")
					.iter()
					.map(|id| id.as_str().unwrap().to_string())
					.collect();
				let earlier: BTreeSet<String> = records[..position]
					.iter()
					.filter(|r| block_hash(r) == block_hash(record) && name(r) != "BlockRetracted")
					.map(|r| r.envelope["meta"]["id"].as_str().unwrap().to_string())
					.collect();
				assert!(!earlier.is_empty(), "{topic}/{partition}: a retraction before any message of its block");
				assert!(
					earlier.is_subset(&ids),
					"{topic}/{partition}: the retraction of {} names {ids:?}, not all of {earlier:?}",
					block_hash(record)
				);
				if !topic.ends_with(".blocks") {
					assert_eq!(ids, earlier, "{topic}/{partition}: the retraction names other partitions' ids");
				}
				for id in &ids {
					live.remove(id);
				}
			} else {
				live.insert(record.envelope["meta"]["id"].as_str().unwrap().to_string());
			}
		}
		live_everywhere.extend(live);
	}
	live_everywhere
}

/// The blocks topic's envelopes as "Name:hash" in order.
fn blocks_topic(records: &[Record]) -> Vec<String> {
	let mut blocks: Vec<&Record> = records.iter().filter(|r| r.topic == "herald.blocks").collect();
	blocks.sort_by_key(|r| (r.partition, r.offset));
	blocks.iter().map(|r| format!("{}:{}", name(r), block_hash(r))).collect()
}

fn position(sequence: &[String], name: &str, hash: H256) -> usize {
	let wanted = format!("{name}:{}", hex(hash));
	sequence.iter().position(|entry| *entry == wanted).unwrap_or_else(|| panic!("no {wanted} in {sequence:#?}"))
}

fn has(records: &[Record], name_: &str, hash: H256) -> bool {
	records.iter().any(|r| name(r) == name_ && block_hash(r) == hex(hash))
}

/// The live ids' blocks (by their `BlockCreated`).
fn live_blocks(live: &BTreeSet<String>) -> BTreeSet<String> {
	live.iter().filter_map(|id| id.strip_suffix(":BlockCreated")).map(str::to_string).collect()
}

fn transfer(node: &NodeProcess, amount: u128) {
	node.submit(
		Alice,
		RuntimeCall::Balances(BalancesCall::transfer_keep_alive { dest: Bob.to_account_id().into(), value: amount }),
	);
}

#[test]
fn a_reorg_retracts_the_old_branch_newest_first_in_every_partition_it_reached() {
	let broker = Broker::start();
	let node = NodeProcess::start(best_node(&broker, None));
	let genesis = node.genesis_hash();

	// A1 (with a transfer: events on several topics), A2 on the best chain: shipped, not final.
	transfer(&node, UNIT);
	let a1 = node.seal_block(false, None);
	let a2 = node.seal_block(false, None);
	let records = broker.consume_until("herald.", TIMEOUT, |r| has(r, "BlockCreated", a2));
	let created = records.iter().find(|r| name(r) == "BlockCreated" && block_hash(r) == hex(a1)).unwrap();
	assert_eq!(created.envelope["meta"]["finalized"], false, "best-mode blocks ship as not final");
	assert!(!has(&records, "BlockFinalized", a1));

	// B1, B2 on genesis: B2 is as high as A2, so A2 stays best and nothing is retracted.
	let b1 = node.seal_block(false, Some(genesis));
	let b2 = node.seal_block(false, Some(b1));
	// B3 makes B the best chain: A2 then A1 are retracted, then B1, B2, B3 ship.
	let b3 = node.seal_block(false, Some(b2));
	// Shipped as the best chain first; only then final (blocks already final when the sink reaches them ship as
	// in finalized mode, each with its BlockFinalized right after it, which is another valid order).
	broker.consume_until("herald.", TIMEOUT, |r| has(r, "BlockCreated", b3));
	node.finalize(b3);
	let records = broker.consume_until("herald.", TIMEOUT, |r| has(r, "BlockFinalized", b3));

	let sequence = blocks_topic(&records);
	let retracted_a2 = position(&sequence, "BlockRetracted", a2);
	let retracted_a1 = position(&sequence, "BlockRetracted", a1);
	assert!(position(&sequence, "BlockCreated", a2) < retracted_a2);
	assert!(retracted_a2 < retracted_a1, "newest first: {sequence:#?}");
	assert!(retracted_a1 < position(&sequence, "BlockCreated", b1), "retractions before the new branch");
	assert!(position(&sequence, "BlockCreated", b1) < position(&sequence, "BlockCreated", b2));
	assert!(position(&sequence, "BlockCreated", b3) < position(&sequence, "BlockFinalized", b1));
	for hash in [b1, b2, b3] {
		position(&sequence, "BlockFinalized", hash);
	}
	// The transfer's events went to other topics, and were retracted there too.
	let a1_topics: BTreeSet<&str> =
		records.iter().filter(|r| block_hash(r) == hex(a1)).map(|r| r.topic.as_str()).collect();
	assert!(a1_topics.len() >= 3, "A1's messages reached several topics: {a1_topics:?}");

	// One run: every message carries its epoch, the same one.
	let epochs: BTreeSet<Option<&str>> = records.iter().map(|r| r.header("run_epoch")).collect();
	assert!(epochs.len() == 1 && !epochs.contains(&None), "one run_epoch on every message: {epochs:?}");
	let live = apply(&records);
	assert_eq!(
		live_blocks(&live),
		[genesis, b1, b2, b3].into_iter().map(hex).collect(),
		"a consumer is left with exactly the canonical chain"
	);
	assert!(!live.iter().any(|id| id.starts_with(&hex(a1)) || id.starts_with(&hex(a2))));
	let metrics = node.metrics();
	assert_eq!(common::metric(&metrics, "herald_kafka_retracted_blocks_total"), Some(2.0), "{metrics}");
}

#[test]
fn kill_9_between_shipping_a_branch_and_its_reorg_still_retracts_it_and_a_mode_switch_finalizes() {
	let broker = Broker::start();
	let base = tempfile::tempdir().unwrap();
	let node = NodeProcess::start(best_node(&broker, Some(base.path())));
	let genesis = node.genesis_hash();
	transfer(&node, 2 * UNIT);
	let a1 = node.seal_block(false, None);
	let a2 = node.seal_block(false, None);
	broker.consume_until("herald.", TIMEOUT, |r| has(r, "BlockCreated", a2));
	node.kill9();

	// The re-org happens after the restart; the sink must retract A from its journal.
	let node = NodeProcess::start(best_node(&broker, Some(base.path())));
	let b1 = node.seal_block(false, Some(genesis));
	let b2 = node.seal_block(false, Some(b1));
	let b3 = node.seal_block(false, Some(b2));
	let records = broker.consume_until("herald.", TIMEOUT, |r| has(r, "BlockCreated", b3));
	let sequence = blocks_topic(&records);
	assert!(position(&sequence, "BlockRetracted", a2) < position(&sequence, "BlockRetracted", a1));
	assert!(position(&sequence, "BlockRetracted", a1) < position(&sequence, "BlockCreated", b1));
	node.kill9();

	// Restarted in finalized mode, the sink still finalizes what best mode shipped.
	let node = NodeProcess::start(
		NodeConfig::manual_seal()
			.base_path(base.path())
			.arg("--kafka-brokers")
			.arg(broker.address.clone())
			.arg("--kafka-topic-partitions")
			.arg("3"),
	);
	node.finalize(b3);
	let records = broker.consume_until("herald.", TIMEOUT, |r| has(r, "BlockFinalized", b3));
	for hash in [b1, b2, b3] {
		assert!(has(&records, "BlockFinalized", hash), "BlockFinalized of {hash:?} after the mode switch");
	}
	let live = apply(&records);
	assert_eq!(live_blocks(&live), [genesis, b1, b2, b3].into_iter().map(hex).collect());
}

#[test]
fn a_finalization_that_displaces_the_shipped_branch_retracts_it() {
	let broker = Broker::start();
	let node = NodeProcess::start(best_node(&broker, None));
	let genesis = node.genesis_hash();
	let a1 = node.seal_block(false, None);
	let a2 = node.seal_block(false, None);
	broker.consume_until("herald.", TIMEOUT, |r| has(r, "BlockCreated", a2));

	// B1 is lower than A2: not best. Finalizing it moves the best block to B1 without any import.
	let b1 = node.seal_block(false, Some(genesis));
	node.finalize(b1);
	let records = broker.consume_until("herald.", TIMEOUT, |r| has(r, "BlockFinalized", b1));
	let sequence = blocks_topic(&records);
	assert!(position(&sequence, "BlockRetracted", a2) < position(&sequence, "BlockRetracted", a1));
	assert!(position(&sequence, "BlockRetracted", a1) < position(&sequence, "BlockCreated", b1));
	let live = apply(&records);
	assert_eq!(live_blocks(&live), [genesis, b1].into_iter().map(hex).collect());
	assert_eq!(node.best_hash(), b1);
}

/// Two validators with real Aura and GRANDPA, the sink in best mode on one of them: every block is shipped once
/// and finalized.
#[test]
fn two_validators_in_best_mode_ship_every_block_once_and_finalize_it() {
	let broker = Broker::start();
	let alice = NodeProcess::start(NodeConfig {
		args: [
			"--chain",
			"local",
			"--alice",
			"--validator",
			"--node-key",
			"0000000000000000000000000000000000000000000000000000000000000001",
			"--kafka-brokers",
			&broker.address,
			"--kafka-follow",
			"best",
		]
		.map(String::from)
		.to_vec(),
		base_path: None,
		env: Vec::new(),
	});
	let bootnode =
		format!("/ip4/127.0.0.1/tcp/{}/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp", alice.p2p_port);
	let bob = NodeProcess::start(NodeConfig {
		args: [
			"--chain",
			"local",
			"--bob",
			"--validator",
			"--node-key",
			"0000000000000000000000000000000000000000000000000000000000000002",
			"--bootnodes",
			&bootnode,
		]
		.map(String::from)
		.to_vec(),
		base_path: None,
		env: Vec::new(),
	});

	// Bob dials Alice; Alice also keeps Bob as a reserved peer, so one failed first dial can't leave them apart.
	let bob_address = format!(
		"/ip4/127.0.0.1/tcp/{}/p2p/{}",
		bob.p2p_port,
		bob.rpc("system_localPeerId", serde_json::json!([])).as_str().unwrap()
	);
	alice.rpc("system_addReservedPeer", serde_json::json!([bob_address]));

	// The chain first: real Aura authors only once the validators are peers, and GRANDPA finalizes only with
	// both voting. A failure here is the network's or the consensus's, not the sink's: show both logs.
	let deadline = Instant::now() + Duration::from_secs(180);
	while alice.finalized_number() < 5 {
		if Instant::now() > deadline {
			panic!(
				"GRANDPA finalized only #{} in 180 s; alice's peers: {}\n--- alice ---\n{}\n--- bob ---\n{}",
				alice.finalized_number(),
				alice.rpc("system_health", serde_json::json!([])),
				alice.log_tail(40),
				bob.log_tail(40),
			);
		}
		std::thread::sleep(Duration::from_millis(500));
	}
	// Then the sink finalizes them too.
	let records = broker
		.try_consume_until("herald.", TIMEOUT, |records| {
			records.iter().filter(|r| name(r) == "BlockFinalized").count() >= 5
		})
		.unwrap_or_else(|e| panic!("{e}\n--- alice ---\n{}", alice.log_tail(60)));
	let live = apply(&records);
	let mut created: BTreeMap<&str, usize> = BTreeMap::new();
	for record in records.iter().filter(|r| name(r) == "BlockCreated") {
		*created.entry(block_hash(record)).or_default() += 1;
	}
	let finalized: Vec<&Record> = records.iter().filter(|r| name(r) == "BlockFinalized").collect();
	for record in &finalized {
		let hash = block_hash(record);
		assert_eq!(created.get(hash), Some(&1), "finalized block {hash} shipped exactly once");
		assert!(live.contains(&format!("{hash}:BlockCreated")), "finalized block {hash} is live");
	}
	// Finalized blocks are consecutive from genesis, with one hash per height.
	let mut numbers: Vec<u64> =
		finalized.iter().map(|r| r.envelope["meta"]["block"]["number"].as_u64().unwrap()).collect();
	numbers.sort();
	assert_eq!(numbers, (0..numbers.len() as u64).collect::<Vec<_>>(), "every finalized block, once each");
}
