#!/usr/bin/env bash
# Builds the hooks and shows mac-acl, lease-stats and run-script working in a real kea-dhcp4
# (an allowed and a denied DHCP client, each in a network namespace), then lease-stats and
# run-script in a real kea-dhcp6 (a DHCPv6 client with an address and a delegated prefix).
# Needs root; installs the Debian packages it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup-debian.sh
cargo build --release --workspace
cargo run --release --quiet -p kea-hooks-tests --bin kea-demo
