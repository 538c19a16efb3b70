//! High availability when the leader is cut off or unwelcome: a fork shipped by a dead leader retracted by a
//! standby that never saw it, a stopped (zombie) leader, a restarted broker, a node configured otherwise than its
//! group.

use super::*;

/// Best mode. The leader is frozen with SIGSTOP past its session timeout: the standby takes over. Woken up with
/// SIGCONT, the old leader (a zombie) loses its lease and goes quiet; whatever it still sent lands after the new
/// leader's markers and the consumer rule discards it. Every canonical block is live exactly once, nothing of
/// another block.
#[test]
fn a_stopped_leader_goes_quiet_and_its_late_messages_are_discarded() {
	let broker = Broker::start();
	let net = Network::start();
	let sinks = [SinkNode::start("sink-a", &broker, &net, "best"), SinkNode::start("sink-b", &broker, &net, "best")];
	let mut busy = 0;

	submit_busy(&net, &mut busy);
	net.wait_finalized(2, &sinks);
	let (leader, role) = wait_for_leader(&[&sinks[0], &sinks[1]], 0, NETWORK_TIMEOUT, || context(&net, &sinks));
	let e1 = role.epoch;
	assert_took_over(&sinks[leader], e1);
	wait_shipped(&broker, e1, 3, || context(&net, &sinks));
	let standby = 1 - leader;

	// Freeze the leader mid-shipping, with work in flight: the standby takes over once the lease's session
	// times out.
	submit_busy(&net, &mut busy);
	let zombie = sinks[leader].node();
	signal(zombie, libc::SIGSTOP);
	let stopped_at = Instant::now();
	let (_, role) = wait_for_leader(&[&sinks[standby]], e1, Duration::from_secs(60), || context(&net, &sinks));
	let e2 = role.epoch;
	let failover = stopped_at.elapsed();
	assert_took_over(&sinks[standby], e2);
	// The new leader's markers are in every partition before the zombie wakes up; it ships meanwhile.
	submit_busy(&net, &mut busy);
	wait_shipped(&broker, e2, 1, || context(&net, &sinks));

	signal(zombie, libc::SIGCONT);
	let stopped_for = stopped_at.elapsed();
	wait_until(
		&format!("the woken-up {} to report itself standby", sinks[leader].label),
		Duration::from_secs(60),
		|| role_of(zombie).filter(|role| !role.active),
		|| context(&net, &sinks),
	);
	wait_for_log(zombie, &format!("lost the lease of group {GROUP}"), Duration::from_secs(60));

	submit_busy(&net, &mut busy);
	let target = net.alice.finalized_number() + 4;
	net.wait_finalized(target, &sinks);
	// Exactly one leader at the end. Normally the one that took over; the woken-up node, a standby that joined the
	// group again, may have been given the lease since (as a new epoch, which is no longer a zombie's).
	let (now_leading, role) = wait_for_leader(&[&sinks[0], &sinks[1]], e1, TAKEOVER_TIMEOUT, || context(&net, &sinks));
	let leads_at_end = format!("{} as epoch {}", sinks[now_leading].label, role.epoch);

	let last = net.alice.finalized_number() as u64;
	let summary = check_stream(&broker, &net.alice, last, false, &[e1, e2], || context(&net, &sinks));
	eprintln!(
		"ha SIGSTOP: leader epoch {e1} frozen for {stopped_for:?}, epoch {e2} took over after {failover:?}, \
		 {leads_at_end} leads at the end; the zombie's late messages discarded by the epoch rule: {} {:?}; markers \
		 of epochs {:?}; blocks 0..={last} checked ({} blocks) in {} messages: {} duplicates, {} retractions",
		summary.discarded,
		summary.discarded_by_epoch,
		summary.epochs,
		summary.blocks,
		summary.records,
		summary.duplicates,
		summary.retractions,
	);
}

/// A node started in a group with another partition count than the group's recorded configuration says so in
/// its log and never becomes active; the group's leader leads on.
#[test]
fn a_node_with_another_configuration_does_not_join_the_group() {
	let broker = Broker::start();
	let first = NodeProcess::start(dev_member(&broker, 1));
	let leading = wait_until(
		"the first node to take the group over, with the group's state topic created",
		TAKEOVER_TIMEOUT,
		|| {
			let role = role_of(&first).filter(|role| role.active)?;
			broker.topics("herald.").iter().any(|topic| topic == "herald.sink-state").then_some(role)
		},
		|| first.log_tail(60),
	);
	assert!(took_over(&first.log(), leading.epoch), "its takeover line:\n{}", first.log_tail(60));

	let second = NodeProcess::start(dev_member(&broker, 3));
	let line = wait_for_log(&second, "differs from the group's", Duration::from_secs(60));
	assert!(line.contains("--kafka-topic-partitions"), "the line names what differs: {line}");
	let refused = role_of(&second).unwrap_or_else(|| panic!("the second node's metrics:\n{}", second.log_tail(60)));
	assert!(!refused.active, "the misconfigured node is not active: {refused:?}\n{}", second.log_tail(60));
	assert!(!second.log().contains("took over group"), "the misconfigured node took over:\n{}", second.log_tail(60));
	let still = role_of(&first).unwrap_or_else(|| panic!("the first node's metrics:\n{}", first.log_tail(60)));
	assert!(
		still.active && still.epoch == leading.epoch,
		"the group's leader leads on as epoch {}: {still:?}\n{}",
		leading.epoch,
		first.log_tail(60)
	);
	eprintln!("ha configuration check: the leader (epoch {}) leads on; the other node said: {line}", leading.epoch);
}

/// Best mode, the marquee case of issue 20: the leader ships blocks of a fork that loses, then dies, and the
/// standby, which never saw that fork, retracts them with the ids the group's journal recorded.
///
/// Alice and Bob (validators, `--reserved-only`, each other's reserved peer) author and finalize; sink node A's
/// only peer is Alice, sink node B's only peer is Bob. A leads (started first), B stands by. Then the validators
/// are split (each removes the other from its reserved peers): both author on their own fork (Aura's slots
/// alternate), GRANDPA stalls, A ships Alice's fork, B's node sees Bob's only. A and Alice are killed (-9); B takes
/// over and must retract Alice's fork blocks. Bob's fork grows alone until it is longer than Alice's, then Alice
/// comes back on her database, reconnected to Bob: she adopts the longest chain, Bob's, and GRANDPA finalizes it.
/// The truth is Bob's RPC.
#[test]
fn a_fork_shipped_by_a_dead_leader_is_retracted_by_a_standby_that_never_saw_it() {
	let broker = Broker::start();
	let alice_base = tempfile::tempdir().unwrap();
	let alice_config = |extra: &[&str]| {
		let mut config =
			validator(&[&["--alice", "--node-key", ALICE_NODE_KEY, "--reserved-only"][..], extra].concat());
		config.base_path = Some(alice_base.path().to_path_buf());
		config
	};
	let alice = NodeProcess::start(alice_config(&[]));
	let alice_address = format!("/ip4/127.0.0.1/tcp/{}/p2p/{ALICE_PEER_ID}", alice.p2p_port);
	let bob = NodeProcess::start(validator(&[
		"--bob",
		"--node-key",
		BOB_NODE_KEY,
		"--reserved-only",
		"--reserved-nodes",
		&alice_address,
	]));
	let bob_peer = peer_id(&bob);
	let bob_address = address(&bob);
	alice.rpc("system_addReservedPeer", json!([bob_address]));
	let mut net = Network { alice, bob, alice_address, bob_address };

	// A first, so that it leads; B once A shipped.
	let mut sinks = vec![island_sink("sink-a (alice's)", &broker, &net.alice, &net.alice_address)];
	let mut busy = 0;
	submit_busy(&net, &mut busy);
	net.wait_finalized(3, &sinks);
	let (_, role) = wait_for_leader(&[&sinks[0]], 0, NETWORK_TIMEOUT, || context(&net, &sinks));
	let e1 = role.epoch;
	assert_took_over(&sinks[0], e1);
	wait_shipped(&broker, e1, 1, || context(&net, &sinks));
	sinks.push(island_sink("sink-b (bob's)", &broker, &net.bob, &net.bob_address));
	let finalized = net.alice.finalized_number();
	wait_until(
		"sink-b to stand by, synced with bob",
		NETWORK_TIMEOUT,
		|| {
			let role = sinks[1].role()?;
			assert!(!role.active, "sink-b took the lease from a live leader: {role:?}\n{}", context(&net, &sinks));
			(sinks[1].node().finalized_number() >= finalized).then_some(())
		},
		|| context(&net, &sinks),
	);

	// The split: each validator drops the other; the sink nodes keep theirs (so neither validator is offline).
	net.alice.rpc("system_removeReservedPeer", json!([bob_peer]));
	net.bob.rpc("system_removeReservedPeer", json!([ALICE_PEER_ID]));
	wait_until(
		"alice and bob to disconnect",
		Duration::from_secs(30),
		|| (!connected(&net.alice, &bob_peer) && !connected(&net.bob, ALICE_PEER_ID)).then_some(()),
		|| context(&net, &sinks),
	);
	let split_finalized = net.alice.finalized_number();
	submit_busy(&net, &mut busy);
	common::submit_busy_extrinsics(&net.bob, 1000 + busy);

	// A ships Alice's fork: blocks Bob doesn't have.
	let alice_fork = |records: &[Record]| -> BTreeSet<String> {
		records
			.iter()
			.filter(|r| name(r) == "BlockCreated" && leader_epoch(r) == Some(e1))
			.filter(|r| block_number(r).is_some_and(|n| n > split_finalized as u64))
			.map(|r| block_hash(r).to_string())
			.filter(|hash| !knows(&net.bob, hash))
			.collect()
	};
	let shipped = broker
		.try_consume_topics_until(STREAM, &is_stream_topic, NETWORK_TIMEOUT, |records| alice_fork(records).len() >= 2)
		.unwrap_or_else(|error| {
			panic!("sink-a did not ship 2 blocks of alice's fork: {error}\n{}", context(&net, &sinks))
		});
	let seen_fork = alice_fork(&shipped);
	assert!(
		!connected(&net.alice, &bob_peer) && !connected(&net.bob, ALICE_PEER_ID),
		"alice and bob reconnected while split\n{}",
		context(&net, &sinks)
	);
	for sink in &sinks {
		for hash in &seen_fork {
			if sink.label.starts_with("sink-b") {
				assert!(!knows(sink.node(), hash), "sink-b's node has alice's fork block {hash}");
			}
		}
	}

	// A and Alice die: her fork can only lose now.
	let alice_tip = best_number(&net.alice);
	sinks[0].kill9();
	signal(&net.alice, libc::SIGKILL);
	net.alice.wait_exit(Duration::from_secs(30)).expect("alice exits after SIGKILL");
	let killed_at = Instant::now();
	let (_, role) = wait_for_leader(&[&sinks[1]], e1, TAKEOVER_TIMEOUT, || context(&net, &sinks));
	let e2 = role.epoch;
	let failover = killed_at.elapsed();
	assert_took_over(&sinks[1], e2);
	let retracted_by = |records: &[Record], hash: &str, epoch: u64| {
		records.iter().any(|r| name(r) == "BlockRetracted" && block_hash(r) == hash && leader_epoch(r) == Some(epoch))
	};
	if let Err(error) = broker.try_consume_topics_until(STREAM, &is_stream_topic, TAKEOVER_TIMEOUT, |records| {
		seen_fork.iter().all(|hash| retracted_by(records, hash, e2))
	}) {
		panic!("sink-b (epoch {e2}) did not retract alice's fork {seen_fork:?}: {error}\n{}", context(&net, &sinks));
	}

	// Bob's fork outgrows Alice's; then she comes back on her database and adopts it.
	common::submit_busy_extrinsics(&net.bob, 2000 + busy);
	wait_until(
		&format!("bob's best chain to pass alice's fork tip #{alice_tip} by 2"),
		NETWORK_TIMEOUT,
		|| (best_number(&net.bob) >= alice_tip + 2).then_some(()),
		|| context(&net, &sinks),
	);
	net.alice = NodeProcess::start(alice_config(&["--reserved-nodes", &net.bob_address]));
	net.alice_address = format!("/ip4/127.0.0.1/tcp/{}/p2p/{ALICE_PEER_ID}", net.alice.p2p_port);
	net.bob.rpc("system_addReservedPeer", json!([net.alice_address]));
	let target = alice_tip + 3;
	wait_until(
		&format!("GRANDPA to finalize #{target} (3 past alice's fork tip) with alice back"),
		NETWORK_TIMEOUT,
		|| (net.bob.finalized_number() >= target).then_some(()),
		|| context(&net, &sinks),
	);

	let last = net.bob.finalized_number() as u64;
	let summary = check_stream(&broker, &net.bob, last, false, &[e1, e2], || context(&net, &sinks));

	// Every block of the stream at a final height that is not Bob's canonical one: Alice's fork (and any other).
	let canonical: BTreeMap<u64, String> = (0..=last)
		.map(|n| (n, format!("{:?}", common::parse_hash(&net.bob.rpc("chain_getBlockHash", json!([n]))))))
		.collect();
	let is_off_chain = |r: &Record| block_number(r).is_some_and(|n| n <= last && canonical[&n] != block_hash(r));
	// Per off-chain block: the partitions its messages reached, and those where it was retracted.
	let mut reached: BTreeMap<String, BTreeSet<(String, i32)>> = BTreeMap::new();
	let mut retracted: BTreeMap<String, BTreeSet<(String, i32)>> = BTreeMap::new();
	let mut retracting_epochs: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
	let mut shipped_by_a: BTreeSet<String> = BTreeSet::new();
	for record in summary.stream.iter().filter(|r| is_off_chain(r)) {
		let hash = block_hash(record).to_string();
		let partition = (record.topic.clone(), record.partition);
		if name(record) == "BlockRetracted" {
			retracted.entry(hash.clone()).or_default().insert(partition);
			retracting_epochs.entry(hash).or_default().extend(leader_epoch(record));
		} else {
			if name(record) == "BlockCreated" && leader_epoch(record) == Some(e1) {
				shipped_by_a.insert(hash.clone());
			}
			reached.entry(hash).or_default().insert(partition);
		}
	}
	for hash in &seen_fork {
		assert!(shipped_by_a.contains(hash), "alice's fork block {hash} is off bob's final chain and shipped by A");
	}
	for (hash, partitions) in &reached {
		let cancelled = retracted.get(hash).cloned().unwrap_or_default();
		let missing: Vec<_> = partitions.difference(&cancelled).collect();
		assert!(
			missing.is_empty(),
			"off-chain block {hash}: its messages reached {missing:?} but no BlockRetracted did (retracted in \
			 {cancelled:?})"
		);
	}
	let applied = apply_rule(&summary.stream);
	let phantoms: Vec<&str> =
		applied.live.values().filter(|r| reached.contains_key(block_hash(r))).map(|r| id(r)).collect();
	assert!(phantoms.is_empty(), "live messages of off-chain blocks: {phantoms:?}");
	let by_b = shipped_by_a.iter().filter(|hash| retracting_epochs.get(*hash).is_some_and(|e| e.contains(&e2))).count();
	assert_eq!(by_b, shipped_by_a.len(), "sink-b (epoch {e2}) retracted every off-chain block A shipped");

	eprintln!(
		"ha fork: split at final #{split_finalized}, alice's fork tip #{alice_tip}; {} off-chain blocks shipped by A \
		 (epoch {e1}; {} seen before the kill: {seen_fork:?}), {by_b} retracted by B (epoch {e2}, took over \
		 {failover:?} after the kill) in {} partitions; markers of epochs {:?}; blocks 0..={last} checked ({} blocks) \
		 in {} messages: {} duplicates, {} discarded by the epoch rule, {} retractions",
		shipped_by_a.len(),
		seen_fork.len(),
		retracted.values().map(BTreeSet::len).sum::<usize>(),
		summary.epochs,
		summary.blocks,
		summary.records,
		summary.duplicates,
		summary.discarded,
		summary.retractions,
	);
}

/// Best mode, a broker with nisshi's `sqlite://` engine (its data survives) killed and started again while the
/// group ships: the members lose their group with it, join again, and one of them leads (in a new epoch or the
/// same): every canonical block is live once with its events, nothing of another block, and exactly one node leads
/// at the end.
#[test]
fn a_restarted_broker_leaves_one_leader_and_loses_nothing() {
	let mut broker = Broker::start_persistent();
	let net = Network::start();
	let sinks = [SinkNode::start("sink-a", &broker, &net, "best"), SinkNode::start("sink-b", &broker, &net, "best")];
	let mut busy = 0;

	submit_busy(&net, &mut busy);
	net.wait_finalized(2, &sinks);
	let (_, role) = wait_for_leader(&[&sinks[0], &sinks[1]], 0, NETWORK_TIMEOUT, || context(&net, &sinks));
	let e1 = role.epoch;
	wait_shipped(&broker, e1, 2, || context(&net, &sinks));

	// With work in flight: the broker dies and comes back on its data.
	submit_busy(&net, &mut busy);
	broker.restart();
	let restarted_at = Instant::now();
	submit_busy(&net, &mut busy);
	let target = net.alice.finalized_number() + 4;
	net.wait_finalized(target, &sinks);
	let (leader, role) = wait_for_leader(&[&sinks[0], &sinks[1]], 0, TAKEOVER_TIMEOUT, || context(&net, &sinks));
	let recovered = restarted_at.elapsed();
	let other = sinks[1 - leader].role().expect("the standby's metrics");
	assert!(!other.active, "exactly one leader after the restart: {role:?} and {other:?}\n{}", context(&net, &sinks));
	submit_busy(&net, &mut busy);
	wait_shipped(&broker, role.epoch, 1, || context(&net, &sinks));

	let last = net.alice.finalized_number() as u64;
	let summary = check_stream(&broker, &net.alice, last, false, &[role.epoch], || context(&net, &sinks));
	eprintln!(
		"ha broker restart: epoch {e1} before, {} as epoch {} leads {recovered:?} after the restart; markers of \
		 epochs {:?}; blocks 0..={last} checked ({} blocks) in {} messages: {} duplicates, {} discarded by the epoch \
		 rule, {} retractions",
		sinks[leader].label,
		role.epoch,
		summary.epochs,
		summary.blocks,
		summary.records,
		summary.duplicates,
		summary.discarded,
		summary.retractions,
	);
}
