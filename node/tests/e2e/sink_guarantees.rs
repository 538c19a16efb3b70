//! End-to-end tests of the sink's delivery guarantees in the default (finalized) mode: a real `herald-node` producing
//! to a real nisshi broker, read back by a real consumer that, like any consumer, dedupes by `meta.id`.
//!
//! What they hold the sink to: a `kill -9` loses nothing; what a restart sends again is bounded by what was in
//! flight (the read-ahead) and by the acknowledged progress not yet stored (the cursor is written at most about
//! once a second); after deduplication every topic-partition is still in chain order; one finality notification
//! covering many blocks ships all of them; and a validator with the sink, killed in a running two-validator
//! network, ships every finalized block once it is back.

use crate::common;
use std::{
	collections::{hash_map::Entry, BTreeMap, BTreeSet, HashMap, HashSet},
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc,
	},
	thread::JoinHandle,
	time::{Duration, Instant},
};

use crate::common::{
	kafka::{partitions, Broker, Record},
	NodeConfig, NodeProcess,
};
use serde_json::json;
use sp_core::H256;

const CONSUME_TIMEOUT: Duration = Duration::from_secs(60);

/// `--kafka-read-ahead-blocks` of these tests: the most blocks handed to the producer and not yet acknowledged.
const READ_AHEAD: u64 = 8;

/// How long after Kafka acknowledged a block the stored cursor has surely moved past it: the worker writes
/// acknowledged progress at most once per second (`WRITE_INTERVAL`) and wakes at least once a second, so about two
/// seconds; the rest is slack for a slow loop iteration and the database on a loaded machine.
const STORE_WINDOW: Duration = Duration::from_secs(4);

/// How long the kill -9 test seals blocks while the sink ships them (several store windows).
const BURST: Duration = Duration::from_secs(10);

/// The last block whose every message Kafka acknowledged (in the worker's memory).
const ACKNOWLEDGED: &str = "herald_kafka_last_shipped_block_number";
/// The stored cursor (moves only once the database write is done).
const STORED: &str = "herald_kafka_last_acked_block_number";
/// Blocks handed to the producer and waiting for acknowledgements.
const IN_FLIGHT: &str = "herald_kafka_read_ahead_blocks";

/// Events the node's mapping table excludes (`node/event-mappings.toml`, `[exclude]`): never shipped.
const EXCLUDED: &[&str] = &["Balances.Upgraded"];

const ALICE_NODE_KEY: &str = "0000000000000000000000000000000000000000000000000000000000000001";
const ALICE_PEER_ID: &str = "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp";
const BOB_NODE_KEY: &str = "0000000000000000000000000000000000000000000000000000000000000002";

/// A manual-seal node with the sink in its default (finalized) mode, several partitions per topic and a small
/// read-ahead.
fn sink_node(broker: &Broker) -> NodeConfig {
	NodeConfig::manual_seal()
		.arg("--kafka-brokers")
		.arg(broker.address.clone())
		.arg("--kafka-topic-partitions")
		.arg("3")
		.arg("--kafka-read-ahead-blocks")
		.arg(READ_AHEAD.to_string())
}

/// Submits a transfer (and, every third call, an asset creation: keyed by asset, so the assets topic's partitions
/// all get some) and seals a block on the best one; returns its hash. `counter` numbers a test's busy blocks, so
/// amounts and asset ids never repeat, across restarts too.
fn seal_busy(node: &NodeProcess, counter: &mut u32, finalize: bool) -> H256 {
	common::submit_busy_extrinsics(node, *counter);
	*counter += 1;
	node.seal_block(finalize, None)
}

/// The runtime events of a block as the node reports them over RPC, as `Pallet.Variant` in order.
fn rpc_events(node: &NodeProcess, hash: H256) -> Vec<String> {
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

fn name(record: &Record) -> &str {
	record.envelope["name"].as_str().unwrap_or_default()
}

fn block_hash(record: &Record) -> &str {
	record.envelope["meta"]["block"]["hash"].as_str().unwrap_or_default()
}

fn block_number(record: &Record) -> u64 {
	record.envelope["meta"]["block"]["number"].as_u64().expect("meta.block.number")
}

fn id(record: &Record) -> &str {
	record.envelope["meta"]["id"].as_str().expect("every envelope has meta.id")
}

/// Waits until the node's metric `name` is at least `at_least`.
fn wait_for_metric(node: &NodeProcess, name: &str, at_least: u64) {
	let deadline = Instant::now() + CONSUME_TIMEOUT;
	loop {
		let metrics = node.metrics();
		if common::metric(&metrics, name).is_some_and(|value| value >= at_least as f64) {
			return;
		}
		assert!(
			Instant::now() < deadline,
			"{name} did not reach {at_least} in {CONSUME_TIMEOUT:?}:\n{metrics}\n--- node ---\n{}",
			node.log_tail(60)
		);
		std::thread::sleep(Duration::from_millis(100));
	}
}

/// Where the node's sink started shipping: the block after its stored cursor (from its log line "event sink
/// follows the finalized chain from block #N").
fn resumed_from(node: &NodeProcess) -> u64 {
	const LINE: &str = "event sink follows the finalized chain from block #";
	let deadline = Instant::now() + CONSUME_TIMEOUT;
	loop {
		let log = node.log();
		if let Some((_, rest)) = log.lines().find_map(|line| line.split_once(LINE)) {
			let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
			return digits.parse().unwrap_or_else(|_| panic!("no block number in {rest:?}"));
		}
		assert!(Instant::now() < deadline, "the sink never said where it starts:\n{}", node.log_tail(60));
		std::thread::sleep(Duration::from_millis(100));
	}
}

/// The sink's progress as the node reported it at one moment.
#[derive(Clone, Copy, Debug)]
struct Progress {
	/// When the answer was in (the values were read at or before then).
	at: Instant,
	/// [`ACKNOWLEDGED`].
	acknowledged: u64,
	/// [`STORED`].
	stored: u64,
	/// [`IN_FLIGHT`].
	in_flight: u64,
}

/// The sink's progress now, from the node's Prometheus endpoint; `None` when it does not answer (a killed node).
fn progress(prometheus_port: u16) -> Option<Progress> {
	let metrics = ureq::get(&format!("http://127.0.0.1:{prometheus_port}/metrics"))
		.timeout(Duration::from_secs(5))
		.call()
		.ok()?
		.into_string()
		.ok()?;
	let at = Instant::now();
	let value = |name: &str| common::metric(&metrics, name).map(|value| value as u64);
	Some(Progress { at, acknowledged: value(ACKNOWLEDGED)?, stored: value(STORED)?, in_flight: value(IN_FLIGHT)? })
}

/// Reads the sink's progress about every 50 ms in a thread of its own, so that a kill can come at any moment.
struct Sampler {
	stop: Arc<AtomicBool>,
	thread: JoinHandle<Vec<Progress>>,
}

impl Sampler {
	fn start(prometheus_port: u16) -> Self {
		let stop = Arc::new(AtomicBool::new(false));
		let stopped = stop.clone();
		let thread = std::thread::spawn(move || {
			let mut samples = Vec::new();
			while !stopped.load(Ordering::SeqCst) {
				samples.extend(progress(prometheus_port));
				std::thread::sleep(Duration::from_millis(50));
			}
			samples
		});
		Sampler { stop, thread }
	}

	fn finish(self) -> Vec<Progress> {
		self.stop.store(true, Ordering::SeqCst);
		self.thread.join().expect("the sampler thread does not panic")
	}
}

/// Seals busy blocks until the node reports progress Kafka acknowledged and the node has not stored yet (the
/// cursor trails the acknowledgements by up to about a second), then kills it with SIGKILL at once: mid-shipping,
/// with something a restart must send again. Returns the last block sealed and when the kill began.
fn kill_9_mid_shipping(node: NodeProcess, counter: &mut u32) -> (u64, Instant) {
	let mut sealed = node.block_number(node.best_hash()) as u64;
	let deadline = Instant::now() + Duration::from_secs(120);
	loop {
		let unstored = progress(node.prometheus_port).is_some_and(|p| p.acknowledged > p.stored);
		if unstored {
			break;
		}
		assert!(
			Instant::now() < deadline,
			"the node never had acknowledged progress not stored yet:\n{}",
			node.log_tail(60)
		);
		sealed = node.block_number(seal_busy(&node, counter, true)) as u64;
	}
	let killed_at = Instant::now();
	node.kill9();
	(sealed, killed_at)
}

/// A block as the node has it.
struct ChainBlock {
	hash: String,
	/// How many records its `System::Events` holds.
	event_count: usize,
	/// The events the sink ships (all but [`EXCLUDED`]): `System::Events` index and `Pallet.Variant`.
	events: Vec<(u64, String)>,
}

/// Blocks `0..=last` of the node's canonical chain.
fn chain_blocks(node: &NodeProcess, last: u64) -> BTreeMap<u64, ChainBlock> {
	(0..=last)
		.map(|number| {
			let hash = common::parse_hash(&node.rpc("chain_getBlockHash", json!([number])));
			let all = rpc_events(node, hash);
			let events = all
				.iter()
				.enumerate()
				.filter(|(_, event)| !EXCLUDED.contains(&event.as_str()))
				.map(|(index, event)| (index as u64, event.clone()))
				.collect();
			(number, ChainBlock { hash: format!("{hash:?}"), event_count: all.len(), events })
		})
		.collect()
}

/// Whether every message of every block of `chain` arrived: its `BlockCreated`, its events and its
/// `BlockFinalized`.
fn all_arrived(records: &[Record], chain: &BTreeMap<u64, ChainBlock>) -> bool {
	let ids: HashSet<&str> = records.iter().filter_map(|r| r.envelope["meta"]["id"].as_str()).collect();
	chain.values().all(|block| {
		ids.contains(format!("{}:BlockCreated", block.hash).as_str())
			&& ids.contains(format!("{}:BlockFinalized", block.hash).as_str())
			&& block.events.iter().all(|(index, _)| ids.contains(format!("{}:{index}", block.hash).as_str()))
	})
}

/// Waits until Kafka acknowledged every block up to `last`, then reads every topic back until every message of
/// blocks `0..=last` arrived (or, after a timeout, whatever did, for the assertions to name what is missing).
/// Returns the records and the node's blocks `0..=last`.
fn read_back(broker: &Broker, node: &NodeProcess, last: u64) -> (Vec<Record>, BTreeMap<u64, ChainBlock>) {
	wait_for_metric(node, ACKNOWLEDGED, last);
	let chain = chain_blocks(node, last);
	let records = broker
		.try_consume_until("herald.", CONSUME_TIMEOUT, |records| all_arrived(records, &chain))
		.unwrap_or_else(|error| {
			eprintln!("not every message arrived ({error}); checking what did");
			broker.consume("herald.", 0, CONSUME_TIMEOUT)
		});
	(records, chain)
}

/// What came more than once.
struct Duplicates {
	/// Messages whose id had come before.
	messages: usize,
	/// The blocks of those messages.
	blocks: BTreeSet<u64>,
}

/// Asserts that every block of `chain` arrived in full, as the node has it: one `BlockCreated` per number, of the
/// canonical block, with its `event_count`; every event the mapping table ships, with its `System::Events` index,
/// pallet and variant; its `BlockFinalized`; everything marked final (the default mode ships final blocks only).
/// A message may come again, but only as the very same envelope in the same topic-partition. Returns what came
/// again.
fn assert_every_event(records: &[Record], chain: &BTreeMap<u64, ChainBlock>) -> Duplicates {
	let mut duplicates = Duplicates { messages: 0, blocks: BTreeSet::new() };
	let mut first: HashMap<&str, &Record> = HashMap::new();
	for record in partitions(records).into_values().flatten() {
		let id = id(record);
		assert_eq!(record.header("id"), Some(id), "meta.id is also the header `id`");
		assert_eq!(record.envelope["meta"]["finalized"], true, "only final blocks ship: {:#}", record.envelope);
		match first.entry(id) {
			Entry::Vacant(entry) => {
				entry.insert(record);
			}
			Entry::Occupied(entry) => {
				let earlier = entry.get();
				assert_eq!(earlier.envelope, record.envelope, "{id} came again with another envelope");
				assert_eq!(
					(&earlier.topic, earlier.partition),
					(&record.topic, record.partition),
					"{id} came again in another topic-partition"
				);
				duplicates.messages += 1;
				duplicates.blocks.insert(block_number(record));
			}
		}
	}

	for (number, block) in chain {
		let at_height: Vec<&Record> = first.values().copied().filter(|r| block_number(r) == *number).collect();
		let created: BTreeSet<&str> =
			at_height.iter().filter(|r| name(r) == "BlockCreated").map(|r| block_hash(r)).collect();
		assert_eq!(
			created,
			BTreeSet::from([block.hash.as_str()]),
			"block #{number}: exactly one BlockCreated hash, the canonical block's"
		);
		for record in &at_height {
			assert_eq!(block_hash(record), block.hash, "block #{number}: {} is of another block", id(record));
		}
		let created = at_height.iter().find(|r| name(r) == "BlockCreated").expect("checked above");
		assert_eq!(
			created.envelope["data"]["event_count"], block.event_count as u64,
			"block #{number}: BlockCreated's event_count is its System::Events length"
		);
		assert!(at_height.iter().any(|r| name(r) == "BlockFinalized"), "block #{number} has no BlockFinalized");
		let mut events: Vec<(u64, String)> = at_height
			.iter()
			.filter_map(|r| {
				let meta = &r.envelope["meta"];
				let index = meta["event_index"].as_u64()?;
				Some((index, format!("{}.{}", meta["pallet"].as_str()?, meta["variant"].as_str()?)))
			})
			.collect();
		events.sort();
		assert_eq!(events, block.events, "the events of block #{number} (index, Pallet.Variant)");
	}
	duplicates
}

/// Where a message sits in the chain's order: its block, then `BlockCreated`, `RuntimeUpgraded`, the events by
/// `meta.event_index`, `BlockFinalized` (the order [docs/envelope.md](../../../docs/envelope.md) gives).
fn chain_position(record: &Record) -> (u64, u8, u64) {
	let number = block_number(record);
	if let Some(index) = record.envelope["meta"]["event_index"].as_u64() {
		return (number, 2, index);
	}
	match name(record) {
		"BlockCreated" => (number, 0, 0),
		"RuntimeUpgraded" => (number, 1, 0),
		"BlockFinalized" => (number, 3, 0),
		other => panic!("unexpected {other} in the default mode: {:#}", record.envelope),
	}
}

/// Asserts that every topic-partition (the blocks topic's included), read as a deduplicating consumer reads it
/// (each id's first message kept, repeats dropped), is in chain order: block numbers never go down and, within a
/// block, its messages come as shipped (`BlockCreated`, `RuntimeUpgraded`, events by increasing `meta.event_index`,
/// `BlockFinalized`), each position once. Returns the partitions that held messages, by topic.
fn assert_order_after_dedup(records: &[Record]) -> BTreeMap<String, BTreeSet<i32>> {
	let mut used: BTreeMap<String, BTreeSet<i32>> = BTreeMap::new();
	for ((topic, partition), records) in partitions(records) {
		let mut seen: HashSet<&str> = HashSet::new();
		let mut previous: Option<((u64, u8, u64), &str)> = None;
		for record in records {
			if !seen.insert(id(record)) {
				continue;
			}
			let position = chain_position(record);
			if let Some((before, before_id)) = previous {
				assert!(
					before < position,
					"{topic}[{partition}] after dedup: {} (offset {}, {position:?}) follows {before_id} ({before:?})",
					id(record),
					record.offset
				);
			}
			previous = Some((position, id(record)));
		}
		used.entry(topic).or_default().insert(partition);
	}
	assert!(used.contains_key("herald.blocks"), "the blocks topic was checked too: {used:?}");
	used
}

/// A node killed with SIGKILL while it ships loses no event, and what its restart sends again is bounded by what
/// the code can have left unstored: at most `--kafka-read-ahead-blocks` blocks in flight plus the blocks Kafka
/// acknowledged since the last cursor write (written at most about once a second). Concretely: nothing at or
/// below the stored cursor the restart starts from comes again; that cursor covers every block acknowledged
/// [`STORE_WINDOW`] before the kill; the read-ahead never exceeds its bound; so the duplicated blocks are at most
/// the read-ahead plus the blocks acknowledged in that window. Repeats are identical, and every partition is in
/// chain order after deduplication.
#[test]
fn kill_9_restart_loses_nothing_and_duplicates_are_bounded_by_the_read_ahead() {
	let broker = Broker::start();
	let base = tempfile::tempdir().unwrap();
	let config = || sink_node(&broker).base_path(base.path());
	let node = NodeProcess::start(config());
	let mut counter = 0;

	// A first stretch, shipped and stored: the restart must not send any of it again.
	let mut stored_before = 0;
	for _ in 0..4 {
		stored_before = node.block_number(seal_busy(&node, &mut counter, true)) as u64;
	}
	wait_for_metric(&node, STORED, stored_before);

	// A burst of busy blocks while the sink ships them, its progress sampled all along; then the kill, with
	// acknowledged progress not stored yet.
	let sampler = Sampler::start(node.prometheus_port);
	let burst = Instant::now();
	while burst.elapsed() < BURST {
		seal_busy(&node, &mut counter, true);
	}
	let (sealed_before_kill, killed_at) = kill_9_mid_shipping(node, &mut counter);
	let samples = sampler.finish();
	assert!(samples.len() >= 10, "the sampler read the sink's metrics during the burst: {samples:?}");

	let node = NodeProcess::start(config());
	let resumed = resumed_from(&node);
	let mut last = 0;
	for _ in 0..3 {
		last = node.block_number(seal_busy(&node, &mut counter, true)) as u64;
	}
	assert_eq!(last, sealed_before_kill + 3, "the restarted node kept every block sealed before the kill");

	let (records, chain) = read_back(&broker, &node, last);
	let duplicates = assert_every_event(&records, &chain);
	assert_order_after_dedup(&records);

	// What Kafka had acknowledged STORE_WINDOW before the kill (the latest sample that old).
	let acknowledged_window_before = samples
		.iter()
		.filter(|sample| sample.at + STORE_WINDOW <= killed_at)
		.map(|sample| sample.acknowledged)
		.max()
		.unwrap_or(0)
		.max(stored_before);
	let max_in_flight = samples.iter().map(|sample| sample.in_flight).max().unwrap_or(0);
	eprintln!(
		"kill -9 mid-shipping: {} duplicate messages in {} blocks {:?}; sealed #{sealed_before_kill} before the \
		 kill, acknowledged #{acknowledged_window_before} {STORE_WINDOW:?} before it, restart resumed from \
		 #{resumed}; read-ahead {READ_AHEAD}, at most {max_in_flight} seen in flight",
		duplicates.messages,
		duplicates.blocks.len(),
		duplicates.blocks,
	);

	assert!(
		duplicates.blocks.iter().all(|number| *number >= resumed),
		"blocks at or below the stored cursor (restart from #{resumed}) came again: {:?}",
		duplicates.blocks
	);
	assert!(
		resumed > acknowledged_window_before,
		"the stored cursor (restart from #{resumed}) lags block #{acknowledged_window_before}, which Kafka had \
		 acknowledged {STORE_WINDOW:?} before the kill"
	);
	assert!(
		max_in_flight <= READ_AHEAD,
		"{max_in_flight} blocks in flight with --kafka-read-ahead-blocks {READ_AHEAD}: {samples:?}"
	);
	// Blocks acknowledged in the window: at most those sealed after what was acknowledged before it.
	let acknowledged_in_window = sealed_before_kill.saturating_sub(acknowledged_window_before);
	assert!(
		duplicates.blocks.len() as u64 <= READ_AHEAD + acknowledged_in_window,
		"{} blocks came again; the read-ahead ({READ_AHEAD}) plus the blocks acknowledged in the last \
		 {STORE_WINDOW:?} (at most {acknowledged_in_window}) bound them",
		duplicates.blocks.len()
	);
}

/// A consumer that dedupes by `meta.id` (keeping each id's first message) reads every topic-partition in chain
/// order, the blocks topic's included, across two `kill -9` restarts that each sent messages again: a restart
/// resumes at a block boundary and re-sends whole blocks in order, never interleaving the repeats with newer
/// messages in a way that dedup can't undo.
#[test]
fn order_holds_after_dedup_on_every_topic_including_blocks() {
	let broker = Broker::start();
	let base = tempfile::tempdir().unwrap();
	let config = || sink_node(&broker).base_path(base.path());
	let mut counter = 0;
	let mut node = NodeProcess::start(config());
	for round in 1..=2 {
		for _ in 0..12 {
			seal_busy(&node, &mut counter, true);
		}
		let (sealed, _) = kill_9_mid_shipping(node, &mut counter);
		node = NodeProcess::start(config());
		eprintln!("kill {round}: after sealing #{sealed}; the restart resumes from #{}", resumed_from(&node));
	}
	let mut last = 0;
	for _ in 0..3 {
		last = node.block_number(seal_busy(&node, &mut counter, true)) as u64;
	}

	let (records, chain) = read_back(&broker, &node, last);
	let duplicates = assert_every_event(&records, &chain);
	assert!(duplicates.messages > 0, "the restarts sent nothing again: the order check would prove nothing");
	let used = assert_order_after_dedup(&records);
	assert!(
		used.get("herald.assets").is_some_and(|partitions| partitions.len() >= 2),
		"the asset events spread over several partitions of herald.assets: {used:?}"
	);
	eprintln!(
		"order after dedup: {} duplicate messages in blocks {:?}; partitions checked: {used:?}",
		duplicates.messages, duplicates.blocks
	);
}

/// Manual seal builds 12 blocks without finalizing them (half of them with transfers and asset creations), then a
/// single `engine_finalizeBlock` of the last finalizes all twelve at once: the sink ships nothing of them before,
/// and after that one notification every block 1..=12 exactly once, in order, each with its events and, as
/// docs/envelope.md promises for a block final when shipped, `BlockFinalized` as its last message.
#[test]
fn one_finalize_call_finalizing_many_blocks_ships_them_all() {
	let broker = Broker::start();
	let node = NodeProcess::start(sink_node(&broker));
	let mut counter = 0;
	let mut hashes = Vec::new();
	for i in 0..12 {
		let hash = if i % 2 == 0 { seal_busy(&node, &mut counter, false) } else { node.seal_block(false, None) };
		hashes.push(hash);
	}
	let last = *hashes.last().unwrap();
	assert_eq!(node.block_number(last), 12);
	assert_eq!(node.finalized_number(), 0, "nothing but genesis is final yet");

	// Only genesis is final: the sink ships it and nothing after it.
	let records = broker.consume_until("herald.", CONSUME_TIMEOUT, |records| {
		records.iter().any(|r| name(r) == "BlockFinalized" && block_number(r) == 0)
	});
	let early: Vec<&str> = records.iter().filter(|r| block_number(r) > 0).map(id).collect();
	assert!(early.is_empty(), "blocks shipped before they were final: {early:?}");

	node.finalize(last);
	assert_eq!(node.finalized_number(), 12, "one call finalized all twelve");

	let (records, chain) = read_back(&broker, &node, 12);
	for (number, hash) in (1..=12u64).zip(&hashes) {
		assert_eq!(chain[&number].hash, format!("{hash:?}"), "block #{number} is the one sealed");
	}
	let duplicates = assert_every_event(&records, &chain);
	assert_eq!(duplicates.messages, 0, "shipped exactly once: {:?}", duplicates.blocks);
	assert_order_after_dedup(&records);
	let transfers = records
		.iter()
		.filter(|r| r.envelope["meta"]["pallet"] == "Balances" && r.envelope["meta"]["variant"] == "Transfer")
		.count();
	assert!(transfers >= 6, "the six transfers' events shipped: {transfers}");

	// The blocks topic, one partition (keyed by the genesis hash), follows the chain block by block: each
	// block's BlockCreated, then its BlockFinalized, then the next block's.
	let mut blocks_topic: Vec<&Record> = records.iter().filter(|r| r.topic == "herald.blocks").collect();
	blocks_topic.sort_by_key(|r| (r.partition, r.offset));
	let used: BTreeSet<i32> = blocks_topic.iter().map(|r| r.partition).collect();
	assert_eq!(used.len(), 1, "the blocks topic's messages are in one partition: {used:?}");
	let sequence: Vec<String> = blocks_topic
		.iter()
		.filter(|r| matches!(name(r), "BlockCreated" | "BlockFinalized"))
		.map(|r| format!("{}#{}", name(r), block_number(r)))
		.collect();
	let expected: Vec<String> =
		(0..=12u64).flat_map(|n| [format!("BlockCreated#{n}"), format!("BlockFinalized#{n}")]).collect();
	assert_eq!(sequence, expected, "the blocks topic in order, each block once");
}

/// Waits until `alice` finalized block `at_least`; a timeout shows both validators' logs (a failure here is the
/// network's or the consensus's, not the sink's).
fn wait_finalized(alice: &NodeProcess, bob: &NodeProcess, at_least: u32) {
	let deadline = Instant::now() + Duration::from_secs(180);
	while alice.finalized_number() < at_least {
		if Instant::now() > deadline {
			panic!(
				"GRANDPA finalized only #{} of #{at_least} in 180 s; alice's peers: {}\n--- alice ---\n{}\n\
				 --- bob ---\n{}",
				alice.finalized_number(),
				alice.rpc("system_health", json!([])),
				alice.log_tail(40),
				bob.log_tail(40),
			);
		}
		std::thread::sleep(Duration::from_millis(500));
	}
}

/// Two validators with real Aura and GRANDPA, the sink (default finalized mode) on Alice with a persistent
/// database. Once it shipped three finalized blocks Alice is killed with SIGKILL and restarted on the same
/// database (Bob runs on; finality stalls without her and resumes with her). When Alice finalized three more
/// blocks, every block from genesis to her finalized head has shipped: one `BlockCreated` per number, of one hash,
/// the canonical one, with all its events; nothing missing; repeats only as identical envelopes.
#[test]
fn two_validators_with_the_sink_on_one_survive_its_kill_9() {
	let broker = Broker::start();
	let alice_base = tempfile::tempdir().unwrap();
	let alice_config = |bootnode: Option<&str>| {
		let mut args: Vec<String> = [
			"--chain",
			"local",
			"--alice",
			"--validator",
			"--node-key",
			ALICE_NODE_KEY,
			"--kafka-brokers",
			broker.address.as_str(),
		]
		.map(String::from)
		.to_vec();
		if let Some(bootnode) = bootnode {
			args.extend(["--bootnodes".to_string(), bootnode.to_string()]);
		}
		NodeConfig { args, base_path: Some(alice_base.path().to_path_buf()), env: Vec::new() }
	};
	let alice = NodeProcess::start(alice_config(None));
	let alice_address = format!("/ip4/127.0.0.1/tcp/{}/p2p/{ALICE_PEER_ID}", alice.p2p_port);
	let bob = NodeProcess::start(NodeConfig {
		args: [
			"--chain",
			"local",
			"--bob",
			"--validator",
			"--node-key",
			BOB_NODE_KEY,
			"--bootnodes",
			alice_address.as_str(),
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
		bob.rpc("system_localPeerId", json!([])).as_str().expect("a peer id")
	);
	alice.rpc("system_addReservedPeer", json!([bob_address]));

	// The chain first, then the sink: three finalized blocks after genesis shipped, each closed by its
	// BlockFinalized (in the default mode every envelope is final and every block ends with one).
	wait_finalized(&alice, &bob, 3);
	let records = broker
		.try_consume_until("herald.", CONSUME_TIMEOUT, |records| {
			records.iter().filter(|r| name(r) == "BlockFinalized" && block_number(r) >= 1).count() >= 3
		})
		.unwrap_or_else(|e| panic!("{e}\n--- alice ---\n{}", alice.log_tail(60)));
	assert!(records.iter().all(|r| r.envelope["meta"]["finalized"] == true), "the default mode ships final blocks");
	let finalized_before = alice.finalized_number();
	alice.kill9();

	// Alice comes back on new ports with the same key and database: she dials Bob (whose bootnode entry for
	// her is stale) and keeps him as a reserved peer.
	let alice = NodeProcess::start(alice_config(Some(bob_address.as_str())));
	alice.rpc("system_addReservedPeer", json!([bob_address]));
	let resumed = resumed_from(&alice);
	wait_finalized(&alice, &bob, finalized_before + 3);
	let finalized = alice.finalized_number() as u64;

	let (records, chain) = read_back(&broker, &alice, finalized);
	let duplicates = assert_every_event(&records, &chain);
	assert_order_after_dedup(&records);
	let mut created: BTreeMap<u64, BTreeSet<&str>> = BTreeMap::new();
	for record in records.iter().filter(|r| name(r) == "BlockCreated") {
		created.entry(block_number(record)).or_default().insert(block_hash(record));
	}
	for number in 1..=finalized {
		let hashes = created.get(&number).cloned().unwrap_or_default();
		assert_eq!(hashes.len(), 1, "block #{number}: one shipped hash, not {hashes:?}");
	}
	assert!(
		duplicates.blocks.iter().all(|number| *number >= resumed),
		"blocks at or below the stored cursor (restart from #{resumed}) came again: {:?}",
		duplicates.blocks
	);
	eprintln!(
		"two validators, alice killed at finalized #{finalized_before}, her sink resumed from #{resumed}; \
		 finalized #{finalized}: {} duplicate messages in blocks {:?}",
		duplicates.messages, duplicates.blocks
	);
}
