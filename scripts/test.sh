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

# The end-to-end tests run several nodes, brokers and proxied connections at once; a shell's default soft limit of
# open files (often 1024) is not the machine's. Take the hard limit, as the node itself does for its database.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
log "open files limit: $(ulimit -n) (soft), $(ulimit -Hn) (hard)"

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
# and the micro-benchmark (`test = true` in event-sink/Cargo.toml). `--timings` writes what each compiled unit
# cost to $CARGO_TARGET_DIR/cargo-timings/cargo-timing.html: where a slow build's time went.
herald_cargo test --no-run --timings
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
# The end-to-end groups: each of the event sink's test targets (`--test NAME`) and each module of the node's one
# end-to-end binary (`--test e2e -- NAME::`, the filter being the module's path). A name both have (`contracts`)
# is one group that runs both.
groups=()
declare -A commands=()
add_group() {
	local name=$1
	shift
	if [ -n "${HERALD_TESTS:-}" ] && ! grep -qw "$name" <<<"$HERALD_TESTS"; then return; fi
	[ -n "${commands[$name]:-}" ] || groups+=("$name")
	commands[$name]+="$*"$'\n'
}
for target in event-sink/tests/*.rs event-sink/tests/*/main.rs; do
	[ -e "$target" ] || continue
	name=$(basename "$target" .rs)
	[ "$name" = main ] && name=$(basename "$(dirname "$target")")
	add_group "$name" --test "$name"
done
for module in node/tests/e2e/*.rs; do
	name=$(basename "$module" .rs)
	[ "$name" = main ] && continue
	add_group "$name" --test e2e -- "$name::"
done

# The end-to-end groups wait on nodes, brokers and consensus far more than they compute, so they run in
# HERALD_TEST_LANES lanes at a time (default 3; 1 runs them one after the other). Each lane takes the longest group
# left (their seconds measured in four lanes, below; update them when a group's time changes a lot), so the lanes end
# together. Each group's output goes to its own log, printed in full if it fails. Since test nodes start from raw
# chain specs with a shared wasmtime cache (0.2 s of CPU per start instead of 9), the groups use about a quarter of
# the 2 cores: measured, two lanes 384 s of wall time, four lanes 284 s (ha alone, the longest group). Three lanes
# end with ha too and share the cores less. (Before that change three lanes were slower than two: 735 s vs 719.)
declare -A expected_seconds=(
	[ha]=284 [sink_guarantees]=98 [readme]=85 [faults]=66 [hardening]=56 [secured]=52 [best_chain]=48
	[kafka_sink]=42 [prometheus]=30 [contracts]=26 [kafka_cursor]=21 [follow_rpc]=17 [operations]=14
	[runtime_upgrade]=12 [cli]=9 [manual_seal]=2 [runtime]=2 [domain]=1
)
lanes=${HERALD_TEST_LANES:-3}
logs=$(mktemp -d "${TMPDIR:-/tmp}/herald-tests.XXXXXX")
touch "$logs/taken" "$logs/times"
# Longest first.
mapfile -t queue < <(for name in "${groups[@]}"; do echo "${expected_seconds[$name]:-30} $name"; done | sort -rn | cut -d' ' -f2)
[ -x "$HERALD_ROOT/ops/test.sh" ] && queue+=(ops)

run_lane() {
	local name started status
	while name=$(next_group); do
		started=$(date +%s)
		log "tests: $name (lane $1)"
		if [ "$name" = ops ]; then
			"$HERALD_ROOT/ops/test.sh" >"$logs/$name.log" 2>&1 && status=0 || status=$?
		else
			run_commands "$name" >"$logs/$name.log" 2>&1 && status=0 || status=$?
		fi
		echo "$name $(($(date +%s) - started)) $status" >>"$logs/times"
		log "tests: $name $( ((status == 0)) && echo passed || echo FAILED) in $(($(date +%s) - started)) s"
	done
}
# Runs a group's cargo commands, one after the other; fails on the first that fails.
run_commands() {
	local args
	while read -r -a args; do
		((${#args[@]})) || continue
		herald_cargo test "${args[@]}" || return
	done <<<"${commands[$1]}"
}
# Hands out the queue, one group at a time, to whichever lane asks first (a lock file keeps lanes apart).
next_group() {
	(
		flock 9
		local taken
		taken=$(wc -l <"$logs/taken")
		((taken < ${#queue[@]})) || exit 1
		echo "${queue[$taken]}" | tee -a "$logs/taken"
	) 9>"$logs/lock"
}
lane_pids=()
for ((lane = 1; lane <= lanes; lane++)); do
	run_lane "$lane" &
	lane_pids+=($!)
done
wait "${lane_pids[@]}"
failed=()
while read -r name seconds status; do
	phases+=("$(printf '%-44s %5d s' "tests: $name" "$seconds")")
	((status == 0)) || failed+=("$name")
done <"$logs/times"
phase_done "end-to-end groups ($lanes lanes, wall time)"
for name in "${failed[@]}"; do
	log "output of the failed group $name:"
	cat "$logs/$name.log" >&2
done
((${#failed[@]} == 0)) || die "failed: ${failed[*]} (logs in $logs)"
log "all tests passed"
