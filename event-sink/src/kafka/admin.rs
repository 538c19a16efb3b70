//! Topic administration: creates the sink's topics when they are missing and learns every topic's partition
//! count (the partitioner needs it).

use std::{collections::HashMap, time::Duration};

use rdkafka::{
	admin::{AdminClient, AdminOptions, NewTopic, TopicReplication},
	client::DefaultClientContext,
	error::{KafkaError, RDKafkaErrorCode},
};

use crate::{
	config::SinkConfig,
	error::SinkError,
	kafka::{client_config::client_config, partition::PartitionTable},
};

const LOG_TARGET: &str = "herald::kafka";

/// What the sink learned of the cluster at its start.
pub struct Cluster {
	/// Every topic's partition count.
	pub partitions: PartitionTable,
	/// The cluster's id, when the brokers report one (Kafka does since 0.10.1).
	pub id: Option<String>,
}

/// Creates the topics that don't exist yet (with `--kafka-topic-partitions` partitions and the broker's default
/// replication), then returns every topic's partition count and the cluster's id.
///
/// An unreachable cluster is an error (the sink retries later). A cluster that refuses topic creation (ACLs,
/// managed services, brokers without the admin API) only gets a warning: the topics may exist already or be
/// created by the operator, who sees the refusal in the log. A topic whose partition count can't be learned is
/// an error naming it (the sink retries with backoff).
pub async fn ensure_topics(config: &SinkConfig, topics: &[String]) -> Result<Cluster, SinkError> {
	let admin: AdminClient<DefaultClientContext> =
		client_config(config).create().map_err(|e| SinkError::Kafka(format!("cannot create the admin client: {e}")))?;
	let partitions = topic_partitions(config, &admin, topics).await?;
	// Known from the metadata just fetched: no extra round trip.
	let id = admin.inner().fetch_cluster_id(Duration::from_secs(10));
	Ok(Cluster { partitions, id })
}

async fn topic_partitions(
	config: &SinkConfig,
	admin: &AdminClient<DefaultClientContext>,
	topics: &[String],
) -> Result<PartitionTable, SinkError> {
	// Ask for what exists first: most starts find every topic there, and some clusters refuse CreateTopics.
	// (A blocking call: the sink runs on its own blocking thread.)
	let existing = partition_counts(admin)?;
	let missing: Vec<&String> = topics.iter().filter(|topic| !existing.contains_key(*topic)).collect();
	if missing.is_empty() {
		return Ok(PartitionTable::new(existing));
	}
	let new_topics: Vec<NewTopic<'_>> =
		missing.iter().map(|name| NewTopic::new(name, config.topic_partitions, TopicReplication::Fixed(-1))).collect();
	let options = AdminOptions::new()
		.operation_timeout(Some(Duration::from_secs(30)))
		.request_timeout(Some(Duration::from_secs(30)));
	match admin.create_topics(&new_topics, &options).await {
		Ok(results) => {
			for result in results {
				match result {
					Ok(topic) => log::info!(target: LOG_TARGET, "created topic {topic}"),
					Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
					Err((topic, code)) => {
						log::warn!(target: LOG_TARGET, "cannot create topic {topic} ({code}); shipping anyway")
					}
				}
			}
		}
		Err(error) if is_unreachable(&error) => {
			return Err(SinkError::Kafka(format!("cannot reach the brokers to create topics: {error}")))
		}
		Err(error) => log::warn!(target: LOG_TARGET, "creating topics {missing:?} failed ({error}); shipping anyway"),
	}
	// New topics may take a moment to appear in the brokers' metadata.
	let mut counts = partition_counts(admin)?;
	for _ in 0..50 {
		if topics.iter().all(|topic| counts.contains_key(topic)) {
			break;
		}
		std::thread::sleep(Duration::from_millis(200));
		counts = partition_counts(admin)?;
	}
	if let Some(topic) = topics.iter().find(|topic| !counts.contains_key(*topic)) {
		return Err(SinkError::Kafka(format!(
			"topic {topic} does not exist and could not be created: create it (or allow the sink to create topics)"
		)));
	}
	Ok(PartitionTable::new(counts))
}

/// Every topic the cluster has, with its partition count.
fn partition_counts(admin: &AdminClient<DefaultClientContext>) -> Result<HashMap<String, i32>, SinkError> {
	let metadata = admin
		.inner()
		.fetch_metadata(None, Duration::from_secs(10))
		.map_err(|e| SinkError::Kafka(format!("cannot reach the brokers to list topics: {e}")))?;
	Ok(metadata
		.topics()
		.iter()
		.filter(|topic| topic.error().is_none() && !topic.partitions().is_empty())
		.map(|topic| (topic.name().to_string(), topic.partitions().len() as i32))
		.collect())
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
