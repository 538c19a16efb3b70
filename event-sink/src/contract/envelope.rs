//! The schemas of the envelope around `data`, as [`crate::envelope::write::envelope_json`] writes it: `name`,
//! `type`, and `meta` with exactly the fields each kind of envelope carries (docs/envelope.md, "Fields").

use std::collections::BTreeSet;

use serde_json::{json, Value as Json};

use super::EventContract;

pub const UNDECODABLE_DESCRIPTION: &str = "The remainder of a block's events that could not be decoded with the \
	metadata of the runtime that executed the block: `data` is null, `meta.decode_error` says why, `meta.raw` holds \
	the first undecoded bytes (at most 4096) and `meta.raw_length` their count. `meta.event_index` is the first \
	record not decoded; it stands for that record and every later one of the block.";

pub const REJECTED_DESCRIPTION: &str = "`--kafka-on-rejected stand-in`: in place of a message Kafka will never \
	accept (too large, invalid, refused by a policy or for lack of authorization), with its id, topic, key, \
	partition and `meta` (without `raw`, `raw_length` and `decode_error`). `data` names the original envelope.";

pub const LEADER_EPOCH_DESCRIPTION: &str = "High-availability groups (`--kafka-ha-group`) only: a new leader's \
	marker, written to every partition of every topic before it ships anything. From it on, a consumer of that \
	partition discards every message whose `leader_epoch` header is lower than `data.epoch` (docs/envelope.md, \
	\"High availability\"). Its key is null and its `meta` holds only `id` and `schema_version`: it belongs to no \
	block.";

/// What an infrastructure envelope says, for its schema's `description`.
pub fn infrastructure_description(name: &str) -> &'static str {
	match name {
		"BlockCreated" => "The first message of every shipped block: how many event records and extrinsics it holds.",
		"RuntimeUpgraded" => {
			"After BlockCreated of the first block the new runtime executed (the block after the \
			one that ran set_code): the spec versions before and after."
		}
		"BlockFinalized" => {
			"The block is final: its last message when it was final when shipped; in best-chain \
			mode a separate message once it becomes final."
		}
		"BlockRetracted" => {
			"Best-chain mode: a shipped block left the best chain; cancel the envelopes whose \
			meta.id is in event_ids."
		}
		_ => "",
	}
}

fn u32_schema() -> Json {
	json!({"type": "integer", "minimum": 0, "maximum": u32::MAX})
}

fn hash_schema() -> Json {
	json!({"type": "string", "pattern": "^0x([0-9a-f]{2})+$"})
}

fn hex_schema() -> Json {
	json!({"type": "string", "pattern": "^0x([0-9a-f]{2})*$"})
}

fn phase_schema() -> Json {
	json!({
		"oneOf": [
			{"type": "object", "required": ["kind", "extrinsic_index"], "additionalProperties": false,
			 "properties": {"kind": {"const": "ApplyExtrinsic"}, "extrinsic_index": u32_schema()}},
			{"type": "object", "required": ["kind"], "additionalProperties": false,
			 "properties": {"kind": {"enum": ["Initialization", "Finalization"]}}},
		]
	})
}

/// What varies in `meta` between envelope kinds.
struct MetaShape {
	/// The `meta.id` pattern.
	id: String,
	event_index: Json,
	/// `Some(true)`: `phase` required; `Some(false)`: optional; `None`: absent.
	phase: Option<bool>,
	pallet: Json,
	variant: Json,
	/// `decode_error`, `raw` and `raw_length` present (required).
	undecodable: bool,
}

fn meta_schema(shape: MetaShape) -> Json {
	let mut required = vec![
		"id",
		"schema_version",
		"chain",
		"block",
		"event_index",
		"pallet",
		"variant",
		"spec_version",
		"timestamp",
		"finalized",
	];
	let mut properties = serde_json::Map::new();
	properties.insert("id".into(), json!({"type": "string", "pattern": shape.id}));
	properties.insert("schema_version".into(), json!({"const": crate::envelope::SCHEMA_VERSION}));
	properties.insert("chain".into(), hash_schema());
	properties.insert(
		"block".into(),
		json!({"type": "object", "required": ["number", "hash", "parent_hash"], "additionalProperties": false,
			"properties": {"number": {"type": "integer", "minimum": 0}, "hash": hash_schema(),
				"parent_hash": hash_schema()}}),
	);
	properties.insert("event_index".into(), shape.event_index);
	if let Some(phase_required) = shape.phase {
		properties.insert("phase".into(), phase_schema());
		if phase_required {
			required.push("phase");
		}
	}
	properties.insert("pallet".into(), shape.pallet);
	properties.insert("variant".into(), shape.variant);
	properties.insert("spec_version".into(), u32_schema());
	properties.insert("timestamp".into(), json!({"anyOf": [{"type": "integer", "minimum": 0}, {"type": "null"}]}));
	properties.insert("finalized".into(), json!({"type": "boolean"}));
	if shape.undecodable {
		properties.insert("decode_error".into(), json!({"type": "string", "minLength": 1}));
		properties.insert("raw".into(), hex_schema());
		properties.insert("raw_length".into(), json!({"type": "integer", "minimum": 0}));
		required.extend(["decode_error", "raw", "raw_length"]);
	}
	json!({"type": "object", "required": required, "additionalProperties": false, "properties": properties})
}

const EVENT_ID: &str = "^0x([0-9a-f]{2})+:(0|[1-9][0-9]*)$";

fn envelope(name: Json, event_type: Json, data: Json, meta: Json) -> Json {
	json!({
		"type": "object",
		"required": ["name", "type", "data", "meta"],
		"additionalProperties": false,
		"properties": {"name": name, "type": event_type, "data": data, "meta": meta},
	})
}

/// The envelope of one runtime event, as mapped.
pub fn event_envelope(event: &EventContract) -> Json {
	let meta = meta_schema(MetaShape {
		id: EVENT_ID.into(),
		event_index: u32_schema(),
		phase: Some(true),
		pallet: json!({"const": event.pallet}),
		variant: json!({"const": event.variant}),
		undecodable: false,
	});
	let mut schema = envelope(
		json!({"const": event.mapping.name}),
		json!({"const": event.mapping.event_type.as_str()}),
		event.data_schema.clone(),
		meta,
	);
	let docs = if event.docs.is_empty() {
		format!("{}.{}", event.pallet, event.variant)
	} else {
		format!("{}.{}: {}", event.pallet, event.variant, event.docs)
	};
	schema["description"] = docs.into();
	schema
}

fn infrastructure_meta(name: &str) -> Json {
	meta_schema(MetaShape {
		id: format!("^0x([0-9a-f]{{2}})+:{name}$"),
		event_index: json!({"type": "null"}),
		phase: None,
		pallet: json!({"type": "null"}),
		variant: json!({"type": "null"}),
		undecodable: false,
	})
}

/// The schema of `data` of one of the sink's block envelopes.
pub fn infrastructure_data(name: &str) -> Json {
	match name {
		"BlockCreated" => json!({"type": "object", "required": ["event_count", "extrinsics_count"],
			"additionalProperties": false,
			"properties": {"event_count": u32_schema(), "extrinsics_count": u32_schema()}}),
		"RuntimeUpgraded" => json!({"type": "object", "required": ["from", "to"], "additionalProperties": false,
			"properties": {"from": u32_schema(), "to": u32_schema(),
				"changes": {"type": "array",
					"description": "how the shipped events changed between the two runtimes (unchanged events are left \
						out); absent when the previous runtime's state was pruned before the block was shipped",
					"items": {"type": "object", "required": ["event", "name", "change", "details"],
						"additionalProperties": false,
						"properties": {
							"event": {"type": "string", "pattern": "^[A-Za-z0-9_]+\\.[A-Za-z0-9_]+$",
								"description": "`Pallet.Variant`"},
							"name": {"type": "string", "description": "the envelope's `name` (the old one when removed)"},
							"change": {"enum": ["added", "removed", "changed compatibly", "changed incompatibly"],
								"description": "compatibly: fields were only added; incompatibly: a consumer of the old \
									contract breaks (a field removed or retyped, variants changed, or the name, topic \
									or key changed)"},
							"details": {"type": "array", "items": {"type": "string"}}}}}}}),
		"BlockFinalized" => json!({"type": "object", "additionalProperties": false}),
		// `part` and `parts` only when the retraction of one partition is split into several messages.
		"BlockRetracted" => json!({"type": "object", "required": ["event_ids"], "additionalProperties": false,
			"properties": {
				"event_ids": {"type": "array",
					"items": {"type": "string", "pattern": "^0x([0-9a-f]{2})+:(0|[1-9][0-9]*|[A-Za-z][A-Za-z0-9]*)$"}},
				"part": {"type": "integer", "minimum": 1, "maximum": u32::MAX,
					"description": "which part (1-based) of a retraction split into `parts` messages"},
				"parts": {"type": "integer", "minimum": 1, "maximum": u32::MAX},
			},
			"dependencies": {"part": ["parts"], "parts": ["part"]}}),
		other => json!({"not": {}, "description": format!("no envelope kind {other}")}),
	}
}

/// The envelope of one of the sink's block envelopes (`BlockCreated`, …).
pub fn infrastructure_envelope(name: &str) -> Json {
	let mut schema = envelope(
		json!({"const": name}),
		json!({"const": "infrastructure"}),
		infrastructure_data(name),
		infrastructure_meta(name),
	);
	schema["description"] = infrastructure_description(name).into();
	schema
}

/// The envelope of a high-availability group's `LeaderEpoch` marker ([`crate::kafka::epoch`]).
pub fn leader_epoch_envelope() -> Json {
	let data = json!({"type": "object", "required": ["epoch", "group", "member"], "additionalProperties": false,
		"properties": {
			"epoch": {"type": "integer", "minimum": 1, "description": "the new leader's epoch"},
			"group": {"type": "string", "description": "the group's name (`--kafka-ha-group`)"},
			"member": {"type": "string", "description": "the new leader (`--kafka-ha-member`)"}}});
	let meta = json!({"type": "object", "required": ["id", "schema_version"], "additionalProperties": false,
		"properties": {
			"id": {"type": "string", "pattern": "^LeaderEpoch:[1-9][0-9]*$"},
			"schema_version": {"const": crate::envelope::SCHEMA_VERSION}}});
	let mut schema =
		envelope(json!({"const": crate::kafka::epoch::MARKER_NAME}), json!({"const": "infrastructure"}), data, meta);
	schema["description"] = LEADER_EPOCH_DESCRIPTION.into();
	schema
}

/// The envelope of the undecodable remainder of a block's events.
pub fn undecodable_envelope() -> Json {
	let meta = meta_schema(MetaShape {
		id: EVENT_ID.into(),
		event_index: u32_schema(),
		phase: Some(false),
		pallet: json!({"type": ["string", "null"]}),
		variant: json!({"type": ["string", "null"]}),
		undecodable: true,
	});
	let mut schema = envelope(
		json!({"const": crate::mapping::UNDECODABLE_EVENT_NAME}),
		json!({"const": "domain"}),
		json!({"type": "null"}),
		meta,
	);
	schema["description"] = UNDECODABLE_DESCRIPTION.into();
	schema
}

/// The stand-in for a message Kafka refused: `data` names the original (one of `names`), `meta` is the
/// original's without the undecodable remainder's fields.
pub fn rejected_envelope(names: &BTreeSet<String>) -> Json {
	let meta = meta_schema(MetaShape {
		id: "^0x([0-9a-f]{2})+:(0|[1-9][0-9]*|[A-Za-z][A-Za-z0-9]*)$".into(),
		event_index: json!({"anyOf": [u32_schema(), {"type": "null"}]}),
		phase: Some(false),
		pallet: json!({"type": ["string", "null"]}),
		variant: json!({"type": ["string", "null"]}),
		undecodable: false,
	});
	let data = json!({
		"type": "object",
		"required": ["name", "type", "bytes", "reason"],
		"additionalProperties": false,
		"properties": {
			"name": {"enum": names.iter().collect::<Vec<_>>(), "description": "the original envelope's name"},
			"type": {"enum": ["domain", "infrastructure"]},
			"bytes": {"type": "integer", "minimum": 0, "description": "the original message's size in bytes"},
			"reason": {"type": "string", "description": "why Kafka refused it (librdkafka's error)"},
			"decode_error": {"type": "string",
				"description": "only when the original was an UndecodableEvent: its meta.decode_error"},
		},
	});
	let mut schema =
		envelope(json!({"const": crate::envelope::stand_in::NAME}), json!({"const": "infrastructure"}), data, meta);
	schema["description"] = REJECTED_DESCRIPTION.into();
	schema
}
