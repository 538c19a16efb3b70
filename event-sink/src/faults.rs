//! Faults injected by tests into a real node, to prove what holds when they happen. Off unless the environment
//! variable `HERALD_TEST_FAULTS` is set (read once): a comma-separated list of `point@block`, e.g.
//! `encode-panic@5,kill-after-ack@7`. Never set it in production.
//!
//! Points:
//! - `encode-panic@N`: making block #N's messages panics (on an encode pool thread);
//! - `worker-panic@N`: the shipping loop panics (on the sink's own thread) when it is about to produce block #N;
//! - `kill-after-ack@N`: the process is killed (SIGKILL) as soon as Kafka acknowledged one of block #N's
//!   messages, before the sink recorded anything about it: only the write-ahead journal knows the block then;
//! - `kill-after-intent@N` (high-availability groups): killed once the group's state topic acknowledged the intent
//!   to ship block #N, before any of its messages is produced;
//! - `kill-after-retract-intent@N` (groups): killed once the state topic acknowledged the intent to retract block
//!   #N, before its `BlockRetracted` is produced;
//! - `kill-in-takeover@E` (groups): killed right after this node wrote its takeover as epoch E, before its
//!   markers.

use std::sync::OnceLock;

fn faults() -> &'static [(String, u64)] {
	static FAULTS: OnceLock<Vec<(String, u64)>> = OnceLock::new();
	FAULTS.get_or_init(|| {
		let Ok(spec) = std::env::var("HERALD_TEST_FAULTS") else { return Vec::new() };
		let faults: Vec<(String, u64)> = spec
			.split(',')
			.filter(|s| !s.trim().is_empty())
			.filter_map(|item| {
				let (point, block) = item.trim().split_once('@')?;
				Some((point.to_string(), block.parse().ok()?))
			})
			.collect();
		log::warn!(target: "herald::kafka", "test faults injected (HERALD_TEST_FAULTS): {faults:?}");
		faults
	})
}

/// Whether the fault `point` is set for block `number`.
pub fn at(point: &str, number: u64) -> bool {
	let faults = faults();
	!faults.is_empty() && faults.iter().any(|(p, n)| p == point && *n == number)
}

/// Kills this process at once, as `kill -9` would: no destructor, no flush.
pub fn kill_now() -> ! {
	#[cfg(unix)]
	// SAFETY: sends a signal to this very process.
	unsafe {
		libc::kill(libc::getpid(), libc::SIGKILL);
	}
	std::process::abort()
}
