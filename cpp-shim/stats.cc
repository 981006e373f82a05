// The C++ half of statistics (src/stats.rs): Kea's StatsMgr, and whether
// Kea's multi-threading is on; see shim.h for the rules it keeps.

#include "shim.h"

#include <chrono>
#include <cstdint>
#include <string>

#include <stats/stats_mgr.h>
#include <util/multi_threading_mgr.h>

#include "kea-hooks/src/ffi/shim.rs.h"

namespace kea_shim {

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

}  // namespace kea_shim
