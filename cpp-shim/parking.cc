// The C++ half of parking (src/parking.rs, ParkedPacket in shim.h); see
// shim.h for the rules it keeps.

#include "shim.h"

#include <memory>
#include <stdexcept>
#include <string>

#if KEA_SHIM_HOOKS_VERSION >= 30000
// 3.0+ installs its config.h, which its TLS headers (reached from
// cfgmgr.h) require to come first.
#include <config.h>
#endif
#include <dhcpsrv/cfgmgr.h>

namespace kea_shim {

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

}  // namespace kea_shim
