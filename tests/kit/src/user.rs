//! A system user made for one test, to run Kea as distributions do: as a
//! user of its own (Gentoo's `dhcp`), from a binary given the capabilities
//! it needs (`setcap cap_net_bind_service,cap_net_raw=+ep`) instead of
//! root. See [`KeaConfig::run_as`](crate::KeaConfig::run_as).
//!
//! Needs `useradd`/`userdel` (Debian's `passwd`, priority required: in
//! every installation and debootstrap root) and `setcap` (`libcap2-bin`,
//! which `iproute2` depends on).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::build::target_dir;

/// A system user (with a group of its own, no home, no login shell)
/// created by `useradd` for one test, and removed (`userdel`) with its
/// group when dropped; also owns a directory for the binaries it may run
/// with capabilities, removed with it. Drop it after every process it ran
/// has ended (`userdel` refuses a user with processes).
#[derive(Debug)]
pub struct SystemUser {
    name: String,
    uid: u32,
    gid: u32,
    bin_dir: PathBuf,
}

fn run(program: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(program).args(args).output().map_err(|e| format!("{program}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{program} {args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

impl SystemUser {
    /// Creates a user named `khnr<pid>x<n>` (unique per process and call;
    /// `useradd --system --user-group`). Panics if it cannot.
    pub fn create() -> SystemUser {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("khnr{}x{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed));
        run(
            "useradd",
            &["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", &name],
        )
        .unwrap_or_else(|e| panic!("create user {name} (package passwd): {e}"));
        let id = |flag: &str| run("id", &[flag, &name]).ok().and_then(|s| s.parse::<u32>().ok());
        let (Some(uid), Some(gid)) = (id("-u"), id("-g")) else {
            let _ = run("userdel", &[&name]);
            panic!("user {name} was created but `id` does not know it");
        };
        let bin_dir = target_dir().join("nonroot").join(&name);
        let mut user = SystemUser { name, uid, gid, bin_dir };
        // Made by root, readable and searchable by all (so that the user
        // can reach the binaries in it); only root may change it.
        std::fs::create_dir_all(&user.bin_dir).unwrap_or_else(|e| panic!("create {}: {e}", user.bin_dir.display()));
        user.bin_dir = user.bin_dir.canonicalize().unwrap();
        user
    }

    /// The user's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The user's id.
    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// The id of the user's own group.
    pub fn gid(&self) -> u32 {
        self.gid
    }

    /// Copies `program` into the user's binary directory as a file owned
    /// by root and the user's group, mode 0750 (only they may run it),
    /// with file capabilities `capabilities` (`setcap` syntax, e.g.
    /// `cap_net_bind_service,cap_net_raw=ep`), and returns the copy's
    /// path. Panics if it cannot, or if the copy sits on a filesystem
    /// mounted `nosuid` (where the kernel ignores file capabilities).
    pub fn capable_copy(&self, program: &Path, capabilities: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let to = self.bin_dir.join(program.file_name().expect("a program file name"));
        std::fs::copy(program, &to).unwrap_or_else(|e| panic!("copy {} to {}: {e}", program.display(), to.display()));
        std::os::unix::fs::chown(&to, Some(0), Some(self.gid)).unwrap_or_else(|e| panic!("chown {}: {e}", to.display()));
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o750)).unwrap();
        let path = to.to_str().expect("a UTF-8 path");
        run("setcap", &[capabilities, path]).unwrap_or_else(|e| panic!("setcap (package libcap2-bin): {e}"));
        let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        // The mount the copy is on: the longest mount point above it.
        let mount = mounts
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                (f.len() > 5 && to.starts_with(f[4])).then(|| (f[4].len(), f[5].to_owned()))
            })
            .max();
        if let Some((_, options)) = mount {
            assert!(
                !options.split(',').any(|o| o == "nosuid"),
                "{} is on a nosuid mount, where file capabilities do not apply",
                to.display()
            );
        }
        to
    }
}

impl Drop for SystemUser {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.bin_dir);
        // userdel removes the user's own group too (USERGROUPS_ENAB, on in
        // Debian); groupdel in case it did not.
        if let Err(e) = run("userdel", &[&self.name]) {
            eprintln!("could not remove test user {}: {e}", self.name);
        }
        if run("getent", &["group", &self.name]).is_ok() {
            let _ = run("groupdel", &[&self.name]);
        }
    }
}
