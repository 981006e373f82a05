//! Builds the C++ half of `kea_hooks_test::unit` (cpp/unit.cc, bridged by
//! src/unit/ffi.rs) against the installed Kea, and links the test binaries
//! that use the kit with Kea's libraries.
//!
//! Kea is found by the SDK's own search, `kea_hooks_shim::kea::find` (the
//! build-dependency kea-hooks-shim, `cpp-shim/src/kea.rs`), first match
//! wins: `KEA_INCLUDE_DIR` (+ `KEA_LIB_DIR`), `KEA_PREFIX`, pkg-config's
//! `kea` (its variables only), `/usr/include/kea`, then
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

use kea_hooks_shim::kea::{self as kea_search, KeaVersion};

fn main() {
    println!("cargo:rerun-if-env-changed=DOCS_RS");
    println!("cargo::rustc-check-cfg=cfg(kea_unit_2_6)");
    println!("cargo:rerun-if-changed=cpp/unit.h");
    println!("cargo:rerun-if-changed=cpp/unit.cc");
    println!("cargo:rerun-if-changed=src/unit/ffi.rs");
    if env::var_os("DOCS_RS").is_some() {
        return;
    }
    // Prints cargo:rerun-if-env-changed for the variables it reads.
    let kea = kea_search::find("kea-hooks-test");
    let hooks_h = kea.hooks_h();
    println!("cargo:rerun-if-changed={}", hooks_h.display());
    let version = KeaVersion::from_hooks_version(kea_search::hooks_version("kea-hooks-test", &hooks_h));
    if version.at_least(2, 6) {
        // Kea 2.6+ passes the subnet to pkt4_send/pkt6_send.
        println!("cargo:rustc-cfg=kea_unit_2_6");
    }

    // Kea 2.2 from Debian: subnet.h's cfg_globals.h is missing; see the top.
    let compat = kea.compat_include();
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
        .define("KEA_UNIT_HOOKS_VERSION", version.hooks_version.to_string().as_str());
    for flag in kea_search::QUIET_FLAGS {
        build.flag_if_supported(flag);
    }
    if let Err(e) = build.try_compile("kea_hooks_test_unit") {
        panic!(
            "\n\nkea-hooks-test: the C++ half of `unit` did not compile against Kea's headers in {} \
             (Kea {version}, found via {}): {e}\nIt needs kea-dev, libboost-dev and liblog4cplus-dev \
             (and libssl-dev with Kea 3.0+).\n\n",
            kea.include.display(),
            kea.via
        );
    }
    if let Some(lib) = &kea.lib {
        println!("cargo:rustc-link-search=native={}", lib.display());
    }
    for l in [
        "kea-hooks",
        "kea-dhcpsrv",
        version.dhcp_lib(),
        "kea-log",
        "kea-cc",
        "kea-asiolink",
        "kea-util",
        "kea-exceptions",
    ] {
        println!("cargo:rustc-link-lib=dylib={l}");
    }
}
