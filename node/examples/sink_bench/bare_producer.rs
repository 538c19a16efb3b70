//! The limit a catch-up is measured against: a bare librdkafka `ThreadedProducer` with Herald's producer
//! settings re-producing the very messages Herald shipped (topic, partition, key, value, headers, read back from
//! the broker) to another topic prefix of the same broker, as fast as librdkafka takes them.

use std::{
	sync::{
		atomic::{AtomicUsize, Ordering},
		Arc,
	},
	time::{Duration, Instant},
};

use futures::executor::block_on;
use herald_event_sink::kafka::client_config::PRODUCER_DEFAULTS;
use rdkafka::{
	admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
	client::DefaultClientContext,
	consumer::{BaseConsumer, Consumer},
	error::{KafkaError, RDKafkaErrorCode},
	message::{Header, OwnedHeaders},
	producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer},
	ClientContext,
};

use crate::common::kafka::{Broker, Record};

/// Counts acknowledged and failed deliveries.
#[derive(Default, Clone)]
struct Acks {
	delivered: Arc<AtomicUsize>,
	failed: Arc<AtomicUsize>,
}

impl ClientContext for Acks {}

impl ProducerContext for Acks {
	type DeliveryOpaque = ();

	fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
		match result {
			Ok(_) => self.delivered.fetch_add(1, Ordering::Relaxed),
			Err(_) => self.failed.fetch_add(1, Ordering::Relaxed),
		};
	}
}

/// Re-produces `records` (shipped under `from_prefix`) under `to_prefix`, into topics with the same partition
/// counts, with Herald's producer settings plus `properties`; returns the time from the first send to the last
/// acknowledgement.
pub fn reproduce(
	broker: &Broker,
	records: &[Record],
	from_prefix: &str,
	to_prefix: &str,
	properties: &[(&str, &str)],
) -> Duration {
	let rename = |topic: &str| format!("{to_prefix}{}", topic.strip_prefix(from_prefix).unwrap_or(topic));
	create_topics_like(broker, from_prefix, &rename);

	let mut config = broker.client_config();
	for (key, value) in PRODUCER_DEFAULTS.iter().chain(properties) {
		config.set(*key, *value);
	}
	let acks = Acks::default();
	let producer: ThreadedProducer<Acks> = config.create_with_context(acks.clone()).expect("a bare producer");
	let renamed: Vec<(String, &Record)> = records.iter().map(|record| (rename(&record.topic), record)).collect();
	// Connected, with every topic's leader known, before the clock starts: Herald's time starts at its first
	// acknowledged block, which it had to connect for.
	{
		use rdkafka::producer::Producer;
		let mut topics: Vec<&str> = renamed.iter().map(|(topic, _)| topic.as_str()).collect();
		topics.sort();
		topics.dedup();
		for topic in topics {
			producer.client().fetch_metadata(Some(topic), Duration::from_secs(10)).expect("topic metadata");
		}
	}

	let started = Instant::now();
	for (topic, record) in &renamed {
		// Building a message's headers is part of producing it, for Herald and for this producer alike.
		let headers = record
			.headers
			.iter()
			.fold(OwnedHeaders::new_with_capacity(record.headers.len()), |headers, (key, value)| {
				headers.insert(Header { key, value: Some(value.as_bytes()) })
			});
		let mut message =
			BaseRecord::to(topic).partition(record.partition).payload(&record.payload[..]).headers(headers);
		if let Some(key) = &record.key {
			message = message.key(key.as_bytes());
		}
		loop {
			match producer.send(message) {
				Ok(()) => break,
				Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
					message = returned;
					std::thread::sleep(Duration::from_micros(200));
				}
				Err((error, _)) => panic!("the bare producer refused a message: {error}"),
			}
		}
	}
	producer.flush(Duration::from_secs(600)).expect("every message acknowledged");
	let elapsed = started.elapsed();
	assert_eq!(acks.failed.load(Ordering::Relaxed), 0, "the bare producer lost messages");
	assert_eq!(acks.delivered.load(Ordering::Relaxed), records.len());
	elapsed
}

/// Creates, for every topic under `from_prefix`, the topic `rename(topic)` with as many partitions.
fn create_topics_like(broker: &Broker, from_prefix: &str, rename: &dyn Fn(&str) -> String) {
	let consumer: BaseConsumer = broker.client_config().create().expect("a metadata client");
	let metadata = consumer.fetch_metadata(None, Duration::from_secs(10)).expect("cluster metadata");
	let topics: Vec<(String, i32)> = metadata
		.topics()
		.iter()
		.filter(|topic| topic.name().starts_with(from_prefix))
		.map(|topic| (rename(topic.name()), topic.partitions().len() as i32))
		.collect();
	let new_topics: Vec<NewTopic<'_>> =
		topics.iter().map(|(name, partitions)| NewTopic::new(name, *partitions, TopicReplication::Fixed(1))).collect();
	let admin: AdminClient<DefaultClientContext> = broker.client_config().create().expect("an admin client");
	for result in block_on(admin.create_topics(&new_topics, &AdminOptions::new())).expect("topics created") {
		if let Err((topic, code)) = result {
			assert_eq!(code, RDKafkaErrorCode::TopicAlreadyExists, "creating {topic}");
		}
	}
}
