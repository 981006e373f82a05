//! Builds the C++ shim against the installed Kea and tells rustc which
//! Kea libraries to link.
//!
//! Finding Kea, first match wins (the search is `kea_hooks_shim::kea::find`,
//! in the build-dependency kea-hooks-shim, `cpp-shim/src/kea.rs`, shared
//! with kea-hooks-test's build script):
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
//! The Kea release is read from `KEA_HOOKS_VERSION` in `hooks/hooks.h`
//! (e.g. 20603 for 2.6.3). It is compiled into the hook's `version()` (Kea
//! refuses a library built against another release), passed to the shim as
//! `KEA_SHIM_HOOKS_VERSION`, and selects the libraries to link (3.0 renamed
//! `libkea-dhcp++` to `libkea-dhcp`).
//!
//! Rust cfgs for this crate's code, each meaning "built against this Kea
//! release or a newer one" (declared with `rustc-check-cfg`):
//! * `kea_2_4`: 2.4+ (multi-threading on by default, `offer_lft`);
//! * `kea_2_6`: 2.6+ (`lease4_offer`, subnets in `pkt4_send`, ...);
//! * `kea_3_0`: 3.0+ (const subnet arguments, `libkea-dhcp`, ...).
//!
//! The shim calls Kea's own exported instances of the argument templates
//! (`CalloutHandle::getArgument<T>`, the argument map's `find`) where the
//! Kea libraries it links export them, as a C++ hook does at run time; they
//! are found with `nm -D` (binutils, `$NM` overrides) and passed to the
//! shim as macros (see `kea_instances` and shim.h).
//!
//! The shim's C++ files are those of the build-dependency `kea-hooks-shim`
//! (`cpp-shim/` in the repository), compiled here with this crate's cxx
//! bridges, whose generated headers they include.
//!
//! Documentation without Kea: with `DOCS_RS` set (docs.rs sets it) nothing
//! is compiled or linked and no Kea is looked for; every `kea_X_Y` cfg is
//! on, and so is `kea_docs`, which keeps the items of older releases
//! (`cfg(any(not(kea_3_0), kea_docs))`) in the documentation too. The
//! version constants then name the newest release the SDK knows.
//!
//! For build scripts of crates that depend on this one (through `links`):
//! `DEP_KEA_HOOKS_SHIM_HOOKS_VERSION` (e.g. `20603`),
//! `DEP_KEA_HOOKS_SHIM_VERSION` (`2.6.3`) and
//! `DEP_KEA_HOOKS_SHIM_INCLUDE` (Kea's include directory).

use std::env;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

// The shim's C++ files come from the build-dependency kea-hooks-shim
// (`cpp-shim/` in the repository, its own package when published): see
// that crate's documentation for why it is a crate of its own.
use kea_hooks_shim::kea::{self as kea_search, multiarch, Kea, KeaVersion};
use kea_hooks_shim::{compat_dir, source_dir, COMPAT_HEADERS, HEADERS as SHIM_HEADERS, SOURCES as SHIM_SOURCES};

/// Releases that get a cfg `kea_X_Y` (see the top of this file).
const CFG_RELEASES: &[(u32, u32)] = &[(2, 4), (2, 6), (3, 0)];

/// The Kea libraries the shim calls into, for a release.
fn kea_libs(v: &KeaVersion) -> Vec<&'static str> {
    let mut libs = vec![
        "kea-hooks",
        "kea-dhcpsrv",
        v.dhcp_lib(),
        "kea-log",
        "kea-cc",
        "kea-asiolink",
        "kea-stats",
        // CommandMgr (command::execute): libkea-cfgclient until 3.0
        // renamed it.
        if v.at_least(3, 0) { "kea-config" } else { "kea-cfgclient" },
        "kea-util",
        "kea-exceptions",
    ];
    if v.at_least(3, 0) {
        // From 3.0 the configuration headers (dhcpsrv/cfgmgr.h) reach
        // boost::asio's TLS support, whose inline error category calls
        // OpenSSL; Kea itself links libcrypto, so it is in every Kea 3 process.
        libs.push("crypto");
    }
    libs
}

/// Headers the shim needs, with the Debian package that has them; checked
/// only to explain a failed compile.
fn prerequisites(v: &KeaVersion) -> Vec<(&'static str, &'static str)> {
    let mut list = vec![
        ("hooks/hooks.h", "kea-dev"),
        ("boost/shared_ptr.hpp", "libboost-dev"),
        ("log4cplus/logger.h", "liblog4cplus-dev"),
    ];
    if v.at_least(3, 0) {
        list.push(("openssl/ssl.h", "libssl-dev"));
    }
    list.extend([
        ("dhcp/pkt4.h", "kea-dev"),
        ("dhcpsrv/lease.h", "kea-dev"),
        ("dhcpsrv/subnet.h", "kea-dev"),
        ("hooks/callout_handle.h", "kea-dev"),
        ("hooks/library_handle.h", "kea-dev"),
        ("hooks/server_hooks.h", "kea-dev"),
        ("log/logger.h", "kea-dev"),
        ("log/logger_name.h", "kea-dev"),
        ("log/message_dictionary.h", "kea-dev"),
    ]);
    list
}

fn main() {
    println!("cargo:rerun-if-env-changed=DOCS_RS");
    for (major, minor) in CFG_RELEASES {
        println!("cargo::rustc-check-cfg=cfg(kea_{major}_{minor})");
    }
    println!("cargo::rustc-check-cfg=cfg(kea_docs)");
    println!("cargo::rustc-check-cfg=cfg(docsrs)");
    let shim_dir = source_dir();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    if env::var_os("DOCS_RS").is_some() {
        docs_only(&out);
        return;
    }

    // Prints cargo:rerun-if-env-changed for KEA_PREFIX, KEA_INCLUDE_DIR,
    // KEA_LIB_DIR and pkg-config's variables.
    let kea = kea_search::find("kea-hooks");
    let include = &kea.include;
    let hooks_h = kea.hooks_h();
    let version = KeaVersion::from_hooks_version(kea_search::hooks_version("kea-hooks", &hooks_h));
    println!("cargo:rerun-if-changed={}", hooks_h.display());
    if !version.at_least(2, 2) {
        println!("cargo:warning=kea-hooks: Kea {version} ({}) is older than 2.2, the oldest release this SDK is tested with", kea.via);
    }
    for (major, minor) in CFG_RELEASES {
        if version.at_least(*major, *minor) {
            println!("cargo:rustc-cfg=kea_{major}_{minor}");
        }
    }
    println!("cargo:hooks_version={}", version.hooks_version);
    println!("cargo:version={version}");
    println!("cargo:include={}", include.display());

    write_version_rs(&out, &version);

    // Debian's kea-dev for 2.2 ships dhcpsrv/network.h but not the
    // dhcpsrv/cfg_globals.h it includes. The shim only calls Subnet
    // accessors that never touch CfgGlobals, so a declaration of the names
    // network.h mentions is enough to parse it: kea-hooks-shim's own
    // stand-in (`compat_dir()`), on the include path only when Kea's header
    // is missing.
    let compat = kea.compat_include();

    let libs = kea_libs(&version);
    check_libs(&libs, &kea, &version);
    let instances = kea_instances(&libs, &kea);

    // One bridge per part: the family-neutral shim, the DHCPv4 half and the DHCPv6 half
    // (each bridge's generated header includes its own .h, so the inline
    // accessors compile into its wrappers). The neutral half's C++ is one
    // file per concept (see `SHIM_SOURCES`).
    let mut build = cxx_build::bridges(["src/ffi/shim.rs", "src/ffi/shim4.rs", "src/ffi/shim6.rs"]);
    for (name, value) in &instances {
        build.define(name, value.as_deref());
    }
    warn_on_boost_multi_index_mismatch(&kea, include);
    build.files(SHIM_SOURCES.iter().map(|f| shim_dir.join(f)));
    build
        .include(&shim_dir)
        .include(include)
        .includes(&compat)
        .std("c++17")
        .define("KEA_SHIM_HOOKS_VERSION", version.hooks_version.to_string().as_str());
    for flag in kea_search::QUIET_FLAGS {
        build.flag_if_supported(flag);
    }
    if let Err(e) = build.try_compile("kea_hooks_shim") {
        let compiler = || build.get_compiler().to_command();
        panic!("{}", explain_compile_failure(&compiler, &kea, &version, &e.to_string()));
    }

    for f in SHIM_SOURCES.iter().chain(SHIM_HEADERS) {
        println!("cargo:rerun-if-changed={}", shim_dir.join(f).display());
    }
    for f in COMPAT_HEADERS {
        println!("cargo:rerun-if-changed={}", compat_dir().join(f).display());
    }
    println!("cargo:rerun-if-changed=src/ffi/shim.rs");
    println!("cargo:rerun-if-changed=src/ffi/shim4.rs");
    println!("cargo:rerun-if-changed=src/ffi/shim6.rs");
    if let Some(lib) = &kea.lib {
        println!("cargo:rustc-link-search=native={}", lib.display());
    }
    for l in libs {
        println!("cargo:rustc-link-lib=dylib={l}");
    }
    println!("cargo:rustc-env=KEA_HOOKS_INCLUDE_DIR={}", include.display());
}

/// `kea_version.rs`: the release's constants, included by lib.rs.
fn write_version_rs(out: &Path, version: &KeaVersion) {
    fs::write(
        out.join("kea_version.rs"),
        format!(
            "/// `KEA_HOOKS_VERSION` of the Kea this crate was built against.\n\
             pub const KEA_HOOKS_VERSION: i32 = {};\n\
             /// The Kea release this crate was built against, as `\"major.minor.patch\"`.\n\
             pub const KEA_VERSION: &str = \"{version}\";\n",
            version.hooks_version
        ),
    )
    .unwrap();
}

/// The documentation build (`DOCS_RS`): no Kea headers, no C++ compile, no
/// link. Every release cfg is on so the documentation shows every item,
/// each marked with the release it needs, and `kea_docs` keeps those that
/// exist only before a release. The version constants name the newest
/// release with a cfg (a library built this way is not loadable anyway:
/// it has no shim).
fn docs_only(out: &Path) {
    for (major, minor) in CFG_RELEASES {
        println!("cargo:rustc-cfg=kea_{major}_{minor}");
    }
    println!("cargo:rustc-cfg=kea_docs");
    let (major, minor) = CFG_RELEASES[CFG_RELEASES.len() - 1];
    let version = KeaVersion::from_hooks_version(major * 10000 + minor * 100);
    // For dependents' build scripts, as in a real build (no include
    // directory: there is no Kea).
    println!("cargo:hooks_version={}", version.hooks_version);
    println!("cargo:version={version}");
    write_version_rs(out, &version);
}

/// After the shim failed to compile: preprocesses each prerequisite header
/// alone and names the files that are missing, with the package that has
/// them.
fn explain_compile_failure(compiler: &dyn Fn() -> Command, kea: &Kea, version: &KeaVersion, error: &str) -> String {
    let mut missing: Vec<(String, String)> = Vec::new(); // (file, package)
    let mut other: Vec<(&str, String)> = Vec::new(); // (header, first error)
    for (header, _) in prerequisites(version) {
        let Err(msg) = preprocess(compiler, header) else { continue };
        match missing_file(&msg) {
            Some(file) => {
                if !missing.iter().any(|(f, _)| *f == file) {
                    let package = package_for(&file, kea, version);
                    missing.push((file, package));
                }
            }
            None => {
                let first = msg.lines().find(|l| l.contains("error")).unwrap_or("").trim().to_owned();
                other.push((header, first));
            }
        }
    }
    let mut text = format!(
        "\n\nkea-hooks: the C++ shim did not compile against Kea {version} (found via {}, headers in {}).\n",
        kea.via,
        kea.include.display()
    );
    if !missing.is_empty() {
        let mut packages: Vec<&str> = missing.iter().map(|(_, p)| p.as_str()).filter(|p| !p.contains(' ')).collect();
        packages.sort();
        packages.dedup();
        text += "Missing headers:\n";
        let mut by_package: Vec<(&str, Vec<&str>)> = Vec::new();
        for (file, package) in &missing {
            match by_package.iter_mut().find(|(p, _)| p == package) {
                Some((_, files)) => files.push(file),
                None => by_package.push((package, vec![file])),
            }
        }
        for (package, files) in by_package {
            text += &format!("  {}: {package}\n", files.iter().map(|f| format!("<{f}>")).collect::<Vec<_>>().join(" "));
        }
        if !packages.is_empty() {
            text += &format!("Install: `apt-get install {}` (Debian/Ubuntu package names).\n", packages.join(" "));
        }
    }
    if !other.is_empty() {
        text += "Headers that fail for another reason:\n";
        for (h, first) in &other {
            text += &format!("  <{h}>: {first}\n");
        }
    }
    if missing.is_empty() && other.is_empty() {
        text += "Every prerequisite header is there: see the compiler's errors above.\n";
    }
    text + &format!("({error})\n\n")
}

/// The file a failed preprocessor run could not find (gcc: `fatal error:
/// FILE: No such file or directory`; clang: `fatal error: 'FILE' file not
/// found`).
fn missing_file(msg: &str) -> Option<String> {
    msg.lines().find_map(|line| {
        let rest = line.split("fatal error: ").nth(1)?;
        if let Some(file) = rest.strip_suffix(": No such file or directory") {
            return Some(file.trim().to_owned());
        }
        let file = rest.strip_suffix(" file not found")?;
        Some(file.trim().trim_matches('\'').to_owned())
    })
}

/// The Debian package that has `file`, as far as the shim's needs go.
fn package_for(file: &str, kea: &Kea, version: &KeaVersion) -> String {
    let top = file.split('/').next().unwrap_or(file);
    match top {
        "boost" => "libboost-dev".into(),
        "log4cplus" => "liblog4cplus-dev".into(),
        "openssl" => "libssl-dev".into(),
        "mysql" => "libmariadb-dev".into(),
        "libpq-fe.h" | "postgresql" => "libpq-dev".into(),
        _ if prerequisites(version).iter().any(|(h, _)| *h == file) && !kea.include.join("hooks/hooks.h").exists() => {
            "kea-dev".into()
        }
        _ => format!("a file Kea's headers include, missing from {} (incomplete kea-dev?)", kea.include.display()),
    }
}

/// Runs the shim's C++ compiler, with the shim's flags, as a preprocessor
/// on `#include <header>`.
fn preprocess(compiler: &dyn Fn() -> Command, header: &str) -> Result<(), String> {
    let mut cmd = compiler();
    cmd.args(["-E", "-x", "c++", "-o", "/dev/null", "-"]).stdin(Stdio::piped()).stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run the C++ compiler: {e}"))?;
    child.stdin.take().unwrap().write_all(format!("#include <{header}>\n").as_bytes()).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The directories the linker searches for Kea's libraries: `KEA_LIB_DIR`
/// (or the prefix's), `LIBRARY_PATH`, then the default ones.
fn lib_dirs(kea: &Kea) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = kea.lib.iter().cloned().collect();
    if let Some(paths) = env::var_os("LIBRARY_PATH") {
        dirs.extend(env::split_paths(&paths));
    }
    let ma = multiarch();
    for d in [format!("/usr/lib/{ma}"), format!("/lib/{ma}"), "/usr/lib".into(), "/lib".into(), "/usr/lib64".into(), "/usr/local/lib".into()] {
        dirs.push(PathBuf::from(d));
    }
    dirs
}

/// The file the linker will use for `-l{lib}`, if any.
fn find_lib(lib: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(format!("lib{lib}.so"))).find(|p| p.exists())
}

/// Warns (the link would fail later, less clearly) when a Kea library is
/// in none of the directories the linker searches by default.
fn check_libs(libs: &[&str], kea: &Kea, version: &KeaVersion) {
    let dirs = lib_dirs(kea);
    let missing: Vec<&str> = libs.iter().copied().filter(|l| find_lib(l, &dirs).is_none()).collect();
    if !missing.is_empty() {
        println!(
            "cargo:warning=kea-hooks: Kea {version} ({}): {} not found in {} (the unversioned .so links come with kea-dev); \
             linking will probably fail. Set KEA_LIB_DIR to the directory holding them.",
            kea.via,
            missing.iter().map(|l| format!("lib{l}.so")).collect::<Vec<_>>().join(", "),
            dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(":")
        );
    }
}

/// Warns when Kea was compiled with an older Boost.MultiIndex than the
/// headers found here: Boost 1.92 made `multi_index::tag<>` and
/// `composite_key<>` variadic, which changes the C++ type of every
/// container Kea keys by tags, so a hook argument holding one
/// (`cb4_updated`'s `audit_entries`, an `AuditEntryCollectionPtr`) is
/// another type to `boost::any` and cannot be fetched (`bad_any_cast`; seen
/// on Debian sid: Kea 3.0.4 built with Boost 1.90, libboost-dev 1.92).
/// No define brings the old `composite_key` back: the cure is the Boost
/// headers Kea was built with. Kea's form is read from the mangled names
/// in libkea-dhcpsrv (MPL-style `3tagIN...`, variadic `3tagIJ...`).
fn warn_on_boost_multi_index_mismatch(kea: &Kea, include: &Path) {
    let Some(path) = find_lib("kea-dhcpsrv", &lib_dirs(kea)) else { return };
    let Ok(bytes) = fs::read(&path) else { return };
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    let kea_old_form = has(b"3tagIN") && !has(b"3tagIJ");
    // Where the compiler looks first: -I/-isystem in CXXFLAGS, then
    // CPLUS_INCLUDE_PATH, Kea's include directory, the default ones.
    println!("cargo:rerun-if-env-changed=CXXFLAGS");
    println!("cargo:rerun-if-env-changed=CPLUS_INCLUDE_PATH");
    let mut dirs: Vec<PathBuf> = Vec::new();
    let flags = env::var("CXXFLAGS").unwrap_or_default();
    let mut words = flags.split_whitespace();
    while let Some(w) = words.next() {
        if w == "-isystem" || w == "-I" {
            dirs.extend(words.next().map(PathBuf::from));
        } else if let Some(d) = w.strip_prefix("-isystem").or_else(|| w.strip_prefix("-I")) {
            dirs.push(PathBuf::from(d));
        }
    }
    if let Some(paths) = env::var_os("CPLUS_INCLUDE_PATH") {
        dirs.extend(env::split_paths(&paths));
    }
    dirs.extend([include.to_path_buf(), PathBuf::from("/usr/local/include"), PathBuf::from("/usr/include")]);
    let boost_version = dirs
        .iter()
        .filter_map(|d| fs::read_to_string(d.join("boost/version.hpp")).ok())
        .find_map(|text| {
            text.lines().find_map(|l| l.strip_prefix("#define BOOST_VERSION ").and_then(|v| v.trim().parse::<u32>().ok()))
        });
    if let Some(v) = boost_version.filter(|&v| kea_old_form && v >= 109200) {
        println!(
            "cargo:warning=kea-hooks: Kea ({}) was built with a Boost older than 1.92, these Boost headers are {}.{}: \
             cb4_updated/cb6_updated's audit_entries() will fail (bad_any_cast). Build against the Boost headers Kea \
             was built with (Debian sid: libboost1.90-dev).",
            path.display(),
            v / 100000,
            v / 100 % 1000
        );
    }
}

/// The argument map's `find` (see "Kea's own template instances" in
/// shim.h), by its symbol (Itanium mangling, libstdc++'s C++11 ABI).
const ARGUMENT_FIND: &str =
    "_ZNKSt8_Rb_treeINSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEESt4pairIKS5_N5boost3anyEESt10_Select1stISA_ESt4lessIS5_ESaISA_EE4findERS7_";

/// The `CalloutHandle::getArgument<T>` instances the shim uses, by `T` as
/// the shim spells it and by symbol.
const GET_ARGUMENT: &[(&str, &str)] = &[
    (
        "isc::dhcp::Pkt4Ptr",
        "_ZNK3isc5hooks13CalloutHandle11getArgumentIN5boost10shared_ptrINS_4dhcp4Pkt4EEEEEvRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEERT_",
    ),
    (
        "isc::dhcp::Lease4Ptr",
        "_ZNK3isc5hooks13CalloutHandle11getArgumentIN5boost10shared_ptrINS_4dhcp6Lease4EEEEEvRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEERT_",
    ),
    (
        // (libkea-dhcpsrv exports it from 2.2 to 3.2; Kea exports no
        // instance for Pkt6Ptr, Subnet6Ptr or Lease6CollectionPtr.)
        "isc::dhcp::Lease6Ptr",
        "_ZNK3isc5hooks13CalloutHandle11getArgumentIN5boost10shared_ptrINS_4dhcp6Lease6EEEEEvRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEERT_",
    ),
    (
        "isc::dhcp::Subnet4Ptr",
        "_ZNK3isc5hooks13CalloutHandle11getArgumentIN5boost10shared_ptrINS_4dhcp7Subnet4EEEEEvRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEERT_",
    ),
    (
        "isc::dhcp::ConstSubnet4Ptr",
        "_ZNK3isc5hooks13CalloutHandle11getArgumentIN5boost10shared_ptrIKNS_4dhcp7Subnet4EEEEEvRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEERT_",
    ),
    (
        "isc::dhcp::Lease4CollectionPtr",
        "_ZNK3isc5hooks13CalloutHandle11getArgumentIN5boost10shared_ptrISt6vectorINS4_INS_4dhcp6Lease4EEESaIS8_EEEEEEvRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEERT_",
    ),
    (
        "bool",
        "_ZNK3isc5hooks13CalloutHandle11getArgumentIbEEvRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEERT_",
    ),
    (
        "std::uint32_t",
        "_ZNK3isc5hooks13CalloutHandle11getArgumentIjEEvRKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEERT_",
    ),
];

/// The template instances the Kea libraries this crate links export, as the
/// shim's macros: `KEA_SHIM_KEA_HAS_ARGUMENT_FIND` (no value) and
/// `KEA_SHIM_KEA_GET_ARGUMENT_TYPES` (`KEA_SHIM_GET_ARGUMENT(T) ...`). The symbols are read
/// with `nm -D` (`$NM` overrides). A reference the shim leaves to one of
/// them is resolved by the link, checked by `--no-undefined`, and at run time
/// by the same libraries. Without `nm` the shim uses its own copies (slower,
/// not wrong) and says so.
fn kea_instances(libs: &[&str], kea: &Kea) -> Vec<(&'static str, Option<String>)> {
    println!("cargo:rerun-if-env-changed=NM");
    let nm = env::var("NM").unwrap_or_else(|_| "nm".into());
    let dirs = lib_dirs(kea);
    let mut exported = std::collections::HashSet::new();
    for lib in libs {
        let Some(path) = find_lib(lib, &dirs) else { continue };
        println!("cargo:rerun-if-changed={}", path.display());
        match Command::new(&nm).args(["-D", "--defined-only"]).arg(&path).output() {
            Ok(out) if out.status.success() => {
                let text = String::from_utf8_lossy(&out.stdout);
                exported.extend(text.lines().filter_map(|l| l.split_whitespace().nth(2)).map(str::to_owned));
            }
            Ok(out) => {
                println!(
                    "cargo:warning=kea-hooks: `{nm} -D {}` failed ({}); the shim uses its own copies of Kea's \
                     argument templates",
                    path.display(),
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                return Vec::new();
            }
            Err(e) => {
                println!(
                    "cargo:warning=kea-hooks: cannot run `{nm}` ({e}; it comes with binutils); the shim uses its own \
                     copies of Kea's argument templates"
                );
                return Vec::new();
            }
        }
    }
    let mut macros = Vec::new();
    if exported.contains(ARGUMENT_FIND) {
        macros.push(("KEA_SHIM_KEA_HAS_ARGUMENT_FIND", None));
    }
    let types: Vec<String> =
        GET_ARGUMENT.iter().filter(|(_, sym)| exported.contains(*sym)).map(|(t, _)| format!("KEA_SHIM_GET_ARGUMENT({t})")).collect();
    if !types.is_empty() {
        macros.push(("KEA_SHIM_KEA_GET_ARGUMENT_TYPES", Some(types.join(" "))));
    }
    macros
}
