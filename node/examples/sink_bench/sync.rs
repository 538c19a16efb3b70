//! `bench.sh sync [BLOCKS] [TRANSFERS] [ROUNDS]`: does the sink slow block import down? Measured by CPU time and
//! by the node's own import metric, not by wall time (which this 2-core machine can't resolve to a few percent).
//!
//! A serving node holds a filled chain (manual seal, `filled_chain`). In each round a fresh node syncs the whole
//! chain from it over the network, once with the sink off and once on (best mode, so the sink ships every block as
//! it is imported: it catches up *while* the node imports), alternating so that drift hits both. Blocks arrive
//! through the import queue, so the syncing node executes each one, as a full node does. Per round:
//! - `substrate_block_verification_and_import_time` (sum / count): the import queue's time per block;
//! - the syncing node's CPU seconds per block (all threads, from its first imported block to its last), and the
//!   part of it spent in the sink's own named threads (`herald-encode-*`, librdkafka's `rdk:*`; the shipping loop
//!   itself runs on a tokio blocking thread and is counted in the rest);
//! - with the sink on, how long after the last import the last block was acknowledged.
//!
//! `PERF_DATA=FILE` records the first sink-on round's import with `perf record`.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::{
	common::{kafka::Broker, metric, NodeConfig, NodeProcess},
	filled_chain,
};

/// The syncing node's libp2p key (the serving node, `--dev`, has its own).
const SYNCING_NODE_KEY: &str = "0000000000000000000000000000000000000000000000000000000000000003";
const IMPORT_TIME: &str = "substrate_block_verification_and_import_time";

struct Round {
	sink: bool,
	import_ms_per_block: f64,
	cpu_ms_per_block: f64,
	sink_threads_ms_per_block: f64,
	wall: Duration,
	shipped_after_import: Option<Duration>,
}

pub fn sync(blocks: u32, transfers: u32, rounds: usize) {
	let chain = filled_chain(blocks, transfers);
	let server = NodeProcess::start(NodeConfig::manual_seal().base_path(chain.path()));
	let server_address = format!(
		"/ip4/127.0.0.1/tcp/{}/p2p/{}",
		server.p2p_port,
		server.rpc("system_localPeerId", json!([])).as_str().expect("a peer id")
	);
	let broker = Broker::start();
	let mut results = Vec::new();
	for round in 1..=rounds {
		for sink in [false, true] {
			let result = sync_once(&server_address, &broker, blocks, sink, round);
			println!(
				"round {round} sink {:>3}: import {:.2} ms per block (the node's metric), CPU {:.2} ms per block, \
				 of which the sink's threads {:.2} ms; {blocks} blocks imported, measured over {:.1} s{}",
				if sink { "on" } else { "off" },
				result.import_ms_per_block,
				result.cpu_ms_per_block,
				result.sink_threads_ms_per_block,
				result.wall.as_secs_f64(),
				result
					.shipped_after_import
					.map(|d| format!(", the last block acknowledged {:.2} s after its import", d.as_secs_f64()))
					.unwrap_or_default(),
			);
			results.push(result);
		}
	}
	let median = |sink: bool, value: fn(&Round) -> f64| {
		let mut values: Vec<f64> = results.iter().filter(|r| r.sink == sink).map(value).collect();
		values.sort_by(f64::total_cmp);
		values[values.len() / 2]
	};
	let (import_off, import_on) = (median(false, |r| r.import_ms_per_block), median(true, |r| r.import_ms_per_block));
	let (cpu_off, cpu_on) = (median(false, |r| r.cpu_ms_per_block), median(true, |r| r.cpu_ms_per_block));
	let sink_threads = median(true, |r| r.sink_threads_ms_per_block);
	println!("sync of {blocks} blocks × {transfers} transfers, median of {rounds} rounds, sink off → on:");
	println!(
		"  import time per block (substrate_block_verification_and_import_time): {import_off:.2} → {import_on:.2} ms \
		 ({:+.1} %)",
		(import_on / import_off - 1.0) * 100.0
	);
	println!(
		"  node CPU per block: {cpu_off:.2} → {cpu_on:.2} ms ({:+.2} ms: {sink_threads:.2} ms in the sink's named \
		 threads, {:+.2} ms elsewhere: import, the shipping loop, networking)",
		cpu_on - cpu_off,
		cpu_on - cpu_off - sink_threads
	);
}

fn sync_once(server_address: &str, broker: &Broker, blocks: u32, sink: bool, round: usize) -> Round {
	let mut config = NodeConfig::manual_seal()
		.arg("--node-key")
		.arg(SYNCING_NODE_KEY)
		.arg("--bootnodes")
		.arg(server_address.to_string());
	// SYNC_ARGS="--state-pruning archive-canonical": flags for both rounds (a new database with the sink on gets
	// archive-canonical pruning, which the sink needs; this gives the sink-off round the same).
	for arg in std::env::var("SYNC_ARGS").unwrap_or_default().split_whitespace() {
		config = config.arg(arg);
	}
	if sink {
		config = crate::with_sink_args(config)
			.arg("--kafka-brokers")
			.arg(broker.address.clone())
			.arg("--kafka-follow")
			.arg("best")
			.arg("--kafka-topic-prefix")
			.arg(format!("sync{round}"));
	}
	let node = NodeProcess::start(config);
	// Progress by the import queue's own count (`substrate_block_height` is updated only every few seconds).
	let imported = |metrics: &str| metric(metrics, &format!("{IMPORT_TIME}_count")).unwrap_or(0.0);
	let started = Instant::now();
	let mut metrics_at_first = node.metrics();
	while imported(&metrics_at_first) == 0.0 {
		assert!(started.elapsed() < Duration::from_secs(120), "the syncing node imported nothing within 120 s");
		std::thread::sleep(Duration::from_millis(20));
		metrics_at_first = node.metrics();
	}
	let (first_at, cpu_at_first, threads_at_first) = (Instant::now(), node.cpu_seconds(), sink_threads_cpu(node.pid()));
	// PERF_DATA=path profiles the first round's import with the sink on (`perf report -i path --no-children`).
	let perf = std::env::var("PERF_DATA").ok().filter(|_| sink && round == 1).map(|path| {
		std::process::Command::new("perf")
			.args(["record", "-F", "499", "--call-graph", "dwarf,16384", "-o", &path, "-p", &node.pid().to_string()])
			.stdout(std::process::Stdio::null())
			.stderr(std::process::Stdio::null())
			.spawn()
			.expect("perf runs (apt install linux-perf)")
	});
	let mut metrics = node.metrics();
	while imported(&metrics) < blocks as f64 {
		assert!(started.elapsed() < Duration::from_secs(3600), "block {blocks} not imported within an hour");
		std::thread::sleep(Duration::from_millis(20));
		metrics = node.metrics();
	}
	let imported_at = Instant::now();
	if let Some(perf) = perf {
		unsafe { libc::kill(perf.id() as i32, libc::SIGINT) };
		let _ = perf.wait_with_output();
	}
	let cpu = node.cpu_seconds() - cpu_at_first;
	let threads = sink_threads_cpu(node.pid()) - threads_at_first;
	let delta = |name: &str| metric(&metrics, name).unwrap_or(0.0) - metric(&metrics_at_first, name).unwrap_or(0.0);
	// The blocks imported between the two readings (the first reading may come after a few imports).
	let counted = delta(&format!("{IMPORT_TIME}_count"));
	assert!(counted > 0.0, "the whole chain was imported before the first reading: use more blocks");
	let shipped_after_import = sink.then(|| {
		while metric(&node.metrics(), "herald_kafka_last_shipped_block_number").map_or(true, |n| n < blocks as f64) {
			assert!(imported_at.elapsed() < Duration::from_secs(600), "block {blocks} not acknowledged");
			std::thread::sleep(Duration::from_millis(20));
		}
		imported_at.elapsed()
	});
	node.stop();
	Round {
		sink,
		import_ms_per_block: delta(&format!("{IMPORT_TIME}_sum")) / counted * 1e3,
		cpu_ms_per_block: cpu / counted * 1e3,
		sink_threads_ms_per_block: threads / counted * 1e3,
		wall: imported_at - first_at,
		shipped_after_import,
	}
}

/// CPU seconds of the sink's named threads in process `pid`: the encode pool and librdkafka's threads.
/// (Not `common::process_cpu_seconds(tid)`: `/proc/<tid>/stat` holds the whole process's times; only
/// `/proc/<pid>/task/<tid>/stat` holds the thread's own.)
fn sink_threads_cpu(pid: u32) -> f64 {
	let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return 0.0 };
	let ticks_per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
	tasks
		.flatten()
		.filter_map(|task| std::fs::read_to_string(task.path().join("stat")).ok())
		.filter_map(|stat| {
			let (head, rest) = stat.rsplit_once(')')?;
			let name = head.split_once('(')?.1;
			(name.starts_with("herald-encode") || name.starts_with("rdk:")).then_some(())?;
			let fields: Vec<&str> = rest.split_whitespace().collect();
			Some(fields.get(11..13)?.iter().filter_map(|v| v.parse::<f64>().ok()).sum::<f64>() / ticks_per_second)
		})
		.sum()
}
