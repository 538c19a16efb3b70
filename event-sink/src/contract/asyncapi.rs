//! The AsyncAPI 3.0 document of what a node ships: a channel per topic (address = the full topic name, Kafka
//! binding with its partitions), a message per envelope kind (payload = its draft-07 schema, key described in
//! the Kafka message binding), a send operation per channel, and servers from `--kafka-brokers`.
//!
//! The payload schemas' `$ref`s point at `#/components/schemas/…`, where the type definitions live.

use serde_json::{json, Map, Value as Json};

use super::Contract;

/// The `schemaFormat` of every payload: JSON Schema draft-07, which `@asyncapi/parser` validates.
pub const SCHEMA_FORMAT: &str = "application/schema+json;version=draft-07";

/// A channel or message id: letters, digits, `_`, `-` and `.` only.
pub fn id_of(text: &str) -> String {
	text.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect()
}

/// Rewrites `#/$defs/x` references to `#/components/schemas/x`.
fn rebase(schema: &Json) -> Json {
	match schema {
		Json::Object(object) => Json::Object(
			object
				.iter()
				.map(|(key, value)| {
					let value = match (key.as_str(), value.as_str()) {
						("$ref", Some(target)) => match target.strip_prefix("#/$defs/") {
							Some(rest) => Json::from(format!("#/components/schemas/{rest}")),
							None => value.clone(),
						},
						_ => rebase(value),
					};
					(key.clone(), value)
				})
				.collect(),
		),
		Json::Array(items) => Json::Array(items.iter().map(rebase).collect()),
		other => other.clone(),
	}
}

/// The message headers: which ones a node sends is its operator's choice (`--kafka-headers`).
const HEADERS_DESCRIPTION: &str =
	"Each header but the epochs repeats a field of the value. Sent by default: id; the others only \
	when the node runs with --kafka-headers naming them (or all). leader_epoch and run_epoch are sent whatever \
	--kafka-headers says, where they apply.";

pub fn document(contract: &Contract) -> Json {
	let runtime = &contract.runtime;
	let title = match (&runtime.spec_name, runtime.spec_version) {
		(Some(name), Some(version)) => format!("Herald events of runtime {name} {version}"),
		(None, Some(version)) => format!("Herald events of runtime spec_version {version}"),
		_ => "Herald events".to_string(),
	};
	let mut servers = Map::new();
	if let Some(brokers) = &contract.routing.brokers {
		for (position, host) in brokers.split(',').map(str::trim).filter(|h| !h.is_empty()).enumerate() {
			servers.insert(
				format!("broker{}", position + 1),
				json!({"host": host, "protocol": "kafka", "description": "from --kafka-brokers"}),
			);
		}
	}
	let mut channels = Map::new();
	let mut operations = Map::new();
	let mut messages = Map::new();
	for (name, kind) in &contract.kinds {
		let payload = rebase(&kind.schema);
		let description = if kind.description.is_empty() { name.clone() } else { kind.description.clone() };
		messages.insert(
			id_of(name),
			json!({
				"name": name,
				"title": name,
				"summary": format!("{name} ({})", kind.types.iter().cloned().collect::<Vec<_>>().join(", ")),
				"description": description,
				"contentType": "application/json",
				"payload": {"schemaFormat": SCHEMA_FORMAT, "schema": payload},
				"headers": {"type": "object", "description": HEADERS_DESCRIPTION, "properties": {
					"id": {"type": "string", "description": "= meta.id"},
					"name": {"type": "string", "description": "= name"},
					"type": {"type": "string", "description": "= type"},
					"schema_version": {"type": "string", "description": "\"1\""},
					"block_hash": {"type": "string", "description": "= meta.block.hash"},
					"finalized": {"type": "string", "description": "\"true\" or \"false\""},
					"leader_epoch": {"type": "string", "description": "The sending leader's epoch (decimal), on every \
						message of a high-availability group (--kafka-ha-group): discard a message whose epoch is lower \
						than the highest its partition showed (docs/envelope.md, High availability)"},
					"run_epoch": {"type": "string", "description": "The sending run's epoch (decimal), on every \
						message of a single node in best mode (--kafka-follow best): discard a message whose epoch is \
						lower than the highest its partition showed (docs/envelope.md, Crashes and restarts)"},
				}},
				"bindings": {"kafka": {
					"key": {"type": "string", "description": format!("The Kafka key: {}", kind.key)},
					"bindingVersion": "0.5.0",
				}},
				"examples": [{"name": "example", "payload": kind.example}],
			}),
		);
	}
	for (topic, names) in &contract.topics {
		let channel_id = id_of(topic);
		let mut channel_messages = Map::new();
		for name in names {
			channel_messages.insert(id_of(name), json!({"$ref": format!("#/components/messages/{}", id_of(name))}));
		}
		channels.insert(
			channel_id.clone(),
			json!({
				"address": topic,
				"title": topic,
				"description": format!(
					"Kafka topic {topic}: every message is one JSON envelope (docs/envelope.md), one of {}.",
					names.iter().cloned().collect::<Vec<_>>().join(", ")),
				"messages": channel_messages,
				"bindings": {"kafka": {
					"topic": topic,
					"partitions": contract.routing.partitions,
					"bindingVersion": "0.5.0",
				}},
			}),
		);
		let message_refs: Vec<Json> = names
			.iter()
			.map(|name| json!({"$ref": format!("#/channels/{channel_id}/messages/{}", id_of(name))}))
			.collect();
		operations.insert(
			format!("send_{channel_id}"),
			json!({
				"action": "send",
				"title": format!("The node ships to {topic}"),
				"channel": {"$ref": format!("#/channels/{channel_id}")},
				"messages": message_refs,
			}),
		);
	}
	let schemas: Map<String, Json> = contract.defs.iter().map(|(key, def)| (key.clone(), rebase(def))).collect();
	let mut document = json!({
		"asyncapi": "3.0.0",
		"info": {
			"title": title,
			"version": runtime.spec_version.map(|v| v.to_string()).unwrap_or_else(|| "0".into()),
			"description": format!(
				"What a Herald node ships to Kafka, derived from the runtime's metadata ({}; metadata V{}) and the \
				 node's mapping table (topic prefix `{}`). Envelope format: docs/envelope.md.",
				runtime.origin, contract.metadata_version, contract.routing.topic_prefix),
		},
		"defaultContentType": "application/json",
		"channels": channels,
		"operations": operations,
		"components": {"messages": messages, "schemas": schemas},
	});
	if !servers.is_empty() {
		document["servers"] = Json::Object(servers);
	}
	document
}
