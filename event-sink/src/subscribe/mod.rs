//! Pushing the chain's envelopes to subscribers (the node's `herald_v1_follow` JSON-RPC subscription), beside or
//! without Kafka. No JSON-RPC here: the node's RPC module parses the parameters, accepts the subscription and
//! hands this module a [`NotificationSink`].
//!
//! - [`feed`]: one per follow mode, its own follower and block reader, independent of the Kafka sink. It turns
//!   the chain into the typed stream ([`crate::stream::Notification`]) and broadcasts it. It never waits for a
//!   subscriber: a slow one falls behind in its own queue and is stopped, never the feed, block import or Kafka.
//! - [`request`]: the subscription's parameters (mode, `from`, filter) and their checks.
//! - [`session`]: one subscription: replay from the database, then live, with no gap and no duplicate; a
//!   bounded queue; a `stop` with the position to resume from when the subscriber can't keep up.
//! - [`metrics`]: `herald_follow_*`.
//!
//! Notifications (`result` of `herald_v1_followEvent`):
//! `{"event":"envelope","envelope":{…}}` (the very bytes of the Kafka value), `{"event":"caughtUp",…}` once the
//! replay has reached the live stream, `{"event":"stop","reason":…,"message":…,"resume":{…}}` last.

pub mod feed;
pub mod metrics;
pub mod request;
pub mod session;

use std::sync::{
	atomic::{AtomicUsize, Ordering},
	Arc,
};

pub use feed::Feed;
pub use metrics::FollowMetrics;
pub use request::{Filter, FollowRequest, From, Vocabulary};
pub use session::{NotificationSink, Session};

use crate::{block::reader::BlockReader, config::Follow, follow::ChainView};

/// Limits and sizes of the subscription service (`--herald-follow-*` flags).
#[derive(Clone, Debug)]
pub struct FollowLimits {
	/// Envelopes a subscription may have waiting for its connection; more, and it is stopped.
	pub queue_envelopes: usize,
	/// Subscriptions open at once, node-wide.
	pub max_subscriptions: usize,
	/// Subscriptions open at once on one connection.
	pub max_per_connection: usize,
	/// Subscriptions replaying from the database at once (each reads and decodes blocks).
	pub max_replays: usize,
	/// Blocks the feed keeps for subscribers that are briefly behind it (a broadcast ring).
	pub feed_buffer_blocks: usize,
}

impl Default for FollowLimits {
	fn default() -> Self {
		FollowLimits {
			queue_envelopes: 1024,
			max_subscriptions: 256,
			max_per_connection: 16,
			max_replays: 2,
			feed_buffer_blocks: 256,
		}
	}
}

/// A JSON-RPC error for a subscription that can't be opened: a code and a message naming the problem and the fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FollowError {
	pub code: i32,
	pub message: String,
}

impl FollowError {
	/// Invalid params (JSON-RPC's own code).
	pub const INVALID_PARAMS: i32 = -32602;
	/// Too many subscriptions (as `chainHead_v1_follow`'s limit).
	pub const TOO_MANY: i32 = -32800;
	/// The `from` block is not available (unknown, above the head, or its state pruned).
	pub const UNAVAILABLE: i32 = -32801;
	/// Something failed inside the node.
	pub const INTERNAL: i32 = -32603;

	pub fn new(code: i32, message: impl Into<String>) -> Self {
		FollowError { code, message: message.into() }
	}

	pub fn invalid(message: impl Into<String>) -> Self {
		Self::new(Self::INVALID_PARAMS, message)
	}
}

/// Everything the subscriptions share: the two feeds, a way to make block readers for replays, the permits and
/// the metrics. Cheap to clone.
pub struct Hub<Ch, R: BlockReader> {
	pub(crate) finalized: Arc<Feed<R::Hash>>,
	pub(crate) best: Arc<Feed<R::Hash>>,
	pub(crate) chain: Arc<Ch>,
	pub(crate) readers: Arc<dyn Fn() -> R + Send + Sync>,
	pub(crate) vocabulary: Arc<dyn Fn() -> Result<Vocabulary, String> + Send + Sync>,
	pub(crate) limits: FollowLimits,
	pub(crate) open: Arc<AtomicUsize>,
	pub(crate) replays: Arc<tokio::sync::Semaphore>,
	pub(crate) metrics: Option<FollowMetrics>,
}

impl<Ch, R: BlockReader> Clone for Hub<Ch, R> {
	fn clone(&self) -> Self {
		Hub {
			finalized: self.finalized.clone(),
			best: self.best.clone(),
			chain: self.chain.clone(),
			readers: self.readers.clone(),
			vocabulary: self.vocabulary.clone(),
			limits: self.limits.clone(),
			open: self.open.clone(),
			replays: self.replays.clone(),
			metrics: self.metrics.clone(),
		}
	}
}

impl<Ch, R> Hub<Ch, R>
where
	Ch: ChainView<Hash = R::Hash> + Send + Sync + 'static,
	R: BlockReader + 'static,
{
	/// A hub over the two feeds (started by the caller, [`Feed::run`]); `readers` makes a block reader for each
	/// replay; `vocabulary` lists the names, pallets and topics filters may use (the runtime's, now).
	pub fn new(
		feeds: (Arc<Feed<R::Hash>>, Arc<Feed<R::Hash>>),
		chain: Arc<Ch>,
		readers: Arc<dyn Fn() -> R + Send + Sync>,
		vocabulary: Arc<dyn Fn() -> Result<Vocabulary, String> + Send + Sync>,
		limits: FollowLimits,
		metrics: Option<FollowMetrics>,
	) -> Self {
		let replays = Arc::new(tokio::sync::Semaphore::new(limits.max_replays.max(1)));
		Hub {
			finalized: feeds.0,
			best: feeds.1,
			chain,
			readers,
			vocabulary,
			limits,
			open: Arc::new(AtomicUsize::new(0)),
			replays,
			metrics,
		}
	}

	/// Subscriptions open now.
	pub fn subscriptions(&self) -> usize {
		self.open.load(Ordering::Relaxed)
	}

	/// The limits in force.
	pub fn limits(&self) -> &FollowLimits {
		&self.limits
	}

	/// Checks a request and reserves its place; `on_connection`: subscriptions the caller's connection has open.
	/// The returned session runs once the subscription is accepted ([`Session::run`]).
	pub fn open(&self, request: FollowRequest, on_connection: usize) -> Result<Session<Ch, R>, FollowError> {
		let reject = |reason: &str, error: FollowError| {
			if let Some(metrics) = &self.metrics {
				metrics.rejected.with_label_values(&[reason]).inc();
			}
			error
		};
		if on_connection >= self.limits.max_per_connection {
			return Err(reject(
				"too_many_on_connection",
				FollowError::new(
					FollowError::TOO_MANY,
					format!(
						"this connection has {on_connection} herald_v1_follow subscriptions open, the most one \
						 connection may have (--herald-follow-max-per-connection {}): unfollow one, or open another \
						 connection",
						self.limits.max_per_connection
					),
				),
			));
		}
		let vocabulary = (self.vocabulary)().map_err(|e| {
			FollowError::new(FollowError::INTERNAL, format!("the runtime's events can't be listed: {e}"))
		})?;
		request.filter.check(&vocabulary).map_err(|e| reject("invalid_params", e))?;
		let start = request::resolve_from(&*self.chain, &request).map_err(|e| reject("unavailable", e))?;
		// Reserved last: a refused request holds nothing.
		let reserved = self.open.fetch_add(1, Ordering::SeqCst);
		if reserved >= self.limits.max_subscriptions {
			self.open.fetch_sub(1, Ordering::SeqCst);
			return Err(reject(
				"too_many",
				FollowError::new(
					FollowError::TOO_MANY,
					format!(
						"the node serves {reserved} herald_v1_follow subscriptions, its limit \
						 (--herald-follow-max-subscriptions {}): try again later, or raise the limit",
						self.limits.max_subscriptions
					),
				),
			));
		}
		let feed = match request.mode {
			Follow::Finalized => self.finalized.clone(),
			Follow::Best => self.best.clone(),
		};
		Ok(Session::new(self.clone(), feed, request, start))
	}
}

/// Releases a subscription's place when it ends, however it ends.
pub(crate) struct Place {
	open: Arc<AtomicUsize>,
}

impl Drop for Place {
	fn drop(&mut self) {
		self.open.fetch_sub(1, Ordering::SeqCst);
	}
}
