#!/usr/bin/env bash
# Runs every test: the SDK's unit tests and the integration tests, which
# start real kea-dhcp4 daemons in network namespaces and send them real DHCP
# traffic (perfdhcp, dhclient). Needs root for the namespaces; installs the
# Debian packages it needs. Every hook is linked with --no-undefined, so a
# missing Kea library fails the build instead of surfacing inside Kea.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/setup-debian.sh

export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,--no-undefined"
cargo build --workspace --all-targets
cargo test --workspace --no-fail-fast -- "$@"
