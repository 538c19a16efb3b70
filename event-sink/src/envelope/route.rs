//! Where each event goes, decided once: a [`Route`] is a [`ResolvedMapping`] made ready for the hot path (the
//! full topic name, the name and key shared by reference), and [`RuntimeRoutes`] holds the route of every event
//! one runtime declares, by (pallet index, variant index), so that shipping an event resolves nothing.

use std::sync::Arc;

use serde_json::Value as Json;

use crate::{
	block::decode::EventDecoder,
	mapping::{EventType, Mappings, PartitionKey, ResolvedMapping},
};

/// A resolved mapping, ready to ship messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
	/// The envelope's `name`.
	pub name: Arc<str>,
	/// The envelope's `type`.
	pub event_type: EventType,
	/// The full topic name: `"{prefix}.{mapping topic}"`, or the mapping's topic when the prefix is empty.
	pub topic: Arc<str>,
	key: RouteKey,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum RouteKey {
	/// A JSON pointer into `data`; when it finds nothing, the pallet (or the chain) keys the message.
	Pointer(String),
	/// The same key for every message (the pallet's name).
	Fixed(Arc<[u8]>),
	/// The chain's genesis hash.
	Chain,
}

impl Route {
	pub fn new(mapping: &ResolvedMapping, topic_prefix: &str) -> Route {
		let topic =
			if topic_prefix.is_empty() { mapping.topic.clone() } else { format!("{topic_prefix}.{}", mapping.topic) };
		Route {
			name: mapping.name.as_str().into(),
			event_type: mapping.event_type,
			topic: topic.into(),
			key: match &mapping.key {
				PartitionKey::Pointer(pointer) => RouteKey::Pointer(pointer.clone()),
				PartitionKey::Pallet(pallet) => RouteKey::Fixed(pallet.as_bytes().into()),
				PartitionKey::Chain => RouteKey::Chain,
			},
		}
	}

	/// The partition key of a message with this `data` (JSON text) about `pallet` on the chain `chain_key`: the
	/// mapping's key; when its pointer finds nothing in `data`, the pallet's name (or, with no pallet, the chain)
	/// keeps the order.
	pub fn key(&self, data: &str, pallet: Option<&str>, chain_key: &Arc<[u8]>) -> Arc<[u8]> {
		match &self.key {
			RouteKey::Fixed(key) => key.clone(),
			RouteKey::Chain => chain_key.clone(),
			RouteKey::Pointer(pointer) => {
				// Only a pointer key needs `data` as a tree.
				let data: Json = serde_json::from_str(data).unwrap_or(Json::Null);
				match data.pointer(pointer) {
					None | Some(Json::Null) => match pallet {
						Some(pallet) => pallet.as_bytes().into(),
						None => chain_key.clone(),
					},
					Some(Json::String(text)) => text.as_bytes().into(),
					Some(other) => other.to_string().into_bytes().into(),
				}
			}
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
	pub fn new(decoder: &EventDecoder, mappings: &Mappings, topic_prefix: &str) -> RuntimeRoutes {
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
			variants[variant] = mappings
				.resolve(event.pallet, event.variant)
				.map(|mapping| Arc::new(Route::new(&mapping, topic_prefix)));
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
	pub block_created: Route,
	pub block_finalized: Route,
	pub runtime_upgraded: Route,
	pub block_retracted: Route,
}

impl InfrastructureRoutes {
	pub fn new(mappings: &Mappings, topic_prefix: &str) -> InfrastructureRoutes {
		let route = |name: &str| Route::new(&mappings.infrastructure(name), topic_prefix);
		InfrastructureRoutes {
			block_created: route("BlockCreated"),
			block_finalized: route("BlockFinalized"),
			runtime_upgraded: route("RuntimeUpgraded"),
			block_retracted: route("BlockRetracted"),
		}
	}
}
