//! Herald node: a Substrate node that ships its chain's runtime events to Kafka.

#![warn(missing_docs)]

mod benchmarking;
mod chain_spec;
mod cli;
mod command;
mod dev_seal;
mod event_sink;
mod export_contracts;
mod follow_rpc;
mod kafka_cursor;
mod kafka_security;
mod rpc;
mod service;

/// jemalloc on Linux (see node/Cargo.toml).
#[cfg(all(target_os = "linux", feature = "jemalloc-allocator"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read at its start (`MALLOC_CONF` in the environment overrides them): freed pages are
/// returned to the system by jemalloc's own background threads, after 30 s instead of 10, rather than by whichever
/// thread frees. With jemalloc's defaults, block import (`bench.sh sync`) measured 13.9 ms per block against glibc's
/// 11.6; with these, 11.9 (one run each, 3 rounds, medians).
#[cfg(all(target_os = "linux", feature = "jemalloc-allocator"))]
#[allow(non_upper_case_globals)]
#[export_name = "malloc_conf"]
// SAFETY: a C string literal lives for the program's whole run. (The type is jemalloc's `const char *malloc_conf`,
// as tikv-jemalloc-sys declares it.)
pub static malloc_conf: Option<&'static std::ffi::c_char> =
	Some(unsafe { &*c"background_thread:true,dirty_decay_ms:30000,muzzy_decay_ms:30000".as_ptr() });

fn main() {
	// Errors are printed as one readable line (not `Debug`), and the exit code is non-zero.
	if let Err(error) = command::run() {
		eprintln!("Error: {error}");
		std::process::exit(1);
	}
}
