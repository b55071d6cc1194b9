#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests: Debian's PostgreSQL (installed by
# `scripts/install.sh --test`), a fresh cluster on a loopback port, trusting loopback
# connections, removed at stop. The tests make a database of their own in it each.
#
#   scripts/postgres.sh start DIR [PORT]   start it (port 5439 unless given); writes
#                                          DIR/postgres.env with S3DROP_TEST_POSTGRES,
#                                          the URL of its `postgres` database
#   scripts/postgres.sh stop DIR           stop it and remove its cluster
#
# PostgreSQL refuses to run as root: as root, the cluster belongs to the `postgres` user
# and lives in a folder of its own under /tmp (the scratch folder is root's alone).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

bin_dir() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n $found ]] || { echo "PostgreSQL is not installed: run scripts/install.sh --test" >&2; return 1; }
  echo "$found"
}

# Runs a command as the cluster's owner.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  local dir=$1 port=${2:-5439} bin cluster
  bin=$(bin_dir)
  mkdir -p "$dir"
  require_free "$port"
  if [[ $(id -u) -eq 0 ]]; then
    # Not under $TMPDIR, which may be a folder of root's alone (scripts/test.sh makes one).
    cluster=$(mktemp -d /tmp/s3drop-postgres-XXXXXX)
    chown postgres "$cluster"
  else
    cluster=$dir/cluster
    mkdir -p "$cluster"
  fi
  echo "$cluster" >"$dir/cluster"
  as_owner "$bin/initdb" -D "$cluster/data" -U postgres --auth=trust --encoding=UTF8 \
    --no-sync >"$dir/initdb.log"
  as_owner "$bin/pg_ctl" -D "$cluster/data" -l "$cluster/log" -w -o \
    "-p $port -k $cluster -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300" \
    start >/dev/null
  echo "S3DROP_TEST_POSTGRES=postgres://postgres@127.0.0.1:$port/postgres" >"$dir/postgres.env"
  say "PostgreSQL on 127.0.0.1:$port"
}

stop() {
  local dir=$1 bin cluster
  [[ -f $dir/cluster ]] || return 0
  cluster=$(cat "$dir/cluster")
  bin=$(bin_dir)
  if [[ -f $cluster/data/postmaster.pid ]]; then
    as_owner "$bin/pg_ctl" -D "$cluster/data" -m fast -w stop >/dev/null || true
  fi
  # Its log, for a failed run's look, beside the run's other logs.
  [[ -f $cluster/log ]] && cp "$cluster/log" "$dir/log" 2>/dev/null || true
  rm -rf "$cluster" "$dir/cluster"
}

case "${1:-}" in
  start) start "${2:?the directory}" "${3:-5439}" ;;
  stop) stop "${2:?the directory}" ;;
  *)
    echo "usage: $0 start DIR [PORT] | stop DIR" >&2
    exit 2
    ;;
esac
