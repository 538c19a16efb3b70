//! Command-line interface of `herald-node`.

use std::path::PathBuf;

use herald_event_sink::{
	config::{Follow, KafkaProperty, OnRejected, StartFrom},
	kafka::headers::HeaderSet,
};
use sc_cli::RunCmd;

use crate::kafka_security::SaslMechanism;

/// How blocks are produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Sealing {
	/// A block is sealed and finalized as soon as a transaction enters the pool.
	Instant,
	/// Blocks are sealed and finalized only on request, through the `engine_createBlock` and
	/// `engine_finalizeBlock` RPCs; a block may be built on any parent, so tests can build forks.
	Manual,
}

/// Herald node command line.
#[derive(Debug, clap::Parser)]
// The mapping table and topic prefix serve every output: Kafka, the JSON-RPC subscription, or both.
#[command(group(clap::ArgGroup::new("event_outputs").multiple(true).args(["kafka_brokers", "herald_follow_rpc"])))]
pub struct Cli {
	/// Sub-commands.
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	/// Options of the default `run` command.
	#[clap(flatten)]
	pub run: RunCmd,

	/// Development block production instead of Aura and GRANDPA: `instant` or `manual`.
	///
	/// Without this flag the node runs the chain's normal consensus (Aura authoring, GRANDPA finality).
	#[arg(long, value_enum, ignore_case = true)]
	pub sealing: Option<Sealing>,

	/// Directory where wasmtime keeps the runtime's compiled code between starts (its own on-disk cache, keyed by
	/// the code and the compiler's settings; nodes of one machine can share it).
	///
	/// Without it every start compiles the runtime again: about 10 s of CPU for this runtime on a 2-core machine.
	/// Off by default. (Sub-commands don't take it: the node's flags conflict with sub-commands, as in Substrate.)
	#[arg(long, value_name = "PATH")]
	pub wasmtime_cache_dir: Option<PathBuf>,

	#[allow(missing_docs)]
	#[clap(flatten)]
	pub kafka: KafkaParams,

	#[allow(missing_docs)]
	#[clap(flatten)]
	pub follow: FollowParams,
}

/// The `herald_v1_follow` JSON-RPC subscription: the chain's envelopes pushed to WebSocket clients, with or
/// without Kafka.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Event subscription (JSON-RPC)")]
pub struct FollowParams {
	/// Serve `herald_v1_follow` on the node's RPC port: the same envelopes as Kafka's values, finalized or best
	/// chain, with replay from the database, filters and resume positions (README "Following events over
	/// JSON-RPC"). Needs no Kafka.
	#[arg(long)]
	pub herald_follow_rpc: bool,

	/// Envelopes one subscription may have waiting for its connection; when full, the subscription gets a `stop`
	/// notification with the position to resume from.
	#[arg(
		long,
		value_name = "ENVELOPES",
		default_value_t = 1024,
		value_parser = clap::value_parser!(u32).range(1..=1_000_000),
		requires = "herald_follow_rpc"
	)]
	pub herald_follow_queue: u32,

	/// Subscriptions the node serves at once.
	#[arg(
		long,
		value_name = "COUNT",
		default_value_t = 256,
		value_parser = clap::value_parser!(u32).range(1..=100_000),
		requires = "herald_follow_rpc"
	)]
	pub herald_follow_max_subscriptions: u32,

	/// Subscriptions one connection may hold at once.
	#[arg(
		long,
		value_name = "COUNT",
		default_value_t = 16,
		value_parser = clap::value_parser!(u32).range(1..=1024),
		requires = "herald_follow_rpc"
	)]
	pub herald_follow_max_per_connection: u32,

	/// Subscriptions replaying history from the database at once (each reads and decodes blocks); more wait.
	#[arg(
		long,
		value_name = "COUNT",
		default_value_t = 2,
		value_parser = clap::value_parser!(u32).range(1..=64),
		requires = "herald_follow_rpc"
	)]
	pub herald_follow_max_replays: u32,
}

/// The event sink: ships the chain's runtime events to Kafka, finalized blocks only or the best chain with
/// retractions.
#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "Kafka event sink")]
pub struct KafkaParams {
	/// Kafka bootstrap brokers (`host:port`, comma-separated). Enables the event sink.
	///
	/// Unreachable brokers are not an error: the node runs, the sink reports itself disconnected
	/// (`herald_kafka_connected 0`) and ships everything once a broker is reachable.
	#[arg(long, value_name = "HOST:PORT[,HOST:PORT...]")]
	pub kafka_brokers: Option<String>,

	/// Prefix of every topic the sink produces to: `<prefix>.<topic>`.
	#[arg(
		long,
		value_name = "PREFIX",
		default_value = "herald",
		value_parser = parse_topic_prefix,
		requires = "event_outputs"
	)]
	pub kafka_topic_prefix: String,

	/// Partitions of the topics the sink creates when they don't exist.
	#[arg(
		long,
		value_name = "COUNT",
		default_value_t = 3,
		value_parser = clap::value_parser!(i32).range(1..=100_000),
		requires = "kafka_brokers"
	)]
	pub kafka_topic_partitions: i32,

	/// Replication factor of the topics the sink creates when they don't exist (default: the cluster's
	/// `default.replication.factor`). Use 3 or more in production, with `min.insync.replicas` 2.
	#[arg(
		long,
		value_name = "COUNT",
		value_parser = clap::value_parser!(i32).range(1..=32),
		requires = "kafka_brokers"
	)]
	pub kafka_topic_replication_factor: Option<i32>,

	/// A topic config of the topics the sink creates, e.g. `retention.ms=604800000` or
	/// `min.insync.replicas=2` (repeatable; Kafka's topic config names). Existing topics are not changed.
	#[arg(long = "kafka-topic-config", value_name = "KEY=VALUE", requires = "kafka_brokers")]
	pub kafka_topic_config: Vec<KafkaProperty>,

	/// A TOML file of event mappings that extends and overrides the runtime's built-in table
	/// (see docs/mappings.md).
	#[arg(long, value_name = "PATH", requires = "event_outputs")]
	pub kafka_mappings: Option<PathBuf>,

	/// A librdkafka property passed through as it is, e.g. `compression.type=zstd` or
	/// `security.protocol=SASL_SSL` (repeatable, like kcat's `-X`). Applied after Herald's defaults.
	#[arg(long = "kafka-config", value_name = "KEY=VALUE", requires = "kafka_brokers")]
	pub kafka_config: Vec<KafkaProperty>,

	/// librdkafka properties from a file, as `key=value` lines (kcat's `-F`; `#` comments): for secrets and long
	/// configurations. Applied after Herald's defaults and before the typed flags and `--kafka-config`.
	#[arg(long, value_name = "PATH", requires = "kafka_brokers")]
	pub kafka_config_file: Option<PathBuf>,

	/// Connect with TLS (`security.protocol=SSL`, or `SASL_SSL` with a SASL mechanism), trusting the system's
	/// CAs unless --kafka-tls-ca-file is given. Implied by any other --kafka-tls-* flag.
	#[arg(long, requires = "kafka_brokers")]
	pub kafka_tls: bool,

	/// The CA certificates (PEM) that sign the brokers' certificates.
	#[arg(long, value_name = "PATH", requires = "kafka_brokers")]
	pub kafka_tls_ca_file: Option<PathBuf>,

	/// Mutual TLS: this node's client certificate (PEM). Needs --kafka-tls-key-file.
	#[arg(long, value_name = "PATH", requires = "kafka_brokers")]
	pub kafka_tls_cert_file: Option<PathBuf>,

	/// Mutual TLS: the client certificate's private key (PEM).
	#[arg(long, value_name = "PATH", requires = "kafka_brokers")]
	pub kafka_tls_key_file: Option<PathBuf>,

	/// A file holding only the password of an encrypted --kafka-tls-key-file.
	#[arg(long, value_name = "PATH", requires = "kafka_brokers")]
	pub kafka_tls_key_password_file: Option<PathBuf>,

	/// Don't check that a broker's certificate names the host connected to (checked by default). Only for test
	/// set-ups whose certificates don't name their hosts.
	#[arg(long, requires = "kafka_brokers")]
	pub kafka_tls_skip_hostname_verification: bool,

	/// SASL authentication: `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512` (with TLS unless no --kafka-tls* flag is
	/// given, then `SASL_PLAINTEXT`). Needs --kafka-sasl-username and a password from a file or the environment.
	#[arg(long, value_enum, value_name = "MECHANISM", requires = "kafka_brokers")]
	pub kafka_sasl_mechanism: Option<SaslMechanism>,

	/// The SASL username.
	#[arg(long, value_name = "NAME", requires = "kafka_brokers")]
	pub kafka_sasl_username: Option<String>,

	/// A file holding only the SASL password (never pass a password on the command line).
	#[arg(long, value_name = "PATH", requires = "kafka_brokers")]
	pub kafka_sasl_password_file: Option<PathBuf>,

	/// The environment variable holding the SASL password.
	#[arg(long, value_name = "VARIABLE", requires = "kafka_brokers")]
	pub kafka_sasl_password_env: Option<String>,

	/// Which envelope facts every message repeats as Kafka headers: a comma-separated list of `id`, `name`,
	/// `type`, `schema_version`, `block_hash`, `finalized`, or `all` / `none`. Each is also in the message's value;
	/// headers cost the producer time on every message, so only `id` is sent unless asked (docs/envelope.md).
	#[arg(
		long,
		value_name = "LIST",
		default_value = "id",
		value_parser = HeaderSet::parse,
		requires = "kafka_brokers"
	)]
	pub kafka_headers: HeaderSet,

	/// Run the sink in a high-availability group of this name: every node started with the same group (same
	/// chain, brokers, topic prefix, partitions, follow mode and mappings) runs the sink, exactly one ships at a
	/// time, and another takes over when it dies, losing nothing (README, "High availability"). The group's
	/// cursor and journal live in Kafka (`<prefix>.sink-state`), not in this node's files.
	#[arg(long, value_name = "NAME", requires = "kafka_brokers")]
	pub kafka_ha_group: Option<String>,

	/// This node's name in its group (logs, the state topic); the host name and process id by default.
	#[arg(long, value_name = "NAME", requires = "kafka_ha_group")]
	pub kafka_ha_member: Option<String>,

	/// How long a dead leader keeps the group's lease, in milliseconds: the lease's consumer-group session
	/// timeout. Shorter fails over sooner; too short makes a busy leader lose the lease.
	#[arg(long, value_name = "MS", default_value_t = 6000, value_parser = clap::value_parser!(u64).range(1000..=300_000), requires = "kafka_ha_group")]
	pub kafka_ha_session_timeout: u64,

	/// Sign every message: an HMAC-SHA256 of its value in the `signature` header, the key's id in
	/// `signature_key_id` (docs/envelope.md). The file holds the key as hex, at least 32 bytes
	/// (`openssl rand -hex 32 > key`).
	#[arg(long, value_name = "PATH", requires = "kafka_brokers")]
	pub kafka_sign_key_file: Option<PathBuf>,

	/// The id sent in `signature_key_id` (default: the first 16 hex digits of the key's SHA-256), so consumers
	/// can hold several keys while they rotate.
	#[arg(long, value_name = "ID", requires = "kafka_sign_key_file")]
	pub kafka_sign_key_id: Option<String>,

	/// Accept `--kafka-config` overrides that weaken Herald's delivery guarantee (`enable.idempotence=false`,
	/// `acks` other than `all`, a finite `message.timeout.ms`, more than 5 requests in flight): messages may then
	/// be lost, duplicated by the producer or reordered.
	#[arg(long, requires = "kafka_brokers")]
	pub kafka_allow_weaker_delivery: bool,

	/// Where to start on a first start (no stored cursor): `genesis`, `latest` (the next finalized block)
	/// or a block number. Ignored once the sink has a cursor: it always resumes after it.
	#[arg(long, value_name = "genesis|latest|NUMBER", default_value = "genesis", requires = "kafka_brokers")]
	pub kafka_start_from: StartFrom,

	/// Stop the node when the sink fails, instead of logging, backing off and restarting it from its cursor.
	#[arg(long, requires = "kafka_brokers")]
	pub kafka_required: bool,

	/// How many blocks the sink reads ahead of Kafka's acknowledgements. Near-empty blocks need many in flight to
	/// keep the producer busy; `--kafka-read-ahead-messages` bounds the memory dense blocks take.
	#[arg(
		long,
		value_name = "BLOCKS",
		default_value_t = 1024,
		value_parser = clap::value_parser!(u32).range(1..=100_000),
		requires = "kafka_brokers"
	)]
	pub kafka_read_ahead_blocks: u32,

	/// How many messages the sink may have in flight to Kafka ahead of its acknowledgements (bounds its memory;
	/// a block with more messages still ships, alone).
	#[arg(
		long,
		value_name = "MESSAGES",
		default_value_t = 20_000,
		value_parser = clap::value_parser!(u32).range(1..=10_000_000),
		requires = "kafka_brokers"
	)]
	pub kafka_read_ahead_messages: u32,

	/// How many threads decode blocks and write their messages in parallel while the sink catches up (they run
	/// at the sink's lowered priority). Default: the machine's cores, at most 4.
	#[arg(long, value_name = "THREADS", value_parser = clap::value_parser!(u32).range(1..=64), requires = "kafka_brokers")]
	pub kafka_encode_threads: Option<u32>,

	/// Which blocks to ship: `finalized` (only final blocks, never retracted; nothing ships while finality
	/// stalls) or `best` (blocks as they join the best chain, `meta.finalized: false`, then `BlockFinalized`, or
	/// `BlockRetracted` when a re-org takes one back; see docs/envelope.md).
	#[arg(long, value_name = "finalized|best", default_value = "finalized", requires = "kafka_brokers")]
	pub kafka_follow: Follow,

	/// In `best` mode, the most blocks shipped and not yet final. Past it (finality has stalled) the sink
	/// ships no new block until finality moves, and says so in the log and in `herald_kafka_journal_full`.
	#[arg(
		long,
		value_name = "BLOCKS",
		default_value_t = 4096,
		value_parser = clap::value_parser!(u32).range(1..=1_000_000),
		requires = "kafka_brokers"
	)]
	pub kafka_max_unfinalized_blocks: u32,

	/// What to do with a message Kafka will never accept (larger than `message.max.bytes`, an invalid topic, a
	/// policy violation, no authorization): `stop` the sink with an error naming the block, the message and the
	/// reason, or ship a small `MessageRejected` `stand-in` envelope with the same id, topic and key and go on.
	#[arg(long, value_name = "stop|stand-in", default_value = "stop", requires = "kafka_brokers")]
	pub kafka_on_rejected: OnRejected,

	/// Don't ship events that the mapping table doesn't map (by default they ship under default names).
	#[arg(long, requires = "event_outputs")]
	pub kafka_skip_unmapped: bool,
}

/// Kafka topic names allow ASCII letters, digits, `.`, `_` and `-`, up to 249 characters.
pub(crate) fn parse_topic_prefix(prefix: &str) -> Result<String, String> {
	let valid = !prefix.is_empty()
		&& prefix.len() <= 200
		&& prefix.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
	if valid {
		Ok(prefix.to_string())
	} else {
		Err("a topic prefix is 1 to 200 ASCII letters, digits, '.', '_' or '-'".into())
	}
}

/// Sub-commands of `herald-node`, as in Substrate's own nodes.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management CLI utilities.
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification.
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain.
	PurgeChain(sc_cli::PurgeChainCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Db meta columns information.
	ChainInfo(sc_cli::ChainInfoCmd),

	/// Show or change the Kafka event sink's stored position (`show`, `set BLOCK`, `reset`), on a stopped node's
	/// database.
	KafkaCursor(crate::kafka_cursor::KafkaCursorCmd),

	/// Write the event contracts of what this node ships: a JSON Schema per envelope kind and per topic, an
	/// AsyncAPI 3.0 document and a Markdown catalog, from a stopped node's database (`--at`), a runtime wasm
	/// (`--wasm`) or a metadata file (`--metadata`), with the sink's mapping flags.
	ExportContracts(crate::export_contracts::ExportContractsCmd),

	/// Benchmarks of the runtime's pallets, storage, blocks and this machine; `benchmark pallet` writes a
	/// pallet's `weights.rs`.
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Benchmarks (not in this build: build with `--features runtime-benchmarks`).
	#[cfg(not(feature = "runtime-benchmarks"))]
	Benchmark(crate::benchmarking::BenchmarksNotBuilt),
}
