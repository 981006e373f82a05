#!/usr/bin/env bash
# The kea-metrics benchmark: a scrape of the hook against kea-exporter 0.7
# and statistic-get-all on the same kea-dhcp4, and the longest step a scrape
# holds Kea's main thread, at 10, 1,000 and 10,000 subnets (see
# tests/src/bin/kea-metrics-bench.rs). Needs root (network namespaces) and
# reaches the Python package index once (kea-exporter into the tests'
# venv). Options: --sizes N,N,... --scrapes N --page-size N.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-debian.sh
cargo run --release --quiet -p kea-hooks-tests --bin kea-metrics-bench -- "$@"
