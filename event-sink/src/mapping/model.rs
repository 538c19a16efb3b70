//! The model of the mapping table: the merged [`Mappings`], what it resolves an event to ([`ResolvedMapping`],
//! [`EventType`], [`PartitionKey`]) and its entries ([`EventMapping`]).

use std::{
	collections::{BTreeMap, BTreeSet},
	path::Path,
};

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::parse::{Layer, MappingError};

/// The topic (suffix) of events without a mapping.
pub const DEFAULT_TOPIC: &str = "events";
/// The topic (suffix) of the infrastructure envelopes the sink makes itself (BlockCreated, …).
pub const DEFAULT_INFRASTRUCTURE_TOPIC: &str = "blocks";
/// The envelope name of the remainder of a block's events that did not decode.
pub const UNDECODABLE_EVENT_NAME: &str = "UndecodableEvent";

/// The envelope's `type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
pub(super) type EventName = (String, String);

/// The mapping table, after merging its layers. See the [module docs](super).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mappings {
	default_topic: String,
	infrastructure_topic: String,
	skip_unmapped: bool,
	pub(super) domain_pallets: BTreeSet<String>,
	pub(super) events: BTreeMap<EventName, EventMapping>,
	excluded_pallets: BTreeSet<String>,
	pub(super) excluded_events: BTreeSet<EventName>,
	included_pallets: BTreeSet<String>,
	pub(super) included_events: BTreeSet<EventName>,
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

	/// Lays another table over this one (see the [module docs](super) for what overrides what).
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

	/// The pallets whose every event must be mapped or excluded ([`check_completeness`](super::check_completeness)).
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
