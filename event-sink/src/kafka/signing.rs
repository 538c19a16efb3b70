//! Signed envelopes (`--kafka-sign-key-file`): every message carries an HMAC-SHA256 of its value, so a consumer
//! holding the key can tell it came from this producer untouched.
//!
//! The format, for consumers in any language:
//! - header `signature`: the lowercase hex of HMAC-SHA256(key, the message value's bytes as received);
//! - header `signature_key_id`: which key signed it (keys rotate: a consumer keeps the keys it trusts by id).
//!
//! The key file holds the key as hex (e.g. `openssl rand -hex 32`), at least 32 bytes; surrounding whitespace is
//! ignored.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Header carrying the signature.
pub const SIGNATURE_HEADER: &str = "signature";
/// Header carrying the signing key's id.
pub const KEY_ID_HEADER: &str = "signature_key_id";

/// The shortest key accepted, in bytes (HMAC-SHA256's own output size).
pub const MIN_KEY_BYTES: usize = 32;

/// A signing key and its id. Its `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
	key: Vec<u8>,
	id: String,
}

impl std::fmt::Debug for SigningKey {
	fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
		write!(f, "SigningKey {{ id: {:?}, key: <redacted> }}", self.id)
	}
}

impl SigningKey {
	/// A key from its hex text, with `id` or, by default, the first 16 hex digits of SHA-256(key). Errors never
	/// contain the key.
	pub fn from_hex(text: &str, id: Option<String>) -> Result<Self, String> {
		let key = hex::decode(text.trim()).map_err(|_| {
			"the signing key file must hold the key as hex (e.g. `openssl rand -hex 32 > key`)".to_string()
		})?;
		if key.len() < MIN_KEY_BYTES {
			return Err(format!(
				"the signing key is {} bytes; it must be at least {MIN_KEY_BYTES} (`openssl rand -hex 32 > key`)",
				key.len()
			));
		}
		let id = id.unwrap_or_else(|| hex::encode(&Sha256::digest(&key)[..8]));
		Ok(Self { key, id })
	}

	pub fn id(&self) -> &str {
		&self.id
	}

	/// The `signature` header's value for `value`.
	pub fn sign(&self, value: &[u8]) -> String {
		let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length");
		mac.update(value);
		hex::encode(mac.finalize().into_bytes())
	}

	/// Whether `signature` (the header's value) is this key's signature of `value` (compared in constant time).
	pub fn verify(&self, value: &[u8], signature: &str) -> bool {
		let Ok(signature) = hex::decode(signature) else { return false };
		let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts keys of any length");
		mac.update(value);
		mac.verify_slice(&signature).is_ok()
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

	#[test]
	fn signs_as_documented_and_rejects_a_tampered_value() {
		let key = SigningKey::from_hex(&format!("{KEY}\n"), None).unwrap();
		let value = br#"{"name":"AssetCreatedEvent"}"#;
		let signature = key.sign(value);
		// Any HMAC-SHA256 implementation gives the same: the documented algorithm, nothing Herald-specific.
		let mut mac = Hmac::<Sha256>::new_from_slice(&hex::decode(KEY).unwrap()).unwrap();
		mac.update(value);
		assert_eq!(signature, hex::encode(mac.finalize().into_bytes()));
		assert!(key.verify(value, &signature));
		assert!(!key.verify(br#"{"name":"AssetCreatedEvenT"}"#, &signature), "a tampered value fails");
		assert!(!key.verify(value, "00"), "a wrong signature fails");
		assert_eq!(key.id().len(), 16);
	}

	#[test]
	fn short_or_non_hex_keys_are_refused_without_echoing_them() {
		let error = SigningKey::from_hex("abcd", None).unwrap_err();
		assert!(error.contains("2 bytes") && error.contains("at least 32"), "{error}");
		let error = SigningKey::from_hex("not-hex-secret", None).unwrap_err();
		assert!(!error.contains("not-hex-secret"), "{error}");
		let key = SigningKey::from_hex(KEY, Some("2026-11".into())).unwrap();
		assert!(!format!("{key:?}").contains("0001020304"), "Debug redacts the key");
	}
}
