//! Parsing and validating one TOML table into a [`Layer`], and the [`MappingError`] listing every problem found,
//! each with its line, its entry and the fix.

use std::{
	collections::{BTreeMap, BTreeSet},
	fmt,
	ops::Range,
};

use serde::Deserialize;
use toml::Spanned;

use super::model::{EventMapping, EventName, EventType};

/// A table that could not be loaded: every problem found, each with its line and entry where known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MappingError {
	/// Which table: "the embedded mapping table" or the file's path.
	pub origin: String,
	/// The problems, in the order of the file.
	pub problems: Vec<Problem>,
}

/// One problem in a mapping table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
	/// 1-based line, where known.
	pub line: Option<usize>,
	/// The entry or setting concerned, e.g. `[events."Assets.Created"]`.
	pub entry: Option<String>,
	/// What is wrong and how to fix it.
	pub message: String,
}

impl MappingError {
	pub(super) fn single(origin: &str, line: Option<usize>, entry: Option<String>, message: String) -> MappingError {
		MappingError { origin: origin.into(), problems: vec![Problem { line, entry, message }] }
	}
}

impl fmt::Display for MappingError {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		write!(f, "invalid Kafka mapping table {}:", self.origin)?;
		for problem in &self.problems {
			write!(f, "\n  ")?;
			if let Some(line) = problem.line {
				write!(f, "line {line}: ")?;
			}
			if let Some(entry) = &problem.entry {
				write!(f, "{entry}: ")?;
			}
			write!(f, "{}", problem.message)?;
		}
		Ok(())
	}
}

impl std::error::Error for MappingError {}

// ---- Parsing one table -------------------------------------------------------------------------------------

/// The TOML as written; everything is optional so that an override file can say only what it changes.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
	domain_pallets: Option<Vec<Spanned<String>>>,
	defaults: Option<RawDefaults>,
	exclude: Option<RawSelection>,
	include: Option<RawSelection>,
	#[serde(default)]
	events: BTreeMap<Spanned<String>, toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
	topic: Option<Spanned<String>>,
	infrastructure_topic: Option<Spanned<String>>,
	skip_unmapped: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSelection {
	#[serde(default)]
	pallets: Vec<Spanned<String>>,
	#[serde(default)]
	events: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
	name: Option<String>,
	#[serde(rename = "type")]
	event_type: Option<String>,
	topic: Option<String>,
	key: Option<String>,
}

/// One validated table.
#[derive(Default)]
pub(super) struct Layer {
	pub(super) default_topic: Option<String>,
	pub(super) infrastructure_topic: Option<String>,
	pub(super) skip_unmapped: Option<bool>,
	pub(super) domain_pallets: Vec<String>,
	pub(super) events: Vec<(EventName, EventMapping)>,
	pub(super) excluded_pallets: Vec<String>,
	pub(super) excluded_events: Vec<EventName>,
	pub(super) included_pallets: Vec<String>,
	pub(super) included_events: Vec<EventName>,
}

/// Collects problems while validating a table.
struct Checker<'a> {
	text: &'a str,
	problems: Vec<Problem>,
}

impl Checker<'_> {
	fn line(&self, span: Range<usize>) -> usize {
		let end = span.start.min(self.text.len());
		self.text.as_bytes()[..end].iter().filter(|b| **b == b'\n').count() + 1
	}

	fn problem(&mut self, span: Range<usize>, entry: impl Into<String>, message: impl Into<String>) {
		let line = Some(self.line(span));
		self.problems.push(Problem { line, entry: Some(entry.into()), message: message.into() });
	}

	fn pallet(&mut self, name: &Spanned<String>, entry: &str) -> Option<String> {
		if is_identifier(name.get_ref()) {
			return Some(name.get_ref().clone());
		}
		self.problem(
			name.span(),
			entry,
			format!("`{}` is not a pallet name: use the pallet's name in the runtime, e.g. \"Assets\"", name.get_ref()),
		);
		None
	}

	fn event(&mut self, name: &Spanned<String>, entry: &str) -> Option<EventName> {
		if let Some(event) = parse_event_name(name.get_ref()) {
			return Some(event);
		}
		self.problem(
			name.span(),
			entry,
			format!(
				"`{}` is not an event name: write \"Pallet.Variant\" with the names of the runtime's metadata, \
				 e.g. \"Assets.Created\" (in a table header, in quotes: [events.\"Assets.Created\"])",
				name.get_ref()
			),
		);
		None
	}

	fn topic(&mut self, topic: &str, span: Range<usize>, entry: &str) -> Option<String> {
		match topic_problem(topic) {
			None => Some(topic.into()),
			Some(problem) => {
				self.problem(span, entry, problem);
				None
			}
		}
	}

	/// Rejects a name listed twice in one list.
	fn unique<T: Ord + Clone>(
		&mut self,
		seen: &mut BTreeSet<T>,
		item: &T,
		span: Range<usize>,
		entry: &str,
		shown: &str,
	) {
		if !seen.insert(item.clone()) {
			self.problem(span, entry, format!("{shown} is listed twice: remove one"));
		}
	}
}

impl Layer {
	pub(super) fn parse(text: &str, origin: &str) -> Result<Layer, MappingError> {
		let raw: RawTable = toml::from_str(text).map_err(|error| syntax_error(text, origin, &error))?;
		let mut checker = Checker { text, problems: Vec::new() };
		let mut layer = Layer::default();

		if let Some(defaults) = raw.defaults {
			if let Some(topic) = defaults.topic {
				layer.default_topic = checker.topic(topic.get_ref(), topic.span(), "defaults.topic");
			}
			if let Some(topic) = defaults.infrastructure_topic {
				layer.infrastructure_topic =
					checker.topic(topic.get_ref(), topic.span(), "defaults.infrastructure_topic");
			}
			layer.skip_unmapped = defaults.skip_unmapped;
		}

		let mut seen = BTreeSet::new();
		for pallet in raw.domain_pallets.iter().flatten() {
			if let Some(name) = checker.pallet(pallet, "domain_pallets") {
				checker.unique(&mut seen, &name, pallet.span(), "domain_pallets", &format!("\"{name}\""));
				layer.domain_pallets.push(name);
			}
		}

		for (selection, which) in [(&raw.exclude, "exclude"), (&raw.include, "include")] {
			let Some(selection) = selection else { continue };
			let (pallets_entry, events_entry) = (format!("{which}.pallets"), format!("{which}.events"));
			let mut seen_pallets = BTreeSet::new();
			for pallet in &selection.pallets {
				if let Some(name) = checker.pallet(pallet, &pallets_entry) {
					checker.unique(&mut seen_pallets, &name, pallet.span(), &pallets_entry, &format!("\"{name}\""));
					match which {
						"exclude" => layer.excluded_pallets.push(name),
						_ => layer.included_pallets.push(name),
					}
				}
			}
			let mut seen_events = BTreeSet::new();
			for event in &selection.events {
				if let Some(name) = checker.event(event, &events_entry) {
					let shown = format!("\"{}.{}\"", name.0, name.1);
					checker.unique(&mut seen_events, &name, event.span(), &events_entry, &shown);
					match which {
						"exclude" => layer.excluded_events.push(name),
						_ => layer.included_events.push(name),
					}
				}
			}
		}

		for (key, value) in raw.events {
			let entry = format!("[events.\"{}\"]", key.get_ref());
			let Some(event) = checker.event(&key, &entry) else { continue };
			let raw_event: RawEvent = match value.try_into() {
				Ok(raw_event) => raw_event,
				Err(error) => {
					let message = error.message().trim().to_string();
					checker.problem(
						key.span(),
						&entry,
						format!(
							"{message}; an entry has the fields name, type (\"domain\" or \"infrastructure\"), \
							 topic and key (a JSON pointer such as \"/asset_id\")"
						),
					);
					continue;
				}
			};
			if let Some(mapping) = check_event(&mut checker, &entry, key.span(), raw_event) {
				layer.events.push((event, mapping));
			}
		}

		// The same name on both sides of a choice is a contradiction within one table.
		let mapped: BTreeSet<&EventName> = layer.events.iter().map(|(event, _)| event).collect();
		let conflicts = [
			(
				layer.excluded_events.iter().filter(|e| mapped.contains(e)).collect::<Vec<_>>(),
				"is both mapped in [events] and listed in exclude.events: remove one",
			),
			(
				layer.excluded_events.iter().filter(|e| layer.included_events.contains(e)).collect(),
				"is listed in both exclude.events and include.events: remove one",
			),
		];
		for (events, message) in conflicts {
			for (pallet, variant) in events {
				checker.problems.push(Problem {
					line: None,
					entry: Some(format!("\"{pallet}.{variant}\"")),
					message: message.into(),
				});
			}
		}
		for pallet in layer.excluded_pallets.iter().filter(|p| layer.included_pallets.contains(p)) {
			checker.problems.push(Problem {
				line: None,
				entry: Some(format!("\"{pallet}\"")),
				message: "is listed in both exclude.pallets and include.pallets: remove one".into(),
			});
		}

		if checker.problems.is_empty() {
			Ok(layer)
		} else {
			Err(MappingError { origin: origin.into(), problems: checker.problems })
		}
	}
}

/// A TOML error (syntax, or a setting of the wrong type or name) with its line, on one line, and a hint for the
/// common slips.
fn syntax_error(text: &str, origin: &str, error: &toml::de::Error) -> MappingError {
	let start = error.span().map(|span| span.start.min(text.len()));
	let line = start.map(|start| text.as_bytes()[..start].iter().filter(|b| **b == b'\n').count() + 1);
	let line_text = line.and_then(|line| text.lines().nth(line - 1)).unwrap_or_default().trim();
	let mut message = error.message().trim().lines().collect::<Vec<_>>().join(": ");
	if message.contains("duplicate key") {
		message.push_str(": the same entry or setting appears twice, keep one");
	} else if line_text.starts_with("[events.") && !line_text.contains('"') {
		message.push_str(": write event entries as [events.\"Pallet.Variant\"], the name in quotes");
	}
	MappingError::single(origin, line, None, message)
}

fn check_event(checker: &mut Checker<'_>, entry: &str, span: Range<usize>, raw: RawEvent) -> Option<EventMapping> {
	let mut ok = true;
	let event_type = match raw.event_type.as_deref() {
		None | Some("domain") => EventType::Domain,
		Some("infrastructure") => EventType::Infrastructure,
		Some(other) => {
			checker.problem(
				span.clone(),
				entry,
				format!("unknown type \"{other}\": use \"domain\" or \"infrastructure\""),
			);
			ok = false;
			EventType::Domain
		}
	};
	if let Some(name) = &raw.name {
		if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
			checker.problem(
				span.clone(),
				entry,
				format!("name \"{name}\" must be non-empty without spaces, e.g. \"AssetCreatedEvent\""),
			);
			ok = false;
		}
	}
	if let Some(topic) = &raw.topic {
		ok &= checker.topic(topic, span.clone(), entry).is_some();
	}
	if let Some(key) = &raw.key {
		if let Some(problem) = pointer_problem(key) {
			checker.problem(span, entry, problem);
			ok = false;
		}
	}
	ok.then_some(EventMapping { name: raw.name, event_type, topic: raw.topic, key: raw.key })
}

/// What is wrong with a JSON pointer used as a partition key, if anything (RFC 6901).
fn pointer_problem(pointer: &str) -> Option<String> {
	if pointer.is_empty() {
		return Some(
			"key \"\" would key by the whole data: name a field with a JSON pointer, e.g. \"/asset_id\"".into(),
		);
	}
	if !pointer.starts_with('/') {
		return Some(format!("key \"{pointer}\" is not a JSON pointer: start it with '/', e.g. \"/{pointer}\""));
	}
	let mut chars = pointer.chars();
	while let Some(c) = chars.next() {
		if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
			return Some(format!(
				"key \"{pointer}\" has a '~' not followed by 0 or 1: write '~' as \"~0\" and '/' as \"~1\" (RFC 6901)"
			));
		}
	}
	None
}

/// The first reference token of a pointer, unescaped: the event field the key comes from.
pub(super) fn pointer_field(pointer: &str) -> Option<String> {
	let first = pointer.strip_prefix('/')?.split('/').next()?;
	Some(first.replace("~1", "/").replace("~0", "~"))
}

fn topic_problem(topic: &str) -> Option<String> {
	let valid = !topic.is_empty()
		&& topic.len() <= 200
		&& topic != "."
		&& topic != ".."
		&& topic.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
	(!valid).then(|| {
		format!(
			"topic \"{topic}\" is not a valid Kafka topic suffix: use 1 to 200 of letters, digits, '.', '_' and '-', \
			 e.g. \"assets\""
		)
	})
}

fn is_identifier(name: &str) -> bool {
	let mut chars = name.chars();
	chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
		&& chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn parse_event_name(name: &str) -> Option<EventName> {
	let (pallet, variant) = name.split_once('.')?;
	(is_identifier(pallet) && is_identifier(variant)).then(|| (pallet.to_string(), variant.to_string()))
}
