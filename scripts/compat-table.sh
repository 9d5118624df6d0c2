#!/bin/sh
# Rewrites the verdict table of docs/COMPATIBILITY.md from attune's
# validator run over upstream Attune's files (tests/corpus/attune and
# tests/corpus/upstream/docs; scripts/gather-upstream-docs.py gathers the
# latter from a checkout of upstream). The test fails when the table is
# stale, so CI keeps it true.
set -eu
cd "$(dirname "$0")/.."
UPDATE_EXPECT=1 cargo test --test workflow compat
git --no-pager diff --stat -- docs/COMPATIBILITY.md || true
