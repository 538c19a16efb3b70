//! Benchmarks of the agreements pallet.

use super::*;
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::traits::{Get, Hooks};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_runtime::traits::{One, Zero};

const SEED: u32 = 0;

fn assert_last_event<T: Config>(event: Event<T>) {
	frame_system::Pallet::<T>::assert_last_event(event.into());
}

/// The block after the current one: the earliest valid expiry.
fn expiry<T: Config>() -> BlockNumberFor<T> {
	// The benchmark harness moves block 0 to block 1 before the measured code: start there.
	if frame_system::Pallet::<T>::block_number().is_zero() {
		frame_system::Pallet::<T>::set_block_number(One::one());
	}
	frame_system::Pallet::<T>::block_number() + One::one()
}

/// `first` followed by `count - 1` other accounts.
fn parties<T: Config>(first: &T::AccountId, count: u32) -> Vec<T::AccountId> {
	let mut parties = alloc::vec![first.clone()];
	parties.extend((1..count).map(|i| account::<T::AccountId>("party", i, SEED)));
	parties
}

/// Propose an agreement between `MaxParties` parties, proposed by `proposer`, expiring at
/// `expiry`; return its id.
fn propose_full<T: Config>(proposer: &T::AccountId, expiry: BlockNumberFor<T>) -> AgreementId {
	let agreement_id = NextAgreementId::<T>::get();
	Pallet::<T>::propose(
		RawOrigin::Signed(proposer.clone()).into(),
		parties::<T>(proposer, T::MaxParties::get()),
		T::Hash::default(),
		expiry,
	)
	.expect("valid proposal");
	agreement_id
}

/// Fill the expiry index of `expiry` with `count` agreements of `MaxParties` parties.
fn fill_expiry<T: Config>(expiry: BlockNumberFor<T>, count: u32) {
	let proposer: T::AccountId = account("filler", 0, SEED);
	for _ in 0..count {
		propose_full::<T>(&proposer, expiry);
	}
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Worst case: the expiry block holds `MaxExpiringPerBlock - 1` agreements already.
	#[benchmark]
	fn propose(p: Linear<2, { T::MaxParties::get() }>) {
		let caller: T::AccountId = whitelisted_caller();
		let expiry = expiry::<T>();
		fill_expiry::<T>(expiry, T::MaxExpiringPerBlock::get() - 1);
		let agreement_id = NextAgreementId::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), parties::<T>(&caller, p), T::Hash::default(), expiry);

		assert_last_event::<T>(Event::ContractAgreementPartySigned {
			agreement_id,
			party: caller,
			signatures: 1,
			required: p,
		});
	}

	/// Worst case: the last signature of a `MaxParties` agreement, which puts it in force and
	/// takes it out of a full expiry index.
	#[benchmark]
	fn sign() {
		let proposer: T::AccountId = whitelisted_caller();
		let expiry = expiry::<T>();
		fill_expiry::<T>(expiry, T::MaxExpiringPerBlock::get() - 1);
		let agreement_id = propose_full::<T>(&proposer, expiry);
		let parties = parties::<T>(&proposer, T::MaxParties::get());
		let (last, others) = parties[1..].split_last().expect("at least two parties");
		for party in others {
			Pallet::<T>::sign(RawOrigin::Signed(party.clone()).into(), agreement_id).expect("party signs");
		}

		#[extrinsic_call]
		_(RawOrigin::Signed(last.clone()), agreement_id);

		assert!(Pallet::<T>::is_in_force(agreement_id));
		assert_last_event::<T>(Event::ContractAgreementSigned { agreement_id, terms_hash: T::Hash::default() });
	}

	/// Worst case: a `MaxParties` agreement in a full expiry index.
	#[benchmark]
	fn reject() {
		let proposer: T::AccountId = whitelisted_caller();
		let expiry = expiry::<T>();
		fill_expiry::<T>(expiry, T::MaxExpiringPerBlock::get() - 1);
		let agreement_id = propose_full::<T>(&proposer, expiry);
		let rejecter: T::AccountId = account("party", T::MaxParties::get() - 1, SEED);

		#[extrinsic_call]
		_(RawOrigin::Signed(rejecter.clone()), agreement_id);

		assert!(!crate::Agreements::<T>::contains_key(agreement_id));
		assert_last_event::<T>(Event::ContractAgreementRejected { agreement_id, by: rejecter });
	}

	/// `n` agreements of `MaxParties` parties expire.
	#[benchmark]
	fn on_initialize(n: Linear<0, { T::MaxExpiringPerBlock::get() }>) {
		let expiry = expiry::<T>();
		fill_expiry::<T>(expiry, n);
		frame_system::Pallet::<T>::set_block_number(expiry);

		#[block]
		{
			Pallet::<T>::on_initialize(expiry);
		}

		assert!(!ExpiringAt::<T>::contains_key(expiry));
		assert_eq!(crate::Agreements::<T>::iter().count(), 0);
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
