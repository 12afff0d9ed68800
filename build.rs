//! Generates include/senti.h from src/ffi with cbindgen. The file is rewritten only when its
//! content changes, so a build of an up-to-date checkout leaves `git status` clean.

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=src/ffi");
    // An explicit SONAME (libsenti.so.<major>) so that programs linked against an installed
    // libsenti.so record the ABI version, not a path. 0.x releases use 0.
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsenti.so.{major}");
        // Programs linked in-tree then ask the loader for libsenti.so.<major>: give the target
        // folder (OUT_DIR/../../..) that name as a link to the library cargo is about to write.
        if let Some(dir) = std::env::var_os("OUT_DIR").map(PathBuf::from).and_then(|o| o.ancestors().nth(3).map(PathBuf::from)) {
            let link = dir.join(format!("libsenti.so.{major}"));
            if std::fs::read_link(&link).is_err() {
                let _ = std::os::unix::fs::symlink("libsenti.so", &link);
            }
        }
    }
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
