#!/usr/bin/env bash
# The documented private deployment on loopback: s3drop with its embedded store and a
# password, behind Caddy running the shipped deploy/Caddyfile (its site address and
# upstream moved to loopback ports, TLS off). Used by end2end/tests/behind-proxy.spec.ts.
#
#   scripts/behind-caddy.sh start DIR   start both with their data under DIR
#   scripts/behind-caddy.sh stop DIR    stop both
#
# Ports: s3drop 3130, Caddy 3131 (the page: http://localhost:3131). Needs caddy
# (`scripts/install.sh --test`) and a built target/debug/s3drop.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

PAGE_URL=http://localhost:3131
PASSWORD=behind-caddy-password
METRICS_TOKEN=behind-caddy-metrics-token

start() {
  rm -rf "$DIR/app" "$DIR/caddy"
  mkdir -p "$DIR/app" "$DIR/caddy"
  require_free 3130 3131
  (
    RUST_LOG=warn LEPTOS_SITE_ROOT=target/site LEPTOS_OUTPUT_NAME=s3drop \
      exec target/debug/s3drop --bind 127.0.0.1:3130 --data-dir "$DIR/app" \
      --public-url "$PAGE_URL" --access-password "$PASSWORD" \
      --metrics-token "$METRICS_TOKEN" --trusted-proxy 127.0.0.1
  ) >>"$DIR/app/log" 2>&1 &
  echo $! >"$DIR/app/pid"
  # The shipped file, as an operator copies it: only the addresses change.
  {
    printf '{\n\tadmin off\n\tauto_https off\n}\n\n'
    sed -e "s|^drop.example.com {|$PAGE_URL {|" -e 's|127.0.0.1:3000|127.0.0.1:3130|g' \
      deploy/Caddyfile
  } >"$DIR/caddy/Caddyfile"
  if ! grep -q "^$PAGE_URL {" "$DIR/caddy/Caddyfile"; then
    echo "deploy/Caddyfile has no 'drop.example.com {' site block to point here" >&2
    return 1
  fi
  # Caddy keeps its state under the XDG folders: here, not in the home directory.
  XDG_DATA_HOME=$DIR/caddy XDG_CONFIG_HOME=$DIR/caddy \
    caddy run --adapter caddyfile --config "$DIR/caddy/Caddyfile" >>"$DIR/caddy/log" 2>&1 &
  echo $! >"$DIR/caddy/pid"
  wait_for 3130
  wait_for 3131
  printf 'S3DROP_PROXY=Caddy\nS3DROP_PROXY_URL=%s\nS3DROP_PROXY_PASSWORD=%s\nS3DROP_PROXY_METRICS_TOKEN=%s\n' \
    "$PAGE_URL" "$PASSWORD" "$METRICS_TOKEN" >"$DIR/deployment.env"
  say "s3drop (private) behind Caddy on $PAGE_URL"
}

stop() {
  for pid in "$DIR/caddy/pid" "$DIR/app/pid"; do
    [[ -f $pid ]] || continue
    stop_pid "$(cat "$pid")"
    rm -f "$pid"
  done
}

case "${1:-}" in
  start)
    DIR=$(realpath -m "${2:?usage: behind-caddy.sh start DIR}")
    mkdir -p "$DIR"
    start
    ;;
  stop)
    DIR=$(realpath -m "${2:?usage: behind-caddy.sh stop DIR}")
    stop
    ;;
  *)
    echo "usage: behind-caddy.sh start|stop DIR" >&2
    exit 2
    ;;
esac
