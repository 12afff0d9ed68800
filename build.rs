//! Generates include/senti.h from src/ffi with cbindgen, and the documentation of the training
//! parameters (the header's TRAINING PARAMETERS block and the README's table between
//! `<!-- params:begin -->` and `<!-- params:end -->`) from the table in src/config/fields.rs.
//! Files are rewritten only when their content changes, so a build of an up-to-date checkout
//! leaves `git status` clean.

use std::path::{Path, PathBuf};

/// The table of training parameters, the same file the library compiles.
#[allow(dead_code, unused_imports)]
#[path = "src/config/fields.rs"]
mod fields;

/// Writes `content` to `path` unless it already holds exactly that.
fn write_if_changed(path: &Path, content: &[u8]) {
    if std::fs::read(path).ok().as_deref() != Some(content) {
        std::fs::write(path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }
}

/// The README's table of training parameters; only the region between the markers is touched.
/// Not rerun when the README changes (that would rebuild the library for every prose edit): a
/// unit test (config::setters) fails if the region differs from the table.
fn readme(root: &Path) {
    let path = root.join("README.md");
    let Ok(readme) = std::fs::read_to_string(&path) else { return };
    match fields::splice_readme(&readme, &fields::readme_table(fields::FIELDS)) {
        Some(new) => write_if_changed(&path, new.as_bytes()),
        None => println!("cargo:warning=README.md lacks the {} / {} markers; its parameter table was not written", fields::README_BEGIN, fields::README_END),
    }
}

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
    println!("cargo:rerun-if-changed=src/config/fields.rs");
    readme(&root);
    println!("cargo:rerun-if-changed=cbindgen.toml");
    let mut config = cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml is valid");
    // The parameter table's block goes after the includes (and the macros cbindgen.toml puts
    // there), before the declarations.
    let block = fields::header_block(fields::FIELDS);
    config.after_includes = Some(format!("{}\n{block}", config.after_includes.unwrap_or_default()));
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
    std::fs::create_dir_all(root.join("include")).expect("create include/");
    write_if_changed(&root.join("include/senti.h"), &header);
}
