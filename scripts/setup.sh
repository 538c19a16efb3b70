#!/usr/bin/env bash
# Installs what a bare Debian machine lacks to build and test Herald. Idempotent: every step is skipped when
# its result is already there.
set -euo pipefail
source "$(dirname "$0")/common.sh"

NISSHI_VERSION=0.8.1

# C toolchain and headers: protoc for litep2p, clang/libclang for bindgen, cmake/pkg-config/libssl for -sys crates;
# openssl (the command) makes the TLS tests' certificates; stunnel4 demands client certificates in the mTLS test.
# prometheus (promtool and a real server) and prometheus-alertmanager (amtool) test the operations files in ops/.
APT_PACKAGES=(build-essential protobuf-compiler clang libclang-dev cmake pkg-config libssl-dev openssl stunnel4 git curl
	prometheus prometheus-alertmanager)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
	dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
	log "installing apt packages: ${missing[*]}"
	SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	# No recommended extras (node exporters); services are not started by the package here (tests start their own).
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
		die "apt-get could not install ${missing[*]}: check the machine's access to Debian's package mirror and rerun"
fi

command -v rustup >/dev/null || die "rustup is not installed: install Rust with rustup (https://rustup.rs) and rerun"

# The runtime is compiled to wasm: substrate-wasm-builder prefers wasm32v1-none and falls back to
# wasm32-unknown-unknown with rust-src.
installed_targets=$(rustup target list --installed)
for target in wasm32v1-none wasm32-unknown-unknown; do
	grep -qx "$target" <<<"$installed_targets" || { log "adding rust target $target"; rustup target add "$target"; }
done
rustup component list --installed | grep -q '^rust-src' || { log "adding rust-src"; rustup component add rust-src; }

# The test broker: nisshi (Kafka-compatible). It needs rustc >= 1.96, i.e. the nightly toolchain. Features:
# `dynostore` (in-memory storage) and `libsql` (the `sqlite://` engine: SCRAM users and a broker that survives a
# restart). An install with another version or other features is replaced.
NISSHI_FEATURES="dynostore,libsql"
nisshi_matches() {
	nisshi --version 2>/dev/null | grep -q "$NISSHI_VERSION" || return 1
	local installed
	installed=$(grep -o "\"nisshi $NISSHI_VERSION [^}]*}" "${CARGO_HOME:-$HOME/.cargo}/.crates2.json" 2>/dev/null) || return 1
	local feature
	for feature in ${NISSHI_FEATURES//,/ }; do
		grep -q "\"$feature\"" <<<"$installed" || return 1
	done
}
if ! nisshi_matches; then
	rustup toolchain list | grep -q '^nightly' ||
		die "nisshi $NISSHI_VERSION needs rustc >= 1.96: install a nightly toolchain (rustup toolchain install nightly) and rerun"
	log "installing the test broker nisshi $NISSHI_VERSION ($NISSHI_FEATURES; takes about 11 minutes once)"
	# A test broker needs no release-grade optimisation. nisshi's manifest sets no profile, so without LTO and
	# with 16 codegen units are cargo's defaults, pinned here; opt-level 1 instead of 3 cut the install from 860 to
	# 652 s on 2 cores, and the broker's CPU in the dense benchmark stayed at 0.20-0.29 s either way. An install
	# made at another opt-level is kept. Its own target directory, so it never shares locks with Herald's build.
	CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
		CARGO_PROFILE_RELEASE_DEBUG=false \
		CARGO_TARGET_DIR="${NISSHI_TARGET_DIR:-/var/tmp/nisshi-target}" \
		cargo +nightly install nisshi --version "$NISSHI_VERSION" --locked --force \
		--no-default-features --features "$NISSHI_FEATURES"
fi

# Clients the tests use that Herald did not write, kept outside the clone (fresh clones reuse them) and
# reinstalled only when their pinned list changes: Python's (kafka-python, jsonschema, websockets) in a virtualenv,
# JavaScript's (@polkadot/api, @asyncapi/parser) with the machine's Node.js from tools/js/package-lock.json.
stamp_of() { cat "$@" | sha256sum | cut -c1-16; }
python_stamp=$(stamp_of "$HERALD_ROOT/tools/python/requirements.txt")
if [ "$(cat "$HERALD_VENV/.herald-stamp" 2>/dev/null)" != "$python_stamp" ]; then
	command -v python3 >/dev/null || die "python3 is not installed: install Python 3.9 or newer and rerun"
	log "installing the tests' Python clients into $HERALD_VENV"
	rm -rf "$HERALD_VENV"
	python3 -m venv "$HERALD_VENV" || die "python3 -m venv failed: install Python's venv module (apt: python3-venv) and rerun"
	"$HERALD_VENV/bin/pip" install -q --disable-pip-version-check -r "$HERALD_ROOT/tools/python/requirements.txt" ||
		die "pip could not install tools/python/requirements.txt: check the machine's access to PyPI and rerun"
	echo "$python_stamp" >"$HERALD_VENV/.herald-stamp"
fi
js_stamp=$(stamp_of "$HERALD_ROOT/tools/js/package.json" "$HERALD_ROOT/tools/js/package-lock.json")
if [ "$(cat "$HERALD_JS/.herald-stamp" 2>/dev/null)" != "$js_stamp" ]; then
	command -v npm >/dev/null || die "npm is not installed: install Node.js 20 or newer with npm and rerun"
	log "installing the tests' JavaScript clients into $HERALD_JS"
	rm -rf "$HERALD_JS"
	mkdir -p "$HERALD_JS"
	cp "$HERALD_ROOT/tools/js/package.json" "$HERALD_ROOT/tools/js/package-lock.json" "$HERALD_JS/"
	(cd "$HERALD_JS" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
		die "npm ci could not install tools/js/package-lock.json: check the machine's access to the npm registry and rerun"
	echo "$js_stamp" >"$HERALD_JS/.herald-stamp"
fi

log "setup complete (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
