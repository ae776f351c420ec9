# shellcheck shell=bash
# Throwaway servers for the test suites: each server is one start_* function (which records its
# PID and exports its URL) and is stopped by PID through stop_servers, which test.sh runs on
# exit. Data lives in mktemp directories under /tmp; ports are free loopback ports.
# Usage: source scripts/lib/servers.sh; trap stop_servers EXIT; start_<server> ...

PROPGRADE_SERVER_PIDS=()
PROPGRADE_SERVER_DIRS=()
PROPGRADE_SERVER_STOPS=()  # commands that stop servers whose PID may change (pg_ctl restart)

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
  local i pid cmd
  for ((i = ${#PROPGRADE_SERVER_STOPS[@]} - 1; i >= 0; i--)); do
    cmd=${PROPGRADE_SERVER_STOPS[$i]}
    eval "$cmd" >/dev/null 2>&1 || true
  done
  PROPGRADE_SERVER_STOPS=()
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

# A single etcd member on free loopback ports. Exports PROPGRADE_TEST_ETCD=127.0.0.1:PORT.
start_etcd() {
  local dir client peer pid
  dir=$(mktemp -d /tmp/propgrade-etcd.XXXXXX)
  client=$(free_port)
  peer=$(free_port)
  etcd --name n1 --data-dir "$dir/data" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "n1=http://127.0.0.1:$peer" --initial-cluster-state new \
    --logger=zap --log-outputs="$dir/etcd.log" >/dev/null 2>&1 &
  pid=$!
  register_server "$pid" "$dir"
  wait_etcd_healthy "127.0.0.1:$client" || { echo "etcd did not start (see $dir/etcd.log)" >&2; return 1; }
  export PROPGRADE_TEST_ETCD="127.0.0.1:$client"
  echo "etcd: $PROPGRADE_TEST_ETCD (pid $pid)"
}

# A 3-member etcd cluster on loopback. Exports PROPGRADE_TEST_ETCD_CLUSTER (the endpoints),
# PROPGRADE_TEST_ETCD_CLUSTER_PIDS and PROPGRADE_TEST_ETCD_CLUSTER_FOLLOWER_PID (a member that is
# not the leader, for the tests that stop one).
start_etcd_cluster() {
  local dir i clients=() peers=() pids=() cluster="" endpoints="" leader member
  dir=$(mktemp -d /tmp/propgrade-etcd3.XXXXXX)
  for i in 1 2 3; do clients+=("$(free_port)"); peers+=("$(free_port)"); done
  for i in 0 1 2; do cluster+="${cluster:+,}m$i=http://127.0.0.1:${peers[$i]}"; done
  for i in 0 1 2; do
    etcd --name "m$i" --data-dir "$dir/m$i" \
      --listen-client-urls "http://127.0.0.1:${clients[$i]}" --advertise-client-urls "http://127.0.0.1:${clients[$i]}" \
      --listen-peer-urls "http://127.0.0.1:${peers[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${peers[$i]}" \
      --initial-cluster "$cluster" --initial-cluster-token "propgrade-$$" --initial-cluster-state new \
      --logger=zap --log-outputs="$dir/m$i.log" >/dev/null 2>&1 &
    pids+=($!)
    register_server "$!" ""
    endpoints+="${endpoints:+,}127.0.0.1:${clients[$i]}"
  done
  PROPGRADE_SERVER_DIRS+=("$dir")
  for i in 0 1 2; do
    wait_etcd_healthy "127.0.0.1:${clients[$i]}" || { echo "etcd cluster did not start (see $dir)" >&2; return 1; }
  done
  export PROPGRADE_TEST_ETCD_CLUSTER="$endpoints"
  export PROPGRADE_TEST_ETCD_CLUSTER_PIDS="${pids[*]}"
  for i in 0 1 2; do
    read -r member leader < <(ETCDCTL_API=3 etcdctl --endpoints="127.0.0.1:${clients[$i]}" \
      endpoint status -w fields 2>/dev/null | awk -F' : ' '/"MemberID"/{m=$2} /"Leader"/{l=$2} END{print m, l}')
    if [ -n "$member" ] && [ "$member" != "$leader" ]; then
      export PROPGRADE_TEST_ETCD_CLUSTER_FOLLOWER_PID="${pids[$i]}"
      break
    fi
  done
  echo "etcd cluster: $endpoints (pids ${pids[*]}, a follower: ${PROPGRADE_TEST_ETCD_CLUSTER_FOLLOWER_PID:-?})"
}

wait_etcd_healthy() {
  for _ in $(seq 100); do
    ETCDCTL_API=3 etcdctl --endpoints="$1" --dial-timeout=1s endpoint health >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# A throwaway PostgreSQL 15 cluster (initdb as the postgres user, data under /tmp, fsync off,
# password authentication on TCP). Exports PROPGRADE_TEST_PG${1:+_$1}_URL
# (postgresql://postgres:PASSWORD@127.0.0.1:PORT/propgrade_test), ..._DATA and ..._BIN (for
# tests that restart the server: `start_postgres RESTART` gives them a cluster of their own).
start_postgres() {
  local bin=/usr/lib/postgresql/15/bin dir port password pid prefix="PROPGRADE_TEST_PG${1:+_$1}"
  dir=$(mktemp -d /tmp/propgrade-pg.XXXXXX)
  chown postgres:postgres "$dir"
  port=$(free_port)
  password="pw-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  printf '%s\n' "$password" > "$dir/pwfile"
  chown postgres:postgres "$dir/pwfile"
  runuser -u postgres -- "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-locale --no-sync >"$dir/initdb.log" 2>&1 \
    || { echo "initdb failed (see $dir/initdb.log)" >&2; return 1; }
  rm -f "$dir/pwfile"
  runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >/dev/null || { echo "postgres did not start (see $dir/server.log)" >&2; return 1; }
  pid=$(head -1 "$dir/data/postmaster.pid")
  PROPGRADE_SERVER_STOPS+=("runuser -u postgres -- $bin/pg_ctl -D $dir/data -m immediate -w stop")
  PROPGRADE_SERVER_DIRS+=("$dir")
  runuser -u postgres -- "$bin/createdb" -h "$dir" -p "$port" -U postgres propgrade_test
  export "${prefix}_URL=postgresql://postgres:$password@127.0.0.1:$port/propgrade_test"
  export "${prefix}_DATA=$dir/data"
  export "${prefix}_BIN=$bin"
  echo "postgres${1:+ ($1)}: 127.0.0.1:$port (pid $pid)"
}
