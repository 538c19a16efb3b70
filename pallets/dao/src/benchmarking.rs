//! Benchmarks of the DAO pallet.

use super::*;
use crate::Pallet as Dao;
use alloc::vec;
use frame_benchmarking::v2::*;
use frame_support::traits::Get;
use frame_system::RawOrigin;

const SEED: u32 = 0;

fn assert_last_event<T: Config>(event: Event<T>) {
	frame_system::Pallet::<T>::assert_last_event(event.into());
}

/// A DAO administered by `admin` with the longest metadata and `MaxMembers - 1` members.
fn dao_with_members<T: Config>(admin: &T::AccountId) -> DaoId {
	let metadata = vec![0u8; T::MaxMetadataLen::get() as usize].try_into().unwrap();
	let dao_id = Dao::<T>::do_create_dao(admin.clone(), metadata).unwrap();
	for i in 0..T::MaxMembers::get().saturating_sub(1) {
		let member: T::AccountId = account("member", i, SEED);
		Dao::<T>::add_member(RawOrigin::Signed(admin.clone()).into(), dao_id, member).unwrap();
	}
	dao_id
}

#[benchmarks]
mod benchmarks {
	use super::*;

	#[benchmark]
	fn create_dao(m: Linear<0, { T::MaxMetadataLen::get() }>) {
		let caller: T::AccountId = whitelisted_caller();
		let metadata = vec![0u8; m as usize];
		let dao_id = NextDaoId::<T>::get();

		#[extrinsic_call]
		_(RawOrigin::Signed(caller.clone()), metadata.clone());

		assert_last_event::<T>(Event::DaoCreated {
			dao_id,
			admin: caller,
			metadata: metadata.try_into().unwrap(),
			// The runtime-upgrade test's fixture runtime, built with benchmarks like every runtime of the workspace.
			#[cfg(feature = "upgrade-fixture")]
			created_at: frame_system::Pallet::<T>::block_number(),
		});
	}

	#[benchmark]
	fn add_member() {
		let admin: T::AccountId = whitelisted_caller();
		let dao_id = dao_with_members::<T>(&admin);
		let member: T::AccountId = account("new", 0, SEED);

		#[extrinsic_call]
		_(RawOrigin::Signed(admin), dao_id, member.clone());

		assert_last_event::<T>(Event::DaoMembershipChanged {
			dao_id,
			member,
			change: MembershipChange::Added,
			member_count: T::MaxMembers::get(),
		});
	}

	#[benchmark]
	fn remove_member() -> Result<(), BenchmarkError> {
		let admin: T::AccountId = whitelisted_caller();
		let dao_id = dao_with_members::<T>(&admin);
		let member: T::AccountId = account("new", 0, SEED);
		Dao::<T>::add_member(RawOrigin::Signed(admin.clone()).into(), dao_id, member.clone())?;

		#[extrinsic_call]
		_(RawOrigin::Signed(admin), dao_id, member.clone());

		assert_last_event::<T>(Event::DaoMembershipChanged {
			dao_id,
			member,
			change: MembershipChange::Removed,
			member_count: T::MaxMembers::get() - 1,
		});
		Ok(())
	}

	#[benchmark]
	fn transfer_admin() {
		let admin: T::AccountId = whitelisted_caller();
		let dao_id = dao_with_members::<T>(&admin);
		let new_admin: T::AccountId = account("new_admin", 0, SEED);

		#[extrinsic_call]
		_(RawOrigin::Signed(admin.clone()), dao_id, new_admin.clone());

		assert_last_event::<T>(Event::DaoAdminChanged { dao_id, old_admin: admin, new_admin });
	}

	#[benchmark]
	fn update_metadata(m: Linear<0, { T::MaxMetadataLen::get() }>) {
		let admin: T::AccountId = whitelisted_caller();
		let dao_id = dao_with_members::<T>(&admin);
		let metadata = vec![1u8; m as usize];

		#[extrinsic_call]
		_(RawOrigin::Signed(admin), dao_id, metadata.clone());

		assert_last_event::<T>(Event::DaoMetadataUpdated { dao_id, metadata: metadata.try_into().unwrap() });
	}

	impl_benchmark_test_suite!(Dao, crate::mock::new_test_ext(), crate::mock::Test);
}
