#!/usr/bin/env bash
# Sets up a bare machine (scripts/setup.sh) and runs every test of the workspace: unit tests, pallet tests,
# benchmark tests, and the end-to-end tests that start real `herald-node` processes (and, for the event sink,
# real nisshi brokers on 127.0.0.1).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$HERALD_ROOT"

"$HERALD_ROOT/scripts/setup.sh"

started=$(date +%s)
log "cargo test --workspace (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
cargo test --workspace --locked
log "the sink's block-to-messages micro-benchmark, once and unmeasured (measure with cargo bench, see README)"
cargo test --locked -p herald-event-sink --bench block_to_messages

if [ -d pallets ] && ls pallets/*/Cargo.toml >/dev/null 2>&1; then
	log "pallet benchmark tests (--features runtime-benchmarks)"
	pallet_args=()
	for manifest in pallets/*/Cargo.toml; do
		pallet_args+=(-p "$(sed -n 's/^name = "\(.*\)"/\1/p' "$manifest" | head -n1)")
	done
	SKIP_WASM_BUILD=1 cargo test --locked "${pallet_args[@]}" --features runtime-benchmarks
	# The runtime's `Benchmark` API (what `herald-node benchmark pallet` calls) must keep compiling too.
	log "runtime with benchmarks (cargo check --features runtime-benchmarks)"
	SKIP_WASM_BUILD=1 cargo check --locked -p herald-runtime --features runtime-benchmarks
fi
log "all tests passed in $(( $(date +%s) - started )) s"
