//! Weights for `pallet_dao`
//!
//! ESTIMATED WEIGHTS, NOT MEASURED. These figures were written by hand from the storage accesses
//! of each call and the measured weights of comparable FRAME calls (e.g. `pallet_balances`,
//! `pallet_multisig`); they have never been produced by running the benchmarks. The Herald node
//! has no `benchmark` subcommand yet. Once it has one (or with `frame-omni-bencher`), regenerate
//! this file with:
//!
//! ```text
//! herald-node benchmark pallet --runtime <herald_runtime.wasm> --pallet pallet_dao \
//!   --extrinsic '*' --steps 50 --repeat 20 --output pallets/dao/src/weights.rs \
//!   --template <frame-weight-template.hbs>
//! ```
//!
//! The storage read/write counts below are exact for the code as written; the `ref_time` and
//! proof-size constants are estimates.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions needed for `pallet_dao`.
pub trait WeightInfo {
	fn create_dao(m: u32, ) -> Weight;
	fn add_member() -> Weight;
	fn remove_member() -> Weight;
	fn transfer_admin() -> Weight;
	fn update_metadata(m: u32, ) -> Weight;
}

/// Weights for `pallet_dao` using the Substrate node and recommended hardware.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Dao::NextDaoId` (r:1 w:1)
	/// Proof: `Dao::NextDaoId` (`max_values`: Some(1), `max_size`: Some(4), added: 499, mode: `MaxEncodedLen`)
	/// Storage: `Dao::Daos` (r:0 w:1)
	/// Proof: `Dao::Daos` (`max_values`: None, `max_size`: Some(315), added: 2790, mode: `MaxEncodedLen`)
	/// The range of component `m` is `[0, 256]`.
	fn create_dao(m: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0`
		//  Estimated: `1489`
		// Minimum execution time: 12_000_000 picoseconds.
		Weight::from_parts(13_000_000, 1489)
			// Standard Error: estimated
			.saturating_add(Weight::from_parts(2_000, 0).saturating_mul(m.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Dao::Daos` (r:1 w:1)
	/// Proof: `Dao::Daos` (`max_values`: None, `max_size`: Some(315), added: 2790, mode: `MaxEncodedLen`)
	/// Storage: `Dao::Members` (r:1 w:1)
	/// Proof: `Dao::Members` (`max_values`: None, `max_size`: Some(68), added: 2543, mode: `MaxEncodedLen`)
	fn add_member() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `300`
		//  Estimated: `3780`
		// Minimum execution time: 17_000_000 picoseconds.
		Weight::from_parts(18_000_000, 3780)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Dao::Daos` (r:1 w:1)
	/// Proof: `Dao::Daos` (`max_values`: None, `max_size`: Some(315), added: 2790, mode: `MaxEncodedLen`)
	/// Storage: `Dao::Members` (r:1 w:1)
	/// Proof: `Dao::Members` (`max_values`: None, `max_size`: Some(68), added: 2543, mode: `MaxEncodedLen`)
	fn remove_member() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `370`
		//  Estimated: `3780`
		// Minimum execution time: 18_000_000 picoseconds.
		Weight::from_parts(19_000_000, 3780)
			.saturating_add(T::DbWeight::get().reads(2_u64))
			.saturating_add(T::DbWeight::get().writes(2_u64))
	}
	/// Storage: `Dao::Daos` (r:1 w:1)
	/// Proof: `Dao::Daos` (`max_values`: None, `max_size`: Some(315), added: 2790, mode: `MaxEncodedLen`)
	fn transfer_admin() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `300`
		//  Estimated: `3780`
		// Minimum execution time: 13_000_000 picoseconds.
		Weight::from_parts(14_000_000, 3780)
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
	/// Storage: `Dao::Daos` (r:1 w:1)
	/// Proof: `Dao::Daos` (`max_values`: None, `max_size`: Some(315), added: 2790, mode: `MaxEncodedLen`)
	/// The range of component `m` is `[0, 256]`.
	fn update_metadata(m: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `300`
		//  Estimated: `3780`
		// Minimum execution time: 13_000_000 picoseconds.
		Weight::from_parts(14_000_000, 3780)
			// Standard Error: estimated
			.saturating_add(Weight::from_parts(2_000, 0).saturating_mul(m.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().writes(1_u64))
	}
}

// For backwards compatibility and tests.
impl WeightInfo for () {
	fn create_dao(m: u32, ) -> Weight {
		Weight::from_parts(13_000_000, 1489)
			.saturating_add(Weight::from_parts(2_000, 0).saturating_mul(m.into()))
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn add_member() -> Weight {
		Weight::from_parts(18_000_000, 3780)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn remove_member() -> Weight {
		Weight::from_parts(19_000_000, 3780)
			.saturating_add(RocksDbWeight::get().reads(2_u64))
			.saturating_add(RocksDbWeight::get().writes(2_u64))
	}
	fn transfer_admin() -> Weight {
		Weight::from_parts(14_000_000, 3780)
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
	fn update_metadata(m: u32, ) -> Weight {
		Weight::from_parts(14_000_000, 3780)
			.saturating_add(Weight::from_parts(2_000, 0).saturating_mul(m.into()))
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
	}
}
