// The DHCPv6 half of the C++ shim; see shim6.h.

#include "shim6.h"
#include "pkt.h"

#include <stdexcept>
#include <vector>

#include <cc/data.h>
#include <dhcp/option.h>
#include <dhcp/option6_ia.h>
#if KEA_SHIM_HOOKS_VERSION >= 30000
// 3.0+ installs its config.h, which its TLS headers (reached from
// cfgmgr.h) require to come first.
#include <config.h>
#endif
#include <dhcpsrv/cfgmgr.h>
#include <dhcpsrv/host_mgr.h>
#include <dhcpsrv/lease_mgr.h>

#include "subnets.h"
#include <dhcpsrv/pool.h>

#include "kea-hooks/src/ffi/shim.rs.h"
#include "kea-hooks/src/ffi/shim6.rs.h"

namespace kea_shim {

// The family's entries in the shared argument-name table (shim.h) follow
// the order of the shared enum `Arg` (src/ffi/shim.rs).
static_assert(static_cast<std::uint8_t>(Arg::Query6) == 9, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::Response6) == 10, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::Lease6) == 11, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::Subnet6) == 12, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::Leases6) == 13, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::DeletedLeases6) == 14, "Arg order");

namespace {
using isc::asiolink::IOAddress;
using isc::data::ConstElementPtr;
using isc::data::Element;

Pkt6& writable(const Pkt6& pkt) { return const_cast<Pkt6&>(pkt); }
}  // namespace

namespace detail {

Addr6 v6(const IOAddress& addr) noexcept {
    Addr6 out{};
    if (addr.isV6()) {
        try {
            const std::vector<std::uint8_t> bytes = addr.toBytes();
            for (std::size_t i = 0; i < 16 && i < bytes.size(); ++i) {
                out.octets[i] = bytes[i];
            }
        }
        KEA_SHIM_RETHROW_FORCED_UNWIND
        catch (...) {
            // Out of memory for 16 bytes: the address reads as ::.
        }
    }
    return out;
}

IOAddress io6(rust::Slice<const std::uint8_t> octets) {
    if (octets.size() != 16) {
        throw std::invalid_argument("an IPv6 address has 16 bytes");
    }
    return IOAddress::fromBytes(AF_INET6, octets.data());
}

}  // namespace detail

// ---- configuration and lease database ----

rust::String config_shared_networks6_json(bool staging) {
    isc::dhcp::CfgMgr& mgr = isc::dhcp::CfgMgr::instance();
    const isc::dhcp::SrvConfigPtr cfg = staging ? mgr.getStagingCfg() : mgr.getCurrentCfg();
    if (!cfg || !cfg->getCfgSharedNetworks6()) {
        return rust::String("[]");
    }
    const ConstElementPtr list = cfg->getCfgSharedNetworks6()->toElement();
    return list ? detail::element_json(list) : rust::String("[]");
}

rust::String config_subnets6_json(bool staging) {
    isc::dhcp::CfgMgr& mgr = isc::dhcp::CfgMgr::instance();
    const isc::dhcp::SrvConfigPtr cfg = staging ? mgr.getStagingCfg() : mgr.getCurrentCfg();
    if (!cfg || !cfg->getCfgSubnets6()) {
        return rust::String("[]");
    }
    const ConstElementPtr list = cfg->getCfgSubnets6()->toElement();
    return list ? detail::element_json(list) : rust::String("[]");
}

namespace {

void push_lease(rust::Vec<LeaseRow6>& out, const isc::dhcp::Lease6Ptr& l) {
    if (!l) {
        return;
    }
    LeaseRow6 row{};
    row.lease_type = static_cast<std::uint8_t>(l->type_);
    row.address = detail::v6(l->addr_);
    row.prefix_len = l->prefixlen_;
    row.iaid = l->iaid_;
    if (l->duid_) {
        detail::copy_out(l->duid_->getDuid().data(), l->duid_->getDuid().size(), row.duid);
    }
    row.preferred_lft = l->preferred_lft_;
    row.valid_lft = l->valid_lft_;
    row.cltt = static_cast<std::int64_t>(l->cltt_);
    row.subnet_id = l->subnet_id_;
#if KEA_SHIM_HOOKS_VERSION >= 20600
    row.pool_id = l->pool_id_;
#endif
    detail::copy_out(reinterpret_cast<const std::uint8_t*>(l->hostname_.data()), l->hostname_.size(), row.hostname);
    row.state = l->state_;
    row.fqdn_fwd = l->fqdn_fwd_;
    row.fqdn_rev = l->fqdn_rev_;
    if (l->hwaddr_) {
        row.has_hwaddr = true;
        row.htype = l->hwaddr_->htype_;
        detail::copy_out(l->hwaddr_->hwaddr_.data(), l->hwaddr_->hwaddr_.size(), row.hwaddr);
    }
    out.push_back(std::move(row));
}

void push_leases(rust::Vec<LeaseRow6>& out, const isc::dhcp::Lease6Collection& leases) {
    for (const auto& l : leases) {
        push_lease(out, l);
    }
}

isc::dhcp::Lease::Type lease_type(std::uint8_t t) {
    switch (t) {
    case 0: return isc::dhcp::Lease::TYPE_NA;
    case 1: return isc::dhcp::Lease::TYPE_TA;
    case 2: return isc::dhcp::Lease::TYPE_PD;
    default: throw std::invalid_argument("not a DHCPv6 lease type: " + std::to_string(t));
    }
}

}  // namespace

rust::Vec<LeaseRow6> leases6_by_address(std::uint8_t type, rust::Slice<const std::uint8_t> address) {
    rust::Vec<LeaseRow6> out;
    push_lease(out, detail::lease_mgr().getLease6(lease_type(type), detail::io6(address)));
    return out;
}

rust::Vec<LeaseRow6> leases6_by_duid_iaid(std::uint8_t type, rust::Slice<const std::uint8_t> duid,
                                          std::uint32_t iaid) {
    rust::Vec<LeaseRow6> out;
    const isc::dhcp::DUID id(std::vector<std::uint8_t>(duid.begin(), duid.end()));
    push_leases(out, detail::lease_mgr().getLeases6(lease_type(type), id, iaid));
    return out;
}

rust::Vec<LeaseRow6> leases6_by_duid(rust::Slice<const std::uint8_t> duid) {
    rust::Vec<LeaseRow6> out;
    const isc::dhcp::DUID id(std::vector<std::uint8_t>(duid.begin(), duid.end()));
    push_leases(out, detail::lease_mgr().getLeases6(id));
    return out;
}

rust::Vec<LeaseRow6> leases6_by_subnet(std::uint32_t subnet_id) {
    rust::Vec<LeaseRow6> out;
    push_leases(out, detail::lease_mgr().getLeases6(static_cast<isc::dhcp::SubnetID>(subnet_id)));
    return out;
}

rust::Vec<LeaseRow6> leases6_page(rust::Slice<const std::uint8_t> after, std::uint32_t size) {
    rust::Vec<LeaseRow6> out;
    push_leases(out, detail::lease_mgr().getLeases6(detail::io6(after), isc::dhcp::LeasePageSize(size)));
    return out;
}

// ---- callout arguments ----
//
// The pointers returned below stay valid after the local shared_ptr copy
// goes: the handle's argument map holds another reference.

const Pkt6* arg_pkt6(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<isc::dhcp::Pkt6Ptr>(handle, std::string(name)).get();
}

const Lease6* arg_lease6(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<isc::dhcp::Lease6Ptr>(handle, std::string(name)).get();
}

const Subnet6* arg_subnet6(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<detail::Subnet6Arg>(handle, std::string(name)).get();
}

const Lease6Collection* arg_lease6_collection(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<isc::dhcp::Lease6CollectionPtr>(handle, std::string(name)).get();
}

std::unique_ptr<std::vector<std::uint8_t>> arg_option6_ia(const CalloutHandle& handle, rust::Str name) {
    const auto ia = detail::get_arg<isc::dhcp::Option6IAPtr>(handle, std::string(name));
    if (!ia) {
        return nullptr;
    }
    return std::make_unique<std::vector<std::uint8_t>>(ia->toBinary(false));
}

Addr6 arg_address6(const CalloutHandle& handle, rust::Str name) {
    IOAddress address("::");
    handle.getArgument(std::string(name), address);
    return detail::v6(address);
}

// ---- Pkt6 ----

Addr6 pkt6_remote_addr(const Pkt6& pkt) { return detail::v6(pkt.getRemoteAddr()); }
Addr6 pkt6_local_addr(const Pkt6& pkt) { return detail::v6(pkt.getLocalAddr()); }

rust::String pkt6_iface(const Pkt6& pkt) { return rust::String(pkt.getIface()); }

bool pkt6_mac(const Pkt6& pkt, std::uint16_t& htype, rust::Vec<std::uint8_t>& out) {
    // getMAC is not const (it may look at the packet's options), and
    // returns a new object: copied out.
    const isc::dhcp::HWAddrPtr hw = writable(pkt).getMAC(isc::dhcp::HWAddr::HWADDR_SOURCE_ANY);
    if (!hw) {
        return false;
    }
    htype = hw->htype_;
    detail::copy_out(hw->hwaddr_.data(), hw->hwaddr_.size(), out);
    return true;
}

bool pkt6_relay(const Pkt6& pkt, std::size_t level, RelayRow6& out) {
    if (level >= pkt.relay_info_.size()) {
        return false;
    }
    const Pkt6::RelayInfo& relay = pkt.relay_info_[level];
    out.msg_type = relay.msg_type_;
    out.hop_count = relay.hop_count_;
    out.link_addr = detail::v6(relay.linkaddr_);
    out.peer_addr = detail::v6(relay.peeraddr_);
    return true;
}

namespace {

// The packet's own options (`level` -1) or those of relay `level`.
const isc::dhcp::OptionCollection& options_at(const Pkt6& pkt, std::int32_t level) {
    if (level < 0) {
        return pkt.options_;
    }
    if (static_cast<std::size_t>(level) >= pkt.relay_info_.size()) {
        throw std::out_of_range("the packet has " + std::to_string(pkt.relay_info_.size()) + " relay levels, not " +
                                std::to_string(level + 1));
    }
    return pkt.relay_info_[level].options_;
}

}  // namespace

std::unique_ptr<std::vector<std::uint8_t>> pkt6_option(const Pkt6& pkt, std::int32_t level, std::uint16_t code) {
    const isc::dhcp::OptionCollection& options = options_at(pkt, level);
    // lower_bound: the first of several (a multimap's find may return any).
    for (auto it = options.lower_bound(code); it != options.end() && it->first == code; ++it) {
        if (it->second) {
            // As pkt4_option: toBinary's vector is handed over, not copied.
            return std::make_unique<std::vector<std::uint8_t>>(it->second->toBinary(false));
        }
    }
    return nullptr;
}

rust::Vec<OptionRow6> pkt6_options(const Pkt6& pkt, std::int32_t level, std::uint16_t code, bool all) {
    const isc::dhcp::OptionCollection* options = &options_at(pkt, level);
    rust::Vec<OptionRow6> out;
    const auto [first, last] = all ? std::make_pair(options->begin(), options->end()) : options->equal_range(code);
    for (auto it = first; it != last; ++it) {
        if (!it->second) {
            continue;
        }
        // toBinary packs typed options (whose payload is not in data_) and
        // sub-options alike.
        const std::vector<std::uint8_t> packed = it->second->toBinary(false);
        OptionRow6 row{};
        row.code = it->first;
        detail::copy_out(packed.data(), packed.size(), row.data);
        out.push_back(std::move(row));
    }
    return out;
}

void pkt6_add_option(const Pkt6& pkt, std::uint16_t code, rust::Slice<const std::uint8_t> data, bool replace) {
    const isc::dhcp::OptionBuffer buf(data.begin(), data.end());
    isc::dhcp::OptionPtr option(new isc::dhcp::Option(isc::dhcp::Option::V6, code, buf));
    if (replace) {
        while (writable(pkt).delOption(code)) {
        }
    }
    writable(pkt).addOption(option);
}

std::size_t pkt6_remove_option(const Pkt6& pkt, std::uint16_t code) {
    std::size_t n = 0;
    while (writable(pkt).delOption(code)) {
        ++n;
    }
    return n;
}

rust::Vec<rust::String> pkt6_classes(const Pkt6& pkt, bool later) { return detail::pkt_classes(pkt, later); }
void pkt6_add_class(const Pkt6& pkt, rust::Str name, bool later) { detail::pkt_add_class(pkt, name, later); }
bool pkt6_in_class(const Pkt6& pkt, rust::Str name) { return detail::pkt_in_class(pkt, name); }
rust::String pkt6_label(const Pkt6& pkt) { return rust::String(pkt.getLabel()); }
void pkt6_set_raw(const Pkt6& pkt, rust::Slice<const std::uint8_t> data) { detail::pkt_set_raw(pkt, data); }
rust::Slice<const std::uint8_t> pkt6_out_buffer(const Pkt6& pkt) { return detail::pkt_out_buffer(pkt); }
void pkt6_set_out_buffer(const Pkt6& pkt, rust::Slice<const std::uint8_t> data) {
    detail::pkt_set_out_buffer(pkt, data);
}

// ---- Lease6 ----

Addr6 lease6_addr(const Lease6& lease) { return detail::v6(lease.addr_); }

rust::String lease6_user_context(const Lease6& lease) {
    const ConstElementPtr context = lease.getContext();
    return context ? detail::element_json(context) : rust::String();
}

void lease6_set_hostname(const Lease6& lease, rust::Slice<const std::uint8_t> hostname) {
    const_cast<Lease6&>(lease).hostname_.assign(reinterpret_cast<const char*>(hostname.data()), hostname.size());
}

// ---- Subnet6 ----

Addr6 subnet6_prefix(const Subnet6& subnet) { return detail::v6(subnet.get().first); }

rust::Vec<PoolRow6> subnet6_pools(const Subnet6& subnet) {
    rust::Vec<PoolRow6> out;
    // (Kea has no temporary-address pools; 3.2 throws when asked for them.)
    for (const auto type : {isc::dhcp::Lease::TYPE_NA, isc::dhcp::Lease::TYPE_PD}) {
        for (const auto& pool : subnet.getPools(type)) {
            const auto pool6 = boost::dynamic_pointer_cast<isc::dhcp::Pool6>(pool);
            if (!pool6) {
                continue;
            }
            PoolRow6 row{};
            row.lease_type = static_cast<std::uint8_t>(type);
            row.first = detail::v6(pool6->getFirstAddress());
            row.last = detail::v6(pool6->getLastAddress());
            row.delegated_len = pool6->getLength();
#if KEA_SHIM_HOOKS_VERSION >= 20600
            row.id = pool6->getID();
#endif
            out.push_back(std::move(row));
        }
    }
    return out;
}

// ---- arguments Kea reads back ----
//
// The configured subnets: from the configuration on 2.4+, never from
// `subnet6collection`'s container (see subnets.h).
#if KEA_SHIM_HOOKS_VERSION >= 20400
rust::Vec<std::uint32_t> arg_subnet6_collection_ids(const CalloutHandle&, rust::Str) {
    return detail::configured_subnet_ids(isc::dhcp::CfgMgr::instance().getCurrentCfg()->getCfgSubnets6());
}

// Selects subnet `id` of the current configuration; false when it has none
// with that id, and then nothing changes.
bool arg_select_subnet6(const CalloutHandle& handle, std::uint32_t id) {
    return detail::select_configured_subnet<detail::Subnet6Arg>(
        handle, isc::dhcp::CfgMgr::instance().getCurrentCfg()->getCfgSubnets6(), id, "subnet6");
}
#else
rust::Vec<std::uint32_t> arg_subnet6_collection_ids(const CalloutHandle& handle, rust::Str name) {
    return detail::collection_subnet_ids(
        detail::get_arg<const isc::dhcp::Subnet6Collection*>(handle, std::string(name)));
}

bool arg_select_subnet6(const CalloutHandle& handle, std::uint32_t id) {
    return detail::select_collection_subnet<detail::Subnet6Arg>(
        handle, detail::get_arg<const isc::dhcp::Subnet6Collection*>(handle, "subnet6collection"), id, "subnet6");
}
#endif

// Kea up to 3.0.3 crashes when a lease6_select callout skips a lease for
// an address or prefix reserved to the client: its allocation engine
// keeps the null lease it gets and dereferences it later (fixed in 3.0.4,
// Kea's ChangeLog 2390; seen on 2.2). Whether `lease6` is reserved, in its
// subnet or globally, to any host: then the SDK does not write the Skip.
bool lease6_skip_would_crash(const CalloutHandle& handle) {
#if KEA_SHIM_HOOKS_VERSION < 30004
    const auto lease = detail::get_arg<isc::dhcp::Lease6Ptr>(handle, "lease6");
    if (!lease) {
        return false;
    }
    const isc::dhcp::HostMgr& hosts = isc::dhcp::HostMgr::instance();
    return !hosts.getAll6(lease->subnet_id_, lease->addr_).empty() ||
           !hosts.getAll6(isc::dhcp::SUBNET_ID_GLOBAL, lease->addr_).empty();
#else
    (void)handle;
    return false;
#endif
}

void arg_clear_subnet6(const CalloutHandle& handle) {
    detail::writable(handle).setArgument("subnet6", detail::Subnet6Arg());
}

}  // namespace kea_shim
