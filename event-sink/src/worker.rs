//! The shipping loop: reads finalized blocks in order from a [`BlockSource`], hands their messages to Kafka
//! with a bounded read-ahead, and moves the cursor only over blocks whose every message was acknowledged.
//!
//! Import never waits on this loop: it only learns the finalized head from a watch channel and reads blocks
//! from the database at its own pace. When Kafka is slow or down, the read-ahead fills up, the loop waits, and
//! later catches up from the database.

use std::{
	collections::BTreeMap,
	time::{Duration, Instant},
};

use tokio::sync::watch;

use crate::{
	config::SinkConfig,
	cursor::Cursor,
	error::SinkError,
	metrics::Metrics,
	producer::{ensure_topics, Delivery, KafkaProducer},
	source::{BlockSource, ShippableBlock},
};

const LOG_TARGET: &str = "herald::kafka";

/// Longest pause between two restarts after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// A block handed to the producer and not yet fully acknowledged.
struct InFlight<Hash> {
	hash: Hash,
	unacked: usize,
	failure: Option<String>,
	sent_at: Instant,
}

/// Runs the sink until a fatal error (or, with `config.required`, any error). Failures that a restart can cure
/// are logged, counted, and retried from the cursor with exponential backoff.
pub async fn run<S: BlockSource>(
	mut source: S,
	config: SinkConfig,
	metrics: Option<Metrics>,
	mut finalized: watch::Receiver<u64>,
) -> SinkError {
	let mut backoff = Duration::from_secs(1);
	loop {
		let started = Instant::now();
		let error = ship(&mut source, &config, metrics.as_ref(), &mut finalized).await;
		if error.is_fatal() || config.required {
			return error;
		}
		if let Some(metrics) = &metrics {
			metrics.restarts.inc();
		}
		// A run that lasted a while was healthy: start the backoff over.
		if started.elapsed() > MAX_BACKOFF {
			backoff = Duration::from_secs(1);
		}
		log::error!(target: LOG_TARGET, "event sink failed: {error}; restarting from the cursor in {backoff:?}");
		tokio::time::sleep(backoff).await;
		backoff = (backoff * 2).min(MAX_BACKOFF);
	}
}

/// One run: from the cursor on, until an error.
async fn ship<S: BlockSource>(
	source: &mut S,
	config: &SinkConfig,
	metrics: Option<&Metrics>,
	finalized: &mut watch::Receiver<u64>,
) -> SinkError {
	match ship_inner(source, config, metrics, finalized).await {
		Ok(never) => match never {},
		Err(error) => error,
	}
}

async fn ship_inner<S: BlockSource>(
	source: &mut S,
	config: &SinkConfig,
	metrics: Option<&Metrics>,
	finalized: &mut watch::Receiver<u64>,
) -> Result<std::convert::Infallible, SinkError> {
	let mut next = source.first_block_to_ship(config.start_from)?;
	log::info!(target: LOG_TARGET, "event sink starts at block #{next}, brokers {}", config.brokers);

	ensure_topics(config, &crate::assemble::topics(config)).await?;
	let (producer, mut deliveries) = KafkaProducer::new(config, metrics.cloned())?;

	let mut in_flight: BTreeMap<u64, InFlight<S::Hash>> = BTreeMap::new();
	let read_ahead = config.read_ahead_blocks.max(1) as usize;
	loop {
		// Read ahead, in order, as far as the bound and the finalized head allow.
		let head = (*finalized.borrow_and_update()).max(source.finalized_number());
		while in_flight.len() < read_ahead && next <= head {
			let ShippableBlock { hash, messages, .. } = source.read_block(next)?;
			let unacked = messages.len();
			in_flight.insert(next, InFlight { hash, unacked, failure: None, sent_at: Instant::now() });
			for (message, is_event) in messages {
				producer.send(next, message, is_event).await?;
			}
			next += 1;
		}
		if let Some(metrics) = metrics {
			metrics.read_ahead_blocks.set(in_flight.len() as u64);
			// Finalized blocks from the first one not yet acknowledged up to the head.
			let first_unacked = in_flight.keys().next().copied().unwrap_or(next);
			metrics.finalized_lag_blocks.set((head + 1).saturating_sub(first_unacked));
		}

		// Wait for acknowledgements, a new finalized head, or a tick (metrics, stale heads).
		tokio::select! {
			delivery = deliveries.recv() => {
				let delivery = delivery.ok_or_else(|| SinkError::kafka("the producer stopped reporting deliveries"))?;
				record(&mut in_flight, delivery);
				while let Ok(delivery) = deliveries.try_recv() {
					record(&mut in_flight, delivery);
				}
			},
			_ = finalized.changed() => {},
			_ = tokio::time::sleep(Duration::from_secs(1)) => {},
		}

		advance_cursor(source, &mut in_flight, metrics)?;
		if let Some(metrics) = metrics {
			metrics.read_ahead_blocks.set(in_flight.len() as u64);
		}
	}
}

fn record<Hash>(in_flight: &mut BTreeMap<u64, InFlight<Hash>>, delivery: Delivery) {
	if let Some(block) = in_flight.get_mut(&delivery.block) {
		block.unacked = block.unacked.saturating_sub(1);
		if let Err(error) = delivery.result {
			block.failure.get_or_insert(error);
		}
	}
}

/// Moves the cursor over the leading blocks whose every message was acknowledged, and stores it once.
fn advance_cursor<S: BlockSource>(
	source: &mut S,
	in_flight: &mut BTreeMap<u64, InFlight<S::Hash>>,
	metrics: Option<&Metrics>,
) -> Result<(), SinkError> {
	let mut cursor = None;
	while let Some(entry) = in_flight.first_entry() {
		let block = entry.get();
		if let Some(failure) = &block.failure {
			// Blocks after this one may be acknowledged already; they are shipped again after the restart.
			return Err(SinkError::Kafka(format!(
				"Kafka did not acknowledge a message of block #{}: {failure}",
				entry.key()
			)));
		}
		if block.unacked > 0 {
			break;
		}
		let (number, block) = entry.remove_entry();
		if let Some(metrics) = metrics {
			metrics.delivery_latency.observe(block.sent_at.elapsed().as_secs_f64());
		}
		cursor = Some(Cursor { number, hash: block.hash });
	}
	if let Some(cursor) = cursor {
		source.store_cursor(&cursor)?;
		if let Some(metrics) = metrics {
			metrics.last_acked_block.set(cursor.number);
		}
	}
	Ok(())
}
