//! Producing through librdkafka's own call, `rd_kafka_produceva`, instead of rust-rdkafka's `BaseProducer::send`,
//! for three things `send` can't do and a dense catch-up pays for on every message (issue 22's profile):
//!
//! - **no payload copy**: `send` always passes `RD_KAFKA_MSG_F_COPY`. Here librdkafka borrows the envelope's
//!   shared bytes ([`BorrowedPayload`]) and the delivery callback gives the reference back;
//! - **topic handles**: `send` names the topic, which costs a `CString` and a lookup under the client's lock per
//!   message; here each topic's `rd_kafka_topic_t` is made once ([`TopicHandles`]);
//! - **headers in the same call**: `RD_KAFKA_VTYPE_HEADER`, without building an `OwnedHeaders` first.
//!
//! Everything else (the client, its polling thread, the delivery callback) stays rust-rdkafka's.

use std::{
	ffi::{c_void, CStr, CString},
	ptr::NonNull,
	sync::Arc,
};

use rdkafka::{
	bindings as rdsys,
	error::{KafkaError, RDKafkaErrorCode},
};

/// A payload handed to librdkafka without a copy: librdkafka reads it until the message's delivery report, so the
/// message holds one reference of its `Arc<[u8]>` until then.
pub struct BorrowedPayload;

impl BorrowedPayload {
	/// One reference of `payload` for librdkafka: its address (the length is the payload's).
	fn lend(payload: &Arc<[u8]>) -> *const u8 {
		Arc::into_raw(payload.clone()) as *const u8
	}

	/// Gives back a reference [`Self::lend`] took (`len`: the payload's length).
	///
	/// # Safety
	/// `ptr` and `len` are a payload lent by [`Self::lend`] whose reference was not given back yet.
	pub unsafe fn give_back(ptr: *const u8, len: usize) {
		drop(Arc::<[u8]>::from_raw(std::ptr::slice_from_raw_parts(ptr, len)));
	}
}

/// One topic's librdkafka handle.
struct TopicHandle(NonNull<rdsys::rd_kafka_topic_t>);

// SAFETY: librdkafka's topic handles are thread-safe (reference-counted, used from any thread).
unsafe impl Send for TopicHandle {}
unsafe impl Sync for TopicHandle {}

impl Drop for TopicHandle {
	fn drop(&mut self) {
		// SAFETY: made by `rd_kafka_topic_new`, given up once; messages in flight keep their own reference.
		unsafe { rdsys::rd_kafka_topic_destroy(self.0.as_ptr()) }
	}
}

/// The handles of the topics a producer sends to, made once the topics exist (`KafkaProducer::use_topics`). A topic
/// without one (none is expected: retractions go to topics of the same mappings) is named in the call instead.
#[derive(Default)]
pub struct TopicHandles(Vec<(Arc<str>, TopicHandle)>);

impl TopicHandles {
	/// Handles for `topics` on the client `client`.
	///
	/// # Safety
	/// `client` is a live producer, and outlives the handles.
	pub unsafe fn new(client: *mut rdsys::rd_kafka_t, topics: &[String]) -> TopicHandles {
		let mut handles = Vec::with_capacity(topics.len());
		for topic in topics {
			let Ok(name) = CString::new(topic.as_str()) else { continue };
			if let Some(handle) = NonNull::new(rdsys::rd_kafka_topic_new(client, name.as_ptr(), std::ptr::null_mut())) {
				handles.push((Arc::from(topic.as_str()), TopicHandle(handle)));
			}
		}
		TopicHandles(handles)
	}

	fn get(&self, topic: &str) -> Option<*mut rdsys::rd_kafka_topic_t> {
		self.0.iter().find(|(name, _)| &**name == topic).map(|(_, handle)| handle.0.as_ptr())
	}
}

/// A header as `rd_kafka_produceva` takes it: a NUL-terminated key and a value.
pub type NativeHeader<'a> = (&'static CStr, &'a [u8]);

/// The most headers a message carries: the six envelope headers, the leader's and the run's epochs, a signature
/// and its key id.
pub const MAX_HEADERS: usize = 10;

/// One message for [`produce`].
pub struct NativeMessage<'a> {
	pub topic: &'a str,
	pub partition: i32,
	pub key: Option<&'a [u8]>,
	/// Lent to librdkafka when not empty (see [`lends`]).
	pub payload: &'a Arc<[u8]>,
	pub headers: &'a [NativeHeader<'a>],
	/// The delivery opaque (the ticket).
	pub opaque: usize,
}

/// Whether [`produce`] lends `payload` (librdkafka drops an empty value's address, so an empty one is copied): the
/// delivery callback gives the reference back exactly when this is true of the payload it is handed.
pub fn lends(payload: &[u8]) -> bool {
	!payload.is_empty()
}

/// Queues `message` on the producer `client`. On an error nothing was queued and the payload's reference is given
/// back; `QueueFull` means try again once the queue drained.
///
/// # Safety
/// `client` is a live producer whose delivery callback gives back every payload [`lends`] is true of
/// ([`BorrowedPayload::give_back`]).
pub unsafe fn produce(
	client: *mut rdsys::rd_kafka_t,
	topics: &TopicHandles,
	message: &NativeMessage<'_>,
) -> Result<(), KafkaError> {
	let mut vus: [rdsys::rd_kafka_vu_t; 6 + MAX_HEADERS] = std::mem::zeroed();
	let mut count = 0;
	let mut push = |vtype: rdsys::rd_kafka_vtype_t, u: rdsys::rd_kafka_vu_s__bindgen_ty_1| {
		vus[count] = rdsys::rd_kafka_vu_t { vtype, u };
		count += 1;
	};
	// Kept alive until the call returned.
	let topic_name;
	match topics.get(message.topic) {
		Some(rkt) => push(rdsys::rd_kafka_vtype_t::RD_KAFKA_VTYPE_RKT, rdsys::rd_kafka_vu_s__bindgen_ty_1 { rkt }),
		None => {
			topic_name = CString::new(message.topic).map_err(KafkaError::from)?;
			let cstr = topic_name.as_ptr();
			push(rdsys::rd_kafka_vtype_t::RD_KAFKA_VTYPE_TOPIC, rdsys::rd_kafka_vu_s__bindgen_ty_1 { cstr });
		}
	}
	push(
		rdsys::rd_kafka_vtype_t::RD_KAFKA_VTYPE_PARTITION,
		rdsys::rd_kafka_vu_s__bindgen_ty_1 { i32_: message.partition },
	);
	let lent = lends(message.payload);
	let (payload, flags) = if lent {
		(BorrowedPayload::lend(message.payload), 0)
	} else {
		(message.payload.as_ptr(), rdsys::RD_KAFKA_MSG_F_COPY)
	};
	push(rdsys::rd_kafka_vtype_t::RD_KAFKA_VTYPE_MSGFLAGS, rdsys::rd_kafka_vu_s__bindgen_ty_1 { i: flags });
	let mem = |bytes: *const u8, size: usize| rdsys::rd_kafka_vu_s__bindgen_ty_1 {
		mem: rdsys::rd_kafka_vu_s__bindgen_ty_1__bindgen_ty_1 { ptr: bytes as *mut c_void, size },
	};
	push(rdsys::rd_kafka_vtype_t::RD_KAFKA_VTYPE_VALUE, mem(payload, message.payload.len()));
	if let Some(key) = message.key {
		push(rdsys::rd_kafka_vtype_t::RD_KAFKA_VTYPE_KEY, mem(key.as_ptr(), key.len()));
	}
	push(
		rdsys::rd_kafka_vtype_t::RD_KAFKA_VTYPE_OPAQUE,
		rdsys::rd_kafka_vu_s__bindgen_ty_1 { ptr: message.opaque as *mut c_void },
	);
	for (key, value) in message.headers.iter().take(MAX_HEADERS) {
		push(
			rdsys::rd_kafka_vtype_t::RD_KAFKA_VTYPE_HEADER,
			rdsys::rd_kafka_vu_s__bindgen_ty_1 {
				header: rdsys::rd_kafka_vu_s__bindgen_ty_1__bindgen_ty_2 {
					name: key.as_ptr(),
					val: value.as_ptr() as *const c_void,
					size: value.len() as isize,
				},
			},
		);
	}
	let error = rdsys::rd_kafka_produceva(client, vus.as_ptr(), count);
	if error.is_null() {
		return Ok(());
	}
	let code = rdsys::rd_kafka_error_code(error);
	rdsys::rd_kafka_error_destroy(error);
	if lent {
		// Not queued: librdkafka keeps no reference.
		BorrowedPayload::give_back(payload, message.payload.len());
	}
	Err(KafkaError::MessageProduction(RDKafkaErrorCode::from(code)))
}
