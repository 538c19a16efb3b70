//! Types of the DAO pallet, and the [`DaoAdminProvider`] trait other pallets use.

use crate::Config;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use scale_info::TypeInfo;

/// Identifier of a DAO, allocated from [`crate::NextDaoId`].
pub type DaoId = u32;

/// A DAO's metadata: at most [`Config::MaxMetadataLen`] opaque bytes.
pub type MetadataOf<T> = BoundedVec<u8, <T as Config>::MaxMetadataLen>;

/// The stored record of a DAO.
pub type DaoInfoOf<T> = DaoInfo<T>;

/// A DAO: its admin, metadata and number of members (the members themselves are in
/// [`crate::Members`]).
#[derive(Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct DaoInfo<T: Config> {
	/// The account allowed to manage the DAO.
	pub admin: T::AccountId,
	/// Opaque metadata.
	pub metadata: MetadataOf<T>,
	/// The number of [`crate::Members`] entries of the DAO; at most [`Config::MaxMembers`].
	pub member_count: u32,
}

/// How a DAO's member set changed, in [`crate::Event::DaoMembershipChanged`].
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum MembershipChange {
	/// The account became a member.
	Added,
	/// The account stopped being a member.
	Removed,
}

/// Who administers a DAO, for pallets that let a DAO's admin act on the DAO's behalf.
///
/// Implemented by [`crate::Pallet`]; `()` implements it with nobody being an admin, for mocks and
/// runtimes without DAOs.
pub trait DaoAdminProvider<AccountId> {
	/// Whether `who` is the admin of DAO `dao_id`. False for an unknown DAO.
	fn is_admin(dao_id: DaoId, who: &AccountId) -> bool;

	/// Benchmarking helper: make `who` the admin of some DAO and return its id, or `None` if the
	/// implementation cannot (benchmarks then take the path without a DAO).
	#[cfg(feature = "runtime-benchmarks")]
	fn make_admin(_who: &AccountId) -> Option<DaoId> {
		None
	}
}

impl<AccountId> DaoAdminProvider<AccountId> for () {
	fn is_admin(_dao_id: DaoId, _who: &AccountId) -> bool {
		false
	}
}
