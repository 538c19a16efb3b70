#!/usr/bin/env bash
# Benchmarks of the event sink (figures, not pass/fail): `./scripts/bench.sh [catch-up [BLOCKS] [TRANSFERS]]` or
# `./scripts/bench.sh outage [SECONDS]` or `./scripts/bench.sh latency [BLOCKS] [TRANSFERS]` (import to Kafka
# acknowledgement, p50/p99, best and finalized mode) or `./scripts/bench.sh import [BLOCKS] [TRANSFERS]` (block
# authoring + import time with the sink off and on) or `./scripts/bench.sh follow [SUBSCRIBERS] [BLOCKS] [TRANSFERS]`
# (the herald_v1_follow subscription: replay and live envelopes/s, import -> notification latency, and the Kafka
# output with SUBSCRIBERS subscribers attached against none) or `./scripts/bench.sh sync [BLOCKS] [TRANSFERS]
# [ROUNDS]` (a node syncing a filled chain over the network with the sink off and on: import time per block from the
# node's own metric, CPU per block, the sink's threads' share) or `./scripts/bench.sh failover [ROUNDS]` (an HA
# group's leader killed with kill -9 ROUNDS times: the time to the standby's herald_ha_active 1 and to its first
# block on herald.blocks, min/median/max). Needs what scripts/setup.sh installs.
# PROFILE=release measures a release build (a long cold build the first time); the default is the dev profile the
# tests use. BENCH_CHAINS=DIR keeps the filled chains between runs; see node/examples/sink_bench.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$HERALD_ROOT"
# --workspace and $HERALD_FEATURES: the tests' feature set, so the compiled dependencies are shared with them.
PROFILE="${PROFILE:-dev}"
cargo build --locked --profile "$PROFILE" --workspace --features "$HERALD_FEATURES" --bins --examples
if [ "$PROFILE" = dev ]; then dir=debug; else dir="$PROFILE"; fi
# The catch-up (the default benchmark) also runs the RPC indexer, a package of its own that only this script builds
# (never the test command); sink_bench finds it through RPC_INDEXER.
if [ "${1:-catch-up}" = catch-up ]; then
	cargo build --locked --manifest-path bench/rpc-indexer/Cargo.toml --profile "$PROFILE"
	export RPC_INDEXER="$CARGO_TARGET_DIR/$dir/rpc-indexer"
fi
exec "$CARGO_TARGET_DIR/$dir/examples/sink_bench" "$@"
