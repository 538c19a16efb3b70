//! Errors of the sink. Each message names the problem and, where the operator can act, the fix.

use std::fmt::Display;

/// Why the sink stopped (and, unless fatal, restarts from its cursor).
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
	/// Reading the node's database failed.
	#[error("database: {0}")]
	Database(String),
	/// The stored cursor cannot be used.
	#[error("cursor: {0}")]
	Cursor(String),
	/// The state of a block to ship was pruned: its events can no longer be read.
	#[error(
		"the state of block #{number} was pruned, so its events can no longer be read. Run the node with \
		 --state-pruning archive-canonical (keeps the state of every finalized block) so the sink can catch up \
		 after any outage, or skip the missing blocks knowingly: on a first start with --kafka-start-from \
		 <number> of a block whose state is kept, otherwise with the node stopped by `herald-node kafka-cursor set \
		 <number>`"
	)]
	Pruned { number: u64 },
	/// The runtime's metadata could not be read or parsed.
	#[error("runtime metadata at block #{number}: {reason}")]
	Metadata { number: u64, reason: String },
	/// The journal of shipped, not final blocks cannot be read.
	#[error("journal: {0}")]
	Journal(String),
	/// Kafka will never accept one of the sink's messages (too large, invalid topic, policy, authorization).
	#[error(
		"Kafka will never accept message {id} of {what} ({reason}): the sink stops rather than retry it forever. \
		 Fix the cause (e.g. raise the topic's max.message.bytes and --kafka-config message.max.bytes, grant the \
		 topic, or exclude the event with --kafka-mappings), then restart the node; or let the sink ship a small \
		 stand-in envelope for such messages with --kafka-on-rejected stand-in"
	)]
	Rejected { what: String, id: String, reason: String },
	/// librdkafka raised a fatal error: the producer instance can't be used any more and is rebuilt at once.
	#[error("librdkafka fatal error, the producer is rebuilt: {0}")]
	ProducerFatal(String),
	/// Making a block's messages failed (a bug: the block's own data never fails it).
	#[error("encoding: {0}")]
	Encode(String),
	/// Sink code panicked (a bug); the node runs on and the sink restarts from its persisted state.
	#[error("{0}")]
	Panicked(String),
	/// A failure that repeated the same way at the same place: a restart can't cure it.
	#[error("{0}")]
	Repeated(String),
	/// Kafka refused a message or the producer failed.
	#[error("kafka: {0}")]
	Kafka(String),
	/// This node no longer holds its high-availability group's lease: it stops shipping and stands by.
	#[error("the group's lease is lost: {0}")]
	LeaseLost(String),
	/// This node can't lead its high-availability group yet (its chain is behind the group's cursor).
	#[error("not ready to lead the group: {0}")]
	NotReady(String),
	/// This node can't be a member of its high-availability group as configured.
	#[error("high-availability group: {0}")]
	Group(String),
}

impl SinkError {
	pub fn database(error: impl Display) -> Self {
		Self::Database(error.to_string())
	}

	pub fn kafka(error: impl Display) -> Self {
		Self::Kafka(error.to_string())
	}

	/// Errors a restart cannot cure: the sink stops instead of retrying.
	pub fn is_fatal(&self) -> bool {
		matches!(
			self,
			Self::Pruned { .. }
				| Self::Cursor(_)
				| Self::Journal(_)
				| Self::Rejected { .. }
				| Self::Repeated(_)
				| Self::Group(_)
		)
	}

	/// Failures that come from the block's data or the sink's code, not from Kafka or the node's state: retried
	/// a few times (a restart re-reads everything), then stop the sink if they repeat the same way.
	pub fn repeats_by_itself(&self) -> bool {
		matches!(self, Self::Metadata { .. } | Self::Encode(_) | Self::Panicked(_))
	}
}
