//! The README's commands, run as written. README.md is read when the tests are compiled (`include_str!`), and
//! every `herald-node` line of its fenced shell blocks (`sh`, `bash`, `shell`; `\` continuations joined, `#`
//! comments dropped, words split as the shell does with simple quotes) is run with the harness of `common`:
//!
//! - `--dev` lines: each node must produce and finalize block #1: by itself with normal consensus, on a transfer
//!   with `--sealing instant`, on the README's `curl` call(s) with `--sealing manual`; a node with the sink must
//!   also ship a final block ≥ #1 to Kafka (its `BlockFinalized`, or its `BlockCreated` shipped final).
//! - a block that starts several nodes (the two validators): started in order, they must all be peers within 60 s
//!   through what the README gives them (its `--bootnodes`; mDNS is off), then GRANDPA must finalize #3 on every
//!   one. The README's advice after the block, "Add `--kafka-brokers … --kafka-follow best` to either node", is
//!   applied to the first node, which must then ship a final block ≥ #1 (in best mode, after not final ones).
//! - any other line: a node must start, and with the sink ship the genesis block final (a validator of a
//!   two-authority chain alone neither authors nor finalizes); a sub-command (`herald-node key …`) must exit 0.
//! - `./scripts/dev.sh ARGS` (in a shell block or inline code): the script's node line `"$NODE" … "$@"` with
//!   `"$@"` as `ARGS`, run as a `--dev` line; it must have the sink.
//!
//! Each word is passed as written, so a typo, a removed flag or a wrong value in the README fails here, except
//! these rewrites, for what would collide on a shared CI machine or with the harness (which passes its own
//! `--base-path`, `--rpc-port`, `--port`, `--prometheus-port`, `--no-telemetry`, `--no-mdns` and
//! `--rpc-max-connections`):
//!
//! - `--port`, `--rpc-port`, `--prometheus-port` and their values are dropped: the harness picks free ports.
//!   (The README's own ports are checked separately: nodes it starts together must not share one.)
//! - `--base-path P` (or `-d P`) is dropped; the node runs in a temporary directory, the same one for every command
//!   of a test that names the same `P`.
//! - `--no-telemetry`, `--no-mdns` and `--rpc-max-connections N` are dropped, as the harness passes them.
//! - each broker of `--kafka-brokers` (`host:9092`, `kafka-1:9092,kafka-2:9092`, scripts/dev.sh's
//!   `127.0.0.1:$BROKER_PORT`, …) becomes the address of a test broker (`common::kafka::Broker`), the list keeping
//!   its length.
//! - in a `/p2p/` multiaddr (a bootnode), `/tcp/PORT/` becomes the real p2p port of the README node started before
//!   it whose `--port` is `PORT` (30333, Substrate's default, when it gives none). The peer id is kept.
//! - a `curl` JSON-RPC call (one with a `-d` body naming a `method`) goes to the node's real RPC port, whatever
//!   its URL says; its headers and body are sent as written.
//!
//! `the_readme_has_the_commands_this_test_runs` fails if the README no longer has a development command, both
//! validator commands or a `./scripts/dev.sh` call, so a restructured README can't pass by offering nothing.

use crate::common;
use std::{
	collections::BTreeMap,
	panic::{catch_unwind, AssertUnwindSafe},
	time::{Duration, Instant},
};

use crate::common::{
	kafka::{Broker, Record},
	NodeConfig, NodeProcess,
};
use herald_runtime::{BalancesCall, RuntimeCall, UNIT};
use serde_json::{json, Value};
use sp_keyring::Sr25519Keyring::{Alice, Bob};

const README: &str = include_str!("../../../README.md");
const DEV_SCRIPT: &str = include_str!("../../../scripts/dev.sh");

const TIMEOUT: Duration = Duration::from_secs(90);
/// Substrate's default p2p port, for a README node that gives no `--port`.
const DEFAULT_P2P_PORT: u16 = 30333;

/// Splits a shell command line into words: whitespace separates words outside quotes, `'…'` quotes literally,
/// `"…"` quotes with `\` escaping `"`, `\`, `$` and `` ` ``, a `\` outside quotes escapes the next character, and
/// a `#` that begins a word begins a comment. Variables are not expanded.
fn words(line: &str) -> Vec<String> {
	let mut words = Vec::new();
	let mut word: Option<String> = None;
	let mut chars = line.chars();
	while let Some(c) = chars.next() {
		match c {
			c if c.is_whitespace() => words.extend(word.take()),
			'#' if word.is_none() => break,
			'\'' => {
				let word = word.get_or_insert_with(String::new);
				loop {
					match chars.next() {
						Some('\'') => break,
						Some(c) => word.push(c),
						None => panic!("unterminated ' in {line:?}"),
					}
				}
			}
			'"' => {
				let word = word.get_or_insert_with(String::new);
				loop {
					match chars.next() {
						Some('"') => break,
						Some('\\') => match chars.next() {
							Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
							Some(c) => {
								word.push('\\');
								word.push(c);
							}
							None => panic!("unterminated \" in {line:?}"),
						},
						Some(c) => word.push(c),
						None => panic!("unterminated \" in {line:?}"),
					}
				}
			}
			'\\' => word.get_or_insert_with(String::new).extend(chars.next()),
			c => word.get_or_insert_with(String::new).push(c),
		}
	}
	words.extend(word);
	words
}

/// Shell lines with their `\` continuations joined (each piece trimmed).
fn logical_lines<'a>(lines: impl IntoIterator<Item = &'a str>) -> Vec<String> {
	let mut joined = Vec::new();
	let mut pending = String::new();
	for line in lines {
		match line.trim_end().strip_suffix('\\') {
			Some(part) => {
				pending.push_str(part.trim());
				pending.push(' ');
			}
			None => {
				pending.push_str(line.trim());
				joined.push(std::mem::take(&mut pending));
			}
		}
	}
	if !pending.trim().is_empty() {
		joined.push(pending);
	}
	joined
}

/// The inline code spans of Markdown prose (tables left out), whitespace collapsed.
fn inline_code(prose: &str) -> Vec<String> {
	let text = prose.lines().filter(|line| !line.trim_start().starts_with('|')).collect::<Vec<_>>().join("\n");
	let mut spans = Vec::new();
	for paragraph in text.split("\n\n") {
		for span in paragraph.split('`').skip(1).step_by(2) {
			spans.push(span.split_whitespace().collect::<Vec<_>>().join(" "));
		}
	}
	spans
}

fn has_flag(args: &[String], flag: &str) -> bool {
	args.iter().any(|arg| arg == flag || arg.strip_prefix(flag).is_some_and(|rest| rest.starts_with('=')))
}

/// The value of `flag` (`--flag VALUE` or `--flag=VALUE`), the first if it is repeated.
fn value_of(args: &[String], flag: &str) -> Option<String> {
	args.iter().enumerate().find_map(|(i, arg)| {
		if arg == flag {
			args.get(i + 1).cloned()
		} else {
			arg.strip_prefix(flag)?.strip_prefix('=').map(str::to_string)
		}
	})
}

/// `NAME=value`, an environment assignment before a command.
fn is_assignment(word: &str) -> bool {
	word.split_once('=').is_some_and(|(name, _)| {
		!name.is_empty()
			&& !name.starts_with(|c: char| c.is_ascii_digit())
			&& name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
	})
}

/// A command line of a fenced shell block: as written (continuations joined) and split into words.
#[derive(Debug, Clone)]
struct ShellLine {
	text: String,
	words: Vec<String>,
}

/// A `herald-node` command: its arguments (the program's path stripped) and the line as written.
#[derive(Debug, Clone)]
struct NodeCommand {
	text: String,
	args: Vec<String>,
}

impl NodeCommand {
	/// The command of a line that runs `herald-node` (or `…/herald-node`, e.g. `./target/release/herald-node`).
	fn from_line(line: &ShellLine) -> Option<Self> {
		let program = line.words.iter().position(|word| !is_assignment(word))?;
		let name = &line.words[program];
		if name != "herald-node" && !name.ends_with("/herald-node") {
			return None;
		}
		assert_eq!(program, 0, "the README's `{}` sets environment variables, which the harness can't pass", line.text);
		let args = line.words[1..].to_vec();
		let operators = ["|", "||", "&&", ";", "&", ">", ">>", "<", "2>&1"];
		if let Some(operator) = args.iter().find(|word| operators.contains(&word.as_str())) {
			panic!("the README's `{}` uses the shell's `{operator}`, which this test can't run", line.text);
		}
		Some(Self { text: line.text.clone(), args })
	}

	/// A sub-command (`key`, `build-spec`, …) rather than a node.
	fn is_subcommand(&self) -> bool {
		self.args.first().is_some_and(|arg| !arg.starts_with('-'))
	}

	fn is_dev(&self) -> bool {
		!self.is_subcommand() && self.has("--dev")
	}

	fn has(&self, flag: &str) -> bool {
		has_flag(&self.args, flag)
	}

	fn value(&self, flag: &str) -> Option<String> {
		value_of(&self.args, flag)
	}

	/// The p2p port the README gives the node.
	fn readme_p2p_port(&self) -> u16 {
		self.value("--port")
			.map(|port| port.parse().unwrap_or_else(|_| panic!("--port {port} in the README's `{}`", self.text)))
			.unwrap_or(DEFAULT_P2P_PORT)
	}

	/// The topic prefix its sink produces to.
	fn topic_prefix(&self) -> String {
		self.value("--kafka-topic-prefix").unwrap_or_else(|| "herald".into())
	}
}

/// The node commands of a shell block that starts several nodes, in order, and the README's advice after the block
/// for adding the sink to one of them (its words; empty if it gives none).
#[derive(Debug)]
struct Network {
	commands: Vec<NodeCommand>,
	sink: Vec<String>,
}

/// A JSON-RPC call the README makes with `curl`.
#[derive(Debug)]
struct RpcCall {
	text: String,
	headers: Vec<(String, String)>,
	body: String,
}

/// What this test reads of README.md.
struct Readme {
	/// The fenced shell blocks in order, each as its command lines.
	blocks: Vec<Vec<ShellLine>>,
	/// The prose after each shell block, up to the next one.
	prose_after: Vec<String>,
	/// All the prose (outside fenced blocks).
	prose: String,
}

impl Readme {
	fn parse(markdown: &str) -> Self {
		enum Fence<'a> {
			Outside,
			Shell(Vec<&'a str>),
			Other,
		}
		let shell_lines = |lines: Vec<&str>| -> Vec<ShellLine> {
			logical_lines(lines)
				.into_iter()
				.map(|text| ShellLine { words: words(&text), text })
				.filter(|line| !line.words.is_empty())
				.collect()
		};
		let mut readme = Readme { blocks: Vec::new(), prose_after: Vec::new(), prose: String::new() };
		let mut fence = Fence::Outside;
		for line in markdown.lines() {
			let marker = line.trim_start().strip_prefix("```");
			fence = match (fence, marker) {
				(Fence::Outside, Some(info)) if matches!(info.trim(), "sh" | "bash" | "shell") => {
					Fence::Shell(Vec::new())
				}
				(Fence::Outside, Some(_)) => Fence::Other,
				(Fence::Outside, None) => {
					readme.prose.push_str(line);
					readme.prose.push('\n');
					if let Some(after) = readme.prose_after.last_mut() {
						after.push_str(line);
						after.push('\n');
					}
					Fence::Outside
				}
				(Fence::Shell(lines), Some(_)) => {
					readme.blocks.push(shell_lines(lines));
					readme.prose_after.push(String::new());
					Fence::Outside
				}
				(Fence::Shell(mut lines), None) => {
					lines.push(line);
					Fence::Shell(lines)
				}
				(Fence::Other, Some(_)) => Fence::Outside,
				(Fence::Other, None) => Fence::Other,
			};
		}
		if let Fence::Shell(lines) = fence {
			readme.blocks.push(shell_lines(lines));
			readme.prose_after.push(String::new());
		}
		readme
	}

	/// The `herald-node` commands of shell block `block`, in order.
	fn block_commands(&self, block: usize) -> Vec<NodeCommand> {
		self.blocks[block].iter().filter_map(NodeCommand::from_line).collect()
	}

	/// Whether shell block `block` starts several nodes (development nodes aside): they are run together.
	fn is_network(&self, block: usize) -> bool {
		self.block_commands(block).iter().filter(|c| !c.is_subcommand() && !c.is_dev()).count() >= 2
	}

	/// Every `herald-node --dev …` node.
	fn dev_commands(&self) -> Vec<NodeCommand> {
		(0..self.blocks.len()).flat_map(|block| self.block_commands(block)).filter(NodeCommand::is_dev).collect()
	}

	fn networks(&self) -> Vec<Network> {
		(0..self.blocks.len())
			.filter(|&block| self.is_network(block))
			.map(|block| Network {
				commands: self.block_commands(block).into_iter().filter(|c| !c.is_dev()).collect(),
				sink: self.sink_advice(block),
			})
			.collect()
	}

	/// The `herald-node` commands that are neither development nodes nor in a network, in order.
	fn other_commands(&self) -> Vec<NodeCommand> {
		(0..self.blocks.len())
			.filter(|&block| !self.is_network(block))
			.flat_map(|block| self.block_commands(block))
			.filter(|c| !c.is_dev())
			.collect()
	}

	/// The README's advice, in the prose after shell block `block` up to the next heading, to add the sink to a
	/// node: the first inline code that starts with `--kafka-brokers `, as words.
	fn sink_advice(&self, block: usize) -> Vec<String> {
		let section = self.prose_after[block]
			.lines()
			.take_while(|line| !line.trim_start().starts_with('#'))
			.collect::<Vec<_>>()
			.join("\n");
		inline_code(&section)
			.into_iter()
			.find(|span| span.starts_with("--kafka-brokers "))
			.map(|span| words(&span))
			.unwrap_or_default()
	}

	/// How the README runs `./scripts/dev.sh` (in shell blocks and inline code): the line and the script's
	/// arguments, each set of arguments once.
	fn dev_script_runs(&self) -> Vec<(String, Vec<String>)> {
		let is_dev_script = |program: &str| program.trim_start_matches("./") == "scripts/dev.sh";
		let fenced = self.blocks.iter().flatten().map(|line| (line.words.join(" "), line.words.clone()));
		let inline = inline_code(&self.prose)
			.into_iter()
			.filter(|span| span.split_whitespace().next().is_some_and(is_dev_script))
			.map(|span| (span.clone(), words(&span)));
		let mut runs: Vec<(String, Vec<String>)> = Vec::new();
		for (text, words) in fenced.chain(inline) {
			if !words.first().is_some_and(|program| is_dev_script(program.as_str())) {
				continue;
			}
			if !runs.iter().any(|(_, args)| args[..] == words[1..]) {
				runs.push((text, words[1..].to_vec()));
			}
		}
		runs
	}

	/// The README's `curl` JSON-RPC calls (those with a `-d` body that names a `method`).
	fn rpc_calls(&self) -> Vec<RpcCall> {
		let mut calls = Vec::new();
		for line in self.blocks.iter().flatten().filter(|line| line.words[0] == "curl") {
			let mut headers = Vec::new();
			let mut body = None;
			let mut words = line.words[1..].iter();
			while let Some(word) = words.next() {
				let mut value = || words.next().unwrap_or_else(|| panic!("{word} without a value in `{}`", line.text));
				match word.as_str() {
					"-H" | "--header" => {
						let header = value();
						let (name, content) =
							header.split_once(':').unwrap_or_else(|| panic!("header {header:?} in `{}`", line.text));
						headers.push((name.trim().to_string(), content.trim().to_string()));
					}
					"-d" | "--data" | "--data-raw" | "--data-binary" => body = Some(value().clone()),
					"-X" | "--request" => {
						value();
					}
					// `-s` and the like; the URL (the node's RPC address replaces it).
					_ => {}
				}
			}
			let is_rpc = |body: &String| serde_json::from_str::<Value>(body).is_ok_and(|v| v.get("method").is_some());
			if let Some(body) = body.filter(is_rpc) {
				calls.push(RpcCall { text: line.text.clone(), headers, body });
			}
		}
		calls
	}

	/// Sends the README's `curl` calls to `node`'s RPC; without any, seals a finalized block.
	fn seal_as_written(&self, node: &NodeProcess) {
		let calls = self.rpc_calls();
		if calls.is_empty() {
			node.seal_block(true, None);
		}
		for call in calls {
			let mut request = ureq::post(&node.rpc_url()).timeout(Duration::from_secs(60));
			for (name, value) in &call.headers {
				request = request.set(name, value);
			}
			let response: Value = request
				.send_string(&call.body)
				.unwrap_or_else(|e| panic!("the README's `{}` failed: {e}\n{}", call.text, node.log_tail(40)))
				.into_json()
				.expect("a JSON-RPC response");
			assert!(
				response.get("error").is_none(),
				"the README's `{}` failed: {response}\n{}",
				call.text,
				node.log_tail(40)
			);
		}
	}
}

/// `scripts/dev.sh`'s node line, `"$NODE" … "$@"`, with `"$@"` replaced by the script's arguments.
fn dev_script_command(readme_text: &str, script_args: &[String]) -> NodeCommand {
	let node_lines: Vec<Vec<String>> = logical_lines(DEV_SCRIPT.lines())
		.iter()
		.filter(|line| line.starts_with("\"$NODE\"") || line.starts_with("$NODE"))
		.map(|line| words(line))
		.collect();
	assert_eq!(node_lines.len(), 1, "scripts/dev.sh should start the node once, as `\"$NODE\" …`: {node_lines:?}");
	let mut args = Vec::new();
	for word in &node_lines[0][1..] {
		if word == "$@" {
			args.extend(script_args.iter().cloned());
		} else {
			args.push(word.clone());
		}
	}
	let text = format!("{readme_text}` → `herald-node {}", args.join(" "));
	NodeCommand { text, args }
}

/// What a test runs instead of what the README names: database directories and the started nodes' p2p ports
/// (the broker is given to [`Rewrites::apply`]).
#[derive(Default)]
struct Rewrites {
	/// README `--base-path` → a temporary directory.
	base_paths: BTreeMap<String, tempfile::TempDir>,
	/// README p2p port → the started node's.
	p2p_ports: BTreeMap<u16, u16>,
}

impl Rewrites {
	/// `command` for the harness, with the rewrites of the module doc.
	fn apply(&mut self, command: &NodeCommand, broker: Option<&Broker>) -> NodeConfig {
		let mut args = Vec::new();
		let mut base_path = None;
		let mut words = command.args.iter();
		while let Some(word) = words.next() {
			let (flag, inline) = match word.split_once('=') {
				Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
				_ => (word.as_str(), None),
			};
			let mut value = || {
				inline
					.clone()
					.or_else(|| words.next().cloned())
					.unwrap_or_else(|| panic!("{flag} without a value in the README's `{}`", command.text))
			};
			match flag {
				// NodeProcess sets these itself (free ports, its own wasmtime cache).
				"--port" | "--rpc-port" | "--prometheus-port" | "--rpc-max-connections" | "--wasmtime-cache-dir" => {
					value();
				}
				"--no-telemetry" | "--no-mdns" => {}
				"--base-path" | "-d" => {
					let dir = self.base_paths.entry(value()).or_insert_with(|| tempfile::tempdir().unwrap());
					base_path = Some(dir.path().to_path_buf());
				}
				"--kafka-brokers" => {
					let count = value().split(',').count();
					let broker = broker.expect("a command with --kafka-brokers runs with a test broker");
					args.push(flag.to_string());
					args.push(vec![broker.address.as_str(); count].join(","));
				}
				_ => match &inline {
					Some(value) => args.push(format!("{flag}={}", self.multiaddr(value, command))),
					None => args.push(self.multiaddr(word, command)),
				},
			}
		}
		if let Some(word) = args.iter().find(|word| word.contains('$')) {
			panic!("`{word}` of `{}` holds a shell variable this test can't expand", command.text);
		}
		NodeConfig { args, base_path, env: Vec::new() }
	}

	/// A `/p2p/` multiaddr with the real port of the README node that listens on its `/tcp/PORT/`; any other word
	/// as it is.
	fn multiaddr(&self, word: &str, command: &NodeCommand) -> String {
		if !word.starts_with('/') || !word.contains("/p2p/") {
			return word.to_string();
		}
		let mut parts: Vec<String> = word.split('/').map(str::to_string).collect();
		if let Some(tcp) = parts.iter().position(|part| part == "tcp") {
			let port: u16 = parts
				.get(tcp + 1)
				.and_then(|port| port.parse().ok())
				.unwrap_or_else(|| panic!("no port after /tcp/ in `{word}` of the README's `{}`", command.text));
			let real = self.p2p_ports.get(&port).unwrap_or_else(|| {
				panic!(
					"the README's `{}` dials port {port} (`{word}`): no README node started before it listens there",
					command.text
				)
			});
			parts[tcp + 1] = real.to_string();
		}
		parts.join("/")
	}
}

/// Runs `f`; a panic in it is raised again with `context` first.
fn with_context<T>(f: impl FnOnce() -> T, context: impl FnOnce() -> String) -> T {
	catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
		let message = payload
			.downcast_ref::<String>()
			.map(String::as_str)
			.or_else(|| payload.downcast_ref::<&str>().copied())
			.unwrap_or("(no message)");
		panic!("{}:\n{message}", context())
	})
}

/// Starts a README node; a failure to start names the command as written and as run.
fn start(command: &NodeCommand, config: NodeConfig) -> NodeProcess {
	let run_as = config.args.join(" ");
	with_context(
		|| NodeProcess::start(config),
		|| {
			format!(
				"the README's `{}` does not start (run as `herald-node {run_as}` + the harness's flags)",
				command.text
			)
		},
	)
}

/// Runs a README sub-command (`herald-node key …`) to its end; it must succeed.
fn run_to_end(command: &NodeCommand, config: NodeConfig) {
	let mut process = std::process::Command::new(common::node_binary());
	process.args(&config.args);
	if let Some(path) = &config.base_path {
		process.arg("--base-path").arg(path);
	}
	let output = process.output().expect("herald-node runs");
	assert!(
		output.status.success(),
		"the README's `{}` failed ({}):\n{}",
		command.text,
		output.status,
		String::from_utf8_lossy(&output.stderr)
	);
}

/// Polls `condition` every half second until it holds (true) or `timeout` passes (false).
fn wait_until(timeout: Duration, mut condition: impl FnMut() -> bool) -> bool {
	let deadline = Instant::now() + timeout;
	loop {
		if condition() {
			return true;
		}
		if Instant::now() > deadline {
			return false;
		}
		std::thread::sleep(Duration::from_millis(500));
	}
}

fn peers(node: &NodeProcess) -> u64 {
	node.rpc("system_health", json!([]))["peers"].as_u64().unwrap_or(0)
}

/// Block `min` or a later one shipped as final: its `BlockFinalized`, or its `BlockCreated` with
/// `meta.finalized: true` (docs/envelope.md).
fn is_final_block(record: &Record, min: u64) -> bool {
	let envelope = &record.envelope;
	envelope["meta"]["block"]["number"].as_u64().is_some_and(|number| number >= min)
		&& match envelope["name"].as_str() {
			Some("BlockFinalized") => true,
			Some("BlockCreated") => envelope["meta"]["finalized"] == true,
			_ => false,
		}
}

/// Waits for `node`'s sink to ship a final block numbered `min` or more; returns what the broker holds.
fn ships(broker: &Broker, node: &NodeProcess, command: &NodeCommand, min: u64) -> Vec<Record> {
	let prefix = format!("{}.", command.topic_prefix());
	with_context(
		|| broker.consume_until(&prefix, TIMEOUT, |records| records.iter().any(|r| is_final_block(r, min))),
		|| {
			format!(
				"the README's `{}` shipped no final block ≥ #{min}\n--- its log ---\n{}",
				command.text,
				node.log_tail(40)
			)
		},
	)
}

/// Runs a `--dev` node: it produces and finalizes block #1 as its sealing mode says; with the sink, the block
/// reaches Kafka as final.
fn run_dev(readme: &Readme, command: &NodeCommand) {
	let broker = command.has("--kafka-brokers").then(Broker::start);
	let mut rewrites = Rewrites::default();
	let node = start(command, rewrites.apply(command, broker.as_ref()));
	match command.value("--sealing").map(|mode| mode.to_ascii_lowercase()).as_deref() {
		// Aura authors every 6 s and GRANDPA finalizes, on their own.
		None => {}
		Some("instant") => {
			node.submit(
				Alice,
				RuntimeCall::Balances(BalancesCall::transfer_keep_alive {
					dest: Bob.to_account_id().into(),
					value: UNIT,
				}),
			);
		}
		Some("manual") => readme.seal_as_written(&node),
		Some(other) => panic!("the README's `{}` seals with `{other}`, which this test can't drive", command.text),
	}
	assert!(
		wait_until(TIMEOUT, || node.finalized_number() >= 1),
		"the README's `{}` finalized no block in {TIMEOUT:?} (best #{}):\n{}",
		command.text,
		node.block_number(node.best_hash()),
		node.log_tail(40)
	);
	if let Some(broker) = &broker {
		ships(broker, &node, command, 1);
	}
}

/// Starts a network's nodes in order (its sub-commands run to their end): they peer, GRANDPA finalizes #3, and a
/// node with the sink ships.
fn run_network(network: &Network) {
	let mut commands = network.commands.clone();
	if !network.sink.is_empty() {
		let first = commands.iter_mut().find(|c| !c.is_subcommand()).expect("a network has nodes");
		first.args.extend(network.sink.iter().cloned());
		first.text = format!("{} {}", first.text, network.sink.join(" "));
	}
	let broker = commands.iter().any(|c| c.has("--kafka-brokers")).then(Broker::start);
	let mut rewrites = Rewrites::default();
	let mut nodes: Vec<(&NodeCommand, NodeProcess)> = Vec::new();
	for command in &commands {
		let config = rewrites.apply(command, broker.as_ref());
		if command.is_subcommand() {
			run_to_end(command, config);
			continue;
		}
		let node = start(command, config);
		rewrites.p2p_ports.insert(command.readme_p2p_port(), node.p2p_port);
		nodes.push((command, node));
	}
	let logs = || {
		nodes
			.iter()
			.map(|(c, node)| format!("--- `{}` ---\n{}", c.text, node.log_tail(40)))
			.collect::<Vec<_>>()
			.join("\n")
	};

	// Only what the README gives them: no reserved peers, no mDNS.
	let wanted = nodes.len() as u64 - 1;
	if !wait_until(Duration::from_secs(60), || nodes.iter().all(|(_, node)| peers(node) >= wanted)) {
		let bootnodes: Vec<String> = commands.iter().filter_map(|c| c.value("--bootnodes")).collect();
		panic!(
			"the README's peering doesn't work: its {} nodes are not all peers 60 s after the last one started \
			 (its --bootnodes: {bootnodes:?}; peers: {:?})\n{}",
			nodes.len(),
			nodes.iter().map(|(_, node)| peers(node)).collect::<Vec<_>>(),
			logs()
		);
	}
	if !wait_until(Duration::from_secs(180), || nodes.iter().all(|(_, node)| node.finalized_number() >= 3)) {
		panic!(
			"GRANDPA did not finalize #3 on every README node within 180 s of their peering (finalized: {:?})\n{}",
			nodes.iter().map(|(_, node)| node.finalized_number()).collect::<Vec<_>>(),
			logs()
		);
	}
	if let Some(broker) = &broker {
		for (command, node) in nodes.iter().filter(|(c, _)| c.has("--kafka-brokers")) {
			let records = ships(broker, node, command, 1);
			if command.value("--kafka-follow").is_some_and(|mode| mode.eq_ignore_ascii_case("best")) {
				assert!(
					records
						.iter()
						.any(|r| r.envelope["name"] == "BlockCreated" && r.envelope["meta"]["finalized"] == false),
					"the README's `{}` follows the best chain, but shipped no block before it was final",
					command.text
				);
			}
		}
	}
}

#[test]
fn the_readme_has_the_commands_this_test_runs() {
	let readme = Readme::parse(README);
	let dev = readme.dev_commands();
	assert!(!dev.is_empty(), "no `herald-node --dev …` line in the README's shell blocks: {:#?}", readme.blocks);

	let networks = readme.networks();
	let nodes: Vec<&NodeCommand> = networks.iter().flat_map(|network| &network.commands).collect();
	let validator = |name: &str| {
		nodes
			.iter()
			.find(|c| {
				c.has(name)
					&& c.has("--validator")
					&& c.has("--node-key")
					&& c.value("--chain").as_deref() == Some("local")
			})
			.copied()
			.unwrap_or_else(|| {
				panic!("no `herald-node --chain local {name} --validator --node-key …` with the other validator: {networks:#?}")
			})
	};
	let alice = validator("--alice");
	let bob = validator("--bob");
	assert!(bob.has("--bootnodes"), "the README's `{}` has no --bootnodes to find `{}`", bob.text, alice.text);

	let runs = readme.dev_script_runs();
	assert!(!runs.is_empty(), "the README no longer runs ./scripts/dev.sh");
	for (text, args) in &runs {
		let command = dev_script_command(text, args);
		assert!(
			command.has("--dev") && command.has("--kafka-brokers"),
			"`{}`: the README says the script runs a development node with a local broker",
			command.text
		);
	}

	eprintln!("development nodes: {:#?}", dev.iter().map(|c| &c.text).collect::<Vec<_>>());
	eprintln!("networks: {networks:#?}");
	eprintln!("other commands: {:#?}", readme.other_commands().iter().map(|c| &c.text).collect::<Vec<_>>());
	eprintln!("./scripts/dev.sh runs: {runs:?}");
	eprintln!("curl calls: {:#?}", readme.rpc_calls());
}

/// The harness runs every node on free ports and in its own directory, so the README's own ports and directories
/// are checked here: nodes it starts together on one machine must not ask for the same (Substrate's defaults where
/// it gives none: p2p 30333, RPC 9944, Prometheus 9615, one default base path).
#[test]
fn the_nodes_the_readme_starts_together_use_distinct_ports_and_directories() {
	let defaults = [("--port", "30333"), ("--rpc-port", "9944"), ("--prometheus-port", "9615")];
	for network in Readme::parse(README).networks() {
		let mut taken: BTreeMap<String, &NodeCommand> = BTreeMap::new();
		for command in network.commands.iter().filter(|c| !c.is_subcommand()) {
			let mut claims = Vec::new();
			for (flag, default) in defaults {
				if flag == "--prometheus-port" && command.has("--no-prometheus") {
					continue;
				}
				let given = if command.has(flag) { "" } else { " by default" };
				let port = command.value(flag).unwrap_or_else(|| default.into());
				claims.push((format!("port {port}"), format!("{flag} {port}{given}")));
			}
			let path = command.value("--base-path").unwrap_or_else(|| "the default base path".into());
			claims.push((format!("directory {path}"), format!("--base-path {path}")));
			for (resource, how) in claims {
				if let Some(other) = taken.insert(resource, command) {
					panic!(
						"the README starts `{}` and `{}` together, but both take {how}: the second can't have it \
						 (a taken Prometheus port leaves it without metrics, herald_kafka_* included)",
						other.text, command.text
					);
				}
			}
		}
	}
}

#[test]
fn the_readme_dev_commands_produce_and_finalize_blocks() {
	let readme = Readme::parse(README);
	let commands = readme.dev_commands();
	assert!(!commands.is_empty(), "no `herald-node --dev …` line in the README's shell blocks");
	for command in &commands {
		run_dev(&readme, command);
	}
}

#[test]
fn the_dev_script_node_the_readme_runs_ships_to_kafka() {
	let readme = Readme::parse(README);
	let runs = readme.dev_script_runs();
	assert!(!runs.is_empty(), "the README no longer runs ./scripts/dev.sh");
	for (text, args) in &runs {
		let command = dev_script_command(text, args);
		assert!(command.has("--kafka-brokers"), "`{}`: no sink, but the README says it starts a broker", command.text);
		run_dev(&readme, &command);
	}
}

#[test]
fn the_readme_validators_peer_finalize_and_ship() {
	let networks = Readme::parse(README).networks();
	assert!(!networks.is_empty(), "no shell block in the README starts two nodes");
	for network in &networks {
		run_network(network);
	}
}

/// The remaining lines (the operators' command): a node starts, and with the sink ships the genesis block; a
/// sub-command exits 0. Each runs on its own, with its own broker.
#[test]
fn the_readme_other_node_commands_start_and_ship() {
	let readme = Readme::parse(README);
	let mut rewrites = Rewrites::default();
	for command in &readme.other_commands() {
		let broker = command.has("--kafka-brokers").then(Broker::start);
		let config = rewrites.apply(command, broker.as_ref());
		if command.is_subcommand() {
			run_to_end(command, config);
			continue;
		}
		let node = start(command, config);
		if let Some(broker) = &broker {
			ships(broker, &node, command, 0);
		}
	}
}
