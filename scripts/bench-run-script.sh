#!/usr/bin/env bash
# The run-script benchmark: kea-dhcp4's DORA rate with no hook, ISC's
# run_script, and run-script in exec and stream mode, each script counting
# its invocations, and the bare posix_spawn + wait rate of the same script
# (see tests/src/bin/run-script-bench.rs). Needs root (network
# namespaces). Options: --seconds N --rate R --spawns N.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-debian.sh
cargo run --release --quiet -p kea-hooks-tests --bin run-script-bench -- "$@"
