//! The Kafka sink as the node runs it: the generic [`driver`](crate::output::driver) with the
//! [`KafkaOutput`]. The shipping loop itself (plan, read, write-ahead, send in order, complete on
//! acknowledgements) lives in the driver; everything Kafka-specific in [`crate::kafka`].

use tokio::sync::watch;

use crate::{
	block::reader::BlockReader,
	config::SinkConfig,
	error::SinkError,
	follow::ChainView,
	kafka::{metrics::Metrics, output::KafkaOutput},
	output::driver,
	status::StatusHandle,
	store::StateStore,
};

pub use crate::output::driver::Parts;

/// Runs the Kafka sink until a fatal error (or, with `config.required`, any error).
pub async fn run<Ch, R, S>(
	parts: Parts<Ch, R, S>,
	config: SinkConfig,
	metrics: Option<Metrics>,
	wake: watch::Receiver<u64>,
) -> SinkError
where
	R: BlockReader,
	Ch: ChainView<Hash = R::Hash>,
	S: StateStore<R::Hash>,
{
	run_with_status(parts, config, metrics, wake, StatusHandle::default()).await
}

/// [`run`], reporting to `status` (what the node's `herald_status` RPC answers).
pub async fn run_with_status<Ch, R, S>(
	parts: Parts<Ch, R, S>,
	config: SinkConfig,
	metrics: Option<Metrics>,
	wake: watch::Receiver<u64>,
	status: StatusHandle,
) -> SinkError
where
	R: BlockReader,
	Ch: ChainView<Hash = R::Hash>,
	S: StateStore<R::Hash>,
{
	let output = KafkaOutput::new(config.clone(), parts.reader.chain().to_string(), metrics.clone());
	driver::run_with_status(parts, output, config, metrics, wake, status).await
}
