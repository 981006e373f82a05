#!/usr/bin/env bash
# Runs a command against another Debian release's Kea, in a cached
# debootstrap root, with this repository and the host's Rust toolchain.
#
#   scripts/kea-root.sh SUITE [CMD [ARG...]]      (as root)
#
#   SUITE     trixie (Kea 2.6), sid (Kea 3.0), kea32 (Debian trixie with
#             the Kea 3.2.0 of ../shared/kea-3.2/ unpacked into /usr/local,
#             as docker-kea installs it, and KEA_PREFIX=/usr/local set for
#             CMD; KEA_32_TARBALL overrides the file),
#             or bookworm (the host itself: CMD just runs in the
#             repository, nothing is created)
#   CMD       default: an interactive bash
#
# Examples:
#   scripts/kea-root.sh trixie env CI=true ./scripts/test.sh
#   scripts/kea-root.sh sid cargo build --workspace
#   KEA_ROOT_RUST=debian scripts/kea-root.sh trixie cargo build --workspace
#                                     (Debian's rustc/cargo 1.85: the MSRV check)
#
# The root: $KEA_ROOT_CACHE/roots/SUITE (default /var/cache/kea-hooks), made
# once by `debootstrap --variant=minbase` from $KEA_ROOT_MIRROR (default: the
# Debian archive this machine's own apt sources name), then the packages of
# `scripts/setup-debian.sh --print-packages SUITE` plus procps and ca-certificates
# (trixie: also Debian's rustc and cargo) installed with a policy-rc.d that
# keeps every packaged service from starting. (apt-get update skips the
# Release file's Valid-Until check, signatures are still verified: the
# mirror may serve a frozen snapshot, as the one on our CI machines does,
# where sid's Release had expired.) The suite, mirror and package
# list are kept in the root's stamp file (.kea-root.stamp); the root is
# rebuilt (into SUITE.new, then swapped) only when they change, or when the
# stamp is missing (an interrupted build). KEA_ROOT_REBUILD=1 forces it.
# Building takes a few minutes; a cached root starts in well under a second.
#
# Running CMD: in private mount and PID namespaces (unshare), so every mount
# and every process CMD leaves behind goes away when it exits, failed or not.
# Inside the root: fresh /proc, /sys, /dev (the host's, with a private
# /dev/shm), /run and /tmp (tmpfs; /run/netns exists, `ip netns add` works),
# the host's /etc/resolv.conf and CA bundle, this repository at the same path (read-write),
# the host's ~/.rustup and ~/.cargo read-only, CARGO_HOME=$KEA_ROOT_CACHE/cargo
# (writable, shared by all roots; registry downloads happen once), and
# CARGO_TARGET_DIR=<repo>/target/kea-X.Y for the root's Kea X.Y, so builds
# against different Kea releases never mix (with KEA_ROOT_RUST=debian:
# target/kea-X.Y-debian-rust). The working directory is the current one if
# it lies in the repository, else the repository.
#
# Environment: CMD starts from a clean environment (HOME, PATH, LANG, TERM,
# the cargo/rustup variables above) plus, when set on the host: CI, CI_*,
# GITHUB_*, RUNNER_*, RUSTFLAGS, RUSTDOCFLAGS, RUST_BACKTRACE, RUST_LOG,
# RUST_TEST_THREADS, KEEP_TEST_DIRS, CARGO_TERM_*, CARGO_BUILD_JOBS,
# CARGO_INCREMENTAL, http(s)_proxy, no_proxy, and any names listed in
# KEA_ROOT_ENV (space-separated). With KEEP_TEST_DIRS set, /tmp is
# $KEA_ROOT_CACHE/tmp-SUITE instead of a tmpfs, so kept test dirs survive.
#
# KEA_ROOT_RUST=debian: leave out the host's toolchain; PATH has only the
# root's /usr/bin etc., so `cargo` is Debian's (trixie: 1.85).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
CACHE=${KEA_ROOT_CACHE:-/var/cache/kea-hooks}
RECIPE=2   # bump when the way a root is built changes (forces a rebuild)

die() { echo "kea-root: $*" >&2; exit 1; }

# shellcheck source=scripts/apt-mirror.sh
. "$REPO/scripts/apt-mirror.sh"
MIRROR=$(apt_mirror) || die "no Debian archive in this machine's apt sources: set KEA_ROOT_MIRROR"

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

# ---- inside the namespaces (re-executed by `run` below) -------------------
if [[ ${1:-} == --inner ]]; then
  shift
  ROOT=$1 SUITE=$2 TARGET=$3 WORKDIR=$4 RUST=$5
  shift 5
  # Nothing mounted here may propagate back to the host.
  mount --make-rprivate /
  # The root must be a mount point of its own: `ip netns exec` remounts
  # "/" as a slave, which fails on a plain directory.
  mount --bind "$ROOT" "$ROOT"
  mount -t proc proc "$ROOT/proc"
  mount -t sysfs sysfs "$ROOT/sys"
  mount --rbind /dev "$ROOT/dev"
  mount -t tmpfs -o mode=1777,nosuid,nodev shm "$ROOT/dev/shm"
  mount -t tmpfs -o mode=0755,nosuid,nodev run "$ROOT/run"
  mkdir -p "$ROOT/run/netns" "$ROOT/run/lock"
  if [[ -n ${KEEP_TEST_DIRS:-} ]]; then
    mkdir -p "$CACHE/tmp-$SUITE"
    chmod 1777 "$CACHE/tmp-$SUITE"
    mount --bind "$CACHE/tmp-$SUITE" "$ROOT/tmp"
    echo "kea-root: KEEP_TEST_DIRS is set: /tmp is $CACHE/tmp-$SUITE on the host" >&2
  else
    mount -t tmpfs -o mode=1777,nosuid,nodev tmp "$ROOT/tmp"
  fi
  # (Never unlink it here: in a concurrent run's namespace it is a mount
  # point, and unlinking that would detach the other run's mount.)
  if [[ ! -f $ROOT/etc/resolv.conf || -L $ROOT/etc/resolv.conf ]]; then
    rm -f "$ROOT/etc/resolv.conf"
    : >"$ROOT/etc/resolv.conf"
  fi
  mount --bind /etc/resolv.conf "$ROOT/etc/resolv.conf"
  # The host's CA bundle, which may hold a site's own (proxy) CA, so that
  # cargo reaches crates.io from inside as it does outside.
  if [[ -f /etc/ssl/certs/ca-certificates.crt && -f $ROOT/etc/ssl/certs/ca-certificates.crt ]]; then
    mount --bind /etc/ssl/certs/ca-certificates.crt "$ROOT/etc/ssl/certs/ca-certificates.crt"
    mount -o remount,bind,ro "$ROOT/etc/ssl/certs/ca-certificates.crt"
  fi

  bind() { # bind SRC [ro]: SRC at the same path inside the root
    mkdir -p "$ROOT$1"
    mount --bind "$1" "$ROOT$1"
    if [[ ${2:-} == ro ]]; then mount -o remount,bind,ro "$ROOT$1"; fi
  }
  bind "$REPO"
  mkdir -p "$CACHE/cargo"
  bind "$CACHE/cargo"

  envv=(HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" USER=root LOGNAME=root
        CARGO_HOME="$CACHE/cargo" CARGO_TARGET_DIR="$TARGET"
        KEA_ROOT_SUITE="$SUITE")
  # Kea 3.2 sits in /usr/local: builds find it as the README tells
  # docker-kea users to, with KEA_PREFIX.
  [[ $SUITE == kea32 ]] && envv+=(KEA_PREFIX=/usr/local)
  sys_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  if [[ $RUST == host ]]; then
    rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
    host_cargo=$(command -v cargo) ||
      die "no cargo on the host's PATH (install Rust with rustup, or use KEA_ROOT_RUST=debian on trixie)"
    cargo_bin=$(dirname "$host_cargo")
    [[ -d $rustup_home ]] || die "no rustup home at $rustup_home (set RUSTUP_HOME)"
    bind "$rustup_home" ro
    bind "$cargo_bin" ro
    envv+=(RUSTUP_HOME="$rustup_home" PATH="$cargo_bin:$sys_path")
    [[ -n ${RUSTUP_TOOLCHAIN:-} ]] && envv+=(RUSTUP_TOOLCHAIN="$RUSTUP_TOOLCHAIN")
    envv+=(RUSTUP_AUTO_INSTALL=0)
  else
    [[ -x $ROOT/usr/bin/cargo ]] || die "KEA_ROOT_RUST=debian: the $SUITE root has no Debian cargo (only trixie's has)"
    envv+=(PATH="$sys_path")
  fi
  pass=(CI RUSTFLAGS RUSTDOCFLAGS RUST_BACKTRACE RUST_LOG RUST_TEST_THREADS KEEP_TEST_DIRS
        CARGO_BUILD_JOBS CARGO_INCREMENTAL http_proxy https_proxy no_proxy
        HTTP_PROXY HTTPS_PROXY NO_PROXY ${KEA_ROOT_ENV:-})
  while IFS= read -r name; do pass+=("$name"); done < <(compgen -e | grep -E '^(CI_|GITHUB_|RUNNER_|CARGO_TERM_)' || true)
  for name in "${pass[@]}"; do
    [[ -n ${!name+x} ]] && envv+=("$name=${!name}")
  done
  if (($# == 0)); then set -- bash -l; fi
  # PID 1 of the new PID namespace is this shell; when it exits, the kernel
  # kills whatever CMD left running (a Kea daemon of a failed test, ...).
  rc=0
  chroot "$ROOT" /usr/bin/env -i "${envv[@]}" /bin/sh -c 'cd "$1" && shift && exec "$@"' sh "$WORKDIR" "$@" 9>&- || rc=$?
  exit "$rc"
fi

# ---- on the host -----------------------------------------------------------
(($# >= 1)) || usage
case $1 in -h|--help) usage ;; esac
SUITE=$1
shift

if [[ $SUITE == bookworm ]]; then
  [[ $(. /etc/os-release && echo "${VERSION_CODENAME:-}") == bookworm ]] ||
    die "bookworm means the host itself, and this host is not Debian bookworm"
  cd "$REPO"
  if (($# == 0)); then set -- bash -l; fi
  exec "$@"
fi

TARBALL=
case $SUITE in
  trixie|sid) DEBIAN_SUITE=$SUITE ;;
  kea32)
    DEBIAN_SUITE=trixie
    TARBALL=${KEA_32_TARBALL:-$REPO/../shared/kea-3.2/kea-3.2.0-trixie-amd64.tar.xz}
    [[ -f $TARBALL ]] || die "no Kea 3.2 build at $TARBALL (see ../shared/kea-3.2/README.md; KEA_32_TARBALL names another)" ;;
  *) die "unknown suite '$SUITE' (trixie: Kea 2.6, sid: Kea 3.0, kea32: Kea 3.2 from source, bookworm: the host)" ;;
esac
[[ $(id -u) == 0 ]] || die "needs root (debootstrap, chroot, mount and network namespaces)"
if ! command -v debootstrap >/dev/null; then
  echo "kea-root: installing debootstrap" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null ||
    die "could not install debootstrap (apt-get install debootstrap)"
fi
for tool in debootstrap unshare chroot flock; do
  command -v "$tool" >/dev/null || die "'$tool' not found (Debian: apt-get install debootstrap util-linux coreutils)"
done

ROOTS=$CACHE/roots
ROOT=$ROOTS/$SUITE
mkdir -p "$ROOTS"

mapfile -t PKGS < <(KEA_ROOT_SUITE= "$REPO/scripts/setup-debian.sh" --print-packages "$SUITE")
PKGS+=(procps ca-certificates)
[[ $SUITE == trixie ]] && PKGS+=(rustc cargo)   # Debian's 1.85: the MSRV check
STAMP_TEXT=$(
  echo "recipe $RECIPE"
  echo "suite $SUITE"
  echo "mirror $MIRROR"
  if [[ -n $TARBALL ]]; then echo "kea $(sha256sum <"$TARBALL" | cut -d' ' -f1)"; fi
  printf 'package %s\n' "${PKGS[@]}" | sort -u
)

# Refuse to rm -rf anything with a mount below it (there should never be
# one: every mount is made inside a private namespace).
safe_rm() {
  [[ -e $1 ]] || return 0
  if findmnt -rn -o TARGET | grep -q "^$1\(/\|$\)"; then
    die "$1 has something mounted below it; not removing (see findmnt)"
  fi
  rm -rf --one-file-system "$1"
}

build_root() {
  local new=$ROOT.new t0=$SECONDS
  safe_rm "$new"
  echo "kea-root: building the $SUITE root in $ROOT (debootstrap from $MIRROR)" >&2
  # debootstrap mounts /proc and /sys in the target itself: keep those in a
  # private namespace too, so an interrupted run leaves nothing mounted.
  unshare -m --propagation private \
    debootstrap --variant=minbase --include=ca-certificates "$DEBIAN_SUITE" "$new" "$MIRROR" \
    >"$ROOTS/$SUITE.debootstrap.log" 2>&1 ||
    { tail -n 30 "$ROOTS/$SUITE.debootstrap.log" >&2; die "debootstrap failed (log: $ROOTS/$SUITE.debootstrap.log)"; }
  # Packaged services must never start: the tests run their own daemons.
  printf '#!/bin/sh\n# kea-root.sh: never start services in this root\nexit 101\n' >"$new/usr/sbin/policy-rc.d"
  chmod 755 "$new/usr/sbin/policy-rc.d"
  echo "kea-root: installing ${PKGS[*]}" >&2
  # (and then Kea's own Boost headers where the suite's default moved on:
  # setup-debian.sh --match-kea-boost, run in the root)
  cp "$REPO/scripts/setup-debian.sh" "$new/tmp/setup-debian.sh"
  unshare -m --propagation private /bin/sh -euc '
    new=$1; shift
    mount --make-rprivate /
    mount -t proc proc "$new/proc"
    mount -t sysfs sysfs "$new/sys"
    mount --rbind /dev "$new/dev"
    rm -f "$new/etc/resolv.conf"; touch "$new/etc/resolv.conf"
    mount --bind /etc/resolv.conf "$new/etc/resolv.conf"
    chroot "$new" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 \
      /bin/sh -euc "apt-get update -qq -o Acquire::Check-Valid-Until=false && apt-get install -y -qq --no-install-recommends \"\$@\" && /bin/bash /tmp/setup-debian.sh --match-kea-boost && apt-get clean" sh "$@"
  ' sh "$new" "${PKGS[@]}" >"$ROOTS/$SUITE.install.log" 2>&1 ||
    { tail -n 30 "$ROOTS/$SUITE.install.log" >&2; die "installing packages failed (log: $ROOTS/$SUITE.install.log)"; }
  rm -f "$new/etc/resolv.conf" "$new/tmp/setup-debian.sh"
  : >"$new/etc/resolv.conf"   # a plain file for runs to bind the host's onto
  if [[ -n $TARBALL ]]; then
    # Kea built from source, into /usr/local (docker-kea's layout).
    tar -xJf "$TARBALL" -C "$new" || die "unpacking $TARBALL failed"
    echo /usr/local/lib >"$new/etc/ld.so.conf.d/kea.conf"
    chroot "$new" /sbin/ldconfig
    local hooks_version
    hooks_version=$(sed -n 's/.*KEA_HOOKS_VERSION *= *\([0-9]*\);.*/\1/p' "$new/usr/local/include/kea/hooks/hooks.h")
    [[ -n $hooks_version ]] || die "no KEA_HOOKS_VERSION in $TARBALL's hooks/hooks.h"
    echo "$((hooks_version / 10000)).$((hooks_version / 100 % 100)).$((hooks_version % 100))" >"$new/.kea-root.kea-version"
  else
    chroot "$new" dpkg-query -W -f='${Version}\n' kea-dev >"$new/.kea-root.kea-version"
  fi
  printf '%s\n' "$STAMP_TEXT" >"$new/.kea-root.stamp"
  safe_rm "$ROOT.old"
  if [[ -e $ROOT ]]; then mv "$ROOT" "$ROOT.old"; fi
  mv "$new" "$ROOT"
  safe_rm "$ROOT.old"
  echo "kea-root: $SUITE root ready (Kea $(cat "$ROOT/.kea-root.kea-version")) in $((SECONDS - t0)) s" >&2
}

current() { [[ -z ${KEA_ROOT_REBUILD:-} && -f $ROOT/.kea-root.stamp && $(cat "$ROOT/.kea-root.stamp") == "$STAMP_TEXT" ]]; }

# A shared lock while the root is in use, an exclusive one to (re)build it:
# a rebuild never swaps the root under a running command.
exec 9>"$ROOTS/$SUITE.lock"
flock -s 9
if ! current; then
  flock -x 9
  if ! current; then build_root; fi
  unset KEA_ROOT_REBUILD
  flock -s 9
fi

KEA_VERSION=$(cat "$ROOT/.kea-root.kea-version")    # e.g. 2.6.3-1
KEA_XY=$(echo "$KEA_VERSION" | sed -E 's/^([0-9]+:)?([0-9]+)\.([0-9]+).*/\2.\3/')
RUST=${KEA_ROOT_RUST:-host}
case $RUST in
  host) TARGET=$REPO/target/kea-$KEA_XY ;;
  debian) TARGET=$REPO/target/kea-$KEA_XY-debian-rust ;;
  *) die "KEA_ROOT_RUST must be 'host' or 'debian', not '$RUST'" ;;
esac
here=$(pwd -P)
case $here/ in
  "$REPO"/*) WORKDIR=$here ;;
  *) WORKDIR=$REPO ;;
esac

export REPO CACHE
exec unshare --mount --pid --fork --kill-child --propagation private \
  "$REPO/scripts/kea-root.sh" --inner "$ROOT" "$SUITE" "$TARGET" "$WORKDIR" "$RUST" "$@"
