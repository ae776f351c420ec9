#!/usr/bin/env bash
# Installs what is missing, builds, starts the throwaway servers the suites need, runs every
# test suite and stops the servers. CI runs exactly this (.ci/run).
# Sizes: PROPGRADE_RACE_PROCESSES / PROPGRADE_RACE_ROUNDS (default 4 x 20).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
source scripts/lib/servers.sh
trap stop_servers EXIT

start=$(date +%s)
install_deps
echo "== build (release)"
scripts/build.sh release

echo "== unit and integration tests (release)"
ctest --preset release -j2 --timeout 1800

# The same suites under AddressSanitizer + UndefinedBehaviorSanitizer, less the demo-season
# ones that only repeat the release run 30x slower. PROPGRADE_SKIP_ASAN=1 skips this stage.
if [ "${PROPGRADE_SKIP_ASAN:-0}" != 1 ]; then
  echo "== build (asan)"
  scripts/build.sh asan
  echo "== unit and integration tests (asan)"
  ctest --preset asan -j2 --timeout 1800 -E 'Demo'
fi

echo "== all suites passed in $(( $(date +%s) - start )) s"
