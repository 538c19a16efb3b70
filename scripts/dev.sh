#!/usr/bin/env bash
# The main job: set up a bare machine, build herald-node, start a local Kafka-compatible broker on
# 127.0.0.1:9092 (unless something already listens there) and run a development node.
# Extra arguments are passed to herald-node, e.g. `./scripts/dev.sh --sealing instant`.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$HERALD_ROOT"

"$HERALD_ROOT/scripts/setup.sh"

log "building herald-node"
# The binaries and examples of the whole workspace, with the test command's feature set (examples, like tests,
# turn on dev-dependencies): running one command after the other compiles nothing twice.
herald_cargo build --bins --examples
NODE="$CARGO_TARGET_DIR/debug/herald-node"
TAIL="$CARGO_TARGET_DIR/debug/examples/herald_tail"

BROKER_PORT="${HERALD_BROKER_PORT:-9092}"
# The broker and the stream viewer live as long as this script.
cleanup() { kill $(jobs -p) 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM
if port_open "$BROKER_PORT"; then
	log "a broker already listens on 127.0.0.1:$BROKER_PORT; using it"
else
	mkdir -p .herald
	log "starting nisshi on 127.0.0.1:$BROKER_PORT (log: .herald/broker.log)"
	nisshi broker \
		--listener-url "tcp://127.0.0.1:$BROKER_PORT" \
		--advertised-listener-url "tcp://127.0.0.1:$BROKER_PORT" \
		--storage-engine memory://herald/ >.herald/broker.log 2>&1 &
	for _ in $(seq 1 100); do port_open "$BROKER_PORT" && break; sleep 0.1; done
	port_open "$BROKER_PORT" || die "nisshi did not start; see .herald/broker.log"
fi

# Show the stream: every envelope the node ships, as it arrives (also kept in .herald/stream.log).
mkdir -p .herald
"$TAIL" "127.0.0.1:$BROKER_PORT" herald 2>/dev/null | tee .herald/stream.log | sed -u 's/^/[kafka] /' &

# The value the node will use for flag $1: from the arguments passed to it (`--flag V` or `--flag=V`), else $2.
node_flag() {
	local flag=$1 value=$2
	shift 2
	while (($#)); do
		case $1 in
		"$flag") value=${2:-$value} ;;
		"$flag"=*) value=${1#*=} ;;
		esac
		shift
	done
	echo "$value"
}
RPC_PORT=$(node_flag --rpc-port 9944 "$@")
METRICS="http://127.0.0.1:$(node_flag --prometheus-port 9615 "$@")/metrics"
[[ " $* " != *" --no-prometheus "* ]] || METRICS=off
WHERE="shipped envelopes → [kafka] lines, topics herald.*, .herald/stream.log; metrics $METRICS (herald_kafka_*); \
event catalog docs/contracts/catalog/README.md"
# The demo workload (default on): once the node's RPC answers, tools/js/demo-workload.cjs submits transfers, a DAO, a
# contract agreement and a crowdfunding that a later block's on_initialize finishes, so domain events flow within
# the first minute. Its output is prefixed [demo] and kept in .herald/demo.log. It lives as long as this script.
if [ "${HERALD_DEMO:-1}" != 0 ]; then
	log "demo workload (HERALD_DEMO=0 to skip): transfers, a DAO, a signed agreement, a crowdfunding that ends by \
itself → [demo] lines, .herald/demo.log; $WHERE"
	demo() {
		for _ in $(seq 1 1200); do port_open "$RPC_PORT" && break; sleep 0.5; done
		port_open "$RPC_PORT" || { echo "error: the node's RPC (127.0.0.1:$RPC_PORT) did not answer in 10 minutes"; exit 1; }
		exec node "$HERALD_ROOT/tools/js/demo-workload.cjs" "ws://127.0.0.1:$RPC_PORT" --metrics "$METRICS"
	}
	demo 2>&1 | tee .herald/demo.log | sed -u 's/^/[demo] /' &
else
	log "no demo workload (HERALD_DEMO=0): $WHERE"
fi

log "running: herald-node --dev --kafka-brokers 127.0.0.1:$BROKER_PORT $*"
"$NODE" --dev --kafka-brokers "127.0.0.1:$BROKER_PORT" --wasmtime-cache-dir "$CARGO_TARGET_DIR/wasmtime-cache" "$@"
