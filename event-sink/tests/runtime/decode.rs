//! Decoding real events with the real runtime's metadata, and surviving bad input.

use codec::Encode;
use herald_event_sink::block::decode::{EventDecoder, Phase};
use serde_json::json;

use crate::{account, encoded, hex32, metadata, sample_records, supported_versions};

fn decoder() -> EventDecoder {
	EventDecoder::new(&metadata(15)).expect("the runtime's metadata V15 is usable")
}

#[test]
fn real_events_decode_with_every_supported_metadata_version() {
	let versions = supported_versions();
	assert!(versions.contains(&14) && versions.contains(&15), "the runtime offers {versions:?}");
	let value = encoded(&sample_records());
	for version in versions {
		let decoder = EventDecoder::new(&metadata(version)).expect("usable metadata");
		assert_eq!(decoder.metadata_version(), version);
		let decoded = decoder.decode_events(&value);
		assert_eq!(decoded.undecodable, None, "V{version}");
		assert_eq!(decoded.record_count, Some(6));
		let names: Vec<(u32, Phase, &str, &str)> =
			decoded.events.iter().map(|e| (e.index, e.phase, &*e.pallet, &*e.variant)).collect();
		assert_eq!(
			names,
			[
				(0, Phase::Initialization, "System", "NewAccount"),
				(1, Phase::ApplyExtrinsic(1), "Balances", "Transfer"),
				(2, Phase::ApplyExtrinsic(2), "Assets", "Created"),
				(3, Phase::ApplyExtrinsic(2), "Assets", "Issued"),
				(4, Phase::ApplyExtrinsic(3), "System", "ExtrinsicFailed"),
				(5, Phase::Finalization, "Balances", "Deposit"),
			],
			"V{version}"
		);
	}
}

#[test]
fn event_data_follows_the_json_conventions() {
	let decoded = decoder().decode_events(&encoded(&sample_records()));
	let data: Vec<_> =
		decoded.events.iter().map(|e| serde_json::from_str::<serde_json::Value>(&e.data).unwrap()).collect();
	assert_eq!(data[0], json!({"account": hex32(3)}));
	assert_eq!(data[1], json!({"from": hex32(1), "to": hex32(2), "amount": 5000}));
	assert_eq!(decoded.events[1].topics, vec![hex32(0xab)]);
	assert!(decoded.events[0].topics.is_empty());
	assert_eq!(data[2], json!({"asset_id": 7, "creator": hex32(1), "owner": hex32(2)}));
	assert_eq!(data[3], json!({"asset_id": 7, "owner": hex32(2), "amount": "1000000000000000000000000000000"}));
	assert_eq!(
		data[4],
		json!({
			"dispatch_error": {"Module": {"index": 7, "error": "0x03000000"}},
			"dispatch_info": {"weight": {"ref_time": 1000, "proof_size": 64}, "class": "Normal", "pays_fee": "Yes"},
		})
	);
	assert_eq!(data[5], json!({"who": hex32(4), "amount": 1}));
}

#[test]
fn byte_fields_options_and_unit_variants() {
	use herald_runtime::RuntimeEvent;
	let records = vec![
		crate::record(
			frame_system::Phase::ApplyExtrinsic(0),
			RuntimeEvent::Assets(pallet_assets::Event::MetadataSet {
				asset_id: 1,
				name: b"Herald".to_vec(),
				symbol: b"HRD".to_vec(),
				decimals: 12,
				is_frozen: false,
			}),
			vec![],
		),
		crate::record(
			frame_system::Phase::ApplyExtrinsic(0),
			RuntimeEvent::Sudo(pallet_sudo::Event::KeyChanged { old: None, new: account(9) }),
			vec![],
		),
		crate::record(
			frame_system::Phase::ApplyExtrinsic(0),
			RuntimeEvent::Sudo(pallet_sudo::Event::Sudid { sudo_result: Ok(()) }),
			vec![],
		),
		crate::record(frame_system::Phase::Finalization, RuntimeEvent::Sudo(pallet_sudo::Event::KeyRemoved), vec![]),
	];
	let decoded = decoder().decode_events(&encoded(&records));
	assert_eq!(decoded.undecodable, None);
	let data: Vec<_> =
		decoded.events.iter().map(|e| serde_json::from_str::<serde_json::Value>(&e.data).unwrap()).collect();
	assert_eq!(
		data[0],
		json!({"asset_id": 1, "name": "0x486572616c64", "symbol": "0x485244", "decimals": 12, "is_frozen": false})
	);
	assert_eq!(data[1], json!({"old": null, "new": hex32(9)}));
	assert_eq!(data[2], json!({"sudo_result": {"Ok": null}}));
	assert_eq!(data[3], json!({}), "an event without fields has empty data");
}

#[test]
fn the_metadata_lists_pallets_and_events() {
	let decoder = decoder();
	let pallets = decoder.pallet_names();
	for pallet in ["System", "Timestamp", "Aura", "Grandpa", "Balances", "TransactionPayment", "Sudo", "Assets"] {
		assert!(pallets.iter().any(|p| p == pallet), "{pallet} in {pallets:?}");
	}
	let events = decoder.event_variants();
	assert!(events.contains(&("Assets".into(), "Created".into())));
	assert!(events.contains(&("Balances".into(), "Transfer".into())));
	assert!(!events.iter().any(|(pallet, _)| pallet == "Aura"), "Aura declares no events");
	assert_eq!(
		decoder.event_fields("Assets", "Created"),
		Some(vec!["asset_id".to_string(), "creator".into(), "owner".into()])
	);
	assert_eq!(decoder.event_fields("Assets", "Nope"), None);
}

#[test]
fn empty_storage_is_no_events() {
	let decoded = decoder().decode_events(&[]);
	assert_eq!((decoded.record_count, decoded.events.len(), decoded.undecodable), (Some(0), 0, None));
	let decoded = decoder().decode_events(&Vec::<u8>::new().encode());
	assert_eq!((decoded.record_count, decoded.events.len(), decoded.undecodable), (Some(0), 0, None));
}

/// Where record `index` starts in the encoded value of `sample_records()`.
fn record_offset(index: usize) -> usize {
	let records = sample_records();
	let prefix = codec::Compact(records.len() as u32).encode().len();
	prefix + records[..index].iter().map(|r| r.encode().len()).sum::<usize>()
}

#[test]
fn an_unknown_pallet_index_stops_decoding_with_the_remainder() {
	let mut value = encoded(&sample_records());
	// Record 1 is ApplyExtrinsic(1): 1 phase byte + 4 index bytes, then the pallet index.
	let start = record_offset(1);
	value[start + 5] = 0xff;
	let decoded = decoder().decode_events(&value);
	assert_eq!(decoded.events.len(), 1, "the record before the bad one is kept");
	let remainder = decoded.undecodable.expect("a remainder");
	assert_eq!(remainder.index, 1);
	assert_eq!(remainder.remaining_records, Some(5));
	assert_eq!(remainder.phase, Some(Phase::ApplyExtrinsic(1)));
	assert_eq!((remainder.pallet, remainder.variant), (None, None));
	assert_eq!(remainder.raw, format!("0x{}", hex::encode(&value[start..])));
	assert!(remainder.error.contains("event record 1 of 6"), "{}", remainder.error);
}

#[test]
fn an_unknown_variant_index_names_the_pallet() {
	let mut value = encoded(&sample_records());
	let start = record_offset(2);
	value[start + 6] = 0xfe; // Assets' variant index.
	let decoded = decoder().decode_events(&value);
	assert_eq!(decoded.events.len(), 2);
	let remainder = decoded.undecodable.expect("a remainder");
	assert_eq!((remainder.index, remainder.pallet.as_deref(), remainder.variant), (2, Some("Assets"), None));
	assert!(remainder.error.contains("(Assets.?)"), "{}", remainder.error);
}

#[test]
fn a_truncated_value_keeps_the_complete_records() {
	let value = encoded(&sample_records());
	let cut = record_offset(3) + 10;
	let decoded = decoder().decode_events(&value[..cut]);
	assert_eq!(decoded.events.len(), 3);
	let remainder = decoded.undecodable.expect("a remainder");
	assert_eq!(
		(remainder.index, remainder.pallet.as_deref(), remainder.variant.as_deref()),
		(3, Some("Assets"), Some("Issued"))
	);
	assert_eq!(remainder.raw, format!("0x{}", hex::encode(&value[record_offset(3)..cut])));
}

#[test]
fn trailing_bytes_are_reported() {
	let mut value = encoded(&sample_records());
	value.extend_from_slice(&[1, 2, 3]);
	let decoded = decoder().decode_events(&value);
	assert_eq!(decoded.events.len(), 6);
	let remainder = decoded.undecodable.expect("a remainder");
	assert_eq!((remainder.index, remainder.remaining_records, remainder.raw.as_str()), (6, Some(0), "0x010203"));
	assert!(remainder.error.contains("3 bytes are left"), "{}", remainder.error);
}

#[test]
fn no_input_makes_the_decoder_panic() {
	let decoder = decoder();
	let value = encoded(&sample_records());
	// Every truncation, and every single-byte corruption, decodes to a prefix plus at most a remainder.
	for cut in 0..value.len() {
		let decoded = decoder.decode_events(&value[..cut]);
		assert!(decoded.events.len() <= 6);
		assert!(cut == 0 || decoded.undecodable.is_some(), "a cut at {cut} must be noticed");
	}
	for position in 0..value.len() {
		for byte in [0x00, 0x7f, 0xff] {
			let mut corrupted = value.clone();
			corrupted[position] = byte;
			let decoded = decoder.decode_events(&corrupted);
			if let Some(remainder) = &decoded.undecodable {
				assert_eq!(remainder.index as usize, decoded.events.len());
			}
		}
	}
	let garbage = decoder.decode_events(&[0xff]);
	assert_eq!(garbage.record_count, None);
	assert!(garbage.undecodable.expect("a remainder").error.contains("record count"));
}

#[test]
fn bad_metadata_is_an_error_not_a_panic() {
	let error = EventDecoder::new(b"not metadata").expect_err("rejected").to_string();
	assert!(error.contains("0x6d657461") && error.contains("Metadata_metadata_at_version"), "{error}");
	let mut truncated = metadata(15);
	truncated.truncate(truncated.len() / 2);
	assert!(EventDecoder::new(&truncated).is_err());
	// The SCALE-encoded OpaqueMetadata (behind a length prefix) is accepted too.
	assert!(EventDecoder::new(&metadata(15).encode()).is_ok());
	// `Runtime::metadata()` (V14, RuntimeMetadataPrefixed) encoded directly.
	assert!(EventDecoder::new(&herald_runtime::Runtime::metadata().encode()).is_ok());
}
