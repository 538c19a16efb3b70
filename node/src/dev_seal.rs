//! Development block production (`--sealing instant|manual`): blocks are sealed on demand and finalized by the
//! seal engine instead of by Aura and GRANDPA.
//!
//! The runtime still runs `pallet-aura`, which wants an Aura pre-digest whose slot grows with every block and
//! matches the block's timestamp. Sealed blocks therefore carry one (from [`AuraConsensusDataProvider`]), and
//! their timestamps come from [`DevClock`], which never lets a block's slot repeat its parent's.

use std::sync::{
	atomic::{AtomicU64, Ordering},
	Arc,
};

use futures::{channel::mpsc, future::BoxFuture, FutureExt};
use herald_runtime::{opaque::Block, Hash};
use sc_consensus_manual_seal::{
	consensus::aura::AuraConsensusDataProvider, EngineCommand, InstantSealParams, ManualSealParams,
};
use sc_service::error::Error as ServiceError;
use sp_consensus_aura::sr25519::{AuthorityId as AuraId, AuthoritySignature};

use crate::{
	cli::Sealing,
	service::{FullClient, FullPool, FullSelectChain},
};

type ProposerFactory = sc_basic_authorship::ProposerFactory<FullPool, FullClient>;

/// Hands out block timestamps (ms) for sealed blocks: the wall clock, but always at least one slot after the
/// parent's slot (so Aura accepts the block even when blocks are sealed faster than one per slot) and always
/// later than any timestamp handed out before (so sibling blocks of a fork differ in content and hash).
struct DevClock {
	slot_duration_ms: u64,
	last_issued_ms: AtomicU64,
}

impl DevClock {
	fn next(&self, parent_slot: u64) -> u64 {
		let now_ms = std::time::SystemTime::now()
			.duration_since(std::time::UNIX_EPOCH)
			.map(|d| d.as_millis() as u64)
			.unwrap_or_default();
		let after_parent = (parent_slot + 1) * self.slot_duration_ms;
		let mut last = self.last_issued_ms.load(Ordering::SeqCst);
		loop {
			let next = now_ms.max(after_parent).max(last + 1);
			match self.last_issued_ms.compare_exchange(last, next, Ordering::SeqCst, Ordering::SeqCst) {
				Ok(_) => return next,
				Err(actual) => last = actual,
			}
		}
	}
}

/// The future that seals blocks: on every new pool transaction (`Instant`, each block finalized at once) or on
/// every `engine_*` RPC command (`Manual`).
pub fn authorship_task(
	sealing: Sealing,
	client: Arc<FullClient>,
	pool: Arc<FullPool>,
	select_chain: FullSelectChain,
	proposer_factory: ProposerFactory,
	commands_stream: mpsc::Receiver<EngineCommand<Hash>>,
) -> Result<BoxFuture<'static, ()>, ServiceError> {
	let slot_duration = sc_consensus_aura::slot_duration::<AuraId, _, _>(&*client)?;
	let clock = Arc::new(DevClock { slot_duration_ms: slot_duration.as_millis(), last_issued_ms: AtomicU64::new(0) });
	let cidp_client = client.clone();
	let create_inherent_data_providers = move |parent_hash: Hash, ()| {
		let clock = clock.clone();
		let client = cidp_client.clone();
		async move {
			let parent =
				client.header(parent_hash)?.ok_or_else(|| format!("parent block {parent_hash} is not known"))?;
			let parent_slot = sc_consensus_aura::find_pre_digest::<Block, AuthoritySignature>(&parent)?;
			let timestamp = clock.next(*parent_slot);
			Ok(sp_timestamp::InherentDataProvider::new(timestamp.into()))
		}
	};
	let consensus_data_provider = || {
		Some(Box::new(AuraConsensusDataProvider::new_with_slot_duration(slot_duration))
			as Box<dyn sc_consensus_manual_seal::ConsensusDataProvider<Block>>)
	};

	Ok(match sealing {
		Sealing::Manual => sc_consensus_manual_seal::run_manual_seal(ManualSealParams {
			block_import: client.clone(),
			env: proposer_factory,
			client,
			pool,
			commands_stream,
			select_chain,
			consensus_data_provider: consensus_data_provider(),
			create_inherent_data_providers,
		})
		.boxed(),
		Sealing::Instant => sc_consensus_manual_seal::run_instant_seal_and_finalize(InstantSealParams {
			block_import: client.clone(),
			env: proposer_factory,
			client,
			pool,
			select_chain,
			consensus_data_provider: consensus_data_provider(),
			create_inherent_data_providers,
		})
		.boxed(),
	})
}
