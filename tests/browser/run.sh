#!/usr/bin/env bash
# The dashboard in headless Chromium against a real `propgrade serve` holding a demo season:
# the page loads without console errors, every chart has drawn data points, the runs table
# lists runs; the screenshot is saved as a test artifact.
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

"$bin" --db "sqlite:$work/demo.db" --log-format json serve --listen 127.0.0.1:0 \
  >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
url=""
for _ in $(seq 100); do
  url=$(grep -o 'http://127\.0\.0\.1:[0-9]*/' "$work/serve.err" | head -1 || true)
  [[ -n $url ]] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.err" >&2; exit 1; }
  sleep 0.1
done
[[ -n $url ]] || { echo "browser test: the server did not start" >&2; cat "$work/serve.err" >&2; exit 1; }

echo "browser test: $url"
node "$here/dashboard_test.js" "$url" "$artifacts/dashboard.png"
echo "browser test: screenshot $artifacts/dashboard.png"
