//! Wires the `herald_v1_follow` subscription into the node (`--herald-follow-rpc`): starts the two feeds
//! (finalized and best chain) on their own threads, and registers the RPC methods:
//!
//! - `herald_v1_follow(params?)` → notifications `herald_v1_followEvent`, ended by `herald_v1_unfollow`;
//! - `herald_v1_contracts()` → the AsyncAPI 3.0 document of what the node sends now (the running runtime).
//!
//! The subscription logic lives in `herald_event_sink::subscribe`; this file only speaks JSON-RPC.

use std::{collections::HashMap, sync::Arc};

use herald_event_sink::{
	block::reader::ClientBlockReader,
	config::Follow,
	contract::{asyncapi, Contract, Routing, RuntimeLabel},
	follow::{wake::wake_on_chain_events, ClientChain},
	mapping::Mappings,
	subscribe::{self, Feed, FollowError, FollowLimits, FollowMetrics, FollowRequest, NotificationSink, Vocabulary},
};
use jsonrpsee::{
	core::server::{PendingSubscriptionSink, SubscriptionMessage, SubscriptionSink},
	server::ConnectionId,
	types::ErrorObjectOwned,
	RpcModule,
};
use sc_client_api::HeaderBackend;
use sc_service::{error::Error as ServiceError, TaskManager};
use sp_api::{Metadata, ProvideRuntimeApi};
use substrate_prometheus_endpoint::Registry;

use crate::{
	cli::FollowParams,
	service::{FullBackend, FullClient},
};

type Block = herald_runtime::opaque::Block;

/// The hub over the node's client.
pub type FollowHub = subscribe::Hub<ClientChain<Block, FullClient>, ClientBlockReader<Block, FullClient, FullBackend>>;

/// What `--herald-follow-*` asks for, with the mapping table and topic prefix every output shares.
#[derive(Clone)]
pub struct FollowSetup {
	pub limits: FollowLimits,
	pub mappings: Mappings,
	/// The Kafka topic prefix, which `RuntimeUpgraded`'s change summary names topics with (same bytes as Kafka).
	pub topic_prefix: String,
}

/// The subscription's set-up, or `None` without `--herald-follow-rpc`.
pub fn follow_setup(params: &FollowParams, kafka: &crate::cli::KafkaParams) -> Result<Option<FollowSetup>, String> {
	if !params.herald_follow_rpc {
		return Ok(None);
	}
	let mappings = crate::event_sink::load_mappings(kafka.kafka_mappings.as_deref(), kafka.kafka_skip_unmapped)?;
	let limits = FollowLimits {
		queue_envelopes: params.herald_follow_queue as usize,
		max_subscriptions: params.herald_follow_max_subscriptions as usize,
		max_per_connection: params.herald_follow_max_per_connection as usize,
		max_replays: params.herald_follow_max_replays as usize,
		..FollowLimits::default()
	};
	Ok(Some(FollowSetup { limits, mappings, topic_prefix: kafka.kafka_topic_prefix.clone() }))
}

/// Starts the feeds and returns the hub the RPC methods serve from.
pub fn start(
	setup: FollowSetup,
	client: Arc<FullClient>,
	backend: Arc<FullBackend>,
	task_manager: &TaskManager,
	registry: Option<&Registry>,
) -> Result<FollowHub, ServiceError> {
	let metrics = registry
		.map(FollowMetrics::register)
		.transpose()
		.map_err(|e| ServiceError::Other(format!("registering the herald_v1_follow metrics: {e}")))?;
	let (wake, waker) = wake_on_chain_events(client.clone());
	task_manager.spawn_handle().spawn("herald-follow-wake", Some("herald"), waker);
	let reader = {
		let (client, backend, mappings, prefix) =
			(client.clone(), backend.clone(), setup.mappings.clone(), setup.topic_prefix.clone());
		move || ClientBlockReader::new(client.clone(), backend.clone(), mappings.clone(), prefix.clone())
	};
	let buffer = setup.limits.feed_buffer_blocks;
	let feeds = (Feed::new(Follow::Finalized, buffer), Feed::new(Follow::Best, buffer));
	for (feed, name) in [(feeds.0.clone(), "herald-follow-finalized"), (feeds.1.clone(), "herald-follow-best")] {
		let running = feed.run(ClientChain::new(client.clone()), reader(), setup.mappings.clone(), wake.clone());
		// Its own blocking thread: reading and decoding blocks never occupies the node's async workers.
		task_manager.spawn_handle().spawn_blocking(name, Some("herald"), running);
	}
	let vocabulary = {
		let (client, mappings) = (client.clone(), setup.mappings.clone());
		move || Vocabulary::of_runtime(&current_metadata(&client)?, &mappings)
	};
	log::info!(
		target: "herald::follow",
		"herald_v1_follow enabled: queue {} envelopes per subscription, at most {} subscriptions ({} per connection)",
		setup.limits.queue_envelopes,
		setup.limits.max_subscriptions,
		setup.limits.max_per_connection
	);
	Ok(subscribe::Hub::new(
		feeds,
		Arc::new(ClientChain::new(client)),
		Arc::new(reader),
		Arc::new(vocabulary),
		setup.limits,
		metrics,
	))
}

/// The metadata of the runtime at the best block.
fn current_metadata(client: &FullClient) -> Result<Vec<u8>, String> {
	let best = client.info().best_hash;
	let api = client.runtime_api();
	let offered = api.metadata_versions(best).map_err(|e| e.to_string())?;
	let version = [16, 15, 14].into_iter().find(|v| offered.contains(v)).ok_or("no metadata version 14 to 16")?;
	let metadata = api
		.metadata_at_version(best, version)
		.map_err(|e| e.to_string())?
		.ok_or_else(|| format!("metadata version {version} missing"))?;
	Ok(metadata.to_vec())
}

/// The JSON-RPC sink of one subscription.
struct RpcSink(SubscriptionSink);

impl NotificationSink for RpcSink {
	async fn send(&self, result: String) -> Result<(), ()> {
		let raw = serde_json::value::RawValue::from_string(result).map_err(|_| ())?;
		let message = SubscriptionMessage::from_json(&raw).map_err(|_| ())?;
		self.0.send(message).await.map_err(|_| ())
	}

	async fn closed(&self) {
		self.0.closed().await
	}
}

fn rpc_error(error: FollowError) -> ErrorObjectOwned {
	ErrorObjectOwned::owned(error.code, error.message, None::<()>)
}

/// What the RPC methods serve from (cloned into each RPC server instance).
#[derive(Clone)]
pub struct FollowRpc {
	pub hub: FollowHub,
	pub client: Arc<FullClient>,
	pub mappings: Mappings,
	pub topic_prefix: String,
}

/// Registers `herald_v1_follow` / `herald_v1_unfollow` and `herald_v1_contracts` on `module`.
pub fn register(module: &mut RpcModule<()>, follow: FollowRpc) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
	let FollowRpc { hub, client, mappings, topic_prefix } = follow;
	// Subscriptions open per connection, to enforce --herald-follow-max-per-connection.
	let per_connection: Arc<std::sync::Mutex<HashMap<ConnectionId, usize>>> = Default::default();
	module.register_subscription(
		"herald_v1_follow",
		"herald_v1_followEvent",
		"herald_v1_unfollow",
		move |params, pending: PendingSubscriptionSink, _, _| {
			let (hub, per_connection) = (hub.clone(), per_connection.clone());
			async move {
				let raw = if params.is_object() {
					params.parse::<serde_json::Value>().map(Some)
				} else {
					params.sequence().optional_next::<serde_json::Value>()
				};
				let request = match raw {
					Ok(raw) => FollowRequest::parse(raw),
					Err(error) => Err(FollowError::invalid(format!(
						"herald_v1_follow takes one optional object parameter: {}",
						error.message()
					))),
				};
				let connection = pending.connection_id();
				let on_connection = *per_connection.lock().expect("not poisoned").get(&connection).unwrap_or(&0);
				let session = request
					.and_then(|request| hub.open(request, on_connection))
					.and_then(|session| session.check_available().map(|()| session));
				let session = match session {
					Ok(session) => session,
					Err(error) => {
						pending.reject(rpc_error(error)).await;
						return;
					}
				};
				// Counted before the answer leaves, so the connection's next call sees it.
				*per_connection.lock().expect("not poisoned").entry(connection).or_default() += 1;
				if let Ok(sink) = pending.accept().await {
					session.run(RpcSink(sink)).await;
				}
				let mut counts = per_connection.lock().expect("not poisoned");
				if let Some(count) = counts.get_mut(&connection) {
					*count -= 1;
					if *count == 0 {
						counts.remove(&connection);
					}
				}
			}
		},
	)?;
	module.register_method("herald_v1_contracts", move |_, _, _| {
		let metadata = current_metadata(&client).map_err(|e| rpc_error(FollowError::new(FollowError::INTERNAL, e)))?;
		let routing =
			Routing { mappings: mappings.clone(), topic_prefix: topic_prefix.clone(), partitions: 1, brokers: None };
		let contract = Contract::build(&metadata, RuntimeLabel::default(), routing)
			.map_err(|e| rpc_error(FollowError::new(FollowError::INTERNAL, e)))?;
		Ok::<_, ErrorObjectOwned>(asyncapi::document(&contract))
	})?;
	Ok(())
}
