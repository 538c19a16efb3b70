//! End-to-end tests of the `herald_v1_follow` JSON-RPC subscription (`--herald-follow-rpc`): a real `herald-node`,
//! read by clients Herald did not write: Python's `websockets` (tools/python/follow_client.py) and
//! `@polkadot/api`'s `WsProvider` (tools/js/herald-follow.cjs, the README's example consumer); Kafka's side by
//! the tests' consumer.

use crate::common;
use std::{
	collections::{BTreeMap, BTreeSet},
	io::{BufRead, BufReader},
	path::PathBuf,
	process::{Child, Command, Stdio},
	sync::mpsc,
	time::{Duration, Instant},
};

use crate::common::{kafka::Broker, NodeConfig, NodeProcess};
use herald_runtime::{BalancesCall, RuntimeCall, UNIT};
use serde_json::{json, Value};
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{Alice, Bob};

const TIMEOUT: Duration = Duration::from_secs(120);

fn repository() -> PathBuf {
	PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace").to_path_buf()
}

fn python() -> String {
	format!("{}/bin/python", std::env::var("HERALD_VENV").unwrap_or_else(|_| "/var/tmp/herald-venv".into()))
}

fn ws_url(node: &NodeProcess) -> String {
	format!("ws://127.0.0.1:{}", node.rpc_port)
}

fn follow_node() -> NodeConfig {
	NodeConfig::manual_seal().arg("--herald-follow-rpc")
}

fn transfer(node: &NodeProcess, amount: u128) {
	node.submit(
		Alice,
		RuntimeCall::Balances(BalancesCall::transfer_keep_alive { dest: Bob.to_account_id().into(), value: amount }),
	);
}

/// Seals a final block with `transfers` transfers in it.
fn final_block(node: &NodeProcess, transfers: u32) -> H256 {
	for i in 0..transfers {
		transfer(node, UNIT + i as u128);
	}
	node.seal_block(true, None)
}

/// A client process whose stdout lines (JSON) arrive on a channel.
struct ClientProcess {
	child: Child,
	lines: mpsc::Receiver<Value>,
	seen: Vec<Value>,
	stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

impl ClientProcess {
	fn spawn(mut command: Command) -> Self {
		let mut child = command
			.stdout(Stdio::piped())
			.stderr(Stdio::piped())
			.spawn()
			.unwrap_or_else(|e| panic!("{command:?} starts ({e}): scripts/setup.sh installs the clients"));
		let (sender, lines) = mpsc::channel();
		let stdout = child.stdout.take().expect("piped");
		std::thread::spawn(move || {
			for line in BufReader::new(stdout).lines().map_while(Result::ok) {
				if let Ok(value) = serde_json::from_str::<Value>(&line) {
					let _ = sender.send(value);
				}
			}
		});
		let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
		let (pipe, text) = (child.stderr.take().expect("piped"), stderr.clone());
		std::thread::spawn(move || {
			for line in BufReader::new(pipe).lines().map_while(Result::ok) {
				text.lock().unwrap().push_str(&format!("{line}\n"));
			}
		});
		ClientProcess { child, lines, seen: Vec::new(), stderr }
	}

	fn python(args: &[&str]) -> Self {
		let mut command = Command::new(python());
		command.arg(repository().join("tools/python/follow_client.py")).args(args);
		Self::spawn(command)
	}

	fn js(args: &[&str]) -> Self {
		let mut command = Command::new("node");
		command.arg(repository().join("tools/js/herald-follow.cjs")).args(args);
		if std::env::var_os("NODE_PATH").is_none() {
			command.env("NODE_PATH", "/var/tmp/herald-js/node_modules");
		}
		Self::spawn(command)
	}

	/// Waits for a line that satisfies `done`; every line is kept in `seen`.
	fn wait_for(&mut self, what: &str, done: impl Fn(&Value) -> bool) -> Value {
		let deadline = Instant::now() + TIMEOUT;
		loop {
			let left = deadline.saturating_duration_since(Instant::now());
			match self.lines.recv_timeout(left) {
				Ok(line) => {
					self.seen.push(line.clone());
					if done(&line) {
						return line;
					}
				}
				Err(_) => panic!(
					"no {what} within {TIMEOUT:?}; the client printed {} lines, the last: {:?}\nstderr: {}",
					self.seen.len(),
					self.seen.iter().rev().take(3).collect::<Vec<_>>(),
					self.stderr.lock().unwrap()
				),
			}
		}
	}

	/// Waits for the client to exit and returns every line it printed.
	fn finish(mut self) -> Vec<Value> {
		let deadline = Instant::now() + TIMEOUT;
		loop {
			match self.lines.recv_timeout(Duration::from_millis(200)) {
				Ok(line) => self.seen.push(line),
				Err(mpsc::RecvTimeoutError::Disconnected) => break,
				Err(mpsc::RecvTimeoutError::Timeout) => {
					assert!(
						Instant::now() < deadline,
						"the client did not end; stderr: {}",
						self.stderr.lock().unwrap()
					)
				}
			}
		}
		let status = self.child.wait().expect("the client ran");
		assert!(status.success(), "the client failed ({status}): {}", self.stderr.lock().unwrap());
		std::mem::take(&mut self.seen)
	}
}

impl Drop for ClientProcess {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

/// The notifications among a client's lines.
fn notifications(lines: &[Value]) -> Vec<Value> {
	lines.iter().filter(|l| l["kind"] == "notification").map(|l| l["result"].clone()).collect()
}

/// The envelopes among notifications.
fn envelopes(notifications: &[Value]) -> Vec<Value> {
	notifications.iter().filter(|n| n["event"] == "envelope").map(|n| n["envelope"].clone()).collect()
}

fn id(envelope: &Value) -> String {
	envelope["meta"]["id"].as_str().expect("meta.id").to_string()
}

fn block_of(envelope: &Value) -> u64 {
	envelope["meta"]["block"]["number"].as_u64().expect("meta.block.number")
}

#[test]
fn replay_then_live_has_no_gap_no_duplicate_and_the_kafka_bytes() {
	let broker = Broker::start();
	let node = NodeProcess::start(follow_node().arg("--kafka-brokers").arg(broker.address.clone()));
	let mut hashes = vec![node.genesis_hash()];
	for n in 1..=5 {
		hashes.push(final_block(&node, n % 3));
	}

	let mut client =
		ClientProcess::python(&["follow", &ws_url(&node), r#"{"from": {"block": 2}}"#, "--until", "block:8"]);
	client.wait_for("caughtUp", |l| l["result"]["event"] == "caughtUp");
	for n in 6..=8 {
		hashes.push(final_block(&node, n % 3));
	}
	let lines = client.finish();
	let notes = notifications(&lines);
	let all = envelopes(&notes);

	// Blocks 2..=8, each once, in order; every id once.
	let created: Vec<u64> = all.iter().filter(|e| e["name"] == "BlockCreated").map(block_of).collect();
	assert_eq!(created, (2..=8).collect::<Vec<_>>(), "every block from `from` on, once, in order");
	let ids: Vec<String> = all.iter().map(id).collect();
	assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), ids.len(), "no duplicate id");
	let blocks: Vec<u64> = all.iter().map(block_of).collect();
	assert!(blocks.windows(2).all(|w| w[0] <= w[1]), "chain order: {blocks:?}");
	// One caughtUp, after the replayed blocks (up to 5 at least) and before block 6's envelopes.
	let caught_up: Vec<usize> =
		notes.iter().enumerate().filter(|(_, n)| n["event"] == "caughtUp").map(|(i, _)| i).collect();
	assert_eq!(caught_up.len(), 1, "one caughtUp");
	let before: Vec<u64> =
		notes[..caught_up[0]].iter().filter(|n| n["event"] == "envelope").map(|n| block_of(&n["envelope"])).collect();
	assert!(before.contains(&5), "the replay reached block 5 before caughtUp: {before:?}");
	let caught_block = notes[caught_up[0]]["block"]["number"].as_u64().unwrap();
	assert!(before.iter().all(|b| *b <= caught_block), "caughtUp names the last replayed block");

	// The same envelopes as Kafka's values, byte for byte once parsed.
	let expected: usize = all.len();
	let records = broker.consume("herald.", 0, Duration::from_secs(1));
	let _ = records;
	let records = broker.consume_until("herald.", TIMEOUT, |records| {
		records.iter().filter(|r| r.header("id").is_some_and(|id| ids.iter().any(|i| i == id))).count() >= expected
	});
	let kafka: BTreeMap<String, Value> = records
		.iter()
		.map(|r| (r.header("id").unwrap().to_string(), serde_json::from_slice(&r.payload).unwrap()))
		.collect();
	for envelope in &all {
		assert_eq!(Some(envelope), kafka.get(&id(envelope)), "the RPC envelope is Kafka's value");
	}

	// From a hash and an event index: block 2's (two transfers) events from index 1 on, nothing before.
	let from = json!({"from": {"block": format!("{:?}", hashes[2]), "eventIndex": 1}}).to_string();
	let lines = ClientProcess::python(&["follow", &ws_url(&node), &from, "--until", "caughtUp"]).finish();
	let first = envelopes(&notifications(&lines));
	assert_eq!(block_of(&first[0]), 2);
	assert_eq!(first[0]["meta"]["event_index"], 1, "starts at event 1: {}", first[0]);
	assert!(first.iter().all(|e| block_of(e) > 2 || e["name"] != "BlockCreated"), "block 2's BlockCreated is skipped");
	let expected: Vec<&Value> = all
		.iter()
		.filter(|e| {
			block_of(e) > 2
				|| e["meta"]["event_index"].as_u64().is_some_and(|i| i >= 1)
				|| (block_of(e) == 2 && e["name"] == "BlockFinalized")
		})
		.filter(|e| block_of(e) <= 5)
		.collect();
	let got: Vec<&Value> = first.iter().filter(|e| block_of(e) <= 5).collect();
	assert_eq!(got, expected, "the rest of block 2, then blocks 3 to 5");
	assert!(!node.log().contains("panicked"), "no panic");
}

#[test]
fn serves_without_kafka_with_filters_and_clear_errors() {
	let node = NodeProcess::start(follow_node().arg("--herald-follow-max-per-connection").arg("2"));
	for n in 1..=3 {
		final_block(&node, n);
	}
	let status = node.rpc("herald_status", json!([]));
	assert_eq!((status["enabled"].clone(), status["follow_rpc"]["enabled"].clone()), (json!(false), json!(true)));

	// Filters: each filtered stream is the unfiltered one filtered here, in the same order.
	let all = envelopes(&notifications(
		&ClientProcess::python(&["follow", &ws_url(&node), r#"{"from":{"block":1}}"#, "--until", "caughtUp"]).finish(),
	));
	assert!(all.iter().any(|e| e["name"] == "BalanceTransferredEvent"), "transfers were shipped");
	let cases: Vec<(Value, Box<dyn Fn(&Value) -> bool>)> = vec![
		(json!({"names": ["BalanceTransferredEvent"]}), Box::new(|e: &Value| e["name"] == "BalanceTransferredEvent")),
		(json!({"types": ["infrastructure"]}), Box::new(|e: &Value| e["type"] == "infrastructure")),
		(json!({"pallets": ["Balances"]}), Box::new(|e: &Value| e["meta"]["pallet"] == "Balances")),
		(
			json!({"pallets": ["System", "Balances"], "types": ["domain"]}),
			Box::new(|e: &Value| {
				e["type"] == "domain" && (e["meta"]["pallet"] == "Balances" || e["meta"]["pallet"] == "System")
			}),
		),
	];
	for (filter, keep) in cases {
		let params = json!({"from": {"block": 1}, "filter": filter}).to_string();
		let got = envelopes(&notifications(
			&ClientProcess::python(&["follow", &ws_url(&node), &params, "--until", "caughtUp"]).finish(),
		));
		let expected: Vec<Value> = all.iter().filter(|e| keep(e)).cloned().collect();
		assert!(!expected.is_empty(), "{filter}: something to match");
		assert_eq!(got, expected, "filter {filter}");
	}

	// Bad input: a JSON-RPC error that names the problem, and the connection lives on.
	let calls = json!([
		["herald_v1_follow", [{"filtre": {}}]],
		["herald_v1_follow", [{"filter": {"names": ["BalanceTransferedEvent"]}}]],
		["herald_v1_follow", [{"from": {"block": 1, "eventIndex": -1}}]],
		["herald_v1_follow", [{"from": "yesterday"}]],
		["herald_v1_follow", [{"from": {"block": format!("0x{}", "ab".repeat(32))}}]],
		["herald_v1_follow", [{"from": {"block": 1000}}]],
		["herald_v1_follow", [{"mode": "fast"}]],
		["herald_v1_follow", []],
		["herald_v1_follow", []],
		["herald_v1_follow", []],
		["system_health", []]
	]);
	let lines = ClientProcess::python(&["calls", &ws_url(&node), &calls.to_string()]).finish();
	let answers: Vec<&Value> = lines.iter().map(|l| &l["answer"]).collect();
	let error = |i: usize| -> (i64, String) {
		let error = &answers[i]["error"];
		assert!(error.is_object(), "call {i} is refused: {}", answers[i]);
		(error["code"].as_i64().unwrap(), error["message"].as_str().unwrap().to_string())
	};
	let (code, message) = error(0);
	assert!(code == -32602 && message.contains("unknown field `filtre`"), "{message}");
	let (code, message) = error(1);
	assert!(code == -32602 && message.contains("did you mean \"BalanceTransferredEvent\""), "{message}");
	let (code, message) = error(2);
	assert!(code == -32602 && message.contains("from.eventIndex -1"), "{message}");
	let (code, message) = error(3);
	assert!(code == -32602 && message.contains("yesterday"), "{message}");
	let (code, message) = error(4);
	assert!(code == -32801 && message.contains("not a block this node has"), "{message}");
	let (code, message) = error(5);
	assert!(code == -32801 && message.contains("above the finalized head"), "{message}");
	let (code, message) = error(6);
	assert!(code == -32602 && message.contains("\"fast\""), "{message}");
	assert!(answers[7]["result"].is_string() && answers[8]["result"].is_string(), "two follows on one connection");
	let (code, message) = error(9);
	assert!(code == -32800 && message.contains("--herald-follow-max-per-connection"), "{message}");
	assert!(answers[10]["result"].is_object(), "the connection still answers: {}", answers[10]);
	assert!(!node.log().contains("panicked"), "no panic");

	// A node without the flag has no such method.
	let plain = NodeProcess::start(NodeConfig::manual_seal());
	let lines = ClientProcess::python(&["calls", &ws_url(&plain), r#"[["herald_v1_follow", []]]"#]).finish();
	assert_eq!(lines[0]["answer"]["error"]["code"], -32601, "Method not found: {}", lines[0]);
}

#[test]
fn best_mode_reorg_retractions_arrive_in_order_to_polkadot_js() {
	let node = NodeProcess::start(follow_node());
	let genesis = node.genesis_hash();
	let mut client = ClientProcess::js(&[&ws_url(&node), "best", "3"]);
	client.wait_for("the subscription", |l| l["kind"] == "subscribed");

	// Branch a (two blocks with a transfer each), then a longer branch b from genesis, finalized.
	transfer(&node, UNIT);
	let a1 = node.seal_block(false, Some(genesis));
	transfer(&node, UNIT);
	let a2 = node.seal_block(false, Some(a1));
	client.wait_for("a2's BlockCreated", |l| l["result"]["envelope"]["meta"]["id"] == format!("{a2:?}:BlockCreated"));
	let b1 = node.seal_block(false, Some(genesis));
	let b2 = node.seal_block(false, Some(b1));
	let b3 = node.seal_block(false, Some(b2));
	node.finalize(b3);
	let lines = client.finish();
	let envelopes = envelopes(&notifications(&lines));
	let position = |name: &str, hash: H256| {
		envelopes
			.iter()
			.position(|e| e["name"] == name && e["meta"]["block"]["hash"] == format!("{hash:?}"))
			.unwrap_or_else(|| panic!("no {name} of {hash:?}"))
	};
	let (retract_a2, retract_a1) = (position("BlockRetracted", a2), position("BlockRetracted", a1));
	assert!(retract_a2 < retract_a1, "newest first");
	assert!(retract_a1 < position("BlockCreated", b2), "retractions before the new branch goes on");
	for b in [b1, b2, b3] {
		assert!(position("BlockCreated", b) < position("BlockFinalized", b));
	}
	// What the consumer holds in the end: exactly branch b's envelopes.
	let live: BTreeSet<String> = lines.iter().find(|l| l["kind"] == "live").expect("the consumer's final set")["ids"]
		.as_array()
		.unwrap()
		.iter()
		.map(|id| id.as_str().unwrap().to_string())
		.collect();
	let b_hashes: BTreeSet<String> = [b1, b2, b3].iter().map(|h| format!("{h:?}")).collect();
	assert!(live.iter().all(|id| b_hashes.contains(id.split(':').next().unwrap())), "only branch b: {live:?}");
	for b in &b_hashes {
		assert!(live.contains(&format!("{b}:BlockCreated")), "{b} is held");
	}
}

/// The node's `herald_follow_stopped_total{reason}`.
fn stopped(node: &NodeProcess, reason: &str) -> u64 {
	let label = format!("reason=\"{reason}\"");
	node.metrics()
		.lines()
		.filter(|l| l.starts_with("herald_follow_stopped_total{") && l.contains(&label))
		.filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
		.sum()
}

/// A node with a small subscription queue, a reference subscriber that keeps up and one that stops reading after its
/// first notification until the node has stopped it, both following `params` until block `LAST`: the slow one's
/// lines, the reference's envelopes, and the node.
fn a_paused_subscriber(params: &str) -> (Vec<Value>, Vec<Value>, NodeProcess) {
	const LAST: u64 = 80;
	let node = NodeProcess::start(
		follow_node()
			.arg("--herald-follow-queue")
			.arg("16")
			.arg("--rpc-message-buffer-capacity-per-connection")
			.arg("16"),
	);
	final_block(&node, 1);
	let release = tempfile::tempdir().unwrap();
	let release = release.path().join("read-again");
	let until = format!("block:{LAST}");
	let mut reference = ClientProcess::python(&["follow", &ws_url(&node), params, "--until", &until]);
	let mut slow = ClientProcess::python(&[
		"follow",
		&ws_url(&node),
		params,
		"--pause-after",
		"1",
		"--pause-until-file",
		release.to_str().unwrap(),
		"--resume",
		"--until",
		&until,
	]);
	reference.wait_for("the subscription", |l| l["kind"] == "subscribed");
	slow.wait_for("the pause", |l| l["kind"] == "paused");
	// While it doesn't read, the chain goes on until the node gives up on it: its queue and the socket are full. The
	// node's side of the socket takes what the kernel's send buffer autotuning allows (up to `net.ipv4.tcp_wmem`'s
	// 4 MB here): with blocks of 100 transfers the node stopped it at the 16th block; with 20, 75 blocks had not
	// filled it on one machine.
	let mut number = 1;
	while stopped(&node, "slow_subscriber") == 0 {
		assert!(
			number < LAST - 5,
			"the slow subscriber was not stopped after {number} blocks:\n{}",
			node.metrics().lines().filter(|l| l.starts_with("herald_follow")).collect::<Vec<_>>().join("\n")
		);
		final_block(&node, 100);
		number += 1;
	}
	std::fs::write(&release, b"").unwrap();
	while number < LAST {
		final_block(&node, 1);
		number += 1;
	}
	(slow.finish(), envelopes(&notifications(&reference.finish())), node)
}

#[test]
fn a_slow_subscriber_is_stopped_resumes_and_loses_nothing() {
	let (slow, reference, node) = a_paused_subscriber(r#"{"from": {"block": 2}}"#);
	let stops: Vec<Value> = notifications(&slow).into_iter().filter(|n| n["event"] == "stop").collect();
	assert_eq!(stops.len(), 1, "one stop: {stops:?}");
	assert_eq!(stops[0]["reason"], "slowSubscriber", "{}", stops[0]);
	assert!(stops[0]["message"].as_str().unwrap().contains("--herald-follow-queue"), "{}", stops[0]);
	assert!(slow.iter().any(|l| l["kind"] == "resumed"), "the client followed again from the stop's position");

	// Before and after the stop together: every envelope the reference got, once, in order.
	let got: Vec<String> = envelopes(&notifications(&slow)).iter().map(id).collect();
	let expected: Vec<String> = reference.iter().map(id).collect();
	assert_eq!(got.len(), expected.len(), "nothing lost, nothing twice");
	assert_eq!(got, expected, "nothing lost, nothing twice, in order");
	assert_eq!(stopped(&node, "slow_subscriber"), 1);
}

#[test]
fn a_hundred_subscribers_get_the_same_stream_and_kafka_ships_everything() {
	const LAST: u64 = 25;
	let broker = Broker::start();
	let node = NodeProcess::start(follow_node().arg("--kafka-brokers").arg(broker.address.clone()));
	// 10 connections of 10 subscriptions; the first connection never reads.
	let until = LAST.to_string();
	let mut client = ClientProcess::python(&[
		"many",
		&ws_url(&node),
		"--connections",
		"10",
		"--per",
		"10",
		"--silent",
		"1",
		"--until-block",
		&until,
	]);
	client.wait_for("100 subscriptions", |l| l["kind"] == "subscribed");
	assert_eq!(client.seen.last().unwrap()["count"], 100);
	// Counted once each session runs (just after its answer left).
	let deadline = Instant::now() + TIMEOUT;
	while common::metric(&node.metrics(), "herald_follow_subscriptions").unwrap_or(0.0) < 100.0 {
		assert!(Instant::now() < deadline, "herald_follow_subscriptions does not count the 100");
		std::thread::sleep(Duration::from_millis(100));
	}
	for _ in 1..=LAST {
		final_block(&node, 5);
	}
	let lines = client.finish();
	let summary = lines.iter().find(|l| l["kind"] == "summary").expect("a summary");
	let readers = summary["readers"].as_array().unwrap();
	assert_eq!(readers.len(), 90);
	let first = &readers[0];
	assert!(first["count"].as_u64().unwrap() > LAST * 5, "every block's envelopes: {first}");
	for reader in readers {
		assert_eq!((&reader["count"], &reader["digest"]), (&first["count"], &first["digest"]), "the same stream");
	}
	// Kafka shipped every block meanwhile.
	let last = format!("{:?}:BlockFinalized", node.finalized_hash());
	broker.consume_until("herald.", TIMEOUT, |records| records.iter().any(|r| r.header("id") == Some(last.as_str())));
	// The subscriptions are gone with their connections.
	let deadline = Instant::now() + TIMEOUT;
	while common::metric(&node.metrics(), "herald_follow_subscriptions").unwrap_or(0.0) > 0.0 {
		assert!(Instant::now() < deadline, "subscriptions still counted after the client left");
		std::thread::sleep(Duration::from_millis(200));
	}
	assert_eq!(node.rpc("herald_status", json!([]))["follow_rpc"]["subscriptions"], 0);
}

#[test]
fn the_contracts_method_returns_a_valid_asyncapi_document() {
	let node = NodeProcess::start(follow_node());
	let document = node.rpc("herald_v1_contracts", json!([]));
	assert_eq!(document["asyncapi"], "3.0.0", "{document}");
	let dir = tempfile::tempdir().unwrap();
	let file = dir.path().join("asyncapi.json");
	std::fs::write(&file, serde_json::to_vec_pretty(&document).unwrap()).unwrap();
	let mut command = Command::new("node");
	command.arg(repository().join("tools/js/validate-asyncapi.cjs")).arg(&file);
	if std::env::var_os("NODE_PATH").is_none() {
		command.env("NODE_PATH", "/var/tmp/herald-js/node_modules");
	}
	let output = command.output().expect("node runs (scripts/setup.sh installs the JavaScript tools)");
	assert!(
		output.status.success(),
		"@asyncapi/parser refuses the document: {}{}",
		String::from_utf8_lossy(&output.stdout),
		String::from_utf8_lossy(&output.stderr)
	);
}

#[test]
fn best_mode_a_stopped_subscriber_discards_above_its_last_final_block_and_resumes_complete() {
	let (slow, reference, _node) = a_paused_subscriber(r#"{"mode": "best", "from": {"block": 2}}"#);
	let reference: Vec<String> = reference.iter().map(id).collect();
	// Apply the stop as a best-mode consumer must: drop what it holds above `discardAbove`, then resume.
	let mut held: Vec<Value> = Vec::new();
	let mut stops = 0;
	for result in notifications(&slow) {
		match result["event"].as_str() {
			Some("envelope") => held.push(result["envelope"].clone()),
			Some("stop") => {
				stops += 1;
				assert_eq!(result["reason"], "slowSubscriber", "{result}");
				let above = result["discardAbove"].as_u64().expect("best mode names discardAbove");
				assert_eq!(result["resume"]["block"].as_u64(), Some(above + 1), "{result}");
				held.retain(|e| block_of(e) <= above);
			}
			_ => {}
		}
	}
	assert_eq!(stops, 1);
	let got: Vec<String> = held.iter().map(id).collect();
	assert_eq!(got.len(), reference.len(), "nothing lost, nothing twice");
	assert_eq!(got, reference, "in order");
}

#[test]
fn a_from_block_whose_state_is_pruned_is_refused_clearly() {
	let node = NodeProcess::start(follow_node().arg("--state-pruning").arg("16"));
	for _ in 0..40 {
		let hash = node.seal_block(false, None);
		node.finalize(hash);
	}
	let calls = json!([
		["herald_v1_follow", [{"from": {"block": 2}}]],
		["herald_v1_follow", [{"from": {"block": 38}}]],
		["system_health", []]
	]);
	let lines = ClientProcess::python(&["calls", &ws_url(&node), &calls.to_string()]).finish();
	let error = &lines[0]["answer"]["error"];
	assert_eq!(error["code"], -32801, "{}", lines[0]);
	let message = error["message"].as_str().unwrap();
	assert!(message.contains("pruned") && message.contains("--state-pruning"), "{message}");
	assert!(lines[1]["answer"]["result"].is_string(), "a recent block replays: {}", lines[1]);
	assert!(lines[2]["answer"]["result"].is_object(), "the connection lives");
}
