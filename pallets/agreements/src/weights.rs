//! Weights for `pallet_agreements`
//!
//! ESTIMATED WEIGHTS, NOT MEASURED. These figures were written by hand from the storage accesses
//! of each call and the measured weights of comparable FRAME calls (e.g. `pallet_multisig`);
//! they have never been produced by running the benchmarks. The Herald node has no `benchmark`
//! subcommand yet. Once it has one (or with `frame-omni-bencher`), regenerate this file with:
//!
//! ```text
//! herald-node benchmark pallet --runtime <herald_runtime.wasm> --pallet pallet_agreements \
//!   --extrinsic '*' --steps 50 --repeat 20 --output pallets/agreements/src/weights.rs \
//!   --template <frame-weight-template.hbs>
//! ```
//!
//! The storage read/write counts below are exact for the code as written; the `ref_time` and
//! proof-size constants are estimates (proof sizes assume `MaxParties = 10`,
//! `MaxExpiringPerBlock = 50` and 32-byte account ids).

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions needed for `pallet_agreements`.
pub trait WeightInfo {
	fn propose(p: u32, ) -> Weight;
	fn sign() -> Weight;
	fn reject() -> Weight;
	fn on_initialize(n: u32, ) -> Weight;
}

/// Weights for `pallet_agreements` using the Substrate node and recommended hardware.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Agreements::NextAgreementId` (r:1 w:1)
	/// Proof: `Agreements::NextAgreementId` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Agreements::ExpiringAt` (r:1 w:1)
	/// Proof: `Agreements::ExpiringAt` (`max_values`: None, `max_size`: Some(215), added: 2690, mode: `MaxEncodedLen`)
	/// Storage: `Agreements::Agreements` (r:0 w:1)
	/// Proof: `Agreements::Agreements` (`max_values`: None, `max_size`: Some(735), added: 3210, mode: `MaxEncodedLen`)
	/// The range of component `p` is `[2, 10]`.
	fn propose(p: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `3680`
		// Minimum execution time: 22_000_000 picoseconds.
		Weight::from_parts(22_000_000, 3680)
			// Standard Error: estimated
			.saturating_add(Weight::from_parts(600_000, 0).saturating_mul(p.into()))
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(3_u64))
	}
	/// Storage: `Agreements::Agreements` (r:1 w:1)
	/// Proof: `Agreements::Agreements` (`max_values`: None, `max_size`: Some(735), added: 3210, mode: `MaxEncodedLen`)
	/// Storage: `Agreements::ExpiringAt` (r:1 w:1)
	/// Proof: `Agreements::ExpiringAt` (`max_values`: None, `max_size`: Some(215), added: 2690, mode: `MaxEncodedLen`)
	fn sign() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `900`
		//  Estimated: `4200`
		// Minimum execution time: 26_000_000 picoseconds.
		Weight::from_parts(27_000_000, 4200)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Agreements::Agreements` (r:1 w:1)
	/// Proof: `Agreements::Agreements` (`max_values`: None, `max_size`: Some(735), added: 3210, mode: `MaxEncodedLen`)
	/// Storage: `Agreements::ExpiringAt` (r:1 w:1)
	/// Proof: `Agreements::ExpiringAt` (`max_values`: None, `max_size`: Some(215), added: 2690, mode: `MaxEncodedLen`)
	fn reject() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `900`
		//  Estimated: `4200`
		// Minimum execution time: 24_000_000 picoseconds.
		Weight::from_parts(25_000_000, 4200)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Agreements::ExpiringAt` (r:1 w:1)
	/// Proof: `Agreements::ExpiringAt` (`max_values`: None, `max_size`: Some(215), added: 2690, mode: `MaxEncodedLen`)
	/// Storage: `Agreements::Agreements` (r:50 w:50)
	/// Proof: `Agreements::Agreements` (`max_values`: None, `max_size`: Some(735), added: 3210, mode: `MaxEncodedLen`)
	/// The range of component `n` is `[0, 50]`.
	fn on_initialize(n: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0 + n * (700 ±0)`
		//  Estimated: `3680 + n * (3210 ±0)`
		// Minimum execution time: 3_000_000 picoseconds.
		Weight::from_parts(4_000_000, 3680)
			// Standard Error: estimated
			.saturating_add(Weight::from_parts(12_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes(1_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 3210).saturating_mul(n.into()))
	}
}

// For backwards compatibility and tests.
impl WeightInfo for () {
	fn propose(p: u32, ) -> Weight {
		Weight::from_parts(22_000_000, 3680)
			.saturating_add(Weight::from_parts(600_000, 0).saturating_mul(p.into()))
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(3_u64))
	}
	fn sign() -> Weight {
		Weight::from_parts(27_000_000, 4200)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn reject() -> Weight {
		Weight::from_parts(25_000_000, 4200)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn on_initialize(n: u32, ) -> Weight {
		Weight::from_parts(4_000_000, 3680)
			.saturating_add(Weight::from_parts(12_000_000, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
			.saturating_add(RocksDbWeight::get().writes((1_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 3210).saturating_mul(n.into()))
	}
}
