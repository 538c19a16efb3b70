//! `herald-node kafka-cursor show|set N|reset`: the event sink's stored position, read or changed on a stopped
//! node's database (the node holds the database's lock while it runs).

use std::sync::Arc;

use herald_event_sink::{
	envelope::json::hex0x,
	follow::{BlockId, ChainView, ClientChain},
	store::{JournalEntry, StateStore},
};
use sc_cli::{CliConfiguration, DatabaseParams, SharedParams};
use sc_client_api::HeaderBackend;

use crate::service::{FullBackend, FullClient};

/// What to do with the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CursorAction {
	/// Print the cursor, the cluster and topic prefix it belongs to, and the journal of shipped, not final blocks.
	Show,
	/// Place the cursor at finalized block BLOCK: the sink resumes with BLOCK + 1 (re-ships what follows it, or
	/// skips ahead). Drops the journal.
	Set,
	/// Forget the cursor, the journal, the cluster and the prefix: the next start is a first start, placed by
	/// --kafka-start-from (e.g. to ship to a new cluster or prefix).
	Reset,
}

/// The `kafka-cursor` sub-command.
#[derive(Debug, clap::Parser)]
pub struct KafkaCursorCmd {
	/// `show`, `set BLOCK` or `reset`.
	#[arg(value_enum)]
	pub action: CursorAction,

	/// With `set`: the finalized block the cursor is placed at.
	pub block: Option<u64>,

	/// Confirms that `set` or `reset` may drop the journal of shipped, not final blocks (consumers then get no
	/// `BlockFinalized` or `BlockRetracted` for them). Without it, a non-empty journal refuses the change.
	#[arg(long)]
	pub yes: bool,

	#[allow(missing_docs)]
	#[clap(flatten)]
	pub shared_params: SharedParams,

	#[allow(missing_docs)]
	#[clap(flatten)]
	pub database_params: DatabaseParams,
}

impl CliConfiguration for KafkaCursorCmd {
	fn shared_params(&self) -> &SharedParams {
		&self.shared_params
	}

	fn database_params(&self) -> Option<&DatabaseParams> {
		Some(&self.database_params)
	}
}

impl KafkaCursorCmd {
	/// Checks the arguments before the database is opened.
	pub fn check_arguments(&self) -> Result<(), String> {
		match (self.action, self.block) {
			(CursorAction::Set, None) => Err("`kafka-cursor set` needs the block number: kafka-cursor set 1200".into()),
			(CursorAction::Show | CursorAction::Reset, Some(block)) => {
				Err(format!("`kafka-cursor {:?}` takes no block number (got {block})", self.action).to_lowercase())
			}
			_ => Ok(()),
		}
	}

	/// Runs the action on the node's database.
	pub fn run(
		&self,
		client: Arc<FullClient>,
		backend: Arc<FullBackend>,
		data_path: &std::path::Path,
	) -> Result<(), String> {
		let genesis = client.info().genesis_hash;
		let mut store =
			crate::event_sink::open_state_store(&crate::event_sink::state_dir(data_path), backend, genesis)?;
		let journal = store.load().map_err(|e| e.to_string())?.journal;
		if self.action != CursorAction::Show && !journal.is_empty() && !self.yes {
			return Err(format!(
				"`kafka-cursor {}` would drop the journal: consumers would get no BlockFinalized or BlockRetracted \
				 for {}. Rerun with --yes to do it anyway",
				format!("{:?}", self.action).to_lowercase(),
				describe_journal(&journal)
			));
		}
		let chain = ClientChain::new(client.clone());
		match self.action {
			CursorAction::Show => {
				let state = store.load().map_err(|e| e.to_string())?;
				let finalized = client.info().finalized_number;
				match state.cursor {
					Some(cursor) => println!(
						"cursor: block #{} {} (the sink resumes with #{})",
						cursor.number,
						hex0x(cursor.hash),
						cursor.number + 1
					),
					None => println!("cursor: none (the next start is a first start, placed by --kafka-start-from)"),
				}
				match state.identity {
					Some(identity) => println!(
						"ships to: topic prefix {:?}, Kafka cluster {}",
						identity.topic_prefix,
						identity.cluster_id.as_deref().unwrap_or("(id not reported by the brokers)")
					),
					None => println!("ships to: not recorded yet"),
				}
				println!("journal: {}", describe_journal(&state.journal));
				println!("this database's finalized block: #{finalized}");
			}
			CursorAction::Set => {
				let number = self.block.expect("checked by check_arguments");
				let finalized = client.info().finalized_number as u64;
				if number > finalized {
					return Err(format!(
						"block #{number} is not finalized in this database (finalized: #{finalized}): the cursor can \
						 only be placed on the finalized chain"
					));
				}
				let block = chain
					.canonical(number)
					.map_err(|e| e.to_string())?
					.ok_or_else(|| format!("block #{number} is not in this database"))?;
				let dropped = store.replace_cursor(Some(block.id())).map_err(|e| e.to_string())?;
				println!("cursor set to block #{number} {}: the sink resumes with #{}", hex0x(block.hash), number + 1);
				report_dropped(&dropped);
			}
			CursorAction::Reset => {
				let dropped = store.replace_cursor(None::<BlockId<_>>).map_err(|e| e.to_string())?;
				println!(
					"cursor reset: the next start is a first start, placed by --kafka-start-from, and records the \
					 cluster and topic prefix it ships to"
				);
				report_dropped(&dropped);
			}
		}
		Ok(())
	}
}

fn describe_journal<H: AsRef<[u8]>>(journal: &[JournalEntry<H>]) -> String {
	if journal.is_empty() {
		return "empty (no block shipped and not final)".into();
	}
	let blocks: Vec<String> = journal
		.iter()
		.map(|entry| format!("#{} {} ({:?})", entry.block.number, hex0x(&entry.block.hash), entry.state))
		.collect();
	format!("{} blocks shipped and not final: {}", journal.len(), blocks.join(", "))
}

fn report_dropped<H: AsRef<[u8]>>(dropped: &[JournalEntry<H>]) {
	if !dropped.is_empty() {
		println!(
			"dropped the journal: consumers will get no BlockFinalized or BlockRetracted for {}",
			describe_journal(dropped)
		);
	}
}
