// SPDX-License-Identifier: MIT OR Apache-2.0
//! Progress bars on stderr: shown only when stderr is a terminal and `--quiet` is not given, so
//! logs and pipes get plain lines (or nothing) instead of redraws.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// Whether bars are drawn: stderr is a terminal and the user did not ask for quiet.
pub fn bars(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// A bar of `len` steps with a message after it, or a hidden one.
pub fn bar(shown: bool, len: u64, prefix: String) -> ProgressBar {
    if !shown {
        return ProgressBar::hidden();
    }
    // The bar takes the width the rest leaves, so the line never wraps.
    let style = ProgressStyle::with_template("{prefix} [{wide_bar}] {pos}/{len} {msg} {elapsed}<{eta}")
        .expect("a valid template")
        .progress_chars("=> ");
    ProgressBar::new(len).with_style(style).with_prefix(prefix)
}

/// A spinner for work that reports no steps (reading data, fitting the wide path).
pub fn spinner(shown: bool, message: &'static str) -> ProgressBar {
    if !shown {
        return ProgressBar::hidden();
    }
    let spinner = ProgressBar::new_spinner().with_message(message);
    spinner.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("a valid template"));
    spinner.enable_steady_tick(Duration::from_millis(120));
    spinner
}
