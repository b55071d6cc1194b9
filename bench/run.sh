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
# folders of small files, BENCH_ONLY=page only the page's WASM, start and CRC32C speed;
# extra S3DROP_* settings in the environment reach every server;
# BENCH_DIST=DIR measures a release built before instead of building one;
# BENCH_THROTTLES_MBIT="100 1000" (the default) are the uplink limits the 1 GiB file is
# also sent under, "" for none.
#
# Installs what it needs first (release build tools, Chromium, Garage, PostgreSQL, wrk,
# brotli and curl from Debian, the AWS CLI from PyPI into .tools/awscli). Garage's
# servers keep links and the record in PostgreSQL, the embedded store's in SQLite.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
export LEPTOS_OUTPUT_NAME=s3drop AWS_EC2_METADATA_DISABLED=true

SIZES_MIB=${BENCH_SIZES_MIB:-256 1024}
[[ ${1:-} == "--big" ]] && SIZES_MIB="256 1024 4096"
[[ ${BENCH_ONLY:-} == "folders" || ${BENCH_ONLY:-} == "page" ]] && SIZES_MIB=""

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

# The page's CRC32C alone, with the page's release settings (bench/crc), for its speed row.
say "building the page's CRC32C for its own row (bench/crc)"
cargo build --quiet --release --target wasm32-unknown-unknown --manifest-path bench/crc/Cargo.toml \
  --target-dir target/bench-crc
CRC_WASM=$PWD/target/bench-crc/wasm32-unknown-unknown/release/s3drop_crc_bench.wasm

WORK=$(mktemp -d -t s3drop-bench-XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  scripts/stores.sh stop "$WORK/stores" || true
  scripts/postgres.sh stop "$WORK/postgres" || true
  rm -rf "$WORK"
}
trap cleanup EXIT

say "starting Garage, PostgreSQL and six release servers (embedded store on 3200, 3202 and 3204, Garage on 3201, 3203 and 3205)"
scripts/stores.sh start "$WORK/stores" >/dev/null
scripts/postgres.sh start "$WORK/postgres" >/dev/null
. "$WORK/postgres/postgres.env"
# A fresh PostgreSQL database named $1; answers its URL.
database() {
  psql -q "$S3DROP_TEST_POSTGRES" -c "CREATE DATABASE $1"
  echo "${S3DROP_TEST_POSTGRES%/*}/$1"
}
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
  for port in 3201 3203 3205; do
    dist/s3drop --setup-store --public-url "http://localhost:$port" >/dev/null
  done
)
# The load tests need the rate limit out of the way; the folders run with the defaults.
serve 3200 "$WORK/embedded" "" --rate-limit 1000000000
GARAGE_DB=$(database garage)
serve 3201 "$WORK/garage" "$WORK/stores/garage.env" --rate-limit 1000000000 \
  --database-url "$GARAGE_DB"
serve 3202 "$WORK/embedded-defaults" ""
GARAGE_DEFAULTS_DB=$(database garage_defaults)
# bench.mjs adds (and removes) a webhook on the folder servers with `s3drop hooks`.
echo "$GARAGE_DEFAULTS_DB" >"$WORK/garage-defaults.database-url"
serve 3203 "$WORK/garage-defaults" "$WORK/stores/garage.env" --database-url "$GARAGE_DEFAULTS_DB"
# The record's servers: an operator, and 100,000 uploads recorded.
serve 3204 "$WORK/embedded-record" "" --access-password bench-operator
GARAGE_RECORD_DB=$(database garage_record)
serve 3205 "$WORK/garage-record" "$WORK/stores/garage.env" --access-password bench-operator \
  --database-url "$GARAGE_RECORD_DB"

# A link on each folder server (no limits: the folder goes through it whole) and on each
# record server; its secret (and id) are left beside the server's data for bench.mjs.
make_link() { # data-dir [database-url]
  local out
  out=$(RUST_LOG=warn dist/s3drop --data-dir "$1" ${2:+--database-url "$2"} links create \
    --label Bench --expires 1d)
  # The URL, then the link's id at the start of the next line.
  echo "$out" | grep -m 1 '/l/' | sed 's#.*/l/##' >"$1.link"
  echo "$out" | grep -A 1 -m 1 '/l/' | tail -n 1 | cut -d' ' -f1 >"$1.link-id"
}
make_link "$WORK/embedded-defaults"
make_link "$WORK/garage-defaults" "$GARAGE_DEFAULTS_DB"
make_link "$WORK/embedded-record"
make_link "$WORK/garage-record" "$GARAGE_RECORD_DB"
# An API token on the page and folder servers, for `s3drop upload`.
make_token() { # data-dir [database-url]
  RUST_LOG=warn dist/s3drop --data-dir "$1" ${2:+--database-url "$2"} tokens create \
    --name bench | head -n 1 >"$1.token"
}
make_token "$WORK/embedded"
make_token "$WORK/garage" "$GARAGE_DB"
make_token "$WORK/embedded-defaults"
make_token "$WORK/garage-defaults" "$GARAGE_DEFAULTS_DB"
say "recording 100,000 uploads for the record's servers"
sed "s/LINK_ID/$(cat "$WORK/embedded-record.link-id")/" bench/seed-record.sql >"$WORK/seed-embedded.sql"
python3 -c 'import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); db.executescript(open(sys.argv[2]).read()); db.commit()' \
  "$WORK/embedded-record/s3drop.db" "$WORK/seed-embedded.sql"
sed "s/LINK_ID/$(cat "$WORK/garage-record.link-id")/" bench/seed-record.sql >"$WORK/seed-garage.sql"
psql -q "$GARAGE_RECORD_DB" -f "$WORK/seed-garage.sql"

say "generating the files (random bytes)"
for mib in $SIZES_MIB; do
  head -c $((mib * 1024 * 1024)) /dev/urandom >"$WORK/file-$mib.bin"
done

say "measuring"
mkdir -p bench/results
OUT="bench/results/$(date -u +%Y-%m-%dT%H%M%SZ).md"
BENCH_WORK=$WORK BENCH_SIZES=$SIZES_MIB BENCH_OUT=$OUT AWS_CLI=$PWD/.tools/awscli/bin/aws BENCH_CRC_WASM=$CRC_WASM \
  node bench/bench.mjs
say "written to $OUT"
