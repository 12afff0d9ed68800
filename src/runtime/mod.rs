// SPDX-License-Identifier: MIT OR Apache-2.0
//! How the library runs inside its host: its threads and its memory. Nothing here changes the
//! host process: no environment variable is set and no allocator setting of the host is touched
//! (a `setenv` races every `getenv` of a threaded C++ or Go host, and `mallopt` would change the
//! host's own allocations).

// Built where it is installed, and for its own unit tests; a build without the feature (the
// fuzz targets') does not compile it.
#[cfg(any(feature = "allocator", test))]
pub mod allocator;

// The library's unit tests install an allocator of their own that watches allocation sizes
// (src/model_file/tests.rs); the integration tests and every program linking the library get this one.
#[cfg(all(feature = "allocator", not(test)))]
#[global_allocator]
static ALLOCATOR: allocator::CachingAllocator = allocator::CachingAllocator::new();

pub use crate::config::fields::MAX_THREADS;

/// Threads the library uses when the caller does not say: one per available core.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Gives the blocks the library keeps for reuse back to the system; training calls it when it
/// returns, so a process that trained once does not keep a training step's memory.
pub fn release_cached_memory() {
    #[cfg(all(feature = "allocator", not(test)))]
    ALLOCATOR.release();
}
