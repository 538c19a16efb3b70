//! Parses the command line and runs the node or a sub-command.

use crate::{
	chain_spec,
	cli::{Cli, Subcommand},
	service,
};
use sc_cli::SubstrateCli;
use sc_service::PartialComponents;

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Herald Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		env!("CARGO_PKG_AUTHORS").into()
	}

	fn support_url() -> String {
		"https://example.invalid/herald/issues".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		Ok(match id {
			"dev" => Box::new(chain_spec::development_chain_spec()?),
			"" | "local" => Box::new(chain_spec::local_chain_spec()?),
			path => Box::new(chain_spec::ChainSpec::from_json_file(std::path::PathBuf::from(path)).map_err(|e| {
				format!(
					"cannot load chain spec {path:?}: {e}; pass `dev`, `local` or the path of a chain spec JSON file"
				)
			})?),
		})
	}
}

/// Parse and run command line arguments.
pub fn run() -> sc_cli::Result<()> {
	let cli = Cli::from_args();
	let sink = crate::event_sink::sink_config(&cli.kafka).map_err(sc_cli::Error::Input)?;
	let follow = crate::follow_rpc::follow_setup(&cli.follow, &cli.kafka).map_err(sc_cli::Error::Input)?;

	match &cli.subcommand {
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			#[allow(deprecated)]
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		}
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } = service::new_partial(&config, None)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		}
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config, None)?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		}
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } = service::new_partial(&config, None)?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		}
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } = service::new_partial(&config, None)?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		}
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.database))
		}
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } = service::new_partial(&config, None)?;
				let aux_revert = Box::new(|client, _, blocks| {
					sc_consensus_grandpa::revert(client, blocks)?;
					Ok(())
				});
				Ok((cmd.run(client, backend, Some(aux_revert)), task_manager))
			})
		}
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<herald_runtime::opaque::Block>(&config))
		}
		Some(Subcommand::KafkaCursor(cmd)) => {
			cmd.check_arguments().map_err(sc_cli::Error::Input)?;
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| {
				// Opening a missing database would create an empty one and report an empty cursor.
				if !database_exists(&config) {
					return Err(sc_cli::Error::Input(format!(
						"no database at {:?}: pass the node's --base-path and --chain (or --dev)",
						config.database.path().unwrap_or(std::path::Path::new("?"))
					)));
				}
				let PartialComponents { client, backend, .. } = service::new_partial(&config, None)?;
				cmd.run(client, backend, &config.data_path).map_err(sc_cli::Error::Input)
			})
		}
		Some(Subcommand::ExportContracts(cmd)) => {
			if cmd.from_file() {
				return cmd.run_from_file().map_err(sc_cli::Error::Input);
			}
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| {
				// Opening a missing database would create an empty one.
				if !database_exists(&config) {
					return Err(sc_cli::Error::Input(format!(
						"no database at {:?}: pass the node's --base-path and --chain (or --dev), or describe a \
						 runtime file with --wasm PATH or --metadata PATH",
						config.database.path().unwrap_or(std::path::Path::new("?"))
					)));
				}
				let PartialComponents { client, .. } = service::new_partial(&config, None)?;
				cmd.run_on_database(client, &config.data_path).map_err(sc_cli::Error::Input)
			})
		}
		Some(Subcommand::Benchmark(cmd)) => crate::benchmarking::run(&cli, cmd),
		None => {
			ensure_ports_free(&cli)?;
			ensure_wasmtime_cache_dir(&cli)?;
			let runner = cli.create_runner(&cli.run)?;
			let sealing = cli.sealing;
			let wasm_cache = cli.wasmtime_cache_dir.clone();
			let pruning_chosen = cli.run.import_params.pruning_params.state_pruning.is_some();
			runner.run_node_until_exit(|mut config| async move {
				if sink.is_some() && !pruning_chosen {
					choose_state_pruning_for_the_sink(&mut config);
				}
				service::new_full::<sc_network::NetworkWorker<_, _>>(
					config,
					sealing,
					sink,
					follow,
					wasm_cache.as_deref(),
				)
				.map_err(sc_cli::Error::Service)
			})
		}
	}
}

/// The sink reads each block's events from its state, possibly long after an outage, so a new database keeps the
/// state of every finalized block (`archive-canonical`). An existing database keeps the pruning mode it was
/// created with: Substrate cannot change it, and refusing to start would take a running validator down.
fn choose_state_pruning_for_the_sink(config: &mut sc_service::Configuration) {
	if database_exists(config) {
		log::warn!(
			target: "herald::kafka",
			"the database at {:?} exists: it keeps the state pruning mode it was created with (Substrate's default \
			 keeps the state of the last 256 finalized blocks). The event sink can only ship blocks whose state is \
			 kept: on a first start choose where it begins with --kafka-start-from (e.g. `latest`), and keep its \
			 outages shorter than the pruning window, or resync with --state-pruning archive-canonical",
			config.database.path().unwrap_or(std::path::Path::new("?")),
		);
	} else {
		config.state_pruning = Some(sc_service::PruningMode::ArchiveCanonical);
	}
}

/// Creates `--wasmtime-cache-dir` up front: sc-executor would only log a warning and compile on every start.
fn ensure_wasmtime_cache_dir(cli: &Cli) -> sc_cli::Result<()> {
	let Some(dir) = &cli.wasmtime_cache_dir else { return Ok(()) };
	std::fs::create_dir_all(dir).map_err(|error| {
		sc_cli::Error::Input(format!(
			"--wasmtime-cache-dir {}: cannot create the directory ({error}); name a writable directory, or leave the \
			 flag out to compile the runtime at every start",
			dir.display()
		))
	})
}

/// Substrate's RPC server quietly moves to a random port when the requested one is taken, which leaves
/// clients talking to nothing. Ports the operator chose explicitly must be free: fail early and say which.
fn ensure_ports_free(cli: &Cli) -> sc_cli::Result<()> {
	let explicit = [
		("--rpc-port", cli.run.rpc_params.rpc_port),
		("--prometheus-port", cli.run.prometheus_params.prometheus_port),
		("--port", cli.run.network_params.port),
	];
	for (flag, port) in explicit {
		let Some(port) = port.filter(|port| *port != 0) else { continue };
		if let Err(error) = std::net::TcpListener::bind(("0.0.0.0", port)) {
			if error.kind() == std::io::ErrorKind::AddrInUse {
				return Err(sc_cli::Error::Input(format!(
					"{flag} {port}: Address already in use; stop the process using it or choose another port"
				)));
			}
		}
	}
	Ok(())
}

/// Whether the node's database directory exists and holds something.
fn database_exists(config: &sc_service::Configuration) -> bool {
	config.database.path().is_some_and(|path| path.read_dir().is_ok_and(|mut entries| entries.next().is_some()))
}
