//! Fault injection with librdkafka's in-process `MockCluster`: the sink's shipping loop against brokers that go
//! down and come back, and against produce requests that fail. Nothing acknowledged is lost, nothing is shipped
//! twice within a run, and the cursor never passes a block Kafka did not fully acknowledge.
//! The follower's re-org logic has its own property tests; here the chain is linear and final, except in the
//! best-mode test at the end: a re-org while the broker is down.

use std::{
	collections::HashMap,
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

use herald_event_sink::{
	block::reader::BlockReader,
	config::{Follow, OnRejected, SinkConfig, StartFrom},
	encode_pool::LoadedBlock,
	envelope::{
		route::{KeyRule, Route},
		BlockContext,
	},
	error::SinkError,
	follow::{BlockId, BlockLink, ChainView, Heads},
	mapping::Mappings,
	store::{Change, MemoryStateStore, SinkState, StateStore},
	stream::{BlockEnvelope, CommittedBlock, Origin},
	worker::{self, Parts},
};
use rdkafka::{
	consumer::{BaseConsumer, Consumer},
	mocking::MockCluster,
	types::{RDKafkaApiKey, RDKafkaRespErr},
	ClientConfig, Message, Offset, TopicPartitionList,
};
use tokio::sync::watch;

const TOPIC: &str = "faults.events";
const MESSAGES_PER_BLOCK: usize = 20;

type Hash = [u8; 8];

fn link(number: u64) -> BlockLink<Hash> {
	BlockLink { number, hash: number.to_be_bytes(), parent: number.saturating_sub(1).to_be_bytes() }
}

/// A linear chain of synthetic blocks: block `n` has hash `n` (big-endian) and `MESSAGES_PER_BLOCK` messages; the
/// best block is the finalized one.
struct FakeChain {
	finalized: Arc<Mutex<u64>>,
}

impl ChainView for FakeChain {
	type Hash = Hash;

	fn heads(&self) -> Result<Heads<Hash>, SinkError> {
		let head = link(*self.finalized.lock().unwrap()).id();
		Ok(Heads { best: head, finalized: head })
	}

	fn canonical(&self, number: u64) -> Result<Option<BlockLink<Hash>>, SinkError> {
		Ok((number <= *self.finalized.lock().unwrap()).then(|| link(number)))
	}
}

/// Reads the fake chain; block `huge_at`'s first message is larger than librdkafka's `message.max.bytes`.
struct FakeReader {
	huge_at: Option<u64>,
}

impl BlockReader for FakeReader {
	type Hash = Hash;

	fn chain(&self) -> &str {
		"0x00"
	}

	fn load(&mut self, block: &BlockLink<Hash>, _finalized: bool) -> Result<LoadedBlock, SinkError> {
		let number = block.number;
		// The sink's prefix ("faults") makes the topic `faults.events`.
		let route = Arc::new(Route {
			name: "Fake".into(),
			event_type: herald_event_sink::mapping::EventType::Domain,
			topic: TOPIC.strip_prefix("faults.").expect("prefixed").into(),
			key: KeyRule::Fixed(b"chain"[..].into()),
		});
		let envelopes = (0..MESSAGES_PER_BLOCK)
			.map(|i| {
				let mut payload = format!(r#"{{"block":{number},"index":{i}}}"#).into_bytes();
				if self.huge_at == Some(number) && i == 0 {
					payload.resize(2_000_000, b' ');
				}
				BlockEnvelope {
					id: format!("{number}:{i}"),
					route: route.clone(),
					json: payload.into(),
					data: 0..0,
					origin: Origin::Event { index: i as u32, pallet: "Fake".into(), variant: "Fake".into() },
				}
			})
			.collect();
		let context = BlockContext {
			chain: "0x00".into(),
			number,
			hash: "0x00".into(),
			parent_hash: "0x00".into(),
			spec_version: 1,
			timestamp: None,
			finalized: true,
		};
		Ok(LoadedBlock::ready(CommittedBlock { context, block_hash: "0x00".into(), envelopes }))
	}
}

/// The state in memory, shared with the test, checking that the cursor only moves forward.
struct SharedStore(Arc<Mutex<MemoryStateStore<Hash>>>);

impl StateStore<Hash> for SharedStore {
	fn load(&self) -> Result<SinkState<Hash>, SinkError> {
		self.0.lock().unwrap().load()
	}

	fn commit(&mut self, changes: Vec<Change<Hash>>) -> Result<(), SinkError> {
		let mut store = self.0.lock().unwrap();
		for change in &changes {
			if let Change::Cursor(cursor) = change {
				assert!(store.cursor.map_or(true, |s| s.number <= cursor.number), "the cursor only moves forward");
			}
		}
		store.commit(changes)
	}
}

fn config(brokers: String, required: bool) -> SinkConfig {
	SinkConfig {
		brokers,
		topic_prefix: "faults".into(),
		topic_partitions: 1,
		topic_replication_factor: None,
		topic_configs: Vec::new(),
		kafka_properties: vec!["retry.backoff.ms=50".parse().unwrap()],
		start_from: StartFrom::Block(1),
		required,
		read_ahead_blocks: 8,
		read_ahead_messages: 1000,
		encode_threads: 2,
		mappings: Mappings::default(),
		follow: Follow::Finalized,
		max_unfinalized_blocks: 64,
		on_rejected: OnRejected::Stop,
		signing_key: None,
		headers: Default::default(),
		ha: None,
		leader: None,
	}
}

/// Runs the sink in the background; returns the shared chain head, cursor, and the finished error.
struct Running {
	finalized: Arc<Mutex<u64>>,
	heads: watch::Sender<u64>,
	store: Arc<Mutex<MemoryStateStore<Hash>>>,
	outcome: Arc<Mutex<Option<SinkError>>>,
}

impl Running {
	fn start(config: SinkConfig) -> Self {
		Self::start_with(config, None)
	}

	fn start_with(config: SinkConfig, huge_at: Option<u64>) -> Self {
		let finalized = Arc::new(Mutex::new(0));
		let store = Arc::new(Mutex::new(MemoryStateStore::default()));
		let outcome = Arc::new(Mutex::new(None));
		let (heads, receiver) = watch::channel(0);
		let parts = Parts {
			chain: FakeChain { finalized: finalized.clone() },
			reader: FakeReader { huge_at },
			store: SharedStore(store.clone()),
		};
		let done = outcome.clone();
		std::thread::spawn(move || {
			let runtime = tokio::runtime::Runtime::new().unwrap();
			let error = runtime.block_on(worker::run(parts, config, None, receiver));
			*done.lock().unwrap() = Some(error);
		});
		Running { finalized, heads, store, outcome }
	}

	fn finalize_up_to(&self, number: u64) {
		*self.finalized.lock().unwrap() = number;
		self.heads.send_replace(number);
	}

	fn cursor(&self) -> u64 {
		self.store.lock().unwrap().cursor.map_or(0, |c: BlockId<Hash>| c.number)
	}

	fn wait_for_cursor(&self, number: u64, timeout: Duration) {
		let deadline = Instant::now() + timeout;
		while self.cursor() < number {
			assert!(
				Instant::now() < deadline,
				"cursor at {} after {timeout:?}, expected {number}; sink outcome: {:?}",
				self.cursor(),
				self.outcome.lock().unwrap()
			);
			std::thread::sleep(Duration::from_millis(50));
		}
	}
}

/// The mock cluster has no admin API: create the sink's topics up front, as an operator of a cluster that
/// refuses CreateTopics would.
fn create_topics(cluster: &MockCluster<'_, rdkafka::producer::DefaultProducerContext>) {
	for topic in [TOPIC, "faults.blocks"] {
		cluster.create_topic(topic, 1, 1).unwrap();
	}
}

/// Every message id in the topic, with how often it occurs.
fn shipped(cluster: &MockCluster<'_, rdkafka::producer::DefaultProducerContext>) -> HashMap<String, usize> {
	let mut ids = HashMap::new();
	for (id, _) in payloads(cluster) {
		*ids.entry(id).or_insert(0) += 1;
	}
	ids
}

fn assert_exactly_once(ids: &HashMap<String, usize>, blocks: std::ops::RangeInclusive<u64>) {
	for block in blocks {
		for i in 0..MESSAGES_PER_BLOCK {
			let id = format!("{block}:{i}");
			assert_eq!(ids.get(&id), Some(&1), "message {id} must be shipped exactly once");
		}
	}
}

#[test]
fn broker_down_then_up_loses_nothing_and_duplicates_nothing() {
	let cluster = MockCluster::new(1).unwrap();
	create_topics(&cluster);
	let sink = Running::start(config(cluster.bootstrap_servers(), false));

	sink.finalize_up_to(30);
	sink.wait_for_cursor(30, Duration::from_secs(30));

	cluster.broker_down(1).unwrap();
	sink.finalize_up_to(80);
	std::thread::sleep(Duration::from_secs(3));
	let during_outage = sink.cursor();
	assert_eq!(during_outage, 30, "nothing can be acknowledged while the broker is down: the cursor stays");

	cluster.broker_up(1).unwrap();
	sink.wait_for_cursor(80, Duration::from_secs(60));
	assert!(sink.outcome.lock().unwrap().is_none(), "the sink kept running");

	assert_exactly_once(&shipped(&cluster), 1..=80);
}

#[test]
fn retriable_produce_errors_are_retried_without_duplicates() {
	let cluster = MockCluster::new(1).unwrap();
	create_topics(&cluster);
	cluster.request_errors(
		RDKafkaApiKey::Produce,
		&[
			RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
			RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
			RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
			RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
		],
	);
	let sink = Running::start(config(cluster.bootstrap_servers(), false));
	sink.finalize_up_to(40);
	sink.wait_for_cursor(40, Duration::from_secs(60));
	assert_exactly_once(&shipped(&cluster), 1..=40);
}

#[test]
fn a_rejected_message_stops_the_cursor_before_its_block() {
	let cluster = MockCluster::new(1).unwrap();
	create_topics(&cluster);
	let sink = Running::start(config(cluster.bootstrap_servers(), true));
	sink.finalize_up_to(10);
	sink.wait_for_cursor(10, Duration::from_secs(30));

	// A permanent error: the block cannot be acknowledged, so the cursor must not pass it.
	cluster.request_errors(RDKafkaApiKey::Produce, &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 50]);
	sink.finalize_up_to(20);
	let deadline = Instant::now() + Duration::from_secs(30);
	while sink.outcome.lock().unwrap().is_none() {
		assert!(Instant::now() < deadline, "with --kafka-required the failure ends the sink");
		std::thread::sleep(Duration::from_millis(50));
	}
	let error = sink.outcome.lock().unwrap().take().unwrap();
	assert!(error.to_string().contains("Kafka will never accept message 11:"), "{error}");
	assert!(error.to_string().contains("of block #11"), "{error}");
	assert!(error.to_string().contains("authorization"), "names librdkafka's reason: {error}");
	assert!(sink.cursor() < 20, "the cursor stays before the unacknowledged block");
	assert_eq!(sink.cursor(), 10);
}

/// A message Kafka will never accept does not wedge the sink in a restart loop on its block: the sink stops,
/// naming the block, the message and the reason, and the cursor stays before that block.
#[test]
fn a_message_larger_than_kafka_accepts_stops_the_sink_naming_it() {
	let cluster = MockCluster::new(1).unwrap();
	create_topics(&cluster);
	let sink = Running::start_with(config(cluster.bootstrap_servers(), false), Some(5));
	sink.finalize_up_to(10);
	let deadline = Instant::now() + Duration::from_secs(30);
	while sink.outcome.lock().unwrap().is_none() {
		assert!(Instant::now() < deadline, "a permanent rejection ends the sink, even without --kafka-required");
		std::thread::sleep(Duration::from_millis(50));
	}
	let error = sink.outcome.lock().unwrap().take().unwrap();
	let text = error.to_string();
	assert!(error.is_fatal(), "{text}");
	assert!(text.contains("message 5:0 of block #5"), "{text}");
	assert!(text.contains("too large"), "names the reason: {text}");
	assert!(text.contains("message.max.bytes"), "names the fix: {text}");
	std::thread::sleep(Duration::from_secs(1));
	assert_eq!(sink.cursor(), 4, "the cursor stops right before the block");
}

/// Every message in the topic: its id (the `id` header) and its payload as JSON (`null` if it is not), in order.
fn payloads(cluster: &MockCluster<'_, rdkafka::producer::DefaultProducerContext>) -> Vec<(String, serde_json::Value)> {
	topic_payloads(cluster, TOPIC)
}

/// [`payloads`] of any topic's partition 0.
fn topic_payloads(
	cluster: &MockCluster<'_, rdkafka::producer::DefaultProducerContext>,
	topic: &str,
) -> Vec<(String, serde_json::Value)> {
	let consumer: BaseConsumer = ClientConfig::new()
		.set("bootstrap.servers", cluster.bootstrap_servers())
		.set("group.id", "faults")
		.set("enable.auto.commit", "false")
		.create()
		.unwrap();
	let mut assignment = TopicPartitionList::new();
	assignment.add_partition_offset(topic, 0, Offset::Beginning).unwrap();
	consumer.assign(&assignment).unwrap();
	let mut messages = Vec::new();
	let mut idle_since = Instant::now();
	while idle_since.elapsed() < Duration::from_secs(3) {
		if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
			use rdkafka::message::Headers;
			let id = String::from_utf8(message.headers().unwrap().get(0).value.unwrap().to_vec()).unwrap();
			let payload = serde_json::from_slice(message.payload().unwrap_or_default()).unwrap_or_default();
			messages.push((id, payload));
			idle_since = Instant::now();
		}
	}
	messages
}

fn stand_in_config(brokers: String) -> SinkConfig {
	SinkConfig { on_rejected: OnRejected::StandIn, ..config(brokers, true) }
}

/// `--kafka-on-rejected stand-in`: a message over `message.max.bytes` (refused before it leaves) is replaced, in
/// its place, by a small `MessageRejected` envelope with the same id; the sink goes on and the block completes.
#[test]
fn a_message_refused_before_sending_ships_a_stand_in_in_its_place() {
	let cluster = MockCluster::new(1).unwrap();
	create_topics(&cluster);
	let sink = Running::start_with(stand_in_config(cluster.bootstrap_servers()), Some(5));
	sink.finalize_up_to(10);
	sink.wait_for_cursor(10, Duration::from_secs(30));
	assert!(sink.outcome.lock().unwrap().is_none(), "the sink kept running");

	let messages = payloads(&cluster);
	let ids: Vec<&str> = messages.iter().map(|(id, _)| id.as_str()).collect();
	let expected: Vec<String> =
		(1..=10).flat_map(|b| (0..MESSAGES_PER_BLOCK).map(move |i| format!("{b}:{i}"))).collect();
	assert_eq!(ids, expected, "every id once, the stand-in in the rejected message's place");
	let (_, stand_in) = messages.iter().find(|(id, _)| id == "5:0").unwrap();
	assert_eq!(stand_in["name"], "MessageRejected", "{stand_in}");
	assert_eq!(stand_in["data"]["bytes"], 2_000_000);
	assert!(stand_in["data"]["reason"].as_str().unwrap().contains("too large"), "{stand_in}");
}

/// `--kafka-on-rejected stand-in` when the broker refuses messages (its own size limit, a policy): each refused
/// message is replaced by a stand-in with the same id; nothing is lost and nothing stops.
#[test]
fn messages_the_broker_refuses_ship_stand_ins_and_the_sink_goes_on() {
	let cluster = MockCluster::new(1).unwrap();
	create_topics(&cluster);
	let sink = Running::start(stand_in_config(cluster.bootstrap_servers()));
	sink.finalize_up_to(3);
	sink.wait_for_cursor(3, Duration::from_secs(30));

	// One produce request refused (its whole batch); a second one would refuse the stand-ins, which stops the sink.
	cluster.request_errors(RDKafkaApiKey::Produce, &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE]);
	sink.finalize_up_to(10);
	sink.wait_for_cursor(10, Duration::from_secs(60));
	assert!(sink.outcome.lock().unwrap().is_none(), "the sink kept running");

	let messages = payloads(&cluster);
	let mut counts: HashMap<&str, usize> = HashMap::new();
	for (id, _) in &messages {
		*counts.entry(id.as_str()).or_default() += 1;
	}
	for block in 1..=10u64 {
		for i in 0..MESSAGES_PER_BLOCK {
			let id = format!("{block}:{i}");
			assert_eq!(counts.get(id.as_str()), Some(&1), "{id} arrives exactly once (itself or its stand-in)");
		}
	}
	let stand_ins = messages.iter().filter(|(_, payload)| payload["name"] == "MessageRejected").count();
	assert!(stand_ins > 0, "the refused messages were replaced");
	eprintln!("{stand_ins} stand-ins for messages the broker refused");
}

/// A broker that refuses a topic as a whole refuses the stand-ins too: the sink stops naming the message, rather
/// than replacing stand-ins with stand-ins forever.
#[test]
fn a_refused_stand_in_stops_the_sink_instead_of_looping() {
	let cluster = MockCluster::new(1).unwrap();
	create_topics(&cluster);
	let sink = Running::start(stand_in_config(cluster.bootstrap_servers()));
	sink.finalize_up_to(2);
	sink.wait_for_cursor(2, Duration::from_secs(30));

	cluster
		.request_errors(RDKafkaApiKey::Produce, &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED; 500]);
	sink.finalize_up_to(6);
	let deadline = Instant::now() + Duration::from_secs(30);
	while sink.outcome.lock().unwrap().is_none() {
		assert!(Instant::now() < deadline, "a refused stand-in ends the sink");
		std::thread::sleep(Duration::from_millis(50));
	}
	let error = sink.outcome.lock().unwrap().take().unwrap().to_string();
	assert!(error.contains("Kafka will never accept message 3:"), "{error}");
	assert_eq!(sink.cursor(), 2, "the cursor stays before the refused block");
}

// Best mode: a re-org while the broker is down.

/// Blocks up to here are the same on both branches.
const FORK_AT: u64 = 4;

/// Block `number`'s hash on `branch` (the branch in the first byte, above the fork point).
fn fork_hash(number: u64, branch: u8) -> Hash {
	let mut hash = number.to_be_bytes();
	hash[0] = if number <= FORK_AT { 0 } else { branch };
	hash
}

fn fork_link(number: u64, branch: u8) -> BlockLink<Hash> {
	BlockLink { number, hash: fork_hash(number, branch), parent: fork_hash(number.saturating_sub(1), branch) }
}

#[derive(Clone, Copy)]
struct Fork {
	finalized: u64,
	best: u64,
	branch: u8,
}

/// A chain with two branches after [`FORK_AT`]; which one is best can change at any time.
struct ForkChain(Arc<Mutex<Fork>>);

impl ChainView for ForkChain {
	type Hash = Hash;

	fn heads(&self) -> Result<Heads<Hash>, SinkError> {
		let fork = *self.0.lock().unwrap();
		Ok(Heads {
			best: fork_link(fork.best, fork.branch).id(),
			finalized: fork_link(fork.finalized, fork.branch).id(),
		})
	}

	fn canonical(&self, number: u64) -> Result<Option<BlockLink<Hash>>, SinkError> {
		let fork = *self.0.lock().unwrap();
		Ok((number <= fork.best).then(|| fork_link(number, fork.branch)))
	}
}

/// Reads any block of either branch: `MESSAGES_PER_BLOCK` messages with ids `"{block hash}:{i}"`.
struct ForkReader;

impl BlockReader for ForkReader {
	type Hash = Hash;

	fn chain(&self) -> &str {
		"0x00"
	}

	fn load(&mut self, block: &BlockLink<Hash>, finalized: bool) -> Result<LoadedBlock, SinkError> {
		let hash = format!("0x{}", hex::encode(block.hash));
		let route = Arc::new(Route {
			name: "Fake".into(),
			event_type: herald_event_sink::mapping::EventType::Domain,
			topic: "events".into(),
			key: KeyRule::Fixed(b"chain"[..].into()),
		});
		let envelopes = (0..MESSAGES_PER_BLOCK)
			.map(|i| BlockEnvelope {
				id: format!("{hash}:{i}"),
				route: route.clone(),
				json: format!(r#"{{"block":"{hash}","index":{i}}}"#).into_bytes().into(),
				data: 0..0,
				origin: Origin::Event { index: i as u32, pallet: "Fake".into(), variant: "Fake".into() },
			})
			.collect();
		let context = BlockContext {
			chain: "0x00".into(),
			number: block.number,
			hash: hash.clone(),
			parent_hash: format!("0x{}", hex::encode(block.parent)),
			spec_version: 1,
			timestamp: None,
			finalized,
		};
		Ok(LoadedBlock::ready(CommittedBlock { context, block_hash: hash.as_str().into(), envelopes }))
	}
}

fn wait_until(what: &str, timeout: Duration, mut condition: impl FnMut() -> bool) {
	let deadline = Instant::now() + timeout;
	while !condition() {
		assert!(Instant::now() < deadline, "{what}: not after {timeout:?}");
		std::thread::sleep(Duration::from_millis(50));
	}
}

/// Best mode ships branch A; the broker goes down; the best chain switches to branch B. The retractions of A's
/// blocks wait in the journal (`Retracting`) until the broker is back; then B ships and finalizes. Applying the
/// consumer rule to the events partition alone leaves exactly branch B's ids: nothing of A survives, nothing of
/// the canonical chain is missing.
#[test]
fn best_mode_a_reorg_while_the_broker_is_down_retracts_the_lost_branch_and_loses_nothing() {
	use herald_event_sink::store::EntryState;

	let cluster = MockCluster::new(1).unwrap();
	create_topics(&cluster);
	let fork = Arc::new(Mutex::new(Fork { finalized: 2, best: 12, branch: 1 }));
	let store = Arc::new(Mutex::new(MemoryStateStore::default()));
	let outcome = Arc::new(Mutex::new(None));
	let (heads, receiver) = watch::channel(0);
	let parts = Parts { chain: ForkChain(fork.clone()), reader: ForkReader, store: SharedStore(store.clone()) };
	let config = SinkConfig { follow: Follow::Best, ..config(cluster.bootstrap_servers(), false) };
	let done = outcome.clone();
	std::thread::spawn(move || {
		let runtime = tokio::runtime::Runtime::new().unwrap();
		let error = runtime.block_on(worker::run(parts, config, None, receiver));
		*done.lock().unwrap() = Some(error);
	});
	let journal = |state: EntryState| -> Vec<u64> {
		let store = store.lock().unwrap();
		store.journal.iter().filter(|e| e.state == state).map(|e| e.block.number).collect()
	};

	// Branch A, #3..#12, shipped and acknowledged, not final.
	heads.send_replace(1);
	wait_until("branch A acknowledged", Duration::from_secs(30), || journal(EntryState::Shipped).len() == 10);

	cluster.broker_down(1).unwrap();
	*fork.lock().unwrap() = Fork { finalized: 2, best: 14, branch: 2 };
	heads.send_replace(2);
	wait_until("a retraction handed over while the broker is down", Duration::from_secs(30), || {
		!journal(EntryState::Retracting).is_empty()
	});
	assert_eq!(store.lock().unwrap().cursor.map(|c| c.number), Some(2), "nothing new is final");

	cluster.broker_up(1).unwrap();
	*fork.lock().unwrap() = Fork { finalized: 14, best: 14, branch: 2 };
	heads.send_replace(3);
	wait_until("branch B final and the journal empty", Duration::from_secs(60), || {
		let store = store.lock().unwrap();
		store.cursor.map(|c| c.number) == Some(14) && store.journal.is_empty()
	});
	assert!(outcome.lock().unwrap().is_none(), "the sink kept running: {:?}", outcome.lock().unwrap());

	// The consumer rule, on the events partition alone: upsert by id, delete what a retraction names.
	let mut held = std::collections::BTreeSet::new();
	let mut retracted = 0;
	for (id, payload) in topic_payloads(&cluster, TOPIC) {
		if payload["name"] == "BlockRetracted" {
			retracted += 1;
			for id in payload["data"]["event_ids"].as_array().expect("event_ids") {
				held.remove(id.as_str().unwrap());
			}
		} else {
			held.insert(id);
		}
	}
	let expected: std::collections::BTreeSet<String> = (1..=14)
		.flat_map(|number| {
			let hash = format!("0x{}", hex::encode(fork_hash(number, 2)));
			(0..MESSAGES_PER_BLOCK).map(move |i| format!("{hash}:{i}"))
		})
		.collect();
	assert_eq!(retracted, 8, "one retraction per block of A above the fork (#5..#12)");
	assert_eq!(held, expected, "exactly branch B's ids remain");
}
