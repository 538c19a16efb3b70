//! Unit tests of the mapping table: resolution, keys, file errors and layering. The completeness guard against
//! real metadata is in tests/completeness.rs.

use super::*;
use serde_json::json;

const TABLE: &str = r#"
domain_pallets = ["Assets", "Dao"]

[defaults]
topic = "events"

[exclude]
pallets = ["Aura"]
events = ["System.ExtrinsicSuccess"]

[include]
events = ["Aura.Special"]

[events."Assets.Created"]
name = "AssetCreatedEvent"
type = "domain"
topic = "assets"
key = "/asset_id"

[events."System.CodeUpdated"]
type = "infrastructure"
topic = "system"

[events."Dao.Odd"]
key = "/a~1b/m~0n"
"#;

fn table() -> Mappings {
	Mappings::from_toml(TABLE, "test table").expect("the test table loads")
}

#[test]
fn mapped_events_take_their_entry() {
	let mapping = table().resolve("Assets", "Created").expect("mapped");
	assert_eq!(
		mapping,
		ResolvedMapping {
			name: "AssetCreatedEvent".into(),
			event_type: EventType::Domain,
			topic: "assets".into(),
			key: PartitionKey::Pointer("/asset_id".into()),
		}
	);
	// Unset fields take the defaults.
	let code = table().resolve("System", "CodeUpdated").expect("mapped");
	assert_eq!(code.name, "SystemCodeUpdated");
	assert_eq!(code.event_type, EventType::Infrastructure);
	assert_eq!(code.key, PartitionKey::Pallet("System".into()));
}

#[test]
fn exclusions_skip_events_and_pallets() {
	let table = table();
	assert_eq!(table.resolve("System", "ExtrinsicSuccess"), None);
	assert_eq!(table.resolve("Aura", "Anything"), None);
	assert!(table.is_excluded("Aura", "Anything"));
	// An inclusion carves an event out of its pallet's exclusion.
	assert_eq!(table.resolve("Aura", "Special").expect("included").name, "AuraSpecial");
	assert!(!table.is_excluded("Aura", "Special"));
}

#[test]
fn unmapped_events_get_the_defaults_unless_skipped() {
	let mapping = table().resolve("Balances", "Transfer").expect("default");
	assert_eq!(
		mapping,
		ResolvedMapping {
			name: "BalancesTransfer".into(),
			event_type: EventType::Domain,
			topic: "events".into(),
			key: PartitionKey::Pallet("Balances".into()),
		}
	);
	let skipping = table().with_override("[defaults]\nskip_unmapped = true\n", "override").expect("loads");
	assert_eq!(skipping.resolve("Balances", "Transfer"), None);
	assert!(skipping.resolve("Assets", "Created").is_some(), "mapped events are still shipped");
	assert!(skipping.resolve("Aura", "Special").is_some(), "included events are still shipped");
	let pallet = skipping.with_override("[include]\npallets = [\"Balances\"]\n", "override").expect("loads");
	assert!(pallet.resolve("Balances", "Transfer").is_some(), "an included pallet is shipped");
}

#[test]
fn infrastructure_and_undecodable_routes() {
	let table = table();
	let infra = table.infrastructure("BlockCreated");
	assert_eq!(infra.topic, "blocks");
	assert_eq!(infra.key, PartitionKey::Chain);
	assert_eq!(infra.event_type, EventType::Infrastructure);
	let known = table.resolve_undecodable(Some("Assets"), Some("Created"));
	assert_eq!((known.name.as_str(), known.topic.as_str()), (UNDECODABLE_EVENT_NAME, "assets"));
	assert_eq!(known.key, PartitionKey::Pallet("Assets".into()));
	// Even an excluded event's remainder is shipped: later records may be anything.
	let excluded = table.resolve_undecodable(Some("System"), Some("ExtrinsicSuccess"));
	assert_eq!(excluded.topic, "events");
	let unknown = table.resolve_undecodable(None, None);
	assert_eq!((unknown.topic.as_str(), &unknown.key), ("events", &PartitionKey::Chain));
}

#[test]
fn partition_keys_follow_json_pointers() {
	let table = table();
	let assets = table.resolve("Assets", "Created").expect("mapped");
	assert_eq!(assets.partition_key(&json!({"asset_id": 7})), Some(b"7".to_vec()));
	assert_eq!(assets.partition_key(&json!({"asset_id": "0xab"})), Some(b"0xab".to_vec()), "no quotes");
	assert_eq!(
		assets.partition_key(&json!({"asset_id": "123456789012345678901"})),
		Some(b"123456789012345678901".to_vec())
	);
	assert_eq!(assets.partition_key(&json!({"asset_id": true})), Some(b"true".to_vec()));
	assert_eq!(assets.partition_key(&json!({"asset_id": {"x": 1}})), Some(br#"{"x":1}"#.to_vec()));
	assert_eq!(assets.partition_key(&json!({"other": 7})), None, "missing path");
	assert_eq!(assets.partition_key(&json!({"asset_id": null})), None, "null is no key");
	assert_eq!(assets.partition_key(&Json::Null), None);
	// ~1 is '/', ~0 is '~' (RFC 6901).
	let odd = table.resolve("Dao", "Odd").expect("mapped");
	assert_eq!(odd.partition_key(&json!({"a/b": {"m~n": "k"}})), Some(b"k".to_vec()));
	let default = table.resolve("Balances", "Transfer").expect("default");
	assert_eq!(default.partition_key(&json!({})), Some(b"Balances".to_vec()));
	assert_eq!(table.infrastructure("BlockCreated").partition_key(&json!({})), None);
}

/// The error text of a table that must not load.
fn error_of(text: &str) -> String {
	Mappings::from_toml(text, "bad.toml").expect_err("the table must be rejected").to_string()
}

#[test]
fn bad_tables_are_rejected_with_the_line_and_the_fix() {
	let unknown_type = error_of("\n[events.\"Assets.Created\"]\ntype = \"domian\"\n");
	assert!(unknown_type.contains("bad.toml"), "{unknown_type}");
	assert!(unknown_type.contains("line 2"), "{unknown_type}");
	assert!(unknown_type.contains("[events.\"Assets.Created\"]"), "{unknown_type}");
	assert!(unknown_type.contains("unknown type \"domian\": use \"domain\" or \"infrastructure\""), "{unknown_type}");

	let pointer = error_of("[events.\"Assets.Created\"]\nkey = \"asset_id\"\n");
	assert!(pointer.contains("start it with '/', e.g. \"/asset_id\""), "{pointer}");
	let tilde = error_of("[events.\"Assets.Created\"]\nkey = \"/a~2\"\n");
	assert!(tilde.contains("'~' not followed by 0 or 1"), "{tilde}");
	let empty = error_of("[events.\"Assets.Created\"]\nkey = \"\"\n");
	assert!(empty.contains("whole data"), "{empty}");

	let unquoted = error_of("[events.Assets.Created]\nname = \"X\"\n");
	assert!(unquoted.contains("`Assets` is not an event name"), "{unquoted}");

	let typo = error_of("[events.\"Assets.Created\"]\ntopc = \"assets\"\n");
	assert!(typo.contains("unknown field `topc`"), "{typo}");

	let topic = error_of("[events.\"Assets.Created\"]\ntopic = \"my topic\"\n");
	assert!(topic.contains("not a valid Kafka topic suffix"), "{topic}");

	// TOML itself rejects the same entry twice, with its line.
	let duplicate =
		error_of("[events.\"Assets.Created\"]\nname = \"A\"\n\n[events.\"Assets.Created\"]\nname = \"B\"\n");
	assert!(duplicate.contains("line 4"), "{duplicate}");
	assert!(duplicate.to_lowercase().contains("duplicate"), "{duplicate}");

	let twice = error_of("[exclude]\nevents = [\"System.Remarked\", \"System.Remarked\"]\n");
	assert!(twice.contains("\"System.Remarked\" is listed twice"), "{twice}");

	let both = error_of("[exclude]\nevents = [\"Assets.Created\"]\n[events.\"Assets.Created\"]\nname = \"A\"\n");
	assert!(both.contains("both mapped in [events] and listed in exclude.events"), "{both}");

	let unknown_setting = error_of("[defaults]\ntopik = \"x\"\n");
	assert!(unknown_setting.contains("unknown field `topik`"), "{unknown_setting}");
	assert!(unknown_setting.contains("line 2"), "{unknown_setting}");

	// Several problems are reported together.
	let many = Mappings::from_toml(
		"[events.\"Assets.Created\"]\ntype = \"x\"\n[events.\"Assets.Issued\"]\nkey = \"id\"\n",
		"bad.toml",
	)
	.expect_err("rejected");
	assert_eq!(many.problems.len(), 2, "{many}");
}

#[test]
fn a_file_overrides_and_extends_the_embedded_table() {
	let file = r#"
domain_pallets = ["Crowdfunding"]

[defaults]
topic = "misc"

[exclude]
pallets = ["Dao"]
events = ["Assets.Created"]

[include]
pallets = ["Aura"]

[events."System.CodeUpdated"]
name = "CodeUpdatedEvent"
topic = "runtime"
"#;
	let merged = table().with_override(file, "override.toml").expect("loads");
	assert_eq!(
		merged.domain_pallets().iter().map(String::as_str).collect::<Vec<_>>(),
		["Assets", "Crowdfunding", "Dao"],
		"domain pallets add up"
	);
	assert_eq!(merged.default_topic(), "misc");
	assert_eq!(merged.infrastructure_topic(), "blocks", "defaults the file does not set stay");
	// The file's entry replaces the embedded one whole.
	let code = merged.resolve("System", "CodeUpdated").expect("mapped");
	assert_eq!(
		(code.name.as_str(), code.topic.as_str(), code.event_type),
		("CodeUpdatedEvent", "runtime", EventType::Domain)
	);
	// The file's exclusions win over the embedded mappings, of an event or of a whole pallet.
	assert_eq!(merged.resolve("Assets", "Created"), None);
	assert_eq!(merged.resolve("Dao", "Odd"), None);
	// The file's inclusion undoes the embedded pallet exclusion.
	assert_eq!(merged.resolve("Aura", "Anything").expect("included").topic, "misc");
	// And a later mapping undoes an earlier exclusion.
	let remapped =
		merged.with_override("[events.\"Assets.Created\"]\nname = \"Again\"\n", "again.toml").expect("loads");
	assert_eq!(remapped.resolve("Assets", "Created").expect("mapped").name, "Again");
}

#[test]
fn load_reads_the_optional_file() {
	let dir = std::env::temp_dir().join(format!("herald-mappings-{}", std::process::id()));
	std::fs::create_dir_all(&dir).expect("temp dir");
	let path = dir.join("mappings.toml");
	std::fs::write(&path, "[defaults]\ninfrastructure_topic = \"chain\"\n").expect("write");
	let loaded = Mappings::load(TABLE, Some(&path)).expect("loads");
	assert_eq!(loaded.infrastructure_topic(), "chain");
	assert_eq!(Mappings::load(TABLE, None).expect("loads"), table());
	let missing = Mappings::load(TABLE, Some(&dir.join("absent.toml"))).expect_err("no such file").to_string();
	assert!(missing.contains("absent.toml") && missing.contains("cannot read"), "{missing}");
	std::fs::write(&path, "[events.\"X.Y\"]\ntype = 3\n").expect("write");
	let bad = Mappings::load(TABLE, Some(&path)).expect_err("bad file").to_string();
	assert!(bad.contains(&path.display().to_string()) && bad.contains("[events.\"X.Y\"]"), "{bad}");
	let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn topics_lists_every_topic_once() {
	assert_eq!(table().topics(), ["assets", "blocks", "events", "system"]);
	assert_eq!(Mappings::default().topics(), ["blocks", "events"]);
}
