// The DHCPv4 half of the C++ shim; see shim4.h.

#include "shim4.h"
#include "pkt.h"

#include <stdexcept>
#include <vector>

#include <cc/data.h>
#include <dhcp/option.h>
#if KEA_SHIM_HOOKS_VERSION >= 30000
// 3.0+ installs its config.h, which its TLS headers (reached from
// cfgmgr.h) require to come first.
#include <config.h>
#endif
#include <dhcpsrv/cfgmgr.h>
#include <dhcpsrv/lease_mgr.h>

#include "subnets.h"

#include "kea-hooks/src/ffi/shim4.rs.h"

namespace kea_shim {

namespace {
using isc::data::ConstElementPtr;
using isc::data::Element;
}  // namespace

// ---- configuration and lease database ----

rust::String config_shared_networks4_json(bool staging) {
    isc::dhcp::CfgMgr& mgr = isc::dhcp::CfgMgr::instance();
    const isc::dhcp::SrvConfigPtr cfg = staging ? mgr.getStagingCfg() : mgr.getCurrentCfg();
    if (!cfg || !cfg->getCfgSharedNetworks4()) {
        return rust::String("[]");
    }
    const ConstElementPtr list = cfg->getCfgSharedNetworks4()->toElement();
    return list ? detail::element_json(list) : rust::String("[]");
}

rust::String config_subnets4_json(bool staging) {
    isc::dhcp::CfgMgr& mgr = isc::dhcp::CfgMgr::instance();
    const isc::dhcp::SrvConfigPtr cfg = staging ? mgr.getStagingCfg() : mgr.getCurrentCfg();
    if (!cfg || !cfg->getCfgSubnets4()) {
        return rust::String("[]");
    }
    const ConstElementPtr list = cfg->getCfgSubnets4()->toElement();
    return list ? detail::element_json(list) : rust::String("[]");
}

namespace {

void push_lease(rust::Vec<LeaseRow4>& out, const isc::dhcp::Lease4Ptr& l) {
    if (!l) {
        return;
    }
    LeaseRow4 row{};
    row.address = l->addr_.toUint32();
    if (l->hwaddr_) {
        row.has_hwaddr = true;
        row.htype = l->hwaddr_->htype_;
        for (auto b : l->hwaddr_->hwaddr_) {
            row.hwaddr.push_back(b);
        }
    }
    if (l->client_id_) {
        row.has_client_id = true;
        for (auto b : l->client_id_->getClientId()) {
            row.client_id.push_back(b);
        }
    }
    row.valid_lft = l->valid_lft_;
    row.cltt = static_cast<std::int64_t>(l->cltt_);
    row.subnet_id = l->subnet_id_;
    for (char c : l->hostname_) {
        row.hostname.push_back(static_cast<std::uint8_t>(c));
    }
    row.state = l->state_;
    row.fqdn_fwd = l->fqdn_fwd_;
    row.fqdn_rev = l->fqdn_rev_;
    out.push_back(std::move(row));
}

void push_leases(rust::Vec<LeaseRow4>& out, const isc::dhcp::Lease4Collection& leases) {
    for (const auto& l : leases) {
        push_lease(out, l);
    }
}

}  // namespace

rust::Vec<LeaseRow4> leases4_by_address(std::uint32_t address) {
    rust::Vec<LeaseRow4> out;
    push_lease(out, detail::lease_mgr().getLease4(isc::asiolink::IOAddress(address)));
    return out;
}

rust::Vec<LeaseRow4> leases4_by_hwaddr(rust::Slice<const std::uint8_t> hwaddr, std::uint16_t htype) {
    rust::Vec<LeaseRow4> out;
    const HWAddr hw(std::vector<std::uint8_t>(hwaddr.begin(), hwaddr.end()), htype);
    push_leases(out, detail::lease_mgr().getLease4(hw));
    return out;
}

rust::Vec<LeaseRow4> leases4_by_client_id(rust::Slice<const std::uint8_t> client_id) {
    rust::Vec<LeaseRow4> out;
    const ClientId id(std::vector<std::uint8_t>(client_id.begin(), client_id.end()));
    push_leases(out, detail::lease_mgr().getLease4(id));
    return out;
}

rust::Vec<LeaseRow4> leases4_by_subnet(std::uint32_t subnet_id) {
    rust::Vec<LeaseRow4> out;
    push_leases(out, detail::lease_mgr().getLeases4(static_cast<isc::dhcp::SubnetID>(subnet_id)));
    return out;
}

rust::Vec<LeaseRow4> leases4_page(std::uint32_t after, std::uint32_t size) {
    rust::Vec<LeaseRow4> out;
    push_leases(out, detail::lease_mgr().getLeases4(isc::asiolink::IOAddress(after), isc::dhcp::LeasePageSize(size)));
    return out;
}

// ---- callout arguments ----
//
// The pointers returned below stay valid after the local shared_ptr copy
// goes: the handle's argument map holds another reference.

const Pkt4* arg_pkt4(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<isc::dhcp::Pkt4Ptr>(handle, std::string(name)).get();
}

const Lease4* arg_lease4(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<isc::dhcp::Lease4Ptr>(handle, std::string(name)).get();
}

const Subnet4* arg_subnet4(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<detail::Subnet4Arg>(handle, std::string(name)).get();
}

const Lease4Collection* arg_lease4_collection(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<isc::dhcp::Lease4CollectionPtr>(handle, std::string(name)).get();
}

const ClientId* arg_client_id(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<isc::dhcp::ClientIdPtr>(handle, std::string(name)).get();
}

// ---- Pkt4 (what may throw or allocate; the rest is inline in shim.h) ----

std::uint8_t pkt4_type(const Pkt4& pkt) { return pkt.getType(); }

rust::String pkt4_iface(const Pkt4& pkt) { return rust::String(pkt.getIface()); }

bool pkt4_relayed(const Pkt4& pkt) { return pkt.isRelayed(); }

std::unique_ptr<std::vector<std::uint8_t>> pkt4_option(const Pkt4& pkt, std::uint16_t code) {
    auto it = pkt.options_.find(code);
    if (it == pkt.options_.end() || !it->second) {
        return nullptr;
    }
    // toBinary packs typed options (whose payload is not in data_) and
    // sub-options alike; the vector is handed over, not copied again.
    return std::make_unique<std::vector<std::uint8_t>>(it->second->toBinary(false));
}

bool pkt4_in_class(const Pkt4& pkt, rust::Str name) { return detail::pkt_in_class(pkt, name); }

rust::String pkt4_label(const Pkt4& pkt) { return rust::String(pkt.getLabel()); }

// ---- Pkt4 writes (const_cast: see shim.h) ----

namespace {

Pkt4& writable(const Pkt4& pkt) { return const_cast<Pkt4&>(pkt); }

// The field up to its first NUL.
void c_field(const std::vector<std::uint8_t>& field, rust::Vec<std::uint8_t>& out) {
    std::size_t len = 0;
    while (len < field.size() && field[len] != 0) {
        ++len;
    }
    detail::copy_out(field.data(), len, out);
}

}  // namespace

void pkt4_sname(const Pkt4& pkt, rust::Vec<std::uint8_t>& out) { c_field(pkt.getSname(), out); }
void pkt4_file(const Pkt4& pkt, rust::Vec<std::uint8_t>& out) { c_field(pkt.getFile(), out); }

void pkt4_set_sname(const Pkt4& pkt, rust::Slice<const std::uint8_t> value) {
    // setSname pads the rest of the field with zeros; an empty value clears it.
    static const std::uint8_t zero = 0;
    writable(pkt).setSname(value.empty() ? &zero : value.data(), value.empty() ? 1 : value.size());
}

void pkt4_set_file(const Pkt4& pkt, rust::Slice<const std::uint8_t> value) {
    static const std::uint8_t zero = 0;
    writable(pkt).setFile(value.empty() ? &zero : value.data(), value.empty() ? 1 : value.size());
}

void pkt4_add_option(const Pkt4& pkt, std::uint16_t code, rust::Slice<const std::uint8_t> data, bool replace) {
    const isc::dhcp::OptionBuffer buf(data.begin(), data.end());
    isc::dhcp::OptionPtr option(new isc::dhcp::Option(isc::dhcp::Option::V4, code, buf));
    if (replace) {
        // A DHCPv4 packet holds at most one option of a code (addOption
        // refuses a second; unpacking fuses split ones).
        writable(pkt).delOption(code);
    }
    // Pkt4::addOption throws if the packet has one with this code already.
    writable(pkt).addOption(option);
}

std::size_t pkt4_remove_option(const Pkt4& pkt, std::uint16_t code) {
    std::size_t n = 0;
    while (writable(pkt).delOption(code)) {
        ++n;
    }
    return n;
}

// Classes, the raw datagram and the packed output live in Kea's `Pkt`
// base class: see pkt.h.
rust::Vec<rust::String> pkt4_classes(const Pkt4& pkt, bool later) { return detail::pkt_classes(pkt, later); }

void pkt4_add_class(const Pkt4& pkt, rust::Str name, bool later) { detail::pkt_add_class(pkt, name, later); }

void pkt4_set_raw(const Pkt4& pkt, rust::Slice<const std::uint8_t> data) { detail::pkt_set_raw(pkt, data); }

rust::Slice<const std::uint8_t> pkt4_out_buffer(const Pkt4& pkt) { return detail::pkt_out_buffer(pkt); }

void pkt4_set_out_buffer(const Pkt4& pkt, rust::Slice<const std::uint8_t> data) {
    detail::pkt_set_out_buffer(pkt, data);
}

// ---- Lease4 writes ----

void lease4_set_hostname(const Lease4& lease, rust::Slice<const std::uint8_t> hostname) {
    const_cast<Lease4&>(lease).hostname_.assign(reinterpret_cast<const char*>(hostname.data()), hostname.size());
}

// ---- arguments Kea reads back ----

// The configured subnets: from the configuration on 2.4+, never from
// `subnet4collection`'s container (see subnets.h).
#if KEA_SHIM_HOOKS_VERSION >= 20400
rust::Vec<std::uint32_t> arg_subnet4_collection_ids(const CalloutHandle&, rust::Str) {
    return detail::configured_subnet_ids(isc::dhcp::CfgMgr::instance().getCurrentCfg()->getCfgSubnets4());
}

// Selects subnet `id` of the current configuration; false when it has none
// with that id, and then nothing changes.
bool arg_select_subnet4(const CalloutHandle& handle, std::uint32_t id) {
    return detail::select_configured_subnet<detail::Subnet4Arg>(
        handle, isc::dhcp::CfgMgr::instance().getCurrentCfg()->getCfgSubnets4(), id, "subnet4");
}
#else
rust::Vec<std::uint32_t> arg_subnet4_collection_ids(const CalloutHandle& handle, rust::Str name) {
    return detail::collection_subnet_ids(
        detail::get_arg<const isc::dhcp::Subnet4Collection*>(handle, std::string(name)));
}

bool arg_select_subnet4(const CalloutHandle& handle, std::uint32_t id) {
    return detail::select_collection_subnet<detail::Subnet4Arg>(
        handle, detail::get_arg<const isc::dhcp::Subnet4Collection*>(handle, "subnet4collection"), id, "subnet4");
}
#endif

void arg_clear_subnet4(const CalloutHandle& handle) {
    detail::writable(handle).setArgument("subnet4", detail::Subnet4Arg());
}

}  // namespace kea_shim
