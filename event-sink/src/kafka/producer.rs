//! The producer: librdkafka configured for no loss (idempotent, `acks=all`, no message timeout), each message
//! sent to the partition Herald chose, and delivery reports turned into acknowledgements of the action (a
//! block's shipment, retraction or finalization) the message belongs to.

use std::time::Duration;

use rdkafka::{
	error::{KafkaError, RDKafkaErrorCode},
	message::{Header, OwnedHeaders},
	producer::{BaseRecord, DeliveryResult, ProducerContext, ThreadedProducer},
	ClientContext, Statistics,
};
use tokio::sync::mpsc;

use crate::{
	config::SinkConfig,
	envelope::OutgoingMessage,
	error::SinkError,
	kafka::{client_config::client_config, metrics::Metrics},
};

/// Log target of the sink.
const LOG_TARGET: &str = "herald::kafka";

/// What the producer reports back for every message.
#[derive(Debug)]
pub struct Delivery {
	/// The action the message belongs to.
	pub seq: u64,
	pub result: Result<(), Failure>,
}

/// A message Kafka did not acknowledge.
#[derive(Debug, Clone)]
pub struct Failure {
	/// The message's `meta.id`.
	pub id: String,
	/// librdkafka's reason.
	pub reason: String,
	/// Kafka will never accept it (retrying cannot help).
	pub permanent: bool,
}

/// Errors no retry can cure: the message itself, its topic, or the producer's rights are wrong. Everything else
/// (timeouts, leader changes, disconnects, not enough replicas) is retried by librdkafka or by a restart.
pub fn is_permanent(code: RDKafkaErrorCode) -> bool {
	matches!(
		code,
		RDKafkaErrorCode::MessageSizeTooLarge
			| RDKafkaErrorCode::InvalidMessageSize
			| RDKafkaErrorCode::InvalidMessage
			| RDKafkaErrorCode::InvalidRecord
			| RDKafkaErrorCode::InvalidTopic
			| RDKafkaErrorCode::UnknownTopic
			| RDKafkaErrorCode::PolicyViolation
			| RDKafkaErrorCode::TopicAuthorizationFailed
	)
}

/// Per-message data carried through librdkafka to the delivery callback.
struct Ticket {
	seq: u64,
	id: String,
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
			Err((error, _)) => Err(Failure {
				id: ticket.id.clone(),
				reason: error.to_string(),
				permanent: error.rdkafka_error_code().is_some_and(is_permanent),
			}),
		};
		if let Some(metrics) = &self.metrics {
			use crate::kafka::metrics::Status;
			let status = if outcome.is_ok() { Status::Acked } else { Status::Failed };
			metrics.message(&ticket.topic, status, ticket.bytes, ticket.is_event);
			if let Err(failure) = &outcome {
				metrics.delivery_error(&failure.reason);
			}
		}
		// The receiver is gone only when the sink is restarting; its cursor makes the report irrelevant.
		let _ = self.deliveries.send(Delivery { seq: ticket.seq, result: outcome });
	}
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

	/// Hands one message of action `seq` (about `what`) to librdkafka, for `partition`, waiting while its queue is
	/// full. A message librdkafka refuses for good (e.g. larger than `message.max.bytes`) is
	/// [`SinkError::Rejected`].
	pub async fn send(
		&self,
		seq: u64,
		what: &str,
		message: &OutgoingMessage,
		partition: i32,
		is_event: bool,
	) -> Result<(), SinkError> {
		let mut headers = OwnedHeaders::new_with_capacity(message.headers.len());
		for (key, value) in &message.headers {
			headers = headers.insert(Header { key, value: Some(value.as_slice()) });
		}
		let ticket = Box::new(Ticket {
			seq,
			id: message.id.clone(),
			topic: message.topic.clone(),
			bytes: message.payload.len(),
			is_event,
		});
		let mut record = BaseRecord::with_opaque_to(&message.topic, ticket)
			.partition(partition)
			.payload(&message.payload)
			.headers(headers);
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
				Err((error, _)) if error.rdkafka_error_code().is_some_and(is_permanent) => {
					return Err(SinkError::Rejected {
						what: what.to_string(),
						id: message.id.clone(),
						reason: format!("{error}, topic {}, {} bytes", message.topic, message.payload.len()),
					})
				}
				Err((error, _)) => return Err(SinkError::Kafka(format!("producing to {}: {error}", message.topic))),
			}
		}
	}
}
