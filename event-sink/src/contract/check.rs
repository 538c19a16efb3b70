//! The contracts' property check, shared by the tests (the library has no JSON Schema validator; the caller
//! passes one): for every event the runtime declares, random values of its fields are encoded into a
//! `System::Events` value, decoded and written by the sink's real decoder and JSON writer ([`EventDecoder`]),
//! wrapped by the real envelope writer, and must validate against the contract's schema of its kind; then
//! mutations the schema must reject (a number turned into a string, an unknown variant, a missing or extra
//! field, a wrong hex length, a value out of its width, …) must be rejected.

use scale_info::{form::PortableForm, PortableRegistry, TypeDef, TypeDefPrimitive};
use serde_json::Value as Json;

use super::{
	sample::{self, Rng, Sampler},
	Contract, Routing, RuntimeLabel,
};
use crate::{
	block::{decode::EventDecoder, metadata},
	envelope::{
		json::{fields_form, FieldsForm, FieldsOf, Shape, Shapes, MAX_SAFE_INTEGER},
		BlockContext, Envelope,
	},
	mapping::Mappings,
};

/// A compiled schema: `Ok` when `value` is valid, else why not.
pub trait Validate {
	fn validate(&self, value: &Json) -> Result<(), String>;
}

/// What a run checked.
#[derive(Clone, Debug, Default)]
pub struct Report {
	/// Events of the runtime checked.
	pub events: usize,
	/// Values written and validated.
	pub values: usize,
	/// Mutated values, all rejected.
	pub mutations: usize,
	/// `System::Events` values (generated, then damaged) decoded by both the compiled decoder and scale-decode,
	/// which must agree on each (events, or the same error).
	pub compared: usize,
	/// Events without any value (a field of an uninhabited type), skipped.
	pub uninhabited: Vec<String>,
	/// Failures: an event, the JSON and why.
	pub failures: Vec<String>,
}

/// Checks every event of the runtime whose metadata is `metadata`: `values_per_event` random values each.
/// `compile` compiles a standalone draft-07 schema document.
pub fn check_runtime<V: Validate>(
	metadata_bytes: &[u8],
	values_per_event: usize,
	seed: u64,
	compile: impl Fn(&Json) -> Result<V, String>,
) -> Result<Report, String> {
	let types = metadata::read(metadata_bytes).map_err(|e| e.to_string())?;
	let decoder = EventDecoder::new(metadata_bytes).map_err(|e| e.to_string())?;
	// Every event shipped, under its PalletVariant name: one kind per event.
	let routing =
		Routing { mappings: Mappings::default(), topic_prefix: "herald".into(), partitions: 3, brokers: None };
	let contract = Contract::build(metadata_bytes, RuntimeLabel::default(), routing)?;
	let registry = &types.registry;
	let shapes = Shapes::new(registry);
	let sampler = Sampler::new(registry);
	let mut rng = Rng::new(seed);
	let mut report = Report::default();
	let context = BlockContext {
		chain: format!("0x{}", "11".repeat(32)),
		number: 7,
		hash: format!("0x{}", "ab".repeat(32)),
		parent_hash: format!("0x{}", "aa".repeat(32)),
		spec_version: 1,
		timestamp: None,
		finalized: false,
	};
	for event in &contract.events {
		let label = format!("{}.{}", event.pallet, event.variant);
		let variant = variant_of(&types, event.pallet_index, event.variant_index)
			.ok_or_else(|| format!("{label}: not in the metadata"))?;
		if !variant.fields.iter().all(|field| sampler.inhabited(field.ty.id)) {
			report.uninhabited.push(label);
			continue;
		}
		let schema = contract.kind_schema(&event.mapping.name).ok_or_else(|| format!("{label}: no schema"))?;
		assert_no_permissive(&schema, &label)?;
		let validator = compile(&schema).map_err(|e| format!("{label}: the schema does not compile: {e}"))?;
		report.events += 1;
		for _ in 0..values_per_event {
			let mut fields = Vec::new();
			sampler.fields(&variant.fields, &mut rng, &mut fields).map_err(|e| format!("{label}: {e}"))?;
			let events =
				sample::system_events(&sampler, &types, event.pallet_index, event.variant_index, &fields, &mut rng)
					.map_err(|e| format!("{label}: {e}"))?;
			let decoded = decoder.decode_events(&events);
			// The compiled decoder writes what scale-decode writes, and fails where it fails, with its error.
			for (what, bytes) in damaged(&events, &mut rng) {
				report.compared += 1;
				let (compiled, interpreted) =
					(decoder.decode_events(&bytes), decoder.decode_events_interpreted(&bytes));
				if compiled != interpreted {
					report.failures.push(format!(
						"{label}: the compiled decoder and scale-decode disagree on {what}:\n  compiled: \
						 {compiled:?}\n  scale-decode: {interpreted:?}"
					));
				}
			}
			let Some(record) = decoded.events.first().filter(|_| decoded.undecodable.is_none()) else {
				report
					.failures
					.push(format!("{label}: the sink did not decode a generated value: {:?}", decoded.undecodable));
				continue;
			};
			let envelope = Envelope::event(&context, record, &event.mapping);
			let json: Json = serde_json::from_slice(&envelope.to_json()).map_err(|e| format!("{label}: {e}"))?;
			report.values += 1;
			if let Err(why) = validator.validate(&json) {
				report.failures.push(format!("{label}: a written value fails its schema: {why}\n  {json}"));
				continue;
			}
			// Mutations of data, each must be rejected.
			let data: Json = json["data"].clone();
			let mut mutations = Vec::new();
			mutate_fields(registry, &shapes, FieldsOf::Event, &variant.fields, &data, &mut Vec::new(), &mut mutations);
			for (pointer, mutated, what) in mutations.into_iter().take(12) {
				let mut envelope = json.clone();
				envelope["data"] = apply(&data, &pointer, mutated);
				report.mutations += 1;
				if validator.validate(&envelope).is_ok() {
					report.failures.push(format!(
						"{label}: a mutation is accepted ({what} at data{pointer}): {}",
						envelope["data"]
					));
				}
			}
		}
	}
	Ok(report)
}

/// A `System::Events` value as generated, and damaged: cut short, and with a byte changed (after the count).
fn damaged(events: &[u8], rng: &mut Rng) -> Vec<(String, Vec<u8>)> {
	let mut values = vec![("the generated value".to_string(), events.to_vec())];
	if events.len() > 2 {
		let cut = 1 + rng.below(events.len() as u64 - 1) as usize;
		values.push((format!("the value cut at byte {cut}"), events[..cut].to_vec()));
		let at = 1 + rng.below(events.len() as u64 - 1) as usize;
		let mut changed = events.to_vec();
		changed[at] ^= 1 << rng.below(8);
		values.push((format!("the value with byte {at} changed"), changed));
	}
	values
}

fn variant_of(
	types: &metadata::RuntimeTypes,
	pallet_index: u8,
	variant_index: u8,
) -> Option<&scale_info::Variant<PortableForm>> {
	let pallet = types.pallets.iter().find(|p| p.index == pallet_index)?;
	match &types.registry.resolve(pallet.event_ty?)?.type_def {
		TypeDef::Variant(variant) => variant.variants.iter().find(|v| v.index == variant_index),
		_ => None,
	}
}

/// Fails on a `{}` or `true` schema anywhere (the "no permissive schema for a described type").
pub fn assert_no_permissive(schema: &Json, label: &str) -> Result<(), String> {
	fn walk(schema: &Json, path: &str, label: &str) -> Result<(), String> {
		match schema {
			Json::Bool(true) => Err(format!("{label}: a `true` schema at {path}")),
			Json::Object(object) => {
				if object.is_empty() && !path.ends_with("/not") {
					return Err(format!("{label}: an empty schema at {path}"));
				}
				let only_annotations = object.keys().all(|k| matches!(k.as_str(), "description" | "title"));
				if only_annotations && !object.is_empty() {
					return Err(format!("{label}: a schema with only annotations at {path}"));
				}
				for (key, value) in object {
					match key.as_str() {
						"properties" | "$defs" | "definitions" => {
							if let Json::Object(children) = value {
								for (name, child) in children {
									walk(child, &format!("{path}/{key}/{name}"), label)?;
								}
							}
						}
						"items" | "anyOf" | "oneOf" | "allOf" => match value {
							Json::Array(children) => {
								for (i, child) in children.iter().enumerate() {
									walk(child, &format!("{path}/{key}/{i}"), label)?;
								}
							}
							child => walk(child, &format!("{path}/{key}"), label)?,
						},
						"not" => {}
						_ => {}
					}
				}
				Ok(())
			}
			_ => Ok(()),
		}
	}
	walk(schema, "#", label)
}

/// Collects `(pointer, mutated value, what)` for mutations of `value` (a value of type `type_id` as written)
/// that its schema must reject, at every level; `path` is where `value` is in `data`.
fn mutate(
	registry: &PortableRegistry,
	shapes: &Shapes,
	type_id: u32,
	value: &Json,
	path: &mut Vec<String>,
	out: &mut Vec<(String, Json, String)>,
) {
	let here = |path: &Vec<String>| path.iter().map(|p| format!("/{p}")).collect::<String>();
	let mut push =
		|path: &Vec<String>, replacement: Json, what: &str| out.push((here(path), replacement, what.to_string()));
	match shapes.of(type_id) {
		Shape::ByteSequence | Shape::ByteArray(_) => {
			if let Some(text) = value.as_str() {
				push(path, Json::from(format!("{text}0")), "an odd hex length");
				push(path, Json::from(text.replacen("0x", "0X", 1)), "an uppercase 0X");
				if matches!(shapes.of(type_id), Shape::ByteArray(_)) {
					push(path, Json::from(format!("{text}00")), "a byte too many");
				}
			}
			return;
		}
		Shape::Option => {
			if let (Some(TypeDef::Variant(variant)), false) =
				(registry.resolve(type_id).map(|t| &t.type_def), value.is_null())
			{
				if let Some(field) = variant.variants.iter().find_map(|v| v.fields.first()) {
					mutate(registry, shapes, field.ty.id, value, path, out);
				}
			}
			return;
		}
		Shape::Plain => {}
	}
	let Some(ty) = registry.resolve(type_id) else { return };
	match &ty.type_def {
		TypeDef::Primitive(primitive) => match (primitive, value) {
			(TypeDefPrimitive::Bool, Json::Bool(b)) => push(path, Json::from(b.to_string()), "a bool as a string"),
			(_, Json::Number(n)) => {
				push(path, Json::from(n.to_string()), "a small number as a string");
				let over = match primitive {
					TypeDefPrimitive::U8 => Some(256i64),
					TypeDefPrimitive::U16 => Some(65536),
					TypeDefPrimitive::U32 => Some(1 << 32),
					TypeDefPrimitive::I8 => Some(128),
					TypeDefPrimitive::I16 => Some(32768),
					TypeDefPrimitive::I32 => Some(1 << 31),
					_ => None,
				};
				if let Some(over) = over {
					push(path, Json::from(over), "a number past the width");
				}
				if matches!(
					primitive,
					TypeDefPrimitive::U8
						| TypeDefPrimitive::U16
						| TypeDefPrimitive::U32
						| TypeDefPrimitive::U64
						| TypeDefPrimitive::U128
				) {
					push(path, Json::from(-1), "a negative unsigned");
				}
			}
			(TypeDefPrimitive::Str | TypeDefPrimitive::Char, _) => {}
			(_, Json::String(text)) if text.chars().all(|c| c.is_ascii_digit() || c == '-') && !text.is_empty() => {
				// A big integer as a decimal string: as a JSON number it is over 2^53-1, never written so.
				if let Ok(n) = text.parse::<i128>() {
					if n.unsigned_abs() > MAX_SAFE_INTEGER && n.unsigned_abs() < u64::MAX as u128 {
						let number = if n < 0 { Json::from(n as i64) } else { Json::from(n as u64) };
						push(path, number, "a big integer as a JSON number");
					}
				}
				push(path, Json::from(format!("0{text}")), "a leading zero");
			}
			_ => {}
		},
		TypeDef::Compact(compact) => mutate(registry, shapes, compact.type_param.id, value, path, out),
		TypeDef::Composite(composite) => {
			mutate_fields(registry, shapes, FieldsOf::Struct, &composite.fields, value, path, out)
		}
		TypeDef::Variant(variant) => match value {
			Json::String(name) => push(path, Json::from(format!("{name}Unknown")), "an unknown variant"),
			Json::Object(object) if object.len() == 1 => {
				let (name, inner) = object.iter().next().expect("one");
				let mut renamed = serde_json::Map::new();
				renamed.insert(format!("{name}Unknown"), inner.clone());
				push(path, Json::Object(renamed), "an unknown variant");
				if let Some(v) = variant.variants.iter().find(|v| &v.name == name) {
					path.push(name.replace('~', "~0").replace('/', "~1"));
					let mut inner_mutations = Vec::new();
					mutate_fields(registry, shapes, FieldsOf::Variant, &v.fields, inner, path, &mut inner_mutations);
					path.pop();
					for (pointer, replacement, what) in inner_mutations {
						// Re-wrap: the replacement is of the inner value at `pointer`, which is below this one.
						out.push((pointer, replacement, what));
					}
				}
			}
			_ => {}
		},
		TypeDef::Sequence(sequence) => {
			if let Json::Array(items) = value {
				if let Some(first) = items.first() {
					path.push("0".into());
					mutate(registry, shapes, sequence.type_param.id, first, path, out);
					path.pop();
				}
			}
		}
		TypeDef::Array(array) => {
			if let Json::Array(items) = value {
				let mut shorter = items.clone();
				if shorter.pop().is_some() {
					push(path, Json::Array(shorter), "an item too few");
				}
				if let Some(first) = items.first() {
					path.push("0".into());
					mutate(registry, shapes, array.type_param.id, first, path, out);
					path.pop();
				}
			}
		}
		TypeDef::Tuple(tuple) => {
			if let Json::Array(items) = value {
				let mut longer = items.clone();
				longer.push(Json::Null);
				push(path, Json::Array(longer), "an item too many");
				for (position, (field, item)) in tuple.fields.iter().zip(items).enumerate() {
					path.push(position.to_string());
					mutate(registry, shapes, field.id, item, path, out);
					path.pop();
				}
			}
		}
		TypeDef::BitSequence(_) => {
			if let Json::Array(items) = value {
				if !items.is_empty() {
					push(path, Json::Array(vec![Json::from(1)]), "a bit as a number");
				}
			}
		}
	}
}

fn mutate_fields(
	registry: &PortableRegistry,
	shapes: &Shapes,
	of: FieldsOf,
	fields: &[scale_info::Field<PortableForm>],
	value: &Json,
	path: &mut Vec<String>,
	out: &mut Vec<(String, Json, String)>,
) {
	let here = path.iter().map(|p| format!("/{p}")).collect::<String>();
	let unnamed = fields.iter().any(|field| field.name.is_none());
	match (fields_form(of, fields.len(), unnamed), value) {
		(FieldsForm::Transparent, _) => mutate(registry, shapes, fields[0].ty.id, value, path, out),
		(FieldsForm::Object, Json::Object(object)) => {
			let mut missing = object.clone();
			if let Some(first) = fields.first().and_then(|f| f.name.as_ref()) {
				missing.remove(first);
				out.push((here.clone(), Json::Object(missing), format!("field {first} missing")));
			}
			let mut extra = object.clone();
			extra.insert("unexpected".into(), Json::from(1));
			out.push((here.clone(), Json::Object(extra), "an extra field".into()));
			for field in fields {
				let name = field.name.clone().unwrap_or_default();
				if let Some(item) = object.get(&name) {
					path.push(name.replace('~', "~0").replace('/', "~1"));
					mutate(registry, shapes, field.ty.id, item, path, out);
					path.pop();
				}
			}
		}
		(FieldsForm::Array, Json::Array(items)) => {
			let mut longer = items.clone();
			longer.push(Json::Null);
			out.push((here.clone(), Json::Array(longer), "an item too many".into()));
			for (position, (field, item)) in fields.iter().zip(items).enumerate() {
				path.push(position.to_string());
				mutate(registry, shapes, field.ty.id, item, path, out);
				path.pop();
			}
		}
		(FieldsForm::EmptyObject, _) => {
			out.push((here, serde_json::json!({"unexpected": 1}), "a field in an event without fields".into()))
		}
		_ => {}
	}
}

/// Applies a mutation `(pointer, replacement)` to `data`.
pub fn apply(data: &Json, pointer: &str, replacement: Json) -> Json {
	let mut data = data.clone();
	if pointer.is_empty() {
		return replacement;
	}
	if let Some(slot) = data.pointer_mut(pointer) {
		*slot = replacement;
	}
	data
}
