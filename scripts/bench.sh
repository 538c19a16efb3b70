#!/usr/bin/env bash
# Benchmarks of the event sink (figures, not pass/fail): `./scripts/bench.sh [catch-up [BLOCKS] [TRANSFERS]]` or
# `./scripts/bench.sh outage [SECONDS]` or `./scripts/bench.sh latency [BLOCKS] [TRANSFERS]` (import to Kafka
# acknowledgement, p50/p99, best and finalized mode) or `./scripts/bench.sh import [BLOCKS] [TRANSFERS]` (block
# authoring + import time with the sink off and on). Needs what scripts/setup.sh installs.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$HERALD_ROOT"
# --workspace: the same feature set as the tests, so the compiled dependencies are shared with them.
cargo build --locked --workspace --bins --examples
exec "$CARGO_TARGET_DIR/debug/examples/sink_bench" "$@"
