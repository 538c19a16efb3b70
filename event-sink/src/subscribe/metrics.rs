//! Prometheus metrics of the `herald_v1_follow` subscriptions, on the node's registry (registered only when the
//! subscription service is on).

use substrate_prometheus_endpoint::{register, Counter, CounterVec, GaugeVec, Opts, PrometheusError, Registry, U64};

/// The subscriptions' metrics. Cheap to clone.
#[derive(Clone)]
pub struct FollowMetrics {
	/// `herald_follow_subscriptions{mode}`: open now.
	pub subscriptions: GaugeVec<U64>,
	/// `herald_follow_envelopes_sent_total{mode}`.
	pub envelopes_sent: CounterVec<U64>,
	/// `herald_follow_stopped_total{reason}`: subscriptions the node stopped.
	pub stopped: CounterVec<U64>,
	/// `herald_follow_rejected_total{reason}`: subscriptions refused at `herald_v1_follow`.
	pub rejected: CounterVec<U64>,
	/// `herald_follow_replay_blocks_total`: blocks read from the database for replays.
	pub replay_blocks: Counter<U64>,
}

impl FollowMetrics {
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let counters =
			|name: &str, help: &str, label: &str| register(CounterVec::new(Opts::new(name, help), &[label])?, registry);
		Ok(FollowMetrics {
			subscriptions: register(
				GaugeVec::new(
					Opts::new("herald_follow_subscriptions", "herald_v1_follow subscriptions open, by follow mode"),
					&["mode"],
				)?,
				registry,
			)?,
			envelopes_sent: counters(
				"herald_follow_envelopes_sent_total",
				"Notifications handed to herald_v1_follow subscribers, by follow mode",
				"mode",
			)?,
			stopped: counters(
				"herald_follow_stopped_total",
				"herald_v1_follow subscriptions the node stopped (with a resume position), by reason",
				"reason",
			)?,
			rejected: counters(
				"herald_follow_rejected_total",
				"herald_v1_follow requests refused, by reason",
				"reason",
			)?,
			replay_blocks: register(
				Counter::new(
					"herald_follow_replay_blocks_total",
					"Blocks read from the database to replay them to herald_v1_follow subscribers",
				)?,
				registry,
			)?,
		})
	}
}
