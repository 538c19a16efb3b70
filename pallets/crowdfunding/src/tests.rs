//! Unit tests of the crowdfunding pallet.

use crate::{
	mock::*, Contributions, CrowdfundingId, CrowdfundingInfo, CrowdfundingStatus, Crowdfundings, EndingAt, Error,
	Event, NextCrowdfundingId, Outcome, SettlementQueueRange, StartingAt, UnclaimedRefunds, WeightInfo,
};
use frame_support::weights::Weight;
use frame_support::{
	assert_noop, assert_ok,
	traits::{fungibles::Inspect, Hooks},
};
use sp_runtime::{DispatchError, TokenError};

fn origin(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn balance(kind: AssetKind, who: AccountId) -> Balance {
	<NativeAndAssets as Inspect<AccountId>>::balance(kind, &who)
}

fn issuance(kind: AssetKind) -> Balance {
	<NativeAndAssets as Inspect<AccountId>>::total_issuance(kind)
}

fn escrow(id: CrowdfundingId) -> AccountId {
	Crowdfunding::escrow_account(id)
}

/// `creator` creates a crowdfunding for [`BENEFICIARY`]; returns its id.
fn create(
	creator: AccountId,
	kind: AssetKind,
	soft_cap: Balance,
	hard_cap: Balance,
	start: u64,
	end: u64,
) -> CrowdfundingId {
	create_for(creator, kind, BENEFICIARY, soft_cap, hard_cap, start, end)
}

fn create_for(
	creator: AccountId,
	kind: AssetKind,
	beneficiary: AccountId,
	soft_cap: Balance,
	hard_cap: Balance,
	start: u64,
	end: u64,
) -> CrowdfundingId {
	let id = NextCrowdfundingId::<Test>::get();
	assert_ok!(Crowdfunding::create(origin(creator), None, kind, beneficiary, soft_cap, hard_cap, start, end));
	id
}

fn status(id: CrowdfundingId) -> Option<CrowdfundingStatus> {
	Crowdfundings::<Test>::get(id).map(|info| info.status)
}

fn contribute(who: AccountId, id: CrowdfundingId, amount: Balance) {
	assert_ok!(Crowdfunding::contribute(origin(who), id, amount));
}

/// The weight `on_initialize` must report for the given work.
fn expected_weight(activated: u32, succeeded: u32, failed: u32, settled: &[u32]) -> Weight {
	let settle = if settled.is_empty() {
		<() as WeightInfo>::on_initialize_settle(0)
	} else {
		settled.iter().fold(Weight::zero(), |w, r| w + <() as WeightInfo>::on_initialize_settle(*r))
	};
	<() as WeightInfo>::on_initialize_activate(activated)
		+ <() as WeightInfo>::on_initialize_finish_succeeded(succeeded)
		+ <() as WeightInfo>::on_initialize_finish_failed(failed)
		+ settle
}

mod create {
	use super::*;

	#[test]
	fn works() {
		test(|| {
			assert_ok!(Crowdfunding::create(origin(ALICE), None, native(), BENEFICIARY, 50, 100, 5, 10));
			System::assert_last_event(
				Event::CrowdfundingCreated {
					crowdfunding_id: 0,
					creator: ALICE,
					dao_id: None,
					asset: native(),
					beneficiary: BENEFICIARY,
					soft_cap: 50,
					hard_cap: 100,
					start: 5,
					end: 10,
				}
				.into(),
			);
			assert_eq!(
				Crowdfundings::<Test>::get(0),
				Some(CrowdfundingInfo {
					creator: ALICE,
					dao_id: None,
					asset: native(),
					beneficiary: BENEFICIARY,
					soft_cap: 50,
					hard_cap: 100,
					start: 5,
					end: 10,
					raised: 0,
					contributors: 0,
					unclaimed: 0,
					status: CrowdfundingStatus::Upcoming,
				})
			);
			assert_eq!(StartingAt::<Test>::get(5).into_inner(), vec![0]);
			assert_eq!(EndingAt::<Test>::get(10).into_inner(), vec![0]);
			assert_eq!(NextCrowdfundingId::<Test>::get(), 1);
			// The escrow account exists, provided for by the pallet.
			assert_eq!(System::providers(&escrow(0)), 1);

			// Ids are sequential; soft cap equal to the hard cap is fine; an asset works too.
			assert_eq!(create(BOB, asset(), 30, 30, 2, 3), 1);
			assert_eq!(Crowdfundings::<Test>::get(1).unwrap().asset, asset());
			assert_ne!(escrow(0), escrow(1));
		});
	}

	#[test]
	fn works_for_a_dao_admin() {
		test(|| {
			assert_ok!(Crowdfunding::create(origin(DAO_ADMIN), Some(DAO_ID), native(), BENEFICIARY, 50, 100, 5, 10));
			System::assert_last_event(
				Event::CrowdfundingCreated {
					crowdfunding_id: 0,
					creator: DAO_ADMIN,
					dao_id: Some(DAO_ID),
					asset: native(),
					beneficiary: BENEFICIARY,
					soft_cap: 50,
					hard_cap: 100,
					start: 5,
					end: 10,
				}
				.into(),
			);
			assert_eq!(Crowdfundings::<Test>::get(0).unwrap().dao_id, Some(DAO_ID));
		});
	}

	#[test]
	fn fails_for_non_dao_admin() {
		test(|| {
			assert_noop!(
				Crowdfunding::create(origin(ALICE), Some(DAO_ID), native(), BENEFICIARY, 50, 100, 5, 10),
				Error::<Test>::NotDaoAdmin
			);
			assert_noop!(
				Crowdfunding::create(origin(DAO_ADMIN), Some(DAO_ID + 1), native(), BENEFICIARY, 50, 100, 5, 10),
				Error::<Test>::NotDaoAdmin
			);
		});
	}

	#[test]
	fn fails_for_unknown_asset() {
		test(|| {
			assert_noop!(
				Crowdfunding::create(origin(ALICE), None, AssetKind::WithId(ASSET_ID + 1), BENEFICIARY, 50, 100, 5, 10),
				Error::<Test>::UnknownAsset
			);
		});
	}

	#[test]
	fn fails_with_bad_caps() {
		test(|| {
			assert_noop!(
				Crowdfunding::create(origin(ALICE), None, native(), BENEFICIARY, 0, 100, 5, 10),
				Error::<Test>::ZeroSoftCap
			);
			assert_noop!(
				Crowdfunding::create(origin(ALICE), None, native(), BENEFICIARY, 101, 100, 5, 10),
				Error::<Test>::SoftCapAboveHardCap
			);
			assert_noop!(
				Crowdfunding::create(origin(ALICE), None, native(), BENEFICIARY, 1, ED - 1, 5, 10),
				Error::<Test>::HardCapBelowMinimumBalance
			);
			assert_noop!(
				Crowdfunding::create(origin(ALICE), None, asset(), BENEFICIARY, 1, ASSET_MIN - 1, 5, 10),
				Error::<Test>::HardCapBelowMinimumBalance
			);
		});
	}

	#[test]
	fn fails_with_bad_blocks() {
		test(|| {
			run_to_block(5);
			assert_noop!(
				Crowdfunding::create(origin(ALICE), None, native(), BENEFICIARY, 50, 100, 5, 10),
				Error::<Test>::StartInPast
			);
			assert_noop!(
				Crowdfunding::create(origin(ALICE), None, native(), BENEFICIARY, 50, 100, 4, 10),
				Error::<Test>::StartInPast
			);
			assert_noop!(
				Crowdfunding::create(origin(ALICE), None, native(), BENEFICIARY, 50, 100, 6, 6),
				Error::<Test>::EndNotAfterStart
			);
			assert_noop!(
				Crowdfunding::create(origin(ALICE), None, native(), BENEFICIARY, 50, 100, 8, 7),
				Error::<Test>::EndNotAfterStart
			);
		});
	}

	#[test]
	fn fails_when_the_start_block_is_full() {
		test(|| {
			for end in 0..MAX_PER_BLOCK as u64 {
				create(ALICE, native(), 50, 100, 5, 10 + end);
			}
			assert_noop!(
				Crowdfunding::create(origin(ALICE), None, native(), BENEFICIARY, 50, 100, 5, 20),
				Error::<Test>::TooManyStartingAtBlock
			);
			// Another start block is fine.
			create(ALICE, native(), 50, 100, 6, 20);
		});
	}

	#[test]
	fn fails_when_the_end_block_is_full() {
		test(|| {
			for start in 0..MAX_PER_BLOCK as u64 {
				create(ALICE, native(), 50, 100, 2 + start, 10);
			}
			assert_noop!(
				Crowdfunding::create(origin(ALICE), None, native(), BENEFICIARY, 50, 100, 6, 10),
				Error::<Test>::TooManyEndingAtBlock
			);
			create(ALICE, native(), 50, 100, 6, 11);
		});
	}

	#[test]
	fn fails_when_ids_are_exhausted() {
		test(|| {
			NextCrowdfundingId::<Test>::put(CrowdfundingId::MAX);
			assert_noop!(
				Crowdfunding::create(origin(ALICE), None, native(), BENEFICIARY, 50, 100, 5, 10),
				Error::<Test>::CrowdfundingIdsExhausted
			);
		});
	}

	#[test]
	fn requires_a_signed_origin() {
		test(|| {
			assert_noop!(
				Crowdfunding::create(RuntimeOrigin::root(), None, native(), BENEFICIARY, 50, 100, 5, 10),
				DispatchError::BadOrigin
			);
		});
	}
}

mod contribute {
	use super::*;

	#[test]
	fn works_with_the_native_token() {
		test(|| {
			let id = create(ALICE, native(), 50, 100, 2, 10);
			run_to_block(2);
			contribute(BOB, id, 20);
			System::assert_last_event(
				Event::Contributed { crowdfunding_id: id, contributor: BOB, amount: 20, raised: 20 }.into(),
			);
			contribute(CHARLIE, id, ED);
			contribute(BOB, id, 7);
			System::assert_last_event(
				Event::Contributed { crowdfunding_id: id, contributor: BOB, amount: 7, raised: 32 }.into(),
			);

			assert_eq!(balance(native(), BOB), INITIAL_BALANCE - 27);
			assert_eq!(balance(native(), CHARLIE), INITIAL_BALANCE - ED);
			assert_eq!(balance(native(), escrow(id)), 32);
			assert_eq!(Contributions::<Test>::get(id, BOB), Some(27));
			assert_eq!(Contributions::<Test>::get(id, CHARLIE), Some(ED));
			let info = Crowdfundings::<Test>::get(id).unwrap();
			assert_eq!((info.raised, info.contributors), (32, 2));
		});
	}

	#[test]
	fn works_with_an_asset() {
		test(|| {
			let id = create(ALICE, asset(), 50, 100, 2, 10);
			run_to_block(2);
			contribute(BOB, id, ASSET_MIN);
			contribute(CHARLIE, id, 40);
			assert_eq!(balance(asset(), BOB), INITIAL_BALANCE - ASSET_MIN);
			assert_eq!(balance(asset(), escrow(id)), 40 + ASSET_MIN);
			// The escrow has no native balance: it holds the non-sufficient asset thanks to the
			// provider reference the pallet gave it.
			assert_eq!(balance(native(), escrow(id)), 0);
			assert_eq!(Crowdfundings::<Test>::get(id).unwrap().raised, 43);
		});
	}

	#[test]
	fn accepts_up_to_the_hard_cap() {
		test(|| {
			let id = create(ALICE, native(), 50, 100, 2, 10);
			run_to_block(2);
			contribute(BOB, id, 60);
			assert_noop!(Crowdfunding::contribute(origin(CHARLIE), id, 41), Error::<Test>::HardCapExceeded);
			assert_noop!(Crowdfunding::contribute(origin(CHARLIE), id, Balance::MAX), Error::<Test>::HardCapExceeded);
			contribute(CHARLIE, id, 40);
			assert_noop!(Crowdfunding::contribute(origin(DAVE), id, ED), Error::<Test>::HardCapExceeded);
			assert_eq!(Crowdfundings::<Test>::get(id).unwrap().raised, 100);
		});
	}

	#[test]
	fn fails_for_unknown_crowdfunding() {
		test(|| {
			assert_noop!(Crowdfunding::contribute(origin(BOB), 0, 10), Error::<Test>::UnknownCrowdfunding);
		});
	}

	#[test]
	fn fails_before_the_start_block() {
		test(|| {
			let id = create(ALICE, native(), 50, 100, 3, 10);
			assert_noop!(Crowdfunding::contribute(origin(BOB), id, 10), Error::<Test>::NotActive);
			run_to_block(2);
			assert_noop!(Crowdfunding::contribute(origin(BOB), id, 10), Error::<Test>::NotActive);
			run_to_block(3);
			contribute(BOB, id, 10);
		});
	}

	#[test]
	fn fails_from_the_end_block() {
		test(|| {
			let id = create(ALICE, native(), 10, 100, 2, 5);
			// The last block accepting contributions.
			run_to_block(4);
			contribute(BOB, id, 10);
			// It ended, and was settled, at block 5.
			run_to_block(5);
			assert_noop!(Crowdfunding::contribute(origin(BOB), id, 10), Error::<Test>::UnknownCrowdfunding);
		});
	}

	#[test]
	fn fails_once_ended_but_not_settled() {
		test(|| {
			// More contributors than one block's refunds: still in storage after its end block.
			let id = create(ALICE, native(), 500, 1000, 2, 3);
			run_to_block(2);
			for who in 10..10 + MAX_REFUNDS_PER_BLOCK as AccountId + 1 {
				contribute(who, id, 10);
			}
			run_to_block(3);
			assert_eq!(status(id), Some(CrowdfundingStatus::Failed));
			assert_noop!(Crowdfunding::contribute(origin(BOB), id, 10), Error::<Test>::NotActive);
		});
	}

	#[test]
	fn fails_below_the_minimum_balance() {
		test(|| {
			let native_id = create(ALICE, native(), 50, 100, 2, 10);
			let asset_id = create(ALICE, asset(), 50, 100, 2, 10);
			run_to_block(2);
			assert_noop!(Crowdfunding::contribute(origin(BOB), native_id, 0), Error::<Test>::ContributionTooSmall);
			assert_noop!(Crowdfunding::contribute(origin(BOB), native_id, ED - 1), Error::<Test>::ContributionTooSmall);
			assert_noop!(
				Crowdfunding::contribute(origin(BOB), asset_id, ASSET_MIN - 1),
				Error::<Test>::ContributionTooSmall
			);
			// Top-ups must respect the minimum too.
			contribute(BOB, native_id, ED);
			assert_noop!(Crowdfunding::contribute(origin(BOB), native_id, ED - 1), Error::<Test>::ContributionTooSmall);
		});
	}

	#[test]
	fn fails_with_too_many_contributors() {
		test(|| {
			let id = create(ALICE, native(), 50, 1000, 2, 10);
			run_to_block(2);
			for who in 1..=MAX_CONTRIBUTORS as AccountId {
				contribute(who, id, 10);
			}
			let newcomer = MAX_CONTRIBUTORS as AccountId + 1;
			assert_noop!(Crowdfunding::contribute(origin(newcomer), id, 10), Error::<Test>::TooManyContributors);
			// Existing contributors may still add to their contribution.
			contribute(1, id, 10);
			assert_eq!(Contributions::<Test>::get(id, 1), Some(20));
			assert_eq!(Crowdfundings::<Test>::get(id).unwrap().contributors, MAX_CONTRIBUTORS);
		});
	}

	#[test]
	fn fails_without_funds_and_keeps_the_contributor_alive() {
		test(|| {
			let id = create(ALICE, native(), 50, 10_000, 2, 10);
			run_to_block(2);
			// `DAO_ADMIN` only holds the native token. Contributing everything would reap it:
			// refused.
			assert_noop!(Crowdfunding::contribute(origin(DAO_ADMIN), id, INITIAL_BALANCE), TokenError::NotExpendable);
			assert_noop!(
				Crowdfunding::contribute(origin(DAO_ADMIN), id, INITIAL_BALANCE + 1),
				TokenError::FundsUnavailable
			);
			// `BOB` also holds a non-sufficient asset, whose account depends on its native
			// balance: the existential deposit cannot be contributed either.
			assert_noop!(Crowdfunding::contribute(origin(BOB), id, INITIAL_BALANCE), TokenError::Frozen);
			contribute(DAO_ADMIN, id, INITIAL_BALANCE - ED);
			assert_eq!(balance(native(), DAO_ADMIN), ED);
		});
	}

	#[test]
	fn requires_a_signed_origin() {
		test(|| {
			let id = create(ALICE, native(), 50, 100, 2, 10);
			run_to_block(2);
			assert_noop!(Crowdfunding::contribute(RuntimeOrigin::root(), id, 10), DispatchError::BadOrigin);
		});
	}
}

mod hooks {
	use super::*;

	#[test]
	fn activation_happens_exactly_at_the_start_block() {
		test(|| {
			let id = create(ALICE, native(), 50, 100, 4, 10);
			run_to_block(3);
			assert!(crowdfunding_events().is_empty());
			assert_eq!(status(id), Some(CrowdfundingStatus::Upcoming));

			next_block();
			assert_eq!(crowdfunding_events(), vec![Event::CrowdfundingActivated { crowdfunding_id: id }]);
			assert_eq!(status(id), Some(CrowdfundingStatus::Active));
			assert!(!StartingAt::<Test>::contains_key(4));
			contribute(BOB, id, 10);

			next_block();
			assert!(crowdfunding_events().is_empty());
		});
	}

	#[test]
	fn success_pays_the_beneficiary_exactly_at_the_end_block() {
		test(|| {
			let issuance_before = issuance(native());
			let id = create(ALICE, native(), 50, 100, 2, 6);
			run_to_block(2);
			contribute(BOB, id, 30);
			contribute(CHARLIE, id, 15);
			run_to_block(5);
			// Still active one block before its end; reaching the soft cap does not end it.
			contribute(DAVE, id, 5);
			assert_eq!(status(id), Some(CrowdfundingStatus::Active));
			assert!(crowdfunding_events().iter().all(|e| matches!(e, Event::Contributed { .. })));

			next_block();
			assert_eq!(
				crowdfunding_events(),
				vec![
					Event::CrowdfundingFinished { crowdfunding_id: id, outcome: Outcome::Succeeded { raised: 50 } },
					Event::CrowdfundingPaidOut { crowdfunding_id: id, beneficiary: BENEFICIARY, amount: 50 },
					Event::CrowdfundingSettled { crowdfunding_id: id },
				]
			);
			assert_eq!(balance(native(), BENEFICIARY), 50);
			assert_eq!(balance(native(), BOB), INITIAL_BALANCE - 30);
			assert_eq!(balance(native(), CHARLIE), INITIAL_BALANCE - 15);
			assert_eq!(balance(native(), DAVE), INITIAL_BALANCE - 5);
			assert_eq!(balance(native(), escrow(id)), 0);
			assert_eq!(issuance(native()), issuance_before);
			// Everything is cleaned up, the escrow account is gone.
			assert_eq!(status(id), None);
			assert_eq!(Contributions::<Test>::iter_prefix(id).count(), 0);
			assert!(!System::account_exists(&escrow(id)));
			assert!(!EndingAt::<Test>::contains_key(6));

			next_block();
			assert!(crowdfunding_events().is_empty());
		});
	}

	#[test]
	fn success_with_an_asset() {
		test(|| {
			let issuance_before = issuance(asset());
			let native_issuance_before = issuance(native());
			// The beneficiary has a native balance, so it can hold the non-sufficient asset.
			let id = create_for(ALICE, asset(), DAVE, 40, 100, 2, 4);
			run_to_block(2);
			contribute(BOB, id, 25);
			contribute(CHARLIE, id, 25);
			run_to_block(4);
			assert_eq!(
				crowdfunding_events(),
				vec![
					Event::CrowdfundingFinished { crowdfunding_id: id, outcome: Outcome::Succeeded { raised: 50 } },
					Event::CrowdfundingPaidOut { crowdfunding_id: id, beneficiary: DAVE, amount: 50 },
					Event::CrowdfundingSettled { crowdfunding_id: id },
				]
			);
			assert_eq!(balance(asset(), DAVE), INITIAL_BALANCE + 50);
			assert_eq!(balance(asset(), BOB), INITIAL_BALANCE - 25);
			assert_eq!(balance(asset(), CHARLIE), INITIAL_BALANCE - 25);
			assert_eq!(balance(asset(), escrow(id)), 0);
			assert_eq!(issuance(asset()), issuance_before);
			assert_eq!(issuance(native()), native_issuance_before);
			assert!(!System::account_exists(&escrow(id)));
		});
	}

	#[test]
	fn failure_refunds_every_contributor_exactly_at_the_end_block() {
		test(|| {
			let issuance_before = issuance(native());
			let id = create(ALICE, native(), 50, 100, 2, 6);
			run_to_block(2);
			contribute(BOB, id, 30);
			contribute(CHARLIE, id, 10);
			contribute(BOB, id, 9);
			run_to_block(5);
			assert_eq!(status(id), Some(CrowdfundingStatus::Active));

			next_block();
			let events = crowdfunding_events();
			assert_eq!(
				events[0],
				Event::CrowdfundingFinished { crowdfunding_id: id, outcome: Outcome::Failed { raised: 49 } }
			);
			// Refunds come in storage order; check them as a set.
			assert_eq!(events.len(), 4);
			assert!(events.contains(&Event::Refunded { crowdfunding_id: id, contributor: BOB, amount: 39 }));
			assert!(events.contains(&Event::Refunded { crowdfunding_id: id, contributor: CHARLIE, amount: 10 }));
			assert_eq!(events[3], Event::CrowdfundingSettled { crowdfunding_id: id });

			assert_eq!(balance(native(), BOB), INITIAL_BALANCE);
			assert_eq!(balance(native(), CHARLIE), INITIAL_BALANCE);
			assert_eq!(balance(native(), BENEFICIARY), 0);
			assert_eq!(balance(native(), escrow(id)), 0);
			assert_eq!(issuance(native()), issuance_before);
			assert_eq!(status(id), None);
			assert!(!System::account_exists(&escrow(id)));
		});
	}

	#[test]
	fn failure_with_an_asset() {
		test(|| {
			let issuance_before = issuance(asset());
			let id = create(ALICE, asset(), 100, 200, 2, 4);
			run_to_block(2);
			contribute(BOB, id, ASSET_MIN);
			contribute(CHARLIE, id, 50);
			run_to_block(4);
			let events = crowdfunding_events();
			assert_eq!(
				events.first(),
				Some(&Event::CrowdfundingFinished { crowdfunding_id: id, outcome: Outcome::Failed { raised: 53 } })
			);
			assert_eq!(events.last(), Some(&Event::CrowdfundingSettled { crowdfunding_id: id }));
			assert_eq!(events.len(), 4);
			assert_eq!(balance(asset(), BOB), INITIAL_BALANCE);
			assert_eq!(balance(asset(), CHARLIE), INITIAL_BALANCE);
			assert_eq!(balance(asset(), escrow(id)), 0);
			assert_eq!(issuance(asset()), issuance_before);
			assert!(!System::account_exists(&escrow(id)));
		});
	}

	#[test]
	fn failure_without_contributions_settles_at_once() {
		test(|| {
			let id = create(ALICE, native(), 50, 100, 2, 3);
			run_to_block(3);
			assert_eq!(
				crowdfunding_events(),
				vec![
					Event::CrowdfundingFinished { crowdfunding_id: id, outcome: Outcome::Failed { raised: 0 } },
					Event::CrowdfundingSettled { crowdfunding_id: id },
				]
			);
			assert_eq!(status(id), None);
			assert!(!System::account_exists(&escrow(id)));
			assert_eq!(SettlementQueueRange::<Test>::get(), (0, 0));
		});
	}

	#[test]
	fn refunds_beyond_one_blocks_bound_complete_over_several_blocks() {
		test(|| {
			let issuance_before = issuance(native());
			let id = create(ALICE, native(), 500, 1000, 2, 4);
			run_to_block(2);
			// 7 contributors: 3 + 3 + 1 refunds.
			let contributors: Vec<AccountId> = (10..17).collect();
			for &who in &contributors {
				contribute(who, id, 10 + who as Balance);
			}
			run_to_block(3);

			let refunded =
				|events: &[Event<Test>]| events.iter().filter(|e| matches!(e, Event::Refunded { .. })).count();

			System::set_block_number(4);
			System::reset_events();
			let weight = Crowdfunding::on_initialize(4);
			assert_eq!(weight, expected_weight(0, 0, 1, &[MAX_REFUNDS_PER_BLOCK]));
			let events = crowdfunding_events();
			assert!(matches!(events[0], Event::CrowdfundingFinished { outcome: Outcome::Failed { raised: 161 }, .. }));
			assert_eq!(refunded(&events), 3);
			assert_eq!(status(id), Some(CrowdfundingStatus::Failed));
			assert_eq!(Crowdfundings::<Test>::get(id).unwrap().contributors, 4);

			next_block();
			let events = crowdfunding_events();
			assert_eq!(refunded(&events), 3);
			assert_eq!(events.len(), 3);
			assert_eq!(Crowdfundings::<Test>::get(id).unwrap().contributors, 1);

			System::set_block_number(6);
			System::reset_events();
			let weight = Crowdfunding::on_initialize(6);
			assert_eq!(weight, expected_weight(0, 0, 0, &[1]));
			let events = crowdfunding_events();
			assert_eq!(refunded(&events), 1);
			assert_eq!(events.last(), Some(&Event::CrowdfundingSettled { crowdfunding_id: id }));

			for &who in &contributors {
				assert_eq!(balance(native(), who), INITIAL_BALANCE);
			}
			assert_eq!(issuance(native()), issuance_before);
			assert_eq!(status(id), None);
			assert!(!System::account_exists(&escrow(id)));

			// An empty queue costs the base weight.
			assert_eq!(Crowdfunding::on_initialize(7), expected_weight(0, 0, 0, &[]));
		});
	}

	#[test]
	fn records_of_a_large_success_are_cleared_over_several_blocks() {
		test(|| {
			let id = create(ALICE, native(), 50, 1000, 2, 4);
			run_to_block(2);
			for who in 10..17 {
				contribute(who, id, 10);
			}
			run_to_block(4);
			assert_eq!(
				crowdfunding_events(),
				vec![
					Event::CrowdfundingFinished { crowdfunding_id: id, outcome: Outcome::Succeeded { raised: 70 } },
					Event::CrowdfundingPaidOut { crowdfunding_id: id, beneficiary: BENEFICIARY, amount: 70 },
				]
			);
			assert_eq!(balance(native(), BENEFICIARY), 70);
			assert_eq!(status(id), Some(CrowdfundingStatus::Succeeded { paid_out: true }));
			next_block();
			assert!(crowdfunding_events().is_empty());
			next_block();
			assert_eq!(crowdfunding_events(), vec![Event::CrowdfundingSettled { crowdfunding_id: id }]);
			assert_eq!(Contributions::<Test>::iter_prefix(id).count(), 0);
		});
	}

	#[test]
	fn the_refund_budget_is_shared_by_queued_crowdfundings() {
		test(|| {
			let first = create(ALICE, native(), 500, 1000, 2, 4);
			let second = create(ALICE, native(), 500, 1000, 2, 4);
			run_to_block(2);
			for who in [BOB, CHARLIE] {
				contribute(who, first, 10);
				contribute(who, second, 20);
			}
			System::set_block_number(4);
			System::reset_events();
			let weight = Crowdfunding::on_initialize(4);
			// First in, first out: both of `first`, one of `second`.
			assert_eq!(weight, expected_weight(0, 0, 2, &[2, 1]));
			let events = crowdfunding_events();
			let refunds_of = |id| {
				events
					.iter()
					.filter(|e| matches!(e, Event::Refunded { crowdfunding_id, .. } if *crowdfunding_id == id))
					.count()
			};
			assert_eq!((refunds_of(first), refunds_of(second)), (2, 1));
			assert!(events.contains(&Event::CrowdfundingSettled { crowdfunding_id: first }));
			assert_eq!(status(second), Some(CrowdfundingStatus::Failed));

			next_block();
			assert_eq!(crowdfunding_events().len(), 2);
			assert_eq!(status(second), None);
			assert_eq!(balance(native(), BOB), INITIAL_BALANCE);
			assert_eq!(balance(native(), CHARLIE), INITIAL_BALANCE);
			assert_eq!(SettlementQueueRange::<Test>::get(), (2, 2));
		});
	}

	#[test]
	fn starts_and_ends_in_the_same_block_are_processed_and_weighed() {
		test(|| {
			let ending = create(ALICE, native(), 10, 100, 2, 5);
			let succeeding = create(ALICE, native(), 10, 100, 3, 5);
			let starting = create(ALICE, native(), 10, 100, 5, 9);
			run_to_block(3);
			contribute(BOB, succeeding, 10);
			System::set_block_number(5);
			System::reset_events();
			let weight = Crowdfunding::on_initialize(5);
			assert_eq!(weight, expected_weight(1, 1, 1, &[1]));
			let events = crowdfunding_events();
			assert_eq!(events[0], Event::CrowdfundingActivated { crowdfunding_id: starting });
			assert!(events.contains(&Event::CrowdfundingFinished {
				crowdfunding_id: ending,
				outcome: Outcome::Failed { raised: 0 }
			}));
			assert!(events.contains(&Event::CrowdfundingFinished {
				crowdfunding_id: succeeding,
				outcome: Outcome::Succeeded { raised: 10 }
			}));
			assert_eq!(status(starting), Some(CrowdfundingStatus::Active));
			assert_eq!(status(ending), None);
			assert_eq!(status(succeeding), None);
		});
	}

	#[test]
	fn idle_block_costs_the_base_weight() {
		test(|| {
			assert_eq!(Crowdfunding::on_initialize(1), expected_weight(0, 0, 0, &[]));
		});
	}
}

mod failed_transfers {
	use super::*;

	/// A succeeded asset crowdfunding whose beneficiary cannot hold the (non-sufficient) asset
	/// at its end block: the payout fails.
	fn failed_payout() -> CrowdfundingId {
		let id = create(ALICE, asset(), 40, 100, 2, 4);
		run_to_block(2);
		contribute(BOB, id, 25);
		contribute(CHARLIE, id, 25);
		run_to_block(4);
		id
	}

	#[test]
	fn failed_payout_is_reported_and_can_be_retried() {
		test(|| {
			let issuance_before = issuance(asset());
			let id = failed_payout();
			assert_eq!(
				crowdfunding_events(),
				vec![
					Event::CrowdfundingFinished { crowdfunding_id: id, outcome: Outcome::Succeeded { raised: 50 } },
					Event::PayoutFailed {
						crowdfunding_id: id,
						beneficiary: BENEFICIARY,
						amount: 50,
						error: TokenError::CannotCreate.into(),
					},
				]
			);
			assert_eq!(status(id), Some(CrowdfundingStatus::Succeeded { paid_out: false }));
			assert_eq!(balance(asset(), escrow(id)), 50);
			// The contribution records are cleared anyway.
			assert_eq!(Crowdfundings::<Test>::get(id).unwrap().contributors, 0);
			next_block();
			assert!(crowdfunding_events().is_empty());

			// Retrying while the beneficiary still cannot hold the asset fails, changing nothing.
			assert_noop!(Crowdfunding::retry_payout(origin(DAVE), id), TokenError::CannotCreate);

			// Once it can, anyone can retry.
			assert_ok!(<Balances as frame_support::traits::fungible::Mutate<_>>::transfer(
				&ALICE,
				&BENEFICIARY,
				ED,
				frame_support::traits::tokens::Preservation::Preserve,
			));
			System::reset_events();
			assert_ok!(Crowdfunding::retry_payout(origin(DAVE), id));
			assert_eq!(
				crowdfunding_events(),
				vec![
					Event::CrowdfundingPaidOut { crowdfunding_id: id, beneficiary: BENEFICIARY, amount: 50 },
					Event::CrowdfundingSettled { crowdfunding_id: id },
				]
			);
			assert_eq!(balance(asset(), BENEFICIARY), 50);
			assert_eq!(balance(asset(), escrow(id)), 0);
			assert_eq!(issuance(asset()), issuance_before);
			assert_eq!(status(id), None);
			assert!(!System::account_exists(&escrow(id)));
		});
	}

	#[test]
	fn retry_payout_fails_for_unknown_crowdfunding() {
		test(|| {
			assert_noop!(Crowdfunding::retry_payout(origin(BOB), 0), Error::<Test>::UnknownCrowdfunding);
		});
	}

	#[test]
	fn retry_payout_fails_without_a_failed_payout() {
		test(|| {
			let id = create(ALICE, native(), 10, 100, 2, 4);
			assert_noop!(Crowdfunding::retry_payout(origin(BOB), id), Error::<Test>::NotAwaitingPayout);
			run_to_block(2);
			assert_noop!(Crowdfunding::retry_payout(origin(BOB), id), Error::<Test>::NotAwaitingPayout);
			// A failed crowdfunding still refunding.
			let failing = create(ALICE, native(), 500, 1000, 3, 4);
			run_to_block(3);
			for who in 10..15 {
				contribute(who, failing, 10);
			}
			run_to_block(4);
			assert_eq!(status(failing), Some(CrowdfundingStatus::Failed));
			assert_noop!(Crowdfunding::retry_payout(origin(BOB), failing), Error::<Test>::NotAwaitingPayout);
		});
	}

	#[test]
	fn retry_payout_requires_a_signed_origin() {
		test(|| {
			let id = failed_payout();
			assert_noop!(Crowdfunding::retry_payout(RuntimeOrigin::root(), id), DispatchError::BadOrigin);
		});
	}

	/// A failed asset crowdfunding with contributions of BOB (25) and CHARLIE (10), where BOB's
	/// asset account is blocked by the asset's owner before the end block.
	fn failed_refund() -> CrowdfundingId {
		let id = create(ALICE, asset(), 100, 200, 2, 4);
		run_to_block(2);
		contribute(BOB, id, 25);
		contribute(CHARLIE, id, 10);
		assert_ok!(Assets::block(origin(ASSET_OWNER), ASSET_ID, BOB));
		run_to_block(4);
		id
	}

	#[test]
	fn failed_refund_is_reported_and_can_be_claimed() {
		test(|| {
			let issuance_before = issuance(asset());
			let id = failed_refund();
			let events = crowdfunding_events();
			assert_eq!(events.len(), 3);
			assert!(events.contains(&Event::Refunded { crowdfunding_id: id, contributor: CHARLIE, amount: 10 }));
			assert!(events.iter().any(|e| matches!(
				e,
				Event::RefundFailed { crowdfunding_id, contributor: BOB, amount: 25, .. }
					if *crowdfunding_id == id
			)));
			assert_eq!(UnclaimedRefunds::<Test>::get(id, BOB), Some(25));
			let info = Crowdfundings::<Test>::get(id).unwrap();
			assert_eq!((info.contributors, info.unclaimed), (0, 1));
			assert_eq!(balance(asset(), escrow(id)), 25);
			assert_eq!(balance(asset(), CHARLIE), INITIAL_BALANCE);
			// The queue moved on.
			assert_eq!(SettlementQueueRange::<Test>::get(), (1, 1));

			// Claiming while still blocked fails and changes nothing.
			assert_noop!(Crowdfunding::claim_refund(origin(DAVE), id, BOB), TokenError::Blocked);

			assert_ok!(Assets::thaw(origin(ASSET_OWNER), ASSET_ID, BOB));
			System::reset_events();
			assert_ok!(Crowdfunding::claim_refund(origin(DAVE), id, BOB));
			assert_eq!(
				crowdfunding_events(),
				vec![
					Event::Refunded { crowdfunding_id: id, contributor: BOB, amount: 25 },
					Event::CrowdfundingSettled { crowdfunding_id: id },
				]
			);
			assert_eq!(balance(asset(), BOB), INITIAL_BALANCE);
			assert_eq!(balance(asset(), escrow(id)), 0);
			assert_eq!(issuance(asset()), issuance_before);
			assert_eq!(status(id), None);
			assert!(!System::account_exists(&escrow(id)));
		});
	}

	#[test]
	fn claim_refund_fails_without_an_unclaimed_refund() {
		test(|| {
			assert_noop!(Crowdfunding::claim_refund(origin(BOB), 0, BOB), Error::<Test>::NoUnclaimedRefund);
			let id = failed_refund();
			assert_noop!(Crowdfunding::claim_refund(origin(BOB), id, CHARLIE), Error::<Test>::NoUnclaimedRefund);
		});
	}

	#[test]
	fn claim_refund_requires_a_signed_origin() {
		test(|| {
			let id = failed_refund();
			assert_ok!(Assets::thaw(origin(ASSET_OWNER), ASSET_ID, BOB));
			assert_noop!(Crowdfunding::claim_refund(RuntimeOrigin::root(), id, BOB), DispatchError::BadOrigin);
		});
	}
}
