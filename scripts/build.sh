#!/usr/bin/env bash
# Builds propgrade (Release, -O2) into build/release. Usage: scripts/build.sh [preset]
# The dashboard is compiled in: web/node_modules (uPlot, from npm) is installed first.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:-release}
source scripts/lib/deps.sh
install_npm_deps web
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
