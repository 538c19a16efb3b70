//! The storage the sink reads for each block: `System::Events` (the events) and `Timestamp::Now` (the block's
//! time, for `meta.timestamp`), with their keys and the timestamp's decoding.

use codec::Decode;
use sp_crypto_hashing::twox_128;

/// The key of a plain storage value: `twox128(pallet) ++ twox128(item)`.
pub fn plain_storage_key(pallet: &str, item: &str) -> Vec<u8> {
	[twox_128(pallet.as_bytes()), twox_128(item.as_bytes())].concat()
}

/// The key of `System::Events`: `0x26aa394eea5630e07c48ae0c9558cef780d41e5e16056765bc8461851072c9d7`.
pub fn system_events_storage_key() -> Vec<u8> {
	plain_storage_key("System", "Events")
}

/// The key of `Timestamp::Now`: `0xf0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb`.
pub fn timestamp_storage_key() -> Vec<u8> {
	plain_storage_key("Timestamp", "Now")
}

/// Decodes the value of `Timestamp::Now`: a SCALE `u64`, milliseconds since the Unix epoch.
pub fn decode_timestamp(value: &[u8]) -> Result<u64, String> {
	let mut input = value;
	let millis = u64::decode(&mut input).map_err(|error| {
		format!("Timestamp::Now ({}) is not a SCALE u64: {error}", crate::envelope::json::hex0x(value))
	})?;
	if !input.is_empty() {
		return Err(format!(
			"Timestamp::Now ({}) is {} bytes, a SCALE u64 is 8",
			crate::envelope::json::hex0x(value),
			value.len()
		));
	}
	Ok(millis)
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn keys_are_the_well_known_ones() {
		assert_eq!(
			hex::encode(system_events_storage_key()),
			"26aa394eea5630e07c48ae0c9558cef780d41e5e16056765bc8461851072c9d7"
		);
		assert_eq!(
			hex::encode(timestamp_storage_key()),
			"f0c365c3cf59d671eb72da0e7a4113c49f1f0515f462cdcf84e0f1d6045dfcbb"
		);
	}

	#[test]
	fn timestamp_decodes_exactly_eight_bytes() {
		assert_eq!(decode_timestamp(&1_700_000_000_123u64.to_le_bytes()), Ok(1_700_000_000_123));
		let short = decode_timestamp(&[1, 2, 3]).unwrap_err();
		assert!(short.contains("not a SCALE u64"), "{short}");
		let long = decode_timestamp(&[0; 9]).unwrap_err();
		assert!(long.contains("9 bytes"), "{long}");
	}
}
