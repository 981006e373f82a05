#!/bin/sh
# run-script's script (ISC run_script's interface), for kea-dhcp4 and
# kea-dhcp6: $1 is the hook point, the environment holds the lease event's
# variables and nothing else (no PATH: call programs by their full path).
# Appends one line per event to /kea/logs/lease-events.log.
case "$1" in
    leases4_committed)
        echo "$1 ${QUERY4_TYPE} ${LEASES4_AT0_ADDRESS:-} ${LEASES4_AT0_HWADDR:-} size=${LEASES4_SIZE}" >> /kea/logs/lease-events.log ;;
    leases6_committed)
        # One line per commit; each lease (an address, IA_NA, or a
        # delegated prefix, IA_PD) as TYPE:ADDRESS/PREFIX_LEN.
        line="$1 ${QUERY6_TYPE} ${QUERY6_CLIENT_ID} size=${LEASES6_SIZE}"
        i=0
        while [ "$i" -lt "${LEASES6_SIZE:-0}" ]; do
            eval "line=\"\$line \${LEASES6_AT${i}_TYPE}:\${LEASES6_AT${i}_ADDRESS}/\${LEASES6_AT${i}_PREFIX_LEN}\""
            i=$((i + 1))
        done
        echo "$line" >> /kea/logs/lease-events.log ;;
    *6_*|addr6_register)
        echo "$1 ${LEASE6_TYPE:-} ${LEASE6_ADDRESS:-}/${LEASE6_PREFIX_LEN:-} ${LEASE6_DUID:-}" >> /kea/logs/lease-events.log ;;
    *)
        echo "$1 ${LEASE4_ADDRESS:-} ${LEASE4_HWADDR:-}" >> /kea/logs/lease-events.log ;;
esac
