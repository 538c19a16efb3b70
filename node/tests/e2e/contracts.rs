//! Event contracts end to end: `herald-node export-contracts` from a runtime wasm, a metadata file and a stopped
//! node's database; its errors; the upgrade fixture's runtime round-trips through its schemas; and a node whose
//! broker validates every record against the exported contract (nisshi's `--schema-registry`, which refuses a
//! record that doesn't match, which would stop the sink) ships the domain events of the three pallets, the block
//! envelopes and a retraction; afterwards every message on every topic is validated again by Python's
//! `jsonschema`, and the AsyncAPI document by `@asyncapi/parser`.

use std::{
	path::{Path, PathBuf},
	process::{Command, Output},
	time::Duration,
};

use crate::common::{kafka::Broker, node_binary, NodeConfig, NodeProcess};
use frame_support::traits::tokens::fungible::NativeOrWithId;
use herald_event_sink::contract::check::{check_runtime, Validate};
use herald_runtime::{RuntimeCall, UNIT};
use serde_json::Value;
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie};

const TIMEOUT: Duration = Duration::from_secs(120);

fn export(args: &[&str]) -> Output {
	Command::new(node_binary()).arg("export-contracts").args(args).output().expect("herald-node runs")
}

fn export_ok(args: &[&str]) -> String {
	let output = export(args);
	let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
	assert!(output.status.success(), "export-contracts {args:?} failed:\n{stdout}\n{stderr}");
	stdout.into_owned()
}

fn export_err(args: &[&str]) -> String {
	let output = export(args);
	assert!(!output.status.success(), "export-contracts {args:?} should fail");
	String::from_utf8_lossy(&output.stderr).into_owned()
}

fn write_wasm(dir: &Path, name: &str, code: &[u8]) -> String {
	let path = dir.join(name);
	std::fs::write(&path, code).unwrap();
	path.to_str().unwrap().to_string()
}

fn runtime_wasm(dir: &Path) -> String {
	write_wasm(dir, "runtime.wasm", herald_runtime::WASM_BINARY.expect("the runtime's wasm is built"))
}

struct Draft7(jsonschema::Validator);

impl Validate for Draft7 {
	fn validate(&self, value: &Value) -> Result<(), String> {
		self.0.validate(value).map_err(|error| format!("{error} at {}", error.instance_path()))
	}
}

fn compile(schema: &Value) -> Result<Draft7, String> {
	jsonschema::draft7::new(schema).map(Draft7).map_err(|error| error.to_string())
}

fn repository() -> PathBuf {
	Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// `node tools/js/validate-asyncapi.cjs FILE` (NODE_PATH: scripts/common.sh exports it).
fn validate_asyncapi(file: &Path) -> String {
	let output = Command::new("node")
		.arg(repository().join("tools/js/validate-asyncapi.cjs"))
		.arg(file)
		.output()
		.expect("node (Node.js) runs: scripts/setup.sh installs it");
	let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
	assert!(output.status.success(), "@asyncapi/parser refuses {}:\n{text}", file.display());
	text
}

fn read_json(path: &Path) -> Value {
	serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

#[test]
fn export_from_a_wasm_a_metadata_file_and_a_database_with_clear_errors() {
	let dir = tempfile::tempdir().unwrap();
	let wasm = runtime_wasm(dir.path());
	let from_wasm = dir.path().join("from-wasm");
	let stdout =
		export_ok(&["--wasm", &wasm, "--out", from_wasm.to_str().unwrap(), "--kafka-brokers", "k1:9092,k2:9092"]);
	assert!(stdout.contains("wrote the contracts of runtime herald"), "{stdout}");
	for file in [
		"asyncapi.json",
		"contract.json",
		"metadata.scale",
		"schemas/AssetCreatedEvent.json",
		"schemas/BlockCreated.json",
		"schemas/UndecodableEvent.json",
		"schemas/MessageRejected.json",
		"topics/herald.blocks.json",
		"topics/herald.daos.json",
		"schema-registry/herald.daos.json",
		"catalog/README.md",
		"catalog/events/DaoCreatedEvent.md",
		"catalog/topics/herald_daos.md",
	] {
		assert!(from_wasm.join(file).exists(), "{file} is written");
	}
	let asyncapi = read_json(&from_wasm.join("asyncapi.json"));
	assert_eq!(asyncapi["asyncapi"], "3.0.0");
	assert_eq!(asyncapi["servers"]["broker2"]["host"], "k2:9092");
	assert_eq!(asyncapi["channels"]["herald_daos"]["address"], "herald.daos");
	assert_eq!(asyncapi["channels"]["herald_daos"]["bindings"]["kafka"]["partitions"], 3);
	println!("{}", validate_asyncapi(&from_wasm.join("asyncapi.json")));

	// docs/contracts is this runtime's contract, as the repository publishes it.
	let docs = repository().join("docs/contracts");
	for sub in ["schemas", "topics"] {
		let fresh: Vec<_> = std::fs::read_dir(from_wasm.join(sub)).unwrap().map(|e| e.unwrap().file_name()).collect();
		let published = std::fs::read_dir(docs.join(sub)).map(|entries| entries.count()).unwrap_or(0);
		for name in &fresh {
			let stale = std::fs::read_to_string(docs.join(sub).join(name)).ok()
				!= std::fs::read_to_string(from_wasm.join(sub).join(name)).ok();
			assert!(
				!stale,
				"docs/contracts/{sub}/{name:?} is stale: regenerate docs/contracts (docs/contracts/README.md)"
			);
		}
		assert_eq!(fresh.len(), published, "docs/contracts/{sub} has other files: regenerate docs/contracts");
	}

	// The metadata file it wrote gives the same topic schemas; other mapping flags give other topics.
	let from_metadata = dir.path().join("from-metadata");
	let metadata = from_wasm.join("metadata.scale");
	export_ok(&["--metadata", metadata.to_str().unwrap(), "--out", from_metadata.to_str().unwrap()]);
	assert_eq!(
		read_json(&from_wasm.join("topics/herald.daos.json")),
		read_json(&from_metadata.join("topics/herald.daos.json"))
	);
	let hex = dir.path().join("metadata.hex");
	std::fs::write(&hex, format!("0x{}\n", hex::encode(std::fs::read(&metadata).unwrap()))).unwrap();
	let prefixed = dir.path().join("prefixed");
	// The operator's mapping file is laid over the node's table, as the sink does (every event of this runtime
	// has an entry, so --kafka-skip-unmapped alone changes nothing here; an exclusion does).
	let overrides = dir.path().join("mappings.toml");
	std::fs::write(&overrides, "[exclude]\nevents = [\"Dao.DaoMetadataUpdated\"]\n").unwrap();
	export_ok(&[
		"--metadata",
		hex.to_str().unwrap(),
		"--out",
		prefixed.to_str().unwrap(),
		"--kafka-topic-prefix",
		"acme",
		"--kafka-skip-unmapped",
		"--kafka-topic-partitions",
		"12",
		"--kafka-mappings",
		overrides.to_str().unwrap(),
	]);
	assert!(prefixed.join("topics/acme.daos.json").exists());
	let summary = read_json(&prefixed.join("contract.json"));
	assert_eq!(summary["partitions"], 12);
	let default_summary = read_json(&from_wasm.join("contract.json"));
	let not_shipped = |summary: &Value| -> Vec<String> {
		summary["not_shipped"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect()
	};
	assert!(!not_shipped(&default_summary).contains(&"Dao.DaoMetadataUpdated".to_string()));
	assert!(not_shipped(&summary).contains(&"Dao.DaoMetadataUpdated".to_string()), "{summary:#}");
	assert!(!prefixed.join("schemas/DaoMetadataUpdatedEvent.json").exists(), "an excluded event has no schema");

	// A database: a dev node's, stopped.
	let base = tempfile::tempdir().unwrap();
	let node = NodeProcess::start(NodeConfig::manual_seal().base_path(base.path()));
	node.seal_block(true, None);
	node.seal_block(true, None);
	node.stop();
	let base_path = base.path().to_str().unwrap();
	let from_db = dir.path().join("from-db");
	let stdout = export_ok(&["--dev", "--base-path", base_path, "--out", from_db.to_str().unwrap()]);
	assert!(stdout.contains("block #2 of the database"), "the finalized head by default: {stdout}");
	assert_eq!(
		read_json(&from_wasm.join("topics/herald.daos.json")),
		read_json(&from_db.join("topics/herald.daos.json"))
	);
	export_ok(&["--dev", "--base-path", base_path, "--at", "1", "--out", from_db.to_str().unwrap()]);

	// Clear errors.
	let error = export_err(&["--dev", "--base-path", base_path, "--at", "999", "--out", from_db.to_str().unwrap()]);
	assert!(error.contains("no block #999"), "{error}");
	let error = export_err(&[
		"--dev",
		"--base-path",
		base_path,
		"--at",
		&format!("{:?}", H256::repeat_byte(9)),
		"--out",
		from_db.to_str().unwrap(),
	]);
	assert!(error.contains("no such block"), "{error}");
	let empty = tempfile::tempdir().unwrap();
	let error =
		export_err(&["--dev", "--base-path", empty.path().to_str().unwrap(), "--out", from_db.to_str().unwrap()]);
	assert!(error.contains("no database at"), "{error}");
	let not_wasm = write_wasm(dir.path(), "not.wasm", b"\0asm but not really a runtime");
	let error = export_err(&["--wasm", &not_wasm, "--out", from_db.to_str().unwrap()]);
	assert!(error.contains("not a runtime wasm"), "{error}");
	let error = export_err(&["--metadata", &not_wasm, "--out", from_db.to_str().unwrap()]);
	assert!(error.contains("not runtime metadata"), "{error}");
	let error = export_err(&[
		"--wasm",
		&wasm,
		"--kafka-mappings",
		"/nonexistent/mappings.toml",
		"--out",
		from_db.to_str().unwrap(),
	]);
	assert!(error.contains("cannot read the mapping file"), "{error}");
}

#[test]
fn the_upgrade_fixtures_events_round_trip_through_their_schemas() {
	let Some(code) = herald_runtime::upgrade_fixture::WASM_BINARY else {
		panic!("the upgrade fixture was not built: build with HERALD_UPGRADE_FIXTURE=1 (scripts/common.sh sets it)");
	};
	let dir = tempfile::tempdir().unwrap();
	let wasm = write_wasm(dir.path(), "fixture.wasm", code);
	let out = dir.path().join("fixture");
	export_ok(&["--wasm", &wasm, "--out", out.to_str().unwrap()]);
	let metadata = std::fs::read(out.join("metadata.scale")).unwrap();
	let report = check_runtime(&metadata, 60, 0xf1c5, compile).unwrap();
	println!(
		"upgrade fixture: {} events, {} values, {} mutations rejected",
		report.events, report.values, report.mutations
	);
	assert!(
		report.events >= 60 && report.failures.is_empty(),
		"{:?}",
		report.failures.iter().take(5).collect::<Vec<_>>()
	);
	// Its DaoCreated has the extra field.
	let schema = read_json(&out.join("schemas/DaoCreatedEvent.json"));
	let current = dir.path().join("current");
	export_ok(&["--wasm", &runtime_wasm(dir.path()), "--out", current.to_str().unwrap()]);
	assert_ne!(
		schema["properties"]["data"],
		read_json(&current.join("schemas/DaoCreatedEvent.json"))["properties"]["data"]
	);

	// The comparison of the two contracts: DaoCreated gained a field, nothing else changed.
	let compared = dir.path().join("compared");
	let stdout =
		export_ok(&["--wasm", &wasm, "--compare-with", current.to_str().unwrap(), "--out", compared.to_str().unwrap()]);
	assert!(stdout.contains("0 added, 0 removed, 1 changed compatibly, 0 changed incompatibly"), "{stdout}");
	let changes = read_json(&compared.join("changes.json"));
	assert_eq!(changes.as_array().unwrap().len(), 1, "{changes}");
	assert_eq!(changes[0]["event"], "Dao.DaoCreated");
	assert_eq!(changes[0]["change"], "changed compatibly");
	assert_eq!(changes[0]["details"][0], "data.created_at added");
	// The other way round, the field is removed: incompatible.
	let back = dir.path().join("back");
	export_ok(&[
		"--wasm",
		&runtime_wasm(dir.path()),
		"--compare-with",
		out.to_str().unwrap(),
		"--out",
		back.to_str().unwrap(),
	]);
	let changes = read_json(&back.join("changes.json"));
	assert_eq!(changes[0]["change"], "changed incompatibly", "{changes}");
	assert_eq!(changes[0]["details"][0], "data.created_at removed");
}

/// Seals a finalized block once the pool holds `extrinsics`, and checks none failed.
fn seal_with(node: &NodeProcess, extrinsics: usize) -> H256 {
	node.wait_for_pending(extrinsics);
	// Finalized after import, not at import: with archive-canonical state pruning (the sink's default for a new
	// database) sc-client-db 0.55 skips canonicalizing a block imported as final (`have_state_at` is asked before
	// the block's state is written), and every later finalization then fails ("Trying to canonicalize invalid
	// block"). GRANDPA finalizes after import, as this does.
	let hash = node.seal_block(false, None);
	node.finalize(hash);
	let failed: Vec<_> = node
		.events(hash)
		.into_iter()
		.filter(|r| {
			matches!(r.event, herald_runtime::RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { .. }))
		})
		.collect();
	assert!(failed.is_empty(), "extrinsics failed: {failed:#?}");
	hash
}

#[test]
fn every_message_a_node_ships_matches_the_exported_contract() {
	let dir = tempfile::tempdir().unwrap();
	let contracts = dir.path().join("contracts");
	export_ok(&["--wasm", &runtime_wasm(dir.path()), "--out", contracts.to_str().unwrap()]);
	let broker = Broker::start_with_schema_registry(&contracts.join("schema-registry"));
	// Best-chain mode, so that a re-org retracts a block; a record the broker refuses stops the sink (and the
	// test then times out waiting for the rest).
	let node = NodeProcess::start(
		NodeConfig::manual_seal().arg("--kafka-brokers").arg(broker.address.clone()).arg("--kafka-follow").arg("best"),
	);
	let dao = |call| RuntimeCall::Dao(call);
	let agreements = |call| RuntimeCall::Agreements(call);
	let crowdfunding = |call| RuntimeCall::Crowdfunding(call);

	// DAO: created, a member added and removed, metadata updated, the admin handed over.
	node.submit(Alice, dao(pallet_dao::Call::create_dao { metadata: b"guild".to_vec() }));
	seal_with(&node, 1);
	let dao_id = 0;
	node.submit(Alice, dao(pallet_dao::Call::add_member { dao_id, member: Bob.to_account_id() }));
	seal_with(&node, 1);
	node.submit(Alice, dao(pallet_dao::Call::update_metadata { dao_id, metadata: b"guild 2".to_vec() }));
	seal_with(&node, 1);
	node.submit(Alice, dao(pallet_dao::Call::add_member { dao_id, member: Charlie.to_account_id() }));
	seal_with(&node, 1);
	node.submit(Alice, dao(pallet_dao::Call::remove_member { dao_id, member: Charlie.to_account_id() }));
	seal_with(&node, 1);
	node.submit(Alice, dao(pallet_dao::Call::transfer_admin { dao_id, new_admin: Bob.to_account_id() }));
	seal_with(&node, 1);

	// Agreements: one signed by both (a party signature, then in force), one rejected, one left to expire.
	let now = node.block_number(node.best_hash());
	let parties = vec![Alice.to_account_id(), Bob.to_account_id(), Charlie.to_account_id()];
	for (terms, expiry) in [(1u8, now + 100), (2, now + 100), (3, now + 4)] {
		node.submit(
			Alice,
			agreements(pallet_agreements::Call::propose {
				parties: parties.clone(),
				terms_hash: H256::repeat_byte(terms),
				expiry,
			}),
		);
		seal_with(&node, 1);
	}
	node.submit(Bob, agreements(pallet_agreements::Call::sign { agreement_id: 0 }));
	seal_with(&node, 1);
	node.submit(Charlie, agreements(pallet_agreements::Call::sign { agreement_id: 0 }));
	seal_with(&node, 1);
	node.submit(Bob, agreements(pallet_agreements::Call::reject { agreement_id: 1 }));
	seal_with(&node, 1);

	// Crowdfundings: one reaches its soft cap (finished, paid out, settled), one doesn't (refunded, settled).
	let now = node.block_number(node.best_hash());
	for end in [now + 6, now + 7] {
		node.submit(
			Alice,
			crowdfunding(pallet_crowdfunding::Call::create {
				dao_id: None,
				asset: NativeOrWithId::Native,
				beneficiary: Charlie.to_account_id(),
				soft_cap: 10 * UNIT,
				hard_cap: 100 * UNIT,
				start: now + 3,
				end,
			}),
		);
		seal_with(&node, 1);
	}
	while node.block_number(node.best_hash()) < now + 3 {
		seal_with(&node, 0);
	}
	node.submit(Bob, crowdfunding(pallet_crowdfunding::Call::contribute { crowdfunding_id: 0, amount: 25 * UNIT }));
	node.submit(Charlie, crowdfunding(pallet_crowdfunding::Call::contribute { crowdfunding_id: 1, amount: UNIT }));
	seal_with(&node, 2);
	while node.block_number(node.best_hash()) < now + 9 {
		seal_with(&node, 0);
	}

	// A re-org: block A on the head, then a longer branch B1-B2 beside it retracts A.
	let head = node.best_hash();
	let a = node.seal_block(false, Some(head));
	let retracted = format!("{a:?}");
	// A must have shipped before the other branch overtakes it.
	broker.consume_until("herald.blocks", TIMEOUT, |records| {
		records.iter().any(|r| r.envelope["name"] == "BlockCreated" && r.envelope["meta"]["block"]["hash"] == retracted)
	});
	let b1 = node.seal_block(false, Some(head));
	let b2 = node.seal_block(false, Some(b1));
	node.finalize(b2);
	let last = format!("{b2:?}");

	let records = broker
		.try_consume_until("herald.", TIMEOUT, |records| {
			records
				.iter()
				.any(|r| r.envelope["name"] == "BlockFinalized" && r.envelope["meta"]["block"]["hash"] == last)
				&& records
					.iter()
					.any(|r| r.envelope["name"] == "BlockRetracted" && r.envelope["meta"]["block"]["hash"] == retracted)
		})
		.unwrap_or_else(|error| panic!("{error}\nthe node's log ends with:\n{}", node.log_tail(40)));
	let names: std::collections::BTreeSet<String> =
		records.iter().map(|r| r.envelope["name"].as_str().unwrap_or("?").to_string()).collect();
	println!("{} messages, kinds: {names:?}", records.len());
	for expected in [
		"BlockCreated",
		"BlockFinalized",
		"BlockRetracted",
		"DaoCreatedEvent",
		"DaoMembershipChangedEvent",
		"DaoAdminChangedEvent",
		"DaoMetadataUpdatedEvent",
		"ContractAgreementProposedEvent",
		"ContractAgreementPartySignedEvent",
		"ContractAgreementSignedEvent",
		"ContractAgreementRejectedEvent",
		"ContractAgreementExpiredEvent",
		"CrowdfundingCreatedEvent",
		"CrowdfundingActivatedEvent",
		"CrowdfundingContributedEvent",
		"CrowdfundingFinishedEvent",
		"CrowdfundingPaidOutEvent",
		"CrowdfundingRefundedEvent",
		"CrowdfundingSettledEvent",
	] {
		assert!(names.contains(expected), "no {expected} among {names:?}");
	}

	// The broker validated every record as it was produced; now a second, independent validator.
	let jsonl = dir.path().join("messages.jsonl");
	let lines: Vec<String> = records
		.iter()
		.map(|r| serde_json::json!({"topic": r.topic, "value": String::from_utf8_lossy(&r.payload)}).to_string())
		.collect();
	std::fs::write(&jsonl, lines.join("\n")).unwrap();
	let python =
		format!("{}/bin/python", std::env::var("HERALD_VENV").unwrap_or_else(|_| "/var/tmp/herald-venv".into()));
	let output = Command::new(&python)
		.arg(repository().join("tools/python/validate_messages.py"))
		.arg(&contracts)
		.arg(&jsonl)
		.output()
		.unwrap_or_else(|e| panic!("{python} runs ({e}): scripts/setup.sh creates the virtualenv"));
	let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
	println!("{text}");
	assert!(output.status.success(), "Python's jsonschema refuses messages:\n{text}");

	// And the broker does refuse a record that breaks the contract.
	use rdkafka::producer::{FutureProducer, FutureRecord};
	let producer: FutureProducer =
		broker.client_config().set("message.timeout.ms", "10000").set("retries", "0").create().expect("producer");
	let mut bad = records.iter().find(|r| r.envelope["name"] == "BlockCreated").unwrap().envelope.clone();
	bad["data"]["event_count"] = "6".into();
	let payload = bad.to_string();
	let delivery = producer
		.send_result(FutureRecord::to("herald.blocks").key("k").payload(&payload))
		.map_err(|(error, _)| error)
		.expect("queued");
	let outcome = futures::executor::block_on(delivery).expect("a delivery report");
	assert!(outcome.is_err(), "the broker accepted a record that breaks the contract");
}
