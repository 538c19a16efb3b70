//! High availability (`--kafka-ha-group NAME`): several nodes of one chain run the sink, exactly one of them ships
//! at a time, and a failover loses no canonical event and leaves no shipped non-canonical event unretracted,
//! without Kafka transactions.
//!
//! - [`lease`]: who is active. A Kafka consumer group on a one-partition topic (`<prefix>.sink-lease`): the member
//!   the group assigns the partition holds the lease, checked at the broker before each write of the state.
//! - [`state`]: where the group is. The cursor and the journal live in a state topic (`<prefix>.sink-state`), not
//!   in one node's files: a block's intent is written (and acknowledged) before any of its messages is produced,
//!   its acknowledgement after. A new leader reads it to its end, writes a `Takeover` with the next epoch, and runs
//!   the ordinary driver over it: journaled blocks off its canonical chain are retracted with the ids the journal
//!   recorded (it may never have seen them), unacknowledged canonical ones are shipped again (same ids), final ones
//!   finalized, and shipping resumes after the cursor.
//! - Fencing: every message carries the leader's epoch (`leader_epoch` header) and a new leader writes a
//!   `LeaderEpoch` marker to every partition before it ships ([`crate::kafka::epoch`]): a consumer discards, per
//!   partition, messages of an epoch older than the newest it saw. What a stale leader still wrote to the state
//!   topic is swept in (the leader reads the topic every few seconds) and reconciled like the rest.
//!
//! [`run`] is the group member's loop: stand by until the lease is held, take over, run the driver until the
//! lease is lost, stand by again.

pub mod lease;
pub mod metrics;
pub mod state;
pub mod topics;

use std::time::Duration;

use codec::{Decode, Encode};
use tokio::sync::watch;

use crate::{
	block::reader::BlockReader,
	config::{LeaderEpoch, SinkConfig},
	error::SinkError,
	follow::ChainView,
	kafka::metrics::Metrics,
	status::StatusHandle,
	worker::{self, Parts},
};

use self::{
	lease::Lease,
	metrics::HaMetrics,
	state::{check_facts, GroupFacts, KafkaStateStore},
	topics::GroupTopics,
};

const LOG_TARGET: &str = "herald::ha";

/// How long a node that can't lead yet (behind the group's cursor) stays out of the group before joining again.
const NOT_READY_PAUSE: Duration = Duration::from_secs(10);

/// A node's part in a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HaSettings {
	/// The group's name (`--kafka-ha-group`).
	pub group: String,
	/// This node's name in the group (`--kafka-ha-member`; the host name and process id by default).
	pub member: String,
	/// The lease group's session timeout: how long a dead leader holds the lease (`--kafka-ha-session-timeout`).
	pub session_timeout: Duration,
	/// A digest of the event mappings, compared with the group's.
	pub mappings_digest: String,
}

/// A short digest of `bytes` (what the nodes of a group compare: their mappings), hex.
pub fn digest(bytes: &[u8]) -> String {
	use sha2::{Digest, Sha256};
	Sha256::digest(bytes)[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs a member of the group until a fatal error: stands by, takes over when the lease comes, ships as the
/// driver does while it holds the lease. `parts` makes the chain view and block reader for each term.
pub async fn run<Ch, R, F>(
	mut parts: F,
	config: SinkConfig,
	metrics: Option<Metrics>,
	ha_metrics: Option<HaMetrics>,
	wake: watch::Receiver<u64>,
	status: StatusHandle,
) -> SinkError
where
	R: BlockReader,
	R::Hash: Encode + Decode,
	Ch: ChainView<Hash = R::Hash>,
	F: FnMut() -> (Ch, R),
{
	let Some(settings) = config.ha.clone() else {
		return SinkError::Group("the group's loop runs only with --kafka-ha-group".into());
	};
	let topics = GroupTopics::new(&config, &settings);
	let facts = {
		let (_, reader) = parts();
		GroupFacts {
			genesis: reader.chain().to_string(),
			topic_prefix: config.topic_prefix.clone(),
			topic_partitions: config.topic_partitions,
			follow: config.follow.to_string(),
			mappings: settings.mappings_digest.clone(),
		}
	};
	status.update(|s| s.state = "standby");
	if let Some(m) = &metrics {
		m.standing_by();
	}
	// The topics, then the group's facts, before joining: a node configured otherwise never holds the lease.
	let mut lease: Option<Lease> = None;
	let mut backoff = Duration::from_secs(1);
	loop {
		let current = match lease.take() {
			Some(current) => current,
			None => match join::<R::Hash>(&config, &topics, &settings, &facts).await {
				Ok((joined, epoch)) => {
					log::info!(
						target: LOG_TARGET,
						"joined group {} as {} (lease topic {}, state topic {}, epoch {epoch}); standing by until it \
						 holds the lease",
						settings.group,
						settings.member,
						topics.lease,
						topics.state.topic
					);
					if let Some(m) = &ha_metrics {
						m.epoch.set(epoch);
					}
					backoff = Duration::from_secs(1);
					joined
				}
				Err(error) if error.is_fatal() => return error,
				Err(error) => {
					log::warn!(
						target: LOG_TARGET,
						"cannot join group {}: {error}; retrying in {backoff:?}",
						settings.group
					);
					tokio::time::sleep(backoff).await;
					backoff = (backoff * 2).min(Duration::from_secs(30));
					continue;
				}
			},
		};
		let held_lease = lease.insert(current);
		if let Some(m) = &ha_metrics {
			m.active.set(0);
			m.lease_age.set(0.0);
		}
		// What this node reported as leader is not current: alerts on a sink's own progress leave standbys out.
		if let Some(m) = &metrics {
			m.standing_by();
		}
		status.update(|s| s.state = "standby");
		let mut held = held_lease.watch();
		while !*held.borrow_and_update() {
			if held.changed().await.is_err() {
				return SinkError::Group("the lease's thread stopped".into());
			}
		}
		// The group's cursor is a finalized block in both follow modes (best mode's shipped, not final blocks are
		// in the journal), and the driver refuses a cursor above this node's finalized head.
		let head = match parts().0.heads() {
			Ok(heads) => heads.finalized.number,
			Err(error) => {
				log::warn!(target: LOG_TARGET, "cannot read this node's chain heads: {error}; retrying in 1s");
				tokio::time::sleep(Duration::from_secs(1)).await;
				continue;
			}
		};
		let taken =
			KafkaStateStore::<R::Hash>::take_over(topics.state.clone(), &*held_lease, &settings.member, &facts, head);
		let store = match taken {
			Ok((store, replayed)) => {
				log::info!(
					target: LOG_TARGET,
					"took over group {} as leader epoch {} (from {}; cursor {:?}, {} journal blocks{})",
					settings.group,
					store.epoch(),
					replayed.leader.as_deref().unwrap_or("nobody"),
					replayed.state.cursor.map(|c| c.number),
					replayed.state.journal.len(),
					if replayed.swept > 0 { format!(", {} stale records swept", replayed.swept) } else { String::new() }
				);
				store
			}
			Err(error) if error.is_fatal() => return error,
			Err(SinkError::NotReady(reason)) => {
				// Leave the group, so that a member that can lead gets the lease; join again later.
				log::warn!(target: LOG_TARGET, "not taking group {} over: {reason}", settings.group);
				lease = None;
				tokio::time::sleep(NOT_READY_PAUSE).await;
				continue;
			}
			Err(error) => {
				log::warn!(target: LOG_TARGET, "taking group {} over failed: {error}", settings.group);
				tokio::time::sleep(Duration::from_secs(1)).await;
				continue;
			}
		};
		let epoch = store.epoch();
		let lease_term = store.term();
		if let Some(m) = &ha_metrics {
			m.active.set(1);
			m.epoch.set(epoch);
			m.takeovers.inc();
		}
		let mut term = config.clone();
		term.leader = Some(LeaderEpoch { epoch, group: settings.group.clone(), member: settings.member.clone() });
		// The driver runs until the lease is lost; it is run again (same epoch, the state read again) when a stale
		// leader's records appear in the state topic, so that what it shipped is reconciled at once.
		let mut store = Some(store);
		let mut reconciled: Option<i64> = None;
		loop {
			let store = match store.take() {
				Some(store) => store,
				None => match KafkaStateStore::resume(
					topics.state.clone(),
					&*held_lease,
					&settings.member,
					epoch,
					lease_term,
				) {
					Ok(store) => store,
					Err(error) => {
						log::warn!(target: LOG_TARGET, "group {}: {error}", settings.group);
						break;
					}
				},
			};
			let (chain, reader) = parts();
			let driver = worker::run_with_status(
				Parts { chain, reader, store },
				term.clone(),
				metrics.clone(),
				wake.clone(),
				status.clone(),
			);
			let watch_term = watch_term::<R::Hash>(&mut held, held_lease, lease_term, &topics, reconciled, &ha_metrics);
			tokio::select! {
				error = driver => match error {
					SinkError::LeaseLost(reason) => {
						log::warn!(target: LOG_TARGET, "lost the lease of group {} ({reason})", settings.group);
						break;
					}
					error => {
						// The sink stops for good; the lease goes with this function's `Lease`.
						if let Some(m) = &ha_metrics {
							m.active.set(0);
						}
						return error;
					}
				},
				end = watch_term => match end {
					TermEnd::Lost => {
						log::warn!(
							target: LOG_TARGET,
							"lost the lease of group {}: this node stopped shipping and stands by",
							settings.group
						);
						break;
					}
					TermEnd::Swept(at) => {
						log::warn!(
							target: LOG_TARGET,
							"a stale leader of group {} wrote to the state topic after this node took over: reading \
							 the state again to retract or ship again what it shipped",
							settings.group
						);
						reconciled = Some(at);
					}
				},
			}
		}
	}
}

/// How a leader's term ends, or pauses.
enum TermEnd {
	/// The lease is lost (or was lost and taken again: someone else may have led in between).
	Lost,
	/// A stale leader's record landed in the state topic (at this offset) after the last one reconciled.
	Swept(i64),
}

/// How often a leader reads the state topic for a stale leader's late records.
const SWEEP_EVERY: u32 = 5;

/// Watches a leader's term: the lease (every second, and on every change), and the state topic for what a stale
/// leader wrote after the one at offset `reconciled`.
async fn watch_term<H: Copy + Eq + Decode>(
	held: &mut watch::Receiver<bool>,
	lease: &Lease,
	lease_term: u64,
	topics: &GroupTopics,
	reconciled: Option<i64>,
	ha_metrics: &Option<HaMetrics>,
) -> TermEnd {
	let mut ticks = 0u32;
	loop {
		tokio::select! {
			changed = held.changed() => if changed.is_err() || !*held.borrow_and_update() { return TermEnd::Lost },
			_ = tokio::time::sleep(Duration::from_secs(1)) => {}
		}
		if lease.term() != lease_term {
			return TermEnd::Lost;
		}
		if let (Some(m), Some(age)) = (ha_metrics, lease.renewed_ago()) {
			m.lease_age.set(age.as_secs_f64());
		}
		ticks += 1;
		if ticks % SWEEP_EVERY == 0 {
			// Read from the last snapshot: in a healthy group, a few records.
			match topics.state.read::<H>() {
				Ok((replayed, _)) if replayed.swept_at > reconciled => {
					return TermEnd::Swept(replayed.swept_at.unwrap_or_default())
				}
				Ok(_) => {}
				Err(error) => log::warn!(target: LOG_TARGET, "cannot read the group's state topic: {error}"),
			}
		}
	}
}

/// Creates the group's topics, checks this node's facts against the group's, and joins the lease's group.
async fn join<H: Copy + Eq + Decode>(
	config: &SinkConfig,
	topics: &GroupTopics,
	settings: &HaSettings,
	facts: &GroupFacts,
) -> Result<(Lease, u64), SinkError> {
	topics.ensure(config).await?;
	let (replayed, _) = topics.state.read::<H>()?;
	check_facts(replayed.facts.as_ref(), facts)?;
	let lease = Lease::join(
		topics.state.consumer.clone(),
		&topics.group_id(),
		&topics.lease,
		&topics.state.topic,
		&settings.member,
		settings.session_timeout,
	)
	.map_err(SinkError::Kafka)?;
	Ok((lease, replayed.epoch))
}
