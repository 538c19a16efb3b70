//! JSON Schemas (draft-07) of the values the sink's JSON writer ([`crate::envelope::json`]) produces for the
//! types of one runtime's registry.
//!
//! The schema follows the writer's decisions, not a second reading of the conventions: the byte and `Option`
//! shapes come from the same [`Shapes`] table, the form of every list of fields (struct, variant, event) from the
//! same [`fields_form`], the switch from numbers to decimal strings from the same [`MAX_SAFE_INTEGER`]. The
//! property tests (event-sink/tests/runtime/contracts.rs) write random values of every event type with the real
//! writer and validate them against these schemas.
//!
//! Exactness: every integer width has its exact range, in both of its JSON forms (a number up to 2^53−1 in
//! magnitude, above it a decimal string whose pattern admits exactly the values past 2^53−1 up to the width's
//! bound); byte arrays have their exact hex length; enums admit only their variants; objects admit only their
//! fields, all required. No type the metadata describes gets a permissive `{}`/`true` schema; an uninhabited
//! enum (no variants) gets `false`-equivalent `{"not": {}}`.
//!
//! Named types (structs and enums with a path) are `$defs` entries referenced by `$ref`, so recursive types
//! (XCM's `Xcm` ⊃ `Instruction` ⊃ `Xcm`) are finite; the rest (primitives, sequences, arrays, tuples, `Option`)
//! is inlined.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use scale_info::{form::PortableForm, Field, PortableRegistry, TypeDef, TypeDefPrimitive};
use serde_json::{json, Map, Value as Json};

use crate::envelope::json::{fields_form, tuple_is_null, FieldsForm, FieldsOf, Shape, Shapes, MAX_SAFE_INTEGER};

/// The draft the schemas declare (the one AsyncAPI's parser and Confluent's tools check).
pub const DRAFT_07: &str = "http://json-schema.org/draft-07/schema#";

/// Builds the schemas of one registry's types, sharing their `$defs`.
pub struct TypeSchemas<'a> {
	types: &'a PortableRegistry,
	shapes: Shapes,
	/// `$defs` key of each named type met so far.
	keys: HashMap<u32, String>,
	/// Keys taken, to keep them unique.
	taken: BTreeSet<String>,
	/// The `$defs` entries built so far.
	defs: BTreeMap<String, Json>,
	/// Where `$ref`s point: `#/$defs/` in a standalone schema.
	ref_prefix: String,
}

impl<'a> TypeSchemas<'a> {
	pub fn new(types: &'a PortableRegistry) -> Self {
		Self::with_ref_prefix(types, "#/$defs/")
	}

	/// References point at `prefix` + key (e.g. `#/components/schemas/` in an AsyncAPI document).
	pub fn with_ref_prefix(types: &'a PortableRegistry, prefix: &str) -> Self {
		TypeSchemas {
			types,
			shapes: Shapes::new(types),
			keys: HashMap::new(),
			taken: BTreeSet::new(),
			defs: BTreeMap::new(),
			ref_prefix: prefix.into(),
		}
	}

	pub fn registry(&self) -> &'a PortableRegistry {
		self.types
	}

	pub fn shapes(&self) -> &Shapes {
		&self.shapes
	}

	/// Every `$defs` entry built so far.
	pub fn defs(&self) -> &BTreeMap<String, Json> {
		&self.defs
	}

	/// The `$defs` entries `schema` refers to, directly or through other entries.
	pub fn defs_reachable_from(&self, schema: &Json) -> BTreeMap<String, Json> {
		let mut reached = BTreeMap::new();
		let mut pending = Vec::new();
		collect_refs(schema, &self.ref_prefix, &mut pending);
		while let Some(key) = pending.pop() {
			if reached.contains_key(&key) {
				continue;
			}
			if let Some(def) = self.defs.get(&key) {
				collect_refs(def, &self.ref_prefix, &mut pending);
				reached.insert(key, def.clone());
			}
		}
		reached
	}

	/// The schema of the data of an event variant with these fields (`data` of its envelope).
	pub fn event_data(&mut self, fields: &[Field<PortableForm>]) -> Json {
		self.fields(FieldsOf::Event, fields)
	}

	/// The schema of a value of type `type_id` as the writer writes it.
	pub fn of(&mut self, type_id: u32) -> Json {
		match self.shapes.of(type_id) {
			Shape::ByteSequence => {
				return json!({"type": "string", "pattern": "^0x([0-9a-f]{2})*$",
					"description": "bytes: 0x and lowercase hex"})
			}
			Shape::ByteArray(length) => {
				return json!({"type": "string", "pattern": format!("^0x[0-9a-f]{{{}}}$", length * 2),
					"description": format!("{length} bytes: 0x and lowercase hex")})
			}
			Shape::Option | Shape::Plain => {}
		}
		let Some(ty) = self.types.resolve(type_id) else {
			// The writer fails on an unknown type id, so no value exists.
			return json!({"not": {}, "description": format!("type #{type_id} is not in the registry")});
		};
		if self.shapes.of(type_id) == Shape::Option {
			// `Option<T>`: a variant without fields is null, one with fields is its first field (writer: `decode_item`).
			let TypeDef::Variant(variant) = &ty.type_def else { unreachable!("Shapes marks only enums as Option") };
			let branches: Vec<Json> = variant
				.variants
				.iter()
				.map(|variant| match variant.fields.first() {
					None => json!({"type": "null"}),
					Some(field) => self.of(field.ty.id),
				})
				.collect();
			return json!({ "anyOf": branches });
		}
		match &ty.type_def {
			TypeDef::Composite(_) | TypeDef::Variant(_) if !ty.path.segments.is_empty() => self.named(type_id),
			_ => self.inline(type_id),
		}
	}

	/// A `$ref` to the named type's `$defs` entry, built on first use.
	fn named(&mut self, type_id: u32) -> Json {
		if let Some(key) = self.keys.get(&type_id) {
			return json!({ "$ref": format!("{}{}", self.ref_prefix, key) });
		}
		let ty = self.types.resolve(type_id).expect("resolved by the caller");
		let base = ty.path.segments.join(".");
		let key = if self.taken.contains(&base) { format!("{base}.{type_id}") } else { base };
		self.taken.insert(key.clone());
		// Registered before its body is built: a recursive reference finds it.
		self.keys.insert(type_id, key.clone());
		let mut body = self.inline(type_id);
		if let Some(object) = body.as_object_mut() {
			let docs = docs_text(&ty.docs);
			if !docs.is_empty() {
				object.insert("description".into(), docs.into());
			}
			object.insert("title".into(), rust_type_name(self.types, type_id).into());
		}
		self.defs.insert(key.clone(), body);
		json!({ "$ref": format!("{}{}", self.ref_prefix, key) })
	}

	/// The type's schema itself (not a reference).
	fn inline(&mut self, type_id: u32) -> Json {
		let ty = self.types.resolve(type_id).expect("resolved by the caller");
		match &ty.type_def {
			TypeDef::Composite(composite) => self.fields(FieldsOf::Struct, &composite.fields),
			TypeDef::Variant(variant) => {
				let mut branches = Vec::new();
				let mut names = Vec::new();
				let documented = variant.variants.iter().any(|variant| !variant.docs.is_empty());
				for variant in &variant.variants {
					let form = fields_form(FieldsOf::Variant, variant.fields.len(), has_unnamed(&variant.fields));
					let docs = docs_text(&variant.docs);
					if form == FieldsForm::VariantName {
						if documented {
							let mut branch = json!({ "const": variant.name });
							if !docs.is_empty() {
								branch["description"] = docs.into();
							}
							branches.push(branch);
						} else {
							names.push(Json::from(variant.name.clone()));
						}
						continue;
					}
					let inner = self.fields(FieldsOf::Variant, &variant.fields);
					let mut branch = json!({
						"type": "object",
						"properties": { variant.name.clone(): inner },
						"required": [variant.name],
						"additionalProperties": false,
					});
					if !docs.is_empty() {
						branch["description"] = docs.into();
					}
					branches.push(branch);
				}
				if !names.is_empty() {
					branches.insert(0, json!({ "type": "string", "enum": names }));
				}
				match branches.len() {
					0 => json!({"not": {}, "description": "an enum without variants: it has no value"}),
					1 => branches.pop().expect("one branch"),
					_ => json!({ "oneOf": branches }),
				}
			}
			TypeDef::Sequence(sequence) => json!({"type": "array", "items": self.of(sequence.type_param.id)}),
			TypeDef::Array(array) => json!({
				"type": "array",
				"items": self.of(array.type_param.id),
				"minItems": array.len,
				"maxItems": array.len,
			}),
			TypeDef::Tuple(tuple) => {
				if tuple_is_null(tuple.fields.len()) {
					json!({"type": "null"})
				} else {
					let items: Vec<Json> = tuple.fields.iter().map(|field| self.of(field.id)).collect();
					fixed_array(items)
				}
			}
			TypeDef::Primitive(primitive) => primitive_schema(primitive),
			// A compact value is written as the value it encodes.
			TypeDef::Compact(compact) => self.of(compact.type_param.id),
			TypeDef::BitSequence(_) => json!({"type": "array", "items": {"type": "boolean"},
				"description": "a bit sequence: one boolean per bit"}),
		}
	}

	/// The schema of a list of fields, by the writer's [`fields_form`].
	fn fields(&mut self, of: FieldsOf, fields: &[Field<PortableForm>]) -> Json {
		match fields_form(of, fields.len(), has_unnamed(fields)) {
			FieldsForm::Null => json!({"type": "null"}),
			FieldsForm::EmptyObject => json!({"type": "object", "additionalProperties": false}),
			// Only an enum's own schema writes a variant's name; here it has no fields to describe.
			FieldsForm::VariantName => json!({"type": "null"}),
			FieldsForm::Transparent => self.field(&fields[0]),
			FieldsForm::Array => {
				let items: Vec<Json> = fields.iter().map(|field| self.field(field)).collect();
				fixed_array(items)
			}
			FieldsForm::Object => {
				let mut properties = Map::new();
				for field in fields {
					properties.insert(field.name.clone().unwrap_or_default(), self.field(field));
				}
				let required: Vec<Json> =
					fields.iter().map(|field| field.name.clone().unwrap_or_default().into()).collect();
				json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
			}
		}
	}

	/// A field's schema, with its docs as `description` (wrapping a `$ref`, which draft-07 would ignore siblings of).
	fn field(&mut self, field: &Field<PortableForm>) -> Json {
		let schema = self.of(field.ty.id);
		let docs = docs_text(&field.docs);
		if docs.is_empty() {
			return schema;
		}
		if schema.get("$ref").is_some() {
			json!({ "allOf": [schema], "description": docs })
		} else {
			let mut schema = schema;
			schema["description"] = docs.into();
			schema
		}
	}
}

fn has_unnamed(fields: &[Field<PortableForm>]) -> bool {
	fields.iter().any(|field| field.name.is_none())
}

/// `[a, b]` of exactly these items (draft-07's tuple form of `items`).
fn fixed_array(items: Vec<Json>) -> Json {
	let count = items.len();
	json!({"type": "array", "items": items, "additionalItems": false, "minItems": count, "maxItems": count})
}

fn collect_refs(schema: &Json, prefix: &str, out: &mut Vec<String>) {
	match schema {
		Json::Object(object) => {
			for (key, value) in object {
				if key == "$ref" {
					if let Some(target) = value.as_str().and_then(|target| target.strip_prefix(prefix)) {
						out.push(target.to_string());
					}
				} else {
					collect_refs(value, prefix, out);
				}
			}
		}
		Json::Array(items) => items.iter().for_each(|item| collect_refs(item, prefix, out)),
		_ => {}
	}
}

/// A type's doc comment as one text: lines trimmed of the one leading space rustdoc keeps.
pub fn docs_text(docs: &[String]) -> String {
	let lines: Vec<&str> = docs.iter().map(|line| line.strip_prefix(' ').unwrap_or(line).trim_end()).collect();
	lines.join("\n").trim().to_string()
}

/// A Rust-like name of a type: its path with generic parameters (`Option<u32>`, `Vec<u8>`, `(u32, bool)`).
pub fn rust_type_name(types: &PortableRegistry, type_id: u32) -> String {
	rust_type_name_depth(types, type_id, 0)
}

fn rust_type_name_depth(types: &PortableRegistry, type_id: u32, depth: usize) -> String {
	let Some(ty) = types.resolve(type_id) else { return format!("#{type_id}") };
	if depth > 6 {
		return ty.path.segments.last().cloned().unwrap_or_else(|| "…".into());
	}
	let name = |id: u32| rust_type_name_depth(types, id, depth + 1);
	match &ty.type_def {
		TypeDef::Composite(_) | TypeDef::Variant(_) => {
			let base = ty.path.segments.last().cloned().unwrap_or_else(|| "?".into());
			let params: Vec<String> =
				ty.type_params.iter().filter_map(|param| param.ty.as_ref()).map(|param| name(param.id)).collect();
			if params.is_empty() {
				base
			} else {
				format!("{base}<{}>", params.join(", "))
			}
		}
		TypeDef::Sequence(sequence) => format!("Vec<{}>", name(sequence.type_param.id)),
		TypeDef::Array(array) => format!("[{}; {}]", name(array.type_param.id), array.len),
		TypeDef::Tuple(tuple) => {
			let items: Vec<String> = tuple.fields.iter().map(|field| name(field.id)).collect();
			if items.len() == 1 {
				format!("({},)", items[0])
			} else {
				format!("({})", items.join(", "))
			}
		}
		TypeDef::Primitive(primitive) => primitive_name(primitive).into(),
		TypeDef::Compact(compact) => format!("Compact<{}>", name(compact.type_param.id)),
		TypeDef::BitSequence(_) => "BitVec".into(),
	}
}

pub fn primitive_name(primitive: &TypeDefPrimitive) -> &'static str {
	match primitive {
		TypeDefPrimitive::Bool => "bool",
		TypeDefPrimitive::Char => "char",
		TypeDefPrimitive::Str => "str",
		TypeDefPrimitive::U8 => "u8",
		TypeDefPrimitive::U16 => "u16",
		TypeDefPrimitive::U32 => "u32",
		TypeDefPrimitive::U64 => "u64",
		TypeDefPrimitive::U128 => "u128",
		TypeDefPrimitive::U256 => "u256",
		TypeDefPrimitive::I8 => "i8",
		TypeDefPrimitive::I16 => "i16",
		TypeDefPrimitive::I32 => "i32",
		TypeDefPrimitive::I64 => "i64",
		TypeDefPrimitive::I128 => "i128",
		TypeDefPrimitive::I256 => "i256",
	}
}

/// The schema of a primitive as the writer writes it.
fn primitive_schema(primitive: &TypeDefPrimitive) -> Json {
	use TypeDefPrimitive as P;
	match primitive {
		P::Bool => json!({"type": "boolean"}),
		P::Char => json!({"type": "string", "minLength": 1, "maxLength": 1}),
		P::Str => json!({"type": "string"}),
		P::U8 => unsigned_schema(8),
		P::U16 => unsigned_schema(16),
		P::U32 => unsigned_schema(32),
		P::U64 => unsigned_schema(64),
		P::U128 => unsigned_schema(128),
		P::I8 => signed_schema(8),
		P::I16 => signed_schema(16),
		P::I32 => signed_schema(32),
		P::I64 => signed_schema(64),
		P::I128 => signed_schema(128),
		// The writer writes 256-bit integers as decimal strings whatever their size.
		P::U256 => json!({"type": "string", "description": "a 256-bit unsigned integer as a decimal string",
			"pattern": format!("^(?:0|{})$", decimal_range("1", &pow2_minus_1(256)))}),
		P::I256 => json!({"type": "string", "description": "a 256-bit signed integer as a decimal string",
			"pattern": format!("^(?:0|{}|-(?:{}))$", decimal_range("1", &pow2_minus_1(255)), decimal_range("1", &pow2(255)))}),
	}
}

/// `u{bits}`: a number up to 2^53−1; past it (u64, u128) a decimal string.
fn unsigned_schema(bits: u32) -> Json {
	let max = pow2_minus_1(bits);
	if bits <= 52 {
		let max: u64 = max.parse().expect("small");
		return json!({"type": "integer", "minimum": 0, "maximum": max});
	}
	json!({
		"description": format!("u{bits}: a JSON number up to 2^53-1, a decimal string above (up to 2^{bits}-1)"),
		"anyOf": [
			{"type": "integer", "minimum": 0, "maximum": MAX_SAFE_INTEGER as u64},
			{"type": "string", "pattern": format!("^(?:{})$", decimal_range(&(MAX_SAFE_INTEGER + 1).to_string(), &max))},
		],
	})
}

/// `i{bits}`: a number up to 2^53−1 in magnitude; past it (i64, i128) a decimal string.
fn signed_schema(bits: u32) -> Json {
	if bits <= 52 {
		let bound = 1i64 << (bits - 1);
		return json!({"type": "integer", "minimum": -bound, "maximum": bound - 1});
	}
	let first_string = (MAX_SAFE_INTEGER + 1).to_string();
	json!({
		"description": format!("i{bits}: a JSON number up to 2^53-1 in magnitude, a decimal string above"),
		"anyOf": [
			{"type": "integer", "minimum": -(MAX_SAFE_INTEGER as i64), "maximum": MAX_SAFE_INTEGER as u64},
			{"type": "string", "pattern": format!("^(?:{}|-(?:{}))$",
				decimal_range(&first_string, &pow2_minus_1(bits - 1)), decimal_range(&first_string, &pow2(bits - 1)))},
		],
	})
}

/// 2^n in decimal.
pub(crate) fn pow2(n: u32) -> String {
	let mut digits = vec![1u8]; // little-endian decimal digits
	for _ in 0..n {
		let mut carry = 0;
		for digit in digits.iter_mut() {
			let doubled = *digit * 2 + carry;
			*digit = doubled % 10;
			carry = doubled / 10;
		}
		if carry > 0 {
			digits.push(carry);
		}
	}
	digits.iter().rev().map(|digit| (b'0' + digit) as char).collect()
}

/// 2^n − 1 in decimal.
pub(crate) fn pow2_minus_1(n: u32) -> String {
	let mut digits: Vec<u8> = pow2(n).into_bytes();
	// 2^n never ends in 0, so no borrow.
	*digits.last_mut().expect("non-empty") -= 1;
	String::from_utf8(digits).expect("digits")
}

/// A regular expression (no anchors) matching exactly the decimal integers in `[low, high]` written without
/// leading zeros (`1 <= low <= high`, both decimal).
pub(crate) fn decimal_range(low: &str, high: &str) -> String {
	let (low, high) = (low.as_bytes(), high.as_bytes());
	let mut alternatives = Vec::new();
	if low.len() == high.len() {
		alternatives = same_length(low, high);
	} else {
		alternatives.extend(same_length(low, &vec![b'9'; low.len()]));
		let (shortest, longest) = (low.len() + 1, high.len() - 1);
		if shortest <= longest {
			alternatives.push(if shortest == longest {
				format!("[1-9][0-9]{{{}}}", shortest - 1)
			} else {
				format!("[1-9][0-9]{{{},{}}}", shortest - 1, longest - 1)
			});
		}
		let mut first = vec![b'0'; high.len()];
		first[0] = b'1';
		alternatives.extend(same_length(&first, high));
	}
	alternatives.join("|")
}

/// Alternatives matching the digit strings of one length in `[low, high]`.
fn same_length(low: &[u8], high: &[u8]) -> Vec<String> {
	let n = low.len();
	if n == 0 {
		return vec![String::new()];
	}
	let any = |count: usize| if count == 0 { String::new() } else { format!("[0-9]{{{count}}}") };
	let class = |a: u8, b: u8| if a == b { (a as char).to_string() } else { format!("[{}-{}]", a as char, b as char) };
	if low[0] == high[0] {
		return same_length(&low[1..], &high[1..])
			.into_iter()
			.map(|rest| format!("{}{rest}", low[0] as char))
			.collect();
	}
	if low[1..].iter().all(|d| *d == b'0') && high[1..].iter().all(|d| *d == b'9') {
		return vec![format!("{}{}", class(low[0], high[0]), any(n - 1))];
	}
	let mut alternatives: Vec<String> = same_length(&low[1..], &vec![b'9'; n - 1])
		.into_iter()
		.map(|rest| format!("{}{rest}", low[0] as char))
		.collect();
	if low[0] + 1 < high[0] {
		alternatives.push(format!("{}{}", class(low[0] + 1, high[0] - 1), any(n - 1)));
	}
	alternatives.extend(
		same_length(&vec![b'0'; n - 1], &high[1..]).into_iter().map(|rest| format!("{}{rest}", high[0] as char)),
	);
	alternatives
}

#[cfg(test)]
mod tests {
	use super::*;

	fn matches(pattern: &str, text: &str) -> bool {
		// No regex crate in the library: check with a tiny backtracking matcher of this pattern language.
		let anchored = format!("^(?:{pattern})$");
		let validator = SimpleRegex::new(&anchored);
		validator.is_match(text)
	}

	/// Enough of regular expressions for the patterns [`decimal_range`] writes: literals, `[a-b]` classes,
	/// `{n}`/`{n,m}` counts, `|` at the top level.
	struct SimpleRegex(Vec<Vec<(Vec<(u8, u8)>, usize, usize)>>);

	impl SimpleRegex {
		fn new(anchored: &str) -> Self {
			let inner = anchored.trim_start_matches("^(?:").trim_end_matches(")$");
			let alternatives = inner
				.split('|')
				.map(|alternative| {
					let bytes = alternative.as_bytes();
					let mut atoms: Vec<(Vec<(u8, u8)>, usize, usize)> = Vec::new();
					let mut i = 0;
					while i < bytes.len() {
						match bytes[i] {
							b'[' => {
								let end = i + alternative[i..].find(']').unwrap();
								let class = &bytes[i + 1..end];
								atoms.push((vec![(class[0], class[2])], 1, 1));
								i = end + 1;
							}
							b'{' => {
								let end = i + alternative[i..].find('}').unwrap();
								let counts = &alternative[i + 1..end];
								let (min, max) = match counts.split_once(',') {
									Some((a, b)) => (a.parse().unwrap(), b.parse().unwrap()),
									None => (counts.parse().unwrap(), counts.parse().unwrap()),
								};
								let last = atoms.last_mut().unwrap();
								last.1 = min;
								last.2 = max;
								i = end + 1;
							}
							c => {
								atoms.push((vec![(c, c)], 1, 1));
								i += 1;
							}
						}
					}
					atoms
				})
				.collect();
			SimpleRegex(alternatives)
		}

		fn is_match(&self, text: &str) -> bool {
			fn go(atoms: &[(Vec<(u8, u8)>, usize, usize)], text: &[u8]) -> bool {
				let Some(((ranges, min, max), rest)) = atoms.split_first() else { return text.is_empty() };
				for count in *min..=*max {
					if count > text.len() {
						break;
					}
					if text[..count].iter().all(|c| ranges.iter().any(|(a, b)| a <= c && c <= b))
						&& go(rest, &text[count..])
					{
						return true;
					}
				}
				false
			}
			self.0.iter().any(|atoms| go(atoms, text.as_bytes()))
		}
	}

	#[test]
	fn powers_of_two_in_decimal() {
		assert_eq!(pow2(0), "1");
		assert_eq!(pow2(64), u128::from(u64::MAX).checked_add(1).unwrap().to_string());
		assert_eq!(pow2_minus_1(128), u128::MAX.to_string());
		assert_eq!(pow2_minus_1(53), MAX_SAFE_INTEGER.to_string());
	}

	#[test]
	fn decimal_ranges_match_exactly_their_bounds() {
		let cases: [(u128, u128); 6] =
			[(1, 9), (7, 123), (10, 99), (9007199254740992, u64::MAX as u128), (45, 45), (9007199254740992, u128::MAX)];
		for (low, high) in cases {
			let pattern = decimal_range(&low.to_string(), &high.to_string());
			for probe in
				[low, high, low + 1, high - 1, low / 2 + high / 2].into_iter().filter(|p| (low..=high).contains(p))
			{
				assert!(matches(&pattern, &probe.to_string()), "{probe} in [{low}, {high}]: {pattern}");
			}
			if low > 1 {
				assert!(!matches(&pattern, &(low - 1).to_string()), "{} below [{low}, {high}]: {pattern}", low - 1);
			}
			if let Some(above) = high.checked_add(1) {
				assert!(!matches(&pattern, &above.to_string()), "{above} above [{low}, {high}]: {pattern}");
			}
			assert!(!matches(&pattern, &format!("0{low}")), "a leading zero");
		}
		// Exhaustive on a small range.
		let pattern = decimal_range("13", "407");
		for n in 0..1000u32 {
			assert_eq!(matches(&pattern, &n.to_string()), (13..=407).contains(&n), "{n}: {pattern}");
		}
	}
}
