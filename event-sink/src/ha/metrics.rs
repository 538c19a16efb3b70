//! Prometheus metrics of a high-availability group (`--kafka-ha-group`), on the node's registry. Each carries the
//! group's name as the label `group`, so that rules can sum a group's members (one active, the others standbys).

use substrate_prometheus_endpoint::{
	prometheus::core::Atomic, register, Counter, Gauge, Opts, PrometheusError, Registry, F64, U64,
};

/// See each metric's help.
#[derive(Clone)]
pub struct HaMetrics {
	pub active: Gauge<U64>,
	pub epoch: Gauge<U64>,
	pub takeovers: Counter<U64>,
	pub lease_age: Gauge<F64>,
}

impl HaMetrics {
	pub fn register(registry: &Registry, group: &str) -> Result<Self, PrometheusError> {
		fn gauge<P: Atomic>(group: &str, name: &str, help: &str) -> Result<Gauge<P>, PrometheusError> {
			Gauge::with_opts(Opts::new(name, help).const_label("group", group))
		}
		let counter = |name: &str, help: &str| Counter::with_opts(Opts::new(name, help).const_label("group", group));
		Ok(Self {
			active: register(
				gauge(group, "herald_ha_active", "1 when this node's sink is its group's active one, 0 on a standby")?,
				registry,
			)?,
			epoch: register(
				gauge(group, "herald_ha_epoch", "The leader epoch this node leads, or the last one it saw as standby")?,
				registry,
			)?,
			takeovers: register(
				counter("herald_ha_takeovers_total", "Times this node took its group over as leader")?,
				registry,
			)?,
			lease_age: register(
				gauge(
					group,
					"herald_ha_lease_age_seconds",
					"Seconds since the broker last confirmed this node's lease (0 on a standby)",
				)?,
				registry,
			)?,
		})
	}
}
