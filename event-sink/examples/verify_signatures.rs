//! A consumer that checks Herald's envelope signatures (`--kafka-sign-key-file`): reads a topic from the
//! beginning and prints `ok` or `REJECTED` for every message; exits 1 if any was rejected.
//!
//! ```text
//! cargo run -p herald-event-sink --example verify_signatures -- 127.0.0.1:9092 herald.blocks ./sign.key
//! ```
//!
//! The algorithm is in docs/envelope.md ("Signatures"); this is it with Herald's own helper.

use std::time::{Duration, Instant};

use herald_event_sink::kafka::signing::{SigningKey, KEY_ID_HEADER, SIGNATURE_HEADER};
use rdkafka::{
	consumer::{BaseConsumer, Consumer},
	message::{Headers, Message},
	ClientConfig, Offset, TopicPartitionList,
};

fn main() {
	let args: Vec<String> = std::env::args().skip(1).collect();
	let (brokers, topic, key_file, key_id) = match args.as_slice() {
		[brokers, topic, key_file] => (brokers, topic, key_file, None),
		[brokers, topic, key_file, key_id] => (brokers, topic, key_file, Some(key_id.clone())),
		_ => {
			eprintln!("usage: verify_signatures BROKERS TOPIC KEY_FILE [KEY_ID (as --kafka-sign-key-id)]");
			std::process::exit(2);
		}
	};
	let text = std::fs::read_to_string(key_file).unwrap_or_else(|e| {
		eprintln!("cannot read {key_file}: {e}");
		std::process::exit(2)
	});
	let key = SigningKey::from_hex(&text, key_id).unwrap_or_else(|e| {
		eprintln!("{key_file}: {e}");
		std::process::exit(2)
	});
	let consumer: BaseConsumer = ClientConfig::new()
		.set("bootstrap.servers", brokers)
		.set("group.id", "herald-verify-signatures")
		.set("enable.auto.commit", "false")
		.create()
		.expect("a consumer for these brokers");
	let metadata = consumer.fetch_metadata(Some(topic), Duration::from_secs(10)).expect("the topic's metadata");
	let mut assignment = TopicPartitionList::new();
	for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
		assignment.add_partition_offset(topic, partition.id(), Offset::Beginning).expect("a valid assignment");
	}
	consumer.assign(&assignment).expect("the topic's partitions");

	let (mut verified, mut rejected) = (0usize, 0usize);
	let mut idle_since = Instant::now();
	while idle_since.elapsed() < Duration::from_secs(5) {
		let Some(Ok(message)) = consumer.poll(Duration::from_millis(200)) else { continue };
		idle_since = Instant::now();
		let header = |name: &str| {
			message
				.headers()
				.and_then(|headers| headers.iter().find(|h| h.key == name))
				.and_then(|h| h.value)
				.map(|v| String::from_utf8_lossy(v).into_owned())
		};
		let id = header("id").unwrap_or_default();
		// A consumer holding several keys would pick the one named by the key id header.
		let outcome = match (header(SIGNATURE_HEADER), header(KEY_ID_HEADER)) {
			(Some(signature), Some(key_id)) if key_id == key.id() => {
				key.verify(message.payload().unwrap_or_default(), &signature)
			}
			_ => false,
		};
		if outcome {
			verified += 1;
			println!("ok {id}");
		} else {
			rejected += 1;
			println!("REJECTED {id} (partition {}, offset {})", message.partition(), message.offset());
		}
	}
	eprintln!("{verified} verified, {rejected} rejected");
	std::process::exit(if rejected == 0 { 0 } else { 1 });
}
