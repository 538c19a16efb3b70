//! Test harness shared by the end-to-end tests: starts a real `herald-node` process on free ports, talks
//! JSON-RPC to it, builds signed extrinsics for the runtime, and reads `System::Events` back.
//!
//! Every process is owned by a guard that kills it when dropped, so a failing test leaves nothing running.

#![allow(dead_code)]

pub mod kafka;
pub mod tls;

use std::{
	io::{BufRead, BufReader},
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::{Arc, Mutex},
	time::{Duration, Instant},
};

use codec::{Decode, Encode};
use herald_runtime::{Runtime, RuntimeCall, RuntimeEvent, SignedPayload, TxExtension, UncheckedExtrinsic, VERSION};
use serde_json::{json, Value};
use sp_core::{Pair, H256};
use sp_keyring::Sr25519Keyring;
use sp_runtime::generic::Era;

/// `twox_128("System") ++ twox_128("Events")`.
pub const SYSTEM_EVENTS_KEY: &str = "0x26aa394eea5630e07c48ae0c9558cef780d41e5e16056765bc8461851072c9d7";

/// The decoded `System::Events` of a block.
pub type EventRecords = Vec<frame_system::EventRecord<RuntimeEvent, H256>>;

/// A TCP port nobody listens on right now.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `--wasmtime-cache-dir` in cargo's temporary directory for tests: the suite starts a few hundred nodes, and each
/// would otherwise compile the runtime again (about 10 s of CPU). Benchmarks (examples, where cargo sets no such
/// directory) start nodes as an operator does, without it.
fn wasmtime_cache() -> Vec<String> {
	match option_env!("CARGO_TARGET_TMPDIR") {
		Some(dir) => vec!["--wasmtime-cache-dir".into(), format!("{dir}/wasmtime-cache")],
		None => Vec::new(),
	}
}

/// The node's built-in chains (`--dev`, `--chain dev|local`) as raw chain specs, made once per node binary in cargo's
/// temporary directory for tests: a built-in chain's genesis is computed by running the runtime's genesis builder,
/// which compiles the 7 MB runtime in the chain spec's own executor on every start (about 5 s of CPU, beside the
/// block executor's compile that `--wasmtime-cache-dir` saves); a raw spec carries the genesis storage itself. Same
/// genesis, same hash; `--dev` keeps its other meanings (an explicit `--chain` overrides only the chain). Benchmarks
/// (examples, no such directory) start nodes as an operator does, and so does every test with
/// `HERALD_TEST_BUILTIN_CHAIN_SPECS=1`.
fn with_raw_chain_spec(args: &[String]) -> Vec<String> {
	let Some(dir) = option_env!("CARGO_TARGET_TMPDIR") else { return args.to_vec() };
	if std::env::var_os("HERALD_TEST_BUILTIN_CHAIN_SPECS").is_some() {
		return args.to_vec();
	}
	let mut args = args.to_vec();
	if let Some(at) = args.iter().position(|arg| arg == "--chain") {
		if let Some(chain) = args.get(at + 1).filter(|chain| *chain == "dev" || *chain == "local") {
			args[at + 1] = raw_chain_spec(Path::new(dir), &chain.clone());
		}
	} else if args.iter().any(|arg| arg == "--dev") && !args.iter().any(|arg| arg.starts_with("--chain=")) {
		args.extend(["--chain".into(), raw_chain_spec(Path::new(dir), "dev")]);
	}
	args
}

/// `herald-node build-spec --chain CHAIN --raw`, kept under `dir` by the binary's size and modification time (a
/// rebuilt runtime gets a new file). Written to a temporary file and renamed, as tests run in parallel.
fn raw_chain_spec(dir: &Path, chain: &str) -> String {
	let binary = node_binary();
	let metadata = std::fs::metadata(&binary).expect("the herald-node binary exists");
	let built = metadata.modified().unwrap().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
	let dir = dir.join("chain-specs");
	let path = dir.join(format!("{chain}-raw-{}-{built}.json", metadata.len()));
	if !path.exists() {
		std::fs::create_dir_all(&dir).unwrap();
		let base = tempfile::tempdir().unwrap();
		let output = Command::new(&binary)
			.args(["build-spec", "--chain", chain, "--raw", "--disable-default-bootnode", "--base-path"])
			.arg(base.path())
			.output()
			.expect("herald-node runs");
		assert!(
			output.status.success(),
			"herald-node build-spec --chain {chain} --raw failed:\n{}",
			String::from_utf8_lossy(&output.stderr)
		);
		// A temporary file of its own: the tests of one binary run on threads of one process, so a name made
		// from the process id was shared, and a thread's rename could find it already renamed by another.
		let mut temporary = tempfile::NamedTempFile::new_in(&dir).unwrap();
		std::io::Write::write_all(&mut temporary, &output.stdout).unwrap();
		temporary.persist(&path).unwrap();
	}
	path.to_str().expect("a UTF-8 path").to_owned()
}

/// The `herald-node` binary: the one cargo built for these tests, or (for the benchmark example, which cargo
/// doesn't tell) the one next to the running executable's directory, or `HERALD_NODE`.
pub fn node_binary() -> PathBuf {
	if let Some(path) = std::env::var_os("HERALD_NODE") {
		return PathBuf::from(path);
	}
	if let Some(path) = option_env!("CARGO_BIN_EXE_herald-node") {
		return PathBuf::from(path);
	}
	let exe = std::env::current_exe().expect("the running executable has a path");
	exe.parent().and_then(Path::parent).expect("target/<profile>/examples/").join("herald-node")
}

/// An example program of the workspace, which `cargo test --workspace` builds next to the test binaries
/// (`target/<profile>/examples/`).
pub fn example_binary(name: &str) -> PathBuf {
	let exe = std::env::current_exe().expect("the running executable has a path");
	let path = exe.parent().and_then(Path::parent).expect("target/<profile>/deps/").join("examples").join(name);
	assert!(
		path.exists(),
		"{} is not built: run `cargo test --workspace` (which builds the examples), or `cargo build --workspace \
		 --examples`",
		path.display()
	);
	path
}

/// A running `herald-node`, killed on drop. Its output is kept for failure messages.
pub struct NodeProcess {
	child: Mutex<Child>,
	pub rpc_port: u16,
	pub prometheus_port: u16,
	/// The libp2p port (for another node's `--bootnodes`).
	pub p2p_port: u16,
	pub base_path: PathBuf,
	output: Arc<Mutex<Vec<String>>>,
	_temp: Option<tempfile::TempDir>,
}

/// How to start a node.
#[derive(Clone)]
pub struct NodeConfig {
	pub args: Vec<String>,
	/// Reuse this database directory (to restart a node); a fresh temporary one otherwise.
	pub base_path: Option<PathBuf>,
	/// Extra environment variables (e.g. `HERALD_TEST_FAULTS`).
	pub env: Vec<(String, String)>,
}

impl NodeConfig {
	/// A `--dev` node sealing blocks on request.
	pub fn manual_seal() -> Self {
		Self { args: vec!["--dev".into(), "--sealing".into(), "manual".into()], base_path: None, env: Vec::new() }
	}

	pub fn arg(mut self, arg: impl Into<String>) -> Self {
		self.args.push(arg.into());
		self
	}

	pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
		self.env.push((key.into(), value.into()));
		self
	}

	pub fn base_path(mut self, path: &Path) -> Self {
		self.base_path = Some(path.to_path_buf());
		self
	}
}

impl NodeProcess {
	/// Starts the node and waits until its RPC server answers. A port taken by a parallel test between
	/// [`free_port`] and the node's bind (libp2p and Prometheus don't fall back to another one) is retried with
	/// new ports.
	pub fn start(config: NodeConfig) -> Self {
		let mut attempt = 1;
		loop {
			match Self::try_start(config.clone()) {
				Ok(node) => return node,
				Err(log) if attempt < 3 && log.contains("in use") => {
					eprintln!("herald-node could not bind a port (attempt {attempt}), retrying with other ports");
					attempt += 1;
				}
				Err(log) => panic!("herald-node exited before its RPC came up:\n{log}"),
			}
		}
	}

	fn try_start(config: NodeConfig) -> Result<Self, String> {
		let rpc_port = free_port();
		let prometheus_port = free_port();
		let p2p_port = free_port();
		let (temp, base_path) = match config.base_path {
			Some(path) => (None, path),
			None => {
				let temp = tempfile::tempdir().unwrap();
				let path = temp.path().to_path_buf();
				(Some(temp), path)
			}
		};
		let mut command = Command::new(node_binary());
		command
			.args(with_raw_chain_spec(&config.args))
			.arg("--base-path")
			.arg(&base_path)
			.args(["--rpc-port", &rpc_port.to_string()])
			.args(["--port", &p2p_port.to_string()])
			.args(["--prometheus-port", &prometheus_port.to_string()])
			.args(["--no-telemetry", "--no-mdns", "--rpc-max-connections", "1000"])
			.args(if config.args.iter().any(|arg| arg == "--wasmtime-cache-dir") {
				Vec::new()
			} else {
				wasmtime_cache()
			})
			.envs(config.env.iter().map(|(k, v)| (k, v)))
			.stdout(Stdio::null())
			.stderr(Stdio::piped());
		let mut child = command.spawn().expect("herald-node starts");
		let output = Arc::new(Mutex::new(Vec::new()));
		let stderr = child.stderr.take().unwrap();
		let sink = output.clone();
		std::thread::spawn(move || {
			for line in BufReader::new(stderr).lines().map_while(Result::ok) {
				if std::env::var_os("HERALD_TEST_NODE_LOG").is_some() {
					eprintln!("[node {rpc_port}] {line}");
				}
				sink.lock().unwrap().push(line);
			}
		});
		let mut node = NodeProcess {
			child: Mutex::new(child),
			rpc_port,
			prometheus_port,
			p2p_port,
			base_path,
			output,
			_temp: temp,
		};
		node.wait_for_rpc(Duration::from_secs(180))?;
		Ok(node)
	}

	/// Waits for the RPC server to answer. Substrate binds a random port when the one asked for was taken
	/// meanwhile (by a parallel test), so the port is read from the node's own "Running JSON-RPC server" line.
	fn wait_for_rpc(&mut self, timeout: Duration) -> Result<(), String> {
		let deadline = Instant::now() + timeout;
		loop {
			if let Some(port) = self.listening_port("Running JSON-RPC server: addr=127.0.0.1:") {
				self.rpc_port = port;
				break;
			}
			if let Some(status) = self.exit_status() {
				// The reader thread may still be taking the last lines.
				std::thread::sleep(Duration::from_millis(200));
				return Err(format!("exit status {status}\n{}", self.log()));
			}
			assert!(Instant::now() < deadline, "herald-node RPC not up after {timeout:?}:\n{}", self.log());
			std::thread::sleep(Duration::from_millis(100));
		}
		if let Some(port) = self.listening_port("Prometheus exporter started at 127.0.0.1:") {
			self.prometheus_port = port;
		}
		loop {
			if self.try_rpc("system_health", json!([])).is_ok() {
				return Ok(());
			}
			if let Some(status) = self.exit_status() {
				std::thread::sleep(Duration::from_millis(200));
				return Err(format!("exit status {status}\n{}", self.log()));
			}
			assert!(Instant::now() < deadline, "herald-node RPC not up after {timeout:?}:\n{}", self.log());
			std::thread::sleep(Duration::from_millis(200));
		}
	}

	/// The port printed right after `prefix` in the node's log, if such a line was printed yet.
	fn listening_port(&self, prefix: &str) -> Option<u16> {
		let output = self.output.lock().unwrap();
		let line = output.iter().find(|line| line.contains(prefix))?;
		let rest = &line[line.find(prefix)? + prefix.len()..];
		rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
	}

	fn exit_status(&self) -> Option<std::process::ExitStatus> {
		self.child.lock().unwrap().try_wait().ok().flatten()
	}

	/// Waits up to `timeout` for the node to exit by itself; its exit status, if it did.
	pub fn wait_exit(&self, timeout: Duration) -> Option<std::process::ExitStatus> {
		let deadline = Instant::now() + timeout;
		while Instant::now() < deadline {
			if let Some(status) = self.exit_status() {
				return Some(status);
			}
			std::thread::sleep(Duration::from_millis(100));
		}
		None
	}

	/// The node's stderr so far.
	pub fn log(&self) -> String {
		self.output.lock().unwrap().join("\n")
	}

	/// Stops the node gracefully (SIGINT, as an operator's Ctrl-C) and waits for it.
	pub fn stop(self) {
		let pid = self.child.lock().unwrap().id();
		let _ = Command::new("kill").args(["-INT", &pid.to_string()]).status();
		self.wait_exit(Duration::from_secs(30));
	}

	/// Kills the node with SIGKILL (a crash: nothing is flushed or shut down) and waits for it to be gone.
	pub fn kill9(self) {
		let pid = self.child.lock().unwrap().id();
		let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
		self.wait_exit(Duration::from_secs(30));
	}

	pub fn rpc_url(&self) -> String {
		format!("http://127.0.0.1:{}", self.rpc_port)
	}

	pub fn try_rpc(&self, method: &str, params: Value) -> Result<Value, String> {
		let response = ureq::post(&self.rpc_url())
			.timeout(Duration::from_secs(60))
			.send_json(json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}))
			.map_err(|e| e.to_string())?;
		let body: Value = response.into_json().map_err(|e| e.to_string())?;
		match body.get("error") {
			Some(error) => Err(format!("{method}: {error}")),
			None => Ok(body["result"].clone()),
		}
	}

	/// Calls a JSON-RPC method and returns its result; panics with the node's log on error.
	pub fn rpc(&self, method: &str, params: Value) -> Value {
		self.try_rpc(method, params).unwrap_or_else(|e| panic!("RPC failed: {e}\nnode log:\n{}", self.log()))
	}

	/// Calls a JSON-RPC method that is expected to fail; returns the error text.
	pub fn rpc_err(&self, method: &str, params: Value) -> String {
		self.try_rpc(method, params).expect_err("the RPC call should fail")
	}

	pub fn genesis_hash(&self) -> H256 {
		parse_hash(&self.rpc("chain_getBlockHash", json!([0])))
	}

	pub fn best_hash(&self) -> H256 {
		parse_hash(&self.rpc("chain_getBlockHash", json!([])))
	}

	pub fn finalized_hash(&self) -> H256 {
		parse_hash(&self.rpc("chain_getFinalizedHead", json!([])))
	}

	pub fn block_number(&self, hash: H256) -> u32 {
		let header = self.rpc("chain_getHeader", json!([hash]));
		u32::from_str_radix(header["number"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
	}

	/// The number of the node's finalized head.
	pub fn finalized_number(&self) -> u32 {
		self.block_number(self.finalized_hash())
	}

	/// The last `lines` lines of the node's stderr (for a failure message).
	pub fn log_tail(&self, lines: usize) -> String {
		let output = self.output.lock().unwrap();
		output[output.len().saturating_sub(lines)..].join("\n")
	}

	/// Seals a block (manual seal) on `parent` (the best block when `None`); returns its hash.
	pub fn seal_block(&self, finalize: bool, parent: Option<H256>) -> H256 {
		let created = self.rpc("engine_createBlock", json!([true, finalize, parent]));
		parse_hash(&created["hash"])
	}

	/// The pool's ready transactions, counted against the best block: (those the block included, the others).
	fn ready_against_best(&self) -> (usize, usize) {
		let block = self.rpc("chain_getBlock", json!([]));
		let included: Vec<&Value> = block["block"]["extrinsics"].as_array().into_iter().flatten().collect();
		let pending = self.rpc("author_pendingExtrinsics", json!([]));
		let (stale, new): (Vec<&Value>, Vec<&Value>) =
			pending.as_array().into_iter().flatten().partition(|tx| included.contains(tx));
		(stale.len(), new.len())
	}

	/// Waits (up to 10 s) until the transaction pool follows the best block: its ready list carries none of the
	/// transactions the best block included. The fork-aware pool builds a new block's view in the background, and a
	/// transaction submitted meanwhile reaches the older views and the mempool but not the view being built, which
	/// gets it only at the next block (polkadot-sdk issue 10104): a test would seal its block without it (seen in
	/// cold CI runs, where a just-built node is slow). A block without pool transactions shows nothing to wait for.
	fn wait_for_pool_to_follow_best(&self) {
		let deadline = Instant::now() + Duration::from_secs(10);
		loop {
			let (stale, _) = self.ready_against_best();
			if stale == 0 {
				return;
			}
			assert!(
				Instant::now() < deadline,
				"the pool still lists {stale} transactions of the best block after 10 s:\n{}",
				self.log_tail(20)
			);
			std::thread::sleep(Duration::from_millis(10));
		}
	}

	/// Waits (up to 10 s) until the pool holds `extrinsics` ready transactions that the best block does not carry: a
	/// transaction submitted right after a block is revalidated against it first, and a block sealed before that
	/// would leave it out. The pool's view of the new block is built asynchronously too, so until then it still lists
	/// what that block included; counting those let a test seal before its own transaction was ready.
	pub fn wait_for_pending(&self, extrinsics: usize) {
		let deadline = Instant::now() + Duration::from_secs(10);
		loop {
			let (_, new) = self.ready_against_best();
			if new >= extrinsics {
				return;
			}
			assert!(
				Instant::now() < deadline,
				"the pool held {new} new ready transactions after 10 s, expected {extrinsics}:\n{}",
				self.log_tail(20)
			);
			std::thread::sleep(Duration::from_millis(20));
		}
	}

	/// Finalizes `hash` (manual seal).
	pub fn finalize(&self, hash: H256) {
		let done = self.rpc("engine_finalizeBlock", json!([hash, null]));
		assert_eq!(done, json!(true), "engine_finalizeBlock({hash:?}) returned {done}");
		// Manual seal answers `true` even when the client refused to finalize: check the finalized head.
		let number = self.block_number(hash);
		let deadline = Instant::now() + Duration::from_secs(10);
		while self.finalized_number() < number {
			assert!(
				Instant::now() < deadline,
				"engine_finalizeBlock({hash:?}) answered true, but the node did not finalize #{number}:\n{}",
				self.log_tail(20)
			);
			std::thread::sleep(Duration::from_millis(50));
		}
	}

	/// The `spec_version` of the runtime at the best block (a runtime upgrade changes it).
	pub fn spec_version(&self) -> u32 {
		self.rpc("state_getRuntimeVersion", json!([]))["specVersion"].as_u64().expect("specVersion") as u32
	}

	/// The next nonce of `who`, counting transactions in the pool.
	pub fn nonce(&self, who: Sr25519Keyring) -> u32 {
		self.rpc("system_accountNextIndex", json!([who.to_account_id().to_string()])).as_u64().unwrap() as u32
	}

	/// Signs `call` as `signer` (next nonce) and submits it to the pool; returns the extrinsic hash.
	///
	/// Right after a block is sealed, the pool may still count the transaction that block included (its view of
	/// the new block is built asynchronously), so the nonce it reports can be one too low: the pool then refuses
	/// the transaction as a replacement ("Priority is too low"), as already known when the stale nonce rebuilds a
	/// transaction the last block included byte for byte ("Transaction Already Imported"), or as outdated; the
	/// submission is then retried with a fresh nonce (and the current spec_version).
	///
	/// A refused submission may still be in the pool: the fork-aware pool answers from the views it has, and a view
	/// it builds meanwhile revalidates what was just submitted (seen right after a runtime upgrade: the old
	/// runtime's view refused "bad signature", the new block's view kept it, and a retry with the next nonce put the
	/// call in the block twice). So before each retry the pool is asked for every earlier attempt, and one it holds
	/// is the answer; the nonce is read first, so a nonce that counts an attempt comes with a pool that shows it.
	pub fn submit(&self, signer: Sr25519Keyring, call: RuntimeCall) -> H256 {
		self.wait_for_pool_to_follow_best();
		let deadline = Instant::now() + Duration::from_secs(10);
		let mut attempts: Vec<String> = Vec::new();
		loop {
			let nonce = self.nonce(signer);
			if !attempts.is_empty() {
				let pending = self.rpc("author_pendingExtrinsics", json!([]));
				let pending: Vec<&str> = pending.as_array().into_iter().flatten().filter_map(Value::as_str).collect();
				if let Some(held) = attempts.iter().find(|attempt| pending.contains(&attempt.as_str())) {
					return extrinsic_hash(held);
				}
			}
			let extrinsic =
				signed_extrinsic_for_spec(call.clone(), signer, nonce, self.genesis_hash(), self.spec_version());
			let hex = format!("0x{}", hex::encode(extrinsic.encode()));
			match self.try_rpc("author_submitExtrinsic", json!([hex.clone()])) {
				Ok(hash) => return parse_hash(&hash),
				// These very bytes were refused by one view and kept by another on an earlier attempt.
				Err(error) if error.contains("Already Imported") && attempts.contains(&hex) => {
					return extrinsic_hash(&hex)
				}
				// Likewise right after a runtime upgrade: the pool may still validate against the old runtime's
				// spec_version (part of the signed payload) while the best block already has the new one.
				Err(error)
					if (error.contains("Priority is too low")
						|| error.contains("Already Imported")
						|| error.contains("outdated")
						|| error.contains("bad signature"))
						&& Instant::now() < deadline =>
				{
					attempts.push(hex);
					std::thread::sleep(Duration::from_millis(20))
				}
				Err(error) => panic!("RPC failed: {error}\nnode log:\n{}", self.log()),
			}
		}
	}

	/// The decoded `System::Events` of block `hash`.
	pub fn events(&self, hash: H256) -> EventRecords {
		let raw = self.rpc("state_getStorage", json!([SYSTEM_EVENTS_KEY, hash]));
		let Some(raw) = raw.as_str() else { return Vec::new() };
		let bytes = hex::decode(raw.trim_start_matches("0x")).unwrap();
		EventRecords::decode(&mut &bytes[..]).expect("System::Events decodes with the runtime's types")
	}

	/// The node's process id.
	pub fn pid(&self) -> u32 {
		self.child.lock().unwrap().id()
	}

	/// Resident memory of the node process, in KiB.
	pub fn rss_kib(&self) -> u64 {
		self.status_kib("VmRSS:")
	}

	/// The most resident memory the node process had so far, in KiB.
	pub fn peak_rss_kib(&self) -> u64 {
		self.status_kib("VmHWM:")
	}

	/// Resident memory of the node that is not backed by files (its heap), in KiB: unlike [`Self::rss_kib`], not
	/// counting the database's memory-mapped files.
	pub fn rss_anon_kib(&self) -> u64 {
		self.status_kib("RssAnon:")
	}

	fn status_kib(&self, field: &str) -> u64 {
		let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
		status
			.lines()
			.find_map(|line| line.strip_prefix(field))
			.and_then(|value| value.split_whitespace().next()?.parse().ok())
			.unwrap_or(0)
	}

	/// CPU time the node process used so far (user + system, all threads), in seconds.
	pub fn cpu_seconds(&self) -> f64 {
		process_cpu_seconds(self.pid())
	}

	pub fn submit_extrinsic(&self, extrinsic: &UncheckedExtrinsic) -> Result<H256, String> {
		let hex = format!("0x{}", hex::encode(extrinsic.encode()));
		self.try_rpc("author_submitExtrinsic", json!([hex])).map(|hash| parse_hash(&hash))
	}

	/// The node's Prometheus exposition text. A request the endpoint drops is tried again for up to 2 s (seen once,
	/// with four test lanes: a connection reset while reading the status line, the node alive); a node that exited
	/// fails at once, with its log.
	pub fn metrics(&self) -> String {
		let deadline = Instant::now() + Duration::from_secs(2);
		loop {
			let answer = ureq::get(&format!("http://127.0.0.1:{}/metrics", self.prometheus_port))
				.call()
				.map_err(|error| error.to_string())
				.and_then(|response| response.into_string().map_err(|error| error.to_string()));
			match answer {
				Ok(text) => return text,
				Err(error) => {
					if let Some(status) = self.exit_status() {
						panic!(
							"the node exited ({status}) before its metrics answered\n--- node ---\n{}",
							self.log_tail(60)
						);
					}
					assert!(
						Instant::now() < deadline,
						"metrics endpoint answers: {error}\n--- node ---\n{}",
						self.log_tail(60)
					);
					std::thread::sleep(Duration::from_millis(100));
				}
			}
		}
	}
}

impl Drop for NodeProcess {
	fn drop(&mut self) {
		let child = self.child.get_mut().unwrap();
		let _ = child.kill();
		let _ = child.wait();
	}
}

/// Submits busy block number `i`'s extrinsics: a transfer from Alice (amount `UNIT + i`) and, every third one, an
/// asset creation by Charlie (asset `100 + i`, so keyed messages spread over partitions). `i` never repeats within
/// a chain, so neither do amounts and asset ids.
pub fn submit_busy_extrinsics(node: &NodeProcess, i: u32) {
	use herald_runtime::{AssetsCall, BalancesCall, UNIT};
	use sp_keyring::Sr25519Keyring::{Alice, Bob, Charlie};
	node.submit(
		Alice,
		RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
			dest: Bob.to_account_id().into(),
			value: UNIT + i as u128,
		}),
	);
	if i % 3 == 0 {
		node.submit(
			Charlie,
			RuntimeCall::Assets(AssetsCall::create {
				id: (100 + i).into(),
				admin: Charlie.to_account_id().into(),
				min_balance: 1,
			}),
		);
	}
}

/// The hash the pool gives the extrinsic `hex` (`0x`-prefixed SCALE bytes): blake2-256 of its bytes.
fn extrinsic_hash(hex: &str) -> H256 {
	H256(sp_io::hashing::blake2_256(&hex::decode(hex.trim_start_matches("0x")).unwrap()))
}

pub fn parse_hash(value: &Value) -> H256 {
	let text = value.as_str().unwrap_or_else(|| panic!("expected a hash, got {value}"));
	let bytes = hex::decode(text.trim_start_matches("0x")).unwrap();
	H256::from_slice(&bytes)
}

/// A signed, immortal extrinsic with the runtime's transaction extensions.
pub fn signed_extrinsic(call: RuntimeCall, signer: Sr25519Keyring, nonce: u32, genesis: H256) -> UncheckedExtrinsic {
	signed_extrinsic_for_spec(call, signer, nonce, genesis, VERSION.spec_version)
}

/// As [`signed_extrinsic`], for a chain whose runtime is at `spec_version` (it is part of the signed payload).
pub fn signed_extrinsic_for_spec(
	call: RuntimeCall,
	signer: Sr25519Keyring,
	nonce: u32,
	genesis: H256,
	spec_version: u32,
) -> UncheckedExtrinsic {
	let tx_ext: TxExtension = (
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(Era::Immortal),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
		frame_system::WeightReclaim::<Runtime>::new(),
	);
	// What the extensions add to the signed payload without being in the extrinsic itself.
	let implicit = ((), spec_version, VERSION.transaction_version, genesis, genesis, (), (), (), ());
	let payload = SignedPayload::from_raw(call.clone(), tx_ext.clone(), implicit);
	let signature = payload.using_encoded(|bytes| signer.pair().sign(bytes));
	UncheckedExtrinsic::new_signed(call, signer.to_account_id().into(), signature.into(), tx_ext)
}

/// The sum of a metric's samples over all its label sets in a Prometheus exposition, if it has any.
pub fn metric(exposition: &str, name: &str) -> Option<f64> {
	let samples: Vec<f64> = exposition
		.lines()
		.filter(|line| line.strip_prefix(name).is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' ')))
		.filter_map(|line| line.rsplit(' ').next()?.parse().ok())
		.collect();
	(!samples.is_empty()).then(|| samples.iter().sum())
}

/// CPU time process `pid` used so far (user + system, all threads), in seconds; 0 when it is gone.
pub fn process_cpu_seconds(pid: u32) -> f64 {
	let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
	// Fields after the command name (which may hold spaces) start at the last ')'; utime and stime are the 14th
	// and 15th fields of the line, in clock ticks.
	let fields: Vec<&str> =
		stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
	let ticks: f64 = fields.get(11..13).map_or(0.0, |f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum());
	ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}
