//! Converts a dynamically decoded SCALE value into JSON, following the envelope's JSON conventions
//! (docs/envelope.md, "JSON conventions"):
//!
//! - integers up to 2^53−1 in magnitude are JSON numbers; larger ones are decimal strings, because JSON
//!   consumers (JavaScript in particular) silently lose precision past 2^53;
//! - byte sequences and byte arrays (`Vec<u8>`, `[u8; N]`, hence `AccountId32`, `H256`, `BoundedVec<u8, _>`) are
//!   `"0x…"` lowercase hex;
//! - a struct with a single unnamed field (a newtype such as `AccountId32([u8; 32])` or `Perbill(u32)`) is its
//!   field; a struct with named fields is an object; with several unnamed fields, an array; with none, `null`;
//! - tuples, sequences and arrays are arrays;
//! - `Option` is `null` or the value;
//! - other enums: a variant without data is its name as a string (`"Added"`); a variant with data is an object
//!   with one key, the variant name, whose value is the data shaped like a struct's (`{"Succeeded": {"raised": 5}}`,
//!   `{"Some": 5}`-style unwrapping for a single unnamed field);
//! - bool is bool, char and str are strings, bit sequences are arrays of bools.
//!
//! The shape depends on the type, not only on the value: scale-value keeps the type id of every decoded value
//! (its context), and the registry says whether an unnamed composite is a newtype, a tuple or a byte sequence.

use scale_info::{form::PortableForm, PortableRegistry, Type, TypeDef, TypeDefPrimitive};
use scale_value::{Composite, Primitive, Value, ValueDef};
use serde_json::{Map, Value as Json};

/// The largest integer a JSON number holds exactly in an IEEE-754 double (2^53 − 1).
pub const MAX_SAFE_INTEGER: u128 = (1 << 53) - 1;

/// Converts a decoded value, whose context is its type id in `types`, into JSON.
pub fn to_json(value: &Value<u32>, types: &PortableRegistry) -> Json {
	match &value.value {
		ValueDef::Primitive(primitive) => primitive_to_json(primitive),
		ValueDef::BitSequence(bits) => Json::Array(bits.iter().map(Json::Bool).collect()),
		ValueDef::Composite(composite) => composite_to_json(value.context, composite, types),
		ValueDef::Variant(variant) => {
			if is_option(resolve(value.context, types)) {
				return match variant.values.values().next() {
					Some(inner) if variant.name == "Some" => to_json(inner, types),
					_ => Json::Null,
				};
			}
			if variant.values.is_empty() {
				return Json::String(variant.name.clone());
			}
			let mut object = Map::new();
			object.insert(variant.name.clone(), fields_to_json(&variant.values, types, true));
			Json::Object(object)
		}
	}
}

/// Converts the fields of an event (or of any variant or struct) into JSON: named fields become an object,
/// unnamed ones an array (a single unnamed field is unwrapped only when `unwrap_single` is set), no fields `{}`.
pub fn fields_to_json(fields: &Composite<u32>, types: &PortableRegistry, unwrap_single: bool) -> Json {
	match fields {
		Composite::Named(named) if !named.is_empty() => {
			Json::Object(named.iter().map(|(name, value)| (name.clone(), to_json(value, types))).collect())
		}
		Composite::Unnamed(values) if unwrap_single && values.len() == 1 => to_json(&values[0], types),
		Composite::Unnamed(values) if !values.is_empty() => {
			Json::Array(values.iter().map(|value| to_json(value, types)).collect())
		}
		_ => Json::Object(Map::new()),
	}
}

/// `0x`-prefixed lowercase hex of `bytes`.
pub fn hex0x(bytes: impl AsRef<[u8]>) -> String {
	format!("0x{}", hex::encode(bytes))
}

fn composite_to_json(type_id: u32, composite: &Composite<u32>, types: &PortableRegistry) -> Json {
	let ty = resolve(type_id, types);
	if let Some(bytes) = as_bytes(ty, composite, types) {
		return Json::String(hex0x(bytes));
	}
	match ty.map(|ty| &ty.type_def) {
		// The unit type `()` (as in `Ok(())`) carries nothing.
		Some(TypeDef::Tuple(tuple)) if tuple.fields.is_empty() => Json::Null,
		// Sequences, arrays and tuples are always arrays, even with one element.
		Some(TypeDef::Sequence(_) | TypeDef::Array(_) | TypeDef::Tuple(_)) => {
			Json::Array(composite.values().map(|value| to_json(value, types)).collect())
		}
		// A struct: a newtype is its field, a unit struct is null.
		_ => match composite {
			Composite::Named(named) if !named.is_empty() => fields_to_json(composite, types, true),
			Composite::Unnamed(values) if values.len() == 1 => to_json(&values[0], types),
			_ if composite.is_empty() => Json::Null,
			_ => Json::Array(composite.values().map(|value| to_json(value, types)).collect()),
		},
	}
}

/// The bytes of a `Vec<u8>` / `[u8; N]` value, or `None` when the type is not a byte sequence.
fn as_bytes(ty: Option<&Type<PortableForm>>, composite: &Composite<u32>, types: &PortableRegistry) -> Option<Vec<u8>> {
	let element = match &ty?.type_def {
		TypeDef::Sequence(sequence) => sequence.type_param.id,
		TypeDef::Array(array) => array.type_param.id,
		_ => return None,
	};
	if !matches!(resolve(element, types)?.type_def, TypeDef::Primitive(TypeDefPrimitive::U8)) {
		return None;
	}
	composite
		.values()
		.map(|value| match value.value {
			ValueDef::Primitive(Primitive::U128(byte)) => u8::try_from(byte).ok(),
			_ => None,
		})
		.collect()
}

fn is_option(ty: Option<&Type<PortableForm>>) -> bool {
	ty.is_some_and(|ty| {
		ty.path.segments.len() == 1
			&& ty.path.segments[0] == "Option"
			&& matches!(&ty.type_def, TypeDef::Variant(v) if v.variants.len() == 2)
	})
}

/// Resolves a type id, looking through `Compact<T>` to `T` (scale-value tags a compact value with the compact
/// type's id, but its shape is the inner type's).
fn resolve(type_id: u32, types: &PortableRegistry) -> Option<&Type<PortableForm>> {
	let mut ty = types.resolve(type_id)?;
	while let TypeDef::Compact(compact) = &ty.type_def {
		ty = types.resolve(compact.type_param.id)?;
	}
	Some(ty)
}

fn primitive_to_json(primitive: &Primitive) -> Json {
	match primitive {
		Primitive::Bool(b) => Json::Bool(*b),
		Primitive::Char(c) => Json::String(c.to_string()),
		Primitive::String(s) => Json::String(s.clone()),
		Primitive::U128(n) if *n <= MAX_SAFE_INTEGER => Json::from(*n as u64),
		Primitive::U128(n) => Json::String(n.to_string()),
		Primitive::I128(n) if n.unsigned_abs() <= MAX_SAFE_INTEGER => Json::from(*n as i64),
		Primitive::I128(n) => Json::String(n.to_string()),
		Primitive::U256(le) => Json::String(u256_to_decimal(*le)),
		Primitive::I256(le) => Json::String(i256_to_decimal(*le)),
	}
}

/// Decimal form of a little-endian 256-bit unsigned integer (no bignum crate for a type events rarely carry).
fn u256_to_decimal(mut le: [u8; 32]) -> String {
	let mut digits = Vec::new();
	while le.iter().any(|b| *b != 0) {
		// Divide the whole number by 10, most significant byte first, keeping the remainder.
		let mut remainder = 0u16;
		for byte in le.iter_mut().rev() {
			let current = (remainder << 8) | u16::from(*byte);
			*byte = (current / 10) as u8;
			remainder = current % 10;
		}
		digits.push(b'0' + remainder as u8);
	}
	if digits.is_empty() {
		return "0".into();
	}
	digits.reverse();
	String::from_utf8(digits).unwrap_or_default()
}

/// Decimal form of a little-endian two's-complement 256-bit signed integer.
fn i256_to_decimal(le: [u8; 32]) -> String {
	if le[31] & 0x80 == 0 {
		return u256_to_decimal(le);
	}
	// Negate: invert and add one.
	let mut magnitude = le.map(|b| !b);
	for byte in magnitude.iter_mut() {
		let (sum, carry) = byte.overflowing_add(1);
		*byte = sum;
		if !carry {
			break;
		}
	}
	format!("-{}", u256_to_decimal(magnitude))
}

#[cfg(test)]
mod tests {
	use super::*;
	use scale_info::{meta_type, Registry, TypeInfo};

	/// Registers `T` in a fresh registry and decodes `bytes` as it.
	fn decode<T: TypeInfo + 'static>(bytes: &[u8]) -> (Value<u32>, PortableRegistry) {
		let mut registry = Registry::new();
		let id = registry.register_type(&meta_type::<T>()).id;
		let types: PortableRegistry = registry.into();
		let value = scale_value::scale::decode_as_type(&mut &bytes[..], id, &types).expect("decodes");
		(value, types)
	}

	fn json_of<T: TypeInfo + codec::Encode + 'static>(value: T) -> Json {
		let (decoded, types) = decode::<T>(&value.encode());
		to_json(&decoded, &types)
	}

	#[derive(TypeInfo, codec::Encode)]
	struct Newtype([u8; 4]);

	#[derive(TypeInfo, codec::Encode)]
	struct Named {
		id: u32,
		big: u128,
		flag: bool,
		bytes: Vec<u8>,
		maybe: Option<u64>,
		nothing: Option<u64>,
	}

	#[derive(TypeInfo, codec::Encode)]
	enum Status {
		Added,
		Succeeded { raised: u64 },
		Pair(u8, u8),
		Single(u16),
	}

	#[test]
	fn integers_switch_to_strings_past_2_pow_53() {
		assert_eq!(json_of(MAX_SAFE_INTEGER as u64), serde_json::json!(9007199254740991u64));
		assert_eq!(json_of(MAX_SAFE_INTEGER as u64 + 1), serde_json::json!("9007199254740992"));
		assert_eq!(json_of(u128::MAX), serde_json::json!(u128::MAX.to_string()));
		assert_eq!(json_of(-5i32), serde_json::json!(-5));
		assert_eq!(json_of(i128::MIN), serde_json::json!(i128::MIN.to_string()));
	}

	#[test]
	fn structs_bytes_options_and_enums_follow_the_conventions() {
		let named =
			Named { id: 7, big: 10u128.pow(20), flag: true, bytes: vec![0xde, 0xad], maybe: Some(3), nothing: None };
		assert_eq!(
			json_of(named),
			serde_json::json!({"id": 7, "big": "100000000000000000000", "flag": true, "bytes": "0xdead",
				"maybe": 3, "nothing": null})
		);
		assert_eq!(json_of(Newtype([1, 2, 3, 4])), serde_json::json!("0x01020304"));
		assert_eq!(json_of(Status::Added), serde_json::json!("Added"));
		assert_eq!(json_of(Status::Succeeded { raised: 5 }), serde_json::json!({"Succeeded": {"raised": 5}}));
		assert_eq!(json_of(Status::Pair(1, 2)), serde_json::json!({"Pair": [1, 2]}));
		assert_eq!(json_of(Status::Single(9)), serde_json::json!({"Single": 9}));
		assert_eq!(json_of((1u8, 2u16)), serde_json::json!([1, 2]));
		assert_eq!(json_of(vec![5u32]), serde_json::json!([5]));
		assert_eq!(json_of(Vec::<u8>::new()), serde_json::json!("0x"));
		assert_eq!(json_of(codec::Compact(3u64)), serde_json::json!(3));
		assert_eq!(json_of(Ok::<(), u8>(())), serde_json::json!({"Ok": null}));
		assert_eq!(json_of(Err::<(), u8>(4)), serde_json::json!({"Err": 4}));
	}

	#[test]
	fn wide_integers_are_decimal_strings() {
		let mut le = [0u8; 32];
		le[..16].copy_from_slice(&u128::MAX.to_le_bytes());
		assert_eq!(u256_to_decimal(le), u128::MAX.to_string());
		assert_eq!(u256_to_decimal([0; 32]), "0");
		assert_eq!(i256_to_decimal([0xff; 32]), "-1");
	}
}
