//! The pallets `herald-node benchmark pallet` can measure, by name (`--pallet pallet_dao`, …).
//!
//! `define_benchmarks!` generates the `list_benchmarks!` and `add_benchmarks!` macros that the
//! `frame_benchmarking::Benchmark` runtime API in `apis.rs` expands.

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, BaselineBench::<Runtime>]
	[frame_system, SystemBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_assets, Assets]
	[pallet_dao, Dao]
	[pallet_agreements, Agreements]
	[pallet_crowdfunding, Crowdfunding]
);
