#!/usr/bin/env bash
# The Debian package, installed and upgraded on this machine as an operator would:
# builds the release (scripts/release.sh), installs dist/s3drop_*.deb with dpkg, checks
# its systemd unit with `systemd-analyze verify`, then, as systemd would (these machines
# run no systemd), runs the command the unit's ExecStart names as the unit's user with
# its environment and environment file (no systemd: `setpriv` sets the user); uploads a folder through it with the packaged
# `s3drop upload`; upgrades to the same build packaged as a later version; finds the
# files, the secret, the store's keys and an API token from before intact; and purges
# the package, leaving the machine as it was. Needs root (or sudo), dpkg, systemd-analyze.
#
#   scripts/package-test.sh DIR   DIR: scratch space (files to upload, logs)
#
# Port: 3170 (the packaged server, set in /etc/s3drop/env as an operator would).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

DIR=$(realpath -m "${1:?usage: package-test.sh DIR}")
PORT=3170
UNIT=/lib/systemd/system/s3drop.service
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO=sudo
SERVER_PID=""

fail() {
  echo "package test: $*" >&2
  exit 1
}

cleanup() {
  [[ -n $SERVER_PID ]] && $SUDO kill "$SERVER_PID" 2>/dev/null
  if dpkg -s s3drop >/dev/null 2>&1; then
    $SUDO dpkg --purge s3drop >/dev/null
  fi
}

# A line's value from the unit: `unit_value ExecStart`.
unit_value() {
  sed -n "s/^$1=//p" "$UNIT" | head -1
}

# The variables an environment file sets, one per line (blank lines and comments left
# out), as systemd reads an EnvironmentFile.
env_file_lines() {
  $SUDO cat "$1" | grep -v -e '^$' -e '^#' || true
}

# Runs the unit's ExecStart as its User, with its Environment= lines and its
# EnvironmentFile, from its state directory: what `systemctl start s3drop` does.
start_as_unit() {
  local user exec env_file
  user=$(unit_value User)
  exec=$(unit_value ExecStart)
  env_file=$(unit_value EnvironmentFile)
  env_file=${env_file#-}
  local env=()
  while IFS= read -r line; do env+=("$line"); done < <(sed -n 's/^Environment=//p' "$UNIT")
  while IFS= read -r line; do env+=("$line"); done < <(env_file_lines "$env_file")
  # shellcheck disable=SC2086 # ExecStart is a command line: split as systemd splits it.
  (cd / && exec $SUDO setpriv --reuid="$user" --regid="$user" --init-groups \
    env -i "${env[@]}" $exec) >>"$DIR/server.log" 2>&1 &
  SERVER_PID=$!
  wait_for "$PORT"
}

stop_server() {
  $SUDO kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" || true
  SERVER_PID=""
}

# As the packaged s3drop's user, a command of its own (`tokens create`).
as_s3drop() {
  local env=()
  while IFS= read -r line; do env+=("$line"); done < <(env_file_lines /etc/s3drop/env)
  $SUDO setpriv --reuid=s3drop --regid=s3drop --init-groups \
    env -i "${env[@]}" /usr/bin/s3drop --config /etc/s3drop/s3drop.toml "$@"
}

# The record's stored files, as `name sha256` lines (downloaded through their links).
stored_files() {
  curl -sf -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -d '{"filter": {"state": "stored"}, "after": null, "limit": 100}' \
    "http://127.0.0.1:$PORT/api/record/list" >"$DIR/record.json"
  python3 - "$DIR/record.json" <<'EOF' | sort
import hashlib, json, sys, urllib.request
for upload in json.load(open(sys.argv[1]))["uploads"]:
    body = urllib.request.urlopen(upload["download_url"]).read()
    print(f'{upload["folder"]}/{upload["name"]} {hashlib.sha256(body).hexdigest()}')
EOF
}

# What must survive an upgrade: the secret, the store's keys, the database.
kept() {
  $SUDO sha256sum /etc/s3drop/env /var/lib/s3drop/secrets.json /var/lib/s3drop/s3drop.db | cut -d' ' -f1
}

if dpkg -s s3drop >/dev/null 2>&1; then
  fail "an s3drop package is installed on this machine already: this test installs and purges its own"
fi
require_free "$PORT"
rm -rf "$DIR"
mkdir -p "$DIR/files/drop/inner"
# Readable by the server's user, who is not the one running this.
chmod 0755 "$DIR"
trap cleanup EXIT

say "building the release and its packages"
# Into the scratch folder: a dist/ of the developer's own stays as it was.
export S3DROP_DIST=$DIR/dist
scripts/release.sh
VERSION=$(target/release/s3drop --version | cut -d' ' -f2)
DEB=$S3DROP_DIST/s3drop_${VERSION}_amd64.deb
(cd "$S3DROP_DIST" && sha256sum -c --quiet SHA256SUMS) || fail "SHA256SUMS does not match"
tar -tzf "$S3DROP_DIST/s3drop-$VERSION-linux-x86_64.tar.gz" >"$DIR/archive.txt"
grep -qx "s3drop-$VERSION-linux-x86_64/site/pkg/s3drop.wasm" "$DIR/archive.txt" ||
  fail "the archive has no site"

say "installing $DEB"
$SUDO dpkg -i "$DEB" >/dev/null
getent passwd s3drop >/dev/null || fail "the package made no s3drop user"
[[ $($SUDO stat -c '%a %U' /etc/s3drop/env) == "600 root" ]] || fail "/etc/s3drop/env is not root's alone"
[[ $(/usr/bin/s3drop --version) == "s3drop $VERSION" ]] || fail "s3drop --version: $(/usr/bin/s3drop --version)"
$SUDO systemd-analyze verify "$UNIT"
echo "S3DROP_BIND=127.0.0.1:$PORT" | $SUDO tee -a /etc/s3drop/env >/dev/null
start_as_unit
TOKEN=$(as_s3drop tokens create --name package-test | head -n 1)

say "uploading a folder through the installed package"
head -c $((20 * 1024 * 1024 + 123)) /dev/urandom >"$DIR/files/drop/large.bin"
head -c 5000 /dev/urandom >"$DIR/files/drop/inner/small.bin"
echo "hello from the package test" >"$DIR/files/drop/note.txt"
S3DROP_TOKEN=$TOKEN /usr/bin/s3drop upload --quiet --journal "$DIR/journal" \
  --server "http://127.0.0.1:$PORT" "$DIR/files/drop"
BEFORE=$(stored_files)
[[ $(wc -l <<<"$BEFORE") -eq 3 ]] || fail "expected three stored files: $BEFORE"
for file in large.bin inner/small.bin note.txt; do
  sum=$(sha256sum "$DIR/files/drop/$file" | cut -d' ' -f1)
  grep -q " $sum$" <<<"$BEFORE" || fail "$file is not stored byte for byte: $BEFORE"
done
stop_server
KEPT=$(kept)

say "upgrading to the same build packaged as $VERSION+upgrade.1"
scripts/release.sh --package-only "$VERSION+upgrade.1"
$SUDO dpkg -i "$S3DROP_DIST/s3drop_${VERSION}+upgrade.1_amd64.deb" >/dev/null
[[ $(dpkg-query -W -f '${Version}' s3drop) == "$VERSION+upgrade.1" ]] || fail "not upgraded"
grep -q "^S3DROP_BIND=127.0.0.1:$PORT$" <($SUDO cat /etc/s3drop/env) || fail "the env file was not kept"
[[ $(kept) == "$KEPT" ]] || fail "the secret, the store's keys or the database changed"
start_as_unit
AFTER=$(stored_files)
[[ $AFTER == "$BEFORE" ]] || fail "the files differ after the upgrade: $AFTER"
stop_server

say "purging the package"
$SUDO dpkg --purge s3drop >/dev/null
! getent passwd s3drop >/dev/null || fail "the user is left"
[[ ! -e /var/lib/s3drop && ! -e /etc/s3drop && ! -e /usr/bin/s3drop ]] || fail "files are left"
say "the package installs, serves, upgrades with its data and secret intact, and purges"
