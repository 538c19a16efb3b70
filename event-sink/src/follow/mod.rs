//! Following the chain: which blocks to ship, retract and finalize, and when.
//!
//! - [`chain`]: the [`ChainView`] the follower reads (best and finalized heads, the best chain's block at a
//!   height), implemented over the node's client by [`ClientChain`];
//! - [`follower`]: the pure state machine ([`Follower`]): no Kafka, no client, a chain view in, a list of
//!   [`Action`]s out;
//! - [`wake`]: the client's import and finality notifications, reduced to wake-ups of the sink.
//!
//! The follower never trusts a notification's content: it compares the journal (what was shipped and is not
//! final) with the database's best chain each time it is woken. A re-org seen by an import notification's
//! `tree_route`, a best block moved by finality without an import notification, blocks displaced by finality
//! (`stale_blocks`) and re-orgs that happened while the node was down all look the same from there: journal
//! entries that are no longer on the best chain. So they are all retracted by one rule, newest first.

pub mod chain;
pub mod follower;
pub mod wake;

#[cfg(test)]
pub(crate) mod tests;

pub use chain::{BlockId, BlockLink, ChainView, ClientChain, Heads};
pub use follower::{Action, Follower, Restored};
