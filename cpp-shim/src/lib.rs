//! The C++ half of [kea-hooks](https://docs.rs/kea-hooks): the shim between
//! the SDK's Rust code and ISC Kea's C++ hooks API, as source files.
//!
//! This crate compiles nothing. It exists so that the shim's `.cc` and `.h`
//! files travel with the published SDK: `kea-hooks` names it as a
//! *build-dependency* and its build script compiles [`SOURCES`] from
//! [`source_dir()`] together with the cxx bridges of `kea-hooks`
//! (`src/ffi/shim.rs`, `shim4.rs`, `shim6.rs`) against the Kea it finds.
//! The two halves cannot be built apart: the shim's files include the C++
//! headers cxx generates from those bridges (`kea-hooks/src/ffi/shim.rs.h`),
//! and the bridges declare `extern "Rust"` functions that `kea-hooks`
//! implements. So the compile, Kea's headers and the link stay in
//! `kea-hooks`' build script (which also declares `links = "kea-hooks-shim"`
//! and gives hooks' build scripts `DEP_KEA_HOOKS_SHIM_*`); this crate only
//! says where the files are.
//!
//! In the repository the files are `cpp-shim/*.cc` and `cpp-shim/*.h`, this
//! crate's root; in a package they are unpacked beside its `Cargo.toml`, and
//! [`source_dir()`] points there in both cases.
//!
//! Depend on `kea-hooks`, not on this crate: its files are tied to the
//! `kea-hooks` release of the same version.
//!
//! It also holds the search for the installed Kea ([`kea`]) that kea-hooks'
//! build script does, and kea-hooks-test's, whose `unit` module compiles
//! C++ against Kea too: a build script that compiles against Kea the way
//! kea-hooks does can call [`kea::find()`].

#![forbid(unsafe_code)]

use std::path::PathBuf;

pub mod kea;

/// The shim's C++ files, each the C++ half of the Rust module it names:
/// the family-neutral half of kea-hooks' `src/ffi/shim.rs` (load.rs and
/// params.rs, parking.rs, the main queue and lease gate, the lease
/// database, stats.rs, ffi/args.rs, ffi/context.rs, log.rs), what both
/// families' packets share (`pkt.cc`), then the DHCPv4 half,
/// `src/ffi/shim4.rs`, and the DHCPv6 half, `src/ffi/shim6.rs`.
pub const SOURCES: &[&str] = &[
    "params.cc",
    "parking.cc",
    "main_queue.cc",
    "lease_db.cc",
    "stats.cc",
    "args.cc",
    "context.cc",
    "log.cc",
    "pkt.cc",
    "shim4.cc",
    "shim6.cc",
];

/// The headers the shim's files include (from [`source_dir()`]; add it to
/// the include path). `shim.h`, `shim4.h` and `shim6.h` are also the
/// headers the three cxx bridges name with `include!`.
pub const HEADERS: &[&str] = &["shim.h", "pkt.h", "subnets.h", "shim4.h", "shim6.h", "trycatch.h"];

/// The headers in [`compat_dir()`], relative to it: our own stand-ins for
/// Kea headers that some packaged Kea releases lack.
pub const COMPAT_HEADERS: &[&str] = &["dhcpsrv/cfg_globals.h"];

/// The directory of our stand-ins for missing Kea headers ([`COMPAT_HEADERS`]):
/// Debian bookworm's kea-dev 2.2 ships `dhcpsrv/network.h` (which
/// `dhcpsrv/subnet.h` includes) without the `dhcpsrv/cfg_globals.h` it
/// includes; the stand-in declares just enough to parse it. Add this
/// directory to the include path only when Kea's own
/// `dhcpsrv/cfg_globals.h` is missing, and call nothing of `CfgGlobals`
/// from code compiled against it. Used by kea-hooks' build script and by
/// kea-hooks-test's (its `unit` module builds Kea subnets).
pub fn compat_dir() -> PathBuf {
    source_dir().join("compat")
}

/// The directory holding [`SOURCES`] and [`HEADERS`]: this crate's root,
/// where Cargo unpacked it (or the repository's `cpp-shim/`). A build
/// script that compiles them should also print `cargo:rerun-if-changed`
/// for each.
pub fn source_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[cfg(test)]
mod tests {
    /// Every file the lists name is in the directory, and every C++ file
    /// in the directory is listed (a new file that is not listed would be
    /// left out of the compile, or of the package).
    #[test]
    fn the_lists_name_exactly_the_cpp_files_in_the_directory() {
        let dir = super::source_dir();
        let mut listed: Vec<&str> = super::SOURCES.iter().chain(super::HEADERS).copied().collect();
        listed.sort();
        let mut found: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".cc") || n.ends_with(".h"))
            .collect();
        found.sort();
        assert_eq!(listed, found, "kea-hooks-shim's SOURCES/HEADERS against the .cc/.h files in {}", dir.display());
    }

    /// Every stand-in header is there, and only those are.
    #[test]
    fn the_compat_headers_are_those_listed() {
        let dir = super::compat_dir();
        for h in super::COMPAT_HEADERS {
            assert!(dir.join(h).is_file(), "{} is missing", dir.join(h).display());
        }
        let found: Vec<_> = std::fs::read_dir(dir.join("dhcpsrv")).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert_eq!(found, ["cfg_globals.h"], "files in {}", dir.join("dhcpsrv").display());
    }
}
