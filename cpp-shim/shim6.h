// The DHCPv6 half of the C++ shim: Kea's Pkt6 (with its relay chain),
// Lease6, Subnet6 (with its address and prefix-delegation pools) and
// their collections, the DHCPv6 callout arguments and lease database. Its
// Rust side is src/ffi/shim6.rs; shim.h (the family-neutral half) holds
// the rules both families keep, and shim4.h explains why the writes take
// const objects and cast.
#pragma once

#include "shim.h"

#include <dhcp/pkt6.h>
#include <dhcpsrv/lease.h>
#include <dhcpsrv/subnet.h>

namespace kea_shim {

struct Addr6;       // shared with Rust (src/ffi/shim6.rs)
struct LeaseRow6;   // shared with Rust
struct OptionRow6;  // shared with Rust
struct RelayRow6;   // shared with Rust
struct PoolRow6;    // shared with Rust

using isc::dhcp::Lease6;
using isc::dhcp::Lease6Collection;
using isc::dhcp::Pkt6;
using isc::dhcp::Subnet6;

namespace detail {
// An IPv6 address as 16 bytes (an IPv4 one, which a DHCPv6 object never
// holds, as ::).
Addr6 v6(const isc::asiolink::IOAddress& addr) noexcept;
isc::asiolink::IOAddress io6(rust::Slice<const std::uint8_t> octets);
}  // namespace detail

// ---- configuration and lease database ----
rust::String config_subnets6_json(bool staging);
rust::String config_shared_networks6_json(bool staging);
rust::Vec<LeaseRow6> leases6_by_address(std::uint8_t lease_type, rust::Slice<const std::uint8_t> address);
rust::Vec<LeaseRow6> leases6_by_duid_iaid(std::uint8_t lease_type, rust::Slice<const std::uint8_t> duid,
                                          std::uint32_t iaid);
rust::Vec<LeaseRow6> leases6_by_duid(rust::Slice<const std::uint8_t> duid);
rust::Vec<LeaseRow6> leases6_by_subnet(std::uint32_t subnet_id);
rust::Vec<LeaseRow6> leases6_page(rust::Slice<const std::uint8_t> after, std::uint32_t size);

// ---- callout arguments ----
const Pkt6* arg_pkt6(const CalloutHandle& handle, rust::Str name);
const Lease6* arg_lease6(const CalloutHandle& handle, rust::Str name);
const Subnet6* arg_subnet6(const CalloutHandle& handle, rust::Str name);
const Lease6Collection* arg_lease6_collection(const CalloutHandle& handle, rust::Str name);
// An `Option6IAPtr` argument (lease6_renew's and lease6_rebind's `ia_na` or
// `ia_pd`) packed as on the wire, without its code and length; null when
// the pointer is null.
std::unique_ptr<std::vector<std::uint8_t>> arg_option6_ia(const CalloutHandle& handle, rust::Str name);
// An `IOAddress` argument (addr6_register's `address`).
Addr6 arg_address6(const CalloutHandle& handle, rust::Str name);

// ---- Pkt6 (the rest is inline below; what returns an address is out of
// line, as the shared struct is complete only in the generated code) ----
Addr6 pkt6_remote_addr(const Pkt6& pkt);
Addr6 pkt6_local_addr(const Pkt6& pkt);
rust::String pkt6_iface(const Pkt6& pkt);
// The client's hardware address from any source Kea knows (its
// link-local address, the DUID, relay options, ...), copied to `out`;
// false when Kea finds none.
bool pkt6_mac(const Pkt6& pkt, std::uint16_t& htype, rust::Vec<std::uint8_t>& out);
bool pkt6_relay(const Pkt6& pkt, std::size_t level, RelayRow6& out);
// Every option `code` of the packet (all of them when `all`), in the
// packet's order, each packed without its code and length. `level`: the
// packet's own options (-1) or those of the relay at that encapsulation
// level (0: the relay closest to the server).
rust::Vec<OptionRow6> pkt6_options(const Pkt6& pkt, std::int32_t level, std::uint16_t code, bool all);
// The first option `code` at `level` (as pkt6_options), packed without
// its code and length, handed over as toBinary made it; null when there is
// none.
std::unique_ptr<std::vector<std::uint8_t>> pkt6_option(const Pkt6& pkt, std::int32_t level, std::uint16_t code);
// Adds option `code`; with `replace`, after deleting every one the packet
// had (one call where set_option made two).
void pkt6_add_option(const Pkt6& pkt, std::uint16_t code, rust::Slice<const std::uint8_t> data, bool replace);
std::size_t pkt6_remove_option(const Pkt6& pkt, std::uint16_t code);
rust::Vec<rust::String> pkt6_classes(const Pkt6& pkt, bool later);
void pkt6_add_class(const Pkt6& pkt, rust::Str name, bool later);
bool pkt6_in_class(const Pkt6& pkt, rust::Str name);
rust::String pkt6_label(const Pkt6& pkt);
void pkt6_set_raw(const Pkt6& pkt, rust::Slice<const std::uint8_t> data);
rust::Slice<const std::uint8_t> pkt6_out_buffer(const Pkt6& pkt);
void pkt6_set_out_buffer(const Pkt6& pkt, rust::Slice<const std::uint8_t> data);

// ---- Lease6 (writes: see "Pkt4 writes" in shim4.h for the const_cast) ----
Addr6 lease6_addr(const Lease6& lease);
rust::String lease6_user_context(const Lease6& lease);
void lease6_set_hostname(const Lease6& lease, rust::Slice<const std::uint8_t> hostname);

// ---- Subnet6 ----
Addr6 subnet6_prefix(const Subnet6& subnet);
rust::Vec<PoolRow6> subnet6_pools(const Subnet6& subnet);

// ---- arguments Kea reads back ----
rust::Vec<std::uint32_t> arg_subnet6_collection_ids(const CalloutHandle& handle, rust::Str name);
bool arg_select_subnet6(const CalloutHandle& handle, std::uint32_t id);
void arg_clear_subnet6(const CalloutHandle& handle);
bool lease6_skip_would_crash(const CalloutHandle& handle);

// ---- the callout-time accessors, inline (see shim.h) ----

inline const Pkt6* known_arg_pkt6(const CalloutHandle& handle, Arg arg, bool& ok) noexcept {
    return detail::try_get_ptr<isc::dhcp::Pkt6Ptr>(handle, arg, ok);
}

inline const Lease6* known_arg_lease6(const CalloutHandle& handle, Arg arg, bool& ok) noexcept {
    return detail::try_get_ptr<isc::dhcp::Lease6Ptr>(handle, arg, ok);
}

inline const Subnet6* known_arg_subnet6(const CalloutHandle& handle, Arg arg, bool& ok) noexcept {
    return detail::try_get_ptr<detail::Subnet6Arg>(handle, arg, ok);
}

inline const Lease6Collection* known_arg_lease6_collection(const CalloutHandle& handle, Arg arg,
                                                           bool& ok) noexcept {
    return detail::try_get_ptr<isc::dhcp::Lease6CollectionPtr>(handle, arg, ok);
}

// ---- Pkt6 ----

inline std::uint8_t pkt6_type(const Pkt6& pkt) { return pkt.getType(); }
inline std::uint32_t pkt6_transid(const Pkt6& pkt) { return pkt.getTransid(); }
inline std::uint16_t pkt6_remote_port(const Pkt6& pkt) { return pkt.getRemotePort(); }
inline std::uint16_t pkt6_local_port(const Pkt6& pkt) { return pkt.getLocalPort(); }
inline std::int32_t pkt6_iface_index(const Pkt6& pkt) { return pkt.getIndex(); }
inline std::size_t pkt6_relay_count(const Pkt6& pkt) { return pkt.relay_info_.size(); }

inline rust::Slice<const std::uint8_t> pkt6_remote_hwaddr(const Pkt6& pkt, std::uint16_t& htype, bool& present) {
    return detail::optional_hwaddr(pkt.getRemoteHWAddr(), htype, present);
}

inline bool pkt6_has_option(const Pkt6& pkt, std::uint16_t code) {
    // `options_` is read directly: Pkt::getOption() is non-const.
    return pkt.options_.find(code) != pkt.options_.end();
}

inline rust::Slice<const std::uint8_t> pkt6_raw(const Pkt6& pkt) { return detail::bytes(pkt.data_); }

// ---- Lease6 ----

inline std::uint8_t lease6_type(const Lease6& lease) { return static_cast<std::uint8_t>(lease.type_); }
inline std::uint8_t lease6_prefix_len(const Lease6& lease) { return lease.prefixlen_; }
inline std::uint32_t lease6_iaid(const Lease6& lease) { return lease.iaid_; }

inline rust::Slice<const std::uint8_t> lease6_duid(const Lease6& lease) {
    return lease.duid_ ? detail::bytes(lease.duid_->getDuid()) : rust::Slice<const std::uint8_t>();
}

inline std::uint32_t lease6_preferred_lft(const Lease6& lease) { return lease.preferred_lft_; }
inline std::uint32_t lease6_valid_lft(const Lease6& lease) { return lease.valid_lft_; }
inline std::int64_t lease6_cltt(const Lease6& lease) { return static_cast<std::int64_t>(lease.cltt_); }
inline std::uint32_t lease6_subnet_id(const Lease6& lease) { return lease.subnet_id_; }
#if KEA_SHIM_HOOKS_VERSION >= 20600
inline std::uint32_t lease6_pool_id(const Lease6& lease) { return lease.pool_id_; }
#else
inline std::uint32_t lease6_pool_id(const Lease6&) { return 0; }
#endif

inline rust::Slice<const std::uint8_t> lease6_hostname(const Lease6& lease) {
    return rust::Slice<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(lease.hostname_.data()),
                                           lease.hostname_.size());
}

inline std::uint32_t lease6_state(const Lease6& lease) { return lease.state_; }
inline bool lease6_fqdn_fwd(const Lease6& lease) { return lease.fqdn_fwd_; }
inline bool lease6_fqdn_rev(const Lease6& lease) { return lease.fqdn_rev_; }

inline rust::Slice<const std::uint8_t> lease6_hwaddr(const Lease6& lease, std::uint16_t& htype, bool& present) {
    return detail::optional_hwaddr(lease.hwaddr_, htype, present);
}

inline void lease6_set_lifetimes(const Lease6& lease, std::uint32_t preferred, std::uint32_t valid) {
    Lease6& l = const_cast<Lease6&>(lease);
    l.preferred_lft_ = preferred;
    l.valid_lft_ = valid;
}

inline void lease6_set_fqdn(const Lease6& lease, bool fwd, bool rev) {
    Lease6& l = const_cast<Lease6&>(lease);
    l.fqdn_fwd_ = fwd;
    l.fqdn_rev_ = rev;
}

// ---- Lease6Collection (null entries skipped: see shim.h) ----

inline std::size_t lease6_collection_len(const Lease6Collection& leases) { return detail::collection_len(leases); }

inline const Lease6* lease6_collection_get(const Lease6Collection& leases, std::size_t index) {
    return detail::collection_get(leases, index);
}

// ---- Subnet6 ----

inline std::uint32_t subnet6_id(const Subnet6& subnet) { return subnet.getID(); }
inline std::uint8_t subnet6_prefix_len(const Subnet6& subnet) { return subnet.get().second; }

}  // namespace kea_shim
