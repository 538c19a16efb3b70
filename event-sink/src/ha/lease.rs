//! The group's lease: membership of a Kafka consumer group on a one-partition topic (`<prefix>.sink-lease`). The
//! member the group assigns that partition holds the lease; every other member waits.
//!
//! Kafka's group protocol decides who holds the partition, but librdkafka revokes it locally only after its own
//! session timeout, later than the broker: two members can believe they hold it for a while. So the lease is
//! checked at the broker before every write of the group's state ([`Lease::check`]: a synchronous `OffsetCommit`,
//! which the broker refuses to a member of an older generation), and what still slips through is fenced by epochs
//! in the log ([`super::state`]).

use std::{
	sync::{
		atomic::{AtomicBool, AtomicU64, Ordering},
		Arc, Mutex,
	},
	thread::JoinHandle,
	time::{Duration, Instant},
};

use rdkafka::{
	config::ClientConfig,
	consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance},
	ClientContext, Offset, TopicPartitionList,
};
use tokio::sync::watch;

const LOG_TARGET: &str = "herald::ha";

/// How often the holder confirms its lease at the broker while it is idle.
const RENEW_EVERY: Duration = Duration::from_secs(1);

/// Logs the group's rebalances (who holds the lease is read from the consumer's assignment).
struct LeaseContext;

impl ClientContext for LeaseContext {}

impl ConsumerContext for LeaseContext {
	fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
		if let Rebalance::Error(error) = rebalance {
			log::warn!(target: LOG_TARGET, "the lease's group rebalance failed: {error}");
		}
	}
}

/// What the lease thread shares with the sink.
struct Shared {
	consumer: BaseConsumer<LeaseContext>,
	lease_topic: String,
	/// The group's state topic: the lease check commits its snapshot offset there.
	state_topic: String,
	/// The offset the group's state is read from (the last snapshot); what every check commits. `None` until this
	/// term's takeover set it: a check then commits the offset the group already has, never an older one.
	snapshot_offset: Mutex<Option<i64>>,
	/// When the broker last confirmed the lease.
	renewed: Mutex<Option<Instant>>,
	/// Counts the times this member came to hold the lease: a term that changed means someone else may have led
	/// in between, even if the lease is held again now.
	term: AtomicU64,
	stop: AtomicBool,
}

impl Shared {
	fn check(&self) -> Result<(), String> {
		if !self.assigned() {
			return Err("the group assigned the lease to another member".into());
		}
		let offset = match *self.snapshot_offset.lock().expect("never poisoned") {
			Some(offset) => offset,
			None => self.committed_offset()?,
		};
		let mut list = TopicPartitionList::new();
		list.add_partition_offset(&self.state_topic, 0, Offset::Offset(offset.max(0)))
			.map_err(|e| format!("the lease check's offset list: {e}"))?;
		self.consumer
			.commit(&list, CommitMode::Sync)
			.map_err(|e| format!("the broker no longer counts this node as the group's lease holder ({e})"))?;
		// A rebalance while the commit was in flight may have moved the lease: the commit proves nothing then.
		if !self.assigned() {
			return Err("the group assigned the lease to another member".into());
		}
		*self.renewed.lock().expect("never poisoned") = Some(Instant::now());
		Ok(())
	}

	/// Whether the group assigns this member the lease's partition now.
	fn assigned(&self) -> bool {
		!self.consumer.assignment_lost()
			&& self
				.consumer
				.assignment()
				.is_ok_and(|list| list.elements_for_topic(&self.lease_topic).iter().any(|p| p.partition() == 0))
	}

	/// The group's committed offset on the state topic (where reading starts), 0 if it has none.
	fn committed_offset(&self) -> Result<i64, String> {
		let mut wanted = TopicPartitionList::new();
		wanted.add_partition(&self.state_topic, 0);
		let list = self
			.consumer
			.committed_offsets(wanted, Duration::from_secs(10))
			.map_err(|e| format!("cannot read the group's position in {}: {e}", self.state_topic))?;
		Ok(match list.find_partition(&self.state_topic, 0).map(|p| p.offset()) {
			Some(Offset::Offset(offset)) => offset,
			_ => 0,
		})
	}
}

/// This node's membership of the group. Dropping it leaves the group (so a standby takes over at once).
pub struct Lease {
	shared: Arc<Shared>,
	held: watch::Receiver<bool>,
	thread: Option<JoinHandle<()>>,
}

impl Lease {
	/// Joins the group `group_id` on `lease_topic`, with librdkafka's `session_timeout`. `client` carries the
	/// brokers and the operator's security properties.
	pub fn join(
		mut client: ClientConfig,
		group_id: &str,
		lease_topic: &str,
		state_topic: &str,
		member: &str,
		session_timeout: Duration,
	) -> Result<Lease, String> {
		let session_ms = session_timeout.as_millis().max(1000);
		client
			.set("group.id", group_id)
			.set("client.id", format!("herald-node-lease-{member}"))
			.set("enable.auto.commit", "false")
			.set("enable.auto.offset.store", "false")
			.set("auto.offset.reset", "latest")
			// Sticky: a member that joins (a restarted node) never takes the lease from the one holding it.
			.set("partition.assignment.strategy", "cooperative-sticky")
			.set("session.timeout.ms", session_ms.to_string())
			.set("heartbeat.interval.ms", (session_ms / 3).max(100).to_string())
			.set("max.poll.interval.ms", (session_ms * 2).max(10_000).to_string());
		let consumer: BaseConsumer<LeaseContext> =
			client.create_with_context(LeaseContext).map_err(|e| format!("cannot create the lease's consumer: {e}"))?;
		consumer.subscribe(&[lease_topic]).map_err(|e| format!("cannot join the lease's group: {e}"))?;
		let shared = Arc::new(Shared {
			consumer,
			lease_topic: lease_topic.to_string(),
			state_topic: state_topic.to_string(),
			snapshot_offset: Mutex::new(None),
			renewed: Mutex::new(None),
			term: AtomicU64::new(0),
			stop: AtomicBool::new(false),
		});
		let (held_tx, held) = watch::channel(false);
		let polled = shared.clone();
		let thread = std::thread::Builder::new()
			.name("herald-ha-lease".into())
			.spawn(move || poll_lease(polled, held_tx))
			.map_err(|e| format!("cannot start the lease's thread: {e}"))?;
		Ok(Lease { shared, held, thread: Some(thread) })
	}

	/// Whether this node holds the lease now (as far as the group protocol and the last check tell).
	pub fn held(&self) -> bool {
		*self.held.borrow()
	}

	/// A receiver of the lease's changes.
	pub fn watch(&self) -> watch::Receiver<bool> {
		self.held.clone()
	}

	/// The current term: it changes each time this member comes to hold the lease.
	pub fn term(&self) -> u64 {
		self.shared.term.load(Ordering::Acquire)
	}

	/// Asks the broker whether this node still holds the lease it held in `term` (a fenced `OffsetCommit`); the
	/// error says why not.
	pub fn check(&self, term: u64) -> Result<(), String> {
		if !self.held() {
			return Err("the group assigned the lease to another member".into());
		}
		if self.term() != term {
			return Err("the lease was lost and taken again since this node took the group over".into());
		}
		self.shared.check()
	}

	/// Where the group's state is read from next time (the last snapshot's offset), committed with every check.
	pub fn set_snapshot_offset(&self, offset: i64) {
		*self.shared.snapshot_offset.lock().expect("never poisoned") = Some(offset);
	}

	/// How long ago the broker last confirmed the lease (`None`: never, or not held).
	pub fn renewed_ago(&self) -> Option<Duration> {
		self.shared.renewed.lock().expect("never poisoned").map(|at| at.elapsed())
	}
}

impl Drop for Lease {
	fn drop(&mut self) {
		self.shared.stop.store(true, Ordering::Release);
		if let Some(thread) = self.thread.take() {
			let _ = thread.join();
		}
	}
}

/// The lease's thread: polls the group (heartbeats and rebalances happen inside `poll`), confirms a held lease at
/// the broker every [`RENEW_EVERY`], and publishes whether it is held.
fn poll_lease(shared: Arc<Shared>, held: watch::Sender<bool>) {
	let mut last_check = Instant::now() - RENEW_EVERY;
	let mut confirmed = false;
	while !shared.stop.load(Ordering::Acquire) {
		// Nobody writes to the lease topic: poll only serves the group's events.
		let _ = shared.consumer.poll(Duration::from_millis(100));
		if !shared.assigned() {
			confirmed = false;
			*shared.renewed.lock().expect("never poisoned") = None;
			// The next term reads where the group is then, not where this node left it.
			*shared.snapshot_offset.lock().expect("never poisoned") = None;
		} else if !confirmed || last_check.elapsed() >= RENEW_EVERY {
			last_check = Instant::now();
			match shared.check() {
				Ok(()) => {
					if !confirmed {
						shared.term.fetch_add(1, Ordering::AcqRel);
					}
					confirmed = true
				}
				Err(error) => {
					if confirmed {
						log::warn!(target: LOG_TARGET, "{error}");
					}
					confirmed = false;
				}
			}
		}
		held.send_if_modified(|now| {
			let changed = *now != confirmed;
			*now = confirmed;
			changed
		});
	}
	// Leave the group at once: the standby is assigned the lease without waiting for the session timeout.
	shared.consumer.unsubscribe();
	let _ = shared.consumer.poll(Duration::from_millis(100));
}
