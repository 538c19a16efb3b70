//! End-to-end tests of high availability (`--kafka-ha-group`, issue 20): two validators (Alice and Bob, real Aura
//! and GRANDPA, no sink) and two full nodes of one sink group producing to a real nisshi broker, read back by a
//! consumer that applies the consumer rule to every topic-partition on its own, in Kafka's order: the epoch fence
//! (a message of a `leader_epoch` below the highest the partition showed so far is a stale leader's, and
//! discarded), then dedup by `meta.id` (a repeat identical to the live copy) and retractions.
//!
//! The leader is killed with SIGKILL (twice: the second time the first victim, restarted on its database, takes
//! over), or frozen with SIGSTOP past its session timeout and woken up again (a zombie). Either way the stream
//! must hold every canonical block exactly once, with all of its events, and nothing live of another block; the
//! truth is Alice's RPC. Killing a sink node never stops finality: the validators are separate nodes. Last, a node
//! configured otherwise than its group never becomes active.

use crate::common;
use std::{
	collections::{BTreeMap, BTreeSet, HashMap},
	path::Path,
	time::{Duration, Instant},
};

use crate::common::{
	kafka::{partitions, Broker, Record},
	NodeConfig, NodeProcess,
};
use serde_json::json;

/// The group of every test.
const GROUP: &str = "g";
/// `--kafka-ha-session-timeout`: short, so that a dead leader's lease runs out fast.
const SESSION_TIMEOUT_MS: &str = "3000";
/// `--kafka-topic-partitions`' default: the sink's topics have this many partitions in the two network tests.
const PARTITIONS: usize = 3;
/// The header every message of a group's leader carries.
const LEADER_EPOCH: &str = "leader_epoch";
/// The envelope `name` of the marker a new leader writes to every partition before it ships anything.
const MARKER: &str = "LeaderEpoch";
const BLOCKS_TOPIC: &str = "herald.blocks";
/// The environment variable of the product's test fault points (`event-sink/src/faults.rs`).
const FAULTS_ENV: &str = "HERALD_TEST_FAULTS";

/// The network's start (debug builds, two cores, four nodes) and GRANDPA's progress.
const NETWORK_TIMEOUT: Duration = Duration::from_secs(180);
/// From a leader's death (or freeze) to another node's takeover, and to its first shipped block.
const TAKEOVER_TIMEOUT: Duration = Duration::from_secs(90);
/// Reading the stream back until every message of the checked blocks is live.
const CONSUME_TIMEOUT: Duration = Duration::from_secs(90);

/// Events the node's mapping table excludes (`node/event-mappings.toml`, `[exclude]`): never shipped.
const EXCLUDED: &[&str] = &["Balances.Upgraded"];

const ALICE_NODE_KEY: &str = "0000000000000000000000000000000000000000000000000000000000000001";
const ALICE_PEER_ID: &str = "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp";
const BOB_NODE_KEY: &str = "0000000000000000000000000000000000000000000000000000000000000002";

/// The sink's stream: every topic of the prefix but the group's own two, whose records are not envelopes.
fn is_stream_topic(name: &str) -> bool {
	name.starts_with("herald.") && !name.ends_with(".sink-lease") && !name.ends_with(".sink-state")
}

/// [`is_stream_topic`] in words, for failure messages.
const STREAM: &str = "of the stream (herald.*, without the group's sink-lease and sink-state)";

fn name(record: &Record) -> &str {
	record.envelope["name"].as_str().unwrap_or_default()
}

fn block_hash(record: &Record) -> &str {
	record.envelope["meta"]["block"]["hash"].as_str().unwrap_or_default()
}

fn block_number(record: &Record) -> Option<u64> {
	record.envelope["meta"]["block"]["number"].as_u64()
}

fn id(record: &Record) -> &str {
	record.envelope["meta"]["id"].as_str().unwrap_or_default()
}

fn place(record: &Record) -> String {
	format!("{}[{}] offset {}", record.topic, record.partition, record.offset)
}

/// The `leader_epoch` header of a message; `None` when it has none (or not a number).
fn leader_epoch(record: &Record) -> Option<u64> {
	record.header(LEADER_EPOCH)?.parse().ok()
}

// ---- The network: two validators without a sink, two sink nodes of one group ----

/// A validator of `--chain local` without a sink.
fn validator(extra: &[&str]) -> NodeConfig {
	let mut args = vec!["--chain", "local", "--validator"];
	args.extend_from_slice(extra);
	NodeConfig { args: args.into_iter().map(String::from).collect(), base_path: None, env: Vec::new() }
}

/// Alice and Bob: they author (Aura) and finalize (GRANDPA) whatever happens to the sink nodes.
struct Network {
	alice: NodeProcess,
	bob: NodeProcess,
	/// Their multiaddresses with peer ids, which the sink nodes dial.
	alice_address: String,
	bob_address: String,
}

impl Network {
	fn start() -> Self {
		let alice = NodeProcess::start(validator(&["--alice", "--node-key", ALICE_NODE_KEY]));
		let alice_address = format!("/ip4/127.0.0.1/tcp/{}/p2p/{ALICE_PEER_ID}", alice.p2p_port);
		let bob = NodeProcess::start(validator(&["--bob", "--node-key", BOB_NODE_KEY, "--bootnodes", &alice_address]));
		let bob_address = format!(
			"/ip4/127.0.0.1/tcp/{}/p2p/{}",
			bob.p2p_port,
			bob.rpc("system_localPeerId", json!([])).as_str().expect("a peer id")
		);
		// Bob dials Alice; Alice also keeps Bob as a reserved peer, so one failed first dial can't leave them apart.
		alice.rpc("system_addReservedPeer", json!([bob_address]));
		Network { alice, bob, alice_address, bob_address }
	}

	/// Waits until Alice finalized block `at_least`; returns her finalized number then. A failure here is the
	/// network's or the consensus's, not the sink's: the context shows every node's log.
	fn wait_finalized(&self, at_least: u32, sinks: &[SinkNode]) -> u32 {
		wait_until(
			&format!("GRANDPA to finalize #{at_least} (validators apart from the sink nodes)"),
			NETWORK_TIMEOUT,
			|| {
				let finalized = self.alice.finalized_number();
				(finalized >= at_least).then_some(finalized)
			},
			|| context(self, sinks),
		)
	}
}

/// A sink node's configuration: a full node (no `--validator`) of `--chain local` that dials the validators, in
/// group [`GROUP`], on its own database.
fn sink_config(broker: &Broker, net: &Network, base: &Path, follow: &str) -> NodeConfig {
	let args = [
		"--chain",
		"local",
		"--bootnodes",
		net.alice_address.as_str(),
		"--bootnodes",
		net.bob_address.as_str(),
		"--kafka-brokers",
		broker.address.as_str(),
		"--kafka-follow",
		follow,
		"--kafka-ha-group",
		GROUP,
		"--kafka-ha-session-timeout",
		SESSION_TIMEOUT_MS,
	];
	// A snapshot every 3 commits (not 2000): every takeover of these tests reads the group's state from a snapshot.
	let env = vec![("HERALD_HA_SNAPSHOT_EVERY".to_string(), "3".to_string())];
	NodeConfig { args: args.map(String::from).to_vec(), base_path: Some(base.to_path_buf()), env }
}

/// One of the group's sink nodes, which a test kills and restarts.
struct SinkNode {
	label: &'static str,
	config: NodeConfig,
	/// `None` while it is killed.
	node: Option<NodeProcess>,
	/// Its database, kept across kills so that a restart comes back with its chain.
	_base: tempfile::TempDir,
}

impl SinkNode {
	fn start(label: &'static str, broker: &Broker, net: &Network, follow: &str) -> Self {
		let base = tempfile::tempdir().unwrap();
		let config = sink_config(broker, net, base.path(), follow);
		let mut sink = SinkNode { label, config, node: None, _base: base };
		sink.restart(net);
		sink
	}

	/// Starts the node (again: same database, new ports). It keeps Alice as a reserved peer, so one failed first
	/// dial can't leave it without the chain.
	fn restart(&mut self, net: &Network) {
		assert!(self.node.is_none(), "{} is running already", self.label);
		let node = NodeProcess::start(self.config.clone());
		node.rpc("system_addReservedPeer", json!([net.alice_address]));
		self.node = Some(node);
	}

	/// As [`Self::restart`], with the test faults `faults` (`HERALD_TEST_FAULTS`) for this run only; `None`
	/// starts it without any.
	fn restart_with_faults(&mut self, net: &Network, faults: Option<&str>) {
		self.config.env.retain(|(key, _)| key != FAULTS_ENV);
		if let Some(faults) = faults {
			self.config.env.push((FAULTS_ENV.to_string(), faults.to_string()));
		}
		self.restart(net);
		self.config.env.retain(|(key, _)| key != FAULTS_ENV);
	}

	fn node(&self) -> &NodeProcess {
		self.node.as_ref().unwrap_or_else(|| panic!("{} is not running", self.label))
	}

	/// A crash: SIGKILL, nothing flushed, the lease left to expire.
	fn kill9(&mut self) {
		self.node.take().unwrap_or_else(|| panic!("{} is not running", self.label)).kill9();
	}

	fn role(&self) -> Option<Role> {
		self.node.as_ref().and_then(role_of)
	}

	/// Its role and log tail, for failure messages.
	fn describe(&self) -> String {
		match &self.node {
			Some(node) => {
				format!("--- {} (pid {}, {:?}) ---\n{}", self.label, node.pid(), role_of(node), node.log_tail(60))
			}
			None => format!("--- {} (not running) ---", self.label),
		}
	}
}

/// Everything a failure message may need: the chain's state and every node's log tail.
fn context(net: &Network, sinks: &[SinkNode]) -> String {
	let mut text = format!(
		"alice's finalized head: {:?}; her health: {:?}\n--- alice ---\n{}\n--- bob ---\n{}",
		net.alice.try_rpc("chain_getFinalizedHead", json!([])),
		net.alice.try_rpc("system_health", json!([])),
		net.alice.log_tail(30),
		net.bob.log_tail(30),
	);
	for sink in sinks {
		text.push('\n');
		text.push_str(&sink.describe());
	}
	text
}

/// Submits busy extrinsics to Alice (a transfer, every third call an asset creation): blocks with events on
/// several topics and partitions, not only the timestamp inherent's.
fn submit_busy(net: &Network, counter: &mut u32) {
	common::submit_busy_extrinsics(&net.alice, *counter);
	*counter += 1;
}

// ---- Waiting ----

/// Polls `check` until it returns `Some`; panics after `timeout` naming `what`, with `context()`.
fn wait_until<T>(
	what: &str,
	timeout: Duration,
	mut check: impl FnMut() -> Option<T>,
	context: impl Fn() -> String,
) -> T {
	let deadline = Instant::now() + timeout;
	loop {
		if let Some(value) = check() {
			return value;
		}
		if Instant::now() > deadline {
			panic!("waited {timeout:?} for {what}, in vain\n{}", context());
		}
		std::thread::sleep(Duration::from_millis(300));
	}
}

/// Waits until a line of the node's log contains `text`; returns that line.
fn wait_for_log(node: &NodeProcess, text: &str, timeout: Duration) -> String {
	wait_until(
		&format!("{text:?} in the node's log"),
		timeout,
		|| node.log().lines().find(|line| line.contains(text)).map(str::to_string),
		|| node.log_tail(60),
	)
}

/// Whether the log says this node took the group over as exactly `epoch` (not `epoch` followed by more digits).
fn took_over(log: &str, epoch: u64) -> bool {
	let needle = format!("took over group {GROUP} as leader epoch {epoch}");
	log.lines().any(|line| {
		line.match_indices(&needle).any(|(at, _)| !line[at + needle.len()..].starts_with(|c: char| c.is_ascii_digit()))
	})
}

/// Waits (briefly: the line comes before the metric) for the node's log line of its takeover as `epoch`.
fn assert_took_over(sink: &SinkNode, epoch: u64) {
	let node = sink.node();
	wait_until(
		&format!("{}'s log line \"took over group {GROUP} as leader epoch {epoch}\"", sink.label),
		Duration::from_secs(15),
		|| took_over(&node.log(), epoch).then_some(()),
		|| node.log_tail(60),
	);
}

/// A node's part in the group, from its metrics.
#[derive(Clone, Copy, Debug)]
struct Role {
	/// `herald_ha_active` is 1.
	active: bool,
	/// `herald_ha_epoch`.
	epoch: u64,
	/// `herald_ha_takeovers_total`.
	takeovers: u64,
	/// `herald_ha_lease_age_seconds`.
	lease_age: f64,
}

/// The node's metrics, or `None` when they don't answer within 5 s (a killed or frozen node: `metrics()` would
/// wait for ever on a SIGSTOPped one).
fn scrape(node: &NodeProcess) -> Option<String> {
	ureq::get(&format!("http://127.0.0.1:{}/metrics", node.prometheus_port))
		.timeout(Duration::from_secs(5))
		.call()
		.ok()?
		.into_string()
		.ok()
}

/// The metrics operators' rules read (ops/prometheus/alerts.yml): every group metric ops/metrics.txt lists
/// carries the group's name as the label `group` on both nodes, and the standby's sink state is `standby` with
/// `herald_kafka_sink_up` 0, which the rules on a sink's own progress leave out; the leader's is `shipping`.
fn check_group_metrics(leader: &SinkNode, standby: &SinkNode) {
	let listed = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../ops/metrics.txt")).unwrap();
	let names: Vec<&str> = listed
		.lines()
		.filter(|l| !l.starts_with('#') && l.contains("--kafka-ha-group"))
		.map(|l| l.split_whitespace().next().unwrap())
		.collect();
	assert!(names.len() >= 4, "ops/metrics.txt lists the group's metrics: {names:?}");
	for (node, state) in [(leader, "shipping"), (standby, "standby")] {
		let metrics = node.node.as_ref().and_then(scrape).expect("the node's metrics");
		for name in &names {
			assert!(
				metrics
					.lines()
					.any(|line| line.starts_with(&format!("{name}{{")) && line.contains(&format!("group=\"{GROUP}\""))),
				"{} exposes {name} with the label group=\"{GROUP}\"",
				node.label
			);
		}
		let current = format!("state=\"{state}\"");
		assert!(
			metrics.lines().any(|line| line.starts_with("herald_kafka_sink_state{")
				&& line.contains(&current)
				&& line.ends_with("} 1")),
			"{}'s sink state is {state}: {:?}",
			node.label,
			metrics.lines().filter(|l| l.starts_with("herald_kafka_sink_state")).collect::<Vec<_>>()
		);
		let up = common::metric(&metrics, "herald_kafka_sink_up");
		assert_eq!(up, Some((state == "shipping") as u8 as f64), "{}'s herald_kafka_sink_up", node.label);
	}
}

/// The node's role; `None` when its metrics don't answer or don't have the group's yet.
fn role_of(node: &NodeProcess) -> Option<Role> {
	let metrics = scrape(node)?;
	Some(Role {
		active: common::metric(&metrics, "herald_ha_active")? == 1.0,
		epoch: common::metric(&metrics, "herald_ha_epoch")? as u64,
		takeovers: common::metric(&metrics, "herald_ha_takeovers_total")? as u64,
		lease_age: common::metric(&metrics, "herald_ha_lease_age_seconds")?,
	})
}

/// Waits until exactly one of `candidates` (the sink nodes that run and are not frozen) reports itself active,
/// with an epoch above `above`, and every other one that answers reports standby. Returns its index in
/// `candidates` and its role.
fn wait_for_leader(
	candidates: &[&SinkNode],
	above: u64,
	timeout: Duration,
	context: impl Fn() -> String,
) -> (usize, Role) {
	wait_until(
		&format!("exactly one active sink node with a leader epoch above {above}"),
		timeout,
		|| {
			let roles: Vec<Option<Role>> = candidates.iter().map(|sink| sink.role()).collect();
			let active: Vec<usize> = (0..roles.len()).filter(|&i| roles[i].is_some_and(|r| r.active)).collect();
			let [leader] = active[..] else { return None };
			let role = roles[leader]?;
			(role.epoch > above).then_some((leader, role))
		},
		context,
	)
}

/// Waits until the stream holds at least `blocks` `BlockCreated` envelopes of leader epoch `epoch`: that leader
/// wrote its markers to every partition (before anything else) and shipped.
fn wait_shipped(broker: &Broker, epoch: u64, blocks: usize, context: impl Fn() -> String) {
	let shipped = broker.try_consume_topics_until(STREAM, &is_stream_topic, TAKEOVER_TIMEOUT, |records| {
		records.iter().filter(|r| name(r) == "BlockCreated" && leader_epoch(r) == Some(epoch)).count() >= blocks
	});
	if let Err(error) = shipped {
		panic!("leader epoch {epoch} did not ship {blocks} blocks: {error}\n{}", context());
	}
}

/// Waits until exactly one of `sinks` is active and the stream holds a `BlockCreated` of its epoch: the leader
/// a round of kills starts from. A restarted node joining the group may make the leader take over again (the
/// lease's group rebalances; a new epoch) before it shipped a block, so a leader superseded meanwhile is read
/// again rather than waited for.
fn wait_for_shipping_leader(broker: &Broker, sinks: &[SinkNode], context: impl Fn() -> String) -> (usize, Role) {
	let candidates: Vec<&SinkNode> = sinks.iter().collect();
	let deadline = Instant::now() + 2 * TAKEOVER_TIMEOUT;
	loop {
		let (leader, role) = wait_for_leader(&candidates, 0, TAKEOVER_TIMEOUT, &context);
		let shipped = broker.try_consume_topics_until(STREAM, &is_stream_topic, Duration::from_secs(10), |records| {
			records.iter().any(|r| name(r) == "BlockCreated" && leader_epoch(r) == Some(role.epoch))
		});
		let still_leads = sinks[leader].role().is_some_and(|now| now.active && now.epoch == role.epoch);
		if shipped.is_ok() && still_leads {
			return (leader, role);
		}
		if Instant::now() > deadline {
			panic!(
				"no leader shipped a block in {:?} (last seen: {} as epoch {}, {})\n{}",
				2 * TAKEOVER_TIMEOUT,
				sinks[leader].label,
				role.epoch,
				shipped.err().unwrap_or_else(|| "superseded since".into()),
				context()
			);
		}
	}
}

/// Sends `signal` to the node's process.
fn signal(node: &NodeProcess, signal: libc::c_int) {
	// SAFETY: kill(2) with a process id this test started and owns.
	let result = unsafe { libc::kill(node.pid() as libc::pid_t, signal) };
	assert_eq!(result, 0, "kill({}, {signal}): {}", node.pid(), std::io::Error::last_os_error());
}

// ---- The truth (Alice's RPC) and the consumer ----

/// The runtime events of a block as the node reports them over RPC, as `Pallet.Variant` in order.
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

/// A canonical block as Alice has it.
struct ChainBlock {
	hash: String,
	/// How many records its `System::Events` holds (its `BlockCreated`'s `data.event_count`).
	event_count: usize,
	/// The events the sink ships (all but [`EXCLUDED`]): `System::Events` index and `Pallet.Variant`.
	events: Vec<(u64, String)>,
}

/// Blocks `0..=last` of Alice's chain; `last` must be final on her.
fn canonical_chain(alice: &NodeProcess, last: u64) -> BTreeMap<u64, ChainBlock> {
	assert!(alice.finalized_number() as u64 >= last, "block #{last} is not final on alice: no truth for it yet");
	(0..=last)
		.map(|number| {
			let hash = common::parse_hash(&alice.rpc("chain_getBlockHash", json!([number])));
			let all = rpc_events(alice, hash);
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

/// What a consumer holds after applying the consumer rule to each topic-partition on its own, in Kafka's order.
struct Applied<'a> {
	/// The live envelopes by `meta.id` (the markers aside), over all partitions.
	live: BTreeMap<&'a str, &'a Record>,
	/// Messages the epoch fence discarded: a `leader_epoch` below the highest its partition had shown before.
	discarded: Vec<&'a Record>,
	/// Messages whose id their partition held live already (identical to the live copy, or a violation).
	duplicates: usize,
	/// `BlockRetracted` envelopes applied.
	retractions: usize,
	/// The epochs of the `LeaderEpoch` markers of each topic-partition (discarded or not).
	markers: BTreeMap<(String, i32), BTreeSet<u64>>,
	/// Breaches of the protocol the rule relies on.
	violations: Vec<String>,
}

/// The consumer rule, per topic-partition (docs/envelope.md): keep the highest `leader_epoch` seen so far (from
/// markers and headers); a message of a lower epoch is a stale leader's late message, discarded. Then upsert by
/// `meta.id` (a repeat of a live id must be byte-identical to the live copy), and a `BlockRetracted` deletes the
/// ids of its `data.event_ids`. Never panics: what breaks the protocol is listed in `violations`.
fn apply_rule(records: &[Record]) -> Applied<'_> {
	let mut applied = Applied {
		live: BTreeMap::new(),
		discarded: Vec::new(),
		duplicates: 0,
		retractions: 0,
		markers: BTreeMap::new(),
		violations: Vec::new(),
	};
	for ((topic, partition), records) in partitions(records) {
		let marked = applied.markers.entry((topic.clone(), partition)).or_default();
		let mut max_epoch: Option<u64> = None;
		let mut live: HashMap<&str, &Record> = HashMap::new();
		for record in records {
			let Some(epoch) = leader_epoch(record) else {
				applied.violations.push(format!(
					"{}: {} has no {LEADER_EPOCH} header (every message of a group's leader has one): {:?}",
					place(record),
					id(record),
					record.headers
				));
				continue;
			};
			if name(record) == MARKER {
				check_marker(record, epoch, &mut applied.violations);
				marked.insert(epoch);
			}
			if max_epoch.is_some_and(|max| epoch < max) {
				applied.discarded.push(record);
				continue;
			}
			max_epoch = Some(epoch);
			if name(record) == MARKER {
				continue;
			}
			if !marked.contains(&epoch) {
				applied.violations.push(format!(
					"{}: {} of leader epoch {epoch} comes before that epoch's {MARKER} marker in its partition",
					place(record),
					id(record)
				));
			}
			if name(record) == "BlockRetracted" {
				match record.envelope["data"]["event_ids"].as_array() {
					Some(ids) => {
						for cancelled in ids.iter().filter_map(|id| id.as_str()) {
							live.remove(cancelled);
						}
					}
					None => {
						applied.violations.push(format!("{}: a BlockRetracted without data.event_ids", place(record)))
					}
				}
				applied.retractions += 1;
				continue;
			}
			let id = id(record);
			if id.is_empty() {
				applied.violations.push(format!("{}: an envelope without meta.id: {}", place(record), record.envelope));
				continue;
			}
			if let Some(earlier) = live.get(id) {
				applied.duplicates += 1;
				if earlier.payload != record.payload {
					applied.violations.push(format!(
						"{}: {id} came again (first at offset {}) with another value:\n  first: {}\n  again: {}",
						place(record),
						earlier.offset,
						String::from_utf8_lossy(&earlier.payload),
						String::from_utf8_lossy(&record.payload)
					));
				}
			}
			live.insert(id, record);
		}
		for (id, record) in live {
			if let Some(other) = applied.live.insert(id, record) {
				let (first, second) = (place(other), place(record));
				applied.violations.push(format!("{id} is live in two partitions: {first} and {second}"));
			}
		}
	}
	applied
}

/// An independent consumer (kafka-python, tools/python/herald_consumer.py, the reference consumer the README
/// points to) reads the same records (up to the offsets this test's consumer reached), applies the rule on its
/// own, and must hold exactly the same live envelopes.
fn same_as_kafka_python(broker: &Broker, records: &[Record], applied: &Applied) {
	let mut until: BTreeMap<String, i64> = BTreeMap::new();
	for record in records {
		let end = until.entry(format!("{}/{}", record.topic, record.partition)).or_default();
		*end = (*end).max(record.offset + 1);
	}
	let python =
		format!("{}/bin/python", std::env::var("HERALD_VENV").unwrap_or_else(|_| "/var/tmp/herald-venv".into()));
	let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/python/herald_consumer.py");
	let output = std::process::Command::new(&python)
		.arg(&script)
		.args(["--brokers", broker.address.as_str(), "--require-epochs", "--until"])
		.arg(serde_json::to_string(&until).unwrap())
		.output()
		.unwrap_or_else(|e| panic!("{python}: {e} (scripts/setup.sh makes the virtualenv)"));
	assert!(output.status.success(), "the kafka-python consumer failed:\n{}", String::from_utf8_lossy(&output.stderr));
	let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("the kafka-python consumer's JSON");
	assert_eq!(report["violations"], json!([]), "the kafka-python consumer finds the protocol broken");
	assert_eq!(report["records"], records.len(), "the kafka-python consumer read as many records");
	let theirs: BTreeSet<&str> = report["live"].as_object().expect("live ids").keys().map(String::as_str).collect();
	let ours: BTreeSet<&str> = applied.live.keys().copied().collect();
	assert!(!ours.is_empty(), "nothing live to compare");
	assert_eq!(
		theirs.symmetric_difference(&ours).collect::<Vec<_>>(),
		Vec::<&&str>::new(),
		"the kafka-python consumer holds other envelopes than this test's ({} against {})",
		theirs.len(),
		ours.len()
	);
	assert_eq!(report["discarded"], applied.discarded.len(), "both consumers discard the same stale messages");
}

/// The published JSON Schema of every message of `topic` (docs/contracts/topics), which must admit the markers.
fn topic_contract(topic: &str) -> &'static jsonschema::Validator {
	static CONTRACTS: std::sync::Mutex<BTreeMap<String, &'static jsonschema::Validator>> =
		std::sync::Mutex::new(BTreeMap::new());
	let mut contracts = CONTRACTS.lock().unwrap();
	contracts.entry(topic.to_string()).or_insert_with(|| {
		let file = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../docs/contracts/topics/{topic}.json"));
		let schema: serde_json::Value =
			serde_json::from_slice(&std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display())))
				.unwrap();
		Box::leak(Box::new(jsonschema::draft7::new(&schema).unwrap()))
	})
}

/// A `LeaderEpoch` marker as the interface has it: `{"name":"LeaderEpoch","type":"infrastructure","data":
/// {"epoch":E,"group":G,"member":M},"meta":{"id":"LeaderEpoch:E","schema_version":1}}`, header `id` the same.
fn check_marker(record: &Record, epoch: u64, violations: &mut Vec<String>) {
	let expected_id = format!("{MARKER}:{epoch}");
	let envelope = &record.envelope;
	if let Err(error) = topic_contract(&record.topic).validate(envelope) {
		violations.push(format!(
			"{}: a marker the published contract (docs/contracts/topics/{}.json) refuses: {error}",
			place(record),
			record.topic
		));
	}
	let fine = record.header("id") == Some(expected_id.as_str())
		&& envelope["meta"]["id"] == expected_id.as_str()
		&& envelope["meta"]["schema_version"] == 1
		&& envelope["type"] == "infrastructure"
		&& envelope["data"]["epoch"] == epoch
		&& envelope["data"]["group"] == GROUP
		&& envelope["data"]["member"].is_string();
	if !fine {
		violations.push(format!(
			"{}: a malformed marker of epoch {epoch} (headers {:?}): {envelope}",
			place(record),
			record.headers
		));
	}
}

/// Whether every message of every block of `chain` is live: its `BlockCreated`, its events, its `BlockFinalized`.
fn all_live(applied: &Applied, chain: &BTreeMap<u64, ChainBlock>) -> bool {
	chain.values().all(|block| {
		applied.live.contains_key(format!("{}:BlockCreated", block.hash).as_str())
			&& applied.live.contains_key(format!("{}:BlockFinalized", block.hash).as_str())
			&& block
				.events
				.iter()
				.all(|(index, _)| applied.live.contains_key(format!("{}:{index}", block.hash).as_str()))
	})
}

/// What a test's check of the stream found.
struct Summary {
	records: usize,
	blocks: u64,
	/// The epochs of every marker in the stream.
	epochs: BTreeSet<u64>,
	discarded: usize,
	/// Discarded messages by their (stale) epoch.
	discarded_by_epoch: BTreeMap<u64, usize>,
	duplicates: usize,
	retractions: usize,
	/// Every message of the stream the check read, in its order, for a test's further checks.
	stream: Vec<Record>,
}

/// Reads the stream back until every message of Alice's blocks `0..=last` is live (or, after a timeout, whatever
/// arrived, for the assertions to name what is missing), applies the consumer rule and asserts, against Alice's
/// RPC:
/// - the protocol holds: every message has its `leader_epoch`, comes after its epoch's marker, and repeats a live
///   id only byte for byte;
/// - every canonical block `0..=last` has exactly one live `BlockCreated`, its own, whose `data.event_count` is
///   its `System::Events` length; its live events are exactly the ones the sink ships (index, `Pallet.Variant`);
///   its `BlockFinalized` is live; nothing live at its height is of another block;
/// - in finalized mode, everything live is final, and the blocks live past `last` are canonical too (in best mode
///   they may still be retracted);
/// - every partition of the blocks topic holds the marker of each of `epochs` (the leaders that shipped).
fn check_stream(
	broker: &Broker,
	alice: &NodeProcess,
	last: u64,
	finalized_mode: bool,
	epochs: &[u64],
	context: impl Fn() -> String,
) -> Summary {
	let chain = canonical_chain(alice, last);
	let records = broker
		.try_consume_topics_until(STREAM, &is_stream_topic, CONSUME_TIMEOUT, |records| {
			all_live(&apply_rule(records), &chain)
		})
		.unwrap_or_else(|error| {
			eprintln!("not every message of blocks 0..={last} is live ({error}); checking what is\n{}", context());
			broker.consume_topics(STREAM, &is_stream_topic, 0, CONSUME_TIMEOUT)
		});
	let applied = apply_rule(&records);
	assert!(
		applied.violations.is_empty(),
		"the stream breaks the group's protocol:\n{}",
		applied.violations.join("\n")
	);
	same_as_kafka_python(broker, &records, &applied);

	let mut by_number: BTreeMap<u64, Vec<&Record>> = BTreeMap::new();
	for record in applied.live.values() {
		match block_number(record) {
			Some(number) => by_number.entry(number).or_default().push(record),
			None => panic!("{}: a live envelope without meta.block.number: {}", place(record), record.envelope),
		}
	}
	for (number, block) in &chain {
		let at_height: &[&Record] = by_number.get(number).map(Vec::as_slice).unwrap_or_default();
		let created: Vec<&str> =
			at_height.iter().filter(|r| name(r) == "BlockCreated").map(|r| block_hash(r)).collect();
		assert_eq!(
			created,
			vec![block.hash.as_str()],
			"block #{number}: exactly one live BlockCreated, of the canonical block {}",
			block.hash
		);
		for record in at_height {
			assert_eq!(
				block_hash(record),
				block.hash,
				"block #{number}: {} ({}) is live but of another block than the canonical {}",
				id(record),
				place(record),
				block.hash
			);
		}
		let created = at_height.iter().find(|r| name(r) == "BlockCreated").expect("checked above");
		assert_eq!(
			created.envelope["data"]["event_count"], block.event_count as u64,
			"block #{number}: BlockCreated's event_count is its System::Events length"
		);
		let mut events: Vec<(u64, String)> = at_height
			.iter()
			.filter_map(|r| {
				let meta = &r.envelope["meta"];
				let index = meta["event_index"].as_u64()?;
				Some((
					index,
					format!("{}.{}", meta["pallet"].as_str().unwrap_or("?"), meta["variant"].as_str().unwrap_or("?")),
				))
			})
			.collect();
		events.sort();
		assert_eq!(events, block.events, "block #{number}: its live events (index, Pallet.Variant) are alice's");
		assert!(at_height.iter().any(|r| name(r) == "BlockFinalized"), "block #{number}: no live BlockFinalized");
	}

	if finalized_mode {
		for record in applied.live.values() {
			assert_eq!(
				record.envelope["meta"]["finalized"],
				true,
				"{}: the finalized mode ships final blocks only: {}",
				place(record),
				record.envelope
			);
		}
		// Blocks past `last` that shipped meanwhile (maybe not all of their messages yet): final, so canonical.
		let beyond: BTreeMap<u64, BTreeSet<&str>> = by_number
			.range(last + 1..)
			.map(|(number, records)| (*number, records.iter().map(|r| block_hash(r)).collect::<BTreeSet<&str>>()))
			.collect();
		if let Some(highest) = beyond.keys().last().copied() {
			wait_until(
				&format!("alice to finalize #{highest}, which the sink shipped as final"),
				NETWORK_TIMEOUT,
				|| (alice.finalized_number() as u64 >= highest).then_some(()),
				&context,
			);
			for (number, hashes) in &beyond {
				let canonical = format!("{:?}", common::parse_hash(&alice.rpc("chain_getBlockHash", json!([number]))));
				assert_eq!(
					hashes,
					&BTreeSet::from([canonical.as_str()]),
					"block #{number}: live messages of a block that is not alice's final one"
				);
			}
		}
	}

	let blocks_partitions: BTreeMap<i32, &BTreeSet<u64>> = applied
		.markers
		.iter()
		.filter(|((topic, _), _)| topic == BLOCKS_TOPIC)
		.map(|((_, partition), epochs)| (*partition, epochs))
		.collect();
	assert_eq!(
		blocks_partitions.len(),
		PARTITIONS,
		"every partition of {BLOCKS_TOPIC} holds messages (markers at least): {blocks_partitions:?}"
	);
	for (partition, marked) in &blocks_partitions {
		for epoch in epochs {
			assert!(
				marked.contains(epoch),
				"{BLOCKS_TOPIC}[{partition}] has no {MARKER} marker of epoch {epoch}; it has {marked:?}"
			);
		}
	}

	let mut discarded_by_epoch: BTreeMap<u64, usize> = BTreeMap::new();
	for record in &applied.discarded {
		*discarded_by_epoch.entry(leader_epoch(record).unwrap_or_default()).or_default() += 1;
	}
	let epochs = applied.markers.values().flatten().copied().collect();
	let (discarded, duplicates, retractions) = (applied.discarded.len(), applied.duplicates, applied.retractions);
	drop(applied);
	Summary {
		records: records.len(),
		blocks: last + 1,
		epochs,
		discarded,
		discarded_by_epoch,
		duplicates,
		retractions,
		stream: records,
	}
}

// ---- The tests ----

/// Finalized mode. The leader is killed with SIGKILL; the standby takes over with a higher epoch. The victim is
/// restarted on its database and comes back as a standby; then the new leader is killed too, and the restarted
/// node takes over. Every final block from genesis on arrives exactly once (live), with all its events, and the
/// markers of the three leaders are in every partition of the blocks topic.
#[test]
fn a_killed_leader_is_replaced_and_every_final_block_arrives() {
	let broker = Broker::start();
	let net = Network::start();
	let mut sinks =
		[SinkNode::start("sink-a", &broker, &net, "finalized"), SinkNode::start("sink-b", &broker, &net, "finalized")];
	let mut busy = 0;

	// The chain first, then a leader that shipped in its epoch (so its markers are in every partition).
	submit_busy(&net, &mut busy);
	net.wait_finalized(3, &sinks);
	let (first, role) = wait_for_leader(&[&sinks[0], &sinks[1]], 0, NETWORK_TIMEOUT, || context(&net, &sinks));
	let e1 = role.epoch;
	assert_took_over(&sinks[first], e1);
	wait_shipped(&broker, e1, 1, || context(&net, &sinks));
	let second = 1 - first;
	check_group_metrics(&sinks[first], &sinks[second]);

	// Kill -9 the leader: its lease expires after the session timeout, and the standby takes over.
	submit_busy(&net, &mut busy);
	sinks[first].kill9();
	let killed_at = Instant::now();
	let (_, role) = wait_for_leader(&[&sinks[second]], e1, TAKEOVER_TIMEOUT, || context(&net, &sinks));
	let e2 = role.epoch;
	let first_failover = killed_at.elapsed();
	assert_took_over(&sinks[second], e2);

	// The victim comes back on its database, as a standby: it never takes the lease from a live leader.
	sinks[first].restart(&net);
	let target = net.alice.finalized_number() + 4;
	submit_busy(&net, &mut busy);
	wait_until(
		&format!("GRANDPA to finalize #{target} while {} stands by", sinks[first].label),
		NETWORK_TIMEOUT,
		|| {
			if let Some(role) = sinks[first].role() {
				assert!(
					!role.active,
					"{} came back active ({role:?}) while {} held the lease\n{}",
					sinks[first].label,
					sinks[second].label,
					context(&net, &sinks)
				);
			}
			(net.alice.finalized_number() >= target).then_some(())
		},
		|| context(&net, &sinks),
	);
	let (leader, role) = wait_for_leader(&[&sinks[0], &sinks[1]], e1, TAKEOVER_TIMEOUT, || context(&net, &sinks));
	assert_eq!(leader, second, "{} still leads, {} stands by", sinks[second].label, sinks[first].label);
	let restarted = sinks[first].role().expect("the restarted node's metrics");
	assert!(!restarted.active, "the restarted node stands by: {restarted:?}");
	assert!(role.lease_age < 30.0, "the leader's lease was renewed lately: {role:?}");
	// Normally still e2; a rebalance when the restarted node joined may have made the same leader take over again.
	let e2 = role.epoch;
	wait_shipped(&broker, e2, 1, || context(&net, &sinks));

	// Kill -9 the new leader: the restarted node takes over.
	submit_busy(&net, &mut busy);
	sinks[second].kill9();
	let killed_at = Instant::now();
	let (_, role) = wait_for_leader(&[&sinks[first]], e2, TAKEOVER_TIMEOUT, || context(&net, &sinks));
	let e3 = role.epoch;
	let second_failover = killed_at.elapsed();
	assert_took_over(&sinks[first], e3);
	assert!(role.takeovers >= 1, "herald_ha_takeovers_total counts the takeover: {role:?}");

	let target = net.alice.finalized_number() + 4;
	net.wait_finalized(target, &sinks);
	let last = net.alice.finalized_number() as u64;
	let summary = check_stream(&broker, &net.alice, last, true, &[e1, e2, e3], || context(&net, &sinks));
	assert!(summary.epochs.len() >= 3, "markers of at least three leader epochs in the stream: {:?}", summary.epochs);
	let role = sinks[first].role().expect("the last leader's metrics");
	assert!(role.active && role.epoch == e3, "the last leader still leads as epoch {e3}: {role:?}");

	eprintln!(
		"ha kill -9: leader epochs {e1} -> {e2} -> {e3} (takeovers {first_failover:?} and {second_failover:?} after \
		 the kills; markers of epochs {:?}); blocks 0..={last} checked ({} blocks) in {} messages: {} duplicates, {} \
		 discarded by the epoch rule {:?}, {} retractions",
		summary.epochs,
		summary.blocks,
		summary.records,
		summary.duplicates,
		summary.discarded,
		summary.discarded_by_epoch,
		summary.retractions,
	);
}

/// Best mode. The leader is frozen with SIGSTOP past its session timeout: the standby takes over. Woken up with
/// SIGCONT, the old leader (a zombie) loses its lease and goes quiet; whatever it still sent lands after the new
/// leader's markers and the consumer rule discards it. Every canonical block is live exactly once, nothing of
/// another block.
#[test]
fn a_stopped_leader_goes_quiet_and_its_late_messages_are_discarded() {
	let broker = Broker::start();
	let net = Network::start();
	let sinks = [SinkNode::start("sink-a", &broker, &net, "best"), SinkNode::start("sink-b", &broker, &net, "best")];
	let mut busy = 0;

	submit_busy(&net, &mut busy);
	net.wait_finalized(2, &sinks);
	let (leader, role) = wait_for_leader(&[&sinks[0], &sinks[1]], 0, NETWORK_TIMEOUT, || context(&net, &sinks));
	let e1 = role.epoch;
	assert_took_over(&sinks[leader], e1);
	wait_shipped(&broker, e1, 3, || context(&net, &sinks));
	let standby = 1 - leader;

	// Freeze the leader mid-shipping, with work in flight: the standby takes over once the lease's session
	// times out.
	submit_busy(&net, &mut busy);
	let zombie = sinks[leader].node();
	signal(zombie, libc::SIGSTOP);
	let stopped_at = Instant::now();
	let (_, role) = wait_for_leader(&[&sinks[standby]], e1, Duration::from_secs(60), || context(&net, &sinks));
	let e2 = role.epoch;
	let failover = stopped_at.elapsed();
	assert_took_over(&sinks[standby], e2);
	// The new leader's markers are in every partition before the zombie wakes up; it ships meanwhile.
	submit_busy(&net, &mut busy);
	wait_shipped(&broker, e2, 1, || context(&net, &sinks));

	signal(zombie, libc::SIGCONT);
	let stopped_for = stopped_at.elapsed();
	wait_until(
		&format!("the woken-up {} to report itself standby", sinks[leader].label),
		Duration::from_secs(60),
		|| role_of(zombie).filter(|role| !role.active),
		|| context(&net, &sinks),
	);
	wait_for_log(zombie, &format!("lost the lease of group {GROUP}"), Duration::from_secs(60));

	submit_busy(&net, &mut busy);
	let target = net.alice.finalized_number() + 4;
	net.wait_finalized(target, &sinks);
	// Exactly one leader at the end. Normally the one that took over; the woken-up node, a standby that joined the
	// group again, may have been given the lease since (as a new epoch, which is no longer a zombie's).
	let (now_leading, role) = wait_for_leader(&[&sinks[0], &sinks[1]], e1, TAKEOVER_TIMEOUT, || context(&net, &sinks));
	let leads_at_end = format!("{} as epoch {}", sinks[now_leading].label, role.epoch);

	let last = net.alice.finalized_number() as u64;
	let summary = check_stream(&broker, &net.alice, last, false, &[e1, e2], || context(&net, &sinks));
	eprintln!(
		"ha SIGSTOP: leader epoch {e1} frozen for {stopped_for:?}, epoch {e2} took over after {failover:?}, \
		 {leads_at_end} leads at the end; the zombie's late messages discarded by the epoch rule: {} {:?}; markers \
		 of epochs {:?}; blocks 0..={last} checked ({} blocks) in {} messages: {} duplicates, {} retractions",
		summary.discarded,
		summary.discarded_by_epoch,
		summary.epochs,
		summary.blocks,
		summary.records,
		summary.duplicates,
		summary.retractions,
	);
}

/// A `--dev` node (manual seal: no consensus needed, this is a check of the configuration) in group [`GROUP`].
fn dev_member(broker: &Broker, partitions: u32) -> NodeConfig {
	NodeConfig::manual_seal()
		.arg("--kafka-brokers")
		.arg(broker.address.clone())
		.arg("--kafka-topic-partitions")
		.arg(partitions.to_string())
		.arg("--kafka-ha-group")
		.arg(GROUP)
		.arg("--kafka-ha-session-timeout")
		.arg(SESSION_TIMEOUT_MS)
}

/// A node started in a group with another partition count than the group's recorded configuration says so in
/// its log and never becomes active; the group's leader leads on.
#[test]
fn a_node_with_another_configuration_does_not_join_the_group() {
	let broker = Broker::start();
	let first = NodeProcess::start(dev_member(&broker, 1));
	let leading = wait_until(
		"the first node to take the group over, with the group's state topic created",
		TAKEOVER_TIMEOUT,
		|| {
			let role = role_of(&first).filter(|role| role.active)?;
			broker.topics("herald.").iter().any(|topic| topic == "herald.sink-state").then_some(role)
		},
		|| first.log_tail(60),
	);
	assert!(took_over(&first.log(), leading.epoch), "its takeover line:\n{}", first.log_tail(60));

	let second = NodeProcess::start(dev_member(&broker, 3));
	let line = wait_for_log(&second, "differs from the group's", Duration::from_secs(60));
	assert!(line.contains("--kafka-topic-partitions"), "the line names what differs: {line}");
	let refused = role_of(&second).unwrap_or_else(|| panic!("the second node's metrics:\n{}", second.log_tail(60)));
	assert!(!refused.active, "the misconfigured node is not active: {refused:?}\n{}", second.log_tail(60));
	assert!(!second.log().contains("took over group"), "the misconfigured node took over:\n{}", second.log_tail(60));
	let still = role_of(&first).unwrap_or_else(|| panic!("the first node's metrics:\n{}", first.log_tail(60)));
	assert!(
		still.active && still.epoch == leading.epoch,
		"the group's leader leads on as epoch {}: {still:?}\n{}",
		leading.epoch,
		first.log_tail(60)
	);
	eprintln!("ha configuration check: the leader (epoch {}) leads on; the other node said: {line}", leading.epoch);
}

// ---- A fork the standby never saw ----

fn peer_id(node: &NodeProcess) -> String {
	node.rpc("system_localPeerId", json!([])).as_str().expect("a peer id").to_string()
}

/// The node's multiaddress with its peer id, for another node's reserved peers.
fn address(node: &NodeProcess) -> String {
	format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", node.p2p_port, peer_id(node))
}

/// Whether `node` is connected to `peer` (`system_peers`); `false` when it doesn't answer.
fn connected(node: &NodeProcess, peer: &str) -> bool {
	let peers = node.try_rpc("system_peers", json!([])).unwrap_or_default();
	peers.as_array().is_some_and(|peers| peers.iter().any(|p| p["peerId"] == peer))
}

/// Whether `node` has the block `hash` (in any fork).
fn knows(node: &NodeProcess, hash: &str) -> bool {
	!node.rpc("chain_getHeader", json!([hash])).is_null()
}

fn best_number(node: &NodeProcess) -> u32 {
	node.block_number(node.best_hash())
}

/// A best-mode sink node of group [`GROUP`] on an island: its only peer is `validator` (`--reserved-only`), which
/// takes it as a reserved peer too (a validator run `--reserved-only` accepts no one else).
fn island_sink(label: &'static str, broker: &Broker, validator: &NodeProcess, validator_address: &str) -> SinkNode {
	let base = tempfile::tempdir().unwrap();
	let args = [
		"--chain",
		"local",
		"--reserved-only",
		"--reserved-nodes",
		validator_address,
		"--kafka-brokers",
		broker.address.as_str(),
		"--kafka-follow",
		"best",
		"--kafka-ha-group",
		GROUP,
		"--kafka-ha-session-timeout",
		SESSION_TIMEOUT_MS,
	];
	let config = NodeConfig {
		args: args.map(String::from).to_vec(),
		base_path: Some(base.path().to_path_buf()),
		env: vec![("HERALD_HA_SNAPSHOT_EVERY".to_string(), "3".to_string())],
	};
	let node = NodeProcess::start(config.clone());
	validator.rpc("system_addReservedPeer", json!([address(&node)]));
	SinkNode { label, config, node: Some(node), _base: base }
}

/// Best mode, the marquee case of issue 20: the leader ships blocks of a fork that loses, then dies, and the
/// standby, which never saw that fork, retracts them with the ids the group's journal recorded.
///
/// Alice and Bob (validators, `--reserved-only`, each other's reserved peer) author and finalize; sink node A's
/// only peer is Alice, sink node B's only peer is Bob. A leads (started first), B stands by. Then the validators
/// are split (each removes the other from its reserved peers): both author on their own fork (Aura's slots
/// alternate), GRANDPA stalls, A ships Alice's fork, B's node sees Bob's only. A and Alice are killed (-9); B takes
/// over and must retract Alice's fork blocks. Bob's fork grows alone until it is longer than Alice's, then Alice
/// comes back on her database, reconnected to Bob: she adopts the longest chain, Bob's, and GRANDPA finalizes it.
/// The truth is Bob's RPC.
#[test]
fn a_fork_shipped_by_a_dead_leader_is_retracted_by_a_standby_that_never_saw_it() {
	let broker = Broker::start();
	let alice_base = tempfile::tempdir().unwrap();
	let alice_config = |extra: &[&str]| {
		let mut config =
			validator(&[&["--alice", "--node-key", ALICE_NODE_KEY, "--reserved-only"][..], extra].concat());
		config.base_path = Some(alice_base.path().to_path_buf());
		config
	};
	let alice = NodeProcess::start(alice_config(&[]));
	let alice_address = format!("/ip4/127.0.0.1/tcp/{}/p2p/{ALICE_PEER_ID}", alice.p2p_port);
	let bob = NodeProcess::start(validator(&[
		"--bob",
		"--node-key",
		BOB_NODE_KEY,
		"--reserved-only",
		"--reserved-nodes",
		&alice_address,
	]));
	let bob_peer = peer_id(&bob);
	let bob_address = address(&bob);
	alice.rpc("system_addReservedPeer", json!([bob_address]));
	let mut net = Network { alice, bob, alice_address, bob_address };

	// A first, so that it leads; B once A shipped.
	let mut sinks = vec![island_sink("sink-a (alice's)", &broker, &net.alice, &net.alice_address)];
	let mut busy = 0;
	submit_busy(&net, &mut busy);
	net.wait_finalized(3, &sinks);
	let (_, role) = wait_for_leader(&[&sinks[0]], 0, NETWORK_TIMEOUT, || context(&net, &sinks));
	let e1 = role.epoch;
	assert_took_over(&sinks[0], e1);
	wait_shipped(&broker, e1, 1, || context(&net, &sinks));
	sinks.push(island_sink("sink-b (bob's)", &broker, &net.bob, &net.bob_address));
	let finalized = net.alice.finalized_number();
	wait_until(
		"sink-b to stand by, synced with bob",
		NETWORK_TIMEOUT,
		|| {
			let role = sinks[1].role()?;
			assert!(!role.active, "sink-b took the lease from a live leader: {role:?}\n{}", context(&net, &sinks));
			(sinks[1].node().finalized_number() >= finalized).then_some(())
		},
		|| context(&net, &sinks),
	);

	// The split: each validator drops the other; the sink nodes keep theirs (so neither validator is offline).
	net.alice.rpc("system_removeReservedPeer", json!([bob_peer]));
	net.bob.rpc("system_removeReservedPeer", json!([ALICE_PEER_ID]));
	wait_until(
		"alice and bob to disconnect",
		Duration::from_secs(30),
		|| (!connected(&net.alice, &bob_peer) && !connected(&net.bob, ALICE_PEER_ID)).then_some(()),
		|| context(&net, &sinks),
	);
	let split_finalized = net.alice.finalized_number();
	submit_busy(&net, &mut busy);
	common::submit_busy_extrinsics(&net.bob, 1000 + busy);

	// A ships Alice's fork: blocks Bob doesn't have.
	let alice_fork = |records: &[Record]| -> BTreeSet<String> {
		records
			.iter()
			.filter(|r| name(r) == "BlockCreated" && leader_epoch(r) == Some(e1))
			.filter(|r| block_number(r).is_some_and(|n| n > split_finalized as u64))
			.map(|r| block_hash(r).to_string())
			.filter(|hash| !knows(&net.bob, hash))
			.collect()
	};
	let shipped = broker
		.try_consume_topics_until(STREAM, &is_stream_topic, NETWORK_TIMEOUT, |records| alice_fork(records).len() >= 2)
		.unwrap_or_else(|error| {
			panic!("sink-a did not ship 2 blocks of alice's fork: {error}\n{}", context(&net, &sinks))
		});
	let seen_fork = alice_fork(&shipped);
	assert!(
		!connected(&net.alice, &bob_peer) && !connected(&net.bob, ALICE_PEER_ID),
		"alice and bob reconnected while split\n{}",
		context(&net, &sinks)
	);
	for sink in &sinks {
		for hash in &seen_fork {
			if sink.label.starts_with("sink-b") {
				assert!(!knows(sink.node(), hash), "sink-b's node has alice's fork block {hash}");
			}
		}
	}

	// A and Alice die: her fork can only lose now.
	let alice_tip = best_number(&net.alice);
	sinks[0].kill9();
	signal(&net.alice, libc::SIGKILL);
	net.alice.wait_exit(Duration::from_secs(30)).expect("alice exits after SIGKILL");
	let killed_at = Instant::now();
	let (_, role) = wait_for_leader(&[&sinks[1]], e1, TAKEOVER_TIMEOUT, || context(&net, &sinks));
	let e2 = role.epoch;
	let failover = killed_at.elapsed();
	assert_took_over(&sinks[1], e2);
	let retracted_by = |records: &[Record], hash: &str, epoch: u64| {
		records.iter().any(|r| name(r) == "BlockRetracted" && block_hash(r) == hash && leader_epoch(r) == Some(epoch))
	};
	if let Err(error) = broker.try_consume_topics_until(STREAM, &is_stream_topic, TAKEOVER_TIMEOUT, |records| {
		seen_fork.iter().all(|hash| retracted_by(records, hash, e2))
	}) {
		panic!("sink-b (epoch {e2}) did not retract alice's fork {seen_fork:?}: {error}\n{}", context(&net, &sinks));
	}

	// Bob's fork outgrows Alice's; then she comes back on her database and adopts it.
	common::submit_busy_extrinsics(&net.bob, 2000 + busy);
	wait_until(
		&format!("bob's best chain to pass alice's fork tip #{alice_tip} by 2"),
		NETWORK_TIMEOUT,
		|| (best_number(&net.bob) >= alice_tip + 2).then_some(()),
		|| context(&net, &sinks),
	);
	net.alice = NodeProcess::start(alice_config(&["--reserved-nodes", &net.bob_address]));
	net.alice_address = format!("/ip4/127.0.0.1/tcp/{}/p2p/{ALICE_PEER_ID}", net.alice.p2p_port);
	net.bob.rpc("system_addReservedPeer", json!([net.alice_address]));
	let target = alice_tip + 3;
	wait_until(
		&format!("GRANDPA to finalize #{target} (3 past alice's fork tip) with alice back"),
		NETWORK_TIMEOUT,
		|| (net.bob.finalized_number() >= target).then_some(()),
		|| context(&net, &sinks),
	);

	let last = net.bob.finalized_number() as u64;
	let summary = check_stream(&broker, &net.bob, last, false, &[e1, e2], || context(&net, &sinks));

	// Every block of the stream at a final height that is not Bob's canonical one: Alice's fork (and any other).
	let canonical: BTreeMap<u64, String> = (0..=last)
		.map(|n| (n, format!("{:?}", common::parse_hash(&net.bob.rpc("chain_getBlockHash", json!([n]))))))
		.collect();
	let is_off_chain = |r: &Record| block_number(r).is_some_and(|n| n <= last && canonical[&n] != block_hash(r));
	// Per off-chain block: the partitions its messages reached, and those where it was retracted.
	let mut reached: BTreeMap<String, BTreeSet<(String, i32)>> = BTreeMap::new();
	let mut retracted: BTreeMap<String, BTreeSet<(String, i32)>> = BTreeMap::new();
	let mut retracting_epochs: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
	let mut shipped_by_a: BTreeSet<String> = BTreeSet::new();
	for record in summary.stream.iter().filter(|r| is_off_chain(r)) {
		let hash = block_hash(record).to_string();
		let partition = (record.topic.clone(), record.partition);
		if name(record) == "BlockRetracted" {
			retracted.entry(hash.clone()).or_default().insert(partition);
			retracting_epochs.entry(hash).or_default().extend(leader_epoch(record));
		} else {
			if name(record) == "BlockCreated" && leader_epoch(record) == Some(e1) {
				shipped_by_a.insert(hash.clone());
			}
			reached.entry(hash).or_default().insert(partition);
		}
	}
	for hash in &seen_fork {
		assert!(shipped_by_a.contains(hash), "alice's fork block {hash} is off bob's final chain and shipped by A");
	}
	for (hash, partitions) in &reached {
		let cancelled = retracted.get(hash).cloned().unwrap_or_default();
		let missing: Vec<_> = partitions.difference(&cancelled).collect();
		assert!(
			missing.is_empty(),
			"off-chain block {hash}: its messages reached {missing:?} but no BlockRetracted did (retracted in \
			 {cancelled:?})"
		);
	}
	let applied = apply_rule(&summary.stream);
	let phantoms: Vec<&str> =
		applied.live.values().filter(|r| reached.contains_key(block_hash(r))).map(|r| id(r)).collect();
	assert!(phantoms.is_empty(), "live messages of off-chain blocks: {phantoms:?}");
	let by_b = shipped_by_a.iter().filter(|hash| retracting_epochs.get(*hash).is_some_and(|e| e.contains(&e2))).count();
	assert_eq!(by_b, shipped_by_a.len(), "sink-b (epoch {e2}) retracted every off-chain block A shipped");

	eprintln!(
		"ha fork: split at final #{split_finalized}, alice's fork tip #{alice_tip}; {} off-chain blocks shipped by A \
		 (epoch {e1}; {} seen before the kill: {seen_fork:?}), {by_b} retracted by B (epoch {e2}, took over \
		 {failover:?} after the kill) in {} partitions; markers of epochs {:?}; blocks 0..={last} checked ({} blocks) \
		 in {} messages: {} duplicates, {} discarded by the epoch rule, {} retractions",
		shipped_by_a.len(),
		seen_fork.len(),
		retracted.values().map(BTreeSet::len).sum::<usize>(),
		summary.epochs,
		summary.blocks,
		summary.records,
		summary.duplicates,
		summary.discarded,
		summary.retractions,
	);
}

// ---- Crash points and random kills ----

/// A small deterministic random generator (splitmix64): a seed replays the same rounds.
struct Rng(u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
		z ^ (z >> 31)
	}

	fn below(&mut self, bound: u64) -> u64 {
		self.next() % bound
	}
}

/// An environment variable's value as a number, or `default`.
fn env_number(name: &str, default: u64) -> u64 {
	match std::env::var(name) {
		Ok(value) => value.trim().parse().unwrap_or_else(|_| panic!("{name}={value:?} is not a number")),
		Err(_) => default,
	}
}

/// How a round kills the leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kill {
	/// `kill -9` after a random delay.
	Random,
	/// A fault point: the standby comes back with it, the leader is killed, the standby takes over and kills
	/// itself at the point.
	Point(&'static str),
}

/// The fault points a round can pick. `kill-after-retract-intent` is not among them: it needs a retraction, i.e.
/// a block the leader shipped leaving the best chain, which this network doesn't make on demand (the fork test
/// above makes one, once).
const POINTS: &[&str] = &["kill-after-intent", "kill-after-ack", "kill-in-takeover"];

/// A crash point that fired: what to check in the stream afterwards.
struct Fired {
	round: u64,
	point: &'static str,
	/// The first block number (or, for `kill-in-takeover`, epoch) of the point's range.
	from: u64,
	/// The faulty node's epoch, when it logged its takeover (not for `kill-in-takeover`).
	epoch: Option<u64>,
	/// The epoch of the takeover that came after it.
	next_epoch: u64,
	/// Whether its log showed "test faults injected" before it died.
	logged: bool,
}

/// Best mode, the two-validator network of the kill test. Rounds drawn from a seeded generator
/// (`HERALD_HA_SEED`, `HERALD_HA_ROUNDS`) each kill the current leader, either with `kill -9` after a random delay
/// (0-3 s), or at one of the product's crash points (`HERALD_TEST_FAULTS`): the standby is restarted with the
/// point set for a range of blocks a few ahead of the best (or of epochs after the current one), the leader is
/// killed, the standby takes over and kills itself at the point; the first victim, restarted without faults,
/// takes over then, and the faulty node comes back without faults as the standby. Each crash point's kill is
/// checked: the node died of SIGKILL on its own after logging "test faults injected", and the stream shows it
/// died where the point says (nothing of the block after an intent, part of the block after an ack, no marker
/// after a takeover). At the end, the consumer rule's checks of the other tests.
#[test]
fn kills_at_crash_points_and_random_moments_lose_nothing() {
	use std::os::unix::process::ExitStatusExt;

	// The default seed draws every kind of round in the first four (intent, random, takeover, ack).
	let seed = env_number("HERALD_HA_SEED", 15);
	let rounds = env_number("HERALD_HA_ROUNDS", 4);
	eprintln!("ha kills: seed {seed} (HERALD_HA_SEED), {rounds} rounds (HERALD_HA_ROUNDS)");
	let mut rng = Rng(seed);
	let broker = Broker::start();
	let net = Network::start();
	let mut sinks =
		[SinkNode::start("sink-a", &broker, &net, "best"), SinkNode::start("sink-b", &broker, &net, "best")];
	let mut busy = 0;
	submit_busy(&net, &mut busy);
	net.wait_finalized(2, &sinks);

	let mut shipped_epochs: BTreeSet<u64> = BTreeSet::new();
	let mut kinds: BTreeMap<Kill, usize> = BTreeMap::new();
	let mut fired: Vec<Fired> = Vec::new();
	for round in 1..=rounds {
		// Whoever leads now (a restarted node joining may have made the leader take over again), once it shipped.
		let (leader, role) = wait_for_shipping_leader(&broker, &sinks, || context(&net, &sinks));
		let epoch = role.epoch;
		shipped_epochs.insert(epoch);
		let standby = 1 - leader;
		submit_busy(&net, &mut busy);
		let kind = match rng.below(POINTS.len() as u64 + 1) {
			0 => Kill::Random,
			n => Kill::Point(POINTS[n as usize - 1]),
		};
		*kinds.entry(kind).or_default() += 1;
		match kind {
			Kill::Random => {
				let delay = Duration::from_millis(rng.below(3001));
				eprintln!("round {round}: kill -9 of {} (epoch {epoch}) after {delay:?}", sinks[leader].label);
				std::thread::sleep(delay);
				sinks[leader].kill9();
				let (_, role) = wait_for_leader(&[&sinks[standby]], epoch, TAKEOVER_TIMEOUT, || context(&net, &sinks));
				assert_took_over(&sinks[standby], role.epoch);
				sinks[leader].restart(&net);
			}
			Kill::Point(point) => {
				// A range, so that the point fires at the faulty node's first block (or takeover) in it, however
				// long the restart and the takeover take.
				let from = if point == "kill-in-takeover" { epoch + 1 } else { best_number(&net.alice) as u64 + 3 };
				let spec: Vec<String> = (from..from + 30).map(|n| format!("{point}@{n}")).collect();
				eprintln!(
					"round {round}: {} comes back with {point}@{from}..{}, then {} (epoch {epoch}) is killed",
					sinks[standby].label,
					from + 29,
					sinks[leader].label
				);
				sinks[standby].kill9();
				sinks[standby].restart_with_faults(&net, Some(&spec.join(",")));
				wait_for_log(sinks[standby].node(), &format!("joined group {GROUP}"), TAKEOVER_TIMEOUT);
				sinks[leader].kill9();
				let faulty = sinks[standby].node();
				let status = faulty.wait_exit(TAKEOVER_TIMEOUT + NETWORK_TIMEOUT).unwrap_or_else(|| {
					panic!("{} did not die at {point}@{from}..\n{}", sinks[standby].label, context(&net, &sinks))
				});
				assert_eq!(
					status.signal(),
					Some(libc::SIGKILL),
					"{} died of SIGKILL, by its own hand ({status:?})\n{}",
					sinks[standby].label,
					faulty.log_tail(60)
				);
				// The test kills no faulty node itself: a SIGKILL is the point's. Its log line "test faults injected"
				// (written when the node first checks a point) may be lost: Substrate's logger flushes stderr from a
				// buffer every 50 ms (sc-tracing's stderr_writer), which a SIGKILL right after the first check
				// (kill-in-takeover's) drops. So it is counted, not required; the stream shows where it died.
				std::thread::sleep(Duration::from_millis(500));
				let log = faulty.log();
				let logged = log.contains("test faults injected");
				let faulty_epoch = log
					.lines()
					.filter_map(|line| line.split_once(&format!("took over group {GROUP} as leader epoch ")))
					.filter_map(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse::<u64>().ok())
					.last();
				if point == "kill-in-takeover" {
					assert_eq!(
						faulty_epoch,
						None,
						"killed in its takeover, before its log line:\n{}",
						faulty.log_tail(60)
					);
				} else {
					assert!(faulty_epoch.is_some(), "the faulty node took over before dying:\n{}", faulty.log_tail(60));
				}
				drop(sinks[standby].node.take());
				// The first victim comes back and takes over; then the faulty node comes back, without faults.
				sinks[leader].restart(&net);
				let (_, role) = wait_for_leader(&[&sinks[leader]], epoch, TAKEOVER_TIMEOUT, || context(&net, &sinks));
				assert_took_over(&sinks[leader], role.epoch);
				fired.push(Fired { round, point, from, epoch: faulty_epoch, next_epoch: role.epoch, logged });
				sinks[standby].restart_with_faults(&net, None);
			}
		}
	}
	submit_busy(&net, &mut busy);
	let (leader, role) = wait_for_shipping_leader(&broker, &sinks, || context(&net, &sinks));
	shipped_epochs.insert(role.epoch);

	let target = net.alice.finalized_number() + 4;
	net.wait_finalized(target, &sinks);
	let last = net.alice.finalized_number() as u64;
	let epochs: Vec<u64> = shipped_epochs.iter().copied().collect();
	let summary = check_stream(&broker, &net.alice, last, false, &epochs, || context(&net, &sinks));

	// Where each crash point's node died, as the stream shows it.
	for fault in &fired {
		let what = format!("round {}: {}@{}..", fault.round, fault.point, fault.from);
		match fault.epoch {
			None => {
				// Killed after writing its takeover as some epoch of the range, before its markers: the next
				// leader took the epoch after it, and no marker of the faulty epoch exists.
				let faulty = fault.next_epoch - 1;
				assert!(
					faulty >= fault.from,
					"{what}: the next leader's epoch {} is past the faulty takeover",
					fault.next_epoch
				);
				assert!(
					!summary.epochs.contains(&faulty),
					"{what}: a {MARKER} marker of epoch {faulty}, whose leader was killed before its markers"
				);
			}
			Some(epoch) => {
				let heights: BTreeMap<u64, BTreeSet<&str>> = summary
					.stream
					.iter()
					// The block's own messages (its BlockFinalized may come later, without an intent).
					.filter(|r| leader_epoch(r) == Some(epoch))
					.filter(|r| ![MARKER, "BlockFinalized", "BlockRetracted"].contains(&name(r)))
					.filter_map(|r| Some((block_number(r)?, name(r))))
					.filter(|(n, _)| *n >= fault.from)
					.fold(BTreeMap::new(), |mut map, (n, name)| {
						map.entry(n).or_insert_with(BTreeSet::new).insert(name);
						map
					});
				if fault.point == "kill-after-intent" {
					assert!(
						heights.is_empty(),
						"{what}: epoch {epoch} shipped messages of #{:?} after its intent",
						heights.keys()
					);
				} else {
					assert!(
						!heights.is_empty(),
						"{what}: epoch {epoch} shipped nothing of the block whose ack killed it"
					);
				}
			}
		}
	}
	let role_end = format!("{} as epoch {}", sinks[leader].label, role.epoch);
	let counts: Vec<String> = kinds.iter().map(|(kind, n)| format!("{kind:?}: {n}")).collect();
	let points: Vec<String> = fired
		.iter()
		.map(|f| {
			format!(
				"round {} {}@{}.. (faulty epoch {:?}, then {}; \"test faults injected\" logged: {})",
				f.round, f.point, f.from, f.epoch, f.next_epoch, f.logged
			)
		})
		.collect();
	eprintln!(
		"ha kills: seed {seed}, {rounds} rounds ({}); crash points fired: {points:?}; {role_end} leads at the end; \
		 markers of epochs {:?}; blocks 0..={last} checked ({} blocks) in {} messages: {} duplicates, {} discarded by \
		 the epoch rule {:?}, {} retractions",
		counts.join(", "),
		summary.epochs,
		summary.blocks,
		summary.records,
		summary.duplicates,
		summary.discarded,
		summary.discarded_by_epoch,
		summary.retractions,
	);
}

/// Best mode, a broker with nisshi's `sqlite://` engine (its data survives) killed and started again while the
/// group ships: the members lose their group with it, join again, and one of them leads (in a new epoch or the
/// same): every canonical block is live once with its events, nothing of another block, and exactly one node leads
/// at the end.
#[test]
fn a_restarted_broker_leaves_one_leader_and_loses_nothing() {
	let mut broker = Broker::start_persistent();
	let net = Network::start();
	let sinks = [SinkNode::start("sink-a", &broker, &net, "best"), SinkNode::start("sink-b", &broker, &net, "best")];
	let mut busy = 0;

	submit_busy(&net, &mut busy);
	net.wait_finalized(2, &sinks);
	let (_, role) = wait_for_leader(&[&sinks[0], &sinks[1]], 0, NETWORK_TIMEOUT, || context(&net, &sinks));
	let e1 = role.epoch;
	wait_shipped(&broker, e1, 2, || context(&net, &sinks));

	// With work in flight: the broker dies and comes back on its data.
	submit_busy(&net, &mut busy);
	broker.restart();
	let restarted_at = Instant::now();
	submit_busy(&net, &mut busy);
	let target = net.alice.finalized_number() + 4;
	net.wait_finalized(target, &sinks);
	let (leader, role) = wait_for_leader(&[&sinks[0], &sinks[1]], 0, TAKEOVER_TIMEOUT, || context(&net, &sinks));
	let recovered = restarted_at.elapsed();
	let other = sinks[1 - leader].role().expect("the standby's metrics");
	assert!(!other.active, "exactly one leader after the restart: {role:?} and {other:?}\n{}", context(&net, &sinks));
	submit_busy(&net, &mut busy);
	wait_shipped(&broker, role.epoch, 1, || context(&net, &sinks));

	let last = net.alice.finalized_number() as u64;
	let summary = check_stream(&broker, &net.alice, last, false, &[role.epoch], || context(&net, &sinks));
	eprintln!(
		"ha broker restart: epoch {e1} before, {} as epoch {} leads {recovered:?} after the restart; markers of \
		 epochs {:?}; blocks 0..={last} checked ({} blocks) in {} messages: {} duplicates, {} discarded by the epoch \
		 rule, {} retractions",
		sinks[leader].label,
		role.epoch,
		summary.epochs,
		summary.blocks,
		summary.records,
		summary.duplicates,
		summary.discarded,
		summary.retractions,
	);
}

/// A stale leader's record that lands in the state topic after the takeover (here written by the test itself: a
/// zombie's intent to ship a block the group's leader never saw) is swept in while the leader runs: the leader
/// reads the state topic again within seconds and retracts the block with the ids the record names.
#[test]
fn a_stale_leaders_late_intent_is_swept_and_its_block_retracted() {
	use herald_event_sink::{
		follow::BlockLink,
		ha::state::StateRecord,
		store::{EntryState, JournalEntry, Placement},
	};
	use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

	let broker = Broker::start();
	let node = NodeProcess::start(dev_member(&broker, 1).arg("--kafka-follow").arg("best"));
	for _ in 0..3 {
		node.seal_block(false, None);
	}
	let leading = wait_until(
		"the node to take the group over",
		TAKEOVER_TIMEOUT,
		|| role_of(&node).filter(|role| role.active),
		|| node.log_tail(60),
	);
	wait_shipped(&broker, leading.epoch, 3, || node.log_tail(60));

	// The zombie (epoch 0, before the leader's) had recorded that it was shipping a block of another fork at #2.
	let fork_hash = sp_core::H256::repeat_byte(0x5a);
	let parent = node.rpc("chain_getBlockHash", serde_json::json!([1]));
	let stale = StateRecord::Commit {
		epoch: leading.epoch - 1,
		member: "zombie".into(),
		changes: vec![herald_event_sink::ha::state::Logged::Put(JournalEntry {
			block: BlockLink { number: 2, hash: fork_hash, parent: common::parse_hash(&parent) },
			state: EntryState::Shipping,
			spec_version: node.spec_version(),
			timestamp: None,
			placements: vec![Placement {
				topic: BLOCKS_TOPIC.into(),
				partition: 0,
				ids: vec!["BlockCreated".into(), "BlockFinalized".into()],
			}],
		})],
	};
	let producer: BaseProducer = broker.client_config().create().expect("a producer");
	producer
		.send(BaseRecord::<(), [u8]>::to("herald.sink-state").partition(0).payload(&stale.to_bytes()))
		.expect("the stale record is queued");
	producer.flush(Duration::from_secs(30)).expect("the stale record is written");

	let fork = format!("{fork_hash:?}");
	let records = broker
		.try_consume_topics_until(STREAM, &is_stream_topic, Duration::from_secs(60), |records| {
			records.iter().any(|r| name(r) == "BlockRetracted" && block_hash(r) == fork)
		})
		.unwrap_or_else(|error| panic!("{error}\n{}", node.log_tail(80)));
	let retraction = records.iter().find(|r| name(r) == "BlockRetracted" && block_hash(r) == fork).unwrap();
	assert_eq!(
		retraction.envelope["data"]["event_ids"],
		serde_json::json!([format!("{fork}:BlockCreated"), format!("{fork}:BlockFinalized")]),
		"the retraction names the ids the stale record gave"
	);
	assert_eq!(leader_epoch(retraction), Some(leading.epoch), "the leader retracted it, in its own epoch");
	assert!(
		node.log().contains("a stale leader of group"),
		"the leader said it swept a stale record:\n{}",
		node.log_tail(60)
	);
	let still = role_of(&node).expect("the leader's metrics");
	assert!(still.active && still.epoch == leading.epoch, "the leader leads on: {still:?}");
	eprintln!("ha sweep: a stale intent for {fork} retracted by epoch {}", leading.epoch);
}
