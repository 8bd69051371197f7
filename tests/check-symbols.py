#!/usr/bin/env python3
"""ABI check: the dynamic symbols the library exports, the version script and
the NEONFLOW_API declarations in the public headers must be the same set, and
every exported name must start with neonflow_. Prints TAP."""
import re
import subprocess
import sys
from pathlib import Path


def header_symbols(include_dir):
    names = set()
    decl = re.compile(r"NEONFLOW_API\s+[^;{]*?\b(neonflow_[a-z0-9_]+)\s*\(", re.S)
    for h in sorted(Path(include_dir).glob("*.h*")):
        text = re.sub(r"/\*.*?\*/", "", h.read_text(), flags=re.S)
        text = text.replace("#  define NEONFLOW_API", "").replace("#define NEONFLOW_API", "")
        names.update(decl.findall(text))
    return names


def header_shape_problems(include_dir):
    """Public functions must not be variadic and no struct may be defined."""
    problems = set()
    decl = re.compile(r"NEONFLOW_API\s+[^;{]*?\b(neonflow_[a-z0-9_]+)\s*\(([^;]*?)\)\s*;", re.S)
    for h in sorted(Path(include_dir).glob("*.h*")):
        text = re.sub(r"/\*.*?\*/", "", h.read_text(), flags=re.S)
        for name, params in decl.findall(text):
            if "..." in params or "va_list" in params:
                problems.add("%s: %s is variadic" % (h.name, name))
        for m in re.finditer(r"\b(struct|union)\s+\w*\s*\{", text):
            problems.add("%s: defines a public %s" % (h.name, m.group(1)))
    return problems


def stderr_references(lib):
    """The library must never write to stderr: it may not even reference it."""
    out = subprocess.run(["nm", "-D", "--undefined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    banned = {"stderr", "perror", "psignal", "psiginfo", "warn", "warnx", "err", "errx", "vwarn", "vwarnx"}
    return {n.split("@")[0] for n in (l.split()[-1] for l in out.splitlines() if l.strip())
            if n.split("@")[0] in banned}


def map_symbols(map_file):
    text = re.sub(r"/\*.*?\*/", "", Path(map_file).read_text(), flags=re.S)
    names = set()
    for block in re.findall(r"global:(.*?)(?:local:|\})", text, flags=re.S):
        names.update(n.strip() for n in block.split(";") if n.strip())
    return names


def exported_symbols(lib):
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] in "TtDdBbRrWwVvi" and not parts[2].startswith("NEONFLOW_"):
            names.add(parts[2].split("@")[0])
    return names


def main():
    lib, include_dir, map_file = sys.argv[1:4]
    hdr, mp, exp = header_symbols(include_dir), map_symbols(map_file), exported_symbols(lib)
    checks = [
        ("headers and map file agree", hdr ^ mp),
        ("map file and exported symbols agree", mp ^ exp),
        ("every exported name starts with neonflow_", {n for n in exp if not n.startswith("neonflow_")}),
        ("no internal neonflow__ name is exported", {n for n in exp if n.startswith("neonflow__")}),
        ("at least one symbol is exported", set() if exp else {"<none>"}),
        ("no variadic public function, no public struct", header_shape_problems(include_dir)),
        ("the library references no stderr writer", stderr_references(lib)),
    ]
    print("1..%d" % len(checks))
    failed = 0
    for i, (name, diff) in enumerate(checks, 1):
        if diff:
            failed += 1
            print("not ok %d - %s" % (i, name))
            for n in sorted(diff):
                where = []
                if n in hdr: where.append("header")
                if n in mp: where.append("map")
                if n in exp: where.append("exported")
                print("#   %s (in: %s)" % (n, ", ".join(where) or "-"))
        else:
            print("ok %d - %s" % (i, name))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
