#!/usr/bin/env bash
# The dashboard in headless Chromium against a real `propgrade serve` holding a demo season:
# the page loads without console errors, every chart has drawn data points, the runs table
# lists runs; then the same against a server that protects its API (server.protect_reads =
# "always"): the page asks for the token once, refuses a wrong one, draws everything with the
# right one and keeps it for a reload. The screenshots are saved as test artifacts.
#
#   tests/browser/run.sh [PROPGRADE_BINARY] [ARTIFACT_DIR]
#
# Needs Debian's /usr/bin/chromium and `npm ci` in tests/browser (scripts/test.sh does both).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$here/../../build/release/propgrade}
artifacts=${2:-$here/../../build/release/test-artifacts}
mkdir -p "$artifacts"

[[ -x /usr/bin/chromium ]] || { echo "browser test: /usr/bin/chromium is missing (apt-get install chromium)" >&2; exit 1; }
[[ -d $here/node_modules/playwright-core ]] || { echo "browser test: run npm ci in tests/browser" >&2; exit 1; }

work=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export HOME=$work  # the breaker state file of this run only

echo "browser test: generating a demo season..."
"$bin" --db "sqlite:$work/demo.db" --log-format json demo >"$work/demo.out" 2>"$work/demo.err" || {
  tail -20 "$work/demo.err" >&2; exit 1; }

# A re-grade the coverage gate refuses, for the "Partition history" panel's refused writes: the
# last date's box scores lose two thirds of their rows (a half-finished reload).
last=$(sqlite3 "$work/demo.db" "SELECT max(game_date) FROM prediction_accuracy")
sqlite3 "$work/demo.db" "DELETE FROM player_game_summary WHERE game_date = '$last' AND rowid % 3 <> 0"
rc=0
"$bin" --db "sqlite:$work/demo.db" --log-format json grade --date "$last" >"$work/refused.out" \
  2>"$work/refused.err" || rc=$?
[ "$rc" = 3 ] || { echo "browser test: the half-loaded re-grade was not refused ($rc)" >&2; exit 1; }

# A declared table with one partition loaded, for the "Declared tables" panel; both servers'
# configs declare it (open.toml is only that).
declare_table='[tables.bets_export]
partition_column = "batch"
key = ["bet_id"]
columns = [{ name = "batch", type = "text" }, { name = "bet_id", type = "integer" }]
'
printf '%s' "$declare_table" >"$work/open.toml"
printf 'batch,bet_id\nb-1,1\nb-1,2\n' >"$work/bets.csv"
"$bin" --db "sqlite:$work/demo.db" --config "$work/open.toml" --log-format json \
  load bets_export --partition b-1 "$work/bets.csv" >"$work/load.out" 2>"$work/load.err" || {
  cat "$work/load.err" >&2; exit 1; }

# Starts `propgrade serve` on a free loopback port with extra environment (NAME=VALUE ...)
# and sets $url; the server's output goes to $work/serve-$1.*.
start_server() {
  local name=$1
  shift
  env "$@" "$bin" --db "sqlite:$work/demo.db" --config "$work/$name.toml" --log-format json \
    serve --listen 127.0.0.1:0 >"$work/serve-$name.out" 2>"$work/serve-$name.err" &
  server_pid=$!
  url=""
  for _ in $(seq 100); do
    url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/serve-$name.err" | head -1 || true)
    [[ -n $url ]] && break
    kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve-$name.err" >&2; exit 1; }
    sleep 0.1
  done
  [[ -n $url ]] || { echo "browser test: the server did not start" >&2; cat "$work/serve-$name.err" >&2; exit 1; }
}
stop_server() {
  kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# The page on a server whose API is open (loopback, server.protect_reads = "auto").
start_server open PROPGRADE_TRIGGER_TOKEN=
echo "browser test: $url"
node "$here/dashboard_test.js" "$url" "$artifacts/dashboard.png"
echo "browser test: screenshot $artifacts/dashboard.png"
stop_server

# The page on a server that protects its API: it asks for the token, then draws everything.
token="browser-test-$RANDOM$RANDOM"
printf '%s[server]\nprotect_reads = "always"\n' "$declare_table" >"$work/protected.toml"
start_server protected PROPGRADE_TRIGGER_TOKEN="$token"
echo "browser test: $url (reads protected)"
node "$here/dashboard_test.js" "$url" "$artifacts/dashboard-protected.png" "--token=$token"
echo "browser test: screenshot $artifacts/dashboard-protected.png"
stop_server
