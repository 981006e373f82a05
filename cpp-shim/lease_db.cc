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

}  // namespace kea_shim
