#!/usr/bin/env bash
# Installs what is missing, builds, loads a generated season into ./propgrade.db (SQLite),
# grades every date and prints the accuracy report. Extra arguments go to `propgrade demo`
# (e.g. --seed 7 --scale 2).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/deps.sh
install_deps
scripts/build.sh release
start_ms=$(( $(date +%s%N) / 1000000 ))
./build/release/propgrade --db sqlite:propgrade.db demo "$@"
elapsed_ms=$(( $(date +%s%N) / 1000000 - start_ms ))
printf 'demo finished in %d.%01d s (after the build)\n' $((elapsed_ms / 1000)) $((elapsed_ms % 1000 / 100))
