//! Which of the envelope's facts every message repeats as Kafka headers (`--kafka-headers`).
//!
//! Headers let a consumer route and deduplicate without parsing the value, but they are not free: librdkafka
//! copies each one into every message, and six of them cut a bare producer's rate by about half on the same
//! payloads (issue 22's figures). Everything a header says is also in the value (`meta.id`, `name`, `type`,
//! `meta.schema_version`, `meta.block.hash`, `meta.finalized`), so by default only `id` is sent, the one a
//! consumer needs to deduplicate cheaply; the rest are opt-in. Signatures (`signature`, `signature_key_id`) are
//! not part of this choice: they are sent whenever a signing key is configured.

use std::fmt;

/// A header every message can carry, in the order they are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
	Id,
	Name,
	Type,
	SchemaVersion,
	BlockHash,
	Finalized,
}

impl Header {
	/// Every header, in the order messages carry them.
	pub const ALL: [Header; 6] =
		[Header::Id, Header::Name, Header::Type, Header::SchemaVersion, Header::BlockHash, Header::Finalized];

	/// The header's key on the wire.
	pub fn key(self) -> &'static str {
		match self {
			Header::Id => "id",
			Header::Name => "name",
			Header::Type => "type",
			Header::SchemaVersion => "schema_version",
			Header::BlockHash => "block_hash",
			Header::Finalized => "finalized",
		}
	}

	/// The key as librdkafka's C API takes it (NUL-terminated).
	pub fn c_key(self) -> &'static std::ffi::CStr {
		match self {
			Header::Id => c"id",
			Header::Name => c"name",
			Header::Type => c"type",
			Header::SchemaVersion => c"schema_version",
			Header::BlockHash => c"block_hash",
			Header::Finalized => c"finalized",
		}
	}

	fn bit(self) -> u8 {
		1 << self as u8
	}
}

/// A set of [`Header`]s. The default is `id` alone.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct HeaderSet(u8);

impl Default for HeaderSet {
	fn default() -> Self {
		HeaderSet::of(&[Header::Id])
	}
}

impl HeaderSet {
	/// Every header (what Herald sent before `--kafka-headers` existed).
	pub fn all() -> Self {
		HeaderSet::of(&Header::ALL)
	}

	/// No header at all.
	pub fn none() -> Self {
		HeaderSet(0)
	}

	/// The set of `headers`.
	pub fn of(headers: &[Header]) -> Self {
		HeaderSet(headers.iter().fold(0, |bits, header| bits | header.bit()))
	}

	/// Whether messages carry `header`.
	pub fn contains(self, header: Header) -> bool {
		self.0 & header.bit() != 0
	}

	/// Parses `--kafka-headers`: a comma-separated list of header keys, `all` or `none`.
	pub fn parse(list: &str) -> Result<Self, String> {
		match list.trim() {
			"all" => return Ok(HeaderSet::all()),
			"none" | "" => return Ok(HeaderSet::none()),
			_ => {}
		}
		let mut set = HeaderSet::none();
		for item in list.split(',').map(str::trim) {
			let header = Header::ALL.into_iter().find(|header| header.key() == item).ok_or_else(|| {
				format!(
					"unknown header {item:?}: list some of {}, or give `all` or `none`",
					Header::ALL.map(Header::key).join(", ")
				)
			})?;
			set = HeaderSet(set.0 | header.bit());
		}
		Ok(set)
	}
}

impl fmt::Debug for HeaderSet {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		fmt::Display::fmt(self, f)
	}
}

impl fmt::Display for HeaderSet {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		let keys: Vec<&str> = Header::ALL.into_iter().filter(|h| self.contains(*h)).map(Header::key).collect();
		if keys.is_empty() {
			f.write_str("none")
		} else {
			f.write_str(&keys.join(","))
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn parses_lists_keywords_and_refuses_unknown_keys() {
		assert_eq!(HeaderSet::default().to_string(), "id");
		assert_eq!(HeaderSet::parse("all").unwrap(), HeaderSet::all());
		assert_eq!(HeaderSet::parse("none").unwrap().to_string(), "none");
		let set = HeaderSet::parse("id, block_hash,finalized").unwrap();
		assert!(set.contains(Header::BlockHash) && !set.contains(Header::Name));
		assert_eq!(set.to_string(), "id,block_hash,finalized");
		let error = HeaderSet::parse("id,blockhash").unwrap_err();
		assert!(error.contains("\"blockhash\"") && error.contains("block_hash"), "{error}");
	}
}
