//! Assembles the node: client, transaction pool, network, RPC, and block production (Aura + GRANDPA, or the
//! development sealing modes).

use std::{path::Path, sync::Arc, time::Duration};

use futures::FutureExt;
use herald_runtime::{apis::RuntimeApi, opaque::Block};
use sc_client_api::{Backend, BlockBackend};
use sc_consensus_aura::{ImportQueueParams, SlotProportion, StartAuraParams};
use sc_consensus_grandpa::SharedVoterState;
use sc_network::{service::traits::NotificationService, ProtocolName};
use sc_service::{error::Error as ServiceError, Configuration, TaskManager, WarpSyncConfig};
use sc_telemetry::{Telemetry, TelemetryWorker};
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_consensus_aura::sr25519::{AuthorityId as AuraId, AuthorityPair as AuraPair};

use herald_event_sink::config::SinkConfig;

use crate::{cli::Sealing, dev_seal};

/// Host functions the runtime may import. A runtime built with `runtime-benchmarks` also imports the
/// benchmarking ones, which the `benchmark block` and `benchmark storage` sub-commands need.
#[cfg(not(feature = "runtime-benchmarks"))]
pub(crate) type HostFunctions = sp_io::SubstrateHostFunctions;
#[cfg(feature = "runtime-benchmarks")]
pub(crate) type HostFunctions = (sp_io::SubstrateHostFunctions, frame_benchmarking::benchmarking::HostFunctions);

/// The full client, executing the runtime's wasm.
pub(crate) type FullClient = sc_service::TFullClient<Block, RuntimeApi, sc_executor::WasmExecutor<HostFunctions>>;
pub(crate) type FullBackend = sc_service::TFullBackend<Block>;
pub(crate) type FullSelectChain = sc_consensus::LongestChain<FullBackend, Block>;
pub(crate) type FullPool = sc_transaction_pool::TransactionPoolHandle<Block, FullClient>;

/// The minimum period of blocks on which GRANDPA justifications are imported and generated.
const GRANDPA_JUSTIFICATION_PERIOD: u32 = 512;

/// Components for sub-commands (`check-block`, `import-blocks`, …) and the consensus node.
pub type Service = sc_service::PartialComponents<
	FullClient,
	FullBackend,
	FullSelectChain,
	sc_consensus::DefaultImportQueue<Block>,
	FullPool,
	(
		sc_consensus_grandpa::GrandpaBlockImport<FullBackend, Block, FullClient, FullSelectChain>,
		sc_consensus_grandpa::LinkHalf<Block, FullClient, FullSelectChain>,
		Option<Telemetry>,
	),
>;

/// What every mode of the node has: client, backend, keystore, tasks, chain selection, pool and telemetry.
struct CoreComponents {
	client: Arc<FullClient>,
	backend: Arc<FullBackend>,
	keystore_container: sc_service::KeystoreContainer,
	task_manager: TaskManager,
	select_chain: FullSelectChain,
	transaction_pool: Arc<FullPool>,
	telemetry: Option<Telemetry>,
}

fn new_core_components(config: &Configuration, wasm_cache: Option<&Path>) -> Result<CoreComponents, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|x| !x.is_empty())
		.map(|endpoints| -> Result<_, sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = wasm_executor(config, wasm_cache);
	let (client, backend, keystore_container, task_manager) = sc_service::new_full_parts::<Block, RuntimeApi, _>(
		config,
		telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
		executor,
		Vec::new(),
	)?;
	let client = Arc::new(client);

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager.spawn_handle().spawn("telemetry", None, worker.run());
		telemetry
	});

	let select_chain = sc_consensus::LongestChain::new(backend.clone());

	let transaction_pool = Arc::from(
		sc_transaction_pool::Builder::new(
			task_manager.spawn_essential_handle(),
			client.clone(),
			config.role.is_authority().into(),
		)
		.with_options(config.transaction_pool.clone())
		.with_prometheus(config.prometheus_registry())
		.build(),
	);

	Ok(CoreComponents { client, backend, keystore_container, task_manager, select_chain, transaction_pool, telemetry })
}

/// `sc_service::new_wasm_executor`, plus wasmtime's on-disk cache of compiled code when `--wasmtime-cache-dir`
/// names one (sc-service has no setting for it).
fn wasm_executor(config: &Configuration, cache: Option<&Path>) -> sc_executor::WasmExecutor<HostFunctions> {
	let heap = config.executor.default_heap_pages.map_or(sc_executor::DEFAULT_HEAP_ALLOC_STRATEGY, |pages| {
		sc_executor::HeapAllocStrategy::Static { extra_pages: pages as _ }
	});
	let builder = sc_executor::WasmExecutor::<HostFunctions>::builder()
		.with_execution_method(config.executor.wasm_method)
		.with_onchain_heap_alloc_strategy(heap)
		.with_offchain_heap_alloc_strategy(heap)
		.with_max_runtime_instances(config.executor.max_runtime_instances)
		.with_runtime_cache_size(config.executor.runtime_cache_size);
	match cache {
		Some(cache) => builder.with_cache_path(cache).build(),
		None => builder.build(),
	}
}

/// The consensus components: Aura's import queue behind GRANDPA's block import. `wasm_cache`: see
/// `--wasmtime-cache-dir` (`None` for the sub-commands, which don't take the flag).
pub fn new_partial(config: &Configuration, wasm_cache: Option<&Path>) -> Result<Service, ServiceError> {
	let CoreComponents { client, backend, keystore_container, task_manager, select_chain, transaction_pool, telemetry } =
		new_core_components(config, wasm_cache)?;

	let (grandpa_block_import, grandpa_link) = sc_consensus_grandpa::block_import(
		client.clone(),
		GRANDPA_JUSTIFICATION_PERIOD,
		&client,
		select_chain.clone(),
		telemetry.as_ref().map(|x| x.handle()),
	)?;

	let cidp_client = client.clone();
	let import_queue = sc_consensus_aura::import_queue::<AuraPair, _, _, _, _, _>(ImportQueueParams {
		block_import: grandpa_block_import.clone(),
		justification_import: Some(Box::new(grandpa_block_import.clone())),
		client: client.clone(),
		create_inherent_data_providers: move |parent_hash, _| {
			let cidp_client = cidp_client.clone();
			async move {
				let slot_duration = sc_consensus_aura::standalone::slot_duration_at(&*cidp_client, parent_hash)?;
				let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
				let slot = sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
					*timestamp,
					slot_duration,
				);
				Ok((slot, timestamp))
			}
		},
		spawner: &task_manager.spawn_essential_handle(),
		registry: config.prometheus_registry(),
		check_for_equivocation: Default::default(),
		telemetry: telemetry.as_ref().map(|x| x.handle()),
		compatibility_mode: Default::default(),
	})?;

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (grandpa_block_import, grandpa_link, telemetry),
	})
}

/// The network service and the handles `spawn_tasks` and consensus need from it.
struct NetworkParts<N> {
	network: Arc<dyn sc_network::service::traits::NetworkService>,
	system_rpc_tx: sc_utils::mpsc::TracingUnboundedSender<sc_rpc::system::Request<Block>>,
	/// Handed over to `spawn_tasks` (which owns it from then on).
	tx_handler_controller:
		Option<sc_network_transactions::TransactionsHandlerController<<Block as sp_runtime::traits::Block>::Hash>>,
	sync_service: Arc<sc_network_sync::SyncingService<Block>>,
	/// GRANDPA's gossip protocol, registered only when GRANDPA runs.
	grandpa: Option<(ProtocolName, Box<dyn NotificationService>)>,
	_backend: std::marker::PhantomData<N>,
}

fn build_network<N>(
	config: &Configuration,
	core: &CoreComponents,
	import_queue: sc_consensus::DefaultImportQueue<Block>,
	grandpa_warp_sync: Option<
		&sc_consensus_grandpa::SharedAuthoritySet<
			<Block as sp_runtime::traits::Block>::Hash,
			sp_runtime::traits::NumberFor<Block>,
		>,
	>,
) -> Result<NetworkParts<N>, ServiceError>
where
	N: sc_network::NetworkBackend<Block, <Block as sp_runtime::traits::Block>::Hash>,
{
	let mut net_config = sc_network::config::FullNetworkConfiguration::<
		Block,
		<Block as sp_runtime::traits::Block>::Hash,
		N,
	>::new(&config.network, config.prometheus_registry().cloned());
	let metrics = N::register_notification_metrics(config.prometheus_registry());

	let mut grandpa = None;
	let mut warp_sync_config = None;
	if let Some(authority_set) = grandpa_warp_sync {
		let protocol_name = sc_consensus_grandpa::protocol_standard_name(
			&core.client.block_hash(0).ok().flatten().expect("Genesis block exists; qed"),
			&config.chain_spec,
		);
		let (protocol_config, notification_service) = sc_consensus_grandpa::grandpa_peers_set_config::<_, N>(
			protocol_name.clone(),
			metrics.clone(),
			net_config.peer_store_handle(),
		);
		net_config.add_notification_protocol(protocol_config);
		grandpa = Some((protocol_name, notification_service));
		warp_sync_config =
			Some(WarpSyncConfig::WithProvider(Arc::new(sc_consensus_grandpa::warp_proof::NetworkProvider::new(
				core.backend.clone(),
				authority_set.clone(),
				Vec::default(),
			))));
	}

	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) =
		sc_service::build_network(sc_service::BuildNetworkParams {
			config,
			net_config,
			client: core.client.clone(),
			transaction_pool: core.transaction_pool.clone(),
			spawn_handle: core.task_manager.spawn_handle(),
			spawn_essential_handle: core.task_manager.spawn_essential_handle(),
			import_queue,
			block_announce_validator_builder: None,
			warp_sync_config,
			block_relay: None,
			metrics,
			gap_sync_body_policy: None,
		})?;

	Ok(NetworkParts {
		network,
		system_rpc_tx,
		tx_handler_controller: Some(tx_handler_controller),
		sync_service,
		grandpa,
		_backend: Default::default(),
	})
}

/// Starts offchain workers (when enabled), RPC and the other standard tasks. Consumes the configuration.
fn spawn_common_tasks<N>(
	config: Configuration,
	core: &mut CoreComponents,
	net: &mut NetworkParts<N>,
	manual_seal: Option<futures::channel::mpsc::Sender<sc_consensus_manual_seal::EngineCommand<herald_runtime::Hash>>>,
	sink_status: Option<herald_event_sink::status::StatusHandle>,
	follow: Option<crate::follow_rpc::FollowRpc>,
) -> Result<(), ServiceError> {
	if config.offchain_worker.enabled {
		let offchain_workers = sc_offchain::OffchainWorkers::new(sc_offchain::OffchainWorkerOptions {
			runtime_api_provider: core.client.clone(),
			is_validator: config.role.is_authority(),
			keystore: Some(core.keystore_container.keystore()),
			offchain_db: core.backend.offchain_storage(),
			transaction_pool: Some(OffchainTransactionPoolFactory::new(core.transaction_pool.clone())),
			network_provider: Arc::new(net.network.clone()),
			enable_http_requests: true,
			custom_extensions: |_| vec![],
		})?;
		core.task_manager.spawn_handle().spawn(
			"offchain-workers-runner",
			"offchain-worker",
			offchain_workers.run(core.client.clone(), core.task_manager.spawn_handle()).boxed(),
		);
	}

	let rpc_extensions_builder = {
		let client = core.client.clone();
		let pool = core.transaction_pool.clone();
		Box::new(move |_| {
			let deps = crate::rpc::FullDeps {
				client: client.clone(),
				pool: pool.clone(),
				manual_seal: manual_seal.clone(),
				sink_status: sink_status.clone(),
				follow: follow.clone(),
			};
			crate::rpc::create_full(deps).map_err(Into::into)
		})
	};

	sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: net.network.clone(),
		client: core.client.clone(),
		keystore: core.keystore_container.keystore(),
		task_manager: &mut core.task_manager,
		transaction_pool: core.transaction_pool.clone(),
		rpc_builder: rpc_extensions_builder,
		backend: core.backend.clone(),
		system_rpc_tx: net.system_rpc_tx.clone(),
		tx_handler_controller: net
			.tx_handler_controller
			.take()
			.expect("the network's transaction handler is handed to spawn_tasks once"),
		sync_service: net.sync_service.clone(),
		config,
		telemetry: core.telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	Ok(())
}

/// The `herald_v1_follow` subscription (`--herald-follow-rpc`): its feeds start now, its methods with the RPC
/// server.
fn start_follow(
	follow: Option<crate::follow_rpc::FollowSetup>,
	core: &CoreComponents,
	registry: Option<&substrate_prometheus_endpoint::Registry>,
) -> Result<Option<crate::follow_rpc::FollowRpc>, ServiceError> {
	let Some(setup) = follow else { return Ok(None) };
	let (mappings, topic_prefix) = (setup.mappings.clone(), setup.topic_prefix.clone());
	let hub = crate::follow_rpc::start(setup, core.client.clone(), core.backend.clone(), &core.task_manager, registry)?;
	Ok(Some(crate::follow_rpc::FollowRpc { hub, client: core.client.clone(), mappings, topic_prefix }))
}

/// Herald's event sink (`--kafka-brokers`): its own tasks beside the node's, following the client's
/// notifications and reading blocks from the database, so block import never waits on Kafka.
fn start_event_sink(
	sink: Option<SinkConfig>,
	core: &CoreComponents,
	registry: Option<&substrate_prometheus_endpoint::Registry>,
	data_path: &std::path::Path,
	status: Option<herald_event_sink::status::StatusHandle>,
) -> Result<(), ServiceError> {
	let (Some(sink), Some(status)) = (sink, status) else { return Ok(()) };
	let state_dir = crate::event_sink::state_dir(data_path);
	crate::event_sink::start(
		sink,
		core.client.clone(),
		core.backend.clone(),
		&core.task_manager,
		registry,
		state_dir,
		status,
	)
}

/// Builds and starts the full node: normal consensus, or the development sealing mode `sealing`.
pub fn new_full<N>(
	config: Configuration,
	sealing: Option<Sealing>,
	sink: Option<SinkConfig>,
	follow: Option<crate::follow_rpc::FollowSetup>,
	wasm_cache: Option<&Path>,
) -> Result<TaskManager, ServiceError>
where
	N: sc_network::NetworkBackend<Block, <Block as sp_runtime::traits::Block>::Hash>,
{
	match sealing {
		Some(sealing) => new_full_dev_sealing::<N>(config, sealing, sink, follow, wasm_cache),
		None => new_full_consensus::<N>(config, sink, follow, wasm_cache),
	}
}

/// A node whose blocks are sealed on demand (`--sealing instant|manual`) instead of by Aura and GRANDPA.
fn new_full_dev_sealing<N>(
	config: Configuration,
	sealing: Sealing,
	sink: Option<SinkConfig>,
	follow: Option<crate::follow_rpc::FollowSetup>,
	wasm_cache: Option<&Path>,
) -> Result<TaskManager, ServiceError>
where
	N: sc_network::NetworkBackend<Block, <Block as sp_runtime::traits::Block>::Hash>,
{
	let mut core = new_core_components(&config, wasm_cache)?;
	let import_queue = sc_consensus_manual_seal::import_queue(
		Box::new(core.client.clone()),
		&core.task_manager.spawn_essential_handle(),
		config.prometheus_registry(),
	);
	let mut net = build_network::<N>(&config, &core, import_queue, None)?;
	let prometheus_registry = config.prometheus_registry().cloned();
	let data_path = config.data_path.clone();

	let (commands, commands_stream) = futures::channel::mpsc::channel(1024);
	let manual_commands = (sealing == Sealing::Manual).then_some(commands);
	let sink_status = sink.as_ref().map(|_| herald_event_sink::status::StatusHandle::default());
	let follow = start_follow(follow, &core, prometheus_registry.as_ref())?;
	spawn_common_tasks(config, &mut core, &mut net, manual_commands, sink_status.clone(), follow)?;
	start_event_sink(sink, &core, prometheus_registry.as_ref(), &data_path, sink_status)?;

	let proposer_factory = sc_basic_authorship::ProposerFactory::new(
		core.task_manager.spawn_handle(),
		core.client.clone(),
		core.transaction_pool.clone(),
		prometheus_registry.as_ref(),
		core.telemetry.as_ref().map(|x| x.handle()),
	);
	let authorship = dev_seal::authorship_task(
		sealing,
		core.client.clone(),
		core.transaction_pool.clone(),
		core.select_chain.clone(),
		proposer_factory,
		commands_stream,
	)?;
	core.task_manager.spawn_essential_handle().spawn_blocking("dev-sealing", Some("block-authoring"), authorship);

	Ok(core.task_manager)
}

/// A validator or full node running Aura authoring and GRANDPA finality.
fn new_full_consensus<N>(
	config: Configuration,
	sink: Option<SinkConfig>,
	follow: Option<crate::follow_rpc::FollowSetup>,
	wasm_cache: Option<&Path>,
) -> Result<TaskManager, ServiceError>
where
	N: sc_network::NetworkBackend<Block, <Block as sp_runtime::traits::Block>::Hash>,
{
	let sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, grandpa_link, telemetry),
	} = new_partial(&config, wasm_cache)?;
	let mut core =
		CoreComponents { client, backend, keystore_container, task_manager, select_chain, transaction_pool, telemetry };

	let mut net = build_network::<N>(&config, &core, import_queue, Some(grandpa_link.shared_authority_set()))?;

	let role = config.role;
	let force_authoring = config.force_authoring;
	let name = config.network.node_name.clone();
	let enable_grandpa = !config.disable_grandpa;
	let prometheus_registry = config.prometheus_registry().cloned();
	let data_path = config.data_path.clone();

	let sink_status = sink.as_ref().map(|_| herald_event_sink::status::StatusHandle::default());
	let follow = start_follow(follow, &core, prometheus_registry.as_ref())?;
	spawn_common_tasks(config, &mut core, &mut net, None, sink_status.clone(), follow)?;
	start_event_sink(sink, &core, prometheus_registry.as_ref(), &data_path, sink_status)?;

	if role.is_authority() {
		let proposer_factory = sc_basic_authorship::ProposerFactory::new(
			core.task_manager.spawn_handle(),
			core.client.clone(),
			core.transaction_pool.clone(),
			prometheus_registry.as_ref(),
			core.telemetry.as_ref().map(|x| x.handle()),
		);

		let slot_duration = sc_consensus_aura::slot_duration::<AuraId, _, _>(&*core.client)?;

		let aura = sc_consensus_aura::start_aura::<AuraPair, _, _, _, _, _, _, _, _, _, _>(StartAuraParams {
			slot_duration,
			client: core.client.clone(),
			select_chain: core.select_chain.clone(),
			block_import,
			proposer_factory,
			create_inherent_data_providers: move |_, ()| async move {
				let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
				let slot = sp_consensus_aura::inherents::InherentDataProvider::from_timestamp_and_slot_duration(
					*timestamp,
					slot_duration,
				);
				Ok((slot, timestamp))
			},
			force_authoring,
			backoff_authoring_blocks: Option::<()>::None,
			keystore: core.keystore_container.keystore(),
			sync_oracle: net.sync_service.clone(),
			justification_sync_link: net.sync_service.clone(),
			block_proposal_slot_portion: SlotProportion::new(2f32 / 3f32),
			max_block_proposal_slot_portion: None,
			telemetry: core.telemetry.as_ref().map(|x| x.handle()),
			compatibility_mode: Default::default(),
		})?;

		// Authoring is essential: if it fails, the node stops.
		core.task_manager.spawn_essential_handle().spawn_blocking("aura", Some("block-authoring"), aura);
	}

	if let (true, Some((protocol_name, notification_service))) = (enable_grandpa, net.grandpa.take()) {
		// A node that doesn't take part in consensus needs no keystore.
		let keystore = role.is_authority().then(|| core.keystore_container.keystore());

		let grandpa_config = sc_consensus_grandpa::Config {
			gossip_duration: Duration::from_millis(333),
			justification_generation_period: GRANDPA_JUSTIFICATION_PERIOD,
			name: Some(name),
			observer_enabled: false,
			keystore,
			local_role: role,
			telemetry: core.telemetry.as_ref().map(|x| x.handle()),
			protocol_name,
		};

		let grandpa_params = sc_consensus_grandpa::GrandpaParams {
			config: grandpa_config,
			link: grandpa_link,
			network: net.network.clone(),
			sync: net.sync_service.clone(),
			notification_service,
			voting_rule: sc_consensus_grandpa::VotingRulesBuilder::default().build(),
			prometheus_registry,
			shared_voter_state: SharedVoterState::empty(),
			telemetry: core.telemetry.as_ref().map(|x| x.handle()),
			offchain_tx_pool_factory: OffchainTransactionPoolFactory::new(core.transaction_pool.clone()),
		};

		// The voter is essential: if it fails, the node stops.
		core.task_manager.spawn_essential_handle().spawn_blocking(
			"grandpa-voter",
			None,
			sc_consensus_grandpa::run_grandpa_voter(grandpa_params)?,
		);
	}

	Ok(core.task_manager)
}
