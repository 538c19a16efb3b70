//! JSON pointers (RFC 6901) resolved in JSON text without building a tree: a mapping's partition key points into
//! an event's `data`, and every message of a dense block needs its key. Parsing `data` into a
//! `serde_json::Value` for that cost more CPU than anything else the request builder did (a map and a string per
//! field, for one field); here each level is scanned once, the members not on the path are skipped unparsed, and
//! the value found is returned as the text it is in `data`.

use std::{borrow::Cow, fmt};

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// The value `pointer` points to in the JSON text `json`, as its text (`None` when the path is not there, or
/// `json` is not JSON). Same rules as `serde_json::Value::pointer`: `""` is the whole value, tokens are separated
/// by `/` and unescape `~1` to `/` and `~0` to `~`, and an array is indexed by a decimal token without leading
/// zeros.
pub fn find<'a>(json: &'a str, pointer: &str) -> Option<&'a RawValue> {
	if pointer.is_empty() {
		return serde_json::from_str(json).ok();
	}
	let tokens = pointer.strip_prefix('/')?;
	let mut current: &'a str = json;
	let mut found = None;
	for token in tokens.split('/') {
		let token = if token.contains('~') {
			Cow::Owned(token.replace("~1", "/").replace("~0", "~"))
		} else {
			Cow::Borrowed(token)
		};
		// Scanning a level checks it whole (every member is read), and `end` that nothing follows it: the text is
		// validated on the way, without a pass of its own.
		let mut deserializer = serde_json::Deserializer::from_str(current);
		let member: &'a RawValue = Member { token: &token }.deserialize(&mut deserializer).ok()??;
		deserializer.end().ok()?;
		current = member.get();
		found = Some(member);
	}
	found
}

/// Finds one member (an object's key, or an array's index) among a value's, skipping the others.
struct Member<'t> {
	token: &'t str,
}

impl<'de> DeserializeSeed<'de> for Member<'_> {
	type Value = Option<&'de RawValue>;

	fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
		deserializer.deserialize_any(self)
	}
}

impl<'de> Visitor<'de> for Member<'_> {
	type Value = Option<&'de RawValue>;

	fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
		f.write_str("a JSON value")
	}

	fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
		let mut found = None;
		while let Some(key) = map.next_key::<Cow<'de, str>>()? {
			// A raw value is skipped as cheaply as an ignored one: its text is only sliced. A repeated key: the last
			// one counts, as in `Value`.
			let value = map.next_value::<&'de RawValue>()?;
			if key == self.token {
				found = Some(value);
			}
		}
		Ok(found)
	}

	fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
		// `Value::pointer`'s index rule: decimal digits, no leading zero but "0" itself, no sign.
		let index: Option<usize> = match self.token.as_bytes() {
			[b'0'] => Some(0),
			[b'1'..=b'9', ..] => self.token.parse().ok(),
			_ => None,
		};
		let mut found = None;
		let mut position = 0;
		while let Some(value) = seq.next_element::<&'de RawValue>()? {
			if Some(position) == index {
				found = Some(value);
			}
			position += 1;
		}
		Ok(found)
	}

	// A scalar has no members.
	fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
		Ok(None)
	}
	fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
		Ok(None)
	}
	fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
		Ok(None)
	}
	fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
		Ok(None)
	}
	fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
		Ok(None)
	}
	fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
		Ok(None)
	}
}

#[cfg(test)]
mod tests {
	use serde_json::{json, Value};

	use super::*;

	/// Every pointer resolves as `serde_json::Value::pointer` does, to the same value.
	#[test]
	fn resolves_like_serde_jsons_value_pointer() {
		let data = json!({
			"who": "5Grw",
			"amount": "123456789012345678901",
			"n": 7,
			"flag": true,
			"none": null,
			"nested": {"a/b": {"m~n": "k", "list": [10, {"deep": [1, 2, "x"]}, "s\"q"]}},
			"list": [0, 1, 2],
			"": {"": 5}
		});
		let text = data.to_string();
		for pointer in [
			"",
			"/who",
			"/amount",
			"/n",
			"/flag",
			"/none",
			"/nested",
			"/nested/a~1b",
			"/nested/a~1b/m~0n",
			"/nested/a~1b/list/1/deep/2",
			"/nested/a~1b/list/2",
			"/list/0",
			"/list/2",
			"/list/3",
			"/list/01",
			"/list/-",
			"/list/+1",
			"/missing",
			"/who/0",
			"/n/x",
			"/",
			"//",
			"no-slash",
			"/nested/a~1b/list/9",
		] {
			let expected = data.pointer(pointer);
			let found = find(&text, pointer).map(|raw| serde_json::from_str::<Value>(raw.get()).unwrap());
			assert_eq!(found.as_ref(), expected, "pointer {pointer:?}");
		}
	}

	#[test]
	fn text_that_is_not_json_has_nothing() {
		assert!(find("{\"a\":", "/a").is_none());
		assert!(find("", "").is_none());
	}
}
