// kea-hooks' own stand-in for the dhcpsrv/cfg_globals.h that Debian's
// kea-dev 2.2 lacks (dhcpsrv/network.h, reached from dhcpsrv/subnet.h,
// includes it). Not Kea's file: declarations only, enough to parse
// dhcpsrv/network.h and srv_config.h (SrvConfig holds CfgGlobals by shared
// pointer only, so its layout does not depend on this class). It is on the
// include path only when Kea's own header is missing (kea-hooks' and
// kea-hooks-test's build scripts check), and nothing compiled against it
// may call CfgGlobals: the enumerator values are deliberately not Kea's
// and must never reach Kea.
#pragma once
#include <cc/data.h>
#include <boost/shared_ptr.hpp>
namespace isc {
namespace dhcp {
class CfgGlobals {
public:
    enum Index {
        AUTHORITATIVE, BOOT_FILE_NAME, CACHE_MAX_AGE, CACHE_THRESHOLD,
        CALCULATE_TEE_TIMES, DDNS_GENERATED_PREFIX, DDNS_OVERRIDE_CLIENT_UPDATE,
        DDNS_OVERRIDE_NO_UPDATE, DDNS_QUALIFYING_SUFFIX, DDNS_REPLACE_CLIENT_NAME,
        DDNS_SEND_UPDATES, DDNS_UPDATE_ON_RENEW, DDNS_USE_CONFLICT_RESOLUTION,
        HOSTNAME_CHAR_REPLACEMENT, HOSTNAME_CHAR_SET, MATCH_CLIENT_ID,
        MAX_PREFERRED_LIFETIME, MAX_VALID_LIFETIME, MIN_PREFERRED_LIFETIME,
        MIN_VALID_LIFETIME, NEXT_SERVER, PREFERRED_LIFETIME, REBIND_TIMER,
        RENEW_TIMER, RESERVATIONS_GLOBAL, RESERVATIONS_IN_SUBNET,
        RESERVATIONS_OUT_OF_POOL, SERVER_HOSTNAME, STORE_EXTENDED_INFO,
        T1_PERCENT, T2_PERCENT, VALID_LIFETIME
    };
    isc::data::ConstElementPtr get(int index) const;
    // What srv_config.h's inline members call (cfgmgr.h includes it); the
    // shim calls none of them.
    isc::data::ConstElementPtr get(const std::string& name) const;
    void set(const std::string& name, isc::data::ConstElementPtr value);
    void clear();
};
typedef boost::shared_ptr<CfgGlobals> CfgGlobalsPtr;
typedef boost::shared_ptr<const CfgGlobals> ConstCfgGlobalsPtr;
}  // namespace dhcp
}  // namespace isc
