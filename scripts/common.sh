# Shared settings for Herald's scripts. Source it; don't run it.

# Compiled artefacts live outside the clone on a fixed path, so fresh clones (CI) and later sessions reuse the
# compiled dependencies. Override with CARGO_TARGET_DIR.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/herald-target}"
# With the target dir outside the clone, substrate-wasm-builder can't find the workspace's Cargo.lock by itself;
# without this hint the wasm runtime would be built with freshly resolved (unlocked) dependency versions.
export WASM_BUILD_WORKSPACE_HINT="${WASM_BUILD_WORKSPACE_HINT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"

# The runtime's build also builds the runtime-upgrade test's fixture (a second runtime, see runtime/build.rs).
# Set here for every script, so that no build alternates between the two and reruns the runtime's build script.
export HERALD_UPGRADE_FIXTURE="${HERALD_UPGRADE_FIXTURE:-1}"

# Build cost (issue 21; the cold build's `cargo --timings` report showed where it goes):
# - litep2p's WebRTC (str0m) asks for a vendored OpenSSL, compiled from C source in 200 s; the machine's
#   (libssl-dev, installed by setup.sh) serves the same API, so openssl-sys links it instead.
export OPENSSL_NO_VENDOR="${OPENSSL_NO_VENDOR:-1}"

# Where the Kafka-compatible test broker is installed (`cargo install` puts it in ~/.cargo/bin).
export PATH="$HOME/.cargo/bin:$PATH"

# The tests' Python clients (a virtualenv) and JavaScript clients (node_modules), installed by setup.sh outside the
# clone. JavaScript tools run with NODE_PATH pointing at them (CommonJS `require`).
export HERALD_VENV="${HERALD_VENV:-/var/tmp/herald-venv}"
export HERALD_JS="${HERALD_JS:-/var/tmp/herald-js}"
export NODE_PATH="$HERALD_JS/node_modules${NODE_PATH:+:$NODE_PATH}"

HERALD_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export HERALD_ROOT

log() { printf '\033[1m[herald]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[herald] error:\033[0m %s\n' "$*" >&2; exit 1; }

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# One feature set for every build of the workspace (tests, benchmark smoke runs, pallet benchmark tests, the
# main job): the node with its `benchmark` sub-command, so the runtime and the pallets are built with their
# benchmarks once, and no later step compiles a dependency again under other features.
HERALD_FEATURES="${HERALD_FEATURES:-herald-node/runtime-benchmarks}"
# `cargo <command>` over the whole workspace with that feature set and the lock file.
herald_cargo() {
	local command=$1
	shift
	cargo "$command" --workspace --locked --features "$HERALD_FEATURES" "$@"
}
