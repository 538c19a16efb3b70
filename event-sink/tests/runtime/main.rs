//! Tests against the real Herald runtime (compiled natively, `SKIP_WASM_BUILD=1`): its metadata, and events
//! built from its own `RuntimeEvent` type, SCALE-encoded as `System::Events` stores them. One test binary with
//! several modules, so the runtime is linked once.

mod completeness;
mod contracts;
mod decode;
mod envelope;

use codec::Encode;
use frame_system::{EventRecord, Phase};
use herald_runtime::{Runtime, RuntimeEvent};
use sp_core::{crypto::AccountId32, H256};

/// The runtime's metadata at `version`, as the `Metadata_metadata_at_version` runtime API returns it (the
/// contents of its `OpaqueMetadata`).
pub fn metadata(version: u32) -> Vec<u8> {
	Runtime::metadata_at_version(version)
		.unwrap_or_else(|| panic!("the runtime offers metadata version {version}"))
		.to_vec()
}

/// The metadata versions the runtime offers that the decoder supports.
pub fn supported_versions() -> Vec<u32> {
	Runtime::metadata_versions().into_iter().filter(|v| (14..=16).contains(v)).collect()
}

pub fn account(byte: u8) -> AccountId32 {
	AccountId32::new([byte; 32])
}

pub fn record(phase: Phase, event: RuntimeEvent, topics: Vec<H256>) -> EventRecord<RuntimeEvent, H256> {
	EventRecord { phase, event, topics }
}

/// A block's events: a Balances transfer in extrinsic 1 (with a topic), an asset created in extrinsic 2 with
/// a balance too big for a JSON number, a new account during initialization, an extrinsic failure and a
/// deposit during finalization.
pub fn sample_records() -> Vec<EventRecord<RuntimeEvent, H256>> {
	use frame_support::dispatch::{DispatchClass, Pays};
	use sp_runtime::{DispatchError, ModuleError};
	vec![
		record(
			Phase::Initialization,
			RuntimeEvent::System(frame_system::Event::NewAccount { account: account(3) }),
			vec![],
		),
		record(
			Phase::ApplyExtrinsic(1),
			RuntimeEvent::Balances(pallet_balances::Event::Transfer {
				from: account(1),
				to: account(2),
				amount: 5_000,
			}),
			vec![H256::repeat_byte(0xab)],
		),
		record(
			Phase::ApplyExtrinsic(2),
			RuntimeEvent::Assets(pallet_assets::Event::Created { asset_id: 7, creator: account(1), owner: account(2) }),
			vec![],
		),
		record(
			Phase::ApplyExtrinsic(2),
			RuntimeEvent::Assets(pallet_assets::Event::Issued {
				asset_id: 7,
				owner: account(2),
				amount: 10u128.pow(30),
			}),
			vec![],
		),
		record(
			Phase::ApplyExtrinsic(3),
			RuntimeEvent::System(frame_system::Event::ExtrinsicFailed {
				dispatch_error: DispatchError::Module(ModuleError { index: 7, error: [3, 0, 0, 0], message: None }),
				dispatch_info: frame_system::DispatchEventInfo {
					weight: frame_support::weights::Weight::from_parts(1_000, 64),
					class: DispatchClass::Normal,
					pays_fee: Pays::Yes,
				},
			}),
			vec![],
		),
		record(
			Phase::Finalization,
			RuntimeEvent::Balances(pallet_balances::Event::Deposit { who: account(4), amount: 1 }),
			vec![],
		),
	]
}

/// `records` as the raw `System::Events` storage value.
pub fn encoded(records: &[EventRecord<RuntimeEvent, H256>]) -> Vec<u8> {
	records.to_vec().encode()
}

/// `0x` followed by `byte` 32 times: the JSON of an account or hash made of that byte.
pub fn hex32(byte: u8) -> String {
	format!("0x{}", hex::encode([byte; 32]))
}
