#!/usr/bin/env bash
# Build the shipped binary (the `dist` profile: fat LTO, one codegen unit), the Debian package and the release tarball, with
# SHA-256 checksums, into dist/. Works as root on a fresh Debian machine with
# a Rust toolchain: cargo-deb is installed with `cargo install` when missing.
#   scripts/package.sh
# Then, as root: scripts/package-check.sh (installs and checks the .deb).
set -euo pipefail
cd "$(dirname "$0")/.."

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
dist=dist
rm -rf "$dist" && mkdir -p "$dist"

echo "--- cargo build --profile dist"
cargo build --profile dist --locked --bin attune

if ! command -v cargo-deb >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/cargo-deb" ]; then
  echo "--- cargo install cargo-deb"
  cargo install cargo-deb --locked --version '^3'
fi
export PATH="$HOME/.cargo/bin:$PATH"

echo "--- cargo deb"
# The binary is already stripped by the dist profile (it inherits release).
cargo deb --no-build --no-strip --output "$dist/"

echo "--- tarball"
name="attune-$version-linux-$arch"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/$name"
cp target/dist/attune packaging/attune.service packaging/config.yaml \
   README.md LICENSE docs/OPERATIONS.md "$stage/$name/"
tar -C "$stage" --owner=0 --group=0 -czf "$dist/$name.tar.gz" "$name"

(cd "$dist" && sha256sum -- *.deb *.tar.gz > SHA256SUMS)

echo "--- shipped binary (dist profile)"
ls -l target/dist/attune
echo "size: $(stat -c %s target/dist/attune) bytes"
ldd target/dist/attune || true
echo "--- dist/"
ls -l "$dist"
cat "$dist/SHA256SUMS"
