//! Writes a contract to a directory:
//!
//! ```text
//! DIR/schemas/<Name>.json          one draft-07 JSON Schema per envelope kind
//! DIR/topics/<topic>.json          every message of a topic, discriminated by `name`
//! DIR/schema-registry/<topic>.json the same, as a broker-side schema registry file: {"properties": {"value": …}}
//! DIR/asyncapi.json                AsyncAPI 3.0
//! DIR/catalog/…                    Markdown: README.md, topics/<topic>.md, events/<Name>.md
//! DIR/contract.json                a summary: runtime, routing, every event with its kind, topic and key
//! ```

use std::{fs, path::Path};

use serde_json::{json, Value as Json};

use super::{asyncapi, catalog, Contract};

/// What was written, for the command's report.
#[derive(Clone, Debug, Default)]
pub struct Written {
	pub kinds: usize,
	pub topics: usize,
	pub events: usize,
	pub files: usize,
}

fn write_json(path: &Path, value: &Json) -> Result<(), String> {
	let mut text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
	text.push('\n');
	fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn create(dir: &Path) -> Result<(), String> {
	fs::create_dir_all(dir).map_err(|e| format!("cannot create the directory {}: {e}", dir.display()))
}

/// Writes every document of `contract` under `dir` (created if missing; files of the same names replaced, the
/// generated sub-directories emptied first so that a removed event leaves no stale file).
pub fn write(contract: &Contract, dir: &Path) -> Result<Written, String> {
	create(dir)?;
	let mut written =
		Written { kinds: contract.kinds.len(), topics: contract.topics.len(), events: contract.events.len(), files: 0 };
	for sub in ["schemas", "topics", "schema-registry", "catalog"] {
		let path = dir.join(sub);
		if path.exists() {
			fs::remove_dir_all(&path).map_err(|e| format!("cannot clear {}: {e}", path.display()))?;
		}
		create(&path)?;
	}
	for name in contract.kinds.keys() {
		let schema = contract.kind_schema(name).expect("a known kind");
		write_json(&dir.join("schemas").join(format!("{}.json", asyncapi::id_of(name))), &schema)?;
		written.files += 1;
	}
	for topic in contract.topics.keys() {
		let schema = contract.topic_schema(topic).expect("a known topic");
		write_json(&dir.join("topics").join(format!("{topic}.json")), &schema)?;
		write_json(
			&dir.join("schema-registry").join(format!("{topic}.json")),
			&json!({"properties": {"value": schema}}),
		)?;
		written.files += 2;
	}
	write_json(&dir.join("asyncapi.json"), &asyncapi::document(contract))?;
	written.files += 1;
	for (page, text) in catalog::pages(contract) {
		let path = dir.join("catalog").join(page);
		if let Some(parent) = path.parent() {
			create(parent)?;
		}
		fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
		written.files += 1;
	}
	write_json(&dir.join("contract.json"), &summary(contract))?;
	written.files += 1;
	Ok(written)
}

/// The contract in brief, for tools (and for comparing two exports).
pub fn summary(contract: &Contract) -> Json {
	let events: Vec<Json> = contract
		.events
		.iter()
		.map(|event| {
			json!({
				"pallet": event.pallet,
				"variant": event.variant,
				"name": event.mapping.name,
				"type": event.mapping.event_type.as_str(),
				"topic": event.topic,
				"key": super::key_in_words(&event.mapping.key, &event.pallet),
				"fields": event.fields.iter().map(|f| json!({"name": f.name, "type": f.resolved})).collect::<Vec<_>>(),
			})
		})
		.collect();
	json!({
		"runtime": {
			"origin": contract.runtime.origin,
			"spec_name": contract.runtime.spec_name,
			"spec_version": contract.runtime.spec_version,
			"metadata_version": contract.metadata_version,
		},
		"topic_prefix": contract.routing.topic_prefix,
		"partitions": contract.routing.partitions,
		"topics": contract.topics,
		"events": events,
		"not_shipped": contract.skipped,
	})
}
