//! Property tests of the journal's owner (the follower's plan, the ledger and the store together), over random fork trees, random finality
//! moves (including finalizing a branch that is not best), random Kafka delivery interleavings, random crashes
//! (everything not yet delivered is lost, only what was committed to the store survives) and mode switches at
//! restarts.
//!
//! After every run, once the chain stops changing and everything is delivered, a consumer that applies each
//! topic-partition on its own, in order (a message adds its id, a `BlockRetracted` removes the ids it names),
//! must be left with exactly the ids of the canonical blocks that were shipped there.

use std::{
	cell::RefCell,
	collections::{BTreeMap, BTreeSet, HashMap, VecDeque},
	rc::Rc,
};

use crate::{
	config::{Follow, StartFrom},
	error::SinkError,
	follow::{Action, BlockId, BlockLink, ChainView, Follower, Heads, Restored},
	kafka::request::retraction_targets,
	store::{journal::SinkState, Change, Effect, EntryState, Journal, Ledger, MemoryStateStore, Placement, StateStore},
};

/// The store a crash leaves behind: the sink's journal writes it, the world reopens it.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<MemoryStateStore<Hash>>>);

impl StateStore<Hash> for Shared {
	fn load(&self) -> Result<SinkState<Hash>, SinkError> {
		self.0.borrow().load()
	}

	fn commit(&mut self, changes: Vec<Change<Hash>>) -> Result<(), SinkError> {
		self.0.borrow_mut().commit(changes)
	}
}

pub(crate) type Hash = u64;
type Partition = (&'static str, i32);

/// xorshift64*: deterministic, so a failing seed can be replayed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
	fn next(&mut self) -> u64 {
		self.0 ^= self.0 >> 12;
		self.0 ^= self.0 << 25;
		self.0 ^= self.0 >> 27;
		self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
	}
	pub(crate) fn below(&mut self, n: u64) -> u64 {
		self.next() % n.max(1)
	}
	pub(crate) fn chance(&mut self, percent: u64) -> bool {
		self.below(100) < percent
	}
}

/// A block tree with a best chain (longest first-seen, like Substrate's) and a finalized head.
pub(crate) struct Tree {
	blocks: HashMap<Hash, BlockLink<Hash>>,
	best: Hash,
	finalized: Hash,
	next_hash: Hash,
}

impl Tree {
	pub(crate) fn new() -> Self {
		let genesis = BlockLink { number: 0, hash: 1, parent: 0 };
		Self { blocks: HashMap::from([(1, genesis)]), best: 1, finalized: 1, next_hash: 2 }
	}

	fn block(&self, hash: Hash) -> BlockLink<Hash> {
		self.blocks[&hash]
	}

	fn is_descendant(&self, mut hash: Hash, ancestor: Hash) -> bool {
		let target = self.block(ancestor).number;
		loop {
			let block = self.block(hash);
			if block.hash == ancestor {
				return true;
			}
			if block.number <= target {
				return false;
			}
			hash = block.parent;
		}
	}

	/// Blocks that descend from the finalized head (the others are displaced and forgotten, like pruned forks).
	fn live(&self) -> Vec<Hash> {
		let mut live: Vec<Hash> =
			self.blocks.keys().copied().filter(|h| self.is_descendant(*h, self.finalized)).collect();
		live.sort();
		live
	}

	pub(crate) fn import(&mut self, rng: &mut Rng) {
		let live = self.live();
		// Mostly on the best block, often on a recent block of another branch.
		let parent = if rng.chance(60) { self.best } else { live[rng.below(live.len() as u64) as usize] };
		let hash = self.next_hash;
		self.next_hash += 1;
		let number = self.block(parent).number + 1;
		self.blocks.insert(hash, BlockLink { number, hash, parent });
		if number > self.block(self.best).number {
			self.best = hash;
		}
	}

	/// Finalizes a random live block (possibly on a branch that is not best): the best block then moves to the
	/// longest chain under it, without any import.
	pub(crate) fn finalize(&mut self, rng: &mut Rng) {
		let live = self.live();
		let target = live[rng.below(live.len() as u64) as usize];
		self.finalized = target;
		if !self.is_descendant(self.best, target) {
			let leaves = self.live();
			self.best = leaves.into_iter().max_by_key(|h| (self.block(*h).number, std::cmp::Reverse(*h))).unwrap();
		}
		let finalized = self.finalized;
		let keep: Vec<Hash> =
			self.blocks.keys().copied().filter(|h| self.is_descendant(*h, finalized) || self.is_ancestor(*h)).collect();
		self.blocks.retain(|h, _| keep.contains(h));
	}

	fn is_ancestor(&self, hash: Hash) -> bool {
		self.is_descendant(self.finalized, hash)
	}

	fn best_chain(&self) -> Vec<BlockLink<Hash>> {
		let mut chain = Vec::new();
		let mut hash = self.best;
		loop {
			let block = self.block(hash);
			chain.push(block);
			if block.number == 0 {
				break;
			}
			hash = block.parent;
		}
		chain.reverse();
		chain
	}
}

impl ChainView for Tree {
	type Hash = Hash;

	fn heads(&self) -> Result<Heads<Hash>, SinkError> {
		let id = |hash| BlockId { number: self.block(hash).number, hash };
		Ok(Heads { best: id(self.best), finalized: id(self.finalized) })
	}

	fn canonical(&self, number: u64) -> Result<Option<BlockLink<Hash>>, SinkError> {
		Ok(self.best_chain().get(number as usize).copied())
	}
}

/// The ids (suffixes) a block ships and where: `BlockCreated` on the blocks partition, a few events spread over
/// three partitions of another topic, and `BlockFinalized` when shipped final. Deterministic per block.
fn block_messages(hash: Hash, finalized: bool) -> Vec<(Partition, String)> {
	let mut messages = vec![(("blocks", 0), "BlockCreated".to_string())];
	for index in 0..(hash % 4) {
		messages.push((("events", ((hash * 31 + index) % 3) as i32), index.to_string()));
	}
	if finalized {
		messages.push((("blocks", 0), "BlockFinalized".to_string()));
	}
	messages
}

#[derive(Clone, Debug)]
enum Message {
	Event { block: Hash, id: String },
	Retracted { block: Hash, ids: Vec<String> },
}

struct Produced {
	seq: u64,
	partition: Partition,
	message: Message,
}

/// The sink as the worker runs it, with Kafka simulated.
struct Sink {
	mode: Follow,
	journal: Journal<Hash, Shared>,
	/// (seq, unacked, effect)
	in_flight: VecDeque<(u64, usize, Effect<Hash>)>,
	next_seq: u64,
}

struct World {
	rng: Rng,
	tree: Tree,
	store: Shared,
	sink: Sink,
	/// Handed to the producer, not delivered yet (lost on a crash).
	pending: Vec<Produced>,
	/// What each partition holds, in order.
	log: BTreeMap<Partition, Vec<Message>>,
	/// Every (block, id) ever handed to the producer, and every partition a block's messages were handed for.
	produced: BTreeSet<(Hash, String)>,
	produced_to: BTreeSet<(Partition, Hash)>,
	max_unfinalized: usize,
}

impl World {
	fn start_sink(store: &Shared, tree: &Tree, mode: Follow, max_unfinalized: usize) -> Sink {
		let journal = Journal::open(store.clone(), tree, mode, StartFrom::Genesis, max_unfinalized).unwrap();
		Sink { mode, journal, in_flight: VecDeque::new(), next_seq: 1 }
	}

	fn produce(&mut self, seq: u64, partition: Partition, message: Message) {
		if let Message::Event { block, id } = &message {
			self.produced.insert((*block, id.clone()));
			self.produced_to.insert((partition, *block));
		}
		self.pending.push(Produced { seq, partition, message });
	}

	/// One plan and its execution, as in the worker.
	fn step_sink(&mut self, budget: usize) {
		let actions = self.sink.journal.plan(&self.tree, budget).unwrap();
		if std::env::var_os("HERALD_FOLLOW_TRACE").is_some() && !actions.is_empty() {
			let heads = self.tree.heads().unwrap();
			eprintln!("best {:?} finalized {:?} mode {:?}: {actions:?}", heads.best, heads.finalized, self.sink.mode);
		}
		let finalized = self.tree.block(self.tree.finalized).number;
		// (Unless the budget left part of a restore for the next plans.)
		let plan = self.sink.journal.follower();
		for block in plan.journal().filter(|_| !plan.catching_up_journal()) {
			assert!(block.number > finalized, "the journal holds block #{} at or below finality", block.number);
		}
		let mut batch = Vec::new();
		for action in actions {
			let seq = self.sink.next_seq;
			self.sink.next_seq += 1;
			let (messages, effect): (Vec<(Partition, Message)>, Effect<Hash>) = match action {
				Action::Ship { block, finalized } => {
					let messages = block_messages(block.hash, finalized);
					let out = messages
						.iter()
						.map(|(p, id)| (*p, Message::Event { block: block.hash, id: id.clone() }))
						.collect();
					if finalized {
						(out, Effect::ShippedFinal(block.id()))
					} else {
						(out, self.sink.journal.shipping(seq, block, 1, None, placements(&messages)))
					}
				}
				Action::Retract(block) => {
					let (entry, effect) =
						self.sink.journal.retracting(seq, &block).expect("retracting a journal block");
					let out = retraction_targets(&entry.placements)
						.into_iter()
						.map(|(placement, ids)| {
							let partition = (leak(&placement.topic), placement.partition);
							let ids = ids.into_iter().map(str::to_string).collect();
							(partition, Message::Retracted { block: block.hash, ids })
						})
						.collect();
					(out, effect)
				}
				Action::Finalize(block) => {
					let (_, effect) = self.sink.journal.finalizing(&block).expect("finalizing a journal block");
					let message = Message::Event { block: block.hash, id: "BlockFinalized".into() };
					(vec![(("blocks", 0), message)], effect)
				}
			};
			batch.push((seq, messages, effect));
		}
		self.sink.journal.commit_write_ahead().unwrap();
		for (seq, messages, effect) in batch {
			self.sink.in_flight.push_back((seq, messages.len(), effect));
			for (partition, message) in messages {
				self.produce(seq, partition, message);
			}
		}
	}

	/// Delivers up to `count` messages, each the oldest pending one of a random partition (Kafka keeps each
	/// partition's order, not the order across partitions), then persists what completed, in order.
	fn deliver(&mut self, count: usize) {
		for _ in 0..count {
			if self.pending.is_empty() {
				break;
			}
			let pick = self.pending[self.rng.below(self.pending.len() as u64) as usize].partition;
			let index = self.pending.iter().position(|p| p.partition == pick).unwrap();
			let produced = self.pending.remove(index);
			self.log.entry(produced.partition).or_default().push(produced.message);
			if let Some(entry) = self.sink.in_flight.iter_mut().find(|(seq, ..)| *seq == produced.seq) {
				entry.1 -= 1;
			}
		}
		while self.sink.in_flight.front().is_some_and(|(_, unacked, _)| *unacked == 0) {
			let (_, _, effect) = self.sink.in_flight.pop_front().unwrap();
			self.sink.journal.complete(effect);
		}
		self.sink.journal.persist_now().unwrap();
	}

	/// kill -9: what was not delivered is lost, only the store survives; the node may restart in another mode.
	fn crash(&mut self) {
		if std::env::var_os("HERALD_FOLLOW_TRACE").is_some() {
			eprintln!("crash; store {:?}", self.store.0.borrow().cursor);
		}
		self.pending.clear();
		let mode = if self.rng.chance(50) { Follow::Best } else { Follow::Finalized };
		self.sink = Self::start_sink(&self.store, &self.tree, mode, self.max_unfinalized);
	}
}

fn leak(topic: &str) -> &'static str {
	match topic {
		"blocks" => "blocks",
		"events" => "events",
		other => panic!("unexpected topic {other}"),
	}
}

fn placements(messages: &[(Partition, String)]) -> Vec<Placement> {
	let mut placements: Vec<Placement> = Vec::new();
	for ((topic, partition), id) in messages {
		match placements.iter_mut().find(|p| p.topic == *topic && p.partition == *partition) {
			Some(p) => p.ids.push(id.clone()),
			None => {
				placements.push(Placement { topic: topic.to_string(), partition: *partition, ids: vec![id.clone()] })
			}
		}
	}
	placements
}

/// One random run; panics (naming the seed) when a property fails.
fn run(seed: u64) {
	let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
	let mode = if rng.chance(70) { Follow::Best } else { Follow::Finalized };
	let max_unfinalized = 2 + rng.below(12) as usize;
	let store = Shared::default();
	let tree = Tree::new();
	let sink = World::start_sink(&store, &tree, mode, max_unfinalized);
	let mut world = World {
		rng,
		tree,
		store,
		sink,
		pending: Vec::new(),
		log: BTreeMap::new(),
		produced: BTreeSet::new(),
		produced_to: BTreeSet::new(),
		max_unfinalized,
	};

	let steps = 20 + world.rng.below(60);
	for _ in 0..steps {
		match world.rng.below(10) {
			0..=5 => world.tree.import(&mut world.rng),
			6 | 7 => world.tree.finalize(&mut world.rng),
			_ => {}
		}
		let budget = 1 + world.rng.below(4) as usize;
		world.step_sink(budget);
		let count = world.rng.below(8) as usize;
		world.deliver(count);
		if world.rng.chance(8) {
			world.crash();
		}
	}

	// Quiescence: the chain stops; everything is planned, produced and delivered.
	for _ in 0..1000 {
		world.step_sink(4);
		world.deliver(usize::MAX);
		if world.pending.is_empty() && world.sink.in_flight.is_empty() {
			world.step_sink(4);
			if world.pending.is_empty() {
				break;
			}
		}
	}
	assert!(world.pending.is_empty(), "seed {seed}: the sink never settled");
	check(seed, &world);
}

fn check(seed: u64, world: &World) {
	let tree = &world.tree;
	let finalized = tree.block(tree.finalized).number;
	let state = world.store.load().unwrap();

	// The journal never holds a final block once everything is acknowledged.
	for entry in &state.journal {
		assert!(entry.block.number > finalized, "seed {seed}: journal holds final block #{}", entry.block.number);
		assert_eq!(entry.state, EntryState::Shipped, "seed {seed}: settled journal entry not shipped");
	}
	// The cursor is the finalized head once settled.
	assert_eq!(state.cursor.map(|c| c.hash), Some(tree.finalized), "seed {seed}: cursor is not the finalized head");

	// Which blocks must be live: the finalized chain, and the journal's blocks (all on the best chain); in best
	// mode the journal reaches the best head unless it is full.
	let best_chain = tree.best_chain();
	let journal: BTreeSet<Hash> = state.journal.iter().map(|e| e.block.hash).collect();
	for entry in &state.journal {
		assert_eq!(best_chain[entry.block.number as usize].hash, entry.block.hash, "seed {seed}: stale journal");
	}
	if world.sink.mode == Follow::Best && state.journal.len() < world.max_unfinalized {
		assert_eq!(
			finalized as usize + state.journal.len() + 1,
			best_chain.len(),
			"seed {seed}: a canonical block is left unshipped"
		);
	}
	let mut expected: BTreeMap<Partition, BTreeSet<(Hash, String)>> = BTreeMap::new();
	for block in &best_chain {
		let is_final = block.number <= finalized;
		if !is_final && !journal.contains(&block.hash) {
			continue;
		}
		for (partition, id) in block_messages(block.hash, is_final) {
			expected.entry(partition).or_default().insert((block.hash, id));
		}
	}

	// Apply every partition on its own, in order.
	for (partition, messages) in &world.log {
		let mut live: BTreeSet<(Hash, String)> = BTreeSet::new();
		for message in messages {
			match message {
				Message::Event { block, id } => {
					live.insert((*block, id.clone()));
				}
				Message::Retracted { block, ids } => {
					for id in ids {
						assert!(
							world.produced.contains(&(*block, id.clone())),
							"seed {seed}: retraction of {block}:{id} in {partition:?}, which was never shipped"
						);
						live.remove(&(*block, id.clone()));
					}
					// A retraction goes only where its block's messages were sent (a crash may have lost them).
					assert!(
						world.produced_to.contains(&(*partition, *block)),
						"seed {seed}: retraction of block {block} in {partition:?}, where none of its messages went"
					);
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

#[test]
fn every_partition_undoes_on_its_own_over_random_forks_finality_and_crashes() {
	let runs: u64 = std::env::var("HERALD_FOLLOW_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(2000);
	let first: u64 = std::env::var("HERALD_FOLLOW_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0);
	for seed in first..first + runs {
		run(seed);
	}
}

/// The notes' fork recipe, step by step: A1, A2; B1, B2 (not best: same height); B3 re-orgs (A2 then A1
/// retracted before B1..B3 ship); finalizing B3 finalizes B1..B3.
#[test]
fn the_fork_recipe_retracts_newest_first_before_the_new_branch() {
	let mut tree = Tree::new();
	let add = |tree: &mut Tree, hash: Hash, parent: Hash| {
		let number = tree.block(parent).number + 1;
		tree.blocks.insert(hash, BlockLink { number, hash, parent });
		if number > tree.block(tree.best).number {
			tree.best = hash;
		}
	};
	let mut follower = Follower::new(Follow::Best, 0, None, [], 100);
	let genesis = tree.block(1);
	assert_eq!(follower.plan(&tree, 10).unwrap(), vec![Action::Ship { block: genesis, finalized: true }]);
	add(&mut tree, 0xa1, 1);
	add(&mut tree, 0xa2, 0xa1);
	let a = [tree.block(0xa1), tree.block(0xa2)];
	assert_eq!(
		follower.plan(&tree, 10).unwrap(),
		vec![Action::Ship { block: a[0], finalized: false }, Action::Ship { block: a[1], finalized: false }]
	);
	add(&mut tree, 0xb1, 1);
	add(&mut tree, 0xb2, 0xb1);
	assert_eq!(follower.plan(&tree, 10).unwrap(), vec![], "B2 is not best: same height as A2");
	add(&mut tree, 0xb3, 0xb2);
	let b = [tree.block(0xb1), tree.block(0xb2), tree.block(0xb3)];
	assert_eq!(
		follower.plan(&tree, 10).unwrap(),
		vec![
			Action::Retract(a[1]),
			Action::Retract(a[0]),
			Action::Ship { block: b[0], finalized: false },
			Action::Ship { block: b[1], finalized: false },
			Action::Ship { block: b[2], finalized: false },
		]
	);
	tree.finalized = 0xb3;
	assert_eq!(
		follower.plan(&tree, 10).unwrap(),
		vec![Action::Finalize(b[0]), Action::Finalize(b[1]), Action::Finalize(b[2])]
	);
	assert_eq!(follower.journal().count(), 0);
}

/// Finality that displaces the shipped best branch moves the best block without any import: the branch is
/// retracted and the finalized one shipped as final.
#[test]
fn finality_that_displaces_the_shipped_branch_retracts_it() {
	let mut tree = Tree::new();
	for (hash, parent, number) in [(0xa1, 1, 1), (0xa2, 0xa1, 2), (0xb1, 1, 1)] {
		tree.blocks.insert(hash, BlockLink { number, hash, parent });
	}
	tree.best = 0xa2;
	let mut follower = Follower::new(Follow::Best, 1, Some(BlockId { number: 0, hash: 1 }), [], 100);
	assert_eq!(follower.plan(&tree, 10).unwrap().len(), 2);
	tree.finalized = 0xb1;
	tree.best = 0xb1;
	assert_eq!(
		follower.plan(&tree, 10).unwrap(),
		vec![
			Action::Retract(tree.block(0xa2)),
			Action::Retract(tree.block(0xa1)),
			Action::Ship { block: tree.block(0xb1), finalized: true },
		]
	);
}

/// A full journal stops shipping new blocks (finality stalled) but never retractions or finalizations.
#[test]
fn a_full_journal_waits_for_finality() {
	let mut tree = Tree::new();
	let mut parent = 1;
	for hash in 2..=6 {
		tree.blocks.insert(hash, BlockLink { number: hash - 1, hash, parent });
		parent = hash;
	}
	tree.best = 6;
	let mut follower = Follower::new(Follow::Best, 1, Some(BlockId { number: 0, hash: 1 }), [], 3);
	assert_eq!(follower.plan(&tree, 10).unwrap().len(), 3);
	assert!(follower.stalled());
	assert_eq!(follower.plan(&tree, 10).unwrap(), vec![]);
	tree.finalized = 3;
	let actions = follower.plan(&tree, 10).unwrap();
	assert_eq!(actions.iter().filter(|a| matches!(a, Action::Finalize(_))).count(), 2);
	assert_eq!(actions.iter().filter(|a| matches!(a, Action::Ship { .. })).count(), 2);
	assert!(!follower.stalled());
}

/// A re-ship after a crash keeps the placements of the earlier shipment, and a retraction completed after the
/// block was shipped again does not drop the new shipment's journal entry.
#[test]
fn ledger_keeps_a_reshipped_block_through_its_earlier_retraction() {
	let block = BlockLink { number: 1, hash: 7u64, parent: 1 };
	let mut ledger = Ledger::new(&Default::default());
	let placement = |partition| Placement { topic: "t".into(), partition, ids: vec!["0".into()] };
	let (_, shipped) = ledger.shipping(1, block, 1, None, vec![placement(0)]);
	let (_, retracted) = ledger.retracting(2, 7).unwrap();
	let (_, reshipped) = ledger.shipping(3, block, 1, None, vec![placement(1)]);
	assert_eq!(ledger.entry(&7).unwrap().placements.len(), 2, "both shipments' partitions are kept");
	assert_eq!(ledger.complete(shipped), vec![]);
	assert_eq!(ledger.complete(retracted), vec![], "the later shipment keeps the entry");
	assert!(matches!(ledger.complete(reshipped).as_slice(), [Change::Put(e)] if e.state == EntryState::Shipped));
}

/// A chain whose best chain switches from branch A to branch B after `switch_after` lookups: the node's best
/// chain moving while the follower checks a restored journal block by block.
struct Switching {
	a: Vec<BlockLink<Hash>>,
	b: Vec<BlockLink<Hash>>,
	lookups: std::cell::Cell<usize>,
	switch_after: usize,
}

impl Switching {
	fn current(&self) -> &[BlockLink<Hash>] {
		if self.lookups.get() <= self.switch_after {
			&self.a
		} else {
			&self.b
		}
	}
}

impl ChainView for Switching {
	type Hash = Hash;

	fn heads(&self) -> Result<Heads<Hash>, SinkError> {
		let best = *self.current().last().unwrap();
		Ok(Heads { best: best.id(), finalized: BlockId { number: 9, hash: 9 } })
	}

	fn canonical(&self, number: u64) -> Result<Option<BlockLink<Hash>>, SinkError> {
		self.lookups.set(self.lookups.get() + 1);
		Ok(self.current().get(number as usize).copied())
	}
}

#[test]
fn a_best_chain_switch_in_the_middle_of_a_restore_keeps_no_block_of_each_branch() {
	let common: Vec<BlockLink<Hash>> =
		(0..10).map(|n| BlockLink { number: n, hash: n, parent: n.saturating_sub(1) }).collect();
	let (a10, a11) = (BlockLink { number: 10, hash: 110, parent: 9 }, BlockLink { number: 11, hash: 111, parent: 110 });
	let (b10, b11) = (BlockLink { number: 10, hash: 210, parent: 9 }, BlockLink { number: 11, hash: 211, parent: 210 });
	let chain = Switching {
		a: [common.clone(), vec![a10, a11]].concat(),
		b: [common, vec![b10, b11]].concat(),
		lookups: Default::default(),
		// A10 and B10 are checked on branch A, A11 and B11 on branch B.
		switch_after: 2,
	};
	let restored = [a10, b10, a11, b11].map(|block| Restored { block, acknowledged: true });
	let mut follower = Follower::new(Follow::Best, 0, Some(BlockId { number: 9, hash: 9 }), restored, 64);
	assert_eq!(follower.plan(&chain, 8).unwrap(), Vec::new(), "A10 with B11 is no chain: nothing is decided yet");
	let actions = follower.plan(&chain, 8).unwrap();
	assert_eq!(actions, vec![Action::Retract(a11), Action::Retract(a10)], "branch A retracted, newest first");
	assert_eq!(follower.journal().copied().collect::<Vec<_>>(), vec![b10, b11]);
}

/// A straight chain 0..=`tip`, block n's hash n + 100.
fn straight(tip: u64) -> Vec<BlockLink<Hash>> {
	(0..=tip).map(|n| BlockLink { number: n, hash: n + 100, parent: if n == 0 { 0 } else { n + 99 } }).collect()
}

struct Straight {
	blocks: Vec<BlockLink<Hash>>,
	finalized: u64,
}

impl ChainView for Straight {
	type Hash = Hash;

	fn heads(&self) -> Result<Heads<Hash>, SinkError> {
		let best = self.blocks.last().unwrap().id();
		Ok(Heads { best, finalized: self.blocks[self.finalized as usize].id() })
	}

	fn canonical(&self, number: u64) -> Result<Option<BlockLink<Hash>>, SinkError> {
		Ok(self.blocks.get(number as usize).copied())
	}
}

#[test]
fn a_restore_ships_within_the_read_ahead_and_final_holes_ship_as_final() {
	// Cursor at #1; the journal kept #5..=#9 unacknowledged (a crash), #2..=#4 are holes; #3 is final.
	let chain = Straight { blocks: straight(9), finalized: 3 };
	let b = |n: u64| chain.blocks[n as usize];
	let restored = (5..=9).map(|n| Restored { block: b(n), acknowledged: false });
	let mut follower = Follower::new(Follow::Best, 0, Some(b(1).id()), restored, 64);
	let mut shipped = Vec::new();
	for _ in 0..4 {
		let actions = follower.plan(&chain, 2).unwrap();
		let ships = actions.iter().filter(|a| matches!(a, Action::Ship { .. })).count();
		assert!(ships <= 2, "at most the budget per plan: {actions:?}");
		shipped.extend(actions);
	}
	assert_eq!(
		shipped,
		vec![
			Action::Ship { block: b(2), finalized: true },
			Action::Ship { block: b(3), finalized: true },
			Action::Ship { block: b(4), finalized: false },
			Action::Ship { block: b(5), finalized: false },
			Action::Ship { block: b(6), finalized: false },
			Action::Ship { block: b(7), finalized: false },
			Action::Ship { block: b(8), finalized: false },
			Action::Ship { block: b(9), finalized: false },
		],
		"the holes below finality ship as final, the rest in chain order, two per plan"
	);
	assert!(!follower.catching_up_journal());
	assert_eq!(follower.journal().map(|b| b.number).collect::<Vec<_>>(), vec![4, 5, 6, 7, 8, 9]);
}
