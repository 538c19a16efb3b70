//! Reads runtime metadata (V14, V15 or V16) into the little the event decoder needs: the type registry, the
//! pallets with their event enums, and the type of the `System::Events` storage value.
//!
//! Accepts the bytes inside the `OpaqueMetadata` that the `Metadata_metadata` / `Metadata_metadata_at_version`
//! runtime APIs return (a SCALE `RuntimeMetadataPrefixed`, starting with the magic `b"meta"`), and, for
//! convenience, the SCALE encoding of that `OpaqueMetadata` itself (the same bytes behind a compact length).

use codec::Decode;
use frame_metadata::{v14::StorageEntryType, RuntimeMetadata, RuntimeMetadataPrefixed, META_RESERVED};
use scale_info::PortableRegistry;

use crate::block::decode::DecodeError;

/// A pallet as the metadata declares it.
#[derive(Clone, Debug)]
pub struct PalletInfo {
	/// The pallet's name in the runtime (`construct_runtime!` / `#[runtime]`), e.g. `"Balances"`.
	pub name: String,
	/// The pallet's index: the first byte of its events in the outer `RuntimeEvent` encoding.
	pub index: u8,
	/// The type id of the pallet's `Event` enum, if it has events.
	pub event_ty: Option<u32>,
}

/// What the decoder keeps of the metadata.
#[derive(Clone, Debug)]
pub struct RuntimeTypes {
	/// The metadata version read (14, 15 or 16).
	pub version: u32,
	/// Every type the runtime's metadata refers to.
	pub registry: PortableRegistry,
	/// The pallets, in the metadata's order.
	pub pallets: Vec<PalletInfo>,
	/// The type id of the `System::Events` storage value (`Vec<EventRecord<RuntimeEvent, Hash>>`), if present.
	pub events_storage_ty: Option<u32>,
	/// The type id of the outer `RuntimeEvent` enum, where the metadata declares it (V15+).
	pub outer_event_ty: Option<u32>,
}

/// Decodes metadata bytes, see the module docs for the accepted forms.
pub fn read(bytes: &[u8]) -> Result<RuntimeTypes, DecodeError> {
	let prefixed = if bytes.starts_with(&META_RESERVED.to_le_bytes()) {
		decode_prefixed(bytes)?
	} else {
		// Perhaps the SCALE-encoded `OpaqueMetadata` (a `Vec<u8>`) rather than its contents.
		let inner =
			Vec::<u8>::decode(&mut &bytes[..]).ok().filter(|inner| inner.starts_with(&META_RESERVED.to_le_bytes()));
		match inner {
			Some(inner) => decode_prefixed(&inner)?,
			None => {
				return Err(DecodeError::Metadata(format!(
					"the bytes ({} of them, starting {}) are not runtime metadata: expected a \
					 RuntimeMetadataPrefixed starting with the magic 0x6d657461 (\"meta\"); pass the contents of \
					 the OpaqueMetadata returned by the Metadata_metadata_at_version runtime API",
					bytes.len(),
					crate::envelope::json::hex0x(&bytes[..bytes.len().min(8)]),
				)))
			}
		}
	};
	from_runtime_metadata(prefixed.1)
}

fn decode_prefixed(bytes: &[u8]) -> Result<RuntimeMetadataPrefixed, DecodeError> {
	let mut input = bytes;
	let prefixed = RuntimeMetadataPrefixed::decode(&mut input).map_err(|e| {
		DecodeError::Metadata(format!(
			"the runtime metadata does not decode ({e}); only versions 14, 15 and 16 are supported"
		))
	})?;
	if !input.is_empty() {
		return Err(DecodeError::Metadata(format!(
			"{} bytes are left after the runtime metadata: the bytes are not one RuntimeMetadataPrefixed",
			input.len()
		)));
	}
	Ok(prefixed)
}

/// Pulls the same fields out of each supported version: their field names agree, only their types differ.
macro_rules! read_version {
	($version:expr, $metadata:expr, $outer_event_ty:expr) => {{
		let metadata = $metadata;
		let mut events_storage_ty = None;
		let pallets = metadata
			.pallets
			.iter()
			.map(|pallet| {
				if pallet.name == "System" {
					let entries = pallet.storage.iter().flat_map(|storage| storage.entries.iter());
					for entry in entries.filter(|entry| entry.name == "Events") {
						if let StorageEntryType::Plain(ty) = &entry.ty {
							events_storage_ty = Some(ty.id);
						}
					}
				}
				PalletInfo {
					name: pallet.name.clone(),
					index: pallet.index,
					event_ty: pallet.event.as_ref().map(|event| event.ty.id),
				}
			})
			.collect();
		RuntimeTypes {
			version: $version,
			outer_event_ty: $outer_event_ty(&metadata),
			registry: metadata.types,
			pallets,
			events_storage_ty,
		}
	}};
}

fn from_runtime_metadata(metadata: RuntimeMetadata) -> Result<RuntimeTypes, DecodeError> {
	Ok(match metadata {
		RuntimeMetadata::V14(m) => read_version!(14, m, |_: &_| None),
		RuntimeMetadata::V15(m) => {
			read_version!(15, m, |m: &frame_metadata::v15::RuntimeMetadataV15| Some(m.outer_enums.event_enum_ty.id))
		}
		RuntimeMetadata::V16(m) => {
			read_version!(16, m, |m: &frame_metadata::v16::RuntimeMetadataV16| Some(m.outer_enums.event_enum_ty.id))
		}
		other => {
			return Err(DecodeError::Metadata(format!(
				"runtime metadata version {} is not supported: ask the runtime for version 14, 15 or 16 \
				 (Metadata_metadata_at_version)",
				other.version()
			)))
		}
	})
}
