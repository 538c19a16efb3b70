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

// The tests, in two modules that `scripts/test.sh` runs as two groups (each about two minutes, in lanes of their own).
mod crash;
mod takeover;

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
/// in `takeover.rs` makes one, once).
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
