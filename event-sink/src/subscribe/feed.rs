//! A feed: the chain as a typed stream for subscribers, one per follow mode. It has its own follower (the same
//! state machine as the Kafka sink's, so `BlockRetracted` and `BlockFinalized` are decided by the same rules) and
//! its own block reader, and keeps no journal on disk: it starts live at the finalized head, and subscribers
//! that want history replay it from the database ([`crate::subscribe::session`]).
//!
//! The feed never waits for a subscriber: it hands each item to a broadcast ring and goes on. What it keeps for
//! subscribers that join is the last final block it sent and the blocks it committed that are not final yet.

use std::{
	convert::Infallible,
	panic::AssertUnwindSafe,
	sync::{Arc, Mutex},
	time::Duration,
};

use futures::FutureExt;
use tokio::sync::{broadcast, watch};

use crate::{
	block::reader::BlockReader,
	config::Follow,
	encode_pool::EncodePool,
	envelope::{
		assemble::{finalized_envelope, retraction_envelope},
		route::InfrastructureRoutes,
		BlockContext,
	},
	error::SinkError,
	follow::{Action, BlockId, BlockLink, ChainView, Follower, Restored},
	mapping::Mappings,
	panic::Unwinding,
	stream::{BlockEnvelope, CommittedBlock},
};

const LOG_TARGET: &str = "herald::follow";

/// Blocks planned per round; the feed reads ahead no further.
const BLOCKS_PER_ROUND: usize = 32;

/// Unfinalized blocks the feed tracks at most (finality stalled longer: it waits, as the Kafka sink does).
const MAX_UNFINALIZED: usize = 4096;

/// One item of the feed, in chain order.
#[derive(Debug)]
pub enum FeedItem<H> {
	/// A block joined the followed chain, with its envelopes.
	Committed(BlockLink<H>, Arc<CommittedBlock>),
	/// A block committed before left the best chain: its `BlockRetracted`, naming every id of the block.
	Retracted(BlockLink<H>, BlockEnvelope),
	/// A block committed before it was final became final: its `BlockFinalized`.
	Finalized(BlockLink<H>, BlockEnvelope),
}

impl<H: Copy> FeedItem<H> {
	pub fn block(&self) -> BlockLink<H> {
		match self {
			FeedItem::Committed(block, _) | FeedItem::Retracted(block, _) | FeedItem::Finalized(block, _) => *block,
		}
	}
}

/// What a subscriber joining now gets: the live items from here on, and where the feed stands.
pub struct Snapshot<H> {
	pub live: broadcast::Receiver<Arc<FeedItem<H>>>,
	/// The last final block the feed has sent (every block up to it is final and was sent).
	pub cursor: Option<BlockId<H>>,
	/// Blocks the feed committed above the cursor, not final yet, oldest first (best mode).
	pub unfinalized: Vec<(BlockLink<H>, Arc<CommittedBlock>)>,
}

struct State<H> {
	/// `None` until the feed has started.
	cursor: Option<BlockId<H>>,
	unfinalized: Vec<(BlockLink<H>, Arc<CommittedBlock>)>,
}

/// A feed. See the module documentation.
pub struct Feed<H> {
	mode: Follow,
	state: Mutex<State<H>>,
	sender: broadcast::Sender<Arc<FeedItem<H>>>,
}

impl<H: Copy + Eq + std::hash::Hash + std::fmt::Debug + AsRef<[u8]> + Send + Sync + 'static> Feed<H> {
	/// A feed of `mode` that keeps `buffer` items for subscribers briefly behind it.
	pub fn new(mode: Follow, buffer: usize) -> Arc<Self> {
		let (sender, _) = broadcast::channel(buffer.max(16));
		Arc::new(Feed { mode, state: Mutex::new(State { cursor: None, unfinalized: Vec::new() }), sender })
	}

	pub fn mode(&self) -> Follow {
		self.mode
	}

	/// Joins the feed: the live items from now on, and the feed's position at that instant (taken under the same
	/// lock the feed sends under, so nothing falls between the two).
	pub fn subscribe(&self) -> Snapshot<H> {
		let state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		Snapshot { live: self.sender.subscribe(), cursor: state.cursor, unfinalized: state.unfinalized.clone() }
	}

	/// Sends `item` and records what it changes, atomically for [`Feed::subscribe`].
	fn emit(&self, item: FeedItem<H>) {
		let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		match &item {
			FeedItem::Committed(block, committed) if committed.context.finalized => {
				state.cursor = Some(block.id());
			}
			FeedItem::Committed(block, committed) => state.unfinalized.push((*block, committed.clone())),
			FeedItem::Retracted(block, _) => state.unfinalized.retain(|(b, _)| b.hash != block.hash),
			FeedItem::Finalized(block, _) => {
				state.unfinalized.retain(|(b, _)| b.hash != block.hash);
				state.cursor = Some(block.id());
			}
		}
		// No subscriber is not an error: the feed runs for the ones to come.
		let _ = self.sender.send(Arc::new(item));
	}

	/// Follows the chain for as long as the node runs. Failures (and panics: a bug must not end the node) are
	/// logged and the feed resumes from what it last sent.
	pub async fn run<Ch, R>(
		self: Arc<Self>,
		chain: Ch,
		mut reader: R,
		mappings: Mappings,
		mut wake: watch::Receiver<u64>,
	) where
		Ch: ChainView<Hash = H>,
		R: BlockReader<Hash = H>,
	{
		let routes = InfrastructureRoutes::new(&mappings);
		let pool = match EncodePool::new(2) {
			Ok(pool) => pool,
			Err(error) => {
				log::error!(target: LOG_TARGET, "the {} feed can't start: {error}", self.mode);
				return;
			}
		};
		let mut backoff = Duration::from_secs(1);
		loop {
			let attempt = AssertUnwindSafe(self.follow(&chain, &mut reader, &pool, &routes, &mut wake));
			let error = match Unwinding(Box::pin(attempt.catch_unwind())).await {
				Ok(Ok(never)) => match never {},
				Ok(Err(error)) => error,
				Err(panic) => crate::panic::error("the subscription feed", &*panic),
			};
			log::error!(target: LOG_TARGET, "the {} feed failed: {error}; resuming in {backoff:?}", self.mode);
			tokio::time::sleep(backoff).await;
			backoff = (backoff * 2).min(Duration::from_secs(30));
		}
	}

	async fn follow<Ch, R>(
		&self,
		chain: &Ch,
		reader: &mut R,
		pool: &EncodePool,
		routes: &InfrastructureRoutes,
		wake: &mut watch::Receiver<u64>,
	) -> Result<Infallible, SinkError>
	where
		Ch: ChainView<Hash = H>,
		R: BlockReader<Hash = H>,
	{
		// Resume from what was sent (or start live at the finalized head).
		let (cursor, unfinalized) = {
			let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
			if state.cursor.is_none() {
				state.cursor = Some(chain.heads()?.finalized);
			}
			(state.cursor.expect("set above"), state.unfinalized.clone())
		};
		let contexts: std::collections::HashMap<H, BlockContext> =
			unfinalized.iter().map(|(block, committed)| (block.hash, committed.context.clone())).collect();
		let mut contexts = contexts;
		let restored = unfinalized.iter().map(|(block, _)| Restored { block: *block, acknowledged: true });
		let mut follower = Follower::new(self.mode, cursor.number + 1, Some(cursor), restored, MAX_UNFINALIZED);
		log::info!(target: LOG_TARGET, "the {} feed follows from block #{}", self.mode, cursor.number + 1);
		let mut wake_alive = true;
		loop {
			let actions = follower.plan(chain, BLOCKS_PER_ROUND)?;
			let mut loading = std::collections::VecDeque::new();
			for action in &actions {
				if let Action::Ship { block, finalized } = action {
					loading.push_back(pool.submit(reader.load(block, *finalized)?));
				}
			}
			for action in &actions {
				match *action {
					Action::Ship { block, .. } => {
						let job = loading.pop_front().expect("one job per ship");
						let committed = Arc::new(EncodePool::result(job).await?);
						if !committed.context.finalized {
							contexts.insert(block.hash, committed.context.clone());
						}
						self.emit(FeedItem::Committed(block, committed));
					}
					Action::Retract(block) => {
						let Some(context) = contexts.remove(&block.hash) else { continue };
						let ids = self.ids_of(&block);
						self.emit(FeedItem::Retracted(block, retraction_envelope(&context, routes, ids, None)));
					}
					Action::Finalize(block) => {
						let Some(mut context) = contexts.remove(&block.hash) else { continue };
						context.finalized = true;
						self.emit(FeedItem::Finalized(block, finalized_envelope(&context, routes)));
					}
				}
			}
			if actions.is_empty() {
				tokio::select! {
					changed = wake.changed(), if wake_alive => wake_alive = changed.is_ok(),
					_ = tokio::time::sleep(Duration::from_secs(1)) => {},
				}
			}
		}
	}

	/// Every envelope id a committed, not final block had (what its `BlockRetracted` cancels).
	fn ids_of(&self, block: &BlockLink<H>) -> Vec<String> {
		let state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		state
			.unfinalized
			.iter()
			.find(|(b, _)| b.hash == block.hash)
			.map(|(_, committed)| committed.envelopes.iter().map(|e| e.id.clone()).collect())
			.unwrap_or_default()
	}
}
