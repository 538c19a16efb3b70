//! End-to-end test of Herald's domain pallets in a running node: a DAO, a contract agreement and a crowdfunding
//! whose timed finish happens in `on_initialize` of its end block.

use crate::common;
use crate::common::{NodeConfig, NodeProcess};
use frame_support::traits::tokens::fungible::NativeOrWithId;
use frame_system::Phase;
use herald_runtime::{RuntimeCall, RuntimeEvent, UNIT};
use sp_core::H256;
use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie};

/// Seals one finalized block once the pool holds `extrinsics` ready transactions, and returns its hash and events.
fn seal(node: &NodeProcess, extrinsics: usize) -> (H256, common::EventRecords) {
	node.wait_for_pending(extrinsics);
	let hash = node.seal_block(true, None);
	(hash, node.events(hash))
}

fn assert_success(events: &common::EventRecords) {
	let failed: Vec<_> = events
		.iter()
		.filter(|r| matches!(r.event, RuntimeEvent::System(frame_system::Event::ExtrinsicFailed { .. })))
		.collect();
	assert!(failed.is_empty(), "extrinsics failed: {failed:#?}");
}

#[test]
fn dao_agreement_and_timed_crowdfunding_finish() {
	let node = NodeProcess::start(NodeConfig::manual_seal());

	// A DAO with Alice as admin, then Bob joins.
	node.submit(Alice, RuntimeCall::Dao(pallet_dao::Call::create_dao { metadata: b"herald guild".to_vec() }));
	let (_, events) = seal(&node, 1);
	assert_success(&events);
	let dao_id = events
		.iter()
		.find_map(|r| match &r.event {
			RuntimeEvent::Dao(pallet_dao::Event::DaoCreated { dao_id, admin, .. })
				if *admin == Alice.to_account_id() =>
			{
				Some(*dao_id)
			}
			_ => None,
		})
		.expect("DaoCreated");
	node.submit(Alice, RuntimeCall::Dao(pallet_dao::Call::add_member { dao_id, member: Bob.to_account_id() }));
	let (_, events) = seal(&node, 1);
	assert_success(&events);
	assert!(events.iter().any(|r| matches!(
		&r.event,
		RuntimeEvent::Dao(pallet_dao::Event::DaoMembershipChanged { dao_id: d, member, .. })
			if *d == dao_id && *member == Bob.to_account_id()
	)));

	// An agreement between Alice and Bob: proposing signs for Alice, Bob's signature puts it in force.
	let expiry = node.block_number(node.best_hash()) + 100;
	node.submit(
		Alice,
		RuntimeCall::Agreements(pallet_agreements::Call::propose {
			parties: vec![Alice.to_account_id(), Bob.to_account_id()],
			terms_hash: H256::repeat_byte(7),
			expiry,
		}),
	);
	let (_, events) = seal(&node, 1);
	assert_success(&events);
	let agreement_id = events
		.iter()
		.find_map(|r| match &r.event {
			RuntimeEvent::Agreements(pallet_agreements::Event::ContractAgreementProposed { agreement_id, .. }) => {
				Some(*agreement_id)
			}
			_ => None,
		})
		.expect("ContractAgreementProposed");
	node.submit(Bob, RuntimeCall::Agreements(pallet_agreements::Call::sign { agreement_id }));
	let (_, events) = seal(&node, 1);
	assert_success(&events);
	assert!(events.iter().any(|r| matches!(
		&r.event,
		RuntimeEvent::Agreements(pallet_agreements::Event::ContractAgreementSigned { agreement_id: a, .. })
			if *a == agreement_id
	)));

	// A crowdfunding on behalf of the DAO, active from the next block, ending 3 blocks later.
	let now = node.block_number(node.best_hash());
	let (start, end) = (now + 2, now + 5);
	node.submit(
		Alice,
		RuntimeCall::Crowdfunding(pallet_crowdfunding::Call::create {
			dao_id: Some(dao_id),
			asset: NativeOrWithId::Native,
			beneficiary: Charlie.to_account_id(),
			soft_cap: 10 * UNIT,
			hard_cap: 100 * UNIT,
			start,
			end,
		}),
	);
	let (_, events) = seal(&node, 1);
	assert_success(&events);
	let crowdfunding_id = events
		.iter()
		.find_map(|r| match &r.event {
			RuntimeEvent::Crowdfunding(pallet_crowdfunding::Event::CrowdfundingCreated { crowdfunding_id, .. }) => {
				Some(*crowdfunding_id)
			}
			_ => None,
		})
		.expect("CrowdfundingCreated");

	// Block `start` activates it (in on_initialize); contributions go in from then on.
	let (_, events) = seal(&node, 0);
	assert_eq!(node.block_number(node.best_hash()), start);
	assert!(events.iter().any(|r| r.phase == Phase::Initialization
		&& matches!(
			&r.event,
			RuntimeEvent::Crowdfunding(pallet_crowdfunding::Event::CrowdfundingActivated { crowdfunding_id: c })
				if *c == crowdfunding_id
		)));
	node.submit(
		Bob,
		RuntimeCall::Crowdfunding(pallet_crowdfunding::Call::contribute { crowdfunding_id, amount: 25 * UNIT }),
	);
	let (_, events) = seal(&node, 1);
	assert_success(&events);

	// Seal past the end: the finish is in exactly the end block, during its initialization.
	let mut finished_in = None;
	while node.block_number(node.best_hash()) < end + 1 {
		let (hash, events) = seal(&node, 0);
		for record in &events {
			if let RuntimeEvent::Crowdfunding(pallet_crowdfunding::Event::CrowdfundingFinished {
				crowdfunding_id: c,
				outcome,
			}) = &record.event
			{
				assert_eq!(*c, crowdfunding_id);
				assert_eq!(record.phase, Phase::Initialization, "the finish comes from on_initialize");
				assert_eq!(*outcome, pallet_crowdfunding::Outcome::Succeeded { raised: 25 * UNIT });
				finished_in = Some(node.block_number(hash));
			}
		}
	}
	assert_eq!(finished_in, Some(end), "CrowdfundingFinished is in the end block");
}
