//! Bad command-line input fails with one clear line and a non-zero exit, never a panic.

use crate::common;
use std::{net::TcpListener, process::Command};

fn run(args: &[&str]) -> (i32, String) {
	let base = tempfile::tempdir().unwrap();
	let output = Command::new(common::node_binary())
		.args(args)
		.arg("--base-path")
		.arg(base.path())
		.args(["--no-telemetry", "--no-prometheus", "--no-mdns"])
		.output()
		.expect("herald-node runs");
	let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
	(output.status.code().unwrap_or(-1), stderr)
}

fn assert_clean_failure(code: i32, stderr: &str, expected: &str) {
	assert_ne!(code, 0, "must exit non-zero; stderr:\n{stderr}");
	assert!(stderr.contains(expected), "stderr should mention {expected:?}:\n{stderr}");
	assert!(!stderr.contains("panicked"), "no panic expected:\n{stderr}");
	assert!(!stderr.contains("stack backtrace"), "no backtrace expected:\n{stderr}");
}

#[test]
fn unknown_sealing_mode_is_rejected() {
	let (code, stderr) = run(&["--dev", "--sealing", "sometimes"]);
	assert_clean_failure(code, &stderr, "invalid value 'sometimes' for '--sealing <SEALING>'");
	assert!(stderr.contains("instant") && stderr.contains("manual"), "lists the choices:\n{stderr}");
}

#[test]
fn a_wasmtime_cache_dir_that_cannot_be_created_is_rejected() {
	let file = tempfile::NamedTempFile::new().unwrap();
	let under_a_file = file.path().join("cache");
	let (code, stderr) = run(&["--dev", "--wasmtime-cache-dir", under_a_file.to_str().unwrap()]);
	assert_clean_failure(code, &stderr, &format!("--wasmtime-cache-dir {}: cannot create", under_a_file.display()));
}

#[test]
fn a_node_started_with_a_wasmtime_cache_dir_fills_it() {
	let cache = tempfile::tempdir().unwrap();
	let node = common::NodeProcess::start(
		common::NodeConfig::manual_seal().arg("--wasmtime-cache-dir").arg(cache.path().to_str().unwrap()),
	);
	// The client's executor compiles the runtime before the RPC server comes up; wasmtime writes its artifact
	// there (a directory per compiler build, one file per module).
	let files = walk(cache.path());
	assert!(files.iter().any(|(_, size)| *size > 1_000_000), "a compiled runtime in the cache: {files:?}");
	drop(node);
}

fn walk(dir: &std::path::Path) -> Vec<(std::path::PathBuf, u64)> {
	let mut files = Vec::new();
	for entry in std::fs::read_dir(dir).unwrap().flatten() {
		let metadata = entry.metadata().unwrap();
		if metadata.is_dir() {
			files.extend(walk(&entry.path()));
		} else {
			files.push((entry.path(), metadata.len()));
		}
	}
	files
}

#[test]
fn missing_chain_spec_is_rejected() {
	let (code, stderr) = run(&["--chain", "/nonexistent/herald-spec.json"]);
	assert_clean_failure(code, &stderr, "cannot load chain spec \"/nonexistent/herald-spec.json\"");
}

#[test]
fn rpc_port_in_use_is_rejected() {
	let taken = TcpListener::bind("127.0.0.1:0").unwrap();
	let port = taken.local_addr().unwrap().port().to_string();
	let (code, stderr) =
		run(&["--dev", "--sealing", "manual", "--rpc-port", &port, "--port", &common::free_port().to_string()]);
	assert_clean_failure(code, &stderr, "Address already in use");
}

#[test]
fn unknown_librdkafka_property_is_rejected() {
	let (code, stderr) = run(&["--dev", "--kafka-brokers", "127.0.0.1:9", "--kafka-config", "no.such.property=1"]);
	assert_clean_failure(code, &stderr, "invalid Kafka configuration");
	assert!(stderr.contains("no.such.property"), "names the property:\n{stderr}");
}

#[test]
fn malformed_kafka_flags_are_rejected() {
	let (code, stderr) = run(&["--dev", "--kafka-brokers", "127.0.0.1:9", "--kafka-start-from", "yesterday"]);
	assert_clean_failure(code, &stderr, "use `genesis`, `latest` or a block number");

	let (code, stderr) = run(&["--dev", "--kafka-brokers", "127.0.0.1:9", "--kafka-topic-prefix", "my topics"]);
	assert_clean_failure(code, &stderr, "a topic prefix is 1 to 200 ASCII letters");

	let (code, stderr) = run(&["--dev", "--kafka-brokers", "127.0.0.1:9", "--kafka-config", "linger.ms"]);
	assert_clean_failure(code, &stderr, "write it as key=value");

	let (code, stderr) = run(&["--dev", "--kafka-brokers", "127.0.0.1:9", "--kafka-headers", "id,blockhash"]);
	assert_clean_failure(code, &stderr, "unknown header \"blockhash\": list some of id, name, type");

	let (code, stderr) = run(&["--dev", "--kafka-config", "linger.ms=5"]);
	assert_clean_failure(code, &stderr, "--kafka-brokers");
	// Every sink flag means nothing without the sink: refused, naming --kafka-brokers, not silently ignored.
	for flag in [
		["--kafka-start-from", "latest"],
		["--kafka-topic-prefix", "other"],
		["--kafka-topic-partitions", "6"],
		["--kafka-read-ahead-blocks", "8"],
		["--kafka-read-ahead-messages", "100"],
		["--kafka-headers", "all"],
		["--kafka-encode-threads", "2"],
		["--kafka-max-unfinalized-blocks", "10"],
		["--kafka-topic-replication-factor", "3"],
		["--kafka-topic-config", "retention.ms=1000"],
	] {
		let (code, stderr) = run(&["--dev", flag[0], flag[1]]);
		assert_clean_failure(code, &stderr, "--kafka-brokers");
	}
	// The subscription's flags mean nothing without --herald-follow-rpc.
	for flag in [["--herald-follow-queue", "8"], ["--herald-follow-max-subscriptions", "2"]] {
		let (code, stderr) = run(&["--dev", flag[0], flag[1]]);
		assert_clean_failure(code, &stderr, "--herald-follow-rpc");
	}
	// The mapping table serves the subscription too: without either output it is refused, naming both.
	let (code, stderr) = run(&["--dev", "--kafka-skip-unmapped"]);
	assert_clean_failure(code, &stderr, "--herald-follow-rpc");
}

#[test]
fn missing_or_invalid_mapping_file_is_rejected() {
	let (code, stderr) =
		run(&["--dev", "--kafka-brokers", "127.0.0.1:9", "--kafka-mappings", "/nonexistent/mappings.toml"]);
	assert_clean_failure(code, &stderr, "/nonexistent/mappings.toml");

	let dir = tempfile::tempdir().unwrap();
	let path = dir.path().join("bad.toml");
	std::fs::write(&path, "[events.\"Dao.DaoCreated\"]\ntype = \"sometimes\"\n").unwrap();
	let (code, stderr) = run(&["--dev", "--kafka-brokers", "127.0.0.1:9", "--kafka-mappings", path.to_str().unwrap()]);
	assert_clean_failure(code, &stderr, "bad.toml");
}

/// An ordinary build has no benchmarks; `benchmark` says how to get them instead of "unrecognized subcommand".
#[cfg(not(feature = "runtime-benchmarks"))]
#[test]
fn benchmark_without_the_feature_explains_how_to_build_it() {
	let (code, stderr) = run(&["benchmark", "pallet", "--chain", "dev", "--pallet", "pallet_dao", "--extrinsic", "*"]);
	assert_clean_failure(code, &stderr, "built without benchmarks");
	assert!(stderr.contains("--features runtime-benchmarks"), "names the feature:\n{stderr}");
	assert!(stderr.contains("scripts/benchmark.sh"), "names the script:\n{stderr}");
}

/// The test command builds the node with benchmarks (one feature set for every build): the runtime's Benchmark
/// API answers, and lists every pallet's benchmarks.
#[cfg(feature = "runtime-benchmarks")]
#[test]
fn benchmark_lists_the_pallets_benchmarks() {
	let output = std::process::Command::new(common::node_binary())
		.args(["benchmark", "pallet", "--chain", "dev", "--list"])
		.output()
		.unwrap();
	let text = String::from_utf8_lossy(&output.stdout);
	assert!(output.status.success(), "{}\n{}", text, String::from_utf8_lossy(&output.stderr));
	for pallet in ["pallet_dao", "pallet_agreements", "pallet_crowdfunding"] {
		assert!(text.contains(pallet), "{pallet} listed:\n{text}");
	}
}

#[test]
fn unknown_follow_mode_is_rejected() {
	let (code, stderr) = run(&["--dev", "--kafka-brokers", "127.0.0.1:9", "--kafka-follow", "head"]);
	assert_clean_failure(code, &stderr, "invalid value 'head' for '--kafka-follow <finalized|best>'");
	assert!(stderr.contains("use `finalized` or `best`"), "names the choices:\n{stderr}");
}

#[test]
fn overrides_that_weaken_delivery_are_refused_unless_allowed() {
	let (code, stderr) =
		run(&["--dev", "--kafka-brokers", "127.0.0.1:9", "--kafka-config", "enable.idempotence=false"]);
	assert_clean_failure(code, &stderr, "--kafka-config enable.idempotence=false weakens Herald's delivery guarantee");
	assert!(stderr.contains("--kafka-allow-weaker-delivery"), "names the way out:\n{stderr}");
	let (code, stderr) = run(&["--dev", "--kafka-brokers", "127.0.0.1:9", "--kafka-config", "acks=1"]);
	assert_clean_failure(code, &stderr, "acks=1 weakens");
}

/// Bad security input fails the start naming the flag and the file, and never echoes a secret.
#[test]
fn bad_tls_and_sasl_flags_are_rejected_naming_the_flag_without_secrets() {
	let dir = tempfile::tempdir().unwrap();
	let missing = dir.path().join("missing-ca.pem");
	let (code, stderr) =
		run(&["--dev", "--kafka-brokers", "127.0.0.1:9", "--kafka-tls-ca-file", missing.to_str().unwrap()]);
	assert_clean_failure(code, &stderr, "--kafka-tls-ca-file");
	assert!(stderr.contains("missing-ca.pem"), "names the file:\n{stderr}");

	let (code, stderr) = run(&["--dev", "--kafka-brokers", "127.0.0.1:9", "--kafka-sasl-mechanism", "GSSAPI"]);
	assert_clean_failure(code, &stderr, "invalid value 'GSSAPI'");
	assert!(stderr.contains("SCRAM-SHA-512"), "lists the mechanisms:\n{stderr}");

	let password = dir.path().join("password");
	std::fs::write(&password, "correct-horse-battery\n").unwrap();
	let (code, stderr) = run(&[
		"--dev",
		"--kafka-brokers",
		"127.0.0.1:9",
		"--kafka-sasl-mechanism",
		"SCRAM-SHA-256",
		"--kafka-sasl-password-file",
		password.to_str().unwrap(),
	]);
	assert_clean_failure(code, &stderr, "--kafka-sasl-username");
	assert!(!stderr.contains("correct-horse-battery"), "the password never appears:\n{stderr}");

	let config = dir.path().join("kafka.properties");
	std::fs::write(&config, "sasl.password=correct-horse-battery\nnot a property\n").unwrap();
	let (code, stderr) =
		run(&["--dev", "--kafka-brokers", "127.0.0.1:9", "--kafka-config-file", config.to_str().unwrap()]);
	assert_clean_failure(code, &stderr, "line 2");
	assert!(!stderr.contains("correct-horse-battery"), "the password never appears:\n{stderr}");
}
