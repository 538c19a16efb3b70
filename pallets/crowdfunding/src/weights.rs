//! Weights for `pallet_crowdfunding`
//!
//! ESTIMATED WEIGHTS, NOT MEASURED. These figures were written by hand from the storage accesses
//! of each call and hook and the measured weights of comparable FRAME operations (a
//! `pallet_assets` transfer between existing accounts with account creation is about 60-75 µs
//! and reads/writes 4 items: `Assets::Asset`, two `Assets::Account`, `System::Account`); they
//! have never been produced by running the benchmarks. The Herald node has no `benchmark`
//! subcommand yet. Once it has one (or with `frame-omni-bencher`), regenerate this file with:
//!
//! ```text
//! herald-node benchmark pallet --runtime <herald_runtime.wasm> --pallet pallet_crowdfunding \
//!   --extrinsic '*' --steps 50 --repeat 20 --output pallets/crowdfunding/src/weights.rs \
//!   --template <frame-weight-template.hbs>
//! ```
//!
//! The storage read/write counts are upper bounds for the worst case (a `pallet-assets` asset,
//! accounts created); the `ref_time` and proof-size constants are estimates.
//!
//! The hook functions are summed by `on_initialize`: `on_initialize_activate(a)`,
//! `on_initialize_finish_succeeded(s)` and `on_initialize_finish_failed(f)` for the `a`
//! crowdfundings starting and the `s + f` ending at the block, plus `on_initialize_settle(r)` for
//! each queued crowdfunding whose `r` contribution records were processed.

#![cfg_attr(rustfmt, rustfmt_skip)]
#![allow(unused_parens)]
#![allow(unused_imports)]
#![allow(missing_docs)]

use frame_support::{traits::Get, weights::{Weight, constants::RocksDbWeight}};
use core::marker::PhantomData;

/// Weight functions needed for `pallet_crowdfunding`.
pub trait WeightInfo {
	fn create() -> Weight;
	fn contribute() -> Weight;
	fn retry_payout() -> Weight;
	fn claim_refund() -> Weight;
	fn on_initialize_activate(n: u32, ) -> Weight;
	fn on_initialize_finish_succeeded(n: u32, ) -> Weight;
	fn on_initialize_finish_failed(n: u32, ) -> Weight;
	fn on_initialize_settle(r: u32, ) -> Weight;
}

/// Weights for `pallet_crowdfunding` using the Substrate node and recommended hardware.
pub struct SubstrateWeight<T>(PhantomData<T>);
impl<T: frame_system::Config> WeightInfo for SubstrateWeight<T> {
	/// Storage: `Dao::Daos` (r:1 w:0)
	/// Storage: `Assets::Asset` (r:1 w:0)
	/// Storage: `Crowdfunding::NextCrowdfundingId` (r:1 w:1)
	/// Storage: `Crowdfunding::StartingAt` (r:1 w:1)
	/// Storage: `Crowdfunding::EndingAt` (r:1 w:1)
	/// Storage: `System::Account` (r:1 w:1)
	/// Storage: `Crowdfunding::Crowdfundings` (r:0 w:1)
	fn create() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `600`
		//  Estimated: `4300`
		// Minimum execution time: 45_000_000 picoseconds.
		Weight::from_parts(48_000_000, 4300)
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().writes(5_u64))
	}
	/// Storage: `Crowdfunding::Crowdfundings` (r:1 w:1)
	/// Storage: `Crowdfunding::Contributions` (r:1 w:1)
	/// Storage: `Assets::Asset` (r:1 w:1)
	/// Storage: `Assets::Account` (r:2 w:2)
	/// Storage: `System::Account` (r:2 w:1)
	fn contribute() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `900`
		//  Estimated: `7200`
		// Minimum execution time: 75_000_000 picoseconds.
		Weight::from_parts(80_000_000, 7200)
			.saturating_add(T::DbWeight::get().reads(7_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	/// Storage: `Crowdfunding::Crowdfundings` (r:1 w:1)
	/// Storage: `Assets::Asset` (r:1 w:1)
	/// Storage: `Assets::Account` (r:2 w:2)
	/// Storage: `System::Account` (r:2 w:2)
	fn retry_payout() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `900`
		//  Estimated: `7200`
		// Minimum execution time: 80_000_000 picoseconds.
		Weight::from_parts(85_000_000, 7200)
			.saturating_add(T::DbWeight::get().reads(6_u64))
			.saturating_add(T::DbWeight::get().writes(6_u64))
	}
	/// Storage: `Crowdfunding::UnclaimedRefunds` (r:1 w:1)
	/// Storage: `Crowdfunding::Crowdfundings` (r:1 w:1)
	/// Storage: `Assets::Asset` (r:1 w:1)
	/// Storage: `Assets::Account` (r:2 w:2)
	/// Storage: `System::Account` (r:2 w:2)
	fn claim_refund() -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `1000`
		//  Estimated: `7200`
		// Minimum execution time: 85_000_000 picoseconds.
		Weight::from_parts(90_000_000, 7200)
			.saturating_add(T::DbWeight::get().reads(7_u64))
			.saturating_add(T::DbWeight::get().writes(7_u64))
	}
	/// Storage: `Crowdfunding::StartingAt` (r:1 w:1)
	/// Storage: `Crowdfunding::Crowdfundings` (r:10 w:10)
	/// The range of component `n` is `[0, 10]`.
	fn on_initialize_activate(n: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0 + n * (300 ±0)`
		//  Estimated: `1500 + n * (2800 ±0)`
		// Minimum execution time: 3_000_000 picoseconds.
		Weight::from_parts(4_000_000, 1500)
			// Standard Error: estimated
			.saturating_add(Weight::from_parts(10_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes(1_u64))
			.saturating_add(T::DbWeight::get().writes((1_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 2800).saturating_mul(n.into()))
	}
	/// Storage: `Crowdfunding::EndingAt` (r:1 w:1)
	/// Storage: `Crowdfunding::Crowdfundings` (r:10 w:10)
	/// Storage: `Assets::Asset` (r:10 w:10)
	/// Storage: `Assets::Account` (r:20 w:20)
	/// Storage: `System::Account` (r:20 w:20)
	/// Storage: `Crowdfunding::SettlementQueueRange` (r:10 w:10)
	/// Storage: `Crowdfunding::SettlementQueue` (r:0 w:10)
	/// The range of component `n` is `[0, 10]`.
	fn on_initialize_finish_succeeded(n: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0 + n * (900 ±0)`
		//  Estimated: `1500 + n * (7200 ±0)`
		// Minimum execution time: 3_000_000 picoseconds.
		Weight::from_parts(4_000_000, 1500)
			// Standard Error: estimated
			.saturating_add(Weight::from_parts(80_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().reads((7_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes(1_u64))
			.saturating_add(T::DbWeight::get().writes((8_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 7200).saturating_mul(n.into()))
	}
	/// Storage: `Crowdfunding::EndingAt` (r:1 w:1)
	/// Storage: `Crowdfunding::Crowdfundings` (r:10 w:10)
	/// Storage: `Crowdfunding::SettlementQueueRange` (r:10 w:10)
	/// Storage: `Crowdfunding::SettlementQueue` (r:0 w:10)
	/// The range of component `n` is `[0, 10]`.
	fn on_initialize_finish_failed(n: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `0 + n * (300 ±0)`
		//  Estimated: `1500 + n * (2800 ±0)`
		// Minimum execution time: 3_000_000 picoseconds.
		Weight::from_parts(4_000_000, 1500)
			// Standard Error: estimated
			.saturating_add(Weight::from_parts(15_000_000, 0).saturating_mul(n.into()))
			.saturating_add(T::DbWeight::get().reads(1_u64))
			.saturating_add(T::DbWeight::get().reads((2_u64).saturating_mul(n.into())))
			.saturating_add(T::DbWeight::get().writes(1_u64))
			.saturating_add(T::DbWeight::get().writes((3_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 2800).saturating_mul(n.into()))
	}
	/// Storage: `Crowdfunding::SettlementQueueRange` (r:1 w:1)
	/// Storage: `Crowdfunding::SettlementQueue` (r:1 w:1)
	/// Storage: `Crowdfunding::Crowdfundings` (r:1 w:1)
	/// Storage: `Crowdfunding::Contributions` (r:51 w:50)
	/// Storage: `Assets::Asset` (r:1 w:1)
	/// Storage: `Assets::Account` (r:51 w:51)
	/// Storage: `System::Account` (r:51 w:51)
	/// The range of component `r` is `[1, 50]`.
	fn on_initialize_settle(r: u32, ) -> Weight {
		// Proof Size summary in bytes:
		//  Measured:  `900 + r * (250 ±0)`
		//  Estimated: `4300 + r * (2600 ±0)`
		// Minimum execution time: 20_000_000 picoseconds.
		Weight::from_parts(22_000_000, 4300)
			// Standard Error: estimated
			.saturating_add(Weight::from_parts(65_000_000, 0).saturating_mul(r.into()))
			.saturating_add(T::DbWeight::get().reads(5_u64))
			.saturating_add(T::DbWeight::get().reads((3_u64).saturating_mul(r.into())))
			.saturating_add(T::DbWeight::get().writes(5_u64))
			.saturating_add(T::DbWeight::get().writes((3_u64).saturating_mul(r.into())))
			.saturating_add(Weight::from_parts(0, 2600).saturating_mul(r.into()))
	}
}

// For backwards compatibility and tests.
impl WeightInfo for () {
	fn create() -> Weight {
		Weight::from_parts(48_000_000, 4300)
			.saturating_add(RocksDbWeight::get().reads(6_u64))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
	}
	fn contribute() -> Weight {
		Weight::from_parts(80_000_000, 7200)
			.saturating_add(RocksDbWeight::get().reads(7_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
	}
	fn retry_payout() -> Weight {
		Weight::from_parts(85_000_000, 7200)
			.saturating_add(RocksDbWeight::get().reads(6_u64))
			.saturating_add(RocksDbWeight::get().writes(6_u64))
	}
	fn claim_refund() -> Weight {
		Weight::from_parts(90_000_000, 7200)
			.saturating_add(RocksDbWeight::get().reads(7_u64))
			.saturating_add(RocksDbWeight::get().writes(7_u64))
	}
	fn on_initialize_activate(n: u32, ) -> Weight {
		Weight::from_parts(4_000_000, 1500)
			.saturating_add(Weight::from_parts(10_000_000, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().reads((1_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
			.saturating_add(RocksDbWeight::get().writes((1_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 2800).saturating_mul(n.into()))
	}
	fn on_initialize_finish_succeeded(n: u32, ) -> Weight {
		Weight::from_parts(4_000_000, 1500)
			.saturating_add(Weight::from_parts(80_000_000, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().reads((7_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
			.saturating_add(RocksDbWeight::get().writes((8_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 7200).saturating_mul(n.into()))
	}
	fn on_initialize_finish_failed(n: u32, ) -> Weight {
		Weight::from_parts(4_000_000, 1500)
			.saturating_add(Weight::from_parts(15_000_000, 0).saturating_mul(n.into()))
			.saturating_add(RocksDbWeight::get().reads(1_u64))
			.saturating_add(RocksDbWeight::get().reads((2_u64).saturating_mul(n.into())))
			.saturating_add(RocksDbWeight::get().writes(1_u64))
			.saturating_add(RocksDbWeight::get().writes((3_u64).saturating_mul(n.into())))
			.saturating_add(Weight::from_parts(0, 2800).saturating_mul(n.into()))
	}
	fn on_initialize_settle(r: u32, ) -> Weight {
		Weight::from_parts(22_000_000, 4300)
			.saturating_add(Weight::from_parts(65_000_000, 0).saturating_mul(r.into()))
			.saturating_add(RocksDbWeight::get().reads(5_u64))
			.saturating_add(RocksDbWeight::get().reads((3_u64).saturating_mul(r.into())))
			.saturating_add(RocksDbWeight::get().writes(5_u64))
			.saturating_add(RocksDbWeight::get().writes((3_u64).saturating_mul(r.into())))
			.saturating_add(Weight::from_parts(0, 2600).saturating_mul(r.into()))
	}
}
