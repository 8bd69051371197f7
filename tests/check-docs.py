#!/usr/bin/env python3
"""Documentation check: every NEONFLOW_API function in the public headers has
a doc comment of its own. Prints TAP; fails listing the undocumented ones.

A declaration is documented when
  - a comment (/* ... */ or /** ... */) ends directly before it, with only
    whitespace and no blank line in between, and is not a section divider
    (a comment starting with "---"); or
  - it carries a trailing /**< ... */ on the line of its ';'; or
  - it belongs to a tight group: declarations that follow each other with no
    blank line, right after a comment, and that comment names it (its full
    name, or its name without "neonflow_", as a whole word). One comment may
    document a group of getters only by naming each of them.

Usage: check-docs.py INCLUDE_DIR"""
import re
import sys
from pathlib import Path

TOKEN = re.compile(r"/\*.*?\*/|NEONFLOW_API\b[^;{]*?\b(neonflow_[a-z0-9_]+)\s*\([^;]*?\)\s*;", re.S)


def names_function(comment, name):
    short = name[len("neonflow_"):]
    return re.search(r"(?<![A-Za-z0-9_])(%s|%s)(?![A-Za-z0-9_])" % (re.escape(name), re.escape(short)),
                     comment) is not None


def undocumented(path):
    text = path.read_text()
    # Drop the macro definitions of NEONFLOW_API itself.
    text = re.sub(r"#\s*define\s+NEONFLOW_API[^\n]*", lambda m: " " * len(m.group(0)), text)
    missing = []
    prev = None          # ("comment", text, end) or ("decl", name, end)
    group_comment = None  # the comment heading the current tight group
    for m in TOKEN.finditer(text):
        if m.group(0).startswith("/*"):
            gap = text[prev[2]:m.start()] if prev else ""
            if m.group(0).startswith("/**<") and prev and prev[0] == "decl" and "\n" not in gap:
                if prev[1] in missing:
                    missing.remove(prev[1])
                prev = ("trailing", m.group(0), m.end())
                continue
            prev = ("comment", m.group(0), m.end())
            continue
        name = m.group(1)
        gap = text[prev[2]:m.start()] if prev else "\n\n"
        tight = gap.strip() == "" and gap.count("\n") <= 1
        ok = False
        if tight and prev[0] == "comment":
            body = prev[1]
            divider = body.lstrip("/*").strip().startswith("---")
            ok = not divider
            group_comment = None if divider else body
        elif tight and prev[0] in ("decl", "trailing") and group_comment is not None:
            ok = names_function(group_comment, name)
        else:
            group_comment = None
        if not ok:
            missing.append(name)
        prev = ("decl", name, m.end())
    return missing


def main():
    include_dir = Path(sys.argv[1])
    headers = sorted(p for p in include_dir.glob("*.h*"))
    total = 0
    missing = []
    for h in headers:
        text = h.read_text()
        total += len(re.findall(r"NEONFLOW_API\s+[^;{]*?\bneonflow_[a-z0-9_]+\s*\(", text))
        missing += ["%s: %s" % (h.name, n) for n in undocumented(h)]
    print("1..1")
    print("# %d public functions, %d without a doc comment of their own" % (total, len(missing)))
    for line in missing:
        print("#   " + line)
    print(("ok" if not missing else "not ok") + " 1 - every NEONFLOW_API function is documented")
    return 0 if not missing else 1


if __name__ == "__main__":
    sys.exit(main())
