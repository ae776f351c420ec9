#!/usr/bin/env python3
"""Runs every benchmark of spec/performance.md side by side and renders docs/PERFORMANCE.md.

Called by bench/run.sh after the Release build and with the servers started (it exports
PROPGRADE_TEST_PG_URL and PROPGRADE_TEST_ETCD). Each step appends JSON lines (bench/README.md)
to OUT/results.jsonl; a step that fails records an error line and the run goes on, and the
exit status is 1 when any step failed. Standard library only.

  bench/run_all.py --build build/release --out build/release/bench [--tiny] [--repeats N]
                   [--scales 1,2,5,10] [--doc docs/PERFORMANCE.md] [--plot docs/perf-scaling.png]
                   [--against OTHER_BUILD_DIR]
"""
import argparse
import json
import os
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN = os.path.join(ROOT, "tests", "fixtures", "golden", "inputs")
INPUT_TABLES = [("player_prop_predictions", "predictions"), ("player_game_summary", "actuals"),
                ("injury_report", "injuries"), ("player_archetypes", "archetypes")]
OUTPUT_TABLES = ["prediction_accuracy", "system_daily_performance",
                 "prediction_performance_summary"]
DEMO_TODAY = "2026-04-15"  # the demo season ends the day before


class Bench:
    def __init__(self, args):
        self.a = args
        self.bin = os.path.abspath(args.build)
        self.out = os.path.abspath(args.out)
        self.work = os.path.join(self.out, "work")
        os.makedirs(self.work, exist_ok=True)
        self.results_path = os.path.join(self.out, "results.jsonl")
        open(self.results_path, "w").close()
        self.failed = []

    # --- plumbing -------------------------------------------------------------------------

    def log(self, msg):
        print("[bench] " + msg, file=sys.stderr, flush=True)

    def emit(self, obj):
        with open(self.results_path, "a") as f:
            f.write(json.dumps(obj) + "\n")

    def fail(self, step, err):
        self.log("%s FAILED: %s" % (step, err))
        self.failed.append(step)
        self.emit({"id": step, "error": str(err)[-2000:]})

    def propgrade(self, db, *args, check=True, env=None):
        cmd = [os.path.join(self.bin, "propgrade"), "--db", db] + list(args)
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env)
        if check and r.returncode != 0:
            raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd[3:5]), r.returncode,
                                                    r.stderr[-1500:]))
        return r

    def timed(self, cmd, env=None):
        """Runs cmd under /usr/bin/time; returns (wall seconds, peak RSS MiB, stdout)."""
        stats = os.path.join(self.work, "time.txt")
        full = ["/usr/bin/time", "-f", "%e %M", "-o", stats] + cmd
        start = time.monotonic()
        r = subprocess.run(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=env)
        wall = time.monotonic() - start
        if r.returncode != 0:
            raise RuntimeError("%s: exit %d: %s" % (" ".join(cmd[:6]), r.returncode,
                                                    r.stderr[-1500:]))
        with open(stats) as f:
            _, rss_kb = f.read().split()[-2:]
        return wall, int(rss_kb) / 1024.0, r.stdout

    def program(self, name, *args):
        """Runs a bench program; returns its JSON lines."""
        path = os.path.join(self.bin, "bench", name)
        if not os.path.exists(path):
            raise RuntimeError("%s is not built" % path)
        r = subprocess.run([path] + [str(a) for a in args], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError("%s: exit %d: %s" % (name, r.returncode, r.stderr[-1500:]))
        lines = [json.loads(l) for l in r.stdout.splitlines() if l.strip().startswith("{")]
        if not lines:
            raise RuntimeError("%s printed no measurement: %s" % (name, r.stderr[-500:]))
        return lines

    def step(self, name, fn):
        self.log("== " + name)
        try:
            fn()
        except Exception as e:  # a failed step is reported, the others still run
            self.fail(name, e)

    def measure(self, id_, workload, ours, compare, theirs, unit, target, met, **extra):
        self.emit({"id": id_, "workload": workload, "ours": ours, "compare": compare,
                   "theirs": theirs, "unit": unit,
                   "ratio": (ours / theirs) if theirs else None, "target": target,
                   "met": bool(met), "extra": extra})

    # --- inputs -----------------------------------------------------------------------------

    def inputs(self, scale):
        """A SQLite file holding only the inputs at `scale` and their CSVs (cached)."""
        d = os.path.join(self.work, "inputs-%s" % ("tiny" if self.a.tiny else scale))
        db = os.path.join(d, "inputs.db")
        if os.path.exists(os.path.join(d, "done")):
            return d, db
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        if self.a.tiny:
            for _, kind in INPUT_TABLES:
                shutil.copy(os.path.join(GOLDEN, kind + ".csv"), os.path.join(d, kind + ".csv"))
        else:
            demo = os.path.join(d, "demo.db")
            self.log("generating the demo season at scale %d" % scale)
            self.propgrade("sqlite:" + demo, "demo", "--seed", "42", "--scale", str(scale),
                           "--today", DEMO_TODAY)
            for table, kind in INPUT_TABLES:
                r = self.propgrade("sqlite:" + demo, "export", table, "--format", "csv")
                with open(os.path.join(d, kind + ".csv"), "w") as f:
                    f.write(r.stdout)
            os.remove(demo)
        for _, kind in INPUT_TABLES:
            self.propgrade("sqlite:" + db, "import", kind, os.path.join(d, kind + ".csv"))
        open(os.path.join(d, "done"), "w").close()
        return d, db

    @staticmethod
    def date_range(db):
        c = sqlite3.connect(db)
        lo, hi = c.execute("SELECT min(game_date), max(game_date) FROM player_prop_predictions"
                           ).fetchone()
        c.close()
        return lo, hi

    @staticmethod
    def count_rows(db):
        c = sqlite3.connect(db)
        n = {t: c.execute("SELECT count(*) FROM " + t).fetchone()[0] for t in OUTPUT_TABLES}
        c.close()
        return n

    def fresh_copy(self, db, name):
        target = os.path.join(self.work, name)
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(target + suffix):
                os.remove(target + suffix)
        shutil.copy(db, target)
        return target

    # --- P1, P2: the season end to end against the raw writer --------------------------------

    def p1(self):
        self.scaling = []
        for scale in self.a.scales:
            d, inputs = self.inputs(scale)
            lo, hi = self.date_range(inputs)
            repeats = self.a.repeats if scale == self.a.scales[0] else 1
            first, regrade, rss = [], [], []
            for i in range(repeats):
                g = self.fresh_copy(inputs, "p1.db")
                cmd = [os.path.join(self.bin, "propgrade"), "--db", "sqlite:" + g,
                       "grade", "--from", lo, "--to", hi]
                wall, peak, _ = self.timed(cmd)
                first.append(wall)
                rss.append(peak)
                wall, peak, _ = self.timed(cmd)
                regrade.append(wall)
                rss.append(peak)
                self.log("scale %d run %d: first %.1f s, re-grade %.1f s" %
                         (scale, i + 1, first[-1], regrade[-1]))
            rows = self.count_rows(g)
            written = sum(rows.values())
            if scale == self.a.scales[0]:
                self.p1_synchronous(lo, hi, inputs, repeats)
            raw = {}
            for mode in ("first", "regrade"):
                args = ["--graded", "sqlite:" + g, "--target", os.path.join(self.work, "raw.db"),
                        "--repeats", str(repeats)]
                if mode == "regrade":
                    args.append("--regrade")
                lines = self.program("propgrade_raw_write_bench", *args)
                raw[mode] = raw_seconds(lines)
            f, r = statistics.median(first), statistics.median(regrade)
            systems = 6 * scale
            if scale == self.a.scales[0]:
                self.measure("P1", "grade --from --to, first grade (%d dates, %d systems)" %
                             (days_between(lo, hi), systems), f, "raw writer, same rows",
                             raw["first"], "s", "<= 2x", f <= 2 * raw["first"],
                             rows_written=written, **rows)
                self.measure("P1", "grade --from --to, re-grade over existing rows", r,
                             "raw writer, delete + insert per partition", raw["regrade"], "s",
                             "<= 2x", r <= 2 * raw["regrade"], rows_written=written)
            self.scaling.append({"scale": scale, "systems": systems, "rows": written,
                                 "first_s": f, "regrade_s": r, "raw_s": raw["first"],
                                 "rss_mb": max(rss)})
            self.emit({"id": "P2-scale", **self.scaling[-1]})
        if len(self.scaling) > 1:
            base, top = self.scaling[0], self.scaling[-1]
            per_row = lambda s: s["first_s"] / s["rows"]
            growth = per_row(top) / per_row(base)
            self.measure("P2", "cost per written row, scale %d vs scale %d" %
                         (top["scale"], base["scale"]), per_row(top) * 1e6,
                         "scale %d" % base["scale"], per_row(base) * 1e6, "us/row",
                         "<= 1.3x", growth <= 1.3)
            self.measure("P2", "peak RSS of grade at scale %d" % top["scale"], top["rss_mb"],
                         "target", 300.0, "MiB", "<= 300 MiB", top["rss_mb"] <= 300)

    def p1_synchronous(self, lo, hi, inputs, repeats):
        """What synchronous=FULL (the default) costs: P1's first grade with NORMAL beside it,
        and the raw writer with each setting."""
        config = os.path.join(self.work, "synchronous-normal.toml")
        with open(config, "w") as f:
            f.write('[sqlite]\nsynchronous = "normal"\n')
        walls = {"full": [], "normal": []}
        for _ in range(repeats):
            for mode in ("full", "normal"):
                g = self.fresh_copy(inputs, "p1-sync.db")
                cmd = [os.path.join(self.bin, "propgrade"), "--db", "sqlite:" + g]
                if mode == "normal":
                    cmd += ["--config", config]
                wall, _, _ = self.timed(cmd + ["grade", "--from", lo, "--to", hi])
                walls[mode].append(wall)
        full, normal = statistics.median(walls["full"]), statistics.median(walls["normal"])
        raw = {}
        for mode in ("full", "normal"):
            lines = self.program("propgrade_raw_write_bench", "--graded", "sqlite:" + g,
                                 "--target", os.path.join(self.work, "raw-sync.db"),
                                 "--repeats", str(repeats), "--synchronous", mode)
            raw[mode] = raw_seconds(lines)
        self.measure("P1-sync", "grade --from --to, first grade, synchronous=FULL (the default)",
                     full, "the same with [sqlite] synchronous = \"normal\" (raw writer: "
                     "%.2f s FULL, %.2f s NORMAL)" % (raw["full"], raw["normal"]), normal, "s",
                     "report (durability's cost)", True, raw_full_s=raw["full"],
                     raw_normal_s=raw["normal"])

    # --- P3, P7: one date re-graded -------------------------------------------------------

    def p3(self):
        n = 2000 if self.a.tiny else 10000
        db = os.path.join(self.work, "p3.db")
        for s in ("", "-wal", "-shm"):
            if os.path.exists(db + s):
                os.remove(db + s)
        for line in self.program("propgrade_write_bench", "--db", "sqlite:" + db,
                                 "--predictions", n, "--repeats", self.a.repeats + 2):
            self.emit(line)

    def p7(self):
        pg = os.environ.get("PROPGRADE_TEST_PG_URL")
        if not pg:
            raise RuntimeError("PROPGRADE_TEST_PG_URL is not set (bench/run.sh starts one)")
        n = 2000 if self.a.tiny else 10000
        for line in self.program("propgrade_write_bench", "--db", pg, "--predictions", n,
                                 "--repeats", self.a.repeats + 2):
            self.emit(line)
        # P1 on PostgreSQL against psql COPY of the same output rows.
        _, inputs = self.inputs(self.a.scales[0])
        lo, hi = self.date_range(inputs)
        d, _ = self.inputs(self.a.scales[0])
        schema = "bench_p7_%d" % os.getpid()
        url = pg + "?schema=" + schema
        for _, kind in INPUT_TABLES:
            self.propgrade(url, "import", kind, os.path.join(d, kind + ".csv"))
        wall, _, _ = self.timed([os.path.join(self.bin, "propgrade"), "--db", url,
                                 "grade", "--from", lo, "--to", hi])
        csvs = {}
        for t in OUTPUT_TABLES:
            path = os.path.join(self.work, "p7-%s.csv" % t)
            with open(path, "w") as f:
                f.write(self.propgrade(url, "export", t, "--format", "csv").stdout)
            csvs[t] = path
        raw_schema = schema + "_copy"
        self.propgrade(pg + "?schema=" + raw_schema, "init")  # creates the tables
        env = dict(os.environ, PGOPTIONS="-c search_path=" + raw_schema)
        script = "".join("\\copy %s (%s) FROM '%s' CSV HEADER\n" %
                         (t, header_of(p), p) for t, p in csvs.items())
        copy_s = []
        for _ in range(self.a.repeats):
            trunc = "TRUNCATE " + ", ".join(OUTPUT_TABLES) + ";\n"
            subprocess.run(["psql", pg, "-q", "-v", "ON_ERROR_STOP=1", "-c", trunc],
                           env=env, check=True, stdout=subprocess.DEVNULL)
            start = time.monotonic()
            subprocess.run(["psql", pg, "-q", "-1", "-v", "ON_ERROR_STOP=1"], input=script,
                           text=True, env=env, check=True, stdout=subprocess.DEVNULL)
            copy_s.append(time.monotonic() - start)
        c = statistics.median(copy_s)
        self.measure("P7", "grade --from --to on PostgreSQL (first grade)", wall,
                     "psql -1 \\copy of the same rows (3 tables)", c, "s", "<= 2x", wall <= 2 * c)
        subprocess.run(["psql", pg, "-q", "-c", "DROP SCHEMA %s CASCADE; DROP SCHEMA %s CASCADE" %
                        (schema, raw_schema)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    # --- P4: the summary against one GROUP BY per slice -------------------------------------

    def p4(self):
        _, inputs = self.inputs(self.a.scales[0])
        lo, hi = self.date_range(inputs)
        g = self.fresh_copy(inputs, "p4.db")
        self.propgrade("sqlite:" + g, "grade", "--from", lo, "--to", hi,
                       "--no-aggregate")
        for line in self.program("propgrade_summary_sql_bench", "--db", "sqlite:" + g, "--as-of",
                                 hi, "--repeats", self.a.repeats):
            self.emit(line)

    # --- P5, P6: locks ----------------------------------------------------------------------

    def p5(self):
        args = ["--db", os.path.join(self.work, "p5.db"), "--iterations",
                50 if self.a.tiny else 300]
        if os.environ.get("PROPGRADE_TEST_PG_URL"):
            args += ["--pg", os.environ["PROPGRADE_TEST_PG_URL"] + "?schema=bench_p5"]
        if os.environ.get("PROPGRADE_TEST_ETCD"):
            args += ["--etcd", os.environ["PROPGRADE_TEST_ETCD"]]
        for line in self.program("propgrade_lock_bench", *args):
            self.emit(line)

    def p6(self):
        n = 20 if self.a.tiny else 200
        backends = [("db", ["--db", "sqlite:" + os.path.join(self.work, "p6.db")])]
        if os.environ.get("PROPGRADE_TEST_PG_URL"):
            backends.append(("db", ["--db", os.environ["PROPGRADE_TEST_PG_URL"] +
                                    "?schema=bench_p6"]))
        if os.environ.get("PROPGRADE_TEST_ETCD"):
            backends.append(("etcd", ["--etcd", os.environ["PROPGRADE_TEST_ETCD"]]))
        for backend, extra in backends:
            for line in self.program("propgrade_lock_contention_bench", "--backend", backend,
                                     *extra, "--processes", 8, "--acquisitions", n):
                self.emit(line)

    # --- P8: HTTP ---------------------------------------------------------------------------

    def p8(self):
        if not shutil.which("wrk"):
            raise RuntimeError("wrk is not installed")
        port = free_port()
        db = os.path.join(self.work, "p8.db")
        server = subprocess.Popen([os.path.join(self.bin, "propgrade"), "--db", "sqlite:" + db,
                                   "serve", "--listen", "127.0.0.1:%d" % port],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port)
            seconds = "2s" if self.a.tiny else "10s"
            rates = {"/healthz": [], "/assets/app.css": []}
            for _ in range(self.a.repeats):
                for path in rates:  # alternated, so drift hits both alike
                    r = subprocess.run(["wrk", "-t2", "-c50", "-d" + seconds,
                                        "http://127.0.0.1:%d%s" % (port, path)],
                                       stdout=subprocess.PIPE, text=True, check=True)
                    m = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
                    if not m or "Non-2xx" in r.stdout:
                        raise RuntimeError("wrk: " + r.stdout[-800:])
                    rates[path].append(float(m.group(1)))
            h = statistics.median(rates["/healthz"])
            s = statistics.median(rates["/assets/app.css"])
            self.measure("P8", "GET /healthz, wrk -t2 -c50 -d" + seconds, h,
                         "static /assets/app.css from the same server", s, "req/s",
                         ">= 0.8x", h >= 0.8 * s, healthz=rates["/healthz"],
                         static=rates["/assets/app.css"])
        finally:
            server.terminate()
            server.wait(timeout=90)

    # --- P9: the duplicate check against table size -----------------------------------------

    def p9(self):
        rows, small = (200000, 20000) if self.a.tiny else (10000000, 100000)
        for line in self.program("propgrade_dupcheck_bench", "--rows", rows, "--small", small,
                                 "--repeats", self.a.repeats + 2, "--dir",
                                 os.path.join(self.work, "p9")):
            self.emit(line)

    # --- P10: the Python baseline -----------------------------------------------------------

    def p10(self):
        d, inputs = self.inputs(self.a.scales[0])
        lo, hi = self.date_range(inputs)
        compute = self.program("propgrade_compute_bench", "--db", "sqlite:" + inputs,
                               "--repeats", self.a.repeats)[0]
        ours_compute = compute["ours"] / 1000.0
        py, ours_total = [], []
        for _ in range(self.a.repeats):
            db = os.path.join(self.work, "p10-python.db")
            if os.path.exists(db):
                os.remove(db)
            timings = os.path.join(self.work, "p10-python.json")
            subprocess.run([sys.executable, os.path.join(ROOT, "bench", "python_baseline",
                                                         "grade.py"),
                            "--inputs", d, "--db", db, "--as-of", hi, "--timings-json", timings],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(timings) as f:
                py.append(json.load(f))
            db = os.path.join(self.work, "p10-propgrade.db")
            for s in ("", "-wal", "-shm"):
                if os.path.exists(db + s):
                    os.remove(db + s)
            start = time.monotonic()
            for _, kind in INPUT_TABLES:
                self.propgrade("sqlite:" + db, "import", kind,
                               os.path.join(d, kind + ".csv"))
            # The same work as the baseline: grade, daily for every date, one summary.
            self.propgrade("sqlite:" + db, "grade", "--from", lo, "--to", hi, "--no-aggregate")
            self.propgrade("sqlite:" + db, "aggregate", "--from", lo, "--to", hi)
            self.propgrade("sqlite:" + db, "summarize", "--as-of", hi)
            ours_total.append(time.monotonic() - start)
        py_compute = statistics.median(p["compute_s"] for p in py)
        py_total = statistics.median(p["total_s"] for p in py)
        ours_e2e = statistics.median(ours_total)
        self.measure("P10", "compute alone: grade every date, daily performance, one summary",
                     ours_compute, "plain Python (bench/python_baseline), compute_s", py_compute,
                     "s", ">= 20x faster", py_compute >= 20 * ours_compute, **compute["extra"])
        self.measure("P10", "end to end: import, grade --no-aggregate, aggregate --from --to, "
                     "summarize",
                     ours_e2e, "plain Python: import, grade, daily, one summary, sqlite3",
                     py_total, "s", ">= 5x faster", py_total >= 5 * ours_e2e,
                     python=py[len(py) // 2])

    # --- micro-benchmarks ---------------------------------------------------------------------

    def micro(self):
        path = os.path.join(self.bin, "bench", "propgrade_micro_bench")
        if not os.path.exists(path):
            raise RuntimeError("%s is not built" % path)
        r = subprocess.run([path, "--benchmark_format=json",
                            "--benchmark_min_time=%s" % ("0.01" if self.a.tiny else "0.5")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True)
        for b in json.loads(r.stdout)["benchmarks"]:
            self.emit({"id": "micro", "name": b["name"], "ns": b.get("real_time"),
                       "time_unit": b.get("time_unit"),
                       "items_per_second": b.get("items_per_second"),
                       "bytes_per_second": b.get("bytes_per_second")})


def raw_seconds(lines):
    """The raw writer's median, in seconds, from its JSON line (ms)."""
    line = lines[-1]
    for key in ("theirs", "ms", "ours"):
        if line.get(key):
            return float(line[key]) / 1000.0
    raise RuntimeError("raw writer printed no time: %s" % line)


def header_of(csv_path):
    with open(csv_path) as f:
        return f.readline().strip()


def days_between(lo, hi):
    import datetime
    a = datetime.date.fromisoformat(lo)
    b = datetime.date.fromisoformat(hi)
    return (b - a).days + 1


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("propgrade serve did not listen on %d" % port)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default="build/release")
    p.add_argument("--out", default="build/release/bench")
    p.add_argument("--tiny", action="store_true", help="CI size: golden inputs, one repeat")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--scales", default="1,2,5,10")
    p.add_argument("--only", default="", help="comma-separated steps (p1,p3,...,micro)")
    p.add_argument("--doc", default="", help="write the Markdown report here")
    p.add_argument("--plot", default="", help="write the P2 scaling plot (PNG) here")
    p.add_argument("--against", default="",
                   help="also A/B this other build directory (bench/ab.py) into the report")
    a = p.parse_args()
    a.scales = [int(s) for s in a.scales.split(",")]
    if a.tiny:
        a.repeats, a.scales = 1, [1]
    b = Bench(a)
    steps = ["p1", "p3", "p4", "p5", "p6", "p7", "p8", "p9", "p10", "micro"]
    if a.only:
        steps = a.only.split(",")
    started = time.monotonic()
    for s in steps:
        b.step(s.upper() if s != "micro" else "micro", getattr(b, s))
    ab_md = ""
    if a.against:
        b.log("== A/B against " + a.against)
        ab_out = os.path.join(b.out, "ab")
        r = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "ab.py"), "--base",
                            a.against, "--build", a.build, "--out", ab_out, "--work", b.work,
                            "--rounds", str(2 if a.tiny else 9)])
        if r.returncode != 0:
            b.fail("A/B", "bench/ab.py exited %d" % r.returncode)
        else:
            ab_md = os.path.join(ab_out, "ab.md")
    render = [sys.executable, os.path.join(ROOT, "bench", "render_performance.py"),
              "--results", b.results_path, "--seconds", str(int(time.monotonic() - started)),
              "--mode", "tiny" if a.tiny else "full"]
    if ab_md:
        render += ["--ab", ab_md]
    if a.plot:
        render += ["--plot", a.plot]
    md = subprocess.run(render, stdout=subprocess.PIPE, text=True, check=True).stdout
    with open(a.doc or os.path.join(b.out, "PERFORMANCE.md"), "w") as f:
        f.write(md)
    b.log("wrote %s" % (a.doc or os.path.join(b.out, "PERFORMANCE.md")))
    if b.failed:
        b.log("failed steps: " + ", ".join(b.failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
