//! Types of the agreements pallet.

use crate::Config;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{pallet_prelude::BoundedVec, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use scale_info::TypeInfo;

/// Identifier of an agreement, allocated from [`crate::NextAgreementId`].
pub type AgreementId = u32;

/// The parties of an agreement (or the subset that signed it).
pub type PartiesOf<T> = BoundedVec<<T as frame_system::Config>::AccountId, <T as Config>::MaxParties>;

/// Where an agreement stands.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum AgreementStatus {
	/// Proposed, waiting for signatures; it expires at its expiry block unless every party
	/// signs before.
	Pending,
	/// Every party signed: the agreement is in force. It stays in storage as a record.
	InForce,
}

/// A contract agreement between 2 to `MaxParties` distinct parties over the document whose hash
/// is `terms_hash`.
///
/// Rejected and expired agreements are removed from storage (their events remain the record);
/// agreements in force are kept.
#[derive(Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct Agreement<T: Config> {
	/// The party that proposed the agreement (also one of `parties`).
	pub proposer: T::AccountId,
	/// The parties, in the order the proposer gave them; distinct.
	pub parties: PartiesOf<T>,
	/// The parties that signed so far, in signing order. The proposer signs by proposing.
	pub signed: PartiesOf<T>,
	/// The hash of the agreed terms (the document itself is off chain).
	pub terms_hash: T::Hash,
	/// The first block at which the agreement can no longer be signed: if it is still pending
	/// then, it expires in that block's `on_initialize`.
	pub expiry: BlockNumberFor<T>,
	/// Where the agreement stands.
	pub status: AgreementStatus,
}
