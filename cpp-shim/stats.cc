// The C++ half of statistics (src/stats.rs): Kea's StatsMgr, and whether
// Kea's multi-threading is on; see shim.h for the rules it keeps.

#include "shim.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
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

namespace {

// A statistic's latest value, as the SDK reads it.
StatReading read_observation(const isc::stats::Observation& obs) {
    using isc::stats::Observation;
    StatReading out{};
    switch (obs.getType()) {
    case Observation::STAT_INTEGER:
        out.kind = StatKind::Integer;
        out.integer = obs.getInteger().first;
        break;
#if KEA_SHIM_HOOKS_VERSION >= 20600
    case Observation::STAT_BIG_INTEGER:
        // A 128-bit value: as decimal text, which Rust parses into i128.
        out.kind = StatKind::BigInteger;
        out.text = rust::String(obs.getBigInteger().first.str());
        break;
#endif
    case Observation::STAT_FLOAT:
        out.kind = StatKind::Float;
        out.float_ = obs.getFloat().first;
        break;
    case Observation::STAT_DURATION:
        out.kind = StatKind::Duration;
        out.integer = std::chrono::duration_cast<std::chrono::microseconds>(obs.getDuration().first).count();
        break;
    case Observation::STAT_STRING:
        out.kind = StatKind::String;
        out.text = rust::String(obs.getString().first);
        break;
    default:
        out.kind = StatKind::Other;
        break;
    }
    return out;
}

// Reading the statistics a page at a time needs StatsMgr's own map of
// them, which Kea keeps private: StatsMgr::global_ (the StatContext of
// every statistic), StatContext::stats_ (name -> observation, a std::map,
// so in name order) and StatsMgr::mutex_ (what StatsMgr's own methods lock
// while Kea's multi-threading is on). Kea's public alternative, getAll(),
// builds one JSON element of every statistic with all its samples in one
// go (150 ms at 10,000 subnets), which a scrape must not cost Kea's main
// thread. C++ lets an explicit template instantiation name a private
// member ([temp.spec]/6), and a friend function defined in it hands the
// member pointer out; the members' names and types are checked by the
// compiler against the very headers of the Kea the shim is built for, so a
// release that changes them fails the build, not the running server.
template <typename Tag, typename Tag::type Member>
struct PrivateMember {
    friend typename Tag::type member(Tag) {
        return Member;
    }
};

struct StatsMgrGlobal {
    using type = isc::stats::StatContextPtr isc::stats::StatsMgr::*;
    friend type member(StatsMgrGlobal);
};
struct StatsMgrMutex {
    using type = const boost::scoped_ptr<std::mutex> isc::stats::StatsMgr::*;
    friend type member(StatsMgrMutex);
};
struct StatContextStats {
    using type = std::map<std::string, isc::stats::ObservationPtr> isc::stats::StatContext::*;
    friend type member(StatContextStats);
};

template struct PrivateMember<StatsMgrGlobal, &isc::stats::StatsMgr::global_>;
template struct PrivateMember<StatsMgrMutex, &isc::stats::StatsMgr::mutex_>;
template struct PrivateMember<StatContextStats, &isc::stats::StatContext::stats_>;

}  // namespace

StatReading statistic_get(rust::Str name) {
    const isc::stats::ObservationPtr obs = isc::stats::StatsMgr::instance().getObservation(std::string(name));
    return obs ? read_observation(*obs) : StatReading{};
}

std::size_t statistic_count() {
    return isc::stats::StatsMgr::instance().count();
}

rust::Vec<StatEntry> statistics_page(rust::Str after, bool from_start, std::size_t max) {
    isc::stats::StatsMgr& mgr = isc::stats::StatsMgr::instance();
    rust::Vec<StatEntry> out;
    // Locked as StatsMgr's own methods lock (only while multi-threading is
    // on; the Rust side calls this on Kea's main thread otherwise).
    std::unique_lock<std::mutex> lock;
    if (isc::util::MultiThreadingMgr::instance().getMode()) {
        lock = std::unique_lock<std::mutex>(*(mgr.*member(StatsMgrMutex())));
    }
    const isc::stats::StatContextPtr& global = mgr.*member(StatsMgrGlobal());
    if (!global) {
        return out;
    }
    const std::map<std::string, isc::stats::ObservationPtr>& stats = (*global).*member(StatContextStats());
    auto it = from_start ? stats.begin() : stats.upper_bound(std::string(after));
    out.reserve(std::min(max, stats.size()));
    for (; it != stats.end() && out.size() < max; ++it) {
        // (An entry without an observation, which Kea never makes, comes
        // back as kind None: each page still holds `max` names until the
        // last, which is how the Rust side knows where the end is.)
        StatEntry entry{};
        entry.name = rust::String(it->first);
        if (it->second) {
            entry.value = read_observation(*it->second);
        }
        out.push_back(std::move(entry));
    }
    return out;
}

bool multi_threading_enabled() {
    return isc::util::MultiThreadingMgr::instance().getMode();
}

}  // namespace kea_shim
