#!/usr/bin/env bash
# Runs every benchmark of spec/performance.md (P1-P10 and the micro-benchmarks) side by side
# and rewrites docs/PERFORMANCE.md and docs/perf-scaling.png.
#
#   bench/run.sh                  full size (demo season at scales 1, 2, 5, 10; 10 M-row P9;
#                                 3 repeats); about an hour on 2 cores
#   bench/run.sh --tiny           CI's size: golden inputs, one repeat; the report goes to
#                                 build/release/bench/PERFORMANCE.md, docs/ are left alone
#   bench/run.sh --only p1,p8     some steps (p1 p3 p4 p5 p6 p7 p8 p9 p10 micro), report in build/
#   bench/run.sh --against DIR    also an A/B of this build against the build in DIR (another
#                                 checkout's build/release): bench/ab.py, rounds interleaved,
#                                 appended to the report
#
# Installs what is missing, builds Release, starts PostgreSQL and etcd on free loopback ports
# (stopped by PID on exit) and calls bench/run_all.py.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
source scripts/lib/servers.sh
trap stop_servers EXIT

args=()
doc=1
while [ $# -gt 0 ]; do
  case "$1" in
    --tiny) args+=(--tiny); doc=0; shift ;;
    --only) args+=(--only "$2"); doc=0; shift 2 ;;
    --repeats|--scales|--against) args+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[ "$doc" = 1 ] && args+=(--doc docs/PERFORMANCE.md --plot docs/perf-scaling.png)

install_deps
install_npm_deps web
scripts/build.sh release
start_postgres
start_etcd
python3 bench/run_all.py --build build/release --out build/release/bench "${args[@]}"
