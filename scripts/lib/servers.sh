# shellcheck shell=bash
# Throwaway servers for the test suites: each server is one start_* function (which records its
# PID and exports its URL) and is stopped by PID through stop_servers, which test.sh runs on
# exit. Data lives in mktemp directories under /tmp; ports are free loopback ports.
# Usage: source scripts/lib/servers.sh; trap stop_servers EXIT; start_<server> ...

PROPGRADE_SERVER_PIDS=()
PROPGRADE_SERVER_DIRS=()

# Prints a TCP port that nothing listens on (loopback).
free_port() {
  local port
  while true; do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
}

# Records a started server for stop_servers. Args: pid dir
register_server() {
  PROPGRADE_SERVER_PIDS+=("$1")
  [ -n "${2:-}" ] && PROPGRADE_SERVER_DIRS+=("$2")
  return 0
}

# Stops every registered server (newest first) by PID and removes its data directory.
stop_servers() {
  local i pid
  for ((i = ${#PROPGRADE_SERVER_PIDS[@]} - 1; i >= 0; i--)); do
    pid=${PROPGRADE_SERVER_PIDS[$i]}
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for d in "${PROPGRADE_SERVER_DIRS[@]}"; do rm -rf "$d"; done
  PROPGRADE_SERVER_PIDS=()
  PROPGRADE_SERVER_DIRS=()
}
