//! What is published works where users get it: the crates as `cargo
//! package` makes them, unpacked, build a new hook crate outside this
//! workspace that a real kea-dhcp4 loads and serves a client through, and
//! the packaged checker checks that hook's parameters; and the SDK's
//! documentation builds on a machine without Kea (as on docs.rs).
//!
//! Cargo 1.85 (the MSRV entry of scripts/test-matrix.sh, Debian trixie's
//! cargo) cannot package crates that depend on each other before the first
//! is published (`cargo package --workspace` came later): there the
//! entry packages them first with the host's cargo and names the directory
//! in `KEA_TEST_PACKAGES`, and only the build and the Kea run use 1.85.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use kea_hooks_tests::{dhclient, require_root_and_kea, skip, target_dir, workspace_root, KeaConfig, NetPair, TestDir};
use serde_json::json;

/// The crates that are published, in dependency order.
const PUBLISHED: &[&str] = &["kea-hooks-shim", "kea-hooks", "kea-hooks-check", "kea-hooks-test"];

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Runs `cmd`, panicking with its output (and `what`) unless it succeeds.
fn run(cmd: &mut Command, what: &str) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}): {cmd:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The `.crate` file of package `name` in `dir` (`name-<version>.crate`).
fn crate_file(dir: &Path, name: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let file = p.file_name().unwrap().to_string_lossy();
            file.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('-'))
                .and_then(|rest| rest.strip_suffix(".crate"))
                .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
        })
        .collect();
    assert_eq!(found.len(), 1, "one {name}-<version>.crate in {}: {found:?}", dir.display());
    found.into_iter().next().unwrap()
}

/// The `.crate` files of [`PUBLISHED`]: from the directory
/// `KEA_TEST_PACKAGES` names, else made here by `cargo package` (without
/// its verify build: the unpacked crates are built below, as users build
/// them), offline, into `<target>/packaging/package/`; once per process.
fn packaged_crates() -> Vec<PathBuf> {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let dir = DIR.get_or_init(|| match std::env::var_os("KEA_TEST_PACKAGES") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let target = target_dir().join("packaging");
            let mut cmd = cargo();
            cmd.current_dir(workspace_root()).args(["package", "--offline", "--no-verify", "--allow-dirty", "--quiet"]);
            for name in PUBLISHED {
                cmd.args(["-p", name]);
            }
            cmd.arg("--target-dir").arg(&target);
            run(&mut cmd, "cargo package (cargo 1.89 or later; older ones need KEA_TEST_PACKAGES, see this file's header)");
            target.join("package")
        }
    });
    PUBLISHED.iter().map(|name| crate_file(dir, name)).collect()
}

/// Unpacks `.crate` files (gzip'd tar files of `<name>-<version>/`) into
/// `into`, emptied first; returns each one's source directory. (A
/// directory under the target directory: a rerun finds the files unchanged,
/// the archives keep their times, so cargo builds them again only when
/// they changed.)
fn unpack(crates: &[PathBuf], into: &Path) -> Vec<PathBuf> {
    if into.exists() {
        std::fs::remove_dir_all(into).unwrap_or_else(|e| panic!("{}: {e}", into.display()));
    }
    std::fs::create_dir_all(into).unwrap();
    crates
        .iter()
        .map(|file| {
            run(Command::new("tar").arg("-xzf").arg(file).arg("-C").arg(into), "unpacking a .crate");
            let stem = file.file_name().unwrap().to_string_lossy().strip_suffix(".crate").unwrap().to_owned();
            let dir = into.join(stem);
            assert!(dir.join("Cargo.toml").exists(), "{} has no {}/Cargo.toml", file.display(), dir.display());
            dir
        })
        .collect()
}

/// The lib name of the hook [`new_hook_crate`] makes.
const HOOK_LIB: &str = "dhcp_packaged_hook";

/// Creates a hook crate as a user starts one, in `dir` (outside this
/// workspace): a `cdylib` that
/// depends on `kea-hooks` by version (from the registry, as far as it
/// knows) and on the kit for its tests, with a `greeting` parameter that it
/// logs at `pkt4_send` with the address the client gets. Returns `dir`.
fn new_hook_crate(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = format!(
        r#"[package]
name = "packaged-hook"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
name = "{HOOK_LIB}"
crate-type = ["cdylib"]

[dependencies]
kea-hooks = "0.1"
serde = {{ version = "1", features = ["derive"] }}
tracing = "0.1"

[dev-dependencies]
kea-hooks-test = "0.1"
"#
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    let lib = r#"//! A hook built from the published kea-hooks.
use kea_hooks::prelude::*;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    greeting: String,
}

struct Greeter {
    greeting: String,
}

impl Hook for Greeter {
    const NAME: &'static str = "packaged";
    type Params = Params;
    fn load(params: Params, _cx: &LoadContext) -> Result<Self, Error> {
        Ok(Greeter { greeting: params.greeting })
    }
}

impl Callout<dhcp4::Pkt4Send> for Greeter {
    fn call(&self, cx: &Context<'_, dhcp4::Pkt4Send>) -> Result<(), Error> {
        let response = cx.response()?;
        tracing::info!(yiaddr = %response.yiaddr(), "{}", self.greeting);
        Ok(())
    }
}

kea_hooks::kea_hook!(Greeter);
"#;
    std::fs::write(dir.join("src/lib.rs"), lib).unwrap();
    dir.to_path_buf()
}

/// Points crate `dir` at the unpacked `sources` instead of the registry
/// (`[patch.crates-io]`), makes it a workspace of its own, and seeds its
/// lock file with this workspace's, so that its registry dependencies are
/// the versions already downloaded and built here (the build is offline).
fn use_unpacked(dir: &Path, sources: &[PathBuf]) {
    let mut manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    manifest += "\n[workspace]\n\n[patch.crates-io]\n";
    for (name, source) in PUBLISHED.iter().zip(sources) {
        manifest += &format!("{name} = {{ path = {:?} }}\n", source.to_str().unwrap());
    }
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::copy(workspace_root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
}

/// `cargo build --offline` of `manifest_dir`'s package. Final artifacts go
/// to `<target>/packaged/`; the intermediate ones (`build-dir`, cargo
/// 1.91+; older cargos ignore it and build everything there) to this
/// workspace's target directory, so registry dependencies are not built
/// again. Returns the target directory.
fn build_offline(manifest_dir: &Path, args: &[&str]) -> PathBuf {
    let target = target_dir().join("packaged");
    run(
        cargo()
            .current_dir(manifest_dir)
            .args(["build", "--offline", "--quiet"])
            .args(args)
            .env("CARGO_TARGET_DIR", &target)
            .env("CARGO_BUILD_BUILD_DIR", target_dir()),
        &format!("cargo build in {}", manifest_dir.display()),
    );
    target
}

#[test]
fn a_hook_built_from_the_packaged_crates_serves_a_client_in_kea() {
    if !require_root_and_kea() {
        return;
    }
    let work = TestDir::new();
    let sources = unpack(&packaged_crates(), &target_dir().join("packaged/crates"));
    let hook_crate = new_hook_crate(&work.path().join("packaged-hook"));
    use_unpacked(&hook_crate, &sources);
    let target = build_offline(&hook_crate, &["--lib"]);
    let built = target.join("debug").join(format!("lib{HOOK_LIB}.so"));
    assert!(built.exists(), "{} was not built", built.display());
    // The crates that went into it are the unpacked ones, not this
    // workspace's: cargo's dependency info names their sources.
    let deps = std::fs::read_to_string(target.join("debug").join(format!("lib{HOOK_LIB}.d"))).unwrap();
    let sdk = sources[1].join("src/lib.rs");
    assert!(deps.contains(sdk.to_str().unwrap()), "the hook was not built from {}:\n{deps}", sdk.display());

    // The packaged checker, built from its package, checks the hook's
    // parameters in a Kea configuration: the good ones pass, a misspelt
    // one fails.
    let checker_dir = &sources[2];
    let checker = build_offline(checker_dir, &["--bin", "kea-hooks-check"]).join("debug/kea-hooks-check");
    // The kit builds from its package too.
    build_offline(&sources[3], &["--lib"]);

    let pair = NetPair::new();
    let mut cfg = KeaConfig::new(&pair).logger("kea-dhcp4.packaged", "INFO", 0);
    let hook = cfg.dir().join(format!("lib{HOOK_LIB}.so"));
    std::fs::copy(&built, &hook).unwrap();
    cfg = cfg.hook(&hook, Some(json!({ "greting": "hello" })));
    let out = Command::new(&checker).arg(cfg.write_file()).output().expect("run the packaged kea-hooks-check");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success() && text.contains("greting"), "a misspelt parameter passed the check: {text}");
    cfg.set_hook_parameters(0, json!({ "greeting": "hello from the published crates" }));
    run(Command::new(&checker).arg(cfg.write_file()), "the packaged kea-hooks-check on good parameters");

    let kea = cfg.start(&pair).expect("kea starts with the hook");
    let addr = dhclient(&pair, Duration::from_secs(15)).expect("the client gets an address through the hook");
    let needle = format!("yiaddr={addr}");
    assert!(kea.wait_for_log(&needle, Duration::from_secs(5)), "the hook did not log the ACK's address {addr}:\n{}", kea.log());
    let log = kea.log();
    assert!(
        log.lines().any(|l| l.contains("kea-dhcp4.packaged") && l.contains("hello from the published crates") && l.contains(&needle)),
        "{log}"
    );
}

/// The directories Kea's headers may be in (Debian's, a source build's).
const KEA_INCLUDE_DIRS: &[&str] = &["/usr/include/kea", "/usr/local/include/kea"];

/// The documentation of the packaged kea-hooks and kea-hooks-test, as
/// docs.rs builds it (`DOCS_RS` set, no Kea), of a hook crate's
/// dependencies.
#[test]
fn the_sdk_documentation_builds_without_kea() {
    if !is_root() {
        skip("skipping the_sdk_documentation_builds_without_kea (needs root for unshare --mount)");
        return;
    }
    let target = target_dir().join("docs-without-kea");
    let work = TestDir::new();
    let sources = unpack(&packaged_crates(), &target.join("crates"));
    let hook_crate = new_hook_crate(&work.path().join("documented-hook"));
    use_unpacked(&hook_crate, &sources);
    // In a private mount namespace, empty tmpfs over Kea's include
    // directories, no pkg-config `kea`, no KEA_* variables: no Kea to be
    // found. First the control (without DOCS_RS the build script fails:
    // this really is a machine without Kea), then the documentation.
    // Intermediate files go to this workspace's target directory, whose
    // build scripts and proc-macros are built already; these unpacked
    // crates' own are apart from the workspace's and the other test's.
    let mut mounts = String::new();
    for dir in KEA_INCLUDE_DIRS {
        if Path::new(dir).is_dir() {
            mounts += &format!("mount -t tmpfs none {dir} && ");
        }
    }
    let script = format!(
        "{mounts}test ! -e /usr/include/kea/hooks/hooks.h && test ! -e /usr/local/include/kea/hooks/hooks.h && \
         ! \"$CARGO\" check --offline --quiet -p kea-hooks 2>\"$CONTROL\" && \
         DOCS_RS=1 \"$CARGO\" doc --offline --quiet --no-deps -p kea-hooks && \
         cd \"$KIT\" && DOCS_RS=1 \"$CARGO\" doc --offline --quiet --no-deps"
    );
    let control_file = work.path().join("control.txt");
    // No page of an earlier run may stand in for this one's.
    let doc = target.join("doc");
    if doc.exists() {
        std::fs::remove_dir_all(&doc).unwrap();
    }
    run(
        Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .current_dir(&hook_crate)
            .env("CARGO", std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .env("CARGO_TARGET_DIR", &target)
            .env("CARGO_BUILD_BUILD_DIR", target_dir())
            .env("CONTROL", &control_file)
            // (A dev-dependency cannot be `cargo doc -p`'d: the kit is
            // documented in its own unpacked directory.)
            .env("KIT", &sources[3])
            .env("PKG_CONFIG", "false")
            .env_remove("KEA_PREFIX")
            .env_remove("KEA_INCLUDE_DIR")
            .env_remove("KEA_LIB_DIR")
            .env_remove("DOCS_RS"),
        "the documentation build without Kea",
    );
    let control = std::fs::read_to_string(&control_file).unwrap();
    assert!(control.contains("Kea's development headers were not found"), "the control build failed for another reason:\n{control}");

    let page = |path: &str| -> String {
        std::fs::read_to_string(doc.join(path)).unwrap_or_else(|e| panic!("{}: {e}", doc.join(path).display()))
    };
    assert!(page("kea_hooks_test/index.html").contains("KeaConfig"));
    // Items of later releases are there, marked with the release.
    let offer = page("kea_hooks/dhcp4/enum.Lease4Offer.html");
    assert!(offer.contains("<strong>Kea 2.6+.</strong>"), "lease4_offer's page lacks its release:\n{offer}");
    let register = page("kea_hooks/dhcp6/enum.Addr6Register.html");
    assert!(register.contains("<strong>Kea 3.0+.</strong>"), "addr6_register's page lacks its release:\n{register}");
    // Both names of the classes evaluated after subnet selection: 2.x's
    // "required" and 3.0's "additional".
    let pkt4 = page("kea_hooks/dhcp4/struct.Pkt4.html");
    for (item, release) in [("method.required_classes", "Kea before 3.0."), ("method.additional_classes", "Kea 3.0+.")] {
        let at = pkt4.find(&format!("id=\"{item}\"")).unwrap_or_else(|| panic!("Pkt4 has no {item}"));
        let section = &pkt4[at..(at + 2000).min(pkt4.len())];
        assert!(section.contains(&format!("<strong>{release}</strong>")), "{item} is not marked {release}: {section}");
    }
}

/// Whether this process runs as root.
fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Uid:").map(|v| v.split_whitespace().nth(1) == Some("0"))))
        .unwrap_or(false)
}
