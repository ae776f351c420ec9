#!/usr/bin/env bash
# Builds the libFuzzer targets (cmake --preset fuzz: clang, ASan + UBSan) and runs each for
# SECONDS over a copy of its seed corpus (tests/fuzz/corpus/<target>/) with its dictionary.
# A crash, leak or FUZZ_CHECK violation is saved in build/fuzz/crashes/ and fails the script.
# Writes build/fuzz/results.tsv (target, seconds, execs, crashes, corpus_in, corpus_out).
# Usage: tests/fuzz/run.sh [--seconds N] [target...]   (targets: csv jsonl trigger config)
# Reproduce a crash: build/fuzz/tests/fuzz/<target>_fuzzer build/fuzz/crashes/<file>
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=60
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -eq 0 ] && targets=(csv jsonl trigger config)

cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
out=build/fuzz
mkdir -p "$out/crashes"
results="$out/results.tsv"
printf 'target\tseconds\texecs\tcrashes\tcorpus_in\tcorpus_out\n' >"$results"
status=0
for t in "${targets[@]}"; do
  seeds="tests/fuzz/corpus/$t"
  work="$out/corpus/$t"
  rm -rf "$work" && mkdir -p "$work"
  before=$(find "$out/crashes" -name "$t-*" | wc -l)
  echo "== $t: ${seconds} s from $(ls "$seeds" | wc -l) seeds"
  rc=0
  touch "$out/$t.log.start"
  "$out/tests/fuzz/${t}_fuzzer" -max_total_time="$seconds" -print_final_stats=1 \
    -dict="tests/fuzz/$t.dict" -artifact_prefix="$out/crashes/$t-" -timeout=10 -rss_limit_mb=2048 \
    "$work" "$seeds" >"$out/$t.log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log" | tail -1)
  crashes=$(( $(find "$out/crashes" -name "$t-*" | wc -l) - before ))
  [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ] && crashes=1  # died without saving an input
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$seconds" "${execs:-0}" "$crashes" \
    "$(ls "$seeds" | wc -l)" "$(ls "$work" | wc -l)" >>"$results"
  if [ "$crashes" -ne 0 ]; then
    status=1
    echo "$t: FAILED (exit $rc), see $out/$t.log and $out/crashes/"
    # What a fresh CI machine found must be reproducible from its output alone: the
    # message and stack before the crash, and the input itself (base64).
    grep -v -E '^(#[0-9]|INFO:|  NEW_FUNC)' "$out/$t.log" | tail -40 || true
    for f in $(find "$out/crashes" -name "$t-*" -newer "$out/$t.log.start" 2>/dev/null | head -3); do
      echo "input $f (base64):"
      head -c 4096 "$f" | base64
    done
  else
    echo "$t: ${execs:-0} executions, no crash"
  fi
done
column -t -s $'\t' "$results"
exit $status
