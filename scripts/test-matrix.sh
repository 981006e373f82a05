#!/usr/bin/env bash
# Runs scripts/test.sh against every Kea release we support, each in its own
# Debian: the host (bookworm, Kea 2.2) and the cached debootstrap roots of
# scripts/kea-root.sh (trixie: 2.6, sid: 3.0), plus the MSRV check (the
# whole suite built by Debian trixie's rustc/cargo 1.85). Needs root.
#
#   scripts/test-matrix.sh [ENTRY...]     entries: bookworm trixie sid msrv
#                                         (default: all; bookworm only on a
#                                         bookworm host)
#
# Runs every entry even when one fails, prints a summary with wall times,
# and exits non-zero if any failed. Arguments for the test binaries are not
# passed through; run scripts/kea-root.sh SUITE ./scripts/test.sh ARGS for
# that. CI and the other variables kea-root.sh passes go through.
set -uo pipefail
cd "$(dirname "$0")/.."

entries=("$@")
if ((${#entries[@]} == 0)); then
  entries=(trixie sid msrv)
  if [[ $(. /etc/os-release && echo "${VERSION_CODENAME:-}") == bookworm ]]; then
    entries=(bookworm "${entries[@]}")
  fi
fi

summary=()
failed=0
for entry in "${entries[@]}"; do
  case $entry in
    bookworm|trixie|sid) cmd=(./scripts/kea-root.sh "$entry" ./scripts/test.sh) ;;
    msrv) cmd=(env KEA_ROOT_RUST=debian ./scripts/kea-root.sh trixie ./scripts/test.sh) ;;
    *) echo "test-matrix: unknown entry '$entry' (bookworm trixie sid msrv)" >&2; exit 2 ;;
  esac
  echo "=== test-matrix: $entry: ${cmd[*]}" >&2
  start=$SECONDS
  if "${cmd[@]}"; then result=ok; else result="FAILED (exit $?)"; failed=1; fi
  summary+=("$(printf '%-9s %-16s %4d s' "$entry" "$result" $((SECONDS - start)))")
done

echo "=== test-matrix summary" >&2
printf '%s\n' "${summary[@]}" >&2
exit "$failed"
