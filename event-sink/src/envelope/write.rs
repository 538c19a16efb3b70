//! Writes envelopes as compact JSON, the one writer every message goes through. The part of `meta` that every
//! envelope of a block repeats (chain, block, runtime, time, finality) is serialised once per block, into a
//! [`BlockFrame`], and copied into each envelope; the event's own part is written around it in `meta`'s field
//! order (docs/envelope.md):
//!
//! ```json
//! {"name":…,"type":…,"data":…,"meta":{"id":…,"schema_version":1,"chain":…,"block":{"number":…,"hash":…,
//!  "parent_hash":…},"event_index":…,"phase"?:{"kind":…,"extrinsic_index"?:…},"pallet":…,"variant":…,
//!  "spec_version":…,"timestamp":…,"finalized":…,"decode_error"?:…,"raw"?:…,"raw_length"?:…}}
//! ```

use std::{ops::Range, sync::Arc};

use crate::{
	block::decode::Phase,
	envelope::{BlockContext, SCHEMA_VERSION},
	mapping::EventType,
};

/// The parts of every envelope of one block that are the same for all of them, serialised once.
#[derive(Clone, Debug)]
pub struct BlockFrame {
	/// The block hash, `0x`-hex: the prefix of every `meta.id`, and the `block_hash` header.
	pub hash: Arc<str>,
	/// The chain's genesis hash, `0x`-hex, as bytes: the partition key of the chain's messages.
	pub chain_key: Arc<[u8]>,
	/// `meta.finalized`, also a header.
	pub finalized: bool,
	/// `"schema_version":1,"chain":…,"block":{…}`: what comes between `meta.id` and `meta.event_index`.
	head: String,
	/// `"spec_version":…,"timestamp":…,"finalized":…`: what comes after `meta.variant`.
	tail: String,
}

impl BlockFrame {
	pub fn new(context: &BlockContext) -> BlockFrame {
		let mut head = Vec::with_capacity(256);
		head.extend_from_slice(b"\"schema_version\":");
		write_u64(&mut head, SCHEMA_VERSION as u64);
		head.extend_from_slice(b",\"chain\":");
		write_str(&mut head, &context.chain);
		head.extend_from_slice(b",\"block\":{\"number\":");
		write_u64(&mut head, context.number);
		head.extend_from_slice(b",\"hash\":");
		write_str(&mut head, &context.hash);
		head.extend_from_slice(b",\"parent_hash\":");
		write_str(&mut head, &context.parent_hash);
		head.push(b'}');

		let mut tail = Vec::with_capacity(64);
		tail.extend_from_slice(b"\"spec_version\":");
		write_u64(&mut tail, context.spec_version as u64);
		tail.extend_from_slice(b",\"timestamp\":");
		match context.timestamp {
			Some(timestamp) => write_u64(&mut tail, timestamp),
			None => tail.extend_from_slice(b"null"),
		}
		tail.extend_from_slice(if context.finalized { b",\"finalized\":true" } else { b",\"finalized\":false" });

		BlockFrame {
			hash: context.hash.as_str().into(),
			chain_key: context.chain.as_bytes().into(),
			finalized: context.finalized,
			// Only JSON text (valid UTF-8) was written.
			head: String::from_utf8(head).expect("JSON text is UTF-8"),
			tail: String::from_utf8(tail).expect("JSON text is UTF-8"),
		}
	}

	/// `meta.id` of the block's event (or remainder) with index `event_index`: `"{block hash}:{event index}"`.
	pub fn event_id(&self, event_index: u32) -> String {
		let mut id = String::with_capacity(self.hash.len() + 11);
		id.push_str(&self.hash);
		id.push(':');
		id.push_str(itoa::Buffer::new().format(event_index));
		id
	}
}

/// The event's own part of `meta`; all `None` in an infrastructure envelope.
#[derive(Clone, Copy, Debug, Default)]
pub struct EventMeta<'a> {
	pub event_index: Option<u32>,
	/// Absent from the JSON when `None`.
	pub phase: Option<Phase>,
	pub pallet: Option<&'a str>,
	pub variant: Option<&'a str>,
	/// With `raw` and `raw_length`: an undecodable remainder's error and bytes; absent when `None`.
	pub decode_error: Option<&'a str>,
	pub raw: Option<&'a str>,
	pub raw_length: Option<usize>,
}

/// The envelope's top-level parts besides `meta`.
#[derive(Clone, Copy, Debug)]
pub struct Head<'a> {
	pub name: &'a str,
	pub event_type: EventType,
	/// Compact JSON text, copied as it is.
	pub data: &'a str,
	/// `meta.id`.
	pub id: &'a str,
}

/// The envelope as compact JSON.
pub fn envelope_json(head: Head<'_>, frame: &BlockFrame, event: &EventMeta<'_>) -> Vec<u8> {
	write_envelope(head, frame, event).0
}

/// The envelope as compact JSON, and where its `data` sits in it (byte range): outputs that need `data` again
/// (a pointer key, a filter) read it there instead of keeping a second copy.
pub fn write_envelope(head: Head<'_>, frame: &BlockFrame, event: &EventMeta<'_>) -> (Vec<u8>, Range<u32>) {
	let mut out = Vec::with_capacity(head.data.len() + frame.head.len() + frame.tail.len() + 192);
	out.extend_from_slice(b"{\"name\":");
	write_str(&mut out, head.name);
	out.extend_from_slice(b",\"type\":\"");
	out.extend_from_slice(head.event_type.as_str().as_bytes());
	out.extend_from_slice(b"\",\"data\":");
	let data_start = out.len() as u32;
	out.extend_from_slice(head.data.as_bytes());
	let data = data_start..out.len() as u32;
	out.extend_from_slice(b",\"meta\":{\"id\":");
	write_str(&mut out, head.id);
	out.push(b',');
	out.extend_from_slice(frame.head.as_bytes());
	out.extend_from_slice(b",\"event_index\":");
	write_option_u64(&mut out, event.event_index.map(u64::from));
	if let Some(phase) = event.phase {
		let (kind, extrinsic_index) = phase_parts(phase);
		out.extend_from_slice(b",\"phase\":{\"kind\":\"");
		out.extend_from_slice(kind.as_bytes());
		out.push(b'"');
		if let Some(index) = extrinsic_index {
			out.extend_from_slice(b",\"extrinsic_index\":");
			write_u64(&mut out, index as u64);
		}
		out.push(b'}');
	}
	out.extend_from_slice(b",\"pallet\":");
	write_option_str(&mut out, event.pallet);
	out.extend_from_slice(b",\"variant\":");
	write_option_str(&mut out, event.variant);
	out.push(b',');
	out.extend_from_slice(frame.tail.as_bytes());
	if let Some(decode_error) = event.decode_error {
		out.extend_from_slice(b",\"decode_error\":");
		write_str(&mut out, decode_error);
	}
	if let Some(raw) = event.raw {
		out.extend_from_slice(b",\"raw\":");
		write_str(&mut out, raw);
	}
	if let Some(raw_length) = event.raw_length {
		out.extend_from_slice(b",\"raw_length\":");
		write_u64(&mut out, raw_length as u64);
	}
	out.extend_from_slice(b"}}");
	(out, data)
}

/// `meta.phase.kind` and `meta.phase.extrinsic_index` of a phase.
pub fn phase_parts(phase: Phase) -> (&'static str, Option<u32>) {
	match phase {
		Phase::ApplyExtrinsic(index) => ("ApplyExtrinsic", Some(index)),
		Phase::Initialization => ("Initialization", None),
		Phase::Finalization => ("Finalization", None),
	}
}

/// A JSON string, escaped as serde_json escapes it.
fn write_str(out: &mut Vec<u8>, text: &str) {
	// Writing to memory can't fail.
	let _ = serde_json::to_writer(&mut *out, text);
}

fn write_option_str(out: &mut Vec<u8>, text: Option<&str>) {
	match text {
		Some(text) => write_str(out, text),
		None => out.extend_from_slice(b"null"),
	}
}

fn write_u64(out: &mut Vec<u8>, value: u64) {
	out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

fn write_option_u64(out: &mut Vec<u8>, value: Option<u64>) {
	match value {
		Some(value) => write_u64(out, value),
		None => out.extend_from_slice(b"null"),
	}
}
