// libdhcp_bench6_cpp.so: the hand-written C++ side of the SDK's DHCPv6
// benchmark, the twin of tests/bench/rust6-hook (libdhcp_bench6_rust.so),
// callout for callout, written the way a C++ hook author would write it:
//   pkt6_receive   query6:    checksum += xid ^ message type
//   lease6_select  lease6:    checksum += iaid ^ prefix length, + valid lifetime
//   pkt6_send      response6: checksum += xid ^ message type
// each also bumping its own counter (relaxed atomics, as the hook is
// multi-threading compatible). With the parameter "options": true, the
// options variant: pkt6_send also reads the query's ORO (option 6; its
// payload's length into the checksum, packed with toBinary as the SDK's
// option() does) and sets option 23 (a DNS server) on the response.
//
// Callouts are registered by pointer in load(); no exported symbol is named
// like a hook point, so Kea registers nothing on its own.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <cc/data.h>
#include <dhcp/option.h>
#include <dhcp/pkt6.h>
#include <dhcpsrv/lease.h>
#include <hooks/hooks.h>

using isc::hooks::CalloutHandle;
using isc::hooks::LibraryHandle;

namespace {

std::atomic<std::uint64_t> received{0};
std::atomic<std::uint64_t> selected{0};
std::atomic<std::uint64_t> sent{0};
std::atomic<std::uint64_t> checksum{0};
bool with_options = false;

// 2001:2::53
const isc::dhcp::OptionBuffer DNS = {0x20, 0x01, 0x00, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};

int on_pkt6_receive(CalloutHandle& handle) {
    try {
        isc::dhcp::Pkt6Ptr query;
        handle.getArgument("query6", query);
        if (!query) {
            return 1;
        }
        checksum.fetch_add(static_cast<std::uint64_t>(query->getTransid()) ^ query->getType(),
                           std::memory_order_relaxed);
        received.fetch_add(1, std::memory_order_relaxed);
        return 0;
    } catch (...) {
        return 1;
    }
}

int on_lease6_select(CalloutHandle& handle) {
    try {
        isc::dhcp::Lease6Ptr lease;
        handle.getArgument("lease6", lease);
        if (!lease) {
            return 1;
        }
        checksum.fetch_add((static_cast<std::uint64_t>(lease->iaid_) ^ lease->prefixlen_) + lease->valid_lft_,
                           std::memory_order_relaxed);
        selected.fetch_add(1, std::memory_order_relaxed);
        return 0;
    } catch (...) {
        return 1;
    }
}

int on_pkt6_send(CalloutHandle& handle) {
    try {
        isc::dhcp::Pkt6Ptr response;
        handle.getArgument("response6", response);
        if (!response) {
            return 1;
        }
        checksum.fetch_add(static_cast<std::uint64_t>(response->getTransid()) ^ response->getType(),
                           std::memory_order_relaxed);
        if (with_options) {
            isc::dhcp::Pkt6Ptr query;
            handle.getArgument("query6", query);
            if (query) {
                const isc::dhcp::OptionPtr oro = query->getOption(6);
                if (oro) {
                    checksum.fetch_add(oro->toBinary(false).size(), std::memory_order_relaxed);
                }
            }
            while (response->delOption(23)) {
            }
            response->addOption(isc::dhcp::OptionPtr(new isc::dhcp::Option(isc::dhcp::Option::V6, 23, DNS)));
        }
        sent.fetch_add(1, std::memory_order_relaxed);
        return 0;
    } catch (...) {
        return 1;
    }
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
        handle.registerCallout("pkt6_receive", on_pkt6_receive);
        handle.registerCallout("lease6_select", on_lease6_select);
        handle.registerCallout("pkt6_send", on_pkt6_send);
        const isc::data::ConstElementPtr options = handle.getParameter("options");
        with_options = options && options->boolValue();
        received = 0;
        selected = 0;
        sent = 0;
        checksum = 0;
        return 0;
    } catch (...) {
        return 1;
    }
}

int unload() {
    if (std::getenv("KEA_BENCH_REPORT")) {
        std::fprintf(stderr, "bench6-cpp: received=%llu selected=%llu sent=%llu checksum=%llu\n",
                     static_cast<unsigned long long>(received.load()),
                     static_cast<unsigned long long>(selected.load()),
                     static_cast<unsigned long long>(sent.load()),
                     static_cast<unsigned long long>(checksum.load()));
    }
    return 0;
}

}  // extern "C"
