#!/usr/bin/env python3
"""Checks the module structure of src/ (docs/architecture.md):

1. The declared module graph (propgrade_module(NAME ... DEPS ...) in src/NAME/CMakeLists.txt)
   has no cycle.
2. Every include of another module from a module's code (not its *_test.cc) names a module
   the including module declares in DEPS. src/cli may include any module but testing;
   src/testing any module but cli and server.
3. No file anywhere (src/, tests/, bench/) includes another module's private header: one in a
   subfolder of the module (store/sqlite/...) or one that says "module-internal" in its
   opening comment.
4. With --build DIR (a configured and built tree): every propgrade symbol a module's library
   uses is defined in that library or in a module it declares (directly or through its DEPS),
   so an undeclared call fails here even where the linker would let it pass.

Exit 0 when all hold, 1 with one line per violation otherwise.
Usage: scripts/check_deps.py [--build build/release] [--root DIR]
"""
import argparse
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([^"]+)"', re.M)
# cli and testing are not libraries of propgrade_core: the rules for them are fixed here.
FREE = {"cli": {"exclude": {"testing", "cli"}}, "testing": {"exclude": {"cli", "server", "testing"}}}


def declared_modules():
    graph = {}
    for name in sorted(os.listdir(SRC)):
        cmake = os.path.join(SRC, name, "CMakeLists.txt")
        if not os.path.isfile(cmake):
            continue
        text = open(cmake).read()
        m = re.search(r"propgrade_module\(\s*(\w+)(.*?)\)", text, re.S)
        if not m:
            continue
        if m.group(1) != name:
            sys.exit(f"src/{name}/CMakeLists.txt declares module {m.group(1)}")
        deps = re.search(r"\bDEPS\s+([\w\s]+?)(?:\b(?:LIBS|TESTS|SOURCES)\b|$)", m.group(2), re.S)
        graph[name] = set(deps.group(1).split()) if deps else set()
    return graph


def find_cycle(graph):
    state = {}

    def visit(node, path):
        state[node] = "open"
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == "open":
                return path + [node, dep]
            if dep not in state:
                found = visit(dep, path + [node])
                if found:
                    return found
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node, [])
            if found:
                return found[found.index(found[-1]):]
    return None


def private_headers():
    private = set()
    for dirpath, _, files in os.walk(SRC):
        rel = os.path.relpath(dirpath, SRC)
        for f in files:
            if not f.endswith(".h"):
                continue
            path = os.path.join(rel, f)
            if rel.count(os.sep) >= 1:  # src/MODULE/SUB/x.h
                private.add(path)
                continue
            with open(os.path.join(dirpath, f)) as fh:
                opening = "".join(fh.readline() for _ in range(8))
            if "module-internal" in opening:
                private.add(path)
    return private


def sources(top):
    for dirpath, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d not in ("node_modules", "fixtures")]
        for f in files:
            if f.endswith((".cc", ".h")):
                yield os.path.join(dirpath, f)


def check_includes(graph, problems):
    modules = set(os.listdir(SRC))
    private = private_headers()
    for top in ("src", "tests", "bench"):
        for path in sources(os.path.join(ROOT, top)):
            rel = os.path.relpath(path, ROOT)
            parts = rel.split(os.sep)
            owner = parts[1] if top == "src" else None
            is_test = top != "src" or path.endswith("_test.cc")
            text = open(path, errors="replace").read()
            for target, header in INCLUDE.findall(text):
                if target not in modules or target == owner:
                    continue
                inc = f"{target}/{header}"
                if inc in private:
                    problems.append(f"{rel}: includes {inc}, a private header of module {target}")
                if is_test:
                    continue
                if owner in FREE:
                    if target in FREE[owner]["exclude"]:
                        problems.append(f"{rel}: module {owner} must not include {inc}")
                elif target not in graph.get(owner, set()):
                    problems.append(
                        f"{rel}: includes {inc}, but module {owner} does not declare {target} "
                        f"(src/{owner}/CMakeLists.txt DEPS: {' '.join(sorted(graph.get(owner, ()))) or '-'})")


def closure(graph, name):
    seen, todo = set(), [name]
    while todo:
        for dep in graph.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def symbols(archive, defined):
    args = ["nm", "--format=posix", "--defined-only" if defined else "--undefined-only", archive]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines()
            if line and not line.endswith(":") and "propgrade" in line.split()[0]}


def check_symbols(graph, build, problems):
    archives = {}
    for dirpath, _, files in os.walk(build):
        for f in files:
            m = re.fullmatch(r"libpropgrade_(\w+)\.a", f)
            if m and m.group(1) in graph:
                archives[m.group(1)] = os.path.join(dirpath, f)
    missing = sorted(set(graph) - set(archives))
    if missing:
        problems.append(f"{build}: no library built for module(s) {' '.join(missing)}")
        return
    defined = {name: symbols(path, True) for name, path in archives.items()}
    owner = {}
    for name, syms in defined.items():
        for s in syms:
            owner.setdefault(s, set()).add(name)
    for name, path in sorted(archives.items()):
        allowed = closure(graph, name) | {name}
        bad = {}
        for s in symbols(path, False):
            where = owner.get(s)
            if where and not (where & allowed):
                bad.setdefault(" ".join(sorted(where)), []).append(s)
        for where, syms in sorted(bad.items()):
            demangled = subprocess.run(["c++filt"], input=syms[0], capture_output=True,
                                       text=True).stdout.strip()
            problems.append(f"libpropgrade_{name}.a uses {len(syms)} symbol(s) of module {where}, "
                            f"which it does not declare (e.g. {demangled})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", help="a built tree whose module libraries to check too")
    parser.add_argument("--root", help="the source tree (Default: this script's checkout)")
    args = parser.parse_args()
    if args.root:
        global ROOT, SRC
        ROOT = os.path.abspath(args.root)
        SRC = os.path.join(ROOT, "src")
    graph = declared_modules()
    problems = []
    for name, deps in sorted(graph.items()):
        for dep in sorted(deps - set(graph)):
            problems.append(f"src/{name}/CMakeLists.txt: DEPS names {dep}, which is no module")
    cycle = find_cycle(graph)
    if cycle:
        problems.append("module cycle: " + " -> ".join(cycle))
    check_includes(graph, problems)
    if args.build:
        check_symbols(graph, args.build, problems)
    for p in problems:
        print(p)
    if problems:
        print(f"check_deps: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_deps: {len(graph)} modules, no cycle, no private header crossed, every "
          f"include{' and symbol' if args.build else ''} within the declared dependencies")
    return 0


if __name__ == "__main__":
    sys.exit(main())
