//! Test runtime for the agreements pallet: `frame_system`, `pallet_balances` and the pallet.

use crate as pallet_agreements;
use frame_support::{
	derive_impl,
	traits::{ConstU32, ConstU64},
};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

pub type AccountId = u64;

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
pub const DAVE: AccountId = 4;

/// `MaxParties` of the test runtime.
pub const MAX_PARTIES: u32 = 4;
/// `MaxExpiringPerBlock` of the test runtime.
pub const MAX_EXPIRING_PER_BLOCK: u32 = 2;
/// `MaxAgreementDuration` of the test runtime.
pub const MAX_DURATION: u64 = 100;

#[frame_support::runtime]
mod runtime {
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Test;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(2)]
	pub type Agreements = pallet_agreements;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountData = pallet_balances::AccountData<u64>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
}

impl pallet_agreements::Config for Test {
	type MaxParties = ConstU32<MAX_PARTIES>;
	type MaxExpiringPerBlock = ConstU32<MAX_EXPIRING_PER_BLOCK>;
	type MaxAgreementDuration = ConstU64<MAX_DURATION>;
	type WeightInfo = ();
}

/// Go to the next block: `on_finalize` of the current block, then `on_initialize` of the next.
/// Earlier events are cleared first, so that afterwards `System::events()` holds exactly the
/// events of the new block.
pub fn next_block() {
	let next = System::block_number() + 1;
	System::run_to_block_with::<AllPalletsWithSystem>(
		next,
		frame_system::RunToBlockHooks::default().before_initialize(|_| System::reset_events()),
	);
}

/// Go block by block to block `n` (see [`next_block`]).
pub fn run_to_block(n: u64) {
	while System::block_number() < n {
		next_block();
	}
}

/// Externalities with empty state at block 1 (so that events are recorded).
pub fn new_test_ext() -> sp_io::TestExternalities {
	let t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| System::set_block_number(1));
	ext
}

/// Run `test` in fresh externalities, then check the pallet's invariants.
pub fn test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Agreements::do_try_state().expect("pallet invariants hold");
	});
}
