#!/usr/bin/env python3
"""Checks every relative link in the repository's Markdown files: the file
(or directory) it names must exist, and its `#anchor`, if any, must be a
heading of that file as GitHub names it (lower case, punctuation dropped,
spaces as `-`, `-1`, `-2`... for repeats). Links to other sites are not
fetched. Prints each broken link as FILE:LINE: TARGET: WHY and exits 1 when
there is one.

    scripts/check-doc-links.py [ROOT]
"""

import os
import re
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), ".."))

# [text](target) or [text](target "title"); images too. Text may hold
# backticks and brackets one level deep.
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*(```|~~~)")


def markdown_files():
    """The Markdown files of the checkout: every *.md outside hidden
    directories, build output (target*) and vendored crates (vendor/)."""
    found = []
    for top, dirs, files in os.walk(ROOT):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not d.startswith("target") and d != "vendor")
        found += [os.path.relpath(os.path.join(top, f), ROOT) for f in files if f.endswith(".md")]
    return sorted(found)


def lines_outside_code(text):
    """(line number, line) for each line outside fenced code, inline code blanked."""
    fenced = False
    for n, line in enumerate(text.split("\n"), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            yield n, re.sub(r"`[^`]*`", lambda m: " " * len(m.group(0)) if "](" not in m.group(0) else m.group(0), line)


def slug(heading):
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links: their text
    text = re.sub(r"<[^>]+>", "", text)                          # inline HTML
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)                         # keeps letters, digits, _, -, space
    return text.replace(" ", "-")


_anchors = {}


def anchors(path):
    """Every anchor GitHub gives the headings of Markdown file `path`."""
    if path not in _anchors:
        seen = {}
        found = set()
        fenced = False
        for line in open(path, encoding="utf-8").read().split("\n"):
            if FENCE.match(line):
                fenced = not fenced
                continue
            m = None if fenced else re.match(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$", line)
            if m:
                base = slug(m.group(2))
                n = seen.get(base, 0)
                seen[base] = n + 1
                found.add(base if n == 0 else f"{base}-{n}")
        _anchors[path] = found
    return _anchors[path]


def main():
    broken = 0
    checked = 0
    for md in markdown_files():
        full = os.path.join(ROOT, md)
        for n, line in lines_outside_code(open(full, encoding="utf-8").read()):
            for m in LINK.finditer(line):
                target = m.group(1)
                if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # http:, https:, mailto: ...
                    continue
                checked += 1
                path, _, anchor = target.partition("#")
                dest = os.path.normpath(os.path.join(os.path.dirname(full), path)) if path else full
                why = None
                if not dest.startswith(ROOT):
                    why = "outside the repository"
                elif not os.path.exists(dest):
                    why = "no such file"
                elif anchor:
                    if not dest.endswith(".md"):
                        why = "an anchor into a file that is not Markdown"
                    elif anchor not in anchors(dest):
                        why = f"no heading with anchor #{anchor} in {os.path.relpath(dest, ROOT)}"
                if why:
                    broken += 1
                    print(f"{md}:{n}: {target}: {why}")
    print(f"check-doc-links: {checked} relative links in {len(markdown_files())} files, {broken} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
