//! Everything that talks to Kafka: the librdkafka configuration, the partitioner, the producer (delivery reports
//! turned into acknowledgements), topic administration, envelope signatures and the sink's Prometheus metrics.

pub mod admin;
pub mod client_config;
pub mod epoch;
pub mod headers;
pub mod metrics;
pub mod native;
pub mod output;
pub mod partition;
pub mod producer;
pub mod request;
pub mod signing;
pub mod stand_in;
