// SPDX-License-Identifier: MIT OR Apache-2.0
//! The library's own allocator for its own allocations: glibc's, with a cache of large blocks.
//!
//! A training step allocates and frees hundreds of tensors of megabytes each, and a batch
//! prediction dozens. glibc serves blocks above its mmap threshold with fresh mappings and unmaps
//! them on free, and shrinks the heaps of worker threads' arenas as tensors are freed, so every
//! step faulted its pages in again: about a tenth of a training run at 400 tokens and a third of
//! an LSTM epoch at 200. The library used to fix that by changing glibc's settings for the whole
//! process (`mallopt`), which changed the allocator of the program that links it. This cache
//! keeps the blocks the library itself frees, by size class, for its next step instead: nothing
//! outside the library sees a different allocator.
//!
//! It is the Rust global allocator of the library's own code (the shared and the static library
//! have their own Rust runtime, so a C, C++ or Go host's `malloc` is untouched). A Rust program
//! that links the `senti` crate and wants its own global allocator turns off the default
//! `allocator` feature.
//!
//! Blocks of at least [`LARGE`] bytes are rounded up to one of eight classes per power of two
//! (at most 12.5% slack) and, when freed, kept on their class's list while the cache holds less
//! than [`IDLE_LIMIT`] bytes; the rest goes back to glibc. A request takes a kept block of its
//! own class or of up to [`FIT_CLASSES`] classes above (at most twice its size): training buckets
//! batches by length, so consecutive steps ask for tensors of many sizes, and a cache that only
//! matched classes exactly filled with blocks of the wrong ones while every step faulted fresh
//! pages in (6 million page faults and 9 s of system time in a 40-second run). Each block
//! carries its class in a header, so a block lent to a smaller request returns to its own list. [`CachingAllocator::release`] empties
//! the cache; training calls it when it returns, so a process that trained once does not keep a
//! step's memory. A process that only predicts keeps what its largest batch freed (27 MB more
//! peak memory in the benchmark's serving probe).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Mutex;

/// Smaller blocks go straight to glibc, whose per-thread caches and bins serve them well. Not
/// higher: the worker threads' arenas also trimmed and faulted in again the blocks of 32 to
/// 256 KiB a step churns, and caching only from 256 KiB left an epoch (GRU, 400 tokens, 3,000
/// reviews) 10% slower than glibc tuned for the whole process (9.4 s against 8.5 s); from 32 KiB
/// it is as fast.
const LARGE: usize = 32 << 10;
/// Larger blocks go straight to glibc: a step rarely frees one, and caching it would pin it.
const HUGE: usize = 1 << 34;
/// Freed large blocks the cache keeps at most; the same bound glibc's trim threshold was set to.
const IDLE_LIMIT: usize = 512 << 20;
/// Alignment every glibc `malloc` block has; stricter requests bypass the cache.
const MALLOC_ALIGN: usize = 16;
/// Bytes before each cached block's data: its class, then its list link while it is kept. One
/// alignment unit, so the data keeps malloc's alignment.
const HEADER: usize = MALLOC_ALIGN;
/// How many classes above its own a request may take a kept block from: eight is one doubling.
const FIT_CLASSES: usize = CLASSES_PER_DOUBLING;
const CLASSES_PER_DOUBLING: usize = 8;
const CLASSES: usize = (HUGE.trailing_zeros() - LARGE.trailing_zeros()) as usize * CLASSES_PER_DOUBLING + 1;

/// The class of a cached block of `size` bytes (`LARGE <= size <= HUGE`): the smallest whose
/// [`class_size`] holds it.
fn class_of(size: usize) -> usize {
    let doubling = usize::BITS - 1 - size.leading_zeros(); // floor(log2(size))
    let step = (1usize << doubling) / CLASSES_PER_DOUBLING;
    (doubling - LARGE.trailing_zeros()) as usize * CLASSES_PER_DOUBLING + (size.div_ceil(step) - CLASSES_PER_DOUBLING)
}

/// The classes whose blocks may serve a request of class `wanted`: its own and up to
/// [`FIT_CLASSES`] above it.
fn lendable(wanted: usize) -> std::ops::Range<usize> {
    wanted..CLASSES.min(wanted + FIT_CLASSES + 1)
}

fn cached(layout: Layout) -> bool {
    (LARGE..=HUGE).contains(&layout.size()) && layout.align() <= MALLOC_ALIGN
}

/// Free lists threaded through the kept blocks' headers, so the cache never allocates.
struct Lists {
    heads: [*mut u8; CLASSES],
    idle_bytes: usize,
}

// SAFETY: the pointers are blocks no one else holds; the mutex serialises every access to them.
unsafe impl Send for Lists {}

/// A cached block as glibc gave it: `HEADER` bytes (the class, then the list link), then the
/// data its owner sees. Only [`Block::fresh`] makes one from glibc's memory; every other `Block`
/// wraps a pointer that came from it, which is what the methods' safety rests on.
#[derive(Clone, Copy)]
struct Block(*mut u8);

impl Block {
    fn layout(class: usize) -> Layout {
        // SAFETY: the size is at most HUGE plus a header, far from overflowing once aligned.
        unsafe { Layout::from_size_align_unchecked(class_size(class) + HEADER, MALLOC_ALIGN) }
    }

    /// A fresh block of `class` from glibc, its header written; `None` when glibc has none.
    fn fresh(class: usize, zeroed: bool) -> Option<Block> {
        let layout = Self::layout(class);
        // SAFETY: the layout's size is above zero.
        let base = unsafe { if zeroed { System.alloc_zeroed(layout) } else { System.alloc(layout) } };
        if base.is_null() {
            return None;
        }
        // SAFETY: the block has HEADER bytes before its data, aligned for a usize.
        unsafe { base.cast::<usize>().write(class) };
        Some(Block(base))
    }

    /// The block whose data `data` is; `data` must have come from [`Block::data`].
    fn of(data: *mut u8) -> Block {
        // SAFETY: every cached block's data starts HEADER bytes into the block.
        Block(unsafe { data.sub(HEADER) })
    }

    fn data(self) -> *mut u8 {
        // SAFETY: the block is HEADER bytes plus its class's size long.
        unsafe { self.0.add(HEADER) }
    }

    fn class(self) -> usize {
        // SAFETY: `fresh` wrote the class in the first word, and nothing else writes it.
        unsafe { self.0.cast::<usize>().read() }
    }

    fn next(self) -> *mut u8 {
        // SAFETY: the second header word is the list link, written by `set_next` while kept.
        unsafe { self.0.cast::<*mut u8>().add(1).read() }
    }

    fn set_next(self, next: *mut u8) {
        // SAFETY: the header's second word belongs to the cache.
        unsafe { self.0.cast::<*mut u8>().add(1).write(next) }
    }

    /// Hands the block back to glibc.
    fn free(self) {
        // SAFETY: the block came from System with this layout (see `fresh`).
        unsafe { System.dealloc(self.0, Self::layout(self.class())) }
    }
}

/// The global allocator of the library's code (see the module documentation).
pub struct CachingAllocator {
    lists: Mutex<Lists>,
}

impl CachingAllocator {
    pub const fn new() -> Self {
        CachingAllocator { lists: Mutex::new(Lists { heads: [std::ptr::null_mut(); CLASSES], idle_bytes: 0 }) }
    }

    fn lists(&self) -> std::sync::MutexGuard<'_, Lists> {
        // Nothing that holds the lock can panic, but a poisoned lock would still guard
        // consistent lists.
        self.lists.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A kept block of a class [`lendable`] to `class`, the smallest there is.
    fn take(&self, class: usize) -> Option<Block> {
        let mut lists = self.lists();
        let found = lendable(class).find(|&c| !lists.heads[c].is_null())?;
        let block = Block(lists.heads[found]);
        lists.heads[found] = block.next();
        lists.idle_bytes -= class_size(found);
        Some(block)
    }

    /// Keeps `block` for reuse, or says that the cache is full.
    fn put(&self, block: Block) -> bool {
        let class = block.class();
        let mut lists = self.lists();
        if lists.idle_bytes + class_size(class) > IDLE_LIMIT {
            return false;
        }
        block.set_next(lists.heads[class]);
        lists.heads[class] = block.0;
        lists.idle_bytes += class_size(class);
        true
    }

    fn give_back(&self, block: Block) {
        if !self.put(block) {
            block.free();
        }
    }

    /// Returns every cached block to glibc.
    pub fn release(&self) {
        let mut lists = self.lists();
        for head in lists.heads.iter_mut() {
            let mut block = std::mem::replace(head, std::ptr::null_mut());
            while !block.is_null() {
                let next = Block(block).next();
                Block(block).free();
                block = next;
            }
        }
        lists.idle_bytes = 0;
    }

    /// Bytes the cache holds for reuse.
    #[cfg(test)]
    fn idle_bytes(&self) -> usize {
        self.lists().idle_bytes
    }
}

impl Default for CachingAllocator {
    fn default() -> Self {
        Self::new()
    }
}

unsafe impl GlobalAlloc for CachingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !cached(layout) {
            // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
            return unsafe { System.alloc(layout) };
        }
        let class = class_of(layout.size());
        self.take(class).or_else(|| Block::fresh(class, false)).map_or(std::ptr::null_mut(), Block::data)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !cached(layout) {
            // SAFETY: forwarded unchanged.
            return unsafe { System.alloc_zeroed(layout) };
        }
        let class = class_of(layout.size());
        if let Some(block) = self.take(class) {
            // SAFETY: the block's data holds at least layout.size() writable bytes.
            unsafe { block.data().write_bytes(0, layout.size()) };
            return block.data();
        }
        // Fresh pages from calloc are zero already, without touching them.
        Block::fresh(class, true).map_or(std::ptr::null_mut(), Block::data)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !cached(layout) {
            // SAFETY: `ptr` came from System with this layout (see `alloc`).
            return unsafe { System.dealloc(ptr, layout) };
        }
        self.give_back(Block::of(ptr));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller guarantees new_size > 0 and that it does not overflow when rounded
        // up to layout.align().
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (cached(layout), cached(new_layout)) {
            // SAFETY: both sides are System's own blocks; forwarded unchanged.
            (false, false) => unsafe { System.realloc(ptr, layout, new_size) },
            // The block already fits, and is no more oversized than a fresh `take` may lend.
            (true, true) if lendable(class_of(new_size)).contains(&Block::of(ptr).class()) => ptr,
            _ => {
                // SAFETY: new_layout is valid (above); the copy stays within both blocks.
                let new = unsafe { self.alloc(new_layout) };
                if !new.is_null() {
                    unsafe {
                        std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                new
            }
        }
    }
}

fn class_size(index: usize) -> usize {
    let doubling = LARGE.trailing_zeros() as usize + index / CLASSES_PER_DOUBLING;
    let step = (1usize << doubling) / CLASSES_PER_DOUBLING;
    (CLASSES_PER_DOUBLING + index % CLASSES_PER_DOUBLING) * step
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_cover_every_large_size_with_at_most_an_eighth_of_slack() {
        let mut last = (0, 0);
        for size in (LARGE..LARGE * 64).step_by(4093).chain([LARGE, HUGE, HUGE - 1, 3 << 20, (3 << 20) + 1]) {
            let index = class_of(size);
            assert!(index < CLASSES, "{size} -> class {index}");
            let rounded = class_size(index);
            assert!(rounded >= size && rounded - size <= size / 8, "{size} -> {rounded}");
            assert!(index == 0 || class_size(index - 1) < size, "{size}: class {index} is not the smallest that holds it");
            if size >= last.1 {
                assert!(index >= last.0, "classes grow with size");
                last = (index, size);
            }
        }
        assert_eq!((class_of(LARGE), class_size(0)), (0, LARGE));
        assert_eq!(class_of(LARGE + 1), 1);
    }

    #[test]
    fn freed_large_blocks_are_reused_and_release_empties_the_cache() {
        let layout = Layout::from_size_align((5 << 20) + 3, 8).unwrap();
        let alloc = CachingAllocator::new();
        let first = unsafe { alloc.alloc_zeroed(layout) };
        assert!(!first.is_null());
        unsafe { first.write_bytes(7, layout.size()) };
        unsafe { alloc.dealloc(first, layout) };
        assert_eq!(alloc.idle_bytes(), class_size(class_of(layout.size())), "a freed large block is kept");
        let second = unsafe { alloc.alloc_zeroed(layout) };
        assert_eq!(second, first, "the next block of its class is the same memory");
        let bytes = unsafe { std::slice::from_raw_parts(second, layout.size()) };
        assert!(bytes.iter().all(|&b| b == 0), "alloc_zeroed zeroes a reused block");
        unsafe { alloc.dealloc(second, layout) };
        alloc.release();
        assert_eq!(alloc.idle_bytes(), 0);
    }

    #[test]
    fn realloc_keeps_contents_across_the_small_and_large_boundary() {
        let alloc = CachingAllocator::new();
        let small = Layout::from_size_align(1000, 4).unwrap();
        let p = unsafe { alloc.alloc(small) };
        unsafe { p.write_bytes(3, 1000) };
        let big = unsafe { alloc.realloc(p, small, (1 << 20) + 1000) };
        let kept = unsafe { std::slice::from_raw_parts(big, 1000) };
        assert!(kept.iter().all(|&b| b == 3));
        let big_layout = Layout::from_size_align((1 << 20) + 1000, 4).unwrap();
        let grown = unsafe { alloc.realloc(big, big_layout, (1 << 20) + 2000) };
        assert_eq!(grown, big, "a size in the same class stays in place");
        let back = unsafe { alloc.realloc(grown, Layout::from_size_align((1 << 20) + 2000, 4).unwrap(), 500) };
        assert!(unsafe { std::slice::from_raw_parts(back, 500) }.iter().all(|&b| b == 3));
        unsafe { alloc.dealloc(back, Layout::from_size_align(500, 4).unwrap()) };
        alloc.release();
    }

    #[test]
    fn a_kept_block_serves_smaller_requests_within_a_doubling_and_returns_to_its_own_class() {
        let alloc = CachingAllocator::new();
        let big = Layout::from_size_align((3 << 20) - 8192, 8).unwrap();
        let first = unsafe { alloc.alloc(big) };
        unsafe { alloc.dealloc(first, big) };
        let kept = alloc.idle_bytes();
        let near = Layout::from_size_align((2 << 20) - 4096, 8).unwrap();
        let far = Layout::from_size_align((1 << 20) + 4096, 8).unwrap();
        let other = unsafe { alloc.alloc(far) };
        assert_ne!(other, first, "a block over twice the size is not lent");
        let second = unsafe { alloc.alloc(near) };
        assert_eq!(second, first, "a request within a doubling takes the larger kept block");
        assert_eq!(alloc.idle_bytes(), 0);
        unsafe { second.write_bytes(1, near.size()) };
        unsafe { alloc.dealloc(second, near) };
        assert_eq!(alloc.idle_bytes(), kept, "it is counted, and kept, at its own size");
        let third = unsafe { alloc.alloc(big) };
        assert_eq!(third, first, "and serves its own class again");
        let grown = unsafe { alloc.realloc(third, big, (3 << 20) - 100) };
        assert_eq!(grown, third, "growing within the block's class stays in place");
        let shrunk = unsafe { alloc.realloc(grown, Layout::from_size_align((3 << 20) - 100, 8).unwrap(), 40 << 10) };
        assert_ne!(shrunk, grown, "shrinking far below it moves to a smaller block");
        unsafe { alloc.dealloc(shrunk, Layout::from_size_align(40 << 10, 8).unwrap()) };
        unsafe { alloc.dealloc(other, far) };
        alloc.release();
        assert_eq!(alloc.idle_bytes(), 0);
    }

    #[test]
    fn the_cache_keeps_no_more_than_its_limit() {
        let alloc = CachingAllocator::new();
        let layout = Layout::from_size_align(64 << 20, 16).unwrap();
        let blocks: Vec<*mut u8> = (0..IDLE_LIMIT / layout.size() + 2).map(|_| unsafe { alloc.alloc(layout) }).collect();
        for &b in &blocks {
            unsafe { alloc.dealloc(b, layout) };
        }
        assert_eq!(alloc.idle_bytes(), IDLE_LIMIT);
        alloc.release();
    }
}
