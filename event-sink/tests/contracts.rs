//! Event contracts on real production runtimes, whose registries are far richer than Herald's (XCM, bit
//! sequences, deep and recursive enums, 256-bit integers): for every event type of Polkadot's, Kusama's, Asset
//! Hub's and Substrate's kitchensink runtimes (metadata V14, V15 and V16), random values written by the sink's
//! decoder and JSON writer validate against the generated draft-07 schema, and mutations are rejected. Each value,
//! also cut short and with a byte changed, is decoded both by the sink's compiled decoder and by scale-decode alone:
//! the two must agree (the same events, or the same error).
//!
//! The metadata comes from the npm package `@polkadot/types-support` (Apache-2.0), installed by
//! scripts/setup.sh under `$HERALD_JS/node_modules` (tools/js/package.json). The test fails, not skips, when it
//! is missing: set `HERALD_JS` (scripts/common.sh does) or `HERALD_TYPES_SUPPORT` to the package's directory.

use std::path::PathBuf;

use herald_event_sink::contract::check::{check_runtime, Validate};
use serde_json::Value as Json;

/// A compiled draft-07 schema.
pub struct Draft7(jsonschema::Validator);

impl Validate for Draft7 {
	fn validate(&self, value: &Json) -> Result<(), String> {
		self.0.validate(value).map_err(|error| format!("{error} at {}", error.instance_path()))
	}
}

pub fn compile(schema: &Json) -> Result<Draft7, String> {
	jsonschema::draft7::new(schema).map(Draft7).map_err(|error| error.to_string())
}

fn types_support() -> PathBuf {
	if let Ok(dir) = std::env::var("HERALD_TYPES_SUPPORT") {
		return PathBuf::from(dir);
	}
	let js = std::env::var("HERALD_JS").unwrap_or_else(|_| "/var/tmp/herald-js".into());
	PathBuf::from(js).join("node_modules/@polkadot/types-support")
}

/// The metadata bytes of `metadata/<version>/<name>-hex.js` (`export default '0x…'`).
fn production_metadata(version: &str, name: &str) -> Vec<u8> {
	let path = types_support().join("metadata").join(version).join(format!("{name}-hex.js"));
	let text = std::fs::read_to_string(&path).unwrap_or_else(|error| {
		panic!(
			"cannot read {} ({error}): install the JavaScript tools (scripts/setup.sh, or `npm ci` of tools/js in \
			 $HERALD_JS) or set HERALD_TYPES_SUPPORT to @polkadot/types-support's directory",
			path.display()
		)
	});
	let start = text.find("'0x").expect("a hex string literal") + 3;
	// `0x` included: the hex text as a metadata file would hold it.
	let end = start + text[start..].find('\'').expect("the literal's end");
	herald_event_sink::contract::normalize_metadata(text[start - 2..end].as_bytes()).expect("runtime metadata")
}

fn check(version: &str, name: &str, values_per_event: usize) {
	let metadata = production_metadata(version, name);
	let report = check_runtime(&metadata, values_per_event, 0x5eed, compile)
		.unwrap_or_else(|error| panic!("{version}/{name}: {error}"));
	println!(
		"{version}/{name}: {} events, {} values valid, {} mutations rejected, {} values decoded alike by the compiled \
		 decoder and scale-decode, uninhabited: {:?}",
		report.events, report.values, report.mutations, report.compared, report.uninhabited
	);
	assert!(report.events > 50, "{version}/{name}: only {} events checked", report.events);
	assert!(report.mutations > report.values, "{version}/{name}: too few mutations");
	assert!(report.compared > 2 * report.values, "{version}/{name}: too few values decoded both ways");
	assert!(
		report.failures.is_empty(),
		"{version}/{name}: {} failures, the first ones:\n{}",
		report.failures.len(),
		report.failures.iter().take(8).cloned().collect::<Vec<_>>().join("\n")
	);
}

#[test]
fn polkadot_v14_events_round_trip_through_their_schemas() {
	check("v14", "polkadot", 4);
}

#[test]
fn polkadot_v15_events_round_trip_through_their_schemas() {
	check("v15", "polkadot", 4);
}

#[test]
fn kusama_v15_events_round_trip_through_their_schemas() {
	check("v15", "kusama", 4);
}

#[test]
fn asset_hub_polkadot_v15_events_round_trip_through_their_schemas() {
	check("v15", "asset-hub-polkadot", 4);
}

#[test]
fn asset_hub_kusama_v15_events_round_trip_through_their_schemas() {
	check("v15", "asset-hub-kusama", 3);
}

#[test]
fn kitchensink_v14_events_round_trip_through_their_schemas() {
	check("v14", "substrate", 3);
}

#[test]
fn kitchensink_v15_events_round_trip_through_their_schemas() {
	check("v15", "substrate", 3);
}

#[test]
fn kitchensink_v16_events_round_trip_through_their_schemas() {
	check("v16", "substrate", 3);
}
