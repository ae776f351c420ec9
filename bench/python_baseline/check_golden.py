#!/usr/bin/env python3
"""Compare grade.py's outputs with expected CSVs, cell by cell.

By default runs grade.py on the golden fixture (shared/fixtures/golden/inputs) and compares
prediction_accuracy, system_daily_performance, the prediction_performance_summary snapshot as of
the fixture's date and the grading_runs counts with shared/fixtures/golden/expected, following the
fixture README: rows matched on their keys; graded_at/computed_at/run_id ignored; booleans as
true/false or 1/0; NULL as an empty field; rounded values equal (one unit in the last place only
for the cells in rounding_ties.csv); unrounded summary rates within 1e-9.

The same comparison works against propgrade's own exports (e.g. of the demo season):
  check_golden.py --inputs IN --expected DIR_WITH_EXPORTED_CSVS --as-of 2026-04-14 --db OUT
With --no-run it only compares an existing --db.
Exit status 0 when every compared cell matches and no row is missing or extra.
"""

import argparse
import csv
import os
import sqlite3
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "fixtures", "golden"))
IGNORED = {"graded_at", "computed_at", "run_id"}

TABLES = [
    # (table, expected file, key columns, rounded?)
    ("prediction_accuracy", "prediction_accuracy.csv",
     ("game_date", "player_lookup", "game_id", "system_id", "line_value"), True),
    ("system_daily_performance", "system_daily_performance.csv",
     ("game_date", "system_id"), True),
    ("prediction_performance_summary", "prediction_performance_summary.csv",
     ("as_of_date", "summary_key"), False),
    ("grading_runs", "grading_runs.csv", ("game_date",), True),
]


def norm_key_part(v):
    """Key cells as text with numbers canonicalised ('20.50' == '20.5', '' == None)."""
    if v is None or v == "":
        return ""
    try:
        return repr(float(v))
    except (TypeError, ValueError):
        return str(v)


def cells_equal(exp, got, tolerance):
    """Compare an expected CSV cell (text) with a database value."""
    if exp == "":
        return got is None or got == ""
    if got is None:
        return False
    low = exp.lower()
    if isinstance(got, int) and low in ("true", "false"):
        return got == (1 if low == "true" else 0)
    if isinstance(got, (int, float)):
        try:
            e = float(exp)
        except ValueError:
            return False
        return abs(e - got) <= tolerance
    return exp == str(got)


def compare_table(conn, table, path, key_cols, rounded, as_of, ties):
    """Returns (cells compared, cells equal, missing rows, extra rows, mismatch examples)."""
    with open(path, newline="") as f:
        expected = list(csv.DictReader(f))
    if table == "prediction_performance_summary" and as_of:
        expected = [r for r in expected if r["as_of_date"] == as_of]
    cur = conn.execute("SELECT * FROM %s" % table)
    names = [d[0] for d in cur.description]
    got = {}
    for values in cur:
        row = dict(zip(names, values))
        if table == "prediction_performance_summary" and as_of and row["as_of_date"] != as_of:
            continue
        got[tuple(norm_key_part(row[k]) for k in key_cols)] = row
    compared = equal = missing = 0
    bad = {}
    seen = set()
    for exp in expected:
        key = tuple(norm_key_part(exp[k]) for k in key_cols)
        row = got.get(key)
        if row is None:
            missing += 1
            continue
        seen.add(key)
        for col, text in exp.items():
            if col in IGNORED or col not in row:
                continue
            if rounded:
                tol = 1e-12
                if (table, "|".join(exp[k] for k in key_cols), col) in ties:
                    decimals = len(text.split(".")[1]) if "." in text else 0
                    tol = 10 ** -decimals * 1.000001
            else:
                tol = 1e-9
            compared += 1
            if cells_equal(text, row[col], tol):
                equal += 1
            else:
                bad.setdefault(col, []).append((key, text, row[col]))
    extra = len(set(got) - seen)
    return compared, equal, missing, extra, bad


def load_ties(expected_dir):
    path = os.path.join(expected_dir, "rounding_ties.csv")
    if not os.path.exists(path):
        return set()
    with open(path, newline="") as f:
        return {(r["table"], r["key"], r["column"]) for r in csv.DictReader(f)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", default=os.path.join(GOLDEN, "inputs"))
    ap.add_argument("--expected", default=os.path.join(GOLDEN, "expected"))
    ap.add_argument("--as-of", default="2025-02-21", help="summary snapshot to compare")
    ap.add_argument("--db", default="/tmp/python_baseline_golden.sqlite")
    ap.add_argument("--no-run", action="store_true", help="compare an existing --db only")
    args = ap.parse_args()

    if not args.no_run:
        cmd = [sys.executable, os.path.join(HERE, "grade.py"), "--inputs", args.inputs,
               "--db", args.db, "--as-of", args.as_of]
        print("running:", " ".join(cmd), file=sys.stderr)
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if done.returncode != 0:
            print("grade.py failed with exit status %d" % done.returncode)
            return 1
        print("timings:", done.stdout.strip())

    conn = sqlite3.connect(args.db)
    ties = load_ties(args.expected)
    ok = True
    for table, filename, key_cols, rounded in TABLES:
        path = os.path.join(args.expected, filename)
        if not os.path.exists(path):
            print("%-32s (no expected file, skipped)" % table)
            continue
        compared, equal, missing, extra, bad = compare_table(
            conn, table, path, key_cols, rounded, args.as_of, ties)
        status = "OK" if equal == compared and not missing and not extra else "DIFF"
        ok = ok and status == "OK"
        print("%-32s %s: %d/%d cells match, %d expected rows missing, %d extra rows"
              % (table, status, equal, compared, missing, extra))
        for col, examples in sorted(bad.items()):
            print("    %-28s %d differ, e.g. key=%s expected=%r got=%r"
                  % (col, len(examples), "|".join(examples[0][0]), examples[0][1], examples[0][2]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
