//! The cursor's tools on a real node's database: `herald-node kafka-cursor show|set|reset`, and the cursor's
//! memory of the cluster and topic prefix it belongs to (another prefix is refused until the cursor is reset).

use std::{path::Path, process::Command, time::Duration};

use crate::common::{kafka::Broker, metric, node_binary, NodeConfig, NodeProcess};

const TIMEOUT: Duration = Duration::from_secs(60);

fn sink_node(broker: &Broker, base: &Path, prefix: &str) -> NodeConfig {
	NodeConfig::manual_seal()
		.arg("--kafka-brokers")
		.arg(broker.address.clone())
		.arg("--kafka-topic-prefix")
		.arg(prefix)
		.base_path(base)
}

/// Runs `herald-node kafka-cursor <args> --dev --base-path <base>`; returns (exit code, stdout + stderr).
fn kafka_cursor(base: &Path, args: &[&str]) -> (i32, String) {
	let output = Command::new(node_binary())
		.arg("kafka-cursor")
		.args(args)
		.args(["--dev", "--base-path"])
		.arg(base)
		.output()
		.expect("herald-node runs");
	let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
	(output.status.code().unwrap_or(-1), text)
}

fn wait_for_cursor(node: &NodeProcess, number: u64) {
	let deadline = std::time::Instant::now() + TIMEOUT;
	while metric(&node.metrics(), "herald_kafka_last_acked_block_number").unwrap_or(0.0) < number as f64 {
		assert!(std::time::Instant::now() < deadline, "cursor not at #{number}:\n{}", node.log_tail(30));
		std::thread::sleep(Duration::from_millis(100));
	}
}

fn blocks_of(broker: &Broker, prefix: &str, last: u64) -> Vec<u64> {
	let records = broker.consume_until(&format!("{prefix}."), TIMEOUT, |records| {
		records.iter().any(|r| r.envelope["name"] == "BlockFinalized" && r.envelope["meta"]["block"]["number"] == last)
	});
	records
		.iter()
		.filter(|r| r.envelope["name"] == "BlockCreated")
		.map(|r| r.envelope["meta"]["block"]["number"].as_u64().unwrap())
		.collect()
}

#[test]
fn show_set_and_reset_work_on_a_stopped_node_and_another_prefix_needs_a_reset() {
	let broker = Broker::start();
	let base = tempfile::tempdir().unwrap();
	let node = NodeProcess::start(sink_node(&broker, base.path(), "first"));
	for _ in 0..3 {
		node.seal_block(true, None);
	}
	wait_for_cursor(&node, 3);
	node.stop();

	let (code, shown) = kafka_cursor(base.path(), &["show"]);
	assert_eq!(code, 0, "{shown}");
	assert!(shown.contains("cursor: block #3 0x"), "{shown}");
	assert!(shown.contains("topic prefix \"first\""), "{shown}");
	assert!(shown.contains("journal: empty"), "{shown}");

	// Another prefix: the sink refuses (the node keeps running) and names the fix.
	let node = NodeProcess::start(sink_node(&broker, base.path(), "second"));
	let deadline = std::time::Instant::now() + TIMEOUT;
	while !node.log().contains("kafka-cursor reset") {
		assert!(std::time::Instant::now() < deadline, "no refusal naming the reset:\n{}", node.log_tail(30));
		std::thread::sleep(Duration::from_millis(100));
	}
	assert!(node.log().contains("belongs to topic prefix \"first\""), "{}", node.log_tail(30));
	node.seal_block(true, None);
	node.stop();

	// `set 1`: the sink resumes with block 2, here under the new prefix after a reset of where it ships.
	let (code, text) = kafka_cursor(base.path(), &["set"]);
	assert_ne!(code, 0, "set without a block number fails");
	assert!(text.contains("needs the block number"), "{text}");
	let (code, text) = kafka_cursor(base.path(), &["set", "99"]);
	assert_ne!(code, 0);
	assert!(text.contains("not finalized"), "{text}");
	let (code, text) = kafka_cursor(base.path(), &["reset"]);
	assert_eq!(code, 0, "{text}");
	let (code, text) = kafka_cursor(base.path(), &["set", "1"]);
	assert_eq!(code, 0, "{text}");
	assert!(text.contains("resumes with #2"), "{text}");

	let node = NodeProcess::start(sink_node(&broker, base.path(), "second"));
	node.seal_block(true, None);
	assert_eq!(blocks_of(&broker, "second", 5), vec![2, 3, 4, 5], "resumed right after the cursor that was set");
	node.stop();
	let (_, shown) = kafka_cursor(base.path(), &["show"]);
	assert!(shown.contains("topic prefix \"second\""), "the new place is recorded: {shown}");

	let missing = tempfile::tempdir().unwrap();
	let (code, text) = kafka_cursor(&missing.path().join("nothing"), &["show"]);
	assert_ne!(code, 0);
	assert!(text.contains("no database at"), "{text}");
}
