#!/usr/bin/env python3
"""Plain-Python grading baseline: benchmark P10 of docs/PERFORMANCE.md.

This is what a data team would write instead of propgrade: a straightforward
implementation of the grading spec (shared/spec/grading.md) using only the
Python 3.11 standard library -- csv, sqlite3, dicts and loops. It is deliberately
not optimised beyond ordinary good Python (no numpy/pandas, no C extensions, no
multiprocessing); its only purpose is to be the "theirs" side of P10.

It does the same work as `propgrade import ...; propgrade grade --from --to`:

  1. import predictions.csv, actuals.csv, injuries.csv and (optional)
     archetypes.csv into a fresh SQLite file (spec section 1 tables, upsert on
     each table's key, later rows of a file win);
  2. grade every date from the first to the last game date of the inputs into
     `prediction_accuracy` (sections 2-3), with a `grading_runs` record per date;
  3. compute `system_daily_performance` for every successfully graded date (4);
  4. compute one `prediction_performance_summary` snapshot as of the last
     successfully graded date, or --as-of (5);
  5. write all outputs into the SQLite file, one transaction per partition,
     followed by the post-write duplicate check of section 6.

Timings are measured separately (wall clock): import_s (read CSVs + insert
inputs), compute_s (grading, daily and summary computed in memory, no storage),
store_s (writing outputs, including the duplicate checks), total_s; plus the
same split in process CPU seconds under "cpu" and a few row counts. They are
printed as one JSON object on stdout; progress goes to stderr.

Usage:
  python3 grade.py --inputs DIR --db OUT.sqlite [--as-of YYYY-MM-DD]
                   [--timings-json FILE]
The --db file is recreated from scratch on every run.
"""

import argparse
import csv
import datetime as dt
import hashlib
import json
import math
import os
import re
import secrets
import sqlite3
import sys
import time
from decimal import ROUND_HALF_UP, Decimal

# ---------------------------------------------------------------------------
# Schema (spec section 1 and 3.5 / 4 / 5.5). Types: text, date, ts, real,
# int, bool. A trailing "!" marks a required column.
# ---------------------------------------------------------------------------

INPUT_TABLES = {
    "player_prop_predictions": {
        "file": "predictions.csv",
        "columns": [
            ("prediction_id", "text!"), ("game_date", "date!"), ("game_id", "text!"),
            ("player_lookup", "text!"), ("system_id", "text!"), ("predicted_points", "real"),
            ("confidence_score", "real"), ("recommendation", "text"), ("line_value", "real"),
            ("line_source", "text"), ("has_prop_line", "bool"),
            ("estimated_line_value", "real"), ("pace_adjustment", "real"),
            ("similar_games_count", "int"), ("model_version", "text"), ("is_active", "bool"),
            ("is_actionable", "bool"), ("filter_reason", "text"),
            ("injury_status_at_prediction", "text"), ("injury_flag_at_prediction", "bool"),
            ("invalidation_reason", "text"), ("created_at", "ts!"),
        ],
        "key": ("prediction_id",),
        "aliases": {"current_points_line": "line_value"},
    },
    "player_game_summary": {
        "file": "actuals.csv",
        "columns": [
            ("game_date", "date!"), ("game_id", "text!"), ("player_lookup", "text!"),
            ("team_abbr", "text"), ("opponent_team_abbr", "text"), ("points", "int"),
            ("minutes_played", "minutes"), ("is_dnp", "bool"), ("dnp_reason", "text"),
        ],
        "key": ("game_date", "game_id", "player_lookup"),
        "aliases": {},
    },
    "injury_report": {
        "file": "injuries.csv",
        "columns": [
            ("game_date", "date!"), ("game_id", "text"), ("player_lookup", "text!"),
            ("injury_status", "text"), ("reason", "text"), ("reported_at", "ts!"),
        ],
        "key": ("game_date", "player_lookup", "reported_at"),
        "aliases": {},
    },
    "player_archetypes": {
        "file": "archetypes.csv",
        "optional": True,
        "columns": [("player_lookup", "text!"), ("archetype", "text")],
        "key": ("player_lookup",),
        "aliases": {},
    },
}

PA_COLUMNS = [
    "prediction_id", "player_lookup", "game_id", "game_date", "system_id", "team_abbr",
    "opponent_team_abbr", "predicted_points", "confidence_score", "confidence_decile",
    "recommendation", "line_value", "line_source", "has_prop_line", "estimated_line_value",
    "pace_adjustment", "similarity_sample_size", "model_version", "is_actionable",
    "filter_reason", "actual_points", "minutes_played", "absolute_error", "signed_error",
    "prediction_correct", "predicted_margin", "actual_margin", "within_3_points",
    "within_5_points", "is_push", "is_voided", "void_reason", "pre_game_injury_flag",
    "pre_game_injury_status", "injury_confirmed_postgame", "graded_at", "run_id",
]
PA_TYPES = {
    "confidence_decile": "INTEGER", "similarity_sample_size": "INTEGER",
    "actual_points": "INTEGER", "has_prop_line": "INTEGER", "is_actionable": "INTEGER",
    "prediction_correct": "INTEGER", "within_3_points": "INTEGER", "within_5_points": "INTEGER",
    "is_push": "INTEGER", "is_voided": "INTEGER", "pre_game_injury_flag": "INTEGER",
    "injury_confirmed_postgame": "INTEGER", "predicted_points": "REAL",
    "confidence_score": "REAL", "line_value": "REAL", "estimated_line_value": "REAL",
    "pace_adjustment": "REAL", "minutes_played": "REAL", "absolute_error": "REAL",
    "signed_error": "REAL", "predicted_margin": "REAL", "actual_margin": "REAL",
}

DAILY_COLUMNS = [
    "game_date", "system_id", "predictions_count", "voided_count", "recommendations_count",
    "correct_count", "incorrect_count", "push_count", "pass_count", "win_rate", "mae",
    "avg_bias", "over_count", "over_correct", "over_win_rate", "under_count", "under_correct",
    "under_win_rate", "within_3_count", "within_3_pct", "within_5_count", "within_5_pct",
    "avg_confidence", "high_confidence_count", "high_confidence_correct",
    "high_confidence_win_rate", "actionable_win_rate", "computed_at", "run_id",
]

SUMMARY_COLUMNS = [
    "as_of_date", "summary_key", "system_id", "period_type", "period_value",
    "period_start_date", "period_end_date", "player_lookup", "archetype", "confidence_tier",
    "situation", "total_predictions", "total_recommendations", "over_recommendations",
    "under_recommendations", "pass_recommendations", "hits", "misses", "hit_rate",
    "over_hit_rate", "under_hit_rate", "mae", "avg_bias", "within_3_pct", "within_5_pct",
    "avg_confidence", "unique_players", "unique_games", "data_hash", "computed_at", "run_id",
]

RUN_COLUMNS = [
    "game_date", "run_id", "status", "predictions_found", "source_duplicates", "actuals_found",
    "missing_actuals", "graded", "voided", "voided_injury", "voided_scratch", "voided_unknown",
    "pushes", "invalid_recommendations", "invalid_confidence", "mae", "bias",
    "recommendation_accuracy", "duplicate_groups", "duplicate_rows", "duration_seconds",
]

REAL_LINE_SOURCES = {"ACTUAL_PROP", "ODDS_API", "BETTINGPROS"}
NO_CALL = {"PASS", "HOLD", "NO_LINE"}
INJURY_CONFIRMED = {"OUT", "DOUBTFUL"}
INJURY_SCRATCH = {"QUESTIONABLE", "PROBABLE"}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------
# Numbers: rounding half away from zero on the shortest decimal string (3.3, 7.9)
# ---------------------------------------------------------------------------

_QUANT = {p: Decimal(1).scaleb(-p) for p in range(0, 7)}


def round_half_away(x, places):
    """Round a double's shortest repr half away from zero; None stays None, -0.0 -> 0.0."""
    if x is None:
        return None
    r = float(Decimal(repr(x)).quantize(_QUANT[places], rounding=ROUND_HALF_UP))
    return r + 0.0


def round_exact_ratio(num, den, places):
    """Round the exact rational num/den (ints, den > 0) half away from zero to `places`."""
    scale = 10 ** places
    a = abs(num) * scale
    k = (2 * a + den) // (2 * den)
    if num < 0:
        k = -k
    return k / scale + 0.0


def mean_of_stored(values, scale, places):
    """Exact mean of stored values with `scale` decimals (7.9), rounded; None when empty."""
    if not values:
        return None
    total = sum(round(v * 10 ** scale) for v in values)
    return round_exact_ratio(total, len(values) * 10 ** scale, places)


def rate(num, den, places=None):
    """num / den as a double (rounded when `places` given); None when den is 0."""
    if den == 0:
        return None
    r = num / den
    return r if places is None else round_half_away(r, places)


# ---------------------------------------------------------------------------
# 1. Import
# ---------------------------------------------------------------------------

class InputError(Exception):
    pass


_CONTROL_CHAR = re.compile("[\x00-\x1f\x7f]")  # rejected in text cells (3.5)


def parse_cell(kind, text):
    """Parse a non-empty CSV field of type `kind`; raises ValueError with a reason."""
    if kind == "text":
        bad = _CONTROL_CHAR.search(text)
        if bad:
            raise ValueError("control character 0x%02X in text" % ord(bad.group()))
        return text
    if kind == "real" or kind == "minutes":
        if kind == "minutes" and ":" in text:
            mins, _, secs = text.partition(":")
            if not (mins.isdigit() and len(secs) == 2 and secs.isdigit() and int(secs) <= 59):
                raise ValueError("not a number of minutes or MM:SS: %r" % text)
            return int(mins) + int(secs) / 60.0
        value = float(text)
        if not math.isfinite(value):
            raise ValueError("not a finite number: %r" % text)
        if kind == "minutes" and value < 0:
            raise ValueError("minutes must not be negative")
        return value + 0.0
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            value = float(text)
            if not math.isfinite(value) or value != int(value):
                raise ValueError("not an integer: %r" % text)
            return int(value)
    if kind == "bool":
        low = text.lower()
        if low in ("true", "1"):
            return True
        if low in ("false", "0"):
            return False
        raise ValueError("not a boolean (true/false/1/0): %r" % text)
    if kind == "date":
        if len(text) != 10:
            raise ValueError("not a valid date (YYYY-MM-DD): %r" % text)
        return dt.date.fromisoformat(text).isoformat()
    if kind == "ts":
        stamp = dt.datetime.fromisoformat(text)
        if stamp.tzinfo is None:
            raise ValueError("timestamp without a time zone: %r" % text)
        return stamp.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    raise AssertionError(kind)


def read_table_csv(path, table):
    """Yield typed row dicts of a CSV file in file order; raises InputError naming line/column."""
    spec = INPUT_TABLES[table]
    kinds = {name: kind.rstrip("!") for name, kind in spec["columns"]}
    required = {name for name, kind in spec["columns"] if kind.endswith("!")}
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None:
            raise InputError("%s: no data rows" % path)
        names = []
        for raw in header:
            name = raw.strip()
            name = spec["aliases"].get(name, name)
            if name not in kinds:
                raise InputError("%s:1: unknown column %r for table %s" % (path, name, table))
            if name in names:
                raise InputError("%s:1: duplicate column %r" % (path, name))
            names.append(name)
        for name in required:
            if name not in names:
                raise InputError("%s:1: missing required column %r" % (path, name))
        for fields in reader:
            line = reader.line_num
            if len(fields) != len(names):
                raise InputError("%s:%d: wrong number of columns: expected %d, found %d"
                                 % (path, line, len(names), len(fields)))
            row = dict.fromkeys(kinds)
            for name, text in zip(names, fields):
                if text == "":
                    if name in required:
                        raise InputError("%s:%d: column %r: required value is empty"
                                         % (path, line, name))
                    continue
                try:
                    row[name] = parse_cell(kinds[name], text)
                except ValueError as e:
                    raise InputError("%s:%d: column %r: %s" % (path, line, name, e)) from None
            yield row


def create_schema(conn):
    """Create the input and output tables (same names/columns as the spec) and their keys."""
    sqltype = {"text": "TEXT", "date": "TEXT", "ts": "TEXT", "real": "REAL",
               "minutes": "REAL", "int": "INTEGER", "bool": "INTEGER"}
    for table, spec in INPUT_TABLES.items():
        cols = ", ".join("%s %s%s" % (n, sqltype[k.rstrip("!")],
                                       " NOT NULL" if k.endswith("!") else "")
                         for n, k in spec["columns"])
        conn.execute("CREATE TABLE %s (%s, PRIMARY KEY (%s))"
                     % (table, cols, ", ".join(spec["key"])))
    conn.execute("CREATE TABLE prediction_accuracy (%s)" % ", ".join(
        "%s %s" % (c, PA_TYPES.get(c, "TEXT")) for c in PA_COLUMNS))
    # NULL lines must collide (3.6): index an expression rather than the raw column.
    conn.execute("CREATE UNIQUE INDEX ux_prediction_accuracy_key ON prediction_accuracy "
                 "(game_date, player_lookup, game_id, system_id, coalesce(line_value, x''))")
    conn.execute("CREATE TABLE system_daily_performance (%s, UNIQUE (game_date, system_id))"
                 % ", ".join(DAILY_COLUMNS))
    conn.execute("CREATE TABLE prediction_performance_summary (%s, UNIQUE (as_of_date, summary_key))"
                 % ", ".join(SUMMARY_COLUMNS))
    conn.execute("CREATE TABLE grading_runs (%s)" % ", ".join(RUN_COLUMNS))


def import_inputs(conn, inputs_dir):
    """Read the four CSVs, upsert them into SQLite, and return them as in-memory dicts.

    Returns {table: {key tuple: row dict}}; within a file a repeated key keeps the later row
    (7.3), exactly as the INSERT OR REPLACE applied in file order does in the database.
    """
    data = {}
    for table, spec in INPUT_TABLES.items():
        path = os.path.join(inputs_dir, spec["file"])
        if not os.path.exists(path):
            if spec.get("optional"):
                data[table] = {}
                continue
            raise InputError("%s: missing input file" % path)
        names = [n for n, _ in spec["columns"]]
        key = spec["key"]
        sql = "INSERT OR REPLACE INTO %s (%s) VALUES (%s)" % (
            table, ", ".join(names), ", ".join("?" * len(names)))
        rows = {}
        batch = []
        replaced = 0
        for row in read_table_csv(path, table):
            k = tuple(row[c] for c in key)
            if k in rows:
                replaced += 1
            rows[k] = row
            batch.append(tuple(row[c] for c in names))
        if not batch and not spec.get("optional"):
            raise InputError("%s: no data rows" % path)
        with conn:
            conn.executemany(sql, batch)
        data[table] = rows
        log("  %s: %d rows (%d new, %d replaced)"
            % (table, len(batch), len(batch) - replaced, replaced))
    return data


# ---------------------------------------------------------------------------
# 2-3. Grading one date
# ---------------------------------------------------------------------------

def new_run_id(clock):
    return clock.strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(4)


def utc_now_text():
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def build_indexes(data):
    """Group the inputs for grading: predictions and actual counts by date, latest report per
    (date, player) before the day after the date ends (7.4)."""
    preds_by_date = {}
    for p in data["player_prop_predictions"].values():
        preds_by_date.setdefault(p["game_date"], []).append(p)
    actual_count = {}
    for (day, _, _) in data["player_game_summary"]:
        actual_count[day] = actual_count.get(day, 0) + 1
    latest_report = {}
    for r in data["injury_report"].values():
        day = r["game_date"]
        cutoff = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
        if r["reported_at"] >= cutoff + "T00:00:00.000000Z":
            continue
        k = (day, r["player_lookup"])
        best = latest_report.get(k)
        if best is None or r["reported_at"] > best["reported_at"]:
            latest_report[k] = r
    return preds_by_date, actual_count, latest_report


def select_predictions(preds):
    """Section 2 steps 1-2: active, not invalidated, one row per business key.

    Returns (kept rows, predictions_found, source_duplicates)."""
    found = [p for p in preds if p["is_active"] is not False and p["invalidation_reason"] is None]
    best = {}
    for p in found:
        line = p["line_value"]
        k = (p["game_date"], p["player_lookup"], p["game_id"], p["system_id"],
             None if line is None else round_half_away(line, 2))
        cur = best.get(k)
        if cur is None or (p["created_at"], p["prediction_id"].encode()) > \
                (cur["created_at"], cur["prediction_id"].encode()):
            best[k] = p
    return list(best.values()), len(found), len(found) - len(best)


def void_evidence(p, report):
    """3.1 for a DNP row: (void_reason, pre_game_injury_flag, status, injury_confirmed)."""
    cap_status = p["injury_status_at_prediction"]
    cap_flag = p["injury_flag_at_prediction"]
    if cap_status is not None or cap_flag is not None:  # captured evidence (7.5)
        status = cap_status.upper() if cap_status is not None else None
        if status in INJURY_CONFIRMED:
            return "dnp_injury_confirmed", True, status, True
        if status in INJURY_SCRATCH:
            return "dnp_late_scratch", True, status, True
        return "dnp_unknown", cap_flag is True, status, False
    if report is None:
        return "dnp_unknown", False, None, False
    status = report["injury_status"]
    status = status.upper() if status is not None else None
    if status in INJURY_CONFIRMED:
        return "dnp_injury_confirmed", True, status, True
    if status in INJURY_SCRATCH:
        return "dnp_late_scratch", True, status, True
    return "dnp_unknown", False, status, False


def grade_row(p, a, report, graded_at, run_id, counts):
    """Section 3: one prediction_accuracy row from prediction p and its actual row a.

    Updates counts['invalid_recommendations'] and counts['invalid_confidence']."""
    pp, line, y, m = p["predicted_points"], p["line_value"], a["points"], a["minutes_played"]

    # 3.4 confidence
    c = p["confidence_score"]
    if c is not None:
        if 1.0 < c <= 100.0:
            c = c / 100.0
        elif not 0.0 <= c <= 1.0:
            c = None
            counts["invalid_confidence"] += 1
    decile = None if c is None else min(10, math.floor(c * 10) + 1)

    # 3.1 DNP voiding
    dnp = a["is_dnp"] is True or y is None or (y == 0 and (m is None or m == 0))
    if dnp:
        void_reason, inj_flag, inj_status, inj_confirmed = void_evidence(p, report)
    else:
        void_reason, inj_flag, inj_status, inj_confirmed = None, False, None, False

    # 3.2 recommendation correctness and 3.3 push
    rec = p["recommendation"]
    rec = rec.strip().upper() if rec is not None else None
    real_line = (line is not None and p["has_prop_line"] is not False
                 and (p["line_source"] is None or p["line_source"] in REAL_LINE_SOURCES))
    is_push = (not dnp) and real_line and y == line
    correct = None
    if not dnp and rec is not None and rec not in NO_CALL:
        if rec not in ("OVER", "UNDER"):
            counts["invalid_recommendations"] += 1
        elif real_line and y != line:
            correct = (y > line) == (rec == "OVER")

    # 3.3 errors and margins, from unrounded inputs
    abs_err = signed_err = within3 = within5 = actual_margin = None
    if not dnp and pp is not None:
        diff = pp - y
        abs_err = round_half_away(abs(diff), 2)
        signed_err = round_half_away(diff, 2)
        within3 = abs(diff) <= 3.0
        within5 = abs(diff) <= 5.0
    if not dnp and line is not None:
        actual_margin = round_half_away(y - line, 2)
    predicted_margin = round_half_away(pp - line, 2) if pp is not None and line is not None else None

    return {
        "prediction_id": p["prediction_id"], "player_lookup": p["player_lookup"],
        "game_id": p["game_id"], "game_date": p["game_date"], "system_id": p["system_id"],
        "team_abbr": a["team_abbr"], "opponent_team_abbr": a["opponent_team_abbr"],
        "predicted_points": round_half_away(pp, 2),
        "confidence_score": round_half_away(c, 4), "confidence_decile": decile,
        "recommendation": rec, "line_value": round_half_away(line, 2),
        "line_source": p["line_source"], "has_prop_line": p["has_prop_line"] is not False,
        "estimated_line_value": round_half_away(p["estimated_line_value"], 1),
        "pace_adjustment": round_half_away(p["pace_adjustment"], 4),
        "similarity_sample_size": p["similar_games_count"], "model_version": p["model_version"],
        "is_actionable": p["is_actionable"] is not False, "filter_reason": p["filter_reason"],
        "actual_points": y, "minutes_played": m,
        "absolute_error": abs_err, "signed_error": signed_err, "prediction_correct": correct,
        "predicted_margin": predicted_margin, "actual_margin": actual_margin,
        "within_3_points": within3, "within_5_points": within5, "is_push": is_push,
        "is_voided": dnp, "void_reason": void_reason, "pre_game_injury_flag": inj_flag,
        "pre_game_injury_status": inj_status, "injury_confirmed_postgame": inj_confirmed,
        "graded_at": graded_at, "run_id": run_id,
    }


def grade_date(day, preds, actuals, actual_count, latest_report):
    """Grade one date (sections 2-3). Returns (prediction_accuracy rows, run record)."""
    started = time.perf_counter()
    clock = dt.datetime.now(dt.timezone.utc)
    run_id = new_run_id(clock)
    graded_at = clock.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    kept, found, dups = select_predictions(preds)
    counts = {"invalid_recommendations": 0, "invalid_confidence": 0}
    rows, missing = [], 0
    for p in kept:
        a = actuals.get((day, p["game_id"], p["player_lookup"]))
        if a is None:
            missing += 1
            continue
        report = latest_report.get((day, p["player_lookup"]))
        rows.append(grade_row(p, a, report, graded_at, run_id, counts))

    if not kept:
        status = "no_predictions"
    elif not rows:
        status = "no_actuals"
    else:
        status = "success"
    live = [r for r in rows if not r["is_voided"]]
    errors = [r for r in live if r["absolute_error"] is not None]
    correct = sum(1 for r in live if r["prediction_correct"] is True)
    decided = sum(1 for r in live if r["prediction_correct"] is not None)
    voided = [r["void_reason"] for r in rows if r["is_voided"]]
    run = {
        "game_date": day, "run_id": run_id, "status": status, "predictions_found": found,
        "source_duplicates": dups, "actuals_found": actual_count.get(day, 0),
        "missing_actuals": missing, "graded": len(rows), "voided": len(voided),
        "voided_injury": voided.count("dnp_injury_confirmed"),
        "voided_scratch": voided.count("dnp_late_scratch"),
        "voided_unknown": voided.count("dnp_unknown"),
        "pushes": sum(1 for r in rows if r["is_push"]),
        "invalid_recommendations": counts["invalid_recommendations"],
        "invalid_confidence": counts["invalid_confidence"],
        "mae": mean_of_stored([r["absolute_error"] for r in errors], 2, 2),
        "bias": mean_of_stored([r["signed_error"] for r in errors], 2, 2),
        "recommendation_accuracy": rate(correct * 100, decided, 1),
        "duplicate_groups": None, "duplicate_rows": None,
        "duration_seconds": time.perf_counter() - started,
    }
    return rows, run


# ---------------------------------------------------------------------------
# 4. system_daily_performance
# ---------------------------------------------------------------------------

def win_counts(rows):
    """(correct, decided) over rows' prediction_correct."""
    correct = sum(1 for r in rows if r["prediction_correct"] is True)
    decided = sum(1 for r in rows if r["prediction_correct"] is not None)
    return correct, decided


def daily_row(day, system_id, rows, computed_at, run_id):
    """One system_daily_performance row from a (date, system)'s prediction_accuracy rows."""
    live = [r for r in rows if not r["is_voided"]]
    errors = [r for r in live if r["absolute_error"] is not None]
    over = [r for r in live if r["recommendation"] == "OVER"]
    under = [r for r in live if r["recommendation"] == "UNDER"]
    confs = [r["confidence_score"] for r in live if r["confidence_score"] is not None]
    high = [r for r in live if r["confidence_score"] is not None and r["confidence_score"] >= 0.70]
    actionable = [r for r in live if r["is_actionable"]]
    correct, decided = win_counts(live)
    over_c, over_d = win_counts(over)
    under_c, under_d = win_counts(under)
    high_c, high_d = win_counts(high)
    act_c, act_d = win_counts(actionable)
    w3 = sum(1 for r in errors if r["within_3_points"])
    w5 = sum(1 for r in errors if r["within_5_points"])
    return {
        "game_date": day, "system_id": system_id, "predictions_count": len(rows),
        "voided_count": len(rows) - len(live), "recommendations_count": len(over) + len(under),
        "correct_count": correct, "incorrect_count": decided - correct,
        "push_count": sum(1 for r in rows if r["is_push"]),
        "pass_count": sum(1 for r in live if r["recommendation"] in NO_CALL),
        "win_rate": rate(correct, decided, 3),
        "mae": mean_of_stored([r["absolute_error"] for r in errors], 2, 2),
        "avg_bias": mean_of_stored([r["signed_error"] for r in errors], 2, 2),
        "over_count": len(over), "over_correct": over_c, "over_win_rate": rate(over_c, over_d, 3),
        "under_count": len(under), "under_correct": under_c,
        "under_win_rate": rate(under_c, under_d, 3),
        "within_3_count": w3, "within_3_pct": rate(w3, len(errors), 3),
        "within_5_count": w5, "within_5_pct": rate(w5, len(errors), 3),
        "avg_confidence": mean_of_stored(confs, 4, 3),
        "high_confidence_count": len(high), "high_confidence_correct": high_c,
        "high_confidence_win_rate": rate(high_c, high_d, 3),
        "actionable_win_rate": rate(act_c, act_d, 3),
        "computed_at": computed_at, "run_id": run_id,
    }


def daily_performance(day, rows, run_id):
    """All system_daily_performance rows of one successfully graded date."""
    by_system = {}
    for r in rows:
        by_system.setdefault(r["system_id"], []).append(r)
    computed_at = utc_now_text()
    return [daily_row(day, s, by_system[s], computed_at, run_id) for s in sorted(by_system)]


# ---------------------------------------------------------------------------
# 5. prediction_performance_summary
# ---------------------------------------------------------------------------

def periods_for(as_of):
    """5.1: [(period_type, period_value, start date text, end date text)] for date `as_of`."""
    a = dt.date.fromisoformat(as_of)
    season_year = a.year if a.month >= 10 else a.year - 1
    return [
        ("rolling_7d", as_of, (a - dt.timedelta(days=6)).isoformat(), as_of),
        ("rolling_30d", as_of, (a - dt.timedelta(days=29)).isoformat(), as_of),
        ("month", as_of[:7], a.replace(day=1).isoformat(), as_of),
        ("season", "%d-%02d" % (season_year, (season_year + 1) % 100),
         dt.date(season_year, 10, 1).isoformat(), as_of),
    ]


def confidence_tier(c):
    """5.3.4 on the stored 4-place confidence; None when outside every tier."""
    if c is None:
        return None
    if 0.70 <= c <= 1.0:
        return "high"
    if 0.55 <= c < 0.70:
        return "medium"
    if 0.0 <= c < 0.55:
        return "low"
    return None


def situation(row, warnings):
    """5.3.5: 'home', 'away' or None; counts unparseable game_ids in warnings."""
    parts = row["game_id"].split("_")
    if len(parts) != 3:
        warnings["unparsed_game_id"] += 1
        return None
    team = row["team_abbr"]
    if team is None:
        return None
    if team == parts[2]:
        return "home"
    if team == parts[1]:
        return "away"
    return None


def slice_metrics(rows):
    """5.4 metrics of one slice (unrounded rates; voided rows only in total_predictions)."""
    live = [r for r in rows if not r["is_voided"]]
    errors = [r for r in live if r["absolute_error"] is not None]
    over = [r for r in live if r["recommendation"] == "OVER"]
    under = [r for r in live if r["recommendation"] == "UNDER"]
    confs = [r["confidence_score"] for r in live if r["confidence_score"] is not None]
    hits, decided = win_counts(live)
    over_hits, over_decided = win_counts(over)
    under_hits, under_decided = win_counts(under)
    n_err = len(errors)
    return {
        "total_predictions": len(rows),
        "total_recommendations": len(over) + len(under),
        "over_recommendations": len(over), "under_recommendations": len(under),
        "pass_recommendations": sum(1 for r in live if r["recommendation"] in NO_CALL),
        "hits": hits, "misses": decided - hits,
        "hit_rate": rate(hits, decided),
        "over_hit_rate": rate(over_hits, over_decided),
        "under_hit_rate": rate(under_hits, under_decided),
        "mae": sum(r["absolute_error"] for r in errors) / n_err if n_err else None,
        "avg_bias": sum(r["signed_error"] for r in errors) / n_err if n_err else None,
        "within_3_pct": rate(sum(1 for r in errors if r["within_3_points"]), n_err),
        "within_5_pct": rate(sum(1 for r in errors if r["within_5_points"]), n_err),
        "avg_confidence": sum(confs) / len(confs) if confs else None,
        "unique_players": len({r["player_lookup"] for r in live}),
        "unique_games": len({r["game_id"] for r in live}),
    }


def summary_row(as_of, system_id, period, dims, rows, computed_at, run_id):
    """One prediction_performance_summary row; dims = (player, archetype, tier, situation)."""
    ptype, pvalue, start, end = period
    metrics = slice_metrics(rows)
    key = "|".join([system_id, ptype, pvalue] + [d if d is not None else "NULL" for d in dims])
    digest = hashlib.sha256(("%d|%d|%d" % (metrics["hits"], metrics["misses"],
                                           metrics["total_predictions"])).encode()).hexdigest()
    row = {
        "as_of_date": as_of, "summary_key": key, "system_id": system_id, "period_type": ptype,
        "period_value": pvalue, "period_start_date": start, "period_end_date": end,
        "player_lookup": dims[0], "archetype": dims[1], "confidence_tier": dims[2],
        "situation": dims[3],
    }
    row.update(metrics)
    row.update({"data_hash": digest[:16], "computed_at": computed_at, "run_id": run_id})
    return row


def performance_summary(as_of, all_rows, archetypes, run_id):
    """Section 5: the snapshot as of `as_of` from every prediction_accuracy row given.

    Returns (summary rows, warnings dict)."""
    warnings = {"unparsed_game_id": 0}
    computed_at = utc_now_text()
    periods = periods_for(as_of)
    active_from = (dt.date.fromisoformat(as_of) - dt.timedelta(days=90)).isoformat()
    window_from = min([active_from] + [p[2] for p in periods])
    by_system = {}
    for r in all_rows:
        if window_from <= r["game_date"] <= as_of:
            by_system.setdefault(r["system_id"], []).append(r)

    out = []
    for system_id in sorted(by_system):
        sys_rows = by_system[system_id]
        if not any(r["game_date"] >= active_from for r in sys_rows):
            continue  # not active (5.2)
        for period in periods:
            rows = [r for r in sys_rows if period[2] <= r["game_date"] <= period[3]]
            if not rows:
                continue

            def emit(dims, slice_rows):
                out.append(summary_row(as_of, system_id, period, dims, slice_rows,
                                       computed_at, run_id))

            emit((None, None, None, None), rows)

            by_player = {}
            for r in rows:
                by_player.setdefault(r["player_lookup"], []).append(r)
            big = [pl for pl, prs in by_player.items() if len(prs) >= 5]
            big.sort(key=lambda pl: (-len(by_player[pl]), pl))
            for pl in big[:200]:
                emit((pl, None, None, None), by_player[pl])

            by_arch = {}
            for r in rows:
                arch = archetypes.get(r["player_lookup"])
                if arch is not None:
                    by_arch.setdefault(arch, []).append(r)
            for arch in sorted(by_arch):
                if len(by_arch[arch]) >= 10:
                    emit((None, arch, None, None), by_arch[arch])

            by_tier = {}
            for r in rows:
                tier = confidence_tier(r["confidence_score"])
                if tier is not None:
                    by_tier.setdefault(tier, []).append(r)
            for tier in ("high", "medium", "low"):
                if tier in by_tier:
                    emit((None, None, tier, None), by_tier[tier])

            by_sit = {}
            for r in rows:
                sit = situation(r, warnings)
                if sit is not None:
                    by_sit.setdefault(sit, []).append(r)
            for sit in ("home", "away"):
                if sit in by_sit:
                    emit((None, None, None, sit), by_sit[sit])
    return out, warnings


# ---------------------------------------------------------------------------
# Storage of outputs
# ---------------------------------------------------------------------------

def pa_sort_key(r):
    line = r["line_value"]
    return (r["game_date"], r["player_lookup"], r["game_id"], r["system_id"],
            line is not None, line if line is not None else 0.0)


def store_partition(conn, table, part_col, part_value, columns, rows, key_sql):
    """Replace one partition in one transaction, then run the duplicate check (section 6).

    Returns (duplicate_groups, duplicate_rows)."""
    sql = "INSERT INTO %s (%s) VALUES (%s)" % (table, ", ".join(columns),
                                                ", ".join("?" * len(columns)))
    with conn:
        conn.execute("DELETE FROM %s WHERE %s = ?" % (table, part_col), (part_value,))
        conn.executemany(sql, [tuple(r[c] for c in columns) for r in rows])
    groups, surplus = conn.execute(
        "SELECT count(*), coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM %s "
        "WHERE %s = ? GROUP BY %s HAVING count(*) > 1)" % (table, part_col, key_sql),
        (part_value,)).fetchone()
    return groups, surplus


def store_outputs(conn, graded, daily, summary, as_of, runs):
    """Write every output partition; fills each run's duplicate_groups/duplicate_rows."""
    pa_key = "game_date, player_lookup, game_id, system_id, coalesce(line_value, x'')"
    for run in runs:
        day = run["game_date"]
        if run["status"] != "success":
            continue
        rows = sorted(graded[day], key=pa_sort_key)
        run["duplicate_groups"], run["duplicate_rows"] = store_partition(
            conn, "prediction_accuracy", "game_date", day, PA_COLUMNS, rows, pa_key)
        if daily.get(day):
            store_partition(conn, "system_daily_performance", "game_date", day,
                            DAILY_COLUMNS, daily[day], "game_date, system_id")
    if summary:
        summary = sorted(summary, key=lambda r: r["summary_key"])
        store_partition(conn, "prediction_performance_summary", "as_of_date", as_of,
                        SUMMARY_COLUMNS, summary, "as_of_date, summary_key")
    with conn:
        conn.executemany("INSERT INTO grading_runs (%s) VALUES (%s)"
                         % (", ".join(RUN_COLUMNS), ", ".join("?" * len(RUN_COLUMNS))),
                         [tuple(r[c] for c in RUN_COLUMNS) for r in runs])


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

def date_range(first, last):
    d, end = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    while d <= end:
        yield d.isoformat()
        d += dt.timedelta(days=1)


def open_db(path):
    """A fresh SQLite file with propgrade's pragmas (WAL, synchronous=NORMAL, 64 MiB cache)."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA cache_size=-65536")
    conn.execute("PRAGMA temp_store=MEMORY")
    return conn


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inputs", required=True, help="directory with predictions.csv, actuals.csv, "
                    "injuries.csv and (optional) archetypes.csv")
    ap.add_argument("--db", required=True, help="SQLite file to (re)create")
    ap.add_argument("--as-of", help="summary as-of date (default: last successfully graded date)")
    ap.add_argument("--timings-json", help="also write the timings JSON here")
    args = ap.parse_args(argv)

    t0, c0 = time.perf_counter(), time.process_time()
    conn = open_db(args.db)
    create_schema(conn)
    log("importing %s" % args.inputs)
    try:
        data = import_inputs(conn, args.inputs)
    except InputError as e:
        log("input error: %s" % e)
        return 2
    t1, c1 = time.perf_counter(), time.process_time()

    # --- compute (in memory, nothing written) ---
    preds_by_date, actual_count, latest_report = build_indexes(data)
    all_dates = set(preds_by_date) | set(actual_count)
    if not all_dates:
        log("no input rows")
        return 2
    actuals = data["player_game_summary"]
    graded, daily, runs = {}, {}, []
    for day in date_range(min(all_dates), max(all_dates)):
        rows, run = grade_date(day, preds_by_date.get(day, []), actuals, actual_count,
                               latest_report)
        runs.append(run)
        if run["status"] == "success":
            graded[day] = rows
            daily[day] = daily_performance(day, rows, run["run_id"])
        log("%s grading %s graded=%d voided=%d missing_actuals=%d source_duplicates=%d"
            % (day, run["status"], run["graded"], run["voided"], run["missing_actuals"],
               run["source_duplicates"]))
    as_of = args.as_of or (max(graded) if graded else None)
    summary, warnings = [], {}
    if as_of is not None:
        all_rows = [r for day in graded for r in graded[day]]
        archetypes = {k[0]: v["archetype"] for k, v in data["player_archetypes"].items()}
        summary, warnings = performance_summary(as_of, all_rows, archetypes,
                                                new_run_id(dt.datetime.now(dt.timezone.utc)))
        log("summary as of %s: %d rows%s" % (as_of, len(summary),
            " (warning: %d rows with unparseable game_id)" % warnings["unparsed_game_id"]
            if warnings.get("unparsed_game_id") else ""))
    t2, c2 = time.perf_counter(), time.process_time()

    # --- store ---
    store_outputs(conn, graded, daily, summary, as_of, runs)
    conn.close()
    t3, c3 = time.perf_counter(), time.process_time()

    timings = {
        "import_s": round(t1 - t0, 3), "compute_s": round(t2 - t1, 3),
        "store_s": round(t3 - t2, 3), "total_s": round(t3 - t0, 3),
        # CPU seconds of this process per phase (less sensitive to a busy machine than wall).
        "cpu": {"import_s": round(c1 - c0, 3), "compute_s": round(c2 - c1, 3),
                "store_s": round(c3 - c2, 3), "total_s": round(c3 - c0, 3)},
        "graded_rows": sum(len(v) for v in graded.values()),
        "daily_rows": sum(len(v) for v in daily.values()),
        "summary_rows": len(summary), "dates": len(runs), "as_of": as_of,
    }
    text = json.dumps(timings)
    print(text)
    if args.timings_json:
        with open(args.timings_json, "w") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
