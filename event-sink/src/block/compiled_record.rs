//! One runtime's `EventRecord` layout compiled ([`crate::envelope::compiled`]): the phase, the pallet and the
//! event by their index bytes, the event's fields written as JSON by compiled nodes. It decodes the usual record
//! of a FRAME runtime; on anything else ([`Stop`]) the decoder reads the record with scale-decode, which decides
//! what is reported. Built once per runtime version, with the decoder.

use std::sync::Arc;

use scale_info::{PortableRegistry, TypeDef, TypeDefPrimitive};

use crate::{
	block::decode::{DecodedEvent, Phase, RecordField},
	envelope::{
		compiled::{compile_fields, CompiledTypes, Fields, Stop, Writer},
		json::{write_json, FieldsOf, Shapes},
	},
};

/// A field of the record, in encoding order.
#[derive(Clone, Debug)]
enum RecordPart {
	Phase,
	Event,
	/// `Vec<Hash>`: type id.
	Topics(u32),
}

/// One event of a pallet.
#[derive(Clone, Debug)]
struct EventPlan {
	name: Arc<str>,
	fields: Fields,
}

/// One pallet's events, by variant index.
#[derive(Clone, Debug)]
struct PalletPlan {
	name: Arc<str>,
	events: Vec<Option<EventPlan>>,
}

/// See the module documentation.
#[derive(Clone, Debug)]
pub struct CompiledRecord {
	types: CompiledTypes,
	parts: Vec<RecordPart>,
	/// By the phase's variant index.
	phases: [Option<PhaseKind>; 256],
	/// By pallet index.
	pallets: Vec<Option<PalletPlan>>,
}

#[derive(Clone, Copy, Debug)]
enum PhaseKind {
	ApplyExtrinsic,
	Finalization,
	Initialization,
}

/// The names the decoder gives a pallet and an event, by their indexes and their names in the registry.
pub type Names<'a> = dyn Fn(u8, &str, u8, &str) -> (Arc<str>, Arc<str>) + 'a;

impl CompiledRecord {
	/// `None` when the record is not FRAME's usual one (then every record is read by scale-decode).
	pub(crate) fn new(
		registry: &PortableRegistry,
		fields: &[(RecordField, u32)],
		names: &Names<'_>,
	) -> Option<CompiledRecord> {
		let resolve = |id: u32| registry.resolve(id).map(|ty| &ty.type_def);
		let mut parts = Vec::new();
		let (mut phases, mut pallets) = ([None; 256], Vec::new());
		for &(field, ty) in fields {
			match field {
				RecordField::Phase => {
					let Some(TypeDef::Variant(phase)) = resolve(ty) else { return None };
					for variant in &phase.variants {
						let kind = match (variant.name.as_str(), variant.fields.as_slice()) {
							("ApplyExtrinsic", [field])
								if matches!(resolve(field.ty.id), Some(TypeDef::Primitive(TypeDefPrimitive::U32))) =>
							{
								PhaseKind::ApplyExtrinsic
							}
							("Finalization", []) => PhaseKind::Finalization,
							("Initialization", []) => PhaseKind::Initialization,
							_ => continue,
						};
						phases[variant.index as usize].get_or_insert(kind);
					}
					parts.push(RecordPart::Phase);
				}
				RecordField::Event => {
					let Some(TypeDef::Variant(outer)) = resolve(ty) else { return None };
					pallets = vec![None; 256];
					for pallet in &outer.variants {
						let [field] = pallet.fields.as_slice() else { continue };
						let Some(TypeDef::Variant(events)) = resolve(field.ty.id) else { continue };
						let mut plans = vec![None; 256];
						let mut pallet_name = None;
						for event in &events.variants {
							// The names the decoder gives them (the metadata's pallet list first).
							let (name, event_name) = names(pallet.index, &pallet.name, event.index, &event.name);
							pallet_name.get_or_insert(name);
							plans[event.index as usize].get_or_insert(EventPlan {
								name: event_name,
								fields: compile_fields(FieldsOf::Event, &event.fields),
							});
						}
						// The first variant with an index wins, as scale-decode's search finds it.
						if let (Some(name), None) = (pallet_name, &pallets[pallet.index as usize]) {
							pallets[pallet.index as usize] = Some(PalletPlan { name, events: plans });
						}
					}
					parts.push(RecordPart::Event);
				}
				// A sequence: its count comes first, and a zero count is the byte 0.
				RecordField::Topics if matches!(resolve(ty), Some(TypeDef::Sequence(_))) => {
					parts.push(RecordPart::Topics(ty))
				}
				RecordField::Topics | RecordField::Other => return None,
			}
		}
		Some(CompiledRecord { types: CompiledTypes::new(registry), parts, phases, pallets })
	}

	/// Decodes the record at the start of `input` (record `index` of the block) and moves `input` past it.
	pub fn decode(
		&self,
		input: &mut &[u8],
		index: u32,
		registry: &PortableRegistry,
		shapes: &Shapes,
	) -> Result<DecodedEvent, Stop> {
		let (mut phase, mut event, mut topics) = (None, None, Vec::new());
		for part in &self.parts {
			match part {
				RecordPart::Phase => {
					let (&variant, rest) = input.split_first().ok_or(Stop)?;
					*input = rest;
					phase = Some(match self.phases[variant as usize].ok_or(Stop)? {
						PhaseKind::ApplyExtrinsic => {
							let (bytes, rest) = input.split_first_chunk::<4>().ok_or(Stop)?;
							*input = rest;
							Phase::ApplyExtrinsic(u32::from_le_bytes(*bytes))
						}
						PhaseKind::Finalization => Phase::Finalization,
						PhaseKind::Initialization => Phase::Initialization,
					});
				}
				RecordPart::Event => {
					let &[pallet_index, variant_index, ref rest @ ..] = *input else { return Err(Stop) };
					*input = rest;
					let pallet = self.pallets.get(pallet_index as usize).and_then(Option::as_ref).ok_or(Stop)?;
					let plan = pallet.events[variant_index as usize].as_ref().ok_or(Stop)?;
					let mut data = Vec::with_capacity(256);
					let mut writer = Writer { out: &mut data, types: registry, shapes };
					self.types.write_fields(&plan.fields, &mut writer, input)?;
					// The writer only writes valid UTF-8 (JSON text).
					let data = String::from_utf8(data).map_err(|_| Stop)?;
					event = Some((pallet.name.clone(), plan.name.clone(), pallet_index, variant_index, data));
				}
				RecordPart::Topics(ty) => {
					// Almost always empty: a zero count.
					if input.first() == Some(&0) {
						*input = &input[1..];
						continue;
					}
					let mut json = Vec::new();
					write_json(input, *ty, registry, shapes, &mut json).map_err(|_| Stop)?;
					if json != b"[]" {
						topics = serde_json::from_slice(&json).map_err(|_| Stop)?;
					}
				}
			}
		}
		let (pallet, variant, pallet_index, variant_index, data) = event.ok_or(Stop)?;
		Ok(DecodedEvent {
			index,
			phase: phase.ok_or(Stop)?,
			pallet,
			variant,
			pallet_index,
			variant_index,
			data,
			topics,
		})
	}
}
