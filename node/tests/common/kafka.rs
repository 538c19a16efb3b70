//! Kafka side of the end-to-end tests: a real nisshi broker process on 127.0.0.1, a TCP proxy in front of it
//! that a test can cut (nisshi's memory engine forgets everything on restart, so outages are simulated by
//! cutting the proxy the broker advertises), and a consumer that reads whole topics back.

use std::{
	io::{Read, Write},
	net::{Shutdown, TcpListener, TcpStream},
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

/// A nisshi broker reached through a cuttable proxy; both stop on drop.
pub struct Broker {
	child: Child,
	/// The address clients bootstrap from (the proxy), e.g. `127.0.0.1:40123`.
	pub address: String,
	pub proxy: Proxy,
	/// librdkafka properties the test's consumers need (e.g. TLS).
	client_properties: Vec<(String, String)>,
}

impl Broker {
	pub fn start() -> Self {
		Self::start_with(&[], Vec::new())
	}

	/// A broker whose listener only accepts TLS, with `certificate` and `key` (PEM); the test's consumers trust
	/// `ca_file`.
	pub fn start_tls(certificate: &std::path::Path, key: &std::path::Path, ca_file: &std::path::Path) -> Self {
		let client = vec![
			("security.protocol".to_string(), "SSL".to_string()),
			("ssl.ca.location".to_string(), ca_file.to_str().unwrap().to_string()),
		];
		Self::start_with(&["--cert", certificate.to_str().unwrap(), "--key", key.to_str().unwrap()], client)
	}

	fn start_with(extra_args: &[&str], client_properties: Vec<(String, String)>) -> Self {
		let broker_port = free_port();
		let proxy = Proxy::start(broker_port);
		let address = format!("127.0.0.1:{}", proxy.port);
		let binary = std::env::var("HERALD_NISSHI").unwrap_or_else(|_| "nisshi".into());
		let child = Command::new(&binary)
			.args(["broker", "--listener-url", &format!("tcp://127.0.0.1:{broker_port}")])
			// Clients must come back through the proxy, so it is what the broker advertises.
			.args(["--advertised-listener-url", &format!("tcp://{address}")])
			.args(["--storage-engine", "memory://herald/"])
			.args(extra_args)
			.stdout(Stdio::null())
			.stderr(Stdio::null())
			.spawn()
			.unwrap_or_else(|e| {
				panic!("cannot start the test broker {binary:?} ({e}): run scripts/setup.sh to install nisshi")
			});
		let deadline = Instant::now() + Duration::from_secs(30);
		while TcpStream::connect(("127.0.0.1", broker_port)).is_err() {
			assert!(Instant::now() < deadline, "nisshi did not listen on {broker_port} within 30 s");
			std::thread::sleep(Duration::from_millis(50));
		}
		Broker { child, address, proxy, client_properties }
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
		let deadline = Instant::now() + timeout;
		// Waits for the sink's topics first.
		let mut records = self.consume(prefix, 0, timeout);
		loop {
			if done(&records) {
				return Ok(records);
			}
			records = self.consume(prefix, usize::MAX, Duration::from_secs(2));
			if done(&records) {
				return Ok(records);
			}
			if Instant::now() > deadline {
				let names: Vec<String> = records
					.iter()
					.filter(|r| r.topic.ends_with(".blocks"))
					.map(|r| format!("{} #{}", r.envelope["name"], r.envelope["meta"]["block"]["number"]))
					.collect();
				return Err(format!("condition not met after {timeout:?}; blocks topic holds {names:?}"));
			}
			std::thread::sleep(Duration::from_millis(300));
		}
	}

	/// Reads every message of every topic whose name starts with `prefix` (all partitions) from the beginning,
	/// waiting until at least `min` arrived or `timeout` passed, then a little longer for any extra (duplicates).
	pub fn consume(&self, prefix: &str, min: usize, timeout: Duration) -> Vec<Record> {
		let mut config = ClientConfig::new();
		config
			.set("bootstrap.servers", &self.address)
			.set("group.id", format!("herald-test-{}", free_port()))
			.set("enable.auto.commit", "false")
			.set("enable.partition.eof", "false");
		for (key, value) in &self.client_properties {
			config.set(key, value);
		}
		let consumer: BaseConsumer = config.create().expect("consumer");
		// The sink creates its topics (all at once) when it first reaches the broker, which may be after an outage.
		let deadline = Instant::now() + timeout;
		let assignment = loop {
			let metadata = consumer.fetch_metadata(None, Duration::from_secs(10)).expect("cluster metadata");
			let mut assignment = TopicPartitionList::new();
			for topic in metadata.topics().iter().filter(|t| t.name().starts_with(prefix)) {
				for partition in topic.partitions() {
					assignment.add_partition_offset(topic.name(), partition.id(), Offset::Beginning).unwrap();
				}
			}
			if assignment.count() > 0 {
				break assignment;
			}
			assert!(Instant::now() < deadline, "no topic starts with {prefix:?} after {timeout:?}");
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
		let _ = self.child.kill();
		let _ = self.child.wait();
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
	connections: Arc<Mutex<Vec<TcpStream>>>,
	stop: Arc<AtomicBool>,
}

impl Proxy {
	fn start(upstream: u16) -> Self {
		let listener = TcpListener::bind("127.0.0.1:0").unwrap();
		let port = listener.local_addr().unwrap().port();
		listener.set_nonblocking(true).unwrap();
		let cut = Arc::new(AtomicBool::new(false));
		let stop = Arc::new(AtomicBool::new(false));
		let connections: Arc<Mutex<Vec<TcpStream>>> = Default::default();
		let (cut2, stop2, conns2) = (cut.clone(), stop.clone(), connections.clone());
		std::thread::spawn(move || {
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
						client.set_nonblocking(false).unwrap();
						// Forward each write at once: Nagle's algorithm against the peer's delayed ACKs adds ~40 ms
						// stalls that a real broker connection doesn't have.
						let _ = client.set_nodelay(true);
						let _ = server.set_nodelay(true);
						let mut conns = conns2.lock().unwrap();
						conns.push(client.try_clone().unwrap());
						conns.push(server.try_clone().unwrap());
						pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
						pipe(server, client);
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
		for connection in self.connections.lock().unwrap().drain(..) {
			let _ = connection.shutdown(Shutdown::Both);
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

fn pipe(mut from: TcpStream, mut to: TcpStream) {
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
