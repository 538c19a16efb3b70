//! Which Kafka cluster and topic prefix the stored cursor and journal belong to. A cursor says "everything up to
//! block N is in *these* topics": pointed at another cluster or prefix, resuming from it would silently leave the
//! new topics without blocks 0..=N, so the sink refuses until the operator resets the cursor.

use codec::{Decode, Encode};

use crate::error::SinkError;

/// The database key; bump the version suffix if the encoding changes.
pub const IDENTITY_KEY: &[u8] = b"herald/event-sink/identity/v1";

/// Where the sink's messages went.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode)]
pub struct Identity {
	/// The cluster's id; `None` when the brokers don't report one (only the prefix is compared then).
	pub cluster_id: Option<String>,
	/// `--kafka-topic-prefix`.
	pub topic_prefix: String,
}

/// Checks the stored identity against the cluster and prefix of this start. `Ok(Some(_))`: the identity to store
/// (a first start, state written by a Herald that did not record it, or a cluster id learned only now).
pub fn check(stored: Option<&Identity>, current: &Identity) -> Result<Option<Identity>, SinkError> {
	let Some(stored) = stored else { return Ok(Some(current.clone())) };
	let reset = "Run `herald-node kafka-cursor reset` (with the node stopped, same --base-path and --chain) to \
	             start over in the new place from --kafka-start-from, or point the node back";
	if stored.topic_prefix != current.topic_prefix {
		return Err(SinkError::Cursor(format!(
			"the stored cursor belongs to topic prefix {:?}, but the node now ships to {:?}: resuming would leave \
			 the new topics without the blocks before the cursor. {reset} (--kafka-topic-prefix {})",
			stored.topic_prefix, current.topic_prefix, stored.topic_prefix
		)));
	}
	match (&stored.cluster_id, &current.cluster_id) {
		(Some(before), Some(now)) if before != now => Err(SinkError::Cursor(format!(
			"the stored cursor belongs to Kafka cluster {before}, but --kafka-brokers now reach cluster {now}: \
			 resuming would leave that cluster without the blocks before the cursor. {reset}"
		))),
		(None, Some(_)) => Ok(Some(current.clone())),
		_ => Ok(None),
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn identity(cluster: Option<&str>, prefix: &str) -> Identity {
		Identity { cluster_id: cluster.map(str::to_string), topic_prefix: prefix.into() }
	}

	#[test]
	fn a_first_start_records_where_it_ships() {
		let now = identity(Some("c1"), "herald");
		assert_eq!(check(None, &now).unwrap(), Some(now));
	}

	#[test]
	fn the_same_place_needs_no_write() {
		let now = identity(Some("c1"), "herald");
		assert_eq!(check(Some(&now), &now).unwrap(), None);
		assert_eq!(check(Some(&now), &identity(None, "herald")).unwrap(), None, "a cluster that hides its id");
		assert_eq!(check(Some(&identity(None, "herald")), &now).unwrap(), Some(now), "an id learned later");
	}

	#[test]
	fn another_prefix_or_cluster_is_a_fatal_error_naming_the_reset() {
		let stored = identity(Some("c1"), "herald");
		let error = check(Some(&stored), &identity(Some("c1"), "staging")).unwrap_err();
		assert!(error.is_fatal());
		let text = error.to_string();
		assert!(text.contains("\"herald\"") && text.contains("\"staging\""), "{text}");
		assert!(text.contains("herald-node kafka-cursor reset"), "{text}");
		let error = check(Some(&stored), &identity(Some("c2"), "herald")).unwrap_err().to_string();
		assert!(error.contains("cluster c1") && error.contains("cluster c2"), "{error}");
	}
}
