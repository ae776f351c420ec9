#!/usr/bin/env python3
"""Shows scripts/check_deps.py catching what it exists to catch: a small source tree that is
clean passes, and each kind of violation added to it is reported (and fails the check)."""
import os
import subprocess
import sys
import tempfile

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "check_deps.py")


def write(root, path, text):
    full = os.path.join(root, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        f.write(text)


def tree(root):
    write(root, "src/base/CMakeLists.txt", "propgrade_module(base\n  SOURCES a.cc)\n")
    write(root, "src/base/a.h", "// A.\n#pragma once\n")
    write(root, "src/base/a.cc", '#include "base/a.h"\n')
    write(root, "src/mid/CMakeLists.txt", "propgrade_module(mid\n  SOURCES m.cc\n  DEPS base)\n")
    write(root, "src/mid/m.h", '#pragma once\n#include "base/a.h"\n')
    write(root, "src/mid/m.cc", '#include "mid/m.h"\n#include "mid/impl/detail.h"\n')
    write(root, "src/mid/impl/detail.h", "#pragma once\n")
    write(root, "src/mid/hidden.h", "// Hidden (module-internal).\n#pragma once\n")
    write(root, "src/top/CMakeLists.txt", "propgrade_module(top\n  SOURCES t.cc\n  DEPS base mid\n  LIBS x)\n")
    write(root, "src/top/t.cc", '#include "mid/m.h"\n#include "base/a.h"\n')


def run(root):
    r = subprocess.run([sys.executable, SCRIPT, "--root", root], capture_output=True, text=True)
    return r.returncode, r.stdout


def main():
    failures = []
    cases = [
        ("clean tree", None, None),
        ("upward include", ("src/base/a.cc", '#include "mid/m.h"\n'),
         "src/base/a.cc: includes mid/m.h, but module base does not declare mid"),
        ("cycle", ("src/base/CMakeLists.txt", "propgrade_module(base\n  SOURCES a.cc\n  DEPS top)\n"),
         "module cycle: "),
        ("private header in a subfolder", ("src/top/t.cc", '#include "mid/impl/detail.h"\n'),
         "src/top/t.cc: includes mid/impl/detail.h, a private header of module mid"),
        ("module-internal header", ("tests/x_test.cc", '#include "mid/hidden.h"\n'),
         "tests/x_test.cc: includes mid/hidden.h, a private header of module mid"),
        ("undeclared dependency", ("src/mid/CMakeLists.txt", "propgrade_module(mid\n  SOURCES m.cc)\n"),
         "src/mid/m.h: includes base/a.h, but module mid does not declare base"),
    ]
    for name, change, expected in cases:
        with tempfile.TemporaryDirectory() as root:
            tree(root)
            if change:
                path, text = change
                full = os.path.join(root, path)
                mode = "a" if path.endswith((".cc", ".h")) and os.path.exists(full) else "w"
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, mode) as f:
                    f.write(text)
            code, out = run(root)
            if expected is None:
                if code != 0:
                    failures.append(f"{name}: expected a pass, got exit {code}:\n{out}")
            elif code != 1 or expected not in out:
                failures.append(f"{name}: expected exit 1 and {expected!r}, got exit {code}:\n{out}")
    for f in failures:
        print("FAIL", f)
    print(f"check_deps_test: {len(cases) - len(failures)}/{len(cases)} cases as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
