//! Prometheus metrics of a high-availability group (`--kafka-ha-group`), on the node's registry.

use substrate_prometheus_endpoint::{register, Counter, Gauge, PrometheusError, Registry, F64, U64};

/// See each metric's help.
#[derive(Clone)]
pub struct HaMetrics {
	pub active: Gauge<U64>,
	pub epoch: Gauge<U64>,
	pub takeovers: Counter<U64>,
	pub lease_age: Gauge<F64>,
}

impl HaMetrics {
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		Ok(Self {
			active: register(
				Gauge::new("herald_ha_active", "1 when this node's sink is its group's active one, 0 on a standby")?,
				registry,
			)?,
			epoch: register(
				Gauge::new("herald_ha_epoch", "The leader epoch this node leads, or the last one it saw as standby")?,
				registry,
			)?,
			takeovers: register(
				Counter::new("herald_ha_takeovers_total", "Times this node took its group over as leader")?,
				registry,
			)?,
			lease_age: register(
				Gauge::new(
					"herald_ha_lease_age_seconds",
					"Seconds since the broker last confirmed this node's lease (0 on a standby)",
				)?,
				registry,
			)?,
		})
	}
}
