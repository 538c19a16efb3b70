//! The librdkafka configuration: Herald's no-loss defaults, then the operator's `--kafka-config` properties,
//! passed through under librdkafka's own names.

use rdkafka::config::ClientConfig;

use crate::config::{KafkaProperty, SinkConfig};

/// Herald's producer settings, before the operator's properties (the sink's, and the benchmark's bare producer).
pub const PRODUCER_DEFAULTS: &[(&str, &str)] = &[
	("client.id", "herald-node"),
	// Nothing is lost or duplicated by the producer: every in-sync replica acknowledges, retries keep order.
	("enable.idempotence", "true"),
	("acks", "all"),
	// Never give up on a message: when Kafka is down the sink waits (block import does not).
	("message.timeout.ms", "0"),
	("compression.type", "lz4"),
	("linger.ms", "5"),
	// Batching is linger.ms's job: with Nagle's algorithm on, a small produce request can wait ~40 ms for the
	// broker's delayed ACK of the previous one (best-chain mode ships one small block at a time).
	("socket.nagle.disable", "true"),
	("statistics.interval.ms", "1000"),
];

/// Best mode's own `linger.ms`: it exists for consumers that want blocks as they are imported, so a block waits
/// 1 ms for its batch instead of 5. Measured (`bench.sh latency 100 50`, dev profile, 2 cores): best mode's p99
/// import-to-acknowledgement 20.9 ms with 5, 12.6 ms with 1; a dense catch-up ships about 14 % fewer messages a
/// second with 1, which finalized mode, the one that catches up long chains, keeps.
pub const BEST_MODE_LINGER_MS: &str = "1";

/// Herald's defaults (best mode's linger), then the operator's overrides (which win).
pub fn client_config(config: &SinkConfig) -> ClientConfig {
	let mut client_config = ClientConfig::new();
	client_config.set("bootstrap.servers", &config.brokers);
	for (key, value) in PRODUCER_DEFAULTS {
		client_config.set(*key, *value);
	}
	if config.follow == crate::config::Follow::Best {
		client_config.set("linger.ms", BEST_MODE_LINGER_MS);
	}
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

/// Refuses overrides that weaken what the docs promise (nothing lost, no producer duplicates, per-partition order),
/// naming the property and the fix. The operator can accept them with `--kafka-allow-weaker-delivery`.
pub fn check_delivery_guarantee(properties: &[KafkaProperty]) -> Result<(), String> {
	for property in properties {
		let (key, value) = (property.key.as_str(), property.value.trim());
		let weaker = match key {
			"enable.idempotence" => (value != "true").then_some("the producer may duplicate or reorder on retries"),
			"acks" | "request.required.acks" => {
				(value != "all" && value != "-1").then_some("a broker failure may lose acknowledged messages")
			}
			"message.timeout.ms" | "delivery.timeout.ms" => {
				(value != "0").then_some("librdkafka drops messages it could not deliver in time")
			}
			"max.in.flight.requests.per.connection" | "max.in.flight" => value
				.parse::<u32>()
				.map_or(true, |n| n > 5)
				.then_some("more than 5 requests in flight can reorder a partition"),
			_ => None,
		};
		if let Some(consequence) = weaker {
			return Err(format!(
				"--kafka-config {key}={value} weakens Herald's delivery guarantee ({consequence}): remove it, or pass \
				 --kafka-allow-weaker-delivery to accept that"
			));
		}
	}
	Ok(())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn check(property: &str) -> Result<(), String> {
		check_delivery_guarantee(&[property.parse().unwrap()])
	}

	#[test]
	fn best_mode_lingers_less_and_the_operator_still_wins() {
		use crate::config::Follow;
		let linger = |follow: Follow, overrides: &[&str]| {
			let mut config = crate::kafka::producer::tests::config("127.0.0.1:9".into());
			config.follow = follow;
			config.kafka_properties = overrides.iter().map(|p| p.parse().unwrap()).collect();
			client_config(&config).get("linger.ms").map(str::to_owned)
		};
		assert_eq!(linger(Follow::Finalized, &[]).as_deref(), Some("5"));
		assert_eq!(linger(Follow::Best, &[]).as_deref(), Some(BEST_MODE_LINGER_MS));
		assert_eq!(linger(Follow::Best, &["linger.ms=7"]).as_deref(), Some("7"));
	}

	#[test]
	fn weaker_delivery_overrides_are_refused_by_name() {
		for property in [
			"enable.idempotence=false",
			"acks=1",
			"request.required.acks=0",
			"message.timeout.ms=30000",
			"max.in.flight.requests.per.connection=10",
		] {
			let error = check(property).unwrap_err();
			assert!(error.contains(property), "{error}");
			assert!(error.contains("--kafka-allow-weaker-delivery"), "{error}");
		}
		for property in ["enable.idempotence=true", "acks=all", "acks=-1", "message.timeout.ms=0", "max.in.flight=5"] {
			assert_eq!(check(property), Ok(()), "{property}");
		}
		assert_eq!(check("compression.type=zstd"), Ok(()));
	}
}
