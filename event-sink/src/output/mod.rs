//! Outputs: where the typed stream goes, behind one interface, run by one [`driver`].
//!
//! An output is two halves, split the way Vector's sinks split a request builder from a service:
//!
//! - a [`Build`]er, pure and shareable, that turns the stream's notifications into the output's batches (for
//!   Kafka: routed, keyed, partitioned messages with their headers). Committed blocks are built on the encode
//!   pool, off the sink's thread;
//! - the [`Output`] itself, which connects, takes batches in order ([`Output::send`]) and reports when each batch
//!   is acknowledged in full ([`Output::acknowledgements`]).
//!
//! The driver owns everything else: the plan, the journal and the cursor ([`crate::store::Journal`]), the order of
//! actions, the write-ahead commit before a not-final block's first message, and moving the cursor only past
//! actions acknowledged in full, in order. An output keeps no position of its own.

pub mod driver;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use crate::{
	envelope::BlockContext, error::SinkError, store::identity::Identity, store::Placement, stream::CommittedBlock,
};

/// Turns notifications into an output's batches. Pure: the same notification always gives the same batch.
pub trait Build: Send + Sync + 'static {
	/// What one action sends: all of it, or the action is not done.
	type Batch: Send + 'static;

	/// The batch of a committed block (its envelopes, in order).
	fn committed(&self, block: &CommittedBlock) -> Self::Batch;
	/// Where a committed block's batch goes, as its journal entry records it: a retraction must reach each place,
	/// even after a restart that never saw the block.
	fn placements(&self, block_hash: &[u8], batch: &Self::Batch) -> Vec<Placement>;
	/// The batch that retracts a block shipped to `placements`.
	fn retracted(&self, context: &BlockContext, placements: &[Placement]) -> Self::Batch;
	/// The batch that finalizes a block shipped before it was final.
	fn finalized(&self, context: &BlockContext) -> Self::Batch;
	/// The runtime events among a batch's messages (progress reports count them).
	fn events(batch: &Self::Batch) -> u64;
	/// All of a batch's messages (the read-ahead is bounded by them as well as by blocks).
	fn messages(batch: &Self::Batch) -> u64;
}

/// What a started output gives the driver for one run.
pub struct Started<B> {
	/// The builder of this run (it may depend on what the output found: Kafka's partition counts).
	pub build: Arc<B>,
	/// Where the output ships: the stored cursor must belong to it.
	pub identity: Identity,
}

/// One action, as the output sees it.
#[derive(Clone, Debug)]
pub struct ActionInfo {
	/// Increasing, one per action, in send order.
	pub seq: u64,
	/// For logs and errors: "block #12 (0x…)".
	pub what: String,
	pub number: u64,
	/// Shipping a committed block (not a retraction or a finalization).
	pub is_ship: bool,
}

/// An action's outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ack {
	/// Every message of action `seq` was acknowledged.
	Done(u64),
	/// A message of action `seq` was not: its id and why; `permanent` when sending it again cannot help.
	Failed { seq: u64, id: String, reason: String, permanent: bool },
}

/// A destination of the stream. The driver calls [`Output::start`] once per run, then sends batches in order and
/// awaits their acknowledgements. Errors end the run; the driver restarts from the persisted cursor.
#[allow(async_fn_in_trait)] // Driven generically, never boxed: the concrete future's `Send` is checked where run.
pub trait Output {
	type Build: Build;

	/// Connects (checks what it can: a broker that can't be reached is an error naming it). `run_epoch`: this
	/// run's epoch, durable before the call, in best mode outside a group (see
	/// [`crate::store::Journal::next_run_epoch`]); every message of the run carries it, so that consumers can drop
	/// an earlier run's request that lands after this run's messages.
	async fn start(&mut self, run_epoch: Option<u64>) -> Result<Started<Self::Build>, SinkError>;
	/// Takes one action's batch, after every earlier one; waits while the output is full. A message the output
	/// will never accept is [`SinkError::Rejected`].
	async fn send(&mut self, action: ActionInfo, batch: <Self::Build as Build>::Batch) -> Result<(), SinkError>;
	/// The next outcomes (waits for at least one). Cancel-safe: the driver selects on it.
	async fn acknowledgements(&mut self) -> Result<Vec<Ack>, SinkError>;
	/// A run ended: let go of what it held (connections, batches in flight) before the driver backs off.
	fn reset(&mut self) {}
	/// Where it ships, for logs ("brokers 127.0.0.1:9092").
	fn describe(&self) -> String;
}
