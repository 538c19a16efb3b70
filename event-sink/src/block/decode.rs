//! Decodes a block's runtime events from the raw `System::Events` storage value, using only the runtime's
//! metadata: nothing here is compiled against the runtime's types, so a runtime upgrade that adds pallets or
//! events needs no change to the node (decode each block with the metadata of its own `spec_version`).
//!
//! `System::Events` holds a `Vec<EventRecord<RuntimeEvent, Hash>>`: a compact record count, then records of
//! `{ phase: Phase, event: RuntimeEvent, topics: Vec<Hash> }`. The record type is read from the metadata (the
//! type of the `System.Events` storage entry), compiled once per runtime
//! ([`crate::block::compiled_record`]), and every record is read by following it: the event's fields are written
//! as JSON straight from the bytes, with no value tree in between. A record the compiled layout can't read is
//! walked by scale-decode ([`crate::envelope::json`]), which writes the same JSON and decides every error.
//!
//! A record that does not decode does not stop anything: [`EventDecoder::decode_events`] returns the records
//! decoded before it plus an [`Undecodable`] remainder (the raw bytes from that record to the end, with the
//! error). SCALE is not self-delimiting, so once a record fails its length is unknown and so is where the next
//! one starts: the remainder stands for that record and every record after it.

use std::{fmt, sync::Arc};

use codec::{Compact, Decode};
use scale_decode::visitor::{decode_with_visitor, types::Variant, DecodeError as ScaleError, IgnoreVisitor, Visitor};
use scale_info::{form::PortableForm, PortableRegistry, TypeDef};

use crate::{
	block::{
		compiled_record::CompiledRecord,
		metadata::{self, RuntimeTypes},
	},
	envelope::json::{hex0x, write_event_fields, write_json, Shapes},
};

/// Why an [`EventDecoder`] could not be built from some metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
	/// The bytes are not runtime metadata of a supported version.
	Metadata(String),
	/// The metadata does not describe `System::Events` the way FRAME does.
	Layout(String),
}

impl fmt::Display for DecodeError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			DecodeError::Metadata(message) => write!(f, "unusable runtime metadata: {message}"),
			DecodeError::Layout(message) => write!(f, "unexpected System::Events layout: {message}"),
		}
	}
}

impl std::error::Error for DecodeError {}

/// When in the block an event was emitted (`frame_system::Phase`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
	/// While applying the extrinsic with this index in the block.
	ApplyExtrinsic(u32),
	/// While finalizing the block (`on_finalize` hooks).
	Finalization,
	/// While initializing the block (`on_initialize` hooks, migrations).
	Initialization,
}

/// One decoded event record.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedEvent {
	/// The record's index in the block's `System::Events` (0-based).
	pub index: u32,
	/// When in the block it was emitted.
	pub phase: Phase,
	/// The pallet's name in the runtime, e.g. `"Balances"`.
	pub pallet: Arc<str>,
	/// The event's variant name, e.g. `"Transfer"`.
	pub variant: Arc<str>,
	/// The pallet's index in the runtime (the `RuntimeEvent` variant's index).
	pub pallet_index: u8,
	/// The variant's index in the pallet's event enum.
	pub variant_index: u8,
	/// The event's fields as compact JSON text: an object keyed by field name (in the metadata's order), an array
	/// for unnamed fields, `{}` for none.
	pub data: String,
	/// The record's topics, `0x`-hex.
	pub topics: Vec<String>,
}

/// The part of a block's events that could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Undecodable {
	/// The index of the first record not decoded.
	pub index: u32,
	/// How many records the remainder holds (this one and every later one), when the record count was read.
	pub remaining_records: Option<u32>,
	/// Best effort: the failing record's phase, when it decodes.
	pub phase: Option<Phase>,
	/// Best effort: the failing record's pallet, when its pallet index is known to the metadata.
	pub pallet: Option<String>,
	/// Best effort: the failing record's variant, when its variant index is known to the metadata.
	pub variant: Option<String>,
	/// What went wrong, for `meta.decode_error`.
	pub error: String,
	/// `0x`-hex of the bytes from the failing record to the end of the value, at most [`RAW_CAP`] of them, for
	/// `meta.raw`.
	pub raw: String,
	/// How many bytes were left undecoded (`meta.raw_length`; more than `raw` holds when it was capped).
	pub raw_length: usize,
}

/// The most undecoded bytes an `UndecodableEvent` carries: a block's events can be megabytes, and a message
/// that large could be refused by Kafka. The first bytes show what failed; the block can be re-read from a node.
pub const RAW_CAP: usize = 4096;

/// `0x`-hex of the first [`RAW_CAP`] bytes.
fn capped_raw(bytes: &[u8]) -> String {
	hex0x(&bytes[..bytes.len().min(RAW_CAP)])
}

/// The result of decoding one block's `System::Events` value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecodedEvents {
	/// The number of records the value declares, when its length prefix decodes.
	pub record_count: Option<u32>,
	/// The records decoded, in order, up to the first failure.
	pub events: Vec<DecodedEvent>,
	/// The rest, when a record (or the length prefix, or trailing bytes) could not be decoded.
	pub undecodable: Option<Undecodable>,
}

impl DecodedEvents {
	/// How many extrinsics the block holds, read from its events: FRAME's `frame_system` deposits exactly one
	/// `System.ExtrinsicSuccess` or `System.ExtrinsicFailed` for every extrinsic applied (inherents included), and
	/// a block holds only applied extrinsics. `None` when some events did not decode (then count the body).
	pub fn extrinsics_count(&self) -> Option<u32> {
		if self.undecodable.is_some() {
			return None;
		}
		let outcomes = self.events.iter().filter(|event| {
			&*event.pallet == "System" && matches!(&*event.variant, "ExtrinsicSuccess" | "ExtrinsicFailed")
		});
		Some(outcomes.count() as u32)
	}
}

/// A pallet's events as the metadata declares them.
#[derive(Clone, Debug)]
struct PalletEvents {
	name: Arc<str>,
	index: u8,
	variants: Vec<EventVariant>,
}

/// One variant of a pallet's event enum.
#[derive(Clone, Debug)]
struct EventVariant {
	name: Arc<str>,
	index: u8,
	/// Unnamed fields are named by position: "0", "1", …
	fields: Vec<String>,
}

/// An event the metadata declares, by name and by index ([`EventDecoder::event_indexes`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EventIndex<'a> {
	pub pallet: &'a str,
	pub variant: &'a str,
	pub pallet_index: u8,
	pub variant_index: u8,
}

/// Decodes `System::Events` values with one runtime's metadata. Build one per runtime version (`spec_version`)
/// and reuse it for every block of that version.
#[derive(Clone, Debug)]
pub struct EventDecoder {
	types: RuntimeTypes,
	/// The outer `RuntimeEvent` enum, as the record's `event` field declares it.
	outer_event_ty: u32,
	/// The `Phase` enum; `Some` only when `phase` is the record's first field (needed to peek at a bad record).
	leading_phase_ty: Option<u32>,
	/// The record's fields in encoding order, with their types.
	record_fields: Vec<(RecordField, u32)>,
	pallets: Vec<PalletEvents>,
	/// Positions in `pallets`, by pallet index.
	pallet_positions: Vec<Option<usize>>,
	shapes: Shapes,
	/// The record layout compiled, when it is FRAME's usual one; every record is tried with it first.
	compiled: Option<Arc<CompiledRecord>>,
}

/// A field of `frame_system::EventRecord`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecordField {
	Phase,
	Event,
	Topics,
	/// A field this version of Herald doesn't know: decoded and skipped.
	Other,
}

impl EventDecoder {
	/// Builds a decoder from runtime metadata: the contents of the `OpaqueMetadata` returned by the
	/// `Metadata_metadata_at_version` (ask for 16 or 15) or `Metadata_metadata` runtime API.
	pub fn new(metadata: &[u8]) -> Result<EventDecoder, DecodeError> {
		let types = metadata::read(metadata)?;
		let registry = &types.registry;
		let storage_ty = types.events_storage_ty.ok_or_else(|| {
			DecodeError::Layout(
				"the metadata declares no plain System.Events storage entry: is this a FRAME runtime with \
				 frame_system at its usual name \"System\"?"
					.into(),
			)
		})?;
		let record_ty = match registry.resolve(storage_ty).map(|ty| &ty.type_def) {
			Some(TypeDef::Sequence(sequence)) => sequence.type_param.id,
			_ => {
				return Err(DecodeError::Layout(format!(
					"System.Events has type #{storage_ty}, not a Vec of event records"
				)))
			}
		};
		let fields = match registry.resolve(record_ty).map(|ty| &ty.type_def) {
			Some(TypeDef::Composite(composite)) => &composite.fields,
			_ => return Err(DecodeError::Layout(format!("the event record type #{record_ty} is not a struct"))),
		};
		let field_ty = |name: &str| {
			fields.iter().find(|field| field.name.as_deref() == Some(name)).map(|field| field.ty.id).ok_or_else(|| {
				DecodeError::Layout(format!(
					"the event record type #{record_ty} has no `{name}` field (expected phase, event, topics)"
				))
			})
		};
		let phase_ty = field_ty("phase")?;
		let outer_event_ty = field_ty("event")?;
		field_ty("topics")?;
		if !matches!(registry.resolve(outer_event_ty).map(|ty| &ty.type_def), Some(TypeDef::Variant(_))) {
			return Err(DecodeError::Layout(format!(
				"the record's event type #{outer_event_ty} is not the RuntimeEvent enum"
			)));
		}
		let leading_phase_ty =
			(fields.first().and_then(|field| field.name.as_deref()) == Some("phase")).then_some(phase_ty);
		let record_fields = fields
			.iter()
			.map(|field| {
				let kind = match field.name.as_deref() {
					Some("phase") => RecordField::Phase,
					Some("event") => RecordField::Event,
					Some("topics") => RecordField::Topics,
					_ => RecordField::Other,
				};
				(kind, field.ty.id)
			})
			.collect();
		let pallets = types
			.pallets
			.iter()
			.map(|pallet| PalletEvents {
				name: pallet.name.as_str().into(),
				index: pallet.index,
				variants: pallet.event_ty.map(|ty| variants_of(ty, registry)).unwrap_or_default(),
			})
			.collect::<Vec<_>>();
		let mut pallet_positions = vec![None; 256];
		for (position, pallet) in pallets.iter().enumerate() {
			pallet_positions[pallet.index as usize] = Some(position);
		}
		let shapes = Shapes::new(registry);
		let mut decoder = EventDecoder {
			types,
			outer_event_ty,
			leading_phase_ty,
			record_fields,
			pallets,
			pallet_positions,
			shapes,
			compiled: None,
		};
		let names = |pallet_index, pallet: &str, variant_index, variant: &str| {
			decoder.names(pallet_index, pallet, variant_index, variant)
		};
		let compiled = CompiledRecord::new(&decoder.types.registry, &decoder.record_fields, &names).map(Arc::new);
		decoder.compiled = compiled;
		Ok(decoder)
	}

	/// The metadata version the decoder was built from (14, 15 or 16).
	pub fn metadata_version(&self) -> u32 {
		self.types.version
	}

	/// Every pallet's name, in the metadata's order.
	pub fn pallet_names(&self) -> Vec<String> {
		self.pallets.iter().map(|pallet| pallet.name.to_string()).collect()
	}

	/// Every event the metadata declares, as (pallet, variant), in pallet then variant order.
	pub fn event_variants(&self) -> Vec<(String, String)> {
		self.pallets
			.iter()
			.flat_map(|pallet| {
				pallet.variants.iter().map(move |variant| (pallet.name.to_string(), variant.name.to_string()))
			})
			.collect()
	}

	/// Every event the metadata declares, with its pallet's and its own index, in pallet then variant order.
	pub fn event_indexes(&self) -> impl Iterator<Item = EventIndex<'_>> {
		self.pallets.iter().flat_map(|pallet| {
			pallet.variants.iter().map(move |variant| EventIndex {
				pallet: &pallet.name,
				variant: &variant.name,
				pallet_index: pallet.index,
				variant_index: variant.index,
			})
		})
	}

	/// The field names of one event (unnamed fields by position: "0", "1", …), or `None` if the metadata
	/// declares no such event.
	pub fn event_fields(&self, pallet: &str, variant: &str) -> Option<Vec<String>> {
		let pallet = self.pallets.iter().find(|p| &*p.name == pallet)?;
		pallet.variants.iter().find(|v| &*v.name == variant).map(|v| v.fields.clone())
	}

	/// Decodes the raw value of `System::Events` (an empty value, i.e. no storage entry, is no events). Never
	/// fails as a whole: see [`DecodedEvents::undecodable`].
	pub fn decode_events(&self, system_events_storage_value: &[u8]) -> DecodedEvents {
		self.decode_events_with(system_events_storage_value, true)
	}

	/// [`Self::decode_events`] with scale-decode alone, not the compiled layout: the reference the compiled one
	/// is checked against ([`crate::contract::check`]).
	#[doc(hidden)]
	pub fn decode_events_interpreted(&self, system_events_storage_value: &[u8]) -> DecodedEvents {
		self.decode_events_with(system_events_storage_value, false)
	}

	fn decode_events_with(&self, system_events_storage_value: &[u8], compiled: bool) -> DecodedEvents {
		let compiled = self.compiled.as_deref().filter(|_| compiled);
		let bytes = system_events_storage_value;
		if bytes.is_empty() {
			return DecodedEvents { record_count: Some(0), ..Default::default() };
		}
		let mut input = bytes;
		let count = match Compact::<u32>::decode(&mut input) {
			Ok(count) => count.0,
			Err(error) => {
				return DecodedEvents {
					record_count: None,
					events: Vec::new(),
					undecodable: Some(Undecodable {
						index: 0,
						remaining_records: None,
						phase: None,
						pallet: None,
						variant: None,
						error: format!("the event record count does not decode: {error}"),
						raw: capped_raw(bytes),
						raw_length: bytes.len(),
					}),
				}
			}
		};
		let mut events = Vec::new();
		for index in 0..count {
			let record_start = input;
			if let Some(compiled) = compiled {
				if let Ok(event) = compiled.decode(&mut input, index, self.registry(), &self.shapes) {
					events.push(event);
					continue;
				}
				// scale-decode reads it again and decides.
				input = record_start;
			}
			match self.decode_record(&mut input, index) {
				Ok(event) => events.push(event),
				Err(error) => {
					let (phase, pallet, variant) = self.peek(record_start);
					let name = match (&pallet, &variant) {
						(Some(pallet), Some(variant)) => format!(" ({pallet}.{variant})"),
						(Some(pallet), None) => format!(" ({pallet}.?)"),
						_ => String::new(),
					};
					let undecodable = Undecodable {
						index,
						remaining_records: Some(count - index),
						phase,
						pallet,
						variant,
						error: format!(
							"event record {index} of {count}{name} does not decode with the metadata of this \
							 runtime version: {error}; {}",
							match count - index - 1 {
								0 => "it is left undecoded".to_string(),
								1 => "it and the record after it are left undecoded".to_string(),
								later => format!("it and the {later} records after it are left undecoded"),
							}
						),
						raw: capped_raw(record_start),
						raw_length: record_start.len(),
					};
					return DecodedEvents { record_count: Some(count), events, undecodable: Some(undecodable) };
				}
			}
		}
		let undecodable = (!input.is_empty()).then(|| Undecodable {
			index: count,
			remaining_records: Some(0),
			phase: None,
			pallet: None,
			variant: None,
			error: format!(
				"{} bytes are left after the last of the {count} event records: the metadata does not match \
				 this block's events",
				input.len()
			),
			raw: capped_raw(input),
			raw_length: input.len(),
		});
		DecodedEvents { record_count: Some(count), events, undecodable }
	}

	fn registry(&self) -> &PortableRegistry {
		&self.types.registry
	}

	fn decode_record(&self, input: &mut &[u8], index: u32) -> Result<DecodedEvent, String> {
		let registry = self.registry();
		let (mut phase, mut event, mut topics) = (None, None, Vec::new());
		for (field, ty) in &self.record_fields {
			match field {
				RecordField::Phase => phase = Some(decode_with_visitor(input, *ty, registry, PhaseVisitor)?),
				RecordField::Event => {
					let mut data = Vec::with_capacity(256);
					let visitor = RuntimeEventVisitor { shapes: &self.shapes, data: &mut data };
					let ((pallet_index, pallet), (variant_index, variant)) =
						decode_with_visitor(input, *ty, registry, visitor)?;
					let (pallet, variant) = self.names(pallet_index, pallet, variant_index, variant);
					// The writer only writes valid UTF-8 (JSON text).
					let data =
						String::from_utf8(data).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
					event = Some((pallet, variant, pallet_index, variant_index, data));
				}
				RecordField::Topics => {
					let mut json = Vec::new();
					write_json(input, *ty, registry, &self.shapes, &mut json).map_err(|error| error.to_string())?;
					if json != b"[]" {
						topics = serde_json::from_slice(&json)
							.map_err(|error| format!("the record's topics are not a list of hashes: {error}"))?;
					}
				}
				RecordField::Other => decode_with_visitor(input, *ty, registry, IgnoreVisitor::new())
					.map_err(|error| error.to_string())?,
			}
		}
		let phase = phase.ok_or("the record has no `phase` field")?;
		let (pallet, variant, pallet_index, variant_index, data) = event.ok_or("the record has no `event` field")?;
		Ok(DecodedEvent { index, phase, pallet, variant, pallet_index, variant_index, data, topics })
	}

	/// The shared names of an event (allocated once per runtime), by its indexes; the decoded names if the
	/// metadata's pallet list doesn't hold them.
	fn names(&self, pallet_index: u8, pallet: &str, variant_index: u8, variant: &str) -> (Arc<str>, Arc<str>) {
		let known = self.pallet_positions[pallet_index as usize].map(|position| &self.pallets[position]);
		let pallet_name = known.map_or_else(|| pallet.into(), |known| known.name.clone());
		let variant_name = known
			// Variants are in index order, usually without gaps.
			.and_then(|known| {
				known.variants.get(variant_index as usize).filter(|v| v.index == variant_index).or_else(|| {
					known.variants.iter().find(|v| v.index == variant_index)
				})
			})
			.map_or_else(|| variant.into(), |known| known.name.clone());
		(pallet_name, variant_name)
	}

	/// Best-effort names for a record that does not decode: its phase, and the pallet and variant its first two
	/// event bytes (pallet index, variant index) point at.
	fn peek(&self, record: &[u8]) -> (Option<Phase>, Option<String>, Option<String>) {
		let Some(phase_ty) = self.leading_phase_ty else { return (None, None, None) };
		let mut input = record;
		let Ok(phase) = decode_with_visitor(&mut input, phase_ty, self.registry(), PhaseVisitor) else {
			return (None, None, None);
		};
		let phase = Some(phase);
		let Some(TypeDef::Variant(outer)) = self.registry().resolve(self.outer_event_ty).map(|ty| &ty.type_def) else {
			return (phase, None, None);
		};
		let Some(pallet) = input.first().and_then(|index| outer.variants.iter().find(|v| v.index == *index)) else {
			return (phase, None, None);
		};
		let variant = pallet.fields.first().and_then(|field| self.registry().resolve(field.ty.id)).and_then(|ty| {
			match &ty.type_def {
				TypeDef::Variant(events) => input
					.get(1)
					.and_then(|index| events.variants.iter().find(|v| v.index == *index))
					.map(|v| v.name.clone()),
				_ => None,
			}
		});
		(phase, Some(pallet.name.clone()), variant)
	}
}

/// The variants of an enum type with their field names, in index order.
fn variants_of(ty: u32, registry: &PortableRegistry) -> Vec<EventVariant> {
	let Some(TypeDef::Variant(enum_ty)) = registry.resolve(ty).map(|ty| &ty.type_def) else {
		return Vec::new();
	};
	let mut variants: Vec<&scale_info::Variant<PortableForm>> = enum_ty.variants.iter().collect();
	variants.sort_by_key(|variant| variant.index);
	variants
		.into_iter()
		.map(|variant| {
			let fields = variant
				.fields
				.iter()
				.enumerate()
				.map(|(position, field)| field.name.clone().unwrap_or_else(|| position.to_string()))
				.collect();
			EventVariant { name: variant.name.as_str().into(), index: variant.index, fields }
		})
		.collect()
}

/// Why a record did not decode: scale-decode's error, or a record that is not shaped as FRAME's.
#[derive(Debug)]
struct RecordError(String);

impl From<ScaleError> for RecordError {
	fn from(error: ScaleError) -> Self {
		RecordError(error.to_string())
	}
}

impl From<RecordError> for String {
	fn from(error: RecordError) -> Self {
		error.0
	}
}

/// Reads a `frame_system::Phase`.
struct PhaseVisitor;

impl Visitor for PhaseVisitor {
	type Value<'scale, 'resolver> = Phase;
	type Error = RecordError;
	type TypeResolver = PortableRegistry;

	fn visit_variant<'scale, 'resolver>(
		self,
		value: &mut Variant<'scale, 'resolver, PortableRegistry>,
		_: u32,
	) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		match value.name() {
			"ApplyExtrinsic" => match value.fields().decode_item(U32Visitor) {
				Some(index) => Ok(Phase::ApplyExtrinsic(index?)),
				None => Err(RecordError("the ApplyExtrinsic phase carries no extrinsic index".into())),
			},
			"Finalization" => Ok(Phase::Finalization),
			"Initialization" => Ok(Phase::Initialization),
			other => Err(RecordError(format!("unknown phase {other}"))),
		}
	}
}

struct U32Visitor;

impl Visitor for U32Visitor {
	type Value<'scale, 'resolver> = u32;
	type Error = RecordError;
	type TypeResolver = PortableRegistry;

	fn visit_u32<'scale, 'resolver>(self, value: u32, _: u32) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		Ok(value)
	}
}

/// Reads `RuntimeEvent::Pallet(pallet::Event::Variant { .. })`: returns the pallet's and the variant's indexes and
/// names and writes the variant's fields as JSON to `data`.
struct RuntimeEventVisitor<'o> {
	shapes: &'o Shapes,
	data: &'o mut Vec<u8>,
}

impl<'o> Visitor for RuntimeEventVisitor<'o> {
	type Value<'scale, 'resolver> = ((u8, &'resolver str), (u8, &'resolver str));
	type Error = RecordError;
	type TypeResolver = PortableRegistry;

	fn visit_variant<'scale, 'resolver>(
		self,
		value: &mut Variant<'scale, 'resolver, PortableRegistry>,
		_: u32,
	) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		let pallet = value.name();
		let pallet_index = value.index();
		let fields = value.fields();
		if fields.remaining() != 1 {
			return Err(RecordError(format!("RuntimeEvent::{pallet} does not wrap exactly one pallet event")));
		}
		let variant = fields.decode_item(PalletEventVisitor { shapes: self.shapes, data: self.data });
		Ok(((pallet_index, pallet), variant.unwrap_or_else(|| Err(ScaleError::NotEnoughInput.into()))?))
	}
}

/// Reads one pallet's event enum: returns the variant's index and name and writes its fields as JSON to `data`.
struct PalletEventVisitor<'o> {
	shapes: &'o Shapes,
	data: &'o mut Vec<u8>,
}

impl<'o> Visitor for PalletEventVisitor<'o> {
	type Value<'scale, 'resolver> = (u8, &'resolver str);
	type Error = RecordError;
	type TypeResolver = PortableRegistry;

	fn visit_variant<'scale, 'resolver>(
		self,
		value: &mut Variant<'scale, 'resolver, PortableRegistry>,
		_: u32,
	) -> Result<Self::Value<'scale, 'resolver>, Self::Error> {
		let name = value.name();
		let index = value.index();
		write_event_fields(value.fields(), self.shapes, self.data)?;
		Ok((index, name))
	}
}
