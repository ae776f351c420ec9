#!/usr/bin/env bash
# Installs what is missing, builds, starts the throwaway servers the suites need, runs every
# test suite and stops the servers. CI runs exactly this (.ci/run).
# Sizes: PROPGRADE_RACE_PROCESSES / PROPGRADE_RACE_ROUNDS (default 4 x 20),
# PROPGRADE_R3_TRIALS (default 10), PROPGRADE_R5_TRIALS (default 3), PROPGRADE_R9_ROUNDS
# (default 5), PROPGRADE_R8_STAGING_ROUNDS (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
source scripts/lib/servers.sh
trap stop_servers EXIT

start=$(date +%s)
install_deps
install_npm_deps
echo "== build (release)"
scripts/build.sh release

echo "== servers"
start_postgres
start_postgres RESTART
start_etcd
start_etcd_cluster
# Every server and tool is up now: a test that would skip for want of one fails instead.
export PROPGRADE_TEST_REQUIRE_ALL=1

echo "== unit, integration, reliability and browser tests (release)"
ctest --preset release -j2 --timeout 1800

# Every benchmark once at a tiny size (golden inputs): proves they run; no time assertions.
# The report goes to build/release/bench/PERFORMANCE.md; bench/run.sh runs them in full.
echo "== benchmarks (tiny)"
python3 bench/run_all.py --build build/release --out build/release/bench --tiny

# The unit and integration suites under AddressSanitizer + UndefinedBehaviorSanitizer, less the
# demo-season ones that only repeat the release run 30x slower (the reliability suite drives
# the same binary through timing-sensitive faults: release only). PROPGRADE_SKIP_ASAN=1 skips
# this stage.
if [ "${PROPGRADE_SKIP_ASAN:-0}" != 1 ]; then
  echo "== build (asan)"
  scripts/build.sh asan
  echo "== unit and integration tests (asan)"
  ctest --preset asan -j2 --timeout 1800 -E 'Demo' -LE 'reliability|browser'
fi

# The fuzzers (clang, libFuzzer, ASan + UBSan) briefly over their seeds; tests/reliability/run.sh
# --full runs them for 5 minutes each. PROPGRADE_FUZZ_SECONDS=0 skips this stage.
fuzz_seconds="${PROPGRADE_FUZZ_SECONDS:-15}"
if [ "$fuzz_seconds" != 0 ]; then
  echo "== fuzzers (${fuzz_seconds} s each)"
  tests/fuzz/run.sh --seconds "$fuzz_seconds"
fi

echo "== all suites passed in $(( $(date +%s) - start )) s"
