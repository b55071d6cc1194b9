#!/usr/bin/env bash
# The documented private deployment on loopback behind nginx: s3drop with its embedded
# store and a password, behind the shipped deploy/nginx.conf (its ports, upstream and
# certificate paths moved to loopback and DIR; a self-signed certificate for localhost
# stands in for Let's Encrypt's). Checked first with `nginx -t`, as the docs say. Used
# by end2end/tests/behind-proxy.spec.ts.
#
#   scripts/behind-nginx.sh start DIR   start both with their data under DIR
#   scripts/behind-nginx.sh stop DIR    stop both
#
# Ports: s3drop 3160, nginx https 3161 (the page: https://localhost:3161) and http 3162.
# Needs nginx and openssl (`scripts/install.sh --test`) and a built target/debug/s3drop.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

PAGE_URL=https://localhost:3161
PASSWORD=behind-nginx-password
METRICS_TOKEN=behind-nginx-metrics-token

start() {
  rm -rf "$DIR/app" "$DIR/nginx"
  mkdir -p "$DIR/app" "$DIR/nginx/tmp" "$DIR/nginx/acme/.well-known/acme-challenge"
  require_free 3160 3161 3162
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost \
    -keyout "$DIR/nginx/privkey.pem" -out "$DIR/nginx/fullchain.pem" 2>/dev/null
  (
    RUST_LOG=warn LEPTOS_SITE_ROOT=target/site LEPTOS_OUTPUT_NAME=s3drop \
      exec target/debug/s3drop --bind 127.0.0.1:3160 --data-dir "$DIR/app" \
      --public-url "$PAGE_URL" --access-password "$PASSWORD" \
      --metrics-token "$METRICS_TOKEN" --trusted-proxy 127.0.0.1
  ) >>"$DIR/app/log" 2>&1 &
  echo $! >"$DIR/app/pid"
  # The shipped site file, as an operator copies it: only addresses and paths change.
  # Around it, what Debian's /etc/nginx/nginx.conf gives every site (and a prefix of
  # its own, so nginx runs here as this user).
  sed -e "s|drop.example.com;|localhost;|" \
    -e "s|listen 443 |listen 127.0.0.1:3161 |; s|listen \[::\]:443 |listen [::1]:3161 |" \
    -e "s|listen 80;|listen 127.0.0.1:3162;|; s|listen \[::\]:80;|listen [::1]:3162;|" \
    -e "s|/etc/letsencrypt/live/drop.example.com|$DIR/nginx|" \
    -e "s|root /var/www/html;|root $DIR/nginx/acme;|" \
    -e 's|127.0.0.1:3000|127.0.0.1:3160|g' \
    deploy/nginx.conf >"$DIR/nginx/s3drop.conf"
  if ! grep -q "listen 127.0.0.1:3161 ssl" "$DIR/nginx/s3drop.conf"; then
    echo "deploy/nginx.conf has no 'listen 443 ssl' server to point here" >&2
    return 1
  fi
  # Workers run as this user, not nginx's default, so they may use DIR (a scratch
  # folder only its owner may enter) for bodies, buffers and the ACME root.
  cat >"$DIR/nginx/nginx.conf" <<EOF
$([[ $(id -u) -eq 0 ]] && echo "user $(id -un) $(id -gn);")
worker_processes 1;
pid nginx.pid;
error_log error.log warn;
events { worker_connections 256; }
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_prefer_server_ciphers on;
    access_log access.log;
    gzip on;
    client_body_temp_path tmp/body;
    proxy_temp_path tmp/proxy;
    fastcgi_temp_path tmp/fastcgi;
    uwsgi_temp_path tmp/uwsgi;
    scgi_temp_path tmp/scgi;
    include s3drop.conf;
}
EOF
  printf 'acme-probe\n' >"$DIR/nginx/acme/.well-known/acme-challenge/probe"
  nginx -t -q -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx/" -e "$DIR/nginx/error.log"
  nginx -c "$DIR/nginx/nginx.conf" -p "$DIR/nginx/" -e "$DIR/nginx/error.log"
  wait_for 3160
  wait_for 3161
  printf 'S3DROP_PROXY=nginx\nS3DROP_PROXY_URL=%s\nS3DROP_PROXY_HTTP_URL=%s\nS3DROP_PROXY_PASSWORD=%s\nS3DROP_PROXY_METRICS_TOKEN=%s\n' \
    "$PAGE_URL" "http://localhost:3162" "$PASSWORD" "$METRICS_TOKEN" >"$DIR/deployment.env"
  say "s3drop (private) behind nginx on $PAGE_URL"
}

stop() {
  kill_pid_file "$DIR/nginx/nginx.pid" QUIT
  if [[ -f $DIR/app/pid ]]; then
    stop_pid "$(cat "$DIR/app/pid")"
    rm -f "$DIR/app/pid"
  fi
}

case "${1:-}" in
  start)
    DIR=$(realpath -m "${2:?usage: behind-nginx.sh start DIR}")
    mkdir -p "$DIR"
    start
    ;;
  stop)
    DIR=$(realpath -m "${2:?usage: behind-nginx.sh stop DIR}")
    stop
    ;;
  *)
    echo "usage: behind-nginx.sh start|stop DIR" >&2
    exit 2
    ;;
esac
