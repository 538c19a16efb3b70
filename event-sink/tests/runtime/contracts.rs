//! Event contracts of Herald's own runtime: random values of every event type, written by the sink's decoder and
//! writer, validate against the generated schemas (and mutations are rejected); every envelope a real block
//! produces (events with the node's mapping table, the block envelopes, an undecodable remainder, a stand-in)
//! validates against its topic's schema; the schemas are draft-07 documents without a permissive `{}`/`true`.
//! (The upgrade fixture's runtime is checked by node/tests/contracts.rs, which can execute its wasm.)

use herald_event_sink::{
	block::decode::EventDecoder,
	contract::{
		check::{assert_no_permissive, check_runtime, Validate},
		Contract, Routing, RuntimeLabel,
	},
	envelope::{
		assemble::{BlockData, Routing as BlockRouting},
		route::{InfrastructureRoutes, RuntimeRoutes},
		stand_in::{stand_in, Rejected},
		BlockContext,
	},
	kafka::request::block_messages,
	mapping::Mappings,
};
use serde_json::Value as Json;

use crate::{encoded, hex32, metadata, sample_records, supported_versions};

const NODE_TABLE: &str = include_str!("../../../node/event-mappings.toml");

struct Draft7(jsonschema::Validator);

impl Validate for Draft7 {
	fn validate(&self, value: &Json) -> Result<(), String> {
		self.0.validate(value).map_err(|error| format!("{error} at {}", error.instance_path()))
	}
}

fn compile(schema: &Json) -> Result<Draft7, String> {
	jsonschema::draft7::new(schema).map(Draft7).map_err(|error| error.to_string())
}

fn contract(prefix: &str) -> Contract {
	let routing = Routing {
		mappings: Mappings::from_toml(NODE_TABLE, "node/event-mappings.toml").expect("the node's table"),
		topic_prefix: prefix.into(),
		partitions: 3,
		brokers: Some("127.0.0.1:9092".into()),
	};
	Contract::build(&metadata(15), RuntimeLabel { origin: "test".into(), ..Default::default() }, routing)
		.expect("a contract")
}

#[test]
fn random_values_of_every_herald_event_validate_and_mutations_are_rejected() {
	for version in supported_versions() {
		let report = check_runtime(&metadata(version), 60, 0xbeef + u64::from(version), compile)
			.unwrap_or_else(|error| panic!("metadata v{version}: {error}"));
		println!(
			"herald runtime, metadata v{version}: {} events, {} values, {} mutations rejected",
			report.events, report.values, report.mutations
		);
		assert!(report.events >= 60, "every event checked: {}", report.events);
		// Herald's `RuntimeHoldReason` has no variants: the Balances events that carry one can't occur.
		assert!(report.uninhabited.iter().all(|event| event.starts_with("Balances.")), "{:?}", report.uninhabited);
		assert!(
			report.failures.is_empty(),
			"{}",
			report.failures.iter().take(8).cloned().collect::<Vec<_>>().join("\n")
		);
	}
}

#[test]
fn every_kind_and_topic_schema_is_a_strict_draft_07_document() {
	let contract = contract("herald");
	for name in contract.kinds.keys() {
		let schema = contract.kind_schema(name).unwrap();
		assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
		assert_no_permissive(&schema, name).unwrap();
		compile(&schema).unwrap_or_else(|e| panic!("{name}: {e}"));
		// The kind's own example validates (an event with a field of a type without values has none).
		let example = &contract.kinds[name].example;
		if example["data"].is_null() && !contract.kinds[name].events.is_empty() {
			continue;
		}
		compile(&schema).unwrap().validate(example).unwrap_or_else(|e| panic!("{name}'s example: {e}\n{example}"));
	}
	for topic in contract.topics.keys() {
		let schema = contract.topic_schema(topic).unwrap();
		assert_no_permissive(&schema, topic).unwrap();
		compile(&schema).unwrap_or_else(|e| panic!("{topic}: {e}"));
	}
	let names: Vec<&String> = contract.kinds.keys().collect();
	for expected in [
		"AssetCreatedEvent",
		"BlockCreated",
		"BlockFinalized",
		"BlockRetracted",
		"MessageRejected",
		"RuntimeUpgraded",
		"UndecodableEvent",
	] {
		assert!(contract.kinds.contains_key(expected), "{expected} in {names:?}");
	}
	assert!(contract.topics.contains_key("herald.blocks") && contract.topics.contains_key("herald.assets"));
}

#[test]
fn a_real_blocks_messages_validate_against_their_topics_schemas() {
	let decoder = EventDecoder::new(&metadata(15)).expect("usable metadata");
	let mappings = Mappings::from_toml(NODE_TABLE, "node/event-mappings.toml").unwrap();
	let mut truncated = encoded(&sample_records());
	truncated.truncate(truncated.len() - 3);
	for prefix in ["herald", "", "x.y"] {
		let contract = contract(prefix);
		let validators: std::collections::BTreeMap<String, Draft7> = contract
			.topics
			.keys()
			.map(|topic| (topic.clone(), compile(&contract.topic_schema(topic).unwrap()).unwrap()))
			.collect();
		for (events, finalized) in
			[(decoder.decode_events(&encoded(&sample_records())), true), (decoder.decode_events(&truncated), false)]
		{
			let context = BlockContext {
				chain: hex32(0x11),
				number: 42,
				hash: hex32(0x22),
				parent_hash: hex32(0x21),
				spec_version: 100,
				timestamp: Some(1_700_000_000_000),
				finalized,
			};
			let routes = RuntimeRoutes::new(&decoder, &mappings);
			let infrastructure = InfrastructureRoutes::new(&mappings);
			let routing = BlockRouting { events: &routes, infrastructure: &infrastructure, mappings: &mappings };
			let block = BlockData {
				chain: &context.chain,
				number: 42,
				hash: context.hash.clone(),
				parent_hash: context.parent_hash.clone(),
				spec_version: 100,
				previous_spec_version: Some(99),
				// One block with the change summary a runtime upgrade carries, one without (its state was pruned).
				runtime_changes: finalized.then(|| {
					std::sync::Arc::new(herald_event_sink::contract::diff::to_json(&[
						herald_event_sink::contract::diff::EventChange {
							event: "Dao.DaoCreated".into(),
							name: "DaoCreatedEvent".into(),
							change: herald_event_sink::contract::diff::Change::Compatible(vec![
								"data.created_at added".into(),
							]),
						},
						herald_event_sink::contract::diff::EventChange {
							event: "Dao.DaoRemoved".into(),
							name: "DaoRemovedEvent".into(),
							change: herald_event_sink::contract::diff::Change::Removed,
						},
					]))
				}),
				timestamp: context.timestamp,
				extrinsics_count: Some(3),
				finalized,
				events: &events,
			};
			let messages = block_messages(&block, &routing, prefix);
			assert!(messages.len() >= 4);
			for (message, _) in &messages {
				let envelope: Json = serde_json::from_slice(&message.payload).unwrap();
				let validator = validators.get(&*message.topic).unwrap_or_else(|| {
					panic!("{} is on topic {}, which the contract doesn't list", envelope["name"], message.topic)
				});
				validator.validate(&envelope).unwrap_or_else(|e| panic!("{}: {e}\n{envelope}", message.topic));
				// Its stand-in validates on the same topic.
				let rejected = stand_in(Rejected::of(message), "Broker: Message size too large");
				let replacement: Json = serde_json::from_slice(&rejected.payload).unwrap();
				validator.validate(&replacement).unwrap_or_else(|e| panic!("stand-in: {e}\n{replacement}"));
				// A wrong name is refused.
				let mut renamed = envelope.clone();
				renamed["name"] = "SomethingElse".into();
				assert!(validator.validate(&renamed).is_err());
			}
		}
	}
}
