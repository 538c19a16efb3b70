//! Where blocks come from: the node's client. [`ClientBlockSource`] reads a finalized block's events, runtime
//! version and timestamp from the database and turns them into Kafka messages; [`follow_finality`] forwards
//! the finalized head from the client's notification streams without ever holding a notification.

use std::{collections::HashMap, marker::PhantomData, sync::Arc};

use codec::{Decode, Encode};
use futures::StreamExt;
use sc_client_api::{AuxStore, Backend, BlockBackend, BlockchainEvents, StorageProvider};
use sp_api::{CallApiAt, CallContext, Metadata, ProvideRuntimeApi};
use sp_blockchain::HeaderBackend;
use sp_runtime::traits::{Block as BlockT, Header as HeaderT, NumberFor, UniqueSaturatedInto};
use sp_storage::StorageKey;
use tokio::sync::watch;

use crate::{
	assemble::{block_messages, BlockData},
	config::{SinkConfig, StartFrom},
	cursor::{self, Cursor},
	decode::EventDecoder,
	envelope::OutgoingMessage,
	error::SinkError,
	json::hex0x,
	storage::{decode_timestamp, system_events_storage_key, timestamp_storage_key},
};

/// A block ready to ship: its messages, in order, each flagged when it carries a runtime event.
pub struct ShippableBlock<Hash> {
	pub number: u64,
	pub hash: Hash,
	pub messages: Vec<(OutgoingMessage, bool)>,
}

/// What the shipping loop needs from the chain. Implemented over the node's client, and by tests.
pub trait BlockSource: Send {
	type Hash: Copy + Send + Sync + std::fmt::Debug + 'static;

	/// The finalized head's number now.
	fn finalized_number(&self) -> u64;
	/// The first block to ship: after the stored cursor, or where `start_from` says.
	fn first_block_to_ship(&mut self, start_from: StartFrom) -> Result<u64, SinkError>;
	/// Reads finalized block `number` and builds its messages.
	fn read_block(&mut self, number: u64) -> Result<ShippableBlock<Self::Hash>, SinkError>;
	/// Persists the cursor (called only once every message up to it was acknowledged).
	fn store_cursor(&mut self, cursor: &Cursor<Self::Hash>) -> Result<(), SinkError>;
}

/// Metadata versions the decoder understands, newest first.
const METADATA_VERSIONS: [u32; 3] = [16, 15, 14];

/// Reads blocks from the node's client.
pub struct ClientBlockSource<B: BlockT, C, BE> {
	client: Arc<C>,
	backend: Arc<BE>,
	config: SinkConfig,
	chain: String,
	/// One decoder per runtime version; there are few, and each is reused for every block of its version.
	decoders: HashMap<u32, Arc<EventDecoder>>,
	/// The runtime version of the last block read, to notice upgrades without asking for the parent again.
	last_spec_version: Option<(u64, u32)>,
	_block: PhantomData<B>,
}

impl<B, C, BE> ClientBlockSource<B, C, BE>
where
	B: BlockT,
	BE: Backend<B>,
	C: HeaderBackend<B> + BlockBackend<B> + StorageProvider<B, BE> + AuxStore + ProvideRuntimeApi<B>,
	C: CallApiAt<B> + Send + Sync + 'static,
	C::Api: Metadata<B>,
{
	pub fn new(client: Arc<C>, backend: Arc<BE>, config: SinkConfig) -> Self {
		let chain = hex0x(client.info().genesis_hash);
		Self { client, backend, config, chain, decoders: HashMap::new(), last_spec_version: None, _block: PhantomData }
	}

	fn spec_version(&self, hash: B::Hash) -> Result<u32, SinkError> {
		CallApiAt::runtime_version_at(&*self.client, hash, CallContext::Offchain)
			.map(|version| version.spec_version)
			.map_err(SinkError::database)
	}

	fn decoder(&mut self, hash: B::Hash, number: u64, spec_version: u32) -> Result<Arc<EventDecoder>, SinkError> {
		if let Some(decoder) = self.decoders.get(&spec_version) {
			return Ok(decoder.clone());
		}
		let metadata_error = |reason: String| SinkError::Metadata { number, reason };
		let api = self.client.runtime_api();
		let offered = api.metadata_versions(hash).map_err(|e| metadata_error(e.to_string()))?;
		let version = METADATA_VERSIONS.into_iter().find(|v| offered.contains(v)).ok_or_else(|| {
			metadata_error(format!("the runtime offers metadata versions {offered:?}, the sink decodes 14 to 16"))
		})?;
		let metadata = api
			.metadata_at_version(hash, version)
			.map_err(|e| metadata_error(e.to_string()))?
			.ok_or_else(|| metadata_error(format!("metadata version {version} missing")))?;
		let decoder = Arc::new(EventDecoder::new(&metadata).map_err(|e| metadata_error(e.to_string()))?);
		log::info!(
			target: "herald::kafka",
			"decoding events of runtime spec_version {spec_version} with metadata v{version}"
		);
		self.decoders.insert(spec_version, decoder.clone());
		Ok(decoder)
	}

	fn storage(&self, hash: B::Hash, key: Vec<u8>) -> Result<Option<Vec<u8>>, SinkError> {
		self.client.storage(hash, &StorageKey(key)).map(|value| value.map(|data| data.0)).map_err(SinkError::database)
	}
}

impl<B, C, BE> BlockSource for ClientBlockSource<B, C, BE>
where
	B: BlockT,
	BE: Backend<B> + Send + Sync + 'static,
	C: HeaderBackend<B> + BlockBackend<B> + StorageProvider<B, BE> + AuxStore + ProvideRuntimeApi<B>,
	C: CallApiAt<B> + Send + Sync + 'static,
	C::Api: Metadata<B>,
	B::Hash: Encode + Decode,
{
	type Hash = B::Hash;

	fn finalized_number(&self) -> u64 {
		self.client.info().finalized_number.unique_saturated_into()
	}

	fn first_block_to_ship(&mut self, start_from: StartFrom) -> Result<u64, SinkError> {
		let stored = cursor::load::<B, _>(&*self.client)?;
		self.last_spec_version = None;
		cursor::first_block_to_ship(&*self.client, stored, start_from)
	}

	fn read_block(&mut self, number: u64) -> Result<ShippableBlock<B::Hash>, SinkError> {
		let block_number: NumberFor<B> = number.unique_saturated_into();
		let hash = self
			.client
			.hash(block_number)
			.map_err(SinkError::database)?
			.ok_or_else(|| SinkError::Database(format!("block #{number} is not in the database")))?;
		if !self.backend.have_state_at(hash, block_number) {
			return Err(SinkError::Pruned { number });
		}
		let header = self
			.client
			.header(hash)
			.map_err(SinkError::database)?
			.ok_or_else(|| SinkError::Database(format!("the header of block #{number} is missing")))?;

		let spec_version = self.spec_version(hash)?;
		let previous_spec_version = match self.last_spec_version {
			Some((last, version)) if last + 1 == number => Some(version),
			_ if number == 0 => None,
			_ => Some(self.spec_version(*header.parent_hash())?),
		};
		self.last_spec_version = Some((number, spec_version));

		let decoder = self.decoder(hash, number, spec_version)?;
		let events = decoder.decode_events(&self.storage(hash, system_events_storage_key())?.unwrap_or_default());
		let timestamp = match self.storage(hash, timestamp_storage_key())? {
			Some(raw) => Some(decode_timestamp(&raw).map_err(SinkError::Database)?),
			None => None,
		};
		let extrinsics_count = self.client.block_body(hash).map_err(SinkError::database)?.map(|body| body.len() as u32);

		let block = BlockData {
			chain: &self.chain,
			number,
			hash: hex0x(hash),
			parent_hash: hex0x(header.parent_hash()),
			spec_version,
			previous_spec_version,
			timestamp,
			extrinsics_count,
			finalized: true,
			events: &events,
		};
		let messages = block_messages(&block, &self.config);
		Ok(ShippableBlock { number, hash, messages })
	}

	fn store_cursor(&mut self, cursor: &Cursor<B::Hash>) -> Result<(), SinkError> {
		cursor::store::<B, _>(&*self.client, cursor)
	}
}

/// Forwards the finalized head's number from the client's notification streams. Each notification is reduced
/// to a number and dropped at once: the sink never blocks import and never holds a block pinned. Blocks that a
/// notification finalized implicitly (its `tree_route`) are read back by number from the database, so none is
/// skipped. Import notifications are followed too (and dropped at once) so best-chain shipping can hook in.
pub fn follow_finality<B, C>(client: Arc<C>) -> (watch::Receiver<u64>, impl std::future::Future<Output = ()>)
where
	B: BlockT,
	C: BlockchainEvents<B> + HeaderBackend<B>,
{
	let finalized: u64 = client.info().finalized_number.unique_saturated_into();
	let (sender, receiver) = watch::channel(finalized);
	let mut finality = client.finality_notification_stream();
	let mut imports = client.every_import_notification_stream();
	let task = async move {
		loop {
			tokio::select! {
				notification = finality.next() => match notification {
					Some(notification) => {
						let number: u64 = (*notification.header.number()).unique_saturated_into();
						drop(notification);
						sender.send_if_modified(|head| {
							let newer = number > *head;
							*head = (*head).max(number);
							newer
						});
					},
					None => return,
				},
				notification = imports.next() => if notification.is_none() { return },
			}
		}
	};
	(receiver, task)
}
