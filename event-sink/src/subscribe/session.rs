//! One subscription, from its first notification to its last.
//!
//! Two tasks share a bounded queue (`--herald-follow-queue` envelopes):
//! - the *producer* replays the followed chain from the database (at the subscriber's pace: it waits for room
//!   in the queue), then joins the feed's live stream where the replay ended: the feed's position and its live
//!   items are taken under one lock, so there is no gap and no duplicate between the two. Live, a queue that
//!   stays full for [`ROOM_GRACE`] stops the subscription (the feed never waits for it);
//! - the *sender* hands the queue's notifications to the connection and remembers the position after each, so
//!   that a `stop` names exactly where to resume.
//!
//! Resume positions: in finalized mode exact (`{"block": hash, "eventIndex": i}` after an event, `{"block": n}`
//! after a block's last envelope); in best mode `{"block": F + 1}` with `"discardAbove": F`, F being the last
//! block the subscriber got as final: what it holds above F may have been retracted meanwhile.

use std::{future::Future, sync::Arc, time::Duration};

use serde_json::{json, Value as Json};
use tokio::sync::{broadcast::error::TryRecvError, mpsc, oneshot};

use crate::{
	block::reader::BlockReader,
	config::Follow,
	envelope::json::hex0x,
	error::SinkError,
	follow::{BlockLink, ChainView},
	stream::{BlockEnvelope, CommittedBlock},
	subscribe::{
		feed::{Feed, FeedItem},
		request::Start,
		FollowError, FollowRequest, Hub, Place,
	},
};

const LOG_TARGET: &str = "herald::follow";

/// How long a live subscription's full queue may take to make room before the subscription is stopped. The feed
/// never waits for it: its buffer holds the blocks meanwhile.
const ROOM_GRACE: Duration = Duration::from_secs(2);

/// How long a stopped subscriber has to take its `stop` before the subscription is dropped without it.
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the notifications of a subscription go (the node's JSON-RPC subscription sink).
pub trait NotificationSink: Send + Sync + 'static {
	/// Sends one notification's `result`, JSON text; `Err` when the subscriber is gone.
	fn send(&self, result: String) -> impl Future<Output = Result<(), ()>> + Send;
	/// Resolves when the subscriber is gone (unsubscribed or disconnected).
	fn closed(&self) -> impl Future<Output = ()> + Send;
}

/// Why a subscription was stopped by the node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
	/// Its queue was full: the subscriber reads slower than the chain produces.
	SlowSubscriber,
	/// It fell behind the feed's buffer.
	Lagged,
	/// A block to replay has no state any more.
	Pruned(u64),
	/// The node failed to read a block.
	Internal(String),
	/// The feed ended (the node is shutting down).
	ShuttingDown,
}

impl StopReason {
	fn code(&self) -> &'static str {
		match self {
			StopReason::SlowSubscriber => "slowSubscriber",
			StopReason::Lagged => "lagged",
			StopReason::Pruned(_) => "pruned",
			StopReason::Internal(_) => "internal",
			StopReason::ShuttingDown => "shuttingDown",
		}
	}

	/// The metric label.
	fn label(&self) -> &'static str {
		match self {
			StopReason::SlowSubscriber => "slow_subscriber",
			StopReason::Lagged => "lagged",
			StopReason::Pruned(_) => "pruned",
			StopReason::Internal(_) => "internal",
			StopReason::ShuttingDown => "shutting_down",
		}
	}

	fn message(&self, queue: usize) -> String {
		match self {
			StopReason::SlowSubscriber => format!(
				"the subscriber did not keep up: {queue} envelopes were waiting for it (--herald-follow-queue). \
				 Resume from `resume`, read faster, or narrow the filter"
			),
			StopReason::Lagged => "the subscriber fell behind the node's live buffer; resume from `resume`".into(),
			StopReason::Pruned(number) => format!(
				"block #{number}'s state is pruned on this node (--state-pruning): the replay can't go on. Resume \
				 from a later block, or use an archive node"
			),
			StopReason::Internal(error) => format!("the node failed to read a block ({error}); resume from `resume`"),
			StopReason::ShuttingDown => "the node is shutting down; resume from `resume` on a node".into(),
		}
	}
}

/// A notification waiting in the queue, and what the subscriber's resume position is once it is sent.
struct Queued {
	text: String,
	resume: Resume,
}

#[derive(Clone, Debug)]
enum Resume {
	/// Finalized mode: exactly here.
	At(Json),
	/// Best mode: the last block the subscriber got as final, if it changed.
	Final(Option<u64>),
}

/// An accepted subscription, ready to run ([`Hub::open`]).
pub struct Session<Ch, R: BlockReader> {
	hub: Hub<Ch, R>,
	feed: Arc<Feed<R::Hash>>,
	request: FollowRequest,
	start: Start,
	_place: Place,
}

impl<Ch, R> Session<Ch, R>
where
	Ch: ChainView<Hash = R::Hash> + Send + Sync + 'static,
	R: BlockReader + 'static,
{
	pub(crate) fn new(hub: Hub<Ch, R>, feed: Arc<Feed<R::Hash>>, request: FollowRequest, start: Start) -> Self {
		let place = Place { open: hub.open.clone() };
		Session { hub, feed, request, start, _place: place }
	}

	/// Checks, before the subscription is accepted, that the replay's first block can be read.
	pub fn check_available(&self) -> Result<(), FollowError> {
		let Start::At { number, .. } = self.start else { return Ok(()) };
		let chain = &*self.hub.chain;
		let internal = |e: SinkError| FollowError::new(FollowError::INTERNAL, e.to_string());
		if number > chain.heads().map_err(internal)?.finalized.number {
			return Ok(());
		}
		let Some(link) = chain.canonical(number).map_err(internal)? else { return Ok(()) };
		match (self.hub.readers)().load(&link, true) {
			Ok(_) => Ok(()),
			Err(SinkError::Pruned { number: pruned }) => Err(FollowError::new(
				FollowError::UNAVAILABLE,
				format!(
					"from.block #{number} can't be replayed: the state of block #{pruned} is pruned on this node \
					 (--state-pruning keeps recent blocks only). Follow from a later block, without `from`, or \
					 use an archive node"
				),
			)),
			Err(error) => Err(internal(error)),
		}
	}

	/// Runs the subscription until the subscriber leaves or is stopped.
	pub async fn run<S: NotificationSink>(self, sink: S) {
		let mode = self.request.mode;
		let metrics = self.hub.metrics.clone();
		if let Some(metrics) = &metrics {
			metrics.subscriptions.with_label_values(&[mode_label(mode)]).inc();
		}
		let queue_size = self.hub.limits.queue_envelopes.max(1);
		let (queue, mut queued) = mpsc::channel::<Queued>(queue_size);
		let (stop, mut stopped) = oneshot::channel::<StopReason>();
		// Finalized mode: where to resume after the last notification sent (`None`: nothing sent yet).
		let mut resume: Option<Json> = None;
		let initial = self.initial_resume();
		let producer =
			tokio::spawn(produce(self.hub.clone(), self.feed.clone(), self.request.clone(), self.start, queue, stop));

		let mut last_final: Option<u64> = None;
		let mut stop_reason = None;
		loop {
			tokio::select! {
				biased;
				reason = &mut stopped, if stop_reason.is_none() => match reason {
					Ok(reason) => { stop_reason = Some(reason); break }
					// The producer ended without a reason: the subscriber left.
					Err(_) => break,
				},
				_ = sink.closed() => break,
				next = queued.recv() => match next {
					Some(Queued { text, resume: after }) => {
						if sink.send(text).await.is_err() {
							break;
						}
						if let Some(metrics) = &metrics {
							metrics.envelopes_sent.with_label_values(&[mode_label(mode)]).inc();
						}
						match after {
							Resume::Final(Some(number)) => last_final = Some(number),
							Resume::Final(None) => {}
							Resume::At(at) => resume = Some(at),
						}
					}
					None => break,
				},
			}
		}
		producer.abort();
		if let Some(reason) = stop_reason {
			// What is still queued is dropped: the resume position covers it.
			drop(queued);
			let resume = match (mode, resume) {
				(Follow::Best, _) => {
					let discard_above = last_final.or(initial.1);
					json!({"resume": {"block": discard_above.map_or(0, |n| n + 1)}, "discardAbove": discard_above})
				}
				(Follow::Finalized, resume) => json!({ "resume": resume.unwrap_or(initial.0) }),
			};
			let mut notification = json!({
				"event": "stop",
				"reason": reason.code(),
				"message": reason.message(queue_size),
			});
			if let (Some(target), Some(fields)) = (notification.as_object_mut(), resume.as_object()) {
				target.extend(fields.clone());
			}
			log::info!(target: LOG_TARGET, "a herald_v1_follow subscription was stopped: {}", reason.message(queue_size));
			let _ = tokio::time::timeout(STOP_TIMEOUT, sink.send(notification.to_string())).await;
		}
		if let Some(metrics) = &metrics {
			metrics.subscriptions.with_label_values(&[mode_label(mode)]).dec();
		}
	}

	/// The resume position before anything was sent (finalized mode), and the last final block the subscriber
	/// is known to hold (best mode).
	fn initial_resume(&self) -> (Json, Option<u64>) {
		match self.start {
			Start::At { number, event_index: Some(index) } => {
				(json!({"block": number, "eventIndex": index}), number.checked_sub(1))
			}
			Start::At { number, event_index: None } => (json!({ "block": number }), number.checked_sub(1)),
			Start::Live => {
				let cursor = self.feed.subscribe().cursor.map(|c| c.number);
				(json!({ "block": cursor.map_or(0, |n| n + 1) }), cursor)
			}
		}
	}
}

fn mode_label(mode: Follow) -> &'static str {
	match mode {
		Follow::Finalized => "finalized",
		Follow::Best => "best",
	}
}

/// The notification of one envelope: its bytes, as they are.
fn envelope_notification(envelope: &BlockEnvelope) -> String {
	let json = String::from_utf8_lossy(&envelope.json);
	let mut text = String::with_capacity(json.len() + 32);
	text.push_str(r#"{"event":"envelope","envelope":"#);
	text.push_str(&json);
	text.push('}');
	text
}

/// The resume position after `envelope`, the `index`-th of `block`'s (finalized mode).
fn resume_after(block: &CommittedBlock, index: usize) -> Json {
	let envelope = &block.envelopes[index];
	if index + 1 == block.envelopes.len() {
		return json!({ "block": block.context.number + 1 });
	}
	match envelope.event_index() {
		Some(event_index) => json!({"block": block.context.hash, "eventIndex": event_index + 1}),
		// After BlockCreated: the events next. A RuntimeUpgraded still to come has no event index: resume at the
		// block (the subscriber gets BlockCreated twice, with the same id).
		None if block.envelopes.get(index + 1).is_some_and(|next| next.event_index().is_none()) => {
			json!({ "block": block.context.hash })
		}
		None => json!({"block": block.context.hash, "eventIndex": 0}),
	}
}

/// Where the producer puts notifications: waiting for room (replay) or not (live: a full queue stops it).
struct Queue<'a> {
	sender: &'a mpsc::Sender<Queued>,
	request: &'a FollowRequest,
}

enum Pushed {
	Ok,
	/// The subscriber is gone.
	Gone,
	Full,
}

impl Queue<'_> {
	async fn push(&self, item: Queued, wait: bool) -> Pushed {
		if wait {
			return match self.sender.send(item).await {
				Ok(()) => Pushed::Ok,
				Err(_) => Pushed::Gone,
			};
		}
		// A block's envelopes arrive at once: a subscriber that reads gets a moment to make room for them.
		match self.sender.send_timeout(item, ROOM_GRACE).await {
			Ok(()) => Pushed::Ok,
			Err(mpsc::error::SendTimeoutError::Timeout(_)) => Pushed::Full,
			Err(mpsc::error::SendTimeoutError::Closed(_)) => Pushed::Gone,
		}
	}

	/// A committed block's envelopes that pass the filter, from `event_index` on when given.
	async fn block(&self, block: &CommittedBlock, event_index: Option<u32>, wait: bool) -> Pushed {
		let best = self.request.mode == Follow::Best;
		for (index, envelope) in block.envelopes.iter().enumerate() {
			let last = index + 1 == block.envelopes.len();
			if let Some(first) = event_index {
				// From an event on: the block's own envelopes before its events are skipped, its BlockFinalized
				// (the last) is not.
				let skip = match envelope.event_index() {
					Some(i) => i < first,
					None => !last,
				};
				if skip {
					continue;
				}
			}
			if !self.request.filter.matches(envelope, best) {
				continue;
			}
			let resume = if best {
				Resume::Final((last && block.context.finalized).then_some(block.context.number))
			} else {
				Resume::At(resume_after(block, index))
			};
			match self.push(Queued { text: envelope_notification(envelope), resume }, wait).await {
				Pushed::Ok => {}
				other => return other,
			}
		}
		Pushed::Ok
	}

	async fn item<H: Copy>(&self, item: &FeedItem<H>, wait: bool) -> Pushed {
		let best = self.request.mode == Follow::Best;
		match item {
			FeedItem::Committed(_, block) => self.block(block, None, wait).await,
			FeedItem::Retracted(_, envelope) | FeedItem::Finalized(_, envelope) => {
				if !self.request.filter.matches(envelope, best) {
					return Pushed::Ok;
				}
				let resume = match item {
					FeedItem::Finalized(block, _) => Resume::Final(Some(block.number)),
					_ => Resume::Final(None),
				};
				self.push(Queued { text: envelope_notification(envelope), resume }, wait).await
			}
		}
	}
}

/// Stops the subscription for `reason`: counted now, when the node decides (the subscriber may take its `stop`
/// notification much later, once it reads again).
fn stop_for<Ch, R: BlockReader>(hub: &Hub<Ch, R>, stop: oneshot::Sender<StopReason>, reason: StopReason) {
	if let Some(metrics) = &hub.metrics {
		metrics.stopped.with_label_values(&[reason.label()]).inc();
	}
	let _ = stop.send(reason);
}

/// Replays, then follows the feed, until the subscriber leaves or must be stopped (`stop`).
async fn produce<Ch, R>(
	hub: Hub<Ch, R>,
	feed: Arc<Feed<R::Hash>>,
	request: FollowRequest,
	start: Start,
	sender: mpsc::Sender<Queued>,
	stop: oneshot::Sender<StopReason>,
) where
	Ch: ChainView<Hash = R::Hash> + Send + Sync + 'static,
	R: BlockReader + 'static,
{
	let queue = Queue { sender: &sender, request: &request };
	let best = request.mode == Follow::Best;
	// Nothing below `from` (the feed may still be behind the chain `from` was checked against).
	let first = match start {
		Start::At { number, .. } => number,
		Start::Live => 0,
	};
	let mut next = match start {
		Start::Live => None,
		Start::At { number, event_index } => Some((number, event_index)),
	};
	let mut reader = None;
	let (mut snapshot, cursor) = loop {
		let mut snapshot = feed.subscribe();
		let Some(cursor) = snapshot.cursor else {
			// The feed has not started yet (the node just started): wait for it.
			drop(snapshot);
			tokio::time::sleep(Duration::from_millis(200)).await;
			continue;
		};
		if let Some((from, event_index)) = next.take() {
			if from <= cursor.number {
				let reader = reader.get_or_insert_with(|| (hub.readers)());
				let permit = hub.replays.clone().acquire_owned().await;
				let mut event_index = event_index;
				for number in from..=cursor.number {
					let block = match read_final(&*hub.chain, reader, number).await {
						Ok(block) => block,
						Err(reason) => {
							stop_for(&hub, stop, reason);
							return;
						}
					};
					if let Some(metrics) = &hub.metrics {
						metrics.replay_blocks.inc();
					}
					match queue.block(&block, event_index.take(), true).await {
						Pushed::Ok => {}
						_ => return,
					}
				}
				drop(permit);
			}
		}
		// Live items that came during the replay, paced like the replay; a replay that outran the feed's buffer
		// replays on from where it ended.
		let mut lagged = false;
		loop {
			match snapshot.live.try_recv() {
				Ok(item) if (!best && item.block().number <= cursor.number) || item.block().number < first => {}
				Ok(item) => {
					if !matches!(queue.item(&item, true).await, Pushed::Ok) {
						return;
					}
				}
				Err(TryRecvError::Empty) => break,
				Err(TryRecvError::Lagged(_)) => {
					lagged = true;
					break;
				}
				Err(TryRecvError::Closed) => {
					stop_for(&hub, stop, StopReason::ShuttingDown);
					return;
				}
			}
		}
		if lagged {
			if best {
				stop_for(&hub, stop, StopReason::Lagged);
				return;
			}
			// Finalized mode: everything up to the feed's cursor then was sent; replay on from there.
			next = Some((cursor.number + 1, None));
			continue;
		}
		break (snapshot, cursor);
	};
	drop(reader);
	// Best mode: the blocks above the finalized ones, as the feed committed them.
	if best {
		let from = match start {
			Start::At { number, .. } => number,
			Start::Live => u64::MAX,
		};
		for (block, committed) in &snapshot.unfinalized {
			if block.number >= from && !matches!(queue.block(committed, None, true).await, Pushed::Ok) {
				return;
			}
		}
	}
	let head = snapshot
		.unfinalized
		.last()
		.map(|(b, _)| (b.number, hex0x(b.hash)))
		.unwrap_or((cursor.number, hex0x(cursor.hash)));
	let caught_up = json!({"event": "caughtUp", "block": {"number": head.0, "hash": head.1}}).to_string();
	let resume = if best { Resume::Final(None) } else { Resume::At(json!({ "block": cursor.number + 1 })) };
	// After a replay only: a subscription that starts live has nothing to catch up with.
	if matches!(start, Start::At { .. })
		&& !matches!(queue.push(Queued { text: caught_up, resume }, true).await, Pushed::Ok)
	{
		return;
	}
	loop {
		let item = match snapshot.live.recv().await {
			Ok(item) => item,
			Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
				stop_for(&hub, stop, StopReason::Lagged);
				return;
			}
			Err(tokio::sync::broadcast::error::RecvError::Closed) => {
				stop_for(&hub, stop, StopReason::ShuttingDown);
				return;
			}
		};
		if item.block().number < first {
			continue;
		}
		match queue.item(&item, false).await {
			Pushed::Ok => {}
			Pushed::Gone => return,
			Pushed::Full => {
				stop_for(&hub, stop, StopReason::SlowSubscriber);
				return;
			}
		}
	}
}

/// Reads final block `number` from the database, off the async threads.
async fn read_final<Ch, R>(chain: &Ch, reader: &mut R, number: u64) -> Result<CommittedBlock, StopReason>
where
	Ch: ChainView<Hash = R::Hash>,
	R: BlockReader,
{
	let link: BlockLink<R::Hash> = match chain.canonical(number) {
		Ok(Some(link)) => link,
		Ok(None) => return Err(StopReason::Internal(format!("block #{number} is not in the database"))),
		Err(error) => return Err(StopReason::Internal(error.to_string())),
	};
	let loaded = tokio::task::block_in_place(|| reader.load(&link, true));
	match loaded {
		Ok(loaded) => tokio::task::block_in_place(|| {
			// A panic (a bug) stops this subscription, never the node.
			let _unwind = sp_panic_handler::AbortGuard::force_unwind();
			std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| loaded.encode()))
				.map_err(|panic| StopReason::Internal(crate::panic::error("replaying a block", &*panic).to_string()))
		}),
		Err(SinkError::Pruned { number }) => Err(StopReason::Pruned(number)),
		Err(error) => Err(StopReason::Internal(error.to_string())),
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{envelope::BlockContext, stream::Origin};

	fn envelope(id: &str, origin: Origin) -> BlockEnvelope {
		BlockEnvelope::fake(id, origin)
	}

	fn block(with_upgrade: bool) -> CommittedBlock {
		let event = |index| Origin::Event { index, pallet: "P".into(), variant: "V".into() };
		let mut envelopes = vec![envelope("h:BlockCreated", Origin::Block)];
		if with_upgrade {
			envelopes.push(envelope("h:RuntimeUpgraded", Origin::Block));
		}
		envelopes.extend([
			envelope("h:0", event(0)),
			envelope("h:1", event(1)),
			envelope("h:BlockFinalized", Origin::Block),
		]);
		CommittedBlock {
			context: BlockContext {
				chain: "c".into(),
				number: 9,
				hash: "h".into(),
				parent_hash: "p".into(),
				spec_version: 1,
				timestamp: None,
				finalized: true,
			},
			block_hash: "h".into(),
			envelopes,
		}
	}

	#[test]
	fn resume_positions_skip_exactly_what_was_sent() {
		let plain = block(false);
		assert_eq!(resume_after(&plain, 0), json!({"block": "h", "eventIndex": 0}), "after BlockCreated: the events");
		assert_eq!(resume_after(&plain, 1), json!({"block": "h", "eventIndex": 1}));
		assert_eq!(
			resume_after(&plain, 2),
			json!({"block": "h", "eventIndex": 2}),
			"after the last event: BlockFinalized"
		);
		assert_eq!(resume_after(&plain, 3), json!({"block": 10}), "after the block: the next one");
		// At an upgrade, RuntimeUpgraded has no event index: resume at the block (BlockCreated comes again).
		let upgrade = block(true);
		assert_eq!(resume_after(&upgrade, 0), json!({"block": "h"}));
		assert_eq!(resume_after(&upgrade, 1), json!({"block": "h", "eventIndex": 0}));
	}
}
