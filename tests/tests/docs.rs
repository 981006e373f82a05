//! The documentation's links: every relative link in the repository's
//! Markdown files (the READMEs, docs/, CHANGELOG.md, BENCHMARKS.md) names a
//! file that exists and, with `#anchor`, a heading of it as GitHub makes
//! anchors (scripts/check-doc-links.py). Needs python3 and git, not root.

use std::process::Command;

#[test]
fn every_relative_link_and_anchor_in_the_markdown_files_resolves() {
    let root = kea_hooks_tests::workspace_root();
    let out = Command::new("python3")
        .arg(root.join("scripts/check-doc-links.py"))
        .arg(&root)
        .output()
        .expect("python3 runs scripts/check-doc-links.py (Debian package python3)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "broken links in the documentation:\n{text}{}", String::from_utf8_lossy(&out.stderr));
    // Not vacuous: the script found the links the READMEs have.
    let checked: usize = text
        .rsplit_once("check-doc-links: ")
        .and_then(|(_, tail)| tail.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no summary line from check-doc-links.py: {text}"));
    assert!(checked >= 40, "only {checked} relative links checked: {text}");
}
