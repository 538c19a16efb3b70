//! The client's notifications, reduced to wake-ups. Every notification pins its block until dropped, so each
//! one is dropped at once: the sink reads what it needs from the database, at its own pace, and block import
//! never waits on it.

use std::sync::Arc;

use futures::StreamExt;
use sc_client_api::BlockchainEvents;
use sp_runtime::traits::Block as BlockT;
use tokio::sync::watch;

/// A receiver that changes on every block import (initial sync included) and every finality notification, and
/// the task that feeds it. The value is a counter; only its changes matter.
pub fn wake_on_chain_events<B, C>(client: Arc<C>) -> (watch::Receiver<u64>, impl std::future::Future<Output = ()>)
where
	B: BlockT,
	C: BlockchainEvents<B>,
{
	let (sender, receiver) = watch::channel(0u64);
	let mut finality = client.finality_notification_stream();
	let mut imports = client.every_import_notification_stream();
	let task = async move {
		loop {
			let alive = tokio::select! {
				notification = finality.next() => notification.is_some(),
				notification = imports.next() => notification.is_some(),
			};
			if !alive {
				return;
			}
			sender.send_modify(|count| *count = count.wrapping_add(1));
		}
	};
	(receiver, task)
}
