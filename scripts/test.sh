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
# The end-to-end groups: each of the event sink's test targets (`--test NAME`), and each module of the node's one
# end-to-end binary (`--test e2e -- NAME::`, a filter on the tests' paths). A module long enough to hold up a lane
# is a directory whose files are groups of their own (node/tests/e2e/ha/crash.rs: `ha/crash`, `--test e2e --
# ha::crash::`). A name both have (`contracts`) is one group that runs both. HERALD_TESTS selects groups by name, or
# a directory's groups by the directory's name (`ha`).
groups=()
declare -A commands=()
e2e_filters=()
selected() {
	[ -n "${HERALD_TESTS:-}" ] || return 0
	local word
	for word in $HERALD_TESTS; do
		[[ $1 == "$word" || $1 == "$word"/* ]] && return 0
	done
	return 1
}
add_group() {
	local name=$1
	shift
	selected "$name" || return 0
	[ -n "${commands[$name]:-}" ] || groups+=("$name")
	commands[$name]+="$*"$'\n'
}
for target in event-sink/tests/*.rs event-sink/tests/*/main.rs; do
	[ -e "$target" ] || continue
	name=$(basename "$target" .rs)
	[ "$name" = main ] && name=$(basename "$(dirname "$target")")
	add_group "$name" --test "$name"
done
for module in node/tests/e2e/*.rs node/tests/e2e/*/*.rs; do
	name=${module#node/tests/e2e/}
	name=${name%.rs}
	case $name in main | common | common/* | */mod) continue ;; esac
	e2e_filters+=("${name//\//::}::")
	add_group "$name" --test e2e -- "${name//\//::}::"
done
# Every end-to-end test is in exactly one group: a test no filter matches would never run, and one two filters
# match (a module's name ending another's, `chain::` in `best_chain::`) would run twice.
mapfile -t e2e_tests < <(herald_cargo test --test e2e -- --list 2>/dev/null | sed -n 's/: test$//p')
((${#e2e_tests[@]})) || die "node/tests/e2e: no tests listed (cargo test --test e2e -- --list)"
for test in "${e2e_tests[@]}"; do
	matched=0
	for filter in "${e2e_filters[@]}"; do
		[[ $test != *"$filter"* ]] || matched=$((matched + 1))
	done
	((matched == 1)) || die "node/tests/e2e: $test is in $matched groups (give each module a file of its own and \
names no group's filter contains another's)"
done
log "end-to-end groups: ${#e2e_filters[@]} cover the node's ${#e2e_tests[@]} end-to-end tests once each"

# The end-to-end groups wait on nodes, brokers and consensus far more than they compute, so they run in
# HERALD_TEST_LANES lanes at a time (default 4; 1 runs them one after the other). Each lane takes the longest group
# left (their seconds measured in four lanes, below; update them when a group's time changes a lot), so the lanes end
# together. Each group's output goes to its own log, printed in full if it fails. Since test nodes start from raw
# chain specs with a shared wasmtime cache (0.2 s of CPU per start instead of 9), the groups use about a quarter of
# the 2 cores. Measured on 2 cores: with `ha` one group of 259-317 s, no lane count could end before it (three lanes
# 325-336 s, four 284 s); split in two groups (ha/crash, ha/takeover, about two minutes each), four lanes took 214 s.
declare -A expected_seconds=(
	[ha/crash]=128 [ha/takeover]=121 [sink_guarantees]=68 [faults]=65 [readme]=61 [secured]=58 [contracts]=54
	[best_chain]=52 [kafka_sink]=48 [kafka_cursor]=37 [prometheus]=35 [hardening]=34 [follow_rpc]=24
	[runtime_upgrade]=19 [operations]=16 [cli]=15 [runtime]=4 [manual_seal]=3 [domain]=2
)
lanes=${HERALD_TEST_LANES:-4}
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
			"$HERALD_ROOT/ops/test.sh" >"$logs/${name//\//-}.log" 2>&1 && status=0 || status=$?
		else
			run_commands "$name" >"$logs/${name//\//-}.log" 2>&1 && status=0 || status=$?
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
	cat "$logs/${name//\//-}.log" >&2
done
((${#failed[@]} == 0)) || die "failed: ${failed[*]} (logs in $logs)"
log "all tests passed"
