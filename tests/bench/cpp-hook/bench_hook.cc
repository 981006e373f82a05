// libdhcp_bench_cpp.so: the hand-written C++ side of the SDK's benchmark.
//
// It does what the Rust bench hook (tests/bench/rust-hook/src/lib.rs) does,
// callout for callout, written the way a C++ hook author would write it:
//   pkt4_receive   query4:    checksum += xid ^ last byte of chaddr
//   lease4_select  lease4:    checksum += lease address
//   pkt4_send      response4: checksum += yiaddr
// each also bumping its own counter (relaxed atomics, as the hook is
// multi-threading compatible). With the parameter "options": true, the
// options variant: pkt4_send also reads the query's option 55 (checksum +=
// the length of its payload, packed with toBinary as the SDK's option()
// does: Kea keeps a typed option's payload outside getData()) and sets
// option 252 (a WPAD URL) on the response.
//
// Callouts are registered by pointer in load(); no exported symbol is named
// like a hook point, so Kea registers nothing on its own.

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include <cc/data.h>
#include <dhcp/option.h>
#include <dhcp/pkt4.h>
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

const isc::dhcp::OptionBuffer WPAD = [] {
    const char url[] = "http://198.18.0.1/wpad.dat";
    return isc::dhcp::OptionBuffer(url, url + sizeof(url) - 1);
}();

int on_pkt4_receive(CalloutHandle& handle) {
    try {
        isc::dhcp::Pkt4Ptr query;
        handle.getArgument("query4", query);
        if (!query) {
            return 1;
        }
        std::uint8_t last = 0;
        const isc::dhcp::HWAddrPtr& hw = query->getHWAddr();
        if (hw && !hw->hwaddr_.empty()) {
            last = hw->hwaddr_.back();
        }
        checksum.fetch_add(static_cast<std::uint64_t>(query->getTransid()) ^ last,
                           std::memory_order_relaxed);
        received.fetch_add(1, std::memory_order_relaxed);
        return 0;
    } catch (...) {
        return 1;
    }
}

int on_lease4_select(CalloutHandle& handle) {
    try {
        isc::dhcp::Lease4Ptr lease;
        handle.getArgument("lease4", lease);
        if (!lease) {
            return 1;
        }
        checksum.fetch_add(lease->addr_.toUint32(), std::memory_order_relaxed);
        selected.fetch_add(1, std::memory_order_relaxed);
        return 0;
    } catch (...) {
        return 1;
    }
}

int on_pkt4_send(CalloutHandle& handle) {
    try {
        isc::dhcp::Pkt4Ptr response;
        handle.getArgument("response4", response);
        if (!response) {
            return 1;
        }
        checksum.fetch_add(response->getYiaddr().toUint32(), std::memory_order_relaxed);
        if (with_options) {
            isc::dhcp::Pkt4Ptr query;
            handle.getArgument("query4", query);
            if (query) {
                const isc::dhcp::OptionPtr prl = query->getOption(55);
                if (prl) {
                    checksum.fetch_add(prl->toBinary(false).size(), std::memory_order_relaxed);
                }
            }
            response->delOption(252);
            response->addOption(isc::dhcp::OptionPtr(new isc::dhcp::Option(isc::dhcp::Option::V4, 252, WPAD)));
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
        handle.registerCallout("pkt4_receive", on_pkt4_receive);
        handle.registerCallout("lease4_select", on_lease4_select);
        handle.registerCallout("pkt4_send", on_pkt4_send);
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
    // Optional report, for cross-checking the work done against the Rust
    // hook (the driver sets this variable; Kea normally does not).
    if (std::getenv("KEA_BENCH_REPORT")) {
        std::fprintf(stderr, "bench-cpp: received=%llu selected=%llu sent=%llu checksum=%llu\n",
                     static_cast<unsigned long long>(received.load()),
                     static_cast<unsigned long long>(selected.load()),
                     static_cast<unsigned long long>(sent.load()),
                     static_cast<unsigned long long>(checksum.load()));
    }
    return 0;
}

}  // extern "C"
