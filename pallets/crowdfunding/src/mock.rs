//! Test runtime for the crowdfunding pallet: `frame_system`, `pallet_balances` (native token),
//! `pallet_assets`, `pallet_dao` (for DAO admins) and the pallet, with assets combined by
//! `UnionOf` as in the Herald runtime.

use crate as pallet_crowdfunding;
use frame_support::{
	derive_impl, parameter_types,
	traits::{
		fungible::{NativeFromLeft, NativeOrWithId, UnionOf},
		AsEnsureOriginWithArg, ConstU32, ConstU64,
	},
	PalletId,
};
use frame_system::{EnsureRoot, EnsureSigned};
use sp_runtime::{traits::IdentityLookup, BuildStorage};

type Block = frame_system::mocking::MockBlock<Test>;

/// `u128` rather than the usual `u64`: escrow accounts are `PalletId` sub-accounts ("modl", the 8
/// id bytes, then the crowdfunding id), which need 16 bytes to be distinct.
pub type AccountId = u128;
pub type Balance = u64;
pub type AssetKind = NativeOrWithId<u32>;

pub const ALICE: AccountId = 1;
pub const BOB: AccountId = 2;
pub const CHARLIE: AccountId = 3;
pub const DAVE: AccountId = 4;
/// The beneficiary used by most tests; it has no balance at genesis.
pub const BENEFICIARY: AccountId = 100;
/// Admin of the DAO created at genesis by [`new_test_ext`].
pub const DAO_ADMIN: AccountId = 50;
/// The DAO created at genesis by [`new_test_ext`].
pub const DAO_ID: u32 = 0;

/// Existential deposit of the native token.
pub const ED: Balance = 5;
/// A `pallet-assets` asset that is not sufficient: only accounts with a provider (e.g. a
/// native balance) can hold it.
pub const ASSET_ID: u32 = 7;
/// Minimum balance of [`ASSET_ID`].
pub const ASSET_MIN: Balance = 3;
/// Accounts `1..=FUNDED_ACCOUNTS` own [`INITIAL_BALANCE`] of the native token and of
/// [`ASSET_ID`].
pub const FUNDED_ACCOUNTS: AccountId = 20;
pub const INITIAL_BALANCE: Balance = 1_000;
/// Owner of [`ASSET_ID`] (it can freeze it).
pub const ASSET_OWNER: AccountId = 99;

/// `MaxPerBlock` of the test runtime.
pub const MAX_PER_BLOCK: u32 = 2;
/// `MaxRefundsPerBlock` of the test runtime.
pub const MAX_REFUNDS_PER_BLOCK: u32 = 3;
/// `MaxContributors` of the test runtime.
pub const MAX_CONTRIBUTORS: u32 = 8;

pub fn native() -> AssetKind {
	NativeOrWithId::Native
}

pub fn asset() -> AssetKind {
	NativeOrWithId::WithId(ASSET_ID)
}

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
	pub type Assets = pallet_assets;

	#[runtime::pallet_index(3)]
	pub type Dao = pallet_dao;

	#[runtime::pallet_index(4)]
	pub type Crowdfunding = pallet_crowdfunding;
}

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
	type AccountId = AccountId;
	type Lookup = IdentityLookup<AccountId>;
	type AccountData = pallet_balances::AccountData<Balance>;
}

#[derive_impl(pallet_balances::config_preludes::TestDefaultConfig)]
impl pallet_balances::Config for Test {
	type AccountStore = System;
	type ExistentialDeposit = ConstU64<ED>;
}

#[derive_impl(pallet_assets::config_preludes::TestDefaultConfig)]
impl pallet_assets::Config for Test {
	type Currency = Balances;
	type CreateOrigin = AsEnsureOriginWithArg<EnsureSigned<AccountId>>;
	type ForceOrigin = EnsureRoot<AccountId>;
}

impl pallet_dao::Config for Test {
	type MaxMembers = ConstU32<3>;
	type MaxMetadataLen = ConstU32<16>;
	type WeightInfo = ();
}

parameter_types! {
	pub const CrowdfundingPalletId: PalletId = PalletId(*b"py/crwdf");
}

/// The native token and `pallet-assets` assets as one `fungibles` implementation.
pub type NativeAndAssets = UnionOf<Balances, Assets, NativeFromLeft, AssetKind, AccountId>;

impl pallet_crowdfunding::Config for Test {
	type AssetKind = AssetKind;
	type Assets = NativeAndAssets;
	type DaoAdmins = Dao;
	type PalletId = CrowdfundingPalletId;
	type MaxPerBlock = ConstU32<MAX_PER_BLOCK>;
	type MaxRefundsPerBlock = ConstU32<MAX_REFUNDS_PER_BLOCK>;
	type MaxContributors = ConstU32<MAX_CONTRIBUTORS>;
	type WeightInfo = ();
	#[cfg(feature = "runtime-benchmarks")]
	type BenchmarkHelper = ();
}

/// Externalities at block 1 (so that events are recorded) with accounts `1..=FUNDED_ACCOUNTS`
/// holding [`INITIAL_BALANCE`] of the native token and of [`ASSET_ID`], [`ASSET_OWNER`] holding
/// some native token, and DAO [`DAO_ID`] administered by [`DAO_ADMIN`].
pub fn new_test_ext() -> sp_io::TestExternalities {
	let mut t = frame_system::GenesisConfig::<Test>::default().build_storage().unwrap();
	pallet_balances::GenesisConfig::<Test> {
		balances: (1..=FUNDED_ACCOUNTS).chain([ASSET_OWNER, DAO_ADMIN]).map(|who| (who, INITIAL_BALANCE)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut t)
	.unwrap();
	pallet_assets::GenesisConfig::<Test> {
		assets: vec![(ASSET_ID, ASSET_OWNER, false, ASSET_MIN)],
		accounts: (1..=FUNDED_ACCOUNTS).map(|who| (ASSET_ID, who, INITIAL_BALANCE)).collect(),
		..Default::default()
	}
	.assimilate_storage(&mut t)
	.unwrap();
	let mut ext = sp_io::TestExternalities::new(t);
	ext.execute_with(|| {
		System::set_block_number(1);
		pallet_dao::Pallet::<Test>::do_create_dao(DAO_ADMIN, Default::default()).unwrap();
		System::reset_events();
	});
	ext
}

/// Run `test` in fresh externalities, then check the pallet's invariants.
pub fn test(test: impl FnOnce()) {
	new_test_ext().execute_with(|| {
		test();
		Crowdfunding::do_try_state().expect("pallet invariants hold");
	});
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

/// The crowdfunding pallet's events since the last reset, in order.
pub fn crowdfunding_events() -> Vec<crate::Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Crowdfunding(event) => Some(event),
			_ => None,
		})
		.collect()
}
