//! Wires Herald's event sink into the node: turns the `--kafka-*` flags into a [`SinkConfig`] and spawns the
//! sink's tasks on the node's task manager.

use std::{
	path::{Path, PathBuf},
	sync::Arc,
};

use herald_event_sink::{
	block::reader::ClientBlockReader,
	config::{default_encode_threads, SinkConfig},
	follow::{wake::wake_on_chain_events, ClientChain},
	ha::{self, metrics::HaMetrics, HaSettings},
	kafka::{client_config, metrics::Metrics, signing::SigningKey},
	mapping::Mappings,
	store::{AuxStateStore, FileStateStore, StateStore},
	worker::{self, Parts},
};
use sc_client_api::HeaderBackend;
use sc_service::{error::Error as ServiceError, TaskManager};
use substrate_prometheus_endpoint::Registry;

use crate::{
	cli::KafkaParams,
	kafka_security::{self, SecurityFlags},
	service::{FullBackend, FullClient},
};

/// The runtime's event mapping table: which events ship under which name, type, topic and key.
/// Runtime developers edit this file when they add a pallet (docs/mappings.md).
const RUNTIME_MAPPINGS: &str = include_str!("../event-mappings.toml");

/// The node's mapping table with the operator's `--kafka-mappings` file laid over it and `--kafka-skip-unmapped`
/// applied: what the sink ships, and what `export-contracts` describes.
pub fn load_mappings(file: Option<&std::path::Path>, skip_unmapped: bool) -> Result<Mappings, String> {
	let mut mappings = Mappings::load(RUNTIME_MAPPINGS, file).map_err(|e| {
		format!("event mappings: {e} (fix the file given with --kafka-mappings, or leave the flag out)")
	})?;
	if skip_unmapped {
		mappings = mappings
			.with_override("[defaults]\nskip_unmapped = true\n", "--kafka-skip-unmapped")
			.map_err(|e| e.to_string())?;
	}
	Ok(mappings)
}

/// The sink's configuration, or `None` when `--kafka-brokers` is not given. Errors name the bad flag.
pub fn sink_config(params: &KafkaParams) -> Result<Option<SinkConfig>, String> {
	let Some(brokers) = params.kafka_brokers.clone() else { return Ok(None) };
	if brokers.trim().is_empty() {
		return Err("--kafka-brokers is empty: give host:port of at least one broker".into());
	}
	let mappings = load_mappings(params.kafka_mappings.as_deref(), params.kafka_skip_unmapped)?;
	// Herald's defaults < --kafka-config-file < the typed TLS/SASL flags < --kafka-config.
	let mut kafka_properties = match &params.kafka_config_file {
		Some(path) => kafka_security::config_file(path)?,
		None => Vec::new(),
	};
	kafka_properties.extend(kafka_security::security_properties(&SecurityFlags {
		tls: params.kafka_tls,
		tls_ca_file: params.kafka_tls_ca_file.clone(),
		tls_cert_file: params.kafka_tls_cert_file.clone(),
		tls_key_file: params.kafka_tls_key_file.clone(),
		tls_key_password_file: params.kafka_tls_key_password_file.clone(),
		tls_skip_hostname_verification: params.kafka_tls_skip_hostname_verification,
		sasl_mechanism: params.kafka_sasl_mechanism,
		sasl_username: params.kafka_sasl_username.clone(),
		sasl_password_file: params.kafka_sasl_password_file.clone(),
		sasl_password_env: params.kafka_sasl_password_env.clone(),
	})?);
	kafka_properties.extend(params.kafka_config.iter().cloned());
	let config = SinkConfig {
		brokers,
		topic_prefix: params.kafka_topic_prefix.clone(),
		topic_partitions: params.kafka_topic_partitions,
		topic_replication_factor: params.kafka_topic_replication_factor,
		topic_configs: params.kafka_topic_config.clone(),
		kafka_properties,
		start_from: params.kafka_start_from,
		required: params.kafka_required,
		read_ahead_blocks: params.kafka_read_ahead_blocks,
		read_ahead_messages: params.kafka_read_ahead_messages,
		encode_threads: params.kafka_encode_threads.unwrap_or_else(default_encode_threads),
		mappings,
		follow: params.kafka_follow,
		max_unfinalized_blocks: params.kafka_max_unfinalized_blocks,
		on_rejected: params.kafka_on_rejected,
		headers: params.kafka_headers,
		ha: params.kafka_ha_group.as_ref().map(|group| HaSettings {
			group: group.clone(),
			member: params.kafka_ha_member.clone().unwrap_or_else(default_member),
			session_timeout: std::time::Duration::from_millis(params.kafka_ha_session_timeout),
			mappings_digest: mappings_digest(params),
		}),
		leader: None,
		signing_key: match &params.kafka_sign_key_file {
			Some(path) => {
				let text = std::fs::read_to_string(path)
					.map_err(|e| format!("--kafka-sign-key-file {}: cannot read it ({e})", path.display()))?;
				Some(
					SigningKey::from_hex(&text, params.kafka_sign_key_id.clone())
						.map_err(|e| format!("--kafka-sign-key-file {}: {e}", path.display()))?,
				)
			}
			None => None,
		},
	};
	if !params.kafka_allow_weaker_delivery {
		client_config::check_delivery_guarantee(&config.kafka_properties)?;
	}
	client_config::validate(&config)?;
	Ok(Some(config))
}

/// A node's default name in its group: the host's name and the process id.
fn default_member() -> String {
	let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
	let host = host.trim();
	format!("{}:{}", if host.is_empty() { "herald-node" } else { host }, std::process::id())
}

/// What the nodes of a group compare to agree on their mappings: the runtime's table, the operator's file and
/// `--kafka-skip-unmapped`.
fn mappings_digest(params: &KafkaParams) -> String {
	let mut bytes = RUNTIME_MAPPINGS.as_bytes().to_vec();
	if let Some(path) = &params.kafka_mappings {
		bytes.extend(std::fs::read(path).unwrap_or_default());
	}
	bytes.push(params.kafka_skip_unmapped as u8);
	ha::digest(&bytes)
}

/// Where the sink keeps its cursor and journal: beside the node's database, in files of its own that are synced
/// before the sink acts on them (see `herald_event_sink::store::file`).
pub fn state_dir(data_path: &Path) -> PathBuf {
	data_path.join("herald-sink")
}

/// Opens the sink's state in `dir`. A node that kept it in the database's auxiliary data (Herald before the
/// state files) has it moved over once: written to the files (synced) first, then deleted from the database.
pub fn open_state_store(
	dir: &Path,
	backend: Arc<FullBackend>,
	genesis: herald_runtime::Hash,
) -> Result<FileStateStore<herald_runtime::Hash>, String> {
	let mut store = FileStateStore::open(dir, genesis).map_err(|e| format!("the event sink's state: {e}"))?;
	if store.is_empty() {
		let mut old = AuxStateStore::new(backend, genesis);
		let state = old.load().map_err(|e| format!("the event sink's state in the database: {e}"))?;
		if state.cursor.is_some() || !state.journal.is_empty() || state.identity.is_some() {
			log::info!(
				target: "herald::kafka",
				"moving the event sink's cursor and journal ({} blocks) from the database to {}",
				state.journal.len(),
				dir.display()
			);
			store.replace(state).map_err(|e| format!("the event sink's state: {e}"))?;
			old.replace_cursor(None).map_err(|e| format!("the event sink's state in the database: {e}"))?;
		}
	}
	Ok(store)
}

/// Spawns the sink: a task that follows finality notifications and the shipping loop. With `--kafka-required`
/// the loop is essential (its failure stops the node); otherwise it retries by itself and a fatal error only
/// stops the sink.
pub fn start(
	config: SinkConfig,
	client: Arc<FullClient>,
	backend: Arc<FullBackend>,
	task_manager: &TaskManager,
	registry: Option<&Registry>,
	state_dir: PathBuf,
	status: herald_event_sink::status::StatusHandle,
) -> Result<(), ServiceError> {
	let metrics = registry
		.map(Metrics::register)
		.transpose()
		.map_err(|e| ServiceError::Other(format!("registering the Kafka sink's metrics: {e}")))?;
	log::info!(
		target: "herald::kafka",
		"event sink enabled: follows the {} chain, brokers {}, topics {}.*, start from {} (when no cursor is \
		 stored), properties {:?}",
		config.follow,
		config.brokers,
		config.topic_prefix,
		config.start_from,
		config.kafka_properties,
	);

	let (wake, waker) = wake_on_chain_events(client.clone());
	task_manager.spawn_handle().spawn("herald-kafka-wake", Some("herald"), waker);

	let required = config.required;
	if let Some(group) = config.ha.as_ref().map(|settings| settings.group.clone()) {
		let ha_metrics = registry
			.map(|registry| HaMetrics::register(registry, &group))
			.transpose()
			.map_err(|e| ServiceError::Other(format!("registering the group's metrics: {e}")))?;
		let mappings = config.mappings.clone();
		let prefix = config.topic_prefix.clone();
		// Each term as leader reads the chain afresh; the state lives in the group's topic, not in files.
		let parts = move || {
			(
				ClientChain::new(client.clone()),
				ClientBlockReader::new(client.clone(), backend.clone(), mappings.clone(), prefix.clone()),
			)
		};
		let shipping = async move {
			let restore = lower_this_threads_priority();
			let error = ha::run(parts, config, metrics, ha_metrics, wake, status).await;
			log::error!(target: "herald::ha", "event sink stopped: {error}");
			restore();
		};
		spawn_sink(task_manager, required, shipping);
		return Ok(());
	}
	let genesis = client.info().genesis_hash;
	let store = open_state_store(&state_dir, backend.clone(), genesis).map_err(ServiceError::Other)?;
	let parts = Parts {
		chain: ClientChain::new(client.clone()),
		reader: ClientBlockReader::new(client, backend, config.mappings.clone(), config.topic_prefix.clone()),
		store,
	};
	let shipping = async move {
		// The sink's thread (and librdkafka's threads, which it creates and which inherit the value) yields the
		// CPU to block import and consensus whenever both want it: catching up never slows the node down.
		let restore = lower_this_threads_priority();
		let error = worker::run_with_status(parts, config, metrics, wake, status).await;
		log::error!(target: "herald::kafka", "event sink stopped: {error}");
		restore();
	};
	spawn_sink(task_manager, required, shipping);
	Ok(())
}

/// Spawns the shipping loop on a thread of its own: essential with `--kafka-required` (its failure stops the
/// node), an ordinary task otherwise.
fn spawn_sink(
	task_manager: &TaskManager,
	required: bool,
	shipping: impl std::future::Future<Output = ()> + Send + 'static,
) {
	if required {
		task_manager.spawn_essential_handle().spawn_blocking("herald-kafka-sink", Some("herald"), shipping);
	} else {
		task_manager.spawn_handle().spawn_blocking("herald-kafka-sink", Some("herald"), shipping);
	}
}

/// How much lower than the node's the sink's CPU priority is (a `nice` increment).
const SINK_NICENESS: i32 = 10;

/// Lowers the calling thread's CPU priority by [`SINK_NICENESS`] (on Linux the nice value is per thread, and
/// threads created later inherit it); returns what puts it back (the thread belongs to a pool and may run other
/// work once the sink stops). Where it can't be changed, the sink runs at the node's priority.
fn lower_this_threads_priority() -> impl FnOnce() {
	#[cfg(target_os = "linux")]
	{
		// SAFETY: plain system calls on the calling thread.
		let thread = unsafe { libc::syscall(libc::SYS_gettid) } as libc::id_t;
		let before = unsafe { libc::getpriority(libc::PRIO_PROCESS, thread) };
		if unsafe { libc::setpriority(libc::PRIO_PROCESS, thread, before + SINK_NICENESS) } != 0 {
			log::debug!(target: "herald::kafka", "cannot lower the sink thread's priority; it runs at the node's");
		}
		move || {
			// SAFETY: as above. Raising a priority back needs privilege (CAP_SYS_NICE or RLIMIT_NICE): without it
			// this pool thread just stays at the lower one.
			unsafe { libc::setpriority(libc::PRIO_PROCESS, thread, before) };
		}
	}
	#[cfg(not(target_os = "linux"))]
	{
		|| {}
	}
}
