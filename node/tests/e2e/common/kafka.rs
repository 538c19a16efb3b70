//! Kafka side of the end-to-end tests: a real nisshi broker process on 127.0.0.1 (memory or `sqlite://` storage,
//! plain, TLS, SASL/SCRAM, or mutual TLS through `stunnel4`), a TCP proxy in front of it that a test can cut (the
//! memory engine forgets everything on restart; the `sqlite://` one survives [`Broker::restart`]), and a consumer
//! that reads whole topics back.

use std::{
	io::{Read, Write},
	net::{Shutdown, TcpListener, TcpStream},
	path::Path,
	process::{Child, Command, Stdio},
	sync::{
		atomic::{AtomicBool, Ordering},
		Arc, Mutex,
	},
	time::{Duration, Instant},
};

use rdkafka::{
	consumer::{BaseConsumer, Consumer},
	message::{Headers, Message},
	ClientConfig, Offset, TopicPartitionList,
};
use serde_json::Value;

use super::free_port;

/// A topic of envelopes under `prefix`: a high-availability group's own topics (`.sink-lease`, `.sink-state`) hold
/// records that are not envelopes.
pub fn is_envelope_topic(name: &str, prefix: &str) -> bool {
	name.starts_with(prefix) && !name.ends_with(".sink-lease") && !name.ends_with(".sink-state")
}

/// A nisshi broker reached through a cuttable proxy; everything it started stops on drop.
pub struct Broker {
	child: Child,
	launch: Launch,
	/// The address clients bootstrap from (the proxy, or the TLS terminator in front of it), e.g. `127.0.0.1:40123`.
	pub address: String,
	pub proxy: Proxy,
	/// librdkafka properties the test's consumers need (e.g. TLS).
	client_properties: Vec<(String, String)>,
	terminator: Option<Child>,
}

/// A SCRAM user the broker knows.
pub struct ScramUser {
	pub name: &'static str,
	pub password: &'static str,
	/// `SCRAM-SHA-256` or `SCRAM-SHA-512` (librdkafka's spelling).
	pub mechanism: &'static str,
}

/// How to (re)start the broker process: the same port, arguments and working directory each time.
struct Launch {
	binary: String,
	port: u16,
	args: Vec<String>,
	/// Holds the `sqlite://` database and the TLS terminator's configuration.
	dir: tempfile::TempDir,
}

impl Launch {
	fn new(port: u16, advertised: &str, storage: &str, extra_args: &[&str]) -> Self {
		let mut args: Vec<String> = vec![
			"broker".into(),
			"--listener-url".into(),
			format!("tcp://127.0.0.1:{port}"),
			// Clients must come back through the proxy (or terminator), so it is what the broker advertises.
			"--advertised-listener-url".into(),
			format!("tcp://{advertised}"),
			"--storage-engine".into(),
			storage.into(),
		];
		args.extend(extra_args.iter().map(|a| a.to_string()));
		let binary = std::env::var("HERALD_NISSHI").unwrap_or_else(|_| "nisshi".into());
		Launch { binary, port, args, dir: tempfile::tempdir().unwrap() }
	}

	fn spawn(&self) -> Child {
		let child = Command::new(&self.binary)
			.args(&self.args)
			.current_dir(self.dir.path())
			.stdout(Stdio::null())
			.stderr(Stdio::null())
			.spawn()
			.unwrap_or_else(|e| {
				panic!("cannot start the test broker {:?} ({e}): run scripts/setup.sh to install nisshi", self.binary)
			});
		wait_listening(self.port, "nisshi");
		child
	}
}

fn wait_listening(port: u16, what: &str) {
	let deadline = Instant::now() + Duration::from_secs(30);
	while TcpStream::connect(("127.0.0.1", port)).is_err() {
		assert!(Instant::now() < deadline, "{what} did not listen on {port} within 30 s");
		std::thread::sleep(Duration::from_millis(50));
	}
}

fn stop(child: &mut Child) {
	let _ = child.kill();
	let _ = child.wait();
}

impl Broker {
	/// The broker process's id.
	pub fn pid(&self) -> u32 {
		self.child.id()
	}

	/// A broker with nisshi's memory engine.
	pub fn start() -> Self {
		Self::start_with("memory://herald/", &[], Vec::new())
	}

	/// A broker with nisshi's `sqlite://` engine: its data survives [`Self::restart`].
	pub fn start_persistent() -> Self {
		Self::start_with("sqlite://herald.db", &[], Vec::new())
	}

	/// A broker whose listener only accepts TLS, with `certificate` and `key` (PEM); the test's consumers trust
	/// `ca_file`.
	pub fn start_tls(certificate: &Path, key: &Path, ca_file: &Path) -> Self {
		let client = vec![
			("security.protocol".to_string(), "SSL".to_string()),
			("ssl.ca.location".to_string(), ca_file.to_str().unwrap().to_string()),
		];
		Self::start_with(
			"memory://herald/",
			&["--cert", certificate.to_str().unwrap(), "--key", key.to_str().unwrap()],
			client,
		)
	}

	/// A broker that requires SASL/SCRAM and knows `users` (created with `nisshi user create` before
	/// authentication is turned on, which then refuses everything else to an unauthenticated client). The test's
	/// consumers log in as the first user.
	pub fn start_scram(users: &[ScramUser]) -> Self {
		let mut broker = Self::start_persistent();
		for user in users {
			let mechanism = match user.mechanism {
				"SCRAM-SHA-256" => "scram256",
				"SCRAM-SHA-512" => "scram512",
				other => panic!("nisshi has no SCRAM mechanism {other}"),
			};
			let output = Command::new(&broker.launch.binary)
				.args(["user", "create", user.name, user.password, "--mechanism", mechanism])
				.args(["--broker", &format!("tcp://127.0.0.1:{}", broker.launch.port)])
				.output()
				.expect("nisshi user create runs");
			assert!(
				output.status.success(),
				"nisshi user create {}: {} (a nisshi without the libsql feature can't store users: rerun \
				 scripts/setup.sh)",
				user.name,
				String::from_utf8_lossy(&output.stderr)
			);
		}
		stop(&mut broker.child);
		broker.launch.args.push("--authentication".into());
		broker.child = broker.launch.spawn();
		let first = users.first().expect("at least one user");
		broker.client_properties = vec![
			("security.protocol".into(), "SASL_PLAINTEXT".into()),
			("sasl.mechanism".into(), first.mechanism.into()),
			("sasl.username".into(), first.name.into()),
			("sasl.password".into(), first.password.into()),
		];
		broker
	}

	/// A broker reached only through a TLS terminator (Debian's `stunnel4`) that demands a client certificate
	/// signed by `ca_file` (`verify = 2`) and presents `certificate`/`key`; nisshi itself listens in plain text
	/// behind it (it never asks for client certificates) and advertises the terminator. The test's consumers
	/// present `client_certificate`/`client_key`.
	pub fn start_mutual_tls(
		certificate: &Path,
		key: &Path,
		ca_file: &Path,
		client_certificate: &Path,
		client_key: &Path,
	) -> Self {
		let terminator_port = free_port();
		let address = format!("127.0.0.1:{terminator_port}");
		let client = vec![
			("security.protocol".to_string(), "SSL".to_string()),
			("ssl.ca.location".to_string(), ca_file.to_str().unwrap().to_string()),
			("ssl.certificate.location".to_string(), client_certificate.to_str().unwrap().to_string()),
			("ssl.key.location".to_string(), client_key.to_str().unwrap().to_string()),
		];
		let mut broker = Self::start_at(Some(address.clone()), "memory://herald/", &[], client);
		let config = broker.launch.dir.path().join("stunnel.conf");
		std::fs::write(
			&config,
			format!(
				"foreground = yes\npid =\n[kafka]\naccept = {address}\nconnect = 127.0.0.1:{}\ncert = {}\nkey = {}\n\
				 CAfile = {}\nverify = 2\n",
				broker.proxy.port,
				certificate.display(),
				key.display(),
				ca_file.display()
			),
		)
		.unwrap();
		let terminator = Command::new("stunnel4")
			.arg(&config)
			.stdout(Stdio::null())
			.stderr(Stdio::null())
			.spawn()
			.expect("stunnel4 runs (apt install stunnel4, or run scripts/setup.sh)");
		broker.terminator = Some(terminator);
		wait_listening(terminator_port, "stunnel4");
		broker.address = address;
		broker
	}

	fn start_with(storage: &str, extra_args: &[&str], client_properties: Vec<(String, String)>) -> Self {
		Self::start_at(None, storage, extra_args, client_properties)
	}

	/// A broker that validates the value of every produced record against `registry/<topic>.json` (nisshi's
	/// `--schema-registry`, files of the form `{"properties": {"value": <schema>}}`, as `export-contracts` writes
	/// them) and refuses a record that doesn't match with `INVALID_RECORD`; topics without a file are not checked.
	pub fn start_with_schema_registry(registry: &Path) -> Self {
		let broker_port = free_port();
		let proxy = Proxy::start(broker_port);
		let address = format!("127.0.0.1:{}", proxy.port);
		let mut launch = Launch::new(broker_port, &address, "memory://herald/", &[]);
		// nisshi reads the registry relative to its working directory: copy the files there.
		let copy = launch.dir.path().join("schema-registry");
		std::fs::create_dir_all(&copy).unwrap();
		for entry in std::fs::read_dir(registry).unwrap_or_else(|e| panic!("{}: {e}", registry.display())) {
			let entry = entry.unwrap();
			std::fs::copy(entry.path(), copy.join(entry.file_name())).unwrap();
		}
		launch.args.extend(["--schema-registry".to_string(), "file://./schema-registry".to_string()]);
		let child = launch.spawn();
		Broker { child, launch, address, proxy, client_properties: Vec::new(), terminator: None }
	}

	/// Starts nisshi behind a proxy; it advertises `advertised`, or the proxy.
	fn start_at(
		advertised: Option<String>,
		storage: &str,
		extra_args: &[&str],
		client_properties: Vec<(String, String)>,
	) -> Self {
		let broker_port = free_port();
		let proxy = Proxy::start(broker_port);
		let address = format!("127.0.0.1:{}", proxy.port);
		let launch = Launch::new(broker_port, advertised.as_deref().unwrap_or(&address), storage, extra_args);
		let child = launch.spawn();
		Broker { child, launch, address, proxy, client_properties, terminator: None }
	}

	/// Kills the broker process (SIGKILL) and starts it again on the same port and storage. Only a persistent
	/// broker ([`Self::start_persistent`]) keeps its data.
	pub fn restart(&mut self) {
		self.kill();
		self.resume();
	}

	/// Kills the broker process (SIGKILL); [`Self::resume`] starts it again.
	pub fn kill(&mut self) {
		stop(&mut self.child);
	}

	/// Starts the broker process again after [`Self::kill`].
	pub fn resume(&mut self) {
		self.child = self.launch.spawn();
	}

	/// Reads every message of every topic whose name starts with `prefix` (all partitions) from the beginning
	/// until `done` holds for what arrived (panics after `timeout`, showing what arrived).
	pub fn consume_until(&self, prefix: &str, timeout: Duration, done: impl Fn(&[Record]) -> bool) -> Vec<Record> {
		self.try_consume_until(prefix, timeout, done).unwrap_or_else(|e| panic!("{e}"))
	}

	/// As [`Self::consume_until`], but a timeout is returned as an error describing what arrived.
	pub fn try_consume_until(
		&self,
		prefix: &str,
		timeout: Duration,
		done: impl Fn(&[Record]) -> bool,
	) -> Result<Vec<Record>, String> {
		let what = format!("starts with {prefix:?}");
		self.try_consume_topics_until(&what, &|name: &str| is_envelope_topic(name, prefix), timeout, done)
	}

	/// As [`Self::try_consume_until`], for the topics `select` accepts (by name); `what` describes them for
	/// failure messages. A high-availability group's `<prefix>.sink-lease` and `<prefix>.sink-state` hold records
	/// that are not envelopes: a consumer of a group's stream leaves them out this way.
	pub fn try_consume_topics_until(
		&self,
		what: &str,
		select: &dyn Fn(&str) -> bool,
		timeout: Duration,
		done: impl Fn(&[Record]) -> bool,
	) -> Result<Vec<Record>, String> {
		let deadline = Instant::now() + timeout;
		// Waits for the sink's topics first.
		let mut records = self.consume_topics(what, select, 0, timeout);
		loop {
			if done(&records) {
				return Ok(records);
			}
			records = self.consume_topics(what, select, usize::MAX, Duration::from_secs(2));
			if done(&records) {
				return Ok(records);
			}
			if Instant::now() > deadline {
				let names: Vec<String> = records
					.iter()
					.filter(|r| r.topic.ends_with(".blocks"))
					.map(|r| {
						// A group's leader marks every message with its epoch: which leader wrote what.
						let epoch = r.header("leader_epoch").map(|e| format!(" epoch {e}")).unwrap_or_default();
						format!(
							"{} #{}{epoch} [{}]",
							r.envelope["name"], r.envelope["meta"]["block"]["number"], r.partition
						)
					})
					.collect();
				return Err(format!("condition not met after {timeout:?}; blocks topic holds {names:?}"));
			}
			std::thread::sleep(Duration::from_millis(300));
		}
	}

	/// librdkafka properties for a client of this broker (address and security).
	pub fn client_config(&self) -> ClientConfig {
		let mut config = ClientConfig::new();
		config.set("bootstrap.servers", &self.address);
		for (key, value) in &self.client_properties {
			config.set(key, value);
		}
		config
	}

	fn consumer(&self) -> BaseConsumer {
		self.client_config()
			.set("group.id", format!("herald-test-{}", free_port()))
			.set("enable.auto.commit", "false")
			.set("enable.partition.eof", "false")
			.create()
			.expect("consumer")
	}

	/// The names of the topics that start with `prefix`.
	pub fn topics(&self, prefix: &str) -> Vec<String> {
		let metadata = self.consumer().fetch_metadata(None, Duration::from_secs(10)).expect("cluster metadata");
		metadata.topics().iter().map(|t| t.name().to_string()).filter(|name| name.starts_with(prefix)).collect()
	}

	/// Reads every message of every topic whose name starts with `prefix` (all partitions) from the beginning,
	/// waiting until at least `min` arrived or `timeout` passed, then a little longer for any extra (duplicates).
	pub fn consume(&self, prefix: &str, min: usize, timeout: Duration) -> Vec<Record> {
		self.consume_topics(
			&format!("starts with {prefix:?}"),
			&|name: &str| is_envelope_topic(name, prefix),
			min,
			timeout,
		)
	}

	/// As [`Self::consume`], for the topics `select` accepts (by name); `what` describes them for failure messages.
	pub fn consume_topics(
		&self,
		what: &str,
		select: &dyn Fn(&str) -> bool,
		min: usize,
		timeout: Duration,
	) -> Vec<Record> {
		let consumer = self.consumer();
		// The sink creates its topics (all at once) when it first reaches the broker, which may be after an outage.
		let deadline = Instant::now() + timeout;
		let assignment = loop {
			let metadata = consumer.fetch_metadata(None, Duration::from_secs(10)).expect("cluster metadata");
			let mut assignment = TopicPartitionList::new();
			for topic in metadata.topics().iter().filter(|t| select(t.name())) {
				for partition in topic.partitions() {
					assignment.add_partition_offset(topic.name(), partition.id(), Offset::Beginning).unwrap();
				}
			}
			if assignment.count() > 0 {
				break assignment;
			}
			assert!(Instant::now() < deadline, "no topic {what} after {timeout:?}");
			std::thread::sleep(Duration::from_millis(500));
		};
		consumer.assign(&assignment).expect("assign partitions");
		let mut records = Vec::new();
		while records.len() < min && Instant::now() < deadline {
			match consumer.poll(Duration::from_millis(200)) {
				Some(Ok(message)) => records.push(Record::from(&message)),
				Some(Err(error)) => eprintln!("consumer: {error}"),
				None => {}
			}
		}
		// Anything beyond `min` that is already there (duplicates would show up here).
		let settle = Instant::now() + Duration::from_millis(1500);
		while Instant::now() < settle {
			if let Some(Ok(message)) = consumer.poll(Duration::from_millis(100)) {
				records.push(Record::from(&message));
			}
		}
		records
	}
}

impl Drop for Broker {
	fn drop(&mut self) {
		if let Some(terminator) = &mut self.terminator {
			stop(terminator);
		}
		stop(&mut self.child);
	}
}

/// One consumed message.
#[derive(Debug, Clone)]
pub struct Record {
	pub topic: String,
	pub partition: i32,
	pub offset: i64,
	pub key: Option<String>,
	pub headers: Vec<(String, String)>,
	pub envelope: Value,
	/// The message value as received.
	pub payload: Vec<u8>,
}

impl Record {
	pub fn header(&self, name: &str) -> Option<&str> {
		self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
	}
}

impl<M: Message> From<&M> for Record {
	fn from(message: &M) -> Self {
		let headers = message
			.headers()
			.map(|headers| {
				headers
					.iter()
					.map(|h| (h.key.to_string(), String::from_utf8_lossy(h.value.unwrap_or_default()).into_owned()))
					.collect()
			})
			.unwrap_or_default();
		Record {
			topic: message.topic().to_string(),
			partition: message.partition(),
			offset: message.offset(),
			key: message.key().map(|k| String::from_utf8_lossy(k).into_owned()),
			headers,
			envelope: serde_json::from_slice(message.payload().expect("every message has a payload"))
				.expect("every payload is JSON"),
			payload: message.payload().unwrap_or_default().to_vec(),
		}
	}
}

/// A TCP proxy to the broker; `cut()` drops every connection and refuses new ones until `restore()`.
pub struct Proxy {
	pub port: u16,
	cut: Arc<AtomicBool>,
	connections: Connections,
	stop: Arc<AtomicBool>,
}

/// The open proxied connections (client and server side), by number: a connection leaves when its first direction
/// ends, so a long test whose clients reconnect many times (a broker restart, HA leases) doesn't pile up sockets.
type Connections = Arc<Mutex<std::collections::HashMap<u64, [TcpStream; 2]>>>;

impl Proxy {
	fn start(upstream: u16) -> Self {
		let listener = TcpListener::bind("127.0.0.1:0").unwrap();
		let port = listener.local_addr().unwrap().port();
		listener.set_nonblocking(true).unwrap();
		let cut = Arc::new(AtomicBool::new(false));
		let stop = Arc::new(AtomicBool::new(false));
		let connections: Connections = Default::default();
		let (cut2, stop2, conns2) = (cut.clone(), stop.clone(), connections.clone());
		std::thread::spawn(move || {
			let mut next_id = 0u64;
			while !stop2.load(Ordering::SeqCst) {
				match listener.accept() {
					Ok((client, _)) => {
						if cut2.load(Ordering::SeqCst) {
							let _ = client.shutdown(Shutdown::Both);
							continue;
						}
						let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
							continue;
						};
						if client.set_nonblocking(false).is_err() {
							continue;
						}
						// Forward each write at once: Nagle's algorithm against the peer's delayed ACKs adds ~40 ms
						// stalls that a real broker connection doesn't have.
						let _ = client.set_nodelay(true);
						let _ = server.set_nodelay(true);
						let (Ok(client_in), Ok(server_in), Ok(client_kept), Ok(server_kept)) =
							(client.try_clone(), server.try_clone(), client.try_clone(), server.try_clone())
						else {
							continue;
						};
						next_id += 1;
						conns2.lock().unwrap().insert(next_id, [client_kept, server_kept]);
						pipe(next_id, client_in, server_in, conns2.clone());
						pipe(next_id, server, client, conns2.clone());
					}
					Err(_) => std::thread::sleep(Duration::from_millis(10)),
				}
			}
		});
		Proxy { port, cut, connections, stop }
	}

	/// Simulates a broker outage: every open connection is closed and new ones are refused.
	pub fn cut(&self) {
		self.cut.store(true, Ordering::SeqCst);
		for [client, server] in self.connections.lock().unwrap().drain().map(|(_, pair)| pair) {
			let _ = client.shutdown(Shutdown::Both);
			let _ = server.shutdown(Shutdown::Both);
		}
	}

	/// Ends the outage.
	pub fn restore(&self) {
		self.cut.store(false, Ordering::SeqCst);
	}
}

impl Drop for Proxy {
	fn drop(&mut self) {
		self.stop.store(true, Ordering::SeqCst);
		self.cut();
	}
}

/// Copies `from` to `to` until either side ends, then closes connection `id` both ways and forgets it.
fn pipe(id: u64, mut from: TcpStream, mut to: TcpStream, connections: Connections) {
	std::thread::spawn(move || {
		let mut buffer = [0u8; 64 * 1024];
		loop {
			match from.read(&mut buffer) {
				Ok(0) | Err(_) => break,
				Ok(n) => {
					if to.write_all(&buffer[..n]).is_err() {
						break;
					}
				}
			}
		}
		let _ = to.shutdown(Shutdown::Both);
		let _ = from.shutdown(Shutdown::Both);
		connections.lock().unwrap().remove(&id);
	});
}

/// The records of each topic-partition in Kafka's order.
pub fn partitions(records: &[Record]) -> std::collections::BTreeMap<(String, i32), Vec<&Record>> {
	let mut by_partition: std::collections::BTreeMap<(String, i32), Vec<&Record>> = Default::default();
	for record in records {
		by_partition.entry((record.topic.clone(), record.partition)).or_default().push(record);
	}
	for records in by_partition.values_mut() {
		records.sort_by_key(|r| r.offset);
	}
	by_partition
}
