#!/usr/bin/env bash
# Builds a release of s3drop into dist/ (or $S3DROP_DIST): the server binary and its
# site folder (the
# optimised WASM bundle, JS and CSS, precompressed), then packages them (see
# docs/deploying.md):
#
#   dist/s3drop-VERSION-linux-x86_64.tar.gz   binary, site, deploy files, docs
#   dist/s3drop_VERSION_amd64.deb             the same as a Debian package, with the
#                                             systemd unit, a user and a generated secret
#   dist/SHA256SUMS                           both files' SHA-256
#
#   scripts/release.sh                        build, then package
#   scripts/release.sh --package-only [VER]   package the last build again, as version VER
#                                             (the package test's upgrade)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

DIST=${S3DROP_DIST:-dist}

build() {
  scripts/install.sh --release
  export PATH="$PWD/.tools/node_modules/.bin:$HOME/.cargo/bin:$PATH"
  cargo leptos build --release --precompress --split
}

# The tarball: what an operator copies to a server by hand.
archive() {
  local version=$1 name=s3drop-$1-linux-x86_64 stage
  stage=$(mktemp -d)
  mkdir -p "$stage/$name/docs"
  cp target/release/s3drop "$stage/$name/"
  cp -r target/site "$stage/$name/site"
  cp -r deploy "$stage/$name/deploy"
  cp README.md CHANGELOG.md LICENSE "$stage/$name/"
  cp docs/*.md "$stage/$name/docs/"
  tar -C "$stage" --owner=0 --group=0 -czf "$DIST/$name.tar.gz" "$name"
  rm -rf "$stage"
}

# The Debian package, built with dpkg-deb from a tree laid out here: /usr/bin/s3drop,
# its site in /usr/share/s3drop/site, the unit in /lib/systemd/system, the settings as a
# conffile; the maintainer scripts make the user, the state directory and the secret.
deb() {
  local version=$1 root
  root=$(mktemp -d)
  install -D -m 0755 target/release/s3drop "$root/usr/bin/s3drop"
  mkdir -p "$root/usr/share/s3drop" "$root/usr/share/doc/s3drop"
  cp -r target/site "$root/usr/share/s3drop/site"
  cp -r deploy "$root/usr/share/s3drop/deploy"
  cp README.md CHANGELOG.md "$root/usr/share/doc/s3drop/"
  cp LICENSE "$root/usr/share/doc/s3drop/copyright"
  sed -e 's|^ExecStart=/opt/s3drop/s3drop |ExecStart=/usr/bin/s3drop |' \
    -e 's|LEPTOS_SITE_ROOT=/opt/s3drop/site|LEPTOS_SITE_ROOT=/usr/share/s3drop/site|' \
    -e 's|^# systemd unit for s3drop.*|# systemd unit for s3drop, installed by its Debian package.|' \
    deploy/s3drop.service | install -D -m 0644 /dev/stdin "$root/lib/systemd/system/s3drop.service"
  # The settings as shipped, but for the address people use, which only the operator
  # knows: until it is set, presigned URLs follow the Host each request arrived at.
  sed -e 's|^public-url = |# public-url = |' deploy/s3drop.toml |
    install -D -m 0644 /dev/stdin "$root/etc/s3drop/s3drop.toml"
  mkdir -p "$root/DEBIAN"
  cat >"$root/DEBIAN/control" <<EOF
Package: s3drop
Version: $version
Architecture: amd64
Maintainer: s3drop <s3drop@localhost>
Section: web
Priority: optional
Installed-Size: $(du -sk "$root/usr" | cut -f1)
Depends: passwd
Homepage: https://github.com/s3drop/s3drop
Description: upload files from the browser straight to S3
 A web page where people drop files and folders, which go straight from the
 browser to S3 or any S3-compatible store (or s3drop's own embedded store) with
 presigned URLs. Upload links with limits, a record of what arrived, webhooks,
 an API and a command-line uploader.
EOF
  echo /etc/s3drop/s3drop.toml >"$root/DEBIAN/conffiles"
  cat >"$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  if ! getent passwd s3drop >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/s3drop --no-create-home \
      --shell /usr/sbin/nologin s3drop
  fi
  install -d -m 0700 -o s3drop -g s3drop /var/lib/s3drop
  # The upload-token secret, made once and kept across upgrades (root's only).
  if [ ! -e /etc/s3drop/env ]; then
    (umask 077; printf 'S3DROP_SECRET=%s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" \
      >/etc/s3drop/env)
  fi
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable s3drop.service >/dev/null
    if [ -n "$2" ]; then
      systemctl try-restart s3drop.service
    else
      systemctl start s3drop.service
    fi
  fi
fi
EOF
  cat >"$root/DEBIAN/prerm" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
  systemctl stop s3drop.service || true
  systemctl disable s3drop.service >/dev/null || true
fi
EOF
  cat >"$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
# Purging removes what s3drop made: its secret, its data (the embedded store, the
# database) and its user. Removing without purging keeps them for a reinstall.
if [ "$1" = purge ]; then
  rm -f /etc/s3drop/env
  rmdir /etc/s3drop 2>/dev/null || true
  rm -rf /var/lib/s3drop
  if getent passwd s3drop >/dev/null; then userdel s3drop; fi
fi
if [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
EOF
  chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
  dpkg-deb --root-owner-group -Zgzip --build "$root" "$DIST/s3drop_${version}_amd64.deb" >/dev/null
  rm -rf "$root"
}

package() {
  local version=$1
  rm -rf "$DIST"
  mkdir -p "$DIST"
  # The plain files too, for installing by hand (docs/deploying.md).
  cp target/release/s3drop "$DIST/"
  cp -r target/site "$DIST/site"
  archive "$version"
  deb "$version"
  (cd "$DIST" && sha256sum "s3drop-$version-linux-x86_64.tar.gz" "s3drop_${version}_amd64.deb" >SHA256SUMS)
  say "s3drop $version in $DIST: s3drop-$version-linux-x86_64.tar.gz, s3drop_${version}_amd64.deb, SHA256SUMS (WASM: $(stat -c %s "$DIST/site/pkg/s3drop.wasm") bytes)"
}

case "${1:-}" in
  --package-only)
    package "${2:-$(target/release/s3drop --version | cut -d' ' -f2)}"
    ;;
  "")
    build
    package "$(target/release/s3drop --version | cut -d' ' -f2)"
    ;;
  *)
    echo "usage: release.sh [--package-only [VERSION]]" >&2
    exit 2
    ;;
esac
