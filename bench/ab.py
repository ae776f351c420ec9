#!/usr/bin/env python3
"""A/B of two builds of propgrade on the workloads a refactor can slow down, side by side in
one run, rounds interleaved (the side that goes first alternates). Each build runs its own
binaries on the same inputs; the report gives each side's median and new ÷ base.

Separate runs of bench/run.sh differ by more than 5% on a quiet machine (the host's speed
drifts over an hour), so "no slower than before" is judged here, not by comparing two
PERFORMANCE.md files.

  bench/ab.py --base ../old/build/release [--build build/release] [--rounds 9]
              [--out build/release/bench/ab] [--only p1,p3,p4,p7,p10]
              [--work build/release/bench/work]

Workloads: P1 grade --from --to (first grade, re-grade, and re-grade after every box score
changed, demo season scale 1), P3 re-grade
of one 10000-prediction date (SQLite), P7 the same on PostgreSQL (needs PROPGRADE_TEST_PG_URL),
P4 the season summary, P10 compute alone. Writes OUT/ab.md and OUT/ab.jsonl. Standard library
only; uses run_all.py's inputs (built with --build's propgrade and cached under OUT/work).
"""
import argparse
import json
import os
import sqlite3
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_all  # noqa: E402


class AB:
    def __init__(self, a):
        self.a = a
        opts = argparse.Namespace(build=a.build, out=a.out, tiny=False, repeats=1, scales=[1])
        self.bench = run_all.Bench(opts)
        self.bench.work = os.path.abspath(a.work)  # run_all.py's cached inputs
        os.makedirs(self.bench.work, exist_ok=True)
        self.sides = {"base": os.path.abspath(a.base), "new": os.path.abspath(a.build)}
        self.samples = {}  # workload -> side -> [values]
        self.units = {}
        self.jsonl = os.path.join(self.bench.out, "ab.jsonl")
        open(self.jsonl, "w").close()

    def record(self, workload, side, value, unit):
        self.samples.setdefault(workload, {"base": [], "new": []})[side].append(value)
        self.units[workload] = unit
        with open(self.jsonl, "a") as f:
            f.write(json.dumps({"workload": workload, "side": side, "value": value,
                                "unit": unit}) + "\n")
        self.bench.log("%-48s %-4s %.4g %s" % (workload, side, value, unit))

    def use(self, side):
        self.bench.bin = self.sides[side]

    # One round of every workload for one side.
    def p1(self, side):
        _, inputs = self.bench.inputs(1)
        lo, hi = self.bench.date_range(inputs)
        g = self.bench.fresh_copy(inputs, "ab-p1-%s.db" % side)
        cmd = [os.path.join(self.sides[side], "propgrade"), "--db", "sqlite:" + g, "grade",
               "--from", lo, "--to", hi]
        self.record("P1 first grade, scale 1", side, self.bench.timed(cmd)[0], "s")
        self.record("P1 re-grade, scale 1", side, self.bench.timed(cmd)[0], "s")
        # Every box score corrected (a point more), then the season re-graded: every graded
        # row changes, so each write replaces its partition (and keeps the old rows).
        with sqlite3.connect(g) as c:
            c.execute("UPDATE player_game_summary SET points = points + 1")
        self.record("P1 re-grade, every box score changed", side, self.bench.timed(cmd)[0], "s")

    def write_bench(self, side, db, workload):
        for line in self.bench.program("propgrade_write_bench", "--db", db, "--predictions",
                                       10000, "--repeats", 5):
            if line.get("id") in ("P3", "P7"):
                self.record(workload, side, line["ours"], line["unit"])

    def p3(self, side):
        db = os.path.join(self.bench.work, "ab-p3-%s.db" % side)
        for s in ("", "-wal", "-shm"):
            if os.path.exists(db + s):
                os.remove(db + s)
        self.write_bench(side, "sqlite:" + db, "P3 re-grade one date (SQLite)")

    def p7(self, side):
        pg = os.environ.get("PROPGRADE_TEST_PG_URL")
        if not pg:
            raise RuntimeError("PROPGRADE_TEST_PG_URL is not set")
        self.write_bench(side, pg, "P7 re-grade one date (PostgreSQL)")

    def p4(self, side):
        _, inputs = self.bench.inputs(1)
        lo, hi = self.bench.date_range(inputs)
        name = "ab-p4-%s.db" % side
        g = os.path.join(self.bench.work, name)
        if not os.path.exists(g + ".graded"):
            g = self.bench.fresh_copy(inputs, name)
            self.bench.propgrade("sqlite:" + g, "grade", "--from", lo, "--to", hi,
                                 "--no-aggregate")
            open(g + ".graded", "w").close()
        for line in self.bench.program("propgrade_summary_sql_bench", "--db", "sqlite:" + g,
                                       "--as-of", hi, "--repeats", 3):
            if line.get("id") == "P4":
                self.record("P4 season summary", side, line["ours"], line["unit"])

    def p10(self, side):
        _, inputs = self.bench.inputs(1)
        line = self.bench.program("propgrade_compute_bench", "--db", "sqlite:" + inputs,
                                  "--repeats", 3)[0]
        self.record("P10 compute alone", side, line["ours"], line["unit"])

    def run(self):
        steps = self.a.only.split(",")
        # The inputs are built once, by the base build: the new one migrates its copy when it
        # opens it, while an older propgrade refuses a schema newer than its own.
        self.use("base")
        self.bench.inputs(1)
        for r in range(self.a.rounds):
            order = ("base", "new") if r % 2 == 0 else ("new", "base")
            for step in steps:
                for side in order:
                    self.use(side)
                    getattr(self, step)(side)
        self.use("new")

    def report(self, seconds):
        out = ["# A/B of two builds", "",
               "Written by `bench/ab.py` in %d min: %d interleaved rounds; base `%s`, new `%s`. "
               "Medians, and the fastest run of each side; ratio = new ÷ base (below 1 is faster)." % (
                   seconds // 60, self.a.rounds, self.a.base_label or self.sides["base"],
                   self.a.new_label or self.sides["new"]), "",
               "| Workload | Base | New | Unit | New ÷ base | Fastest: new ÷ base | Base samples "
               "| New samples |",
               "|---|---|---|---|---|---|---|---|"]
        for w, s in self.samples.items():
            b, n = statistics.median(s["base"]), statistics.median(s["new"])
            # The fastest run of each side: what other load on the host adds is never negative.
            fast = min(s["new"]) / min(s["base"])
            out.append("| %s | %s | %s | %s | %.3f | %.3f | %s | %s |" % (
                w, run_all_fmt(b), run_all_fmt(n), self.units[w], n / b, fast,
                " ".join(run_all_fmt(v) for v in s["base"]),
                " ".join(run_all_fmt(v) for v in s["new"])))
        return "\n".join(out) + "\n"


def run_all_fmt(v):
    return "%.3g" % v if abs(v) < 10 else "%.1f" % v


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--base", required=True, help="the other build directory (its propgrade "
                   "and bench/ programs)")
    p.add_argument("--build", default="build/release")
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--out", default="build/release/bench/ab")
    p.add_argument("--work", default="build/release/bench/work",
                   help="inputs cache shared with run_all.py")
    p.add_argument("--only", default="p1,p3,p4,p7,p10")
    p.add_argument("--base-label", default="", help="how the report names the base build")
    p.add_argument("--new-label", default="", help="how the report names the new build")
    a = p.parse_args()
    for side in (a.base, a.build):
        if not os.path.exists(os.path.join(side, "propgrade")):
            p.error("%s has no propgrade binary (build it first)" % side)
    ab = AB(a)
    started = time.monotonic()
    ab.run()
    md = ab.report(int(time.monotonic() - started))
    path = os.path.join(ab.bench.out, "ab.md")
    with open(path, "w") as f:
        f.write(md)
    print(md)
    ab.bench.log("wrote " + path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
