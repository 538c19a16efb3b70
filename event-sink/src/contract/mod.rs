//! # Event contracts
//!
//! What a node ships, derived from the runtime's own metadata and the node's mapping table: for every envelope
//! kind (every mapped event name and every infrastructure envelope) a JSON Schema (draft-07) of the whole
//! envelope with `data` typed exactly from the metadata; per topic, a schema of every message that can land on
//! it, discriminated by `name`; an AsyncAPI 3.0 document ([`asyncapi`]); a Markdown catalog ([`catalog`]).
//!
//! The `data` schemas come from [`schema::TypeSchemas`], which follows the sink's JSON writer decision by
//! decision (the shared [`crate::envelope::json::fields_form`] and [`crate::envelope::json::Shapes`]); the
//! envelope around it follows [`crate::envelope::write`] (field set, `null`s and optional fields).

pub mod asyncapi;
pub mod catalog;
pub mod check;
pub mod diff;
pub mod envelope;
pub mod export;
pub mod sample;
pub mod schema;

use std::collections::{BTreeMap, BTreeSet};

use scale_info::{form::PortableForm, TypeDef};
use serde_json::{json, Value as Json};

use crate::{
	block::{
		decode::EventDecoder,
		metadata::{self, RuntimeTypes},
	},
	envelope::{route::Route, BlockContext, Envelope, InfrastructureEvent},
	mapping::{EventType, Mappings, PartitionKey, ResolvedMapping},
};

use self::{
	sample::{Rng, Sampler},
	schema::{docs_text, rust_type_name, TypeSchemas},
};

/// Where the runtime came from and what it calls itself, when known (a metadata file does not say).
#[derive(Clone, Debug, Default)]
pub struct RuntimeLabel {
	/// E.g. "the finalized block #42 of the database at /var/lib/herald", "runtime.wasm".
	pub origin: String,
	pub spec_name: Option<String>,
	pub spec_version: Option<u32>,
}

/// How the node routes what it ships: the sink's mapping flags.
#[derive(Clone, Debug)]
pub struct Routing {
	pub mappings: Mappings,
	pub topic_prefix: String,
	pub partitions: i32,
	/// `--kafka-brokers`, for the AsyncAPI document's servers.
	pub brokers: Option<String>,
}

/// One field of an event.
#[derive(Clone, Debug)]
pub struct FieldContract {
	/// Its name, or its position ("0", "1", …) for an unnamed field.
	pub name: String,
	/// The type as the pallet's source names it (`T::AccountId`, `BalanceOf<T>`), when the metadata says.
	pub type_name: Option<String>,
	/// The resolved type (`AccountId32`, `u128`, `Option<u32>`).
	pub resolved: String,
	/// The JSON shape in words.
	pub shape: String,
	pub docs: String,
	pub schema: Json,
}

/// One runtime event the node ships.
#[derive(Clone, Debug)]
pub struct EventContract {
	pub pallet: String,
	pub variant: String,
	pub pallet_index: u8,
	pub variant_index: u8,
	pub docs: String,
	pub fields: Vec<FieldContract>,
	/// The schema of `data`.
	pub data_schema: Json,
	pub mapping: ResolvedMapping,
	/// The full topic name.
	pub topic: String,
	/// An example `data`: a random value written by the sink's writer (JSON text, in the order written).
	pub example_data: String,
}

/// An envelope kind: everything shipped under one `name`.
#[derive(Clone, Debug)]
pub struct KindContract {
	pub name: String,
	/// `domain` and/or `infrastructure`.
	pub types: BTreeSet<&'static str>,
	pub description: String,
	/// The envelope's schema (its `$ref`s point into the contract's `$defs`).
	pub schema: Json,
	/// Full topic names it can land on.
	pub topics: BTreeSet<String>,
	/// How its Kafka key is made.
	pub key: String,
	/// The events shipped under this name (none for the sink's own envelopes).
	pub events: Vec<usize>,
	/// An example envelope, as the sink writes it.
	pub example: Json,
	/// The same, as the text the sink writes (keys in the order written).
	pub example_text: String,
}

/// Everything a node ships from one runtime.
pub struct Contract {
	pub runtime: RuntimeLabel,
	pub metadata_version: u32,
	pub routing: Routing,
	pub events: Vec<EventContract>,
	/// Events the runtime declares that the mapping table does not ship, as `Pallet.Variant`.
	pub skipped: Vec<String>,
	pub kinds: BTreeMap<String, KindContract>,
	/// Full topic name → the kinds that can land on it.
	pub topics: BTreeMap<String, BTreeSet<String>>,
	/// The `$defs` of every type the schemas refer to.
	pub defs: BTreeMap<String, Json>,
}

/// The infrastructure envelopes the sink makes itself, on the infrastructure topic.
pub const BLOCK_KINDS: [&str; 4] = ["BlockCreated", "RuntimeUpgraded", "BlockFinalized", "BlockRetracted"];

impl Contract {
	/// The contract of the runtime whose metadata is `metadata` (a `RuntimeMetadataPrefixed`, or the
	/// `OpaqueMetadata` around one, V14 to V16).
	pub fn build(metadata: &[u8], runtime: RuntimeLabel, routing: Routing) -> Result<Contract, String> {
		let types = metadata::read(metadata).map_err(|e| e.to_string())?;
		let decoder = EventDecoder::new(metadata).map_err(|e| e.to_string())?;
		let registry = &types.registry;
		let mut schemas = TypeSchemas::new(registry);
		let sampler = Sampler::new(registry);
		let topics = crate::kafka::request::Topics::new(&routing.mappings, &routing.topic_prefix);
		let route = |mapping: &ResolvedMapping| topics.full(&Route::new(mapping).topic).to_string();
		let mut events = Vec::new();
		let mut skipped = Vec::new();
		for pallet in &types.pallets {
			let Some(event_ty) = pallet.event_ty else { continue };
			let Some(TypeDef::Variant(enum_ty)) = registry.resolve(event_ty).map(|ty| &ty.type_def) else { continue };
			let mut variants: Vec<_> = enum_ty.variants.iter().collect();
			variants.sort_by_key(|variant| variant.index);
			for variant in variants {
				let Some(mapping) = routing.mappings.resolve(&pallet.name, &variant.name) else {
					skipped.push(format!("{}.{}", pallet.name, variant.name));
					continue;
				};
				let data_schema = schemas.event_data(&variant.fields);
				let fields = variant
					.fields
					.iter()
					.enumerate()
					.map(|(position, field)| FieldContract {
						name: field.name.clone().unwrap_or_else(|| position.to_string()),
						type_name: field.type_name.clone(),
						resolved: rust_type_name(registry, field.ty.id),
						shape: shape_in_words(&schemas, field.ty.id),
						docs: docs_text(&field.docs),
						schema: schemas.of(field.ty.id),
					})
					.collect();
				let example_data = example_data(&types, &decoder, &sampler, pallet.index, variant, &pallet.name)
					.unwrap_or_else(|| "null".into());
				events.push(EventContract {
					pallet: pallet.name.clone(),
					variant: variant.name.clone(),
					pallet_index: pallet.index,
					variant_index: variant.index,
					docs: docs_text(&variant.docs),
					fields,
					data_schema,
					topic: route(&mapping),
					mapping,
					example_data,
				});
			}
		}

		let topics_all: BTreeSet<String> = routing
			.mappings
			.topics()
			.into_iter()
			.map(|suffix| route(&ResolvedMapping { topic: suffix, ..routing.mappings.infrastructure("") }))
			.collect();
		let infrastructure_topic = route(&routing.mappings.infrastructure("BlockCreated"));
		let spec_version = runtime.spec_version.unwrap_or(0);
		let context = example_context(spec_version);

		let mut kinds: BTreeMap<String, KindContract> = BTreeMap::new();
		// Runtime events, grouped by envelope name.
		let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
		for (position, event) in events.iter().enumerate() {
			by_name.entry(event.mapping.name.clone()).or_default().push(position);
		}
		for (name, positions) in &by_name {
			let branches: Vec<Json> =
				positions.iter().map(|position| envelope::event_envelope(&events[*position])).collect();
			let first = &events[positions[0]];
			let description = if positions.len() == 1 && first.docs.is_empty() {
				format!("{}.{}", first.pallet, first.variant)
			} else if positions.len() == 1 {
				format!("{}.{}: {}", first.pallet, first.variant, first.docs)
			} else {
				let names: Vec<String> =
					positions.iter().map(|p| format!("{}.{}", events[*p].pallet, events[*p].variant)).collect();
				format!("Shipped for each of {}", names.join(", "))
			};
			let schema = if branches.len() == 1 {
				branches.into_iter().next().expect("one")
			} else {
				json!({ "oneOf": branches })
			};
			let decoded = crate::block::decode::DecodedEvent {
				index: 3,
				phase: crate::block::decode::Phase::ApplyExtrinsic(1),
				pallet: first.pallet.as_str().into(),
				variant: first.variant.as_str().into(),
				pallet_index: first.pallet_index,
				variant_index: first.variant_index,
				data: first.example_data.clone(),
				topics: Vec::new(),
			};
			let example_text = text(Envelope::event(&context, &decoded, &first.mapping).to_json());
			let example = serde_json::from_str(&example_text).unwrap_or(Json::Null);
			kinds.insert(
				name.clone(),
				KindContract {
					name: name.clone(),
					types: positions.iter().map(|p| events[*p].mapping.event_type.as_str()).collect(),
					description,
					schema,
					topics: positions.iter().map(|p| events[*p].topic.clone()).collect(),
					key: key_in_words(&first.mapping.key, &first.pallet),
					events: positions.clone(),
					example,
					example_text,
				},
			);
		}
		// The sink's own envelopes.
		for name in BLOCK_KINDS {
			let mut topics = BTreeSet::from([infrastructure_topic.clone()]);
			if name == "BlockRetracted" {
				topics.extend(topics_all.iter().cloned());
			}
			let event = match name {
				"BlockCreated" => InfrastructureEvent::BlockCreated { event_count: 6, extrinsics_count: 2 },
				"RuntimeUpgraded" => InfrastructureEvent::RuntimeUpgraded {
					from: spec_version.saturating_sub(1),
					to: spec_version,
					changes: Some(std::sync::Arc::new(serde_json::json!([{
						"event": "Balances.Transfer",
						"name": "BalancesTransfer",
						"change": "changed compatibly",
						"details": ["data.memo added"]
					}]))),
				},
				"BlockFinalized" => InfrastructureEvent::BlockFinalized,
				_ => InfrastructureEvent::BlockRetracted {
					event_ids: vec![format!("{}:BlockCreated", context.hash), format!("{}:3", context.hash)],
					part: None,
				},
			};
			let example_text = text(Envelope::infrastructure(&context, &event).to_json());
			let example = serde_json::from_str(&example_text).unwrap_or(Json::Null);
			kinds.insert(
				name.into(),
				KindContract {
					name: name.into(),
					types: BTreeSet::from(["infrastructure"]),
					description: envelope::infrastructure_description(name).into(),
					schema: envelope::infrastructure_envelope(name),
					topics,
					key: if name == "BlockRetracted" {
						"the chain's genesis hash (`meta.chain`); the message goes to the partition of the messages it \
						 cancels, whatever its key"
							.into()
					} else {
						"the chain's genesis hash (`meta.chain`): every block envelope in one partition, totally ordered"
							.into()
					},
					events: Vec::new(),
					example,
					example_text,
				},
			);
		}
		// A high-availability group's marker: on every partition of every topic.
		let marker = crate::kafka::epoch::marker_envelope(&crate::config::LeaderEpoch {
			epoch: 2,
			group: "indexers".into(),
			member: "sink-b".into(),
		});
		let mut marker_topics = topics_all.clone();
		marker_topics.insert(infrastructure_topic.clone());
		marker_topics.extend(events.iter().map(|event| event.topic.clone()));
		kinds.insert(
			crate::kafka::epoch::MARKER_NAME.into(),
			KindContract {
				name: crate::kafka::epoch::MARKER_NAME.into(),
				types: BTreeSet::from(["infrastructure"]),
				description: envelope::LEADER_EPOCH_DESCRIPTION.into(),
				schema: envelope::leader_epoch_envelope(),
				topics: marker_topics,
				key: "none (null): the leader writes one to each partition explicitly".into(),
				events: Vec::new(),
				example_text: marker.to_string(),
				example: marker,
			},
		);
		// The undecodable remainder: on the default topic, or the topic of the failing record's mapping.
		let mut undecodable_topics: BTreeSet<String> = events.iter().map(|event| event.topic.clone()).collect();
		undecodable_topics.insert(route(&routing.mappings.resolve_undecodable(None, None)));
		let undecodable_example = {
			let remainder = crate::block::decode::Undecodable {
				index: 5,
				remaining_records: Some(1),
				phase: Some(crate::block::decode::Phase::Finalization),
				pallet: Some("Balances".into()),
				variant: Some("Deposit".into()),
				error: "event record 5 of 6 (Balances.Deposit) does not decode with the metadata of this runtime \
				        version: …; it is left undecoded"
					.into(),
				raw: "0x0204".into(),
				raw_length: 2,
			};
			let mapping = routing.mappings.resolve_undecodable(None, None);
			text(Envelope::undecodable(&context, &remainder, &mapping).to_json())
		};
		kinds.insert(
			crate::mapping::UNDECODABLE_EVENT_NAME.into(),
			KindContract {
				name: crate::mapping::UNDECODABLE_EVENT_NAME.into(),
				types: BTreeSet::from(["domain"]),
				description: envelope::UNDECODABLE_DESCRIPTION.into(),
				schema: envelope::undecodable_envelope(),
				topics: undecodable_topics,
				key: "the failing record's pallet name, or the chain's genesis hash when it is unknown".into(),
				events: Vec::new(),
				example: serde_json::from_str(&undecodable_example).unwrap_or(Json::Null),
				example_text: undecodable_example,
			},
		);
		// The stand-in for a rejected message: wherever the original was to go.
		let mut topics: BTreeMap<String, BTreeSet<String>> =
			topics_all.iter().map(|topic| (topic.clone(), BTreeSet::new())).collect();
		for kind in kinds.values() {
			for topic in &kind.topics {
				topics.entry(topic.clone()).or_default().insert(kind.name.clone());
			}
		}
		let all_topics: BTreeSet<String> = topics.keys().cloned().collect();
		for names in topics.values_mut() {
			names.insert(crate::envelope::stand_in::NAME.into());
		}
		let rejected_names: BTreeSet<String> = kinds.keys().cloned().collect();
		let rejected_example = {
			let original = &kinds[crate::mapping::UNDECODABLE_EVENT_NAME].example_text;
			let rejected = crate::envelope::stand_in::Rejected {
				id: &format!("{}:5", context.hash),
				topic: "",
				key: None,
				payload: original.as_bytes(),
				block_hash: &context.hash,
				finalized: true,
			};
			text(crate::envelope::stand_in::stand_in(rejected, "Broker: Message size too large").payload.to_vec())
		};
		kinds.insert(
			crate::envelope::stand_in::NAME.into(),
			KindContract {
				name: crate::envelope::stand_in::NAME.into(),
				types: BTreeSet::from(["infrastructure"]),
				description: envelope::REJECTED_DESCRIPTION.into(),
				schema: envelope::rejected_envelope(&rejected_names),
				topics: all_topics,
				key: "the key of the message it replaces".into(),
				events: Vec::new(),
				example: serde_json::from_str(&rejected_example).unwrap_or(Json::Null),
				example_text: rejected_example,
			},
		);

		Ok(Contract {
			runtime,
			metadata_version: types.version,
			routing,
			events,
			skipped,
			kinds,
			topics,
			defs: schemas.defs().clone(),
		})
	}

	/// The `$defs` that `schema` needs, directly or indirectly.
	pub fn defs_for(&self, schema: &Json) -> BTreeMap<String, Json> {
		let mut reached = BTreeMap::new();
		let mut pending = Vec::new();
		refs_in(schema, &mut pending);
		while let Some(key) = pending.pop() {
			if reached.contains_key(&key) {
				continue;
			}
			if let Some(def) = self.defs.get(&key) {
				refs_in(def, &mut pending);
				reached.insert(key, def.clone());
			}
		}
		reached
	}

	/// A standalone draft-07 schema of one envelope kind.
	pub fn kind_schema(&self, name: &str) -> Option<Json> {
		let kind = self.kinds.get(name)?;
		let mut schema = kind.schema.clone();
		let object = schema.as_object_mut()?;
		let mut document = serde_json::Map::new();
		document.insert("$schema".into(), schema::DRAFT_07.into());
		document.insert("title".into(), format!("{} envelope", kind.name).into());
		if !object.contains_key("description") {
			document.insert("description".into(), kind.description.clone().into());
		}
		document.extend(std::mem::take(object));
		let defs = self.defs_for(&kind.schema);
		if !defs.is_empty() {
			document.insert("$defs".into(), json!(defs));
		}
		Some(Json::Object(document))
	}

	/// A standalone draft-07 schema of every message of one topic, discriminated by `name`.
	pub fn topic_schema(&self, topic: &str) -> Option<Json> {
		let names = self.topics.get(topic)?;
		let mut defs = serde_json::Map::new();
		let mut branches = Vec::new();
		for name in names {
			let kind = &self.kinds[name];
			let key = format!("envelope.{name}");
			defs.insert(key.clone(), kind.schema.clone());
			for (def, schema) in self.defs_for(&kind.schema) {
				defs.insert(def, schema);
			}
			branches.push(json!({ "$ref": format!("#/$defs/{key}") }));
		}
		Some(json!({
			"$schema": schema::DRAFT_07,
			"title": format!("Messages of topic {topic}"),
			"description": format!(
				"Every envelope the node ships to {topic}, one of: {}. Discriminated by `name`.",
				names.iter().cloned().collect::<Vec<_>>().join(", ")),
			"type": "object",
			"required": ["name"],
			"properties": {"name": {"enum": names.iter().collect::<Vec<_>>()}},
			"oneOf": branches,
			"$defs": defs,
		}))
	}
}

fn refs_in(schema: &Json, out: &mut Vec<String>) {
	match schema {
		Json::Object(object) => {
			for (key, value) in object {
				if key == "$ref" {
					if let Some(target) = value.as_str().and_then(|t| t.strip_prefix("#/$defs/")) {
						out.push(target.to_string());
					}
				} else {
					refs_in(value, out);
				}
			}
		}
		Json::Array(items) => items.iter().for_each(|item| refs_in(item, out)),
		_ => {}
	}
}

/// The block every example envelope is about.
fn example_context(spec_version: u32) -> BlockContext {
	BlockContext {
		chain: format!("0x{}", "11".repeat(32)),
		number: 42,
		hash: format!("0x{}", "22".repeat(32)),
		parent_hash: format!("0x{}", "21".repeat(32)),
		spec_version,
		timestamp: Some(1_700_000_000_000),
		finalized: true,
	}
}

/// An example `data` of an event: a random value (fixed seed per event) written by the sink's decoder and writer.
fn example_data(
	types: &RuntimeTypes,
	decoder: &EventDecoder,
	sampler: &Sampler<'_>,
	pallet_index: u8,
	variant: &scale_info::Variant<PortableForm>,
	pallet: &str,
) -> Option<String> {
	let seed = pallet
		.bytes()
		.chain(variant.name.bytes())
		.fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3));
	let mut rng = Rng::new(seed);
	let mut fields = Vec::new();
	sampler.fields(&variant.fields, &mut rng, &mut fields).ok()?;
	let events = sample::system_events(sampler, types, pallet_index, variant.index, &fields, &mut rng).ok()?;
	let decoded = decoder.decode_events(&events);
	Some(decoded.events.first()?.data.clone())
}

/// JSON text the sink wrote (always UTF-8).
fn text(bytes: Vec<u8>) -> String {
	String::from_utf8(bytes).unwrap_or_default()
}

/// How a key is made, in words.
pub fn key_in_words(key: &PartitionKey, pallet: &str) -> String {
	match key {
		PartitionKey::Pointer(pointer) => format!(
			"the value at JSON pointer `{pointer}` in `data` (a string as it is, any other JSON value as compact JSON \
			 text); the pallet name `{pallet}` when it is absent or null"
		),
		PartitionKey::Pallet(pallet) => format!("the pallet name `{pallet}`: the pallet's events stay in order"),
		PartitionKey::Chain => "the chain's genesis hash (`meta.chain`)".into(),
	}
}

/// The JSON shape of a type, in a few words, following its schema.
pub fn shape_in_words(schemas: &TypeSchemas<'_>, type_id: u32) -> String {
	let types = schemas.registry();
	let Some(ty) = types.resolve(type_id) else { return "?".into() };
	use crate::envelope::json::Shape;
	match schemas.shapes().of(type_id) {
		Shape::ByteSequence => return "`0x` hex string (bytes)".into(),
		Shape::ByteArray(length) => return format!("`0x` hex string ({length} bytes)"),
		Shape::Option => {
			let inner = match &ty.type_def {
				TypeDef::Variant(variant) => variant
					.variants
					.iter()
					.find_map(|variant| variant.fields.first())
					.map(|field| shape_in_words(schemas, field.ty.id))
					.unwrap_or_default(),
				_ => String::new(),
			};
			return format!("`null` or {inner}");
		}
		Shape::Plain => {}
	}
	use crate::envelope::json::{fields_form, FieldsForm, FieldsOf};
	use scale_info::TypeDefPrimitive as P;
	match &ty.type_def {
		TypeDef::Primitive(P::Bool) => "boolean".into(),
		TypeDef::Primitive(P::Char | P::Str) => "string".into(),
		TypeDef::Primitive(P::U8 | P::U16 | P::U32 | P::I8 | P::I16 | P::I32) => "number".into(),
		TypeDef::Primitive(P::U64 | P::U128 | P::I64 | P::I128) => {
			"number, or decimal string past 2^53-1 in magnitude".into()
		}
		TypeDef::Primitive(P::U256 | P::I256) => "decimal string".into(),
		TypeDef::Compact(compact) => shape_in_words(schemas, compact.type_param.id),
		TypeDef::BitSequence(_) => "array of booleans".into(),
		TypeDef::Sequence(sequence) => format!("array of {}", shape_in_words(schemas, sequence.type_param.id)),
		TypeDef::Array(array) => {
			format!("array of {} × {}", array.len, shape_in_words(schemas, array.type_param.id))
		}
		TypeDef::Tuple(tuple) if tuple.fields.is_empty() => "`null`".into(),
		TypeDef::Tuple(tuple) => format!("array of {}", tuple.fields.len()),
		TypeDef::Composite(composite) => {
			let unnamed = composite.fields.iter().any(|field| field.name.is_none());
			match fields_form(FieldsOf::Struct, composite.fields.len(), unnamed) {
				FieldsForm::Transparent => shape_in_words(schemas, composite.fields[0].ty.id),
				FieldsForm::Null => "`null`".into(),
				FieldsForm::Array => format!("array of {}", composite.fields.len()),
				_ => {
					let names: Vec<&str> = composite.fields.iter().filter_map(|f| f.name.as_deref()).collect();
					format!("object {{{}}}", names.join(", "))
				}
			}
		}
		TypeDef::Variant(variant) => {
			let names: Vec<String> = variant
				.variants
				.iter()
				.take(6)
				.map(|variant| {
					if variant.fields.is_empty() {
						format!("\"{}\"", variant.name)
					} else {
						format!("{{\"{}\": …}}", variant.name)
					}
				})
				.collect();
			let more = if variant.variants.len() > 6 {
				format!(", … ({} variants)", variant.variants.len())
			} else {
				String::new()
			};
			format!("one of {}{more}", names.join(", "))
		}
	}
}

/// `domain` or `infrastructure`, as the envelope writes it.
pub fn type_str(event_type: EventType) -> &'static str {
	event_type.as_str()
}

/// Runtime metadata as a file may hold it, made ready for [`Contract::build`]: hex text (`0x…`, surrounding
/// whitespace ignored) or bytes; a `RuntimeMetadataPrefixed`, the SCALE `OpaqueMetadata` around one (what
/// `state_getMetadata` returns), or the `Option<OpaqueMetadata>` the `Metadata_metadata_at_version` runtime API
/// returns (what `state_call` of it gives).
pub fn normalize_metadata(raw: &[u8]) -> Result<Vec<u8>, String> {
	use codec::Decode;
	let text = std::str::from_utf8(raw).ok().map(str::trim);
	let bytes = match text.and_then(|text| text.strip_prefix("0x")) {
		Some(hex_text) => {
			hex::decode(hex_text).map_err(|e| format!("the metadata starts with 0x but is not hex: {e}"))?
		}
		None => raw.to_vec(),
	};
	const MAGIC: [u8; 4] = *b"meta";
	if bytes.starts_with(&MAGIC) {
		return Ok(bytes);
	}
	if let Ok(inner) = Vec::<u8>::decode(&mut &bytes[..]) {
		if inner.starts_with(&MAGIC) {
			return Ok(inner);
		}
	}
	if let Ok(Some(inner)) = Option::<Vec<u8>>::decode(&mut &bytes[..]) {
		if inner.starts_with(&MAGIC) {
			return Ok(inner);
		}
	}
	Err(format!(
		"not runtime metadata: expected a SCALE RuntimeMetadataPrefixed (starting with 0x6d657461, \"meta\"), \
		 as bytes or 0x hex, possibly inside an OpaqueMetadata or Option<OpaqueMetadata>; got {} bytes starting {}",
		bytes.len(),
		crate::envelope::json::hex0x(&bytes[..bytes.len().min(8)])
	))
}
