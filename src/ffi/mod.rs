// SPDX-License-Identifier: MIT OR Apache-2.0
//! The C boundary. The only `unsafe` code that touches caller memory lives here: every exported
//! function checks its pointers, converts its arguments, runs the core inside a panic guard and
//! turns the outcome into a `senti_status` (plus, on request, an owned error object).
//!
//! Handles are opaque tokens, not addresses: the library never dereferences them, it looks them
//! up in a registry. A NULL, freed, never-issued or wrong-kind handle is therefore an error
//! status, never undefined behaviour, and freeing one twice is harmless.

mod classes;
mod dataset;
mod explanation;
mod exports;
mod guard;
mod handles;
mod params;
mod report;
mod status;
#[cfg(test)]
mod status_table;
mod types;

pub use classes::*;
pub use dataset::*;
pub use explanation::*;
pub use exports::*;
pub use params::*;
pub use report::*;
pub use types::*;
