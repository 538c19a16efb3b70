//! Unit tests of the DAO pallet.

use crate::{mock::*, DaoAdminProvider, DaoId, DaoInfo, Daos, Error, Event, Members, MembershipChange, NextDaoId};
use frame_support::{assert_noop, assert_ok, BoundedVec};

fn origin(who: AccountId) -> RuntimeOrigin {
	RuntimeOrigin::signed(who)
}

fn metadata(bytes: &[u8]) -> BoundedVec<u8, frame_support::traits::ConstU32<MAX_METADATA_LEN>> {
	bytes.to_vec().try_into().unwrap()
}

/// Create a DAO administered by `admin` and return its id.
fn create(admin: AccountId) -> DaoId {
	let dao_id = NextDaoId::<Test>::get();
	assert_ok!(Dao::create_dao(origin(admin), b"dao".to_vec()));
	dao_id
}

mod create_dao {
	use super::*;

	#[test]
	fn works_and_allocates_sequential_ids() {
		test(|| {
			assert_ok!(Dao::create_dao(origin(ALICE), b"first".to_vec()));
			System::assert_last_event(
				Event::DaoCreated { dao_id: 0, admin: ALICE, metadata: metadata(b"first") }.into(),
			);
			assert_ok!(Dao::create_dao(origin(BOB), vec![7; MAX_METADATA_LEN as usize]));
			System::assert_last_event(
				Event::DaoCreated { dao_id: 1, admin: BOB, metadata: metadata(&[7; MAX_METADATA_LEN as usize]) }.into(),
			);

			assert_eq!(NextDaoId::<Test>::get(), 2);
			assert_eq!(
				Daos::<Test>::get(0),
				Some(DaoInfo { admin: ALICE, metadata: metadata(b"first"), member_count: 0 })
			);
			assert_eq!(Dao::admin(1), Some(BOB));
			assert_eq!(Members::<Test>::iter_prefix(0).count(), 0);
		});
	}

	#[test]
	fn empty_metadata_is_allowed() {
		test(|| {
			assert_ok!(Dao::create_dao(origin(ALICE), vec![]));
			assert_eq!(Daos::<Test>::get(0).unwrap().metadata.len(), 0);
		});
	}

	#[test]
	fn fails_with_too_long_metadata() {
		test(|| {
			assert_noop!(
				Dao::create_dao(origin(ALICE), vec![0; MAX_METADATA_LEN as usize + 1]),
				Error::<Test>::MetadataTooLong
			);
		});
	}

	#[test]
	fn fails_when_ids_are_exhausted() {
		test(|| {
			NextDaoId::<Test>::put(DaoId::MAX);
			assert_noop!(Dao::create_dao(origin(ALICE), b"dao".to_vec()), Error::<Test>::DaoIdsExhausted);
		});
	}

	#[test]
	fn requires_a_signed_origin() {
		test(|| {
			assert_noop!(Dao::create_dao(RuntimeOrigin::root(), b"dao".to_vec()), sp_runtime::DispatchError::BadOrigin);
		});
	}
}

mod add_member {
	use super::*;

	#[test]
	fn works() {
		test(|| {
			let dao_id = create(ALICE);
			assert_ok!(Dao::add_member(origin(ALICE), dao_id, BOB));
			System::assert_last_event(
				Event::DaoMembershipChanged { dao_id, member: BOB, change: MembershipChange::Added, member_count: 1 }
					.into(),
			);
			// The admin may add itself.
			assert_ok!(Dao::add_member(origin(ALICE), dao_id, ALICE));
			System::assert_last_event(
				Event::DaoMembershipChanged { dao_id, member: ALICE, change: MembershipChange::Added, member_count: 2 }
					.into(),
			);
			assert!(Dao::is_member(dao_id, &BOB));
			assert!(Dao::is_member(dao_id, &ALICE));
			assert!(!Dao::is_member(dao_id, &CHARLIE));
			assert_eq!(Daos::<Test>::get(dao_id).unwrap().member_count, 2);
		});
	}

	#[test]
	fn fails_for_unknown_dao() {
		test(|| {
			assert_noop!(Dao::add_member(origin(ALICE), 0, BOB), Error::<Test>::UnknownDao);
		});
	}

	#[test]
	fn fails_for_non_admin() {
		test(|| {
			let dao_id = create(ALICE);
			assert_ok!(Dao::add_member(origin(ALICE), dao_id, BOB));
			// Not even a member may add members.
			assert_noop!(Dao::add_member(origin(BOB), dao_id, CHARLIE), Error::<Test>::NotAdmin);
		});
	}

	#[test]
	fn fails_for_existing_member() {
		test(|| {
			let dao_id = create(ALICE);
			assert_ok!(Dao::add_member(origin(ALICE), dao_id, BOB));
			assert_noop!(Dao::add_member(origin(ALICE), dao_id, BOB), Error::<Test>::AlreadyMember);
		});
	}

	#[test]
	fn fails_when_full() {
		test(|| {
			let dao_id = create(ALICE);
			for member in 10..10 + MAX_MEMBERS as AccountId {
				assert_ok!(Dao::add_member(origin(ALICE), dao_id, member));
			}
			assert_eq!(Daos::<Test>::get(dao_id).unwrap().member_count, MAX_MEMBERS);
			assert_noop!(Dao::add_member(origin(ALICE), dao_id, BOB), Error::<Test>::TooManyMembers);
			// Removing one makes room again.
			assert_ok!(Dao::remove_member(origin(ALICE), dao_id, 10));
			assert_ok!(Dao::add_member(origin(ALICE), dao_id, BOB));
		});
	}

	#[test]
	fn members_are_per_dao() {
		test(|| {
			let first = create(ALICE);
			let second = create(ALICE);
			assert_ok!(Dao::add_member(origin(ALICE), first, BOB));
			assert!(!Dao::is_member(second, &BOB));
			assert_ok!(Dao::add_member(origin(ALICE), second, BOB));
			assert_eq!(Daos::<Test>::get(second).unwrap().member_count, 1);
		});
	}
}

mod remove_member {
	use super::*;

	#[test]
	fn works() {
		test(|| {
			let dao_id = create(ALICE);
			assert_ok!(Dao::add_member(origin(ALICE), dao_id, BOB));
			assert_ok!(Dao::add_member(origin(ALICE), dao_id, CHARLIE));
			assert_ok!(Dao::remove_member(origin(ALICE), dao_id, BOB));
			System::assert_last_event(
				Event::DaoMembershipChanged { dao_id, member: BOB, change: MembershipChange::Removed, member_count: 1 }
					.into(),
			);
			assert!(!Dao::is_member(dao_id, &BOB));
			assert!(Dao::is_member(dao_id, &CHARLIE));
			assert_eq!(Daos::<Test>::get(dao_id).unwrap().member_count, 1);
		});
	}

	#[test]
	fn fails_for_unknown_dao() {
		test(|| {
			assert_noop!(Dao::remove_member(origin(ALICE), 0, BOB), Error::<Test>::UnknownDao);
		});
	}

	#[test]
	fn fails_for_non_admin() {
		test(|| {
			let dao_id = create(ALICE);
			assert_ok!(Dao::add_member(origin(ALICE), dao_id, BOB));
			// A member cannot remove itself either: only the admin manages membership.
			assert_noop!(Dao::remove_member(origin(BOB), dao_id, BOB), Error::<Test>::NotAdmin);
		});
	}

	#[test]
	fn fails_for_non_member() {
		test(|| {
			let dao_id = create(ALICE);
			assert_noop!(Dao::remove_member(origin(ALICE), dao_id, BOB), Error::<Test>::NotMember);
		});
	}
}

mod transfer_admin {
	use super::*;

	#[test]
	fn works() {
		test(|| {
			let dao_id = create(ALICE);
			assert_ok!(Dao::transfer_admin(origin(ALICE), dao_id, BOB));
			System::assert_last_event(Event::DaoAdminChanged { dao_id, old_admin: ALICE, new_admin: BOB }.into());
			assert_eq!(Dao::admin(dao_id), Some(BOB));
			// The old admin lost its rights, the new one has them.
			assert_noop!(Dao::add_member(origin(ALICE), dao_id, DAVE), Error::<Test>::NotAdmin);
			assert_ok!(Dao::add_member(origin(BOB), dao_id, DAVE));
		});
	}

	#[test]
	fn fails_for_unknown_dao() {
		test(|| {
			assert_noop!(Dao::transfer_admin(origin(ALICE), 0, BOB), Error::<Test>::UnknownDao);
		});
	}

	#[test]
	fn fails_for_non_admin() {
		test(|| {
			let dao_id = create(ALICE);
			assert_noop!(Dao::transfer_admin(origin(BOB), dao_id, BOB), Error::<Test>::NotAdmin);
		});
	}

	#[test]
	fn fails_for_same_admin() {
		test(|| {
			let dao_id = create(ALICE);
			assert_noop!(Dao::transfer_admin(origin(ALICE), dao_id, ALICE), Error::<Test>::AlreadyAdmin);
		});
	}
}

mod update_metadata {
	use super::*;

	#[test]
	fn works() {
		test(|| {
			let dao_id = create(ALICE);
			assert_ok!(Dao::update_metadata(origin(ALICE), dao_id, b"renamed".to_vec()));
			System::assert_last_event(Event::DaoMetadataUpdated { dao_id, metadata: metadata(b"renamed") }.into());
			assert_eq!(Daos::<Test>::get(dao_id).unwrap().metadata, metadata(b"renamed"));
		});
	}

	#[test]
	fn fails_for_unknown_dao() {
		test(|| {
			assert_noop!(Dao::update_metadata(origin(ALICE), 0, b"x".to_vec()), Error::<Test>::UnknownDao);
		});
	}

	#[test]
	fn fails_for_non_admin() {
		test(|| {
			let dao_id = create(ALICE);
			assert_noop!(Dao::update_metadata(origin(BOB), dao_id, b"x".to_vec()), Error::<Test>::NotAdmin);
		});
	}

	#[test]
	fn fails_with_too_long_metadata() {
		test(|| {
			let dao_id = create(ALICE);
			assert_noop!(
				Dao::update_metadata(origin(ALICE), dao_id, vec![0; MAX_METADATA_LEN as usize + 1]),
				Error::<Test>::MetadataTooLong
			);
		});
	}
}

mod admin_provider {
	use super::*;

	#[test]
	fn pallet_reports_the_current_admin() {
		test(|| {
			let dao_id = create(ALICE);
			assert!(<Dao as DaoAdminProvider<AccountId>>::is_admin(dao_id, &ALICE));
			assert!(!<Dao as DaoAdminProvider<AccountId>>::is_admin(dao_id, &BOB));
			assert!(!<Dao as DaoAdminProvider<AccountId>>::is_admin(dao_id + 1, &ALICE));
			assert_ok!(Dao::transfer_admin(origin(ALICE), dao_id, BOB));
			assert!(!<Dao as DaoAdminProvider<AccountId>>::is_admin(dao_id, &ALICE));
			assert!(<Dao as DaoAdminProvider<AccountId>>::is_admin(dao_id, &BOB));
		});
	}

	#[test]
	fn unit_has_no_admins() {
		test(|| {
			let dao_id = create(ALICE);
			assert!(!<() as DaoAdminProvider<AccountId>>::is_admin(dao_id, &ALICE));
		});
	}
}
