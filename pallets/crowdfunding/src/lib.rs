//! # Crowdfunding Pallet
//!
//! Crowdfundings in the native token or any `pallet-assets` asset: contributions are escrowed
//! between a start and an end block; at the end block the beneficiary is paid if the soft cap
//! was reached, otherwise every contributor is refunded.
//!
//! ## Overview
//!
//! Any signed account [`create`](Pallet::create)s a crowdfunding, either for itself or, if it
//! is the admin of a DAO (per [`Config::DaoAdmins`]), on behalf of that DAO (`dao_id`). It
//! names the asset ([`Config::AssetKind`], e.g. `NativeOrWithId<u32>`), the beneficiary, a soft
//! cap and a hard cap (`0 < soft_cap <= hard_cap`), and a start and an end block
//! (`now < start < end`).
//!
//! Its life, driven by block hooks (`on_initialize`):
//!
//! 1. **Upcoming** until its start block. At the start block it becomes **Active**:
//!    [`CrowdfundingActivated`](Event::CrowdfundingActivated).
//! 2. While active (blocks `start..end`), anyone may [`contribute`](Pallet::contribute). The
//!    funds move into the crowdfunding's escrow account; a contribution that would take the
//!    total above the hard cap is refused (not partially accepted).
//! 3. At the end block it finishes: [`CrowdfundingFinished`](Event::CrowdfundingFinished) with
//!    [`Outcome::Succeeded`] iff `raised >= soft_cap`, else [`Outcome::Failed`].
//!    - Succeeded: the escrow pays `raised` to the beneficiary at once:
//!      [`CrowdfundingPaidOut`](Event::CrowdfundingPaidOut).
//!    - Failed: every contributor gets its contribution back:
//!      [`Refunded`](Event::Refunded) per contributor, possibly over several blocks (see below).
//! 4. Once paid out or refunded and its contribution records cleared, it is **settled**:
//!    [`CrowdfundingSettled`](Event::CrowdfundingSettled); its record is removed from storage
//!    (the events are the permanent record).
//!
//! Crowdfunding ids are `u32`s allocated from [`NextCrowdfundingId`], starting at 0. Every
//! event names the `crowdfunding_id` it concerns.
//!
//! ## Assets
//!
//! [`Config::Assets`] is any `fungibles::Mutate` over [`Config::AssetKind`]. The Herald runtime
//! uses `UnionOf<Balances, Assets, NativeFromLeft, NativeOrWithId<u32>, AccountId>`, so
//! `NativeOrWithId::Native` is the native token and `NativeOrWithId::WithId(id)` a
//! `pallet-assets` asset.
//!
//! ## Escrow and existential deposits
//!
//! Each crowdfunding has its own escrow account, the sub-account `crowdfunding_id` of
//! [`Config::PalletId`] ([`Pallet::escrow_account`]), so funds of different crowdfundings never
//! mix. Choices made to keep it sound with existential deposits (EDs):
//!
//! - **Every contribution must be at least the asset's minimum balance** (its ED;
//!   [`Error::ContributionTooSmall`]). Hence the escrow holds either nothing or at least the
//!   minimum balance, so its first deposit can create its account, and every refund (itself at
//!   least the minimum balance) can recreate a contributor's account even if it was reaped
//!   meanwhile. As the escrow balance is a sum of such contributions, paying out or refunding
//!   never leaves dust below the minimum balance in it.
//! - **The escrow account holds a provider reference** (`frame_system::inc_providers`) from
//!   creation until settlement. `pallet-assets` refuses to create an account for a
//!   non-sufficient asset on an account that has no provider (no native balance), so without it
//!   the escrow could not receive such assets. The reference is released at settlement.
//! - Contributions are transferred with `Preservation::Preserve`: contributing cannot reap the
//!   contributor's account. Payouts and refunds leave the escrow with
//!   `Preservation::Expendable`: the escrow is meant to be emptied.
//! - Funds sent to an escrow account by other means than [`contribute`](Pallet::contribute) are
//!   not accounted for and stay there.
//!
//! ## Bounds and weights of the hooks
//!
//! The hooks never iterate over all crowdfundings:
//!
//! - Crowdfundings are indexed by start block ([`StartingAt`]) and end block ([`EndingAt`]), at
//!   most [`Config::MaxPerBlock`] per block in each index; a creation whose start or end block
//!   is full is refused. So a block activates at most `MaxPerBlock` crowdfundings and finishes
//!   at most `MaxPerBlock` (paying out each succeeded one).
//! - Contributors per crowdfunding are bounded by [`Config::MaxContributors`] (a new contributor
//!   beyond it is refused; existing ones may add to their contribution).
//! - After it ends, a crowdfunding's contribution records are processed through the
//!   [`SettlementQueue`] (first in, first out): refunded if it failed, deleted if it succeeded.
//!   **Each block processes at most [`Config::MaxRefundsPerBlock`] records in total**, across
//!   the queued crowdfundings, so a crowdfunding with more contributors than that is refunded
//!   over several blocks, starting in its end block.
//!
//! `on_initialize` returns the weight of the work it did, from [`WeightInfo`]:
//! `on_initialize_activate(a) + on_initialize_finish_succeeded(s) +
//! on_initialize_finish_failed(f)` plus `on_initialize_settle(r)` for each queued crowdfunding
//! it processed `r` records of (or `on_initialize_settle(0)` if the queue was empty).
//!
//! ## Failed transfers in hooks
//!
//! Hooks cannot fail, and a transfer out of the escrow can (e.g. the asset is frozen, or the
//! recipient's asset account is blocked). Such a failure is reported by an event and can be
//! retried by anyone with an extrinsic, so the queue never stalls:
//!
//! - a failed payout emits [`PayoutFailed`](Event::PayoutFailed); retry with
//!   [`retry_payout`](Pallet::retry_payout);
//! - a failed refund emits [`RefundFailed`](Event::RefundFailed) and is recorded in
//!   [`UnclaimedRefunds`]; retry with [`claim_refund`](Pallet::claim_refund).
//!
//! ## Dispatchable functions
//!
//! - [`create`](Pallet::create): create a crowdfunding (optionally on behalf of a DAO).
//! - [`contribute`](Pallet::contribute): contribute to an active crowdfunding.
//! - [`retry_payout`](Pallet::retry_payout): retry a failed payout (anyone).
//! - [`claim_refund`](Pallet::claim_refund): retry a failed refund (anyone, for any contributor).
//!
//! ## Events
//!
//! [`CrowdfundingCreated`](Event::CrowdfundingCreated),
//! [`CrowdfundingActivated`](Event::CrowdfundingActivated),
//! [`Contributed`](Event::Contributed),
//! [`CrowdfundingFinished`](Event::CrowdfundingFinished),
//! [`CrowdfundingPaidOut`](Event::CrowdfundingPaidOut), [`PayoutFailed`](Event::PayoutFailed),
//! [`Refunded`](Event::Refunded), [`RefundFailed`](Event::RefundFailed),
//! [`CrowdfundingSettled`](Event::CrowdfundingSettled).
//!
//! ## Errors
//!
//! See [`Error`].
//!
//! ## Limitations
//!
//! Creating a crowdfunding takes no deposit: the number of crowdfundings is only limited by the
//! per-block bounds and transaction fees.

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

/// The log target of this pallet.
pub const LOG_TARGET: &str = "runtime::crowdfunding";

#[frame_support::pallet]
pub mod pallet {
	use super::*;
	use frame_support::{
		pallet_prelude::*,
		storage::with_storage_layer,
		traits::tokens::{
			fungibles::{self, Inspect as _, Mutate as _},
			Preservation,
		},
		PalletId,
	};
	use frame_system::pallet_prelude::*;
	use pallet_dao::{DaoAdminProvider, DaoId};
	use sp_runtime::traits::{AccountIdConversion, Saturating};

	/// The in-code storage version.
	const STORAGE_VERSION: StorageVersion = StorageVersion::new(0);

	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration of the crowdfunding pallet.
	///
	/// The event type is taken from `frame_system::Config::RuntimeEvent` (the pallet macro adds
	/// the `From<Event<Self>>` bound), so there is no `RuntimeEvent` item here.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The kind of asset a crowdfunding raises, e.g. `NativeOrWithId<u32>`.
		type AssetKind: Parameter + MaxEncodedLen;

		/// The assets: transfers between contributors, escrow and beneficiary, and minimum
		/// balances. E.g. `UnionOf<Balances, Assets, NativeFromLeft, NativeOrWithId<u32>, _>`.
		type Assets: fungibles::Mutate<Self::AccountId, AssetId = Self::AssetKind>;

		/// Who administers which DAO: a DAO's admin may create crowdfundings on its behalf.
		type DaoAdmins: DaoAdminProvider<Self::AccountId>;

		/// The pallet id: escrow accounts are its sub-accounts, one per crowdfunding.
		#[pallet::constant]
		type PalletId: Get<PalletId>;

		/// The maximum number of crowdfundings starting at the same block, and the maximum
		/// number ending at the same block.
		#[pallet::constant]
		type MaxPerBlock: Get<u32>;

		/// The maximum number of contribution records (refunds, or deletions of the records of
		/// a succeeded crowdfunding) processed per block by `on_initialize`.
		#[pallet::constant]
		type MaxRefundsPerBlock: Get<u32>;

		/// The maximum number of distinct contributors of one crowdfunding.
		#[pallet::constant]
		type MaxContributors: Get<u32>;

		/// Weight information for the extrinsics and hooks of this pallet.
		type WeightInfo: WeightInfo;

		/// Provides an asset the benchmarks can use.
		#[cfg(feature = "runtime-benchmarks")]
		type BenchmarkHelper: BenchmarkHelper<Self::AssetKind>;
	}

	/// The id the next created crowdfunding will get.
	#[pallet::storage]
	pub type NextCrowdfundingId<T> = StorageValue<_, CrowdfundingId, ValueQuery>;

	/// The crowdfundings not settled yet, by id.
	#[pallet::storage]
	pub type Crowdfundings<T: Config> =
		StorageMap<_, Blake2_128Concat, CrowdfundingId, CrowdfundingInfoOf<T>, OptionQuery>;

	/// The contributions: `(crowdfunding_id, contributor) => total contributed`. At most
	/// [`Config::MaxContributors`] entries per crowdfunding.
	#[pallet::storage]
	pub type Contributions<T: Config> =
		StorageDoubleMap<_, Twox64Concat, CrowdfundingId, Blake2_128Concat, T::AccountId, BalanceOf<T>, OptionQuery>;

	/// Refunds whose transfer failed in `on_initialize`:
	/// `(crowdfunding_id, contributor) => amount`. Paid by [`Pallet::claim_refund`].
	#[pallet::storage]
	pub type UnclaimedRefunds<T: Config> =
		StorageDoubleMap<_, Twox64Concat, CrowdfundingId, Blake2_128Concat, T::AccountId, BalanceOf<T>, OptionQuery>;

	/// The upcoming crowdfundings by start block: at most [`Config::MaxPerBlock`] per block.
	#[pallet::storage]
	pub type StartingAt<T: Config> =
		StorageMap<_, Twox64Concat, BlockNumberFor<T>, BoundedVec<CrowdfundingId, T::MaxPerBlock>, ValueQuery>;

	/// The upcoming and active crowdfundings by end block: at most [`Config::MaxPerBlock`] per
	/// block.
	#[pallet::storage]
	pub type EndingAt<T: Config> =
		StorageMap<_, Twox64Concat, BlockNumberFor<T>, BoundedVec<CrowdfundingId, T::MaxPerBlock>, ValueQuery>;

	/// The ended crowdfundings whose contribution records remain to be processed (refunded or
	/// deleted), by queue position. The queue holds the positions in
	/// [`SettlementQueueRange`].
	#[pallet::storage]
	pub type SettlementQueue<T: Config> = StorageMap<_, Twox64Concat, u32, CrowdfundingId, OptionQuery>;

	/// The `(head, tail)` positions of [`SettlementQueue`]: it holds positions `head..tail`
	/// (wrapping), the head is processed first.
	#[pallet::storage]
	pub type SettlementQueueRange<T: Config> = StorageValue<_, (u32, u32), ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A crowdfunding was created.
		CrowdfundingCreated {
			/// The new crowdfunding.
			crowdfunding_id: CrowdfundingId,
			/// The account that created it.
			creator: T::AccountId,
			/// The DAO on whose behalf its admin created it, if any.
			dao_id: Option<DaoId>,
			/// The asset raised.
			asset: T::AssetKind,
			/// The account paid if it succeeds.
			beneficiary: T::AccountId,
			/// The minimum to raise.
			soft_cap: BalanceOf<T>,
			/// The maximum to raise.
			hard_cap: BalanceOf<T>,
			/// The block contributions open.
			start: BlockNumberFor<T>,
			/// The block contributions close.
			end: BlockNumberFor<T>,
		},
		/// A crowdfunding's start block came: it accepts contributions.
		CrowdfundingActivated {
			/// The crowdfunding.
			crowdfunding_id: CrowdfundingId,
		},
		/// An account contributed to a crowdfunding.
		Contributed {
			/// The crowdfunding.
			crowdfunding_id: CrowdfundingId,
			/// The contributor.
			contributor: T::AccountId,
			/// The amount contributed now.
			amount: BalanceOf<T>,
			/// The crowdfunding's total raised after this contribution.
			raised: BalanceOf<T>,
		},
		/// A crowdfunding's end block came: it succeeded (raised at least the soft cap) or
		/// failed.
		CrowdfundingFinished {
			/// The crowdfunding.
			crowdfunding_id: CrowdfundingId,
			/// Whether it succeeded, and the amount raised.
			outcome: Outcome<BalanceOf<T>>,
		},
		/// The amount raised by a succeeded crowdfunding was paid to its beneficiary.
		CrowdfundingPaidOut {
			/// The crowdfunding.
			crowdfunding_id: CrowdfundingId,
			/// The account paid.
			beneficiary: T::AccountId,
			/// The amount paid.
			amount: BalanceOf<T>,
		},
		/// Paying a succeeded crowdfunding's beneficiary failed; the funds stay in escrow until
		/// [`Pallet::retry_payout`] succeeds.
		PayoutFailed {
			/// The crowdfunding.
			crowdfunding_id: CrowdfundingId,
			/// The account to pay.
			beneficiary: T::AccountId,
			/// The amount to pay.
			amount: BalanceOf<T>,
			/// Why the transfer failed.
			error: DispatchError,
		},
		/// A contributor of a failed crowdfunding got its contribution back.
		Refunded {
			/// The crowdfunding.
			crowdfunding_id: CrowdfundingId,
			/// The contributor refunded.
			contributor: T::AccountId,
			/// The amount refunded: its total contribution.
			amount: BalanceOf<T>,
		},
		/// Refunding a contributor failed; the refund is kept in [`UnclaimedRefunds`] until
		/// [`Pallet::claim_refund`] succeeds.
		RefundFailed {
			/// The crowdfunding.
			crowdfunding_id: CrowdfundingId,
			/// The contributor to refund.
			contributor: T::AccountId,
			/// The amount to refund.
			amount: BalanceOf<T>,
			/// Why the transfer failed.
			error: DispatchError,
		},
		/// A crowdfunding is fully paid out or refunded and its records cleared: it was removed
		/// from storage. Last event of a crowdfunding.
		CrowdfundingSettled {
			/// The crowdfunding.
			crowdfunding_id: CrowdfundingId,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// The caller is not the admin of the DAO it creates the crowdfunding for.
		NotDaoAdmin,
		/// The asset does not exist.
		UnknownAsset,
		/// The soft cap must be positive.
		ZeroSoftCap,
		/// The soft cap must not exceed the hard cap.
		SoftCapAboveHardCap,
		/// The hard cap is below the asset's minimum balance, the smallest contribution.
		HardCapBelowMinimumBalance,
		/// The start block must be after the current block.
		StartInPast,
		/// The end block must be after the start block.
		EndNotAfterStart,
		/// `MaxPerBlock` crowdfundings already start at this block; choose another start.
		TooManyStartingAtBlock,
		/// `MaxPerBlock` crowdfundings already end at this block; choose another end.
		TooManyEndingAtBlock,
		/// All `u32` crowdfunding ids have been allocated.
		CrowdfundingIdsExhausted,
		/// No unsettled crowdfunding has this id.
		UnknownCrowdfunding,
		/// The crowdfunding does not accept contributions: it has not started or has ended.
		NotActive,
		/// A contribution must be at least the asset's minimum balance (existential deposit).
		ContributionTooSmall,
		/// The contribution would take the amount raised above the hard cap.
		HardCapExceeded,
		/// The crowdfunding already has `MaxContributors` contributors.
		TooManyContributors,
		/// The crowdfunding has no failed payout to retry.
		NotAwaitingPayout,
		/// The account has no unclaimed refund from this crowdfunding.
		NoUnclaimedRefund,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Activate the crowdfundings starting at `n`, finish those ending at `n` (paying out
		/// the succeeded ones), then process up to `MaxRefundsPerBlock` contribution records of
		/// the settlement queue. Returns the weight used.
		fn on_initialize(n: BlockNumberFor<T>) -> Weight {
			let activated = Self::activate_starting(n);
			let (succeeded, failed) = Self::finish_ending(n);
			T::WeightInfo::on_initialize_activate(activated)
				.saturating_add(T::WeightInfo::on_initialize_finish_succeeded(succeeded))
				.saturating_add(T::WeightInfo::on_initialize_finish_failed(failed))
				.saturating_add(Self::process_settlement_queue(T::MaxRefundsPerBlock::get()))
		}

		fn integrity_test() {
			assert!(T::MaxPerBlock::get() > 0, "`MaxPerBlock` must be positive");
			assert!(T::MaxRefundsPerBlock::get() > 0, "`MaxRefundsPerBlock` must be positive");
			assert!(T::MaxContributors::get() > 0, "`MaxContributors` must be positive");
			assert!(
				Self::escrow_account(0) != Self::escrow_account(CrowdfundingId::MAX),
				"`AccountId` too short for distinct escrow sub-accounts of `PalletId`"
			);
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Create a crowdfunding raising `asset` for `beneficiary`.
		///
		/// - `dao_id`: `Some` to create it on behalf of a DAO, of which the caller must be the
		///   admin; `None` to create it as oneself.
		/// - `soft_cap`, `hard_cap`: `0 < soft_cap <= hard_cap`, and the hard cap at least the
		///   asset's minimum balance.
		/// - `start`, `end`: `now < start < end`; contributions are accepted in blocks
		///   `start..end`. Fewer than `MaxPerBlock` crowdfundings may already start at `start`,
		///   and end at `end`.
		///
		/// Emits [`Event::CrowdfundingCreated`].
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::create())]
		pub fn create(
			origin: OriginFor<T>,
			dao_id: Option<DaoId>,
			asset: T::AssetKind,
			beneficiary: T::AccountId,
			#[pallet::compact] soft_cap: BalanceOf<T>,
			#[pallet::compact] hard_cap: BalanceOf<T>,
			start: BlockNumberFor<T>,
			end: BlockNumberFor<T>,
		) -> DispatchResult {
			let creator = ensure_signed(origin)?;
			if let Some(dao_id) = dao_id {
				ensure!(T::DaoAdmins::is_admin(dao_id, &creator), Error::<T>::NotDaoAdmin);
			}
			ensure!(T::Assets::asset_exists(asset.clone()), Error::<T>::UnknownAsset);
			ensure!(!soft_cap.is_zero(), Error::<T>::ZeroSoftCap);
			ensure!(soft_cap <= hard_cap, Error::<T>::SoftCapAboveHardCap);
			ensure!(hard_cap >= T::Assets::minimum_balance(asset.clone()), Error::<T>::HardCapBelowMinimumBalance);
			let now = frame_system::Pallet::<T>::block_number();
			ensure!(start > now, Error::<T>::StartInPast);
			ensure!(end > start, Error::<T>::EndNotAfterStart);

			let crowdfunding_id = NextCrowdfundingId::<T>::get();
			let next_id = crowdfunding_id.checked_add(1).ok_or(Error::<T>::CrowdfundingIdsExhausted)?;
			StartingAt::<T>::try_mutate(start, |ids| ids.try_push(crowdfunding_id))
				.map_err(|_| Error::<T>::TooManyStartingAtBlock)?;
			EndingAt::<T>::try_mutate(end, |ids| ids.try_push(crowdfunding_id))
				.map_err(|_| Error::<T>::TooManyEndingAtBlock)?;
			NextCrowdfundingId::<T>::put(next_id);

			// Lets the escrow hold non-sufficient assets; released at settlement.
			frame_system::Pallet::<T>::inc_providers(&Self::escrow_account(crowdfunding_id));

			Crowdfundings::<T>::insert(
				crowdfunding_id,
				CrowdfundingInfo {
					creator: creator.clone(),
					dao_id,
					asset: asset.clone(),
					beneficiary: beneficiary.clone(),
					soft_cap,
					hard_cap,
					start,
					end,
					raised: Zero::zero(),
					contributors: 0,
					unclaimed: 0,
					status: CrowdfundingStatus::Upcoming,
				},
			);
			Self::deposit_event(Event::CrowdfundingCreated {
				crowdfunding_id,
				creator,
				dao_id,
				asset,
				beneficiary,
				soft_cap,
				hard_cap,
				start,
				end,
			});
			Ok(())
		}

		/// Contribute `amount` to the active crowdfunding `crowdfunding_id`: it moves from the
		/// caller (which stays alive: `Preservation::Preserve`) to the escrow account.
		///
		/// `amount` must be at least the asset's minimum balance and must not take the total
		/// above the hard cap. A new contributor is refused if the crowdfunding already has
		/// `MaxContributors` contributors; an existing one may add to its contribution.
		///
		/// Emits [`Event::Contributed`].
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::contribute())]
		pub fn contribute(
			origin: OriginFor<T>,
			crowdfunding_id: CrowdfundingId,
			#[pallet::compact] amount: BalanceOf<T>,
		) -> DispatchResult {
			let contributor = ensure_signed(origin)?;
			let mut info = Crowdfundings::<T>::get(crowdfunding_id).ok_or(Error::<T>::UnknownCrowdfunding)?;
			ensure!(info.status == CrowdfundingStatus::Active, Error::<T>::NotActive);
			let minimum = T::Assets::minimum_balance(info.asset.clone());
			ensure!(!amount.is_zero() && amount >= minimum, Error::<T>::ContributionTooSmall);
			let raised = info
				.raised
				.checked_add(&amount)
				.filter(|raised| *raised <= info.hard_cap)
				.ok_or(Error::<T>::HardCapExceeded)?;
			let previous = Contributions::<T>::get(crowdfunding_id, &contributor);
			if previous.is_none() {
				ensure!(info.contributors < T::MaxContributors::get(), Error::<T>::TooManyContributors);
				info.contributors.saturating_inc();
			}

			T::Assets::transfer(
				info.asset.clone(),
				&contributor,
				&Self::escrow_account(crowdfunding_id),
				amount,
				Preservation::Preserve,
			)?;

			// Cannot overflow: at most `raised`.
			let total = previous.unwrap_or_else(Zero::zero).saturating_add(amount);
			Contributions::<T>::insert(crowdfunding_id, &contributor, total);
			info.raised = raised;
			Crowdfundings::<T>::insert(crowdfunding_id, info);
			Self::deposit_event(Event::Contributed { crowdfunding_id, contributor, amount, raised });
			Ok(())
		}

		/// Retry paying the beneficiary of the succeeded crowdfunding `crowdfunding_id`, whose
		/// payout failed in `on_initialize` ([`Event::PayoutFailed`]). Anyone may call this; the
		/// funds can only go to the beneficiary.
		///
		/// Emits [`Event::CrowdfundingPaidOut`], and [`Event::CrowdfundingSettled`] if nothing
		/// else remains to do.
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::retry_payout())]
		pub fn retry_payout(origin: OriginFor<T>, crowdfunding_id: CrowdfundingId) -> DispatchResult {
			ensure_signed(origin)?;
			let mut info = Crowdfundings::<T>::get(crowdfunding_id).ok_or(Error::<T>::UnknownCrowdfunding)?;
			ensure!(info.status == CrowdfundingStatus::Succeeded { paid_out: false }, Error::<T>::NotAwaitingPayout);
			Self::pay_out(crowdfunding_id, &info)?;
			info.status = CrowdfundingStatus::Succeeded { paid_out: true };
			Self::settle_or_store(crowdfunding_id, info);
			Ok(())
		}

		/// Retry refunding `contributor` from the failed crowdfunding `crowdfunding_id`, whose
		/// refund failed in `on_initialize` ([`Event::RefundFailed`]). Anyone may call this; the
		/// funds can only go to the contributor.
		///
		/// Emits [`Event::Refunded`], and [`Event::CrowdfundingSettled`] if nothing else
		/// remains to do.
		#[pallet::call_index(3)]
		#[pallet::weight(T::WeightInfo::claim_refund())]
		pub fn claim_refund(
			origin: OriginFor<T>,
			crowdfunding_id: CrowdfundingId,
			contributor: T::AccountId,
		) -> DispatchResult {
			ensure_signed(origin)?;
			let amount =
				UnclaimedRefunds::<T>::get(crowdfunding_id, &contributor).ok_or(Error::<T>::NoUnclaimedRefund)?;
			let mut info = Crowdfundings::<T>::get(crowdfunding_id).ok_or(Error::<T>::UnknownCrowdfunding)?;
			T::Assets::transfer(
				info.asset.clone(),
				&Self::escrow_account(crowdfunding_id),
				&contributor,
				amount,
				Preservation::Expendable,
			)?;
			UnclaimedRefunds::<T>::remove(crowdfunding_id, &contributor);
			info.unclaimed.saturating_dec();
			Self::deposit_event(Event::Refunded { crowdfunding_id, contributor, amount });
			Self::settle_or_store(crowdfunding_id, info);
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// The escrow account of crowdfunding `crowdfunding_id`: the sub-account
		/// `crowdfunding_id` of [`Config::PalletId`].
		pub fn escrow_account(crowdfunding_id: CrowdfundingId) -> T::AccountId {
			T::PalletId::get().into_sub_account_truncating(crowdfunding_id)
		}

		/// Hook: activate the crowdfundings starting at block `n`. Returns how many.
		pub(crate) fn activate_starting(n: BlockNumberFor<T>) -> u32 {
			let starting = StartingAt::<T>::take(n);
			for &crowdfunding_id in &starting {
				Crowdfundings::<T>::mutate(crowdfunding_id, |maybe_info| match maybe_info {
					Some(info) if info.status == CrowdfundingStatus::Upcoming => {
						info.status = CrowdfundingStatus::Active;
						Self::deposit_event(Event::CrowdfundingActivated { crowdfunding_id });
					}
					_ => {
						defensive!("a crowdfunding indexed to start is not upcoming");
					}
				});
			}
			starting.len() as u32
		}

		/// Hook: finish the crowdfundings ending at block `n`, paying out those that succeeded
		/// and queueing their contribution records for settlement. Returns how many succeeded
		/// and how many failed.
		pub(crate) fn finish_ending(n: BlockNumberFor<T>) -> (u32, u32) {
			let (mut succeeded, mut failed) = (0u32, 0u32);
			for crowdfunding_id in EndingAt::<T>::take(n) {
				let Some(mut info) = Crowdfundings::<T>::get(crowdfunding_id) else {
					defensive!("an unknown crowdfunding is indexed to end");
					continue;
				};
				if info.status != CrowdfundingStatus::Active {
					defensive!("a crowdfunding indexed to end is not active");
					continue;
				}
				let raised = info.raised;
				if raised >= info.soft_cap {
					succeeded.saturating_inc();
					Self::deposit_event(Event::CrowdfundingFinished {
						crowdfunding_id,
						outcome: Outcome::Succeeded { raised },
					});
					let paid_out = match Self::pay_out(crowdfunding_id, &info) {
						Ok(()) => true,
						Err(error) => {
							Self::deposit_event(Event::PayoutFailed {
								crowdfunding_id,
								beneficiary: info.beneficiary.clone(),
								amount: raised,
								error,
							});
							false
						}
					};
					info.status = CrowdfundingStatus::Succeeded { paid_out };
				} else {
					failed.saturating_inc();
					Self::deposit_event(Event::CrowdfundingFinished {
						crowdfunding_id,
						outcome: Outcome::Failed { raised },
					});
					info.status = CrowdfundingStatus::Failed;
				}

				if info.contributors > 0 {
					Self::enqueue_settlement(crowdfunding_id);
				}
				Self::settle_or_store(crowdfunding_id, info);
			}
			(succeeded, failed)
		}

		/// Hook: process up to `budget` contribution records of the queued crowdfundings, head
		/// first. Returns the weight used.
		pub(crate) fn process_settlement_queue(mut budget: u32) -> Weight {
			let (mut head, tail) = SettlementQueueRange::<T>::get();
			if head == tail {
				return T::WeightInfo::on_initialize_settle(0);
			}
			let mut weight = Weight::zero();
			while budget > 0 && head != tail {
				let Some(crowdfunding_id) = SettlementQueue::<T>::get(head) else {
					defensive!("a settlement queue position is empty");
					head = head.wrapping_add(1);
					continue;
				};
				let Some(mut info) = Crowdfundings::<T>::get(crowdfunding_id) else {
					defensive!("an unknown crowdfunding is queued for settlement");
					SettlementQueue::<T>::remove(head);
					head = head.wrapping_add(1);
					continue;
				};
				let processed = Self::process_contributions(crowdfunding_id, &mut info, budget);
				budget.saturating_reduce(processed);
				weight.saturating_accrue(T::WeightInfo::on_initialize_settle(processed));
				if info.contributors == 0 {
					SettlementQueue::<T>::remove(head);
					head = head.wrapping_add(1);
					Self::settle_or_store(crowdfunding_id, info);
				} else {
					// Out of budget: it stays at the head of the queue.
					Crowdfundings::<T>::insert(crowdfunding_id, info);
				}
			}
			SettlementQueueRange::<T>::put((head, tail));
			weight
		}

		/// Process up to `budget` of the contribution records of the ended crowdfunding
		/// `crowdfunding_id`: refund them if it failed, delete them if it succeeded. Updates
		/// `info` (not stored). Returns the number of records processed.
		fn process_contributions(
			crowdfunding_id: CrowdfundingId,
			info: &mut CrowdfundingInfoOf<T>,
			budget: u32,
		) -> u32 {
			let escrow = Self::escrow_account(crowdfunding_id);
			let refund = info.status == CrowdfundingStatus::Failed;
			let mut processed = 0;
			let mut records = Contributions::<T>::drain_prefix(crowdfunding_id);
			while processed < budget && info.contributors > 0 {
				let Some((contributor, amount)) = records.next() else {
					defensive!("fewer contribution records than counted");
					info.contributors = 0;
					break;
				};
				processed += 1;
				info.contributors.saturating_dec();
				if !refund {
					continue;
				}
				let transferred = with_storage_layer(|| {
					T::Assets::transfer(info.asset.clone(), &escrow, &contributor, amount, Preservation::Expendable)
				});
				match transferred {
					Ok(_) => Self::deposit_event(Event::Refunded { crowdfunding_id, contributor, amount }),
					Err(error) => {
						UnclaimedRefunds::<T>::insert(crowdfunding_id, &contributor, amount);
						info.unclaimed.saturating_inc();
						Self::deposit_event(Event::RefundFailed { crowdfunding_id, contributor, amount, error });
					}
				}
			}
			processed
		}

		/// Pay the amount raised to the beneficiary, all or nothing. Emits
		/// [`Event::CrowdfundingPaidOut`] on success.
		fn pay_out(crowdfunding_id: CrowdfundingId, info: &CrowdfundingInfoOf<T>) -> DispatchResult {
			with_storage_layer(|| {
				T::Assets::transfer(
					info.asset.clone(),
					&Self::escrow_account(crowdfunding_id),
					&info.beneficiary,
					info.raised,
					Preservation::Expendable,
				)
			})?;
			Self::deposit_event(Event::CrowdfundingPaidOut {
				crowdfunding_id,
				beneficiary: info.beneficiary.clone(),
				amount: info.raised,
			});
			Ok(())
		}

		/// Append `crowdfunding_id` to the settlement queue.
		fn enqueue_settlement(crowdfunding_id: CrowdfundingId) {
			SettlementQueueRange::<T>::mutate(|(_, tail)| {
				SettlementQueue::<T>::insert(*tail, crowdfunding_id);
				*tail = tail.wrapping_add(1);
			});
		}

		/// Remove the ended crowdfunding `crowdfunding_id` if nothing remains to do for it
		/// (payout done or refunds all made, contribution records all processed), releasing its
		/// escrow account and emitting [`Event::CrowdfundingSettled`]; otherwise store `info`.
		fn settle_or_store(crowdfunding_id: CrowdfundingId, info: CrowdfundingInfoOf<T>) {
			let done = match info.status {
				CrowdfundingStatus::Succeeded { paid_out } => paid_out,
				CrowdfundingStatus::Failed => info.unclaimed == 0,
				CrowdfundingStatus::Upcoming | CrowdfundingStatus::Active => false,
			} && info.contributors == 0;
			if !done {
				Crowdfundings::<T>::insert(crowdfunding_id, info);
				return;
			}
			Crowdfundings::<T>::remove(crowdfunding_id);
			let escrow = Self::escrow_account(crowdfunding_id);
			if let Err(error) = frame_system::Pallet::<T>::dec_providers(&escrow) {
				// Only if something else (e.g. funds of a non-sufficient asset sent to the
				// escrow directly) still needs the account: it then keeps our reference.
				log::warn!(
					target: LOG_TARGET,
					"crowdfunding {crowdfunding_id}: escrow account keeps its provider: {error:?}",
				);
			}
			Self::deposit_event(Event::CrowdfundingSettled { crowdfunding_id });
		}

		/// Check the pallet's invariants:
		/// - each crowdfunding's `contributors` and `unclaimed` match its [`Contributions`] and
		///   [`UnclaimedRefunds`] entries, `contributors <= MaxContributors`;
		/// - before it ends, `raised` is the sum of its contributions, at most the hard cap;
		/// - upcoming ones are indexed at their start and end blocks, active ones at their end
		///   block, and the indexes hold nothing else;
		/// - ended ones with contribution records are queued exactly once, and the queue holds
		///   nothing else;
		/// - the escrow holds at least what the crowdfunding still owes.
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			use alloc::vec::Vec;
			let (head, tail) = SettlementQueueRange::<T>::get();
			let mut queued = Vec::new();
			let mut position = head;
			while position != tail {
				queued.push(SettlementQueue::<T>::get(position).ok_or("queue position empty")?);
				position = position.wrapping_add(1);
			}
			ensure!(SettlementQueue::<T>::iter().count() == queued.len(), "settlement queue entries outside its range");

			let (mut starting, mut ending) = (0usize, 0usize);
			for (id, info) in Crowdfundings::<T>::iter() {
				ensure!(id < NextCrowdfundingId::<T>::get(), "id not below NextCrowdfundingId");
				let contributions: Vec<_> = Contributions::<T>::iter_prefix_values(id).collect();
				ensure!(contributions.len() as u32 == info.contributors, "contributors count");
				ensure!(info.contributors <= T::MaxContributors::get(), "too many contributors");
				let unclaimed: Vec<_> = UnclaimedRefunds::<T>::iter_prefix_values(id).collect();
				ensure!(unclaimed.len() as u32 == info.unclaimed, "unclaimed count");
				let sum =
					|amounts: &[BalanceOf<T>]| amounts.iter().fold(BalanceOf::<T>::zero(), |a, b| a.saturating_add(*b));
				let is_queued = queued.iter().filter(|q| **q == id).count();
				let in_start = StartingAt::<T>::get(info.start).contains(&id);
				let in_end = EndingAt::<T>::get(info.end).contains(&id);
				let owed = match info.status {
					CrowdfundingStatus::Upcoming | CrowdfundingStatus::Active => {
						ensure!(sum(&contributions) == info.raised, "raised is not the sum");
						ensure!(info.raised <= info.hard_cap, "raised above the hard cap");
						ensure!(in_end, "not indexed at its end block");
						ensure!(is_queued == 0, "queued before its end");
						ensure!(info.unclaimed == 0, "unclaimed refunds before its end");
						let upcoming = info.status == CrowdfundingStatus::Upcoming;
						ensure!(in_start == upcoming, "start index inconsistent with status");
						starting += upcoming as usize;
						ending += 1;
						info.raised
					}
					CrowdfundingStatus::Succeeded { paid_out } => {
						ensure!(!in_start && !in_end, "ended but indexed");
						ensure!(is_queued == (info.contributors > 0) as usize, "queue membership");
						ensure!(info.unclaimed == 0, "unclaimed refunds of a success");
						if paid_out {
							Zero::zero()
						} else {
							info.raised
						}
					}
					CrowdfundingStatus::Failed => {
						ensure!(!in_start && !in_end, "ended but indexed");
						ensure!(is_queued == (info.contributors > 0) as usize, "queue membership");
						sum(&contributions).saturating_add(sum(&unclaimed))
					}
				};
				let escrow_balance = T::Assets::balance(info.asset.clone(), &Self::escrow_account(id));
				ensure!(escrow_balance >= owed, "escrow holds less than owed");
			}
			let indexed_start: usize = StartingAt::<T>::iter_values().map(|v| v.len()).sum();
			let indexed_end: usize = EndingAt::<T>::iter_values().map(|v| v.len()).sum();
			ensure!(indexed_start == starting, "start index holds other crowdfundings");
			ensure!(indexed_end == ending, "end index holds other crowdfundings");
			for (id, _, _) in Contributions::<T>::iter() {
				ensure!(Crowdfundings::<T>::contains_key(id), "contribution to unknown id");
			}
			for (id, _, _) in UnclaimedRefunds::<T>::iter() {
				ensure!(Crowdfundings::<T>::contains_key(id), "unclaimed refund of unknown id");
			}
			Ok(())
		}
	}
}
