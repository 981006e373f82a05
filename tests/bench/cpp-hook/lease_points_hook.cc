// libdhcp_bench_lease_points.so: a C++ hook with lease-stats' callouts
// (leases4_committed, lease4_release, lease4_decline, lease4_expire,
// lease4_recover, command_processed, dhcp4_srv_configured), each doing
// nothing. Kea does work of its own for any library with a callout at
// leases4_committed (it parks every query proactively, and drops the park
// after the callouts), whatever the callout does: side by side with this
// hook, lease-stats' ratio is the cost of its own work.

#include <hooks/hooks.h>

using isc::hooks::CalloutHandle;
using isc::hooks::LibraryHandle;

namespace {

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
        for (const char* point : {"leases4_committed", "lease4_release", "lease4_decline", "lease4_expire",
                                  "lease4_recover", "command_processed", "dhcp4_srv_configured"}) {
            handle.registerCallout(point, nothing);
        }
        return 0;
    } catch (...) {
        return 1;
    }
}

int unload() {
    return 0;
}

}  // extern "C"
