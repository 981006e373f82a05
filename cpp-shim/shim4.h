// The DHCPv4 half of the C++ shim: Kea's Pkt4, Lease4, Subnet4 and their
// collections, the DHCPv4 callout arguments and lease database. Its Rust
// side is src/ffi/shim4.rs; shim.h (the family-neutral half) holds the
// rules both keep.
#pragma once

#include "shim.h"

namespace kea_shim {

struct LeaseRow4;  // shared with Rust (src/ffi/shim4.rs)

using isc::dhcp::ClientId;
using isc::dhcp::Lease4;
using isc::dhcp::Lease4Collection;
using isc::dhcp::Pkt4;
using isc::dhcp::Subnet4;

// ---- configuration and lease database ----
rust::String config_subnets4_json(bool staging);
rust::String config_shared_networks4_json(bool staging);
rust::Vec<LeaseRow4> leases4_by_address(std::uint32_t address);
rust::Vec<LeaseRow4> leases4_by_hwaddr(rust::Slice<const std::uint8_t> hwaddr, std::uint16_t htype);
rust::Vec<LeaseRow4> leases4_by_client_id(rust::Slice<const std::uint8_t> client_id);
rust::Vec<LeaseRow4> leases4_by_subnet(std::uint32_t subnet_id);
rust::Vec<LeaseRow4> leases4_page(std::uint32_t after, std::uint32_t size);

// ---- callout arguments ----
const Pkt4* arg_pkt4(const CalloutHandle& handle, rust::Str name);
const Lease4* arg_lease4(const CalloutHandle& handle, rust::Str name);
const Subnet4* arg_subnet4(const CalloutHandle& handle, rust::Str name);
const Lease4Collection* arg_lease4_collection(const CalloutHandle& handle, rust::Str name);
const ClientId* arg_client_id(const CalloutHandle& handle, rust::Str name);

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
rust::Vec<std::uint32_t> arg_subnet4_collection_ids(const CalloutHandle& handle, rust::Str name);
bool arg_select_subnet4(const CalloutHandle& handle, std::uint32_t id);
void arg_clear_subnet4(const CalloutHandle& handle);

// ---- the callout-time accessors, inline (see shim.h) ----

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

// ---- Lease4Collection (null entries skipped: see shim.h) ----

inline std::size_t lease4_collection_len(const Lease4Collection& leases) { return detail::collection_len(leases); }

inline const Lease4* lease4_collection_get(const Lease4Collection& leases, std::size_t index) {
    return detail::collection_get(leases, index);
}

// ---- ClientId, HWAddr ----

// ---- ClientId ----

inline rust::Slice<const std::uint8_t> client_id_bytes(const ClientId& id) {
    return detail::bytes(id.getClientId());
}

// ---- Subnet4 ----

inline std::uint32_t subnet4_id(const Subnet4& subnet) { return subnet.getID(); }
inline std::uint32_t subnet4_prefix(const Subnet4& subnet) { return detail::v4(subnet.get().first); }
inline std::uint8_t subnet4_prefix_len(const Subnet4& subnet) { return subnet.get().second; }

}  // namespace kea_shim
