// The C++ half of the kea-hooks SDK; see shim.h for the rules it keeps.

#include "shim.h"

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <vector>

#include <hooks/server_hooks.h>
#include <log/logger.h>
#include <log/logger_name.h>
#include <log/message_dictionary.h>

#include "kea-hooks/src/ffi.rs.h"

using isc::hooks::CalloutHandle;

namespace kea_shim {

// The header's table of argument names follows the order of the shared
// enum `Arg` (ffi.rs); cxx numbers its variants from 0 in that order.
static_assert(static_cast<std::uint8_t>(Arg::Query4) == 0, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::Response4) == 1, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::Lease4) == 2, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::Subnet4) == 3, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::Leases4) == 4, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::DeletedLeases4) == 5, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::FakeAllocation) == 6, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::OfferLifetime) == 7, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::OldLease) == 8, "Arg order");
static_assert(detail::ARG_COUNT == 9, "one name per Arg");

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

void register_callout(LibraryHandle& handle, rust::Str name, std::size_t callout) {
    // `callout` is a Rust `extern "C" fn(Option<&mut RawCalloutHandle>) ->
    // c_int`: the ABI of Kea's `int (*)(CalloutHandle&)`. It never unwinds
    // (panics are caught inside it, and it calls no C++ that can throw
    // outside a `Result`).
    handle.registerCallout(std::string(name), reinterpret_cast<isc::hooks::CalloutPtr>(callout));
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

bool arg_bool(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<bool>(handle, std::string(name));
}

std::uint32_t arg_u32(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<std::uint32_t>(handle, std::string(name));
}

// ---- Pkt4 (what may throw or allocate; the rest is inline in shim.h) ----

std::uint8_t pkt4_type(const Pkt4& pkt) { return pkt.getType(); }

rust::String pkt4_iface(const Pkt4& pkt) { return rust::String(pkt.getIface()); }

bool pkt4_relayed(const Pkt4& pkt) { return pkt.isRelayed(); }

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
