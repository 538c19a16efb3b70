//! The mapping table: how each runtime event (`Pallet.Variant`) becomes an envelope (its `name` and `type`) and a
//! Kafka message (its topic and partition key), and which events are not shipped at all. Runtime developers
//! declare it in TOML (docs/mappings.md): the node embeds its table (node/event-mappings.toml) and an operator
//! may pass a file with `--kafka-mappings` that overrides and extends it.
//!
//! How an event resolves ([`Mappings::resolve`]), first match wins:
//! 1. a mapping entry `[events."Pallet.Variant"]`: shipped as mapped;
//! 2. the event in `exclude.events`: skipped;
//! 3. the event in `include.events`: shipped with the defaults;
//! 4. the pallet in `exclude.pallets`: skipped;
//! 5. the pallet in `include.pallets`: shipped with the defaults;
//! 6. `defaults.skip_unmapped = true`: skipped;
//! 7. otherwise shipped with the defaults: name `PalletVariant`, type domain, topic `defaults.topic` (`events`),
//!    key the pallet name (so each pallet's events stay in order).
//!
//! Layers: a later table (the `--kafka-mappings` file) replaces the earlier one's entry for the same event, its
//! exclusions remove the earlier table's mappings and inclusions they name (an excluded pallet loses all of
//! them), its inclusions undo the earlier exclusions, its `domain_pallets` add to the earlier ones and its
//! `defaults` replace the ones it sets.

use std::{
	collections::{BTreeMap, BTreeSet},
	fmt,
	ops::Range,
	path::Path,
};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use toml::Spanned;

use crate::decode::EventDecoder;

/// The topic (suffix) of events without a mapping.
pub const DEFAULT_TOPIC: &str = "events";
/// The topic (suffix) of the infrastructure envelopes the sink makes itself (BlockCreated, …).
pub const DEFAULT_INFRASTRUCTURE_TOPIC: &str = "blocks";
/// The envelope name of the remainder of a block's events that did not decode.
pub const UNDECODABLE_EVENT_NAME: &str = "UndecodableEvent";

/// The envelope's `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventType {
	/// A business event of the chain (an asset issued, a DAO created, …).
	Domain,
	/// About the chain's operation rather than its business: blocks, runtime upgrades, extrinsic outcomes.
	Infrastructure,
}

impl EventType {
	/// `"domain"` or `"infrastructure"`, as in the envelope.
	pub fn as_str(self) -> &'static str {
		match self {
			EventType::Domain => "domain",
			EventType::Infrastructure => "infrastructure",
		}
	}
}

/// Where a message's partition key comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PartitionKey {
	/// An RFC 6901 JSON pointer into the envelope's `data`, e.g. `/dao_id`.
	Pointer(String),
	/// The pallet's name: all of a pallet's events share a partition, hence their order.
	Pallet(String),
	/// The chain's genesis hash (`meta.chain`): every message of the topic in one partition, a total order.
	Chain,
}

/// What [`Mappings::resolve`] decided for one event: the envelope's name and type, and the message's topic and key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedMapping {
	/// The envelope's `name`.
	pub name: String,
	/// The envelope's `type`.
	pub event_type: EventType,
	/// The topic suffix: the message goes to `"{prefix}.{topic}"`.
	pub topic: String,
	/// Where the partition key comes from.
	pub key: PartitionKey,
}

impl ResolvedMapping {
	/// The partition key for an event with this `data`: the string form of the pointed value (a string without
	/// quotes, a number or bool as written in JSON, an object or array as compact JSON), or the pallet name.
	/// `None` when the pointer finds nothing (or `null`), and for [`PartitionKey::Chain`], which `data` does not
	/// hold: [`crate::envelope::to_message`] then keys by the pallet, resp. the chain.
	pub fn partition_key(&self, data: &Json) -> Option<Vec<u8>> {
		match &self.key {
			PartitionKey::Pointer(pointer) => data.pointer(pointer).and_then(key_bytes),
			PartitionKey::Pallet(pallet) => Some(pallet.as_bytes().to_vec()),
			PartitionKey::Chain => None,
		}
	}
}

fn key_bytes(value: &Json) -> Option<Vec<u8>> {
	match value {
		Json::Null => None,
		Json::String(text) => Some(text.as_bytes().to_vec()),
		other => Some(other.to_string().into_bytes()),
	}
}

/// One `[events."Pallet.Variant"]` entry; unset fields take the defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventMapping {
	/// The envelope's `name`; default `PalletVariant`.
	pub name: Option<String>,
	/// The envelope's `type`; default domain.
	pub event_type: EventType,
	/// The topic suffix; default `defaults.topic`.
	pub topic: Option<String>,
	/// A JSON pointer into `data` for the partition key; default the pallet name.
	pub key: Option<String>,
}

/// A pallet event: (pallet, variant).
type EventName = (String, String);

/// The mapping table, after merging its layers. See the module docs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mappings {
	default_topic: String,
	infrastructure_topic: String,
	skip_unmapped: bool,
	domain_pallets: BTreeSet<String>,
	events: BTreeMap<EventName, EventMapping>,
	excluded_pallets: BTreeSet<String>,
	excluded_events: BTreeSet<EventName>,
	included_pallets: BTreeSet<String>,
	included_events: BTreeSet<EventName>,
}

impl Default for Mappings {
	/// The empty table: every event shipped with the defaults.
	fn default() -> Self {
		Mappings {
			default_topic: DEFAULT_TOPIC.into(),
			infrastructure_topic: DEFAULT_INFRASTRUCTURE_TOPIC.into(),
			skip_unmapped: false,
			domain_pallets: BTreeSet::new(),
			events: BTreeMap::new(),
			excluded_pallets: BTreeSet::new(),
			excluded_events: BTreeSet::new(),
			included_pallets: BTreeSet::new(),
			included_events: BTreeSet::new(),
		}
	}
}

impl Mappings {
	/// Parses one table. `origin` names it in errors (e.g. "the embedded mapping table" or a file path).
	pub fn from_toml(text: &str, origin: &str) -> Result<Mappings, MappingError> {
		Mappings::default().with_override(text, origin)
	}

	/// Lays another table over this one (see the module docs for what overrides what).
	pub fn with_override(mut self, text: &str, origin: &str) -> Result<Mappings, MappingError> {
		let layer = Layer::parse(text, origin)?;
		self.apply(layer);
		Ok(self)
	}

	/// The node's table: `embedded` (the built-in TOML), then the `--kafka-mappings` file if one is given.
	pub fn load(embedded: &str, file: Option<&Path>) -> Result<Mappings, MappingError> {
		let mappings = Mappings::from_toml(embedded, "the embedded mapping table")?;
		let Some(path) = file else { return Ok(mappings) };
		let origin = path.display().to_string();
		let text = std::fs::read_to_string(path).map_err(|error| {
			MappingError::single(&origin, None, None, format!("cannot read the mapping file: {error}"))
		})?;
		mappings.with_override(&text, &origin)
	}

	/// How to ship `pallet.variant`, or `None` to skip it.
	pub fn resolve(&self, pallet: &str, variant: &str) -> Option<ResolvedMapping> {
		let event = (pallet.to_string(), variant.to_string());
		if let Some(mapping) = self.events.get(&event) {
			return Some(ResolvedMapping {
				name: mapping.name.clone().unwrap_or_else(|| default_name(pallet, variant)),
				event_type: mapping.event_type,
				topic: mapping.topic.clone().unwrap_or_else(|| self.default_topic.clone()),
				key: match &mapping.key {
					Some(pointer) => PartitionKey::Pointer(pointer.clone()),
					None => PartitionKey::Pallet(pallet.into()),
				},
			});
		}
		let shipped = if self.excluded_events.contains(&event) {
			false
		} else if self.included_events.contains(&event) {
			true
		} else if self.excluded_pallets.contains(pallet) {
			false
		} else {
			self.included_pallets.contains(pallet) || !self.skip_unmapped
		};
		shipped.then(|| self.default_mapping(pallet, variant))
	}

	/// How to ship the undecodable remainder of a block's events: never skipped (it may hide any event), named
	/// [`UNDECODABLE_EVENT_NAME`], in the topic of the failing record's mapping when its pallet and variant are
	/// known and mapped (so that topic's consumers see the gap), else in the default topic; keyed by its pallet.
	pub fn resolve_undecodable(&self, pallet: Option<&str>, variant: Option<&str>) -> ResolvedMapping {
		let topic = match (pallet, variant) {
			(Some(pallet), Some(variant)) => self.resolve(pallet, variant).map(|mapping| mapping.topic),
			_ => None,
		};
		ResolvedMapping {
			name: UNDECODABLE_EVENT_NAME.into(),
			event_type: EventType::Domain,
			topic: topic.unwrap_or_else(|| self.default_topic.clone()),
			key: match pallet {
				Some(pallet) => PartitionKey::Pallet(pallet.into()),
				None => PartitionKey::Chain,
			},
		}
	}

	/// How to ship the sink's own infrastructure envelopes (named `name`): the infrastructure topic, keyed by
	/// the chain so their order is total.
	pub fn infrastructure(&self, name: &str) -> ResolvedMapping {
		ResolvedMapping {
			name: name.into(),
			event_type: EventType::Infrastructure,
			topic: self.infrastructure_topic.clone(),
			key: PartitionKey::Chain,
		}
	}

	/// The pallets whose every event must be mapped or excluded ([`check_completeness`]).
	pub fn domain_pallets(&self) -> &BTreeSet<String> {
		&self.domain_pallets
	}

	/// The topic suffix of unmapped events.
	pub fn default_topic(&self) -> &str {
		&self.default_topic
	}

	/// The topic suffix of the sink's infrastructure envelopes.
	pub fn infrastructure_topic(&self) -> &str {
		&self.infrastructure_topic
	}

	/// Every topic suffix a message may go to (the default and infrastructure topics and every mapping's),
	/// sorted, without duplicates: the topics to create before shipping.
	pub fn topics(&self) -> Vec<String> {
		let mapped = self.events.values().filter_map(|mapping| mapping.topic.clone());
		let all: BTreeSet<String> =
			[self.default_topic.clone(), self.infrastructure_topic.clone()].into_iter().chain(mapped).collect();
		all.into_iter().collect()
	}

	/// Whether events without a mapping (nor an inclusion) are skipped.
	pub fn skip_unmapped(&self) -> bool {
		self.skip_unmapped
	}

	/// The mapping entry of `pallet.variant`, if there is one.
	pub fn mapping(&self, pallet: &str, variant: &str) -> Option<&EventMapping> {
		self.events.get(&(pallet.to_string(), variant.to_string()))
	}

	/// Whether `pallet.variant` is excluded, by name or with its whole pallet (and has no mapping).
	pub fn is_excluded(&self, pallet: &str, variant: &str) -> bool {
		let event = (pallet.to_string(), variant.to_string());
		!self.events.contains_key(&event)
			&& (self.excluded_events.contains(&event)
				|| (self.excluded_pallets.contains(pallet) && !self.included_events.contains(&event)))
	}

	fn default_mapping(&self, pallet: &str, variant: &str) -> ResolvedMapping {
		ResolvedMapping {
			name: default_name(pallet, variant),
			event_type: EventType::Domain,
			topic: self.default_topic.clone(),
			key: PartitionKey::Pallet(pallet.into()),
		}
	}

	fn apply(&mut self, layer: Layer) {
		if let Some(topic) = layer.default_topic {
			self.default_topic = topic;
		}
		if let Some(topic) = layer.infrastructure_topic {
			self.infrastructure_topic = topic;
		}
		if let Some(skip) = layer.skip_unmapped {
			self.skip_unmapped = skip;
		}
		self.domain_pallets.extend(layer.domain_pallets);
		for pallet in layer.excluded_pallets {
			self.included_pallets.remove(&pallet);
			self.events.retain(|(p, _), _| *p != pallet);
			self.included_events.retain(|(p, _)| *p != pallet);
			self.excluded_pallets.insert(pallet);
		}
		for pallet in layer.included_pallets {
			self.excluded_pallets.remove(&pallet);
			self.included_pallets.insert(pallet);
		}
		for event in layer.excluded_events {
			self.events.remove(&event);
			self.included_events.remove(&event);
			self.excluded_events.insert(event);
		}
		for event in layer.included_events {
			self.excluded_events.remove(&event);
			self.included_events.insert(event);
		}
		for (event, mapping) in layer.events {
			self.excluded_events.remove(&event);
			self.events.insert(event, mapping);
		}
	}
}

fn default_name(pallet: &str, variant: &str) -> String {
	format!("{pallet}{variant}")
}

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
	fn single(origin: &str, line: Option<usize>, entry: Option<String>, message: String) -> MappingError {
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
struct Layer {
	default_topic: Option<String>,
	infrastructure_topic: Option<String>,
	skip_unmapped: Option<bool>,
	domain_pallets: Vec<String>,
	events: Vec<(EventName, EventMapping)>,
	excluded_pallets: Vec<String>,
	excluded_events: Vec<EventName>,
	included_pallets: Vec<String>,
	included_events: Vec<EventName>,
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
	fn parse(text: &str, origin: &str) -> Result<Layer, MappingError> {
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
fn pointer_field(pointer: &str) -> Option<String> {
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

// ---- Checks against a runtime's metadata ------------------------------------------------------------------

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

#[cfg(test)]
mod tests;
