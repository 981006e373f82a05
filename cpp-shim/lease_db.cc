// Kea's lease database as the per-family shims reach it (detail::lease_mgr,
// declared in shim.h; the queries are in shim4.cc); see shim.h for the rules
// it keeps.

#include "shim.h"

#include <stdexcept>

#if KEA_SHIM_HOOKS_VERSION >= 30000
// 3.0+ installs its config.h, which its TLS headers (reached from
// cfgmgr.h) require to come first.
#include <config.h>
#endif
#include <dhcpsrv/lease_mgr_factory.h>

#include "kea-hooks/src/ffi/shim.rs.h"

namespace kea_shim {

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

rust::Vec<LeaseStatsRow> lease_stats_query(bool v6, std::uint32_t first, std::uint32_t last) {
    using isc::dhcp::SubnetID;
    isc::dhcp::LeaseMgr& mgr = detail::lease_mgr();
    isc::dhcp::LeaseStatsQueryPtr query;
    if (first == 0 && last == 0) {
        query = v6 ? mgr.startLeaseStatsQuery6() : mgr.startLeaseStatsQuery4();
    } else {
        query = v6 ? mgr.startSubnetRangeLeaseStatsQuery6(SubnetID(first), SubnetID(last))
                   : mgr.startSubnetRangeLeaseStatsQuery4(SubnetID(first), SubnetID(last));
    }
    rust::Vec<LeaseStatsRow> out;
    isc::dhcp::LeaseStatsRow row;
    while (query && query->getNextRow(row)) {
        out.push_back(LeaseStatsRow{static_cast<std::uint32_t>(row.subnet_id_),
                                    static_cast<std::uint8_t>(row.lease_type_), row.lease_state_,
                                    static_cast<std::int64_t>(row.state_count_)});
    }
    return out;
}

rust::String lease_backend_type() {
    return rust::String(detail::lease_mgr().getType());
}

}  // namespace kea_shim
