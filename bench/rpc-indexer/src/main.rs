//! The RPC indexer of the catch-up benchmark: what an indexer outside the node does to ship a chain's events to
//! Kafka, measured in the same run as Herald (`scripts/bench.sh catch-up`, see `node/examples/sink_bench`).
//!
//! ```sh
//! rpc-indexer --url ws://127.0.0.1:9944 --brokers 127.0.0.1:9092 --topic rpc-indexer.events --from 1 --to 1000 \
//!     [--in-flight 16] [--kafka-config linger.ms=20 ...]
//! ```
//!
//! For every block of the range, up to `--in-flight` blocks at a time and shipped in block order, it asks the node
//! over JSON-RPC (subxt's legacy backend) for the block's hash (`chain_getBlockHash`), runtime version (`state_call
//! Core_version`; the metadata is fetched once per spec version and cached), header (`chain_getHeader`), events and
//! timestamp (`state_getStorage` of `System.Events` and `Timestamp.Now`). It decodes every event with the metadata,
//! turns it into an envelope of Herald's shape (`docs/envelope.md`: `name`, `type`, `data`, `meta`) and produces it
//! to `--topic`, keyed by its pallet, without headers, with the producer settings it is given (the benchmark passes
//! Herald's as `--kafka-config`). It waits for every
//! acknowledgement, then prints one line to stdout:
//!
//! ```text
//! rpc-indexer blocks=1000 events=50600 seconds=2.345 events_per_s=21577.8 blocks_per_s=426.4
//! ```
//!
//! The clock runs from the first block request to the last acknowledgement. Before it starts, the indexer has
//! connected to the node and to the broker, checked that the topic exists and fetched the metadata: Herald's clock
//! too starts once it is connected and shipping.
//!
//! An approximation of Herald's work, not a second implementation: `data` follows Herald's JSON conventions as far
//! as subxt's untyped `Value`s allow (a sequence of numbers that all fit in a byte is taken for bytes, a one-field
//! tuple for a newtype), every event is `"type": "domain"` under its unmapped name (`BalancesTransfer`), all go to
//! one topic, and no `BlockCreated` / `BlockFinalized` envelopes are added. Errors go to stderr, with exit status 1.

use std::{
	sync::{
		atomic::{AtomicUsize, Ordering},
		Arc, Mutex,
	},
	time::{Duration, Instant},
};

use futures::{stream, StreamExt};
use rdkafka::{
	error::{KafkaError, RDKafkaErrorCode},
	producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer},
	util::Timeout,
	ClientConfig, ClientContext,
};
use serde_json::{json, Map, Value as Json};
use subxt::{
	backend::LegacyBackend,
	events::Phase,
	ext::scale_value::{Composite, Primitive, Value, ValueDef},
	rpcs::RpcClient,
	OnlineClient, SubstrateConfig,
};

type Error = Box<dyn std::error::Error>;

const USAGE: &str = "usage: rpc-indexer --url WS_URL --brokers HOST:PORT --topic TOPIC --from N --to M \
                     [--in-flight 16] [--kafka-config KEY=VALUE ...]";

/// The largest integer a JSON consumer reading doubles holds exactly (2^53 - 1); larger ones are decimal strings.
const MAX_SAFE_INTEGER: u128 = (1 << 53) - 1;

struct Args {
	url: String,
	brokers: String,
	topic: String,
	from: u64,
	to: u64,
	in_flight: usize,
	/// librdkafka properties (the benchmark passes Herald's producer settings), as the node's `--kafka-config`.
	kafka_config: Vec<(String, String)>,
}

impl Args {
	fn parse() -> Result<Args, Error> {
		let (mut url, mut brokers, mut topic): (Option<String>, Option<String>, Option<String>) = (None, None, None);
		let (mut from, mut to): (Option<u64>, Option<u64>) = (None, None);
		let mut in_flight: usize = 16;
		let mut kafka_config = Vec::new();
		let mut args = std::env::args().skip(1);
		while let Some(flag) = args.next() {
			let value = args.next().ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
			match flag.as_str() {
				"--url" => url = Some(value),
				"--brokers" => brokers = Some(value),
				"--topic" => topic = Some(value),
				"--from" => from = Some(value.parse()?),
				"--to" => to = Some(value.parse()?),
				"--in-flight" => in_flight = value.parse()?,
				"--kafka-config" => {
					let (key, property) =
						value.split_once('=').ok_or_else(|| format!("--kafka-config {value}: not KEY=VALUE"))?;
					kafka_config.push((key.to_owned(), property.to_owned()));
				}
				_ => return Err(format!("unknown argument {flag}\n{USAGE}").into()),
			}
		}
		let missing = |flag: &str| format!("{flag} is required\n{USAGE}");
		let args = Args {
			url: url.ok_or_else(|| missing("--url"))?,
			brokers: brokers.ok_or_else(|| missing("--brokers"))?,
			topic: topic.ok_or_else(|| missing("--topic"))?,
			from: from.ok_or_else(|| missing("--from"))?,
			to: to.ok_or_else(|| missing("--to"))?,
			in_flight,
			kafka_config,
		};
		if args.from > args.to || args.in_flight == 0 {
			return Err(format!("need --from <= --to and --in-flight >= 1\n{USAGE}").into());
		}
		Ok(args)
	}
}

/// Counts the acknowledged and the failed deliveries (librdkafka's delivery reports, on the producer's thread).
#[derive(Default, Clone)]
struct Acks {
	delivered: Arc<AtomicUsize>,
	failed: Arc<AtomicUsize>,
	first_error: Arc<Mutex<Option<String>>>,
}

impl ClientContext for Acks {}

impl ProducerContext for Acks {
	type DeliveryOpaque = ();

	fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
		match result {
			Ok(_) => {
				self.delivered.fetch_add(1, Ordering::Relaxed);
			}
			Err((error, _)) => {
				self.failed.fetch_add(1, Ordering::Relaxed);
				self.first_error.lock().unwrap().get_or_insert_with(|| error.to_string());
			}
		}
	}
}

/// One Kafka message: an event's envelope, keyed by its pallet.
struct Message {
	key: String,
	payload: Vec<u8>,
}

#[tokio::main]
async fn main() {
	let result = match Args::parse() {
		Ok(args) => run(args).await,
		Err(error) => Err(error),
	};
	match result {
		Ok(line) => println!("{line}"),
		Err(error) => {
			eprintln!("rpc-indexer: {error}");
			std::process::exit(1);
		}
	}
}

/// Ships the range; returns the figures line.
async fn run(args: Args) -> Result<String, Error> {
	// subxt's legacy backend: the classic JSON-RPC methods (chain_*, state_*) every node serves, whatever else it
	// offers (subxt's default backend would pick the archive_* methods of an archive node instead).
	let rpc = RpcClient::from_insecure_url(&args.url).await?;
	let api =
		OnlineClient::<SubstrateConfig>::from_backend(Arc::new(LegacyBackend::<SubstrateConfig>::builder().build(rpc)))
			.await?;
	let chain = to_hex(api.genesis_hash());
	// The first block's metadata, fetched and cached (per spec version) by the client before the clock starts.
	api.at_block(args.from).await?;

	let mut config = ClientConfig::new();
	config.set("bootstrap.servers", &args.brokers);
	config.set("client.id", "rpc-indexer");
	// Herald's producer settings come from the benchmark as --kafka-config (event-sink's PRODUCER_DEFAULTS).
	for (key, value) in &args.kafka_config {
		config.set(key, value);
	}
	let acks = Acks::default();
	let producer: ThreadedProducer<Acks> = config.create_with_context(acks.clone())?;
	// Connected, with the topic's leaders known. A missing topic would otherwise hold every message forever
	// (message.timeout.ms=0).
	let metadata = producer.client().fetch_metadata(Some(args.topic.as_str()), Duration::from_secs(10))?;
	let topic = metadata.topics().iter().find(|topic| topic.name() == args.topic);
	match topic.map(|topic| (topic.error(), topic.partitions().len())) {
		Some((None, partitions)) if partitions > 0 => {}
		Some((Some(error), _)) => {
			let code = RDKafkaErrorCode::from(error);
			return Err(format!("topic {}: {code} (create it first)", args.topic).into());
		}
		_ => return Err(format!("topic {} not found: create it first", args.topic).into()),
	}

	let started = Instant::now();
	let (api, chain) = (&api, chain.as_str());
	// Up to `in_flight` blocks requested at once; `buffered` hands them back in block order.
	let mut blocks = std::pin::pin!(stream::iter(args.from..=args.to)
		.map(move |number| fetch_block(api, chain, number))
		.buffered(args.in_flight));
	let (mut block_count, mut sent) = (0u64, 0usize);
	while let Some(messages) = blocks.next().await {
		for message in messages? {
			send(&producer, &args.topic, &message).await?;
			sent += 1;
		}
		block_count += 1;
	}
	producer.flush(Timeout::Never)?;
	let seconds = started.elapsed().as_secs_f64();

	let first_error = acks.first_error.lock().unwrap().take();
	if let Some(error) = first_error {
		let failed = acks.failed.load(Ordering::Relaxed);
		return Err(format!("{failed} of {sent} messages were not delivered, the first: {error}").into());
	}
	let delivered = acks.delivered.load(Ordering::Relaxed);
	if delivered != sent {
		return Err(format!("{delivered} of {sent} messages acknowledged").into());
	}
	Ok(format!(
		"rpc-indexer blocks={block_count} events={sent} seconds={seconds:.3} events_per_s={:.1} blocks_per_s={:.1}",
		sent as f64 / seconds,
		block_count as f64 / seconds
	))
}

/// Block `number`'s events as envelopes, in the order of the block's `System.Events`.
async fn fetch_block(api: &OnlineClient<SubstrateConfig>, chain: &str, number: u64) -> Result<Vec<Message>, Error> {
	// chain_getBlockHash, then state_call Core_version (the spec version selects the cached metadata).
	let at = api.at_block(number).await?;
	let timestamp_now = subxt::storage::dynamic::<(), u64>("Timestamp", "Now");
	// The header, the events and the timestamp: three requests at once.
	let (header, events, timestamp) = futures::try_join!(
		async { Ok::<_, Error>(at.block_header().await?) },
		async { Ok::<_, Error>(at.events().fetch().await?) },
		async { Ok::<_, Error>(at.storage().try_fetch(&timestamp_now, ()).await?) },
	)?;
	let timestamp = timestamp.map(|value| value.decode()).transpose()?;

	let hash = to_hex(at.block_hash());
	let parent_hash = to_hex(header.parent_hash);
	let spec_version = at.spec_version();
	let mut messages = Vec::with_capacity(events.len() as usize);
	for event in events.iter() {
		let event = event?;
		let (pallet, variant, index) = (event.pallet_name(), event.event_name(), event.index());
		let fields: Composite<()> = event.decode_fields_unchecked_as()?;
		let envelope = json!({
			"name": format!("{pallet}{variant}"),
			"type": "domain",
			"data": fields_json(&fields),
			"meta": {
				"id": format!("{hash}:{index}"),
				"schema_version": 1,
				"chain": chain,
				"block": {"number": header.number, "hash": hash, "parent_hash": parent_hash},
				"event_index": index,
				"phase": phase_json(event.phase()),
				"pallet": pallet,
				"variant": variant,
				"spec_version": spec_version,
				"timestamp": timestamp,
				// The benchmark's range is final (manual seal finalizes every block it seals).
				"finalized": true
			}
		});
		messages.push(Message { key: pallet.to_owned(), payload: serde_json::to_vec(&envelope)? });
	}
	Ok(messages)
}

/// Produces `message` to `topic` without headers; waits for room when librdkafka's queue is full.
async fn send(producer: &ThreadedProducer<Acks>, topic: &str, message: &Message) -> Result<(), Error> {
	let mut record = BaseRecord::to(topic).key(message.key.as_str()).payload(&message.payload[..]);
	loop {
		match producer.send(record) {
			Ok(()) => return Ok(()),
			Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), returned)) => {
				record = returned;
				tokio::time::sleep(Duration::from_millis(1)).await;
			}
			Err((error, _)) => return Err(error.into()),
		}
	}
}

fn to_hex(bytes: impl AsRef<[u8]>) -> String {
	format!("0x{}", hex::encode(bytes))
}

fn phase_json(phase: Phase) -> Json {
	match phase {
		Phase::ApplyExtrinsic(index) => json!({"kind": "ApplyExtrinsic", "extrinsic_index": index}),
		Phase::Initialization => json!({"kind": "Initialization"}),
		Phase::Finalization => json!({"kind": "Finalization"}),
	}
}

/// An event's fields as Herald's `data`: an object keyed by field name, an array for unnamed fields, `{}` for none.
fn fields_json(fields: &Composite<()>) -> Json {
	match fields {
		Composite::Unnamed(values) if !values.is_empty() => Json::Array(values.iter().map(value_json).collect()),
		Composite::Unnamed(_) => Json::Object(Map::new()),
		Composite::Named(named) => {
			Json::Object(named.iter().map(|(name, value)| (name.clone(), value_json(value))).collect())
		}
	}
}

fn value_json(value: &Value) -> Json {
	match &value.value {
		ValueDef::Composite(composite) => composite_json(composite),
		ValueDef::Variant(variant) => variant_json(&variant.name, &variant.values),
		ValueDef::BitSequence(bits) => Json::Array(bits.iter().map(Json::Bool).collect()),
		ValueDef::Primitive(primitive) => primitive_json(primitive),
	}
}

/// Structs are objects; `()` is null; a one-field tuple is its field (a newtype: `AccountId32([u8; 32])`,
/// `Perbill(u32)`); a sequence of byte-sized numbers is `0x` hex (`Vec<u8>`, `[u8; 32]`); other sequences are arrays.
fn composite_json(composite: &Composite<()>) -> Json {
	match composite {
		Composite::Named(fields) => {
			Json::Object(fields.iter().map(|(name, value)| (name.clone(), value_json(value))).collect())
		}
		Composite::Unnamed(values) => match &values[..] {
			[] => Json::Null,
			[single] => value_json(single),
			_ => match as_bytes(values) {
				Some(bytes) => Json::String(to_hex(bytes)),
				None => Json::Array(values.iter().map(value_json).collect()),
			},
		},
	}
}

/// The values as bytes, if every one is an unsigned integer below 256.
fn as_bytes(values: &[Value]) -> Option<Vec<u8>> {
	values
		.iter()
		.map(|value| match &value.value {
			ValueDef::Primitive(Primitive::U128(n)) => u8::try_from(*n).ok(),
			_ => None,
		})
		.collect()
}

/// `Option` is null or its value; a variant without data is its name; with data, `{"Variant": data}` (one
/// unnamed field: the field itself).
fn variant_json(name: &str, values: &Composite<()>) -> Json {
	let data = match values {
		_ if values.is_empty() => return if name == "None" { Json::Null } else { Json::String(name.to_owned()) },
		Composite::Unnamed(fields) if fields.len() == 1 => value_json(&fields[0]),
		_ => composite_json(values),
	};
	if name == "Some" {
		return data;
	}
	let mut object = Map::new();
	object.insert(name.to_owned(), data);
	Json::Object(object)
}

fn primitive_json(primitive: &Primitive) -> Json {
	match primitive {
		Primitive::Bool(value) => Json::Bool(*value),
		Primitive::Char(value) => Json::String(value.to_string()),
		Primitive::String(value) => Json::String(value.clone()),
		Primitive::U128(value) if *value <= MAX_SAFE_INTEGER => Json::from(*value as u64),
		Primitive::I128(value) if value.unsigned_abs() <= MAX_SAFE_INTEGER => Json::from(*value as i64),
		Primitive::U128(value) => Json::String(value.to_string()),
		Primitive::I128(value) => Json::String(value.to_string()),
		// 256-bit integers (rare in FRAME events): their little-endian bytes in hex, not decimal.
		Primitive::U256(bytes) | Primitive::I256(bytes) => Json::String(to_hex(bytes)),
	}
}
