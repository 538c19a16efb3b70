//! # DAO Pallet
//!
//! A registry of DAOs: each DAO has an admin, a bounded blob of metadata and a bounded set of
//! members.
//!
//! ## Overview
//!
//! Any signed account can create a DAO and becomes its admin. The admin alone manages the DAO: it
//! adds and removes members, replaces the metadata and hands the admin role to another account.
//! The admin role and membership are independent: the admin need not be a member, and the member
//! set may be empty.
//!
//! DAO ids are `u32`s allocated from the [`NextDaoId`] counter, starting at 0, so that JSON
//! consumers of events get small integers. Every event names the `dao_id` it concerns.
//!
//! Other pallets learn who administers a DAO through the [`DaoAdminProvider`] trait, which this
//! pallet implements; `()` implements it too (nobody is an admin), for mocks and runtimes
//! without DAOs.
//!
//! ## Bounds
//!
//! - Metadata is at most [`Config::MaxMetadataLen`] bytes.
//! - A DAO has at most [`Config::MaxMembers`] members. Members are stored in a double map keyed by
//!   `(dao_id, account)`, so a membership change reads and writes one small item regardless of
//!   the DAO's size; the count is kept in [`DaoInfo::member_count`].
//!
//! ## Dispatchable functions
//!
//! - [`create_dao`](Pallet::create_dao): create a DAO with the caller as admin.
//! - [`add_member`](Pallet::add_member): admin only, add an account to the member set.
//! - [`remove_member`](Pallet::remove_member): admin only, remove an account from the member set.
//! - [`transfer_admin`](Pallet::transfer_admin): admin only, hand the admin role to another
//!   account.
//! - [`update_metadata`](Pallet::update_metadata): admin only, replace the metadata.
//!
//! ## Events
//!
//! - [`DaoCreated`](Event::DaoCreated)
//! - [`DaoMembershipChanged`](Event::DaoMembershipChanged) with a [`MembershipChange`]
//! - [`DaoAdminChanged`](Event::DaoAdminChanged)
//! - [`DaoMetadataUpdated`](Event::DaoMetadataUpdated)
//!
//! ## Errors
//!
//! See [`Error`]: unknown DAO, caller not the admin, account already (or not) a member, member
//! set full, metadata too long, new admin equal to the current one, DAO ids exhausted.

#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;

pub use pallet::*;
pub use types::*;
pub use weights::WeightInfo;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;
mod types;
pub mod weights;

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use alloc::vec::Vec;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::*;
	use sp_runtime::traits::Saturating;

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration of the DAO pallet.
	///
	/// The event type is taken from `frame_system::Config::RuntimeEvent` (the pallet macro adds
	/// the `From<Event<Self>>` bound), so there is no `RuntimeEvent` item here.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The maximum number of members of one DAO.
		#[pallet::constant]
		type MaxMembers: Get<u32>;

		/// The maximum length, in bytes, of a DAO's metadata.
		#[pallet::constant]
		type MaxMetadataLen: Get<u32>;

		/// Weight information for the extrinsics of this pallet.
		type WeightInfo: WeightInfo;
	}

	/// The id the next created DAO will get.
	#[pallet::storage]
	pub type NextDaoId<T> = StorageValue<_, DaoId, ValueQuery>;

	/// The DAOs, by id.
	#[pallet::storage]
	pub type Daos<T: Config> = StorageMap<_, Blake2_128Concat, DaoId, DaoInfoOf<T>, OptionQuery>;

	/// The members of each DAO: `(dao_id, account) => ()`. At most [`Config::MaxMembers`] entries
	/// per DAO.
	#[pallet::storage]
	pub type Members<T: Config> =
		StorageDoubleMap<_, Blake2_128Concat, DaoId, Blake2_128Concat, T::AccountId, (), OptionQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A DAO was created.
		DaoCreated {
			/// The new DAO.
			dao_id: DaoId,
			/// Its admin: the account that created it.
			admin: T::AccountId,
			/// Its metadata.
			metadata: MetadataOf<T>,
			/// The block the DAO was created in. Only with the `upgrade-fixture` feature: Herald's runtime-upgrade
			/// test builds a second runtime with it, so that an event's layout differs across the upgrade.
			#[cfg(feature = "upgrade-fixture")]
			created_at: BlockNumberFor<T>,
		},
		/// An account was added to or removed from a DAO's member set.
		DaoMembershipChanged {
			/// The DAO.
			dao_id: DaoId,
			/// The account added or removed.
			member: T::AccountId,
			/// Whether it was added or removed.
			change: MembershipChange,
			/// The number of members after the change.
			member_count: u32,
		},
		/// A DAO's admin role moved to another account.
		DaoAdminChanged {
			/// The DAO.
			dao_id: DaoId,
			/// The previous admin.
			old_admin: T::AccountId,
			/// The new admin.
			new_admin: T::AccountId,
		},
		/// A DAO's metadata was replaced.
		DaoMetadataUpdated {
			/// The DAO.
			dao_id: DaoId,
			/// The new metadata.
			metadata: MetadataOf<T>,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// No DAO has this id.
		UnknownDao,
		/// The caller is not the DAO's admin.
		NotAdmin,
		/// The account is already a member of the DAO.
		AlreadyMember,
		/// The account is not a member of the DAO.
		NotMember,
		/// The DAO already has `MaxMembers` members.
		TooManyMembers,
		/// The metadata is longer than `MaxMetadataLen` bytes.
		MetadataTooLong,
		/// The proposed new admin already is the admin.
		AlreadyAdmin,
		/// All `u32` DAO ids have been allocated.
		DaoIdsExhausted,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxMembers::get() > 0, "`MaxMembers` must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Create a DAO with the caller as its admin and no members.
		///
		/// - `metadata`: at most `MaxMetadataLen` bytes, opaque to the chain (e.g. a name, or the
		///   hash or CID of an off-chain document).
		///
		/// Emits [`Event::DaoCreated`] with the new `dao_id`, allocated from [`NextDaoId`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create_dao(metadata.len() as u32))]
		pub fn create_dao(origin: OriginFor<T>, metadata: Vec<u8>) -> DispatchResult {
			let admin = ensure_signed(origin)?;
			let metadata: MetadataOf<T> = metadata.try_into().map_err(|_| Error::<T>::MetadataTooLong)?;
			Self::do_create_dao(admin, metadata).map(|_| ())
		}

		/// Add `member` to the member set of DAO `dao_id`. Only the DAO's admin may call this.
		///
		/// Emits [`Event::DaoMembershipChanged`] with [`MembershipChange::Added`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::add_member())]
		pub fn add_member(origin: OriginFor<T>, dao_id: DaoId, member: T::AccountId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Daos::<T>::try_mutate(dao_id, |maybe_dao| -> DispatchResult {
				let dao = maybe_dao.as_mut().ok_or(Error::<T>::UnknownDao)?;
				ensure!(dao.admin == who, Error::<T>::NotAdmin);
				ensure!(!Members::<T>::contains_key(dao_id, &member), Error::<T>::AlreadyMember);
				ensure!(dao.member_count < T::MaxMembers::get(), Error::<T>::TooManyMembers);

				Members::<T>::insert(dao_id, &member, ());
				dao.member_count.saturating_inc();
				Self::deposit_event(Event::DaoMembershipChanged {
					dao_id,
					member,
					change: MembershipChange::Added,
					member_count: dao.member_count,
				});
				Ok(())
			})
		}

		/// Remove `member` from the member set of DAO `dao_id`. Only the DAO's admin may call
		/// this.
		///
		/// Emits [`Event::DaoMembershipChanged`] with [`MembershipChange::Removed`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::remove_member())]
		pub fn remove_member(origin: OriginFor<T>, dao_id: DaoId, member: T::AccountId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Daos::<T>::try_mutate(dao_id, |maybe_dao| -> DispatchResult {
				let dao = maybe_dao.as_mut().ok_or(Error::<T>::UnknownDao)?;
				ensure!(dao.admin == who, Error::<T>::NotAdmin);
				ensure!(Members::<T>::contains_key(dao_id, &member), Error::<T>::NotMember);

				Members::<T>::remove(dao_id, &member);
				dao.member_count.saturating_dec();
				Self::deposit_event(Event::DaoMembershipChanged {
					dao_id,
					member,
					change: MembershipChange::Removed,
					member_count: dao.member_count,
				});
				Ok(())
			})
		}

		/// Hand the admin role of DAO `dao_id` to `new_admin`. Only the DAO's admin may call
		/// this; the caller loses the role. `new_admin` need not be a member.
		///
		/// Emits [`Event::DaoAdminChanged`].
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::transfer_admin())]
		pub fn transfer_admin(origin: OriginFor<T>, dao_id: DaoId, new_admin: T::AccountId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Daos::<T>::try_mutate(dao_id, |maybe_dao| -> DispatchResult {
				let dao = maybe_dao.as_mut().ok_or(Error::<T>::UnknownDao)?;
				ensure!(dao.admin == who, Error::<T>::NotAdmin);
				ensure!(dao.admin != new_admin, Error::<T>::AlreadyAdmin);

				let old_admin = core::mem::replace(&mut dao.admin, new_admin.clone());
				Self::deposit_event(Event::DaoAdminChanged { dao_id, old_admin, new_admin });
				Ok(())
			})
		}

		/// Replace the metadata of DAO `dao_id`. Only the DAO's admin may call this.
		///
		/// Emits [`Event::DaoMetadataUpdated`].
		#[pallet::call_index(4)]
		#[pallet::weight(T::WeightInfo::update_metadata(metadata.len() as u32))]
		pub fn update_metadata(origin: OriginFor<T>, dao_id: DaoId, metadata: Vec<u8>) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let metadata: MetadataOf<T> = metadata.try_into().map_err(|_| Error::<T>::MetadataTooLong)?;
			Daos::<T>::try_mutate(dao_id, |maybe_dao| -> DispatchResult {
				let dao = maybe_dao.as_mut().ok_or(Error::<T>::UnknownDao)?;
				ensure!(dao.admin == who, Error::<T>::NotAdmin);

				dao.metadata = metadata.clone();
				Self::deposit_event(Event::DaoMetadataUpdated { dao_id, metadata });
				Ok(())
			})
		}
	}

	impl<T: Config> Pallet<T> {
		/// Create a DAO administered by `admin`, returning its id. Emits [`Event::DaoCreated`].
		pub fn do_create_dao(admin: T::AccountId, metadata: MetadataOf<T>) -> Result<DaoId, DispatchError> {
			let dao_id = NextDaoId::<T>::get();
			let next = dao_id.checked_add(1).ok_or(Error::<T>::DaoIdsExhausted)?;
			NextDaoId::<T>::put(next);

			Daos::<T>::insert(dao_id, DaoInfo { admin: admin.clone(), metadata: metadata.clone(), member_count: 0 });
			Self::deposit_event(Event::DaoCreated {
				dao_id,
				admin,
				metadata,
				#[cfg(feature = "upgrade-fixture")]
				created_at: frame_system::Pallet::<T>::block_number(),
			});
			Ok(dao_id)
		}

		/// The admin of DAO `dao_id`, if it exists.
		pub fn admin(dao_id: DaoId) -> Option<T::AccountId> {
			Daos::<T>::get(dao_id).map(|dao| dao.admin)
		}

		/// Whether `who` is a member of DAO `dao_id`.
		pub fn is_member(dao_id: DaoId, who: &T::AccountId) -> bool {
			Members::<T>::contains_key(dao_id, who)
		}

		/// Check the pallet's invariants: every DAO's `member_count` equals its number of
		/// [`Members`] entries and is at most `MaxMembers`, every member belongs to an existing
		/// DAO, and every DAO id is below [`NextDaoId`].
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			let next = NextDaoId::<T>::get();
			for (dao_id, dao) in Daos::<T>::iter() {
				ensure!(dao_id < next, "DAO id not below NextDaoId");
				let count = Members::<T>::iter_prefix(dao_id).count() as u32;
				ensure!(count == dao.member_count, "member_count differs from Members entries");
				ensure!(count <= T::MaxMembers::get(), "more than MaxMembers members");
			}
			for (dao_id, _, ()) in Members::<T>::iter() {
				ensure!(Daos::<T>::contains_key(dao_id), "member of an unknown DAO");
			}
			Ok(())
		}
	}
}

impl<T: Config> DaoAdminProvider<T::AccountId> for Pallet<T> {
	fn is_admin(dao_id: DaoId, who: &T::AccountId) -> bool {
		Daos::<T>::get(dao_id).is_some_and(|dao| &dao.admin == who)
	}

	#[cfg(feature = "runtime-benchmarks")]
	fn make_admin(who: &T::AccountId) -> Option<DaoId> {
		Self::do_create_dao(who.clone(), Default::default()).ok()
	}
}
