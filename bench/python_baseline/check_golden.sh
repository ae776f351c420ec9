#!/bin/sh
# Runs grade.py on the golden fixture and compares its outputs with the expected CSVs
# (prediction_accuracy, system_daily_performance, the 2025-02-21 summary snapshot, grading_runs).
# Extra arguments go to check_golden.py (see its --help). Exit 0 when every cell matches.
exec nice -n 10 python3 "$(dirname "$0")/check_golden.py" "$@"
