#!/bin/sh
# Builds the C++ side of the benchmark into OUT_DIR:
#   libdhcp_bench_cpp.so  the hand-written C++ bench hook (cpp-hook/)
#   libdhcp_bench_lease_points.so  lease-stats' callouts, reading what it reads (cpp-hook/)
#   libdhcp_bench_park_cpp.so  the parking bench hook's C++ twin (cpp-hook/)
#   libdhcp_bench6_cpp.so  the DHCPv6 bench hook (cpp-hook/bench6_hook.cc)
#   callout_bench         the in-process per-callout driver (driver/)
#   tests/bench/build.sh OUT_DIR
# Kea is found in KEA_INCLUDE_DIR / KEA_LIB_DIR when set, else in Debian's
# locations (/usr/include/kea, default linker path). CXX overrides g++.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUT_DIR" >&2
    exit 2
fi
OUT=$1
HERE=$(cd "$(dirname "$0")" && pwd)
INC=${KEA_INCLUDE_DIR:-/usr/include/kea}
LIBDIR_FLAGS=
if [ -n "${KEA_LIB_DIR:-}" ]; then
    LIBDIR_FLAGS="-L$KEA_LIB_DIR -Wl,-rpath,$KEA_LIB_DIR"
fi
mkdir -p "$OUT"
# Kea 3.0 renamed libkea-dhcp++ to libkea-dhcp.
HOOKS_VERSION=$(sed -n 's/.*KEA_HOOKS_VERSION *= *\([0-9]*\);.*/\1/p' "$INC/hooks/hooks.h")
if [ "${HOOKS_VERSION:-0}" -ge 30000 ]; then DHCP_LIB=kea-dhcp; else DHCP_LIB=kea-dhcp++; fi

# build OUTPUT SOURCE [EXTRA_FLAGS...]
build() {
    output=$1
    source=$2
    shift 2
    # shellcheck disable=SC2086  # LIBDIR_FLAGS is a word list on purpose
    ${CXX:-g++} -O2 -std=c++17 "$@" -DBENCH_HOOKS_VERSION="${HOOKS_VERSION:-0}" \
        -Wall -Wno-deprecated-declarations -Wno-deprecated-copy -Wno-unused-parameter \
        -I"$INC" \
        "$HERE/$source" \
        $LIBDIR_FLAGS \
        -lkea-hooks -lkea-dhcpsrv -l$DHCP_LIB -lkea-log -lkea-cc -lkea-asiolink \
        -lkea-util -lkea-exceptions \
        -Wl,--no-undefined \
        -o "$OUT/$output"
    echo "$OUT/$output"
}

build libdhcp_bench_cpp.so cpp-hook/bench_hook.cc -fPIC -shared
build libdhcp_bench_lease_points.so cpp-hook/lease_points_hook.cc -fPIC -shared
build libdhcp_bench_park_cpp.so cpp-hook/park_bench_hook.cc -fPIC -shared -pthread
build libdhcp_bench6_cpp.so cpp-hook/bench6_hook.cc -fPIC -shared
build callout_bench driver/callout_bench.cc
