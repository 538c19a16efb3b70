//! Unit tests of the agreements pallet.

use crate::{
	mock::*, Agreement, AgreementId, AgreementStatus, Agreements as AgreementsStorage, Error, Event, ExpiringAt,
	NextAgreementId, WeightInfo,
};
use frame_support::{
	assert_noop, assert_ok,
	traits::{ConstU32, Hooks},
	BoundedVec,
};
use sp_core::H256;

fn origin(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn terms() -> H256 {
	H256::repeat_byte(0xab)
}

fn bounded(accounts: &[AccountId]) -> BoundedVec<AccountId, ConstU32<MAX_PARTIES>> {
	accounts.to_vec().try_into().unwrap()
}

/// `proposer` proposes an agreement between `parties` expiring at `expiry`; returns its id.
fn propose(proposer: AccountId, parties: &[AccountId], expiry: u64) -> AgreementId {
	let agreement_id = NextAgreementId::<Test>::get();
	assert_ok!(Agreements::propose(origin(proposer), parties.to_vec(), terms(), expiry));
	agreement_id
}

fn expiring_at(block: u64) -> Vec<AgreementId> {
	ExpiringAt::<Test>::get(block).into_inner()
}

fn status(agreement_id: AgreementId) -> Option<AgreementStatus> {
	AgreementsStorage::<Test>::get(agreement_id).map(|a| a.status)
}

mod propose {
	use super::*;

	#[test]
	fn works_and_counts_as_the_proposers_signature() {
		test(|| {
			assert_ok!(Agreements::propose(origin(BOB), vec![ALICE, BOB, CHARLIE], terms(), 10));
			assert_eq!(
				System::events().into_iter().map(|r| r.event).collect::<Vec<_>>(),
				vec![
					RuntimeEvent::Agreements(Event::ContractAgreementProposed {
						agreement_id: 0,
						proposer: BOB,
						parties: bounded(&[ALICE, BOB, CHARLIE]),
						terms_hash: terms(),
						expiry: 10,
					}),
					RuntimeEvent::Agreements(Event::ContractAgreementPartySigned {
						agreement_id: 0,
						party: BOB,
						signatures: 1,
						required: 3,
					}),
				]
			);
			assert_eq!(
				AgreementsStorage::<Test>::get(0),
				Some(Agreement {
					proposer: BOB,
					parties: bounded(&[ALICE, BOB, CHARLIE]),
					signed: bounded(&[BOB]),
					terms_hash: terms(),
					expiry: 10,
					status: AgreementStatus::Pending,
				})
			);
			assert_eq!(expiring_at(10), vec![0]);
			assert_eq!(NextAgreementId::<Test>::get(), 1);

			// Ids are sequential; the maximum number of parties is accepted.
			assert_eq!(propose(ALICE, &[ALICE, BOB, CHARLIE, DAVE], 11), 1);
			assert_eq!(expiring_at(11), vec![1]);
			assert!(!Agreements::is_in_force(0));
		});
	}

	#[test]
	fn accepts_the_expiry_bounds() {
		test(|| {
			// The next block is the earliest expiry, `MAX_DURATION` blocks away the latest.
			propose(ALICE, &[ALICE, BOB], 2);
			propose(ALICE, &[ALICE, BOB], 1 + MAX_DURATION);
			assert_eq!(expiring_at(2), vec![0]);
			assert_eq!(expiring_at(1 + MAX_DURATION), vec![1]);
		});
	}

	#[test]
	fn fails_with_too_few_parties() {
		test(|| {
			assert_noop!(Agreements::propose(origin(ALICE), vec![], terms(), 10), Error::<Test>::TooFewParties);
			assert_noop!(Agreements::propose(origin(ALICE), vec![ALICE], terms(), 10), Error::<Test>::TooFewParties);
		});
	}

	#[test]
	fn fails_with_too_many_parties() {
		test(|| {
			let parties: Vec<AccountId> = (1..=MAX_PARTIES as AccountId + 1).collect();
			assert_noop!(Agreements::propose(origin(ALICE), parties, terms(), 10), Error::<Test>::TooManyParties);
		});
	}

	#[test]
	fn fails_with_duplicate_parties() {
		test(|| {
			assert_noop!(
				Agreements::propose(origin(ALICE), vec![ALICE, BOB, ALICE], terms(), 10),
				Error::<Test>::DuplicateParty
			);
			assert_noop!(
				Agreements::propose(origin(ALICE), vec![ALICE, BOB, CHARLIE, BOB], terms(), 10),
				Error::<Test>::DuplicateParty
			);
		});
	}

	#[test]
	fn fails_when_proposer_is_not_a_party() {
		test(|| {
			assert_noop!(
				Agreements::propose(origin(DAVE), vec![ALICE, BOB], terms(), 10),
				Error::<Test>::ProposerNotParty
			);
		});
	}

	#[test]
	fn fails_with_expiry_not_in_the_future() {
		test(|| {
			run_to_block(5);
			assert_noop!(Agreements::propose(origin(ALICE), vec![ALICE, BOB], terms(), 5), Error::<Test>::ExpiryInPast);
			assert_noop!(Agreements::propose(origin(ALICE), vec![ALICE, BOB], terms(), 4), Error::<Test>::ExpiryInPast);
			assert_noop!(Agreements::propose(origin(ALICE), vec![ALICE, BOB], terms(), 0), Error::<Test>::ExpiryInPast);
		});
	}

	#[test]
	fn fails_with_expiry_too_far() {
		test(|| {
			assert_noop!(
				Agreements::propose(origin(ALICE), vec![ALICE, BOB], terms(), 2 + MAX_DURATION),
				Error::<Test>::ExpiryTooFar
			);
			assert_noop!(
				Agreements::propose(origin(ALICE), vec![ALICE, BOB], terms(), u64::MAX),
				Error::<Test>::ExpiryTooFar
			);
		});
	}

	#[test]
	fn fails_when_the_expiry_block_is_full() {
		test(|| {
			for _ in 0..MAX_EXPIRING_PER_BLOCK {
				propose(ALICE, &[ALICE, BOB], 10);
			}
			assert_noop!(
				Agreements::propose(origin(ALICE), vec![ALICE, BOB], terms(), 10),
				Error::<Test>::TooManyExpiringAtBlock
			);
			// Another block is fine.
			propose(ALICE, &[ALICE, BOB], 11);
			// A slot freed by a rejection can be reused.
			assert_ok!(Agreements::reject(origin(BOB), 0));
			propose(ALICE, &[ALICE, BOB], 10);
			assert_eq!(expiring_at(10), vec![1, 3]);
		});
	}

	#[test]
	fn fails_when_ids_are_exhausted() {
		test(|| {
			NextAgreementId::<Test>::put(AgreementId::MAX);
			assert_noop!(
				Agreements::propose(origin(ALICE), vec![ALICE, BOB], terms(), 10),
				Error::<Test>::AgreementIdsExhausted
			);
		});
	}

	#[test]
	fn requires_a_signed_origin() {
		test(|| {
			assert_noop!(
				Agreements::propose(RuntimeOrigin::root(), vec![ALICE, BOB], terms(), 10),
				sp_runtime::DispatchError::BadOrigin
			);
		});
	}
}

mod sign {
	use super::*;

	#[test]
	fn records_a_signature() {
		test(|| {
			let id = propose(ALICE, &[ALICE, BOB, CHARLIE], 10);
			assert_ok!(Agreements::sign(origin(CHARLIE), id));
			System::assert_last_event(
				Event::ContractAgreementPartySigned { agreement_id: id, party: CHARLIE, signatures: 2, required: 3 }
					.into(),
			);
			let agreement = AgreementsStorage::<Test>::get(id).unwrap();
			assert_eq!(agreement.signed, bounded(&[ALICE, CHARLIE]));
			assert_eq!(agreement.status, AgreementStatus::Pending);
			assert_eq!(expiring_at(10), vec![id]);
		});
	}

	#[test]
	fn last_signature_puts_the_agreement_in_force() {
		test(|| {
			let id = propose(ALICE, &[ALICE, BOB, CHARLIE], 10);
			let other = propose(ALICE, &[ALICE, BOB], 10);
			assert_ok!(Agreements::sign(origin(CHARLIE), id));
			System::reset_events();
			assert_ok!(Agreements::sign(origin(BOB), id));
			assert_eq!(
				System::events().into_iter().map(|r| r.event).collect::<Vec<_>>(),
				vec![
					RuntimeEvent::Agreements(Event::ContractAgreementPartySigned {
						agreement_id: id,
						party: BOB,
						signatures: 3,
						required: 3,
					}),
					RuntimeEvent::Agreements(Event::ContractAgreementSigned { agreement_id: id, terms_hash: terms() }),
				]
			);
			assert_eq!(status(id), Some(AgreementStatus::InForce));
			assert!(Agreements::is_in_force(id));
			// Out of the expiry index; the other agreement stays in it.
			assert_eq!(expiring_at(10), vec![other]);

			// It does not expire at its expiry block; the other one does.
			run_to_block(10);
			assert_eq!(status(id), Some(AgreementStatus::InForce));
			assert_eq!(status(other), None);
			System::assert_has_event(
				Event::ContractAgreementExpired { agreement_id: other, signatures: 1, required: 2 }.into(),
			);
		});
	}

	#[test]
	fn last_signature_empties_the_expiry_index_entry() {
		test(|| {
			let id = propose(ALICE, &[ALICE, BOB], 10);
			assert_ok!(Agreements::sign(origin(BOB), id));
			assert!(!ExpiringAt::<Test>::contains_key(10));
		});
	}

	#[test]
	fn fails_for_unknown_agreement() {
		test(|| {
			assert_noop!(Agreements::sign(origin(ALICE), 0), Error::<Test>::UnknownAgreement);
		});
	}

	#[test]
	fn fails_for_non_party() {
		test(|| {
			let id = propose(ALICE, &[ALICE, BOB], 10);
			assert_noop!(Agreements::sign(origin(DAVE), id), Error::<Test>::NotParty);
		});
	}

	#[test]
	fn fails_when_already_signed() {
		test(|| {
			let id = propose(ALICE, &[ALICE, BOB, CHARLIE], 10);
			assert_noop!(Agreements::sign(origin(ALICE), id), Error::<Test>::AlreadySigned);
			assert_ok!(Agreements::sign(origin(BOB), id));
			assert_noop!(Agreements::sign(origin(BOB), id), Error::<Test>::AlreadySigned);
		});
	}

	#[test]
	fn fails_when_in_force() {
		test(|| {
			let id = propose(ALICE, &[ALICE, BOB], 10);
			assert_ok!(Agreements::sign(origin(BOB), id));
			assert_noop!(Agreements::sign(origin(BOB), id), Error::<Test>::NotPending);
		});
	}

	#[test]
	fn fails_once_rejected_or_expired() {
		test(|| {
			let rejected = propose(ALICE, &[ALICE, BOB], 10);
			let expired = propose(ALICE, &[ALICE, BOB], 5);
			assert_ok!(Agreements::reject(origin(ALICE), rejected));
			run_to_block(5);
			assert_noop!(Agreements::sign(origin(BOB), rejected), Error::<Test>::UnknownAgreement);
			assert_noop!(Agreements::sign(origin(BOB), expired), Error::<Test>::UnknownAgreement);
		});
	}
}

mod reject {
	use super::*;

	#[test]
	fn works_for_any_party() {
		test(|| {
			let first = propose(ALICE, &[ALICE, BOB, CHARLIE], 10);
			let second = propose(ALICE, &[ALICE, BOB], 10);
			// A party that has not signed.
			assert_ok!(Agreements::reject(origin(CHARLIE), first));
			System::assert_last_event(Event::ContractAgreementRejected { agreement_id: first, by: CHARLIE }.into());
			assert_eq!(status(first), None);
			assert_eq!(expiring_at(10), vec![second]);
			// The proposer withdrawing its proposal.
			assert_ok!(Agreements::reject(origin(ALICE), second));
			System::assert_last_event(Event::ContractAgreementRejected { agreement_id: second, by: ALICE }.into());
			assert!(!ExpiringAt::<Test>::contains_key(10));
			// Nothing happens at the expiry block.
			run_to_block(10);
			assert!(System::events().is_empty());
		});
	}

	#[test]
	fn works_after_signing() {
		test(|| {
			let id = propose(ALICE, &[ALICE, BOB, CHARLIE], 10);
			assert_ok!(Agreements::sign(origin(BOB), id));
			assert_ok!(Agreements::reject(origin(BOB), id));
			assert_eq!(status(id), None);
		});
	}

	#[test]
	fn fails_for_unknown_agreement() {
		test(|| {
			assert_noop!(Agreements::reject(origin(ALICE), 0), Error::<Test>::UnknownAgreement);
		});
	}

	#[test]
	fn fails_for_non_party() {
		test(|| {
			let id = propose(ALICE, &[ALICE, BOB], 10);
			assert_noop!(Agreements::reject(origin(DAVE), id), Error::<Test>::NotParty);
		});
	}

	#[test]
	fn fails_when_in_force() {
		test(|| {
			let id = propose(ALICE, &[ALICE, BOB], 10);
			assert_ok!(Agreements::sign(origin(BOB), id));
			assert_noop!(Agreements::reject(origin(ALICE), id), Error::<Test>::NotPending);
		});
	}
}

mod expiry {
	use super::*;

	#[test]
	fn happens_exactly_at_the_expiry_block() {
		test(|| {
			let id = propose(ALICE, &[ALICE, BOB, CHARLIE], 6);
			assert_ok!(Agreements::sign(origin(BOB), id));

			// One block early: still pending and signable.
			run_to_block(5);
			assert!(System::events().is_empty());
			assert_eq!(status(id), Some(AgreementStatus::Pending));

			run_to_block(6);
			assert_eq!(
				System::events().into_iter().map(|r| r.event).collect::<Vec<_>>(),
				vec![RuntimeEvent::Agreements(Event::ContractAgreementExpired {
					agreement_id: id,
					signatures: 2,
					required: 3,
				})]
			);
			assert_eq!(status(id), None);
			assert!(!ExpiringAt::<Test>::contains_key(6));
			assert_noop!(Agreements::sign(origin(CHARLIE), id), Error::<Test>::UnknownAgreement);

			// Nothing more later.
			run_to_block(7);
			assert!(System::events().is_empty());
		});
	}

	#[test]
	fn last_signature_one_block_before_expiry_wins() {
		test(|| {
			let id = propose(ALICE, &[ALICE, BOB], 6);
			run_to_block(5);
			assert_ok!(Agreements::sign(origin(BOB), id));
			run_to_block(6);
			assert!(System::events().is_empty());
			assert!(Agreements::is_in_force(id));
		});
	}

	#[test]
	fn expires_every_agreement_of_the_block_and_reports_the_weight() {
		test(|| {
			let first = propose(ALICE, &[ALICE, BOB], 4);
			let second = propose(BOB, &[ALICE, BOB], 4);
			let later = propose(BOB, &[ALICE, BOB], 5);
			run_to_block(3);

			System::set_block_number(4);
			let weight = Agreements::on_initialize(4);
			assert_eq!(weight, <() as WeightInfo>::on_initialize(2));
			System::assert_has_event(
				Event::ContractAgreementExpired { agreement_id: first, signatures: 1, required: 2 }.into(),
			);
			System::assert_has_event(
				Event::ContractAgreementExpired { agreement_id: second, signatures: 1, required: 2 }.into(),
			);
			assert_eq!(status(first), None);
			assert_eq!(status(second), None);
			assert_eq!(status(later), Some(AgreementStatus::Pending));

			// A block without expiries costs the base weight.
			assert_eq!(Agreements::on_initialize(4), <() as WeightInfo>::on_initialize(0));
		});
	}
}
