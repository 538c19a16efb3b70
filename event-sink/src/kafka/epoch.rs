//! The marker a high-availability group's new leader writes to every partition before it ships anything: from
//! it on, a consumer of that partition discards whatever an older epoch still sends (docs/envelope.md, "High
//! availability").

use std::sync::Arc;

use serde_json::json;

use crate::{
	config::LeaderEpoch,
	kafka::{
		partition::PartitionTable,
		request::{MessageHeaders, OutgoingMessage, Request},
	},
	mapping::EventType,
};

/// The marker's envelope `name`.
pub const MARKER_NAME: &str = "LeaderEpoch";

/// The marker's `meta.id`.
pub fn marker_id(epoch: u64) -> String {
	format!("{MARKER_NAME}:{epoch}")
}

/// The marker's envelope (docs/contracts: the `LeaderEpoch` kind).
pub fn marker_envelope(leader: &LeaderEpoch) -> serde_json::Value {
	json!({
		"name": MARKER_NAME,
		"type": EventType::Infrastructure.as_str(),
		"data": {"epoch": leader.epoch, "group": leader.group, "member": leader.member},
		"meta": {"id": marker_id(leader.epoch), "schema_version": crate::envelope::SCHEMA_VERSION},
	})
}

/// One `LeaderEpoch` marker for each partition of each of `topics`.
pub fn markers(leader: &LeaderEpoch, topics: &[String], partitions: &PartitionTable) -> Vec<Request> {
	let id = marker_id(leader.epoch);
	let payload: Arc<[u8]> = marker_envelope(leader).to_string().into_bytes().into();
	let headers = MessageHeaders {
		name: MARKER_NAME.into(),
		event_type: EventType::Infrastructure,
		block_hash: "".into(),
		finalized: false,
	};
	let mut requests = Vec::new();
	for topic in topics {
		let topic: Arc<str> = topic.as_str().into();
		for partition in 0..partitions.count(&topic).unwrap_or(1) {
			let message = OutgoingMessage {
				id: id.clone(),
				topic: topic.clone(),
				key: None,
				payload: payload.clone(),
				headers: headers.clone(),
			};
			requests.push(Request { message, partition, is_event: false });
		}
	}
	requests
}

#[cfg(test)]
mod tests {
	use super::*;
	use std::collections::HashMap;

	#[test]
	fn one_marker_per_partition_of_every_topic() {
		let leader = LeaderEpoch { epoch: 3, group: "g".into(), member: "m".into() };
		let table = PartitionTable::new(HashMap::from([("a".to_string(), 2), ("b".to_string(), 1)]));
		let markers = markers(&leader, &["a".into(), "b".into()], &table);
		let places: Vec<_> = markers.iter().map(|r| (&*r.message.topic, r.partition)).collect();
		assert_eq!(places, vec![("a", 0), ("a", 1), ("b", 0)]);
		let value: serde_json::Value = serde_json::from_slice(&markers[0].message.payload).unwrap();
		assert_eq!(value["data"]["epoch"], 3);
		assert_eq!(value["meta"]["id"], "LeaderEpoch:3");
	}
}
