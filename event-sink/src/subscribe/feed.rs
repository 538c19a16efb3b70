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
						self.emit(FeedItem::Committed(block, committed));
					}
					Action::Retract(block) => {
						let Some(committed) = self.unfinalized(&block) else { continue };
						// It cancels every id the block carried.
						let ids = committed.envelopes.iter().map(|e| e.id.clone()).collect();
						let envelope = retraction_envelope(&committed.context, routes, ids, None);
						self.emit(FeedItem::Retracted(block, envelope));
					}
					Action::Finalize(block) => {
						let Some(committed) = self.unfinalized(&block) else { continue };
						let context = BlockContext { finalized: true, ..committed.context.clone() };
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

	/// A block the feed committed and that is not final yet (what its retraction or finalization is made from).
	fn unfinalized(&self, block: &BlockLink<H>) -> Option<Arc<CommittedBlock>> {
		let state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		state.unfinalized.iter().find(|(b, _)| b.hash == block.hash).map(|(_, committed)| committed.clone())
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{encode_pool::LoadedBlock, follow::Heads, stream::Origin};

	type Hash = [u8; 8];

	/// A block of branch `branch` at `number`.
	fn hash(branch: u8, number: u64) -> Hash {
		let mut hash = number.to_be_bytes();
		hash[0] = branch;
		hash
	}

	/// A chain whose best branch and finalized height the test sets.
	#[derive(Clone, Default)]
	struct FakeChain(Arc<Mutex<(Vec<BlockLink<Hash>>, u64)>>);

	impl FakeChain {
		/// Best chain: genesis, then `branch`'s blocks 1..=len; `finalized` blocks final.
		fn set(&self, branch: u8, len: u64, finalized: u64) {
			let mut links = vec![BlockLink { number: 0, hash: hash(0, 0), parent: hash(0, 0) }];
			for n in 1..=len {
				let parent = if n == 1 { hash(0, 0) } else { hash(branch, n - 1) };
				links.push(BlockLink { number: n, hash: hash(branch, n), parent });
			}
			*self.0.lock().unwrap() = (links, finalized);
		}
	}

	impl ChainView for FakeChain {
		type Hash = Hash;

		fn heads(&self) -> Result<Heads<Hash>, SinkError> {
			let (links, finalized) = &*self.0.lock().unwrap();
			let best = links.last().unwrap();
			let fin = &links[*finalized as usize];
			Ok(Heads { best: best.id(), finalized: fin.id() })
		}

		fn canonical(&self, number: u64) -> Result<Option<BlockLink<Hash>>, SinkError> {
			Ok(self.0.lock().unwrap().0.get(number as usize).copied())
		}
	}

	struct FakeReader;

	fn envelope(id: String) -> BlockEnvelope {
		BlockEnvelope::fake(&id, Origin::Block)
	}

	impl BlockReader for FakeReader {
		type Hash = Hash;

		fn chain(&self) -> &str {
			"0x00"
		}

		fn load(&mut self, block: &BlockLink<Hash>, finalized: bool) -> Result<LoadedBlock, SinkError> {
			let name = crate::envelope::json::hex0x(block.hash);
			let context = BlockContext {
				chain: "0x00".into(),
				number: block.number,
				hash: name.clone(),
				parent_hash: crate::envelope::json::hex0x(block.parent),
				spec_version: 1,
				timestamp: None,
				finalized,
			};
			let mut envelopes = vec![envelope(format!("{name}:BlockCreated")), envelope(format!("{name}:0"))];
			if finalized {
				envelopes.push(envelope(format!("{name}:BlockFinalized")));
			}
			Ok(LoadedBlock::ready(CommittedBlock { context, block_hash: name.as_str().into(), envelopes }))
		}
	}

	/// What the feed says, in words: `+b3` committed (`!` when final), `-a2` retracted, `=b1` finalized.
	fn describe(item: &FeedItem<Hash>) -> String {
		let name = |b: &BlockLink<Hash>| format!("{}{}", (b'a' + b.hash[0] - 1) as char, b.number);
		match item {
			FeedItem::Committed(b, c) => format!("+{}{}", name(b), if c.context.finalized { "!" } else { "" }),
			FeedItem::Retracted(b, _) => format!("-{}", name(b)),
			FeedItem::Finalized(b, _) => format!("={}", name(b)),
		}
	}

	async fn next(live: &mut broadcast::Receiver<Arc<FeedItem<Hash>>>, count: usize) -> Vec<String> {
		let mut items = Vec::new();
		while items.len() < count {
			let item = tokio::time::timeout(Duration::from_secs(10), live.recv()).await.expect("in time").unwrap();
			items.push(describe(&item));
		}
		items
	}

	/// A running feed of `mode` over `chain` (genesis only), joined once it has started at the finalized head.
	async fn started(
		mode: Follow,
		chain: &FakeChain,
	) -> (Arc<Feed<Hash>>, watch::Sender<u64>, broadcast::Receiver<Arc<FeedItem<Hash>>>) {
		chain.set(1, 0, 0);
		let feed = Feed::new(mode, 64);
		let (wake, woken) = watch::channel(0u64);
		tokio::spawn(feed.clone().run(chain.clone(), FakeReader, Mappings::default(), woken));
		loop {
			let snapshot = feed.subscribe();
			if snapshot.cursor.is_some() {
				return (feed, wake, snapshot.live);
			}
			tokio::time::sleep(Duration::from_millis(10)).await;
		}
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn a_best_feed_retracts_newest_first_then_commits_and_finalizes_the_new_branch() {
		let chain = FakeChain::default();
		let (feed, wake, mut live) = started(Follow::Best, &chain).await;
		chain.set(1, 2, 0);
		wake.send(1).unwrap();
		assert_eq!(next(&mut live, 2).await, ["+a1", "+a2"]);
		// A longer branch b: a's blocks leave, newest first, before b's come.
		chain.set(2, 3, 0);
		wake.send(2).unwrap();
		assert_eq!(next(&mut live, 5).await, ["-a2", "-a1", "+b1", "+b2", "+b3"]);
		chain.set(2, 3, 2);
		wake.send(3).unwrap();
		assert_eq!(next(&mut live, 2).await, ["=b1", "=b2"]);
		// A subscriber joining now gets the feed's position: b2 final, b3 above it.
		let snapshot = feed.subscribe();
		assert_eq!(snapshot.cursor.map(|c| c.number), Some(2));
		assert_eq!(snapshot.unfinalized.iter().map(|(b, _)| b.number).collect::<Vec<_>>(), [3]);
	}

	#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
	async fn a_finalized_feed_ships_final_blocks_once_in_order() {
		let chain = FakeChain::default();
		let (feed, wake, mut live) = started(Follow::Finalized, &chain).await;
		chain.set(1, 3, 1);
		wake.send(1).unwrap();
		assert_eq!(next(&mut live, 1).await, ["+a1!"]);
		chain.set(1, 5, 4);
		wake.send(2).unwrap();
		assert_eq!(next(&mut live, 3).await, ["+a2!", "+a3!", "+a4!"]);
		assert_eq!(feed.subscribe().cursor.map(|c| c.number), Some(4));
	}
}
