//! Benchmarks of the event sink, against a real node and a real nisshi broker. Prints figures; asserts nothing.
//!
//! ```sh
//! ./scripts/bench.sh                 # catch-up of 1,000 blocks full of events, vs a bare producer and an RPC indexer
//! PERF_DATA=/tmp/perf.data ./scripts/bench.sh catch-up   # the same, the node profiled with `perf record`
//! ./scripts/bench.sh outage 300      # node RSS before and after a 300 s broker cut-off while blocks keep coming
//! ./scripts/bench.sh latency 120 50  # live latency, import to Kafka acknowledgement, best and finalized mode
//! ./scripts/bench.sh import 200 50   # block authoring + import time with the sink off and on
//! ./scripts/bench.sh failover 5      # an HA group's leader killed 5 times: the standby active, its first block
//! ```

/// The node's allocator, so that the bare producer's librdkafka allocates as the node's does: the limit is measured
/// with the same allocator as Herald.
#[path = "../../src/allocator.rs"]
mod allocator;
mod bare_producer;
#[path = "../../tests/e2e/common/mod.rs"]
mod common;
mod failover;
mod follow;
mod rpc_indexer;
mod sync;

use std::time::{Duration, Instant};

use common::{kafka::Broker, metric, process_cpu_seconds, signed_extrinsic, NodeConfig, NodeProcess};
use herald_runtime::{BalancesCall, RuntimeCall};
use sp_keyring::Sr25519Keyring;

/// Fills `blocks` blocks with `transfers` balance transfers each (about five events per transfer).
fn fill_blocks(node: &NodeProcess, blocks: u32, transfers: u32) {
	let mut nonces = vec![0; 4];
	for block in 0..blocks {
		if transfers == 0 {
			// Near-empty blocks: no pool to wait for, and finalizing every 1,000th block finalizes the ones before
			// it (100,000 blocks fill in minutes instead of an hour). Finalized by `engine_finalizeBlock`: a block
			// sealed as final on top of unfinalized ones fails to import after the first time ("State Database
			// error: Trying to canonicalize invalid block").
			let hash = node.seal_block(false, None);
			if block % 1000 == 999 || block + 1 == blocks {
				node.rpc("engine_finalizeBlock", serde_json::json!([hash, null]));
			}
		} else {
			submit_transfers(node, &mut nonces, transfers);
			node.seal_block(true, None);
			// Let the pool catch up with the new block before the next batch.
			std::thread::sleep(Duration::from_millis(30));
		}
		if (block + 1) % if blocks >= 10_000 { 5_000 } else { 100 } == 0 {
			eprintln!("  sealed {} blocks", block + 1);
		}
	}
}

fn wait_for_acked(node: &NodeProcess, block: u64, timeout: Duration) -> Duration {
	let started = Instant::now();
	while metric(&node.metrics(), "herald_kafka_last_acked_block_number") != Some(block as f64) {
		assert!(started.elapsed() < timeout, "block {block} not acknowledged within {timeout:?}");
		std::thread::sleep(Duration::from_millis(50));
	}
	started.elapsed()
}

/// librdkafka properties the benchmark adds to Herald's defaults, for the node and the bare producer alike:
/// larger batches for a catch-up.
const CATCH_UP_PROPERTIES: &[(&str, &str)] = &[("linger.ms", "20")];

/// A database holding `blocks` blocks × `transfers` transfers and no sink state, in a temporary directory. With
/// `BENCH_CHAINS=DIR` the filled chain is kept in `DIR` and copied from there by later runs (filling takes
/// minutes; the copy seconds).
fn filled_chain(blocks: u32, transfers: u32) -> tempfile::TempDir {
	let base = tempfile::tempdir().unwrap();
	let fill = |path: &std::path::Path| {
		eprintln!("filling {blocks} blocks with {transfers} transfers each (no sink)...");
		let node = NodeProcess::start(
			NodeConfig::manual_seal().base_path(path).arg("--state-pruning").arg("archive-canonical"),
		);
		fill_blocks(&node, blocks, transfers);
		node.stop();
	};
	let Ok(cache) = std::env::var("BENCH_CHAINS") else {
		fill(base.path());
		return base;
	};
	let kept = std::path::Path::new(&cache).join(format!("{blocks}x{transfers}"));
	if !kept.join("done").exists() {
		let _ = std::fs::remove_dir_all(&kept);
		std::fs::create_dir_all(&kept).unwrap();
		fill(&kept);
		std::fs::write(kept.join("done"), "").unwrap();
	}
	let status = std::process::Command::new("cp").arg("-a").arg(kept.join(".")).arg(base.path()).status().unwrap();
	assert!(status.success(), "copying the kept chain {}", kept.display());
	base
}

/// Catch-up of a chain of `blocks` blocks × `transfers` transfers by a node started with the sink on a database
/// that already holds them, then the bare producer re-sending the very same messages: both rates and their ratio.
/// With `RPC_INDEXER` (bench.sh sets it), the RPC indexer too, over the same blocks ([`rpc_indexer`]).
fn catch_up(blocks: u32, transfers: u32) {
	let base = filled_chain(blocks, transfers);

	let broker = Broker::start();
	let started = Instant::now();
	let mut config =
		NodeConfig::manual_seal().base_path(base.path()).arg("--kafka-brokers").arg(broker.address.clone());
	for (key, value) in CATCH_UP_PROPERTIES {
		config = config.arg("--kafka-config").arg(format!("{key}={value}"));
	}
	let node = NodeProcess::start(with_sink_args(config));
	let rpc_up = started.elapsed();
	// PERF_DATA=path profiles the node's catch-up with `perf record` (call graphs from DWARF, 499 Hz).
	let perf = std::env::var("PERF_DATA").ok().map(|path| {
		std::process::Command::new("perf")
			.args(["record", "-F", "499", "--call-graph", "dwarf,16384", "-o", &path, "-p", &node.pid().to_string()])
			.stdout(std::process::Stdio::null())
			.spawn()
			.expect("perf runs (apt install linux-perf)")
	});
	// First and last acknowledged block, polled every 10 ms through `herald_status` (`last_shipped`: the last block
	// whose every message Kafka acknowledged, as `herald_kafka_last_shipped_block_number`); the node's CPU time in
	// between. Not the metrics endpoint: rendering every metric 100 times a second took 7 % of the node's CPU in a
	// dense catch-up (perf), charged to Herald. Not the stored cursor either, which is written about once a second.
	let acked = || node.rpc("herald_status", serde_json::json!([]))["last_shipped"].as_f64();
	while acked().is_none() {
		assert!(started.elapsed() < Duration::from_secs(120), "no block acknowledged within 120 s");
		std::thread::sleep(Duration::from_millis(10));
	}
	let first_acked = started.elapsed();
	let (first_block, cpu_at_first) = (acked().unwrap_or(0.0), node.cpu_seconds());
	let broker_cpu_at_first = process_cpu_seconds(broker.pid());
	let bench_cpu_at_first = process_cpu_seconds(std::process::id());
	let at_first = node.metrics();
	// The node's heap as the catch-up goes on: bounded by the read-ahead, it levels off instead of growing with the
	// chain. Sampled about every tenth of the chain.
	let mut heap = Vec::new();
	let mut next_sample = 0.0;
	while let Some(block) = Some(acked().unwrap_or(0.0)).filter(|block| *block != blocks as f64) {
		assert!(started.elapsed() < Duration::from_secs(3600), "block {blocks} not acknowledged within an hour");
		if block >= next_sample {
			heap.push((block, node.rss_anon_kib()));
			next_sample = block + (blocks as f64 / 10.0).max(1.0);
		}
		std::thread::sleep(Duration::from_millis(10));
	}
	let shipping = started.elapsed() - first_acked;
	if let Some(perf) = perf {
		unsafe { libc::kill(perf.id() as i32, libc::SIGINT) };
		let _ = perf.wait_with_output();
	}
	let cpu = node.cpu_seconds() - cpu_at_first;
	let broker_cpu = process_cpu_seconds(broker.pid()) - broker_cpu_at_first;
	// The benchmark's own: the TCP proxy in front of the broker, and the metrics polling.
	let bench_cpu = process_cpu_seconds(std::process::id()) - bench_cpu_at_first;
	let metrics = node.metrics();
	let since_first = |name: &str| metric(&metrics, name).unwrap_or(0.0) - metric(&at_first, name).unwrap_or(0.0);
	let events = since_first("herald_kafka_events_total");
	let messages = since_first("herald_kafka_messages_total");
	let bytes = since_first("herald_kafka_message_bytes_total");
	let all_messages = metric(&metrics, "herald_kafka_messages_total").unwrap_or(0.0) as usize;
	let latency = since_first("herald_kafka_delivery_latency_seconds_sum")
		/ since_first("herald_kafka_delivery_latency_seconds_count").max(1.0);
	let secs = shipping.as_secs_f64();
	let herald_rate = messages / secs;
	println!(
		"catch-up of {blocks} blocks ({transfers} transfers submitted per block), block #{first_block} first acked:"
	);
	println!("  node start to RPC up            {:>10.2} s", rpc_up.as_secs_f64());
	println!("  node start to first acked block {:>10.2} s", first_acked.as_secs_f64());
	println!("  first to last acked block       {secs:>10.2} s");
	println!("  runtime events shipped          {events:>10.0}  ({:.0} events/s)", events / secs);
	println!(
		"  messages (incl. blocks)         {messages:>10.0}  ({herald_rate:.0} msg/s, {:.1} MB/s)",
		bytes / secs / 1e6
	);
	println!(
		"  node CPU                        {cpu:>10.2} s  ({:.3} s per 1,000 events)",
		cpu / events.max(1.0) * 1e3
	);
	println!("  broker CPU                      {broker_cpu:>10.2} s  (benchmark and proxy: {bench_cpu:.2} s)");
	println!("  mean time from a block's send to its last ack {:.1} ms", latency * 1e3);
	println!(
		"  node heap (anonymous RSS) by acknowledged block: {}",
		heap.iter().map(|(block, kib)| format!("#{block:.0} {} MiB", kib / 1024)).collect::<Vec<_>>().join(", ")
	);
	println!(
		"  node peak RSS                   {:>10} KiB (now {} KiB, of which {} KiB anonymous, the rest the database's \
		 mapped files)",
		node.peak_rss_kib(),
		node.rss_kib(),
		node.rss_anon_kib()
	);
	node.stop();

	eprintln!("reading the {all_messages} messages back...");
	let records = broker.consume("herald.", all_messages, Duration::from_secs(600));
	let payload_bytes: usize = records.iter().map(|r| r.payload.len()).sum();
	// The bare producer's rate swings from run to run on a small machine: three rounds, each to its own topics,
	// and the median is the limit.
	let mut rounds: Vec<(f64, f64)> = (1..=3)
		.map(|round| {
			let broker_cpu_before = process_cpu_seconds(broker.pid());
			let to = format!("bare{round}.");
			let bare = bare_producer::reproduce(&broker, &records, "herald.", &to, CATCH_UP_PROPERTIES).as_secs_f64();
			(bare, process_cpu_seconds(broker.pid()) - broker_cpu_before)
		})
		.collect();
	rounds.sort_by(|a, b| a.0.total_cmp(&b.0));
	let (bare, broker_cpu) = rounds[1];
	let bare_rate = records.len() as f64 / bare;
	println!(
		"bare rdkafka ThreadedProducer re-producing the same {} messages (Herald's settings), median of 3:",
		records.len()
	);
	println!(
		"  first send to last ack          {bare:>10.2} s  (rounds: {})",
		rounds.iter().map(|(secs, _)| format!("{secs:.2} s")).collect::<Vec<_>>().join(", ")
	);
	println!("  broker CPU                      {broker_cpu:>10.2} s");
	println!(
		"  rate                            {bare_rate:>10.0} msg/s  ({:.1} MB/s)",
		payload_bytes as f64 / bare / 1e6
	);
	println!("Herald / bare producer            {:>10.2}", herald_rate / bare_rate);

	// RPC_INDEXER=path (set by bench.sh): the peer outside the node, over the same chain.
	if let Ok(binary) = std::env::var("RPC_INDEXER") {
		let herald_blocks_per_s = (blocks as f64 - first_block) / secs;
		rpc_indexer::compare(&binary, base.path(), &broker, blocks, events / secs, herald_blocks_per_s);
	}
}

fn outage(seconds: u64) {
	let broker = Broker::start();
	let node = NodeProcess::start(NodeConfig::manual_seal().arg("--kafka-brokers").arg(broker.address.clone()));
	fill_blocks(&node, 20, 20);
	wait_for_acked(&node, 20, Duration::from_secs(120));
	let before = node.rss_kib();
	broker.proxy.cut();
	let cut = Instant::now();
	let mut sealed = 20;
	while cut.elapsed() < Duration::from_secs(seconds) {
		fill_blocks(&node, 1, 20);
		sealed += 1;
		std::thread::sleep(Duration::from_secs(1));
	}
	let during = node.rss_kib();
	broker.proxy.restore();
	let recovery = wait_for_acked(&node, sealed, Duration::from_secs(600));
	let after = node.rss_kib();
	println!("broker cut off for {seconds} s while {} blocks (20 transfers each) were sealed:", sealed - 20);
	println!("  node RSS before the cut   {before:>8} KiB");
	println!("  node RSS at the cut's end {during:>8} KiB  (growth {} KiB)", during as i64 - before as i64);
	println!("  node RSS after catch-up   {after:>8} KiB");
	println!("  caught up in              {:>8.1} s after the broker came back", recovery.as_secs_f64());
}

/// `SINK_ARGS="--kafka-read-ahead-blocks 256 …"`: flags to try against the defaults (catch-up, latency, sync).
fn with_sink_args(mut config: NodeConfig) -> NodeConfig {
	for arg in std::env::var("SINK_ARGS").unwrap_or_default().split_whitespace() {
		config = config.arg(arg);
	}
	config
}

/// Submits `transfers` transfers for the next block.
fn submit_transfers(node: &NodeProcess, nonces: &mut [u32], transfers: u32) {
	let genesis = node.genesis_hash();
	let signers = [Sr25519Keyring::Alice, Sr25519Keyring::Bob, Sr25519Keyring::Charlie, Sr25519Keyring::Dave];
	for (nonce, signer) in nonces.iter_mut().zip(signers) {
		*nonce = (*nonce).max(node.nonce(signer));
	}
	for i in 0..transfers {
		let who = (i as usize) % signers.len();
		let call = RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
			dest: Sr25519Keyring::Eve.to_account_id().into(),
			value: 1_000_000_000 + i as u128,
		});
		match node.submit_extrinsic(&signed_extrinsic(call, signers[who], nonces[who], genesis)) {
			Ok(_) => nonces[who] += 1,
			Err(error) => eprintln!("  transfer {i} not accepted: {error}"),
		}
	}
}

/// Live latency: one block a second with `transfers` transfers; for each block, the time from its import
/// (`engine_createBlock` returned) until Kafka acknowledged its every message
/// (`herald_kafka_last_shipped_block_number` reached it, polled every millisecond).
fn latency(blocks: u32, transfers: u32) {
	for mode in ["best", "finalized"] {
		let broker = Broker::start();
		let node = NodeProcess::start(with_sink_args(
			NodeConfig::manual_seal()
				.arg("--kafka-brokers")
				.arg(broker.address.clone())
				.arg("--kafka-follow")
				.arg(mode),
		));
		// In finalized mode a block ships once final: manual seal finalizes at import.
		let finalize = mode == "finalized";
		wait_for_shipped(&node, 0, Duration::from_secs(60));
		let mut nonces = vec![0; 4];
		let mut samples = Vec::with_capacity(blocks as usize);
		for _ in 0..blocks {
			let tick = Instant::now();
			submit_transfers(&node, &mut nonces, transfers);
			// Let the pool validate them, so each block carries its transfers.
			std::thread::sleep(Duration::from_millis(50));
			let hash = node.seal_block(finalize, None);
			let imported = Instant::now();
			let number = node.block_number(hash) as u64;
			wait_for_shipped(&node, number, Duration::from_secs(60));
			samples.push(imported.elapsed());
			std::thread::sleep(Duration::from_secs(1).saturating_sub(tick.elapsed()));
		}
		let slowest = samples.iter().enumerate().max_by_key(|(_, d)| **d).map_or(0, |(i, _)| i + 1);
		let events = metric(&node.metrics(), "herald_kafka_events_total").unwrap_or(0.0);
		println!("  {:.1} runtime events shipped per block", events / blocks as f64);
		samples.sort();
		let at = |q: f64| samples[((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1];
		let ms = |d: Duration| d.as_secs_f64() * 1e3;
		println!(
			"{mode:>9} mode, {blocks} blocks at 1/s, {transfers} transfers each: import -> acknowledged \
			 p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms (block {slowest})",
			ms(at(0.50)),
			ms(at(0.90)),
			ms(at(0.99)),
			ms(at(1.0))
		);
	}
}

/// Block import with the sink off and on: `blocks` blocks of `transfers` transfers sealed back to back (the sink
/// works on one block while the next is imported: the worst case), timing `engine_createBlock` (authoring and
/// import; manual seal imports the proposal's state without executing the block again).
/// Block authoring + import time with the sink off and on, in alternating rounds (so drift of the machine hits
/// both), each its own node and chain. A round's figure is `engine_createBlock` time per extrinsic the blocks
/// carried (the pool does not always hand every transfer to every block); the overhead compares the medians of
/// the rounds.
fn import(blocks: u32, transfers: u32) {
	const ROUNDS: usize = 3;
	let mut per_mode: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
	for round in 0..ROUNDS {
		for sink in [false, true] {
			let broker = Broker::start();
			let mut config = NodeConfig::manual_seal();
			if sink {
				config = config.arg("--kafka-brokers").arg(broker.address.clone());
			}
			let node = NodeProcess::start(config);
			let mut nonces = vec![0; 4];
			let (mut total, mut extrinsics) = (Duration::ZERO, 0usize);
			for _ in 0..blocks {
				submit_transfers(&node, &mut nonces, transfers);
				// Let the pool validate them (the import is what is timed, not the pool).
				std::thread::sleep(Duration::from_millis(50));
				let started = Instant::now();
				let hash = node.seal_block(true, None);
				total += started.elapsed();
				let block = node.rpc("chain_getBlock", serde_json::json!([hash]));
				extrinsics += block["block"]["extrinsics"].as_array().map_or(0, Vec::len);
			}
			if sink {
				wait_for_shipped(&node, blocks as u64, Duration::from_secs(120));
			}
			let us_per_extrinsic = total.as_secs_f64() * 1e6 / extrinsics as f64;
			println!(
				"round {} sink {:>3}: {blocks} blocks, {:.1} extrinsics per block, engine_createBlock {:.1} µs per \
				 extrinsic ({:.2} ms per block)",
				round + 1,
				if sink { "on" } else { "off" },
				extrinsics as f64 / blocks as f64,
				us_per_extrinsic,
				total.as_secs_f64() * 1e3 / blocks as f64,
			);
			per_mode[sink as usize].push(us_per_extrinsic);
		}
	}
	let median = |values: &mut Vec<f64>| {
		values.sort_by(f64::total_cmp);
		values[values.len() / 2]
	};
	let (off, on) = (median(&mut per_mode[0]), median(&mut per_mode[1]));
	println!(
		"overhead of the sink on block authoring + import: {:+.1} % (median of {ROUNDS} rounds: {off:.1} → {on:.1} µs \
		 per extrinsic)",
		(on / off - 1.0) * 100.0
	);
}

fn wait_for_shipped(node: &NodeProcess, block: u64, timeout: Duration) {
	let started = Instant::now();
	while metric(&node.metrics(), "herald_kafka_last_shipped_block_number").map_or(true, |n| n < block as f64) {
		assert!(started.elapsed() < timeout, "block {block} not acknowledged within {timeout:?}");
		std::thread::sleep(Duration::from_millis(1));
	}
}

fn main() {
	let args: Vec<String> = std::env::args().skip(1).collect();
	match args.first().map(String::as_str) {
		None | Some("catch-up") => {
			let blocks = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000);
			let transfers = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(50);
			catch_up(blocks, transfers)
		}
		Some("outage") => outage(args.get(1).and_then(|a| a.parse().ok()).unwrap_or(300)),
		Some("import") => import(
			args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200),
			args.get(2).and_then(|a| a.parse().ok()).unwrap_or(50),
		),
		Some("sync") => sync::sync(
			args.get(1).and_then(|a| a.parse().ok()).unwrap_or(1000),
			args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10),
			args.get(3).and_then(|a| a.parse().ok()).unwrap_or(3),
		),
		Some("latency") => latency(
			args.get(1).and_then(|a| a.parse().ok()).unwrap_or(120),
			args.get(2).and_then(|a| a.parse().ok()).unwrap_or(50),
		),
		Some("follow") => follow::follow(
			args.get(1).and_then(|a| a.parse().ok()).unwrap_or(100),
			args.get(2).and_then(|a| a.parse().ok()).unwrap_or(200),
			args.get(3).and_then(|a| a.parse().ok()).unwrap_or(20),
		),
		Some("failover") => failover::failover(args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5)),
		Some(other) => {
			eprintln!("unknown benchmark {other:?}: use `catch-up [BLOCKS] [TRANSFERS]`, `outage [SECONDS]`, `latency [BLOCKS] [TRANSFERS]`, `import [BLOCKS] [TRANSFERS]`, `follow [SUBSCRIBERS] [BLOCKS] [TRANSFERS]`, `sync [BLOCKS] [TRANSFERS] [ROUNDS]` or `failover [ROUNDS]`");
			std::process::exit(2);
		}
	}
}
