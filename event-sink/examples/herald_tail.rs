//! Prints the envelopes a Herald node ships, as they arrive: one line per message with its topic, key and
//! JSON payload. Used by `scripts/dev.sh` to show the stream.
//!
//! ```sh
//! cargo run -p herald-event-sink --example herald_tail -- 127.0.0.1:9092 herald
//! ```

use std::{collections::BTreeSet, time::Duration};

use rdkafka::{
	consumer::{BaseConsumer, Consumer},
	ClientConfig, Message, Offset, TopicPartitionList,
};

fn main() {
	let mut args = std::env::args().skip(1);
	let brokers = args.next().unwrap_or_else(|| "127.0.0.1:9092".into());
	let prefix = format!("{}.", args.next().unwrap_or_else(|| "herald".into()));

	let consumer: BaseConsumer = ClientConfig::new()
		.set("bootstrap.servers", &brokers)
		.set("group.id", "herald-tail")
		.set("enable.auto.commit", "false")
		.create()
		.unwrap_or_else(|e| {
			eprintln!("cannot create a consumer for {brokers}: {e}");
			std::process::exit(1)
		});

	// Topics appear as the node creates them: re-read the cluster's topics every few seconds.
	let mut assigned = BTreeSet::new();
	let mut assignment = TopicPartitionList::new();
	loop {
		if let Ok(metadata) = consumer.fetch_metadata(None, Duration::from_secs(5)) {
			let mut changed = false;
			for topic in metadata.topics().iter().filter(|t| t.name().starts_with(&prefix)) {
				for partition in topic.partitions() {
					if assigned.insert((topic.name().to_string(), partition.id())) {
						let _ = assignment.add_partition_offset(topic.name(), partition.id(), Offset::Beginning);
						changed = true;
					}
				}
			}
			if changed {
				if let Err(e) = consumer.assign(&assignment) {
					eprintln!("cannot assign partitions: {e}");
				}
			}
		}
		for _ in 0..50 {
			match consumer.poll(Duration::from_millis(100)) {
				Some(Ok(message)) => println!(
					"{} [{}] key={} {}",
					message.topic(),
					message.partition(),
					message.key().map(String::from_utf8_lossy).unwrap_or_default(),
					message.payload().map(String::from_utf8_lossy).unwrap_or_default(),
				),
				Some(Err(e)) => eprintln!("consumer: {e}"),
				None => {}
			}
		}
	}
}
