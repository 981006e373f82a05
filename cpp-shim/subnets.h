// Choosing a subnet of the configuration at subnetN_select, for both
// families (shim4.cc, shim6.cc include this after dhcpsrv/cfgmgr.h).
//
// Kea also passes the configured subnets as `subnetNcollection`, a pointer
// to a boost multi_index container, but the shim must not touch that
// container where the boost headers it is compiled with are not the ones
// Kea was built with (Debian sid: Kea 3.0 built with boost 1.83, the
// headers are 1.92; the container is then another type, and any_cast fails
// with bad_any_cast). From 2.4 on the shim asks the configuration instead,
// through Kea's own compiled functions (CfgSubnetsN::getSubnet and
// toElement), never iterating the container itself. On 2.2 (bookworm,
// matching headers; cfgmgr.h cannot be included) it uses the argument.
#pragma once

#include "shim.h"

#include <cc/data.h>

namespace kea_shim {
namespace detail {

#if KEA_SHIM_HOOKS_VERSION >= 20400
// The ids of `subnets` (a ConstCfgSubnets4Ptr or ConstCfgSubnets6Ptr), in
// the configuration's order.
template <typename CfgPtr>
rust::Vec<std::uint32_t> configured_subnet_ids(const CfgPtr& subnets) {
    rust::Vec<std::uint32_t> out;
    const isc::data::ConstElementPtr list = subnets ? subnets->toElement() : isc::data::ConstElementPtr();
    if (list && list->getType() == isc::data::Element::list) {
        for (std::size_t i = 0; i < list->size(); ++i) {
            const isc::data::ConstElementPtr id = list->get(i)->get("id");
            if (id && id->getType() == isc::data::Element::integer) {
                out.push_back(static_cast<std::uint32_t>(id->intValue()));
            }
        }
    }
    return out;
}

// Sets argument `name` to subnet `id` of `subnets`, as the `SubnetArg`
// Kea reads back; false (nothing changed) when there is no such subnet.
template <typename SubnetArg, typename CfgPtr>
bool select_configured_subnet(const CalloutHandle& handle, const CfgPtr& subnets, std::uint32_t id,
                              const char* name) {
    if (!subnets) {
        return false;
    }
    const auto subnet = subnets->getSubnet(id);
    if (!subnet) {
        return false;
    }
    writable(handle).setArgument(name, SubnetArg(subnet));
    return true;
}
#else
// The same from the `subnetNcollection` argument (Kea 2.2).
template <typename Collection>
rust::Vec<std::uint32_t> collection_subnet_ids(const Collection* all) {
    rust::Vec<std::uint32_t> out;
    if (all) {
        for (const auto& subnet : *all) {
            out.push_back(subnet->getID());
        }
    }
    return out;
}

template <typename SubnetArg, typename Collection>
bool select_collection_subnet(const CalloutHandle& handle, const Collection* all, std::uint32_t id,
                              const char* name) {
    if (!all) {
        return false;
    }
    const auto& by_id = all->template get<isc::dhcp::SubnetSubnetIdIndexTag>();
    const auto it = by_id.find(id);
    if (it == by_id.end()) {
        return false;
    }
    writable(handle).setArgument(name, SubnetArg(*it));
    return true;
}
#endif

}  // namespace detail
}  // namespace kea_shim
