# kea-dhcp4 / kea-dhcp6 images from Debian's Kea packages (2.6 on trixie,
# 3.0 on sid), named and laid out as docker-kea's images are, so that the
# same `COPY --from=... /hooks/libX.so /usr/local/lib/kea/hooks/` line and
# the same `hooks-libraries` entries (bare file names, as Kea 3.x wants)
# work in both. Two targets, as docker-kea's two images per daemon:
#
#   slim   (kea-dhcp4-slim, kea-dhcp6-slim): no hook library at all (dpkg
#          is told to leave Kea's hooks directory out, and stays told, so
#          an upgrade does not bring them back): the image to COPY
#          hooks into
#   full   (kea-dhcp4, kea-dhcp6): the slim image plus ISC's open-source
#          hooks from the same packages (a few MB), in the hooks directory
#
#   /kea/config /kea/leases /kea/logs /kea/sockets   (0750)
#   /entrypoint.d/*.sh                               run at start
#   /usr/local/lib/kea/hooks                         hooks (KEA_HOOKS_PATH)
#   /usr/local/share/kea/scripts                     run_script's scripts (KEA_HOOK_SCRIPTS_PATH)
#
#   podman build -f docker/server.Dockerfile --build-arg BASE=debian:trixie-slim \
#       --build-arg DAEMON=dhcp4 --target slim -t kea-dhcp4-slim:2.6 docker/
#   podman build -f docker/server.Dockerfile --build-arg BASE=debian:trixie-slim \
#       --build-arg DAEMON=dhcp4 --target full -t kea-dhcp4:2.6 docker/
#
# BASE: a Debian image whose apt sources reach its release's archive.
ARG BASE=debian:trixie-slim
FROM ${BASE} AS slim
ARG DAEMON=dhcp4
RUN set -eu; \
    export DEBIAN_FRONTEND=noninteractive; \
    # Debian ships ISC's hooks in the server packages: dpkg leaves them out.
    printf '# kea-hooks slim image: no hook library (docker/server.Dockerfile)\npath-exclude=/usr/lib/*/kea/hooks/*\n' \
        > /etc/dpkg/dpkg.cfg.d/kea-slim; \
    apt-get update -qq; \
    apt-get install -y -qq --no-install-recommends "kea-${DAEMON}-server" ca-certificates >/dev/null; \
    apt-get clean; rm -rf /var/lib/apt/lists/*; \
    if found=$(find / -xdev -name 'lib*.so' -path '*/kea/hooks/*' | grep .); then \
        echo "slim image: hook libraries were installed: $found" >&2; exit 1; \
    fi; \
    mkdir -p /kea/config /kea/leases /kea/logs /kea/sockets /entrypoint.d \
             /usr/local/lib/kea/hooks /usr/local/share/kea/scripts; \
    chmod 0750 /kea/config /kea/leases /kea/logs /kea/sockets; \
    echo /usr/local/lib/kea/hooks > /etc/ld.so.conf.d/kea-hooks.conf; \
    ldconfig
COPY entrypoint.sh /usr/local/bin/entrypoint.sh
ENV KEA_EXECUTABLE=${DAEMON} \
    KEA_PIDFILE_DIR=/run/kea \
    KEA_LOCKFILE_DIR=/run/lock/kea \
    KEA_HOOKS_PATH=/usr/local/lib/kea/hooks \
    KEA_HOOK_SCRIPTS_PATH=/usr/local/share/kea/scripts \
    KEA_DHCP_DATA_DIR=/kea/leases \
    KEA_LOG_FILE_DIR=/kea/logs \
    KEA_LEGAL_LOG_DIR=/kea/logs \
    KEA_CONTROL_SOCKET_DIR=/kea/sockets
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["-c", "/kea/config/kea.json"]

FROM slim AS full
# ISC's hooks (Debian's build of them), taken from the slim image's own
# Kea packages at the versions it has: only those files are added, in the
# hooks directory, where bare names find them; Debian's path points there.
# A library COPYed in later under the same name (ours,
# libdhcp_run_script.so) replaces ISC's.
RUN set -eu; \
    export DEBIAN_FRONTEND=noninteractive; \
    rm /etc/dpkg/dpkg.cfg.d/kea-slim; \
    pkgs=$(dpkg-query -W -f='${db:Status-Status} ${Package}=${Version}\n' | awk '$1 == "installed" && $2 ~ /^kea/ { print $2 }'); \
    apt-get update -qq; \
    tmp=$(mktemp -d); \
    (cd "$tmp" && apt-get download -qq $pkgs >/dev/null 2>&1) || { \
        echo "full image: cannot download $pkgs (the archive has moved on: build the slim image again)" >&2; exit 1; }; \
    for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done; \
    set -- "$tmp"/root/usr/lib/*/kea/hooks/libdhcp_*.so; \
    [ -e "$1" ] || { echo "full image: Debian's Kea packages ($pkgs) have no hook library" >&2; exit 1; }; \
    for lib in "$@"; do \
        dir=${lib#"$tmp/root"}; dir=${dir%/*}; \
        mv "$lib" /usr/local/lib/kea/hooks/; \
        ln -s "/usr/local/lib/kea/hooks/${lib##*/}" "$dir/${lib##*/}"; \
    done; \
    apt-get clean; rm -rf "$tmp" /var/lib/apt/lists/*; \
    ldconfig
