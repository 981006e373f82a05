# Slim kea-dhcp4 / kea-dhcp6 images from Debian's Kea packages (2.6 on
# trixie, 3.0 on sid), laid out as docker-kea's images are, so that the
# same `COPY --from=... /hooks/libX.so /usr/local/lib/kea/hooks/` line and
# the same `hooks-libraries` entries (bare file names, as Kea 3.x wants)
# work in both:
#
#   /kea/config /kea/leases /kea/logs /kea/sockets   (0750)
#   /entrypoint.d/*.sh                               run at start
#   /usr/local/lib/kea/hooks                         hooks (KEA_HOOKS_PATH; ISC's are linked in)
#   /usr/local/share/kea/scripts                     run_script's scripts (KEA_HOOK_SCRIPTS_PATH)
#
#   podman build -f docker/server.Dockerfile --build-arg BASE=debian:trixie-slim \
#       --build-arg DAEMON=dhcp4 -t kea-dhcp4:2.6 docker/
#
# BASE: a Debian image whose apt sources reach its release's archive.
ARG BASE=debian:trixie-slim
FROM ${BASE}
ARG DAEMON=dhcp4
RUN set -eu; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update -qq; \
    apt-get install -y -qq --no-install-recommends "kea-${DAEMON}-server" ca-certificates >/dev/null; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb; \
    mkdir -p /kea/config /kea/leases /kea/logs /kea/sockets /entrypoint.d \
             /usr/local/lib/kea/hooks /usr/local/share/kea/scripts; \
    chmod 0750 /kea/config /kea/leases /kea/logs /kea/sockets; \
    # ISC's hooks (Debian's) move to the hooks directory, where bare names
    # find them; Debian's path points there. A library COPYed in later
    # under the same name (ours, libdhcp_run_script.so) replaces ISC's.
    for lib in /usr/lib/*/kea/hooks/libdhcp_*.so; do \
        mv "$lib" /usr/local/lib/kea/hooks/; \
        ln -s "/usr/local/lib/kea/hooks/${lib##*/}" "$lib"; \
    done; \
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
