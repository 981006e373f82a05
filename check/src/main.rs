//! `kea-hooks-check`: checks, before a Kea configuration is deployed, the
//! parameters of every hook library in it that was built with the
//! kea-hooks SDK.
//!
//! `kea-dhcp4 -t` never calls a hook library, so a misspelt parameter
//! passes it and fails only when Kea starts, or reloads (and a reload that
//! fails leaves Kea 2.2 not serving). This opens each library listed under
//! `hooks-libraries` (as Kea does, so one built for another Kea release
//! fails to open) and runs its parameter parsing and the hook's own
//! `Hook::check`, without registering anything or starting anything.
//! A hook's `check` runs every validation its `load` makes that needs no
//! running Kea (run-script: the script exists, is executable, and sits
//! where this Kea allows scripts; lease-stats: `listen` parses).
//!
//! The configuration is read as Kea reads it, comments and
//! `<?include "file"?>` directives included (see `config.rs`): a relative
//! include path is opened from the current directory, as Kea opens it
//! from its own.
//!
//! ```text
//! kea-hooks-check [--hooks-dir DIR] CONFIG...
//! kea-hooks-check --library LIB... [--kea-hooks-version N]
//! kea-hooks-check new PATH [--name NAME] [--sdk-path DIR]
//! ```
//!
//! `new` creates a hook crate to start from (see `new.rs`): a kea-dhcp4
//! hook, a test that starts a real Kea with it, a Kea configuration and
//! a Dockerfile for a docker-kea image.
//!
//! With `--library`, it checks hook library files themselves (any hook,
//! built with the SDK or not) against the Kea on this machine: each must
//! open as Kea opens it (all of Kea's libraries it was linked against are
//! here) and its `version()` must be this Kea's `KEA_HOOKS_VERSION`
//! (`--kea-hooks-version`, else read from `hooks/hooks.h` of the Kea
//! headers in `$KEA_PREFIX/include/kea`, `/usr/local/include/kea` or
//! `/usr/include/kea`). Kea itself refuses a library whose version differs;
//! the image build runs this so that one cannot end up in an image.
//!
//! Library names without a `/` (as Kea 3.x wants them) are looked up in
//! `--hooks-dir`, then `$KEA_HOOKS_PATH`, then the usual hooks directories.
//! Exit status: 0 when every SDK library's parameters are good (libraries
//! not built with the SDK are listed as skipped), 1 when any is not or a
//! library cannot be opened, 2 when a configuration cannot be read.

#![deny(unsafe_code)]

mod config;
#[allow(unsafe_code)]
mod dl;
mod new;

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::Value;

/// The top-level maps of the Kea daemons that load hook libraries.
const DAEMONS: [&str; 4] = ["Dhcp4", "Dhcp6", "Control-agent", "DhcpDdns"];

fn usage() -> ExitCode {
    eprintln!("usage: kea-hooks-check [--hooks-dir DIR] CONFIG...");
    eprintln!("       kea-hooks-check --library LIB... [--kea-hooks-version N]");
    eprintln!("       kea-hooks-check new PATH [--name NAME] [--sdk-path DIR]");
    ExitCode::from(2)
}

/// `new PATH [--name NAME] [--sdk-path DIR]`.
fn new_crate(mut args: impl Iterator<Item = std::ffi::OsString>) -> ExitCode {
    let (mut path, mut name, mut sdk_path) = (None, None, None);
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("--name") => match args.next().and_then(|n| n.into_string().ok()) {
                Some(n) => name = Some(n),
                None => return usage(),
            },
            Some("--sdk-path") => match args.next() {
                Some(d) => sdk_path = Some(PathBuf::from(d)),
                None => return usage(),
            },
            Some(s) if s.starts_with('-') => return usage(),
            _ if path.is_none() => path = Some(PathBuf::from(a)),
            _ => return usage(),
        }
    }
    let Some(path) = path else { return usage() };
    match new::create(&new::Options { path: path.clone(), name, sdk_path }) {
        Ok(files) => {
            for f in files {
                println!("  created  {}", f.display());
            }
            println!("next: cd {} && cargo build --release && sudo -E env \"PATH=$PATH\" cargo test", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kea-hooks-check new: {e}");
            ExitCode::from(2)
        }
    }
}

fn main() -> ExitCode {
    let mut hooks_dirs = Vec::new();
    let mut configs = Vec::new();
    let mut libraries = Vec::new();
    let mut expect: Option<i32> = None;
    let mut args = std::env::args_os().skip(1).peekable();
    if args.peek().is_some_and(|a| a == "new") {
        args.next();
        return new_crate(args);
    }
    while let Some(a) = args.next() {
        match a.to_str() {
            Some("--hooks-dir") => match args.next() {
                Some(d) => hooks_dirs.push(PathBuf::from(d)),
                None => return usage(),
            },
            Some("--library") => match args.next() {
                Some(l) => libraries.push(PathBuf::from(l)),
                None => return usage(),
            },
            Some("--kea-hooks-version") => match args.next().and_then(|v| v.to_str()?.parse().ok()) {
                Some(v) => expect = Some(v),
                None => return usage(),
            },
            Some("-h" | "--help") => {
                println!("usage: kea-hooks-check [--hooks-dir DIR] CONFIG...");
                println!("       kea-hooks-check --library LIB... [--kea-hooks-version N]");
                println!("       kea-hooks-check new PATH [--name NAME] [--sdk-path DIR]");
                println!("Checks the parameters of the kea-hooks libraries in Kea configuration files;");
                println!("`new` creates a hook crate to start from (hook, Kea test, configuration, Dockerfile).");
                return ExitCode::SUCCESS;
            }
            Some(s) if s.starts_with('-') => return usage(),
            _ => configs.push(PathBuf::from(a)),
        }
    }
    if !libraries.is_empty() {
        if !configs.is_empty() {
            return usage();
        }
        return check_libraries(&libraries, expect);
    }
    if configs.is_empty() {
        return usage();
    }
    if let Some(p) = std::env::var_os("KEA_HOOKS_PATH") {
        hooks_dirs.push(PathBuf::from(p));
    }
    let multiarch = format!("{}-linux-gnu", std::env::consts::ARCH);
    hooks_dirs.push(PathBuf::from("/usr/local/lib/kea/hooks"));
    hooks_dirs.push(PathBuf::from(format!("/usr/lib/{multiarch}/kea/hooks")));
    hooks_dirs.push(PathBuf::from("/usr/lib/kea/hooks"));

    let mut errors = 0;
    for config in &configs {
        println!("{}", config.display());
        let value = match config::read(config) {
            Ok(v) => v,
            Err(e) => {
                eprintln!("kea-hooks-check: {}: {e}", config.display());
                return ExitCode::from(2);
            }
        };
        let mut any = false;
        for daemon in DAEMONS {
            let Some(list) = value.get(daemon).and_then(|d| d.get("hooks-libraries")) else { continue };
            let Some(list) = list.as_array() else {
                println!("  error    {daemon}: hooks-libraries is not a list");
                errors += 1;
                continue;
            };
            for (i, entry) in list.iter().enumerate() {
                any = true;
                errors += u32::from(!check_entry(daemon, i, entry, &hooks_dirs));
            }
        }
        if !any {
            println!("  (no hooks-libraries)");
        }
    }
    match errors {
        0 => ExitCode::SUCCESS,
        n => {
            println!("{n} error{}", if n == 1 { "" } else { "s" });
            ExitCode::from(1)
        }
    }
}

/// Checks one `hooks-libraries` entry and prints one line; false on error.
fn check_entry(daemon: &str, index: usize, entry: &Value, hooks_dirs: &[PathBuf]) -> bool {
    let Some(library) = entry.get("library").and_then(Value::as_str) else {
        println!("  error    {daemon} hooks-libraries[{index}]: no \"library\"");
        return false;
    };
    let Some(path) = resolve(library, hooks_dirs) else {
        println!("  error    {library}: not found (looked in {})", join_dirs(hooks_dirs));
        return false;
    };
    let lib = match dl::Library::open(&path) {
        Ok(l) => l,
        Err(e) => {
            println!("  error    {library}: cannot be opened (built for another Kea release?): {e}");
            return false;
        }
    };
    let json = match entry.get("parameters") {
        None => String::new(),
        Some(p) => p.to_string(),
    };
    match lib.check(&json) {
        dl::Outcome::NotSdk => {
            let version = lib.hooks_version().map_or_else(String::new, |v| format!(" (hooks API {v})"));
            println!("  skipped  {library}{version}: not built with kea-hooks");
            true
        }
        dl::Outcome::Report { code, report } => {
            let r: Value = serde_json::from_str(&report).unwrap_or(Value::Null);
            let hook = r["hook"].as_str().unwrap_or("?");
            let kea = r["kea"].as_str().unwrap_or("?");
            match (code, r["error"].as_str()) {
                (0, _) => {
                    println!("  ok       {library} ({hook}, built for Kea {kea})");
                    true
                }
                (_, Some(e)) => {
                    println!("  error    {library} ({hook}): {e}");
                    false
                }
                (2, None) => {
                    println!("  error    {library} ({hook}): the parameters are not UTF-8");
                    false
                }
                (c, None) => {
                    println!("  error    {library} ({hook}): the check failed (code {c}) with no report");
                    false
                }
            }
        }
    }
}

/// `KEA_HOOKS_VERSION` of the Kea headers on this machine.
fn headers_version() -> Result<(i32, PathBuf), String> {
    let mut dirs = Vec::new();
    if let Some(p) = std::env::var_os("KEA_PREFIX") {
        dirs.push(PathBuf::from(p).join("include/kea"));
    }
    dirs.push(PathBuf::from("/usr/local/include/kea"));
    dirs.push(PathBuf::from("/usr/include/kea"));
    for d in &dirs {
        let h = d.join("hooks/hooks.h");
        let Ok(text) = std::fs::read_to_string(&h) else { continue };
        // `const int KEA_HOOKS_VERSION = 20603;`
        let v = text.lines().find_map(|l| {
            let rest = l.split("KEA_HOOKS_VERSION").nth(1)?;
            rest.trim_start().strip_prefix('=')?.trim().trim_end_matches(';').trim().parse().ok()
        });
        if let Some(v) = v {
            return Ok((v, h));
        }
    }
    Err(format!("no Kea headers with KEA_HOOKS_VERSION in {}: give --kea-hooks-version", join_dirs(&dirs)))
}

/// `--library`: each library opens here and its `version()` is Kea's.
fn check_libraries(libraries: &[PathBuf], expect: Option<i32>) -> ExitCode {
    let (want, from) = match expect {
        Some(v) => (v, "--kea-hooks-version".to_owned()),
        None => match headers_version() {
            Ok((v, h)) => (v, h.display().to_string()),
            Err(e) => {
                eprintln!("kea-hooks-check: {e}");
                return ExitCode::from(2);
            }
        },
    };
    println!("libraries for Kea hooks API {want} (from {from})");
    let mut errors = 0;
    for path in libraries {
        let name = path.display();
        let lib = match dl::Library::open(path) {
            Ok(l) => l,
            Err(e) => {
                println!("  error    {name}: cannot be opened (built for another Kea release?): {e}");
                errors += 1;
                continue;
            }
        };
        match lib.hooks_version() {
            Some(v) if v == want => println!("  ok       {name} (hooks API {v})"),
            Some(v) => {
                println!("  error    {name}: built for Kea hooks API {v}, not {want}: Kea would refuse to load it");
                errors += 1;
            }
            None => {
                println!("  error    {name}: no version(): not a Kea hook library");
                errors += 1;
            }
        }
    }
    match errors {
        0 => ExitCode::SUCCESS,
        n => {
            println!("{n} error{}", if n == 1 { "" } else { "s" });
            ExitCode::from(1)
        }
    }
}

fn join_dirs(dirs: &[PathBuf]) -> String {
    dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// Where Kea would find `library`: as given when it has a `/`, else in the
/// hooks directories.
fn resolve(library: &str, hooks_dirs: &[PathBuf]) -> Option<PathBuf> {
    if library.contains('/') {
        let p = PathBuf::from(library);
        return p.exists().then_some(p);
    }
    hooks_dirs.iter().map(|d| d.join(library)).find(|p| p.exists())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_are_looked_up_in_the_hooks_dirs() {
        let dir = std::env::temp_dir();
        let name = format!("kea-hooks-check-test-{}.so", std::process::id());
        std::fs::write(dir.join(&name), b"").unwrap();
        assert_eq!(resolve(&name, &[PathBuf::from("/nonexistent"), dir.clone()]), Some(dir.join(&name)));
        assert_eq!(resolve("/nonexistent/lib.so", std::slice::from_ref(&dir)), None);
        std::fs::remove_file(dir.join(&name)).unwrap();
    }
}
