//! Runtime-level checks of the configuration against the generated weights.

use frame_support::{traits::Get, weights::Weight};

use super::Runtime;

/// The timed hooks of Herald's pallets run before any extrinsic. Their caps (`MaxPerBlock`,
/// `MaxRefundsPerBlock`, `MaxExpiringPerBlock`) must keep even the worst block's hooks a small share of
/// the block, measured with the benchmarked weights, so transactions are never crowded out.
#[test]
fn worst_case_timed_hooks_take_at_most_a_tenth_of_a_block() {
	use pallet_agreements::WeightInfo as _;
	use pallet_crowdfunding::WeightInfo as _;
	type Crowdfunding = pallet_crowdfunding::weights::SubstrateWeight<Runtime>;
	type Agreements = pallet_agreements::weights::SubstrateWeight<Runtime>;

	let per_block: u32 = <Runtime as pallet_crowdfunding::Config>::MaxPerBlock::get();
	let refunds: u32 = <Runtime as pallet_crowdfunding::Config>::MaxRefundsPerBlock::get();
	let expiring: u32 = <Runtime as pallet_agreements::Config>::MaxExpiringPerBlock::get();

	// Every start and end slot of the block full, the end slot priced once as all succeeded and once as all
	// failed (an upper bound for any mix), a full settlement batch, and a full expiry slot.
	let worst: Weight = Crowdfunding::on_initialize_activate(per_block)
		.saturating_add(Crowdfunding::on_initialize_finish_succeeded(per_block))
		.saturating_add(Crowdfunding::on_initialize_finish_failed(per_block))
		.saturating_add(Crowdfunding::on_initialize_settle(refunds))
		.saturating_add(Agreements::on_initialize(expiring));

	let max_block = <Runtime as frame_system::Config>::BlockWeights::get().max_block;
	let budget = max_block / 10;
	assert!(
		worst.all_lte(budget),
		"worst-case hooks weigh {worst:?}, more than a tenth of the block ({budget:?}): lower the caps"
	);
}
