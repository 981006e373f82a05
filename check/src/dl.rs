//! The checker's only unsafe code: opening a hook library and calling its
//! `kea_hooks_check_parameters`.

use std::ffi::{c_int, c_void, CStr, CString};
use std::path::Path;

/// `kea_hooks_check_parameters(json, len, report, ctx)`, as `kea_hook!`
/// exports it.
type CheckFn = unsafe extern "C" fn(
    json: *const u8,
    len: usize,
    report: Option<extern "C" fn(*mut c_void, *const u8, usize)>,
    ctx: *mut c_void,
) -> c_int;

/// An open library; closed when dropped.
pub struct Library {
    handle: *mut c_void,
}

/// What a library said about its parameters.
pub enum Outcome {
    /// The library has no `kea_hooks_check_parameters`: not an SDK hook.
    NotSdk,
    /// Its report (JSON text) and return code: 0 good, 1 bad parameters,
    /// 2 parameters that are not UTF-8.
    Report { code: c_int, report: String },
}

fn dlerror() -> String {
    // SAFETY: dlerror returns null or a NUL-terminated string owned by the
    // C library, valid until the next dl* call on this thread; it is
    // copied at once.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "unknown dlopen error".to_owned()
    } else {
        // SAFETY: as above.
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}

impl Library {
    /// Opens `path` as Kea does (`RTLD_NOW | RTLD_LOCAL`): every library it
    /// needs (Kea's, for the release it was built for) must be found.
    pub fn open(path: &Path) -> Result<Library, String> {
        let c = CString::new(path.as_os_str().as_encoded_bytes()).map_err(|_| "the path has a NUL byte".to_owned())?;
        // SAFETY: `c` is a NUL-terminated path that outlives the call.
        // Opening runs the library's constructors, which is what a hook
        // library expects of being opened (Kea does the same).
        let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
        if handle.is_null() {
            return Err(dlerror());
        }
        Ok(Library { handle })
    }

    fn symbol(&self, name: &CStr) -> *mut c_void {
        // SAFETY: `handle` is an open library (closed only on drop); `name`
        // is NUL-terminated.
        unsafe { libc::dlsym(self.handle, name.as_ptr()) }
    }

    /// `version()`, if the library exports it (every hook library does).
    pub fn hooks_version(&self) -> Option<c_int> {
        let f = self.symbol(c"version");
        if f.is_null() {
            return None;
        }
        // SAFETY: Kea's ABI: a hook library's `version` is
        // `extern "C" int version()`.
        let version: extern "C" fn() -> c_int = unsafe { std::mem::transmute::<*mut c_void, extern "C" fn() -> c_int>(f) };
        Some(version())
    }

    /// Runs the library's parameter check on `json` (the `parameters`
    /// map's text; empty for none).
    pub fn check(&self, json: &str) -> Outcome {
        let f = self.symbol(c"kea_hooks_check_parameters");
        if f.is_null() {
            return Outcome::NotSdk;
        }
        // SAFETY: the symbol is the function `kea_hook!` exports under this
        // name, whose signature is `CheckFn`.
        let check: CheckFn = unsafe { std::mem::transmute::<*mut c_void, CheckFn>(f) };
        extern "C" fn collect(ctx: *mut c_void, text: *const u8, len: usize) {
            // SAFETY: `ctx` is the `&mut String` passed below, alive for the
            // call; `text` points to `len` bytes the library keeps readable
            // for the duration of this callback.
            let (out, bytes) = unsafe { (&mut *ctx.cast::<String>(), std::slice::from_raw_parts(text, len)) };
            out.push_str(&String::from_utf8_lossy(bytes));
        }
        let mut report = String::new();
        // SAFETY: `json` is `len` readable bytes for the call; `collect`
        // is called with `ctx` = `&mut report`, which outlives the call.
        let code = unsafe { check(json.as_ptr(), json.len(), Some(collect), (&mut report as *mut String).cast()) };
        Outcome::Report { code, report }
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        // SAFETY: `handle` came from dlopen and is closed once; nothing the
        // library gave out (the report was copied) is used afterwards.
        unsafe { libc::dlclose(self.handle) };
    }
}
