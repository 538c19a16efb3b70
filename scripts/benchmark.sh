#!/usr/bin/env bash
# Regenerates the weights of Herald's pallets from their benchmarks:
#
#   ./scripts/benchmark.sh                 # pallet_dao, pallet_agreements, pallet_crowdfunding
#   ./scripts/benchmark.sh dao             # one pallet
#   STEPS=2 REPEAT=1 ./scripts/benchmark.sh   # a quick smoke run (do not commit its figures)
#   PROFILE=release ./scripts/benchmark.sh     # figures for production: a release node (a long cold build)
#
# It builds herald-node with the workspace's one feature set (scripts/common.sh: the node with
# `runtime-benchmarks`, as the tests and the main job build it, so a dev build compiles nothing again) and runs `herald-node benchmark pallet` on the dev chain with the polkadot-sdk's usual
# 50 steps x 20 repeats, writing pallets/<name>/src/weights.rs through scripts/pallet-weight-template.hbs.
# Needs what scripts/setup.sh installs (the wasm targets).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$HERALD_ROOT"

PROFILE="${PROFILE:-dev}"
STEPS="${STEPS:-50}"
REPEAT="${REPEAT:-20}"
if (($#)); then pallets=("$@"); else pallets=(dao agreements crowdfunding); fi
for pallet in "${pallets[@]}"; do
	[ -f "pallets/$pallet/src/benchmarking.rs" ] || die "no benchmarks in pallets/$pallet (expected pallets/$pallet/src/benchmarking.rs)"
done

log "building herald-node with runtime benchmarks"
herald_cargo build --profile "$PROFILE" --bins --examples
if [ "$PROFILE" = dev ]; then node="$CARGO_TARGET_DIR/debug/herald-node"; else node="$CARGO_TARGET_DIR/$PROFILE/herald-node"; fi

for pallet in "${pallets[@]}"; do
	log "benchmarking pallet_$pallet ($STEPS steps x $REPEAT repeats)"
	"$node" benchmark pallet \
		--chain dev \
		--genesis-builder spec-runtime \
		--pallet "pallet_$pallet" \
		--extrinsic '*' \
		--steps "$STEPS" \
		--repeat "$REPEAT" \
		--wasm-execution compiled \
		--heap-pages 4096 \
		--template scripts/pallet-weight-template.hbs \
		--output "pallets/$pallet/src/weights.rs"
done
log "weights written; review them with: git diff -- pallets/*/src/weights.rs"
