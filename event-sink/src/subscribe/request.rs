//! A subscription's parameters and their checks: follow mode, where to start (`from`), and which envelopes to
//! send (`filter`). Every problem is an error that names it and the fix; nothing here panics on input.
//!
//! ```json
//! {"mode": "finalized" | "best",
//!  "from": {"block": 1234 | "0x…hash", "eventIndex": 2},
//!  "filter": {"names": ["TransferEvent"], "types": ["domain"], "pallets": ["Balances"], "topics": ["balances"]}}
//! ```

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value as Json;

use crate::{
	block::decode::EventDecoder,
	config::Follow,
	follow::ChainView,
	mapping::{EventType, Mappings},
	stream::BlockEnvelope,
	subscribe::FollowError,
};

/// A parsed, checked `herald_v1_follow` request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FollowRequest {
	pub mode: Follow,
	pub from: Option<From>,
	pub filter: Filter,
}

/// Where a replay starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct From {
	pub block: BlockRef,
	/// Within that block, the first event to send (by `meta.event_index`); the block's own envelopes before its
	/// events are then skipped. `None`: the whole block.
	pub event_index: Option<u32>,
}

/// A block by number or by hash (`0x`-hex).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BlockRef {
	Number(u64),
	Hash(Vec<u8>),
}

/// Which envelopes a subscription gets: each list given must match (any of its values); no list, everything.
/// In best mode `BlockRetracted` always passes: without it a subscriber could not undo what it received.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
	pub names: Option<BTreeSet<String>>,
	pub types: Option<BTreeSet<EventType>>,
	pub pallets: Option<BTreeSet<String>>,
	pub topics: Option<BTreeSet<String>>,
}

/// The names, pallets and topics a filter may use: the running runtime's events as the mapping table names and
/// routes them, and the sink's own envelopes.
#[derive(Clone, Debug, Default)]
pub struct Vocabulary {
	pub names: BTreeSet<String>,
	pub pallets: BTreeSet<String>,
	pub topics: BTreeSet<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRequest {
	mode: Option<String>,
	from: Option<RawFrom>,
	filter: Option<RawFilter>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawFrom {
	// Checked by hand: serde's own messages for these ("invalid number") don't say which field is wrong.
	block: Json,
	event_index: Option<Json>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFilter {
	names: Option<Vec<String>>,
	types: Option<Vec<String>>,
	pallets: Option<Vec<String>>,
	topics: Option<Vec<String>>,
}

impl FollowRequest {
	/// Parses the subscription's one parameter (absent or `null`: finalized mode, live, everything).
	pub fn parse(params: Option<Json>) -> Result<FollowRequest, FollowError> {
		let Some(params) = params.filter(|p| !p.is_null()) else { return Ok(FollowRequest::default()) };
		let raw: RawRequest = serde_json::from_value(params).map_err(|e| {
			FollowError::invalid(format!(
				"herald_v1_follow takes one object {{\"mode\", \"from\": {{\"block\", \"eventIndex\"}}, \"filter\": \
				 {{\"names\", \"types\", \"pallets\", \"topics\"}}}}: {e}"
			))
		})?;
		let mode = match raw.mode.as_deref() {
			None | Some("finalized") => Follow::Finalized,
			Some("best") => Follow::Best,
			Some(other) => {
				return Err(FollowError::invalid(format!("unknown mode {other:?}: use \"finalized\" or \"best\"")))
			}
		};
		let from = match raw.from {
			None => None,
			Some(RawFrom { block, event_index }) => Some(From {
				block: match &block {
					Json::Number(number) => BlockRef::Number(number.as_u64().ok_or_else(|| {
						FollowError::invalid(format!("from.block {number} is not a block number (0 or more)"))
					})?),
					Json::String(text) => BlockRef::Hash(parse_hash(text)?),
					other => {
						return Err(FollowError::invalid(format!(
							"from.block {other} is neither a block number nor a 0x-prefixed block hash"
						)))
					}
				},
				event_index: match event_index {
					None | Some(Json::Null) => None,
					Some(index) => Some(index.as_u64().and_then(|i| u32::try_from(i).ok()).ok_or_else(|| {
						FollowError::invalid(format!("from.eventIndex {index} is not an event index (0 or more)"))
					})?),
				},
			}),
		};
		let filter = match raw.filter {
			None => Filter::default(),
			Some(raw) => Filter {
				names: raw.names.map(|names| names.into_iter().collect()),
				types: match raw.types {
					None => None,
					Some(types) => Some(
						types
							.iter()
							.map(|t| match t.as_str() {
								"domain" => Ok(EventType::Domain),
								"infrastructure" => Ok(EventType::Infrastructure),
								other => Err(FollowError::invalid(format!(
									"unknown type {other:?} in filter.types: use \"domain\" or \"infrastructure\""
								))),
							})
							.collect::<Result<_, _>>()?,
					),
				},
				pallets: raw.pallets.map(|pallets| pallets.into_iter().collect()),
				topics: raw.topics.map(|topics| topics.into_iter().collect()),
			},
		};
		Ok(FollowRequest { mode, from, filter })
	}
}

fn parse_hash(text: &str) -> Result<Vec<u8>, FollowError> {
	let hex = text.strip_prefix("0x").unwrap_or(text);
	let bytes = (0..hex.len())
		.step_by(2)
		.map(|i| hex.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
		.collect::<Option<Vec<u8>>>();
	match bytes {
		Some(bytes) if bytes.len() == 32 => Ok(bytes),
		_ => Err(FollowError::invalid(format!(
			"from.block {text:?} is neither a block number nor a 0x-prefixed 32-byte block hash"
		))),
	}
}

impl Filter {
	/// Checks every value against what this runtime and mapping table can send.
	pub fn check(&self, vocabulary: &Vocabulary) -> Result<(), FollowError> {
		let check = |what: &str, given: &Option<BTreeSet<String>>, known: &BTreeSet<String>| {
			for value in given.iter().flatten() {
				if !known.contains(value) {
					let hint =
						closest(value, known).map(|close| format!("did you mean {close:?}? ")).unwrap_or_default();
					return Err(FollowError::invalid(format!(
						"filter.{what}: {value:?} is not one this node sends; {hint}it knows {}",
						list(known)
					)));
				}
			}
			Ok(())
		};
		check("names", &self.names, &vocabulary.names)?;
		check("pallets", &self.pallets, &vocabulary.pallets)?;
		check("topics", &self.topics, &vocabulary.topics)
	}

	/// Whether `envelope` passes (`best`: a best-mode subscription, whose retractions always pass).
	pub fn matches(&self, envelope: &BlockEnvelope, best: bool) -> bool {
		if best && &*envelope.route.name == "BlockRetracted" {
			return true;
		}
		self.names.as_ref().is_none_or(|names| names.contains(envelope.name()))
			&& self.types.as_ref().is_none_or(|types| types.contains(&envelope.event_type()))
			&& self.pallets.as_ref().is_none_or(|pallets| envelope.pallet().is_some_and(|p| pallets.contains(p)))
			&& self.topics.as_ref().is_none_or(|topics| topics.contains(&*envelope.route.topic))
	}
}

impl Vocabulary {
	/// What a runtime with this metadata can send through `mappings`.
	pub fn of_runtime(metadata: &[u8], mappings: &Mappings) -> Result<Vocabulary, String> {
		let decoder = EventDecoder::new(metadata).map_err(|e| e.to_string())?;
		let mut vocabulary = Vocabulary { topics: mappings.topics().into_iter().collect(), ..Vocabulary::default() };
		for name in ["BlockCreated", "BlockFinalized", "RuntimeUpgraded", "BlockRetracted"] {
			vocabulary.names.insert(mappings.infrastructure(name).name);
		}
		vocabulary.names.insert(mappings.resolve_undecodable(None, None).name);
		for event in decoder.event_indexes() {
			vocabulary.pallets.insert(event.pallet.to_string());
			if let Some(mapping) = mappings.resolve(event.pallet, event.variant) {
				vocabulary.names.insert(mapping.name);
			}
		}
		Ok(vocabulary)
	}
}

/// The known value closest to `value`, if it is close enough to be a misspelling.
fn closest<'a>(value: &str, known: &'a BTreeSet<String>) -> Option<&'a str> {
	known
		.iter()
		.map(|candidate| (strsim::jaro_winkler(&value.to_lowercase(), &candidate.to_lowercase()), candidate))
		.filter(|(score, _)| *score > 0.8)
		.max_by(|a, b| a.0.total_cmp(&b.0))
		.map(|(_, candidate)| candidate.as_str())
}

fn list(known: &BTreeSet<String>) -> String {
	const SHOWN: usize = 12;
	let mut text = known.iter().take(SHOWN).map(|k| format!("{k:?}")).collect::<Vec<_>>().join(", ");
	if known.len() > SHOWN {
		text.push_str(&format!(" and {} more (herald_v1_contracts lists them all)", known.len() - SHOWN));
	}
	text
}

/// Where a subscription starts: the live stream, or a replay from a block of the followed chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
	Live,
	At { number: u64, event_index: Option<u32> },
}

/// Resolves and checks `from` against the chain now: the block must exist on the followed chain (finalized, or
/// best in best mode), not above its head.
pub fn resolve_from<Ch: ChainView>(chain: &Ch, request: &FollowRequest) -> Result<Start, FollowError> {
	let Some(from) = &request.from else { return Ok(Start::Live) };
	let unavailable = |message: String| FollowError::new(FollowError::UNAVAILABLE, message);
	let internal = |e: crate::error::SinkError| FollowError::new(FollowError::INTERNAL, e.to_string());
	let heads = chain.heads().map_err(internal)?;
	let (head, chain_name) = match request.mode {
		Follow::Finalized => (heads.finalized.number, "finalized"),
		Follow::Best => (heads.best.number, "best"),
	};
	let number = match &from.block {
		BlockRef::Number(number) => {
			if *number > head + 1 {
				return Err(unavailable(format!(
					"from.block #{number} is above the {chain_name} head #{head}: follow from #{} or earlier, or \
					 without `from` to start live",
					head + 1
				)));
			}
			*number
		}
		BlockRef::Hash(bytes) => {
			let hex = crate::envelope::json::hex0x(bytes);
			let link = chain
				.link_of(bytes)
				.map_err(internal)?
				.ok_or_else(|| unavailable(format!("from.block {hex} is not a block this node has")))?;
			let on_chain = link.number <= head
				&& chain.canonical(link.number).map_err(internal)?.is_some_and(|c| c.hash == link.hash);
			if !on_chain {
				return Err(unavailable(format!(
					"from.block {hex} (#{}) is not on the {chain_name} chain: follow from a block of it",
					link.number
				)));
			}
			link.number
		}
	};
	Ok(Start::At { number, event_index: from.event_index })
}

#[cfg(test)]
mod tests {
	use super::*;
	use serde_json::json;

	fn parse(value: Json) -> Result<FollowRequest, FollowError> {
		FollowRequest::parse(Some(value))
	}

	#[test]
	fn no_parameter_follows_the_finalized_chain_live_with_everything() {
		assert_eq!(FollowRequest::parse(None), Ok(FollowRequest::default()));
		assert_eq!(FollowRequest::parse(Some(Json::Null)), Ok(FollowRequest::default()));
		assert_eq!(parse(json!({})).unwrap().mode, Follow::Finalized);
	}

	#[test]
	fn a_full_request_parses() {
		let hash = format!("0x{}", "0a".repeat(32));
		let request = parse(json!({
			"mode": "best",
			"from": {"block": hash, "eventIndex": 3},
			"filter": {"names": ["A"], "types": ["domain"], "pallets": ["P"], "topics": ["t"]},
		}))
		.unwrap();
		assert_eq!(request.mode, Follow::Best);
		assert_eq!(request.from, Some(From { block: BlockRef::Hash(vec![10; 32]), event_index: Some(3) }));
		assert_eq!(request.filter.types, Some([EventType::Domain].into()));
		assert_eq!(parse(json!({"from": {"block": 7}})).unwrap().from.unwrap().block, BlockRef::Number(7));
	}

	#[test]
	fn bad_input_names_the_problem() {
		let message = |value: Json| parse(value).expect_err("refused").message;
		assert!(message(json!({"filtre": {}})).contains("unknown field `filtre`"));
		assert!(message(json!({"mode": "fast"})).contains("\"fast\""));
		assert!(message(json!({"from": {"block": -2}})).contains("from.block -2"));
		assert!(message(json!({"from": {"block": 1, "eventIndex": -1}})).contains("from.eventIndex -1"));
		assert!(message(json!({"from": {"block": "0x1234"}})).contains("32-byte block hash"));
		assert!(message(json!({"from": {"block": 1}, "filter": {"types": ["domian"]}})).contains("\"domian\""));
		assert!(message(json!([1, 2])).contains("herald_v1_follow takes one object"));
		assert_eq!(parse(json!({"filtre": {}})).unwrap_err().code, FollowError::INVALID_PARAMS);
	}

	#[test]
	fn unknown_names_get_a_close_match() {
		let vocabulary = Vocabulary {
			names: ["BalanceTransferredEvent".to_string(), "BlockCreated".to_string()].into(),
			pallets: ["Balances".to_string()].into(),
			topics: ["balances".to_string()].into(),
		};
		let filter =
			|names: &[&str]| Filter { names: Some(names.iter().map(|n| n.to_string()).collect()), ..Filter::default() };
		assert_eq!(filter(&["BlockCreated"]).check(&vocabulary), Ok(()));
		let error = filter(&["BalanceTransferedEvent"]).check(&vocabulary).unwrap_err();
		assert!(error.message.contains("did you mean \"BalanceTransferredEvent\""), "{}", error.message);
		let error = filter(&["Zzz"]).check(&vocabulary).unwrap_err();
		assert!(!error.message.contains("did you mean") && error.message.contains("it knows"), "{}", error.message);
		let pallets = Filter { pallets: Some(["Balance".to_string()].into()), ..Filter::default() };
		assert!(pallets.check(&vocabulary).unwrap_err().message.contains("filter.pallets"));
	}
}
