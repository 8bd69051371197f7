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

Usage: check-docs.py INCLUDE_DIR | --self-test"""
import re
import sys
from pathlib import Path

TOKEN = re.compile(r"/\*.*?\*/|NEONFLOW_API\b[^;{]*?\b(neonflow_[a-z0-9_]+)\s*\([^;]*?\)\s*;", re.S)


def names_function(comment, name):
    short = name[len("neonflow_"):]
    return re.search(r"(?<![A-Za-z0-9_])(%s|%s)(?![A-Za-z0-9_])" % (re.escape(name), re.escape(short)),
                     comment) is not None


def undocumented(path):
    """The NEONFLOW_API functions of a header, and those without a doc comment."""
    return check_text(path.read_text())


def check_text(text):
    # Drop the macro definitions of NEONFLOW_API itself.
    text = re.sub(r"#\s*define\s+NEONFLOW_API[^\n]*", lambda m: " " * len(m.group(0)), text)
    names = []
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
        names.append(name)
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
    return names, missing


# The rule on small cases: (header text, functions that must be reported).
SELF_TESTS = [
    ("/** Doc. */\nNEONFLOW_API int neonflow_a(void);\n", []),
    ("NEONFLOW_API int neonflow_a(void);\n", ["neonflow_a"]),
    ("/* Plain comment. */\nNEONFLOW_API int neonflow_a(int x,\n    int y);\n", []),
    ("/** Doc. */\n\nNEONFLOW_API int neonflow_a(void);\n", ["neonflow_a"]),
    ("/* ---- getters ---- */\nNEONFLOW_API int neonflow_a(void);\n", ["neonflow_a"]),
    ("NEONFLOW_API int neonflow_a(void); /**< trailing */\n", []),
    ("NEONFLOW_API int neonflow_a(void);\n/**< on the next line */\n", ["neonflow_a"]),
    ("/** Doc of a. */\nNEONFLOW_API int neonflow_a(void);\nNEONFLOW_API int neonflow_b(void);\n",
     ["neonflow_b"]),
    ("/** a() and neonflow_b: the group. */\nNEONFLOW_API int neonflow_a(void);\n"
     "NEONFLOW_API int neonflow_b(void);\nNEONFLOW_API int neonflow_bc(void);\n", ["neonflow_bc"]),
    ("/** a and b. */\nNEONFLOW_API int neonflow_a(void);\n\nNEONFLOW_API int neonflow_b(void);\n",
     ["neonflow_b"]),
    ("/** Doc. */\ntypedef int t;\nNEONFLOW_API int neonflow_a(void);\n", ["neonflow_a"]),
    ("#  define NEONFLOW_API __attribute__((visibility(\"default\")))\n", []),
]


def self_test():
    print("1..%d" % len(SELF_TESTS))
    failed = 0
    for i, (text, want) in enumerate(SELF_TESTS, 1):
        got = check_text(text)[1]
        ok = got == want
        failed += not ok
        print("%s %d - %r reports %r" % ("ok" if ok else "not ok", i, text, want))
        if not ok:
            print("#   got %r" % got)
    return 1 if failed else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    include_dir = Path(sys.argv[1])
    headers = sorted(p for p in include_dir.glob("*.h*"))
    total = 0
    missing = []
    for h in headers:
        names, undoc = undocumented(h)
        total += len(names)
        missing += ["%s: %s" % (h.name, n) for n in undoc]
    print("1..1")
    print("# %d public functions, %d without a doc comment of their own" % (total, len(missing)))
    for line in missing:
        print("#   " + line)
    print(("ok" if not missing else "not ok") + " 1 - every NEONFLOW_API function is documented")
    return 0 if not missing else 1


if __name__ == "__main__":
    sys.exit(main())
