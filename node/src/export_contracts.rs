//! `herald-node export-contracts --out DIR`: the event contracts of what this node ships (JSON Schemas per
//! envelope kind and per topic, an AsyncAPI 3.0 document, a Markdown catalog), derived from a runtime's metadata
//! and the sink's mapping flags. The runtime comes from a stopped node's database (`--chain`/`--dev`,
//! `--base-path`, `--at`), a runtime wasm (`--wasm`) or a SCALE metadata file (`--metadata`).

use std::{
	path::{Path, PathBuf},
	sync::Arc,
};

use herald_event_sink::contract::{self, export, Contract, Routing, RuntimeLabel};
use sc_cli::{CliConfiguration, DatabaseParams, SharedParams};
use sc_client_api::HeaderBackend;
use sp_api::{Core, Metadata, ProvideRuntimeApi};

use crate::service::{FullClient, HostFunctions};

/// Metadata versions Herald reads, newest first.
const METADATA_VERSIONS: [u32; 3] = [16, 15, 14];

/// The `export-contracts` sub-command.
#[derive(Debug, clap::Parser)]
pub struct ExportContractsCmd {
	/// The directory to write to (created if missing; its generated sub-directories are replaced).
	#[arg(long, value_name = "DIR")]
	pub out: PathBuf,

	/// With a database: the block whose runtime to describe, by number or 0x hash. Default: the finalized head.
	#[arg(long, value_name = "N|HASH", conflicts_with_all = ["wasm", "metadata"])]
	pub at: Option<String>,

	/// Describe this runtime wasm (`.wasm` or `.compact.compressed.wasm`) instead of a database's.
	#[arg(long, value_name = "PATH", conflicts_with = "metadata")]
	pub wasm: Option<PathBuf>,

	/// Describe this runtime metadata instead of a database's: a SCALE `RuntimeMetadataPrefixed` (V14, V15 or
	/// V16), as bytes or 0x hex, also inside the `OpaqueMetadata` of `state_getMetadata` or the
	/// `Option<OpaqueMetadata>` of `Metadata_metadata_at_version`.
	#[arg(long, value_name = "PATH")]
	pub metadata: Option<PathBuf>,

	/// As the sink's flag: a TOML file of event mappings laid over the runtime's built-in table.
	#[arg(long, value_name = "PATH")]
	pub kafka_mappings: Option<PathBuf>,

	/// As the sink's flag: topics are `<prefix>.<topic>`.
	#[arg(long, value_name = "PREFIX", default_value = "herald", value_parser = crate::cli::parse_topic_prefix)]
	pub kafka_topic_prefix: String,

	/// As the sink's flag: events without a mapping are not shipped (nor described).
	#[arg(long)]
	pub kafka_skip_unmapped: bool,

	/// As the sink's flag: the partitions of the topics it creates (the AsyncAPI channels' binding).
	#[arg(long, value_name = "COUNT", default_value_t = 3, value_parser = clap::value_parser!(i32).range(1..=100_000))]
	pub kafka_topic_partitions: i32,

	/// Compare with the contract exported before to DIR (its `metadata.scale`, with this command's mapping flags):
	/// writes `changes.json` and `changes.md` (each event added, removed, changed compatibly or incompatibly).
	#[arg(long, value_name = "DIR")]
	pub compare_with: Option<PathBuf>,

	/// The brokers, for the AsyncAPI document's servers (nothing is connected to).
	#[arg(long, value_name = "HOST:PORT[,HOST:PORT...]")]
	pub kafka_brokers: Option<String>,

	#[allow(missing_docs)]
	#[clap(flatten)]
	pub shared_params: SharedParams,

	#[allow(missing_docs)]
	#[clap(flatten)]
	pub database_params: DatabaseParams,
}

impl CliConfiguration for ExportContractsCmd {
	fn shared_params(&self) -> &SharedParams {
		&self.shared_params
	}

	fn database_params(&self) -> Option<&DatabaseParams> {
		Some(&self.database_params)
	}
}

impl ExportContractsCmd {
	/// Whether the runtime comes from a file rather than a database.
	pub fn from_file(&self) -> bool {
		self.wasm.is_some() || self.metadata.is_some()
	}

	/// The mapping table and flags, as the sink builds them.
	fn routing(&self) -> Result<Routing, String> {
		let mappings = crate::event_sink::load_mappings(self.kafka_mappings.as_deref(), self.kafka_skip_unmapped)?;
		Ok(Routing {
			mappings,
			topic_prefix: self.kafka_topic_prefix.clone(),
			partitions: self.kafka_topic_partitions,
			brokers: self.kafka_brokers.clone(),
		})
	}

	/// `--wasm` or `--metadata`: no database.
	pub fn run_from_file(&self) -> Result<(), String> {
		let routing = self.routing()?;
		let (metadata, label) = if let Some(path) = &self.wasm {
			metadata_of_wasm(path)?
		} else {
			let path = self.metadata.as_ref().expect("from_file");
			let raw =
				std::fs::read(path).map_err(|e| format!("--metadata {}: cannot read it ({e})", path.display()))?;
			let metadata =
				contract::normalize_metadata(&raw).map_err(|e| format!("--metadata {}: {e}", path.display()))?;
			(metadata, RuntimeLabel { origin: format!("metadata file {}", file_name(path)), ..Default::default() })
		};
		self.write(&metadata, label, routing)
	}

	/// A stopped node's database, at `--at` (default: the finalized head).
	pub fn run_on_database(&self, client: Arc<FullClient>, data_path: &Path) -> Result<(), String> {
		let routing = self.routing()?;
		let info = client.info();
		let (hash, number) = match self.at.as_deref().map(str::trim) {
			None => (info.finalized_hash, info.finalized_number),
			Some(at) if at.starts_with("0x") => {
				let hash: herald_runtime::Hash = at
					.parse()
					.map_err(|_| format!("--at {at}: not a block hash (0x and 64 hex digits) nor a number"))?;
				let number = client
					.number(hash)
					.map_err(|e| e.to_string())?
					.ok_or_else(|| format!("--at {at}: no such block in this database (best #{})", info.best_number))?;
				(hash, number)
			}
			Some(at) => {
				let number: u32 = at.parse().map_err(|_| format!("--at {at}: not a block number nor a 0x hash"))?;
				let hash = client.hash(number).map_err(|e| e.to_string())?.ok_or_else(|| {
					format!(
						"--at {number}: this database has no block #{number} (best #{}, finalized #{}): choose \
						 another block or pass the node's --base-path and --chain",
						info.best_number, info.finalized_number
					)
				})?;
				(hash, number)
			}
		};
		let api = client.runtime_api();
		let state_hint = |e: sp_api::ApiError| {
			format!(
				"the runtime of block #{number} can't be run ({e}): its state may be pruned (the node keeps the \
				 state of recent blocks only, unless it runs with --state-pruning archive or archive-canonical): \
				 choose a recent block with --at"
			)
		};
		let version = api.version(hash).map_err(state_hint)?;
		let offered = api.metadata_versions(hash).map_err(state_hint)?;
		let metadata_version = METADATA_VERSIONS.into_iter().find(|v| offered.contains(v)).ok_or_else(|| {
			format!("the runtime of block #{number} offers metadata versions {offered:?}; Herald reads 14 to 16")
		})?;
		let metadata = api
			.metadata_at_version(hash, metadata_version)
			.map_err(state_hint)?
			.ok_or_else(|| format!("the runtime of block #{number} has no metadata version {metadata_version}"))?;
		let label = RuntimeLabel {
			origin: format!("block #{number} of the database at {}", data_path.display()),
			spec_name: Some(version.spec_name.to_string()),
			spec_version: Some(version.spec_version),
		};
		self.write(&metadata, label, routing)
	}

	fn write(&self, metadata: &[u8], label: RuntimeLabel, routing: Routing) -> Result<(), String> {
		let previous = match &self.compare_with {
			Some(dir) => Some(previous_contract(dir, routing.clone())?),
			None => None,
		};
		let contract = Contract::build(metadata, label, routing)?;
		let written = export::write(&contract, &self.out)?;
		std::fs::write(self.out.join("metadata.scale"), metadata)
			.map_err(|e| format!("cannot write {}: {e}", self.out.join("metadata.scale").display()))?;
		println!(
			"wrote the contracts of {} (metadata V{}) to {}: {} runtime events shipped ({} not), {} envelope kinds, {} \
			 topics, {} files",
			describe(&contract.runtime),
			contract.metadata_version,
			self.out.display(),
			written.events,
			contract.skipped.len(),
			written.kinds,
			written.topics,
			written.files + 1
		);
		if let Some(previous) = previous {
			let changes = contract::diff::compare(&previous, &contract);
			let json = serde_json::to_string_pretty(&contract::diff::to_json(&changes)).map_err(|e| e.to_string())?;
			std::fs::write(self.out.join("changes.json"), json + "\n")
				.map_err(|e| format!("cannot write changes.json: {e}"))?;
			std::fs::write(self.out.join("changes.md"), contract::diff::to_markdown(&previous, &contract, &changes))
				.map_err(|e| format!("cannot write changes.md: {e}"))?;
			let count = |label: &str| changes.iter().filter(|c| c.change.label() == label).count();
			println!(
				"compared with {}: {} added, {} removed, {} changed compatibly, {} changed incompatibly (changes.md)",
				describe(&previous.runtime),
				count("added"),
				count("removed"),
				count("changed compatibly"),
				count("changed incompatibly")
			);
		}
		Ok(())
	}
}

/// The contract of an earlier export (its `metadata.scale`), under `routing`.
fn previous_contract(dir: &Path, routing: Routing) -> Result<Contract, String> {
	let path = dir.join("metadata.scale");
	let raw = std::fs::read(&path).map_err(|e| {
		format!(
			"--compare-with {}: cannot read {} ({e}): pass a directory export-contracts wrote",
			dir.display(),
			path.display()
		)
	})?;
	let metadata = contract::normalize_metadata(&raw).map_err(|e| format!("--compare-with {}: {e}", path.display()))?;
	let summary: Option<serde_json::Value> =
		std::fs::read(dir.join("contract.json")).ok().and_then(|text| serde_json::from_slice(&text).ok());
	let runtime = summary.as_ref().map(|summary| &summary["runtime"]);
	let label = RuntimeLabel {
		origin: format!("the export in {}", dir.display()),
		spec_name: runtime.and_then(|r| r["spec_name"].as_str()).map(String::from),
		spec_version: runtime.and_then(|r| r["spec_version"].as_u64()).map(|v| v as u32),
	};
	Contract::build(&metadata, label, routing).map_err(|e| format!("--compare-with {}: {e}", dir.display()))
}

fn describe(runtime: &RuntimeLabel) -> String {
	match (&runtime.spec_name, runtime.spec_version) {
		(Some(name), Some(version)) => format!("runtime {name} {version} ({})", runtime.origin),
		_ => runtime.origin.clone(),
	}
}

fn file_name(path: &Path) -> String {
	path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string())
}

/// Runs a runtime wasm's `Metadata_metadata_at_version` (16, 15, then 14) or `Metadata_metadata`, and reads its
/// version.
fn metadata_of_wasm(path: &Path) -> Result<(Vec<u8>, RuntimeLabel), String> {
	use sc_executor::RuntimeVersionOf;
	use sp_core::traits::{CallContext, CodeExecutor, RuntimeCode, WrappedRuntimeCode};

	let code = std::fs::read(path).map_err(|e| format!("--wasm {}: cannot read it ({e})", path.display()))?;
	let not_a_runtime = |what: String| {
		format!(
			"--wasm {}: not a runtime wasm ({what}); pass a runtime's .wasm or .compact.compressed.wasm (e.g. \
			 target/release/wbuild/herald-runtime/herald_runtime.compact.compressed.wasm)",
			path.display()
		)
	};
	let executor = sc_executor::WasmExecutor::<HostFunctions>::builder().build();
	let fetch = WrappedRuntimeCode(code.as_slice().into());
	let runtime_code =
		RuntimeCode { code_fetcher: &fetch, heap_pages: None, hash: sp_io::hashing::blake2_256(&code).to_vec() };
	let mut externalities = sp_io::TestExternalities::default();
	let mut ext = externalities.ext();
	let version = executor.runtime_version(&mut ext, &runtime_code).map_err(|e| not_a_runtime(e.to_string()))?;
	let mut call = |method: &str, data: &[u8]| {
		executor.call(&mut ext, &runtime_code, method, data, CallContext::Offchain).0.map_err(|e| e.to_string())
	};
	let mut metadata = None;
	for metadata_version in METADATA_VERSIONS {
		if let Ok(answer) = call("Metadata_metadata_at_version", &metadata_version.to_le_bytes()) {
			// `Option<OpaqueMetadata>`: 0 for None.
			if answer.first() == Some(&1) {
				metadata = Some(answer);
				break;
			}
		}
	}
	let answer = match metadata {
		Some(answer) => answer,
		None => call("Metadata_metadata", &[]).map_err(|e| not_a_runtime(format!("no Metadata runtime API: {e}")))?,
	};
	let metadata = contract::normalize_metadata(&answer).map_err(not_a_runtime)?;
	let label = RuntimeLabel {
		origin: format!("runtime wasm {}", file_name(path)),
		spec_name: Some(version.spec_name.to_string()),
		spec_version: Some(version.spec_version),
	};
	Ok((metadata, label))
}
