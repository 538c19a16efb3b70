//! The cursor: the last block shipped as final whose every message Kafka acknowledged. A restarted sink resumes
//! right after it.

use codec::{Decode, Encode};
use sc_client_api::AuxStore;

use crate::{
	config::StartFrom,
	error::SinkError,
	follow::{BlockId, ChainView},
};

/// The database key; bump the version suffix if the encoding changes.
pub const CURSOR_KEY: &[u8] = b"herald/event-sink/cursor/v1";

/// The cursor as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct Cursor<Hash> {
	pub number: u64,
	pub hash: Hash,
}

/// Reads the stored cursor, if any.
pub fn load<H: Decode, S: AuxStore + ?Sized>(db: &S) -> Result<Option<Cursor<H>>, SinkError> {
	let Some(bytes) = db.get_aux(CURSOR_KEY).map_err(SinkError::database)? else {
		return Ok(None);
	};
	Cursor::decode(&mut &bytes[..]).map(Some).map_err(|e| {
		SinkError::Cursor(format!(
			"the stored cursor does not decode ({e}); it was written by an incompatible Herald version"
		))
	})
}

/// Checks a stored cursor against the chain (it must be on the finalized chain), or places the start of a first
/// start: `Ok(Err(n))` = no cursor, ship from block `n` on.
pub fn check_or_start<C: ChainView>(
	chain: &C,
	stored: Option<BlockId<C::Hash>>,
	start_from: StartFrom,
) -> Result<Result<BlockId<C::Hash>, u64>, SinkError> {
	let heads = chain.heads()?;
	match stored {
		Some(cursor) => {
			let canonical = chain.canonical(cursor.number)?.map(|block| block.hash);
			if canonical != Some(cursor.hash) || cursor.number > heads.finalized.number {
				return Err(SinkError::Cursor(format!(
					"the cursor (block #{} {:?}) is not on this node's finalized chain (it has {:?} there): the \
					 database was reset or reverted. Start the node with a fresh database, or pick where to start \
					 with --kafka-start-from after removing the node's database",
					cursor.number, cursor.hash, canonical
				)));
			}
			Ok(Ok(cursor))
		}
		None => Ok(Err(match start_from {
			StartFrom::Genesis => 0,
			StartFrom::Latest => heads.finalized.number + 1,
			StartFrom::Block(n) => n,
		})),
	}
}
