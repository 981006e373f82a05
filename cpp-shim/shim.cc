// The C++ half of the kea-hooks SDK; see shim.h for the rules it keeps.

#include "shim.h"

#include <atomic>
#include <charconv>
#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <boost/make_shared.hpp>

#include <cc/data.h>
#include <dhcp/iface_mgr.h>
#include <dhcp/option.h>
#include <database/audit_entry.h>
#include <dhcpsrv/host.h>
#if KEA_SHIM_HOOKS_VERSION >= 30000
// 3.0+ installs its config.h, which its TLS headers (reached from
// cfgmgr.h) require to come first.
#include <config.h>
#endif
#include <dhcpsrv/cfgmgr.h>
#include <dhcpsrv/lease_mgr_factory.h>
#if KEA_SHIM_HOOKS_VERSION >= 30000
#include <hooks/hooks_parser.h>
#endif
#include <hooks/server_hooks.h>
#include <log/log_formatter.h>
#include <log/logger.h>
#include <log/logger_name.h>
#include <log/message_dictionary.h>
#include <stats/stats_mgr.h>
#include <util/multi_threading_mgr.h>

#include "kea-hooks/src/ffi/shim.rs.h"

using isc::hooks::CalloutHandle;

namespace kea_shim {

// The header's table of argument names follows the order of the shared
// enum `Arg` (src/ffi/shim.rs); cxx numbers its variants from 0 in that order.
static_assert(static_cast<std::uint8_t>(Arg::Query4) == 0, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::Response4) == 1, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::Lease4) == 2, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::Subnet4) == 3, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::Leases4) == 4, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::DeletedLeases4) == 5, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::FakeAllocation) == 6, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::OfferLifetime) == 7, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::OldLease) == 8, "Arg order");
static_assert(detail::ARG_COUNT == 15, "one name per Arg");

// ---- library handle / load ----

// The `parameters` map as JSON text, written here rather than by Kea's
// Element::str(), which escapes every byte >= 0x80 on its own (so UTF-8
// text came back as Latin-1 mojibake) and prints doubles with 6 significant
// digits. Strings go out byte for byte (checked to be UTF-8), integers in
// full, doubles in the shortest form that reads back as the same double,
// always with a '.' or an exponent so that they stay floats.
namespace {

using isc::data::ConstElementPtr;
using isc::data::Element;

[[noreturn]] void parameter_error(const std::string& path, const std::string& what) {
    throw std::runtime_error(path.empty() ? what : "at '" + path + "': " + what);
}

// Length of the UTF-8 sequence at s[i], or 0 if it is not one (overlong
// forms, surrogates and code points past U+10FFFF included).
std::size_t utf8_sequence(const std::string& s, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    const std::size_t left = s.size() - i;
    const auto cont = [&](std::size_t k) { return k < left && (byte(i + k) & 0xC0) == 0x80; };
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        return cont(1) ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(1) || !cont(2)) {
            return 0;
        }
        const unsigned char c1 = byte(i + 1);
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F)) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(1) || !cont(2) || !cont(3)) {
            return 0;
        }
        const unsigned char c1 = byte(i + 1);
        if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

void write_string(std::string& out, const std::string& s, const std::string& path) {
    out.push_back('"');
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_sequence(s, i);
        if (n == 0) {
            parameter_error(path,
                            "text is not valid UTF-8 (byte " + std::to_string(i) +
                                "; Kea reads a \\u0080-\\u00ff escape as a single byte: write such "
                                "characters as UTF-8 instead)");
        }
        const char c = s[i];
        if (n > 1) {
            out.append(s, i, n);
        } else if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (static_cast<unsigned char>(c) < 0x20) {
            static const char hex[] = "0123456789abcdef";
            out.append("\\u00");
            out.push_back(hex[(c >> 4) & 0xF]);
            out.push_back(hex[c & 0xF]);
        } else {
            out.push_back(c);
        }
        i += n;
    }
    out.push_back('"');
}

void write_double(std::string& out, double d, const std::string& path) {
    if (!std::isfinite(d)) {
        parameter_error(path, "number is not finite");
    }
    char buf[64];
    const auto result = std::to_chars(buf, buf + sizeof buf, d);
    if (result.ec != std::errc()) {
        parameter_error(path, "number cannot be written");
    }
    const std::string text(buf, result.ptr);
    out += text;
    if (text.find_first_of(".eE") == std::string::npos) {
        out += ".0";
    }
}

void write_json(std::string& out, const ConstElementPtr& e, std::string& path) {
    if (!e) {
        out += "null";
        return;
    }
    switch (e->getType()) {
    case Element::integer:
        out += std::to_string(e->intValue());
        return;
#if KEA_SHIM_HOOKS_VERSION >= 20400
    case Element::bigint: {
        // Only Kea's generic JSON parser (config-set) makes these; the
        // configuration file's parser stops at 64 bits.
        const isc::util::int128_t v = e->bigIntValue();
        if (v > static_cast<isc::util::int128_t>(UINT64_MAX) ||
            v < static_cast<isc::util::int128_t>(INT64_MIN)) {
            parameter_error(path, "integer does not fit in 64 bits");
        }
        out += v < 0 ? std::to_string(static_cast<std::int64_t>(v))
                     : std::to_string(static_cast<std::uint64_t>(v));
        return;
    }
#endif
    case Element::real:
        write_double(out, e->doubleValue(), path);
        return;
    case Element::boolean:
        out += e->boolValue() ? "true" : "false";
        return;
    case Element::null:
        out += "null";
        return;
    case Element::string:
        write_string(out, e->stringValue(), path);
        return;
    case Element::list: {
        out.push_back('[');
        const std::size_t len = path.size();
        std::size_t i = 0;
        for (const auto& item : e->listValue()) {
            if (i) {
                out.push_back(',');
            }
            path += "[" + std::to_string(i++) + "]";
            write_json(out, item, path);
            path.resize(len);
        }
        out.push_back(']');
        return;
    }
    case Element::map: {
        out.push_back('{');
        const std::size_t len = path.size();
        bool first = true;
        for (const auto& kv : e->mapValue()) {
            if (!first) {
                out.push_back(',');
            }
            first = false;
            path += (len ? "." : "") + kv.first;
            write_string(out, kv.first, path);
            out.push_back(':');
            write_json(out, kv.second, path);
            path.resize(len);
        }
        out.push_back('}');
        return;
    }
    default:
        parameter_error(path, "value of a type JSON does not have");
    }
}

}  // namespace

namespace detail {

rust::String element_json(const ConstElementPtr& e) {
    std::string out;
    std::string path;
    write_json(out, e, path);
    return rust::String(out);
}

}  // namespace detail

using detail::element_json;

rust::String library_parameters_json(LibraryHandle& handle) {
    ConstElementPtr params = handle.getParameters();
    return params ? element_json(params) : rust::String();
}

bool server_has_hook(rust::Str name) {
    return isc::hooks::ServerHooks::getServerHooks().findIndex(std::string(name)) >= 0;
}

rust::String server_root_logger() {
    return rust::String(isc::log::getRootLoggerName());
}

rust::String hook_script_path(rust::Str name) {
#if KEA_SHIM_HOOKS_VERSION >= 30000
    // Kea's own rule for scripts a hook runs (KEA_HOOK_SCRIPTS_PATH, or
    // <prefix>/share/kea/scripts; not enforced under `-X`).
    return rust::String(isc::hooks::HookLibraryScriptsChecker::validatePath(std::string(name)));
#else
    return rust::String(std::string(name));
#endif
}

void register_callout(LibraryHandle& handle, rust::Str name, std::size_t callout) {
    // `callout` is a Rust `extern "C" fn(Option<&mut RawCalloutHandle>) ->
    // c_int`: the ABI of Kea's `int (*)(CalloutHandle&)`. It never unwinds
    // (panics are caught inside it, and it calls no C++ that can throw
    // outside a `Result`).
    handle.registerCallout(std::string(name), reinterpret_cast<isc::hooks::CalloutPtr>(callout));
}

void register_command(LibraryHandle& handle, rust::Str name, std::size_t callout) {
    // Kea calls a command's handlers as callouts of the hook point
    // "$<name>", with arguments "command" and "response"; same ABI.
    handle.registerCommandCallout(std::string(name), reinterpret_cast<isc::hooks::CalloutPtr>(callout));
}

// ---- parking ----
//
// Kea parks the query itself before it calls the callouts of a point that
// may park (leases4_committed; lease4_offer and subnet4_select on 2.6+)
// and drops it again afterwards unless the status is PARK. A callout that
// parks takes a reference on it (the count Kea's unpark brings back to
// zero), so it is parked until the hook resumes or drops it. reference()
// throws when Kea did not park the query (the point cannot park on this
// release, or its parking lot is full).

std::unique_ptr<ParkedPacket> handle_park(const CalloutHandle& handle, std::uint8_t kind, std::uint32_t& xid) {
    auto parked = std::make_unique<ParkedPacket>();
    const bool v6 = kind >= 3;
    if (v6) {
        parked->query6 = detail::get_arg<isc::dhcp::Pkt6Ptr>(handle, "query6");
    } else {
        parked->query = detail::get_arg<isc::dhcp::Pkt4Ptr>(handle, "query4");
    }
    if (!parked->query && !parked->query6) {
        throw std::runtime_error("there is no query to park");
    }
    parked->lot = handle.getParkingLotHandlePtr();
    if (!parked->lot) {
        throw std::runtime_error("Kea gave this hook point no parking lot");
    }
    if (kind == 2) {
        parked->subnet = detail::get_arg<detail::Subnet4Arg>(handle, "subnet4");
    } else if (kind == 4) {
        parked->subnet6 = detail::get_arg<detail::Subnet6Arg>(handle, "subnet6");
    }
    if (v6) {
        parked->lot->reference(parked->query6);
        if (kind != 3) {
            parked->handle = parked->query6->getCalloutHandle();
        }
        xid = parked->query6->getTransid();
    } else {
        parked->lot->reference(parked->query);
        if (kind != 0) {
            parked->handle = parked->query->getCalloutHandle();
        }
        xid = parked->query->getTransid();
    }
    return parked;
}

// Kea (2.6+) takes the subnet of a query resumed after subnet4_select from
// the query's callout context "subnet4", read outside any callout (library
// index -1), as ISC's RADIUS hook leaves it; unset means no subnet. Called
// on the main thread, outside callouts, right before the unpark.
void parked_clear_subnet(const ParkedPacket& parked) {
    if (!parked.handle) {
        throw std::runtime_error("this parked packet has no callout handle");
    }
    if (parked.query6) {
        parked.handle->setContext("subnet6", detail::Subnet6Arg());
    } else {
        parked.handle->setContext("subnet4", detail::Subnet4Arg());
    }
}

void parked_set_subnet(const ParkedPacket& parked, bool by_id, std::uint32_t id) {
    if (!parked.handle) {
        throw std::runtime_error("this parked packet has no callout handle");
    }
    if (parked.query6) {
        detail::Subnet6Arg subnet = parked.subnet6;
        if (by_id) {
            const auto all = isc::dhcp::CfgMgr::instance().getCurrentCfg()->getCfgSubnets6();
            subnet = detail::Subnet6Arg(all ? all->getSubnet(id) : isc::dhcp::Subnet6Ptr());
            if (!subnet) {
                throw std::runtime_error("the configuration has no subnet with id " + std::to_string(id));
            }
        }
        parked.handle->setContext("subnet6", subnet);
        return;
    }
    detail::Subnet4Arg subnet = parked.subnet;
    if (by_id) {
        const auto all = isc::dhcp::CfgMgr::instance().getCurrentCfg()->getCfgSubnets4();
        // getSubnet: Subnet4Ptr, as Kea 2.6 keeps it (3.0 reads a
        // ConstSubnet4Ptr, which Subnet4Arg converts to).
        subnet = detail::Subnet4Arg(all ? all->getSubnet(id) : isc::dhcp::Subnet4Ptr());
        if (!subnet) {
            throw std::runtime_error("the configuration has no subnet with id " + std::to_string(id));
        }
    }
    parked.handle->setContext("subnet4", subnet);
}

bool parked_resume(std::unique_ptr<ParkedPacket> parked) {
    return parked->query6 ? parked->lot->unpark(parked->query6) : parked->lot->unpark(parked->query);
}

bool parked_drop(const ParkedPacket& parked) {
    return parked.query6 ? parked.lot->drop(parked.query6) : parked.lot->drop(parked.query);
}

void parked_set_bool(const ParkedPacket& parked, rust::Str name, bool value) {
    if (!parked.handle) {
        throw std::runtime_error("this parked packet has no arguments to set");
    }
    parked.handle->setArgument(std::string(name), value);
}

// ---- Kea's main thread ----
//
// The hook's queue of work for Kea's main thread is an eventfd that Kea's
// interface manager watches with its DHCP sockets: the select that waits
// for packets on the main thread wakes when a thread of the hook writes to
// it, and calls back on that thread. The callback runs Rust code that never
// unwinds; unload() removes it before the library is closed.

void main_queue_open(int fd) {
    isc::dhcp::IfaceMgr::instance().addExternalSocket(fd, [](int) { run_main_queue(); });
}

void main_queue_close(int fd) {
    isc::dhcp::IfaceMgr::instance().deleteExternalSocket(fd);
}

// Kea calls these when a multi-threading critical section begins and ends
// (reconfiguration, shutdown), with its packet threads stopped: the SDK
// keeps the hook's own threads out of the lease database meanwhile.
bool lease_gate_register(rust::Str name) {
    auto& mt = isc::util::MultiThreadingMgr::instance();
    const std::string key(name);
    mt.removeCriticalSectionCallbacks(key);
    mt.addCriticalSectionCallbacks(key, [] {}, [] { lease_gate_close(); }, [] { lease_gate_open(); });
    // Loaded inside one (Kea loads hooks while it reconfigures): the
    // section's end opens the gate.
    return mt.isInCriticalSection();
}

void lease_gate_unregister(rust::Str name) {
    isc::util::MultiThreadingMgr::instance().removeCriticalSectionCallbacks(std::string(name));
}

// ---- configuration and lease database ----

namespace detail {

isc::dhcp::LeaseMgr& lease_mgr() {
    if (!isc::dhcp::LeaseMgrFactory::haveInstance()) {
        throw std::runtime_error("no lease database is open (Kea opens it when it is configured: "
                                 "from dhcp4_srv_configured on)");
    }
    return isc::dhcp::LeaseMgrFactory::instance();
}

}  // namespace detail

// ---- statistics ----

void statistic_add(rust::Str name, std::int64_t value) {
    isc::stats::StatsMgr::instance().addValue(std::string(name), static_cast<int64_t>(value));
}

void statistic_set_integer(rust::Str name, std::int64_t value) {
    isc::stats::StatsMgr::instance().setValue(std::string(name), static_cast<int64_t>(value));
}

void statistic_set_float(rust::Str name, double value) {
    isc::stats::StatsMgr::instance().setValue(std::string(name), value);
}

void statistic_add_float(rust::Str name, double value) {
    isc::stats::StatsMgr::instance().addValue(std::string(name), value);
}

void statistic_set_string(rust::Str name, rust::Str value) {
    isc::stats::StatsMgr::instance().setValue(std::string(name), std::string(value));
}

bool statistic_remove(rust::Str name) {
    return isc::stats::StatsMgr::instance().del(std::string(name));
}

bool statistic_reset(rust::Str name) {
    return isc::stats::StatsMgr::instance().reset(std::string(name));
}

StatReading statistic_get(rust::Str name) {
    using isc::stats::Observation;
    StatReading out{};
    const isc::stats::ObservationPtr obs = isc::stats::StatsMgr::instance().getObservation(std::string(name));
    if (!obs) {
        return out;
    }
    switch (obs->getType()) {
    case Observation::STAT_INTEGER:
        out.kind = StatKind::Integer;
        out.integer = obs->getInteger().first;
        break;
#if KEA_SHIM_HOOKS_VERSION >= 20600
    case Observation::STAT_BIG_INTEGER:
        // A 128-bit value: as decimal text, which Rust parses into i128.
        out.kind = StatKind::BigInteger;
        out.text = rust::String(obs->getBigInteger().first.str());
        break;
#endif
    case Observation::STAT_FLOAT:
        out.kind = StatKind::Float;
        out.float_ = obs->getFloat().first;
        break;
    case Observation::STAT_DURATION:
        out.kind = StatKind::Duration;
        out.integer = std::chrono::duration_cast<std::chrono::microseconds>(obs->getDuration().first).count();
        break;
    case Observation::STAT_STRING:
        out.kind = StatKind::String;
        out.text = rust::String(obs->getString().first);
        break;
    default:
        out.kind = StatKind::Other;
        break;
    }
    return out;
}

bool multi_threading_enabled() {
    return isc::util::MultiThreadingMgr::instance().getMode();
}

// ---- callout handle ----

rust::Vec<rust::String> handle_argument_names(const CalloutHandle& handle) {
    rust::Vec<rust::String> out;
    for (const auto& name : handle.getArgumentNames()) {
        out.push_back(rust::String(name));
    }
    return out;
}

// The pointers returned below stay valid after the local shared_ptr copy
// goes: the handle's argument map holds another reference.

const HWAddr* arg_hwaddr(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<isc::dhcp::HWAddrPtr>(handle, std::string(name)).get();
}

bool arg_bool(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<bool>(handle, std::string(name));
}

std::uint32_t arg_u32(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<std::uint32_t>(handle, std::string(name));
}

namespace detail {

void copy_out(const std::uint8_t* data, std::size_t len, rust::Vec<std::uint8_t>& out) {
    out.reserve(len);
    for (std::size_t i = 0; i < len; ++i) {
        out.push_back(data[i]);
    }
}

}  // namespace detail

// ---- arguments Kea reads back ----
//
// setArgument replaces the value in the handle's map; the type must be
// exactly the one Kea fetches back, or Kea's getArgument throws.

using detail::writable;

void arg_set_bool(const CalloutHandle& handle, rust::Str name, bool value) {
    writable(handle).setArgument(std::string(name), value);
}

rust::String arg_string(const CalloutHandle& handle, rust::Str name) {
    const std::string value = detail::get_arg<std::string>(handle, std::string(name));
    return rust::String::lossy(value.data(), value.size());
}

void arg_set_string(const CalloutHandle& handle, rust::Str name, rust::Str value) {
    writable(handle).setArgument(std::string(name), std::string(value));
}

void arg_bytes(const CalloutHandle& handle, rust::Str name, rust::Vec<std::uint8_t>& out) {
    const std::vector<std::uint8_t> value = detail::get_arg<std::vector<std::uint8_t>>(handle, std::string(name));
    detail::copy_out(value.data(), value.size(), out);
}

void arg_set_bytes(const CalloutHandle& handle, rust::Str name, rust::Slice<const std::uint8_t> value) {
    writable(handle).setArgument(std::string(name), std::vector<std::uint8_t>(value.begin(), value.end()));
}

std::int32_t arg_identifier_type(const CalloutHandle& handle, rust::Str name) {
    return static_cast<std::int32_t>(detail::get_arg<isc::dhcp::Host::IdentifierType>(handle, std::string(name)));
}

void arg_set_identifier_type(const CalloutHandle& handle, rust::Str name, std::int32_t value) {
    writable(handle).setArgument(std::string(name), static_cast<isc::dhcp::Host::IdentifierType>(value));
}

rust::String arg_element_json(const CalloutHandle& handle, rust::Str name) {
    const ConstElementPtr value = detail::get_arg<ConstElementPtr>(handle, std::string(name));
    return value ? element_json(value) : rust::String("null");
}

void arg_set_element_json(const CalloutHandle& handle, rust::Str name, rust::Str json) {
    const ConstElementPtr value = Element::fromJSON(std::string(json));
    writable(handle).setArgument(std::string(name), value);
}

namespace {
void element_add(ElementBuilder& b, const isc::data::ElementPtr& e) {
    if (b.open.empty()) {
        if (b.root) {
            throw std::logic_error("element builder: a second top-level value");
        }
        b.root = e;
    } else if (b.open.back()->getType() == Element::list) {
        b.open.back()->add(e);
    } else {
        b.open.back()->set(b.key, e);
    }
}
}  // namespace

std::unique_ptr<ElementBuilder> element_builder_new() {
    return std::make_unique<ElementBuilder>();
}

void element_null(ElementBuilder& b) {
    element_add(b, Element::create());
}

void element_bool(ElementBuilder& b, bool value) {
    element_add(b, Element::create(value));
}

void element_int(ElementBuilder& b, std::int64_t value) {
    element_add(b, Element::create(static_cast<long long int>(value)));
}

void element_float(ElementBuilder& b, double value) {
    element_add(b, Element::create(value));
}

void element_string(ElementBuilder& b, rust::Str value) {
    element_add(b, Element::create(std::string(value)));
}

void element_key(ElementBuilder& b, rust::Str key) {
    b.key = std::string(key);
}

void element_begin_list(ElementBuilder& b) {
    const isc::data::ElementPtr list = Element::createList();
    element_add(b, list);
    b.open.push_back(list);
}

void element_begin_map(ElementBuilder& b) {
    const isc::data::ElementPtr map = Element::createMap();
    element_add(b, map);
    b.open.push_back(map);
}

void element_end(ElementBuilder& b) {
    if (b.open.empty()) {
        throw std::logic_error("element builder: end without begin");
    }
    b.open.pop_back();
}

void arg_set_element_built(const CalloutHandle& handle, rust::Str name, const ElementBuilder& b) {
    if (!b.open.empty() || !b.root) {
        throw std::logic_error("element builder: the element is not complete");
    }
    writable(handle).setArgument(std::string(name), ConstElementPtr(b.root));
}

rust::Vec<AuditRow> arg_audit_entries(const CalloutHandle& handle, rust::Str name) {
    const auto entries = detail::get_arg<isc::db::AuditEntryCollectionPtr>(handle, std::string(name));
    rust::Vec<AuditRow> out;
    if (entries) {
        for (const auto& e : *entries) {
            if (!e) {
                continue;
            }
            const std::string type = e->getObjectType();
            const std::string message = e->getLogMessage();
            out.push_back(AuditRow{rust::String::lossy(type.data(), type.size()),
                                   static_cast<std::uint8_t>(e->getModificationType()), e->getObjectId(),
                                   e->getRevisionId(), rust::String::lossy(message.data(), message.size())});
        }
    }
    return out;
}

// ---- the per-packet context ----
//
// One entry in the handle's context for this library, holding the Rust
// `PacketValues` (the hook's typed values). Kea keeps a packet's handle as
// long as the packet and destroys its context with it, on whatever thread
// lets the packet go: the holder's destructor then drops the Rust box
// (whose Drop catches panics). The handle also keeps the library loaded
// while it exists (its LibraryManagerCollection), so the drop code is
// still mapped.

namespace {

// Aligned as ARG_NAMES is (shim.h): no page end near its characters.
alignas(64) const std::string CONTEXT_NAME = "kea-hooks-sdk";

struct ContextHolder {
    explicit ContextHolder(rust::Box<PacketValues> v) : values(std::move(v)) {}
    rust::Box<PacketValues> values;
};

using ContextPtr = boost::shared_ptr<ContextHolder>;

}  // namespace

PacketValues* handle_context(const CalloutHandle& handle, bool create) {
    // getContext and getContextNames throw when the library has no
    // context yet, or not this name. deleteContext of a name never used
    // (the empty one) makes the library's context exist, empty, without
    // throwing and erases nothing; asking for the names then keeps the
    // common "nothing stored yet" case free of exceptions. Only the SDK
    // stores in this library's context, under CONTEXT_NAME alone.
    CalloutHandle& h = writable(handle);
    h.deleteContext(std::string());
    if (!h.getContextNames().empty()) {
        ContextPtr holder;
        h.getContext(CONTEXT_NAME, holder);
        if (holder) {
            return &*holder->values;
        }
    }
    if (!create) {
        return nullptr;
    }
    // One allocation for the holder and its count (make_shared); the
    // values' heap address stays as the holder moves into the context.
    ContextPtr holder = boost::make_shared<ContextHolder>(packet_values_new());
    PacketValues* values = &*holder->values;
    h.setContext(CONTEXT_NAME, holder);
    return values;
}

// ---- logging ----
//
// Kea's loggers need a registered message id. Each hook gets one id (its
// name in capitals) whose text is "%1": the Rust side formats the message.
// Loggers are never destroyed while the library is mapped (a worker thread
// might still hold one), only detached; a reload under the same name
// reuses the existing logger.

namespace {

struct HookLogger {
    std::string name;
    std::string id;
    isc::log::Logger logger;
    HookLogger(const std::string& logger_name, const std::string& message_id)
        : name(logger_name), id(message_id), logger(logger_name.c_str()) {}
};

std::mutex loggers_mutex;
std::vector<std::unique_ptr<HookLogger>> loggers;
std::atomic<HookLogger*> current_logger{nullptr};

enum Severity : std::uint8_t { DEBUG = 0, INFO = 1, WARN = 2, ERROR = 3, FATAL = 4 };

}  // namespace

void log_open(rust::Str logger_name, rust::Str message_id) {
    const std::string name(logger_name);
    const std::string id(message_id);
    std::lock_guard<std::mutex> lock(loggers_mutex);
    HookLogger* found = nullptr;
    for (auto& l : loggers) {
        if (l->name == name && l->id == id) {
            found = l.get();
        }
    }
    if (!found) {
        loggers.push_back(std::make_unique<HookLogger>(name, id));
        found = loggers.back().get();
        // add() refuses an id that already exists, which is what we want on
        // a reload.
        isc::log::MessageDictionary::globalDictionary()->add(found->id, "%1");
    }
    current_logger.store(found, std::memory_order_release);
}

void log_close() {
    current_logger.store(nullptr, std::memory_order_release);
}

bool log_enabled(std::uint8_t severity, std::int32_t debug_level) noexcept try {
    HookLogger* l = current_logger.load(std::memory_order_acquire);
    if (!l) {
        return false;
    }
    switch (severity) {
    case DEBUG: return l->logger.isDebugEnabled(debug_level);
    case INFO: return l->logger.isInfoEnabled();
    case WARN: return l->logger.isWarnEnabled();
    case ERROR: return l->logger.isErrorEnabled();
    default: return l->logger.isFatalEnabled();
    }
}
KEA_SHIM_RETHROW_FORCED_UNWIND
catch (...) {
    return false;
}

}  // namespace kea_shim

// Writing a line verbatim. Kea's Formatter substitutes %1, %2... and then
// flags (or, on a Kea built with logger checks, asserts on) any "%N" left
// in the message, so a hostname such as "%2" must never pass through it as
// text. Formatter<Logger> is the one class Logger lets write raw output;
// this explicit specialization of its member template `arg` for the shim's
// own type writes the line as it is and deactivates the formatter, so its
// destructor neither checks nor writes again. No other code instantiates
// arg<Verbatim>, so this is the only definition there is.
namespace kea_shim {
namespace detail {
struct Verbatim {
    const std::string& text;
};
}  // namespace detail
}  // namespace kea_shim

namespace isc {
namespace log {
template <>
template <>
Formatter<Logger>& Formatter<Logger>::arg<kea_shim::detail::Verbatim>(const kea_shim::detail::Verbatim& v) {
    if (logger_ && message_) {
        // The message is "<ID> %1": the id Kea prints on every line, then
        // the id's text, which the shim registered as "%1".
        std::string line = *message_;
        const std::string mark = "%1";
        if (line.size() >= mark.size() && line.compare(line.size() - mark.size(), mark.size(), mark) == 0) {
            line.resize(line.size() - mark.size());
        } else {
            line.push_back(' ');
        }
        line += v.text;
        Logger* logger = logger_;
        const Severity severity = severity_;
        deactivate();
        logger->output(severity, line);
    }
    return *this;
}
}  // namespace log
}  // namespace isc

namespace kea_shim {

void log_emit(std::uint8_t severity, std::int32_t debug_level, rust::Str message) {
    HookLogger* l = current_logger.load(std::memory_order_acquire);
    if (!l) {
        return;
    }
    const std::string text(message);
    const detail::Verbatim verbatim{text};
    const char* id = l->id.c_str();
    switch (severity) {
    case DEBUG: l->logger.debug(debug_level, id).arg(verbatim); break;
    case INFO: l->logger.info(id).arg(verbatim); break;
    case WARN: l->logger.warn(id).arg(verbatim); break;
    case ERROR: l->logger.error(id).arg(verbatim); break;
    default: l->logger.fatal(id).arg(verbatim); break;
    }
}

}  // namespace kea_shim
