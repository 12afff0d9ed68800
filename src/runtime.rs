//! Process-wide settings the library takes care of so that hosts need not export anything.

use std::sync::Once;

static INIT: Once = Once::new();

/// Threads the library uses when the caller does not say: one per available core.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

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
        tune_malloc();
    });
}

/// glibc serves allocations above a dynamic threshold (128 KiB at first) with fresh mmaps and
/// unmaps them on free; a training step allocates and frees hundreds of multi-megabyte tensors,
/// so page faults and unmaps cost about a tenth of the run. Raising the mmap threshold to its
/// maximum (32 MiB on 64-bit glibc) and the trim threshold keeps those buffers in the heap for
/// reuse; free heap above 512 MiB is still returned to the system.
///
/// Training steps run on the library's worker threads, whose allocations glibc serves from
/// per-thread arenas made of 64 MiB mapped heaps that it shrinks as tensors are freed: the next
/// step faults the pages in again, which cost a third of an LSTM epoch at 200 tokens (17.3 s
/// against 11.4 s on 12,500 reviews). One arena keeps that memory in the main heap. Small
/// allocations go through glibc's per-thread caches first, so sharing the arena costs other
/// threads little; a host that sets `MALLOC_ARENA_MAX` or `GLIBC_TUNABLES` keeps its choice.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_malloc() {
    let host_chose_arenas = std::env::var_os("MALLOC_ARENA_MAX").is_some() || std::env::var_os("GLIBC_TUNABLES").is_some();
    // SAFETY: mallopt only changes allocator parameters; it is safe to call at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 512 << 20);
        if !host_chose_arenas {
            libc::mallopt(libc::M_ARENA_MAX, 1);
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}
