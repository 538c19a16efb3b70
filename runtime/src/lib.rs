//! # Herald runtime
//!
//! The runtime of the Herald chain: FRAME's system pallets (System, Timestamp, Aura, Grandpa, Balances,
//! TransactionPayment, Sudo), fungible assets (`pallet-assets`) and Herald's domain pallets.
//!
//! Its events are what the Herald node ships to Kafka; the node reads them from `System::Events` and decodes them
//! with the metadata this runtime exposes, so nothing here knows about Kafka.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime`/`#[runtime]` expands to a large recursive type.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

/// A second build of this runtime with the `upgrade-fixture` feature (`spec_version` + 1, `Dao.DaoCreated` with
/// an extra field), for the node's runtime-upgrade test. Built only with `HERALD_UPGRADE_FIXTURE=1` (the scripts
/// set it); `WASM_BINARY` is `None` otherwise.
#[cfg(feature = "std")]
pub mod upgrade_fixture {
	include!(concat!(env!("OUT_DIR"), "/upgrade_fixture"));
}

extern crate alloc;

use alloc::vec::Vec;

// Before `apis`: it defines the `list_benchmarks!`/`add_benchmarks!` macros the `Benchmark` runtime API uses.
#[cfg(feature = "runtime-benchmarks")]
#[macro_use]
mod benchmarks;
pub mod apis;
mod configs;
pub mod genesis_config_presets;
#[cfg(test)]
mod tests;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use frame_support::{construct_runtime, parameter_types};
pub use frame_system::Call as SystemCall;
pub use pallet_assets::Call as AssetsCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// An index to a block.
pub type BlockNumber = u32;

/// Alias to 512-bit hash when used in the context of a transaction signature on the chain.
pub type Signature = MultiSignature;

/// Some way of identifying an account on the chain: the public key of the signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;

/// Balance of an account (native token or a `pallet-assets` asset).
pub type Balance = u128;

/// Index of a transaction in the chain.
pub type Nonce = u32;

/// A hash of some data used by the chain.
pub type Hash = sp_core::H256;

/// Identifier of a `pallet-assets` asset.
pub type AssetId = u32;

/// Opaque types: what the node's client machinery needs without knowing this runtime's extrinsic format.
pub mod opaque {
	use super::*;
	use sp_runtime::generic;

	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
}

impl_opaque_keys! {
	/// The session keys of a Herald validator.
	pub struct SessionKeys {
		pub aura: Aura,
		pub grandpa: Grandpa,
	}
}

/// The runtime's version. Bump `spec_version` with every change of logic: the event sink decodes each block with
/// the metadata of the `spec_version` it was built with.
#[cfg(not(feature = "upgrade-fixture"))]
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("herald"),
	impl_name: alloc::borrow::Cow::Borrowed("herald"),
	authoring_version: 1,
	spec_version: 100,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// The runtime-upgrade test's fixture (`upgrade-fixture`, see `build.rs`): the same runtime one `spec_version` on.
#[cfg(feature = "upgrade-fixture")]
#[sp_version::runtime_version]
pub const VERSION: RuntimeVersion = RuntimeVersion {
	spec_name: alloc::borrow::Cow::Borrowed("herald"),
	impl_name: alloc::borrow::Cow::Borrowed("herald"),
	authoring_version: 1,
	spec_version: 101,
	impl_version: 1,
	apis: apis::RUNTIME_API_VERSIONS,
	transaction_version: 1,
	system_version: 1,
};

/// Average block time targeted by Aura. Blocks are produced at most every `SLOT_DURATION`.
pub const MILLISECS_PER_BLOCK: u64 = 6000;

/// Aura's slot duration. It cannot change after the chain has started.
pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;

/// Time measured in blocks.
pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
pub const HOURS: BlockNumber = MINUTES * 60;
pub const DAYS: BlockNumber = HOURS * 24;

/// One unit of the native token (12 decimals).
pub const UNIT: Balance = 1_000_000_000_000;
pub const MILLI_UNIT: Balance = 1_000_000_000;
pub const MICRO_UNIT: Balance = 1_000_000;

/// Existential deposit of the native token.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;

/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;

/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// The transaction extensions every signed extrinsic carries, in order. Clients building extrinsics (the node's
/// tests, wallets) must supply the same tuple.
pub type TxExtension = (
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic = generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Migrations to run on runtime upgrade, aside from the ones declared in the pallets.
#[allow(unused_parens)]
type Migrations = ();

/// Executive: dispatches calls to the pallets and runs their hooks.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

// The runtime, composed of the configured pallets. Pallet indices are part of the encoding of calls and events:
// never reuse or reorder them.
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
	pub struct Runtime;

	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	#[runtime::pallet_index(3)]
	pub type Grandpa = pallet_grandpa;

	#[runtime::pallet_index(4)]
	pub type Balances = pallet_balances;

	#[runtime::pallet_index(5)]
	pub type TransactionPayment = pallet_transaction_payment;

	#[runtime::pallet_index(6)]
	pub type Sudo = pallet_sudo;

	#[runtime::pallet_index(7)]
	pub type Assets = pallet_assets;

	#[runtime::pallet_index(10)]
	pub type Dao = pallet_dao;

	#[runtime::pallet_index(11)]
	pub type Agreements = pallet_agreements;

	#[runtime::pallet_index(12)]
	pub type Crowdfunding = pallet_crowdfunding;
}
