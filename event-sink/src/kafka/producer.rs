//! The producer: librdkafka configured for no loss (idempotent, `acks=all`, no message timeout), each message
//! sent to the partition Herald chose, and delivery reports turned into acknowledgements of the action (a
//! block's shipment, retraction or finalization) the message belongs to.

use std::{
	ffi::CStr,
	sync::atomic::{AtomicPtr, Ordering},
	time::Duration,
};

use rdkafka::{
	error::{KafkaError, RDKafkaErrorCode},
	message::{Headers, Message},
	producer::{DeliveryResult, ProducerContext, ThreadedProducer},
	ClientContext, Statistics,
};
use tokio::sync::mpsc;

use crate::{
	config::{OnRejected, SinkConfig},
	envelope::{
		stand_in::{stand_in, Rejected},
		OutgoingMessage,
	},
	error::SinkError,
	kafka::{
		client_config::client_config,
		headers::{Header as EnvelopeHeader, HeaderSet},
		metrics::Metrics,
		native::{self, BorrowedPayload, NativeHeader, NativeMessage, TopicHandles, MAX_HEADERS},
		signing::SigningKey,
	},
};

/// Log target of the sink.
const LOG_TARGET: &str = "herald::kafka";

/// What the producer reports to the shipping loop.
#[derive(Debug)]
pub enum Report {
	/// Kafka acknowledged every message of action `seq` (one report per action, not per message: see
	/// [`KafkaProducer::expect`]).
	Acknowledged(u64),
	/// The outcome of one message: a failure, or an acknowledgement of a message of an action the producer was
	/// not told to expect (e.g. the epoch markers).
	Delivery(Delivery),
	/// librdkafka raised a fatal error (e.g. the idempotent producer lost its guarantees): this producer instance
	/// can't be used any more, with librdkafka's reason.
	Fatal(String),
}

/// What the producer reports back for every message.
#[derive(Debug)]
pub struct Delivery {
	/// The action the message belongs to.
	pub seq: u64,
	pub result: Result<(), Failure>,
}

/// A message Kafka did not acknowledge.
#[derive(Debug, Clone)]
pub struct Failure {
	/// The message's `meta.id`.
	pub id: String,
	/// librdkafka's reason.
	pub reason: String,
	/// Kafka will never accept it (retrying cannot help).
	pub permanent: bool,
	/// The message's payload size.
	pub bytes: usize,
	/// Whether it carries a runtime event.
	pub is_event: bool,
	/// With `--kafka-on-rejected stand-in`, for a permanent failure: the refused message, whose stand-in ships
	/// instead ([`RefusedMessage::stand_in`]).
	pub stand_in: Option<RefusedMessage>,
}

/// A message the broker refused for good, as librdkafka handed it back (copied only for a stand-in).
#[derive(Debug, Clone)]
pub struct RefusedMessage {
	pub id: String,
	pub topic: String,
	pub key: Option<Vec<u8>>,
	pub payload: Vec<u8>,
	/// Its `block_hash` header.
	pub block_hash: String,
	/// Its `finalized` header.
	pub finalized: bool,
	pub partition: i32,
}

impl RefusedMessage {
	/// Its `MessageRejected` stand-in and the partition it goes to (the refused message's).
	pub fn stand_in(&self, reason: &str) -> (OutgoingMessage, i32) {
		let rejected = Rejected {
			id: &self.id,
			topic: &self.topic,
			key: self.key.as_deref(),
			payload: &self.payload,
			block_hash: &self.block_hash,
			finalized: self.finalized,
		};
		(stand_in(rejected, reason), self.partition)
	}
}

/// Errors no retry can cure: the message itself, its topic, or the producer's rights are wrong. Everything else
/// (timeouts, leader changes, disconnects, not enough replicas) is retried by librdkafka or by a restart.
pub fn is_permanent(code: RDKafkaErrorCode) -> bool {
	matches!(
		code,
		RDKafkaErrorCode::MessageSizeTooLarge
			| RDKafkaErrorCode::InvalidMessageSize
			| RDKafkaErrorCode::InvalidMessage
			| RDKafkaErrorCode::InvalidRecord
			| RDKafkaErrorCode::InvalidTopic
			| RDKafkaErrorCode::UnknownTopic
			| RDKafkaErrorCode::PolicyViolation
			| RDKafkaErrorCode::TopicAuthorizationFailed
	)
}

/// What the delivery callback needs to know of a message besides the message itself, packed into librdkafka's
/// per-message opaque pointer (no allocation per message): the action's sequence number and two flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Ticket {
	seq: u64,
	is_event: bool,
	/// A stand-in is never replaced by another one (a topic refused as a whole refuses it too).
	is_stand_in: bool,
}

/// The largest action number a [`Ticket`] carries.
pub const MAX_SEQ: u64 = (1 << 62) - 1;

impl Ticket {
	fn pack(self) -> usize {
		// 2^62 actions outlive any chain: a sequence number never loses bits here on 64-bit targets.
		((self.seq as usize) << 2) | ((self.is_event as usize) << 1) | self.is_stand_in as usize
	}

	fn unpack(packed: usize) -> Ticket {
		Ticket { seq: (packed >> 2) as u64, is_event: packed & 2 != 0, is_stand_in: packed & 1 != 0 }
	}
}

/// The actions whose messages are in flight, counted by the delivery callback so that the shipping loop hears
/// once per action (when its last message is acknowledged) instead of once per message: a dense block has
/// hundreds, and each report was a channel send and a wake-up of the sink's task.
#[derive(Default)]
struct Expected(std::sync::Mutex<std::collections::VecDeque<Expecting>>);

struct Expecting {
	seq: u64,
	unacked: usize,
	/// The `kill-after-ack` test fault: killed at the action's first acknowledged message.
	kill_on_ack: bool,
}

/// What the delivery callback makes of one acknowledged message.
enum Counted {
	/// Not an expected action's: reported on its own.
	Unexpected,
	/// More of its action's messages are to come.
	Pending,
	/// The action's last message.
	Complete,
}

impl Expected {
	fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::VecDeque<Expecting>> {
		// Nothing panics while holding it.
		self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
	}

	fn expect(&self, seq: u64, messages: usize, kill_on_ack: bool) {
		self.lock().push_back(Expecting { seq, unacked: messages, kill_on_ack });
	}

	fn acknowledged(&self, seq: u64) -> Counted {
		let mut expected = self.lock();
		// Acknowledgements come in order, so almost always for the first action.
		let Some(at) = expected.iter().position(|e| e.seq == seq) else { return Counted::Unexpected };
		let entry = &mut expected[at];
		if entry.kill_on_ack {
			crate::faults::kill_now();
		}
		entry.unacked = entry.unacked.saturating_sub(1);
		if entry.unacked == 0 {
			expected.remove(at);
			Counted::Complete
		} else {
			Counted::Pending
		}
	}

	/// The action failed: its later messages are reported on their own (the output ignores them).
	fn forget(&self, seq: u64) {
		self.lock().retain(|e| e.seq != seq);
	}
}

/// The header `name` of a message librdkafka hands back, as text, if the message carries it.
fn header_text(message: &impl Message, name: &str) -> Option<String> {
	message
		.headers()
		.and_then(|headers| headers.iter().find(|header| header.key == name))
		.and_then(|header| header.value)
		.map(|value| String::from_utf8_lossy(value).into_owned())
}

/// A refused message's id, block hash and finality: from its headers, or from its value for the headers
/// `--kafka-headers` leaves out (only a refused message pays for parsing it).
fn refused_facts(message: &impl Message) -> (String, String, bool) {
	let (id, block_hash, finalized) =
		(header_text(message, "id"), header_text(message, "block_hash"), header_text(message, "finalized"));
	if let (Some(id), Some(block_hash), Some(finalized)) = (&id, &block_hash, &finalized) {
		return (id.clone(), block_hash.clone(), finalized == "true");
	}
	let value: serde_json::Value = message.payload().and_then(|p| serde_json::from_slice(p).ok()).unwrap_or_default();
	let meta = &value["meta"];
	(
		id.or_else(|| meta["id"].as_str().map(str::to_string)).unwrap_or_default(),
		block_hash.or_else(|| meta["block"]["hash"].as_str().map(str::to_string)).unwrap_or_default(),
		finalized.map_or_else(|| meta["finalized"].as_bool().unwrap_or(false), |f| f == "true"),
	)
}

/// Receives librdkafka's callbacks (on its polling thread): delivery reports, statistics, errors.
struct SinkContext {
	reports: mpsc::UnboundedSender<Report>,
	expected: Expected,
	metrics: Option<Metrics>,
	on_rejected: OnRejected,
	/// librdkafka's last error report (connection, TLS, authentication), to explain a failure.
	last_error: std::sync::Mutex<Option<String>>,
	/// The client this context serves, set right after it is created: an error event doesn't say whether it is
	/// fatal (it carries the underlying code), the client's fatal-error state does.
	client: AtomicPtr<rdkafka::bindings::rd_kafka_t>,
}

impl SinkContext {
	/// librdkafka's fatal error, if one was raised on this client.
	fn fatal_error(&self) -> Option<String> {
		let client = self.client.load(Ordering::Acquire);
		if client.is_null() {
			return None;
		}
		let mut reason = [0 as std::ffi::c_char; 512];
		// SAFETY: callbacks only run while the client lives (on its polling thread); librdkafka writes a
		// NUL-terminated string of at most the buffer's size.
		let code = unsafe { rdkafka::bindings::rd_kafka_fatal_error(client, reason.as_mut_ptr(), reason.len()) };
		if code == rdkafka::types::RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
			return None;
		}
		// SAFETY: see above.
		let reason = unsafe { std::ffi::CStr::from_ptr(reason.as_ptr()) }.to_string_lossy();
		Some(format!("{} ({reason})", RDKafkaErrorCode::from(code)))
	}
}

impl ClientContext for SinkContext {
	fn stats(&self, statistics: Statistics) {
		if let Some(metrics) = &self.metrics {
			metrics.librdkafka_statistics(&statistics);
		}
	}

	fn error(&self, error: KafkaError, reason: &str) {
		let fatal = self.fatal_error().or_else(|| {
			(error.rdkafka_error_code() == Some(RDKafkaErrorCode::Fatal)).then(|| format!("{error}: {reason}"))
		});
		if let Some(reason) = fatal {
			// The instance is unusable (librdkafka fails every queued and future message): rebuild it now rather
			// than when its failures happen to surface.
			log::error!(target: LOG_TARGET, "librdkafka fatal error: {reason}; the producer is rebuilt");
			if let Some(metrics) = &self.metrics {
				metrics.producer_fatal_errors.inc();
			}
			let _ = self.reports.send(Report::Fatal(reason));
			return;
		}
		// Transient broker errors (disconnects, "all brokers down") are retried by librdkafka itself.
		log::warn!(target: LOG_TARGET, "librdkafka: {error}: {reason}");
		// "All brokers down" follows the reason that took them down: keep the reason.
		if error.rdkafka_error_code() != Some(RDKafkaErrorCode::AllBrokersDown) {
			*self.last_error.lock().expect("never poisoned") = Some(reason.to_string());
		}
	}
}

impl ProducerContext for SinkContext {
	type DeliveryOpaque = usize;

	fn delivery(&self, result: &DeliveryResult<'_>, ticket: usize) {
		let ticket = Ticket::unpack(ticket);
		let report = match result {
			// Acknowledged messages are counted in the metrics by action, when the whole action is.
			Ok(message) => {
				if ticket.is_stand_in {
					if let Some(metrics) = &self.metrics {
						let bytes = message.payload().map_or(0, <[u8]>::len);
						metrics.message(message.topic(), crate::kafka::metrics::Status::Acked, bytes, false);
					}
				}
				match self.expected.acknowledged(ticket.seq) {
					Counted::Unexpected => Some(Report::Delivery(Delivery { seq: ticket.seq, result: Ok(()) })),
					Counted::Pending => None,
					Counted::Complete => Some(Report::Acknowledged(ticket.seq)),
				}
			}
			Err((error, message)) => {
				let permanent = error.rdkafka_error_code().is_some_and(is_permanent);
				let reason = error.to_string();
				// The value is parsed only when a header it needs is left out (`--kafka-headers`), and for a
				// stand-in's block hash and finality: a broker outage fails many messages on this thread.
				let id = header_text(message, "id").unwrap_or_else(|| refused_facts(message).0);
				let bytes = message.payload().map_or(0, <[u8]>::len);
				let stand_in =
					(permanent && self.on_rejected == OnRejected::StandIn && !ticket.is_stand_in).then(|| {
						log::warn!(
							target: LOG_TARGET,
							"Kafka refused message {id} ({reason}); shipping a MessageRejected stand-in instead"
						);
						let (_, block_hash, finalized) = refused_facts(message);
						// Only copied here: the stand-in is built on the sink's thread, not librdkafka's.
						RefusedMessage {
							id: id.clone(),
							topic: message.topic().to_string(),
							key: message.key().map(<[u8]>::to_vec),
							payload: message.payload().unwrap_or_default().to_vec(),
							block_hash,
							finalized,
							partition: message.partition(),
						}
					});
				// A stand-in takes the refused message's place in its action's count; any other failure ends the
				// action.
				if stand_in.is_none() {
					self.expected.forget(ticket.seq);
				}
				if let Some(metrics) = &self.metrics {
					if permanent {
						metrics.rejected(message.topic(), stand_in.is_some());
					}
					let status = crate::kafka::metrics::Status::Failed;
					metrics.message(message.topic(), status, bytes, ticket.is_event);
					metrics.delivery_error(&reason);
				}
				Some(Report::Delivery(Delivery {
					seq: ticket.seq,
					result: Err(Failure { id, reason, permanent, bytes, is_event: ticket.is_event, stand_in }),
				}))
			}
		};
		let message = match result {
			Ok(message) => message,
			Err((_, message)) => message,
		};
		// Every payload `native::produce` lent (all but empty ones) comes back here, once.
		if let Some(payload) = message.payload().filter(|payload| native::lends(payload)) {
			// SAFETY: librdkafka hands back the very address and length it was given (no copy was made), and this
			// is the message's one delivery report.
			unsafe { BorrowedPayload::give_back(payload.as_ptr(), payload.len()) };
		}
		// The receiver is gone only when the sink is restarting; its cursor makes the report irrelevant.
		if let Some(report) = report {
			let _ = self.reports.send(report);
		}
	}
}

/// How long dropping a producer waits for the broker to answer the requests it already sent.
const QUIESCE_TIMEOUT: Duration = Duration::from_secs(30);

/// The header with the leader epoch of a high-availability group's active node.
pub const LEADER_EPOCH_HEADER: &str = "leader_epoch";
const LEADER_EPOCH_KEY: &CStr = c"leader_epoch";
/// The header with the epoch of the sink's run, in best mode outside a group.
pub const RUN_EPOCH_HEADER: &str = "run_epoch";
const RUN_EPOCH_KEY: &CStr = c"run_epoch";
/// The signature headers ([`crate::kafka::signing`]) as librdkafka takes them.
const SIGNATURE_KEY: &CStr = c"signature";
const KEY_ID_KEY: &CStr = c"signature_key_id";

/// A producer for one run of the sink. Dropping it first waits for the answers to what it already sent (see
/// [`Drop`]), then purges the rest.
pub struct KafkaProducer {
	/// Dropped before the client (fields drop in order).
	topics: TopicHandles,
	producer: ThreadedProducer<SinkContext>,
	on_rejected: OnRejected,
	metrics: Option<Metrics>,
	signing_key: Option<SigningKey>,
	/// The envelope facts each message repeats as headers (`--kafka-headers`).
	headers: HeaderSet,
	/// In a high-availability group: the leader's epoch, on every message (`leader_epoch`), whatever
	/// `--kafka-headers` says (the consumer rule needs it to discard a stale leader's late messages).
	leader_epoch: Option<String>,
	/// In best mode outside a group: the run's epoch, on every message (`run_epoch`), whatever `--kafka-headers`
	/// says (the consumer rule needs it to discard a previous run's late messages).
	run_epoch: Option<String>,
}

/// The next run's producer must not send while requests of this one may still land: the broker orders one
/// connection's requests, not two producers', so a message the old instance sent could land after the new instance's
/// `BlockRetracted` of its block and leave a phantom. So what is only queued here is purged (the next run ships it
/// again, same ids), and the requests already on the wire are waited for until the broker answered every one
/// (acknowledged or failed) or [`QUIESCE_TIMEOUT`] passed: a broker that is down fails them at once (the connection
/// is gone), a slow one answers. Only a broker that stops answering for longer (a zombie) leaves a window, which is
/// logged (docs/envelope.md, "Crashes and restarts"). This runs on the sink's own
/// thread, never the node's.
impl Drop for KafkaProducer {
	fn drop(&mut self) {
		use rdkafka::producer::{Producer, PurgeConfig};
		let started = std::time::Instant::now();
		loop {
			self.producer.purge(PurgeConfig::default().queue());
			if self.producer.in_flight_count() == 0 || started.elapsed() >= QUIESCE_TIMEOUT {
				break;
			}
			let _ = self.producer.flush(Duration::from_millis(100));
		}
		let left = self.producer.in_flight_count();
		if left > 0 {
			log::warn!(
				target: "herald::kafka",
				"{left} requests of the previous producer were not answered within {QUIESCE_TIMEOUT:?}: if the broker \
				 still writes them, they may land after the new producer's messages (consumers dedupe by meta.id)"
			);
		} else if started.elapsed() > Duration::from_millis(500) {
			log::info!(
				target: "herald::kafka",
				"the previous producer's requests were all answered after {:.1} s; the new producer starts",
				started.elapsed().as_secs_f64()
			);
		}
	}
}

impl KafkaProducer {
	/// Creates the producer. Fails on invalid librdkafka properties (the error names the property); an unreachable
	/// broker is not an error: librdkafka keeps connecting in the background.
	pub fn new(
		config: &SinkConfig,
		run_epoch: Option<u64>,
		metrics: Option<Metrics>,
	) -> Result<(Self, mpsc::UnboundedReceiver<Report>), SinkError> {
		let (reports, receiver) = mpsc::unbounded_channel();
		if let Some(metrics) = &metrics {
			metrics.producer_recreated();
		}
		let context = SinkContext {
			reports,
			metrics: metrics.clone(),
			on_rejected: config.on_rejected,
			client: AtomicPtr::new(std::ptr::null_mut()),
			last_error: std::sync::Mutex::new(None),
			expected: Expected::default(),
		};
		let producer: ThreadedProducer<SinkContext> = client_config(config)
			.create_with_context(context)
			.map_err(|e| SinkError::Kafka(format!("cannot create the producer: {e}")))?;
		{
			use rdkafka::producer::Producer;
			producer.context().client.store(producer.client().native_ptr(), Ordering::Release);
		}
		Ok((
			Self {
				topics: TopicHandles::default(),
				producer,
				on_rejected: config.on_rejected,
				metrics,
				signing_key: config.signing_key.clone(),
				headers: config.headers,
				leader_epoch: config.leader.as_ref().map(|leader| leader.epoch.to_string()),
				run_epoch: run_epoch.map(|epoch| epoch.to_string()),
			},
			receiver,
		))
	}

	/// Makes the handles of `topics` (full names), through which messages to them are sent. Call it once they
	/// exist: a handle makes librdkafka ask the cluster about its topic, which may create it with the broker's
	/// defaults (`allow.auto.create.topics`) instead of the sink's partitions and settings.
	pub fn use_topics(&mut self, topics: &[String]) {
		use rdkafka::producer::Producer;
		// SAFETY: the client lives as long as `self`, which drops the handles first.
		self.topics = unsafe { TopicHandles::new(self.producer.client().native_ptr(), topics) };
	}

	/// Tells the delivery callback that action `seq` is about to send `messages` messages, so that it reports the
	/// action once, as [`Report::Acknowledged`], when Kafka acknowledged them all; `kill_on_ack` is the
	/// `kill-after-ack` test fault. Call it before the action's first message is sent.
	pub fn expect(&self, seq: u64, messages: usize, kill_on_ack: bool) {
		use rdkafka::producer::Producer;
		self.producer.client().context().expected.expect(seq, messages, kill_on_ack);
	}

	/// librdkafka's last error report (e.g. a TLS handshake or authentication failure), if any.
	pub fn last_error(&self) -> Option<String> {
		use rdkafka::producer::Producer;
		self.producer.client().context().last_error.lock().expect("never poisoned").clone()
	}

	/// Raises a librdkafka fatal error on this producer through librdkafka's own test hook (tests only: a real
	/// broker can't be made to cause one on demand).
	#[doc(hidden)]
	pub fn raise_fatal_error_for_tests(&self, reason: &str) {
		use rdkafka::producer::Producer;
		let reason = std::ffi::CString::new(reason).expect("a test reason has no NUL byte");
		// SAFETY: the client pointer is valid while `self` lives; librdkafka copies the reason.
		unsafe {
			rdkafka::bindings::rd_kafka_test_fatal_error(
				self.producer.client().native_ptr(),
				rdkafka::types::RDKafkaRespErr::RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
				reason.as_ptr(),
			);
		}
	}

	/// Hands one message of action `seq` (about `what`) to librdkafka, for `partition`, waiting while its queue is
	/// full. A message librdkafka refuses for good (e.g. larger than `message.max.bytes`) is
	/// [`SinkError::Rejected`].
	pub async fn send(
		&self,
		seq: u64,
		what: &str,
		message: &OutgoingMessage,
		partition: i32,
		is_event: bool,
	) -> Result<(), SinkError> {
		while !self.try_send(seq, what, message, partition, is_event)? {
			tokio::time::sleep(QUEUE_FULL_WAIT).await;
		}
		Ok(())
	}

	/// [`Self::send`] without waiting: `Ok(false)` when librdkafka's queue is full (nothing was queued; try again
	/// once it drained).
	fn try_send(
		&self,
		seq: u64,
		what: &str,
		message: &OutgoingMessage,
		partition: i32,
		is_event: bool,
	) -> Result<bool, SinkError> {
		match self.try_send_one(seq, what, message, partition, is_event, false) {
			Err(SinkError::Rejected { reason, .. }) if self.on_rejected == OnRejected::StandIn => {
				// Refused before it left (e.g. over `message.max.bytes`): the stand-in takes its place in order.
				let queued =
					self.try_send_one(seq, what, &stand_in(Rejected::of(message), &reason), partition, false, true)?;
				// Told once, when the stand-in is queued (a full queue retries the message, and it is refused again).
				if queued {
					log::warn!(
						target: LOG_TARGET,
						"Kafka will never accept message {} of {what} ({reason}); shipping a MessageRejected stand-in \
						 instead",
						message.id
					);
					if let Some(metrics) = &self.metrics {
						metrics.rejected(&message.topic, true);
					}
				}
				Ok(queued)
			}
			Err(error @ SinkError::Rejected { .. }) => {
				if let Some(metrics) = &self.metrics {
					metrics.rejected(&message.topic, false);
				}
				Err(error)
			}
			other => other,
		}
	}

	/// Hands the stand-in of a message the broker refused to librdkafka; if it is refused too, the sink stops.
	pub async fn send_stand_in(
		&self,
		seq: u64,
		what: &str,
		stand_in: &OutgoingMessage,
		partition: i32,
	) -> Result<(), SinkError> {
		while !self.try_send_one(seq, what, stand_in, partition, false, true)? {
			tokio::time::sleep(QUEUE_FULL_WAIT).await;
		}
		Ok(())
	}

	/// Queues one message with its headers; `Ok(false)` when librdkafka's queue is full.
	fn try_send_one(
		&self,
		seq: u64,
		what: &str,
		message: &OutgoingMessage,
		partition: i32,
		is_event: bool,
		is_stand_in: bool,
	) -> Result<bool, SinkError> {
		// Signed before the headers borrow it.
		let signature = self.signing_key.as_ref().map(|signing_key| signing_key.sign(&message.payload));
		let mut headers: [NativeHeader<'_>; MAX_HEADERS] = [(c"", &[]); MAX_HEADERS];
		let mut count = 0;
		macro_rules! add {
			($key:expr, $value:expr) => {{
				headers[count] = ($key, $value);
				count += 1;
			}};
		}
		for (header, (key, value)) in EnvelopeHeader::ALL.into_iter().zip(message.headers()) {
			debug_assert_eq!(header.key(), key, "the message's headers come in EnvelopeHeader::ALL's order");
			if self.headers.contains(header) {
				add!(header.c_key(), value);
			}
		}
		if let Some(epoch) = &self.leader_epoch {
			add!(LEADER_EPOCH_KEY, epoch.as_bytes());
		}
		if let Some(epoch) = &self.run_epoch {
			add!(RUN_EPOCH_KEY, epoch.as_bytes());
		}
		if let (Some(signing_key), Some(signature)) = (&self.signing_key, &signature) {
			add!(SIGNATURE_KEY, signature.as_bytes());
			add!(KEY_ID_KEY, signing_key.id().as_bytes());
		}
		let ticket = Ticket { seq, is_event, is_stand_in }.pack();
		let native_message = NativeMessage {
			topic: &message.topic,
			partition,
			key: message.key.as_deref(),
			payload: &message.payload,
			headers: &headers[..count],
			opaque: ticket,
		};
		use rdkafka::producer::Producer;
		// SAFETY: the client lives while `self` does; its delivery callback gives back what is lent
		// (`SinkContext::delivery`).
		match unsafe { native::produce(self.producer.client().native_ptr(), &self.topics, &native_message) } {
			Ok(()) => Ok(true),
			// Backpressure: librdkafka's queue drains as Kafka acknowledges.
			Err(KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)) => Ok(false),
			Err(error) if error.rdkafka_error_code().is_some_and(is_permanent) => Err(SinkError::Rejected {
				what: what.to_string(),
				id: message.id.clone(),
				reason: format!("{error}, topic {}, {} bytes", message.topic, message.payload.len()),
			}),
			Err(error) => Err(SinkError::Kafka(format!("producing to {}: {error}", message.topic))),
		}
	}
}

/// How long a message waits before it is offered again to a full librdkafka queue.
const QUEUE_FULL_WAIT: Duration = Duration::from_millis(5);

#[cfg(test)]
pub(crate) mod tests {
	use rdkafka::mocking::MockCluster;

	use super::*;
	use crate::{
		config::{Follow, StartFrom},
		mapping::Mappings,
	};

	/// A finalized-mode configuration for `brokers` with small bounds.
	pub(crate) fn config(brokers: String) -> SinkConfig {
		SinkConfig {
			brokers,
			topic_prefix: "p".into(),
			topic_partitions: 1,
			topic_replication_factor: None,
			topic_configs: Vec::new(),
			kafka_properties: Vec::new(),
			start_from: StartFrom::Genesis,
			required: false,
			read_ahead_blocks: 8,
			read_ahead_messages: 1000,
			encode_threads: 2,
			mappings: Mappings::default(),
			follow: Follow::Finalized,
			max_unfinalized_blocks: 8,
			on_rejected: OnRejected::Stop,
			signing_key: None,
			headers: Default::default(),
			ha: None,
			leader: None,
		}
	}

	#[test]
	fn header_keys_are_the_documented_ones() {
		use crate::kafka::signing::{KEY_ID_HEADER, SIGNATURE_HEADER};
		for (key, header) in [
			(LEADER_EPOCH_KEY, LEADER_EPOCH_HEADER),
			(RUN_EPOCH_KEY, RUN_EPOCH_HEADER),
			(SIGNATURE_KEY, SIGNATURE_HEADER),
			(KEY_ID_KEY, KEY_ID_HEADER),
		] {
			assert_eq!(key.to_str(), Ok(header));
		}
		for header in EnvelopeHeader::ALL {
			assert_eq!(header.c_key().to_str(), Ok(header.key()));
		}
	}

	#[test]
	fn a_ticket_survives_packing() {
		for ticket in [
			Ticket { seq: 1, is_event: false, is_stand_in: false },
			Ticket { seq: 7, is_event: true, is_stand_in: false },
			Ticket { seq: MAX_SEQ, is_event: true, is_stand_in: true },
			Ticket { seq: 12345, is_event: false, is_stand_in: true },
		] {
			assert_eq!(Ticket::unpack(ticket.pack()), ticket);
		}
	}

	/// A message of `bytes` bytes for the topic `topic`.
	fn message(topic: &str, n: usize, bytes: usize) -> OutgoingMessage {
		OutgoingMessage {
			id: format!("0xab:{n}"),
			topic: topic.into(),
			key: Some(b"key".as_slice().into()),
			payload: vec![b'x'; bytes].into(),
			headers: crate::envelope::MessageHeaders {
				name: "Test".into(),
				event_type: crate::mapping::EventType::Domain,
				block_hash: "0xab".into(),
				finalized: true,
			},
		}
	}

	/// Every report until `done` says stop, within 10 s.
	async fn reports_until(
		reports: &mut mpsc::UnboundedReceiver<Report>,
		mut done: impl FnMut(&[Report]) -> bool,
	) -> Vec<Report> {
		let mut seen = Vec::new();
		tokio::time::timeout(Duration::from_secs(10), async {
			while !done(&seen) {
				seen.push(reports.recv().await.expect("the producer reports"));
			}
		})
		.await
		.unwrap_or_else(|_| panic!("no end of reports within 10 s: {seen:?}"));
		seen
	}

	#[tokio::test]
	async fn an_expected_action_is_reported_once_and_its_lent_payloads_are_given_back() {
		let cluster = MockCluster::new(1).unwrap();
		cluster.create_topic("p.t", 1, 1).unwrap();
		let (mut producer, mut reports) = KafkaProducer::new(&config(cluster.bootstrap_servers()), None, None).unwrap();
		// Through the topic's handle; the other test names its topic in each call.
		producer.use_topics(&["p.t".to_string()]);
		let messages: Vec<OutgoingMessage> = (0..50).map(|n| message("p.t", n, 100 + n)).collect();
		producer.expect(3, messages.len(), false);
		for message in &messages {
			producer.send(3, "block #3", message, 0, true).await.unwrap();
		}
		// An action the producer was not told about (the epoch markers) is reported message by message.
		let unexpected = message("p.t", 99, 10);
		producer.send(4, "markers", &unexpected, 0, false).await.unwrap();
		let seen = reports_until(&mut reports, |seen| {
			seen.iter().any(|r| matches!(r, Report::Acknowledged(3)))
				&& seen.iter().any(|r| matches!(r, Report::Delivery(Delivery { seq: 4, .. })))
		})
		.await;
		assert_eq!(seen.len(), 2, "one report for the 50 messages of action 3, one for action 4's: {seen:?}");
		assert!(matches!(
			seen.iter().find(|r| matches!(r, Report::Delivery(_))),
			Some(Report::Delivery(Delivery { result: Ok(()), .. }))
		));
		// librdkafka borrowed every payload without a copy and gave each reference back at its delivery report:
		// none is leaked, none given back twice.
		for message in messages.iter().chain([&unexpected]) {
			assert_eq!(std::sync::Arc::strong_count(&message.payload), 1, "{}", message.id);
		}
	}

	#[tokio::test]
	async fn a_refused_message_gives_its_payload_back_and_fails_its_action() {
		let cluster = MockCluster::new(1).unwrap();
		cluster.create_topic("p.t", 1, 1).unwrap();
		let (producer, mut reports) = KafkaProducer::new(&config(cluster.bootstrap_servers()), None, None).unwrap();
		// Refused by librdkafka at once (over `message.max.bytes`): nothing queued, the reference given back.
		let huge = message("p.t", 0, 2_000_000);
		producer.expect(5, 2, false);
		let error = producer.send(5, "block #5", &huge, 0, true).await.unwrap_err();
		assert!(matches!(error, SinkError::Rejected { .. }), "{error}");
		assert_eq!(std::sync::Arc::strong_count(&huge.payload), 1);
		// No such partition: refused at once once librdkafka knows the topic, else reported as the action's
		// failure; either way the reference is given back.
		let lost = message("p.t", 1, 10);
		if producer.send(5, "block #5", &lost, 7, true).await.is_ok() {
			let seen = reports_until(&mut reports, |seen| !seen.is_empty()).await;
			assert!(matches!(&seen[0], Report::Delivery(Delivery { seq: 5, result: Err(_) })), "{seen:?}");
		}
		assert_eq!(std::sync::Arc::strong_count(&lost.payload), 1);
	}

	#[tokio::test]
	async fn a_fatal_error_is_reported_with_librdkafkas_reason() {
		let cluster = MockCluster::new(1).unwrap();
		let (producer, mut reports) = KafkaProducer::new(&config(cluster.bootstrap_servers()), None, None).unwrap();
		producer.raise_fatal_error_for_tests("injected by the test");
		let report = tokio::time::timeout(Duration::from_secs(10), async {
			loop {
				match reports.recv().await.expect("the producer reports") {
					Report::Fatal(reason) => break reason,
					Report::Delivery(_) | Report::Acknowledged(_) => continue,
				}
			}
		})
		.await
		.expect("a fatal error is reported within 10 s");
		assert!(report.contains("injected by the test"), "librdkafka's reason is kept: {report}");
	}
}
