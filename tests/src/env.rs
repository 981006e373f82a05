//! What the tests need from the machine, and their temporary directories.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Finds `name` in the usual system directories or on `PATH`.
pub(crate) fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/sbin", "/usr/local/bin"]
        .into_iter()
        .map(PathBuf::from)
        .chain(path.split(':').map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// True when integration tests can run: root, and Kea's daemon, perfdhcp,
/// dhclient and `ip` installed. Otherwise, with `CI` set this panics naming
/// what is missing; without it, it prints why the test is skipped and
/// returns false.
pub fn require_root_and_kea() -> bool {
    let mut missing = Vec::new();
    // /proc/self belongs to the process's effective user.
    if std::fs::metadata("/proc/self").map(|m| m.uid()).unwrap_or(u32::MAX) != 0 {
        missing.push("root (network namespaces)".to_owned());
    }
    for prog in ["kea-dhcp4", "perfdhcp", "dhclient", "ip"] {
        if find_program(prog).is_none() {
            missing.push(format!("`{prog}`"));
        }
    }
    if missing.is_empty() {
        return true;
    }
    let why = format!(
        "integration test needs {}: run `sudo ./scripts/test.sh` (it installs Kea; see README)",
        missing.join(", ")
    );
    if std::env::var("CI").map(|v| !v.is_empty()).unwrap_or(false) {
        panic!("CI is set and the {why}");
    }
    eprintln!("SKIPPED: {why}");
    false
}

/// A fresh directory (mode 0750), removed on drop unless `KEEP_TEST_DIRS`
/// is set.
#[derive(Debug)]
pub struct TestDir {
    path: PathBuf,
}

impl TestDir {
    /// Creates a unique directory under the system temp dir.
    pub fn new(tag: &str) -> TestDir {
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
        let path = std::env::temp_dir().join(format!(
            "kea-hooks-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("create test dir");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o750)).expect("chmod test dir");
        TestDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
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
