//! Prometheus metrics of the sink, registered on the node's own registry (`--prometheus-port`).
//!
//! Names follow Prometheus conventions: `herald_kafka_` prefix, unit suffixes, `_total` for counters.

use std::collections::HashMap;

use rdkafka::Statistics;
use substrate_prometheus_endpoint::{
	exponential_buckets, register, Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramOpts, Opts,
	PrometheusError, Registry, F64, U64,
};

/// Delivery outcome label.
#[derive(Debug, Clone, Copy)]
pub enum Status {
	Acked,
	Failed,
}

impl Status {
	fn label(self) -> &'static str {
		match self {
			Status::Acked => "acked",
			Status::Failed => "failed",
		}
	}
}

/// What the sink is doing, as `herald_kafka_sink_state{state}` says (a Prometheus state set: 1 for the current
/// state, 0 for the others).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkState {
	/// Connecting, creating topics, reading its state.
	Starting,
	/// Connected and shipping (or waiting for blocks to ship).
	Shipping,
	/// Failed; restarts from its cursor after a pause.
	BackingOff,
	/// Stopped for good (a fatal error): it won't restart by itself.
	Stopped,
	/// A standby of a high-availability group (`--kafka-ha-group`): another node ships; this one takes over when
	/// it holds the group's lease.
	Standby,
}

impl SinkState {
	const ALL: [SinkState; 5] =
		[SinkState::Starting, SinkState::Shipping, SinkState::BackingOff, SinkState::Stopped, SinkState::Standby];

	pub fn label(self) -> &'static str {
		match self {
			SinkState::Starting => "starting",
			SinkState::Shipping => "shipping",
			SinkState::BackingOff => "backing_off",
			SinkState::Stopped => "stopped",
			SinkState::Standby => "standby",
		}
	}
}

/// Every metric the sink exposes. Cheap to clone (all handles are `Arc`s inside).
#[derive(Clone)]
pub struct Metrics {
	messages: CounterVec<U64>,
	message_bytes: CounterVec<U64>,
	events: CounterVec<U64>,
	delivery_errors: CounterVec<U64>,
	pub last_acked_block: Gauge<U64>,
	pub last_shipped_block: Gauge<U64>,
	pub finalized_lag_blocks: Gauge<U64>,
	pub read_ahead_blocks: Gauge<U64>,
	pub delivery_latency: Histogram,
	pub connected: Gauge<U64>,
	pub restarts: Counter<U64>,
	pub sink_up: Gauge<U64>,
	sink_state: GaugeVec<U64>,
	sink_info: GaugeVec<U64>,
	pub best_lag_blocks: Gauge<U64>,
	pub journal_capacity_blocks: Gauge<U64>,
	pub block_read_seconds: Histogram,
	pub last_error_time: Gauge<U64>,
	pub journal_blocks: Gauge<U64>,
	pub journal_full: Gauge<U64>,
	pub retracted_blocks: Counter<U64>,
	rejected_messages: CounterVec<U64>,
	pub producer_fatal_errors: Counter<U64>,
	producer_queue_messages: Gauge<U64>,
	producer_queue_bytes: Gauge<U64>,
	broker_retries: Counter<U64>,
	broker_request_timeouts: Counter<U64>,
	broker_rtt: GaugeVec<F64>,
	/// The last cumulative librdkafka counters seen, to turn them into increments.
	last_stats: std::sync::Arc<std::sync::Mutex<HashMap<&'static str, u64>>>,
}

impl Metrics {
	/// Registers the metrics on `registry`.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let vec = |name: &str, help: &str, labels: &[&str]| -> Result<CounterVec<U64>, PrometheusError> {
			register(CounterVec::new(Opts::new(name, help), labels)?, registry)
		};
		let gauge = |name: &str, help: &str| -> Result<Gauge<U64>, PrometheusError> {
			register(Gauge::new(name, help)?, registry)
		};
		let counter = |name: &str, help: &str| -> Result<Counter<U64>, PrometheusError> {
			register(Counter::new(name, help)?, registry)
		};
		Ok(Self {
			messages: vec(
				"herald_kafka_messages_total",
				"Kafka messages (event and block envelopes) by topic and delivery status (`acked` counts a block's \
				 messages once Kafka acknowledged all of them)",
				&["topic", "status"],
			)?,
			message_bytes: vec(
				"herald_kafka_message_bytes_total",
				"Payload bytes of Kafka messages by topic and delivery status",
				&["topic", "status"],
			)?,
			events: vec(
				"herald_kafka_events_total",
				"Runtime events shipped as envelopes, by topic and delivery status",
				&["topic", "status"],
			)?,
			delivery_errors: vec(
				"herald_kafka_delivery_errors_total",
				"Messages Kafka did not acknowledge, by error",
				&["error"],
			)?,
			last_acked_block: gauge(
				"herald_kafka_last_acked_block_number",
				"Number of the last block whose every message Kafka acknowledged (the stored cursor)",
			)?,
			last_shipped_block: gauge(
				"herald_kafka_last_shipped_block_number",
				"Number of the last block shipped (final or not) whose every message Kafka acknowledged",
			)?,
			finalized_lag_blocks: gauge(
				"herald_kafka_finalized_lag_blocks",
				"Finalized blocks not yet fully acknowledged by Kafka",
			)?,
			read_ahead_blocks: gauge(
				"herald_kafka_read_ahead_blocks",
				"Blocks read and handed to the producer, waiting for acknowledgements",
			)?,
			delivery_latency: register(
				Histogram::with_opts(
					HistogramOpts::new(
						"herald_kafka_delivery_latency_seconds",
						"Time from handing a block's messages to the producer until Kafka acknowledged all of them",
					)
					.buckets(exponential_buckets(0.001, 2.0, 18)?),
				)?,
				registry,
			)?,
			connected: gauge(
				"herald_kafka_connected",
				"1 when the producer has at least one broker connection up, else 0",
			)?,
			restarts: counter(
				"herald_kafka_sink_restarts_total",
				"Times the sink failed and restarted from its cursor",
			)?,
			sink_up: gauge(
				"herald_kafka_sink_up",
				"1 while the sink is shipping (connected to the cluster, producer up), 0 when stopped, backing off or a standby",
			)?,
			sink_state: register(
				GaugeVec::new(
					Opts::new(
						"herald_kafka_sink_state",
						"What the sink is doing: 1 for the current state (`starting`, `shipping`, `backing_off`: failed \
						 and restarting after a pause, `stopped`: a fatal error, no restart, `standby`: another node of its \
						 --kafka-ha-group ships), 0 for the others",
					),
					&["state"],
				)?,
				registry,
			)?,
			sink_info: register(
				GaugeVec::new(
					Opts::new(
						"herald_kafka_sink_info",
						"Always 1: the sink's follow mode, topic prefix and the Kafka cluster id (empty until known)",
					),
					&["follow", "topic_prefix", "cluster_id"],
				)?,
				registry,
			)?,
			best_lag_blocks: gauge(
				"herald_kafka_best_lag_blocks",
				"Blocks between the best head and the last block shipped and acknowledged (final or not)",
			)?,
			journal_capacity_blocks: gauge(
				"herald_kafka_journal_capacity_blocks",
				"The journal's bound: the most blocks shipped and not final (--kafka-max-unfinalized-blocks)",
			)?,
			block_read_seconds: register(
				Histogram::with_opts(
					HistogramOpts::new(
						"herald_kafka_block_read_seconds",
						"Time to read one block from the database and make its messages (decoding its events, writing \
						 the envelopes)",
					)
					.buckets(exponential_buckets(0.0001, 2.0, 18)?),
				)?,
				registry,
			)?,
			last_error_time: gauge(
				"herald_kafka_sink_last_error_timestamp_seconds",
				"Unix time of the sink's last failure (0: none since the node started); the log says why",
			)?,
			journal_blocks: gauge(
				"herald_kafka_journal_blocks",
				"Blocks shipped that are not final yet (best-chain mode's journal), at most \
				 --kafka-max-unfinalized-blocks",
			)?,
			journal_full: gauge(
				"herald_kafka_journal_full",
				"1 while the journal is full: finality has stalled and the sink ships no new block until it moves",
			)?,
			retracted_blocks: counter(
				"herald_kafka_retracted_blocks_total",
				"Shipped blocks retracted because a re-org or finality took them off the best chain",
			)?,
			rejected_messages: vec(
				"herald_kafka_rejected_messages_total",
				"Messages Kafka will never accept (too large, invalid topic, policy, authorization), by topic and \
				 what the sink did: `stopped` (the sink stopped) or `stand_in` (a MessageRejected envelope shipped \
				 instead)",
				&["topic", "action"],
			)?,
			producer_fatal_errors: counter(
				"herald_kafka_producer_fatal_errors_total",
				"librdkafka fatal errors (the producer instance became unusable and was rebuilt)",
			)?,
			producer_queue_messages: gauge(
				"herald_kafka_producer_queue_messages",
				"Messages in librdkafka's producer queue (not yet acknowledged)",
			)?,
			producer_queue_bytes: gauge(
				"herald_kafka_producer_queue_bytes",
				"Bytes of messages in librdkafka's producer queue",
			)?,
			broker_retries: counter("herald_kafka_broker_retries_total", "Produce requests librdkafka retried")?,
			broker_request_timeouts: counter(
				"herald_kafka_broker_request_timeouts_total",
				"Requests to brokers that timed out",
			)?,
			broker_rtt: register(
				GaugeVec::new(
					Opts::new(
						"herald_kafka_broker_rtt_seconds",
						"Average broker round-trip time over librdkafka's last statistics window",
					),
					&["broker"],
				)?,
				registry,
			)?,
			last_stats: Default::default(),
		})
	}

	/// Sets the state set to `state`.
	pub fn set_state(&self, state: SinkState) {
		for each in SinkState::ALL {
			self.sink_state.with_label_values(&[each.label()]).set((each == state) as u64);
		}
	}

	/// The info metric, once the cluster id is known (a restart may learn another: the old series goes).
	pub fn set_info(&self, follow: &str, topic_prefix: &str, cluster_id: &str) {
		self.sink_info.reset();
		self.sink_info.with_label_values(&[follow, topic_prefix, cluster_id]).set(1);
	}

	/// Creates every labelled series whose labels are known at start at 0, so that the first increment is
	/// visible to `increase()` and `rate()` (a series that first appears at 1 never makes them move).
	pub fn initialise(&self, topics: &[String]) {
		for topic in topics {
			for status in [Status::Acked, Status::Failed] {
				let labels = [topic.as_str(), status.label()];
				self.messages.with_label_values(&labels);
				self.message_bytes.with_label_values(&labels);
				self.events.with_label_values(&labels);
			}
			for action in ["stopped", "stand_in"] {
				self.rejected_messages.with_label_values(&[topic.as_str(), action]);
			}
		}
	}

	/// Counts one delivered (or failed) message of `bytes` to `topic`; `is_event` for runtime events.
	pub fn message(&self, topic: &str, status: Status, bytes: usize, is_event: bool) {
		let labels = [topic, status.label()];
		self.messages.with_label_values(&labels).inc();
		self.message_bytes.with_label_values(&labels).inc_by(bytes as u64);
		if is_event {
			self.events.with_label_values(&labels).inc();
		}
	}

	/// Counts acknowledged messages, a whole action's at once.
	pub fn acknowledged(&self, tallies: &[Tally]) {
		for tally in tallies.iter().filter(|tally| tally.messages > 0) {
			let labels = [&*tally.topic, Status::Acked.label()];
			self.messages.with_label_values(&labels).inc_by(tally.messages);
			self.message_bytes.with_label_values(&labels).inc_by(tally.bytes);
			if tally.events > 0 {
				self.events.with_label_values(&labels).inc_by(tally.events);
			}
		}
	}

	/// Counts a delivery error.
	pub fn delivery_error(&self, error: &str) {
		self.delivery_errors.with_label_values(&[error]).inc();
	}

	/// Counts a message Kafka will never accept, by what the sink did about it.
	pub fn rejected(&self, topic: &str, stand_in: bool) {
		self.rejected_messages.with_label_values(&[topic, if stand_in { "stand_in" } else { "stopped" }]).inc();
	}

	/// Updates the librdkafka-derived metrics from a statistics report.
	pub fn librdkafka_statistics(&self, stats: &Statistics) {
		self.producer_queue_messages.set(stats.msg_cnt);
		self.producer_queue_bytes.set(stats.msg_size);
		let mut up = false;
		let (mut retries, mut timeouts) = (0u64, 0u64);
		for broker in stats.brokers.values() {
			// librdkafka's internal pseudo-brokers have node id -1 and no real connection.
			if broker.nodeid < 0 {
				continue;
			}
			up |= broker.state == "UP";
			retries += broker.txretries;
			timeouts += broker.req_timeouts;
			if let Some(rtt) = &broker.rtt {
				self.broker_rtt.with_label_values(&[&broker.nodename]).set(rtt.avg as f64 / 1e6);
			}
		}
		self.connected.set(up as u64);
		let mut last = self.last_stats.lock().expect("metrics lock is never poisoned");
		for (key, counter, now) in
			[("retries", &self.broker_retries, retries), ("timeouts", &self.broker_request_timeouts, timeouts)]
		{
			let before = last.insert(key, now).unwrap_or(0);
			// A recreated producer starts its counters from zero again.
			counter.inc_by(now.saturating_sub(before));
		}
	}

	/// The sink failed: it is down until its restart, and nothing it reported from the producer is current.
	pub fn sink_failed(&self) {
		self.sink_up.set(0);
		self.connected.set(0);
		self.read_ahead_blocks.set(0);
		self.producer_queue_messages.set(0);
		self.producer_queue_bytes.set(0);
		let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
		self.last_error_time.set(now);
	}

	/// A standby of a high-availability group: not shipping, and nothing it reported as leader (producer, blocks
	/// in flight) is current. Alerts about a sink's own progress leave standbys out by this state.
	pub fn standing_by(&self) {
		self.sink_up.set(0);
		self.connected.set(0);
		self.read_ahead_blocks.set(0);
		self.producer_queue_messages.set(0);
		self.producer_queue_bytes.set(0);
		self.journal_full.set(0);
		self.set_state(SinkState::Standby);
	}

	/// Forgets librdkafka's cumulative counters (a new producer starts from zero).
	pub fn producer_recreated(&self) {
		self.last_stats.lock().expect("metrics lock is never poisoned").clear();
	}
}

/// The messages of one topic in one action, counted in the metrics together when the action is acknowledged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
	pub topic: std::sync::Arc<str>,
	messages: u64,
	bytes: u64,
	events: u64,
}

impl Tally {
	pub fn new(topic: std::sync::Arc<str>) -> Tally {
		Tally { topic, messages: 0, bytes: 0, events: 0 }
	}

	pub fn add(&mut self, bytes: usize, is_event: bool) {
		self.messages += 1;
		self.bytes += bytes as u64;
		self.events += is_event as u64;
	}

	/// Takes back a message that was not acknowledged (replaced by a stand-in).
	pub fn remove(&mut self, bytes: usize, is_event: bool) {
		self.messages = self.messages.saturating_sub(1);
		self.bytes = self.bytes.saturating_sub(bytes as u64);
		self.events = self.events.saturating_sub(is_event as u64);
	}
}
