#!/usr/bin/env bash
# Runs scripts/test.sh against every Kea release we support, each in its own
# Debian: the host (bookworm, Kea 2.2) and the cached debootstrap roots of
# scripts/kea-root.sh (trixie: 2.6, sid: 3.0, kea32: trixie with the Kea
# 3.2 of ../shared/kea-3.2 in /usr/local, as docker-kea ships it), plus the
# MSRV check (every target built by Debian trixie's rustc/cargo 1.85, its
# unit tests and doctests run: test.sh --msrv),
# and the container images (scripts/images.sh --test 2.6 3.0 3.2: podman
# builds of docker/ for Debian's Kea 2.6 and 3.0 and for a docker-kea
# layout of Kea 3.2, then tests/tests/images.rs against them).
# Needs root.
#
#   scripts/test-matrix.sh [ENTRY...]     entries: bookworm trixie sid
#                                         kea32 mismatch msrv images (default:
#                                         all; bookworm only on a bookworm
#                                         host)
#
# mismatch: the probe hook built for one release is loaded into another
# (2.6's into 2.2 and 3.0, 3.0's into 2.6 and 3.2, 3.2's into 3.0) by
# tests/tests/releases.rs, which the other entries leave out (#[ignore]);
# Kea must refuse it.
#
# test.sh's RUSTFLAGS, for the mismatch entry's builds (see probe_for).
# (Added once: test-matrix.sh sets the same, and cargo rebuilds everything
# when the flags differ.)
if [[ ${RUSTFLAGS:-} != *--no-undefined* ]]; then export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,--no-undefined"; fi

# Runs every entry even when one fails, prints a summary with wall times,
# and exits non-zero if any failed. Arguments for the test binaries are not
# passed through; run scripts/kea-root.sh SUITE ./scripts/test.sh ARGS for
# that. CI and the other variables kea-root.sh passes go through.
set -uo pipefail
cd "$(dirname "$0")/.."

host=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
entries=("$@")
if ((${#entries[@]} == 0)); then
  entries=(trixie sid kea32 mismatch msrv images)
  if [[ $host == bookworm ]]; then entries=(bookworm "${entries[@]}"); fi
fi

# The probe hook built against SUITE's Kea (debug, as test.sh builds it),
# in the target directory kea-root.sh gives that release.
probe_for() {
  # shellcheck disable=SC2016  # expanded inside the root
  # (--workspace and test.sh's RUSTFLAGS: the same features and flags as
  # the release's own entry built with, so nothing is rebuilt.)
  ./scripts/kea-root.sh "$1" sh -c \
    'cargo build --quiet --workspace >&2 && echo "${CARGO_TARGET_DIR:-$PWD/target}/debug/libdhcp_probe.so"'
}

# Loads the hook built for FROM into INTO's Kea (tests/tests/releases.rs).
mismatch() {
  local into=$1 from=$2 lib
  lib=$(probe_for "$from") || return 1
  echo "=== test-matrix: mismatch: $from's probe hook into $into's Kea" >&2
  ./scripts/kea-root.sh "$into" env KEA_TEST_FOREIGN_HOOK="$lib" \
    cargo test --workspace --test releases -- --ignored
}

run_entry() {
  case $1 in
    bookworm|trixie|sid|kea32) ./scripts/kea-root.sh "$1" ./scripts/test.sh ;;
    mismatch)
      local rc=0
      if [[ $host == bookworm ]]; then mismatch bookworm trixie || rc=1; fi
      mismatch trixie sid || rc=1
      mismatch sid trixie || rc=1
      mismatch kea32 sid || rc=1
      mismatch sid kea32 || rc=1
      return $rc ;;
    msrv)
      # Cargo 1.85 cannot package crates that depend on each other before
      # they are published (`cargo package --workspace` came in 1.89): the
      # host's cargo packages them for tests/tests/packaging.rs, which
      # then builds and loads them with 1.85.
      local packages=$PWD/target/msrv-packages
      rm -rf "$packages"
      cargo package --workspace --no-verify --allow-dirty --quiet --target-dir "$packages" || return 1
      KEA_ROOT_RUST=debian KEA_TEST_PACKAGES=$packages/package KEA_ROOT_ENV="${KEA_ROOT_ENV:-} KEA_TEST_PACKAGES" \
        ./scripts/kea-root.sh trixie ./scripts/test.sh --msrv ;;
    images) ./scripts/images.sh --test 2.6 3.0 3.2 ;;
  esac
}

for entry in "${entries[@]}"; do
  case $entry in
    bookworm|trixie|sid|kea32|mismatch|msrv|images) ;;
    *) echo "test-matrix: unknown entry '$entry' (bookworm trixie sid kea32 mismatch msrv images)" >&2; exit 2 ;;
  esac
done

# "P F S": the passed and failed counts of cargo's "test result:" lines in
# FILE, less the integration tests test.sh reports as skipped (cargo counts
# those as passed), and the skipped count.
count_tests() {
  awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
       /^test.sh: [0-9]+ integration tests skipped/ { s += $2 }
       END { print p - s, f + 0, s + 0 }' "$1"
}

log=$(mktemp)
trap 'rm -f "$log"' EXIT
summary=()
failed=0
for entry in "${entries[@]}"; do
  echo "=== test-matrix: $entry" >&2
  start=$SECONDS
  if run_entry "$entry" 2>&1 | tee "$log.entry"; [[ ${PIPESTATUS[0]} == 0 ]]; then
    result=ok
  else
    result=FAILED
    failed=1
  fi
  read -r passed nfailed nskipped < <(count_tests "$log.entry")
  cat "$log.entry" >>"$log"
  summary+=("$(printf '%-9s %-7s %4d s  %4d passed, %d failed, %d skipped' "$entry" "$result" $((SECONDS - start)) "$passed" "$nfailed" "$nskipped")")
done
rm -f "$log.entry"

echo "=== test-matrix summary" >&2
printf '%s\n' "${summary[@]}" >&2
read -r passed nfailed nskipped < <(count_tests "$log")
# A failed entry counts even if no test line says so (a build error).
if ((failed && nfailed == 0)); then nfailed=1; fi
echo "matrix: $passed passed, $nfailed failed, $nskipped skipped"
exit "$failed"
