// SPDX-License-Identifier: MIT OR Apache-2.0
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

/// The build script runs on the build machine, which need not be Unix even when the target is
/// Linux; without symlinks the in-tree link is skipped (installed trees get theirs from CMake).
#[cfg(unix)]
fn symlink(target: &str, link: &std::path::Path) {
    let _ = std::os::unix::fs::symlink(target, link);
}

#[cfg(not(unix))]
fn symlink(_target: &str, _link: &std::path::Path) {}

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=src/ffi");
    // Before cbindgen reads the sources: the status enum it exports is generated.
    status_codes::generate(&root);
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
                symlink("libsenti.so", &link);
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

#[path = "src/ffi/status_table.rs"]
mod status_table;

/// Generates the status code enum, its names and the error-kind mapping (src/ffi/status.rs)
/// and the core's `ErrorKind` (src/error/kind.rs) from the one table, src/ffi/status_table.rs.
/// Both outputs are checked in and rewritten only when they change.
mod status_codes {
    use std::fmt::Write as _;
    use std::path::Path;

    use super::status_table as table;

    fn doc(out: &mut String, indent: &str, text: &str) {
        let _ = writeln!(out, "{indent}/// {text}");
    }

    fn write_if_changed(path: &Path, content: &str) {
        if std::fs::read_to_string(path).ok().as_deref() != Some(content) {
            std::fs::write(path, content).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        }
    }

    pub fn generate(root: &Path) {
        println!("cargo:rerun-if-changed=src/ffi/status_table.rs");
        let banner = "// SPDX-License-Identifier: MIT OR Apache-2.0\n// Generated by build.rs from src/ffi/status_table.rs. Do not edit: change the table.\n";
        let mut ffi = String::from(banner);
        ffi.push_str("#![allow(non_camel_case_types)]\n\nuse std::ffi::CStr;\n\nuse crate::error::ErrorKind;\n\n");
        ffi.push_str("/// Status of every fallible call. The numeric values are stable: new codes may be added,\n");
        ffi.push_str("/// existing ones never change meaning.\n#[repr(i32)]\n#[derive(Debug, Clone, Copy, PartialEq, Eq)]\npub enum senti_status {\n");
        for s in table::STATUSES {
            doc(&mut ffi, "    ", s.meaning);
            let _ = writeln!(ffi, "    {} = {},", s.name, s.code);
        }
        ffi.push_str("}\n\n/// Every status with its name, for `senti_status_name`.\n");
        let _ = writeln!(ffi, "pub(crate) const STATUS_NAMES: [(senti_status, &CStr); {}] = [", table::STATUSES.len());
        for s in table::STATUSES {
            let _ = writeln!(ffi, "    (senti_status::{0}, c\"{0}\"),", s.name);
        }
        ffi.push_str("];\n\nimpl From<ErrorKind> for senti_status {\n    fn from(kind: ErrorKind) -> Self {\n        match kind {\n");
        for s in table::STATUSES {
            if let Some(kind) = s.kind {
                let _ = writeln!(ffi, "            ErrorKind::{kind} => senti_status::{},", s.name);
            }
        }
        ffi.push_str("        }\n    }\n}\n");
        write_if_changed(&root.join("src/ffi/status.rs"), &ffi);

        let mut core = String::from(banner);
        core.push_str("\n/// What went wrong, as the core reports it; the C boundary maps each kind to a status code.\n");
        core.push_str("#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]\npub enum ErrorKind {\n");
        for s in table::STATUSES {
            if let Some(kind) = s.kind {
                doc(&mut core, "    ", s.meaning);
                let _ = writeln!(core, "    {kind},");
            }
        }
        core.push_str("}\n");
        write_if_changed(&root.join("src/error/kind.rs"), &core);
    }
}
