//! What is published works where users get it: the crates as `cargo
//! package` makes them, unpacked, build new hook crates outside this
//! workspace, as users start them, and those crates' tests pass against a
//! real kea-dhcp4: the README's quickstart (its hook, its test with the
//! kit against a real Kea, its in-process unit tests), and the crate
//! `kea-hooks-check new` (built from its package) generates (its hook, its
//! test, its configuration checked by the packaged checker; and that test
//! fails when the hook loses its effect). And the SDK's documentation
//! builds on a machine without Kea (as on docs.rs).
//!
//! Both crates build in one target directory from the same unpacked
//! sources, so the SDK and the kit are compiled once for both.
//!
//! Cargo 1.85 (the MSRV entry of scripts/test-matrix.sh, Debian trixie's
//! cargo) cannot package crates that depend on each other before the first
//! is published (`cargo package --workspace` came later): there the
//! entry packages them first with the host's cargo and names the directory
//! in `KEA_TEST_PACKAGES`, and only the build and the Kea run use 1.85.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kea_hooks_tests::{require_root_and_kea, skip, target_dir, workspace_root, TestDir};

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
/// `into`; returns each one's source directory. Cargo stamps every file
/// of a package with one fixed old time, so files unpacked with their
/// times would always look older than an earlier build of that directory,
/// and cargo would reuse it after the sources changed. So each crate is
/// unpacked with the time of unpacking (`tar -m`) into a fresh directory,
/// which replaces the one under `into` unless that one holds the same
/// files: then it stays, times and all, and a rerun builds nothing again.
fn unpack(crates: &[PathBuf], into: &Path) -> Vec<PathBuf> {
    let fresh = into.with_extension("unpacking");
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh).unwrap_or_else(|e| panic!("{}: {e}", fresh.display()));
    }
    std::fs::create_dir_all(&fresh).unwrap();
    std::fs::create_dir_all(into).unwrap();
    let dirs = crates
        .iter()
        .map(|file| {
            run(Command::new("tar").arg("-xmzf").arg(file).arg("-C").arg(&fresh), "unpacking a .crate");
            let stem = file.file_name().unwrap().to_string_lossy().strip_suffix(".crate").unwrap().to_owned();
            let (new, dir) = (fresh.join(&stem), into.join(&stem));
            assert!(new.join("Cargo.toml").exists(), "{} has no {}/Cargo.toml", file.display(), new.display());
            let same = dir.exists() && Command::new("diff").arg("-rq").arg(&new).arg(&dir).output().expect("run diff").status.success();
            if !same {
                if dir.exists() {
                    std::fs::remove_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
                }
                std::fs::rename(&new, &dir).unwrap_or_else(|e| panic!("{} to {}: {e}", new.display(), dir.display()));
            }
            dir
        })
        .collect();
    std::fs::remove_dir_all(&fresh).unwrap_or_else(|e| panic!("{}: {e}", fresh.display()));
    dirs
}

/// The fenced block of `lang` that follows `marker` in `text`.
fn block_after<'a>(text: &'a str, marker: &str, lang: &str) -> &'a str {
    let at = text.find(marker).unwrap_or_else(|| panic!("README.md has no {marker:?}"));
    let fence = format!("```{lang}\n");
    let start = at + text[at..].find(&fence).unwrap_or_else(|| panic!("no ```{lang} block after {marker:?} in README.md")) + fence.len();
    let end = start + text[start..].find("```\n").expect("a closed block");
    &text[start..end]
}

/// The README's quickstart as a crate in `dir`: its `Cargo.toml` (plus the
/// dev-dependency and profile of "Testing your hook"), `src/lib.rs`,
/// `tests/dhcp.rs` (the kit and a real Kea) and `tests/unit.rs` (in
/// process), taken from README.md's code blocks as a reader copies them.
fn readme_quickstart_crate(dir: &Path) -> PathBuf {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let quickstart = &readme[readme.find("## Quickstart").expect("README.md has a Quickstart")..];
    let manifest = block_after(quickstart, "`Cargo.toml`:", "toml").to_owned()
        + "\n"
        + block_after(quickstart, "### Testing your hook", "toml");
    for dir in [dir.to_path_buf(), dir.join("src"), dir.join("tests")] {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    std::fs::write(dir.join("src/lib.rs"), block_after(quickstart, "`src/lib.rs`:", "rust")).unwrap();
    std::fs::write(dir.join("tests/dhcp.rs"), block_after(quickstart, "`tests/dhcp.rs`", "rust")).unwrap();
    std::fs::write(dir.join("tests/unit.rs"), block_after(quickstart, "#### Unit tests without a daemon", "rust")).unwrap();
    dir.to_path_buf()
}

/// Points crate `dir` at the unpacked `sources` instead of the registry
/// (`[patch.crates-io]`), makes it a workspace of its own, and seeds its
/// lock file with this workspace's, so that its registry dependencies are
/// the versions already downloaded and built here (the build is offline).
fn use_unpacked(dir: &Path, sources: &[PathBuf]) {
    let mut manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    if !manifest.lines().any(|l| l.trim() == "[workspace]") {
        manifest += "\n[workspace]\n";
    }
    manifest += "\n[patch.crates-io]\n";
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

/// `cargo test --offline ARGS` in `dir`, into the same target directories
/// as [`build_offline`], with `CI=true` so that its tests cannot pass by
/// skipping; exit success and the output.
fn cargo_test(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = cargo()
        .current_dir(dir)
        .args(["test", "--offline"])
        .args(args)
        .env("CARGO_TARGET_DIR", target_dir().join("packaged"))
        .env("CARGO_BUILD_BUILD_DIR", target_dir())
        // The kit's build_hook runs cargo again, inside the test.
        .env("CARGO_NET_OFFLINE", "true")
        .env("CI", "true")
        .env_remove("CARGO_MANIFEST_DIR")
        .output()
        .expect("run cargo test");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// The directory where the kit's `build_hook`, run by a test in a crate
/// built into `target`, put `lib<lib>.so`: the test binary's target
/// directory, which is `target`, or the build directory for cargo 1.91+.
fn built_dir(target: &Path, lib: &str) -> PathBuf {
    let candidates = [target.join("debug"), target_dir().join("debug")];
    candidates.iter().find(|d| d.join(format!("lib{lib}.so")).exists()).unwrap_or_else(|| panic!("no lib{lib}.so in {candidates:?}")).clone()
}

/// Asserts that the hook library `lib` was built from the unpacked SDK in
/// `sdk`, not this workspace's: cargo's dependency info names the sources.
fn assert_built_from(target: &Path, lib: &str, sdk: &Path) {
    let deps = std::fs::read_to_string(built_dir(target, lib).join(format!("lib{lib}.d"))).unwrap();
    let sdk = sdk.join("src/lib.rs");
    assert!(deps.contains(sdk.to_str().unwrap()), "lib{lib}.so was not built from {}:\n{deps}", sdk.display());
}

#[test]
fn the_readme_quickstart_and_a_generated_crate_build_from_the_packages_and_pass_their_tests_in_kea() {
    if !require_root_and_kea() {
        return;
    }
    let work = TestDir::new();
    let sources = unpack(&packaged_crates(), &target_dir().join("packaged/crates"));
    let packaged = target_dir().join("packaged");

    // The README's quickstart, as a reader copies it: the hook, its test
    // against a real Kea with the kit, its unit tests in process.
    let quickstart = readme_quickstart_crate(&work.path().join("dhcp-hello"));
    use_unpacked(&quickstart, &sources);
    let (ok, text) = cargo_test(&quickstart, &[]);
    assert!(ok, "the README quickstart's tests failed:\n{text}");
    for test in [
        "a_client_gets_a_lease_and_kea_logs_the_greeting",
        "lease4_select_goes_on_and_logs_the_greeting",
        "a_misspelt_parameter_is_refused_naming_it",
    ] {
        assert!(text.contains(&format!("test {test} ... ok")), "{test} did not pass:\n{text}");
    }
    assert_built_from(&packaged, "dhcp_hello", &sources[1]);

    // The packaged checker, built from its package, generates a crate
    // (`kea-hooks-check new`, dependencies by version, pointed at the
    // unpacked crates as a user's [patch] would), whose test passes in
    // Kea, and whose configuration it checks against the hook that test
    // built.
    let checker = build_offline(&sources[2], &["--bin", "kea-hooks-check"]).join("debug/kea-hooks-check");
    let generated = work.path().join("dhcp-template-check");
    let out = Command::new(&checker).arg("new").arg(&generated).output().expect("run the packaged kea-hooks-check new");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "kea-hooks-check new failed:\n{text}");
    for file in ["Cargo.toml", "src/lib.rs", "tests/dhcp.rs", "kea-dhcp4.json", "Dockerfile", "README.md", ".gitignore", ".dockerignore"] {
        assert!(generated.join(file).is_file(), "no {file}:\n{text}");
    }
    let toml = std::fs::read_to_string(generated.join("Cargo.toml")).unwrap();
    assert!(toml.contains("kea-hooks = \"0.1\"") && toml.contains("kea-hooks-test = \"0.1\""), "{toml}");
    let docker = std::fs::read_to_string(generated.join("Dockerfile")).unwrap();
    assert!(docker.contains("COPY --from=build /src/target/release/libdhcp_template_check.so /usr/local/lib/kea/hooks/"), "{docker}");
    let config: serde_json::Value = serde_json::from_slice(&std::fs::read(generated.join("kea-dhcp4.json")).unwrap()).unwrap();
    assert_eq!(config["Dhcp4"]["hooks-libraries"][0]["library"], "libdhcp_template_check.so");
    use_unpacked(&generated, &sources);
    let (ok, text) = cargo_test(&generated, &[]);
    assert!(ok, "the generated crate's tests failed:\n{text}");
    assert!(text.contains("test denied_clients_get_no_offer_and_the_others_a_logged_lease ... ok"), "{text}");
    assert!(text.contains("test tests::a_prefix_denies_every_address_under_it ... ok"), "{text}");
    assert_built_from(&packaged, "dhcp_template_check", &sources[1]);

    // The generated configuration's parameters are good for that hook (the
    // checker runs the hook's own parameter check), a misspelt one is not.
    let check = |config: &Path| {
        let built = built_dir(&packaged, "dhcp_template_check");
        let out = Command::new(&checker).arg("--hooks-dir").arg(built).arg(config).output().expect("run kea-hooks-check");
        (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
    };
    let (ok, text) = check(&generated.join("kea-dhcp4.json"));
    assert!(ok && text.contains("ok       libdhcp_template_check.so (template-check, built for Kea"), "{text}");
    let mut bad = config.clone();
    let params = bad["Dhcp4"]["hooks-libraries"][0]["parameters"].as_object_mut().expect("the generated library has parameters");
    let (name, value) = params.iter().next().map(|(k, v)| (k.clone(), v.clone())).expect("a parameter");
    params.remove(&name);
    params.insert(format!("{name}x"), value);
    let bad_file = work.path().join("bad-kea-dhcp4.json");
    std::fs::write(&bad_file, serde_json::to_vec_pretty(&bad).unwrap()).unwrap();
    let (ok, text) = check(&bad_file);
    assert!(!ok && text.contains(&format!("{name}x")), "a misspelt parameter passed the check: {text}");

    // Without its drop the hook has no effect: the generated test must
    // fail, saying so (it asserts something).
    let lib = generated.join("src/lib.rs");
    let source = std::fs::read_to_string(&lib).unwrap();
    let drop_line = "cx.set_next_step(NextStep::Drop)?;";
    assert!(source.contains(drop_line), "{source}");
    std::fs::write(&lib, source.replace(drop_line, "")).unwrap();
    let (ok, text) = cargo_test(&generated, &["--test", "dhcp"]);
    assert!(!ok, "the generated test passed with a hook that drops nothing:\n{text}");
    assert!(text.contains("a client under a deny prefix got an offer"), "it failed for another reason:\n{text}");
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
    let hook_crate = readme_quickstart_crate(&work.path().join("documented-hook"));
    use_unpacked(&hook_crate, &sources);
    // The kit is documented in its own unpacked directory, where its
    // build-dependency kea-hooks-shim must come from the unpacked sources too.
    use_unpacked(&sources[3], &sources);
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
