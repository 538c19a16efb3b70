//! A small, bounded pool of threads that turn loaded blocks into messages (decoding the events, writing the
//! envelopes): the CPU-heavy part of shipping, in parallel during a catch-up. The shipping loop reads the
//! blocks from the database in chain order, hands them to the pool, and awaits the results in the order it
//! handed them over, so the producer still sees every message in chain order.
//!
//! The threads are created by the sink's thread and inherit its lowered priority: catching up never takes the
//! CPU from block import or consensus. The pool's work is bounded by the read-ahead (no more blocks are loaded
//! than the loop may have in flight).

use std::{
	panic::{catch_unwind, AssertUnwindSafe},
	sync::{mpsc, Arc, Mutex},
	thread,
};

use tokio::sync::oneshot;

use crate::{error::SinkError, stream::CommittedBlock};

/// A block read from the database whose envelopes are still to be written: a job for the pool.
pub struct LoadedBlock(Box<dyn FnOnce() -> CommittedBlock + Send>);

impl LoadedBlock {
	/// A block whose envelopes `encode` writes.
	pub fn new(encode: impl FnOnce() -> CommittedBlock + Send + 'static) -> LoadedBlock {
		LoadedBlock(Box::new(encode))
	}

	/// A block whose envelopes are written already.
	pub fn ready(block: CommittedBlock) -> LoadedBlock {
		LoadedBlock::new(move || block)
	}

	/// Decodes the events and writes the envelopes, here.
	pub fn encode(self) -> CommittedBlock {
		(self.0)()
	}
}

type Job = Box<dyn FnOnce() + Send>;

/// A job's result and how long it took to run.
type Timed<T> = (Result<T, SinkError>, std::time::Duration);

/// The pool. Dropping it ends its threads once they finish their current job.
pub struct EncodePool {
	/// `None` for a pool of one thread: the jobs then run right away, on the caller's thread.
	jobs: Option<mpsc::Sender<Job>>,
}

/// The result of one job, in the order the jobs were submitted when awaited in that order.
pub type Encoded<T = CommittedBlock> = oneshot::Receiver<Timed<T>>;

impl EncodePool {
	/// A pool of `threads` threads (at least one).
	pub fn new(threads: usize) -> Result<EncodePool, SinkError> {
		if threads <= 1 {
			return Ok(EncodePool { jobs: None });
		}
		let (sender, receiver) = mpsc::channel::<Job>();
		let receiver = Arc::new(Mutex::new(receiver));
		for n in 0..threads {
			let receiver = receiver.clone();
			thread::Builder::new()
				.name(format!("herald-encode-{n}"))
				.spawn(move || {
					// Inside a node, a panic would otherwise end the process before `catch_unwind` sees it.
					let _unwind = sp_panic_handler::AbortGuard::force_unwind();
					loop {
						// The lock is held only to take a job, never while running one.
						let job = receiver.lock().map_err(|_| ()).and_then(|jobs| jobs.recv().map_err(|_| ()));
						let Ok(job) = job else { return };
						job();
					}
				})
				.map_err(|e| SinkError::Encode(format!("cannot start an encoding thread: {e}")))?;
		}
		Ok(EncodePool { jobs: Some(sender) })
	}

	/// Hands `block` to the pool; await the result.
	pub fn submit(&self, block: LoadedBlock) -> Encoded {
		self.run(move || block.encode())
	}

	/// Runs `job` on the pool (a panic in it becomes an error); await the result.
	pub fn run<T: Send + 'static>(&self, job: impl FnOnce() -> T + Send + 'static) -> Encoded<T> {
		let (result, receiver) = oneshot::channel();
		let job: Job = Box::new(move || {
			let _ = result.send(timed(job));
		});
		match &self.jobs {
			Some(jobs) => {
				if let Err(mpsc::SendError(job)) = jobs.send(job) {
					// Every thread is gone (only a bug could do that): run it here rather than lose the block.
					job();
				}
			}
			None => job(),
		}
		receiver
	}

	/// The result of a submitted job.
	pub async fn result<T>(encoded: Encoded<T>) -> Result<T, SinkError> {
		Self::timed_result(encoded).await.map(|(read, _)| read)
	}

	/// The result of a submitted job and how long it took.
	pub async fn timed_result<T>(encoded: Encoded<T>) -> Result<(T, std::time::Duration), SinkError> {
		let (result, took) = encoded
			.await
			.unwrap_or_else(|_| (Err(SinkError::Encode("an encoding thread stopped".into())), Default::default()));
		result.map(|read| (read, took))
	}
}

/// Runs one job; a panic (a bug) becomes an error, and the thread lives on.
fn timed<T>(job: impl FnOnce() -> T) -> Timed<T> {
	let started = std::time::Instant::now();
	// On the caller's thread (a pool of one) the shipping loop's guard is in force; on the pool's, the thread's.
	let result =
		catch_unwind(AssertUnwindSafe(job)).map_err(|panic| crate::panic::error("making a block's messages", &*panic));
	(result, started.elapsed())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn block(n: u32) -> LoadedBlock {
		LoadedBlock::new(move || {
			// Later blocks finish first: the order comes from the awaiting, not from the threads.
			std::thread::sleep(std::time::Duration::from_millis(u64::from(20 - n)));
			CommittedBlock {
				context: crate::envelope::BlockContext {
					chain: String::new(),
					number: 0,
					hash: String::new(),
					parent_hash: String::new(),
					spec_version: n,
					timestamp: None,
					finalized: false,
				},
				block_hash: "".into(),
				envelopes: Vec::new(),
			}
		})
	}

	#[tokio::test]
	async fn results_come_back_in_submission_order() {
		for threads in [1, 2, 4] {
			let pool = EncodePool::new(threads).unwrap();
			let pending: Vec<_> = (0..20).map(|n| pool.submit(block(n))).collect();
			let mut order = Vec::new();
			for encoded in pending {
				order.push(EncodePool::result(encoded).await.unwrap().context.spec_version);
			}
			assert_eq!(order, (0..20).collect::<Vec<_>>(), "{threads} threads");
		}
	}

	#[tokio::test]
	async fn a_panicking_job_is_an_error_and_the_pool_goes_on() {
		let pool = EncodePool::new(2).unwrap();
		let failed = pool.submit(LoadedBlock::new(|| panic!("broken block")));
		let error = EncodePool::result(failed).await.err().expect("an error");
		assert!(error.to_string().contains("broken block"), "{error}");
		assert_eq!(EncodePool::result(pool.submit(block(3))).await.unwrap().context.spec_version, 3);
	}
}
