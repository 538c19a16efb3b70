//! Where each event goes, decided once: a [`Route`] is a [`ResolvedMapping`] made ready for the hot path (the
//! name, topic and key shared by reference), and [`RuntimeRoutes`] holds the route of every event
//! one runtime declares, by (pallet index, variant index), so that shipping an event resolves nothing.

use std::sync::Arc;

use crate::{
	block::decode::EventDecoder,
	mapping::{EventType, Mappings, PartitionKey, ResolvedMapping},
};

/// A resolved mapping, ready for the hot path: what the mapping table decided for an event, with no notion of
/// Kafka (the topic is the mapping's, without any prefix; each output turns it into its own destination).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
	/// The envelope's `name`.
	pub name: Arc<str>,
	/// The envelope's `type`.
	pub event_type: EventType,
	/// The mapping's topic, e.g. `"assets"` (Kafka prefixes it: `herald.assets`).
	pub topic: Arc<str>,
	/// What orders the event's messages (a Kafka output's partition key).
	pub key: KeyRule,
}

/// The mapping's key, ready to evaluate ([`crate::kafka::request::partition_key`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyRule {
	/// A JSON pointer into `data`; when it finds nothing, the pallet (or the chain) keys the message.
	Pointer(String),
	/// The same key for every message (the pallet's name).
	Fixed(Arc<[u8]>),
	/// The chain's genesis hash.
	Chain,
}

impl Route {
	pub fn new(mapping: &ResolvedMapping) -> Route {
		Route {
			name: mapping.name.as_str().into(),
			event_type: mapping.event_type,
			topic: mapping.topic.as_str().into(),
			key: match &mapping.key {
				PartitionKey::Pointer(pointer) => KeyRule::Pointer(pointer.clone()),
				PartitionKey::Pallet(pallet) => KeyRule::Fixed(pallet.as_bytes().into()),
				PartitionKey::Chain => KeyRule::Chain,
			},
		}
	}
}

/// The route of every event one runtime declares (`None` for the ones that don't ship), by pallet index and
/// variant index: built once per runtime, shared by every block it executed.
#[derive(Clone, Debug, Default)]
pub struct RuntimeRoutes {
	by_pallet: Vec<Vec<Option<Arc<Route>>>>,
}

impl RuntimeRoutes {
	pub fn new(decoder: &EventDecoder, mappings: &Mappings) -> RuntimeRoutes {
		let mut by_pallet: Vec<Vec<Option<Arc<Route>>>> = Vec::new();
		for event in decoder.event_indexes() {
			let (pallet, variant) = (event.pallet_index as usize, event.variant_index as usize);
			if by_pallet.len() <= pallet {
				by_pallet.resize(pallet + 1, Vec::new());
			}
			let variants = &mut by_pallet[pallet];
			if variants.len() <= variant {
				variants.resize(variant + 1, None);
			}
			variants[variant] =
				mappings.resolve(event.pallet, event.variant).map(|mapping| Arc::new(Route::new(&mapping)));
		}
		RuntimeRoutes { by_pallet }
	}

	/// The route of the event with these indexes, `None` when it doesn't ship (or the runtime has no such event).
	pub fn get(&self, pallet_index: u8, variant_index: u8) -> Option<&Arc<Route>> {
		self.by_pallet.get(pallet_index as usize)?.get(variant_index as usize)?.as_ref()
	}
}

/// The routes of the envelopes the sink makes itself, resolved once per run.
#[derive(Clone, Debug)]
pub struct InfrastructureRoutes {
	pub block_created: Arc<Route>,
	pub block_finalized: Arc<Route>,
	pub runtime_upgraded: Arc<Route>,
	pub block_retracted: Arc<Route>,
}

impl InfrastructureRoutes {
	pub fn new(mappings: &Mappings) -> InfrastructureRoutes {
		let route = |name: &str| Arc::new(Route::new(&mappings.infrastructure(name)));
		InfrastructureRoutes {
			block_created: route("BlockCreated"),
			block_finalized: route("BlockFinalized"),
			runtime_upgraded: route("RuntimeUpgraded"),
			block_retracted: route("BlockRetracted"),
		}
	}
}
