#!/usr/bin/env bash
# A replicated deployment on loopback, as an operator would run it on several machines:
# a three-node Garage cluster (one zone per node, replication factor 3) behind an nginx
# load balancer that presigned URLs point at, and two s3drop servers sharing a secret
# and a PostgreSQL database (links and the record) behind a second nginx front, with an
# operator and the home page's drop open. Used by the end-to-end fault scenario
# (end2end/tests/cluster.spec.ts), which kills and restarts nodes and servers through
# this script.
#
#   scripts/cluster.sh start DIR        start everything with its data under DIR
#   scripts/cluster.sh stop DIR         stop everything
#   scripts/cluster.sh kill-node DIR N  SIGKILL Garage node N (1-3)
#   scripts/cluster.sh start-node DIR N start Garage node N again
#   scripts/cluster.sh kill-app DIR N   SIGKILL s3drop server N (1-2)
#   scripts/cluster.sh start-app DIR N  start s3drop server N again
#
# Ports: Garage S3 APIs 3910/3920/3930 (RPC one above each), the store's balancer 3940,
# s3drop servers 3121/3122, their balancer 3120 (the page: http://localhost:3120),
# PostgreSQL 5441. Needs garage, nginx and PostgreSQL (`scripts/install.sh --test`) and
# a built target/debug/s3drop.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

KEY_ID=GK7c1a5e3d9b0f2a4c6e8d1b3f
SECRET=0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
BUCKET=s3drop-cluster
APP_SECRET=cluster-secret-shared-by-both-s3drop-servers
OPERATOR_PASSWORD=cluster-operator-password
POSTGRES_PORT=5441
STORE_URL=http://127.0.0.1:3940
PAGE_URL=http://localhost:3120

node_port() { echo $((3900 + 10 * $1)); }

start_node() {
  local n=$1 dir=$DIR/node$1
  require_free "$(node_port "$n")" "$(($(node_port "$n") + 1))"
  garage -c "$dir/garage.toml" server >>"$dir/log" 2>&1 &
  echo $! >"$dir/pid"
  wait_for "$(node_port "$n")"
}

start_app() {
  local n=$1 dir=$DIR/app$1
  mkdir -p "$dir"
  require_free $((3120 + n))
  (
    set -a
    . "$DIR/cluster.env"
    set +a
    RUST_LOG=warn LEPTOS_SITE_ROOT=target/site LEPTOS_OUTPUT_NAME=s3drop \
      exec target/debug/s3drop --bind "127.0.0.1:$((3120 + n))" --data-dir "$dir" \
      --secret "$APP_SECRET" --public-url "$PAGE_URL" \
      --access-password "$OPERATOR_PASSWORD" --open-drop --trusted-proxy 127.0.0.1
  ) >>"$dir/log" 2>&1 &
  echo $! >"$dir/pid"
  wait_for $((3120 + n))
}

# Kills the running process of pid file $1: a fault test must not pass because the
# process it meant to kill was not there.
kill_running() {
  if [[ ! -f $1 ]] || ! kill -0 "$(cat "$1")" 2>/dev/null; then
    echo "cluster.sh: nothing running for $1, so nothing was killed" >&2
    exit 1
  fi
  kill_pid_file "$1" KILL
}

start() {
  # Throwaway data: every start begins from nothing.
  rm -rf "$DIR"/node? "$DIR"/app? "$DIR/nginx"
  local rpc_secret
  rpc_secret=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  for n in 1 2 3; do
    local dir=$DIR/node$n port
    port=$(node_port "$n")
    mkdir -p "$dir"
    cat >"$dir/garage.toml" <<EOF
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "lmdb"
replication_factor = 3
rpc_bind_addr = "127.0.0.1:$((port + 1))"
rpc_public_addr = "127.0.0.1:$((port + 1))"
rpc_secret = "$rpc_secret"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$port"
root_domain = ".s3.garage.localhost"
EOF
    start_node "$n"
  done
  local g="garage -c $DIR/node1/garage.toml"
  local ids=()
  for n in 1 2 3; do
    local id=""
    for _ in $(seq 1 60); do
      id=$(garage -c "$DIR/node$n/garage.toml" node id -q 2>/dev/null) && [[ -n $id ]] && break
      sleep 0.25
    done
    ids+=("$id")
    echo "$id" >"$DIR/node$n/id"
  done
  $g node connect "${ids[1]}" >/dev/null
  $g node connect "${ids[2]}" >/dev/null
  for n in 1 2 3; do
    $g layout assign -z "dc$n" -c 1G "${ids[$((n - 1))]%@*}" >/dev/null
  done
  $g layout apply --version 1 >/dev/null
  $g key import --yes -n s3drop "$KEY_ID" "$SECRET" >/dev/null
  $g bucket create "$BUCKET" >/dev/null
  $g bucket allow --read --write --owner "$BUCKET" --key s3drop >/dev/null

  mkdir -p "$DIR/nginx/tmp"
  require_free 3940 3120
  nginx -c "$PWD/deploy/cluster-nginx.conf" -p "$DIR/nginx/" -e "$DIR/nginx/error.log"
  wait_for 3940
  wait_for 3120

  # One database for both servers, as on several machines.
  scripts/postgres.sh start "$DIR/postgres" "$POSTGRES_PORT" >/dev/null
  psql -q "postgres://postgres@127.0.0.1:$POSTGRES_PORT/postgres" -c "CREATE DATABASE cluster"

  cat >"$DIR/cluster.env" <<EOF
S3DROP_DATABASE_URL=postgres://postgres@127.0.0.1:$POSTGRES_PORT/cluster
AWS_ENDPOINT_URL=$STORE_URL
AWS_REGION=garage
AWS_ACCESS_KEY_ID=$KEY_ID
AWS_SECRET_ACCESS_KEY=$SECRET
S3DROP_BUCKET=$BUCKET
S3DROP_PATH_STYLE=true
EOF
  # The bucket's CORS for the page, as an operator sets it up once.
  (
    set -a
    . "$DIR/cluster.env"
    set +a
    target/debug/s3drop --setup-store --public-url "$PAGE_URL" >"$DIR/setup.log"
  ) || { cat "$DIR/setup.log" >&2; return 1; }
  start_app 1
  start_app 2
  say "Garage cluster behind $STORE_URL; s3drop behind $PAGE_URL"
}

stop() {
  for n in 1 2; do kill_pid_file "$DIR/app$n/pid" TERM; done
  kill_pid_file "$DIR/nginx/nginx.pid" QUIT
  for n in 1 2 3; do kill_pid_file "$DIR/node$n/pid" TERM; done
  scripts/postgres.sh stop "$DIR/postgres"
}

command=${1:-}
DIR=$(realpath "${2:?usage: cluster.sh start|stop|kill-node|start-node|kill-app|start-app DIR [N]}")
case "$command" in
  start) mkdir -p "$DIR" && start ;;
  stop) stop ;;
  kill-node) kill_running "$DIR/node${3:?node 1-3}/pid" ;;
  start-node)
    start_node "${3:?node 1-3}"
    # Rejoin at once rather than when the peers next retry: connect to each of them.
    for other in 1 2 3; do
      [[ $other == "$3" ]] && continue
      garage -c "$DIR/node$3/garage.toml" node connect "$(cat "$DIR/node$other/id")" >/dev/null ||
        true
    done
    ;;
  kill-app) kill_running "$DIR/app${3:?server 1-2}/pid" ;;
  start-app) start_app "${3:?server 1-2}" ;;
  *)
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
