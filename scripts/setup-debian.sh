#!/usr/bin/env bash
# Installs what building and testing the hooks needs on Debian (bookworm:
# Kea 2.2; trixie: 2.6; sid: 3.0). Idempotent; installs only what is
# missing. Needs root to install.
#   setup-debian.sh                          check, install what is missing
#   setup-debian.sh --print-packages [SUITE] print the package list for SUITE
#                                            (default: this machine's), one a
#                                            line; scripts/kea-root.sh builds
#                                            its roots from it
#   setup-debian.sh --match-kea-boost        only the Boost step below
set -euo pipefail

# Hooks must be built with the Boost headers Kea was built with: Kea's hook
# arguments include Boost.MultiIndex containers (cb4_updated's
# audit_entries), whose C++ type changes between Boost releases, and a
# hook built with other headers cannot take them (bad_any_cast). Debian's
# default Boost can move past Kea's (sid: Kea 3.0.4 built with 1.90,
# libboost-dev 1.92): then install Kea's (libboost<major>.<minor>-dev,
# which replaces libboost-dev). Kea says which it had in `kea-dhcp4 -W`.
match_kea_boost() {
  command -v kea-dhcp4 >/dev/null || return 0
  local kea ours pkg
  kea=$(kea-dhcp4 -W 2>/dev/null | sed -n 's/^ *Boost: *\([0-9][0-9]*_[0-9][0-9]*\).*/\1/p' | head -n 1)
  ours=$(sed -n 's/^#define BOOST_LIB_VERSION "\(.*\)"/\1/p' /usr/include/boost/version.hpp 2>/dev/null || true)
  [[ -n $kea && $kea != "$ours" ]] || return 0
  pkg="libboost${kea/_/.}-dev"
  if [[ $(id -u) != 0 ]]; then
    echo "setup-debian: Kea was built with Boost ${kea/_/.}, the headers here are ${ours:-none}; run as root (or: sudo apt-get install $pkg)" >&2
    exit 1
  fi
  echo "setup-debian: Kea was built with Boost ${kea/_/.}, the headers here are ${ours:-none}: installing $pkg"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg"
}
if [[ ${1:-} == --match-kea-boost ]]; then
  match_kea_boost
  exit 0
fi

# KEA_ROOT_SUITE: set by scripts/kea-root.sh inside its roots, where it can
# name a Kea that is not Debian's (kea32: trixie with Kea 3.2 in /usr/local).
suite=${KEA_ROOT_SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-}")}
if [[ ${1:-} == --print-packages && -n ${2:-} ]]; then suite=$2; fi

# A real DHCPv4 client for the tests: ISC's dhclient where Debian still
# ships it; sid dropped isc-dhcp-client, so there busybox's udhcpc.
case $suite in
  bookworm|trixie|kea32) dhcp_client=isc-dhcp-client ;;
  *) dhcp_client=udhcpc ;;
esac

case $suite in
  # Kea 3.2 is not Debian's: kea-root.sh unpacks ../shared/kea-3.2 into
  # /usr/local; these are what its libraries need at run time.
  kea32) KEA_PKGS=(libssl3t64 liblog4cplus-2.0.5t64 zlib1g libzstd1) ;;
  *) KEA_PKGS=(kea-dev kea-dhcp4-server kea-dhcp6-server kea-admin) ;;  # Kea, its headers, perfdhcp
esac
# Commands over HTTP: before 3.0 only kea-ctrl-agent serves them (3.0+
# servers have their own HTTP control socket; the agent is deprecated).
case $suite in
  bookworm|trixie) KEA_PKGS+=(kea-ctrl-agent) ;;
esac
# SQL lease databases and configuration backends (tests/src/db.rs starts
# its own servers from these; their packaged services never start): every
# Debian Kea has the PostgreSQL and MySQL backends, the 3.2 build from
# ../shared/kea-3.2 has neither.
case $suite in
  kea32) ;;
  *) KEA_PKGS+=(postgresql mariadb-server) ;;
esac

# tests/tests/nonroot.rs also uses useradd/userdel (package passwd, priority
# required: in every installation and debootstrap root) and setcap
# (libcap2-bin, a dependency of iproute2 on bookworm, trixie and sid).
PKGS=(
  "${KEA_PKGS[@]}"
  libboost-dev liblog4cplus-dev libssl-dev              # headers kea-dev does not pull in
  g++ pkg-config                                        # the C++ shim and the bench fixture
  iproute2 "$dhcp_client"                               # test network namespaces, a real client
  curl                                                  # control commands over HTTP
  python3-prometheus-client                             # a real Prometheus parser for metrics endpoints
  python3-venv                                          # kea-exporter from PyPI, in a venv of the test's own (kea_metrics.rs)
  prometheus                                            # a real Prometheus scraping kea-metrics (its service never starts)
  valgrind                                              # instruction counts in the benchmark
)

if [[ ${1:-} == --print-packages ]]; then
  printf '%s\n' "${PKGS[@]}"
  exit 0
fi

missing=()
for p in "${PKGS[@]}"; do
  # Any Boost headers will do here: match_kea_boost picks the version.
  [[ $p == libboost-dev && -e /usr/include/boost/version.hpp ]] && continue
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "setup-debian: missing packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "setup-debian: installing ${missing[*]}"
  # Keep the packaged Kea services from starting: the tests run their own.
  created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  if ((created_policy)); then rm -f /usr/sbin/policy-rc.d; fi
fi

match_kea_boost

if ! command -v cargo >/dev/null; then
  echo "setup-debian: cargo not found: install Rust (https://rustup.rs, 1.85 or newer)" >&2
  exit 1
fi
