#!/usr/bin/env bash
# Installs what a bare Debian machine lacks to build and test Herald. Idempotent: every step is skipped when
# its result is already there.
set -euo pipefail
source "$(dirname "$0")/common.sh"

NISSHI_VERSION=0.8.1

# C toolchain and headers: protoc for litep2p, clang/libclang for bindgen, cmake/pkg-config/libssl for -sys crates;
# openssl (the command) makes the TLS tests' certificates; stunnel4 demands client certificates in the mTLS test.
APT_PACKAGES=(build-essential protobuf-compiler clang libclang-dev cmake pkg-config libssl-dev openssl stunnel4 git curl)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
	dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
	log "installing apt packages: ${missing[*]}"
	SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
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
	log "installing the test broker nisshi $NISSHI_VERSION ($NISSHI_FEATURES; takes about 15 minutes once)"
	cargo +nightly install nisshi --version "$NISSHI_VERSION" --locked --force \
		--no-default-features --features "$NISSHI_FEATURES"
fi

log "setup complete (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
