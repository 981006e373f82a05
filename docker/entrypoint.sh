#!/bin/sh
# Entry point of the kea-hooks server images, after docker-kea's: runs
# every executable /entrypoint.d/*.sh (in name order; a failing one stops
# the start),
# then execs the Kea daemon named by KEA_EXECUTABLE (dhcp4, dhcp6) with
# the container's arguments (default: -c /kea/config/<daemon>.json).
set -eu
# Kea's pid and lock directories (a fresh /run in a container), and no
# pid file left from a container that was killed: Kea would not start.
mkdir -p "${KEA_PIDFILE_DIR:-/run/kea}" "${KEA_LOCKFILE_DIR:-/run/lock/kea}"
rm -f "${KEA_PIDFILE_DIR:-/run/kea}"/*.kea-"${KEA_EXECUTABLE:-}".pid
if [ -d /entrypoint.d ]; then
    for f in /entrypoint.d/*.sh; do
        [ -e "$f" ] || continue
        if [ -x "$f" ]; then
            echo "entrypoint: running $f" >&2
            "$f"
        else
            echo "entrypoint: ignoring $f (not executable)" >&2
        fi
    done
fi
case "${KEA_EXECUTABLE:-}" in
    dhcp4|dhcp6|dhcp-ddns|ctrl-agent) ;;
    *) echo "entrypoint: KEA_EXECUTABLE must be dhcp4 or dhcp6 (is '${KEA_EXECUTABLE:-}')" >&2; exit 2 ;;
esac
# docker-kea's Kea is in /usr/local/sbin, Debian's in /usr/sbin.
for dir in /usr/local/sbin /usr/sbin; do
    if [ -x "$dir/kea-$KEA_EXECUTABLE" ]; then
        exec "$dir/kea-$KEA_EXECUTABLE" "$@"
    fi
done
echo "entrypoint: no kea-$KEA_EXECUTABLE in /usr/local/sbin or /usr/sbin" >&2
exit 127
