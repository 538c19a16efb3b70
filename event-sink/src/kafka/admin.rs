//! Topic administration: creates the sink's topics when they are missing and learns every topic's partition
//! count (the partitioner needs it).

use std::{collections::HashMap, time::Duration};

use rdkafka::{
	admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication},
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
	warn_if_acks_all_is_weak(&admin, topics).await;
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
	// -1: the cluster's `default.replication.factor`.
	let replication = config.topic_replication_factor.unwrap_or(-1);
	let new_topics: Vec<NewTopic<'_>> = missing
		.iter()
		.map(|name| {
			config.topic_configs.iter().fold(
				NewTopic::new(name, config.topic_partitions, TopicReplication::Fixed(replication)),
				|topic, property| topic.set(&property.key, &property.value),
			)
		})
		.collect();
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

/// `acks=all` waits only for the partition's in-sync replicas, at least `min.insync.replicas` of them: with one
/// replica, or `min.insync.replicas` 1, a single broker's loss can take acknowledged messages with it. Says so once
/// at start (the operator may knowingly run a single broker); what can't be learned is left unsaid.
async fn warn_if_acks_all_is_weak(admin: &AdminClient<DefaultClientContext>, topics: &[String]) {
	let Ok(metadata) = admin.inner().fetch_metadata(None, Duration::from_secs(10)) else { return };
	let replicas: HashMap<&str, usize> = metadata
		.topics()
		.iter()
		.filter(|topic| topics.iter().any(|t| t == topic.name()))
		.map(|topic| (topic.name(), topic.partitions().iter().map(|p| p.replicas().len()).min().unwrap_or(0)))
		.collect();
	let specifiers: Vec<ResourceSpecifier<'_>> = topics.iter().map(|t| ResourceSpecifier::Topic(t)).collect();
	let options = AdminOptions::new().request_timeout(Some(Duration::from_secs(10)));
	let min_insync: HashMap<String, u32> = match admin.describe_configs(&specifiers, &options).await {
		Ok(results) => results
			.into_iter()
			.flatten()
			.filter_map(|resource| {
				let name = match &resource.specifier {
					rdkafka::admin::OwnedResourceSpecifier::Topic(name) => name.clone(),
					_ => return None,
				};
				let value = resource.entry_map().get("min.insync.replicas")?.value.as_deref()?.parse().ok()?;
				Some((name, value))
			})
			.collect(),
		Err(error) => {
			log::debug!(target: LOG_TARGET, "cannot read the topics' min.insync.replicas: {error}");
			HashMap::new()
		}
	};
	let weak: Vec<String> = topics
		.iter()
		.filter_map(|topic| {
			let replicas = *replicas.get(topic.as_str())?;
			let insync = min_insync.get(topic).copied();
			(replicas < 2 || insync.is_some_and(|m| m < 2)).then(|| match insync {
				Some(m) => format!("{topic} ({replicas} replicas, min.insync.replicas {m})"),
				None => format!("{topic} ({replicas} replicas)"),
			})
		})
		.collect();
	if !weak.is_empty() {
		log::warn!(
			target: LOG_TARGET,
			"acks=all is weak on {}: losing one broker can lose messages Kafka acknowledged. In production use 3 \
			 replicas and min.insync.replicas 2 (--kafka-topic-replication-factor 3 --kafka-topic-config \
			 min.insync.replicas=2 for topics the sink creates; kafka-configs.sh for existing ones)",
			weak.join(", ")
		);
	}
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
