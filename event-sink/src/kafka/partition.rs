//! Herald picks every message's partition itself, so it knows before producing where each message will land:
//! the journal records it (write-ahead) and a retraction goes to exactly the partitions its block reached.
//!
//! The function is librdkafka's default partitioner (`consistent_random` for keyed messages): CRC-32 of the key
//! modulo the topic's partition count. Herald's messages always have a key.

use std::collections::HashMap;

/// The partition of a message with `key` in a topic of `partitions` partitions.
pub fn partition_for_key(key: &[u8], partitions: i32) -> i32 {
	(crc32fast::hash(key) % partitions.max(1) as u32) as i32
}

/// The partition counts of the sink's topics, learned from the cluster at start.
#[derive(Clone, Debug, Default)]
pub struct PartitionTable {
	counts: HashMap<String, i32>,
}

impl PartitionTable {
	pub fn new(counts: HashMap<String, i32>) -> Self {
		Self { counts }
	}

	/// The partition count of `topic`, if known.
	pub fn count(&self, topic: &str) -> Option<i32> {
		self.counts.get(topic).copied()
	}

	/// The partition of a message with `key` on `topic` (partition 0 for a topic of unknown size: the sink
	/// learns every topic's size before it ships).
	pub fn partition(&self, topic: &str, key: &[u8]) -> i32 {
		self.count(topic).map_or(0, |count| partition_for_key(key, count))
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn matches_librdkafkas_consistent_partitioner() {
		// librdkafka's rd_crc32 is the zlib CRC-32 (check value of "123456789": 0xcbf43926).
		assert_eq!(crc32fast::hash(b"123456789"), 0xcbf4_3926);
		assert_eq!(partition_for_key(b"123456789", 7), (0xcbf4_3926u32 % 7) as i32);
		assert_eq!(partition_for_key(b"anything", 1), 0);
	}
}
