//! End-to-end tests of the node itself: signed extrinsics land in manually sealed blocks with the expected
//! events, and forks built with `engine_createBlock(parent_hash)` re-org and finalize as the longest chain rule says.

use crate::common::{NodeConfig, NodeProcess};
use frame_system::Phase;
use herald_runtime::{AssetsCall, BalancesCall, RuntimeCall, RuntimeEvent, UNIT};
use sp_keyring::Sr25519Keyring::{Alice, Bob};

#[test]
fn signed_extrinsics_produce_their_events_in_the_sealed_block() {
	let node = NodeProcess::start(NodeConfig::manual_seal());

	let amount = 42 * UNIT;
	node.submit(
		Alice,
		RuntimeCall::Balances(BalancesCall::transfer_keep_alive { dest: Bob.to_account_id().into(), value: amount }),
	);
	node.submit(
		Alice,
		RuntimeCall::Assets(AssetsCall::create {
			id: 7u32.into(),
			admin: Alice.to_account_id().into(),
			min_balance: 1,
		}),
	);
	let block = node.seal_block(true, None);
	assert_eq!(node.block_number(block), 1);
	assert_eq!(node.finalized_hash(), block, "the sealed block is finalized");

	let events = node.events(block);
	let transfer = events
		.iter()
		.find(|r| {
			matches!(
				&r.event,
				RuntimeEvent::Balances(pallet_balances::Event::Transfer { from, to, amount: a })
					if *from == Alice.to_account_id() && *to == Bob.to_account_id() && *a == amount
			)
		})
		.unwrap_or_else(|| panic!("no Balances.Transfer in {events:#?}"));
	let created = events
		.iter()
		.find(|r| {
			matches!(
				&r.event,
				RuntimeEvent::Assets(pallet_assets::Event::Created { asset_id: 7, creator, owner })
					if *creator == Alice.to_account_id() && *owner == Alice.to_account_id()
			)
		})
		.unwrap_or_else(|| panic!("no Assets.Created in {events:#?}"));

	// Extrinsic 0 is the timestamp inherent; the two signed extrinsics follow in submission order.
	assert_eq!(transfer.phase, Phase::ApplyExtrinsic(1));
	assert_eq!(created.phase, Phase::ApplyExtrinsic(2));
	let successes = events
		.iter()
		.filter(|r| matches!(r.event, RuntimeEvent::System(frame_system::Event::ExtrinsicSuccess { .. })))
		.count();
	assert_eq!(successes, 3, "timestamp inherent + two extrinsics succeed: {events:#?}");
}

#[test]
fn longest_fork_becomes_best_and_finalizes() {
	let node = NodeProcess::start(NodeConfig::manual_seal());
	let genesis = node.genesis_hash();

	// A1 <- A2 on the genesis line.
	let a1 = node.seal_block(false, Some(genesis));
	let a2 = node.seal_block(false, Some(a1));
	assert_eq!(node.best_hash(), a2);

	// B1 <- B2 from genesis: same height as A2, so A2 stays best.
	let b1 = node.seal_block(false, Some(genesis));
	let b2 = node.seal_block(false, Some(b1));
	assert_ne!(b1, a1, "sibling blocks must differ");
	assert_eq!(node.block_number(b2), 2);
	assert_eq!(node.best_hash(), a2, "an equally long fork does not become best");

	// B3 makes the B fork the longest: re-org.
	let b3 = node.seal_block(false, Some(b2));
	assert_eq!(node.best_hash(), b3, "the longer fork becomes best");
	assert_eq!(node.finalized_hash(), genesis);

	node.finalize(b3);
	assert_eq!(node.finalized_hash(), b3, "finality is reported for the finalized fork");

	// The retracted branch can no longer be built on past finality.
	let error = node.rpc_err("engine_createBlock", serde_json::json!([true, false, a2]));
	assert!(!error.is_empty());
}
