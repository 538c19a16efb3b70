//! Command-line interface of `herald-node`.

use sc_cli::RunCmd;

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
}
