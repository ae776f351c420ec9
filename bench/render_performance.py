#!/usr/bin/env python3
"""Renders bench/run_all.py's results.jsonl as docs/PERFORMANCE.md (Markdown on stdout) and,
with --plot, the P2 scaling plot with gnuplot. Standard library only."""
import argparse
import datetime
import json
import os
import platform
import subprocess
import tempfile


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = "%.0f GiB" % (int(f.readline().split()[1]) / 1024 / 1024)
    except OSError:
        pass
    return "%d cores (%s), %s RAM, %s %s" % (os.cpu_count() or 0, cpu, mem, platform.system(),
                                            platform.release())


def fmt(v, unit=""):
    if v is None:
        return "–"
    if isinstance(v, (int, float)):
        if unit in ("req/s",) or abs(v) >= 1000:
            return "{:,.0f}".format(v)
        return "%.3g" % v if abs(v) < 10 else "%.1f" % v
    return str(v)


def plot(scaling, path):
    with tempfile.NamedTemporaryFile("w", suffix=".dat", delete=False) as f:
        for s in scaling:
            f.write("%d %f %f\n" % (s["scale"], s["first_s"], s["rows"] / s["first_s"]))
        data = f.name
    script = """
set terminal pngcairo size 900,520 font 'DejaVu Sans,11'
set output '%s'
set title 'propgrade grade --from --to over the demo season (P1/P2)'
set xlabel 'scale (x 6 prediction systems)'
set ylabel 'time (s)'
set y2label 'rows written per second'
set ytics nomirror
set y2tics
set key top left
set grid
set logscale x
set xtics (1, 2, 5, 10)
plot '%s' using 1:2 with linespoints lw 2 pt 7 title 'time (s)', \\
     '%s' using 1:3 axes x1y2 with linespoints lw 2 pt 5 title 'rows/s'
""" % (path, data, data)
    subprocess.run(["gnuplot"], input=script, text=True, check=True)
    os.remove(data)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--results", required=True)
    p.add_argument("--seconds", type=int, default=0)
    p.add_argument("--mode", default="full")
    p.add_argument("--plot")
    p.add_argument("--ab", help="bench/ab.py's report, appended as a section")
    a = p.parse_args()
    rows = [json.loads(l) for l in open(a.results) if l.strip()]
    measured = [r for r in rows if "ratio" in r and "error" not in r]
    errors = [r for r in rows if "error" in r]
    scaling = [r for r in rows if r.get("id") == "P2-scale"]
    micro = [r for r in rows if r.get("id") == "micro"]

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = ["# Performance", "",
           "Written by `bench/run.sh%s` on %s, in %d min. Machine: %s." % (
               " --tiny" if a.mode == "tiny" else "", now, a.seconds // 60, machine()),
           "",
           "Every target is a ratio measured side by side in this run (medians of the repeats); "
           "absolute figures are sanity checks only. `ratio` = ours ÷ theirs (for req/s, higher "
           "is better).", ""]
    missed = [r for r in measured if not r.get("met")]
    if errors or missed:
        out.append("**Not every target holds in this run:** %s." % ", ".join(
            ["%s (%s)" % (r["id"], "error" if "error" in r else "missed") for r in errors + missed]))
    else:
        out.append("**Every target holds in this run.**")
    out += ["", "| ID | Workload | Ours | Compared with (same run) | Theirs | Unit | Ratio | "
            "Target | Met |", "|---|---|---|---|---|---|---|---|---|"]
    for r in measured:
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["id"], r.get("workload", ""), fmt(r.get("ours"), r.get("unit")),
            r.get("compare", ""), fmt(r.get("theirs"), r.get("unit")), r.get("unit", ""),
            "%.2f" % r["ratio"] if r.get("ratio") is not None else "–", r.get("target", ""),
            "yes" if r.get("met") else "**no**"))
    for r in errors:
        out.append("| %s | **failed**: %s | | | | | | | **no** |" % (
            r["id"], r["error"].replace("\n", " ").replace("|", "\\|")[:300]))
    if scaling:
        out += ["", "## Scaling (P2)", "",
                "| Scale | Systems | Rows written | First grade (s) | Re-grade (s) | Raw writer (s) "
                "| Rows/s | µs per row | Peak RSS (MiB) |", "|---|---|---|---|---|---|---|---|---|"]
        for s in scaling:
            out.append("| %d | %d | {:,} | %.1f | %.1f | %.1f | {:,.0f} | %.1f | %.0f |".format(
                s["rows"], s["rows"] / s["first_s"]) % (
                    s["scale"], s["systems"], s["first_s"], s["regrade_s"], s["raw_s"],
                    s["first_s"] / s["rows"] * 1e6, s["rss_mb"]))
        if a.plot and len(scaling) > 1:
            plot(scaling, a.plot)
            out += ["", "![time and rows/s against scale](perf-scaling.png)"]
    if micro:
        out += ["", "## Micro-benchmarks (Google Benchmark)", "",
                "| Benchmark | Time | Items/s | Bytes/s |", "|---|---|---|---|"]
        for m in micro:
            out.append("| %s | %s %s | %s | %s |" % (
                m["name"], fmt(m.get("ns")), m.get("time_unit", ""),
                fmt(m.get("items_per_second")), fmt(m.get("bytes_per_second"))))
    if a.ab:
        with open(a.ab) as f:
            out += ["", "#" + f.read().rstrip()]  # its title becomes a section
    notes = os.path.join(os.path.dirname(os.path.abspath(__file__)), "performance_notes.md")
    if a.mode != "tiny" and os.path.exists(notes):
        with open(notes) as f:
            out += ["", f.read().rstrip()]
    out += ["", "Reproduce: `bench/run.sh` (all of it, about an hour on 2 cores) or "
            "`bench/run.sh --only p1,p8` for some steps; `bench/run.sh --tiny` is CI's size; "
            "`bench/run.sh --against OTHER/build/release` adds the A/B of two builds.", ""]
    print("\n".join(out))


if __name__ == "__main__":
    main()
