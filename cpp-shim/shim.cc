// The C++ half of the kea-hooks SDK; see shim.h for the rules it keeps.

#include "shim.h"

#include <array>
#include <atomic>
#include <mutex>
#include <stdexcept>
#include <utility>
#include <vector>

#include <hooks/server_hooks.h>
#include <log/logger.h>
#include <log/logger_name.h>
#include <log/message_dictionary.h>

#include "kea-hooks/src/ffi.rs.h"

using isc::asiolink::IOAddress;
using isc::hooks::CalloutHandle;

namespace kea_shim {

namespace {

// Kea's subnet arguments are `Subnet4Ptr` up to 2.6 and `ConstSubnet4Ptr`
// from 3.0 on; fetching the wrong one throws bad_any_cast at run time.
#if KEA_SHIM_HOOKS_VERSION >= 30000
using Subnet4Arg = isc::dhcp::ConstSubnet4Ptr;
#else
using Subnet4Arg = isc::dhcp::Subnet4Ptr;
#endif

std::uint32_t v4(const IOAddress& addr) noexcept {
    return addr.isV4() ? addr.toUint32() : 0;
}

rust::Slice<const std::uint8_t> bytes(const std::vector<std::uint8_t>& v) noexcept {
    return rust::Slice<const std::uint8_t>(v.data(), v.size());
}

// One C++ callout per hook point index. Kea's callout signature carries no
// user data, so the index is a template argument. `dispatch_callout` is the
// Rust side; it catches panics itself, the catch here is the last guard.
template <std::uint8_t P>
int callout(CalloutHandle& handle) noexcept {
    try {
        return dispatch_callout(P, handle);
    } catch (...) {
        return 1;
    }
}

constexpr std::size_t MAX_POINTS = 64;
using CalloutFn = int (*)(CalloutHandle&);

template <std::size_t... I>
constexpr std::array<CalloutFn, sizeof...(I)> make_table(std::index_sequence<I...>) {
    return {{&callout<static_cast<std::uint8_t>(I)>...}};
}

constexpr auto CALLOUTS = make_table(std::make_index_sequence<MAX_POINTS>{});

template <typename T>
T get_arg(const CalloutHandle& handle, const std::string& name) {
    T value;
    handle.getArgument(name, value);
    return value;
}

// The names of the arguments the SDK asks for itself, built once when the
// library is mapped: fetching one of them copies no string.
const std::string QUERY4 = "query4";
const std::string RESPONSE4 = "response4";
const std::string LEASE4 = "lease4";
const std::string SUBNET4 = "subnet4";
const std::string LEASES4 = "leases4";
const std::string DELETED_LEASES4 = "deleted_leases4";
const std::string FAKE_ALLOCATION = "fake_allocation";
const std::string OFFER_LIFETIME = "offer_lifetime";
const std::string OLD_LEASE = "old_lease";

const std::string& arg_name(Arg arg) {
    switch (arg) {
    case Arg::Query4: return QUERY4;
    case Arg::Response4: return RESPONSE4;
    case Arg::Lease4: return LEASE4;
    case Arg::Subnet4: return SUBNET4;
    case Arg::Leases4: return LEASES4;
    case Arg::DeletedLeases4: return DELETED_LEASES4;
    case Arg::FakeAllocation: return FAKE_ALLOCATION;
    case Arg::OfferLifetime: return OFFER_LIFETIME;
    case Arg::OldLease: return OLD_LEASE;
    }
    throw std::invalid_argument("kea-hooks: unknown argument id");
}

// Fetches a pointer argument without letting an exception out: `ok` says
// whether Kea threw (the Rust side then asks again by name, through a
// `Result` function, to get the message).
template <typename Ptr>
auto try_get_ptr(const CalloutHandle& handle, Arg arg, bool& ok) noexcept -> decltype(Ptr().get()) {
    try {
        auto p = get_arg<Ptr>(handle, arg_name(arg)).get();
        ok = true;
        return p;
    } catch (...) {
        ok = false;
        return nullptr;
    }
}

// The same for a value argument (bool, integers).
template <typename T>
T try_get_value(const CalloutHandle& handle, Arg arg, bool& ok) noexcept {
    try {
        const T value = get_arg<T>(handle, arg_name(arg));
        ok = true;
        return value;
    } catch (...) {
        ok = false;
        return T();
    }
}

}  // namespace

// ---- library handle / load ----

rust::String library_parameters(LibraryHandle& handle) {
    isc::data::ConstElementPtr params = handle.getParameters();
    if (!params) {
        return rust::String();
    }
    return rust::String(params->str());
}

bool server_has_hook(rust::Str name) {
    return isc::hooks::ServerHooks::getServerHooks().findIndex(std::string(name)) >= 0;
}

rust::String server_root_logger() {
    return rust::String(isc::log::getRootLoggerName());
}

void register_callout(LibraryHandle& handle, rust::Str name, std::uint8_t point) {
    if (point >= MAX_POINTS) {
        throw std::out_of_range("hook point index out of range");
    }
    handle.registerCallout(std::string(name), CALLOUTS[point]);
}

// ---- callout handle ----

std::int32_t handle_status(const CalloutHandle& handle) {
    return static_cast<std::int32_t>(handle.getStatus());
}

void handle_set_status(CalloutHandle& handle, std::int32_t status) {
    handle.setStatus(static_cast<CalloutHandle::CalloutNextStep>(status));
}

rust::Vec<rust::String> handle_argument_names(const CalloutHandle& handle) {
    rust::Vec<rust::String> out;
    for (const auto& name : handle.getArgumentNames()) {
        out.push_back(rust::String(name));
    }
    return out;
}

// The pointers returned below stay valid after the local shared_ptr copy
// goes: the handle's argument map holds another reference.

const Pkt4* arg_pkt4(const CalloutHandle& handle, rust::Str name) {
    return get_arg<isc::dhcp::Pkt4Ptr>(handle, std::string(name)).get();
}

const Lease4* arg_lease4(const CalloutHandle& handle, rust::Str name) {
    return get_arg<isc::dhcp::Lease4Ptr>(handle, std::string(name)).get();
}

const Subnet4* arg_subnet4(const CalloutHandle& handle, rust::Str name) {
    return get_arg<Subnet4Arg>(handle, std::string(name)).get();
}

const Lease4Collection* arg_lease4_collection(const CalloutHandle& handle, rust::Str name) {
    return get_arg<isc::dhcp::Lease4CollectionPtr>(handle, std::string(name)).get();
}

bool arg_bool(const CalloutHandle& handle, rust::Str name) {
    return get_arg<bool>(handle, std::string(name));
}

std::uint32_t arg_u32(const CalloutHandle& handle, rust::Str name) {
    return get_arg<std::uint32_t>(handle, std::string(name));
}

const Pkt4* known_arg_pkt4(const CalloutHandle& handle, Arg arg, bool& ok) noexcept {
    return try_get_ptr<isc::dhcp::Pkt4Ptr>(handle, arg, ok);
}

const Lease4* known_arg_lease4(const CalloutHandle& handle, Arg arg, bool& ok) noexcept {
    return try_get_ptr<isc::dhcp::Lease4Ptr>(handle, arg, ok);
}

const Subnet4* known_arg_subnet4(const CalloutHandle& handle, Arg arg, bool& ok) noexcept {
    return try_get_ptr<Subnet4Arg>(handle, arg, ok);
}

const Lease4Collection* known_arg_lease4_collection(const CalloutHandle& handle, Arg arg,
                                                    bool& ok) noexcept {
    return try_get_ptr<isc::dhcp::Lease4CollectionPtr>(handle, arg, ok);
}

bool known_arg_bool(const CalloutHandle& handle, Arg arg, bool& ok) noexcept {
    return try_get_value<bool>(handle, arg, ok);
}

// ---- Pkt4 ----

std::uint8_t pkt4_type(const Pkt4& pkt) { return pkt.getType(); }
std::uint32_t pkt4_transid(const Pkt4& pkt) { return pkt.getTransid(); }

rust::Slice<const std::uint8_t> pkt4_hwaddr(const Pkt4& pkt, std::uint16_t& htype) {
    // One call for type and bytes: getHWAddr() copies a shared_ptr (two
    // atomic operations) each time. The HWAddr object is owned by the
    // packet, so the slice lives as long as the packet does.
    const isc::dhcp::HWAddrPtr hw = pkt.getHWAddr();
    if (!hw) {
        htype = 0;
        return rust::Slice<const std::uint8_t>();
    }
    htype = hw->htype_;
    return bytes(hw->hwaddr_);
}

std::uint32_t pkt4_ciaddr(const Pkt4& pkt) { return v4(pkt.getCiaddr()); }
std::uint32_t pkt4_yiaddr(const Pkt4& pkt) { return v4(pkt.getYiaddr()); }
std::uint32_t pkt4_siaddr(const Pkt4& pkt) { return v4(pkt.getSiaddr()); }
std::uint32_t pkt4_giaddr(const Pkt4& pkt) { return v4(pkt.getGiaddr()); }
std::uint32_t pkt4_remote_addr(const Pkt4& pkt) { return v4(pkt.getRemoteAddr()); }
std::uint32_t pkt4_local_addr(const Pkt4& pkt) { return v4(pkt.getLocalAddr()); }
std::uint16_t pkt4_remote_port(const Pkt4& pkt) { return pkt.getRemotePort(); }
std::uint16_t pkt4_local_port(const Pkt4& pkt) { return pkt.getLocalPort(); }
rust::String pkt4_iface(const Pkt4& pkt) { return rust::String(pkt.getIface()); }
std::int32_t pkt4_iface_index(const Pkt4& pkt) { return pkt.getIndex(); }
std::uint8_t pkt4_hops(const Pkt4& pkt) { return pkt.getHops(); }
std::uint16_t pkt4_secs(const Pkt4& pkt) { return pkt.getSecs(); }
std::uint16_t pkt4_flags(const Pkt4& pkt) { return pkt.getFlags(); }
bool pkt4_relayed(const Pkt4& pkt) { return pkt.isRelayed(); }

bool pkt4_has_option(const Pkt4& pkt, std::uint16_t code) {
    // `options_` is read directly: Pkt::getOption() is non-const because it
    // may copy the option into the packet.
    return pkt.options_.find(code) != pkt.options_.end();
}

bool pkt4_option(const Pkt4& pkt, std::uint16_t code, rust::Vec<std::uint8_t>& out) {
    auto it = pkt.options_.find(code);
    if (it == pkt.options_.end() || !it->second) {
        return false;
    }
    const std::vector<std::uint8_t> wire = it->second->toBinary(false);
    out.reserve(wire.size());
    for (std::uint8_t b : wire) {
        out.push_back(b);
    }
    return true;
}

bool pkt4_in_class(const Pkt4& pkt, rust::Str name) {
    return pkt.getClasses().contains(std::string(name));
}

rust::String pkt4_label(const Pkt4& pkt) { return rust::String(pkt.getLabel()); }

// ---- Lease4 ----

std::uint32_t lease4_addr(const Lease4& lease) { return v4(lease.addr_); }
std::uint16_t lease4_htype(const Lease4& lease) { return lease.hwaddr_ ? lease.hwaddr_->htype_ : 0; }

rust::Slice<const std::uint8_t> lease4_hwaddr(const Lease4& lease) {
    if (!lease.hwaddr_) {
        return rust::Slice<const std::uint8_t>();
    }
    return bytes(lease.hwaddr_->hwaddr_);
}

bool lease4_has_hwaddr(const Lease4& lease) { return static_cast<bool>(lease.hwaddr_); }

rust::Slice<const std::uint8_t> lease4_client_id(const Lease4& lease) {
    if (!lease.client_id_) {
        return rust::Slice<const std::uint8_t>();
    }
    return bytes(lease.client_id_->getClientId());
}

bool lease4_has_client_id(const Lease4& lease) { return static_cast<bool>(lease.client_id_); }
std::uint32_t lease4_valid_lft(const Lease4& lease) { return lease.valid_lft_; }
std::int64_t lease4_cltt(const Lease4& lease) { return static_cast<std::int64_t>(lease.cltt_); }
std::uint32_t lease4_subnet_id(const Lease4& lease) { return lease.subnet_id_; }

rust::Slice<const std::uint8_t> lease4_hostname(const Lease4& lease) {
    return rust::Slice<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(lease.hostname_.data()), lease.hostname_.size());
}

std::uint32_t lease4_state(const Lease4& lease) { return lease.state_; }
bool lease4_fqdn_fwd(const Lease4& lease) { return lease.fqdn_fwd_; }
bool lease4_fqdn_rev(const Lease4& lease) { return lease.fqdn_rev_; }

// ---- Lease4Collection ----

std::size_t lease4_collection_len(const Lease4Collection& leases) { return leases.size(); }

const Lease4* lease4_collection_get(const Lease4Collection& leases, std::size_t index) {
    return index < leases.size() ? leases[index].get() : nullptr;
}

// ---- Subnet4 ----

std::uint32_t subnet4_id(const Subnet4& subnet) { return subnet.getID(); }
std::uint32_t subnet4_prefix(const Subnet4& subnet) { return v4(subnet.get().first); }
std::uint8_t subnet4_prefix_len(const Subnet4& subnet) { return subnet.get().second; }

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
} catch (...) {
    return false;
}

void log_emit(std::uint8_t severity, std::int32_t debug_level, rust::Str message) {
    HookLogger* l = current_logger.load(std::memory_order_acquire);
    if (!l) {
        return;
    }
    const std::string text(message);
    const char* id = l->id.c_str();
    switch (severity) {
    case DEBUG: l->logger.debug(debug_level, id).arg(text); break;
    case INFO: l->logger.info(id).arg(text); break;
    case WARN: l->logger.warn(id).arg(text); break;
    case ERROR: l->logger.error(id).arg(text); break;
    default: l->logger.fatal(id).arg(text); break;
    }
}

}  // namespace kea_shim
