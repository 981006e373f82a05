//! `kea-hooks-check new PATH [--name NAME] [--sdk-path DIR]`: a new hook
//! crate to start from, made from the files in `check/template/` (real
//! files, embedded here, with `{{...}}` placeholders).
//!
//! The crate: a kea-dhcp4 hook (`src/lib.rs`), a test with the kit
//! `kea-hooks-test` that starts a real Kea with it (`tests/dhcp.rs`), a
//! Kea configuration with the library (`kea-dhcp4.json`), a Dockerfile
//! that builds it for a docker-kea image, a README. Its Cargo.toml names
//! `kea-hooks` and `kea-hooks-test` by version; `--sdk-path` adds a
//! `[patch.crates-io]` section pointing both at a checkout of this
//! repository. Without it the file ends in that section commented out, and
//! a `[patch.crates-io]` appended to it points both at any other source
//! (e.g. unpacked `.crate` files) without touching anything else.

use std::path::{Path, PathBuf};

/// The template's files: (path in the new crate, text).
const FILES: [(&str, &str); 8] = [
    ("Cargo.toml", include_str!("../template/Cargo.toml.in")),
    ("src/lib.rs", include_str!("../template/src/lib.rs")),
    ("tests/dhcp.rs", include_str!("../template/tests/dhcp.rs")),
    ("kea-dhcp4.json", include_str!("../template/kea-dhcp4.json")),
    ("Dockerfile", include_str!("../template/Dockerfile")),
    ("README.md", include_str!("../template/README.md")),
    (".gitignore", include_str!("../template/gitignore")),
    (".dockerignore", include_str!("../template/dockerignore")),
];

/// What `new` was asked for.
#[derive(Debug)]
pub struct Options {
    /// The crate's directory (created; must not exist or be empty).
    pub path: PathBuf,
    /// The package name; default: the directory's name.
    pub name: Option<String>,
    /// A checkout of this repository to take `kea-hooks` and
    /// `kea-hooks-test` from instead of the registry.
    pub sdk_path: Option<PathBuf>,
}

/// The names the template's placeholders stand for, from the package name.
#[derive(Debug, PartialEq, Eq)]
struct Names {
    /// `{{name}}`: the package, e.g. `dhcp-hello`.
    name: String,
    /// `{{lib}}`: the library, `dhcp_hello` (Kea's hooks are `libdhcp_*.so`).
    lib: String,
    /// `{{hook_name}}`: `Hook::NAME` and the logger's suffix, `hello`.
    hook_name: String,
    /// `{{Type}}`: the hook's type, `Hello`.
    type_name: String,
}

impl Names {
    /// Fails unless `name` is a package name that also makes a library
    /// name: ASCII letters, digits, `-` and `_`, starting with a letter.
    fn new(name: &str) -> Result<Names, String> {
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(format!(
                "{name:?} is not a usable package name: ASCII letters, digits, '-' and '_', starting with a letter (give --name)"
            ));
        }
        let name = name.to_ascii_lowercase();
        let snake = name.replace('-', "_");
        let lib = if snake.starts_with("dhcp_") { snake.clone() } else { format!("dhcp_{snake}") };
        let short = ["kea_hook_", "dhcp_"].iter().fold(snake.as_str(), |s, p| s.strip_prefix(p).filter(|r| !r.is_empty()).unwrap_or(s));
        let hook_name = short.replace('_', "-");
        let type_name: String = short
            .split('_')
            .filter(|w| !w.is_empty())
            .map(|w| {
                let mut c = w.chars();
                c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
            })
            .collect();
        // A type name must not start with a digit (`dhcp-4me` -> `4me`).
        let type_name = if type_name.starts_with(|c: char| c.is_ascii_digit()) { format!("Hook{type_name}") } else { type_name };
        Ok(Names { name, lib, hook_name, type_name })
    }
}

/// The `[patch.crates-io]` section for a checkout at `sdk` (absolute).
fn patch_section(sdk: &Path) -> String {
    // TOML basic strings: escape backslashes and quotes.
    let quote = |p: PathBuf| format!("\"{}\"", p.display().to_string().replace('\\', "\\\\").replace('"', "\\\""));
    format!(
        "\n# kea-hooks and kea-hooks-test from a checkout of the kea-hooks repository\n\
         # (`kea-hooks-check new --sdk-path`), not from the registry.\n\
         [patch.crates-io]\n\
         kea-hooks = {{ path = {} }}\n\
         kea-hooks-test = {{ path = {} }}\n",
        quote(sdk.join("hooks-sdk")),
        quote(sdk.join("tests/kit"))
    )
}

/// The commented-out `[patch.crates-io]` of a crate made without `--sdk-path`.
const PATCH_HINT: &str = "\n# To build against a checkout of the kea-hooks repository instead of the\n\
# registry (what `kea-hooks-check new --sdk-path DIR` writes):\n\
# [patch.crates-io]\n\
# kea-hooks = { path = \"../kea-hooks/hooks-sdk\" }\n\
# kea-hooks-test = { path = \"../kea-hooks/tests/kit\" }\n";

/// `text` with every placeholder replaced.
fn fill(text: &str, names: &Names, patch: &str) -> String {
    text.replace("{{name}}", &names.name)
        .replace("{{lib}}", &names.lib)
        .replace("{{hook_name}}", &names.hook_name)
        .replace("{{Type}}", &names.type_name)
        .replace("{{patch}}", patch)
}

/// Creates the crate; returns the files written, or why not.
pub fn create(opts: &Options) -> Result<Vec<PathBuf>, String> {
    let name = match &opts.name {
        Some(n) => n.clone(),
        None => opts
            .path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("{}: no directory name to take the package name from (give --name)", opts.path.display()))?
            .to_owned(),
    };
    let names = Names::new(&name)?;
    let patch = match &opts.sdk_path {
        None => PATCH_HINT.to_owned(),
        Some(dir) => {
            let dir = std::fs::canonicalize(dir).map_err(|e| format!("--sdk-path {}: {e}", dir.display()))?;
            for (what, file) in [("kea-hooks", "hooks-sdk/Cargo.toml"), ("kea-hooks-test", "tests/kit/Cargo.toml")] {
                if !dir.join(file).is_file() {
                    return Err(format!("--sdk-path {}: no {file}: not a checkout of the kea-hooks repository ({what})", dir.display()));
                }
            }
            patch_section(&dir)
        }
    };
    match std::fs::read_dir(&opts.path) {
        Ok(entries) => {
            if entries.count() > 0 {
                return Err(format!("{} exists and is not empty: give a new directory", opts.path.display()));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{}: {e}", opts.path.display())),
    }
    let mut written = Vec::new();
    for (file, text) in FILES {
        let to = opts.path.join(file);
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
        }
        std::fs::write(&to, fill(text, &names, &patch)).map_err(|e| format!("write {}: {e}", to.display()))?;
        written.push(to);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_kea_conventions() {
        let n = Names::new("dhcp-hello-world").unwrap();
        assert_eq!((n.lib.as_str(), n.hook_name.as_str(), n.type_name.as_str()), ("dhcp_hello_world", "hello-world", "HelloWorld"));
        let n = Names::new("My_Acl").unwrap();
        assert_eq!((n.name.as_str(), n.lib.as_str(), n.hook_name.as_str(), n.type_name.as_str()), ("my_acl", "dhcp_my_acl", "my-acl", "MyAcl"));
        let n = Names::new("kea-hook-4you").unwrap();
        assert_eq!((n.lib.as_str(), n.type_name.as_str()), ("dhcp_kea_hook_4you", "Hook4you"));
        assert_eq!(Names::new("dhcp").unwrap().type_name, "Dhcp");
        for bad in ["", "1hook", "a b", "ä", "a.b"] {
            assert!(Names::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn every_placeholder_is_filled() {
        let names = Names::new("dhcp-x").unwrap();
        for (file, text) in FILES {
            let out = fill(text, &names, &patch_section(Path::new("/sdk")));
            assert!(!out.contains("{{"), "{file} keeps a placeholder");
        }
        assert!(fill(FILES[0].1, &names, "").contains("kea-hooks = \"0.1\""));
    }

    #[test]
    fn the_crate_goes_only_into_a_new_or_empty_directory() {
        let dir = std::env::temp_dir().join(format!("kea-hooks-check-new-{}", std::process::id()));
        let opts = Options { path: dir.join("dhcp-t"), name: None, sdk_path: None };
        let files = create(&opts).unwrap();
        assert!(files.iter().any(|f| f.ends_with("tests/dhcp.rs")));
        let toml = std::fs::read_to_string(dir.join("dhcp-t/Cargo.toml")).unwrap();
        assert!(toml.contains("name = \"dhcp-t\"") && toml.contains("name = \"dhcp_t\"") && toml.contains("\n# [patch.crates-io]\n"), "{toml}");
        assert!(!toml.lines().any(|l| l.starts_with("[patch")), "{toml}");
        let err = create(&opts).unwrap_err();
        assert!(err.contains("not empty"), "{err}");
        let err = create(&Options { path: dir.join("y"), name: None, sdk_path: Some(dir.clone()) }).unwrap_err();
        assert!(err.contains("not a checkout"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
