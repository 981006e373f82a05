#!/usr/bin/env bash
# Builds the container images of docker/ with podman, for one or more Kea
# releases, and (with --test) runs the image tests against them.
#
#   scripts/images.sh [--test] RELEASE...      (as root)
#
#   2.6   Debian trixie's Kea, named as docker-kea names its images:
#         localhost/kea-hooks/kea-dhcp4-slim:2.6 and kea-dhcp6-slim:2.6 (no
#         hook library) and kea-dhcp4:2.6 and kea-dhcp6:2.6 (the same with
#         ISC's hooks; docker/server.Dockerfile, targets slim and full),
#         kea-hooks:2.6 (our libraries in /hooks, built in kea-dhcp4-slim:2.6;
#         docker/hooks.Dockerfile), kea-dhcp4-example:2.6 and
#         kea-dhcp6-example:2.6 (docker/examples/Dockerfile FROM the slim
#         images)
#   3.0   the same from Debian sid
#   3.2   docker-kea's layout: localhost/docker-kea/kea-dhcp4-slim:3.2.0,
#         kea-dhcp6-slim:3.2.0, kea-dhcp4:3.2.0 and kea-dhcp6:3.2.0, made
#         from ../shared/kea-3.2 (tests/fixtures/docker-kea-3.2.Dockerfile;
#         KEA_32_TARBALL overrides the file) as stand-ins for jonasal's
#         images of the same names, then kea-hooks:3.2 and the two example
#         images built FROM them with the build arguments a docker-kea user
#         gives
#
# podman-compose 1.3.0 comes from PyPI into $KEA_ROOT_CACHE/podman-compose-1.3.0
# (Debian bookworm's 1.0.3 cannot run a service with network_mode).
# Base images: `debootstrap --variant=minbase SUITE` from the Debian archive
# this machine's apt uses (scripts/apt-mirror.sh), imported with `podman
# import` as localhost/kea-hooks-debian:SUITE (no registry is reachable
# here; elsewhere debian:SUITE-slim does as well), kept until the mirror
# or the recipe changes. Installs podman, runc and debootstrap when
# missing. The crates are vendored (`cargo vendor`, every run, so they
# follow Cargo.lock) into the build context, so the hook build inside the
# image is offline; into vendor.tmp first, then moved, so that an
# interrupted run (a full disk) never leaves a partial vendor/ behind.
# Prints each image's size and the time taken at the end; the tests
# print what they measure (the hooks image's size, the server images').
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$REPO"
CACHE=${KEA_ROOT_CACHE:-/var/cache/kea-hooks}
RECIPE=1
die() { echo "images: $*" >&2; exit 1; }
# shellcheck source=scripts/apt-mirror.sh
. "$REPO/scripts/apt-mirror.sh"

test=0
releases=()
for a in "$@"; do
  case $a in
    --test) test=1 ;;
    2.6|3.0|3.2) releases+=("$a") ;;
    *) die "unknown argument '$a' (releases: 2.6 3.0 3.2)" ;;
  esac
done
((${#releases[@]})) || die "name a release: 2.6 3.0 3.2"
[[ $(id -u) == 0 ]] || die "needs root (podman, debootstrap, network namespaces)"

missing=()
for tool in podman runc debootstrap; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if ((${#missing[@]})); then
  echo "images: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
    die "could not install ${missing[*]}"
fi
MIRROR=$(apt_mirror) || die "no Debian archive in this machine's apt sources: set KEA_ROOT_MIRROR"
# podman-compose from PyPI, in a venv of its own: bookworm's (1.0.3) gives
# every container `--net <project>_default` even with `network_mode`, which
# podman refuses ("cannot set multiple networks"); 1.3.0 (trixie's) does not.
COMPOSE_VENV=$CACHE/podman-compose-1.3.0
if [[ ! -x $COMPOSE_VENV/bin/podman-compose || ! -f $COMPOSE_VENV/.complete ]]; then
  echo "images: installing podman-compose 1.3.0 into $COMPOSE_VENV" >&2
  rm -rf "$COMPOSE_VENV"
  if ! /usr/bin/python3 -m venv "$COMPOSE_VENV" >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null || die "could not install python3-venv"
    rm -rf "$COMPOSE_VENV"
    /usr/bin/python3 -m venv "$COMPOSE_VENV"
  fi
  "$COMPOSE_VENV/bin/pip" install --quiet podman-compose==1.3.0 || { rm -rf "$COMPOSE_VENV"; die "could not install podman-compose 1.3.0"; }
  touch "$COMPOSE_VENV/.complete"
fi
export KEA_TEST_PODMAN_COMPOSE=$COMPOSE_VENV/bin/podman-compose
# crun fails on this machine kind's cgroups; runc works.
podman() { command podman --runtime runc "$@"; }
# podman build, quiet unless it fails (then the end of its output).
build() {
  local log rc=0
  log=$(mktemp)
  podman build --isolation chroot "$@" >"$log" 2>&1 || rc=$?
  if ((rc)); then
    tail -n 40 "$log" >&2
    rm -f "$log"
    die "podman build $* failed"
  fi
  rm -f "$log"
}

suite_of() { case $1 in 2.6|3.2) echo trixie ;; 3.0) echo sid ;; esac; }

# localhost/kea-hooks-debian:SUITE from debootstrap, rebuilt only when the
# mirror or the recipe changed.
base_image() {
  local suite=$1 tag=localhost/kea-hooks-debian:$1 stamp want dir
  stamp=$CACHE/images/$suite.stamp
  want="$suite $MIRROR recipe=$RECIPE"
  if podman image exists "$tag" && [[ -f $stamp && $(cat "$stamp") == "$want" ]]; then
    return
  fi
  mkdir -p "$CACHE/images"
  dir=$CACHE/images/$suite.rootfs
  rm -rf "$dir"
  echo "images: debootstrap $suite from $MIRROR" >&2
  debootstrap --variant=minbase "$suite" "$dir" "$MIRROR" >"$CACHE/images/$suite.debootstrap.log" 2>&1 ||
    { tail -n 20 "$CACHE/images/$suite.debootstrap.log" >&2; die "debootstrap $suite failed"; }
  # The mirror may serve a frozen snapshot whose Release has expired (sid's,
  # on our CI machines); signatures are still checked.
  echo 'Acquire::Check-Valid-Until "false";' >"$dir/etc/apt/apt.conf.d/99kea-hooks-snapshot"
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -c . | podman import --quiet - "$tag" >/dev/null
  rm -rf "$dir"
  echo "$want" >"$stamp"
}

# A release's Kea image for a daemon (default dhcp4: the one each
# release's hooks are built against; they load into both) and variant
# (slim, default: no hook library; full: with ISC's hooks).
kea_image() {
  local name=kea-${2:-dhcp4}
  [[ ${3:-slim} == full ]] || name=$name-slim
  case $1 in
    3.2) echo "localhost/docker-kea/$name:3.2.0" ;;
    *) echo "localhost/kea-hooks/$name:$1" ;;
  esac
}

images=()
rm -rf vendor.tmp
cargo vendor --quiet --locked vendor.tmp >/dev/null
rm -rf vendor
mv vendor.tmp vendor
for rel in "${releases[@]}"; do
  suite=$(suite_of "$rel")
  base_image "$suite"
  base=localhost/kea-hooks-debian:$suite
  if [[ $rel == 3.2 ]]; then
    tarball=${KEA_32_TARBALL:-$REPO/../shared/kea-3.2/kea-3.2.0-trixie-amd64.tar.xz}
    [[ -f $tarball ]] || die "no Kea 3.2 tree at $tarball (set KEA_32_TARBALL)"
    ctx=$(mktemp -d)
    cp "$tarball" "$ctx/kea-3.2.0-trixie-amd64.tar.xz"
    cp docker/entrypoint.sh "$ctx/"
    file=tests/fixtures/docker-kea-3.2.Dockerfile what="docker-kea's layout, from $tarball"
  else
    ctx=docker file=docker/server.Dockerfile what="Debian $suite's Kea"
  fi
  for daemon in dhcp4 dhcp6; do
    for variant in slim full; do
      image=$(kea_image "$rel" $daemon $variant)
      echo "images: $image ($what)" >&2
      build -f "$file" --build-arg BASE="$base" --build-arg DAEMON=$daemon --target $variant -t "$image" "$ctx"
      images+=("$image")
    done
  done
  [[ $rel != 3.2 ]] || rm -rf "$ctx"
  echo "images: localhost/kea-hooks/kea-hooks:$rel (hooks built in $(kea_image "$rel"))" >&2
  build -f docker/hooks.Dockerfile --build-arg KEA_IMAGE="$(kea_image "$rel")" -t "localhost/kea-hooks/kea-hooks:$rel" .
  images+=("localhost/kea-hooks/kea-hooks:$rel")
  for daemon in dhcp4 dhcp6; do
    echo "images: localhost/kea-hooks/kea-$daemon-example:$rel" >&2
    build -f docker/examples/Dockerfile --build-arg KEA_IMAGE="$(kea_image "$rel" $daemon)" \
      --build-arg HOOKS_IMAGE="localhost/kea-hooks/kea-hooks:$rel" -t "localhost/kea-hooks/kea-$daemon-example:$rel" docker/examples
    images+=("localhost/kea-hooks/kea-$daemon-example:$rel")
  done
done
echo "=== image sizes" >&2
for image in "${images[@]}"; do
  printf '%-48s %s\n' "$image" "$(podman image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.1f MB", $1 / 1e6 }')"
done
echo "images: built in ${SECONDS} s" >&2
if ((test)); then
  KEA_TEST_IMAGES="${releases[*]}" cargo test -p kea-hooks-tests --test images -- --ignored --test-threads 1 --nocapture
  echo "images: built and tested in ${SECONDS} s" >&2
fi
