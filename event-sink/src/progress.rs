//! What the sink says in the log about its progress, in the style of Substrate's informant: every 5 s under the
//! target `herald`, a line while catching up (rates, position against the target, journal, ETA), one line when it
//! has caught up, then a short live form; and a "resumed" line that answers every stall or backoff error.

use std::time::{Duration, Instant};

const TARGET: &str = "herald";
/// How often a progress line is written.
pub const INTERVAL: Duration = Duration::from_secs(5);
/// Blocks behind the target below which the sink counts as caught up (a block or two is always in flight).
const CAUGHT_UP_WITHIN: u64 = 2;

/// Counters and positions kept between two lines (and across the sink's restarts).
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
	blocks: u64,
	events: u64,
}

/// The informant's memory.
pub struct Progress {
	follows: &'static str,
	last_line: Instant,
	counted: Counts,
	at_last_line: Counts,
	/// The last block shipped whose every message Kafka acknowledged.
	acked: Option<u64>,
	caught_up: bool,
	/// Since when shipping has been interrupted (an error, a backoff, a full journal), and why.
	interrupted: Option<(Instant, String)>,
}

impl Progress {
	/// `follows`: `finalized` or `best`, the chain whose head is the target.
	pub fn new(follows: &'static str) -> Self {
		Self {
			follows,
			last_line: Instant::now(),
			counted: Counts::default(),
			at_last_line: Counts::default(),
			acked: None,
			caught_up: false,
			interrupted: None,
		}
	}

	/// Shipping stopped for `why` (already logged as an ERROR by the caller): the next acknowledged block says it
	/// resumed.
	pub fn interrupted(&mut self, why: impl Into<String>) {
		if self.interrupted.is_none() {
			self.interrupted = Some((Instant::now(), why.into()));
		}
	}

	/// Kafka acknowledged every message of shipped block `number` (with `events` runtime events).
	pub fn shipped(&mut self, number: u64, events: u64) {
		self.counted.blocks += 1;
		self.counted.events += events;
		self.acked = Some(number);
		if let Some((since, why)) = self.interrupted.take() {
			log::info!(
				target: TARGET,
				"✅ event sink resumed: shipping again after {} (it had stopped: {why}); block #{number} acknowledged",
				format_duration(since.elapsed()),
			);
		}
	}

	/// The last block shipped whose every message Kafka acknowledged, since the node started.
	pub fn last_shipped(&self) -> Option<u64> {
		self.acked
	}

	/// Called on every turn of the shipping loop with the head the sink follows and its journal; writes a line
	/// every [`INTERVAL`].
	pub fn tick(&mut self, target: u64, journal: usize, journal_capacity: usize) {
		let behind = target.saturating_sub(self.acked.unwrap_or(0));
		if !self.caught_up && behind <= CAUGHT_UP_WITHIN && self.acked.is_some() && self.interrupted.is_none() {
			self.caught_up = true;
			log::info!(
				target: TARGET,
				"✅ event sink caught up with the {} chain at {} ({} blocks, {} events shipped since the node started)",
				self.follows,
				block(self.acked),
				self.counted.blocks,
				self.counted.events
			);
		}
		let elapsed = self.last_line.elapsed();
		if elapsed < INTERVAL {
			return;
		}
		let seconds = elapsed.as_secs_f64();
		let blocks_per_s = self.counted.blocks.saturating_sub(self.at_last_line.blocks) as f64 / seconds;
		let events_per_s = self.counted.events.saturating_sub(self.at_last_line.events) as f64 / seconds;
		let journal =
			if self.follows == "best" { format!(", journal {journal}/{journal_capacity}") } else { String::new() };
		if behind > CAUGHT_UP_WITHIN {
			self.caught_up = false;
			let eta = if blocks_per_s > 0.0 {
				format_duration(Duration::from_secs_f64(behind as f64 / blocks_per_s))
			} else {
				"unknown (nothing acknowledged in the last interval)".into()
			};
			log::info!(
				target: TARGET,
				"⏩ event sink catching up: {} of #{target} ({} head), {behind} blocks behind, {blocks_per_s:.1} \
				 blocks/s, {events_per_s:.0} events/s{journal}, ETA {eta}",
				block(self.acked),
				self.follows,
			);
		} else {
			log::info!(
				target: TARGET,
				"💤 event sink live: {} ({} head #{target}), {blocks_per_s:.1} blocks/s, {events_per_s:.1} \
				 events/s{journal}",
				block(self.acked),
				self.follows,
			);
		}
		self.at_last_line = self.counted;
		self.last_line = Instant::now();
	}
}

fn block(number: Option<u64>) -> String {
	number.map_or_else(|| "no block yet".into(), |n| format!("#{n}"))
}

/// `1h02m`, `3m12s`, `42s`.
pub fn format_duration(duration: Duration) -> String {
	let seconds = duration.as_secs();
	match seconds {
		0..=59 => format!("{seconds}s"),
		60..=3599 => format!("{}m{:02}s", seconds / 60, seconds % 60),
		_ => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn durations_read_like_an_informant() {
		assert_eq!(format_duration(Duration::from_secs(42)), "42s");
		assert_eq!(format_duration(Duration::from_secs(192)), "3m12s");
		assert_eq!(format_duration(Duration::from_secs(3720)), "1h02m");
	}
}
