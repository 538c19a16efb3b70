//! The node's allocator: jemalloc on Linux (the `jemalloc-allocator` feature, on by default), as Polkadot's node
//! has it, for Rust and C code alike (librdkafka included). In a dense catch-up glibc's malloc and free were about
//! a quarter of the node's CPU (issue 22). The benchmark process includes this file too, so that the bare
//! producer it measures Herald against allocates alike.

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
