//! Process-wide settings the library takes care of so that hosts need not export anything.

use std::sync::Once;

static INIT: Once = Once::new();

/// Runs once, before the library's first tensor operation.
pub fn init() {
    INIT.call_once(|| {
        // Candle's elementwise thread pool spin-waits between operations, which slows the many
        // small operations of a recurrent model severalfold; the library parallelises its own
        // kernels instead. Candle reads this variable once, when its pool starts. A host that
        // set it keeps its choice.
        if std::env::var_os("CANDLE_NUM_THREADS").is_none() {
            // SAFETY: set once, before this library starts any thread of its own; the variable
            // is read only by Candle.
            unsafe { std::env::set_var("CANDLE_NUM_THREADS", "1") };
        }
    });
}
