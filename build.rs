//! Generates include/dmp.h from the files of src/ffi with cbindgen (settings in cbindgen.toml).
//! `write_to_file` rewrites the header only when it changed; CI fails if the committed copy differs.

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml is valid");
    // Only src/ffi is parsed (cbindgen follows its `mod` declarations): the header is the C
    // surface and nothing of the core leaks into it.
    let builder = cbindgen::Builder::new().with_config(config).with_src(crate_dir.join("src/ffi/mod.rs"));
    match builder.generate() {
        Ok(bindings) => {
            bindings.write_to_file(crate_dir.join("include/dmp.h"));
        }
        Err(e) => panic!("cbindgen failed to generate include/dmp.h: {e}"),
    }
}
