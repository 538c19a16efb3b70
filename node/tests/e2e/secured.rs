//! The sink against a real broker that is secured, with certificates the test makes:
//! - TLS (nisshi's TLS listener): delivery with the CA given by `--kafka-tls-ca-file` (host name verified); a CA
//!   that did not sign the broker's certificate fails clearly while the node keeps running;
//! - SASL/SCRAM-SHA-256 and -512 (nisshi with `--authentication` and users from `nisshi user create`): delivery
//!   with each mechanism; a wrong password fails clearly, and never reaches the log;
//! - mutual TLS (`stunnel4` demanding a client certificate in front of nisshi): delivery with the client
//!   certificate; none, or one from another CA, fails;
//! and no password or key material reaches the log.

use std::time::{Duration, Instant};

use crate::common::{
	kafka::{Broker, ScramUser},
	metric,
	tls::TestCertificates,
	NodeConfig, NodeProcess,
};

const TIMEOUT: Duration = Duration::from_secs(60);

/// A node sealing on request that ships to `broker` under the topic prefix `prefix`.
fn node_for(broker: &Broker, prefix: &str) -> NodeConfig {
	NodeConfig::manual_seal().arg("--kafka-brokers").arg(broker.address.clone()).arg("--kafka-topic-prefix").arg(prefix)
}

/// Seals two blocks and waits until `broker` holds block #2's `BlockFinalized` under `prefix`.
fn seal_two_and_see_them_shipped(node: &NodeProcess, broker: &Broker, prefix: &str) {
	node.seal_block(true, None);
	node.seal_block(true, None);
	let records = broker.consume_until(&format!("{prefix}."), TIMEOUT, |records| {
		records.iter().any(|r| r.envelope["name"] == "BlockFinalized" && r.envelope["meta"]["block"]["number"] == 2)
	});
	assert!(records.iter().any(|r| r.envelope["name"] == "BlockCreated"), "{prefix}: blocks shipped");
}

/// Waits until the sink has logged a failure whose line contains `reason`, then checks that the failure shows
/// in the metrics, that the sink retried (a second failure), that nothing reached `broker` under `prefix`, and
/// that the node kept sealing. Returns the failure's log line.
fn assert_fails_clearly(node: &NodeProcess, broker: &Broker, prefix: &str, reason: &[&str]) -> String {
	let deadline = Instant::now() + TIMEOUT;
	let failure = |node: &NodeProcess| {
		node.log().lines().filter(|line| line.contains("event sink failed")).map(str::to_string).collect::<Vec<_>>()
	};
	while failure(node).len() < 2 {
		assert!(Instant::now() < deadline, "the sink reports its failure twice:\n{}", node.log_tail(40));
		std::thread::sleep(Duration::from_millis(200));
	}
	let line = failure(node).remove(0);
	assert!(reason.iter().any(|r| line.contains(r)), "the failure names the cause ({reason:?}): {line}");
	let metrics = node.metrics();
	assert!(metric(&metrics, "herald_kafka_sink_last_error_timestamp_seconds").unwrap_or(0.0) > 0.0, "{metrics}");
	assert_eq!(metric(&metrics, "herald_kafka_connected"), Some(0.0));
	assert!(broker.topics(&format!("{prefix}.")).is_empty(), "nothing reached the broker");
	let block = node.seal_block(true, None);
	assert_eq!(node.block_number(block), 1, "the node keeps sealing");
	line
}

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

/// SASL/SCRAM against a broker that requires it: a user for each mechanism ships; a wrong password is reported
/// (log and metrics), retried, and never logged, while the node runs on.
#[test]
fn scram_sha_256_and_512_deliver_and_a_wrong_password_fails_clearly() {
	let users = [
		ScramUser { name: "herald-256", password: "pw-for-sha-256-e8c1", mechanism: "SCRAM-SHA-256" },
		ScramUser { name: "herald-512", password: "pw-for-sha-512-77d0", mechanism: "SCRAM-SHA-512" },
	];
	let broker = Broker::start_scram(&users);
	let dir = tempfile::tempdir().unwrap();
	let scram_node = |user: &ScramUser, password: &str, prefix: &str| {
		let password_file = dir.path().join(format!("{prefix}.password"));
		std::fs::write(&password_file, format!("{password}\n")).unwrap();
		node_for(&broker, prefix)
			.arg("--kafka-sasl-mechanism")
			.arg(user.mechanism)
			.arg("--kafka-sasl-username")
			.arg(user.name)
			.arg("--kafka-sasl-password-file")
			.arg(password_file.to_str().unwrap())
	};

	for (user, prefix) in users.iter().zip(["sha256", "sha512"]) {
		let node = NodeProcess::start(scram_node(user, user.password, prefix));
		seal_two_and_see_them_shipped(&node, &broker, prefix);
		node.stop();
	}

	let wrong = "not-the-password-5b2a";
	let node = NodeProcess::start(scram_node(&users[1], wrong, "wrong").arg("-lherald=debug,librdkafka=debug"));
	let line = assert_fails_clearly(&node, &broker, "wrong", &["Authentication failed", "SASL authentication error"]);
	eprintln!("a wrong password reads: {line}");
	let log = node.log();
	assert!(!log.contains(wrong), "the password is in the log:\n{log}");
	assert!(!node.metrics().contains(wrong), "the password is in the metrics");
}

/// Mutual TLS through a terminator that demands a client certificate signed by the test's CA: the node's
/// `--kafka-tls-cert-file`/`--kafka-tls-key-file` ship; no client certificate, or one from another CA, fails
/// while the node runs on.
#[test]
fn mutual_tls_delivers_with_the_client_certificate_and_refuses_none_or_a_strangers() {
	let certificates = TestCertificates::generate();
	let broker = Broker::start_mutual_tls(
		&certificates.server_certificate,
		&certificates.server_key,
		&certificates.ca,
		&certificates.client_certificate,
		&certificates.client_key,
	);
	let tls_node =
		|prefix: &str| node_for(&broker, prefix).arg("--kafka-tls-ca-file").arg(certificates.ca.to_str().unwrap());
	let with_certificate = |config: NodeConfig, certificate: &std::path::Path, key: &std::path::Path| {
		config
			.arg("--kafka-tls-cert-file")
			.arg(certificate.to_str().unwrap())
			.arg("--kafka-tls-key-file")
			.arg(key.to_str().unwrap())
	};

	let node = NodeProcess::start(with_certificate(
		tls_node("mtls"),
		&certificates.client_certificate,
		&certificates.client_key,
	));
	seal_two_and_see_them_shipped(&node, &broker, "mtls");
	let key_material = std::fs::read_to_string(&certificates.client_key).unwrap();
	assert!(!node.log().contains(key_material.lines().nth(1).unwrap()), "no key material in the log");
	node.stop();

	// The terminator ends the handshake with an alert: librdkafka names it, or sees the connection closed.
	let refused = ["alert", "certificate", "Disconnected", "connection reset", "Connection reset"];
	let node = NodeProcess::start(tls_node("anonymous"));
	let line = assert_fails_clearly(&node, &broker, "anonymous", &refused);
	eprintln!("no client certificate reads: {line}");
	node.stop();

	let node = NodeProcess::start(with_certificate(
		tls_node("stranger"),
		&certificates.stranger_certificate,
		&certificates.stranger_key,
	));
	let line = assert_fails_clearly(&node, &broker, "stranger", &refused);
	eprintln!("a stranger's certificate reads: {line}");
	// librdkafka holds back a certificate whose issuer is not among the CAs the server names (RFC 8446 4.2.4),
	// and says so; the terminator then finds no certificate.
	assert!(
		node.log().contains("No matching issuer found in server trusted certificate authorities"),
		"librdkafka weighed the stranger's certificate:\n{}",
		node.log_tail(40)
	);
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
