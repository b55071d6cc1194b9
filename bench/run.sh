#!/usr/bin/env bash
# The benchmark: s3drop's browser upload against the tools people use instead, on the
# same machine, file and store (the embedded store, then Garage), plus the server
# functions under load and the page's own costs. Prints one table and writes it to
# bench/results/. Not part of the test suite.
#
#   bench/run.sh            files of 256 MiB and 1 GiB
#   bench/run.sh --big      also 4 GiB
#
# For quick iterations: BENCH_SIZES_MIB="1024" BENCH_ONLY=browser bench/run.sh measures only
# the page's uploads of large files, BENCH_ONLY=folders bench/run.sh only its uploads of
# folders of small files; extra S3DROP_* settings in the environment reach every server;
# BENCH_DIST=DIR measures a release built before instead of building one.
#
# Installs what it needs first (release build tools, Chromium, Garage, wrk, brotli and
# curl from Debian, the AWS CLI from PyPI into .tools/awscli).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export LEPTOS_OUTPUT_NAME=s3drop AWS_EC2_METADATA_DISABLED=true

SIZES_MIB=${BENCH_SIZES_MIB:-256 1024}
[[ ${1:-} == "--big" ]] && SIZES_MIB="256 1024 4096"
[[ ${BENCH_ONLY:-} == "folders" ]] && SIZES_MIB=""

scripts/install.sh --test
if ! command -v wrk >/dev/null || ! command -v brotli >/dev/null || ! command -v curl >/dev/null; then
  say "installing wrk, brotli and curl from Debian"
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q wrk brotli curl
fi
if [[ ! -x .tools/awscli/bin/aws ]]; then
  say "installing the AWS CLI from PyPI into .tools/awscli"
  python3 -m venv .tools/awscli
  .tools/awscli/bin/pip install --quiet --disable-pip-version-check awscli
fi

# BENCH_DIST=DIR measures a release built earlier (DIR holds s3drop and site/, as
# scripts/release.sh leaves dist/), so two versions can be measured in turn.
if [[ -n ${BENCH_DIST:-} ]]; then
  say "measuring the release in $BENCH_DIST"
  rm -rf dist
  cp -r "$BENCH_DIST" dist
else
  say "building the release (scripts/release.sh)"
  scripts/release.sh
fi

WORK=$(mktemp -d -t s3drop-bench-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  scripts/stores.sh stop "$WORK/stores" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

say "starting Garage and four release servers (embedded store on 3200 and 3202, Garage on 3201 and 3203)"
scripts/stores.sh start "$WORK/stores" >/dev/null
serve() { # port data-dir env-file extra-flags...
  local port=$1 dir=$2 env=$3
  shift 3
  require_free "$port"
  (
    if [[ -n $env ]]; then set -a; . "$env"; set +a; fi
    RUST_LOG=warn LEPTOS_SITE_ROOT=dist/site exec dist/s3drop --bind "127.0.0.1:$port" \
      --public-url "http://localhost:$port" --data-dir "$dir" "$@"
  ) >"$dir.log" 2>&1 &
  PIDS+=($!)
  echo $! >"$dir.pid"
  wait_for "$port"
}
(
  set -a; . "$WORK/stores/garage.env"; set +a
  for port in 3201 3203; do
    dist/s3drop --setup-store --public-url "http://localhost:$port" >/dev/null
  done
)
# The load tests need the rate limit out of the way; the folders run with the defaults.
serve 3200 "$WORK/embedded" "" --rate-limit 1000000000
serve 3201 "$WORK/garage" "$WORK/stores/garage.env" --rate-limit 1000000000
serve 3202 "$WORK/embedded-defaults" ""
serve 3203 "$WORK/garage-defaults" "$WORK/stores/garage.env"

say "generating the files (random bytes)"
for mib in $SIZES_MIB; do
  head -c $((mib * 1024 * 1024)) /dev/urandom >"$WORK/file-$mib.bin"
done

say "measuring"
mkdir -p bench/results
OUT="bench/results/$(date -u +%Y-%m-%dT%H%M%SZ).md"
BENCH_WORK=$WORK BENCH_SIZES=$SIZES_MIB BENCH_OUT=$OUT AWS_CLI=$PWD/.tools/awscli/bin/aws \
  node bench/bench.mjs
say "written to $OUT"
