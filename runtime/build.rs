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
			// The fixture keeps this crate's features (the builder forwards them, `runtime-benchmarks` included), so
			// it shares every wasm crate with the real runtime but the two the feature changes (pallet-dao and this
			// one). It is installed with `set_code` and must fit in a block: 2.6 MB, since the system benchmarks no
			// longer embed a 4.25 MB kitchensink runtime (see `apis.rs`).
			// The fixture first: the shared wasm project is left configured for the real runtime.
			WasmBuilder::init_with_defaults()
				.enable_feature("upgrade-fixture")
				.set_file_name("upgrade_fixture")
				.build();
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
