//! Finding the installed Kea, for build scripts: the search kea-hooks'
//! build script does, shared with kea-hooks-test's (whose `unit` module
//! compiles C++ against Kea too), so both find the same Kea the same way.
//!
//! [`find()`] looks, first match wins:
//! 1. `KEA_INCLUDE_DIR` (the directory holding `hooks/hooks.h`) and, if the
//!    libraries are not on the linker's default path, `KEA_LIB_DIR`;
//! 2. `KEA_PREFIX`: `$KEA_PREFIX/include/kea` and the first of
//!    `$KEA_PREFIX/lib/<multiarch>`, `lib64`, `lib` holding `libkea-hooks.so`;
//! 3. pkg-config's `kea` package (Kea 3.0 and later install `kea.pc`;
//!    `$PKG_CONFIG` names the command, default `pkg-config`). Only its
//!    variables are read: Debian's `kea.pc` requires `mariadb` and `libpq`,
//!    so `--cflags`/`--libs` fail unless their -dev packages are installed;
//! 4. `/usr/include/kea` (Debian; libraries on the default path), then
//!    `/usr/local/include/kea` with `/usr/local/lib` (Kea built from source).
//!
//! The release is read from `KEA_HOOKS_VERSION` in `hooks/hooks.h`
//! ([`hooks_version()`], [`KeaVersion`]).
//!
//! Everything here runs in a build script: it reads the variables Cargo
//! sets for one (`CARGO_CFG_TARGET_*`), prints `cargo:` lines, and panics
//! with an explanation when there is no usable Kea. Messages start with the
//! name the caller passes (`who`, e.g. `"kea-hooks"`).

use std::env;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The Debian packages a build against Kea needs, as said in messages.
pub const INSTALL_HINT: &str = "Debian/Ubuntu: `apt-get install kea-dev libboost-dev liblog4cplus-dev libssl-dev`";

/// A Kea installation found by [`find()`].
#[derive(Debug, Clone)]
pub struct Kea {
    /// Kea's include directory, the one holding `hooks/hooks.h` (put it on
    /// the include path).
    pub include: PathBuf,
    /// The directory of Kea's libraries, when it is not one the linker
    /// searches by default (print `cargo:rustc-link-search=native=` for it).
    pub lib: Option<PathBuf>,
    /// How it was found (`KEA_INCLUDE_DIR`, `KEA_PREFIX=/opt/kea`,
    /// `pkg-config kea 3.0.1`, `/usr/include/kea`), for messages.
    pub via: String,
}

impl Kea {
    /// `hooks/hooks.h` in [`Kea::include`].
    pub fn hooks_h(&self) -> PathBuf {
        self.include.join("hooks/hooks.h")
    }

    /// [`crate::compat_dir()`] when this Kea lacks the header it stands in
    /// for (`dhcpsrv/cfg_globals.h`, missing from Debian's kea-dev 2.2),
    /// else `None`: the extra include directory for code that includes
    /// `dhcpsrv/subnet.h` or `dhcpsrv/network.h`.
    pub fn compat_include(&self) -> Option<PathBuf> {
        (!self.include.join("dhcpsrv/cfg_globals.h").exists()).then(crate::compat_dir)
    }
}

/// Warnings Kea's own headers trigger in code that includes them, turned
/// off: give each to the C++ build with `flag_if_supported`.
pub const QUIET_FLAGS: &[&str] = &["-Wno-unused-parameter", "-Wno-deprecated-declarations", "-Wno-deprecated-copy", "-Wno-class-memaccess"];

/// A Kea release, from its `KEA_HOOKS_VERSION` (e.g. 20603 for 2.6.3).
/// Displays as `major.minor.patch`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeaVersion {
    /// `KEA_HOOKS_VERSION` itself.
    pub hooks_version: u32,
    /// The major release (2 for 2.6.3).
    pub major: u32,
    /// The minor release (6 for 2.6.3).
    pub minor: u32,
    /// The patch release (3 for 2.6.3).
    pub patch: u32,
}

impl KeaVersion {
    /// The release a `KEA_HOOKS_VERSION` names.
    pub fn from_hooks_version(v: u32) -> KeaVersion {
        KeaVersion { hooks_version: v, major: v / 10000, minor: v / 100 % 100, patch: v % 100 }
    }

    /// This release is `major.minor` or a newer one.
    pub fn at_least(&self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }

    /// The name to link Kea's DHCP library (packets, options) with:
    /// `kea-dhcp` from 3.0, which renamed `libkea-dhcp++`.
    pub fn dhcp_lib(&self) -> &'static str {
        if self.at_least(3, 0) {
            "kea-dhcp"
        } else {
            "kea-dhcp++"
        }
    }
}

impl fmt::Display for KeaVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Finds Kea (the search order is at the top of this module) and prints
/// `cargo:rerun-if-env-changed` for every variable the search reads.
/// Panics, starting the message with `who`, when a variable names a
/// directory without `hooks/hooks.h` or when no Kea is found. A pkg-config
/// `kea` whose include directory has no `hooks/hooks.h` gets a
/// `cargo:warning` and the search goes on.
pub fn find(who: &str) -> Kea {
    for var in ["KEA_PREFIX", "KEA_INCLUDE_DIR", "KEA_LIB_DIR", "PKG_CONFIG", "PKG_CONFIG_PATH", "PKG_CONFIG_LIBDIR"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    if let Ok(dir) = env::var("KEA_INCLUDE_DIR") {
        let include = PathBuf::from(dir);
        require_hooks_h(who, &include, "KEA_INCLUDE_DIR");
        return Kea { include, lib: env::var("KEA_LIB_DIR").ok().map(PathBuf::from), via: "KEA_INCLUDE_DIR".into() };
    }
    if let Ok(prefix) = env::var("KEA_PREFIX") {
        let p = PathBuf::from(prefix);
        let include = p.join("include/kea");
        require_hooks_h(who, &include, "KEA_PREFIX");
        let candidates = [p.join("lib").join(multiarch()), p.join("lib64"), p.join("lib")];
        let lib = candidates.iter().find(|d| d.join("libkea-hooks.so").exists()).unwrap_or(&candidates[2]).clone();
        return Kea { include, lib: Some(lib), via: format!("KEA_PREFIX={}", p.display()) };
    }
    if let Some(kea) = from_pkg_config(who) {
        return kea;
    }
    for (inc, lib) in [("/usr/include/kea", None), ("/usr/local/include/kea", Some("/usr/local/lib"))] {
        if Path::new(inc).join("hooks/hooks.h").exists() {
            return Kea { include: PathBuf::from(inc), lib: lib.map(PathBuf::from), via: inc.to_owned() };
        }
    }
    panic!(
        "\n\n{who}: Kea's development headers were not found (no `kea` for pkg-config, no \
         hooks/hooks.h in /usr/include/kea or /usr/local/include/kea).\n{INSTALL_HINT}\n\
         or point KEA_PREFIX, or KEA_INCLUDE_DIR and KEA_LIB_DIR, at the Kea you build for.\n\n"
    );
}

fn require_hooks_h(who: &str, include: &Path, var: &str) {
    if !include.join("hooks/hooks.h").exists() {
        panic!(
            "\n\n{who}: {var} is set, but {} has no hooks/hooks.h: it must name the Kea \
             release's include directory (the one holding hooks/, dhcp/, dhcpsrv/).\n\n",
            include.display()
        );
    }
}

/// Debian's multiarch directory for the build script's target, e.g.
/// `x86_64-linux-gnu` (from `CARGO_CFG_TARGET_ARCH` and `_ENV`).
pub fn multiarch() -> String {
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let env_ = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let arch = match arch.as_str() {
        "x86" => "i386",
        "arm" => "arm",
        other => other,
    };
    format!("{arch}-linux-{env_}")
}

/// Kea through pkg-config (3.0+). Reads only `--modversion` and variables:
/// `--cflags`/`--libs` also resolve `Requires:` (openssl, log4cplus,
/// mariadb, libpq), which fails on machines without those -dev packages.
fn from_pkg_config(who: &str) -> Option<Kea> {
    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into());
    let query = |args: &[&str]| -> Option<String> {
        let out = Command::new(&pkg_config).args(args).stderr(Stdio::null()).output().ok()?;
        let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
        (out.status.success() && !text.is_empty()).then_some(text)
    };
    let modversion = query(&["--modversion", "kea"])?;
    let includedir = query(&["--variable=includedir", "kea"])?;
    let libdir = query(&["--variable=libdir", "kea"]);
    // kea.pc's Cflags are -I${includedir}/kea.
    let include = Path::new(&includedir).join("kea");
    if !include.join("hooks/hooks.h").exists() {
        println!(
            "cargo:warning={who}: pkg-config knows kea {modversion}, but {} has no hooks/hooks.h; \
             looking in the default places",
            include.display()
        );
        return None;
    }
    Some(Kea { include, lib: libdir.map(PathBuf::from), via: format!("pkg-config kea {modversion}") })
}

/// The `KEA_HOOKS_VERSION` in `hooks_h` (Kea's `hooks/hooks.h`, see
/// [`Kea::hooks_h`]). Panics, starting the message with `who`, when the
/// file cannot be read or has no `KEA_HOOKS_VERSION = N;`.
pub fn hooks_version(who: &str, hooks_h: &Path) -> u32 {
    let text = fs::read_to_string(hooks_h).unwrap_or_else(|e| panic!("{who}: cannot read {}: {e}", hooks_h.display()));
    text.lines()
        .find_map(|line| {
            let rest = line.split("KEA_HOOKS_VERSION").nth(1)?;
            let value = rest.split('=').nth(1)?.trim().trim_end_matches(';').trim();
            value.parse().ok()
        })
        .unwrap_or_else(|| panic!("{who}: no `KEA_HOOKS_VERSION = N;` in {}", hooks_h.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hooks_version_is_split_into_its_release() {
        let v = KeaVersion::from_hooks_version(20603);
        assert_eq!((v.major, v.minor, v.patch), (2, 6, 3));
        assert_eq!(v.to_string(), "2.6.3");
        assert!(v.at_least(2, 6) && v.at_least(2, 2) && !v.at_least(2, 7) && !v.at_least(3, 0));
        assert_eq!(v.dhcp_lib(), "kea-dhcp++");
        assert_eq!(KeaVersion::from_hooks_version(30200).dhcp_lib(), "kea-dhcp");
    }

    #[test]
    fn the_hooks_version_is_read_from_the_line_that_defines_it() {
        let dir = env::temp_dir().join(format!("kea-hooks-shim-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let h = dir.join("hooks.h");
        fs::write(&h, "// KEA_HOOKS_VERSION is below\nnamespace {\nconst int KEA_HOOKS_VERSION = 20206;\n}\n").unwrap();
        assert_eq!(hooks_version("test", &h), 20206);
        fs::write(&h, "const int OTHER = 1;\n").unwrap();
        let err = std::panic::catch_unwind(|| hooks_version("test", &h)).unwrap_err();
        let msg = err.downcast_ref::<String>().unwrap();
        assert!(msg.starts_with("test: no `KEA_HOOKS_VERSION = N;` in "), "{msg}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
