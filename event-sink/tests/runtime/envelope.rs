//! Envelopes built from real decoded events: deterministic ids, Kafka routing, and every kind validating
//! against docs/envelope.schema.json.

use herald_event_sink::{
	block::decode::{DecodedEvents, EventDecoder},
	envelope::{to_message, BlockContext, Envelope, InfrastructureEvent},
	mapping::Mappings,
};
use serde_json::{json, Value as Json};

use crate::{encoded, hex32, metadata, sample_records};

const SCHEMA: &str = include_str!("../../../docs/envelope.schema.json");
const NODE_TABLE: &str = include_str!("../../../node/event-mappings.toml");

fn context(finalized: bool) -> BlockContext {
	BlockContext {
		chain: hex32(0x11),
		number: 42,
		hash: hex32(0x22),
		parent_hash: hex32(0x21),
		spec_version: 100,
		timestamp: Some(1_700_000_000_000),
		finalized,
	}
}

fn decoded() -> DecodedEvents {
	EventDecoder::new(&metadata(15)).expect("usable metadata").decode_events(&encoded(&sample_records()))
}

fn mappings() -> Mappings {
	Mappings::from_toml(NODE_TABLE, "node/event-mappings.toml").expect("the node's table loads")
}

/// Every envelope one sample block produces: each event (mapped or default), each infrastructure kind, and an
/// undecodable remainder.
fn all_envelopes() -> Vec<Envelope> {
	let context = context(true);
	let mappings = mappings();
	let decoded = decoded();
	let mut envelopes: Vec<Envelope> = decoded
		.events
		.iter()
		.filter_map(|event| {
			mappings.resolve(&event.pallet, &event.variant).map(|m| Envelope::event(&context, event, &m))
		})
		.collect();
	assert_eq!(envelopes.len(), 6, "the node's table ships every sample event");
	for kind in [
		InfrastructureEvent::BlockCreated { event_count: 6, extrinsics_count: 4 },
		InfrastructureEvent::BlockFinalized,
		InfrastructureEvent::RuntimeUpgraded { from: 99, to: 100, changes: None },
	] {
		envelopes.push(Envelope::infrastructure(&context, &kind));
	}
	let mut value = encoded(&sample_records());
	value.truncate(value.len() - 3);
	let broken = EventDecoder::new(&metadata(15)).expect("usable").decode_events(&value);
	let remainder = broken.undecodable.expect("a remainder");
	let mapping = mappings.resolve_undecodable(remainder.pallet.as_deref(), remainder.variant.as_deref());
	envelopes.push(Envelope::undecodable(&context, &remainder, &mapping));
	envelopes.push(Envelope::undecodable(
		&self::context(false),
		&herald_event_sink::block::decode::Undecodable {
			index: 0,
			remaining_records: None,
			phase: None,
			pallet: None,
			variant: None,
			error: "the event record count does not decode".into(),
			raw: "0xff".into(),
			raw_length: 1,
		},
		&mappings.resolve_undecodable(None, None),
	));
	envelopes
}

/// A remainder of megabytes (a runtime whose metadata doesn't match its events) must not become a message Kafka
/// refuses: `meta.raw` keeps the first 4096 bytes, `meta.raw_length` says how many there were.
#[test]
fn undecodable_raw_bytes_are_capped_and_their_length_kept() {
	let mut value = encoded(&sample_records());
	value.extend(std::iter::repeat(0xee).take(100_000));
	let decoded = EventDecoder::new(&metadata(15)).expect("usable").decode_events(&value);
	let remainder = decoded.undecodable.expect("the trailing bytes are a remainder");
	assert_eq!(remainder.raw_length, 100_000);
	assert_eq!(remainder.raw.len(), 2 + 2 * herald_event_sink::block::decode::RAW_CAP);
	let mappings = mappings();
	let mapping = mappings.resolve_undecodable(None, None);
	let envelope = Envelope::undecodable(&context(true), &remainder, &mapping);
	let json = serde_json::from_slice::<serde_json::Value>(&envelope.to_json()).unwrap();
	assert_eq!(json["meta"]["raw_length"], 100_000);
	assert!(envelope.to_json().len() < 20_000, "the envelope stays small");
}

#[test]
fn every_envelope_kind_validates_against_the_schema() {
	let schema: Json = serde_json::from_str(SCHEMA).expect("the schema is JSON");
	let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
	for envelope in all_envelopes() {
		let instance = serde_json::from_slice::<serde_json::Value>(&envelope.to_json()).expect("serialises");
		let errors: Vec<String> =
			validator.iter_errors(&instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
		assert!(errors.is_empty(), "{instance:#}\n{errors:#?}");
		// And through the message payload, as consumers see it.
		let mapping = mappings().infrastructure("any");
		let message = to_message(&envelope, &mapping, "herald");
		let payload: Json = serde_json::from_slice(&message.payload).expect("JSON payload");
		assert!(validator.is_valid(&payload));
	}
}

/// A `MessageRejected` stand-in, even for an `UndecodableEvent`, is a valid envelope too.
#[test]
fn a_stand_in_validates_against_the_schema() {
	use herald_event_sink::envelope::stand_in::{stand_in, Rejected};
	let schema: Json = serde_json::from_str(SCHEMA).expect("the schema is JSON");
	let validator = jsonschema::validator_for(&schema).expect("the schema is a valid JSON Schema");
	let mapping = mappings().infrastructure("any");
	for envelope in all_envelopes() {
		let message = to_message(&envelope, &mapping, "herald");
		let replaced = stand_in(Rejected::of(&message), "Broker: Message size too large");
		let instance: Json = serde_json::from_slice(&replaced.payload).unwrap();
		let errors: Vec<String> =
			validator.iter_errors(&instance).map(|e| format!("{} at {}", e, e.instance_path())).collect();
		assert!(errors.is_empty(), "{instance:#}\n{errors:#?}");
	}
}

#[test]
fn the_schema_rejects_malformed_envelopes() {
	let schema: Json = serde_json::from_str(SCHEMA).expect("the schema is JSON");
	let validator = jsonschema::validator_for(&schema).expect("valid schema");
	let good = serde_json::from_slice::<serde_json::Value>(&all_envelopes()[1].to_json()).expect("serialises");
	assert!(validator.is_valid(&good));
	let broken = |edit: &dyn Fn(&mut Json)| {
		let mut envelope = good.clone();
		edit(&mut envelope);
		validator.is_valid(&envelope)
	};
	assert!(!broken(&|e| e["type"] = json!("business")));
	assert!(!broken(&|e| e["meta"]["schema_version"] = json!(2)));
	assert!(!broken(&|e| e["meta"]["block"]["hash"] = json!("22")));
	assert!(!broken(&|e| e["meta"]["phase"] = json!({"kind": "ApplyExtrinsic"})), "extrinsic_index is required");
	assert!(!broken(&|e| e["meta"]["raw"] = json!("0x00")), "raw goes with decode_error");
	assert!(!broken(&|e| {
		e["meta"].as_object_mut().unwrap().remove("finalized");
	}));
	assert!(!broken(&|e| e["extra"] = json!(1)));
}

#[test]
fn domain_envelopes_carry_the_event_and_its_block() {
	let envelopes = all_envelopes();
	let transfer = serde_json::from_slice::<serde_json::Value>(&envelopes[1].to_json()).expect("serialises");
	assert_eq!(
		transfer,
		json!({
			"name": "BalanceTransferredEvent",
			"type": "domain",
			"data": {"from": hex32(1), "to": hex32(2), "amount": 5000},
			"meta": {
				"id": format!("{}:1", hex32(0x22)),
				"schema_version": 1,
				"chain": hex32(0x11),
				"block": {"number": 42, "hash": hex32(0x22), "parent_hash": hex32(0x21)},
				"event_index": 1,
				"phase": {"kind": "ApplyExtrinsic", "extrinsic_index": 1},
				"pallet": "Balances",
				"variant": "Transfer",
				"spec_version": 100,
				"timestamp": 1_700_000_000_000u64,
				"finalized": true,
			}
		})
	);
	let new_account = serde_json::from_slice::<serde_json::Value>(&envelopes[0].to_json()).expect("serialises");
	assert_eq!(new_account["meta"]["phase"], json!({"kind": "Initialization"}));
	let deposit = serde_json::from_slice::<serde_json::Value>(&envelopes[5].to_json()).expect("serialises");
	assert_eq!(deposit["meta"]["phase"], json!({"kind": "Finalization"}));
}

#[test]
fn infrastructure_and_undecodable_envelopes() {
	let envelopes = all_envelopes();
	let created = serde_json::from_slice::<serde_json::Value>(&envelopes[6].to_json()).expect("serialises");
	assert_eq!((created["name"].as_str(), created["type"].as_str()), (Some("BlockCreated"), Some("infrastructure")));
	assert_eq!(created["data"], json!({"event_count": 6, "extrinsics_count": 4}));
	assert_eq!(created["meta"]["id"], json!(format!("{}:BlockCreated", hex32(0x22))));
	assert_eq!((created["meta"]["event_index"].clone(), created["meta"]["pallet"].clone()), (Json::Null, Json::Null));
	assert!(created["meta"].get("phase").is_none());
	assert_eq!(
		serde_json::from_slice::<serde_json::Value>(&envelopes[8].to_json()).unwrap()["data"],
		json!({"from": 99, "to": 100})
	);

	let undecodable = serde_json::from_slice::<serde_json::Value>(&envelopes[9].to_json()).expect("serialises");
	assert_eq!(undecodable["name"], json!("UndecodableEvent"));
	assert_eq!(undecodable["data"], Json::Null);
	assert_eq!(undecodable["meta"]["event_index"], json!(5));
	assert_eq!(undecodable["meta"]["pallet"], json!("Balances"));
	assert!(undecodable["meta"]["decode_error"].as_str().unwrap().contains("record 5 of 6"));
	assert!(undecodable["meta"]["raw"].as_str().unwrap().starts_with("0x"));
}

#[test]
fn ids_are_deterministic() {
	let first = all_envelopes();
	let second = all_envelopes();
	let ids: Vec<&str> = first.iter().map(|e| e.meta.id.as_str()).collect();
	assert_eq!(ids, second.iter().map(|e| e.meta.id.as_str()).collect::<Vec<_>>());
	let unique: std::collections::BTreeSet<&str> = ids[..9].iter().copied().collect();
	assert_eq!(unique.len(), 9, "events and infrastructure kinds of one block have distinct ids: {ids:?}");
	// The id depends on the block and the index, not on when or how often the block is shipped.
	let unfinalized =
		Envelope::event(&context(false), &decoded().events[2], &mappings().resolve("Assets", "Created").unwrap());
	assert_eq!(unfinalized.meta.id, first[2].meta.id);
}

#[test]
fn messages_are_routed_by_the_mapping() {
	let mappings = mappings();
	let context = context(true);
	let decoded = decoded();
	let created = &decoded.events[2];
	let mapping = mappings.resolve("Assets", "Created").expect("mapped");
	let message = to_message(&Envelope::event(&context, created, &mapping), &mapping, "herald");
	assert_eq!(&*message.topic, "herald.assets");
	assert_eq!(message.key.as_deref(), Some(&b"7"[..]));
	let header = |name: &str| {
		message.headers().iter().find(|(n, _)| *n == name).map(|(_, v)| String::from_utf8(v.to_vec()).unwrap())
	};
	assert_eq!(header("id"), Some(format!("{}:2", hex32(0x22))));
	assert_eq!(header("name").as_deref(), Some("AssetCreatedEvent"));
	assert_eq!(header("type").as_deref(), Some("domain"));
	assert_eq!(header("schema_version").as_deref(), Some("1"));
	assert_eq!(header("finalized").as_deref(), Some("true"));
	let envelope: serde_json::Value = serde_json::from_slice(&message.payload).expect("the payload parses back");
	assert_eq!(envelope["type"], "domain");

	// Infrastructure envelopes: the blocks topic, keyed by the chain.
	let infra = mappings.infrastructure("BlockFinalized");
	let message =
		to_message(&Envelope::infrastructure(&context, &InfrastructureEvent::BlockFinalized), &infra, "herald");
	assert_eq!(&*message.topic, "herald.blocks");
	assert_eq!(message.key.as_deref(), Some(hex32(0x11).as_bytes()));

	// A key pointer that finds nothing falls back to the pallet; no prefix, no dot.
	let mut missing = mapping.clone();
	missing.key = herald_event_sink::mapping::PartitionKey::Pointer("/absent".into());
	let message = to_message(&Envelope::event(&context, created, &missing), &missing, "");
	assert_eq!((&*message.topic, message.key.as_deref()), ("assets", Some(&b"Assets"[..])));

	// Unmapped events of a non-domain pallet go to the default topic keyed by pallet.
	let default = Mappings::default().resolve("System", "NewAccount").expect("default");
	let message = to_message(&Envelope::event(&context, &decoded.events[0], &default), &default, "herald");
	assert_eq!((&*message.topic, message.key.as_deref()), ("herald.events", Some(&b"System"[..])));
}

/// The hot path (a block's messages written straight from its decoded events with the routes resolved once per
/// runtime) sends byte for byte what the envelope values and `to_message` describe: payload, id, topic, key and
/// headers, for every event, with a pointer key, an undecodable remainder and the block's own envelopes.
#[test]
fn a_blocks_messages_are_the_envelopes_byte_for_byte() {
	use herald_event_sink::envelope::{
		assemble::{BlockData, Routing},
		route::{InfrastructureRoutes, RuntimeRoutes},
	};
	use herald_event_sink::kafka::request::block_messages;
	let decoder = EventDecoder::new(&metadata(15)).expect("usable metadata");
	let mappings = mappings();
	let mut value = encoded(&sample_records());
	value.truncate(value.len() - 3);
	for (events, finalized, prefix) in
		[(decoded(), true, "herald"), (decoder.decode_events(&value), false, ""), (decoded(), false, "x.y")]
	{
		let context = context(finalized);
		let routes = RuntimeRoutes::new(&decoder, &mappings);
		let infrastructure = InfrastructureRoutes::new(&mappings);
		let routing = Routing { events: &routes, infrastructure: &infrastructure, mappings: &mappings };
		let block = BlockData {
			chain: &context.chain,
			number: context.number,
			hash: context.hash.clone(),
			parent_hash: context.parent_hash.clone(),
			spec_version: context.spec_version,
			previous_spec_version: Some(99),
			runtime_changes: None,
			timestamp: context.timestamp,
			extrinsics_count: Some(3),
			finalized,
			events: &events,
		};
		let messages = block_messages(&block, &routing, prefix);

		let mut expected = vec![(
			Envelope::infrastructure(
				&context,
				&InfrastructureEvent::BlockCreated { event_count: events.record_count.unwrap(), extrinsics_count: 3 },
			),
			mappings.infrastructure("BlockCreated"),
		)];
		expected.push((
			Envelope::infrastructure(
				&context,
				&InfrastructureEvent::RuntimeUpgraded { from: 99, to: 100, changes: None },
			),
			mappings.infrastructure("RuntimeUpgraded"),
		));
		for event in &events.events {
			let mapping = mappings.resolve(&event.pallet, &event.variant).expect("the node's table ships it");
			expected.push((Envelope::event(&context, event, &mapping), mapping));
		}
		if let Some(remainder) = &events.undecodable {
			let mapping = mappings.resolve_undecodable(remainder.pallet.as_deref(), remainder.variant.as_deref());
			expected.push((Envelope::undecodable(&context, remainder, &mapping), mapping));
		}
		if finalized {
			let event = InfrastructureEvent::BlockFinalized;
			expected.push((Envelope::infrastructure(&context, &event), mappings.infrastructure("BlockFinalized")));
		}
		assert_eq!(messages.len(), expected.len());
		for ((message, _), (envelope, mapping)) in messages.iter().zip(&expected) {
			let reference = to_message(envelope, mapping, prefix);
			assert_eq!(
				String::from_utf8_lossy(&message.payload),
				String::from_utf8_lossy(&reference.payload),
				"{}",
				envelope.name
			);
			assert_eq!(message, &reference, "{}", envelope.name);
		}
	}
}

/// The exact bytes of an event's envelope: `meta` in its documented field order, compact, `data` in the
/// metadata's field order. A change here changes what every consumer receives.
#[test]
fn an_event_envelope_is_these_bytes() {
	let decoded = decoded();
	let mapping = mappings().resolve("Balances", "Transfer").expect("mapped");
	let json = String::from_utf8(Envelope::event(&context(true), &decoded.events[1], &mapping).to_json()).unwrap();
	let (chain, hash, parent, from, to) = (hex32(0x11), hex32(0x22), hex32(0x21), hex32(1), hex32(2));
	let expected = format!(
		r#"{{"name":"{name}","type":"{kind}","data":{{"from":"{from}","to":"{to}","amount":5000}},"meta":{{"id":"{hash}:1","schema_version":1,"chain":"{chain}","block":{{"number":42,"hash":"{hash}","parent_hash":"{parent}"}},"event_index":1,"phase":{{"kind":"ApplyExtrinsic","extrinsic_index":1}},"pallet":"Balances","variant":"Transfer","spec_version":100,"timestamp":1700000000000,"finalized":true}}}}"#,
		name = mapping.name,
		kind = mapping.event_type.as_str(),
	);
	assert_eq!(json, expected);
	let infrastructure = Envelope::infrastructure(&context(false), &InfrastructureEvent::BlockFinalized);
	assert_eq!(
		String::from_utf8(infrastructure.to_json()).unwrap(),
		format!(
			r#"{{"name":"BlockFinalized","type":"infrastructure","data":{{}},"meta":{{"id":"{hash}:BlockFinalized","schema_version":1,"chain":"{chain}","block":{{"number":42,"hash":"{hash}","parent_hash":"{parent}"}},"event_index":null,"pallet":null,"variant":null,"spec_version":100,"timestamp":1700000000000,"finalized":false}}}}"#
		)
	);
}
