//! Generates include/senti.h from src/ffi with cbindgen. The file is rewritten only when its
//! content changes, so a build of an up-to-date checkout leaves `git status` clean.

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml is valid");
    let bindings = match cbindgen::Builder::new().with_crate(&root).with_config(config).generate() {
        Ok(b) => b,
        Err(e) => {
            // A syntax error in the sources is reported by rustc itself; don't fail twice.
            println!("cargo:warning=senti.h not regenerated: {e}");
            return;
        }
    };
    let mut header = Vec::new();
    bindings.write(&mut header);
    let path = root.join("include/senti.h");
    if std::fs::read(&path).ok().as_deref() != Some(header.as_slice()) {
        std::fs::create_dir_all(root.join("include")).expect("create include/");
        std::fs::write(&path, header).expect("write include/senti.h");
    }
}
