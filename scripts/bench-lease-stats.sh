#!/usr/bin/env bash
# The lease-stats benchmark: lease-stats-get against ISC's stat-lease4-get
# and Kea's statistic-get through the control socket at 10k, 100k and 1M
# leases (see tests/src/bin/lease-stats-bench.rs). Needs root (network
# namespaces). Options: --sizes N,N,... --queries N.
# The packet path, side by side: lease-stats against a C++ hook with the
# same callouts reading the same leases and counting nothing (what Kea and
# reading the arguments cost any such hook), and against no hook:
#   ./scripts/bench.sh --rounds 0 --skip-callouts --cachegrind-runs 0 \
#     --variant cpp-reader=cpp-lease-points --variant lease-stats=lease-stats --variant none=none --side-by-side 8
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-debian.sh
cargo run --release --quiet -p kea-hooks-tests --bin lease-stats-bench -- "$@"
