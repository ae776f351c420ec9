#!/usr/bin/env python3
"""Renders docs/RELIABILITY.md from the reliability suite's records (tests/reliability/run.sh).

Inputs: the JSON lines the scenario tests append (testing::RecordScenario), the ctest log of the
security tests, and the fuzzers' results table. Output: Markdown on stdout. Standard library
only.
"""
import argparse
import csv
import datetime
import json
import os
import platform
import re
import subprocess
import sys

CHECKERS_TEXT = """\
After every round the checkers look at the store:

- **duplicates**: `GROUP BY` business key `HAVING count(*) > 1` finds nothing (the count is of
  surplus rows);
- **lost rows**: each partition holds exactly the expected key set (inputs are known), counted
  as expected keys missing plus unexpected keys present;
- **fence monotonicity**: the tokens of committed writes to a partition strictly increase
  (from every run's `write_section` enter/exit log lines);
- **mutual exclusion**: no two runs were inside one partition's write section at once (the
  same log lines; a killed run's section counts as the instant it entered);
- **inputs at commit** (R9): every partition written after the last change to its inputs holds
  exactly the rows those inputs imply (recomputed by the test from the stored inputs); the
  order of changes comes from `partition_versions`, one database-wide counter;
- **never smaller** (R10): sampled every 2 ms while re-grades run against box scores being
  deleted and re-imported, the graded partition never holds fewer rows than its last complete
  grade (lost rows = the shortfall of the smallest sample).

With lock `none` only the first two apply. In R3 the stopped holder's section stays open past
its lease by design, so exclusion is not judged there: the fence decides, and the resumed
holder must write nothing. R4 holds the sensitivity runs: a deliberately broken writer (a
non-atomic write, a writer that drops a row of every write, a writer that ignores the fence)
whose findings are expected and prove each checker can fail; the mutual-exclusion checker's
own proof is R1 with lock `none`, where runs do overlap."""


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem = "%.0f GB RAM" % (int(line.split()[1]) / 1024 / 1024)
    except OSError:
        pass
    osname = platform.system()
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    osname = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    commit = ""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=False).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, check=False).stdout.strip()
        if dirty:
            commit += " (with uncommitted changes)"
    except OSError:
        pass
    return "%s, %d cores, %s, %s, kernel %s; propgrade %s" % (
        cpu, os.cpu_count() or 0, mem, osname, platform.release(), commit or "?")


def cell(value, applies=True):
    if value is None or not applies:
        return "n/a"
    return str(value)


def scenario_rows(records):
    order = {"R%d" % i: i for i in range(1, 11)}
    records.sort(key=lambda r: (order.get(r["scenario"], 99), r["title"], r["combination"]))
    out = []
    for r in records:
        dup = r.get("duplicate_groups")
        # Sensitivity runs (R4) use a deliberately broken writer: what the checkers find is
        # expected and proves they can fail.
        sensitive = r.get("sensitivity") or r["scenario"] == "R4"
        found = lambda v: "n/a" if v is None else ("%s found (expected)" % v if v else "0")
        dup_text = found(dup) if sensitive and dup else cell(dup)
        lost = r.get("lost_rows")
        lost_text = found(lost) if sensitive and lost is not None else cell(lost)
        fence = r.get("fence_violations")
        if sensitive and fence is not None:
            fence_text = found(fence)
        else:
            fence_text = "n/a" if fence is None else ("yes" if fence == 0 else "NO: %d" % fence)
        overlaps = r.get("overlaps")
        excl_text = "n/a" if overlaps is None else ("yes" if overlaps == 0 else "NO: %d" % overlaps)
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["scenario"], r["title"], r["combination"], r["size"], r["runs"], r["faults"],
            dup_text, lost_text, fence_text, excl_text, r["outcome"],
            "pass" if r["passed"] else "**FAIL**"))
    return out


def fuzz_rows(path):
    rows = []
    with open(path) as f:
        reader = csv.DictReader(f, delimiter="\t")
        for r in reader:
            seconds = float(r.get("seconds") or 0)
            execs = int(float(r.get("execs") or 0))
            rate = "%.0f" % (execs / seconds) if seconds > 0 else "?"
            rows.append("| %s | %s | %s | %s | %s | %s → %s |" % (
                r.get("target", "?"), r.get("seconds", "?"), "{:,}".format(execs), rate,
                r.get("crashes", "?"), r.get("corpus_in", "?"), r.get("corpus_out", "?")))
    return rows


def security_rows(path):
    rows = []
    pattern = re.compile(r"Test\s+#\d+: (\S+) \.+\s*(\**\w+)")
    with open(path) as f:
        for line in f:
            m = pattern.search(line)
            if m:
                rows.append("| %s | %s |" % (m.group(1), "pass" if m.group(2) == "Passed" else
                                              "**%s**" % m.group(2).strip("*")))
    return rows


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--report", required=True)
    p.add_argument("--security-log")
    p.add_argument("--fuzz")
    p.add_argument("--mode", default="ci")
    p.add_argument("--seconds", type=int, default=0)
    p.add_argument("--status", type=int, default=0)
    a = p.parse_args()

    records = []
    with open(a.report) as f:
        for line in f:
            line = line.strip()
            if line:
                records.append(json.loads(line))
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    failed = [r for r in records if not r["passed"]]
    lines = ["# Reliability report", ""]
    lines.append("Written by `tests/reliability/run.sh%s` on %s, in %d min. Machine: %s." % (
        " --full" if a.mode == "full" else "", now, a.seconds // 60, machine()))
    lines.append("")
    if a.status == 0 and not failed:
        lines.append("**Every scenario, security test and fuzzer passed.**")
    else:
        lines.append("**Something failed: %d scenario records failed; suite status %d.**" % (
            len(failed), a.status))
    lines += ["", "## The checkers", "", CHECKERS_TEXT, "", "## Scenarios (spec/reliability.md)", ""]
    lines.append("| ID | Scenario | Store + lock | Size | Runs | Faults injected | Duplicates | "
                 "Lost rows | Fences increase | Mutual exclusion | Outcome | Result |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    lines += scenario_rows(records)
    lines += ["", "Seconds per scenario: " + ", ".join(
        "%s %s %.0f" % (r["scenario"], r["combination"], r["seconds"]) for r in records) + ".", ""]
    if a.fuzz and os.path.exists(a.fuzz):
        lines += ["## Fuzzing (libFuzzer, clang, ASan + UBSan)", "",
                  "| Target | Seconds | Executions | Exec/s | Crashes | Corpus (seed → final) |",
                  "|---|---|---|---|---|---|"]
        lines += fuzz_rows(a.fuzz)
        lines += ["", "Seeds: `tests/fuzz/corpus/<target>/`; reproduce with "
                  "`tests/fuzz/run.sh --seconds N [target]`.", ""]
    if a.security_log and os.path.exists(a.security_log):
        lines += ["## Security (spec/reliability.md, Security)", "", "| Test | Result |", "|---|---|"]
        lines += security_rows(a.security_log)
        lines.append("")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
