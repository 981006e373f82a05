//! What the tests need from the machine, and their temporary directories.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Finds `name` in the usual system directories or on `PATH`.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"]
        .into_iter()
        .map(PathBuf::from)
        .chain(path.split(':').filter(|d| !d.is_empty()).map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Like [`find_program`], panicking with the package to install.
pub(crate) fn program(name: &str, package: &str) -> PathBuf {
    find_program(name).unwrap_or_else(|| panic!("`{name}` not found: install the Debian package {package}"))
}

/// What is missing for the integration tests, empty when nothing is.
fn missing() -> Vec<String> {
    let mut missing = Vec::new();
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        missing.push("root (network namespaces)".to_owned());
    }
    for (prog, package) in [("kea-dhcp4", "kea-dhcp4-server"), ("perfdhcp", "kea-admin"), ("ip", "iproute2")] {
        if find_program(prog).is_none() {
            missing.push(format!("`{prog}` (package {package})"));
        }
    }
    if crate::dhclient::find_client().is_none() {
        missing.push(crate::dhclient::CLIENT_PACKAGES.to_owned());
    }
    missing
}

/// True when integration tests can run: running as root (effective uid 0)
/// with `kea-dhcp4`, `perfdhcp`, `ip` and a DHCP client (`dhclient` or
/// `udhcpc`) installed.
///
/// Otherwise, with the `CI` environment variable set (non-empty) this
/// panics naming what is missing; without it, it prints why the test is
/// skipped and returns false. Start every integration test with
/// `if !require_root_and_kea() { return; }`.
pub fn require_root_and_kea() -> bool {
    let missing = missing();
    if missing.is_empty() {
        return true;
    }
    let thread = std::thread::current();
    let test = thread.name().filter(|n| *n != "main").map(|n| format!("{n} ")).unwrap_or_default();
    skip(&format!(
        "skipping integration test {test}(missing: {}): run as root with kea-dhcp4, perfdhcp, iproute2 and dhclient or udhcpc installed",
        missing.join(", ")
    ));
    false
}

/// True when every program of `programs` (name, what to install for it) is
/// on the PATH; otherwise [`skip`]s "skipping WHAT test (missing: ...)"
/// and returns false (with `CI` set, that panics).
pub fn require_programs(what: &str, programs: &[(&str, &str)]) -> bool {
    let missing: Vec<&str> = programs.iter().filter(|(p, _)| find_program(p).is_none()).map(|(_, why)| *why).collect();
    if missing.is_empty() {
        return true;
    }
    skip(&format!("skipping {what} test (missing: {})", missing.join(", ")));
    false
}

/// Says why a test does not run (`why` starts with "skipping ..."): with
/// `CI` set (non-empty) by panicking, so CI fails loudly; otherwise where
/// the person running the tests sees it, and the caller returns.
///
/// The test harness captures what a passing test prints with `eprintln!`,
/// so the notice is written to the process's stderr directly, where cargo
/// shows it. It is also appended to the file `KEA_TEST_SKIP_LOG` names,
/// if set: `scripts/test.sh` counts those lines into its summary, since
/// cargo reports a test that returned early as passed.
pub fn skip(why: &str) {
    if std::env::var("CI").map(|v| !v.is_empty()).unwrap_or(false) {
        panic!("CI is set, so not {why}");
    }
    use std::io::Write;
    let line = format!("{why}\n");
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    if let Some(path) = std::env::var_os("KEA_TEST_SKIP_LOG") {
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// A fresh directory `kea-hooks-test-<pid>-<counter>-<nanos>` (mode 0750)
/// under the system temp dir, removed on drop unless `KEEP_TEST_DIRS` is
/// set (then its path is printed).
#[derive(Debug)]
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    /// Creates a unique directory; panics if it cannot.
    pub fn new() -> TestDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "kea-hooks-test-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        // create_dir (not _all): a leftover with the same name is an error,
        // never silently shared.
        std::fs::create_dir(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o750))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", path.display()));
        TestDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Default for TestDir {
    fn default() -> Self {
        TestDir::new()
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::env::var_os("KEEP_TEST_DIRS").is_some() {
            eprintln!("kept test dir {}", self.path.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn test_dirs_are_unique_private_and_removed() {
        let (a, b) = (TestDir::new(), TestDir::new());
        assert_ne!(a.path(), b.path());
        let name = a.path().file_name().unwrap().to_str().unwrap().to_owned();
        assert!(name.starts_with(&format!("kea-hooks-test-{}-", std::process::id())), "{name}");
        assert_eq!(std::fs::metadata(a.path()).unwrap().mode() & 0o7777, 0o750);
        let path = a.path().to_path_buf();
        std::fs::write(path.join("f"), "x").unwrap();
        drop(a);
        if std::env::var_os("KEEP_TEST_DIRS").is_none() {
            assert!(!path.exists());
        }
    }
}
