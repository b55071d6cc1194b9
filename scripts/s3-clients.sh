#!/usr/bin/env bash
# Real S3 clients (the AWS CLI and boto3 from PyPI, Debian's rclone) against s3drop's
# embedded store, with their default settings: tests/s3_clients.py; and its OpenAPI
# document checked by openapi-spec-validator (PyPI): tests/openapi_check.py.
#
#   scripts/s3-clients.sh install   install the AWS CLI, boto3 and the validator,
#                                   idempotently (rclone comes from Debian with
#                                   scripts/install.sh --test)
#   scripts/s3-clients.sh run DIR   start s3drop (embedded store, data under DIR) on
#                                   127.0.0.1:3140, run the checks, stop it
#
# Needs a built target/debug/s3drop.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

VENV=.tools/s3-clients
REQUIREMENTS=tests/s3-clients-requirements.txt
PORT=3140

install() {
  if ! cmp -s "$REQUIREMENTS" "$VENV/installed.txt" 2>/dev/null; then
    say "installing the AWS CLI and boto3 from PyPI into $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
    cp "$REQUIREMENTS" "$VENV/installed.txt"
  fi
  if ! command -v rclone >/dev/null; then
    echo "rclone is missing: scripts/install.sh --test installs it from Debian" >&2
    return 1
  fi
}

run() {
  install
  mkdir -p "$DIR/data" "$DIR/work"
  require_free "$PORT"
  RUST_LOG=warn LEPTOS_SITE_ROOT=target/site LEPTOS_OUTPUT_NAME=s3drop \
    target/debug/s3drop --bind "127.0.0.1:$PORT" --data-dir "$DIR/data" >"$DIR/log" 2>&1 &
  local pid=$!
  trap 'stop_pid '"$pid" EXIT
  wait_for "$PORT"
  local secrets=$DIR/data/secrets.json
  S3_ENDPOINT=http://127.0.0.1:$PORT S3_BUCKET=s3drop S3_WORK=$DIR/work \
    AWS_ACCESS_KEY_ID=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["store_access_key"])' "$secrets") \
    AWS_SECRET_ACCESS_KEY=$(python3 -c 'import json,sys;print(json.load(open(sys.argv[1]))["store_secret_key"])' "$secrets") \
    PATH="$PWD/$VENV/bin:$PATH" "$VENV/bin/python" tests/s3_clients.py
  # The same server's API document, checked by a validator that is not s3drop's.
  "$VENV/bin/python" tests/openapi_check.py "http://127.0.0.1:$PORT/api/openapi.json"
}

case "${1:-}" in
  install) install ;;
  run)
    DIR=$(realpath -m "${2:?usage: s3-clients.sh run DIR}")
    run
    ;;
  *)
    sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
