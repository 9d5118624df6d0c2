#!/usr/bin/env bash
# Build the release binary, the Debian package and the release tarball, with
# SHA-256 checksums, into dist/.
#   scripts/package.sh            # uses cargo-deb (installed if missing)
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
dist=dist
rm -rf "$dist" && mkdir -p "$dist"

cargo build --release --locked
if ! command -v cargo-deb >/dev/null 2>&1; then
  cargo install cargo-deb --locked --version ^3
fi
cargo deb --no-build --output "$dist/"

name="attune-$version-linux-$arch"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name"
cp target/release/attune packaging/attune.service packaging/config.yaml README.md LICENSE "$stage/$name/"
tar -C "$stage" -czf "$dist/$name.tar.gz" "$name"

(cd "$dist" && sha256sum -- *.deb *.tar.gz > SHA256SUMS)
ls -l "$dist"
cat "$dist/SHA256SUMS"
