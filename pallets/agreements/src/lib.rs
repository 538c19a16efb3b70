//! # Agreements Pallet
//!
//! Contract agreements between several parties: one party proposes the hash of the terms, every
//! party signs, and once the last one has signed the agreement is in force.
//!
//! ## Overview
//!
//! An agreement binds 2 to [`Config::MaxParties`] distinct accounts to the document whose hash is
//! `terms_hash` (the document itself stays off chain). Its life:
//!
//! 1. A party [`propose`](Pallet::propose)s it, naming all the parties (itself included), the
//!    terms hash and an expiry block. **The proposer must be one of the parties, and proposing
//!    counts as the proposer's signature**: a proposal is an offer its author is bound by. (An
//!    account that merely brokers an agreement between others cannot propose it; one of the
//!    parties has to.)
//! 2. The other parties [`sign`](Pallet::sign). When the last party signs, the agreement is **in
//!    force**: it stays in storage with status [`AgreementStatus::InForce`].
//! 3. Before that, any party may [`reject`](Pallet::reject) it; it is then removed.
//! 4. If it is still pending at its expiry block, it **expires** in that block's
//!    `on_initialize` and is removed. The expiry block is the first block in which the
//!    agreement can no longer be signed; it must be after the current block and at most
//!    [`Config::MaxAgreementDuration`] blocks after it.
//!
//! Agreement ids are `u32`s allocated from [`NextAgreementId`], starting at 0. Every event names
//! the `agreement_id` it concerns.
//!
//! ## Bounded expiry
//!
//! Pending agreements are indexed by expiry block in [`ExpiringAt`], at most
//! [`Config::MaxExpiringPerBlock`] per block; a proposal whose expiry block is full is refused
//! ([`Error::TooManyExpiringAtBlock`]: pick another block). `on_initialize` only reads the
//! current block's entry, so it does at most `MaxExpiringPerBlock` expiries and returns the
//! weight of the work done ([`WeightInfo::on_initialize`]). Agreements leaving the pending state
//! (signed or rejected) are taken out of the index at once.
//!
//! ## Dispatchable functions
//!
//! - [`propose`](Pallet::propose): propose an agreement (and sign it as the proposer).
//! - [`sign`](Pallet::sign): sign a pending agreement one is a party of.
//! - [`reject`](Pallet::reject): reject a pending agreement one is a party of.
//!
//! ## Events
//!
//! - [`ContractAgreementProposed`](Event::ContractAgreementProposed), followed by
//!   [`ContractAgreementPartySigned`](Event::ContractAgreementPartySigned) for the proposer.
//! - [`ContractAgreementPartySigned`](Event::ContractAgreementPartySigned) for each signature.
//! - [`ContractAgreementSigned`](Event::ContractAgreementSigned) when the last party signed.
//! - [`ContractAgreementRejected`](Event::ContractAgreementRejected)
//! - [`ContractAgreementExpired`](Event::ContractAgreementExpired)
//!
//! ## Errors
//!
//! See [`Error`]: too few or too many parties, duplicate parties, proposer not a party, expiry
//! not in the future or too far, expiry block full, unknown agreement, caller not a party,
//! already signed, agreement not pending, agreement ids exhausted.

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

	/// Configuration of the agreements pallet.
	///
	/// The event type is taken from `frame_system::Config::RuntimeEvent` (the pallet macro adds
	/// the `From<Event<Self>>` bound), so there is no `RuntimeEvent` item here.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The maximum number of parties of one agreement (at least 2).
		#[pallet::constant]
		type MaxParties: Get<u32>;

		/// The maximum number of pending agreements expiring at the same block: bounds the work
		/// of `on_initialize`.
		#[pallet::constant]
		type MaxExpiringPerBlock: Get<u32>;

		/// The maximum number of blocks between a proposal and its expiry.
		#[pallet::constant]
		type MaxAgreementDuration: Get<BlockNumberFor<Self>>;

		/// Weight information for the extrinsics and hooks of this pallet.
		type WeightInfo: WeightInfo;
	}

	/// The id the next proposed agreement will get.
	#[pallet::storage]
	pub type NextAgreementId<T> = StorageValue<_, AgreementId, ValueQuery>;

	/// The pending agreements and those in force, by id.
	#[pallet::storage]
	pub type Agreements<T: Config> = StorageMap<_, Blake2_128Concat, AgreementId, Agreement<T>, OptionQuery>;

	/// The pending agreements by expiry block: at most [`Config::MaxExpiringPerBlock`] per
	/// block.
	#[pallet::storage]
	pub type ExpiringAt<T: Config> =
		StorageMap<_, Twox64Concat, BlockNumberFor<T>, BoundedVec<AgreementId, T::MaxExpiringPerBlock>, ValueQuery>;

	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// An agreement was proposed. A [`Event::ContractAgreementPartySigned`] for the proposer
		/// follows.
		ContractAgreementProposed {
			/// The new agreement.
			agreement_id: AgreementId,
			/// The party that proposed it.
			proposer: T::AccountId,
			/// All its parties, proposer included.
			parties: PartiesOf<T>,
			/// The hash of the terms.
			terms_hash: T::Hash,
			/// The block at which it expires unless fully signed before.
			expiry: BlockNumberFor<T>,
		},
		/// A party signed an agreement (the proposer signs by proposing).
		ContractAgreementPartySigned {
			/// The agreement.
			agreement_id: AgreementId,
			/// The party that signed.
			party: T::AccountId,
			/// The number of parties that have signed so far.
			signatures: u32,
			/// The number of parties.
			required: u32,
		},
		/// The last party signed: the agreement is in force.
		ContractAgreementSigned {
			/// The agreement.
			agreement_id: AgreementId,
			/// The hash of the terms now in force.
			terms_hash: T::Hash,
		},
		/// A party rejected a pending agreement; it was removed.
		ContractAgreementRejected {
			/// The agreement.
			agreement_id: AgreementId,
			/// The party that rejected it.
			by: T::AccountId,
		},
		/// A pending agreement reached its expiry block without every signature; it was removed.
		ContractAgreementExpired {
			/// The agreement.
			agreement_id: AgreementId,
			/// The number of parties that had signed.
			signatures: u32,
			/// The number of parties.
			required: u32,
		},
	}

	#[pallet::error]
	pub enum Error<T> {
		/// An agreement needs at least two parties.
		TooFewParties,
		/// More than `MaxParties` parties.
		TooManyParties,
		/// An account appears more than once among the parties.
		DuplicateParty,
		/// The proposer must be one of the parties.
		ProposerNotParty,
		/// The expiry block must be after the current block.
		ExpiryInPast,
		/// The expiry block is more than `MaxAgreementDuration` blocks away.
		ExpiryTooFar,
		/// `MaxExpiringPerBlock` agreements already expire at this block; choose another expiry.
		TooManyExpiringAtBlock,
		/// No pending or in-force agreement has this id (it may have been rejected or expired).
		UnknownAgreement,
		/// The caller is not a party of the agreement.
		NotParty,
		/// The caller already signed the agreement.
		AlreadySigned,
		/// The agreement is no longer pending (it is in force).
		NotPending,
		/// All `u32` agreement ids have been allocated.
		AgreementIdsExhausted,
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		/// Expire the agreements still pending at their expiry block `n`: at most
		/// `MaxExpiringPerBlock` of them.
		fn on_initialize(n: BlockNumberFor<T>) -> Weight {
			let expiring = ExpiringAt::<T>::take(n);
			let count = expiring.len() as u32;
			for agreement_id in expiring {
				match Agreements::<T>::take(agreement_id) {
					Some(agreement) if agreement.status == AgreementStatus::Pending => {
						Self::deposit_event(Event::ContractAgreementExpired {
							agreement_id,
							signatures: agreement.signed.len() as u32,
							required: agreement.parties.len() as u32,
						});
					}
					Some(agreement) => {
						// Agreements leave the index when they stop being pending.
						defensive!("an agreement in force was indexed for expiry");
						Agreements::<T>::insert(agreement_id, agreement);
					}
					None => {
						defensive!("an unknown agreement was indexed for expiry");
					}
				}
			}
			T::WeightInfo::on_initialize(count)
		}

		fn integrity_test() {
			assert!(T::MaxParties::get() >= 2, "`MaxParties` must be at least 2");
			assert!(T::MaxExpiringPerBlock::get() > 0, "`MaxExpiringPerBlock` must be positive");
			assert!(!T::MaxAgreementDuration::get().is_zero(), "`MaxAgreementDuration` must be positive");
		}

		#[cfg(feature = "try-runtime")]
		fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
			Self::do_try_state()
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Propose an agreement between `parties` over the terms hashed to `terms_hash`, to be
		/// fully signed before block `expiry`.
		///
		/// The caller must be one of `parties`; proposing counts as its signature. `parties`
		/// must hold 2 to `MaxParties` distinct accounts. `expiry` must be after the current
		/// block, at most `MaxAgreementDuration` blocks away, and fewer than
		/// `MaxExpiringPerBlock` agreements may already expire at it.
		///
		/// Emits [`Event::ContractAgreementProposed`] then
		/// [`Event::ContractAgreementPartySigned`] for the proposer.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::propose(
			(parties.len() as u32).min(T::MaxParties::get())
		))]
		pub fn propose(
			origin: OriginFor<T>,
			parties: Vec<T::AccountId>,
			terms_hash: T::Hash,
			expiry: BlockNumberFor<T>,
		) -> DispatchResult {
			let proposer = ensure_signed(origin)?;

			ensure!(parties.len() >= 2, Error::<T>::TooFewParties);
			let parties: PartiesOf<T> = parties.try_into().map_err(|_| Error::<T>::TooManyParties)?;
			let mut sorted = parties.clone().into_inner();
			sorted.sort();
			ensure!(sorted.windows(2).all(|w| w[0] != w[1]), Error::<T>::DuplicateParty);
			ensure!(parties.contains(&proposer), Error::<T>::ProposerNotParty);

			let now = frame_system::Pallet::<T>::block_number();
			ensure!(expiry > now, Error::<T>::ExpiryInPast);
			ensure!(expiry.saturating_sub(now) <= T::MaxAgreementDuration::get(), Error::<T>::ExpiryTooFar);

			let agreement_id = NextAgreementId::<T>::get();
			let next_id = agreement_id.checked_add(1).ok_or(Error::<T>::AgreementIdsExhausted)?;
			ExpiringAt::<T>::try_mutate(expiry, |ids| ids.try_push(agreement_id))
				.map_err(|_| Error::<T>::TooManyExpiringAtBlock)?;
			NextAgreementId::<T>::put(next_id);

			let required = parties.len() as u32;
			let signed: PartiesOf<T> = BoundedVec::truncate_from(alloc::vec![proposer.clone()]);
			Agreements::<T>::insert(
				agreement_id,
				Agreement {
					proposer: proposer.clone(),
					parties: parties.clone(),
					signed,
					terms_hash,
					expiry,
					status: AgreementStatus::Pending,
				},
			);

			Self::deposit_event(Event::ContractAgreementProposed {
				agreement_id,
				proposer: proposer.clone(),
				parties,
				terms_hash,
				expiry,
			});
			Self::deposit_event(Event::ContractAgreementPartySigned {
				agreement_id,
				party: proposer,
				signatures: 1,
				required,
			});
			Ok(())
		}

		/// Sign the pending agreement `agreement_id`, of which the caller is a party that has not
		/// signed yet.
		///
		/// Emits [`Event::ContractAgreementPartySigned`]; if the caller was the last party to
		/// sign, the agreement is in force and [`Event::ContractAgreementSigned`] follows.
		#[pallet::call_index(1)]
		#[pallet::weight(T::WeightInfo::sign())]
		pub fn sign(origin: OriginFor<T>, agreement_id: AgreementId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			Agreements::<T>::try_mutate(agreement_id, |maybe_agreement| -> DispatchResult {
				let agreement = maybe_agreement.as_mut().ok_or(Error::<T>::UnknownAgreement)?;
				ensure!(agreement.parties.contains(&who), Error::<T>::NotParty);
				ensure!(agreement.status == AgreementStatus::Pending, Error::<T>::NotPending);
				ensure!(!agreement.signed.contains(&who), Error::<T>::AlreadySigned);

				// Cannot fail: `signed` is a strict subset of `parties`, so shorter than the bound.
				agreement.signed.try_push(who.clone()).map_err(|_| Error::<T>::TooManyParties)?;
				let signatures = agreement.signed.len() as u32;
				let required = agreement.parties.len() as u32;
				Self::deposit_event(Event::ContractAgreementPartySigned {
					agreement_id,
					party: who,
					signatures,
					required,
				});

				if signatures == required {
					agreement.status = AgreementStatus::InForce;
					Self::unindex_expiry(agreement_id, agreement.expiry);
					Self::deposit_event(Event::ContractAgreementSigned {
						agreement_id,
						terms_hash: agreement.terms_hash,
					});
				}
				Ok(())
			})
		}

		/// Reject the pending agreement `agreement_id`, of which the caller is a party (whether
		/// or not it signed; the proposer may withdraw its proposal this way). The agreement is
		/// removed.
		///
		/// Emits [`Event::ContractAgreementRejected`].
		#[pallet::call_index(2)]
		#[pallet::weight(T::WeightInfo::reject())]
		pub fn reject(origin: OriginFor<T>, agreement_id: AgreementId) -> DispatchResult {
			let who = ensure_signed(origin)?;
			let agreement = Agreements::<T>::get(agreement_id).ok_or(Error::<T>::UnknownAgreement)?;
			ensure!(agreement.parties.contains(&who), Error::<T>::NotParty);
			ensure!(agreement.status == AgreementStatus::Pending, Error::<T>::NotPending);

			Agreements::<T>::remove(agreement_id);
			Self::unindex_expiry(agreement_id, agreement.expiry);
			Self::deposit_event(Event::ContractAgreementRejected { agreement_id, by: who });
			Ok(())
		}
	}

	impl<T: Config> Pallet<T> {
		/// Whether agreement `agreement_id` is in force (every party signed).
		pub fn is_in_force(agreement_id: AgreementId) -> bool {
			Agreements::<T>::get(agreement_id).is_some_and(|agreement| agreement.status == AgreementStatus::InForce)
		}

		/// Take `agreement_id` out of the expiry index of block `expiry`.
		fn unindex_expiry(agreement_id: AgreementId, expiry: BlockNumberFor<T>) {
			ExpiringAt::<T>::mutate_exists(expiry, |maybe_ids| {
				if let Some(ids) = maybe_ids {
					ids.retain(|id| *id != agreement_id);
					if ids.is_empty() {
						*maybe_ids = None;
					}
				}
			});
		}

		/// Check the pallet's invariants: parties are 2..=`MaxParties` distinct accounts
		/// including the proposer; signers are distinct parties; an agreement is in force iff
		/// every party signed; each pending agreement is indexed exactly once, at its expiry
		/// block, and the index holds nothing else; ids are below [`NextAgreementId`].
		#[cfg(any(feature = "try-runtime", test))]
		pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
			let next = NextAgreementId::<T>::get();
			let mut pending = 0usize;
			for (agreement_id, agreement) in Agreements::<T>::iter() {
				ensure!(agreement_id < next, "agreement id not below NextAgreementId");
				let parties = &agreement.parties;
				ensure!(parties.len() >= 2, "fewer than two parties");
				let mut sorted = parties.clone().into_inner();
				sorted.sort();
				ensure!(sorted.windows(2).all(|w| w[0] != w[1]), "duplicate parties");
				ensure!(parties.contains(&agreement.proposer), "proposer not a party");
				ensure!(agreement.signed.contains(&agreement.proposer), "proposer did not sign");
				ensure!(agreement.signed.iter().all(|s| parties.contains(s)), "non-party signer");
				let mut signers = agreement.signed.clone().into_inner();
				signers.sort();
				ensure!(signers.windows(2).all(|w| w[0] != w[1]), "duplicate signer");
				let complete = agreement.signed.len() == parties.len();
				let indexed = ExpiringAt::<T>::get(agreement.expiry).iter().filter(|id| **id == agreement_id).count();
				match agreement.status {
					AgreementStatus::Pending => {
						ensure!(!complete, "pending agreement fully signed");
						ensure!(indexed == 1, "pending agreement not indexed once at its expiry");
						pending += 1;
					}
					AgreementStatus::InForce => {
						ensure!(complete, "agreement in force not fully signed");
						ensure!(indexed == 0, "agreement in force indexed for expiry");
					}
				}
			}
			let indexed: usize = ExpiringAt::<T>::iter_values().map(|ids| ids.len()).sum();
			ensure!(indexed == pending, "expiry index holds non-pending agreements");
			Ok(())
		}
	}
}
