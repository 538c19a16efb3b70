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

use crate::{block::reader::ReadBlock, error::SinkError};

/// A block read from the database whose messages are still to be made: a job for the pool.
pub struct LoadedBlock(Box<dyn FnOnce() -> ReadBlock + Send>);

impl LoadedBlock {
	/// A block whose messages `encode` makes.
	pub fn new(encode: impl FnOnce() -> ReadBlock + Send + 'static) -> LoadedBlock {
		LoadedBlock(Box::new(encode))
	}

	/// A block whose messages are made already.
	pub fn ready(read: ReadBlock) -> LoadedBlock {
		LoadedBlock::new(move || read)
	}

	fn encode(self) -> ReadBlock {
		(self.0)()
	}
}

type Job = (LoadedBlock, oneshot::Sender<Timed>);

/// A job's result and how long it took to run.
type Timed = (Result<ReadBlock, SinkError>, std::time::Duration);

/// The pool. Dropping it ends its threads once they finish their current job.
pub struct EncodePool {
	/// `None` for a pool of one thread: the jobs then run right away, on the caller's thread.
	jobs: Option<mpsc::Sender<Job>>,
}

/// The result of one job, in the order the jobs were submitted when awaited in that order.
pub type Encoded = oneshot::Receiver<Timed>;

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
						// The lock is held only to take a job, never while encoding one.
						let job = receiver.lock().map_err(|_| ()).and_then(|jobs| jobs.recv().map_err(|_| ()));
						let Ok((block, result)) = job else { return };
						let _ = result.send(encode(block));
					}
				})
				.map_err(|e| SinkError::Encode(format!("cannot start an encoding thread: {e}")))?;
		}
		Ok(EncodePool { jobs: Some(sender) })
	}

	/// Hands `block` to the pool; await the result.
	pub fn submit(&self, block: LoadedBlock) -> Encoded {
		let (result, receiver) = oneshot::channel();
		match &self.jobs {
			Some(jobs) => {
				if let Err(mpsc::SendError((block, result))) = jobs.send((block, result)) {
					// Every thread is gone (only a bug could do that): encode here rather than lose the block.
					let _ = result.send(encode(block));
				}
			}
			None => {
				let _ = result.send(encode(block));
			}
		}
		receiver
	}

	/// The result of a submitted job.
	pub async fn result(encoded: Encoded) -> Result<ReadBlock, SinkError> {
		Self::timed_result(encoded).await.map(|(read, _)| read)
	}

	/// The result of a submitted job and how long making its messages took.
	pub async fn timed_result(encoded: Encoded) -> Result<(ReadBlock, std::time::Duration), SinkError> {
		let (result, took) = encoded
			.await
			.unwrap_or_else(|_| (Err(SinkError::Encode("an encoding thread stopped".into())), Default::default()));
		result.map(|read| (read, took))
	}
}

/// Runs one job; a panic (a bug) becomes an error, and the thread lives on.
fn encode(block: LoadedBlock) -> Timed {
	let started = std::time::Instant::now();
	// On the caller's thread (a pool of one) the shipping loop's guard is in force; on the pool's, the thread's.
	let result = catch_unwind(AssertUnwindSafe(|| block.encode()))
		.map_err(|panic| crate::panic::error("making a block's messages", &*panic));
	(result, started.elapsed())
}

#[cfg(test)]
mod tests {
	use super::*;

	fn block(n: u32) -> LoadedBlock {
		LoadedBlock::new(move || {
			// Later blocks finish first: the order comes from the awaiting, not from the threads.
			std::thread::sleep(std::time::Duration::from_millis(u64::from(20 - n)));
			ReadBlock { messages: Vec::new(), spec_version: n, timestamp: None }
		})
	}

	#[tokio::test]
	async fn results_come_back_in_submission_order() {
		for threads in [1, 2, 4] {
			let pool = EncodePool::new(threads).unwrap();
			let pending: Vec<_> = (0..20).map(|n| pool.submit(block(n))).collect();
			let mut order = Vec::new();
			for encoded in pending {
				order.push(EncodePool::result(encoded).await.unwrap().spec_version);
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
		assert_eq!(EncodePool::result(pool.submit(block(3))).await.unwrap().spec_version, 3);
	}
}
