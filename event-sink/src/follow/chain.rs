//! The chain as the follower sees it, and its implementation over the node's client.

use std::{marker::PhantomData, sync::Arc};

use codec::{Decode, Encode};
use sp_blockchain::HeaderBackend;
use sp_runtime::traits::{Block as BlockT, Header as HeaderT, NumberFor, UniqueSaturatedInto};

use crate::error::SinkError;

/// A block by number and hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode)]
pub struct BlockId<H> {
	pub number: u64,
	pub hash: H,
}

/// A block with its parent: what it takes to link blocks into a chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Encode, Decode)]
pub struct BlockLink<H> {
	pub number: u64,
	pub hash: H,
	pub parent: H,
}

impl<H: Copy> BlockLink<H> {
	pub fn id(&self) -> BlockId<H> {
		BlockId { number: self.number, hash: self.hash }
	}
}

/// The chain's best and finalized heads, read together.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Heads<H> {
	pub best: BlockId<H>,
	pub finalized: BlockId<H>,
}

/// What the follower needs to know about the chain.
pub trait ChainView {
	type Hash: Copy + Eq + std::hash::Hash + std::fmt::Debug;

	/// The best and finalized heads now.
	fn heads(&self) -> Result<Heads<Self::Hash>, SinkError>;
	/// The best chain's block at `number` (at or below the finalized head, the finalized block); `None` above
	/// the best head.
	fn canonical(&self, number: u64) -> Result<Option<BlockLink<Self::Hash>>, SinkError>;

	/// The block whose hash is these bytes, on any fork, if the database has it (a subscription's `from`).
	fn link_of(&self, _hash: &[u8]) -> Result<Option<BlockLink<Self::Hash>>, SinkError> {
		Ok(None)
	}
}

/// [`ChainView`] over the node's client: reads the database, never holds a notification or a pin.
pub struct ClientChain<B, C> {
	client: Arc<C>,
	_block: PhantomData<B>,
}

impl<B, C> ClientChain<B, C> {
	pub fn new(client: Arc<C>) -> Self {
		Self { client, _block: PhantomData }
	}
}

impl<B, C> ChainView for ClientChain<B, C>
where
	B: BlockT,
	C: HeaderBackend<B>,
{
	type Hash = B::Hash;

	fn heads(&self) -> Result<Heads<B::Hash>, SinkError> {
		let info = self.client.info();
		Ok(Heads {
			best: BlockId { number: info.best_number.unique_saturated_into(), hash: info.best_hash },
			finalized: BlockId { number: info.finalized_number.unique_saturated_into(), hash: info.finalized_hash },
		})
	}

	fn canonical(&self, number: u64) -> Result<Option<BlockLink<B::Hash>>, SinkError> {
		let block_number: NumberFor<B> = number.unique_saturated_into();
		let Some(hash) = self.client.hash(block_number).map_err(SinkError::database)? else { return Ok(None) };
		let header = self
			.client
			.header(hash)
			.map_err(SinkError::database)?
			.ok_or_else(|| SinkError::Database(format!("the header of block #{number} ({hash:?}) is missing")))?;
		Ok(Some(BlockLink { number, hash, parent: *header.parent_hash() }))
	}

	fn link_of(&self, bytes: &[u8]) -> Result<Option<BlockLink<B::Hash>>, SinkError> {
		let Ok(hash) = B::Hash::decode(&mut &bytes[..]) else { return Ok(None) };
		let Some(header) = self.client.header(hash).map_err(SinkError::database)? else { return Ok(None) };
		Ok(Some(BlockLink { number: (*header.number()).unique_saturated_into(), hash, parent: *header.parent_hash() }))
	}
}
