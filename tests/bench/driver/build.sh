#!/bin/sh
# Builds callout_bench (the in-process per-callout cost driver) into $1.
#   tests/bench/driver/build.sh OUT_DIR
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

# shellcheck disable=SC2086  # LIBDIR_FLAGS is a word list on purpose
${CXX:-g++} -O2 -std=c++17 \
    -Wall -Wno-deprecated-declarations -Wno-deprecated-copy -Wno-unused-parameter \
    -I"$INC" \
    "$HERE/callout_bench.cc" \
    $LIBDIR_FLAGS \
    -lkea-hooks -lkea-dhcpsrv -lkea-dhcp++ -lkea-log -lkea-cc -lkea-asiolink \
    -lkea-util -lkea-exceptions \
    -Wl,--no-undefined \
    -o "$OUT/callout_bench"
echo "$OUT/callout_bench"
