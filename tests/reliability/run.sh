#!/usr/bin/env bash
# The reliability suite (spec/reliability.md R1-R8, the security tests and the fuzzers) against
# real servers, with a report of every scenario and combination: rounds, faults injected and
# what each checker found.
#
#   tests/reliability/run.sh           CI sizes (4 x 20 rounds, 10 R3 trials, 3 R5 trials, R9
#                                      4 x 5 rounds, R8 with staging 4 x 10, fuzzers briefly);
#                                      report in build/release/reliability/
#   tests/reliability/run.sh --full    full sizes (8 x 200 rounds, 100 R3 trials, 30 R5 trials,
#                                      R9 8 x 25, R8 with staging 8 x 50, 5 minutes per
#                                      fuzzer); rewrites docs/RELIABILITY.md
#
# Installs what is missing, builds (Release), starts PostgreSQL 15 (two clusters) and etcd on
# free loopback ports (etcd also as a 3-member cluster), and stops them by PID on exit. Scenarios run one at a time (-j1): their
# faults are timed. Needs root (R6 uses chattr and a tmpfs; PostgreSQL runs as postgres).
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/deps.sh
source scripts/lib/servers.sh
trap stop_servers EXIT

full=0
fuzz_seconds=15
case "${1:-}" in
  --full) full=1; fuzz_seconds=300 ;;
  "") ;;
  *) echo "usage: tests/reliability/run.sh [--full]" >&2; exit 2 ;;
esac
if [ "$full" = 1 ]; then
  export PROPGRADE_RACE_PROCESSES=8 PROPGRADE_RACE_ROUNDS=200 PROPGRADE_R3_TRIALS=100 \
         PROPGRADE_R5_TRIALS=30 PROPGRADE_R9_ROUNDS=25 PROPGRADE_R8_STAGING_ROUNDS=50 \
         PROPGRADE_REIMPORT_ROUNDS=30 PROPGRADE_REIMPORT_GRADERS=4
  # The security suite's partial-request test waits out the server's 30 s read timeout.
  export PROPGRADE_TEST_SLOW_CLIENT_TIMEOUT=1
fi

start=$(date +%s)
install_deps
install_npm_deps
scripts/build.sh release

out=build/release/reliability
mkdir -p "$out"
report="$out/report.jsonl"
: > "$report"
export PROPGRADE_RELIABILITY_REPORT=$PWD/$report

echo "== servers"
start_postgres
start_postgres RESTART
start_etcd
start_etcd_cluster
# Every server is up now: a scenario that would skip for want of one fails instead.
export PROPGRADE_TEST_REQUIRE_ALL=1

echo "== R1-R8 (sizes: ${PROPGRADE_RACE_PROCESSES:-4} x ${PROPGRADE_RACE_ROUNDS:-20} rounds," \
     "R3 ${PROPGRADE_R3_TRIALS:-10} trials, R5 ${PROPGRADE_R5_TRIALS:-3} trials)"
status=0
ctest --preset release -j1 --timeout 36000 -L reliability --output-on-failure \
  | tee "$out/ctest-reliability.log" || status=1
echo "== security"
ctest --preset release -j1 --timeout 3600 -R 'TextFieldTest|ParameterTest|SecretsTest|ServerTest|SecretsNeverAppear' \
  --output-on-failure | tee "$out/ctest-security.log" || status=1

echo "== fuzzers (${fuzz_seconds} s each)"
if [ -x tests/fuzz/run.sh ]; then
  tests/fuzz/run.sh --seconds "$fuzz_seconds" | tee "$out/fuzz.log" || status=1
  fuzz_results=build/fuzz/results.tsv
else
  echo "tests/fuzz/run.sh is missing" | tee "$out/fuzz.log"
  fuzz_results=""
  status=1
fi

target="$out/RELIABILITY.md"
[ "$full" = 1 ] && target=docs/RELIABILITY.md
python3 tests/reliability/render_report.py --report "$report" \
  --security-log "$out/ctest-security.log" ${fuzz_results:+--fuzz "$fuzz_results"} \
  --mode "$([ "$full" = 1 ] && echo full || echo ci)" \
  --seconds "$(( $(date +%s) - start ))" --status "$status" > "$target"
echo "== wrote $target ($(( $(date +%s) - start )) s); suite status: $([ $status = 0 ] && echo passed || echo FAILED)"
exit "$status"
