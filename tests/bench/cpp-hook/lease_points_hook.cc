// libdhcp_bench_lease_points.so: a C++ hook with lease-stats' callouts
// (leases4_committed, lease4_release, lease4_decline, lease4_expire,
// lease4_recover, command_processed, dhcp4_srv_configured) that read what
// lease-stats reads (each lease's address, subnet id and state) and keep
// no counts. Kea does work of its own for any library with a callout at
// leases4_committed (it parks every query proactively, and drops the park
// after the callouts), and reading a callout's arguments costs the same to
// any hook: side by side with this one, lease-stats' ratio is the cost of
// its counting.

#include <atomic>
#include <cstdint>

#include <dhcpsrv/lease.h>
#include <hooks/hooks.h>

using isc::dhcp::Lease4CollectionPtr;
using isc::dhcp::Lease4Ptr;
using isc::hooks::CalloutHandle;
using isc::hooks::LibraryHandle;

namespace {

std::atomic<std::uint64_t> checksum{0};

void read_lease(const Lease4Ptr& lease) {
    if (lease) {
        checksum.fetch_add(lease->addr_.toUint32() ^ lease->subnet_id_ ^ lease->state_, std::memory_order_relaxed);
    }
}

int on_leases4_committed(CalloutHandle& handle) {
    for (const char* name : {"deleted_leases4", "leases4"}) {
        Lease4CollectionPtr leases;
        handle.getArgument(name, leases);
        if (leases) {
            for (const auto& lease : *leases) {
                read_lease(lease);
            }
        }
    }
    return 0;
}

int on_lease(CalloutHandle& handle) {
    Lease4Ptr lease;
    handle.getArgument("lease4", lease);
    read_lease(lease);
    return 0;
}

int nothing(CalloutHandle&) {
    return 0;
}

}  // namespace

extern "C" {

int version() {
    return KEA_HOOKS_VERSION;
}

int multi_threading_compatible() {
    return 1;
}

int load(LibraryHandle& handle) {
    try {
        handle.registerCallout("leases4_committed", on_leases4_committed);
        for (const char* point : {"lease4_release", "lease4_decline", "lease4_expire", "lease4_recover"}) {
            handle.registerCallout(point, on_lease);
        }
        handle.registerCallout("command_processed", nothing);
        handle.registerCallout("dhcp4_srv_configured", nothing);
        return 0;
    } catch (...) {
        return 1;
    }
}

int unload() {
    return 0;
}

}  // extern "C"
