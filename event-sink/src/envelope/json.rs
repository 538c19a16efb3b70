//! Writes SCALE-encoded values as JSON, straight from the bytes into a buffer (no value tree in between),
//! following the envelope's JSON conventions (docs/envelope.md, "JSON conventions"):
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
//! - an object's keys come in the metadata's field order.
//!
//! scale-decode walks the bytes with the runtime's type registry and hands each value to [`JsonWriter`], a
//! [`Visitor`]; the few facts the conventions need beyond what the visitor sees (is this sequence bytes, is
//! this enum an `Option`) are prepared once per runtime in [`Shapes`], indexed by type id. The sink's hot path
//! writes the same JSON with the registry compiled ([`super::compiled`]), and comes here for what that one
//! leaves to scale-decode; the shared decisions ([`fields_form`], [`tuple_is_null`]) live here.

use codec::{Compact, Decode};
use scale_decode::visitor::{
	decode_with_visitor,
	types::{Array, BitSequence, Composite, Sequence, Str, Tuple, Variant},
	DecodeAsTypeResult, DecodeError, TypeIdFor, Visitor,
};
use scale_info::{PortableRegistry, TypeDef, TypeDefPrimitive};

/// The largest integer a JSON number holds exactly in an IEEE-754 double (2^53 − 1).
pub const MAX_SAFE_INTEGER: u128 = (1 << 53) - 1;

/// How a list of fields is written: the one decision the writer (below) and the contract's schema generator
/// ([`crate::contract::schema`]) share, so that the schema can't describe another shape than the one written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldsForm {
	/// `null`: a struct without fields (a unit struct).
	Null,
	/// `{}`: an event without fields.
	EmptyObject,
	/// `"Name"`: an enum variant without data is its name.
	VariantName,
	/// The single field's value itself: a newtype struct, or a variant with one unnamed field.
	Transparent,
	/// `[a, b, …]`: unnamed fields (an event's, even just one), a tuple struct, a tuple variant.
	Array,
	/// `{"name": value, …}` in the metadata's field order: named fields.
	Object,
}

/// Whose fields are written: a struct's, an enum variant's (inside `{"Variant": …}`) or an event's (`data`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldsOf {
	Struct,
	Variant,
	Event,
}

/// The [`FieldsForm`] of `count` fields, some unnamed or not (scale-decode's `has_unnamed_fields`: any unnamed).
pub fn fields_form(of: FieldsOf, count: usize, has_unnamed_fields: bool) -> FieldsForm {
	match (of, count, has_unnamed_fields) {
		(FieldsOf::Struct, 0, _) => FieldsForm::Null,
		(FieldsOf::Event, 0, _) => FieldsForm::EmptyObject,
		(FieldsOf::Variant, 0, _) => FieldsForm::VariantName,
		(FieldsOf::Struct | FieldsOf::Variant, 1, true) => FieldsForm::Transparent,
		(_, _, true) => FieldsForm::Array,
		(_, _, false) => FieldsForm::Object,
	}
}

/// The form of a tuple of `count` elements: the unit type `()` is `null`, any other tuple an array.
pub fn tuple_is_null(count: usize) -> bool {
	count == 0
}

/// What the JSON conventions need to know about a type beyond what the visitor is handed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
	Plain,
	/// `Vec<u8>` (and anything encoded as it): `"0x…"`.
	ByteSequence,
	/// `[u8; N]`: `"0x…"`.
	ByteArray(usize),
	/// `Option<T>`: `null` or the value.
	Option,
}

/// The [`Shape`] of every type of one runtime, by type id: built once per runtime.
#[derive(Clone, Debug, Default)]
pub struct Shapes(Vec<Shape>);

impl Shapes {
	pub fn new(types: &PortableRegistry) -> Shapes {
		let is_u8 = |id: u32| {
			matches!(types.resolve(id).map(|ty| &ty.type_def), Some(TypeDef::Primitive(TypeDefPrimitive::U8)))
		};
		let mut shapes = vec![Shape::Plain; types.types.len()];
		for ty in &types.types {
			let shape = match &ty.ty.type_def {
				TypeDef::Sequence(sequence) if is_u8(sequence.type_param.id) => Shape::ByteSequence,
				TypeDef::Array(array) if is_u8(array.type_param.id) => Shape::ByteArray(array.len as usize),
				TypeDef::Variant(variant)
					if ty.ty.path.segments.len() == 1
						&& ty.ty.path.segments[0] == "Option"
						&& variant.variants.len() == 2 =>
				{
					Shape::Option
				}
				_ => Shape::Plain,
			};
			if let Some(slot) = shapes.get_mut(ty.id as usize) {
				*slot = shape;
			}
		}
		Shapes(shapes)
	}

	/// The shape of type `type_id` ([`Shape::Plain`] for an unknown id).
	pub fn of(&self, type_id: u32) -> Shape {
		self.0.get(type_id as usize).copied().unwrap_or(Shape::Plain)
	}
}

/// Writes the value of type `type_id` at the start of `input` as JSON to `out`, and moves `input` past it.
pub fn write_json(
	input: &mut &[u8],
	type_id: u32,
	types: &PortableRegistry,
	shapes: &Shapes,
	out: &mut Vec<u8>,
) -> Result<(), DecodeError> {
	decode_with_visitor(input, type_id, types, JsonWriter { out, shapes })
}

/// Writes the fields of an event variant: named fields as an object, unnamed ones as an array (even just one),
/// none as `{}`.
pub fn write_event_fields(
	fields: &mut Composite<'_, '_, PortableRegistry>,
	shapes: &Shapes,
	out: &mut Vec<u8>,
) -> Result<(), DecodeError> {
	match fields_form(FieldsOf::Event, fields.remaining(), fields.has_unnamed_fields()) {
		FieldsForm::EmptyObject => {
			out.extend_from_slice(b"{}");
			Ok(())
		}
		FieldsForm::Object => write_object(fields, shapes, out),
		_ => write_items(out, shapes, |writer| fields.decode_item(writer)),
	}
}

/// `0x`-prefixed lowercase hex of `bytes`.
pub fn hex0x(bytes: impl AsRef<[u8]>) -> String {
	format!("0x{}", hex::encode(bytes))
}

/// A [`Visitor`] that writes each value it is handed as JSON.
pub struct JsonWriter<'o> {
	out: &'o mut Vec<u8>,
	shapes: &'o Shapes,
}

impl<'o> JsonWriter<'o> {
	fn string(self, text: &str) -> Result<(), DecodeError> {
		write_string(self.out, text);
		Ok(())
	}

	fn unsigned(self, n: u128) -> Result<(), DecodeError> {
		write_unsigned(self.out, n);
		Ok(())
	}

	fn signed(self, n: i128) -> Result<(), DecodeError> {
		write_signed(self.out, n);
		Ok(())
	}

	fn hex(self, bytes: &[u8]) {
		write_hex(self.out, bytes);
	}
}

/// A string, escaped as serde_json escapes it.
pub fn write_string(out: &mut Vec<u8>, text: &str) {
	// Escaping can't fail when writing to memory.
	let _ = serde_json::to_writer(&mut *out, text);
}

/// An unsigned integer: a number up to [`MAX_SAFE_INTEGER`], a decimal string beyond.
pub fn write_unsigned(out: &mut Vec<u8>, n: u128) {
	if n <= MAX_SAFE_INTEGER {
		out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
	} else {
		out.push(b'"');
		out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
		out.push(b'"');
	}
}

/// A signed integer: a number up to [`MAX_SAFE_INTEGER`] in magnitude, a decimal string beyond.
pub fn write_signed(out: &mut Vec<u8>, n: i128) {
	if n.unsigned_abs() <= MAX_SAFE_INTEGER {
		out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
	} else {
		out.push(b'"');
		out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
		out.push(b'"');
	}
}

/// Bytes as `"0x…"`, lowercase hex.
pub fn write_hex(out: &mut Vec<u8>, bytes: &[u8]) {
	let start = out.len();
	out.extend_from_slice(b"\"0x");
	out.resize(start + 3 + bytes.len() * 2, 0);
	// Filling a slice of the right length can't fail.
	let _ = hex::encode_to_slice(bytes, &mut out[start + 3..]);
	out.push(b'"');
}

/// Writes `[item, …]`, taking items from `next` until it returns `None`.
fn write_items(
	out: &mut Vec<u8>,
	shapes: &Shapes,
	mut next: impl FnMut(JsonWriter<'_>) -> Option<Result<(), DecodeError>>,
) -> Result<(), DecodeError> {
	out.push(b'[');
	let mut first = true;
	loop {
		let mark = out.len();
		if !first {
			out.push(b',');
		}
		match next(JsonWriter { out: &mut *out, shapes }) {
			Some(result) => result?,
			None => {
				out.truncate(mark);
				break;
			}
		}
		first = false;
	}
	out.push(b']');
	Ok(())
}

/// Writes named fields as `{"name": value, …}`.
fn write_object(
	fields: &mut Composite<'_, '_, PortableRegistry>,
	shapes: &Shapes,
	out: &mut Vec<u8>,
) -> Result<(), DecodeError> {
	out.push(b'{');
	let mut first = true;
	while let Some(name) = fields.peek_name() {
		if !first {
			out.push(b',');
		}
		let _ = serde_json::to_writer(&mut *out, name);
		out.push(b':');
		match fields.decode_item(JsonWriter { out: &mut *out, shapes }) {
			Some(result) => result?,
			None => break,
		}
		first = false;
	}
	out.push(b'}');
	Ok(())
}

impl<'o> Visitor for JsonWriter<'o> {
	type Value<'scale, 'resolver> = ();
	type Error = DecodeError;
	type TypeResolver = PortableRegistry;

	// Byte strings and arrays are copied as hex in one go rather than visited byte by byte.
	fn unchecked_decode_as_type<'scale, 'resolver>(
		self,
		input: &mut &'scale [u8],
		type_id: TypeIdFor<Self>,
		_types: &'resolver PortableRegistry,
	) -> DecodeAsTypeResult<Self, Result<Self::Value<'scale, 'resolver>, Self::Error>> {
		let length = match self.shapes.of(type_id) {
			Shape::ByteSequence => match Compact::<u64>::decode(input) {
				Ok(length) => length.0 as usize,
				Err(error) => return DecodeAsTypeResult::Decoded(Err(error.into())),
			},
			Shape::ByteArray(length) => length,
			_ => return DecodeAsTypeResult::Skipped(self),
		};
		let Some((bytes, rest)) = input.split_at_checked(length) else {
			return DecodeAsTypeResult::Decoded(Err(DecodeError::NotEnoughInput));
		};
		*input = rest;
		self.hex(bytes);
		DecodeAsTypeResult::Decoded(Ok(()))
	}

	fn visit_bool<'scale, 'resolver>(self, value: bool, _: u32) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		self.out.extend_from_slice(if value { b"true" } else { b"false" });
		Ok(())
	}
	fn visit_char<'scale, 'resolver>(self, value: char, _: u32) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		self.string(value.encode_utf8(&mut [0; 4]))
	}
	fn visit_u8<'scale, 'resolver>(self, value: u8, _: u32) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		self.unsigned(value.into())
	}
	fn visit_u16<'scale, 'resolver>(self, value: u16, _: u32) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		self.unsigned(value.into())
	}
	fn visit_u32<'scale, 'resolver>(self, value: u32, _: u32) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		self.unsigned(value.into())
	}
	fn visit_u64<'scale, 'resolver>(self, value: u64, _: u32) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		self.unsigned(value.into())
	}
	fn visit_u128<'scale, 'resolver>(self, value: u128, _: u32) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		self.unsigned(value)
	}
	fn visit_u256<'resolver>(self, value: &[u8; 32], _: u32) -> Result<Self::Value<'_, 'resolver>, Self::Error> {
		self.string(&u256_to_decimal(*value))
	}
	fn visit_i8<'scale, 'resolver>(self, value: i8, _: u32) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		self.signed(value.into())
	}
	fn visit_i16<'scale, 'resolver>(self, value: i16, _: u32) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		self.signed(value.into())
	}
	fn visit_i32<'scale, 'resolver>(self, value: i32, _: u32) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		self.signed(value.into())
	}
	fn visit_i64<'scale, 'resolver>(self, value: i64, _: u32) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		self.signed(value.into())
	}
	fn visit_i128<'scale, 'resolver>(self, value: i128, _: u32) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		self.signed(value)
	}
	fn visit_i256<'resolver>(self, value: &[u8; 32], _: u32) -> Result<Self::Value<'_, 'resolver>, Self::Error> {
		self.string(&i256_to_decimal(*value))
	}
	fn visit_str<'scale, 'resolver>(
		self,
		value: &mut Str<'scale>,
		_: u32,
	) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		let text = value.as_str()?;
		self.string(text)
	}
	fn visit_bitsequence<'scale, 'resolver>(
		self,
		value: &mut BitSequence<'scale>,
		_: u32,
	) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		let bits = value.decode()?;
		self.out.push(b'[');
		for (position, bit) in bits.enumerate() {
			if position > 0 {
				self.out.push(b',');
			}
			self.out.extend_from_slice(if bit? { b"true" } else { b"false" });
		}
		self.out.push(b']');
		Ok(())
	}
	// Sequences, arrays and tuples are always arrays, even with one element; the unit type `()` is null.
	fn visit_sequence<'scale, 'resolver>(
		self,
		value: &mut Sequence<'scale, 'resolver, PortableRegistry>,
		_: u32,
	) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		write_items(self.out, self.shapes, |writer| value.decode_item(writer))
	}
	fn visit_array<'scale, 'resolver>(
		self,
		value: &mut Array<'scale, 'resolver, PortableRegistry>,
		_: u32,
	) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		write_items(self.out, self.shapes, |writer| value.decode_item(writer))
	}
	fn visit_tuple<'scale, 'resolver>(
		self,
		value: &mut Tuple<'scale, 'resolver, PortableRegistry>,
		_: u32,
	) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		if tuple_is_null(value.remaining()) {
			self.out.extend_from_slice(b"null");
			return Ok(());
		}
		write_items(self.out, self.shapes, |writer| value.decode_item(writer))
	}
	// A struct: a newtype is its field, a unit struct is null, named fields an object, several unnamed an array.
	fn visit_composite<'scale, 'resolver>(
		self,
		value: &mut Composite<'scale, 'resolver, PortableRegistry>,
		_: u32,
	) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		match fields_form(FieldsOf::Struct, value.remaining(), value.has_unnamed_fields()) {
			FieldsForm::Transparent => value.decode_item(self).unwrap_or(Ok(())),
			FieldsForm::Array => write_items(self.out, self.shapes, |writer| value.decode_item(writer)),
			FieldsForm::Object => write_object(value, self.shapes, self.out),
			_ => {
				self.out.extend_from_slice(b"null");
				Ok(())
			}
		}
	}
	// `Option` is null or the value; a variant without data its name; with data `{"Name": data}`.
	fn visit_variant<'scale, 'resolver>(
		self,
		value: &mut Variant<'scale, 'resolver, PortableRegistry>,
		type_id: u32,
	) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		let fields = value.fields();
		if self.shapes.of(type_id) == Shape::Option {
			return match fields.decode_item(JsonWriter { out: &mut *self.out, shapes: self.shapes }) {
				Some(result) => result,
				None => {
					self.out.extend_from_slice(b"null");
					Ok(())
				}
			};
		}
		let name = value.name();
		let fields = value.fields();
		let form = fields_form(FieldsOf::Variant, fields.remaining(), fields.has_unnamed_fields());
		if form == FieldsForm::VariantName {
			return self.string(name);
		}
		self.out.push(b'{');
		let _ = serde_json::to_writer(&mut *self.out, name);
		self.out.push(b':');
		let (out, shapes) = (self.out, self.shapes);
		match form {
			FieldsForm::Object => write_object(fields, shapes, out)?,
			FieldsForm::Transparent => fields.decode_item(JsonWriter { out: &mut *out, shapes }).unwrap_or(Ok(()))?,
			_ => write_items(out, shapes, |writer| fields.decode_item(writer))?,
		}
		out.push(b'}');
		Ok(())
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
	use codec::Encode;
	use scale_info::{meta_type, Registry, TypeInfo};
	use serde_json::Value as Json;

	/// Registers `T` in a fresh registry and writes its encoding as JSON.
	fn json_of<T: TypeInfo + codec::Encode + 'static>(value: T) -> Json {
		let mut registry = Registry::new();
		let id = registry.register_type(&meta_type::<T>()).id;
		let types: PortableRegistry = registry.into();
		let bytes = value.encode();
		let mut input = &bytes[..];
		let mut out = Vec::new();
		write_json(&mut input, id, &types, &Shapes::new(&types), &mut out).expect("decodes");
		assert!(input.is_empty(), "every byte consumed");
		serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)))
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

	#[derive(TypeInfo, codec::Encode)]
	struct Ordered {
		zebra: u8,
		apple: String,
		nested: Option<Option<[u8; 2]>>,
		unit: (),
		flags: Vec<bool>,
	}

	#[test]
	fn keys_keep_the_metadata_order_and_strings_are_escaped() {
		let value = Ordered {
			zebra: 1,
			apple: "a \"quoted\" é".into(),
			nested: Some(Some([9, 10])),
			unit: (),
			flags: vec![true],
		};
		let mut registry = Registry::new();
		let id = registry.register_type(&meta_type::<Ordered>()).id;
		let types: PortableRegistry = registry.into();
		let mut out = Vec::new();
		write_json(&mut &value.encode()[..], id, &types, &Shapes::new(&types), &mut out).unwrap();
		assert_eq!(
			String::from_utf8(out).unwrap(),
			r#"{"zebra":1,"apple":"a \"quoted\" é","nested":"0x090a","unit":null,"flags":[true]}"#
		);
	}

	#[test]
	fn truncated_input_is_an_error_not_a_panic() {
		let mut registry = Registry::new();
		let id = registry.register_type(&meta_type::<Named>()).id;
		let types: PortableRegistry = registry.into();
		let mut out = Vec::new();
		assert!(write_json(&mut &[1u8, 0][..], id, &types, &Shapes::new(&types), &mut out).is_err());
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
