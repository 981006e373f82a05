//! Per-thread values that do not pin the library: a POSIX thread-specific
//! key rather than a Rust `thread_local!`.
//!
//! A Rust thread-local with a destructor, once touched on a thread, makes
//! glibc keep the library mapped until that thread exits; Kea's own
//! threads (the main thread, and on Kea 2.4+ its packet workers, which are
//! paused rather than joined across a reconfiguration) never do, so after
//! one such touch a `config-reload` would silently run the old build of
//! the library again. A key's destructor pins nothing: [`ThreadBox::close`]
//! deletes the key at unload, after the hook's threads were joined, so no
//! thread can run it after the library is unmapped.

use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What happens to a value still held when its thread exits.
pub(crate) trait OnThreadExit: Sized + Send + 'static {
    /// Called on the exiting thread, once, with the value it held. Must not
    /// unwind (a panic is caught and dropped).
    fn on_thread_exit(self);
}

/// One optional `Box<T>` per thread, in a POSIX thread-specific key.
pub(crate) struct ThreadBox<T> {
    /// The key plus one (0: none).
    key: AtomicUsize,
    _value: PhantomData<fn() -> T>,
}

impl<T: OnThreadExit> ThreadBox<T> {
    /// No key yet: see [`ThreadBox::open`].
    pub(crate) const fn new() -> Self {
        ThreadBox { key: AtomicUsize::new(0), _value: PhantomData }
    }

    fn key(&self) -> Option<libc::pthread_key_t> {
        match self.key.load(Ordering::Acquire) {
            0 => None,
            k => Some((k - 1) as libc::pthread_key_t),
        }
    }

    /// The key's destructor: a thread exits holding a value.
    extern "C" fn thread_exit(value: *mut libc::c_void) {
        if value.is_null() {
            return;
        }
        // SAFETY: only `replace` stores values under a `ThreadBox<T>`'s key,
        // each a pointer from `Box::into_raw(Box<T>)`, and glibc hands a
        // value to the destructor once, after clearing it.
        let value = unsafe { Box::from_raw(value.cast::<T>()) };
        // Nothing may unwind out of a key destructor.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| value.on_thread_exit()));
    }

    /// Creates the key, unless it exists (the library stayed mapped since
    /// an earlier load). Called by `load()` on Kea's main thread.
    pub(crate) fn open(&self) {
        if self.key().is_some() {
            return;
        }
        let mut k: libc::pthread_key_t = 0;
        // SAFETY: `k` is a valid out-pointer; `thread_exit` has the C ABI
        // and signature pthread_key_create expects.
        if unsafe { libc::pthread_key_create(&mut k, Some(Self::thread_exit)) } == 0 {
            self.key.store(k as usize + 1, Ordering::Release);
        }
    }

    /// Deletes the key (no destructor runs after this; values still held
    /// by threads are leaked, a few bytes each). Called by `unload()`.
    pub(crate) fn close(&self) {
        let k = self.key.swap(0, Ordering::AcqRel);
        if k != 0 {
            // SAFETY: `k - 1` is a key `open` created and nothing deleted.
            unsafe { libc::pthread_key_delete((k - 1) as libc::pthread_key_t) };
        }
    }

    /// Stores this thread's value, returning the one it replaces (`None`,
    /// and the value dropped, when there is no key).
    pub(crate) fn replace(&self, value: Box<T>) -> Option<Box<T>> {
        let k = self.key()?;
        let old = Self::take_with(k);
        let raw = Box::into_raw(value);
        // SAFETY: `k` is a live key; the value is a pointer `thread_exit`
        // or `take` turns back into the Box.
        if unsafe { libc::pthread_setspecific(k, raw.cast()) } != 0 {
            // SAFETY: not stored, so still ours.
            drop(unsafe { Box::from_raw(raw) });
        }
        old
    }

    /// Takes this thread's value, if any.
    pub(crate) fn take(&self) -> Option<Box<T>> {
        self.key().and_then(Self::take_with)
    }

    fn take_with(k: libc::pthread_key_t) -> Option<Box<T>> {
        // SAFETY: `k` is a live key; values under it are null or pointers
        // from `Box::into_raw` (see `replace`), which this clears before
        // owning, so each is turned back into a Box once.
        unsafe {
            let raw = libc::pthread_getspecific(k).cast::<T>();
            if raw.is_null() {
                return None;
            }
            libc::pthread_setspecific(k, std::ptr::null());
            Some(Box::from_raw(raw))
        }
    }
}
