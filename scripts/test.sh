#!/usr/bin/env bash
# Sets up a bare machine (scripts/setup.sh) and runs every test of the workspace: unit tests, pallet tests and
# their benchmark tests, the micro-benchmark's smoke run, the end-to-end tests that start real `herald-node`
# processes (and, for the event sink, real nisshi brokers on 127.0.0.1), and the tests of the operations files.
#
# Everything is compiled once, by one cargo invocation with one feature set (scripts/common.sh); the test groups
# that follow only run what it built. Each phase's wall time is printed at the end (and on a failure), so the
# cost of a change shows. `HERALD_TESTS="kafka_sink best_chain"` runs only those end-to-end groups.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$HERALD_ROOT"

phases=()
phase_started=$(date +%s)
total_started=$phase_started
phase_done() {
	local now
	now=$(date +%s)
	phases+=("$(printf '%-44s %5d s' "$1" $((now - phase_started)))")
	phase_started=$now
}
report() {
	local status=$?
	((${#phases[@]})) || return 0
	log "time per phase (total $(($(date +%s) - total_started)) s):"
	printf '  %s\n' "${phases[@]}" >&2
	((status == 0)) || log "FAILED in the phase after the last one listed"
}
trap report EXIT

"$HERALD_ROOT/scripts/setup.sh"
phase_done "set-up (scripts/setup.sh)"

log "build: every target of the workspace, features $HERALD_FEATURES (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
# `cargo test`'s default targets: libraries, binaries, examples (built as programs, which some tests run), tests,
# and the micro-benchmark (`test = true` in event-sink/Cargo.toml).
herald_cargo test --no-run
phase_done "build (cargo test --no-run)"

# From here on cargo only runs what the build made: a `Compiling` line for a dependency would be a bug.
run_group() {
	local name=$1
	shift
	log "tests: $name"
	herald_cargo test "$@"
	phase_done "tests: $name"
}

run_group "unit and pallet tests (pallet benchmarks included)" --lib --bins
run_group "doc tests" --doc
run_group "micro-benchmark smoke run (block_to_messages)" --bench block_to_messages
# One group per test target name (`--test NAME` runs every package's target of that name).
declare -A seen=()
for target in event-sink/tests/*.rs event-sink/tests/*/main.rs node/tests/*.rs; do
	[ -e "$target" ] || continue
	name=$(basename "$target" .rs)
	[ "$name" = main ] && name=$(basename "$(dirname "$target")")
	[ -z "${seen[$name]:-}" ] || continue
	seen[$name]=1
	if [ -n "${HERALD_TESTS:-}" ] && ! grep -qw "$name" <<<"$HERALD_TESTS"; then continue; fi
	run_group "$name" --test "$name"
done

if [ -x "$HERALD_ROOT/ops/test.sh" ]; then
	log "tests: operations files (alert rules, dashboard)"
	"$HERALD_ROOT/ops/test.sh"
	phase_done "tests: ops (promtool, dashboard)"
fi
log "all tests passed"
