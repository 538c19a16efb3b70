//! Checks of the mapping table against a runtime's metadata: the completeness guard ([`check_completeness`]) and
//! the reference check ([`check_references`]).

use std::collections::{BTreeMap, BTreeSet};

use crate::block::decode::EventDecoder;

use super::{
	model::{EventMapping, EventName, Mappings},
	parse::pointer_field,
};

/// The completeness guard: every event that the metadata declares for a domain pallet must have a mapping or an
/// exclusion, so a runtime developer who adds an event decides how it is shipped. Returns one message per
/// missing event, each with the TOML to add. Domain pallets the runtime does not have are not checked.
pub fn check_completeness(mappings: &Mappings, decoder: &EventDecoder) -> Result<(), Vec<String>> {
	let missing: Vec<String> = decoder
		.event_variants()
		.into_iter()
		.filter(|(pallet, _)| mappings.domain_pallets.contains(pallet))
		.filter(|(pallet, variant)| {
			mappings.mapping(pallet, variant).is_none() && !mappings.is_excluded(pallet, variant)
		})
		.map(|(pallet, variant)| {
			let fields = decoder.event_fields(&pallet, &variant).unwrap_or_default();
			missing_event_message(mappings, &pallet, &variant, &fields)
		})
		.collect();
	if missing.is_empty() {
		Ok(())
	} else {
		Err(missing)
	}
}

/// What to add for an unmapped event, guessing topic and key from the pallet's other entries.
fn missing_event_message(mappings: &Mappings, pallet: &str, variant: &str, fields: &[String]) -> String {
	let siblings: Vec<&EventMapping> =
		mappings.events.iter().filter(|((p, _), _)| p == pallet).map(|(_, mapping)| mapping).collect();
	let topic = most_common(siblings.iter().filter_map(|m| m.topic.clone())).unwrap_or_else(|| pallet.to_lowercase());
	let key = most_common(siblings.iter().filter_map(|m| m.key.clone()))
		.filter(|key| pointer_field(key).is_some_and(|field| fields.contains(&field)));
	let key_line = key.map(|key| format!("\n    key = \"{key}\"")).unwrap_or_default();
	let shown_fields = if fields.is_empty() { "no fields".to_string() } else { fields.join(", ") };
	format!(
		"{pallet}.{variant} ({shown_fields}) is an event of the domain pallet {pallet} with neither a mapping nor \
		 an exclusion. Add to the mapping table either\n    [events.\"{pallet}.{variant}\"]\n    name = \
		 \"{pallet}{variant}Event\"\n    type = \"domain\"\n    topic = \"{topic}\"{key_line}\nor exclude it: add \
		 \"{pallet}.{variant}\" to `events` under [exclude]."
	)
}

fn most_common(items: impl Iterator<Item = String>) -> Option<String> {
	let mut counts: BTreeMap<String, usize> = BTreeMap::new();
	for item in items {
		*counts.entry(item).or_default() += 1;
	}
	counts.into_iter().max_by_key(|(_, count)| *count).map(|(item, _)| item)
}

/// Catches typos the completeness guard cannot: a mapping, exclusion or inclusion naming an event that the
/// runtime's pallet does not declare, and a key pointer naming no field of its event. Entries of pallets the
/// runtime does not have are skipped (the table may be ahead of the runtime).
pub fn check_references(mappings: &Mappings, decoder: &EventDecoder) -> Result<(), Vec<String>> {
	let pallets: BTreeSet<String> = decoder.pallet_names().into_iter().collect();
	let declared: BTreeSet<EventName> = decoder.event_variants().into_iter().collect();
	let mut problems = Vec::new();
	let listed = mappings
		.events
		.keys()
		.map(|event| (event, "mapped in [events]"))
		.chain(mappings.excluded_events.iter().map(|event| (event, "listed in exclude.events")))
		.chain(mappings.included_events.iter().map(|event| (event, "listed in include.events")));
	for ((pallet, variant), how) in listed {
		if pallets.contains(pallet) && !declared.contains(&(pallet.clone(), variant.clone())) {
			let events: Vec<String> = declared.iter().filter(|(p, _)| p == pallet).map(|(_, v)| v.clone()).collect();
			problems.push(format!(
				"{pallet}.{variant} is {how} but {pallet} declares no such event: fix the name or remove it \
				 ({pallet}'s events: {})",
				events.join(", ")
			));
		}
	}
	for ((pallet, variant), mapping) in &mappings.events {
		let (Some(key), Some(fields)) = (&mapping.key, decoder.event_fields(pallet, variant)) else { continue };
		if pointer_field(key).is_some_and(|field| !fields.contains(&field)) {
			problems.push(format!(
				"the key \"{key}\" of {pallet}.{variant} names no field of the event: use one of its fields ({})",
				fields.join(", ")
			));
		}
	}
	if problems.is_empty() {
		Ok(())
	} else {
		Err(problems)
	}
}
