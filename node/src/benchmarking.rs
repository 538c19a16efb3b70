//! The `benchmark` sub-command, as in the polkadot-sdk's node templates.
//!
//! `benchmark pallet` runs a pallet's `frame-benchmarking` benchmarks in the runtime's wasm and writes its
//! `weights.rs` (see `scripts/benchmark.sh`). It needs a node and a runtime built with the
//! `runtime-benchmarks` feature; an ordinary build keeps the sub-command only to say how to get one.

use crate::cli::Cli;

/// Runs `herald-node benchmark …` in a build with benchmarks.
#[cfg(feature = "runtime-benchmarks")]
pub fn run(cli: &Cli, cmd: &frame_benchmarking_cli::BenchmarkCmd) -> sc_cli::Result<()> {
	use frame_benchmarking_cli::{BenchmarkCmd, SUBSTRATE_REFERENCE_HARDWARE};
	use herald_runtime::opaque::Block;
	use sc_cli::SubstrateCli;
	use sc_service::PartialComponents;

	use crate::service;

	let runner = cli.create_runner(cmd)?;
	runner.sync_run(|config| match cmd {
		BenchmarkCmd::Pallet(cmd) => {
			// `--runtime <wasm>` benchmarks that blob; otherwise the chain spec's runtime (`--chain`, default local).
			let chain_spec = cmd.runtime.is_none().then_some(config.chain_spec);
			cmd.run_with_spec::<sp_runtime::traits::HashingFor<Block>, ()>(chain_spec)
		}
		BenchmarkCmd::Block(cmd) => {
			let PartialComponents { client, .. } = service::new_partial(&config, None)?;
			cmd.run(client)
		}
		BenchmarkCmd::Storage(cmd) => {
			let PartialComponents { client, backend, .. } = service::new_partial(&config, None)?;
			let db = backend.expose_db();
			let storage = backend.expose_storage();
			let shared_trie_cache = backend.expose_shared_trie_cache();
			cmd.run(config, client, db, storage, shared_trie_cache)
		}
		BenchmarkCmd::Machine(cmd) => cmd.run(&config, SUBSTRATE_REFERENCE_HARDWARE.clone()),
		// It needs a builder of signed extrinsics for this runtime; Herald's weights come from `pallet`. (`overhead`
		// is not in this build at all: vendor/frame-benchmarking-cli, without its `parachain` feature.)
		BenchmarkCmd::Extrinsic(_) => Err(sc_cli::Error::Input(
			"`benchmark extrinsic` is not supported by herald-node; use `benchmark pallet` (frame_system's \
			 benchmarks cover the block and extrinsic base weights)"
				.into(),
		)),
	})
}

/// What `herald-node benchmark` is in a build without benchmarks: it only explains how to get them.
#[cfg(not(feature = "runtime-benchmarks"))]
#[derive(Debug, Clone, clap::Args)]
#[command(disable_help_flag = true)]
pub struct BenchmarksNotBuilt {
	/// Whatever was passed; the command fails the same way for any of it.
	#[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
	args: Vec<String>,
}

/// Fails with how to build a node with benchmarks.
#[cfg(not(feature = "runtime-benchmarks"))]
pub fn run(_cli: &Cli, _cmd: &BenchmarksNotBuilt) -> sc_cli::Result<()> {
	Err(sc_cli::Error::Input(
		"this herald-node was built without benchmarks; build it with \
		 `cargo build -p herald-node --features runtime-benchmarks`, or run scripts/benchmark.sh, which builds it \
		 and regenerates the pallets' weights"
			.into(),
	))
}
