//! The librdkafka configuration: Herald's no-loss defaults, then the operator's `--kafka-config` properties,
//! passed through under librdkafka's own names.

use rdkafka::config::ClientConfig;

use crate::config::SinkConfig;

/// Herald's defaults, then the operator's overrides (which win).
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
		// Batching is linger.ms's job: with Nagle's algorithm on, a small produce request can wait ~40 ms for the
		// broker's delayed ACK of the previous one (best-chain mode ships one small block at a time).
		.set("socket.nagle.disable", "true")
		.set("statistics.interval.ms", "1000");
	for property in &config.kafka_properties {
		client_config.set(&property.key, &property.value);
	}
	client_config
}

/// Checks the librdkafka configuration without connecting, so a bad `--kafka-config` fails the node's start
/// with librdkafka's own message (which names the property) instead of failing later in the background.
pub fn validate(config: &SinkConfig) -> Result<(), String> {
	client_config(config)
		.create::<rdkafka::producer::BaseProducer>()
		.map(drop)
		.map_err(|e| format!("invalid Kafka configuration: {e}"))
}
