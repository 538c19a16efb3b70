//! Types of the crowdfunding pallet.

use crate::Config;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use frame_support::{traits::tokens::fungibles, CloneNoBound, DebugNoBound, EqNoBound, PartialEqNoBound};
use frame_system::pallet_prelude::BlockNumberFor;
use pallet_dao::DaoId;
use scale_info::TypeInfo;

/// Identifier of a crowdfunding, allocated from [`crate::NextCrowdfundingId`].
pub type CrowdfundingId = u32;

/// The balance type of [`Config::Assets`].
pub type BalanceOf<T> = <<T as Config>::Assets as fungibles::Inspect<<T as frame_system::Config>::AccountId>>::Balance;

/// The stored record of a crowdfunding.
pub type CrowdfundingInfoOf<T> = CrowdfundingInfo<T>;

/// How a crowdfunding ended, in [`crate::Event::CrowdfundingFinished`].
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum Outcome<Balance> {
	/// At least the soft cap was raised: the beneficiary is paid.
	Succeeded {
		/// The amount raised.
		raised: Balance,
	},
	/// Less than the soft cap was raised: every contributor is refunded.
	Failed {
		/// The amount raised.
		raised: Balance,
	},
}

/// Where a crowdfunding stands.
#[derive(Encode, Decode, DecodeWithMemTracking, Clone, Copy, PartialEq, Eq, Debug, TypeInfo, MaxEncodedLen)]
pub enum CrowdfundingStatus {
	/// Created; its start block has not come yet. No contributions.
	Upcoming,
	/// Between its start block (included) and its end block (excluded): contributions are
	/// accepted.
	Active,
	/// Ended with at least the soft cap raised. `paid_out` is false if the payout transfer
	/// failed; [`crate::Pallet::retry_payout`] retries it.
	Succeeded {
		/// Whether the beneficiary has been paid.
		paid_out: bool,
	},
	/// Ended below the soft cap: contributions are being refunded.
	Failed,
}

/// A crowdfunding.
///
/// It stays in storage until it is settled: paid out (or refunded) and its contribution records
/// cleared, after which [`crate::Event::CrowdfundingSettled`] is emitted and the record removed.
#[derive(Encode, Decode, CloneNoBound, PartialEqNoBound, EqNoBound, DebugNoBound, TypeInfo, MaxEncodedLen)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound())]
pub struct CrowdfundingInfo<T: Config> {
	/// The account that created it.
	pub creator: T::AccountId,
	/// The DAO on whose behalf its admin created it, if any.
	pub dao_id: Option<DaoId>,
	/// The asset raised.
	pub asset: T::AssetKind,
	/// The account paid if the crowdfunding succeeds.
	pub beneficiary: T::AccountId,
	/// The minimum amount to raise for the crowdfunding to succeed. Positive.
	pub soft_cap: BalanceOf<T>,
	/// The maximum amount that can be raised. At least the soft cap.
	pub hard_cap: BalanceOf<T>,
	/// The block at which contributions open.
	pub start: BlockNumberFor<T>,
	/// The block at which contributions close and the outcome is decided.
	pub end: BlockNumberFor<T>,
	/// The total contributed.
	pub raised: BalanceOf<T>,
	/// The number of entries in [`crate::Contributions`] for this crowdfunding: the number of
	/// distinct contributors until it ends, then the number of records still to refund or clear.
	pub contributors: u32,
	/// The number of entries in [`crate::UnclaimedRefunds`] for this crowdfunding.
	pub unclaimed: u32,
	/// Where it stands.
	pub status: CrowdfundingStatus,
}

/// Benchmarking helper: provides an asset kind the benchmarks can mint (e.g. the native token).
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper<AssetKind> {
	/// An existing asset whose balances the benchmarks can set with `fungibles::Mutate`.
	fn asset_kind() -> AssetKind;
}

/// The native token, for runtimes using `NativeOrWithId` asset kinds.
#[cfg(feature = "runtime-benchmarks")]
impl<AssetId: Ord> BenchmarkHelper<frame_support::traits::tokens::fungible::NativeOrWithId<AssetId>> for () {
	fn asset_kind() -> frame_support::traits::tokens::fungible::NativeOrWithId<AssetId> {
		frame_support::traits::tokens::fungible::NativeOrWithId::Native
	}
}
