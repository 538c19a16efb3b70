//! The sink's persistent state, kept in the node's own database (`AuxStore`, written through the backend so
//! the client's import lock is never taken): the cursor (the last final block shipped and acknowledged) and
//! the journal (shipped blocks that are not final yet, with where their messages went), so that a restarted
//! node can still retract what a re-org took back, even when the retracted block's state is gone.
//!
//! - [`cursor`]: the cursor's encoding and the start position of a first start;
//! - [`identity`]: the cluster and topic prefix the cursor belongs to;
//! - [`file`]: the sink's own synced files, where the state lives ([`FileStateStore`]: durable before the
//!   producer sees a block's first message);
//! - [`journal`]: the journal's entries, the [`StateStore`] trait, its database and in-memory implementations;
//! - [`ledger`]: what to persist before producing and after acknowledgements;
//! - [`owner`]: the [`Journal`], the one owner of the journal and the cursor while the sink runs.

pub mod cursor;
pub mod file;
pub mod identity;
pub mod journal;
pub mod ledger;
pub mod owner;

pub use file::FileStateStore;
pub use journal::{
	AuxStateStore, Change, EntryState, JournalEntry, MemoryStateStore, Placement, SinkState, StateStore,
};
pub use ledger::{Effect, Ledger};
pub use owner::Journal;
