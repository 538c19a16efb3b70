//! The stand-in for a message Kafka will never accept (`--kafka-on-rejected stand-in`): a small
//! `MessageRejected` envelope with the rejected message's id, topic, key and partition, so that the block stays
//! complete for a consumer (every id arrives, the retraction lists still match) and says what was lost and why.

use serde_json::{json, Value as Json};

use crate::{
	envelope::{MessageHeaders, OutgoingMessage},
	mapping::EventType,
};

/// The stand-in's envelope name.
pub const NAME: &str = "MessageRejected";

/// The parts of a rejected message the stand-in is built from.
pub struct Rejected<'a> {
	pub id: &'a str,
	pub topic: &'a str,
	pub key: Option<&'a [u8]>,
	pub payload: &'a [u8],
	/// Its `block_hash` header.
	pub block_hash: &'a str,
	/// Its `finalized` header.
	pub finalized: bool,
}

impl<'a> Rejected<'a> {
	/// The parts of a message the sink still holds.
	pub fn of(message: &'a OutgoingMessage) -> Self {
		Self {
			id: &message.id,
			topic: &message.topic,
			key: message.key.as_deref(),
			payload: &message.payload,
			block_hash: &message.headers.block_hash,
			finalized: message.headers.finalized,
		}
	}
}

/// The stand-in for `rejected`, refused for `reason`. It keeps the envelope's `meta` (without `raw`, the usual
/// bulk of an oversized `UndecodableEvent`) and names the original envelope in `data`.
pub fn stand_in(rejected: Rejected<'_>, reason: &str) -> OutgoingMessage {
	let original: Json = serde_json::from_slice(rejected.payload).unwrap_or(Json::Null);
	let mut meta = original.get("meta").cloned().unwrap_or_else(|| json!({ "id": rejected.id }));
	// An undecodable event's own fields don't describe the stand-in (and `raw` is the usual bulk).
	let decode_error = meta.as_object_mut().and_then(|meta| {
		meta.remove("raw");
		meta.remove("raw_length");
		meta.remove("decode_error")
	});
	let mut data = json!({
		"name": original.get("name").cloned().unwrap_or(Json::Null),
		"type": original.get("type").cloned().unwrap_or(Json::Null),
		"bytes": rejected.payload.len(),
		"reason": reason,
	});
	if let Some(decode_error) = decode_error {
		data["decode_error"] = decode_error;
	}
	let envelope = json!({ "name": NAME, "type": "infrastructure", "data": data, "meta": meta });
	OutgoingMessage {
		id: rejected.id.to_string(),
		topic: rejected.topic.into(),
		key: rejected.key.map(Into::into),
		payload: serde_json::to_vec(&envelope).expect("JSON values always serialise").into(),
		headers: MessageHeaders {
			name: NAME.into(),
			event_type: EventType::Infrastructure,
			block_hash: rejected.block_hash.into(),
			finalized: rejected.finalized,
		},
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn keeps_id_topic_key_and_meta_and_names_the_original() {
		let payload = json!({
			"name": "UndecodableEvent",
			"type": "domain",
			"data": null,
			"meta": { "id": "0xab:3", "block": { "number": 7 }, "raw": "0x0102", "raw_length": 2, "decode_error": "x" },
		});
		let payload = serde_json::to_vec(&payload).unwrap();
		let message = stand_in(
			Rejected {
				id: "0xab:3",
				topic: "herald.events",
				key: Some(b"k"),
				payload: &payload,
				block_hash: "0xab",
				finalized: true,
			},
			"Broker: Message size too large",
		);
		assert_eq!((message.id.as_str(), &*message.topic), ("0xab:3", "herald.events"));
		assert_eq!(message.key.as_deref(), Some(&b"k"[..]));
		let envelope: Json = serde_json::from_slice(&message.payload).unwrap();
		assert_eq!(envelope["name"], NAME);
		assert_eq!(envelope["data"]["name"], "UndecodableEvent");
		assert_eq!(envelope["data"]["bytes"], payload.len());
		assert_eq!(envelope["data"]["reason"], "Broker: Message size too large");
		assert_eq!(envelope["meta"]["block"]["number"], 7);
		assert!(envelope["meta"].get("raw").is_none(), "the bulk is dropped");
		assert!(envelope["meta"].get("raw_length").is_none() && envelope["meta"].get("decode_error").is_none());
		assert_eq!(envelope["data"]["decode_error"], "x", "why the original was undecodable is kept in data");
		let headers = message.headers();
		assert_eq!(headers[1], ("name", NAME.as_bytes()));
		assert_eq!(headers[2], ("type", &b"infrastructure"[..]));
		assert_eq!((headers[4], headers[5]), (("block_hash", &b"0xab"[..]), ("finalized", &b"true"[..])));
	}

	#[test]
	fn a_payload_that_is_not_an_envelope_still_gets_a_stand_in() {
		let message = stand_in(
			Rejected { id: "5:0", topic: "t", key: None, payload: b"not json", block_hash: "", finalized: false },
			"too large",
		);
		let envelope: Json = serde_json::from_slice(&message.payload).unwrap();
		assert_eq!(envelope["meta"]["id"], "5:0");
		assert_eq!(envelope["data"]["name"], Json::Null);
	}
}
