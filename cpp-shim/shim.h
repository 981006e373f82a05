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

#include "rust/cxx.h"

#include <dhcp/pkt4.h>
#include <dhcpsrv/lease.h>
#include <dhcpsrv/subnet.h>
#include <hooks/callout_handle.h>
#include <hooks/library_handle.h>

// cxx turns a C++ exception thrown inside a function declared `-> Result`
// into a Rust `Err`. Its default only catches std::exception; a hook must
// never let anything escape into Kea or Rust, so catch everything.
namespace rust {
namespace behavior {
template <typename Try, typename Fail>
static void trycatch(Try&& func, Fail&& fail) noexcept try {
    func();
} catch (const std::exception& e) {
    fail(e.what());
} catch (...) {
    fail("unknown C++ exception (not derived from std::exception)");
}
}  // namespace behavior
}  // namespace rust

namespace kea_shim {

enum class Arg : std::uint8_t;  // shared with Rust (ffi.rs), defined by cxx

using isc::dhcp::Lease4;
using isc::dhcp::Lease4Collection;
using isc::dhcp::Pkt4;
using isc::dhcp::Subnet4;
using isc::hooks::CalloutHandle;
using isc::hooks::LibraryHandle;

// ---- library handle / load ----
rust::String library_parameters(LibraryHandle& handle);
bool server_has_hook(rust::Str name);
rust::String server_root_logger();
void register_callout(LibraryHandle& handle, rust::Str name, std::uint8_t point);

// ---- callout handle ----
std::int32_t handle_status(const CalloutHandle& handle);
void handle_set_status(CalloutHandle& handle, std::int32_t status);
rust::Vec<rust::String> handle_argument_names(const CalloutHandle& handle);
const Pkt4* arg_pkt4(const CalloutHandle& handle, rust::Str name);
const Lease4* arg_lease4(const CalloutHandle& handle, rust::Str name);
const Subnet4* arg_subnet4(const CalloutHandle& handle, rust::Str name);
const Lease4Collection* arg_lease4_collection(const CalloutHandle& handle, rust::Str name);
bool arg_bool(const CalloutHandle& handle, rust::Str name);
std::uint32_t arg_u32(const CalloutHandle& handle, rust::Str name);
const Pkt4* known_arg_pkt4(const CalloutHandle& handle, Arg arg, bool& ok) noexcept;
const Lease4* known_arg_lease4(const CalloutHandle& handle, Arg arg, bool& ok) noexcept;
const Subnet4* known_arg_subnet4(const CalloutHandle& handle, Arg arg, bool& ok) noexcept;
const Lease4Collection* known_arg_lease4_collection(const CalloutHandle& handle, Arg arg,
                                                    bool& ok) noexcept;
bool known_arg_bool(const CalloutHandle& handle, Arg arg, bool& ok) noexcept;

// ---- Pkt4 ----
std::uint8_t pkt4_type(const Pkt4& pkt);
std::uint32_t pkt4_transid(const Pkt4& pkt);
rust::Slice<const std::uint8_t> pkt4_hwaddr(const Pkt4& pkt, std::uint16_t& htype);
std::uint32_t pkt4_ciaddr(const Pkt4& pkt);
std::uint32_t pkt4_yiaddr(const Pkt4& pkt);
std::uint32_t pkt4_siaddr(const Pkt4& pkt);
std::uint32_t pkt4_giaddr(const Pkt4& pkt);
std::uint32_t pkt4_remote_addr(const Pkt4& pkt);
std::uint32_t pkt4_local_addr(const Pkt4& pkt);
std::uint16_t pkt4_remote_port(const Pkt4& pkt);
std::uint16_t pkt4_local_port(const Pkt4& pkt);
rust::String pkt4_iface(const Pkt4& pkt);
std::int32_t pkt4_iface_index(const Pkt4& pkt);
std::uint8_t pkt4_hops(const Pkt4& pkt);
std::uint16_t pkt4_secs(const Pkt4& pkt);
std::uint16_t pkt4_flags(const Pkt4& pkt);
bool pkt4_relayed(const Pkt4& pkt);
bool pkt4_has_option(const Pkt4& pkt, std::uint16_t code);
bool pkt4_option(const Pkt4& pkt, std::uint16_t code, rust::Vec<std::uint8_t>& out);
bool pkt4_in_class(const Pkt4& pkt, rust::Str name);
rust::String pkt4_label(const Pkt4& pkt);

// ---- Lease4 ----
std::uint32_t lease4_addr(const Lease4& lease);
std::uint16_t lease4_htype(const Lease4& lease);
rust::Slice<const std::uint8_t> lease4_hwaddr(const Lease4& lease);
bool lease4_has_hwaddr(const Lease4& lease);
rust::Slice<const std::uint8_t> lease4_client_id(const Lease4& lease);
bool lease4_has_client_id(const Lease4& lease);
std::uint32_t lease4_valid_lft(const Lease4& lease);
std::int64_t lease4_cltt(const Lease4& lease);
std::uint32_t lease4_subnet_id(const Lease4& lease);
rust::Slice<const std::uint8_t> lease4_hostname(const Lease4& lease);
std::uint32_t lease4_state(const Lease4& lease);
bool lease4_fqdn_fwd(const Lease4& lease);
bool lease4_fqdn_rev(const Lease4& lease);

// ---- Lease4Collection ----
std::size_t lease4_collection_len(const Lease4Collection& leases);
const Lease4* lease4_collection_get(const Lease4Collection& leases, std::size_t index);

// ---- Subnet4 ----
std::uint32_t subnet4_id(const Subnet4& subnet);
std::uint32_t subnet4_prefix(const Subnet4& subnet);
std::uint8_t subnet4_prefix_len(const Subnet4& subnet);

// ---- logging ----
void log_open(rust::Str logger_name, rust::Str message_id);
void log_close();
bool log_enabled(std::uint8_t severity, std::int32_t debug_level) noexcept;
void log_emit(std::uint8_t severity, std::int32_t debug_level, rust::Str message);

}  // namespace kea_shim
