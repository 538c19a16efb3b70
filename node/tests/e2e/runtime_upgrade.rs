//! A runtime upgrade on a running node with the sink: `sudo(system.set_code)` with a second build of
//! `herald-runtime` (`upgrade-fixture`: `spec_version` + 1 and a `Dao.DaoCreated` with an extra field). Every
//! event before, at and after the upgrade block must decode exactly, labelled with the `spec_version` of the
//! runtime that executed its block, and `RuntimeUpgraded` must come with the first block the new runtime executed.

use crate::common;
use std::time::Duration;

use crate::common::{
	kafka::{Broker, Record},
	NodeConfig, NodeProcess,
};
use herald_runtime::{RuntimeCall, SystemCall, VERSION};
use serde_json::Value;
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{Alice, Bob};

const TIMEOUT: Duration = Duration::from_secs(120);

fn create_dao(node: &NodeProcess, who: sp_keyring::Sr25519Keyring, metadata: &[u8]) {
	node.submit(who, RuntimeCall::Dao(pallet_dao::Call::create_dao { metadata: metadata.to_vec() }));
}

/// Seals a block once the pool reports `extrinsics` ready, so each block carries what the test submitted for it.
fn seal_with(node: &NodeProcess, extrinsics: usize) -> H256 {
	node.wait_for_pending(extrinsics);
	node.seal_block(true, None)
}

/// `herald-node export-contracts ARGS`, which must succeed.
fn export(args: &[&str]) {
	let output = std::process::Command::new(common::node_binary())
		.arg("export-contracts")
		.args(args)
		.output()
		.expect("herald-node runs");
	assert!(
		output.status.success(),
		"export-contracts {args:?} failed:\n{}{}",
		String::from_utf8_lossy(&output.stdout),
		String::from_utf8_lossy(&output.stderr)
	);
}

fn of_block<'a>(records: &'a [Record], hash: H256) -> Vec<&'a Record> {
	let hash = format!("{hash:?}");
	records.iter().filter(|r| r.envelope["meta"]["block"]["hash"] == hash.as_str()).collect()
}

fn named<'a>(records: &[&'a Record], name: &str) -> Vec<&'a Value> {
	records.iter().filter(|r| r.envelope["name"] == name).map(|r| &r.envelope).collect()
}

#[test]
fn events_before_at_and_after_a_runtime_upgrade_decode_with_the_runtime_that_executed_them() {
	let Some(code) = herald_runtime::upgrade_fixture::WASM_BINARY else {
		panic!("the upgrade fixture was not built: build with HERALD_UPGRADE_FIXTURE=1 (scripts/common.sh sets it)");
	};
	let old = VERSION.spec_version;
	let broker = Broker::start();
	let node = NodeProcess::start(NodeConfig::manual_seal().arg("--kafka-brokers").arg(broker.address.clone()));

	// Before: a DAO under the old runtime.
	create_dao(&node, Alice, b"before");
	let before = seal_with(&node, 1);

	// At: the upgrade and a DAO in one block, both executed by the old runtime.
	let set_code = RuntimeCall::System(SystemCall::set_code { code: code.to_vec() });
	node.submit(
		Alice,
		RuntimeCall::Sudo(pallet_sudo::Call::sudo_unchecked_weight {
			call: Box::new(set_code),
			weight: frame_support::weights::Weight::from_parts(1, 0),
		}),
	);
	create_dao(&node, Bob, b"at");
	let at = seal_with(&node, 2);
	let version = node.rpc("state_getRuntimeVersion", serde_json::json!([]));
	assert_eq!(
		version["specVersion"],
		old + 1,
		"the fixture runtime is in force after the upgrade block; its events: {:#?}",
		node.events(at).iter().map(|record| &record.event).collect::<Vec<_>>()
	);

	// After: a DAO under the new runtime, whose event has the extra field.
	create_dao(&node, Alice, b"after");
	let after = seal_with(&node, 1);
	let after_number = node.block_number(after);

	let records = broker.consume_until("herald.", TIMEOUT, |records| {
		of_block(records, after).iter().any(|r| r.envelope["name"] == "BlockFinalized")
	});
	assert!(
		records.iter().all(|r| r.envelope["name"] != "UndecodableEvent"),
		"every event decodes: {:#?}",
		records.iter().filter(|r| r.envelope["name"] == "UndecodableEvent").map(|r| &r.envelope).collect::<Vec<_>>()
	);

	for (hash, spec_version, metadata, with_created_at) in
		[(before, old, "before", false), (at, old, "at", false), (after, old + 1, "after", true)]
	{
		let block = of_block(&records, hash);
		assert!(!block.is_empty(), "block {hash:?} shipped");
		for record in &block {
			assert_eq!(
				record.envelope["meta"]["spec_version"], spec_version,
				"{hash:?} was executed by spec {spec_version}: {:#}",
				record.envelope
			);
		}
		let created = named(&block, "DaoCreatedEvent");
		assert_eq!(created.len(), 1, "one DaoCreated in {hash:?}: {created:#?}");
		let data = &created[0]["data"];
		assert_eq!(data["metadata"], format!("0x{}", hex::encode(metadata)), "{data:#}");
		assert_eq!(data.get("created_at").is_some(), with_created_at, "the layout of its runtime: {data:#}");
		if with_created_at {
			assert_eq!(data["created_at"], after_number, "{data:#}");
		}
	}

	// RuntimeUpgraded comes with the first block the new runtime executed, not with the one that ran set_code.
	let upgraded: Vec<&Value> =
		records.iter().map(|r| &r.envelope).filter(|e| e["name"] == "RuntimeUpgraded").collect();
	assert_eq!(upgraded.len(), 1, "{upgraded:#?}");
	assert_eq!(upgraded[0]["meta"]["block"]["hash"], format!("{after:?}"));
	// It tells consumers, in-band, what changed: the fixture's DaoCreated gained a field, nothing else changed.
	assert_eq!(
		upgraded[0]["data"],
		serde_json::json!({"from": old, "to": old + 1, "changes": [{
			"event": "Dao.DaoCreated",
			"name": "DaoCreatedEvent",
			"change": "changed compatibly",
			"details": ["data.created_at added"]
		}]})
	);
	// The summary is the one `export-contracts --compare-with` writes for the two runtimes.
	let dir = tempfile::tempdir().unwrap();
	let (old_contract, new_contract) = (dir.path().join("old"), dir.path().join("new"));
	let old_wasm = dir.path().join("old.wasm");
	let new_wasm = dir.path().join("new.wasm");
	std::fs::write(&old_wasm, herald_runtime::WASM_BINARY.expect("the runtime's wasm is built")).unwrap();
	std::fs::write(&new_wasm, code).unwrap();
	export(&["--wasm", old_wasm.to_str().unwrap(), "--out", old_contract.to_str().unwrap()]);
	export(&[
		"--wasm",
		new_wasm.to_str().unwrap(),
		"--compare-with",
		old_contract.to_str().unwrap(),
		"--out",
		new_contract.to_str().unwrap(),
	]);
	let compared: Value =
		serde_json::from_str(&std::fs::read_to_string(new_contract.join("changes.json")).unwrap()).unwrap();
	assert_eq!(upgraded[0]["data"]["changes"], compared);

	// Every message, before and after the upgrade, matches the contract of the runtime that executed its block
	// (Python's jsonschema, independent of the node's code).
	for (spec_version, contract) in [(old, &old_contract), (old + 1, &new_contract)] {
		let lines: Vec<String> = records
			.iter()
			.filter(|r| r.envelope["meta"]["spec_version"] == spec_version)
			.map(|r| serde_json::json!({"topic": r.topic, "value": r.envelope}).to_string())
			.collect();
		assert!(lines.len() >= 3, "messages of spec {spec_version}");
		let jsonl = dir.path().join(format!("messages-{spec_version}.jsonl"));
		std::fs::write(&jsonl, lines.join("\n")).unwrap();
		let python =
			format!("{}/bin/python", std::env::var("HERALD_VENV").unwrap_or_else(|_| "/var/tmp/herald-venv".into()));
		let output = std::process::Command::new(&python)
			.arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tools/python/validate_messages.py"))
			.arg(contract)
			.arg(&jsonl)
			.output()
			.unwrap_or_else(|e| panic!("{python} runs ({e}): scripts/setup.sh creates the virtualenv"));
		let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
		assert!(output.status.success(), "spec {spec_version}'s messages break its contract:\n{text}");
	}

	// The set_code block itself carries the code change, labelled with the old runtime.
	let code_updated = named(&of_block(&records, at), "RuntimeCodeUpdatedEvent");
	assert_eq!(code_updated.len(), 1, "System.CodeUpdated ships with the block that ran set_code");
	assert_eq!(code_updated[0]["meta"]["spec_version"], old);
}
