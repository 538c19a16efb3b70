//! The Kafka output: the producer as an [`Output`]. It connects (producer first, then topics), hands each action's
//! requests to librdkafka in order, and turns delivery reports into per-action acknowledgements; stand-ins for
//! messages the broker refused are sent from here, on the sink's thread. It keeps no position: the driver's
//! journal does.

use std::{collections::VecDeque, time::Instant};

use tokio::sync::mpsc::UnboundedReceiver;

use crate::{
	config::{LeaderEpoch, SinkConfig},
	envelope::{BlockContext, OutgoingMessage},
	error::SinkError,
	faults,
	kafka::{
		admin::ensure_topics,
		epoch,
		metrics::{Metrics, Tally},
		partition::PartitionTable,
		producer::{Delivery, Failure, KafkaProducer, Report},
		request::{self, KafkaBuild, Request},
	},
	output::{Ack, ActionInfo, Build, Output, Started},
	store::{identity::Identity, Placement},
	stream::CommittedBlock,
};

impl Build for KafkaBuild {
	type Batch = Vec<Request>;

	fn committed(&self, block: &CommittedBlock) -> Vec<Request> {
		KafkaBuild::committed(self, block)
	}

	fn placements(&self, block_hash: &[u8], batch: &Vec<Request>) -> Vec<Placement> {
		request::placements(&block_hash, batch)
	}

	fn retracted(&self, context: &BlockContext, placements: &[Placement]) -> Vec<Request> {
		self.retraction(context, placements)
	}

	fn finalized(&self, context: &BlockContext) -> Vec<Request> {
		vec![KafkaBuild::finalized(self, context)]
	}

	fn events(batch: &Vec<Request>) -> u64 {
		batch.iter().filter(|request| request.is_event).count() as u64
	}

	fn messages(batch: &Vec<Request>) -> u64 {
		batch.len() as u64
	}
}

/// An action handed to the producer and not acknowledged in full yet (the producer counts its messages).
struct InFlight {
	info: ActionInfo,
	sent_at: Instant,
	/// Its messages by topic, counted in the metrics once all are acknowledged (not one by one).
	tallies: Vec<Tally>,
}

/// See the module documentation.
pub struct KafkaOutput {
	config: SinkConfig,
	chain: String,
	metrics: Option<Metrics>,
	/// One per run: dropping it waits for the answers to what it sent (the next run's producer must not race it).
	producer: Option<(KafkaProducer, UnboundedReceiver<Report>)>,
	/// Sorted by seq.
	in_flight: VecDeque<InFlight>,
	/// Stand-ins to send (`--kafka-on-rejected stand-in`) for messages the broker refused: (seq, message, partition).
	stand_ins: VecDeque<(u64, OutgoingMessage, i32)>,
	/// Outcomes decided and not yet returned.
	outcomes: Vec<Ack>,
}

impl KafkaOutput {
	/// `chain`: the chain's genesis hash, `0x`-hex (the key of the chain's messages).
	pub fn new(config: SinkConfig, chain: String, metrics: Option<Metrics>) -> KafkaOutput {
		KafkaOutput {
			config,
			chain,
			metrics,
			producer: None,
			in_flight: VecDeque::new(),
			stand_ins: VecDeque::new(),
			outcomes: Vec::new(),
		}
	}

	fn producer(&self) -> Result<&KafkaProducer, SinkError> {
		self.producer
			.as_ref()
			.map(|(producer, _)| producer)
			.ok_or_else(|| SinkError::kafka("the output is not started"))
	}

	/// Every message of action `seq` is acknowledged.
	fn acknowledged(&mut self, seq: u64) {
		let Ok(index) = self.in_flight.binary_search_by_key(&seq, |pending| pending.info.seq) else {
			return; // failed already, or from an earlier run
		};
		let done = self.in_flight.remove(index).expect("found above");
		if let Some(metrics) = &self.metrics {
			metrics.delivery_latency.observe(done.sent_at.elapsed().as_secs_f64());
			metrics.acknowledged(&done.tallies);
		}
		self.outcomes.push(Ack::Done(done.info.seq));
	}

	/// One message's failure. A refused message with a stand-in still counts as unacknowledged: its stand-in is
	/// what completes it. (A message acknowledged alone belongs to no action in flight: a failed one's.)
	fn record(&mut self, delivery: Delivery) {
		let Err(failure) = delivery.result else { return };
		let Ok(index) = self.in_flight.binary_search_by_key(&delivery.seq, |pending| pending.info.seq) else {
			return; // failed already, or from an earlier run
		};
		let pending = &mut self.in_flight[index];
		match failure {
			Failure { stand_in: Some(refused), bytes, is_event, reason, .. } => {
				// Built here, on the sink's thread (the callback only copied the refused message).
				let (message, partition) = refused.stand_in(&reason);
				// The stand-in's own acknowledgement is counted when it comes; the refused message is not.
				if let Some(tally) = pending.tallies.iter_mut().find(|tally| tally.topic == message.topic) {
					tally.remove(bytes, is_event);
				}
				self.stand_ins.push_back((pending.info.seq, message, partition));
			}
			Failure { id, reason, permanent, .. } => {
				let failed = self.in_flight.remove(index).expect("found above");
				self.outcomes.push(Ack::Failed { seq: failed.info.seq, id, reason, permanent });
			}
		}
	}

	/// Sends the stand-ins waiting; each leaves the list only once librdkafka took it (cancel-safe).
	async fn send_stand_ins(&mut self) -> Result<(), SinkError> {
		while let Some((seq, message, partition)) = self.stand_ins.front() {
			let what = match self.in_flight.binary_search_by_key(seq, |pending| pending.info.seq) {
				Ok(index) => self.in_flight[index].info.what.clone(),
				Err(_) => {
					self.stand_ins.pop_front();
					continue;
				}
			};
			self.producer()?.send_stand_in(*seq, &what, message, *partition).await?;
			self.stand_ins.pop_front();
		}
		Ok(())
	}
}

impl Output for KafkaOutput {
	type Build = KafkaBuild;

	async fn start(&mut self, run_epoch: Option<u64>) -> Result<Started<KafkaBuild>, SinkError> {
		self.reset();
		// The producer first: its callbacks report why the brokers can't be reached (TLS, authentication), which
		// the admin client's errors don't say.
		let (mut producer, mut reports) = KafkaProducer::new(&self.config, run_epoch, self.metrics.clone())?;
		let topics = request::topics(&self.config);
		let cluster = match ensure_topics(&self.config, &topics).await {
			Ok(cluster) => cluster,
			Err(SinkError::Kafka(error)) => {
				return Err(SinkError::Kafka(match producer.last_error() {
					Some(reason) => format!("{error}; librdkafka: {reason}"),
					None => error,
				}))
			}
			Err(error) => return Err(error),
		};
		producer.use_topics(&topics);
		if let Some(leader) = &self.config.leader {
			write_epoch_markers(&producer, &mut reports, leader, &topics, &cluster.partitions).await?;
		}
		self.producer = Some((producer, reports));
		let identity = Identity { cluster_id: cluster.id, topic_prefix: self.config.topic_prefix.clone() };
		if let Some(metrics) = &self.metrics {
			metrics.initialise(&topics);
			metrics.set_info(
				&self.config.follow.to_string(),
				&self.config.topic_prefix,
				identity.cluster_id.as_deref().unwrap_or(""),
			);
		}
		Ok(Started {
			build: std::sync::Arc::new(KafkaBuild::new(&self.config, &self.chain, cluster.partitions)),
			identity,
		})
	}

	async fn send(&mut self, action: ActionInfo, batch: Vec<Request>) -> Result<(), SinkError> {
		let (seq, is_ship, number) = (action.seq, action.is_ship, action.number);
		let what = action.what.clone();
		self.in_flight.push_back(InFlight {
			sent_at: Instant::now(),
			tallies: if self.metrics.is_some() { tallies(&batch) } else { Vec::new() },
			info: action,
		});
		if batch.is_empty() {
			self.in_flight.pop_back();
			self.outcomes.push(Ack::Done(seq));
			return Ok(());
		}
		let producer = self.producer()?;
		// The durability window: Kafka holds one of the block's messages; only the write-ahead knows.
		let kill_on_ack = is_ship && faults::at("kill-after-ack", number);
		producer.expect(seq, batch.len(), kill_on_ack);
		for request in &batch {
			// Completes at its first poll unless librdkafka's queue is full.
			producer.send(seq, &what, &request.message, request.partition, request.is_event).await?;
		}
		Ok(())
	}

	async fn acknowledgements(&mut self) -> Result<Vec<Ack>, SinkError> {
		loop {
			self.send_stand_ins().await?;
			if !self.outcomes.is_empty() {
				return Ok(std::mem::take(&mut self.outcomes));
			}
			let (_, reports) = self.producer.as_mut().ok_or_else(|| SinkError::kafka("the output is not started"))?;
			let mut report = reports.recv().await.ok_or_else(|| SinkError::kafka("the producer stopped reporting"))?;
			loop {
				match report {
					Report::Acknowledged(seq) => self.acknowledged(seq),
					Report::Delivery(delivery) => self.record(delivery),
					Report::Fatal(reason) => return Err(SinkError::ProducerFatal(reason)),
				}
				let (_, reports) = self.producer.as_mut().expect("started above");
				match reports.try_recv() {
					Ok(next) => report = next,
					Err(_) => break,
				}
			}
		}
	}

	/// The run's producer goes at once: dropping it waits for its requests on the wire (the next run's producer
	/// must not race them), then purges what is only queued (the next run ships it again, same ids).
	fn reset(&mut self) {
		self.producer = None;
		self.in_flight.clear();
		self.stand_ins.clear();
		self.outcomes.clear();
	}

	fn describe(&self) -> String {
		format!("brokers {}", self.config.brokers)
	}
}

/// The action number of the epoch markers (acknowledged before any real action is sent).
const MARKERS_SEQ: u64 = crate::kafka::producer::MAX_SEQ; // the largest a delivery ticket carries

/// Writes the new leader's epoch marker to every partition and waits until Kafka acknowledged each: only then
/// does anything of this epoch ship, so every partition says where the stale leader's messages end.
async fn write_epoch_markers(
	producer: &KafkaProducer,
	reports: &mut UnboundedReceiver<Report>,
	leader: &LeaderEpoch,
	topics: &[String],
	partitions: &PartitionTable,
) -> Result<(), SinkError> {
	let markers = epoch::markers(leader, topics, partitions);
	let what = format!("the leader epoch {} markers", leader.epoch);
	for marker in &markers {
		producer.send(MARKERS_SEQ, &what, &marker.message, marker.partition, false).await?;
	}
	let mut unacked = markers.len();
	while unacked > 0 {
		match reports.recv().await.ok_or_else(|| SinkError::kafka("the producer stopped reporting"))? {
			Report::Delivery(Delivery { seq: MARKERS_SEQ, result: Ok(()) }) => unacked -= 1,
			Report::Delivery(Delivery { seq: MARKERS_SEQ, result: Err(failure) }) => {
				return Err(SinkError::Kafka(format!("{what}: {} was not written ({})", failure.id, failure.reason)))
			}
			Report::Delivery(_) | Report::Acknowledged(_) => {}
			Report::Fatal(reason) => return Err(SinkError::ProducerFatal(reason)),
		}
	}
	log::info!(target: "herald::ha", "wrote {what} to {} partitions", markers.len());
	Ok(())
}

/// The messages of an action, by topic.
fn tallies(messages: &[Request]) -> Vec<Tally> {
	let mut tallies: Vec<Tally> = Vec::new();
	for outgoing in messages {
		let message = &outgoing.message;
		// `Arc<str>` equality compares the pointers first: a block's messages share their route's topic.
		let tally = match tallies.iter().position(|tally| tally.topic == message.topic) {
			Some(position) => &mut tallies[position],
			None => {
				tallies.push(Tally::new(message.topic.clone()));
				tallies.last_mut().expect("just pushed")
			}
		};
		tally.add(message.payload.len(), outgoing.is_event);
	}
	tallies
}
