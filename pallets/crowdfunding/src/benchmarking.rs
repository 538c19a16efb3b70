//! Benchmarks of the crowdfunding pallet: every call, and each part of `on_initialize` with the
//! number of crowdfundings (or contribution records) it handles as component.

use super::*;
use frame_benchmarking::v2::*;
use frame_support::traits::{
	tokens::fungibles::{Inspect, Mutate},
	Get,
};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use pallet_dao::DaoAdminProvider;
use sp_runtime::traits::{One, Saturating, Zero};

const SEED: u32 = 0;

fn assert_last_event<T: Config>(event: Event<T>) {
	frame_system::Pallet::<T>::assert_last_event(event.into());
}

fn asset_kind<T: Config>() -> T::AssetKind {
	T::BenchmarkHelper::asset_kind()
}

/// The smallest valid contribution.
fn unit<T: Config>() -> BalanceOf<T> {
	T::Assets::minimum_balance(asset_kind::<T>()).max(One::one())
}

/// `unit * n`.
fn units<T: Config>(n: u32) -> BalanceOf<T> {
	unit::<T>().saturating_mul(n.into())
}

/// Give `who` plenty of the benchmark asset.
fn fund<T: Config>(who: &T::AccountId) {
	T::Assets::set_balance(asset_kind::<T>(), who, units::<T>(1_000));
}

/// The blocks at which the benchmark crowdfundings start and end: the next two blocks. Call it
/// once per benchmark, before moving to other blocks.
fn start_end<T: Config>() -> (BlockNumberFor<T>, BlockNumberFor<T>) {
	// The benchmark harness moves block 0 to block 1 before the measured code: start there.
	if frame_system::Pallet::<T>::block_number().is_zero() {
		frame_system::Pallet::<T>::set_block_number(One::one());
	}
	let start = frame_system::Pallet::<T>::block_number() + One::one();
	(start, start + One::one())
}

/// Create a crowdfunding of `creator` from `start` to `end`, raising up to `hard_cap` units with
/// the given soft cap, for a beneficiary derived from `index`; return its id.
fn create_crowdfunding<T: Config>(
	creator: &T::AccountId,
	index: u32,
	soft_cap: u32,
	hard_cap: u32,
	(start, end): (BlockNumberFor<T>, BlockNumberFor<T>),
) -> CrowdfundingId {
	let id = NextCrowdfundingId::<T>::get();
	Pallet::<T>::create(
		RawOrigin::Signed(creator.clone()).into(),
		None,
		asset_kind::<T>(),
		account("beneficiary", index, SEED),
		units::<T>(soft_cap),
		units::<T>(hard_cap),
		start,
		end,
	)
	.expect("valid crowdfunding");
	id
}

/// Move to block `start` and activate the crowdfundings starting there.
fn activate<T: Config>(start: BlockNumberFor<T>) {
	frame_system::Pallet::<T>::set_block_number(start);
	Pallet::<T>::activate_starting(start);
}

/// `count` new contributors each give 10 units to crowdfunding `id`.
fn contribute_many<T: Config>(id: CrowdfundingId, count: u32) {
	for i in 0..count {
		let contributor: T::AccountId = account("contributor", i, SEED);
		fund::<T>(&contributor);
		Pallet::<T>::contribute(RawOrigin::Signed(contributor).into(), id, units::<T>(10)).expect("valid contribution");
	}
}

/// `count` active crowdfundings ending at the same block, each with one contribution of 10 units
/// and a soft cap of `soft_cap` units.
fn ending_crowdfundings<T: Config>(count: u32, soft_cap: u32) -> BlockNumberFor<T> {
	let (start, end) = start_end::<T>();
	let creator: T::AccountId = account("creator", 0, SEED);
	let ids: alloc::vec::Vec<_> =
		(0..count).map(|i| create_crowdfunding::<T>(&creator, i, soft_cap, 1_000, (start, end))).collect();
	activate::<T>(start);
	for (i, id) in ids.into_iter().enumerate() {
		let contributor: T::AccountId = account("contributor", i as u32, SEED);
		fund::<T>(&contributor);
		Pallet::<T>::contribute(RawOrigin::Signed(contributor).into(), id, units::<T>(10)).expect("valid contribution");
	}
	frame_system::Pallet::<T>::set_block_number(end);
	end
}

/// End crowdfunding `id` (ending at `end`) by hand as `status`, its contribution records
/// already processed, as if its payout or refunds had failed.
fn end_by_hand<T: Config>(id: CrowdfundingId, end: BlockNumberFor<T>, status: CrowdfundingStatus) {
	EndingAt::<T>::remove(end);
	let _ = Contributions::<T>::clear_prefix(id, u32::MAX, None);
	Crowdfundings::<T>::mutate(id, |info| {
		let info = info.as_mut().expect("crowdfunding exists");
		info.contributors = 0;
		info.status = status;
	});
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Worst case: on behalf of a DAO (if `DaoAdmins` can provide one), with start and end
	/// blocks holding `MaxPerBlock - 1` crowdfundings.
	#[benchmark]
	fn create() {
		let caller: T::AccountId = whitelisted_caller();
		let dao_id = T::DaoAdmins::make_admin(&caller);
		let filler: T::AccountId = account("filler", 0, SEED);
		let (start, end) = start_end::<T>();
		for i in 0..T::MaxPerBlock::get() - 1 {
			create_crowdfunding::<T>(&filler, i, 1, 10, (start, end));
		}
		let beneficiary: T::AccountId = account("beneficiary", 0, SEED);
		let crowdfunding_id = NextCrowdfundingId::<T>::get();

		#[extrinsic_call]
		_(
			RawOrigin::Signed(caller.clone()),
			dao_id,
			asset_kind::<T>(),
			beneficiary.clone(),
			units::<T>(10),
			units::<T>(100),
			start,
			end,
		);

		assert_last_event::<T>(Event::CrowdfundingCreated {
			crowdfunding_id,
			creator: caller,
			dao_id,
			asset: asset_kind::<T>(),
			beneficiary,
			soft_cap: units::<T>(10),
			hard_cap: units::<T>(100),
			start,
			end,
		});
	}

	/// Worst case: a new contributor, the first (the escrow account receives its first funds).
	#[benchmark]
	fn contribute() {
		let creator: T::AccountId = account("creator", 0, SEED);
		let (start, end) = start_end::<T>();
		let id = create_crowdfunding::<T>(&creator, 0, 10, 100, (start, end));
		activate::<T>(start);
		let caller: T::AccountId = whitelisted_caller();
		fund::<T>(&caller);

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), id, units::<T>(10));

		assert_last_event::<T>(Event::Contributed {
			crowdfunding_id: id,
			contributor: caller,
			amount: units::<T>(10),
			raised: units::<T>(10),
		});
	}

	/// A succeeded crowdfunding whose payout failed; the retry pays a new beneficiary account
	/// and settles the crowdfunding.
	#[benchmark]
	fn retry_payout() {
		let creator: T::AccountId = account("creator", 0, SEED);
		let (start, end) = start_end::<T>();
		let id = create_crowdfunding::<T>(&creator, 0, 10, 100, (start, end));
		activate::<T>(start);
		contribute_many::<T>(id, 1);
		end_by_hand::<T>(id, end, CrowdfundingStatus::Succeeded { paid_out: false });
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id);

		assert!(!Crowdfundings::<T>::contains_key(id));
		assert_last_event::<T>(Event::CrowdfundingSettled { crowdfunding_id: id });
	}

	/// A failed crowdfunding with one unclaimed refund; the claim settles the crowdfunding.
	#[benchmark]
	fn claim_refund() {
		let creator: T::AccountId = account("creator", 0, SEED);
		let (start, end) = start_end::<T>();
		let id = create_crowdfunding::<T>(&creator, 0, 100, 200, (start, end));
		activate::<T>(start);
		contribute_many::<T>(id, 1);
		let contributor: T::AccountId = account("contributor", 0, SEED);
		end_by_hand::<T>(id, end, CrowdfundingStatus::Failed);
		UnclaimedRefunds::<T>::insert(id, &contributor, units::<T>(10));
		Crowdfundings::<T>::mutate(id, |info| info.as_mut().expect("exists").unclaimed = 1);
		let caller: T::AccountId = whitelisted_caller();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller), id, contributor);

		assert!(!Crowdfundings::<T>::contains_key(id));
		assert_last_event::<T>(Event::CrowdfundingSettled { crowdfunding_id: id });
	}

	/// `n` crowdfundings start.
	#[benchmark]
	fn on_initialize_activate(n: Linear<0, { T::MaxPerBlock::get() }>) {
		let creator: T::AccountId = account("creator", 0, SEED);
		let (start, end) = start_end::<T>();
		for i in 0..n {
			create_crowdfunding::<T>(&creator, i, 10, 100, (start, end));
		}
		frame_system::Pallet::<T>::set_block_number(start);

		#[block]
		{
			Pallet::<T>::activate_starting(start);
		}

		assert_eq!(
			Crowdfundings::<T>::iter_values().filter(|info| info.status == CrowdfundingStatus::Active).count() as u32,
			n
		);
	}

	/// `n` crowdfundings end successfully; each pays a new beneficiary account and is queued to
	/// clear its contribution record.
	#[benchmark]
	fn on_initialize_finish_succeeded(n: Linear<0, { T::MaxPerBlock::get() }>) {
		let end = ending_crowdfundings::<T>(n, 10);

		let finished;
		#[block]
		{
			finished = Pallet::<T>::finish_ending(end);
		}

		assert_eq!(finished, (n, 0));
		assert_eq!(SettlementQueueRange::<T>::get(), (0, n));
	}

	/// `n` crowdfundings end below their soft cap; each is queued for refunds.
	#[benchmark]
	fn on_initialize_finish_failed(n: Linear<0, { T::MaxPerBlock::get() }>) {
		let end = ending_crowdfundings::<T>(n, 100);

		let finished;
		#[block]
		{
			finished = Pallet::<T>::finish_ending(end);
		}

		assert_eq!(finished, (0, n));
		assert_eq!(SettlementQueueRange::<T>::get(), (0, n));
	}

	/// The queue holds one failed crowdfunding with `r` contributors: `r` refunds, then the
	/// crowdfunding is settled.
	#[benchmark]
	fn on_initialize_settle(r: Linear<1, { T::MaxRefundsPerBlock::get() }>) {
		let r = r.min(T::MaxContributors::get());
		let creator: T::AccountId = account("creator", 0, SEED);
		let (start, end) = start_end::<T>();
		let id = create_crowdfunding::<T>(&creator, 0, 10 * r + 1, 10 * r + 1, (start, end));
		activate::<T>(start);
		contribute_many::<T>(id, r);
		frame_system::Pallet::<T>::set_block_number(end);
		assert_eq!(Pallet::<T>::finish_ending(end), (0, 1));

		#[block]
		{
			Pallet::<T>::process_settlement_queue(T::MaxRefundsPerBlock::get());
		}

		assert!(!Crowdfundings::<T>::contains_key(id));
		assert_last_event::<T>(Event::CrowdfundingSettled { crowdfunding_id: id });
	}

	impl_benchmark_test_suite!(Pallet, crate::mock::new_test_ext(), crate::mock::Test);
}
