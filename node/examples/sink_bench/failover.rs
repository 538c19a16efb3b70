//! `bench.sh failover [ROUNDS]`: how long a high-availability group (`--kafka-ha-group`, issue 20) ships nothing
//! after its leader dies. The set-up of `node/tests/e2e/ha/`: two validators (Alice and Bob, Aura and GRANDPA, no
//! sink), two best-mode sink nodes of one group (`--kafka-ha-session-timeout 3000`), one nisshi broker, and a
//! consumer of `herald.blocks` that notes when each message arrives. Each round waits until one sink node is active
//! and shipped a block in its epoch (the other joined the group, stands by and has the chain up to the latest
//! shipped block), then `kill -9`s the active one and times, from the kill:
//! - (a) the standby's `herald_ha_active` metric becoming 1 (polled every 50 ms);
//! - (b) the first `BlockCreated` on `herald.blocks` whose `leader_epoch` header is above the dead leader's: the
//!   new leader's first shipped block (arrival at the consumer, which asks the broker at least every 50 ms).
//!
//! (b) also waits for a block to ship: Aura authors one every 6 s, and when the dead leader had shipped every block
//! and none came during the takeover, the new leader's first is the next one. The killed node is restarted on its
//! database as the new standby, and the next round waits until it joined. Prints each round and min/median/max.

use std::{
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc, Mutex,
	},
	time::{Duration, Instant},
};

use rdkafka::{
	consumer::{BaseConsumer, Consumer},
	Offset, TopicPartitionList,
};
use serde_json::json;

use crate::common::{
	kafka::{Broker, Record},
	metric, NodeConfig, NodeProcess,
};

/// The group, session timeout and keys of `node/tests/e2e/ha/`.
const GROUP: &str = "g";
const SESSION_TIMEOUT_MS: &str = "3000";
const BLOCKS_TOPIC: &str = "herald.blocks";
const ALICE_NODE_KEY: &str = "0000000000000000000000000000000000000000000000000000000000000001";
const ALICE_PEER_ID: &str = "12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp";
const BOB_NODE_KEY: &str = "0000000000000000000000000000000000000000000000000000000000000002";

/// The network's start, a leader shipping, a standby joined and synced.
const READY_TIMEOUT: Duration = Duration::from_secs(180);
/// From the kill to (a) and to (b).
const TAKEOVER_TIMEOUT: Duration = Duration::from_secs(90);
/// How often (a) and (b) are checked.
const POLL: Duration = Duration::from_millis(50);

/// Alice and Bob, validators without a sink, and their multiaddresses with peer ids.
struct Network {
	alice: NodeProcess,
	bob: NodeProcess,
	alice_address: String,
	bob_address: String,
}

fn validator(extra: &[&str]) -> NodeConfig {
	let mut args = vec!["--chain", "local", "--validator"];
	args.extend_from_slice(extra);
	NodeConfig { args: args.into_iter().map(String::from).collect(), base_path: None, env: Vec::new() }
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
		alice.rpc("system_addReservedPeer", json!([bob_address]));
		Network { alice, bob, alice_address, bob_address }
	}
}

/// A best-mode sink node of [`GROUP`] on its own database, which the benchmark kills and restarts.
struct SinkNode {
	label: &'static str,
	config: NodeConfig,
	/// `None` while it is killed.
	node: Option<NodeProcess>,
	_base: tempfile::TempDir,
}

impl SinkNode {
	fn start(label: &'static str, broker: &Broker, net: &Network) -> Self {
		let base = tempfile::tempdir().unwrap();
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
			"best",
			"--kafka-ha-group",
			GROUP,
			"--kafka-ha-session-timeout",
			SESSION_TIMEOUT_MS,
		];
		let config = NodeConfig {
			args: args.map(String::from).to_vec(),
			base_path: Some(base.path().to_path_buf()),
			env: vec![],
		};
		let mut sink = SinkNode { label, config, node: None, _base: base };
		sink.restart(net);
		sink
	}

	/// Starts the node (again: same database, new ports), with Alice as a reserved peer.
	fn restart(&mut self, net: &Network) {
		let node = NodeProcess::start(self.config.clone());
		node.rpc("system_addReservedPeer", json!([net.alice_address]));
		self.node = Some(node);
	}

	fn node(&self) -> &NodeProcess {
		self.node.as_ref().unwrap_or_else(|| panic!("{} is not running", self.label))
	}

	/// SIGKILL; returns the moment right after the signal was sent (the process is reaped after it).
	fn kill9(&mut self) -> Instant {
		let node = self.node.take().unwrap_or_else(|| panic!("{} is not running", self.label));
		// SAFETY: kill(2) with the id of a child process this benchmark started and has not reaped yet.
		let sent = unsafe { libc::kill(node.pid() as libc::pid_t, libc::SIGKILL) };
		let killed_at = Instant::now();
		assert_eq!(sent, 0, "kill -9 {}: {}", node.pid(), std::io::Error::last_os_error());
		node.kill9();
		killed_at
	}

	fn role(&self) -> Option<Role> {
		self.node.as_ref().and_then(role_of)
	}
}

/// A node's part in the group, from its metrics.
#[derive(Clone, Copy, Debug)]
struct Role {
	/// `herald_ha_active` is 1.
	active: bool,
	/// `herald_ha_epoch`.
	epoch: u64,
}

/// The node's role; `None` when its metrics don't answer within 5 s or don't have the group's yet.
fn role_of(node: &NodeProcess) -> Option<Role> {
	let metrics = ureq::get(&format!("http://127.0.0.1:{}/metrics", node.prometheus_port))
		.timeout(Duration::from_secs(5))
		.call()
		.ok()?
		.into_string()
		.ok()?;
	Some(Role {
		active: metric(&metrics, "herald_ha_active")? == 1.0,
		epoch: metric(&metrics, "herald_ha_epoch")? as u64,
	})
}

fn best_number(node: &NodeProcess) -> u32 {
	node.block_number(node.best_hash())
}

/// Every node's log tail, for a panic's message.
fn context(net: &Network, sinks: &[SinkNode]) -> String {
	let mut text = format!("--- alice ---\n{}\n--- bob ---\n{}", net.alice.log_tail(20), net.bob.log_tail(20));
	for sink in sinks {
		match &sink.node {
			Some(node) => text.push_str(&format!("\n--- {} ---\n{}", sink.label, node.log_tail(40))),
			None => text.push_str(&format!("\n--- {} (not running) ---", sink.label)),
		}
	}
	text
}

/// Polls `check` every [`POLL`] until it returns `Some`; panics after `timeout` naming `what`, with `context()`.
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
		std::thread::sleep(POLL);
	}
}

/// A message of `herald.blocks` as the consumer saw it.
struct Seen {
	/// When the consumer received it.
	at: Instant,
	name: String,
	/// Its `leader_epoch` header.
	epoch: Option<u64>,
	/// `meta.block.number`.
	number: Option<u64>,
}

/// A consumer of every partition of `herald.blocks` from the beginning, on a thread of its own, noting when each
/// message arrives.
struct BlocksConsumer {
	seen: Arc<Mutex<Vec<Seen>>>,
	stop: Arc<AtomicBool>,
	thread: Option<std::thread::JoinHandle<()>>,
}

impl BlocksConsumer {
	fn start(broker: &Broker) -> Self {
		let mut config = broker.client_config();
		config
			.set("group.id", "herald-bench-failover")
			.set("enable.auto.commit", "false")
			.set("enable.partition.eof", "false")
			// The broker answers a fetch at the latest after 50 ms, data or not (librdkafka's default is 500).
			.set("fetch.wait.max.ms", "50");
		let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
		let stop = Arc::new(AtomicBool::new(false));
		let (seen2, stop2) = (seen.clone(), stop.clone());
		let thread = std::thread::spawn(move || {
			let consumer: BaseConsumer = config.create().expect("a consumer");
			// The sink creates its topics when it first reaches the broker.
			let assignment = loop {
				let metadata = consumer.fetch_metadata(None, Duration::from_secs(10)).expect("cluster metadata");
				let mut assignment = TopicPartitionList::new();
				for topic in metadata.topics().iter().filter(|t| t.name() == BLOCKS_TOPIC) {
					for partition in topic.partitions() {
						assignment.add_partition_offset(topic.name(), partition.id(), Offset::Beginning).unwrap();
					}
				}
				if assignment.count() > 0 {
					break assignment;
				}
				if stop2.load(Ordering::SeqCst) {
					return;
				}
				std::thread::sleep(Duration::from_millis(500));
			};
			consumer.assign(&assignment).expect("assign partitions");
			while !stop2.load(Ordering::SeqCst) {
				match consumer.poll(Duration::from_millis(100)) {
					Some(Ok(message)) => {
						let at = Instant::now();
						let record = Record::from(&message);
						seen2.lock().unwrap().push(Seen {
							at,
							name: record.envelope["name"].as_str().unwrap_or_default().to_string(),
							epoch: record.header("leader_epoch").and_then(|e| e.parse().ok()),
							number: record.envelope["meta"]["block"]["number"].as_u64(),
						});
					}
					Some(Err(error)) => eprintln!("consumer of {BLOCKS_TOPIC}: {error}"),
					None => {}
				}
			}
		});
		BlocksConsumer { seen, stop, thread: Some(thread) }
	}

	/// The highest block number of the `BlockCreated` messages of leader epoch `epoch` so far.
	fn latest_of_epoch(&self, epoch: u64) -> Option<u64> {
		let seen = self.seen.lock().unwrap();
		seen.iter().filter(|s| s.name == "BlockCreated" && s.epoch == Some(epoch)).filter_map(|s| s.number).max()
	}

	/// The highest block number of every `BlockCreated` so far.
	fn latest(&self) -> Option<u64> {
		let seen = self.seen.lock().unwrap();
		seen.iter().filter(|s| s.name == "BlockCreated").filter_map(|s| s.number).max()
	}

	/// When the first message named `name` of a leader epoch above `epoch` arrived, and its block number.
	fn first_above(&self, name: &str, epoch: u64) -> Option<(Instant, Option<u64>)> {
		let seen = self.seen.lock().unwrap();
		seen.iter().find(|s| s.name == name && s.epoch.is_some_and(|e| e > epoch)).map(|s| (s.at, s.number))
	}
}

impl Drop for BlocksConsumer {
	fn drop(&mut self) {
		self.stop.store(true, Ordering::SeqCst);
		if let Some(thread) = self.thread.take() {
			let _ = thread.join();
		}
	}
}

/// Waits until exactly one sink node is active and shipped a block in its epoch, and the other one joined the
/// group, stands by and has the chain up to the latest shipped block. Returns the active one's index, its epoch
/// and the latest shipped block number.
fn ready(net: &Network, sinks: &[SinkNode; 2], blocks: &BlocksConsumer) -> (usize, u64, u64) {
	let ctx = || context(net, sinks);
	loop {
		let (leader, role) = wait_until(
			"exactly one active sink node",
			READY_TIMEOUT,
			|| {
				let roles = [sinks[0].role()?, sinks[1].role()?];
				match roles.map(|r| r.active) {
					[true, false] => Some((0, roles[0])),
					[false, true] => Some((1, roles[1])),
					_ => None,
				}
			},
			ctx,
		);
		let standby = 1 - leader;
		let shipped = wait_until(
			&format!("{} (leader epoch {}) to ship a block", sinks[leader].label, role.epoch),
			READY_TIMEOUT,
			|| blocks.latest_of_epoch(role.epoch),
			ctx,
		);
		let joined = format!("joined group {GROUP}");
		wait_until(
			&format!("{} to join the group and import #{shipped}", sinks[standby].label),
			READY_TIMEOUT,
			|| {
				let node = sinks[standby].node();
				(node.log().contains(&joined) && best_number(node) as u64 >= shipped).then_some(())
			},
			ctx,
		);
		// The standby's join may have moved the lease (a rebalance): then wait again.
		let still = sinks[leader].role().is_some_and(|r| r.active && r.epoch == role.epoch)
			&& sinks[standby].role().is_some_and(|r| !r.active);
		if still {
			return (leader, role.epoch, blocks.latest().unwrap_or(shipped));
		}
	}
}

/// One round's figures, from the kill.
struct Round {
	active: Duration,
	shipped: Duration,
}

pub fn failover(rounds: u32) {
	let broker = Broker::start();
	let net = Network::start();
	let mut sinks = [SinkNode::start("sink-a", &broker, &net), SinkNode::start("sink-b", &broker, &net)];
	let blocks = BlocksConsumer::start(&broker);
	let mut figures: Vec<Round> = Vec::new();
	for round in 1..=rounds {
		let (leader, epoch, latest) = ready(&net, &sinks, &blocks);
		let standby = 1 - leader;
		let killed_at = sinks[leader].kill9();

		// (a) The standby reports itself active, in a newer epoch.
		let (active, new_epoch) = wait_until(
			&format!("{}'s herald_ha_active to become 1 after the kill of epoch {epoch}", sinks[standby].label),
			TAKEOVER_TIMEOUT,
			|| {
				let role = sinks[standby].role()?;
				(role.active && role.epoch > epoch).then(|| (killed_at.elapsed(), role.epoch))
			},
			|| context(&net, &sinks),
		);
		// (b) Its first block on herald.blocks (the consumer noted the arrival time).
		let (shipped_at, first) = wait_until(
			&format!("a BlockCreated of a leader epoch above {epoch} on {BLOCKS_TOPIC}"),
			TAKEOVER_TIMEOUT,
			|| blocks.first_above("BlockCreated", epoch),
			|| context(&net, &sinks),
		);
		let shipped = shipped_at.saturating_duration_since(killed_at);
		let markers = blocks.first_above("LeaderEpoch", epoch).map_or("?".to_string(), |(at, _)| {
			format!("{:.2} s", at.saturating_duration_since(killed_at).as_secs_f64())
		});
		println!(
			"round {round}: kill -9 of {} (epoch {epoch}, latest block shipped #{latest}); {} active after {:.2} s \
			 (epoch {new_epoch}), its LeaderEpoch markers after {markers}, its first block (#{}) on {BLOCKS_TOPIC} \
			 after {:.2} s",
			sinks[leader].label,
			sinks[standby].label,
			active.as_secs_f64(),
			first.map_or("?".to_string(), |n| n.to_string()),
			shipped.as_secs_f64(),
		);
		figures.push(Round { active, shipped });

		// The killed node comes back on its database as the new standby (the next round waits until it joined).
		if round < rounds {
			sinks[leader].restart(&net);
		}
	}

	let summary = |what: &str, mut values: Vec<Duration>| {
		values.sort();
		let n = values.len();
		let median = if n % 2 == 1 { values[n / 2] } else { (values[n / 2 - 1] + values[n / 2]) / 2 };
		println!(
			"  {what}: min {:.2} s, median {:.2} s, max {:.2} s",
			values[0].as_secs_f64(),
			median.as_secs_f64(),
			values[n - 1].as_secs_f64()
		);
	};
	if figures.is_empty() {
		return;
	}
	println!(
		"failover of a group of 2 sink nodes, {} rounds (best mode, --kafka-ha-session-timeout {SESSION_TIMEOUT_MS}, \
		 a block every 6 s), from the leader's kill -9:",
		figures.len()
	);
	summary("the standby's herald_ha_active 1       ", figures.iter().map(|r| r.active).collect());
	summary("its first block shipped on herald.blocks", figures.iter().map(|r| r.shipped).collect());
}
