//! Builds the C++ half of `kea_hooks_test::unit` (cpp/unit.cc, bridged by
//! src/unit/ffi.rs) against the installed Kea, and links the test binaries
//! that use the kit with Kea's libraries.
//!
//! Kea is found the way the SDK's build script (hooks-sdk/build.rs) finds
//! it, first match wins: `KEA_INCLUDE_DIR` (+ `KEA_LIB_DIR`), `KEA_PREFIX`,
//! pkg-config's `kea` (its variables only), `/usr/include/kea`, then
//! `/usr/local/include/kea` with `/usr/local/lib`. The release is read from
//! `KEA_HOOKS_VERSION` in `hooks/hooks.h`; 3.0 renamed `libkea-dhcp++` to
//! `libkea-dhcp`.
//!
//! Kea's `dhcpsrv/subnet.h` (unit's subnets) includes
//! `dhcpsrv/cfg_globals.h`, which Debian's kea-dev 2.2 lacks: then the
//! stand-in of kea-hooks-shim (`compat_dir()`, the one the SDK uses) goes
//! on the include path.
//!
//! With `DOCS_RS` set nothing is compiled or linked, so the documentation
//! builds without Kea (a test binary would then fail to link).

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Kea {
    include: PathBuf,
    lib: Option<PathBuf>,
}

fn main() {
    for var in ["KEA_PREFIX", "KEA_INCLUDE_DIR", "KEA_LIB_DIR", "PKG_CONFIG", "PKG_CONFIG_PATH", "DOCS_RS"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo::rustc-check-cfg=cfg(kea_unit_2_6)");
    println!("cargo:rerun-if-changed=cpp/unit.h");
    println!("cargo:rerun-if-changed=cpp/unit.cc");
    println!("cargo:rerun-if-changed=src/unit/ffi.rs");
    if env::var_os("DOCS_RS").is_some() {
        return;
    }
    let kea = find_kea();
    let hooks_h = kea.include.join("hooks/hooks.h");
    println!("cargo:rerun-if-changed={}", hooks_h.display());
    let version = read_hooks_version(&hooks_h);
    if version >= 20600 {
        // Kea 2.6+ passes the subnet to pkt4_send/pkt6_send.
        println!("cargo:rustc-cfg=kea_unit_2_6");
    }

    // Kea 2.2 from Debian: subnet.h's cfg_globals.h is missing; see the top.
    let compat = (!kea.include.join("dhcpsrv/cfg_globals.h").exists()).then(kea_hooks_shim::compat_dir);
    for f in kea_hooks_shim::COMPAT_HEADERS {
        println!("cargo:rerun-if-changed={}", kea_hooks_shim::compat_dir().join(f).display());
    }

    let mut build = cxx_build::bridge("src/unit/ffi.rs");
    build
        .file("cpp/unit.cc")
        .include("cpp")
        .include(&kea.include)
        .includes(&compat)
        .std("c++17")
        .define("KEA_UNIT_HOOKS_VERSION", version.to_string().as_str())
        .flag_if_supported("-Wno-unused-parameter")
        .flag_if_supported("-Wno-deprecated-declarations")
        .flag_if_supported("-Wno-deprecated-copy")
        .flag_if_supported("-Wno-class-memaccess");
    if let Err(e) = build.try_compile("kea_hooks_test_unit") {
        panic!(
            "\n\nkea-hooks-test: the C++ half of `unit` did not compile against Kea's headers in {} \
             (KEA_HOOKS_VERSION {version}): {e}\nIt needs kea-dev, libboost-dev and liblog4cplus-dev \
             (and libssl-dev with Kea 3.0+).\n\n",
            kea.include.display()
        );
    }
    if let Some(lib) = &kea.lib {
        println!("cargo:rustc-link-search=native={}", lib.display());
    }
    for l in [
        "kea-hooks",
        "kea-dhcpsrv",
        if version >= 30000 { "kea-dhcp" } else { "kea-dhcp++" },
        "kea-log",
        "kea-cc",
        "kea-asiolink",
        "kea-util",
        "kea-exceptions",
    ] {
        println!("cargo:rustc-link-lib=dylib={l}");
    }
}

fn find_kea() -> Kea {
    if let Ok(dir) = env::var("KEA_INCLUDE_DIR") {
        return Kea { include: PathBuf::from(dir), lib: env::var("KEA_LIB_DIR").ok().map(PathBuf::from) };
    }
    if let Ok(prefix) = env::var("KEA_PREFIX") {
        let p = PathBuf::from(prefix);
        let candidates = [p.join("lib").join(multiarch()), p.join("lib64"), p.join("lib")];
        let lib = candidates.iter().find(|d| d.join("libkea-hooks.so").exists()).unwrap_or(&candidates[2]).clone();
        return Kea { include: p.join("include/kea"), lib: Some(lib) };
    }
    if let Some(kea) = from_pkg_config() {
        return kea;
    }
    for (inc, lib) in [("/usr/include/kea", None), ("/usr/local/include/kea", Some("/usr/local/lib"))] {
        if Path::new(inc).join("hooks/hooks.h").exists() {
            return Kea { include: PathBuf::from(inc), lib: lib.map(PathBuf::from) };
        }
    }
    panic!(
        "\n\nkea-hooks-test: Kea's development headers were not found (no `kea` for pkg-config, no \
         hooks/hooks.h in /usr/include/kea or /usr/local/include/kea). Debian/Ubuntu: `apt-get install \
         kea-dev libboost-dev liblog4cplus-dev libssl-dev`, or point KEA_PREFIX, or KEA_INCLUDE_DIR and \
         KEA_LIB_DIR, at the Kea you test with. (Set DOCS_RS=1 to build only the documentation.)\n\n"
    );
}

/// Debian's multiarch directory for the target, e.g. `x86_64-linux-gnu`.
fn multiarch() -> String {
    let arch = env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let env_ = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let arch = if arch == "x86" { "i386".to_owned() } else { arch };
    format!("{arch}-linux-{env_}")
}

/// Kea 3.0+ through pkg-config: only `--variable`s (Debian's `kea.pc`
/// requires -dev packages `--cflags` would need).
fn from_pkg_config() -> Option<Kea> {
    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into());
    let query = |args: &[&str]| -> Option<String> {
        let out = Command::new(&pkg_config).args(args).stderr(Stdio::null()).output().ok()?;
        let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
        (out.status.success() && !text.is_empty()).then_some(text)
    };
    let include = Path::new(&query(&["--variable=includedir", "kea"])?).join("kea");
    if !include.join("hooks/hooks.h").exists() {
        return None;
    }
    Some(Kea { include, lib: query(&["--variable=libdir", "kea"]).map(PathBuf::from) })
}

fn read_hooks_version(hooks_h: &Path) -> u32 {
    let text = std::fs::read_to_string(hooks_h)
        .unwrap_or_else(|e| panic!("kea-hooks-test: cannot read {}: {e}", hooks_h.display()));
    text.lines()
        .find_map(|line| {
            let rest = line.split("KEA_HOOKS_VERSION").nth(1)?;
            rest.split('=').nth(1)?.trim().trim_end_matches(';').trim().parse().ok()
        })
        .unwrap_or_else(|| panic!("kea-hooks-test: no `KEA_HOOKS_VERSION = N;` in {}", hooks_h.display()))
}
