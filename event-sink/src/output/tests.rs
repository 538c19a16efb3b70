//! The real driver over random fork trees, with an in-memory output: acknowledgements in random order across
//! partitions, the chain changing while blocks are read and built, and crashes at random moments (the driver's
//! future is dropped mid-flight: only what the journal committed survives), and store writes that fail (nothing
//! written, the driver restarts from the store). Of what a dead run handed over and was not delivered, some is
//! lost and some lands **late**, at random moments after the next runs' messages (a request still in the network
//! or in a zombie broker's hands). After each run settles, every partition applied on its own by the consumer rule
//! (with its run-epoch fence) must hold exactly the canonical ids shipped there, every retraction must name only
//! ids its block has in that partition, and the cursor must be the finalized head.

use std::{
	collections::{BTreeMap, BTreeSet, HashMap},
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

use tokio::sync::watch;

use crate::{
	block::reader::BlockReader,
	config::{Follow, OnRejected, SinkConfig, StartFrom},
	encode_pool::LoadedBlock,
	envelope::BlockContext,
	error::SinkError,
	follow::{tests::Tree, BlockId, BlockLink, ChainView, Heads},
	kafka::request::retraction_targets,
	mapping::Mappings,
	output::{
		driver::{self, Parts},
		Ack, ActionInfo, Build, Output, Started,
	},
	status::StatusHandle,
	store::{identity::Identity, Change, EntryState, MemoryStateStore, Placement, SinkState, StateStore},
	stream::{BlockEnvelope, CommittedBlock, Origin},
};

type Hash = [u8; 8];
type Partition = (&'static str, i32);

fn hash(n: u64) -> Hash {
	n.to_be_bytes()
}

fn number_of(hex: &str) -> u64 {
	u64::from_str_radix(hex.trim_start_matches("0x"), 16).expect("a fake hash")
}

fn link(block: BlockLink<u64>) -> BlockLink<Hash> {
	BlockLink { number: block.number, hash: hash(block.hash), parent: hash(block.parent) }
}

/// The fork tree, shared with the test, which changes it while the driver runs.
#[derive(Clone)]
struct Chain(Arc<Mutex<Tree>>);

impl ChainView for Chain {
	type Hash = Hash;

	fn heads(&self) -> Result<Heads<Hash>, SinkError> {
		let heads = self.0.lock().unwrap().heads()?;
		let id = |id: BlockId<u64>| BlockId { number: id.number, hash: hash(id.hash) };
		Ok(Heads { best: id(heads.best), finalized: id(heads.finalized) })
	}

	fn canonical(&self, number: u64) -> Result<Option<BlockLink<Hash>>, SinkError> {
		Ok(self.0.lock().unwrap().canonical(number)?.map(link))
	}
}

/// The ids (suffixes) a block's envelopes have: `BlockCreated`, `hash % 4` events, `BlockFinalized` when final.
fn suffixes(hash: u64, finalized: bool) -> Vec<String> {
	let mut ids = vec!["BlockCreated".to_string()];
	ids.extend((0..hash % 4).map(|index| index.to_string()));
	if finalized {
		ids.push("BlockFinalized".into());
	}
	ids
}

/// The partition of the blocks' own envelopes, whose retractions list every id of their block.
const BLOCKS: Partition = ("blocks", 0);

/// Where an envelope goes: the block's own envelopes to the blocks partition, events over three partitions.
fn partition_of(hash: u64, suffix: &str) -> Partition {
	match suffix.parse::<u64>() {
		Ok(index) => ("events", ((hash * 31 + index) % 3) as i32),
		Err(_) => BLOCKS,
	}
}

struct Reader;

impl BlockReader for Reader {
	type Hash = Hash;

	fn chain(&self) -> &str {
		"0x00"
	}

	fn load(&mut self, block: &BlockLink<Hash>, finalized: bool) -> Result<LoadedBlock, SinkError> {
		let number = u64::from_be_bytes(block.hash);
		let context = BlockContext {
			chain: "0x00".into(),
			number: block.number,
			hash: format!("0x{number:x}"),
			parent_hash: format!("0x{:x}", u64::from_be_bytes(block.parent)),
			spec_version: 1,
			timestamp: None,
			finalized,
		};
		let envelopes =
			suffixes(number, finalized).iter().map(|suffix| BlockEnvelope::fake(suffix, Origin::Block)).collect();
		Ok(LoadedBlock::ready(CommittedBlock { block_hash: context.hash.as_str().into(), context, envelopes }))
	}
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Message {
	Event { block: u64, id: String },
	Retracted { block: u64, ids: Vec<String> },
}

struct MemoryBuild;

impl Build for MemoryBuild {
	type Batch = Vec<(Partition, Message)>;

	fn committed(&self, block: &CommittedBlock) -> Self::Batch {
		let number = number_of(&block.context.hash);
		block
			.envelopes
			.iter()
			.map(|envelope| {
				(partition_of(number, &envelope.id), Message::Event { block: number, id: envelope.id.clone() })
			})
			.collect()
	}

	fn placements(&self, _block_hash: &[u8], batch: &Self::Batch) -> Vec<Placement> {
		let mut placements: Vec<Placement> = Vec::new();
		for ((topic, partition), message) in batch {
			let Message::Event { id, .. } = message else { unreachable!("a block's batch has events only") };
			match placements.iter_mut().find(|p| p.topic == *topic && p.partition == *partition) {
				Some(placement) => placement.ids.push(id.clone()),
				None => placements.push(Placement {
					topic: topic.to_string(),
					partition: *partition,
					ids: vec![id.clone()],
				}),
			}
		}
		placements
	}

	fn retracted(&self, context: &BlockContext, placements: &[Placement]) -> Self::Batch {
		let block = number_of(&context.hash);
		retraction_targets(placements)
			.into_iter()
			.map(|(placement, ids)| {
				let topic = if placement.topic == "blocks" { "blocks" } else { "events" };
				let ids = ids.into_iter().map(str::to_string).collect();
				((topic, placement.partition), Message::Retracted { block, ids })
			})
			.collect()
	}

	fn finalized(&self, context: &BlockContext) -> Self::Batch {
		vec![(("blocks", 0), Message::Event { block: number_of(&context.hash), id: "BlockFinalized".into() })]
	}

	fn events(_batch: &Self::Batch) -> u64 {
		0
	}

	fn messages(batch: &Self::Batch) -> u64 {
		batch.len() as u64
	}
}

/// A message as the broker holds it: the run epoch it was sent with (best mode), and the message.
type Stamped = (Option<u64>, Message);

/// The in-memory broker: what was handed over and not delivered, what a dead run left on the wire, and each
/// partition's log.
#[derive(Default)]
struct Broker {
	/// The current run's epoch, as the driver started the output.
	epoch: Option<u64>,
	/// Runs started so far (the test's own count, whatever the epochs say).
	run: u64,
	/// (action, partition, run, message)
	pending: Vec<(u64, Partition, u64, Stamped)>,
	unacked: HashMap<u64, usize>,
	/// Requests of runs that are gone, landing later (no outcome is ever reported for them): (partition, run,
	/// message).
	stragglers: Vec<(Partition, u64, Stamped)>,
	/// The latest run each partition received a message of.
	last_run: HashMap<Partition, u64>,
	/// How many stragglers landed after a message of a later run in their partition.
	late: u64,
	log: BTreeMap<Partition, Vec<Stamped>>,
	/// Outcomes of deliveries made while the driver was busy (Kafka does not wait for it).
	ready: Vec<Ack>,
	/// Sends left before the process dies right after handing a batch over (the window between a send and
	/// whatever the driver does next).
	crash_after: Option<u64>,
	crashed: bool,
	rng: u64,
}

impl Broker {
	fn below(&mut self, n: u64) -> u64 {
		self.rng ^= self.rng >> 12;
		self.rng ^= self.rng << 25;
		self.rng ^= self.rng >> 27;
		self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
	}

	/// Lands a random straggler, now and then.
	fn land_straggler(&mut self) {
		if self.stragglers.is_empty() || self.below(8) != 0 {
			return;
		}
		let at = self.below(self.stragglers.len() as u64) as usize;
		let (partition, run, message) = self.stragglers.remove(at);
		self.append(partition, run, message);
	}

	fn append(&mut self, partition: Partition, run: u64, message: Stamped) {
		let last_run = self.last_run.entry(partition).or_default();
		if *last_run > run {
			self.late += 1;
		}
		*last_run = run.max(*last_run);
		self.log.entry(partition).or_default().push(message);
	}

	/// Delivers up to `count` messages, each the oldest pending one of a random partition; the actions done.
	fn deliver(&mut self, count: usize) -> Vec<Ack> {
		self.land_straggler();
		let mut done = std::mem::take(&mut self.ready);
		for _ in 0..count {
			if self.pending.is_empty() {
				break;
			}
			let at = self.below(self.pending.len() as u64) as usize;
			let pick = self.pending[at].1;
			let index = self.pending.iter().position(|p| p.1 == pick).expect("picked from it");
			let (seq, partition, run, message) = self.pending.remove(index);
			self.append(partition, run, message);
			let left = self.unacked.get_mut(&seq).expect("counted at send");
			*left -= 1;
			if *left == 0 {
				self.unacked.remove(&seq);
				done.push(Ack::Done(seq));
			}
		}
		done
	}

	/// The producer is gone (a crash, or a restart after a failed run): some of what was handed over reached
	/// Kafka, some will land later, the rest is lost, and no outcome of it will be reported.
	fn drop_producer(&mut self) {
		let count = self.below(4) as usize;
		self.deliver(count);
		for (_, partition, run, message) in std::mem::take(&mut self.pending) {
			if self.below(2) == 0 {
				self.stragglers.push((partition, run, message));
			}
		}
		self.unacked.clear();
		self.ready.clear();
	}
}

struct MemoryOutput(Arc<Mutex<Broker>>);

impl Output for MemoryOutput {
	type Build = MemoryBuild;

	async fn start(&mut self, run_epoch: Option<u64>) -> Result<Started<MemoryBuild>, SinkError> {
		let mut broker = self.0.lock().unwrap();
		assert!(broker.epoch.is_none() || run_epoch > broker.epoch, "run epochs increase: {run_epoch:?}");
		broker.epoch = run_epoch;
		broker.run += 1;
		Ok(Started { build: Arc::new(MemoryBuild), identity: Identity { cluster_id: None, topic_prefix: "t".into() } })
	}

	async fn send(&mut self, action: ActionInfo, batch: Vec<(Partition, Message)>) -> Result<(), SinkError> {
		{
			let mut broker = self.0.lock().unwrap();
			broker.unacked.insert(action.seq, batch.len());
			let (epoch, run) = (broker.epoch, broker.run);
			for (partition, message) in batch {
				broker.pending.push((action.seq, partition, run, (epoch, message)));
			}
		}
		// The messages are out: Kafka may deliver them, and the process may die, before the driver's next step.
		let dies = {
			let mut broker = self.0.lock().unwrap();
			broker.crash_after = broker.crash_after.map(|left| left.saturating_sub(1));
			broker.crashed |= broker.crash_after == Some(0);
			broker.crashed
		};
		if dies {
			std::future::pending::<()>().await;
		}
		Ok(())
	}

	async fn acknowledgements(&mut self) -> Result<Vec<Ack>, SinkError> {
		loop {
			tokio::time::sleep(Duration::from_micros(200)).await;
			let mut broker = self.0.lock().unwrap();
			let count = 1 + broker.below(4) as usize;
			let done = broker.deliver(count);
			if !done.is_empty() {
				return Ok(done);
			}
		}
	}

	fn reset(&mut self) {
		self.0.lock().unwrap().drop_producer();
	}

	fn describe(&self) -> String {
		"memory".into()
	}
}

/// The store a crash leaves behind. A commit can be made to fail (a full or broken disk): it writes nothing and
/// the driver restarts from what the store holds.
#[derive(Clone, Default)]
struct Store {
	state: Arc<Mutex<MemoryStateStore<Hash>>>,
	/// Commits left before one fails.
	fail_after: Arc<Mutex<Option<u64>>>,
	failures: Arc<Mutex<u64>>,
}

impl StateStore<Hash> for Store {
	fn load(&self) -> Result<SinkState<Hash>, SinkError> {
		self.state.lock().unwrap().load()
	}

	fn commit(&mut self, changes: Vec<Change<Hash>>) -> Result<(), SinkError> {
		let mut fail_after = self.fail_after.lock().unwrap();
		if let Some(left) = fail_after.as_mut() {
			if *left == 0 {
				*fail_after = None;
				*self.failures.lock().unwrap() += 1;
				return Err(SinkError::Database("test: the disk refused the write".into()));
			}
			*left -= 1;
		}
		self.state.lock().unwrap().commit(changes)
	}
}

fn config(follow: Follow, max_unfinalized: u32) -> SinkConfig {
	SinkConfig {
		brokers: "memory".into(),
		topic_prefix: "t".into(),
		topic_partitions: 3,
		topic_replication_factor: None,
		topic_configs: Vec::new(),
		kafka_properties: Vec::new(),
		start_from: StartFrom::Genesis,
		required: false,
		read_ahead_blocks: 4,
		read_ahead_messages: 6,
		encode_threads: 1,
		mappings: Mappings::default(),
		follow,
		max_unfinalized_blocks: max_unfinalized,
		on_rejected: OnRejected::Stop,
		signing_key: None,
		headers: Default::default(),
		ha: None,
		leader: None,
	}
}

/// One random run of the real driver; panics (naming the seed) when a property fails. Returns how many store
/// writes failed and how many of a dead run's requests landed after a later run's message in their partition.
fn run(seed: u64) -> (u64, u64) {
	let mut rng = crate::follow::tests::Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
	let follow = if rng.chance(70) { Follow::Best } else { Follow::Finalized };
	let max_unfinalized = 2 + rng.below(10) as u32;
	let chain = Chain(Arc::new(Mutex::new(Tree::new())));
	let store = Store::default();
	let broker = Arc::new(Mutex::new(Broker { rng: seed | 1, ..Default::default() }));
	let (wake, woken) = watch::channel(0u64);
	let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
	let parts = || Parts { chain: chain.clone(), reader: Reader, store: store.clone() };
	let drive = |woken: watch::Receiver<u64>| {
		driver::run_with_status(
			parts(),
			MemoryOutput(broker.clone()),
			config(follow, max_unfinalized),
			None,
			woken,
			StatusHandle::default(),
		)
	};
	runtime.block_on(async {
		let rounds = 1 + rng.below(4);
		for _ in 0..rounds {
			// The chain changes while the driver runs; then a crash at a random moment drops it.
			let steps = 5 + rng.below(25);
			broker.lock().unwrap().crash_after = rng.chance(50).then(|| 1 + rng.below(30));
			*store.fail_after.lock().unwrap() = rng.chance(30).then(|| rng.below(8));
			let changes = async {
				for _ in 0..steps {
					if broker.lock().unwrap().crashed {
						break;
					}
					{
						let mut tree = chain.0.lock().unwrap();
						match rng.below(10) {
							0..=6 => tree.import(&mut rng),
							_ => tree.finalize(&mut rng),
						}
					}
					wake.send_modify(|n| *n += 1);
					// Kafka delivers whenever it likes, also between the driver's steps.
					{
						let mut broker = broker.lock().unwrap();
						let count = broker.below(3) as usize;
						let done = broker.deliver(count);
						broker.ready.extend(done);
					}
					tokio::time::sleep(Duration::from_micros(200 + 100 * rng.below(20))).await;
				}
			};
			tokio::select! {
				error = drive(woken.clone()) => panic!("seed {seed}: the driver stopped: {error}"),
				_ = changes => {},
			}
			let mut lost = broker.lock().unwrap();
			lost.drop_producer();
			lost.crashed = false;
			lost.crash_after = None;
			drop(lost);
			// While the node is down and restarting, the chain may move on (a better fork arrives).
			let mut tree = chain.0.lock().unwrap();
			for _ in 0..rng.below(4) {
				if rng.chance(80) {
					tree.import(&mut rng);
				} else {
					tree.finalize(&mut rng);
				}
			}
		}
		// Settle: the chain stops changing, the driver runs until everything is delivered and persisted.
		let finalized = chain.heads().unwrap().finalized;
		let settled = async {
			let deadline = Instant::now() + Duration::from_secs(20);
			loop {
				tokio::time::sleep(Duration::from_millis(5)).await;
				let idle = {
					let mut broker = broker.lock().unwrap();
					broker.land_straggler();
					broker.pending.is_empty() && broker.stragglers.is_empty()
				};
				let state = store.load().unwrap();
				let tree = chain.0.lock().unwrap();
				let best = tree.heads().unwrap().best.number;
				// Every entry shipped and canonical, as many as the journal holds of the unfinalized best chain.
				let canonical = state.journal.iter().all(|entry| {
					entry.state == EntryState::Shipped
						&& tree.canonical(entry.block.number).unwrap().map(|b| hash(b.hash)) == Some(entry.block.hash)
				});
				let wanted = match follow {
					Follow::Finalized => 0,
					Follow::Best => (best - finalized.number).min(max_unfinalized as u64) as usize,
				};
				if idle && state.cursor == Some(finalized) && canonical && state.journal.len() == wanted {
					break;
				}
				drop(tree);
				assert!(Instant::now() < deadline, "seed {seed}: the driver never settled: {:?}", state.cursor);
			}
		};
		tokio::select! {
			error = drive(woken.clone()) => panic!("seed {seed}: the driver stopped: {error}"),
			_ = settled => {},
		}
	});
	check(seed, &chain.0.lock().unwrap(), &store, &broker.lock().unwrap(), follow, max_unfinalized as usize);
	let failures = *store.failures.lock().unwrap();
	let late = broker.lock().unwrap().late;
	(failures, late)
}

fn check(seed: u64, tree: &Tree, store: &Store, broker: &Broker, follow: Follow, max_unfinalized: usize) {
	let heads = tree.heads().unwrap();
	let finalized = heads.finalized.number;
	let state = store.load().unwrap();
	let best_chain: Vec<BlockLink<u64>> =
		(0..=heads.best.number).map(|n| tree.canonical(n).unwrap().unwrap()).collect();
	let journal: BTreeSet<u64> = state.journal.iter().map(|e| u64::from_be_bytes(e.block.hash)).collect();
	for entry in &state.journal {
		assert!(entry.block.number > finalized, "seed {seed}: journal holds final block #{}", entry.block.number);
		assert_eq!(best_chain[entry.block.number as usize].hash.to_be_bytes(), entry.block.hash, "seed {seed}");
	}
	if follow == Follow::Best && state.journal.len() < max_unfinalized {
		assert_eq!(finalized as usize + state.journal.len() + 1, best_chain.len(), "seed {seed}: a block unshipped");
	}
	let mut expected: BTreeMap<Partition, BTreeSet<(u64, String)>> = BTreeMap::new();
	for block in &best_chain {
		let is_final = block.number <= finalized;
		if !is_final && !journal.contains(&block.hash) {
			continue;
		}
		for suffix in suffixes(block.hash, is_final) {
			expected.entry(partition_of(block.hash, &suffix)).or_default().insert((block.hash, suffix));
		}
	}
	for (partition, messages) in &broker.log {
		let mut live: BTreeSet<(u64, String)> = BTreeSet::new();
		// The consumer rule's fence: a message of a lower run epoch than the partition has shown is a dead run's
		// late request, discarded (finalized mode sends none and needs none: it never retracts).
		let mut max_epoch: Option<u64> = None;
		for (epoch, message) in messages {
			if epoch.is_some() && *epoch < max_epoch {
				continue;
			}
			max_epoch = max_epoch.max(*epoch);
			match message {
				Message::Event { block, id } => {
					live.insert((*block, id.clone()));
				}
				Message::Retracted { block, ids } => {
					// A block's write-ahead is committed before any of its messages leaves, so a crash in between
					// (several blocks share one write-ahead) leaves a journaled block none of whose messages went
					// out: its retraction deletes nothing, which the consumer rule allows. What must hold is that
					// a retraction names only ids of its block: in the blocks partition any, elsewhere the ones that
					// partition has.
					for id in ids {
						assert!(
							suffixes(*block, false).contains(id)
								&& (*partition == BLOCKS || partition_of(*block, id) == *partition),
							"seed {seed}: the retraction of block {block} in {partition:?} names {id}, not one of its ids there"
						);
						live.remove(&(*block, id.clone()));
					}
				}
			}
		}
		let want = expected.remove(partition).unwrap_or_default();
		assert_eq!(live, want, "seed {seed}: partition {partition:?} does not hold exactly the canonical ids");
	}
	for (partition, want) in expected {
		assert!(want.is_empty(), "seed {seed}: partition {partition:?} received nothing, expected {want:?}");
	}
}

/// Seeds run in parallel (each settle waits for the driver's once-a-second write of acknowledged progress).
#[test]
fn the_real_driver_leaves_every_partition_canonical_over_random_forks_acks_and_crashes() {
	let runs: u64 = std::env::var("HERALD_DRIVER_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(48);
	let first: u64 = std::env::var("HERALD_DRIVER_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
	let seeds: Vec<u64> = (first..first + runs).collect();
	let (mut store_failures, mut late) = (0, 0);
	for chunk in seeds.chunks(16) {
		let threads: Vec<_> = chunk.iter().map(|&seed| std::thread::spawn(move || run(seed))).collect();
		for (thread, seed) in threads.into_iter().zip(chunk) {
			match thread.join() {
				Ok((failures, landed_late)) => {
					store_failures += failures;
					late += landed_late;
				}
				Err(panic) => panic!("seed {seed}: {}", crate::panic::reason(&*panic)),
			}
		}
	}
	// The runs must have met the faults they are about, not passed around them.
	assert!(runs < 16 || store_failures > 0, "no store write failed in {runs} runs: the test lost its fault");
	assert!(
		runs < 16 || late > 0,
		"no request landed after a later run's messages in {runs} runs: the test lost its fault"
	);
}
