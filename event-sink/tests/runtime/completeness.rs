//! The completeness guard on the node's mapping table (node/event-mappings.toml) and the runtime's metadata:
//! every event of a domain pallet is mapped or explicitly excluded. When this test fails, its message says
//! which TOML to add.

use herald_event_sink::{
	block::decode::EventDecoder,
	mapping::{check_completeness, check_references, Mappings},
};

use crate::metadata;

const NODE_TABLE: &str = include_str!("../../../node/event-mappings.toml");

fn decoder() -> EventDecoder {
	EventDecoder::new(&metadata(15)).expect("usable metadata")
}

fn node_table() -> Mappings {
	Mappings::from_toml(NODE_TABLE, "node/event-mappings.toml").expect("the node's table loads")
}

#[test]
fn every_domain_pallet_event_of_the_runtime_is_mapped_or_excluded() {
	if let Err(missing) = check_completeness(&node_table(), &decoder()) {
		panic!("node/event-mappings.toml is incomplete:\n\n{}", missing.join("\n\n"));
	}
}

#[test]
fn the_node_table_names_real_events_and_fields() {
	if let Err(problems) = check_references(&node_table(), &decoder()) {
		panic!("node/event-mappings.toml does not match the runtime:\n{}", problems.join("\n"));
	}
}

/// The runtime's pallets that only report on the chain's operation; every other pallet with events is a domain
/// pallet and must be under the completeness guard.
const INFRASTRUCTURE_PALLETS: [&str; 4] = ["System", "Grandpa", "TransactionPayment", "Sudo"];

/// A pallet added to the runtime is covered by the guard from its first event: every pallet with events is either
/// a declared domain pallet or on the short infrastructure list above.
#[test]
fn every_pallet_of_the_runtime_with_events_is_under_the_guard() {
	let table = node_table();
	let pallets: std::collections::BTreeSet<String> =
		decoder().event_variants().into_iter().map(|(pallet, _)| pallet).collect();
	let uncovered: Vec<&String> = pallets
		.iter()
		.filter(|pallet| !table.domain_pallets().contains(*pallet))
		.filter(|pallet| !INFRASTRUCTURE_PALLETS.contains(&pallet.as_str()))
		.collect();
	assert!(
		uncovered.is_empty(),
		"runtime pallets with events outside the completeness guard: {uncovered:?}. Add them to domain_pallets in \
		 node/event-mappings.toml (and map their events), or, if they only report on the chain's operation, to \
		 INFRASTRUCTURE_PALLETS here"
	);
	for pallet in ["Dao", "Agreements", "Crowdfunding"] {
		assert!(pallets.contains(pallet), "Herald's pallet {pallet} has events in the runtime's metadata");
	}
}

#[test]
fn the_node_table_declares_the_domain_pallets() {
	let table = node_table();
	let domain: Vec<&str> = table.domain_pallets().iter().map(String::as_str).collect();
	assert_eq!(domain, ["Agreements", "Assets", "Balances", "Crowdfunding", "Dao"]);
	// Every domain pallet the runtime has is really checked (a typo in domain_pallets would hide a pallet).
	let pallets = decoder().pallet_names();
	for pallet in ["Assets", "Balances"] {
		assert!(pallets.iter().any(|p| p == pallet), "the runtime has {pallet}");
	}
}

#[test]
fn the_guard_lists_what_to_add_for_an_unmapped_event() {
	// A table that maps one Assets event: every other one is reported, with the TOML to add.
	let table = Mappings::from_toml(
		r#"
domain_pallets = ["Assets"]
[exclude]
events = ["Assets.Destroyed"]
[events."Assets.Created"]
name = "AssetCreatedEvent"
topic = "assets"
key = "/asset_id"
"#,
		"synthetic",
	)
	.expect("loads");
	let missing = check_completeness(&table, &decoder()).expect_err("incomplete");
	let expected = decoder().event_variants().iter().filter(|(p, _)| p == "Assets").count() - 2;
	assert_eq!(missing.len(), expected, "{missing:#?}");
	let issued = missing.iter().find(|m| m.starts_with("Assets.Issued ")).expect("Assets.Issued is reported");
	assert!(issued.contains("(asset_id, owner, amount)"), "{issued}");
	assert!(issued.contains("[events.\"Assets.Issued\"]"), "{issued}");
	assert!(issued.contains("topic = \"assets\""), "the topic is guessed from the pallet's entries: {issued}");
	assert!(issued.contains("key = \"/asset_id\""), "{issued}");
	assert!(issued.contains("add \"Assets.Issued\" to `events` under [exclude]"), "{issued}");
	assert!(!missing.iter().any(|m| m.starts_with("Assets.Created ") || m.starts_with("Assets.Destroyed ")));

	// Removing one entry from the node's own table is caught: the guard would catch a new unmapped variant.
	let without_issued: String = NODE_TABLE.replace(
		"[events.\"Assets.Issued\"]\nname = \"AssetIssuedEvent\"",
		"[events.\"Assets.Issued_removed\"]\nname = \"X\"",
	);
	let table = Mappings::from_toml(&without_issued, "edited").expect("loads");
	let missing = check_completeness(&table, &decoder()).expect_err("incomplete");
	assert_eq!(missing.len(), 1);
	assert!(missing[0].starts_with("Assets.Issued "), "{}", missing[0]);

	// A whole-pallet exclusion satisfies the guard.
	let excluded =
		Mappings::from_toml("domain_pallets = [\"Assets\"]\n[exclude]\npallets = [\"Assets\"]\n", "s").expect("loads");
	assert_eq!(check_completeness(&excluded, &decoder()), Ok(()));
	// Domain pallets the runtime does not have yet are not checked.
	let ahead = Mappings::from_toml("domain_pallets = [\"NotYet\"]\n", "s").expect("loads");
	assert_eq!(check_completeness(&ahead, &decoder()), Ok(()));
}

#[test]
fn references_to_missing_events_and_fields_are_reported() {
	let table = Mappings::from_toml(
		r#"
[exclude]
events = ["Balances.Trasnfer"]
[events."Assets.Creatd"]
topic = "assets"
[events."Assets.Issued"]
key = "/asset"
[events."NotYet.Anything"]
key = "/id"
"#,
		"synthetic",
	)
	.expect("loads");
	let problems = check_references(&table, &decoder()).expect_err("typos");
	assert_eq!(problems.len(), 3, "{problems:#?}");
	assert!(problems
		.iter()
		.any(|p| p.starts_with("Assets.Creatd is mapped in [events] but Assets declares no such event")));
	assert!(problems.iter().any(|p| p.starts_with("Balances.Trasnfer is listed in exclude.events")));
	assert!(problems
		.iter()
		.any(|p| p.contains("\"/asset\" of Assets.Issued names no field") && p.contains("asset_id, owner, amount")));
}
