//! The Kafka side: a librdkafka producer configured for no loss (idempotent, `acks=all`, no message timeout),
//! topic creation, and delivery reports turned into per-block acknowledgements.

use std::time::Duration;

use rdkafka::{
	admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
	client::DefaultClientContext,
	config::ClientConfig,
	error::{KafkaError, RDKafkaErrorCode},
	message::{Header, OwnedHeaders},
	producer::{BaseRecord, DeliveryResult, ProducerContext, ThreadedProducer},
	ClientContext, Statistics,
};
use tokio::sync::mpsc;

use crate::{config::SinkConfig, envelope::OutgoingMessage, error::SinkError, metrics::Metrics};

/// Log target of the sink.
const LOG_TARGET: &str = "herald::kafka";

/// What the producer reports back for every message.
#[derive(Debug)]
pub struct Delivery {
	/// The block the message belongs to.
	pub block: u64,
	/// `Err` carries librdkafka's reason.
	pub result: Result<(), String>,
}

/// Per-message data carried through librdkafka to the delivery callback.
struct Ticket {
	block: u64,
	topic: String,
	bytes: usize,
	is_event: bool,
}

/// Receives librdkafka's callbacks (on its polling thread): delivery reports, statistics, errors.
struct SinkContext {
	deliveries: mpsc::UnboundedSender<Delivery>,
	metrics: Option<Metrics>,
}

impl ClientContext for SinkContext {
	fn stats(&self, statistics: Statistics) {
		if let Some(metrics) = &self.metrics {
			metrics.librdkafka_statistics(&statistics);
		}
	}

	fn error(&self, error: KafkaError, reason: &str) {
		// Transient broker errors (disconnects, "all brokers down") are retried by librdkafka itself.
		log::warn!(target: LOG_TARGET, "librdkafka: {error}: {reason}");
	}
}

impl ProducerContext for SinkContext {
	type DeliveryOpaque = Box<Ticket>;

	fn delivery(&self, result: &DeliveryResult<'_>, ticket: Box<Ticket>) {
		let outcome = match result {
			Ok(_) => Ok(()),
			Err((error, _)) => Err(error.to_string()),
		};
		if let Some(metrics) = &self.metrics {
			use crate::metrics::Status;
			let status = if outcome.is_ok() { Status::Acked } else { Status::Failed };
			metrics.message(&ticket.topic, status, ticket.bytes, ticket.is_event);
			if let Err(error) = &outcome {
				metrics.delivery_error(error);
			}
		}
		// The receiver is gone only when the sink is restarting; its cursor makes the report irrelevant.
		let _ = self.deliveries.send(Delivery { block: ticket.block, result: outcome });
	}
}

/// The librdkafka configuration: Herald's no-loss defaults, then the operator's `--kafka-config` overrides.
pub fn client_config(config: &SinkConfig) -> ClientConfig {
	let mut client_config = ClientConfig::new();
	client_config
		.set("bootstrap.servers", &config.brokers)
		.set("client.id", "herald-node")
		// Nothing is lost or duplicated by the producer: every in-sync replica acknowledges, retries keep order.
		.set("enable.idempotence", "true")
		.set("acks", "all")
		// Never give up on a message: when Kafka is down the sink waits (block import does not).
		.set("message.timeout.ms", "0")
		.set("compression.type", "lz4")
		.set("linger.ms", "5")
		.set("statistics.interval.ms", "1000");
	for property in &config.kafka_properties {
		client_config.set(&property.key, &property.value);
	}
	client_config
}

/// A producer for one run of the sink; dropping it purges what was not acknowledged.
pub struct KafkaProducer {
	producer: ThreadedProducer<SinkContext>,
}

impl KafkaProducer {
	/// Creates the producer. Fails on invalid librdkafka properties (the error names the property); an unreachable
	/// broker is not an error: librdkafka keeps connecting in the background.
	pub fn new(
		config: &SinkConfig,
		metrics: Option<Metrics>,
	) -> Result<(Self, mpsc::UnboundedReceiver<Delivery>), SinkError> {
		let (deliveries, receiver) = mpsc::unbounded_channel();
		if let Some(metrics) = &metrics {
			metrics.producer_recreated();
		}
		let producer = client_config(config)
			.create_with_context(SinkContext { deliveries, metrics })
			.map_err(|e| SinkError::Kafka(format!("cannot create the producer: {e}")))?;
		Ok((Self { producer }, receiver))
	}

	/// Hands one message of block `block` to librdkafka, waiting while its queue is full.
	pub async fn send(&self, block: u64, message: OutgoingMessage, is_event: bool) -> Result<(), SinkError> {
		let mut headers = OwnedHeaders::new_with_capacity(message.headers.len());
		for (key, value) in &message.headers {
			headers = headers.insert(Header { key, value: Some(value.as_slice()) });
		}
		let ticket = Box::new(Ticket { block, topic: message.topic.clone(), bytes: message.payload.len(), is_event });
		let mut record = BaseRecord::with_opaque_to(&message.topic, ticket).payload(&message.payload).headers(headers);
		if let Some(key) = &message.key {
			record = record.key(key);
		}
		loop {
			match self.producer.send(record) {
				Ok(()) => return Ok(()),
				Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
					// Backpressure: librdkafka's queue drains as Kafka acknowledges.
					record = returned;
					tokio::time::sleep(Duration::from_millis(5)).await;
				}
				Err((error, _)) => return Err(SinkError::Kafka(format!("producing to {}: {error}", message.topic))),
			}
		}
	}
}

/// Creates the topics that don't exist yet, with `partitions` partitions and the broker's default replication.
///
/// An unreachable cluster is an error (the sink retries later). A cluster that refuses topic creation (ACLs,
/// managed services, brokers without the admin API) only gets a warning: the topics may exist already or be
/// created by the broker on first use, and the operator sees the refusal in the log.
pub async fn ensure_topics(config: &SinkConfig, topics: &[String]) -> Result<(), SinkError> {
	let admin: AdminClient<DefaultClientContext> =
		client_config(config).create().map_err(|e| SinkError::Kafka(format!("cannot create the admin client: {e}")))?;
	// Ask for what exists first: most starts find every topic there, and some clusters refuse CreateTopics.
	// (A blocking call: the sink runs on its own blocking thread.)
	let existing: Vec<String> = {
		let client = admin.inner();
		let metadata = client
			.fetch_metadata(None, Duration::from_secs(10))
			.map_err(|e| SinkError::Kafka(format!("cannot reach the brokers to list topics: {e}")))?;
		metadata.topics().iter().map(|topic| topic.name().to_string()).collect()
	};
	let missing: Vec<&String> = topics.iter().filter(|topic| !existing.contains(topic)).collect();
	if missing.is_empty() {
		return Ok(());
	}
	let new_topics: Vec<NewTopic<'_>> =
		missing.iter().map(|name| NewTopic::new(name, config.topic_partitions, TopicReplication::Fixed(-1))).collect();
	let options = AdminOptions::new()
		.operation_timeout(Some(Duration::from_secs(30)))
		.request_timeout(Some(Duration::from_secs(30)));
	let results = match admin.create_topics(&new_topics, &options).await {
		Ok(results) => results,
		Err(error) if is_unreachable(&error) => {
			return Err(SinkError::Kafka(format!("cannot reach the brokers to create topics: {error}")))
		}
		Err(error) => {
			log::warn!(target: LOG_TARGET, "creating topics {topics:?} failed ({error}); shipping anyway");
			return Ok(());
		}
	};
	for result in results {
		match result {
			Ok(topic) => log::info!(target: LOG_TARGET, "created topic {topic}"),
			Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
			Err((topic, code)) => {
				log::warn!(target: LOG_TARGET, "cannot create topic {topic} ({code}); shipping anyway")
			}
		}
	}
	Ok(())
}

fn is_unreachable(error: &KafkaError) -> bool {
	matches!(
		error.rdkafka_error_code(),
		Some(
			RDKafkaErrorCode::OperationTimedOut
				| RDKafkaErrorCode::RequestTimedOut
				| RDKafkaErrorCode::AllBrokersDown
				| RDKafkaErrorCode::BrokerTransportFailure
		)
	)
}

/// Checks the librdkafka configuration without connecting, so a bad `--kafka-config` fails the node's start
/// with librdkafka's own message (which names the property) instead of failing later in the background.
pub fn validate(config: &SinkConfig) -> Result<(), String> {
	client_config(config)
		.create::<rdkafka::producer::BaseProducer>()
		.map(drop)
		.map_err(|e| format!("invalid Kafka configuration: {e}"))
}
