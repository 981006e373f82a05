#!/bin/sh
# run-script's script (ISC run_script's interface): $1 is the hook point,
# the environment holds the lease event's variables and nothing else (no
# PATH: call programs by their full path). Appends one line per event to
# /kea/logs/lease-events.log.
case "$1" in
    leases4_committed)
        echo "$1 ${QUERY4_TYPE} ${LEASES4_AT0_ADDRESS:-} ${LEASES4_AT0_HWADDR:-} size=${LEASES4_SIZE}" >> /kea/logs/lease-events.log ;;
    *)
        echo "$1 ${LEASE4_ADDRESS:-} ${LEASE4_HWADDR:-}" >> /kea/logs/lease-events.log ;;
esac
