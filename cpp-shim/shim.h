// The C++ half of the kea-hooks SDK.
//
// Everything Rust needs from Kea goes through the small functions declared
// here. Rules for this file and shim.cc:
//   * every function that can reach a throwing Kea call is declared
//     `-> Result<..>` on the Rust side, so cxx catches the exception (see
//     the trycatch override in shim.cc, which also catches `...`);
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

namespace kea_shim {

enum class Arg : std::uint8_t;  // shared with Rust (src/ffi/shim.rs), defined by cxx
struct PacketValues;            // a Rust type (src/ffi/shim.rs)
struct AuditRow;                // shared with Rust (src/ffi/shim.rs)
struct StatReading;             // shared with Rust (src/ffi/shim.rs)
struct LeaseRow4;               // shared with Rust (src/ffi/shim.rs)

using isc::dhcp::ClientId;
using isc::dhcp::HWAddr;
using isc::dhcp::Lease4;
using isc::dhcp::Lease4Collection;
using isc::dhcp::Pkt4;
using isc::dhcp::Subnet4;
using isc::hooks::CalloutHandle;
using isc::hooks::LibraryHandle;

// ---- parking ----
// A packet a callout parked: what Kea needs to resume or drop it later,
// from any thread. Holding the query keeps it alive while it is parked.
struct ParkedPacket {
    isc::hooks::ParkingLotHandlePtr lot;
    isc::dhcp::Pkt4Ptr query;
    // The query's callout handle, for what Kea reads when it resumes
    // (lease4_offer's offer_address_in_use argument, subnet4_select's
    // "subnet4" context); null where none is needed.
    isc::hooks::CalloutHandlePtr handle;
    // subnet4_select: the subnet selected when the packet was parked.
#if KEA_SHIM_HOOKS_VERSION >= 30000
    isc::dhcp::ConstSubnet4Ptr subnet;
#else
    isc::dhcp::Subnet4Ptr subnet;
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
// 2 (SubnetSelect: subnet4_select);
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

// ---- configuration and lease database ----
rust::String config_subnets4_json(bool staging);
rust::Vec<LeaseRow4> leases4_by_address(std::uint32_t address);
rust::Vec<LeaseRow4> leases4_by_hwaddr(rust::Slice<const std::uint8_t> hwaddr, std::uint16_t htype);
rust::Vec<LeaseRow4> leases4_by_client_id(rust::Slice<const std::uint8_t> client_id);
rust::Vec<LeaseRow4> leases4_by_subnet(std::uint32_t subnet_id);
rust::Vec<LeaseRow4> leases4_page(std::uint32_t after, std::uint32_t size);

// ---- statistics ----
void statistic_add(rust::Str name, std::int64_t value);
void statistic_set_integer(rust::Str name, std::int64_t value);
void statistic_set_float(rust::Str name, double value);
void statistic_add_float(rust::Str name, double value);
void statistic_set_string(rust::Str name, rust::Str value);
bool statistic_remove(rust::Str name);
bool statistic_reset(rust::Str name);
StatReading statistic_get(rust::Str name);
bool multi_threading_enabled();

// ---- callout handle ----
rust::Vec<rust::String> handle_argument_names(const CalloutHandle& handle);
const Pkt4* arg_pkt4(const CalloutHandle& handle, rust::Str name);
const Lease4* arg_lease4(const CalloutHandle& handle, rust::Str name);
const Subnet4* arg_subnet4(const CalloutHandle& handle, rust::Str name);
const Lease4Collection* arg_lease4_collection(const CalloutHandle& handle, rust::Str name);
const ClientId* arg_client_id(const CalloutHandle& handle, rust::Str name);
const HWAddr* arg_hwaddr(const CalloutHandle& handle, rust::Str name);
bool arg_bool(const CalloutHandle& handle, rust::Str name);
std::uint32_t arg_u32(const CalloutHandle& handle, rust::Str name);

// ---- Pkt4 (the rest is inline below) ----
std::uint8_t pkt4_type(const Pkt4& pkt);
rust::String pkt4_iface(const Pkt4& pkt);
bool pkt4_relayed(const Pkt4& pkt);
std::unique_ptr<std::vector<std::uint8_t>> pkt4_option(const Pkt4& pkt, std::uint16_t code);
bool pkt4_in_class(const Pkt4& pkt, rust::Str name);
rust::String pkt4_label(const Pkt4& pkt);

// ---- Pkt4 writes ----
//
// Kea hands callouts non-const packets, leases and handles (the shared
// pointers in the argument map are to non-const objects), and it reads
// them back after the callout: that is how a C++ hook changes what Kea
// does. The Rust side holds `&T` to cxx opaque types, which are interior
// mutable by construction (cxx's `Opaque` holds an `UnsafeCell`), so these
// functions take `const T&` and cast the const away: defined behaviour, as
// the objects themselves were never const. The Rust views never lend out a
// reference into anything written here (they copy such values out), so
// nothing the Rust side holds dangles after a write.
void pkt4_sname(const Pkt4& pkt, rust::Vec<std::uint8_t>& out);
void pkt4_file(const Pkt4& pkt, rust::Vec<std::uint8_t>& out);
void pkt4_set_sname(const Pkt4& pkt, rust::Slice<const std::uint8_t> value);
void pkt4_set_file(const Pkt4& pkt, rust::Slice<const std::uint8_t> value);
void pkt4_add_option(const Pkt4& pkt, std::uint16_t code, rust::Slice<const std::uint8_t> data, bool replace);
std::size_t pkt4_remove_option(const Pkt4& pkt, std::uint16_t code);
rust::Vec<rust::String> pkt4_classes(const Pkt4& pkt, bool later);
void pkt4_add_class(const Pkt4& pkt, rust::Str name, bool later);
void pkt4_set_raw(const Pkt4& pkt, rust::Slice<const std::uint8_t> data);
rust::Slice<const std::uint8_t> pkt4_out_buffer(const Pkt4& pkt);
void pkt4_set_out_buffer(const Pkt4& pkt, rust::Slice<const std::uint8_t> data);

// ---- Lease4 writes (see above) ----
void lease4_set_hostname(const Lease4& lease, rust::Slice<const std::uint8_t> hostname);

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
rust::Vec<std::uint32_t> arg_subnet4_collection_ids(const CalloutHandle& handle, rust::Str name);
bool arg_select_subnet4(const CalloutHandle& handle, std::uint32_t id);
void arg_clear_subnet4(const CalloutHandle& handle);
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
// Defined here rather than in shim.cc so that they compile into cxx's
// generated wrappers (shim.rs.cc includes this header): a Rust call then
// reaches Kea's inline getters through one C++ function, not two in
// different places. Nothing here throws out: the argument fetches catch,
// and the getters cannot throw.

namespace detail {

// Kea's subnet arguments are `Subnet4Ptr` up to 2.6 and `ConstSubnet4Ptr`
// from 3.0 on; fetching the wrong one throws bad_any_cast at run time.
#if KEA_SHIM_HOOKS_VERSION >= 30000
using Subnet4Arg = isc::dhcp::ConstSubnet4Ptr;
#else
using Subnet4Arg = isc::dhcp::Subnet4Ptr;
#endif

inline std::uint32_t v4(const isc::asiolink::IOAddress& addr) noexcept {
    return addr.isV4() ? addr.toUint32() : 0;
}

inline rust::Slice<const std::uint8_t> bytes(const std::vector<std::uint8_t>& v) noexcept {
    return rust::Slice<const std::uint8_t>(v.data(), v.size());
}

template <typename T>
T get_arg(const CalloutHandle& handle, const std::string& name) {
    T value;
    handle.getArgument(name, value);
    return value;
}

// The names of the arguments the SDK asks for itself (the shared enum
// `Arg`, in its order; shim.cc checks it), built once when the library is
// mapped: fetching one of them copies no string.
//
// Aligned so that no name's characters sit within 32 bytes of a page's end:
// glibc's memcmp (which the argument map's lookup calls) takes a slower
// path for those. Where the loader put the array decided it: measured on
// Kea 2.6, 18 instructions per callout between two builds of the same code.
// 9 names of 32 bytes fit in 512.
constexpr std::size_t ARG_COUNT = 9;
alignas(512) inline const std::string ARG_NAMES[ARG_COUNT] = {
    "query4",          "response4",      "lease4",         "subnet4",   "leases4",
    "deleted_leases4", "fake_allocation", "offer_lifetime", "old_lease",
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

}  // namespace detail

// ---- callout handle ----

inline std::int32_t handle_status(const CalloutHandle& handle) {
    return static_cast<std::int32_t>(handle.getStatus());
}

inline void handle_set_status(CalloutHandle& handle, std::int32_t status) {
    handle.setStatus(static_cast<CalloutHandle::CalloutNextStep>(status));
}

inline const Pkt4* known_arg_pkt4(const CalloutHandle& handle, Arg arg, bool& ok) noexcept {
    return detail::try_get_ptr<isc::dhcp::Pkt4Ptr>(handle, arg, ok);
}

inline const Lease4* known_arg_lease4(const CalloutHandle& handle, Arg arg, bool& ok) noexcept {
    return detail::try_get_ptr<isc::dhcp::Lease4Ptr>(handle, arg, ok);
}

inline const Subnet4* known_arg_subnet4(const CalloutHandle& handle, Arg arg, bool& ok) noexcept {
    return detail::try_get_ptr<detail::Subnet4Arg>(handle, arg, ok);
}

inline const Lease4Collection* known_arg_lease4_collection(const CalloutHandle& handle, Arg arg,
                                                           bool& ok) noexcept {
    return detail::try_get_ptr<isc::dhcp::Lease4CollectionPtr>(handle, arg, ok);
}

inline bool known_arg_bool(const CalloutHandle& handle, Arg arg, bool& ok) noexcept {
    return detail::try_get_value<bool>(handle, arg, ok);
}

// ---- Pkt4 ----

inline std::uint32_t pkt4_transid(const Pkt4& pkt) { return pkt.getTransid(); }

inline rust::Slice<const std::uint8_t> pkt4_hwaddr(const Pkt4& pkt, std::uint16_t& htype) {
    // One call for type and bytes: getHWAddr() copies a shared_ptr (two
    // atomic operations) each time. The HWAddr object is owned by the
    // packet, so the slice lives as long as the packet does.
    const isc::dhcp::HWAddrPtr hw = pkt.getHWAddr();
    if (!hw) {
        htype = 0;
        return rust::Slice<const std::uint8_t>();
    }
    htype = hw->htype_;
    return detail::bytes(hw->hwaddr_);
}

namespace detail {
inline rust::Slice<const std::uint8_t> optional_hwaddr(const isc::dhcp::HWAddrPtr& hw, std::uint16_t& htype,
                                                       bool& present) {
    present = static_cast<bool>(hw);
    htype = hw ? hw->htype_ : 0;
    return hw ? detail::bytes(hw->hwaddr_) : rust::Slice<const std::uint8_t>();
}
}  // namespace detail

// The interface's and the sender's link-layer addresses, as Kea's packet
// filter recorded them (the packet owns both objects).
inline rust::Slice<const std::uint8_t> pkt4_local_hwaddr(const Pkt4& pkt, std::uint16_t& htype, bool& present) {
    return detail::optional_hwaddr(pkt.getLocalHWAddr(), htype, present);
}
inline rust::Slice<const std::uint8_t> pkt4_remote_hwaddr(const Pkt4& pkt, std::uint16_t& htype, bool& present) {
    return detail::optional_hwaddr(pkt.getRemoteHWAddr(), htype, present);
}

inline std::uint32_t pkt4_ciaddr(const Pkt4& pkt) { return detail::v4(pkt.getCiaddr()); }
inline std::uint32_t pkt4_yiaddr(const Pkt4& pkt) { return detail::v4(pkt.getYiaddr()); }
inline std::uint32_t pkt4_siaddr(const Pkt4& pkt) { return detail::v4(pkt.getSiaddr()); }
inline std::uint32_t pkt4_giaddr(const Pkt4& pkt) { return detail::v4(pkt.getGiaddr()); }
inline std::uint32_t pkt4_remote_addr(const Pkt4& pkt) { return detail::v4(pkt.getRemoteAddr()); }
inline std::uint32_t pkt4_local_addr(const Pkt4& pkt) { return detail::v4(pkt.getLocalAddr()); }
inline std::uint16_t pkt4_remote_port(const Pkt4& pkt) { return pkt.getRemotePort(); }
inline std::uint16_t pkt4_local_port(const Pkt4& pkt) { return pkt.getLocalPort(); }
inline std::int32_t pkt4_iface_index(const Pkt4& pkt) { return pkt.getIndex(); }
inline std::uint8_t pkt4_hops(const Pkt4& pkt) { return pkt.getHops(); }
inline std::uint16_t pkt4_secs(const Pkt4& pkt) { return pkt.getSecs(); }
inline std::uint16_t pkt4_flags(const Pkt4& pkt) { return pkt.getFlags(); }

inline void pkt4_set_siaddr(const Pkt4& pkt, std::uint32_t addr) {
    const_cast<Pkt4&>(pkt).setSiaddr(isc::asiolink::IOAddress(addr));
}

// The raw datagram (buffer4_receive). Like every slice returned here, the
// Rust side copies it at once (a write may change it).
inline rust::Slice<const std::uint8_t> pkt4_raw(const Pkt4& pkt) { return detail::bytes(pkt.data_); }

inline bool pkt4_has_option(const Pkt4& pkt, std::uint16_t code) {
    // `options_` is read directly: Pkt::getOption() is non-const because it
    // may copy the option into the packet.
    return pkt.options_.find(code) != pkt.options_.end();
}

// ---- Lease4 ----

inline std::uint32_t lease4_addr(const Lease4& lease) { return detail::v4(lease.addr_); }
inline std::uint16_t lease4_htype(const Lease4& lease) { return lease.hwaddr_ ? lease.hwaddr_->htype_ : 0; }

inline rust::Slice<const std::uint8_t> lease4_hwaddr(const Lease4& lease) {
    if (!lease.hwaddr_) {
        return rust::Slice<const std::uint8_t>();
    }
    return detail::bytes(lease.hwaddr_->hwaddr_);
}

inline bool lease4_has_hwaddr(const Lease4& lease) { return static_cast<bool>(lease.hwaddr_); }

inline rust::Slice<const std::uint8_t> lease4_client_id(const Lease4& lease) {
    if (!lease.client_id_) {
        return rust::Slice<const std::uint8_t>();
    }
    return detail::bytes(lease.client_id_->getClientId());
}

inline bool lease4_has_client_id(const Lease4& lease) { return static_cast<bool>(lease.client_id_); }
inline std::uint32_t lease4_valid_lft(const Lease4& lease) { return lease.valid_lft_; }
inline std::int64_t lease4_cltt(const Lease4& lease) { return static_cast<std::int64_t>(lease.cltt_); }
inline std::uint32_t lease4_subnet_id(const Lease4& lease) { return lease.subnet_id_; }

inline rust::Slice<const std::uint8_t> lease4_hostname(const Lease4& lease) {
    return rust::Slice<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(lease.hostname_.data()), lease.hostname_.size());
}

inline std::uint32_t lease4_state(const Lease4& lease) { return lease.state_; }
inline bool lease4_fqdn_fwd(const Lease4& lease) { return lease.fqdn_fwd_; }
inline bool lease4_fqdn_rev(const Lease4& lease) { return lease.fqdn_rev_; }

inline void lease4_set_valid_lft(const Lease4& lease, std::uint32_t seconds) {
    const_cast<Lease4&>(lease).valid_lft_ = seconds;
}

inline void lease4_set_fqdn(const Lease4& lease, bool fwd, bool rev) {
    Lease4& l = const_cast<Lease4&>(lease);
    l.fqdn_fwd_ = fwd;
    l.fqdn_rev_ = rev;
}

// ---- Lease4Collection ----

// A collection can hold null pointers (another library may have put one
// there): the SDK counts and indexes only the leases, so its iterator and
// len() agree. Collections hold one or two leases, so the scan is short.

inline std::size_t lease4_collection_len(const Lease4Collection& leases) {
    std::size_t n = 0;
    for (const auto& lease : leases) {
        n += lease ? 1 : 0;
    }
    return n;
}

inline const Lease4* lease4_collection_get(const Lease4Collection& leases, std::size_t index) {
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

// ---- ClientId, HWAddr ----

inline rust::Slice<const std::uint8_t> client_id_bytes(const ClientId& id) {
    return detail::bytes(id.getClientId());
}

inline rust::Slice<const std::uint8_t> hwaddr_bytes(const HWAddr& hw, std::uint16_t& htype) {
    htype = hw.htype_;
    return detail::bytes(hw.hwaddr_);
}

// ---- Subnet4 ----

inline std::uint32_t subnet4_id(const Subnet4& subnet) { return subnet.getID(); }
inline std::uint32_t subnet4_prefix(const Subnet4& subnet) { return detail::v4(subnet.get().first); }
inline std::uint8_t subnet4_prefix_len(const Subnet4& subnet) { return subnet.get().second; }

}  // namespace kea_shim
