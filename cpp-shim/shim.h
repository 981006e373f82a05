// The C++ half of the kea-hooks SDK.
//
// Everything Rust needs from Kea goes through the small functions declared
// here (the bridge's include: src/ffi/shim.rs). Each section's functions are
// defined in the .cc named after its Rust module: params.cc (library handle
// / load), parking.cc, main_queue.cc (Kea's main thread), lease_db.cc,
// stats.cc, args.cc (callout handle, arguments, element builder),
// context.cc, log.cc. Rules for this file and those:
//   * every function that can reach a throwing Kea call is declared
//     `-> Result<..>` on the Rust side, so cxx catches the exception (see
//     the trycatch override in trycatch.h, which also catches `...`);
//   * functions declared infallible on the Rust side never throw;
//   * pointers handed to Rust point into objects the CalloutHandle's
//     arguments keep alive for the callout's duration.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "rust/cxx.h"

#include <dhcp/duid.h>
#include <dhcp/hwaddr.h>
#include <dhcp/pkt4.h>
#include <dhcp/pkt6.h>
#include <dhcpsrv/lease.h>
#include <dhcpsrv/subnet.h>
#include <hooks/callout_handle.h>
#include <hooks/library_handle.h>
#include <hooks/parking_lots.h>

// ---- Kea's own template instances ----
//
// A hook written in C++ compiles its own weak copies of
// CalloutHandle::getArgument<T> and of the argument map's find, but at run
// time the dynamic linker binds its calls to the first definition, which is
// Kea's wherever Kea's libraries export one: the hook then runs the code
// Kea's own packet path keeps in the caches. rustc's version script makes
// every C++ symbol of a Rust cdylib local, so the shim's copies would always
// be used: about a kilobyte of code per callout that is cold each time
// (cachegrind on kea-dhcp4: ~25 more instruction-cache misses per DORA
// exchange). So where build.rs found an instance among the symbols the Kea
// libraries we link export (the macros below), it is declared
// `extern template` here: the shim then references Kea's instead of
// compiling a copy, the link (with --no-undefined) resolves it against the
// same libraries, and Kea's is called, as from a C++ hook.

namespace kea_shim {
namespace detail {
#if defined(__GLIBCXX__)
// libstdc++'s tree behind CalloutHandle::ElementCollection, a
// std::map<std::string, boost::any> in Kea 2.2 to 3.0.
using ArgumentTree = std::_Rb_tree<std::string, std::pair<const std::string, boost::any>,
                                   std::_Select1st<std::pair<const std::string, boost::any>>,
                                   std::less<std::string>,
                                   std::allocator<std::pair<const std::string, boost::any>>>;
#endif
}  // namespace detail
}  // namespace kea_shim

#if defined(__GLIBCXX__) && defined(KEA_SHIM_KEA_HAS_ARGUMENT_FIND)
extern template kea_shim::detail::ArgumentTree::const_iterator kea_shim::detail::ArgumentTree::find(
    const std::string&) const;
#endif

// KEA_SHIM_KEA_GET_ARGUMENT_TYPES lists the exported getArgument<T>
// instances as `KEA_SHIM_GET_ARGUMENT(T) KEA_SHIM_GET_ARGUMENT(T) ...`.
#if defined(KEA_SHIM_KEA_GET_ARGUMENT_TYPES)
#define KEA_SHIM_GET_ARGUMENT(T) \
    extern template void isc::hooks::CalloutHandle::getArgument<T>(const std::string&, T&) const;
KEA_SHIM_KEA_GET_ARGUMENT_TYPES
#undef KEA_SHIM_GET_ARGUMENT
#endif

#include "trycatch.h"

namespace isc {
namespace dhcp {
class LeaseMgr;
}  // namespace dhcp
}  // namespace isc

namespace kea_shim {

enum class Arg : std::uint8_t;  // shared with Rust (src/ffi/shim.rs), defined by cxx
struct PacketValues;            // a Rust type (src/ffi/shim.rs)
struct AuditRow;                // shared with Rust (src/ffi/shim.rs)
struct StatReading;             // shared with Rust (src/ffi/shim.rs)
struct StatEntry;               // shared with Rust (src/ffi/shim.rs)
struct LeaseStatsRow;           // shared with Rust (src/ffi/shim.rs)

using isc::dhcp::HWAddr;
using isc::hooks::CalloutHandle;
using isc::hooks::LibraryHandle;

// ---- parking ----
// A packet a callout parked: what Kea needs to resume or drop it later,
// from any thread. Holding the query keeps it alive while it is parked.
struct ParkedPacket {
    isc::hooks::ParkingLotHandlePtr lot;
    // The parked query: a DHCPv4 one, or a DHCPv6 one (the parking lot
    // finds a packet by its shared pointer's type and value).
    isc::dhcp::Pkt4Ptr query;
    isc::dhcp::Pkt6Ptr query6;
    // The query's callout handle, for what Kea reads when it resumes
    // (lease4_offer's offer_address_in_use argument, subnet4_select's
    // "subnet4" context); null where none is needed.
    isc::hooks::CalloutHandlePtr handle;
    // subnet4_select, subnet6_select: the subnet selected when the packet
    // was parked.
#if KEA_SHIM_HOOKS_VERSION >= 30000
    isc::dhcp::ConstSubnet4Ptr subnet;
    isc::dhcp::ConstSubnet6Ptr subnet6;
#else
    isc::dhcp::Subnet4Ptr subnet;
    isc::dhcp::Subnet6Ptr subnet6;
#endif
};

// ---- library handle / load ----
rust::String library_parameters_json(LibraryHandle& handle);
bool server_has_hook(rust::Str name);
rust::String server_root_logger();
rust::String hook_script_path(rust::Str name);
void register_callout(LibraryHandle& handle, rust::Str name, std::size_t callout);
void register_command(LibraryHandle& handle, rust::Str name, std::size_t callout);

// ---- parking ----
// kind: the point's parking::Parking: 0 (Plain), 1 (Offer: lease4_offer),
// 2 (SubnetSelect: subnet4_select), 3 (Plain6), 4 (SubnetSelect6:
// subnet6_select);
// xid: set to the query's transaction id.
std::unique_ptr<ParkedPacket> handle_park(const CalloutHandle& handle, std::uint8_t kind, std::uint32_t& xid);
void parked_set_subnet(const ParkedPacket& parked, bool by_id, std::uint32_t id);
void parked_clear_subnet(const ParkedPacket& parked);
bool parked_resume(std::unique_ptr<ParkedPacket> parked);
bool parked_drop(const ParkedPacket& parked);
void parked_set_bool(const ParkedPacket& parked, rust::Str name, bool value);

// ---- Kea's main thread ----
void main_queue_open(int fd);
void main_queue_close(int fd);
bool lease_gate_register(rust::Str name);
void lease_gate_unregister(rust::Str name);

// ---- statistics ----
void statistic_add(rust::Str name, std::int64_t value);
void statistic_set_integer(rust::Str name, std::int64_t value);
void statistic_set_float(rust::Str name, double value);
void statistic_add_float(rust::Str name, double value);
void statistic_set_string(rust::Str name, rust::Str value);
bool statistic_remove(rust::Str name);
bool statistic_reset(rust::Str name);
StatReading statistic_get(rust::Str name);
std::size_t statistic_count();
rust::Vec<StatEntry> statistics_page(rust::Str after, bool from_start, std::size_t max);
bool multi_threading_enabled();
rust::Vec<LeaseStatsRow> lease_stats_query(bool v6, std::uint32_t first, std::uint32_t last);
rust::String lease_backend_type();
rust::Vec<rust::String> hook_library_names();
rust::String execute_command(rust::Str command_json);

// ---- callout handle ----
rust::Vec<rust::String> handle_argument_names(const CalloutHandle& handle);
const HWAddr* arg_hwaddr(const CalloutHandle& handle, rust::Str name);
bool arg_bool(const CalloutHandle& handle, rust::Str name);
std::uint32_t arg_u32(const CalloutHandle& handle, rust::Str name);

// ---- arguments Kea reads back ----
void arg_set_bool(const CalloutHandle& handle, rust::Str name, bool value);
rust::String arg_string(const CalloutHandle& handle, rust::Str name);
void arg_set_string(const CalloutHandle& handle, rust::Str name, rust::Str value);
void arg_bytes(const CalloutHandle& handle, rust::Str name, rust::Vec<std::uint8_t>& out);
void arg_set_bytes(const CalloutHandle& handle, rust::Str name, rust::Slice<const std::uint8_t> value);
std::int32_t arg_identifier_type(const CalloutHandle& handle, rust::Str name);
void arg_set_identifier_type(const CalloutHandle& handle, rust::Str name, std::int32_t value);
rust::String arg_element_json(const CalloutHandle& handle, rust::Str name);
void arg_set_element_json(const CalloutHandle& handle, rust::Str name, rust::Str json);

// Builds a Kea data element value by value (the SDK walks a serde_json
// value), so an answer never goes through Kea's text parser: an iostream
// read a character at a time, the largest cost of a command's answer.
struct ElementBuilder {
    // Open lists and maps, innermost last; the key the next value of the
    // innermost map goes under.
    std::vector<isc::data::ElementPtr> open;
    std::string key;
    isc::data::ElementPtr root;
};
std::unique_ptr<ElementBuilder> element_builder_new();
void element_null(ElementBuilder& b);
void element_bool(ElementBuilder& b, bool value);
void element_int(ElementBuilder& b, std::int64_t value);
void element_float(ElementBuilder& b, double value);
void element_string(ElementBuilder& b, rust::Str value);
void element_key(ElementBuilder& b, rust::Str key);
void element_begin_list(ElementBuilder& b);
void element_begin_map(ElementBuilder& b);
void element_end(ElementBuilder& b);
// Sets argument `name` to the finished element.
void arg_set_element_built(const CalloutHandle& handle, rust::Str name, const ElementBuilder& b);
rust::Vec<AuditRow> arg_audit_entries(const CalloutHandle& handle, rust::Str name);

// ---- the per-packet context (see PacketValues in src/ffi/shim.rs) ----
PacketValues* handle_context(const CalloutHandle& handle, bool create);

// ---- logging ----
void log_open(rust::Str logger_name, rust::Str message_id);
void log_close();
bool log_enabled(std::uint8_t severity, std::int32_t debug_level) noexcept;
void log_emit(std::uint8_t severity, std::int32_t debug_level, rust::Str message);

// ---- the callout-time accessors, inline ----
//
// Defined here rather than in a .cc file so that they compile into cxx's
// generated wrappers (shim.rs.cc includes this header): a Rust call then
// reaches Kea's inline getters through one C++ function, not two in
// different places. Nothing here throws out: the argument fetches catch,
// and the getters cannot throw.

namespace detail {

// Kea's subnet arguments are `Subnet4Ptr` up to 2.6 and `ConstSubnet4Ptr`
// from 3.0 on; fetching the wrong one throws bad_any_cast at run time.
#if KEA_SHIM_HOOKS_VERSION >= 30000
using Subnet4Arg = isc::dhcp::ConstSubnet4Ptr;
using Subnet6Arg = isc::dhcp::ConstSubnet6Ptr;
#else
using Subnet4Arg = isc::dhcp::Subnet4Ptr;
using Subnet6Arg = isc::dhcp::Subnet6Ptr;
#endif

inline std::uint32_t v4(const isc::asiolink::IOAddress& addr) noexcept {
    return addr.isV4() ? addr.toUint32() : 0;
}

inline rust::Slice<const std::uint8_t> bytes(const std::vector<std::uint8_t>& v) noexcept {
    return rust::Slice<const std::uint8_t>(v.data(), v.size());
}

// Kea's callouts get non-const handles (see "Pkt4 writes" in shim4.h for
// why the shim takes const ones and casts).
inline CalloutHandle& writable(const CalloutHandle& handle) { return const_cast<CalloutHandle&>(handle); }

// Copies `len` bytes to `out`.
void copy_out(const std::uint8_t* data, std::size_t len, rust::Vec<std::uint8_t>& out);

// A whole element as JSON text.
rust::String element_json(const isc::data::ConstElementPtr& e);

// Kea's lease database; throws when none is open yet.
isc::dhcp::LeaseMgr& lease_mgr();

inline rust::Slice<const std::uint8_t> optional_hwaddr(const isc::dhcp::HWAddrPtr& hw, std::uint16_t& htype,
                                                       bool& present) {
    present = static_cast<bool>(hw);
    htype = hw ? hw->htype_ : 0;
    return hw ? detail::bytes(hw->hwaddr_) : rust::Slice<const std::uint8_t>();
}

template <typename T>
T get_arg(const CalloutHandle& handle, const std::string& name) {
    T value;
    handle.getArgument(name, value);
    return value;
}

// The names of the arguments the SDK asks for itself (the shared enum
// `Arg`, in its order; args.cc checks it), built once when the library is
// mapped: fetching one of them copies no string.
//
// Aligned so that no name's characters sit within 32 bytes of a page's end:
// glibc's memcmp (which the argument map's lookup calls) takes a slower
// path for those. Where the loader put the array decided it: measured on
// Kea 2.6, 18 instructions per callout between two builds of the same code.
// 15 names of 32 bytes fit in 512. The DHCPv4 names come first, then
// the DHCPv6 ones (shim6.cc checks their order).
constexpr std::size_t ARG_COUNT = 15;
alignas(512) inline const std::string ARG_NAMES[ARG_COUNT] = {
    "query4",          "response4",      "lease4",         "subnet4",   "leases4",
    "deleted_leases4", "fake_allocation", "offer_lifetime", "old_lease", "query6",
    "response6",       "lease6",         "subnet6",        "leases6",   "deleted_leases6",
};

// Fetches an argument without letting an exception out: `ok` says whether
// Kea threw (the Rust side then asks again by name, through a `Result`
// function, to get the message).
template <typename T>
T try_get_value(const CalloutHandle& handle, Arg arg, bool& ok) noexcept {
    const auto index = static_cast<std::size_t>(arg);
    ok = false;
    if (index >= ARG_COUNT) {
        return T();
    }
    try {
        T value = get_arg<T>(handle, ARG_NAMES[index]);
        ok = true;
        return value;
    }
    KEA_SHIM_RETHROW_FORCED_UNWIND
    catch (...) {
        return T();
    }
}

// The same for a pointer argument, as a raw pointer: it stays valid after
// the copy of the shared pointer goes, as the handle's argument map holds
// another reference.
template <typename Ptr>
auto try_get_ptr(const CalloutHandle& handle, Arg arg, bool& ok) noexcept -> decltype(Ptr().get()) {
    return try_get_value<Ptr>(handle, arg, ok).get();
}

// A lease collection can hold null pointers (another library may have put
// one there): the SDK counts and indexes only the leases, so its iterator
// and len() agree. Collections hold one or two leases, so the scan is
// short. (Lease4Collection, Lease6Collection.)
template <typename Collection>
std::size_t collection_len(const Collection& leases) noexcept {
    std::size_t n = 0;
    for (const auto& lease : leases) {
        n += lease ? 1 : 0;
    }
    return n;
}

template <typename Collection>
auto collection_get(const Collection& leases, std::size_t index) noexcept -> decltype(leases.front().get()) {
    for (const auto& lease : leases) {
        if (lease) {
            if (index == 0) {
                return lease.get();
            }
            --index;
        }
    }
    return nullptr;
}

}  // namespace detail

// ---- callout handle ----

inline std::int32_t handle_status(const CalloutHandle& handle) {
    return static_cast<std::int32_t>(handle.getStatus());
}

inline void handle_set_status(CalloutHandle& handle, std::int32_t status) {
    handle.setStatus(static_cast<CalloutHandle::CalloutNextStep>(status));
}

inline bool known_arg_bool(const CalloutHandle& handle, Arg arg, bool& ok) noexcept {
    return detail::try_get_value<bool>(handle, arg, ok);
}

inline rust::Slice<const std::uint8_t> hwaddr_bytes(const HWAddr& hw, std::uint16_t& htype) {
    htype = hw.htype_;
    return detail::bytes(hw.hwaddr_);
}

}  // namespace kea_shim
