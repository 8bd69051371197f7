#!/usr/bin/env python3
"""NEONFLOW_DEPRECATED (common.h) in C89, C99 and C++: a call of a function
declared with it compiles (a warning only), and fails with
-Werror=deprecated-declarations, the message naming the replacement. Prints TAP.

  check-deprecated.py INCLUDE_DIR CC [--cxx CXX]"""
import os
import subprocess
import sys
import tempfile

SNIPPET = """#include "common.h"
NEONFLOW_BEGIN_DECLS
NEONFLOW_DEPRECATED("use neonflow_new_call") int neonflow_old_call(void);
NEONFLOW_END_DECLS
int neonflow_old_call(void) { return 0; }
int main(void) { return neonflow_old_call(); }
"""


def main():
    inc, cc = sys.argv[1], sys.argv[2]
    cxx = sys.argv[4] if len(sys.argv) > 4 and sys.argv[3] == "--cxx" else None
    langs = [("c89", cc, "c", "-std=c89"), ("c99", cc, "c", "-std=c99")]
    if cxx:
        langs.append(("c++11", cxx, "cc", "-std=c++11"))
    print("1..%d" % (2 * len(langs)))
    n, failed = 0, False
    with tempfile.TemporaryDirectory() as tmp:
        for name, comp, ext, std in langs:
            src = os.path.join(tmp, "dep." + ext)
            open(src, "w").write(SNIPPET)
            base = [comp, std, "-pedantic", "-I", inc, "-c", src, "-o", os.path.join(tmp, "dep.o")]
            plain = subprocess.run(base + ["-Werror", "-Wno-error=deprecated-declarations"],
                                   capture_output=True, text=True)
            strict = subprocess.run(base + ["-Werror=deprecated-declarations"], capture_output=True, text=True)
            for ok, what, out in [
                (plain.returncode == 0 and "neonflow_old_call" in plain.stderr,
                 "%s: a deprecated call compiles with a warning" % name, plain.stderr),
                (strict.returncode != 0 and "use neonflow_new_call" in strict.stderr,
                 "%s: -Werror=deprecated-declarations rejects it, naming the replacement" % name,
                 strict.stderr)]:
                n += 1
                failed |= not ok
                print("%s %d - %s" % ("ok" if ok else "not ok", n, what))
                if not ok:
                    sys.stdout.write("".join("# " + l + "\n" for l in out.splitlines()[:10]))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
