#!/usr/bin/env python3
"""docs/symbols-in-versions: every exported name, the map node that holds it
and the release that introduced it (as libcurl's docs/libcurl/symbols-in-versions).

  symbols-in-versions.py write MAP OUT        regenerate (scripts/symbols-in-versions)
  symbols-in-versions.py check LIB MAP LIST   abi.symbols-in-versions (TAP): LIB's
      SONAME carries the map nodes' major version; LIST is what `write` makes of
      MAP; LIST names exactly the symbols LIB exports, each with the node LIB
      binds it to."""
import re
import subprocess
import sys

HEADER = """# libneonflow symbols and the release that introduced each one.
# Generated from lib/libneonflow.map by scripts/symbols-in-versions; checked
# by the test abi.symbols-in-versions. A symbol's node never changes; a name
# added in 1.x goes into a new node NEONFLOW_1.x (docs/api-stability.md).
#
# Name                                                  Node           Introduced
"""


def map_nodes(path):
    """[(name, node)] in map order; nodes look like NEONFLOW_1.0."""
    text = re.sub(r"/\*.*?\*/", "", open(path).read(), flags=re.S)
    out = []
    for node, body in re.findall(r"(NEONFLOW_[0-9.]+)\s*\{(.*?)\}", text, flags=re.S):
        body = body.split("local:")[0].replace("global:", "")
        out.extend((n.strip(), node) for n in body.split(";") if n.strip())
    return out


def render(pairs):
    lines = ["%-55s %-14s %s" % (n, node, node.split("_", 1)[1] + ".0")
             for n, node in sorted(pairs)]
    return HEADER + "\n".join(lines) + "\n"


def exported(lib):
    """{name: node} of the library's defined dynamic symbols."""
    out = subprocess.run(["nm", "-D", "--defined-only", lib], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        m = re.match(r"\S+\s+[TDBRVW]\s+(neonflow_\w+)@@?(NEONFLOW_[0-9.]+)$", line)
        if m:
            syms[m.group(1)] = m.group(2)
        elif re.search(r"\s[TDBRVW]\s+neonflow_", line):
            syms[line.split()[-1]] = None  # exported without a version node
    return syms


def main():
    if sys.argv[1] == "write":
        open(sys.argv[3], "w").write(render(map_nodes(sys.argv[2])))
        return 0
    lib, map_file, listing = sys.argv[2:5]
    pairs = map_nodes(map_file)
    text = open(listing).read()
    listed = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            f = line.split()
            listed[f[0]] = f[1]
    syms = exported(lib)
    soname = re.search(r"SONAME\s+(\S+)", subprocess.run(
        ["objdump", "-p", lib], check=True, capture_output=True, text=True).stdout)
    majors = {node.split("_", 1)[1].split(".")[0] for _, node in pairs}
    checks = [
        (soname is not None and len(majors) == 1 and soname.group(1) == "libneonflow.so." + majors.pop(),
         "the SONAME is libneonflow.so.MAJOR of the map's nodes", soname.group(1) if soname else "none"),
        (text == render(pairs), "the list is what lib/libneonflow.map makes of it",
         "regenerate it: scripts/symbols-in-versions"),
        (len(pairs) == len(set(n for n, _ in pairs)), "every name is in one map node only", ""),
        (set(syms) - set(listed) == set(), "every exported symbol is listed",
         " ".join(sorted(set(syms) - set(listed)))),
        (set(listed) - set(syms) == set(), "every listed symbol is exported",
         " ".join(sorted(set(listed) - set(syms)))),
        (all(syms[n] == listed[n] for n in set(syms) & set(listed)),
         "each symbol is bound to the node it is listed with",
         " ".join("%s@%s" % (n, syms[n]) for n in sorted(set(syms) & set(listed)) if syms[n] != listed[n])),
    ]
    print("1..%d" % len(checks))
    for i, (ok, what, why) in enumerate(checks, 1):
        print("%s %d - %s" % ("ok" if ok else "not ok", i, what))
        if not ok and why:
            print("# " + why[:2000])
    print("# %d symbols" % len(syms))
    return 0 if all(c[0] for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
