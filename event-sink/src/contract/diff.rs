//! Compares the contracts of two runtimes (e.g. before and after a runtime upgrade), event by event, as a consumer
//! experiences the change:
//!
//! - **added**: the new runtime ships an event the old one didn't;
//! - **removed**: the old runtime shipped an event the new one doesn't;
//! - **changed compatibly**: every value a consumer of the old contract reads is still where it was, with the same
//!   shape (fields were only added to objects);
//! - **changed incompatibly**: a field removed or retyped, an enum's variants changed, or the envelope's name,
//!   type, topic or key changed.
//!
//! Schemas are compared after resolving their `$ref`s in each contract's own `$defs` (type ids and def names
//! differ between runtimes; shapes are what counts).

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};

use super::{Contract, EventContract};

/// How one event changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
	Added,
	Removed,
	/// What was added (e.g. `field /dao_id/extra added`).
	Compatible(Vec<String>),
	/// What breaks a consumer of the old contract.
	Incompatible(Vec<String>),
}

impl Change {
	pub fn label(&self) -> &'static str {
		match self {
			Change::Added => "added",
			Change::Removed => "removed",
			Change::Compatible(_) => "changed compatibly",
			Change::Incompatible(_) => "changed incompatibly",
		}
	}
}

/// One event's change: `Pallet.Variant`, its envelope name (the new one, or the old one when removed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventChange {
	pub event: String,
	pub name: String,
	pub change: Change,
}

/// Every event that differs between `old` and `new`, in `Pallet.Variant` order; unchanged events are left out.
pub fn compare(old: &Contract, new: &Contract) -> Vec<EventChange> {
	let index = |contract: &Contract| -> BTreeMap<String, usize> {
		contract.events.iter().enumerate().map(|(i, e)| (format!("{}.{}", e.pallet, e.variant), i)).collect()
	};
	let (old_index, new_index) = (index(old), index(new));
	let mut changes = Vec::new();
	let mut names: Vec<&String> = old_index.keys().chain(new_index.keys()).collect();
	names.sort();
	names.dedup();
	for event in names {
		let change = match (old_index.get(event), new_index.get(event)) {
			(Some(_), None) => Some((Change::Removed, old.events[old_index[event]].mapping.name.clone())),
			(None, Some(n)) => Some((Change::Added, new.events[*n].mapping.name.clone())),
			(Some(o), Some(n)) => {
				let (before, after) = (&old.events[*o], &new.events[*n]);
				event_change(old, before, new, after).map(|change| (change, after.mapping.name.clone()))
			}
			(None, None) => None,
		};
		if let Some((change, name)) = change {
			changes.push(EventChange { event: event.clone(), name, change });
		}
	}
	changes
}

fn event_change(old: &Contract, before: &EventContract, new: &Contract, after: &EventContract) -> Option<Change> {
	let mut breaking = Vec::new();
	let mut additions = Vec::new();
	if before.mapping != after.mapping || before.topic != after.topic {
		breaking.push(format!(
			"routing: {} on {} → {} on {}",
			before.mapping.name, before.topic, after.mapping.name, after.topic
		));
	}
	let (a, b) = (resolve(&before.data_schema, &old.defs, 0), resolve(&after.data_schema, &new.defs, 0));
	compare_schemas(&a, &b, "data", &mut breaking, &mut additions);
	if !breaking.is_empty() {
		Some(Change::Incompatible(breaking))
	} else if !additions.is_empty() {
		Some(Change::Compatible(additions))
	} else {
		None
	}
}

/// The schema with its `$ref`s replaced by their definitions (to a depth; deeper, the reference stays), and
/// annotations (`description`, `title`) dropped.
fn resolve(schema: &Json, defs: &BTreeMap<String, Json>, depth: usize) -> Json {
	match schema {
		Json::Object(object) => {
			if let Some(target) = object.get("$ref").and_then(Json::as_str) {
				if depth < 12 {
					if let Some(def) = target.strip_prefix("#/$defs/").and_then(|key| defs.get(key)) {
						return resolve(def, defs, depth + 1);
					}
				}
				return json!({"$ref": "(recursive)"});
			}
			Json::Object(
				object
					.iter()
					.filter(|(key, _)| !matches!(key.as_str(), "description" | "title"))
					.map(|(key, value)| (key.clone(), resolve(value, defs, depth)))
					.collect(),
			)
		}
		Json::Array(items) => Json::Array(items.iter().map(|item| resolve(item, defs, depth)).collect()),
		other => other.clone(),
	}
}

fn compare_schemas(old: &Json, new: &Json, at: &str, breaking: &mut Vec<String>, additions: &mut Vec<String>) {
	if old == new {
		return;
	}
	let properties = |schema: &Json| schema.get("properties").and_then(Json::as_object).cloned();
	let is_object = |schema: &Json| schema.get("type") == Some(&Json::from("object"));
	if let (true, true, Some(before), Some(after)) = (is_object(old), is_object(new), properties(old), properties(new))
	{
		for (field, schema) in &before {
			match after.get(field) {
				None => breaking.push(format!("{at}.{field} removed")),
				Some(new_schema) => compare_schemas(schema, new_schema, &format!("{at}.{field}"), breaking, additions),
			}
		}
		for field in after.keys().filter(|field| !before.contains_key(*field)) {
			additions.push(format!("{at}.{field} added"));
		}
		return;
	}
	breaking.push(format!("{at} retyped"));
}

/// The comparison as JSON (`changes.json`).
pub fn to_json(changes: &[EventChange]) -> Json {
	Json::Array(
		changes
			.iter()
			.map(|change| {
				let details = match &change.change {
					Change::Compatible(details) | Change::Incompatible(details) => details.clone(),
					_ => Vec::new(),
				};
				json!({"event": change.event, "name": change.name, "change": change.change.label(), "details": details})
			})
			.collect(),
	)
}

/// The comparison as Markdown (`changes.md`).
pub fn to_markdown(old: &Contract, new: &Contract, changes: &[EventChange]) -> String {
	let label = |contract: &Contract| match (&contract.runtime.spec_name, contract.runtime.spec_version) {
		(Some(name), Some(version)) => format!("{name} {version} ({})", contract.runtime.origin),
		_ => contract.runtime.origin.clone(),
	};
	let mut out = format!("# Contract changes\n\nFrom {} to {}.\n\n", label(old), label(new));
	if changes.is_empty() {
		out.push_str("No event changed.\n");
		return out;
	}
	out.push_str("| event | name | change | details |\n|---|---|---|---|\n");
	for change in changes {
		let details = match &change.change {
			Change::Compatible(details) | Change::Incompatible(details) => details.join("; "),
			_ => String::new(),
		};
		out.push_str(&format!(
			"| `{}` | `{}` | {} | {} |\n",
			change.event,
			change.name,
			change.change.label(),
			details
		));
	}
	out
}
