//! The operations files (`ops/`) against real parts: Debian's Prometheus scrapes a real `herald-node` whose sink
//! ships to a real nisshi broker, with Herald's alert and recording rules loaded.
//!
//! - every metric name `ops/metrics.txt` lists (the names the rules and the dashboard may use) is in the node's
//!   real exposition;
//! - the broker is killed: `KafkaBrokersUnreachable` becomes pending (Prometheus shows an alert as soon as its
//!   expression holds, so the test need not wait out `for:`); the broker comes back: the alert resolves;
//! - every query of the Grafana dashboard runs and returns data.

use crate::common;
use std::{
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	time::{Duration, Instant},
};

use crate::common::{free_port, kafka::Broker, NodeConfig, NodeProcess};
use serde_json::Value;

const TIMEOUT: Duration = Duration::from_secs(120);

fn repository() -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// A Prometheus server on loopback, killed on drop.
struct Prometheus {
	child: Child,
	port: u16,
	_data: tempfile::TempDir,
}

impl Prometheus {
	fn start(node: &NodeProcess) -> Self {
		let data = tempfile::tempdir().unwrap();
		let ops = repository().join("ops/prometheus");
		let config = format!(
			"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - {}\n  - {}\nscrape_configs:\n  \
			 - job_name: herald\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n        labels:\n          \
			 kafka_sink: enabled\n",
			ops.join("alerts.yml").display(),
			ops.join("recording.yml").display(),
			node.prometheus_port
		);
		let config_path = data.path().join("prometheus.yml");
		std::fs::write(&config_path, config).unwrap();
		let port = free_port();
		let binary = ["/usr/bin/prometheus", "prometheus"]
			.into_iter()
			.find(|b| Command::new(b).arg("--version").output().is_ok())
			.expect("prometheus is installed (scripts/setup.sh installs Debian's prometheus)");
		let child = Command::new(binary)
			.arg(format!("--config.file={}", config_path.display()))
			.arg(format!("--storage.tsdb.path={}", data.path().join("tsdb").display()))
			.arg(format!("--web.listen-address=127.0.0.1:{port}"))
			.stdout(Stdio::null())
			.stderr(Stdio::null())
			.spawn()
			.expect("prometheus starts");
		let prometheus = Prometheus { child, port, _data: data };
		// Until it listens, its API refuses connections.
		prometheus.wait("the node is scraped", |p| {
			let answer = p.get("/api/v1/query", &[("query", "up{job=\"herald\"}")]);
			answer["data"]["result"][0]["value"][1] == "1"
		});
		prometheus
	}

	fn get(&self, path: &str, query: &[(&str, &str)]) -> Value {
		let mut request = ureq::get(&format!("http://127.0.0.1:{}{path}", self.port));
		for (key, value) in query {
			request = request.query(key, value);
		}
		match request.call() {
			Ok(response) => response.into_json().unwrap(),
			Err(ureq::Error::Status(_, response)) => response.into_json().unwrap(),
			Err(error) => serde_json::json!({"status": "error", "error": error.to_string()}),
		}
	}

	/// The samples of an instant query; panics on a query Prometheus refuses.
	fn query(&self, expr: &str) -> Vec<Value> {
		let answer = self.get("/api/v1/query", &[("query", expr)]);
		assert_eq!(answer["status"], "success", "{expr}: {answer}");
		answer["data"]["result"].as_array().cloned().unwrap_or_default()
	}

	/// Alerts pending or firing, by name.
	fn alerts(&self) -> Vec<(String, String)> {
		let answer = self.get("/api/v1/alerts", &[]);
		answer["data"]["alerts"]
			.as_array()
			.into_iter()
			.flatten()
			.map(|a| (a["labels"]["alertname"].as_str().unwrap().to_string(), a["state"].as_str().unwrap().to_string()))
			.collect()
	}

	fn wait(&self, what: &str, done: impl Fn(&Self) -> bool) {
		let deadline = Instant::now() + TIMEOUT;
		while !done(self) {
			assert!(Instant::now() < deadline, "never: {what}; alerts: {:?}", self.alerts());
			std::thread::sleep(Duration::from_millis(250));
		}
	}
}

impl Drop for Prometheus {
	fn drop(&mut self) {
		let _ = self.child.kill();
		let _ = self.child.wait();
	}
}

/// A dashboard query with Grafana's variables replaced: the node's chain, every instance, short intervals.
fn concrete(expr: &str, chain: &str) -> String {
	expr.replace("$__rate_interval", "1m")
		.replace("$__interval", "15s")
		.replace("$__range", "5m")
		.replace("$chain", chain)
		.replace("$instance", ".*")
}

#[test]
fn alerts_fire_and_resolve_and_the_dashboard_shows_data_for_a_real_node() {
	let mut broker = Broker::start_persistent();
	let node = NodeProcess::start(NodeConfig::manual_seal().arg("--kafka-brokers").arg(broker.address.clone()));
	for _ in 0..3 {
		common::submit_busy_extrinsics(&node, 0);
		node.seal_block(true, None);
	}

	// Every name the rules and the dashboard may use is one the node really exposes (librdkafka's statistics,
	// e.g. the brokers' round trips, come once a second: wait for them).
	let listed = std::fs::read_to_string(repository().join("ops/metrics.txt")).unwrap();
	let names: Vec<&str> = listed
		.lines()
		.map(str::trim)
		// A group's metrics are checked on a group's nodes (node/tests/e2e/ha/).
		.filter(|l| !l.is_empty() && !l.starts_with('#') && !l.contains("--kafka-ha-group"))
		.map(|l| l.split_whitespace().next().unwrap())
		.collect();
	let deadline = Instant::now() + Duration::from_secs(30);
	loop {
		let exposition = node.metrics();
		let missing: Vec<&&str> =
			names.iter().filter(|name| !exposition.lines().any(|line| line.starts_with(**name))).collect();
		if missing.is_empty() {
			break;
		}
		assert!(Instant::now() < deadline, "ops/metrics.txt lists {missing:?}, which the node does not expose");
		std::thread::sleep(Duration::from_millis(250));
	}

	let prometheus = Prometheus::start(&node);
	prometheus.wait("block 3 shipped, as Prometheus sees it", |p| {
		p.query("herald_kafka_last_acked_block_number").first().is_some_and(|s| s["value"][1] == "3")
	});
	assert!(prometheus.alerts().iter().all(|(name, _)| !name.starts_with("Kafka")), "{:?}", prometheus.alerts());

	// The broker goes away; blocks are still made and finalized.
	broker.kill();
	prometheus.wait("KafkaBrokersUnreachable pending", |p| {
		node.seal_block(true, None);
		p.alerts()
			.iter()
			.any(|(name, state)| name == "KafkaBrokersUnreachable" && (state == "pending" || state == "firing"))
	});
	broker.resume();
	prometheus.wait("KafkaBrokersUnreachable resolved", |p| {
		p.alerts().iter().all(|(name, _)| name != "KafkaBrokersUnreachable")
	});
	let best = node.block_number(node.best_hash());
	prometheus.wait("the sink caught up after the outage", |p| {
		p.query("herald_kafka_last_acked_block_number").first().is_some_and(|s| s["value"][1] == best.to_string())
	});

	// Every dashboard query runs; all but those that only have data after a failure or while catching up return
	// some.
	let dashboard: Value =
		serde_json::from_str(&std::fs::read_to_string(repository().join("ops/grafana/herald.json")).unwrap()).unwrap();
	// The chain variable's value, as Grafana's `label_values(herald_kafka_sink_up, chain)` finds it.
	let chain = prometheus.query("herald_kafka_sink_up")[0]["metric"]["chain"].as_str().unwrap().to_string();
	let may_be_empty = ["Since the last failure", "Catch-up ETA"];
	let mut empty = Vec::new();
	for panel in dashboard["panels"].as_array().unwrap() {
		for target in panel["targets"].as_array().into_iter().flatten() {
			let Some(expr) = target["expr"].as_str() else { continue };
			let title = panel["title"].as_str().unwrap_or_default();
			if may_be_empty.contains(&title) {
				prometheus.query(&concrete(expr, &chain));
				continue;
			}
			// Rates and derivatives over subqueries need a few scrapes (15 s steps) before they have points.
			let deadline = Instant::now() + Duration::from_secs(60);
			while prometheus.query(&concrete(expr, &chain)).is_empty() {
				if Instant::now() > deadline {
					empty.push(format!("{title}: {expr}"));
					break;
				}
				std::thread::sleep(Duration::from_secs(1));
			}
		}
	}
	assert!(empty.is_empty(), "dashboard queries without data:\n{}", empty.join("\n"));
}
