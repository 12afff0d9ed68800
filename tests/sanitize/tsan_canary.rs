// SPDX-License-Identifier: MIT OR Apache-2.0
//! Canaries for the std annotations of tests/sanitize/threads.sh (tsan_std_sync.c), built the
//! way libsenti.so is (a cdylib with -Zsanitizer=thread and the same --wrap link arguments) and
//! called from a C program linked like the stress test.
//!
//! `canary_racy` must be reported: four threads increment one counter, two under one mutex and
//! two under another, so the annotations (which order a lock only with itself) must not hide the
//! race however contended the mutexes are. `canary_ordered` must not be reported: the same counts
//! under one contended mutex, a write read after a Condvar hand-off and a RwLock, all ordered
//! only through std's precompiled slow paths, which TSan sees through the annotations alone.
#![allow(static_mut_refs)]

use std::sync::{Condvar, Mutex, RwLock};
use std::thread;

const THREADS: usize = 4;
const ROUNDS: usize = 20_000;

/// Joins through pthread_join, which TSan intercepts: the counts are read after it.
fn join(threads: Vec<thread::JoinHandle<()>>) {
    for t in threads {
        t.join().unwrap();
    }
}

static mut RACY: u64 = 0;
static LOCKS: [Mutex<()>; 2] = [Mutex::new(()), Mutex::new(())];

/// Returns the counter (its value is irrelevant: the race is the point).
#[unsafe(no_mangle)]
pub extern "C" fn canary_racy() -> u64 {
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            thread::spawn(move || {
                for _ in 0..ROUNDS {
                    let _guard = LOCKS[t % 2].lock().unwrap();
                    // SAFETY: none; a deliberate data race between the two locks' threads.
                    unsafe { RACY += 1 };
                }
            })
        })
        .collect();
    join(threads);
    // SAFETY: every writer has been joined.
    unsafe { RACY }
}

static mut GUARDED: u64 = 0;
static SHARED: Mutex<()> = Mutex::new(());
static mut HANDED: u64 = 0;
static READY: (Mutex<bool>, Condvar) = (Mutex::new(false), Condvar::new());
static TABLE: RwLock<u64> = RwLock::new(0);

/// Returns 0 when every count is right.
#[unsafe(no_mangle)]
pub extern "C" fn canary_ordered() -> u64 {
    let mut threads = Vec::new();
    for _ in 0..THREADS {
        threads.push(thread::spawn(|| {
            for _ in 0..ROUNDS {
                let _guard = SHARED.lock().unwrap();
                // SAFETY: every access holds SHARED.
                unsafe { GUARDED += 1 };
            }
        }));
        threads.push(thread::spawn(|| {
            for i in 0..ROUNDS / 4 {
                if i % 8 == 0 {
                    *TABLE.write().unwrap() += 1;
                } else {
                    let _ = *TABLE.read().unwrap();
                }
            }
        }));
    }
    // The consumer sleeps on the Condvar first, so the producer's notification is what wakes it.
    threads.push(thread::spawn(|| {
        let mut ready = READY.0.lock().unwrap();
        while !*ready {
            ready = READY.1.wait(ready).unwrap();
        }
        drop(ready);
        // SAFETY: written before READY was set, read after it was seen set.
        assert_eq!(unsafe { HANDED }, 42);
    }));
    threads.push(thread::spawn(|| {
        thread::sleep(std::time::Duration::from_millis(200));
        // SAFETY: the consumer reads it only after seeing READY set.
        unsafe { HANDED = 42 };
        *READY.0.lock().unwrap() = true;
        READY.1.notify_all();
    }));
    join(threads);
    let writes = (ROUNDS / 4).div_ceil(8) as u64 * THREADS as u64;
    // SAFETY: every thread has been joined.
    let guarded = unsafe { GUARDED };
    (guarded != (THREADS * ROUNDS) as u64) as u64 + (*TABLE.read().unwrap() != writes) as u64
}
