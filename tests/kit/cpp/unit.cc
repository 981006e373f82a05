// The C++ half of kea_hooks_test::unit; see unit.h and src/unit.rs.

#include "unit.h"

#include <cstdlib>
#include <ctime>
#include <vector>

#include <asiolink/io_address.h>
#include <cc/data.h>
#include <dhcp/duid.h>
#include <dhcp/hwaddr.h>
#include <dhcp/pkt4.h>
#include <dhcp/pkt6.h>
#include <dhcpsrv/lease.h>
#include <dhcpsrv/pool.h>
#include <dhcpsrv/subnet.h>
#include <hooks/hooks_manager.h>
#include <hooks/libinfo.h>
#include <hooks/server_hooks.h>
#include <log/logger_manager.h>
#include <log/logger_name.h>
#include <log/logger_specification.h>
#include <log/logger_support.h>
#include <log/output_option.h>

#include "kea-hooks-test/src/unit/ffi.rs.h"

namespace kea_unit {

using isc::asiolink::IOAddress;
using isc::data::ConstElementPtr;
using isc::data::Element;
using isc::dhcp::Lease;
using isc::dhcp::Lease4;
using isc::dhcp::Lease4Collection;
using isc::dhcp::Lease4CollectionPtr;
using isc::dhcp::Lease4Ptr;
using isc::dhcp::Lease6;
using isc::dhcp::Lease6Collection;
using isc::dhcp::Lease6CollectionPtr;
using isc::dhcp::Lease6Ptr;
using isc::dhcp::Pkt4;
using isc::dhcp::Pkt4Ptr;
using isc::dhcp::Pkt6;
using isc::dhcp::Pkt6Ptr;
using isc::hooks::CalloutHandle;
using isc::hooks::HooksManager;
using isc::hooks::ServerHooks;

namespace {

// Subnet arguments have the type the server passes: a const subnet from
// Kea 3.0 on.
#if KEA_UNIT_HOOKS_VERSION >= 30000
typedef isc::dhcp::ConstSubnet4Ptr Subnet4Arg;
typedef isc::dhcp::ConstSubnet6Ptr Subnet6Arg;
#else
typedef isc::dhcp::Subnet4Ptr Subnet4Arg;
typedef isc::dhcp::Subnet6Ptr Subnet6Arg;
#endif

// The hook points each server registers (kea-facts.md: from
// ServerHooks::getHookNames() in a running server; context_create and
// context_destroy are ServerHooks' own).
const char* const DHCP4_HOOKS[] = {
    "buffer4_receive", "buffer4_send", "cb4_updated", "command_processed", "ddns4_update",
    "dhcp4_srv_configured", "host4_identifier", "lease4_decline", "lease4_expire", "lease4_recover",
    "lease4_release", "lease4_renew", "lease4_select", "leases4_committed", "pkt4_receive",
    "pkt4_send", "subnet4_select",
#if KEA_UNIT_HOOKS_VERSION >= 20600
    "lease4_offer", "lease4_server_decline",
#endif
#if KEA_UNIT_HOOKS_VERSION >= 30000
    "http_auth", "http_response",
#endif
};

const char* const DHCP6_HOOKS[] = {
    "buffer6_receive", "buffer6_send", "cb6_updated", "command_processed", "ddns6_update",
    "dhcp6_srv_configured", "host6_identifier", "lease6_decline", "lease6_expire", "lease6_rebind",
    "lease6_recover", "lease6_release", "lease6_renew", "lease6_select", "leases6_committed",
    "pkt6_receive", "pkt6_send", "subnet6_select",
#if KEA_UNIT_HOOKS_VERSION >= 30000
    "addr6_register", "http_auth", "http_response",
#endif
};

std::string str(rust::Str s) {
    return std::string(s.data(), s.size());
}

isc::dhcp::HWAddrPtr hwaddr(const rust::Vec<std::uint8_t>& bytes, std::uint16_t htype) {
    if (bytes.empty()) {
        return isc::dhcp::HWAddrPtr();
    }
    return isc::dhcp::HWAddrPtr(new isc::dhcp::HWAddr(bytes.data(), bytes.size(), htype));
}

ConstElementPtr context(const rust::String& json) {
    return json.empty() ? ConstElementPtr() : Element::fromJSON(std::string(json));
}

rust::Vec<std::uint8_t> bytes(const std::vector<std::uint8_t>& v) {
    rust::Vec<std::uint8_t> out;
    out.reserve(v.size());
    for (std::uint8_t b : v) {
        out.push_back(b);
    }
    return out;
}

// The fields every lease has, read back.
template <typename Data>
void lease_common(const Lease& l, Data& d) {
    d.present = true;
    d.address = l.addr_.toText();
    if (l.hwaddr_) {
        d.hwaddr = bytes(l.hwaddr_->hwaddr_);
        d.htype = l.hwaddr_->htype_;
    }
    d.valid_lifetime = l.valid_lft_;
    d.cltt = static_cast<std::int64_t>(l.cltt_);
    d.subnet_id = l.subnet_id_;
    d.hostname = l.hostname_;
    d.fqdn_fwd = l.fqdn_fwd_;
    d.fqdn_rev = l.fqdn_rev_;
    d.state = l.state_;
    ConstElementPtr ctx = l.getContext();
    d.user_context = ctx ? ctx->str() : std::string();
}

Lease4Ptr make_lease4(const Lease4Data& d) {
    Lease4Ptr l(new Lease4(IOAddress(str(d.address)), hwaddr(d.hwaddr, d.htype), d.client_id.data(),
                           d.client_id.size(), d.valid_lifetime, static_cast<time_t>(d.cltt), d.subnet_id,
                           d.fqdn_fwd, d.fqdn_rev, std::string(d.hostname)));
    l->state_ = d.state;
    l->setContext(context(d.user_context));
    return l;
}

Lease4Data read_lease4(const Lease4Ptr& l) {
    Lease4Data d{};
    if (!l) {
        return d;
    }
    lease_common(*l, d);
    if (l->client_id_) {
        d.client_id = bytes(l->client_id_->getClientId());
    }
    return d;
}

Lease::Type lease6_type(std::uint8_t kind) {
    switch (kind) {
    case 0:
        return Lease::TYPE_NA;
    case 1:
        return Lease::TYPE_TA;
    case 2:
        return Lease::TYPE_PD;
    }
    isc_throw(isc::BadValue, "lease type " << unsigned(kind) << " is not NA (0), TA (1) or PD (2)");
}

Lease6Ptr make_lease6(const Lease6Data& d) {
    isc::dhcp::DuidPtr duid;
    if (!d.duid.empty()) {
        duid.reset(new isc::dhcp::DUID(d.duid.data(), d.duid.size()));
    }
    Lease6Ptr l(new Lease6(lease6_type(d.kind), IOAddress(str(d.address)), duid, d.iaid, d.preferred_lifetime,
                           d.valid_lifetime, d.subnet_id, d.fqdn_fwd, d.fqdn_rev, std::string(d.hostname),
                           hwaddr(d.hwaddr, d.htype), d.prefix_len));
    l->cltt_ = static_cast<time_t>(d.cltt);
    l->current_cltt_ = l->cltt_;
    l->state_ = d.state;
    l->setContext(context(d.user_context));
    return l;
}

Lease6Data read_lease6(const Lease6Ptr& l) {
    Lease6Data d{};
    if (!l) {
        return d;
    }
    lease_common(*l, d);
    d.kind = l->type_ == Lease::TYPE_TA ? 1 : l->type_ == Lease::TYPE_PD ? 2 : 0;
    d.prefix_len = l->prefixlen_;
    d.iaid = l->iaid_;
    if (l->duid_) {
        d.duid = bytes(l->duid_->getDuid());
    }
    d.preferred_lifetime = l->preferred_lft_;
    return d;
}

// A lifetime: unspecified (inherited, as in a configuration without it)
// when zero.
isc::util::Triplet<std::uint32_t> lifetime(std::uint32_t seconds) {
    return seconds == 0 ? isc::util::Triplet<std::uint32_t>() : isc::util::Triplet<std::uint32_t>(seconds);
}

// Only the subnet's own values (Inheritance::NONE): the unit process has no
// configuration to inherit from, and on Kea 2.2 the CfgGlobals the lookup
// would reach is the compat stand-in's declaration.
std::uint32_t own(const isc::util::Triplet<std::uint32_t>& t) {
    return t.unspecified() ? 0 : t.get();
}

template <typename Ptr>
SubnetData read_subnet(const Ptr& s, isc::dhcp::Lease::Type pool_type) {
    SubnetData d{};
    if (!s) {
        return d;
    }
    d.present = true;
    d.id = s->getID();
    const std::pair<IOAddress, std::uint8_t> prefix = s->get();
    d.prefix = prefix.first.toText();
    d.prefix_len = prefix.second;
    d.valid_lifetime = own(s->getValid(isc::dhcp::Network::Inheritance::NONE));
    for (const isc::dhcp::PoolPtr& pool : s->getPools(pool_type)) {
        d.pools.push_back(PoolData{pool->getFirstAddress().toText(), pool->getLastAddress().toText()});
    }
    return d;
}

template <typename P>
void peer(P& pkt, const Peer& p) {
    pkt.setIface(std::string(p.iface));
    pkt.setIndex(p.ifindex);
    pkt.setRemoteAddr(IOAddress(std::string(p.remote_addr)));
    pkt.setRemotePort(p.remote_port);
    pkt.setLocalAddr(IOAddress(std::string(p.local_addr)));
    pkt.setLocalPort(p.local_port);
}

template <typename P>
PacketData read_packet(const boost::shared_ptr<P>& pkt) {
    PacketData d{};
    if (!pkt) {
        return d;
    }
    d.present = true;
    d.message_type = pkt->getType();
    d.transid = pkt->getTransid();
    for (const std::string& c : pkt->getClasses()) {
        d.classes.push_back(c);
    }
    pkt->pack();
    const isc::util::OutputBuffer& buf = pkt->getBuffer();
    const std::uint8_t* data = static_cast<const std::uint8_t*>(buf.getData());
    d.wire.reserve(buf.getLength());
    for (std::size_t i = 0; i < buf.getLength(); ++i) {
        d.wire.push_back(data[i]);
    }
    return d;
}

template <typename T>
T argument(const Call& call, rust::Str name) {
    T value;
    call.handle->getArgument(str(name), value);
    return value;
}

// Walks logger specifications, making each one's name the root logger's
// name while LoggerManager::process handles it: Kea expands a logger name
// that is not the root's to "<root>.<name>", so this is how one process
// gets both servers' root loggers, "kea-dhcp4" and "kea-dhcp6".
struct EachAsRoot {
    std::vector<isc::log::LoggerSpecification>::const_iterator at;

    const isc::log::LoggerSpecification& operator*() const {
        isc::log::setRootLoggerName(at->getName());
        return *at;
    }
    EachAsRoot& operator++() {
        ++at;
        return *this;
    }
    bool operator!=(const EachAsRoot& other) const {
        return at != other.at;
    }
};

}  // namespace

void logging_init(rust::Str log_file) {
    // Kea's logger takes an interprocess lock file in KEA_LOCKFILE_DIR
    // (default /var/run/kea, root's) unless told "none".
    setenv("KEA_LOCKFILE_DIR", "none", 0);
    isc::log::initLogger("kea-dhcp4", isc::log::DEBUG, 99, nullptr, false);
    isc::log::OutputOption out;
    out.destination = isc::log::OutputOption::DEST_FILE;
    out.filename = str(log_file);
    out.flush = true;
    std::vector<isc::log::LoggerSpecification> specs;
    for (const char* root : {"kea-dhcp4", "kea-dhcp6"}) {
        isc::log::LoggerSpecification spec(root, isc::log::DEBUG, 99);
        spec.addOutputOption(out);
        specs.push_back(spec);
    }
    isc::log::LoggerManager manager;
    manager.process(EachAsRoot{specs.cbegin()}, EachAsRoot{specs.cend()});
    isc::log::setRootLoggerName("kea-dhcp4");
}

bool library_load(std::uint8_t family, rust::Str path, rust::Str parameters_json) {
    isc::log::setRootLoggerName(family == 6 ? "kea-dhcp6" : "kea-dhcp4");
    ServerHooks& hooks = ServerHooks::getServerHooks();
    auto add = [&hooks](const char* name) {
        if (hooks.findIndex(name) < 0) {
            hooks.registerHook(name);
        }
    };
    if (family == 6) {
        for (const char* name : DHCP6_HOOKS) {
            add(name);
        }
    } else {
        for (const char* name : DHCP4_HOOKS) {
            add(name);
        }
    }
    ConstElementPtr parameters;
    if (!parameters_json.empty()) {
        parameters = Element::fromJSON(str(parameters_json));
    }
    isc::hooks::HookLibsCollection libs;
    libs.push_back(isc::hooks::HookLibInfo(str(path), parameters));
#if KEA_UNIT_HOOKS_VERSION >= 20400
    // Multi-threading is on by default from Kea 2.4: a library that does
    // not declare itself compatible is refused, as the server would.
    return HooksManager::loadLibraries(libs, true);
#else
    return HooksManager::loadLibraries(libs);
#endif
}

void library_unload() {
    HooksManager::prepareUnloadLibraries();
    HooksManager::unloadLibraries();
}

std::unique_ptr<Handle> handle_new() {
    return std::unique_ptr<Handle>(new Handle{HooksManager::createCalloutHandle()});
}

std::unique_ptr<Call> call_new(const Handle& handle, rust::Str point) {
    const int index = ServerHooks::getServerHooks().findIndex(str(point));
    if (index < 0) {
        isc_throw(isc::BadValue, "this server has no hook point '" << str(point) << "'");
    }
    // What the server's ScopedCalloutHandleState does before each point:
    // the previous point's arguments go, the callout contexts stay.
    handle.handle->deleteAllArguments();
    handle.handle->setStatus(CalloutHandle::NEXT_STEP_CONTINUE);
    return std::unique_ptr<Call>(new Call{index, handle.handle});
}

void call_set_pkt4(Call& call, rust::Str name, rust::Slice<const std::uint8_t> wire, bool unpack, const Peer& p) {
    Pkt4Ptr pkt(new Pkt4(wire.data(), wire.size()));
    peer(*pkt, p);
    if (unpack) {
        pkt->unpack();
    }
    call.handle->setArgument(str(name), pkt);
}

void call_set_pkt6(Call& call, rust::Str name, rust::Slice<const std::uint8_t> wire, bool unpack, const Peer& p) {
    Pkt6Ptr pkt(new Pkt6(wire.data(), wire.size()));
    peer(*pkt, p);
    if (unpack) {
        pkt->unpack();
    }
    call.handle->setArgument(str(name), pkt);
}

void call_set_lease4(Call& call, rust::Str name, const Lease4Data& lease) {
    call.handle->setArgument(str(name), lease.present ? make_lease4(lease) : Lease4Ptr());
}

void call_set_lease6(Call& call, rust::Str name, const Lease6Data& lease) {
    call.handle->setArgument(str(name), lease.present ? make_lease6(lease) : Lease6Ptr());
}

void call_set_leases4(Call& call, rust::Str name, rust::Slice<const Lease4Data> leases) {
    Lease4CollectionPtr all(new Lease4Collection());
    for (const Lease4Data& d : leases) {
        all->push_back(make_lease4(d));
    }
    call.handle->setArgument(str(name), all);
}

void call_set_leases6(Call& call, rust::Str name, rust::Slice<const Lease6Data> leases) {
    Lease6CollectionPtr all(new Lease6Collection());
    for (const Lease6Data& d : leases) {
        all->push_back(make_lease6(d));
    }
    call.handle->setArgument(str(name), all);
}

void call_add_classes(Call& call, rust::Str name, std::uint8_t family, rust::Slice<const rust::String> classes) {
    if (family == 6) {
        Pkt6Ptr pkt = argument<Pkt6Ptr>(call, name);
        for (const rust::String& c : classes) {
            pkt->addClass(std::string(c));
        }
    } else {
        Pkt4Ptr pkt = argument<Pkt4Ptr>(call, name);
        for (const rust::String& c : classes) {
            pkt->addClass(std::string(c));
        }
    }
}

void call_set_subnet4(Call& call, rust::Str name, const SubnetData& d) {
    if (!d.present) {
        call.handle->setArgument(str(name), Subnet4Arg());
        return;
    }
    isc::dhcp::Subnet4Ptr s = isc::dhcp::Subnet4::create(IOAddress(std::string(d.prefix)), d.prefix_len, lifetime(0),
                                                         lifetime(0), lifetime(d.valid_lifetime), d.id);
    for (const PoolData& p : d.pools) {
        s->addPool(isc::dhcp::PoolPtr(new isc::dhcp::Pool4(IOAddress(std::string(p.first)), IOAddress(std::string(p.last)))));
    }
    call.handle->setArgument(str(name), Subnet4Arg(s));
}

void call_set_subnet6(Call& call, rust::Str name, const SubnetData& d) {
    if (!d.present) {
        call.handle->setArgument(str(name), Subnet6Arg());
        return;
    }
    isc::dhcp::Subnet6Ptr s =
        isc::dhcp::Subnet6::create(IOAddress(std::string(d.prefix)), d.prefix_len, lifetime(0), lifetime(0),
                                   lifetime(d.preferred_lifetime), lifetime(d.valid_lifetime), d.id);
    for (const PoolData& p : d.pools) {
        s->addPool(isc::dhcp::PoolPtr(
            new isc::dhcp::Pool6(Lease::TYPE_NA, IOAddress(std::string(p.first)), IOAddress(std::string(p.last)))));
    }
    call.handle->setArgument(str(name), Subnet6Arg(s));
}

SubnetData call_get_subnet4(const Call& call, rust::Str name) {
    return read_subnet(argument<Subnet4Arg>(call, name), Lease::TYPE_V4);
}

SubnetData call_get_subnet6(const Call& call, rust::Str name) {
    Subnet6Arg s = argument<Subnet6Arg>(call, name);
    SubnetData d = read_subnet(s, Lease::TYPE_NA);
    if (s) {
        d.preferred_lifetime = own(s->getPreferred(isc::dhcp::Network::Inheritance::NONE));
    }
    return d;
}

void call_set_bool(Call& call, rust::Str name, bool value) {
    call.handle->setArgument(str(name), value);
}

void call_set_u32(Call& call, rust::Str name, std::uint32_t value) {
    call.handle->setArgument(str(name), value);
}

void call_set_string(Call& call, rust::Str name, rust::Str value) {
    call.handle->setArgument(str(name), str(value));
}

std::int32_t call_run(Call& call) {
    call.handle->setStatus(CalloutHandle::NEXT_STEP_CONTINUE);
    HooksManager::callCallouts(call.index, *call.handle);
    return static_cast<std::int32_t>(call.handle->getStatus());
}

PacketData call_get_pkt4(const Call& call, rust::Str name) {
    return read_packet(argument<Pkt4Ptr>(call, name));
}

PacketData call_get_pkt6(const Call& call, rust::Str name) {
    return read_packet(argument<Pkt6Ptr>(call, name));
}

Lease4Data call_get_lease4(const Call& call, rust::Str name) {
    return read_lease4(argument<Lease4Ptr>(call, name));
}

Lease6Data call_get_lease6(const Call& call, rust::Str name) {
    return read_lease6(argument<Lease6Ptr>(call, name));
}

rust::Vec<Lease4Data> call_get_leases4(const Call& call, rust::Str name) {
    rust::Vec<Lease4Data> out;
    Lease4CollectionPtr all = argument<Lease4CollectionPtr>(call, name);
    if (all) {
        for (const Lease4Ptr& l : *all) {
            out.push_back(read_lease4(l));
        }
    }
    return out;
}

rust::Vec<Lease6Data> call_get_leases6(const Call& call, rust::Str name) {
    rust::Vec<Lease6Data> out;
    Lease6CollectionPtr all = argument<Lease6CollectionPtr>(call, name);
    if (all) {
        for (const Lease6Ptr& l : *all) {
            out.push_back(read_lease6(l));
        }
    }
    return out;
}

bool call_get_bool(const Call& call, rust::Str name) {
    return argument<bool>(call, name);
}

std::uint32_t call_get_u32(const Call& call, rust::Str name) {
    return argument<std::uint32_t>(call, name);
}

bool command_present(rust::Str name) {
    return HooksManager::commandHandlersPresent(str(name));
}

rust::String command_call(rust::Str name, rust::Str command_json) {
    isc::hooks::CalloutHandlePtr handle = HooksManager::createCalloutHandle();
    ConstElementPtr command = Element::fromJSON(str(command_json));
    handle->setArgument("command", command);
    HooksManager::callCommandHandlers(str(name), *handle);
    ConstElementPtr response;
    handle->getArgument("response", response);
    if (!response) {
        isc_throw(isc::Unexpected, "the handler of '" << str(name) << "' set no response");
    }
    return rust::String(response->str());
}

}  // namespace kea_unit
