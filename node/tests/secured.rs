//! The sink against a real broker behind TLS: nisshi's TLS listener with a certificate from a CA the test makes.
//! Delivery works with the CA given by `--kafka-tls-ca-file` (host name verified); a CA that did not sign the
//! broker's certificate fails clearly while the node keeps running; no key material reaches the log.

mod common;

use std::time::{Duration, Instant};

use common::{kafka::Broker, metric, tls::TestCertificates, NodeConfig, NodeProcess};

const TIMEOUT: Duration = Duration::from_secs(60);

#[test]
fn tls_with_the_brokers_ca_delivers_and_another_ca_fails_clearly_without_stopping_the_node() {
	let certificates = TestCertificates::generate();
	let broker = Broker::start_tls(&certificates.server_certificate, &certificates.server_key, &certificates.ca);
	let tls_node = |ca: &std::path::Path| {
		NodeConfig::manual_seal()
			.arg("--kafka-brokers")
			.arg(broker.address.clone())
			.arg("--kafka-tls-ca-file")
			.arg(ca.to_str().unwrap())
	};

	let node = NodeProcess::start(tls_node(&certificates.ca));
	node.seal_block(true, None);
	node.seal_block(true, None);
	let records = broker.consume_until("herald.", TIMEOUT, |records| {
		records.iter().any(|r| r.envelope["name"] == "BlockFinalized" && r.envelope["meta"]["block"]["number"] == 2)
	});
	assert!(records.iter().any(|r| r.envelope["name"] == "BlockCreated"), "shipped over TLS");
	let key_material = std::fs::read_to_string(&certificates.server_key).unwrap();
	assert!(!node.log().contains(key_material.lines().nth(1).unwrap()), "no key material in the log");
	node.stop();

	// A CA that did not sign the broker's certificate: the sink reports it and retries; the node runs on.
	let node = NodeProcess::start(tls_node(&certificates.other_ca));
	let deadline = Instant::now() + TIMEOUT;
	while !node
		.log()
		.lines()
		.any(|line| line.contains("event sink failed") && line.contains("certificate verify failed"))
	{
		assert!(Instant::now() < deadline, "no certificate error in the log:\n{}", node.log_tail(40));
		std::thread::sleep(Duration::from_millis(200));
	}
	let deadline = Instant::now() + TIMEOUT;
	while metric(&node.metrics(), "herald_kafka_sink_last_error_timestamp_seconds").unwrap_or(0.0) == 0.0 {
		assert!(Instant::now() < deadline, "the sink's failure shows in its metrics:\n{}", node.log_tail(40));
		std::thread::sleep(Duration::from_millis(200));
	}
	assert_eq!(metric(&node.metrics(), "herald_kafka_connected"), Some(0.0));
	let block = node.seal_block(true, None);
	assert_eq!(node.block_number(block), 1, "the node keeps sealing");
}

/// A failed SASL authentication (the broker has no such user: this one doesn't even enable SASL) is reported
/// by the sink while the node runs on, and the password reaches neither the log, at any level the node prints,
/// nor the metrics.
#[test]
fn a_failed_authentication_is_reported_and_the_password_never_leaks() {
	let broker = Broker::start();
	let dir = tempfile::tempdir().unwrap();
	let password = "Tr0ub4dor-and-3-horses";
	let password_file = dir.path().join("password");
	std::fs::write(&password_file, format!("{password}\n")).unwrap();
	let node = NodeProcess::start(
		NodeConfig::manual_seal()
			.arg("--kafka-brokers")
			.arg(broker.address.clone())
			.arg("--kafka-sasl-mechanism")
			.arg("SCRAM-SHA-512")
			.arg("--kafka-sasl-username")
			.arg("herald")
			.arg("--kafka-sasl-password-file")
			.arg(password_file.to_str().unwrap())
			.arg("-lherald=debug,librdkafka=debug"),
	);
	let deadline = Instant::now() + TIMEOUT;
	while !node.log().contains("event sink failed") {
		assert!(Instant::now() < deadline, "the sink reports the failure:\n{}", node.log_tail(40));
		std::thread::sleep(Duration::from_millis(200));
	}
	let block = node.seal_block(true, None);
	assert_eq!(node.block_number(block), 1, "the node keeps sealing");
	let log = node.log();
	assert!(log.contains("sasl.password=<redacted>"), "the configuration is logged, redacted:\n{log}");
	assert!(!log.contains(password), "the password is in the log:\n{log}");
	assert!(!node.metrics().contains(password), "the password is in the metrics");
}
