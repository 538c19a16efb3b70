//! What an operator sees, end to end with a real node and a real nisshi broker: the progress log, the
//! `herald_status` RPC, the state-set and info metrics, counters that exist at 0 from the start, and a "resumed"
//! line that answers a failure. (The Prometheus rules and the dashboard against a real Prometheus:
//! `prometheus.rs`.)

use std::time::{Duration, Instant};

use crate::common::{kafka::Broker, metric, NodeConfig, NodeProcess};
use serde_json::json;

const TIMEOUT: Duration = Duration::from_secs(90);

/// The value of `name`'s sample that has every label of `labels` (the node adds its own, such as `chain`).
fn labelled(exposition: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
	exposition
		.lines()
		.filter(|line| line.strip_prefix(name).is_some_and(|rest| rest.starts_with('{')))
		.find(|line| labels.iter().all(|(key, value)| line.contains(&format!("{key}=\"{value}\""))))
		.and_then(|line| line.rsplit(' ').next()?.parse().ok())
}

fn wait_until(node: &NodeProcess, what: &str, done: impl Fn() -> bool) {
	let deadline = Instant::now() + TIMEOUT;
	while !done() {
		assert!(Instant::now() < deadline, "never: {what}\n{}", node.log_tail(40));
		std::thread::sleep(Duration::from_millis(100));
	}
}

#[test]
fn the_log_the_status_and_the_metrics_say_what_the_sink_does() {
	let mut broker = Broker::start();
	// The sink starts while the brokers can't be reached: it fails, backs off, and resumes once they are back.
	broker.kill();
	let node = NodeProcess::start(
		NodeConfig::manual_seal()
			.arg("--kafka-brokers")
			.arg(broker.address.clone())
			.arg("--kafka-topic-prefix")
			.arg("ops")
			// A secret that must never show in the status (SASL is not used by the broker: it is never sent).
			.arg("--kafka-config")
			.arg("sasl.password=hunter2-secret"),
	);
	wait_until(&node, "a backoff", || node.log().contains("restarting from the cursor in"));
	let status = node.rpc("herald_status", json!([]));
	assert_eq!(status["enabled"], true);
	assert_eq!(status["state"], "backing_off", "{status}");
	assert!(status["last_error"]["message"].as_str().unwrap().contains("brokers"), "{status}");
	assert_eq!(labelled(&node.metrics(), "herald_kafka_sink_state", &[("state", "backing_off")]), Some(1.0));
	assert_eq!(labelled(&node.metrics(), "herald_kafka_sink_state", &[("state", "shipping")]), Some(0.0));

	broker.resume();
	for _ in 0..3 {
		node.seal_block(true, None);
	}
	wait_until(&node, "the resumed line", || node.log().contains("event sink resumed: shipping again after"));
	wait_until(&node, "the caught-up line", || node.log().contains("event sink caught up with the finalized chain"));
	wait_until(&node, "block 3 acknowledged", || {
		metric(&node.metrics(), "herald_kafka_last_acked_block_number") == Some(3.0)
	});
	let status = node.rpc("herald_status", json!([]));
	assert_eq!(status["state"], "shipping", "{status}");
	assert_eq!(status["follow"], "finalized");
	assert_eq!(status["topic_prefix"], "ops");
	assert_eq!(status["cursor"]["number"], 3, "{status}");
	assert_eq!(status["finalized_lag_blocks"], 0, "{status}");
	assert!(status["restarts"].as_u64().unwrap() >= 1, "{status}");
	assert!(!status.to_string().contains("hunter2"), "no secret in the status: {status}");

	let metrics = node.metrics();
	assert_eq!(labelled(&metrics, "herald_kafka_sink_state", &[("state", "shipping")]), Some(1.0), "{metrics}");
	assert_eq!(labelled(&metrics, "herald_kafka_sink_state", &[("state", "backing_off")]), Some(0.0));
	assert_eq!(metric(&metrics, "herald_kafka_best_lag_blocks"), Some(0.0));
	assert_eq!(metric(&metrics, "herald_kafka_journal_capacity_blocks"), Some(4096.0));
	assert!(metrics.contains("herald_kafka_sink_info{"), "the info metric: {metrics}");
	assert!(metric(&metrics, "herald_kafka_block_read_seconds_count").unwrap() >= 4.0, "{metrics}");
	// Series whose labels are known at start exist at 0: increase() sees their first event.
	assert_eq!(
		labelled(&metrics, "herald_kafka_rejected_messages_total", &[("action", "stopped"), ("topic", "ops.blocks")]),
		Some(0.0),
		"{metrics}"
	);
	assert_eq!(
		labelled(&metrics, "herald_kafka_messages_total", &[("status", "failed"), ("topic", "ops.blocks")]),
		Some(0.0),
		"{metrics}"
	);
	assert!(!metrics.contains("hunter2"));

	// A node without the sink (nor the subscription) says so.
	let plain = NodeProcess::start(NodeConfig::manual_seal());
	assert_eq!(plain.rpc("herald_status", json!([])), json!({"enabled": false, "follow_rpc": {"enabled": false}}));
}
