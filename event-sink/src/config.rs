//! The sink's configuration, as the node hands it over after parsing its `--kafka-*` flags.

use std::{fmt, str::FromStr};

use crate::mapping::Mappings;

/// Where a sink without a stored cursor starts shipping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartFrom {
	/// From block 0: the whole finalized chain.
	Genesis,
	/// From the first block finalized after the sink starts.
	Latest,
	/// From this block number on.
	Block(u64),
}

impl FromStr for StartFrom {
	type Err = String;

	fn from_str(s: &str) -> Result<Self, Self::Err> {
		match s {
			"genesis" => Ok(Self::Genesis),
			"latest" => Ok(Self::Latest),
			number => number
				.parse()
				.map(Self::Block)
				.map_err(|_| format!("{s:?} is not a start position: use `genesis`, `latest` or a block number")),
		}
	}
}

impl fmt::Display for StartFrom {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		match self {
			Self::Genesis => f.write_str("genesis"),
			Self::Latest => f.write_str("latest"),
			Self::Block(n) => write!(f, "{n}"),
		}
	}
}

/// Which blocks the sink ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Follow {
	/// Finalized blocks only: never retracted, a few blocks behind the head (nothing ships while finality stalls).
	#[default]
	Finalized,
	/// The best chain as blocks are imported (`meta.finalized: false`), `BlockRetracted` when a re-org takes a
	/// shipped block back, `BlockFinalized` when one becomes final.
	Best,
}

impl FromStr for Follow {
	type Err = String;

	fn from_str(s: &str) -> Result<Self, Self::Err> {
		match s {
			"finalized" => Ok(Self::Finalized),
			"best" => Ok(Self::Best),
			other => Err(format!("{other:?} is not a follow mode: use `finalized` or `best`")),
		}
	}
}

impl fmt::Display for Follow {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(match self {
			Self::Finalized => "finalized",
			Self::Best => "best",
		})
	}
}

/// What the sink does with a message Kafka will never accept (too large, invalid topic, policy violation,
/// authorization).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnRejected {
	/// Stop the sink with an error naming the block, the message and the reason; nothing after it ships until the
	/// operator fixes the cause and restarts the node.
	#[default]
	Stop,
	/// Ship a small `MessageRejected` envelope with the same id, topic, key and partition instead, and go on.
	StandIn,
}

impl FromStr for OnRejected {
	type Err = String;

	fn from_str(s: &str) -> Result<Self, Self::Err> {
		match s {
			"stop" => Ok(Self::Stop),
			"stand-in" => Ok(Self::StandIn),
			other => Err(format!("{other:?} is not an action for rejected messages: use `stop` or `stand-in`")),
		}
	}
}

impl fmt::Display for OnRejected {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		f.write_str(match self {
			Self::Stop => "stop",
			Self::StandIn => "stand-in",
		})
	}
}

/// A librdkafka property passed through as it is (`--kafka-config key=value`, like kcat's `-X`).
#[derive(Clone, PartialEq, Eq)]
pub struct KafkaProperty {
	pub key: String,
	pub value: String,
}

impl KafkaProperty {
	/// Whether the value must never reach a log: passwords, secrets, private keys, tokens.
	pub fn is_secret(&self) -> bool {
		let key = self.key.to_ascii_lowercase();
		["password", "secret", "token", "key.pem", "private", "jaas", "sasl.username"]
			.iter()
			.any(|marker| key.contains(marker))
	}
}

impl FromStr for KafkaProperty {
	type Err = String;

	fn from_str(s: &str) -> Result<Self, Self::Err> {
		match s.split_once('=') {
			Some((key, value)) if !key.trim().is_empty() => {
				Ok(Self { key: key.trim().to_string(), value: value.to_string() })
			}
			_ => Err(format!(
				"{:?} is not a librdkafka property: write it as key=value, e.g. compression.type=zstd",
				s.split_once('=').map(|(k, _)| k).unwrap_or(s)
			)),
		}
	}
}

// Values are redacted when secret, so configurations can be logged safely.
impl fmt::Debug for KafkaProperty {
	fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
		if self.is_secret() {
			write!(f, "{}=<redacted>", self.key)
		} else {
			write!(f, "{}={}", self.key, self.value)
		}
	}
}

/// Everything the sink needs to run.
#[derive(Debug, Clone)]
pub struct SinkConfig {
	/// librdkafka `bootstrap.servers`.
	pub brokers: String,
	/// Every topic is `<prefix>.<topic>`.
	pub topic_prefix: String,
	/// Partitions of the topics the sink creates when they are missing.
	pub topic_partitions: i32,
	/// Replication factor of the topics the sink creates (`None`: the cluster's `default.replication.factor`).
	pub topic_replication_factor: Option<i32>,
	/// Topic-level configs of the topics the sink creates (`retention.ms`, `min.insync.replicas`, …).
	pub topic_configs: Vec<KafkaProperty>,
	/// Extra librdkafka properties, applied after Herald's defaults (so they win).
	pub kafka_properties: Vec<KafkaProperty>,
	/// Where to start when no cursor is stored.
	pub start_from: StartFrom,
	/// A sink failure stops the node instead of being retried.
	pub required: bool,
	/// How many blocks may be read and in flight to Kafka ahead of the last acknowledged one.
	pub read_ahead_blocks: u32,
	/// How many messages may be in flight ahead of the last acknowledged one (bounds memory with dense blocks; a
	/// block larger than this still ships, alone).
	pub read_ahead_messages: u32,
	/// How many threads decode blocks and write their messages in parallel (1: the sink's own thread only).
	pub encode_threads: u32,
	/// What to ship and where.
	pub mappings: Mappings,
	/// Finalized blocks only, or the best chain with retractions.
	pub follow: Follow,
	/// The most blocks shipped and not final (the journal's bound): past it, the sink stops shipping new blocks
	/// until finality moves.
	pub max_unfinalized_blocks: u32,
	/// What to do with a message Kafka will never accept.
	pub on_rejected: OnRejected,
	/// Sign every message's value with this key (`signature` and `signature_key_id` headers).
	pub signing_key: Option<crate::kafka::signing::SigningKey>,
	/// The envelope facts every message repeats as headers (`id` by default).
	pub headers: crate::kafka::headers::HeaderSet,
	/// A high-availability group (`--kafka-ha-group`): its node's sink runs only while it holds the group's lease.
	pub ha: Option<crate::ha::HaSettings>,
	/// Set by the group for the term of one leader: every message carries its epoch (`leader_epoch` header), and
	/// a marker of it goes to every partition before anything else.
	pub leader: Option<LeaderEpoch>,
}

/// The leader epoch of a group's active node, for one term (see [`crate::ha`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaderEpoch {
	pub epoch: u64,
	pub group: String,
	pub member: String,
}

/// The default of [`SinkConfig::encode_threads`]: the machine's cores, at most 4 (beyond, the producer and
/// the broker are the limit).
pub fn default_encode_threads() -> u32 {
	std::thread::available_parallelism().map_or(1, |cores| cores.get().min(4) as u32)
}

impl SinkConfig {
	/// The full name of topic `suffix`.
	pub fn topic(&self, suffix: &str) -> String {
		format!("{}.{}", self.topic_prefix, suffix)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn start_from_parses_every_form() {
		assert_eq!("genesis".parse(), Ok(StartFrom::Genesis));
		assert_eq!("latest".parse(), Ok(StartFrom::Latest));
		assert_eq!("1234".parse(), Ok(StartFrom::Block(1234)));
		let error = "yesterday".parse::<StartFrom>().unwrap_err();
		assert!(error.contains("`genesis`, `latest` or a block number"), "{error}");
	}

	#[test]
	fn follow_parses_both_modes() {
		assert_eq!("finalized".parse(), Ok(Follow::Finalized));
		assert_eq!("best".parse(), Ok(Follow::Best));
		assert!("head".parse::<Follow>().unwrap_err().contains("`finalized` or `best`"));
	}

	#[test]
	fn on_rejected_parses_both_actions() {
		assert_eq!("stop".parse(), Ok(OnRejected::Stop));
		assert_eq!("stand-in".parse(), Ok(OnRejected::StandIn));
		assert!("skip".parse::<OnRejected>().unwrap_err().contains("`stop` or `stand-in`"));
	}

	#[test]
	fn kafka_property_parses_key_value() {
		let p: KafkaProperty = "compression.type=zstd".parse().unwrap();
		assert_eq!((p.key.as_str(), p.value.as_str()), ("compression.type", "zstd"));
		let p: KafkaProperty = "sasl.jaas.config=a=b".parse().unwrap();
		assert_eq!(p.value, "a=b", "only the first = separates");
		assert!("no-equals".parse::<KafkaProperty>().unwrap_err().contains("key=value"));
		assert!("=value".parse::<KafkaProperty>().is_err());
	}

	#[test]
	fn secrets_never_reach_debug_output() {
		let p: KafkaProperty = "sasl.password=hunter2".parse().unwrap();
		assert_eq!(format!("{p:?}"), "sasl.password=<redacted>");
		let p: KafkaProperty = "ssl.key.password=hunter2".parse().unwrap();
		assert!(!format!("{p:?}").contains("hunter2"));
		let p: KafkaProperty = "linger.ms=20".parse().unwrap();
		assert_eq!(format!("{p:?}"), "linger.ms=20");
	}
}
