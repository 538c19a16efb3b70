//! The node's RPC extensions: account nonces, fee queries, Herald's `herald_status` and `herald_v1_follow`
//! (with `--herald-follow-rpc`) and, when sealing manually,
//! the `engine_*` methods.

use std::sync::Arc;

use futures::channel::mpsc;
use herald_runtime::{opaque::Block, AccountId, Balance, Hash, Nonce};
use jsonrpsee::RpcModule;
use sc_consensus_manual_seal::{
	rpc::{ManualSeal, ManualSealApiServer},
	EngineCommand,
};
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};

/// What the RPC extensions need from the node.
pub struct FullDeps<C, P> {
	/// The client instance to use.
	pub client: Arc<C>,
	/// Transaction pool instance.
	pub pool: Arc<P>,
	/// Commands for the manual-seal engine, when the node runs with `--sealing manual`.
	pub manual_seal: Option<mpsc::Sender<EngineCommand<Hash>>>,
	/// The event sink's status, when the sink runs (`--kafka-brokers`).
	pub sink_status: Option<herald_event_sink::status::StatusHandle>,
	/// The `herald_v1_follow` subscription, when served (`--herald-follow-rpc`).
	pub follow: Option<crate::follow_rpc::FollowRpc>,
}

/// Instantiate all full RPC extensions.
pub fn create_full<C, P>(deps: FullDeps<C, P>) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>,
	C: HeaderBackend<Block> + HeaderMetadata<Block, Error = BlockChainError> + 'static,
	C: Send + Sync + 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api: pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>,
	C::Api: BlockBuilder<Block>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let mut module = RpcModule::new(());
	let FullDeps { client, pool, manual_seal, sink_status, follow } = deps;

	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client).into_rpc())?;
	// Read-only and safe to expose: the status holds no secret and no librdkafka configuration.
	let follow_hub = follow.as_ref().map(|follow| follow.hub.clone());
	module.register_method("herald_status", move |_, _, _| {
		let mut answer = match &sink_status {
			Some(status) => {
				let mut answer = serde_json::to_value(status.get()).unwrap_or_default();
				answer["enabled"] = true.into();
				answer
			}
			None => serde_json::json!({ "enabled": false }),
		};
		answer["follow_rpc"] = match &follow_hub {
			Some(hub) => serde_json::json!({ "enabled": true, "subscriptions": hub.subscriptions() }),
			None => serde_json::json!({ "enabled": false }),
		};
		answer
	})?;
	if let Some(follow) = follow {
		crate::follow_rpc::register(&mut module, follow)?;
	}
	if let Some(commands) = manual_seal {
		module.merge(ManualSeal::new(commands).into_rpc())?;
	}

	Ok(module)
}
