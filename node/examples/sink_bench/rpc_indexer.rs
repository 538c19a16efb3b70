//! The catch-up's peer outside the node: the RPC indexer (`bench/rpc-indexer`: subxt over JSON-RPC, 16 blocks in
//! flight, Herald's envelope shape, no headers), run over the same chain and the same broker as Herald. `bench.sh`
//! builds it (never the test command) and passes its path in `RPC_INDEXER`.

use std::{
	path::Path,
	process::{Command, Stdio},
	time::Duration,
};

use futures::executor::block_on;
use herald_event_sink::kafka::client_config::PRODUCER_DEFAULTS;
use rdkafka::{
	admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
	client::DefaultClientContext,
	error::RDKafkaErrorCode,
};

use crate::{
	common::{kafka::Broker, NodeConfig, NodeProcess},
	CATCH_UP_PROPERTIES,
};

const TOPIC: &str = "rpc-indexer.events";
const IN_FLIGHT: u32 = 16;

/// Runs the indexer at `binary` over blocks 1..=`blocks` of the chain in `base`, served by a node with the sink
/// off, to a topic of its own on `broker`; prints its figures and Herald's rates over its.
pub fn compare(
	binary: &str,
	base: &Path,
	broker: &Broker,
	blocks: u32,
	herald_events_per_s: f64,
	herald_blocks_per_s: f64,
) {
	create_topic(broker);
	// The node only serves the indexer: no sink, nothing sealed.
	let node = NodeProcess::start(NodeConfig::manual_seal().base_path(base));
	let (node_cpu_before, indexer_cpu_before) = (node.cpu_seconds(), children_cpu_seconds());
	let mut command = Command::new(binary);
	command.args(["--url", &format!("ws://127.0.0.1:{}", node.rpc_port)]);
	command.args(["--brokers", &broker.address, "--topic", TOPIC]);
	command.args(["--from", "1", "--to", &blocks.to_string(), "--in-flight", &IN_FLIGHT.to_string()]);
	// Herald's producer settings (its own client id and no statistics aside), then the librdkafka properties the
	// benchmark gives Herald and the bare producer.
	let herald = PRODUCER_DEFAULTS.iter().filter(|(key, _)| !matches!(*key, "client.id" | "statistics.interval.ms"));
	for (key, value) in herald.chain(CATCH_UP_PROPERTIES) {
		command.arg("--kafka-config").arg(format!("{key}={value}"));
	}
	eprintln!("running the RPC indexer over the same {blocks} blocks...");
	let output = command.stderr(Stdio::inherit()).output().expect("the RPC indexer starts");
	// The indexer is the only child waited for in between (the node and the broker still run).
	let indexer_cpu = children_cpu_seconds() - indexer_cpu_before;
	let node_cpu = node.cpu_seconds() - node_cpu_before;
	node.stop();
	let stdout = String::from_utf8_lossy(&output.stdout);
	assert!(output.status.success(), "the RPC indexer failed ({}): {stdout}", output.status);

	// `rpc-indexer blocks=… events=… seconds=… events_per_s=… blocks_per_s=…`
	let line = stdout.lines().find(|line| line.starts_with("rpc-indexer ")).expect("the RPC indexer's figures");
	let figure = |name: &str| -> f64 {
		line.split_whitespace()
			.filter_map(|field| field.split_once('='))
			.find(|(key, _)| *key == name)
			.and_then(|(_, value)| value.parse().ok())
			.unwrap_or_else(|| panic!("no {name} in {line:?}"))
	};
	let (events, secs) = (figure("events"), figure("seconds"));
	let (events_per_s, blocks_per_s) = (figure("events_per_s"), figure("blocks_per_s"));
	println!(
		"RPC indexer (subxt over JSON-RPC, {IN_FLIGHT} blocks in flight, same envelope shape, no headers) over blocks \
		 1..={blocks}, the node's sink off:"
	);
	println!("  first request to last ack       {secs:>10.2} s");
	println!(
		"  runtime events shipped          {events:>10.0}  ({events_per_s:.0} events/s, {blocks_per_s:.0} blocks/s)"
	);
	println!(
		"  node CPU                        {node_cpu:>10.2} s  ({:.3} s per 1,000 events)",
		node_cpu / events.max(1.0) * 1e3
	);
	println!("  indexer CPU                     {indexer_cpu:>10.2} s  (the whole process, connecting included)");
	println!(
		"Herald / RPC indexer              {:>10.2}  (events/s; blocks/s: {:.2})",
		herald_events_per_s / events_per_s,
		herald_blocks_per_s / blocks_per_s
	);
}

/// The indexer's topic, with as many partitions as Herald's topics (`--kafka-topic-partitions`).
fn create_topic(broker: &Broker) {
	let admin: AdminClient<DefaultClientContext> = broker.client_config().create().expect("an admin client");
	let metadata = admin.inner().fetch_metadata(None, Duration::from_secs(10)).expect("cluster metadata");
	let partitions = metadata
		.topics()
		.iter()
		.filter(|topic| topic.name().starts_with("herald."))
		.map(|topic| topic.partitions().len() as i32)
		.max()
		.unwrap_or(3);
	let topic = NewTopic::new(TOPIC, partitions, TopicReplication::Fixed(1));
	for result in block_on(admin.create_topics([&topic], &AdminOptions::new())).expect("topic created") {
		if let Err((topic, code)) = result {
			assert_eq!(code, RDKafkaErrorCode::TopicAlreadyExists, "creating {topic}");
		}
	}
}

/// CPU time (user + system) of this process's children that were waited for, so far, in seconds.
fn children_cpu_seconds() -> f64 {
	let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
	unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
	let seconds = |time: libc::timeval| time.tv_sec as f64 + time.tv_usec as f64 / 1e6;
	seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
