//! Builds the runtime's wasm blob (skipped with `SKIP_WASM_BUILD=1`, e.g. for `cargo check`).
//!
//! With `HERALD_UPGRADE_FIXTURE=1` (set by `scripts/common.sh`) it also builds the runtime-upgrade test's fixture:
//! this runtime with the `upgrade-fixture` feature, as `upgrade_fixture.wasm`, exposed as
//! `herald_runtime::upgrade_fixture::WASM_BINARY`. Both builds share the wasm project's target directory, so only
//! the crates whose features differ compile twice.

fn main() {
	#[cfg(feature = "std")]
	{
		use substrate_wasm_builder::WasmBuilder;

		println!("cargo:rerun-if-env-changed=HERALD_UPGRADE_FIXTURE");
		let skip = std::env::var_os("SKIP_WASM_BUILD").is_some();
		if std::env::var_os("CARGO_FEATURE_UPGRADE_FIXTURE").is_some() && !skip {
			// The builder forwards the crate's features to the wasm build: the real runtime would be the fixture.
			panic!("the `upgrade-fixture` feature is built by build.rs (HERALD_UPGRADE_FIXTURE=1); don't enable it");
		}
		let fixture =
			std::path::Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("upgrade_fixture");
		if std::env::var("HERALD_UPGRADE_FIXTURE").as_deref() == Ok("1") && !skip {
			// Its copy would overwrite the real runtime's file (it is named after the crate, not the build).
			std::env::remove_var("WASM_TARGET_DIRECTORY");
			// The fixture is installed with `set_code`: without the benchmarks (which the builder would forward from
			// this crate's features) it stays within a block's length limit, as a production runtime does. With them
			// it would share the real runtime's wasm dependencies, but its wasm is 6.9 MB, 4.8 MB even compressed
			// with zstd (4 MB of precomputed crypto tables): past the 4 MiB a block author takes (measured).
			let benchmarks = std::env::var_os("CARGO_FEATURE_RUNTIME_BENCHMARKS");
			std::env::remove_var("CARGO_FEATURE_RUNTIME_BENCHMARKS");
			// The fixture first: the shared wasm project is left configured for the real runtime.
			WasmBuilder::init_with_defaults()
				.enable_feature("upgrade-fixture")
				.set_file_name("upgrade_fixture")
				.build();
			if let Some(value) = benchmarks {
				std::env::set_var("CARGO_FEATURE_RUNTIME_BENCHMARKS", value);
			}
		} else {
			let none = "pub const WASM_BINARY_PATH: Option<&str> = None;\n\
			            pub const WASM_BINARY: Option<&[u8]> = None;\n\
			            pub const WASM_BINARY_BLOATY: Option<&[u8]> = None;\n";
			if std::fs::read_to_string(&fixture).ok().as_deref() != Some(none) {
				std::fs::write(&fixture, none).expect("OUT_DIR is writable");
			}
		}
		WasmBuilder::build_using_defaults();
	}
}
