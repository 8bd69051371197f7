#!/usr/bin/env python3
"""The ABI gate (libabigail's abidw/abidiff). Prints TAP.

  abi-check.py dump LIB INCLUDE_DIR OUT      write the baseline (scripts/abi-baseline)
  abi-check.py check LIB INCLUDE_DIR BASE    abi.abidiff: LIB against the baseline
  abi-check.py doctored LIB INCLUDE_DIR BASE abi.abidiff-doctored: the gate itself

Only types of the public headers count (--headers-dir, --drop-private-types).
The check passes on pure additions (--no-added-syms) and fails on anything
else abidiff reports: a removed symbol, a changed parameter or return type.
A missing abidiff fails: scripts/install-deps installs abigail-tools."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

DUMP_FLAGS = ["--drop-private-types", "--no-corpus-path", "--no-comp-dir-path",
              "--no-show-locs", "--no-elf-needed", "--type-id-style", "hash"]


def need(tool):
    path = shutil.which(tool)
    if not path:
        print("not ok 1 - %s is missing: run scripts/install-deps (abigail-tools)" % tool)
        sys.exit(1)
    return path


def dump(lib, include_dir, out):
    subprocess.run([need("abidw"), "--headers-dir", include_dir] + DUMP_FLAGS
                   + ["--out-file", out, lib], check=True)
    text = open(out).read()
    # Source paths are relative to the build directory (where meson compiles):
    # make them relative to the source root, so the baseline is the same from
    # any build directory and any checkout.
    build_root = os.path.dirname(os.path.dirname(os.path.abspath(lib)))
    src_root = os.path.dirname(os.path.dirname(os.path.abspath(include_dir)))

    def rel(m):
        full = os.path.normpath(os.path.join(build_root, m.group(1)))
        return "path='%s'" % os.path.relpath(full, src_root)
    text = re.sub(r"path='([^']*)'", rel, text)
    open(out, "w").write(text)


def abidiff(base, lib, include_dir):
    """abidiff's exit status and report; 0 = nothing but additions."""
    p = subprocess.run([need("abidiff"), "--headers-dir2", include_dir, "--drop-private-types",
                        "--no-added-syms", base, lib], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def doctor(text, mode, name):
    """The baseline with one function removed, an extra one, or a changed parameter type."""
    sym = re.search(r"\s*<elf-symbol name='%s' [^>]*/>" % name, text)
    fn = re.search(r"\n\s*<function-decl name='%s' [^>]*elf-symbol-id=.*?</function-decl>" % name,
                   text, re.S)
    assert sym and fn, "%s not in the baseline" % name
    if mode == "drop":
        return text.replace(fn.group(0), "").replace(sym.group(0), "")
    if mode == "extra":
        gone = "neonflow_removed_for_test"
        text = text.replace(sym.group(0), sym.group(0) + sym.group(0).replace(name, gone))
        return text.replace(fn.group(0), fn.group(0) + fn.group(0).replace(name, gone))
    decl = fn.group(0)
    param = re.search(r"<parameter type-id='([^']+)'", decl).group(1)
    other = re.search(r"<type-decl name='(?:long )?int' [^>]*id='([^']+)'", text).group(1)
    assert other != param
    return text.replace(decl, decl.replace(param, other, 1))


def main():
    mode, lib, include_dir, base = sys.argv[1:5]
    if mode == "dump":
        dump(lib, include_dir, base)
        print("wrote %s" % base)
        return 0
    print("1..%d" % (1 if mode == "check" else 4))
    if mode == "check":
        rc, out = abidiff(base, lib, include_dir)
        print(("ok" if rc == 0 else "not ok") + " 1 - %s: no removed or changed interface (abidiff %d)"
              % (os.path.basename(lib), rc))
        if rc:
            sys.stdout.write("".join("# " + l + "\n" for l in out.splitlines()))
            print("# an intended change? see docs/api-stability.md; scripts/abi-baseline regenerates")
        return 1 if rc else 0
    # The gate must fail on removals and changes and pass on additions.
    text = open(base).read()
    name = re.search(r"elf-symbol-id='(neonflow_[a-z0-9_]+)@[^>]*>\s*<parameter", text).group(1)
    cases = [("unchanged", None, True), ("drop", "the library adds a function", True),
             ("extra", "the library removed a function", False),
             ("retype", "a parameter type changed", False)]
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (case, what, passes) in enumerate(cases, 1):
            path = os.path.join(tmp, case + ".abi")
            open(path, "w").write(text if case == "unchanged" else doctor(text, case, name))
            rc, out = abidiff(path, lib, include_dir)
            ok = (rc == 0) == passes
            failed += not ok
            print("%s %d - %s (%s): abidiff %d, %s" % ("ok" if ok else "not ok", i, what or "the baseline",
                                                       name, rc, "passes" if passes else "fails"))
            if not ok:
                sys.stdout.write("".join("# " + l + "\n" for l in out.splitlines()[:20]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
