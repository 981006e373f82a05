//! Reading a Kea configuration file as Kea's parsers read it: JSON with
//! comments (`#` and `//` to the end of the line, `/* ... */`) and
//! `<?include "PATH"?>` directives.
//!
//! What Kea does with a directive (its lexers, the same in every daemon,
//! 2.2 to 3.2): outside strings and comments, `<?`, then `include`, then
//! a path in double quotes (at least one character; neither `"` nor a
//! newline, and no escapes), then `?>`, with blanks and newlines allowed
//! between them. The file is opened with the path as written (`fopen`):
//! a relative path is relative to the daemon's current directory, not to
//! the including file. Its text takes the directive's place token by
//! token, so it may be any piece of JSON (a list element, say), and may
//! itself include files, with at most 11 includes open at once ("Too
//! many nested include."); a file that cannot be opened fails the
//! configuration ("Can't open include file"). A comment or a string
//! cannot continue past the end of the file it starts in.

use std::path::Path;

/// Kea's limit: an include is refused while this many are open.
const MAX_OPEN_INCLUDES: usize = 11;

/// Reads `path` and returns its JSON, comments removed and includes
/// expanded; the error names the file and line at fault.
pub fn read(path: &Path) -> Result<serde_json::Value, String> {
    let text = expand_file(path, 0, None)?;
    serde_json::from_str(&text).map_err(|e| {
        let note = if text_has_includes(path) { " (in the text with its includes expanded)" } else { "" };
        format!("not a Kea configuration: {e}{note}")
    })
}

fn text_has_includes(path: &Path) -> bool {
    std::fs::read_to_string(path).map(|t| t.contains("<?")).unwrap_or(false)
}

/// The text of `path` (opened `open` includes deep), expanded; `from`
/// names the file and line of the directive that included it.
fn expand_file(path: &Path, open: usize, from: Option<&str>) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| match from {
        Some(at) => format!("{at}: cannot open include file {}: {e}", path.display()),
        None => e.to_string(),
    })?;
    expand(&text, &path.display().to_string(), open)
}

/// `text` (of file `name`, with `open` includes open) with its comments
/// replaced by blanks (newlines kept, so that line numbers stay right in
/// a file without includes) and its include directives by the included
/// files' expanded text.
pub fn expand(text: &str, name: &str, open: usize) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while let Some(c) = chars.next() {
        match c {
            '\n' => {
                line += 1;
                out.push(c);
            }
            '"' => {
                out.push(c);
                while let Some(s) = chars.next() {
                    out.push(s);
                    match s {
                        '\\' => {
                            if let Some(e) = chars.next() {
                                out.push(e);
                            }
                        }
                        '"' => break,
                        '\n' => line += 1,
                        _ => {}
                    }
                }
            }
            '#' | '/' if c == '#' || chars.peek() == Some(&'/') => {
                // A line comment: to the end of the line.
                out.push(' ');
                while let Some(&s) = chars.peek() {
                    if s == '\n' {
                        break;
                    }
                    out.push(' ');
                    chars.next();
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let start = line;
                chars.next();
                out.push_str("  ");
                let mut prev = ' ';
                loop {
                    let Some(s) = chars.next() else {
                        return Err(format!("{name}:{start}: comment not closed (/* without */)"));
                    };
                    if s == '\n' {
                        line += 1;
                    }
                    out.push(blank(s));
                    if prev == '*' && s == '/' {
                        break;
                    }
                    prev = s;
                }
            }
            '<' if chars.peek() == Some(&'?') => {
                chars.next();
                let at = format!("{name}:{line}");
                let file = directive(&mut chars, &mut line).map_err(|e| format!("{at}: {e}"))?;
                if open >= MAX_OPEN_INCLUDES {
                    return Err(format!(
                        "{at}: too many nested includes (Kea refuses an include while {MAX_OPEN_INCLUDES} are open)"
                    ));
                }
                let included = expand_file(Path::new(&file), open + 1, Some(&at))?;
                // Keep tokens apart, as Kea's lexer does across files.
                out.push(' ');
                out.push_str(&included);
                out.push(' ');
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// Parses the rest of an include directive after its `<?`: the path.
fn directive(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, line: &mut usize) -> Result<String, String> {
    let mut skip_blanks = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        while let Some(&c) = chars.peek() {
            match c {
                ' ' | '\t' | '\r' => {}
                '\n' => *line += 1,
                _ => break,
            }
            chars.next();
        }
    };
    skip_blanks(chars);
    if !"include".chars().all(|want| chars.next() == Some(want)) {
        return Err("a <? directive that is not <?include \"file\"?> (the only one Kea knows)".into());
    }
    skip_blanks(chars);
    if chars.next() != Some('"') {
        return Err("<?include wants a file name in double quotes".into());
    }
    let mut file = String::new();
    loop {
        match chars.next() {
            Some('"') => break,
            Some('\n') | None => return Err("the include file name is not closed on its line".into()),
            Some(c) => file.push(c),
        }
    }
    if file.is_empty() {
        return Err("the include file name is empty".into());
    }
    skip_blanks(chars);
    if chars.next() != Some('?') || chars.next() != Some('>') {
        return Err(format!("<?include \"{file}\" is not closed with ?>"));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> std::path::PathBuf {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let d = std::env::temp_dir().join(format!("kea-hooks-check-config-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn comments_go_and_strings_stay() {
        let text = "{ # a comment\n \"a\": \"x // not # a comment <?include \\\"no\\\"?>\", // another\n /* block\n */ \"b\": \"q\\\"#\" }";
        let out = expand(text, "t", 0).unwrap();
        assert_eq!(out.lines().count(), text.lines().count());
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["a"], "x // not # a comment <?include \"no\"?>");
        assert_eq!(v["b"], "q\"#");
    }

    #[test]
    fn includes_nest_and_take_the_place_of_the_directive() {
        let d = dir();
        let (a, b) = (d.join("a.json"), d.join("b.json"));
        std::fs::write(&b, "# b\n{ \"library\": \"b.so\" }").unwrap();
        std::fs::write(&a, format!("{{ \"library\": \"a.so\" }}, <? include\n \"{}\" \t?> // a", b.display())).unwrap();
        let main = format!("{{ \"list\": [ <?include \"{}\"?>, 3 ] }}", a.display());
        let v: serde_json::Value = serde_json::from_str(&expand(&main, "main", 0).unwrap()).unwrap();
        assert_eq!(v["list"], serde_json::json!([{ "library": "a.so" }, { "library": "b.so" }, 3]));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn includes_fail_as_kea_fails_them() {
        let d = dir();
        let missing = d.join("missing.json");
        let e = expand(&format!("[\n<?include \"{}\"?>]", missing.display()), "main", 0).unwrap_err();
        assert!(e.starts_with("main:2: cannot open include file "), "{e}");
        for (text, want) in [
            ("<?inclde \"x\"?>", "not <?include"),
            ("<?include x?>", "double quotes"),
            ("<?include \"x\n\"?>", "not closed on its line"),
            ("<?include \"\"?>", "empty"),
            ("[ /* open", "comment not closed"),
        ] {
            let e = expand(text, "t", 0).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        // A file that includes itself: Kea stops at 11 open includes.
        let me = d.join("me.json");
        std::fs::write(&me, format!("<?include \"{}\"?>", me.display())).unwrap();
        let e = expand(&format!("<?include \"{}\"?>", me.display()), "main", 0).unwrap_err();
        assert!(e.contains("too many nested includes"), "{e}");
        // 11 levels are fine.
        let mut text = "7".to_owned();
        for i in 0..11 {
            let f = d.join(format!("l{i}.json"));
            std::fs::write(&f, &text).unwrap();
            text = format!("<?include \"{}\"?>", f.display());
        }
        assert_eq!(expand(&text, "main", 0).unwrap().trim(), "7");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
