//! The generic driver: runs one [`Output`] over the chain. It asks the [`Journal`] what to do, turns each action
//! into the output's batch (reading blocks from the database and building their batches on the encode pool),
//! commits the write-ahead part of the journal, sends the batches in order, and completes actions only as the
//! output acknowledges them, in order: the cursor never passes an action that is not acknowledged in full.
//!
//! Import never waits on the driver: it is only woken by notifications and reads blocks from the database at its
//! own pace. When the output is slow or down, the read-ahead fills up, the driver waits, and later catches up from
//! the database. Failures restart it from the persisted state (the plan re-reads the chain then, so a re-org
//! during an outage or a crash is retracted too).

use std::{
	collections::VecDeque,
	panic::AssertUnwindSafe,
	time::{Duration, Instant},
};

use futures::FutureExt;
use tokio::sync::watch;

use crate::{
	block::reader::BlockReader,
	config::{Follow, SinkConfig},
	encode_pool::{EncodePool, Encoded},
	envelope::{json::hex0x, BlockContext},
	error::SinkError,
	faults,
	follow::{Action, BlockId, ChainView},
	kafka::metrics::{Metrics, SinkState},
	output::{Ack, ActionInfo, Build, Output, Started},
	panic::Unwinding,
	progress::Progress,
	status::{BlockRef, StatusHandle},
	store::{journal::JournalEntry, Effect, Journal, StateStore},
};

const LOG_TARGET: &str = "herald::kafka";

/// How often a failure that repeats by itself is retried before the sink stops.
const DETERMINISTIC_RETRIES: u32 = 3;

/// The pause after a first failure, doubled after each next one (unit tests, whose clock is real, restart at once).
const FIRST_BACKOFF: Duration = if cfg!(test) { Duration::from_millis(2) } else { Duration::from_secs(1) };

/// Longest pause between two restarts after failures (a rebuilt producer included: a cluster that makes every new
/// producer fail is not hammered).
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// How long a refused send waits for the actions before it to be acknowledged, so the cursor ends right before it.
const DRAIN_BEFORE_STOP: Duration = Duration::from_secs(30);

/// The most blocks one round of the shipping loop reads before it sends: small enough that the producer starts
/// on the first of them at once, large enough that near-empty blocks don't cost a loop turn each.
const PLAN_ROUND: usize = 128;

/// The parts the driver runs on: the chain, a block reader and the state store (all over the node's client in
/// the node; fakes in tests).
pub struct Parts<Ch, R, S> {
	pub chain: Ch,
	pub reader: R,
	pub store: S,
}

/// Runs `output` until a fatal error (or, with `config.required`, any error), reporting to `status`. Failures
/// that a restart can cure are logged, counted, and retried from the persisted state with exponential backoff.
pub async fn run_with_status<Ch, R, S, O>(
	mut parts: Parts<Ch, R, S>,
	mut output: O,
	config: SinkConfig,
	metrics: Option<Metrics>,
	mut wake: watch::Receiver<u64>,
	status: StatusHandle,
) -> SinkError
where
	R: BlockReader,
	Ch: ChainView<Hash = R::Hash>,
	S: StateStore<R::Hash>,
	O: Output,
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
	let mut backoff = FIRST_BACKOFF;
	// A failure that can only repeat (the same block's metadata, encoding or a panic, failing the same way) is
	// retried a few times, then stops the sink with the error instead of looping forever.
	let mut same_failures: (String, u32) = (String::new(), 0);
	loop {
		let started = Instant::now();
		let run = Run {
			parts: &mut parts,
			output: &mut output,
			pool: &pool,
			config: &config,
			metrics: metrics.as_ref(),
			wake: &mut wake,
			progress: &mut progress,
			status: &status,
		};
		// A panic (a bug) must not end the node: it becomes an error and the loop restarts like after any other.
		let error = match Unwinding(Box::pin(AssertUnwindSafe(run.ship()).catch_unwind())).await {
			Ok(Ok(never)) => match never {},
			Ok(Err(error)) => error,
			Err(panic) => crate::panic::error("the shipping loop", &*panic),
		};
		output.reset();
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
		if let SinkError::LeaseLost(_) = error {
			// Not this node's to retry: its group's loop stands it by (crate::ha).
			return error;
		}
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
			backoff = FIRST_BACKOFF;
		}
		log::error!(target: LOG_TARGET, "event sink failed: {error}; restarting from the cursor in {backoff:?}");
		tokio::time::sleep(backoff).await;
		backoff = (backoff * 2).min(MAX_BACKOFF);
	}
}

/// One run's borrowed parts.
struct Run<'a, Ch, R, S, O> {
	parts: &'a mut Parts<Ch, R, S>,
	output: &'a mut O,
	pool: &'a EncodePool,
	config: &'a SinkConfig,
	metrics: Option<&'a Metrics>,
	wake: &'a mut watch::Receiver<u64>,
	progress: &'a mut Progress,
	status: &'a StatusHandle,
}

/// An action sent and not completed yet.
struct Pending<H> {
	info: ActionInfo,
	effect: Effect<H>,
	events: u64,
	messages: u64,
	acknowledged: bool,
	failure: Option<(String, String, bool)>,
}

/// An action's batch, ready to be sent, with what completing it changes.
struct Ready<H, B> {
	info: ActionInfo,
	batch: B,
	effect: Effect<H>,
}

/// A block to ship, built on the pool.
struct Built<B> {
	batch: B,
	spec_version: u32,
	timestamp: Option<u64>,
}

impl<Ch, R, S, O> Run<'_, Ch, R, S, O>
where
	R: BlockReader,
	Ch: ChainView<Hash = R::Hash>,
	S: StateStore<R::Hash>,
	O: Output,
{
	/// One run: from the persisted state on, until an error.
	async fn ship(self) -> Result<std::convert::Infallible, SinkError> {
		let Run { parts, output, pool, config, metrics, wake, progress, status } = self;
		let Parts { chain, reader, store } = parts;
		if let Some(metrics) = metrics {
			metrics.set_state(SinkState::Starting);
		}
		status.update(|s| s.state = SinkState::Starting.label());
		let mut journal = Journal::open(
			&mut *store,
			chain,
			config.follow,
			config.start_from,
			config.max_unfinalized_blocks as usize,
		)?;
		log::info!(
			target: LOG_TARGET,
			"event sink follows the {} chain from block #{}{}, {}",
			config.follow,
			journal.start(),
			if journal.is_empty() {
				String::new()
			} else {
				format!(" ({} blocks shipped and not final)", journal.len())
			},
			output.describe()
		);
		// Best mode retracts: a previous run's request landing after this run's retraction of its block would
		// leave a phantom, so each run takes a higher epoch first (a group's leader epoch does this for groups).
		let run_epoch = match (config.follow, &config.leader) {
			(Follow::Best, None) => Some(journal.next_run_epoch(unix_millis())?),
			_ => None,
		};
		let Started { build, identity } = output.start(run_epoch).await?;
		journal.check_identity(&identity)?;
		if let Some(metrics) = metrics {
			metrics.sink_up.set(1);
			metrics.set_state(SinkState::Shipping);
		}
		let cursor = journal.cursor();
		status.update(|s| {
			s.state = SinkState::Shipping.label();
			s.cluster_id = identity.cluster_id.clone();
			s.cursor = cursor.map(|c| BlockRef { number: c.number, hash: hex0x(c.hash) });
		});

		let mut in_flight: VecDeque<Pending<R::Hash>> = VecDeque::new();
		let mut next_seq = 1u64;
		let mut stall_reported = false;
		// Without notifications (the node is shutting down) the one-second tick still drives the loop.
		let mut wake_alive = true;
		let read_ahead = config.read_ahead_blocks.max(1) as usize;
		let read_ahead_messages = u64::from(config.read_ahead_messages.max(1));
		// Messages of the largest block in flight (or last seen): what the next blocks are expected to weigh.
		let mut block_messages = 0u64;
		loop {
			let shipping = in_flight.iter().filter(|p| p.info.is_ship).count();
			let messages: u64 = in_flight.iter().map(|p| p.messages).sum();
			if let Some(largest) = in_flight.iter().filter(|p| p.info.is_ship).map(|p| p.messages).max() {
				block_messages = largest;
			}
			// Bounded by blocks and by messages; one block always fits when nothing is in flight. A round reads at
			// most PLAN_ROUND blocks, so the first of them is sent while the window still has room for more.
			let by_blocks = read_ahead.saturating_sub(shipping).min(PLAN_ROUND);
			let by_messages = match block_messages {
				// Nothing seen yet: one block, whose size is then known.
				0 => 1,
				per_block => (read_ahead_messages.saturating_sub(messages) / per_block) as usize,
			};
			let room = by_blocks.min(if in_flight.is_empty() { by_messages.max(1) } else { by_messages });
			let actions = journal.plan(chain, room)?;
			let more = room > 0 && actions.iter().filter(|a| matches!(a, Action::Ship { .. })).count() == room;

			// The blocks to ship are read in order and built on the pool, in parallel.
			let mut encoded: VecDeque<(Encoded<Built<<O::Build as Build>::Batch>>, Duration)> = VecDeque::new();
			for action in &actions {
				if let Action::Ship { block, finalized } = action {
					let reading = Instant::now();
					let loaded = reader.load(block, *finalized)?;
					let build = build.clone();
					encoded.push_back((
						pool.run(move || {
							let block = loaded.encode();
							Built {
								batch: build.committed(&block),
								spec_version: block.context.spec_version,
								timestamp: block.context.timestamp,
							}
						}),
						reading.elapsed(),
					));
				}
			}
			let mut ready = Vec::with_capacity(actions.len());
			for action in actions {
				let seq = next_seq;
				next_seq += 1;
				let built = match action {
					Action::Ship { .. } => {
						let (job, reading) = encoded.pop_front().expect("one job per ship");
						let (built, encoding) = EncodePool::timed_result(job).await?;
						if let Some(metrics) = metrics {
							metrics.block_read_seconds.observe((reading + encoding).as_secs_f64());
						}
						Some(built)
					}
					_ => None,
				};
				if let (Action::Retract(_), Some(metrics)) = (action, metrics) {
					metrics.retracted_blocks.inc();
				}
				ready.push(prepare(action, built, seq, reader.chain(), &mut journal, &*build)?);
				// Nothing to commit before these batches: they go now, while the pool builds the next blocks'.
				if !journal.has_write_ahead() {
					for ready in ready.drain(..) {
						send(ready, &mut *output, &mut in_flight, &mut journal, chain, metrics, progress).await?;
					}
				}
			}
			if journal.has_write_ahead() {
				// Durable before the first message of these actions leaves.
				if let Some(cursor) = journal.commit_write_ahead()? {
					report_cursor(metrics, chain, cursor)?;
				}
			}
			for ready in ready.drain(..) {
				send(ready, &mut *output, &mut in_flight, &mut journal, chain, metrics, progress).await?;
			}

			if journal.stalled() && !stall_reported {
				progress.interrupted("finality stalled and the journal is full (--kafka-max-unfinalized-blocks)");
				log::error!(
					target: LOG_TARGET,
					"finality has stalled: {} blocks are shipped and not final, the bound set by \
					 --kafka-max-unfinalized-blocks. The sink ships no new block until finality moves (nothing is \
					 lost: it catches up from the database then); check GRANDPA, or raise the bound",
					journal.len()
				);
			}
			stall_reported = journal.stalled();
			report(&journal, &in_flight, chain, config, metrics, progress, status)?;

			// Wait for acknowledgements, a chain event, or a tick (metrics, anything a notification missed); while
			// a catch-up has room for more blocks, only take the acknowledgements already there.
			tokio::select! {
				biased;
				acks = output.acknowledgements() => record(&mut in_flight, acks?),
				changed = wake.changed(), if wake_alive && !more => wake_alive = changed.is_ok(),
				_ = tokio::time::sleep(Duration::from_secs(1)), if !more => {},
				_ = std::future::ready(()), if more => {},
			}
			complete_acknowledged(&mut in_flight, &mut journal, metrics, progress, u64::MAX);
			if let Some(front) = in_flight.front() {
				if let Some((id, reason, permanent)) = &front.failure {
					if *permanent {
						return Err(SinkError::Rejected {
							what: front.info.what.clone(),
							id: id.clone(),
							reason: reason.clone(),
						});
					}
					// Later actions may be acknowledged already; the restart ships them again (same ids).
					return Err(SinkError::Kafka(format!(
						"Kafka did not acknowledge a message of {}: {reason}",
						front.info.what
					)));
				}
			}
			if let Some(cursor) = journal.persist_if_due()? {
				report_cursor(metrics, chain, cursor)?;
			}
		}
	}
}

/// Records an action as in flight and hands its batch to the output. A message the output will never accept
/// stops the sink: what was acknowledged before this action is persisted first, so the cursor ends right before
/// the refused block.
async fn send<H, S, O, Ch>(
	ready: Ready<H, <O::Build as Build>::Batch>,
	output: &mut O,
	in_flight: &mut VecDeque<Pending<H>>,
	journal: &mut Journal<H, S>,
	chain: &Ch,
	metrics: Option<&Metrics>,
	progress: &mut Progress,
) -> Result<(), SinkError>
where
	H: Copy + Eq + std::hash::Hash + std::fmt::Debug,
	S: StateStore<H>,
	O: Output,
	Ch: ChainView<Hash = H>,
{
	let Ready { info, batch, effect } = ready;
	if info.is_ship && faults::at("worker-panic", info.number) {
		panic!("test fault worker-panic@{} (HERALD_TEST_FAULTS)", info.number);
	}
	let seq = info.seq;
	let events = <O::Build as Build>::events(&batch);
	let messages = <O::Build as Build>::messages(&batch);
	in_flight.push_back(Pending { info: info.clone(), effect, events, messages, acknowledged: false, failure: None });
	match output.send(info, batch).await {
		Err(error @ SinkError::Rejected { .. }) => {
			let deadline = tokio::time::Instant::now() + DRAIN_BEFORE_STOP;
			loop {
				complete_acknowledged(in_flight, journal, metrics, progress, seq);
				if !in_flight.front().is_some_and(|front| front.info.seq < seq && front.failure.is_none()) {
					break;
				}
				match tokio::time::timeout_at(deadline, output.acknowledgements()).await {
					Ok(Ok(acks)) => record(in_flight, acks),
					_ => break,
				}
			}
			if let Some(cursor) = journal.persist_now()? {
				report_cursor(metrics, chain, cursor)?;
			}
			Err(error)
		}
		other => other,
	}
}

/// Marks the actions the output reported on.
fn record<H>(in_flight: &mut VecDeque<Pending<H>>, acks: Vec<Ack>) {
	for ack in acks {
		let seq = match &ack {
			Ack::Done(seq) | Ack::Failed { seq, .. } => *seq,
		};
		let Ok(index) = in_flight.binary_search_by_key(&seq, |pending| pending.info.seq) else { continue };
		match ack {
			Ack::Done(_) => in_flight[index].acknowledged = true,
			Ack::Failed { id, reason, permanent, .. } => {
				in_flight[index].failure.get_or_insert((id, reason, permanent));
			}
		}
	}
}

/// Completes the leading actions (before action `before`) that were acknowledged in full, in order. Stops at the
/// first one still waiting or failed.
fn complete_acknowledged<H, S>(
	in_flight: &mut VecDeque<Pending<H>>,
	journal: &mut Journal<H, S>,
	metrics: Option<&Metrics>,
	progress: &mut Progress,
	before: u64,
) where
	H: Copy + Eq + std::hash::Hash + std::fmt::Debug,
	S: StateStore<H>,
{
	while in_flight.front().is_some_and(|f| f.acknowledged && f.failure.is_none() && f.info.seq < before) {
		let done = in_flight.pop_front().expect("front exists");
		if done.info.is_ship {
			progress.shipped(done.info.number, done.events);
			if let Some(metrics) = metrics {
				metrics.last_shipped_block.set(done.info.number);
			}
		}
		journal.complete(done.effect);
	}
}

/// An action's batch and what completing it changes; `built` is a ship's batch. A not-final ship or a retraction
/// adds its journal change to the write-ahead.
fn prepare<H, S, B>(
	action: Action<H>,
	built: Option<Built<B::Batch>>,
	seq: u64,
	chain: &str,
	journal: &mut Journal<H, S>,
	build: &B,
) -> Result<Ready<H, B::Batch>, SinkError>
where
	H: AsRef<[u8]> + Copy + Eq + std::hash::Hash + std::fmt::Debug,
	S: StateStore<H>,
	B: Build,
{
	let info = |number: u64, hash: &H, is_ship: bool| ActionInfo {
		seq,
		what: format!("block #{number} ({})", hex0x(hash)),
		number,
		is_ship,
	};
	match action {
		Action::Ship { block, finalized } => {
			let Built { batch, spec_version, timestamp } = built.expect("a ship's block is built");
			let info = info(block.number, &block.hash, true);
			if finalized {
				return Ok(Ready { info, batch, effect: Effect::ShippedFinal(block.id()) });
			}
			let placements = build.placements(block.hash.as_ref(), &batch);
			let effect = journal.shipping(seq, block, spec_version, timestamp, placements);
			Ok(Ready { info, batch, effect })
		}
		Action::Retract(block) => {
			let info = info(block.number, &block.hash, false);
			let (entry, effect) = journal.retracting(seq, &block)?;
			log::info!(target: LOG_TARGET, "retracting {}: it left the best chain", info.what);
			let batch = build.retracted(&entry_context(chain, &entry, false), &entry.placements);
			Ok(Ready { info, batch, effect })
		}
		Action::Finalize(block) => {
			let info = info(block.number, &block.hash, false);
			let (entry, effect) = journal.finalizing(&block)?;
			let batch = build.finalized(&entry_context(chain, &entry, true));
			Ok(Ready { info, batch, effect })
		}
	}
}

/// Status and metrics after a round.
fn report<H, S, Ch>(
	journal: &Journal<H, S>,
	in_flight: &VecDeque<Pending<H>>,
	chain: &Ch,
	config: &SinkConfig,
	metrics: Option<&Metrics>,
	progress: &mut Progress,
	status: &StatusHandle,
) -> Result<(), SinkError>
where
	H: AsRef<[u8]> + Copy + Eq + std::hash::Hash + std::fmt::Debug,
	S: StateStore<H>,
	Ch: ChainView<Hash = H>,
{
	let heads = chain.heads()?;
	let target = match config.follow {
		Follow::Finalized => heads.finalized.number,
		Follow::Best => heads.best.number,
	};
	progress.tick(target, journal.len(), config.max_unfinalized_blocks as usize);
	let last_shipped = progress.last_shipped();
	let cursor = journal.cursor();
	let shipped = cursor.map_or(0, |c| c.number + 1);
	status.update(|s| {
		s.cursor = cursor.map(|c| BlockRef { number: c.number, hash: hex0x(c.hash) });
		s.last_shipped = last_shipped;
		s.journal_blocks = journal.len() as u64;
		s.journal_full = journal.stalled();
		s.finalized_lag_blocks = (heads.finalized.number + 1).saturating_sub(shipped);
		s.best_lag_blocks = heads.best.number.saturating_sub(last_shipped.unwrap_or(0));
	});
	if let Some(metrics) = metrics {
		metrics.read_ahead_blocks.set(in_flight.iter().filter(|p| p.info.is_ship).count() as u64);
		metrics.journal_blocks.set(journal.len() as u64);
		metrics.journal_full.set(journal.stalled() as u64);
		metrics.finalized_lag_blocks.set((heads.finalized.number + 1).saturating_sub(shipped));
		let last_shipped = metrics.last_shipped_block.get();
		metrics.best_lag_blocks.set(heads.best.number.saturating_sub(last_shipped));
	}
	Ok(())
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

/// The wall clock in milliseconds since 1970 (0 if the clock is before it): the floor of a run epoch.
fn unix_millis() -> u64 {
	std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_millis() as u64)
}
