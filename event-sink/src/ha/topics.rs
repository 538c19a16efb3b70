//! The group's two topics and the lease's consumer group, named after the sink's topic prefix and the group.

use std::time::Duration;

use rdkafka::{
	admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
	client::DefaultClientContext,
	config::ClientConfig,
	types::RDKafkaErrorCode,
};

use crate::{config::SinkConfig, error::SinkError, ha::state::StateTopic, ha::HaSettings, kafka::client_config};

/// The lease topic's suffix (after the topic prefix).
pub const LEASE_SUFFIX: &str = "sink-lease";
/// The state topic's suffix.
pub const STATE_SUFFIX: &str = "sink-state";

/// Where a group lives in Kafka.
pub struct GroupTopics {
	/// `<prefix>.sink-lease`: one partition, nobody writes to it; the group assigns it to the lease holder.
	pub lease: String,
	/// `<prefix>.sink-state`: one partition, the group's cursor and journal.
	pub state: StateTopic,
	group: String,
	replication: Option<i32>,
}

impl GroupTopics {
	pub fn new(config: &SinkConfig, settings: &HaSettings) -> Self {
		// Brokers and the operator's properties (TLS, SASL) without the producer's settings, which a consumer
		// would only warn about.
		let mut consumer = ClientConfig::new();
		consumer.set("bootstrap.servers", &config.brokers);
		for property in &config.kafka_properties {
			consumer.set(&property.key, &property.value);
		}
		consumer.set("client.id", "herald-node-ha");
		let group = format!("herald-sink.{}", settings.group);
		GroupTopics {
			lease: config.topic(LEASE_SUFFIX),
			state: StateTopic {
				topic: config.topic(STATE_SUFFIX),
				consumer,
				producer: client_config::client_config(config),
				group_id: group.clone(),
			},
			group,
			replication: config.topic_replication_factor,
		}
	}

	/// The lease's consumer group id.
	pub fn group_id(&self) -> String {
		self.group.clone()
	}

	/// Creates both topics when missing: one partition each; the state topic keeps its records for ever (the
	/// group's snapshot may be old, and what follows it must still be there).
	pub async fn ensure(&self, config: &SinkConfig) -> Result<(), SinkError> {
		let admin: AdminClient<DefaultClientContext> = client_config::client_config(config)
			.create()
			.map_err(|e| SinkError::Kafka(format!("cannot create the admin client: {e}")))?;
		let replication = || TopicReplication::Fixed(self.replication.unwrap_or(-1));
		let topics = [
			NewTopic::new(&self.lease, 1, replication()),
			NewTopic::new(&self.state.topic, 1, replication()).set("retention.ms", "-1"),
		];
		let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(30)));
		let results = admin
			.create_topics(&topics, &options)
			.await
			.map_err(|e| SinkError::Kafka(format!("cannot create the group's topics: {e}")))?;
		for result in results {
			match result {
				Ok(topic) => log::info!(target: "herald::ha", "created topic {topic}"),
				Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
				Err((topic, code)) => {
					return Err(SinkError::Kafka(format!(
						"cannot create the group's topic {topic} ({code}): create it with one partition, or let the \
						 sink create topics"
					)))
				}
			}
		}
		Ok(())
	}
}
