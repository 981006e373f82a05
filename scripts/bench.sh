#!/usr/bin/env bash
# The benchmark: per-callout cost in process and end-to-end exchanges/s with
# perfdhcp, for no hook, a hand-written C++ hook and the same hook in Rust.
# Needs root (network namespaces). Options go to kea-bench (--rounds N,
# --seconds S, --rate R, --skip-e2e, --skip-callouts, --variant NAME=LIB[+LIB],
# --twins, --twins6 (DHCPv6), --keep-cachegrind; see tests/src/bin/kea-bench.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-debian.sh
cargo run --release --quiet -p kea-hooks-tests --bin kea-bench -- "$@"
