//! The JSON writer of [`super::json`], compiled once per runtime: every type of the registry becomes a [`Node`]
//! that says what its bytes are and how they are written, so a value is written by following nodes instead of
//! resolving types and building scale-decode's visitor state for every value. Decoding events was the largest
//! share of the node's CPU in a dense catch-up (issue 22's profile).
//!
//! It writes exactly what [`super::json::write_json`] writes, and it is never the one that decides an error: on
//! anything unexpected (bad input, a type it does not compile) it stops with [`Stop`], and the caller decodes the
//! record again with scale-decode, whose result and error message are the ones reported. Rare types (bit
//! sequences, 256-bit integers, compact wrappers of structs) are [`Node::Interpreted`]: handed to scale-decode on
//! the spot. The contracts' checks compare both paths on every event type of several production runtimes.

use codec::{Compact, Decode};
use scale_info::{form::PortableForm, Field, PortableRegistry, TypeDef, TypeDefPrimitive};

use super::json::{
	fields_form, tuple_is_null, write_hex, write_json, write_signed, write_string, write_unsigned, FieldsForm,
	FieldsOf, Shapes,
};

/// The compiled writer gave up on a value: decode the record with scale-decode instead.
#[derive(Debug)]
pub struct Stop;

type Written = Result<(), Stop>;

/// How deep values may nest before the compiled writer hands the record to scale-decode.
const MAX_DEPTH: u32 = 128;

/// A field's key as written (`"name":`), and its type.
type NamedField = (Box<[u8]>, u32);

/// How a type's bytes are written.
#[derive(Clone, Debug)]
enum Node {
	Bool,
	Char,
	Str,
	U8,
	U16,
	U32,
	U64,
	U128,
	I8,
	I16,
	I32,
	I64,
	I128,
	/// `Compact<uN>` of a primitive, by width in bytes.
	CompactUnsigned(u8),
	/// `Vec<u8>`: `"0x…"`.
	Bytes,
	/// `[u8; N]`: `"0x…"`.
	ByteArray(usize),
	Sequence(u32),
	Array(u32, usize),
	/// The unit tuple, a unit struct.
	Null,
	/// A newtype: its one field.
	Transparent(u32),
	/// Tuples, tuple structs: an array of the items.
	Items(Box<[u32]>),
	/// A struct with named fields.
	Object(Box<[NamedField]>),
	/// An enum (`Option` included).
	Variant(Box<Variants>),
	/// Written by scale-decode.
	Interpreted,
}

/// An enum's variants by index.
#[derive(Clone, Debug)]
struct Variants {
	/// Position in `variants` + 1, by variant index (0: no such variant).
	slots: [u16; 256],
	variants: Vec<VariantNode>,
}

/// One variant as written.
#[derive(Clone, Debug)]
enum VariantNode {
	/// `Option::None`: `null`.
	OptionNone,
	/// `Option::Some`: the value alone.
	OptionSome(u32),
	/// A variant without data: its name (the JSON string, quoted).
	Name(Box<[u8]>),
	/// `{"Name": fields}`: the prefix `{"Name":` and the fields.
	Wrapped(Box<[u8]>, Fields),
}

/// A list of fields as written.
#[derive(Clone, Debug)]
pub enum Fields {
	/// `{}`: an event without fields.
	EmptyObject,
	Transparent(u32),
	Items(Box<[u32]>),
	Object(Box<[NamedField]>),
}

/// Every type of one runtime's registry, compiled.
#[derive(Clone, Debug, Default)]
pub struct CompiledTypes {
	nodes: Vec<Node>,
}

/// The JSON string of `text`, quoted and escaped as serde_json writes it.
fn json_string(text: &str) -> Vec<u8> {
	serde_json::to_vec(text).expect("a string always serialises")
}

fn named_key(name: &str) -> Box<[u8]> {
	let mut key = json_string(name);
	key.push(b':');
	key.into()
}

impl CompiledTypes {
	pub fn new(types: &PortableRegistry) -> CompiledTypes {
		let mut nodes = vec![Node::Interpreted; types.types.len()];
		for ty in &types.types {
			if let Some(slot) = nodes.get_mut(ty.id as usize) {
				*slot = compile(&ty.ty.type_def, &ty.ty.path.segments, types);
			}
		}
		CompiledTypes { nodes }
	}

	/// Writes the fields `fields` from `input`.
	pub fn write_fields(&self, fields: &Fields, writer: &mut Writer<'_>, input: &mut &[u8]) -> Written {
		writer.fields(self, fields, input, 0)
	}
}

/// Where values are written, and what scale-decode needs for [`Node::Interpreted`] types.
pub struct Writer<'a> {
	pub out: &'a mut Vec<u8>,
	pub types: &'a PortableRegistry,
	pub shapes: &'a Shapes,
}

fn is_u8(types: &PortableRegistry, id: u32) -> bool {
	matches!(types.resolve(id).map(|ty| &ty.type_def), Some(TypeDef::Primitive(TypeDefPrimitive::U8)))
}

fn compile(def: &TypeDef<PortableForm>, path: &[String], types: &PortableRegistry) -> Node {
	match def {
		TypeDef::Primitive(primitive) => match primitive {
			TypeDefPrimitive::Bool => Node::Bool,
			TypeDefPrimitive::Char => Node::Char,
			TypeDefPrimitive::Str => Node::Str,
			TypeDefPrimitive::U8 => Node::U8,
			TypeDefPrimitive::U16 => Node::U16,
			TypeDefPrimitive::U32 => Node::U32,
			TypeDefPrimitive::U64 => Node::U64,
			TypeDefPrimitive::U128 => Node::U128,
			TypeDefPrimitive::I8 => Node::I8,
			TypeDefPrimitive::I16 => Node::I16,
			TypeDefPrimitive::I32 => Node::I32,
			TypeDefPrimitive::I64 => Node::I64,
			TypeDefPrimitive::I128 => Node::I128,
			TypeDefPrimitive::U256 | TypeDefPrimitive::I256 => Node::Interpreted,
		},
		TypeDef::Compact(compact) => match types.resolve(compact.type_param.id).map(|ty| &ty.type_def) {
			Some(TypeDef::Primitive(TypeDefPrimitive::U8)) => Node::CompactUnsigned(1),
			Some(TypeDef::Primitive(TypeDefPrimitive::U16)) => Node::CompactUnsigned(2),
			Some(TypeDef::Primitive(TypeDefPrimitive::U32)) => Node::CompactUnsigned(4),
			Some(TypeDef::Primitive(TypeDefPrimitive::U64)) => Node::CompactUnsigned(8),
			Some(TypeDef::Primitive(TypeDefPrimitive::U128)) => Node::CompactUnsigned(16),
			_ => Node::Interpreted,
		},
		TypeDef::Sequence(sequence) if is_u8(types, sequence.type_param.id) => Node::Bytes,
		TypeDef::Sequence(sequence) => Node::Sequence(sequence.type_param.id),
		TypeDef::Array(array) if is_u8(types, array.type_param.id) => Node::ByteArray(array.len as usize),
		TypeDef::Array(array) => Node::Array(array.type_param.id, array.len as usize),
		TypeDef::Tuple(tuple) if tuple_is_null(tuple.fields.len()) => Node::Null,
		TypeDef::Tuple(tuple) => Node::Items(tuple.fields.iter().map(|ty| ty.id).collect()),
		TypeDef::Composite(composite) => match compile_fields(FieldsOf::Struct, &composite.fields) {
			Fields::Transparent(id) => Node::Transparent(id),
			Fields::Items(items) => Node::Items(items),
			Fields::Object(fields) => Node::Object(fields),
			Fields::EmptyObject => Node::Null,
		},
		TypeDef::Variant(variant) => {
			// As `Shapes` tells an `Option` (and the writer then writes the first field of the variant, if any).
			let option = path.len() == 1 && path[0] == "Option" && variant.variants.len() == 2;
			let mut slots = [0u16; 256];
			let mut variants = Vec::with_capacity(variant.variants.len());
			for v in &variant.variants {
				let node = if option {
					match v.fields.as_slice() {
						[] => VariantNode::OptionNone,
						[field] => VariantNode::OptionSome(field.ty.id),
						// The writer would skip the others: leave that to it.
						_ => return Node::Interpreted,
					}
				} else {
					match compile_fields(FieldsOf::Variant, &v.fields) {
						Fields::EmptyObject => VariantNode::Name(json_string(&v.name).into()),
						fields => {
							let mut prefix = vec![b'{'];
							prefix.extend_from_slice(&json_string(&v.name));
							prefix.push(b':');
							VariantNode::Wrapped(prefix.into(), fields)
						}
					}
				};
				// The first variant with an index wins, as scale-decode's search finds it.
				if slots[v.index as usize] == 0 {
					variants.push(node);
					slots[v.index as usize] = variants.len() as u16;
				}
			}
			Node::Variant(Box::new(Variants { slots, variants }))
		}
		TypeDef::BitSequence(_) => Node::Interpreted,
	}
}

/// Fields as [`fields_form`] shapes them (a variant without data and an event without fields are
/// [`Fields::EmptyObject`]; a struct without fields is never compiled as fields).
pub fn compile_fields(of: FieldsOf, fields: &[Field<PortableForm>]) -> Fields {
	let has_unnamed = fields.iter().any(|field| field.name.is_none());
	match fields_form(of, fields.len(), has_unnamed) {
		FieldsForm::Null | FieldsForm::EmptyObject | FieldsForm::VariantName => Fields::EmptyObject,
		FieldsForm::Transparent => Fields::Transparent(fields[0].ty.id),
		FieldsForm::Array => Fields::Items(fields.iter().map(|field| field.ty.id).collect()),
		FieldsForm::Object => Fields::Object(
			fields.iter().map(|field| (named_key(field.name.as_deref().unwrap_or_default()), field.ty.id)).collect(),
		),
	}
}

fn take<'s>(input: &mut &'s [u8], n: usize) -> Result<&'s [u8], Stop> {
	let (bytes, rest) = input.split_at_checked(n).ok_or(Stop)?;
	*input = rest;
	Ok(bytes)
}

fn fixed<const N: usize>(input: &mut &[u8]) -> Result<[u8; N], Stop> {
	Ok(take(input, N)?.try_into().expect("N bytes taken"))
}

impl Writer<'_> {
	fn unsigned(&mut self, n: u128) {
		write_unsigned(self.out, n);
	}

	fn signed(&mut self, n: i128) {
		write_signed(self.out, n);
	}

	fn hex(&mut self, bytes: &[u8]) {
		write_hex(self.out, bytes);
	}

	fn string(&mut self, text: &str) {
		write_string(self.out, text);
	}

	fn items(&mut self, compiled: &CompiledTypes, items: &[u32], input: &mut &[u8], depth: u32) -> Written {
		self.out.push(b'[');
		for (n, item) in items.iter().enumerate() {
			if n > 0 {
				self.out.push(b',');
			}
			self.value(compiled, *item, input, depth)?;
		}
		self.out.push(b']');
		Ok(())
	}

	fn repeated(
		&mut self,
		compiled: &CompiledTypes,
		item: u32,
		count: usize,
		input: &mut &[u8],
		depth: u32,
	) -> Written {
		self.out.push(b'[');
		for n in 0..count {
			if n > 0 {
				self.out.push(b',');
			}
			self.value(compiled, item, input, depth)?;
		}
		self.out.push(b']');
		Ok(())
	}

	fn object(&mut self, compiled: &CompiledTypes, fields: &[NamedField], input: &mut &[u8], depth: u32) -> Written {
		self.out.push(b'{');
		for (n, (key, ty)) in fields.iter().enumerate() {
			if n > 0 {
				self.out.push(b',');
			}
			self.out.extend_from_slice(key);
			self.value(compiled, *ty, input, depth)?;
		}
		self.out.push(b'}');
		Ok(())
	}

	fn fields(&mut self, compiled: &CompiledTypes, fields: &Fields, input: &mut &[u8], depth: u32) -> Written {
		match fields {
			Fields::EmptyObject => {
				self.out.extend_from_slice(b"{}");
				Ok(())
			}
			Fields::Transparent(ty) => self.value(compiled, *ty, input, depth),
			Fields::Items(items) => self.items(compiled, items, input, depth),
			Fields::Object(fields) => self.object(compiled, fields, input, depth),
		}
	}

	/// Writes the value of type `ty` at the start of `input`.
	fn value(&mut self, compiled: &CompiledTypes, ty: u32, input: &mut &[u8], depth: u32) -> Written {
		if depth > MAX_DEPTH {
			return Err(Stop);
		}
		let depth = depth + 1;
		let Some(node) = compiled.nodes.get(ty as usize) else { return Err(Stop) };
		match node {
			Node::Bool => match take(input, 1)?[0] {
				0 => self.out.extend_from_slice(b"false"),
				1 => self.out.extend_from_slice(b"true"),
				_ => return Err(Stop),
			},
			Node::Char => {
				let c = char::from_u32(u32::from_le_bytes(fixed(input)?)).ok_or(Stop)?;
				self.string(c.encode_utf8(&mut [0; 4]));
			}
			Node::Str => {
				let length = Compact::<u32>::decode(input).map_err(|_| Stop)?.0 as usize;
				let text = std::str::from_utf8(take(input, length)?).map_err(|_| Stop)?;
				self.string(text);
			}
			Node::U8 => self.unsigned(take(input, 1)?[0].into()),
			Node::U16 => self.unsigned(u16::from_le_bytes(fixed(input)?).into()),
			Node::U32 => self.unsigned(u32::from_le_bytes(fixed(input)?).into()),
			Node::U64 => self.unsigned(u64::from_le_bytes(fixed(input)?).into()),
			Node::U128 => self.unsigned(u128::from_le_bytes(fixed(input)?)),
			Node::I8 => self.signed(i8::from_le_bytes(fixed(input)?).into()),
			Node::I16 => self.signed(i16::from_le_bytes(fixed(input)?).into()),
			Node::I32 => self.signed(i32::from_le_bytes(fixed(input)?).into()),
			Node::I64 => self.signed(i64::from_le_bytes(fixed(input)?).into()),
			Node::I128 => self.signed(i128::from_le_bytes(fixed(input)?)),
			Node::CompactUnsigned(width) => {
				// The same decoding (and the same refusal of non-canonical encodings) as scale-decode's.
				let n: u128 = match width {
					1 => Compact::<u8>::decode(input).map(|c| c.0.into()),
					2 => Compact::<u16>::decode(input).map(|c| c.0.into()),
					4 => Compact::<u32>::decode(input).map(|c| c.0.into()),
					8 => Compact::<u64>::decode(input).map(|c| c.0.into()),
					_ => Compact::<u128>::decode(input).map(|c| c.0),
				}
				.map_err(|_| Stop)?;
				self.unsigned(n);
			}
			Node::Bytes => {
				let length = Compact::<u64>::decode(input).map_err(|_| Stop)?.0 as usize;
				let bytes = take(input, length)?;
				self.hex(bytes);
			}
			Node::ByteArray(length) => {
				let bytes = take(input, *length)?;
				self.hex(bytes);
			}
			Node::Sequence(item) => {
				let count = Compact::<u64>::decode(input).map_err(|_| Stop)?.0;
				// More items than bytes left: bad input, or zero-sized items (`Vec<()>`); either way scale-decode's.
				if count > input.len() as u64 {
					return Err(Stop);
				}
				self.repeated(compiled, *item, count as usize, input, depth)?;
			}
			Node::Array(item, length) => self.repeated(compiled, *item, *length, input, depth)?,
			Node::Null => self.out.extend_from_slice(b"null"),
			Node::Transparent(field) => self.value(compiled, *field, input, depth)?,
			Node::Items(items) => self.items(compiled, items, input, depth)?,
			Node::Object(fields) => self.object(compiled, fields, input, depth)?,
			Node::Variant(variants) => {
				let index = take(input, 1)?[0];
				let slot = variants.slots[index as usize];
				let Some(variant) = slot.checked_sub(1).and_then(|position| variants.variants.get(position as usize))
				else {
					return Err(Stop);
				};
				match variant {
					VariantNode::OptionNone => self.out.extend_from_slice(b"null"),
					VariantNode::OptionSome(value) => self.value(compiled, *value, input, depth)?,
					VariantNode::Name(name) => self.out.extend_from_slice(name),
					VariantNode::Wrapped(prefix, fields) => {
						self.out.extend_from_slice(prefix);
						self.fields(compiled, fields, input, depth)?;
						self.out.push(b'}');
					}
				}
			}
			Node::Interpreted => {
				write_json(input, ty, self.types, self.shapes, self.out).map_err(|_| Stop)?;
			}
		}
		Ok(())
	}
}
