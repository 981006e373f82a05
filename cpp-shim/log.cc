// The C++ half of logging (src/log.rs): the hook's Kea logger and the
// verbatim line writer; see shim.h for the rules it keeps.

#include "shim.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <log/log_formatter.h>
#include <log/logger.h>
#include <log/message_dictionary.h>

namespace kea_shim {

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
