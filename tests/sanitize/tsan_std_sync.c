/* SPDX-License-Identifier: MIT OR Apache-2.0 */
/*
 * Happens-before annotations for the slow paths of Rust std's futex-based Mutex, RwLock,
 * Condvar and Once, linked into the ThreadSanitizer build of libsenti.so only
 * (tests/sanitize/threads.sh).
 *
 * Why: ThreadSanitizer must see every synchronisation. The std on this machine is precompiled
 * without instrumentation (no rust-src, so no -Zbuild-std). The fast paths of std's locks are
 * #[inline] or generic, so they are compiled into the calling crate with instrumentation and
 * TSan sees their atomics; the contended paths (Mutex::lock_contended, RwLock::read_contended and
 * write_contended, Condvar::wait with its internal unlock and relock, Once::call) run inside
 * the precompiled std, where their atomics are invisible. Without these annotations a lock
 * acquired on a contended path, or a flag read after a Condvar wait (rayon's LockLatch, which
 * ends every call into a thread pool), looks unsynchronised, and TSan reported about 490
 * "races" in one quick stress run, nearly all downstream of these edges.
 *
 * How: the link of libsenti.so gets -Wl,--wrap=<symbol> for each function below, so calls from
 * instrumented crates (rayon, candle, libsenti) reach __wrap_<symbol>, which calls the real
 * function and tells TSan the edge the real one made: an acquire of the lock word after the lock
 * is taken, a release before Condvar::wait gives the mutex up. Every unlock is already visible:
 * MutexGuard and RwLock guards unlock with an inlined, instrumented release store. The edges
 * added are exactly those the locks provide, so no race between accesses that the locks do not
 * order is hidden. Two approximations: read_contended's acquire also orders a reader after
 * earlier readers' unlocks (readers never conflict with each other, so only accesses outside
 * the lock by two readers could be hidden), and Once::call releases after the real call returns,
 * so a thread that sees the Once complete in the instant between the real completion and that
 * release could be reported falsely (initialisation happens once; none seen).
 *
 * The symbols are the toolchain's v0-mangled names, passed in by threads.sh, which finds them in
 * the std rlib and fails when one is missing or when libsenti.so uses another std::sys::sync
 * slow path, so a toolchain whose std differs stops there instead of running unmodelled. On
 * x86_64 the Rust ABI passes these arguments (pointers, a bool; no return value) in the same
 * registers as C (read from their disassembly in rustc 1.95); threads.sh's canaries
 * (tsan_canary.rs) fail if the annotations do not take effect. Compiled without
 * -fsanitize=thread: it is not code under test.
 */
#include <stdbool.h>

void __tsan_acquire(void *addr);
void __tsan_release(void *addr);

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define WRAP(sym) CAT(__wrap_, sym)
#define REAL(sym) CAT(__real_, sym)

/* std::sys::sync::mutex::futex::Mutex::lock_contended(&self) */
void REAL(SYM_MUTEX_LOCK_CONTENDED)(void *mutex);
void WRAP(SYM_MUTEX_LOCK_CONTENDED)(void *mutex) {
    REAL(SYM_MUTEX_LOCK_CONTENDED)(mutex);
    __tsan_acquire(mutex);
}

/* std::sys::sync::rwlock::futex::RwLock::read_contended(&self) */
void REAL(SYM_RWLOCK_READ_CONTENDED)(void *rwlock);
void WRAP(SYM_RWLOCK_READ_CONTENDED)(void *rwlock) {
    REAL(SYM_RWLOCK_READ_CONTENDED)(rwlock);
    __tsan_acquire(rwlock);
}

/* std::sys::sync::rwlock::futex::RwLock::write_contended(&self) */
void REAL(SYM_RWLOCK_WRITE_CONTENDED)(void *rwlock);
void WRAP(SYM_RWLOCK_WRITE_CONTENDED)(void *rwlock) {
    REAL(SYM_RWLOCK_WRITE_CONTENDED)(rwlock);
    __tsan_acquire(rwlock);
}

/* std::sys::sync::condvar::futex::Condvar::wait(&self, mutex: &Mutex): unlocks the mutex,
 * sleeps, locks it again, all inside std. */
void REAL(SYM_CONDVAR_WAIT)(void *condvar, void *mutex);
void WRAP(SYM_CONDVAR_WAIT)(void *condvar, void *mutex) {
    __tsan_release(mutex);
    REAL(SYM_CONDVAR_WAIT)(condvar, mutex);
    __tsan_acquire(mutex);
}

/* std::sys::sync::once::futex::Once::call(&self, ignore_poisoning: bool,
 * f: &mut dyn FnMut(&OnceState)): the thread that ran f releases what it wrote; every thread
 * that returns from it has seen the Once complete. The inlined fast path (is_completed, an
 * instrumented acquire load of the same word) then synchronises with that release. */
void REAL(SYM_ONCE_CALL)(void *once, bool ignore_poisoning, void *f_data, const void *f_vtable);
void WRAP(SYM_ONCE_CALL)(void *once, bool ignore_poisoning, void *f_data, const void *f_vtable) {
    REAL(SYM_ONCE_CALL)(once, ignore_poisoning, f_data, f_vtable);
    __tsan_release(once);
    __tsan_acquire(once);
}
