//! The shipping loop: asks the [`Follower`] what to do, turns each action into messages (reading blocks from the
//! database), persists the write-ahead part of the journal, produces the messages in order, and persists the rest
//! (cursor, journal) only as Kafka acknowledges them, action by action, in order.
//!
//! Import never waits on this loop: it is only woken by notifications and reads blocks from the database at its
//! own pace. When Kafka is slow or down, the read-ahead fills up, the loop waits, and later catches up from the
//! database. Failures restart the loop from the persisted state (the follower re-reads the chain then, so a
//! re-org during an outage or a crash is retracted too).

use std::{
	collections::VecDeque,
	panic::AssertUnwindSafe,
	sync::Arc,
	time::{Duration, Instant},
};

use futures::FutureExt;
use tokio::sync::watch;

use crate::{
	block::reader::BlockReader,
	config::{Follow, SinkConfig},
	encode_pool::{EncodePool, Encoded},
	envelope::{json::hex0x, BlockContext, OutgoingMessage},
	error::SinkError,
	faults,
	follow::{Action, BlockId, ChainView, Follower, Restored},
	kafka::{
		admin::ensure_topics,
		metrics::{Metrics, SinkState, Tally},
		producer::{Delivery, Failure, KafkaProducer, Report},
		request::{self, KafkaBuild, Request},
	},
	panic::Unwinding,
	progress::Progress,
	status::{BlockRef, StatusHandle},
	store::{
		cursor::check_or_start,
		identity::{self, Identity},
		journal::JournalEntry,
		Change, Effect, EntryState, Ledger, StateStore,
	},
};

const LOG_TARGET: &str = "herald::kafka";

/// How often acknowledged progress is written to the database, at most.
const WRITE_INTERVAL: Duration = Duration::from_millis(1000);

/// How often a failure that repeats by itself is retried before the sink stops.
const DETERMINISTIC_RETRIES: u32 = 3;

/// Longest pause between two restarts after failures (a rebuilt producer included: a cluster that makes every new
/// producer fail is not hammered).
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The parts the worker runs on: the chain, a block reader and the state store (all over the node's client in
/// the node; fakes in tests).
pub struct Parts<Ch, R, S> {
	pub chain: Ch,
	pub reader: R,
	pub store: S,
}

/// Runs the sink until a fatal error (or, with `config.required`, any error). Failures that a restart can cure
/// are logged, counted, and retried from the persisted state with exponential backoff.
pub async fn run<Ch, R, S>(
	parts: Parts<Ch, R, S>,
	config: SinkConfig,
	metrics: Option<Metrics>,
	wake: watch::Receiver<u64>,
) -> SinkError
where
	R: BlockReader,
	Ch: ChainView<Hash = R::Hash>,
	S: StateStore<R::Hash>,
{
	run_with_status(parts, config, metrics, wake, StatusHandle::default()).await
}

/// [`run`], reporting to `status` (what the node's `herald_status` RPC answers).
pub async fn run_with_status<Ch, R, S>(
	mut parts: Parts<Ch, R, S>,
	config: SinkConfig,
	metrics: Option<Metrics>,
	mut wake: watch::Receiver<u64>,
	status: StatusHandle,
) -> SinkError
where
	R: BlockReader,
	Ch: ChainView<Hash = R::Hash>,
	S: StateStore<R::Hash>,
{
	status.update(|s| {
		s.state = SinkState::Starting.label();
		s.follow = config.follow.to_string();
		s.topic_prefix = config.topic_prefix.clone();
		s.journal_capacity = config.max_unfinalized_blocks as u64;
	});
	// Created here, on the sink's thread, so that its threads inherit the sink's priority.
	let pool = match EncodePool::new(config.encode_threads as usize) {
		Ok(pool) => pool,
		Err(error) => return error,
	};
	let mut progress = Progress::new(match config.follow {
		Follow::Finalized => "finalized",
		Follow::Best => "best",
	});
	if let Some(metrics) = &metrics {
		metrics.journal_capacity_blocks.set(config.max_unfinalized_blocks as u64);
	}
	let mut backoff = Duration::from_secs(1);
	// A failure that can only repeat (the same block's metadata, encoding or a panic, failing the same way) is
	// retried a few times, then stops the sink with the error instead of looping forever.
	let mut same_failures: (String, u32) = (String::new(), 0);
	loop {
		let started = Instant::now();
		// A panic (a bug) must not end the node: it becomes an error and the loop restarts like after any other.
		let attempt =
			AssertUnwindSafe(ship(&mut parts, &pool, &config, metrics.as_ref(), &mut wake, &mut progress, &status));
		let error = match Unwinding(Box::pin(attempt.catch_unwind())).await {
			Ok(Ok(never)) => match never {},
			Ok(Err(error)) => error,
			Err(panic) => crate::panic::error("the shipping loop", &*panic),
		};
		let error = if error.repeats_by_itself() {
			let message = error.to_string();
			same_failures = if same_failures.0 == message { (message, same_failures.1 + 1) } else { (message, 1) };
			if same_failures.1 >= DETERMINISTIC_RETRIES {
				SinkError::Repeated(format!(
					"{error} — failed {DETERMINISTIC_RETRIES} times in a row the same way, so it will not pass by \
					 itself. The node runs on without the sink: report it, upgrade Herald, or skip the block with \
					 `herald-node kafka-cursor set` (node stopped), then restart"
				))
			} else {
				error
			}
		} else {
			same_failures.1 = 0;
			error
		};
		if let Some(metrics) = &metrics {
			metrics.sink_failed();
		}
		status.failed(error.to_string());
		if error.is_fatal() || config.required {
			if let Some(metrics) = &metrics {
				metrics.set_state(SinkState::Stopped);
			}
			status.update(|s| s.state = SinkState::Stopped.label());
			return error;
		}
		status.update(|s| {
			s.state = SinkState::BackingOff.label();
			s.restarts += 1;
		});
		if let Some(metrics) = &metrics {
			metrics.restarts.inc();
			metrics.set_state(SinkState::BackingOff);
		}
		progress.interrupted(error.to_string());
		// A run that lasted a while was healthy: start the backoff over.
		if started.elapsed() > MAX_BACKOFF {
			backoff = Duration::from_secs(1);
		}
		log::error!(target: LOG_TARGET, "event sink failed: {error}; restarting from the cursor in {backoff:?}");
		tokio::time::sleep(backoff).await;
		backoff = (backoff * 2).min(MAX_BACKOFF);
	}
}

/// An action handed to the producer and not yet acknowledged in full.
struct Pending<H> {
	seq: u64,
	unacked: usize,
	failure: Option<Failure>,
	effect: Effect<H>,
	/// Ships count against the read-ahead; retractions and finalizations don't.
	is_ship: bool,
	number: u64,
	what: String,
	sent_at: Instant,
	/// The action's messages by topic, counted in the metrics once all are acknowledged (not one by one).
	tallies: Vec<Tally>,
	/// Runtime events among its messages.
	events: u64,
}

/// One run: from the persisted state on, until an error.
async fn ship<Ch, R, S>(
	parts: &mut Parts<Ch, R, S>,
	pool: &EncodePool,
	config: &SinkConfig,
	metrics: Option<&Metrics>,
	wake: &mut watch::Receiver<u64>,
	progress: &mut Progress,
	status: &StatusHandle,
) -> Result<std::convert::Infallible, SinkError>
where
	R: BlockReader,
	Ch: ChainView<Hash = R::Hash>,
	S: StateStore<R::Hash>,
{
	let Parts { chain, reader, store } = parts;
	if let Some(metrics) = metrics {
		metrics.set_state(SinkState::Starting);
	}
	status.update(|s| s.state = SinkState::Starting.label());
	let state = store.load()?;
	let (cursor, start) = match check_or_start(chain, state.cursor, config.start_from)? {
		Ok(cursor) => (Some(cursor), cursor.number + 1),
		// A first start: persist the block before the start as the cursor, so that `latest` is resolved once and
		// a restart (or an outage) never moves the start.
		Err(start) => match start.checked_sub(1) {
			Some(before) if before <= chain.heads()?.finalized.number => {
				let block = chain
					.canonical(before)?
					.ok_or_else(|| SinkError::Database(format!("finalized block #{before} is not in the database")))?;
				store.commit(vec![Change::Cursor(block.id())])?;
				(Some(block.id()), start)
			}
			_ => (None, start),
		},
	};
	let restored = state
		.journal
		.iter()
		.map(|entry| Restored { block: entry.block, acknowledged: entry.state == EntryState::Shipped });
	let mut follower = Follower::new(config.follow, start, cursor, restored, config.max_unfinalized_blocks as usize);
	let mut ledger = Ledger::new(&state);
	log::info!(
		target: LOG_TARGET,
		"event sink follows the {} chain from block #{start}{}, brokers {}",
		config.follow,
		if ledger.is_empty() { String::new() } else { format!(" ({} blocks shipped and not final)", ledger.len()) },
		config.brokers
	);

	// The producer first: its callbacks report why the brokers can't be reached (TLS, authentication), which the
	// admin client's errors don't say.
	let (producer, mut reports) = KafkaProducer::new(config, metrics.cloned())?;
	let topics = request::topics(config);
	let cluster = match ensure_topics(config, &topics).await {
		Ok(cluster) => cluster,
		Err(SinkError::Kafka(error)) => {
			return Err(SinkError::Kafka(match producer.last_error() {
				Some(reason) => format!("{error}; librdkafka: {reason}"),
				None => error,
			}))
		}
		Err(error) => return Err(error),
	};
	let build = Arc::new(KafkaBuild::new(config, reader.chain(), cluster.partitions));
	let here = Identity { cluster_id: cluster.id, topic_prefix: config.topic_prefix.clone() };
	if let Some(identity) = identity::check(state.identity.as_ref(), &here)? {
		store.commit(vec![Change::Identity(identity)])?;
	}
	if let Some(metrics) = metrics {
		metrics.initialise(&topics);
		metrics.set_info(&config.follow.to_string(), &config.topic_prefix, here.cluster_id.as_deref().unwrap_or(""));
		metrics.sink_up.set(1);
		metrics.set_state(SinkState::Shipping);
	}
	status.update(|s| {
		s.state = SinkState::Shipping.label();
		s.cluster_id = here.cluster_id.clone();
		s.cursor = cursor.map(|c| BlockRef { number: c.number, hash: hex0x(c.hash) });
	});

	let mut in_flight: VecDeque<Pending<R::Hash>> = VecDeque::new();
	let mut next_seq = 1u64;
	let mut persisted_cursor = cursor;
	// Changes from acknowledgements, written at most about once a second (a crash then re-ships at most that
	// second's blocks, with the same ids): catch-up does not write the database for every batch of acks.
	let mut unpersisted: Vec<Change<R::Hash>> = Vec::new();
	let mut last_write = Instant::now();
	let mut stall_reported = false;
	// Without notifications (the node is shutting down) the one-second tick still drives the loop.
	let mut wake_alive = true;
	let read_ahead = config.read_ahead_blocks.max(1) as usize;
	loop {
		let shipping = in_flight.iter().filter(|p| p.is_ship).count();
		let actions = follower.plan(chain, read_ahead.saturating_sub(shipping))?;

		// Build every action's messages and write-ahead change, persist those at once, then produce in order. The
		// blocks to ship are read in order and their messages made on the pool, in parallel.
		let mut encoded: VecDeque<(Encoded<Built>, Duration)> = VecDeque::new();
		for action in &actions {
			if let Action::Ship { block, finalized } = action {
				let reading = Instant::now();
				let loaded = reader.load(block, *finalized)?;
				let build = build.clone();
				// The envelopes are written and turned into requests on the pool (pointer keys parse `data`).
				let job = pool.run(move || {
					let block = loaded.encode();
					Built {
						requests: build.committed(&block),
						spec_version: block.context.spec_version,
						timestamp: block.context.timestamp,
					}
				});
				encoded.push_back((job, reading.elapsed()));
			}
		}
		let mut write_ahead = Vec::new();
		let mut ready = Vec::with_capacity(actions.len());
		for action in actions {
			let seq = next_seq;
			next_seq += 1;
			let read = match action {
				Action::Ship { .. } => {
					let (job, reading) = encoded.pop_front().expect("one job per ship");
					let (read, encoding) = EncodePool::timed_result(job).await?;
					if let Some(metrics) = metrics {
						metrics.block_read_seconds.observe((reading + encoding).as_secs_f64());
					}
					Some(read)
				}
				_ => None,
			};
			let (messages, change, effect, what) = prepare(action, read, seq, reader.chain(), &mut ledger, &build)?;
			write_ahead.extend(change);
			if matches!(action, Action::Retract(_)) {
				if let Some(metrics) = metrics {
					metrics.retracted_blocks.inc();
				}
				log::info!(target: LOG_TARGET, "retracting {what}: it left the best chain");
			}
			let number = match action {
				Action::Ship { block, .. } | Action::Retract(block) | Action::Finalize(block) => block.number,
			};
			let is_ship = matches!(action, Action::Ship { .. });
			ready.push(Ready { seq, messages, effect, is_ship, number, what });
			// Nothing to persist before these messages: they go now, while the pool makes the next blocks'.
			if write_ahead.is_empty() {
				for action in ready.drain(..) {
					let mut shipping =
						Shipping { in_flight: &mut in_flight, ledger: &mut ledger, unpersisted: &mut unpersisted };
					shipping.produce(action, &producer, &mut reports, store, metrics, progress).await?;
				}
			}
		}
		if !write_ahead.is_empty() {
			// The write-ahead part can't wait; what acknowledgements changed since the last write goes with it, first.
			let mut changes = std::mem::take(&mut unpersisted);
			let cursor = last_cursor(&changes);
			changes.extend(write_ahead);
			store.commit(changes)?;
			last_write = Instant::now();
			if let Some(cursor) = cursor {
				persisted_cursor = Some(cursor);
				report_cursor(metrics, chain, cursor)?;
			}
		}
		for action in ready.drain(..) {
			let mut shipping =
				Shipping { in_flight: &mut in_flight, ledger: &mut ledger, unpersisted: &mut unpersisted };
			shipping.produce(action, &producer, &mut reports, store, metrics, progress).await?;
		}

		if follower.stalled() && !stall_reported {
			progress.interrupted("finality stalled and the journal is full (--kafka-max-unfinalized-blocks)");
			log::error!(
				target: LOG_TARGET,
				"finality has stalled: {} blocks are shipped and not final, the bound set by \
				 --kafka-max-unfinalized-blocks. The sink ships no new block until finality moves (nothing is lost: \
				 it catches up from the database then); check GRANDPA, or raise the bound",
				ledger.len()
			);
		}
		stall_reported = follower.stalled();
		let heads = chain.heads()?;
		let target = match config.follow {
			Follow::Finalized => heads.finalized.number,
			Follow::Best => heads.best.number,
		};
		progress.tick(target, ledger.len(), config.max_unfinalized_blocks as usize);
		let last_shipped = progress.last_shipped();
		status.update(|s| {
			s.cursor = persisted_cursor.map(|c| BlockRef { number: c.number, hash: hex0x(c.hash) });
			s.last_shipped = last_shipped;
			s.journal_blocks = ledger.len() as u64;
			s.journal_full = follower.stalled();
			let shipped = persisted_cursor.map_or(0, |c| c.number + 1);
			s.finalized_lag_blocks = (heads.finalized.number + 1).saturating_sub(shipped);
			s.best_lag_blocks = heads.best.number.saturating_sub(last_shipped.unwrap_or(0));
		});
		if let Some(metrics) = metrics {
			metrics.read_ahead_blocks.set(in_flight.iter().filter(|p| p.is_ship).count() as u64);
			metrics.journal_blocks.set(ledger.len() as u64);
			metrics.journal_full.set(follower.stalled() as u64);
			let shipped = persisted_cursor.map_or(0, |c| c.number + 1);
			metrics.finalized_lag_blocks.set((heads.finalized.number + 1).saturating_sub(shipped));
			let last_shipped = metrics.last_shipped_block.get();
			metrics.best_lag_blocks.set(heads.best.number.saturating_sub(last_shipped));
		}

		// Wait for acknowledgements, a chain event, or a tick (metrics, anything a notification missed).
		let mut stand_ins = Vec::new();
		tokio::select! {
			report = reports.recv() => {
				let mut report = report.ok_or_else(|| SinkError::kafka("the producer stopped reporting deliveries"))?;
				loop {
					match report {
						Report::Delivery(delivery) => record(&mut in_flight, delivery, &mut stand_ins),
						Report::Fatal(reason) => return Err(SinkError::ProducerFatal(reason)),
					}
					match reports.try_recv() {
						Ok(next) => report = next,
						Err(_) => break,
					}
				}
			},
			changed = wake.changed(), if wake_alive => wake_alive = changed.is_ok(),
			_ = tokio::time::sleep(Duration::from_secs(1)) => {},
		}
		// Stand-ins for messages the broker refused (`--kafka-on-rejected stand-in`) count for their action.
		for (seq, what, message, partition) in stand_ins {
			producer.send_stand_in(seq, &what, &message, partition).await?;
		}

		// Persist what the acknowledged actions changed, in order, in one write at most about once a second.
		unpersisted.extend(complete_acknowledged(&mut in_flight, &mut ledger, metrics, progress, u64::MAX));
		if let Some((front, failure)) = in_flight.front().and_then(|f| f.failure.as_ref().map(|failure| (f, failure))) {
			if failure.permanent {
				return Err(SinkError::Rejected {
					what: front.what.clone(),
					id: failure.id.clone(),
					reason: failure.reason.clone(),
				});
			}
			// Later actions may be acknowledged already; the restart ships them again (same ids).
			return Err(SinkError::Kafka(format!(
				"Kafka did not acknowledge a message of {}: {}",
				front.what, failure.reason
			)));
		}
		if unpersisted.is_empty() || last_write.elapsed() < WRITE_INTERVAL {
			continue;
		}
		let changes = std::mem::take(&mut unpersisted);
		let cursor = last_cursor(&changes);
		store.commit(changes)?;
		last_write = Instant::now();
		if let Some(cursor) = cursor {
			persisted_cursor = Some(cursor);
			report_cursor(metrics, chain, cursor)?;
		}
	}
}

/// An action's messages, made and ready to be produced.
struct Ready<H> {
	seq: u64,
	messages: Vec<Request>,
	effect: Effect<H>,
	is_ship: bool,
	number: u64,
	what: String,
}

/// The shipping loop's state that producing an action changes.
struct Shipping<'a, H> {
	in_flight: &'a mut VecDeque<Pending<H>>,
	ledger: &'a mut Ledger<H>,
	unpersisted: &'a mut Vec<Change<H>>,
}

impl<H: Copy + Eq + std::hash::Hash> Shipping<'_, H> {
	/// Records the action as in flight and hands its messages to the producer, in order. A message Kafka will
	/// never accept stops the sink: what Kafka acknowledged before this action is persisted first, so the cursor
	/// ends right before the rejected block.
	async fn produce<S: StateStore<H>>(
		&mut self,
		action: Ready<H>,
		producer: &KafkaProducer,
		reports: &mut tokio::sync::mpsc::UnboundedReceiver<Report>,
		store: &mut S,
		metrics: Option<&Metrics>,
		progress: &mut Progress,
	) -> Result<(), SinkError> {
		let Ready { seq, messages, effect, is_ship, number, what } = action;
		if is_ship && faults::at("worker-panic", number) {
			panic!("test fault worker-panic@{number} (HERALD_TEST_FAULTS)");
		}
		self.in_flight.push_back(Pending {
			seq,
			unacked: messages.len(),
			failure: None,
			effect,
			is_ship,
			number,
			what: what.clone(),
			sent_at: Instant::now(),
			tallies: if metrics.is_some() { tallies(&messages) } else { Vec::new() },
			events: messages.iter().filter(|outgoing| outgoing.is_event).count() as u64,
		});
		for outgoing in &messages {
			let sent = producer.send(seq, &what, &outgoing.message, outgoing.partition, outgoing.is_event).await;
			if let Err(error @ SinkError::Rejected { .. }) = sent {
				let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
				loop {
					self.unpersisted.extend(complete_acknowledged(self.in_flight, self.ledger, metrics, progress, seq));
					if !self.in_flight.front().is_some_and(|front| front.seq < seq && front.failure.is_none()) {
						break;
					}
					match tokio::time::timeout_at(deadline, reports.recv()).await {
						Ok(Some(Report::Delivery(delivery))) => record(self.in_flight, delivery, &mut Vec::new()),
						_ => break,
					}
				}
				store.commit(std::mem::take(self.unpersisted))?;
				return Err(error);
			}
			sent?;
		}
		Ok(())
	}
}

/// The cursor a batch of changes moves to, if it moves.
fn last_cursor<H: Copy>(changes: &[Change<H>]) -> Option<BlockId<H>> {
	changes.iter().rev().find_map(|change| match change {
		Change::Cursor(id) => Some(*id),
		_ => None,
	})
}

/// The stored cursor moved: its metrics follow.
fn report_cursor<Ch: ChainView>(
	metrics: Option<&Metrics>,
	chain: &Ch,
	cursor: BlockId<Ch::Hash>,
) -> Result<(), SinkError> {
	if let Some(metrics) = metrics {
		metrics.last_acked_block.set(cursor.number);
		let finalized = chain.heads()?.finalized.number;
		metrics.finalized_lag_blocks.set(finalized.saturating_sub(cursor.number));
	}
	Ok(())
}

/// Completes the leading actions (before action `before`) whose every message was acknowledged, in order: the
/// persisted changes they make. Stops at the first action still waiting or failed.
fn complete_acknowledged<H: Copy + Eq + std::hash::Hash>(
	in_flight: &mut VecDeque<Pending<H>>,
	ledger: &mut Ledger<H>,
	metrics: Option<&Metrics>,
	progress: &mut Progress,
	before: u64,
) -> Vec<Change<H>> {
	let mut changes = Vec::new();
	while in_flight.front().is_some_and(|f| f.unacked == 0 && f.failure.is_none() && f.seq < before) {
		let done = in_flight.pop_front().expect("front exists");
		if done.is_ship {
			progress.shipped(done.number, done.events);
		}
		if let Some(metrics) = metrics {
			metrics.delivery_latency.observe(done.sent_at.elapsed().as_secs_f64());
			metrics.acknowledged(&done.tallies);
			if done.is_ship {
				metrics.last_shipped_block.set(done.number);
			}
		}
		changes.extend(ledger.complete(done.effect));
	}
	changes
}

/// Records one message's outcome on its action. A refused message with a stand-in still counts as unacknowledged:
/// its stand-in, pushed to `stand_ins` to be sent, is what completes it.
fn record<H>(
	in_flight: &mut VecDeque<Pending<H>>,
	delivery: Delivery,
	stand_ins: &mut Vec<(u64, String, OutgoingMessage, i32)>,
) {
	let Some(front) = in_flight.front() else { return };
	let Some(index) = delivery.seq.checked_sub(front.seq) else { return };
	if let Some(pending) = in_flight.get_mut(index as usize) {
		debug_assert_eq!(pending.seq, delivery.seq);
		match delivery.result {
			Ok(()) => {
				// The durability window: Kafka holds one of the block's messages; only the write-ahead knows.
				if pending.is_ship && faults::at("kill-after-ack", pending.number) {
					faults::kill_now();
				}
				pending.unacked = pending.unacked.saturating_sub(1)
			}
			Err(Failure { stand_in: Some(refused), bytes, is_event, reason, .. }) => {
				// Built here, on the sink's thread (the callback only copied the refused message).
				let (message, partition) = refused.stand_in(&reason);
				// The stand-in's own acknowledgement is counted when it comes; the refused message is not.
				if let Some(tally) = pending.tallies.iter_mut().find(|tally| tally.topic == message.topic) {
					tally.remove(bytes, is_event);
				}
				stand_ins.push((pending.seq, pending.what.clone(), message, partition))
			}
			Err(error) => {
				pending.unacked = pending.unacked.saturating_sub(1);
				pending.failure.get_or_insert(error);
			}
		}
	}
}

/// A block to ship, turned into requests on the pool.
struct Built {
	requests: Vec<Request>,
	spec_version: u32,
	timestamp: Option<u64>,
}

type Prepared<H> = (Vec<Request>, Option<Change<H>>, Effect<H>, String);

/// The messages of an action, by topic.
fn tallies(messages: &[Request]) -> Vec<Tally> {
	let mut tallies: Vec<Tally> = Vec::new();
	for outgoing in messages {
		let message = &outgoing.message;
		// `Arc<str>` equality compares the pointers first: a block's messages share their route's topic.
		let tally = match tallies.iter().position(|tally| tally.topic == message.topic) {
			Some(position) => &mut tallies[position],
			None => {
				tallies.push(Tally::new(message.topic.clone()));
				tallies.last_mut().expect("just pushed")
			}
		};
		tally.add(message.payload.len(), outgoing.is_event);
	}
	tallies
}

/// An action's messages, its write-ahead change and what completing it changes; `read` is a ship's messages.
fn prepare<H: AsRef<[u8]> + Copy + Eq + std::hash::Hash>(
	action: Action<H>,
	read: Option<Built>,
	seq: u64,
	chain: &str,
	ledger: &mut Ledger<H>,
	build: &KafkaBuild,
) -> Result<Prepared<H>, SinkError> {
	let describe = |number: u64, hash: &H| format!("block #{number} ({})", hex0x(hash));
	match action {
		Action::Ship { block, finalized } => {
			let Built { requests: messages, spec_version, timestamp } = read.expect("a ship's block is read");
			let what = describe(block.number, &block.hash);
			if finalized {
				return Ok((messages, None, Effect::ShippedFinal(block.id()), what));
			}
			let placements = request::placements(&block.hash, &messages);
			let (change, effect) = ledger.shipping(seq, block, spec_version, timestamp, placements);
			Ok((messages, Some(change), effect, what))
		}
		Action::Retract(block) => {
			let what = describe(block.number, &block.hash);
			let entry = journal_entry(ledger, &block.hash, &what, "retracted")?;
			let messages = build.retraction(&entry_context(chain, &entry, false), &entry.placements);
			let (change, effect) = ledger.retracting(seq, block.hash).expect("the entry exists: checked above");
			Ok((messages, Some(change), effect, what))
		}
		Action::Finalize(block) => {
			let what = describe(block.number, &block.hash);
			let entry = journal_entry(ledger, &block.hash, &what, "finalized")?;
			let message = build.finalized(&entry_context(chain, &entry, true));
			Ok((vec![message], None, Effect::Finalized(block.id()), what))
		}
	}
}

/// The journal entry an action needs (a missing one is a bug: the follower only acts on journal blocks).
fn journal_entry<H: Copy + Eq + std::hash::Hash>(
	ledger: &Ledger<H>,
	hash: &H,
	what: &str,
	action: &str,
) -> Result<JournalEntry<H>, SinkError> {
	ledger.entry(hash).cloned().ok_or_else(|| {
		SinkError::Journal(format!("{what} is to be {action} but has no journal entry (a bug: please report)"))
	})
}

/// The envelope context of a block known by its journal entry (its state may be gone).
fn entry_context<H: AsRef<[u8]> + Copy>(chain: &str, entry: &JournalEntry<H>, finalized: bool) -> BlockContext {
	BlockContext {
		chain: chain.to_string(),
		number: entry.block.number,
		hash: hex0x(entry.block.hash),
		parent_hash: hex0x(entry.block.parent),
		spec_version: entry.spec_version,
		timestamp: entry.timestamp,
		finalized,
	}
}
