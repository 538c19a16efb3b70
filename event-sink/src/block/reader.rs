//! Reading one block from the node's database: its events (decoded with the metadata of the runtime that
//! executed it: the runtime in its parent's state), its timestamp, and its envelopes.
//!
//! Reading is split in two: [`BlockReader::load`] reads the database in chain order (it knows the previous
//! block's runtime), and the [`LoadedBlock`] it returns decodes the events and writes the envelopes, the costly
//! part, on any thread ([`crate::encode_pool`]).

use std::{collections::HashMap, marker::PhantomData, sync::Arc};

use sc_client_api::{Backend, BlockBackend, StorageProvider};
use sp_api::{CallApiAt, CallContext, Metadata, ProvideRuntimeApi};
use sp_blockchain::HeaderBackend;
use sp_runtime::traits::{Block as BlockT, Header as HeaderT, NumberFor, UniqueSaturatedInto};
use sp_storage::StorageKey;

use serde_json::Value as Json;

use crate::{
	block::{
		decode::EventDecoder,
		storage::{decode_timestamp, system_events_storage_key, timestamp_storage_key},
	},
	contract::{diff, Contract, Routing as ContractRouting, RuntimeLabel},
	encode_pool::LoadedBlock,
	envelope::{
		assemble::{block_envelopes, BlockData, Routing},
		json::hex0x,
		route::{InfrastructureRoutes, RuntimeRoutes},
	},
	error::SinkError,
	follow::BlockLink,
	mapping::Mappings,
};

/// What a follower needs to read blocks. Implemented over the node's client, and by tests. Implemented over the node's client, and by tests.
pub trait BlockReader: Send {
	type Hash: Copy + Eq + std::hash::Hash + std::fmt::Debug + AsRef<[u8]> + Send + Sync + 'static;

	/// The chain's genesis hash, `0x`-hex (`meta.chain`).
	fn chain(&self) -> &str;
	/// Reads what `block`'s envelopes are made of (blocks are loaded in chain order); the returned job writes
	/// them. `finalized` when it ships as final.
	fn load(&mut self, block: &BlockLink<Self::Hash>, finalized: bool) -> Result<LoadedBlock, SinkError>;
}

/// What one runtime's blocks are decoded and routed with, prepared once per runtime.
struct Runtime<H> {
	code_hash: H,
	/// Its metadata, to compare its contract with the next runtime's at an upgrade.
	metadata: Vec<u8>,
	decoder: EventDecoder,
	routes: RuntimeRoutes,
}

/// What every block's envelopes are made with.
struct Shared {
	chain: String,
	mappings: Mappings,
	/// Only for `RuntimeUpgraded`'s change summary, whose details name the topics as Kafka's consumers see them.
	topic_prefix: String,
	infrastructure: InfrastructureRoutes,
}

/// Metadata versions the decoder understands, newest first.
const METADATA_VERSIONS: [u32; 3] = [16, 15, 14];

/// Reads blocks from the node's client.
pub struct ClientBlockReader<B: BlockT, C, BE> {
	client: Arc<C>,
	backend: Arc<BE>,
	shared: Arc<Shared>,
	/// One decoder and route table per runtime code (by the hash of `:code`, so that two runtimes that share a
	/// `spec_version`, e.g. after `set_code_without_checks` or a forgotten bump, never share a decoder); there
	/// are few, and each is reused for every block its runtime executed.
	runtimes: HashMap<B::Hash, Arc<Runtime<B::Hash>>>,
	/// `RuntimeUpgraded`'s change summary, by (old, new) runtime code: computed once per upgrade.
	changes: HashMap<(B::Hash, B::Hash), Arc<Json>>,
	/// The last block read and the `spec_version` that executed it, to know the previous runtime without asking
	/// the grandparent's state again.
	last: Option<(B::Hash, u32)>,
	_block: PhantomData<B>,
}

impl<B, C, BE> ClientBlockReader<B, C, BE>
where
	B: BlockT,
	BE: Backend<B>,
	C: HeaderBackend<B> + BlockBackend<B> + StorageProvider<B, BE> + ProvideRuntimeApi<B> + CallApiAt<B>,
	C: Send + Sync + 'static,
	C::Api: Metadata<B>,
{
	/// A reader that names, types and routes envelopes by `mappings`; `topic_prefix` is the Kafka topic prefix
	/// that `RuntimeUpgraded`'s change summary names topics with (part of the envelope, so every output gets it).
	pub fn new(client: Arc<C>, backend: Arc<BE>, mappings: Mappings, topic_prefix: String) -> Self {
		let shared = Arc::new(Shared {
			chain: hex0x(client.info().genesis_hash),
			infrastructure: InfrastructureRoutes::new(&mappings),
			mappings,
			topic_prefix,
		});
		Self {
			client,
			backend,
			shared,
			runtimes: HashMap::new(),
			changes: HashMap::new(),
			last: None,
			_block: PhantomData,
		}
	}

	/// The `spec_version` of the runtime in `hash`'s state.
	fn spec_version_in(&self, hash: B::Hash) -> Result<u32, SinkError> {
		CallApiAt::runtime_version_at(&*self.client, hash, CallContext::Offchain)
			.map(|version| version.spec_version)
			.map_err(SinkError::database)
	}

	/// The decoder and routes of the runtime in `state`'s state, whose version is `spec_version`.
	fn runtime(&mut self, state: B::Hash, number: u64, spec_version: u32) -> Result<Arc<Runtime<B::Hash>>, SinkError> {
		// The trie keeps the hash of a large value: this does not read the code itself.
		let code = StorageKey(b":code".to_vec()); // sp_storage::well_known_keys::CODE
		let code_hash = self.client.storage_hash(state, &code).map_err(SinkError::database)?.ok_or_else(|| {
			SinkError::Metadata { number, reason: "the state the block was executed in has no runtime code".into() }
		})?;
		if let Some(runtime) = self.runtimes.get(&code_hash) {
			return Ok(runtime.clone());
		}
		let metadata_error = |reason: String| SinkError::Metadata { number, reason };
		let api = self.client.runtime_api();
		let offered = api.metadata_versions(state).map_err(|e| metadata_error(e.to_string()))?;
		let version = METADATA_VERSIONS.into_iter().find(|v| offered.contains(v)).ok_or_else(|| {
			metadata_error(format!("the runtime offers metadata versions {offered:?}, the sink decodes 14 to 16"))
		})?;
		let metadata = api
			.metadata_at_version(state, version)
			.map_err(|e| metadata_error(e.to_string()))?
			.ok_or_else(|| metadata_error(format!("metadata version {version} missing")))?;
		let decoder = EventDecoder::new(&metadata).map_err(|e| metadata_error(e.to_string()))?;
		let routes = RuntimeRoutes::new(&decoder, &self.shared.mappings);
		// A misspelled event in --kafka-mappings would silently fall back to the default mapping: say so, once per
		// runtime (a warning, not an error: a table may name events of another runtime version).
		if let Err(problems) = crate::mapping::check_references(&self.shared.mappings, &decoder) {
			for problem in problems {
				log::warn!(target: "herald::kafka", "event mappings, runtime spec_version {spec_version}: {problem}");
			}
		}
		log::info!(
			target: "herald::kafka",
			"decoding events of runtime spec_version {spec_version} (code {}) with metadata v{version}",
			hex0x(code_hash)
		);
		let runtime = Arc::new(Runtime { code_hash, metadata: metadata.to_vec(), decoder, routes });
		self.runtimes.insert(code_hash, runtime.clone());
		Ok(runtime)
	}

	/// How the shipped events' contracts changed from the runtime that executed `block`'s parent to `new` (which
	/// executed `block`): `RuntimeUpgraded`'s `changes`. `None`, with a warning, when the previous runtime's state
	/// is gone or a contract can't be built: the upgrade still ships, without its summary.
	fn runtime_changes(
		&mut self,
		block: &BlockLink<B::Hash>,
		from: u32,
		new: &Runtime<B::Hash>,
	) -> Result<Option<Arc<Json>>, SinkError> {
		let number = block.number;
		let parent = self
			.client
			.header(block.parent)
			.map_err(SinkError::database)?
			.ok_or_else(|| SinkError::Database(format!("the header of block #{} is missing", number - 1)))?;
		let grandparent = *parent.parent_hash();
		if !self.have_state(grandparent, number.saturating_sub(2)) {
			log::warn!(
				target: "herald::kafka",
				"block #{number}: RuntimeUpgraded ships without its change summary: the state of the previous runtime \
				 (block #{}) is pruned",
				number.saturating_sub(2)
			);
			return Ok(None);
		}
		let old = self.runtime(grandparent, number - 1, from)?;
		if let Some(changes) = self.changes.get(&(old.code_hash, new.code_hash)) {
			return Ok(Some(changes.clone()));
		}
		let routing = ContractRouting {
			mappings: self.shared.mappings.clone(),
			topic_prefix: self.shared.topic_prefix.clone(),
			partitions: 1,
			brokers: None,
		};
		let build = |metadata: &[u8]| Contract::build(metadata, RuntimeLabel::default(), routing.clone());
		let changes = match (build(&old.metadata), build(&new.metadata)) {
			(Ok(before), Ok(after)) => Arc::new(diff::to_json(&diff::compare(&before, &after))),
			(Err(error), _) | (_, Err(error)) => {
				log::warn!(
					target: "herald::kafka",
					"block #{number}: RuntimeUpgraded ships without its change summary: a contract can't be built \
					 ({error})"
				);
				return Ok(None);
			}
		};
		log::info!(
			target: "herald::kafka",
			"runtime upgrade at block #{number}: {} shipped events changed (RuntimeUpgraded's `changes`)",
			changes.as_array().map_or(0, Vec::len)
		);
		self.changes.insert((old.code_hash, new.code_hash), changes.clone());
		Ok(Some(changes))
	}

	fn storage(&self, hash: B::Hash, key: Vec<u8>) -> Result<Option<Vec<u8>>, SinkError> {
		self.client.storage(hash, &StorageKey(key)).map(|value| value.map(|data| data.0)).map_err(SinkError::database)
	}

	fn have_state(&self, hash: B::Hash, number: u64) -> bool {
		let block_number: NumberFor<B> = number.unique_saturated_into();
		self.backend.have_state_at(hash, block_number)
	}
}

impl<B, C, BE> BlockReader for ClientBlockReader<B, C, BE>
where
	B: BlockT,
	BE: Backend<B> + Send + Sync + 'static,
	C: HeaderBackend<B> + BlockBackend<B> + StorageProvider<B, BE> + ProvideRuntimeApi<B> + CallApiAt<B>,
	C: Send + Sync + 'static,
	C::Api: Metadata<B>,
{
	type Hash = B::Hash;

	fn chain(&self) -> &str {
		&self.shared.chain
	}

	fn load(&mut self, block: &BlockLink<B::Hash>, finalized: bool) -> Result<LoadedBlock, SinkError> {
		let (number, hash) = (block.number, block.hash);
		if !self.have_state(hash, number) {
			return Err(SinkError::Pruned { number });
		}
		// A block is executed by the runtime in its parent's state (genesis has no parent: its own), so a block
		// that runs `set_code` is still decoded, and labelled, with the old runtime.
		let executed_in = if number == 0 { hash } else { block.parent };
		if number > 0 && !self.have_state(block.parent, number - 1) {
			return Err(SinkError::Pruned { number: number - 1 });
		}
		let spec_version = self.spec_version_in(executed_in)?;
		let previous_spec_version = match self.last {
			_ if number <= 1 => None,
			Some((last, version)) if last == block.parent => Some(version),
			_ => {
				let parent =
					self.client.header(block.parent).map_err(SinkError::database)?.ok_or_else(|| {
						SinkError::Database(format!("the header of block #{} is missing", number - 1))
					})?;
				Some(self.spec_version_in(*parent.parent_hash())?)
			}
		};
		self.last = Some((hash, spec_version));

		let runtime = self.runtime(executed_in, number, spec_version)?;
		let runtime_changes = match previous_spec_version {
			Some(from) if from != spec_version => self.runtime_changes(block, from, &runtime)?,
			_ => None,
		};
		let events = self.storage(hash, system_events_storage_key())?.unwrap_or_default();
		let timestamp = match self.storage(hash, timestamp_storage_key())? {
			Some(raw) => Some(decode_timestamp(&raw).map_err(SinkError::Database)?),
			None => None,
		};
		let (client, shared, parent) = (self.client.clone(), self.shared.clone(), block.parent);
		Ok(LoadedBlock::new(move || {
			if crate::faults::at("encode-panic", number) {
				panic!("test fault encode-panic@{number} (HERALD_TEST_FAULTS)");
			}
			let events = runtime.decoder.decode_events(&events);
			// Counted from the events; the body is read only when some did not decode.
			let extrinsics_count = events.extrinsics_count().or_else(|| match client.block_body(hash) {
				Ok(body) => body.map(|body| body.len() as u32),
				Err(error) => {
					log::warn!(target: "herald::kafka", "block #{number}: its body can't be read ({error}); extrinsics_count 0");
					None
				}
			});
			let data = BlockData {
				chain: &shared.chain,
				number,
				hash: hex0x(hash),
				parent_hash: hex0x(parent),
				spec_version,
				previous_spec_version,
				runtime_changes,
				timestamp,
				extrinsics_count,
				finalized,
				events: &events,
			};
			let routing =
				Routing { events: &runtime.routes, infrastructure: &shared.infrastructure, mappings: &shared.mappings };
			block_envelopes(&data, &routing)
		}))
	}
}
