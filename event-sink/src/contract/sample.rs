//! Random SCALE values of any type of a runtime's registry, by walking the registry: for the contracts' property
//! tests (every event type, encoded, written by the sink's JSON writer, must validate against its schema) and for
//! the catalog's example envelopes (a value written by the real writer, not made up).
//!
//! Values lean towards the edges the JSON conventions care about (0, 2^53−1, 2^53, the width's maximum, empty
//! and non-ASCII strings, empty sequences). Recursive types terminate: past a depth the walk takes, in every
//! enum, the variant that ends soonest and makes sequences empty.

use codec::{Compact, Encode};
use scale_info::{form::PortableForm, PortableRegistry, TypeDef, TypeDefBitSequence, TypeDefPrimitive};

use crate::envelope::json::MAX_SAFE_INTEGER;

/// A small, seedable pseudo-random generator (SplitMix64): deterministic examples, reproducible failures.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
	pub fn new(seed: u64) -> Rng {
		Rng(seed)
	}

	pub fn next_u64(&mut self) -> u64 {
		self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
		let mut z = self.0;
		z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
		z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
		z ^ (z >> 31)
	}

	/// A number in `0..n` (`n > 0`).
	pub fn below(&mut self, n: u64) -> u64 {
		self.next_u64() % n
	}

	pub fn chance(&mut self, one_in: u64) -> bool {
		self.below(one_in) == 0
	}
}

/// Why no value could be made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleError(pub String);

impl std::fmt::Display for SampleError {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		f.write_str(&self.0)
	}
}

/// Makes random SCALE values of one registry's types.
pub struct Sampler<'a> {
	types: &'a PortableRegistry,
	/// The least nesting each type needs to end (`u32::MAX`: none, an uninhabited type), by type id.
	cost: Vec<u32>,
	/// Past this depth, enums take their cheapest variant and sequences are empty.
	pub max_depth: usize,
}

impl<'a> Sampler<'a> {
	pub fn new(types: &'a PortableRegistry) -> Self {
		Sampler { types, cost: termination_costs(types), max_depth: 6 }
	}

	/// Whether type `type_id` has any value at all (an enum without variants has none).
	pub fn inhabited(&self, type_id: u32) -> bool {
		self.cost.get(type_id as usize).is_some_and(|cost| *cost != u32::MAX)
	}

	/// A random value of type `type_id`, SCALE-encoded, appended to `out`.
	pub fn value(&self, type_id: u32, rng: &mut Rng, out: &mut Vec<u8>) -> Result<(), SampleError> {
		self.walk(type_id, rng, out, 0, false)
	}

	/// Random values of a list of fields (an event variant's), one after the other.
	pub fn fields(
		&self,
		fields: &[scale_info::Field<PortableForm>],
		rng: &mut Rng,
		out: &mut Vec<u8>,
	) -> Result<(), SampleError> {
		fields.iter().try_for_each(|field| self.walk(field.ty.id, rng, out, 1, false))
	}

	fn walk(
		&self,
		type_id: u32,
		rng: &mut Rng,
		out: &mut Vec<u8>,
		depth: usize,
		compact: bool,
	) -> Result<(), SampleError> {
		let ty = self
			.types
			.resolve(type_id)
			.ok_or_else(|| SampleError(format!("type #{type_id} is not in the registry")))?;
		let deep = depth >= self.max_depth;
		match &ty.type_def {
			TypeDef::Composite(composite) => {
				composite.fields.iter().try_for_each(|field| self.walk(field.ty.id, rng, out, depth + 1, compact))
			}
			TypeDef::Variant(variant) => {
				if compact {
					return Err(SampleError(format!("type #{type_id}: an enum can't be compact")));
				}
				let inhabited: Vec<_> = variant
					.variants
					.iter()
					.filter(|variant| variant.fields.iter().all(|field| self.inhabited(field.ty.id)))
					.collect();
				if inhabited.is_empty() {
					return Err(SampleError(format!("type #{type_id} ({}) has no value", ty.path)));
				}
				let chosen = if deep {
					*inhabited.iter().min_by_key(|variant| self.fields_cost(&variant.fields)).expect("non-empty")
				} else {
					inhabited[rng.below(inhabited.len() as u64) as usize]
				};
				out.push(chosen.index);
				chosen.fields.iter().try_for_each(|field| self.walk(field.ty.id, rng, out, depth + 1, false))
			}
			TypeDef::Sequence(sequence) => {
				let item = sequence.type_param.id;
				let is_byte = matches!(
					self.types.resolve(item).map(|ty| &ty.type_def),
					Some(TypeDef::Primitive(TypeDefPrimitive::U8))
				);
				let length = if deep || !self.inhabited(item) {
					0
				} else if is_byte {
					[0, 1, 2, 4, 32, rng.below(40)][rng.below(6) as usize]
				} else {
					rng.below(4)
				};
				Compact(length as u32).encode_to(out);
				(0..length).try_for_each(|_| self.walk(item, rng, out, depth + 1, false))
			}
			TypeDef::Array(array) => {
				(0..array.len).try_for_each(|_| self.walk(array.type_param.id, rng, out, depth + 1, false))
			}
			TypeDef::Tuple(tuple) => {
				tuple.fields.iter().try_for_each(|field| self.walk(field.id, rng, out, depth + 1, compact))
			}
			TypeDef::Primitive(primitive) => primitive_value(primitive, rng, out, compact),
			TypeDef::Compact(inner) => self.walk(inner.type_param.id, rng, out, depth + 1, true),
			TypeDef::BitSequence(bits) => self.bit_sequence(bits, rng, out),
		}
	}

	fn bit_sequence(
		&self,
		bits: &TypeDefBitSequence<PortableForm>,
		rng: &mut Rng,
		out: &mut Vec<u8>,
	) -> Result<(), SampleError> {
		let store_bytes = match self.types.resolve(bits.bit_store_type.id).map(|ty| &ty.type_def) {
			Some(TypeDef::Primitive(TypeDefPrimitive::U8)) => 1,
			Some(TypeDef::Primitive(TypeDefPrimitive::U16)) => 2,
			Some(TypeDef::Primitive(TypeDefPrimitive::U32)) => 4,
			Some(TypeDef::Primitive(TypeDefPrimitive::U64)) => 8,
			_ => return Err(SampleError("a bit sequence's store is not u8, u16, u32 or u64".into())),
		};
		let count = rng.below(20) as usize;
		Compact(count as u32).encode_to(out);
		let words = count.div_ceil(store_bytes * 8);
		for _ in 0..words * store_bytes {
			out.push(rng.next_u64() as u8);
		}
		Ok(())
	}

	fn fields_cost(&self, fields: &[scale_info::Field<PortableForm>]) -> u32 {
		fields.iter().map(|field| self.cost[field.ty.id as usize]).fold(0u32, |sum, cost| sum.saturating_add(cost))
	}
}

/// The least nesting each type needs to end, by a fixpoint over the registry (`u32::MAX`: no finite value).
fn termination_costs(types: &PortableRegistry) -> Vec<u32> {
	let size = types.types.iter().map(|ty| ty.id as usize + 1).max().unwrap_or(0);
	let mut cost = vec![u32::MAX; size];
	loop {
		let mut changed = false;
		for ty in &types.types {
			let of = |id: u32| cost.get(id as usize).copied().unwrap_or(u32::MAX);
			let sum = |ids: &mut dyn Iterator<Item = u32>| ids.map(of).fold(0u32, |a, b| a.saturating_add(b));
			let new = match &ty.ty.type_def {
				TypeDef::Composite(composite) => sum(&mut composite.fields.iter().map(|f| f.ty.id)),
				TypeDef::Variant(variant) => variant
					.variants
					.iter()
					.map(|variant| sum(&mut variant.fields.iter().map(|f| f.ty.id)))
					.min()
					.unwrap_or(u32::MAX),
				TypeDef::Sequence(_) | TypeDef::Primitive(_) | TypeDef::BitSequence(_) => 0,
				TypeDef::Array(array) => {
					if array.len == 0 {
						0
					} else {
						of(array.type_param.id)
					}
				}
				TypeDef::Tuple(tuple) => sum(&mut tuple.fields.iter().map(|f| f.id)),
				TypeDef::Compact(compact) => of(compact.type_param.id),
			};
			let new = if new == u32::MAX { u32::MAX } else { new.saturating_add(1).min(u32::MAX - 1) };
			if new < cost[ty.id as usize] {
				cost[ty.id as usize] = new;
				changed = true;
			}
		}
		if !changed {
			return cost;
		}
	}
}

/// An integer of `bits` bits (unsigned), leaning towards the edges of the JSON forms.
fn unsigned(bits: u32, rng: &mut Rng) -> u128 {
	let max = if bits == 128 { u128::MAX } else { (1u128 << bits) - 1 };
	let safe = MAX_SAFE_INTEGER;
	let candidates = [
		0,
		1,
		max,
		max.saturating_sub(1),
		safe.min(max),
		(safe + 1).min(max),
		random_u128(rng) & max,
		rng.below(1000) as u128 & max,
	];
	candidates[rng.below(candidates.len() as u64) as usize]
}

fn signed(bits: u32, rng: &mut Rng) -> i128 {
	let max = if bits == 128 { i128::MAX } else { (1i128 << (bits - 1)) - 1 };
	let min = -max - 1;
	let safe = MAX_SAFE_INTEGER as i128;
	let random = (random_u128(rng) as i128) >> (128 - bits);
	let candidates =
		[0, 1, -1, max, min, safe.min(max), (-safe).max(min), (safe + 1).min(max), (-safe - 1).max(min), random];
	candidates[rng.below(candidates.len() as u64) as usize]
}

fn random_u128(rng: &mut Rng) -> u128 {
	(u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64())
}

fn primitive_value(
	primitive: &TypeDefPrimitive,
	rng: &mut Rng,
	out: &mut Vec<u8>,
	compact: bool,
) -> Result<(), SampleError> {
	use TypeDefPrimitive as P;
	if compact {
		match primitive {
			P::U8 => Compact(unsigned(8, rng) as u8).encode_to(out),
			P::U16 => Compact(unsigned(16, rng) as u16).encode_to(out),
			P::U32 => Compact(unsigned(32, rng) as u32).encode_to(out),
			P::U64 => Compact(unsigned(64, rng) as u64).encode_to(out),
			P::U128 => Compact(unsigned(128, rng)).encode_to(out),
			other => return Err(SampleError(format!("{other:?} can't be compact"))),
		}
		return Ok(());
	}
	match primitive {
		P::Bool => rng.chance(2).encode_to(out),
		P::Char => {
			let chars = ['a', 'é', '"', '\\', '\n', '字', '😀', '\u{0}'];
			(chars[rng.below(chars.len() as u64) as usize] as u32).encode_to(out)
		}
		P::Str => {
			let texts = ["", "Herald", "a \"quoted\" \\ back\nslash", "é字😀", "\u{0}\u{1f}", "0x00"];
			texts[rng.below(texts.len() as u64) as usize].encode_to(out)
		}
		P::U8 => (unsigned(8, rng) as u8).encode_to(out),
		P::U16 => (unsigned(16, rng) as u16).encode_to(out),
		P::U32 => (unsigned(32, rng) as u32).encode_to(out),
		P::U64 => (unsigned(64, rng) as u64).encode_to(out),
		P::U128 => unsigned(128, rng).encode_to(out),
		P::I8 => (signed(8, rng) as i8).encode_to(out),
		P::I16 => (signed(16, rng) as i16).encode_to(out),
		P::I32 => (signed(32, rng) as i32).encode_to(out),
		P::I64 => (signed(64, rng) as i64).encode_to(out),
		P::I128 => signed(128, rng).encode_to(out),
		P::U256 | P::I256 => {
			let edge = rng.below(4);
			for position in 0..32 {
				out.push(match edge {
					0 => 0,
					1 => 0xff,
					2 if position == 31 => 0x80,
					2 => 0,
					_ => rng.next_u64() as u8,
				});
			}
		}
	}
	Ok(())
}

/// A `System::Events` value holding one record of the event `pallet_index`/`variant_index` whose fields are
/// `fields` (SCALE), with a random phase and random topics: what the sink reads from a block's state.
pub fn system_events(
	sampler: &Sampler<'_>,
	types: &crate::block::metadata::RuntimeTypes,
	pallet_index: u8,
	variant_index: u8,
	fields: &[u8],
	rng: &mut Rng,
) -> Result<Vec<u8>, SampleError> {
	let registry = &types.registry;
	let storage_ty = types.events_storage_ty.ok_or_else(|| SampleError("no System.Events storage entry".into()))?;
	let Some(TypeDef::Sequence(sequence)) = registry.resolve(storage_ty).map(|ty| &ty.type_def) else {
		return Err(SampleError("System.Events is not a sequence".into()));
	};
	let Some(TypeDef::Composite(record)) = registry.resolve(sequence.type_param.id).map(|ty| &ty.type_def) else {
		return Err(SampleError("the event record is not a struct".into()));
	};
	let mut out = Vec::new();
	Compact(1u32).encode_to(&mut out);
	for field in &record.fields {
		if field.name.as_deref() == Some("event") {
			out.push(pallet_index);
			out.push(variant_index);
			out.extend_from_slice(fields);
		} else {
			sampler.value(field.ty.id, rng, &mut out)?;
		}
	}
	Ok(out)
}
