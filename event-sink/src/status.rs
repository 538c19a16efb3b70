//! The sink's status as the node's RPC reports it (`herald_status`): what it is doing, where it is, how far behind,
//! and its last error. Written by the shipping loop, read by the RPC server; it holds no configuration beyond the
//! follow mode, the topic prefix and the cluster id, so no secret can leak through it.

use std::{
	sync::{Arc, RwLock},
	time::{SystemTime, UNIX_EPOCH},
};

use serde::Serialize;

/// A block by number and hex hash.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct BlockRef {
	pub number: u64,
	pub hash: String,
}

/// The sink's last failure.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LastError {
	pub message: String,
	/// Unix time, seconds.
	pub at: u64,
}

/// A snapshot of the sink, serialised as `herald_status`'s answer.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct Status {
	/// `starting`, `shipping`, `backing_off` or `stopped` (as `herald_kafka_sink_state`).
	pub state: &'static str,
	/// `finalized` or `best`.
	pub follow: String,
	pub topic_prefix: String,
	pub cluster_id: Option<String>,
	/// The last block shipped as final whose every message Kafka acknowledged (the persisted resume position).
	pub cursor: Option<BlockRef>,
	/// The last block shipped (final or not) whose every message Kafka acknowledged.
	pub last_shipped: Option<u64>,
	/// Blocks shipped and not final (best mode), and the bound.
	pub journal_blocks: u64,
	pub journal_capacity: u64,
	pub journal_full: bool,
	pub finalized_lag_blocks: u64,
	pub best_lag_blocks: u64,
	pub restarts: u64,
	pub last_error: Option<LastError>,
}

/// Shared between the shipping loop and the RPC server. Cheap to clone.
#[derive(Clone, Default)]
pub struct StatusHandle(Arc<RwLock<Status>>);

impl StatusHandle {
	/// A copy of the current status.
	pub fn get(&self) -> Status {
		self.0.read().map(|s| s.clone()).unwrap_or_else(|poisoned| poisoned.into_inner().clone())
	}

	/// Changes the status.
	pub fn update(&self, change: impl FnOnce(&mut Status)) {
		let mut status = self.0.write().unwrap_or_else(|poisoned| poisoned.into_inner());
		change(&mut status);
	}

	/// Records a failure.
	pub fn failed(&self, message: String) {
		let at = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
		self.update(|status| status.last_error = Some(LastError { message, at }));
	}
}
