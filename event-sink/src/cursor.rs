//! The resume position: the last block whose every message Kafka acknowledged, stored in the node's own
//! database (`AuxStore`), so a restarted node resumes exactly after it.

use codec::{Decode, Encode};
use sc_client_api::AuxStore;
use sp_blockchain::HeaderBackend;
use sp_runtime::traits::{Block as BlockT, NumberFor, UniqueSaturatedInto};

use crate::{config::StartFrom, error::SinkError};

/// The database key; bump the version suffix if the encoding changes.
const CURSOR_KEY: &[u8] = b"herald/event-sink/cursor/v1";

/// The last fully acknowledged block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Encode, Decode)]
pub struct Cursor<Hash> {
	pub number: u64,
	pub hash: Hash,
}

/// Reads the stored cursor, if any.
pub fn load<B: BlockT, C: AuxStore>(client: &C) -> Result<Option<Cursor<B::Hash>>, SinkError> {
	let Some(bytes) = client.get_aux(CURSOR_KEY).map_err(SinkError::database)? else {
		return Ok(None);
	};
	Cursor::decode(&mut &bytes[..]).map(Some).map_err(|e| {
		SinkError::Cursor(format!(
			"the stored cursor does not decode ({e}); it was written by an incompatible Herald version"
		))
	})
}

/// Stores `cursor`. Called only after every message of that block (and of all before it) was acknowledged.
pub fn store<B: BlockT, C: AuxStore>(client: &C, cursor: &Cursor<B::Hash>) -> Result<(), SinkError> {
	client.insert_aux(&[(CURSOR_KEY, cursor.encode().as_slice())], &[]).map_err(SinkError::database)
}

/// The first block number to ship: after the stored cursor (which must still be on the finalized chain), or
/// where `start_from` says on a first start.
pub fn first_block_to_ship<B, C>(
	client: &C,
	stored: Option<Cursor<B::Hash>>,
	start_from: StartFrom,
) -> Result<u64, SinkError>
where
	B: BlockT,
	C: HeaderBackend<B>,
{
	let info = client.info();
	let finalized: u64 = info.finalized_number.unique_saturated_into();
	match stored {
		Some(cursor) => {
			let number: NumberFor<B> = cursor.number.unique_saturated_into();
			let canonical = client.hash(number).map_err(SinkError::database)?;
			if canonical != Some(cursor.hash) {
				return Err(SinkError::Cursor(format!(
					"the cursor (block #{} {:?}) is not on this node's canonical chain (it has {:?} there): the \
					 database was reset or reverted. Purge the sink's position by restarting with a fresh database, \
					 or pick where to start with --kafka-start-from after removing the node's database",
					cursor.number, cursor.hash, canonical
				)));
			}
			Ok(cursor.number + 1)
		}
		None => Ok(match start_from {
			StartFrom::Genesis => 0,
			StartFrom::Latest => finalized + 1,
			StartFrom::Block(n) => n,
		}),
	}
}
