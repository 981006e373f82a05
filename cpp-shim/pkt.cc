// What DHCPv4 and DHCPv6 packets share; see pkt.h.

#include "pkt.h"

#include <cc/data.h>

namespace kea_shim {
namespace detail {

namespace {
// Kea hands callouts non-const packets (see "Pkt4 writes" in shim4.h).
isc::dhcp::Pkt& writable_pkt(const isc::dhcp::Pkt& pkt) { return const_cast<isc::dhcp::Pkt&>(pkt); }
}  // namespace

rust::Vec<rust::String> pkt_classes(const isc::dhcp::Pkt& pkt, bool later) {
    rust::Vec<rust::String> out;
#if KEA_SHIM_HOOKS_VERSION >= 30000
    const isc::dhcp::ClientClasses& classes = later ? pkt.getAdditionalClasses() : pkt.getClasses();
    // ClientClasses holds a boost multi_index container: list it through
    // Kea's compiled toElement() rather than iterating it with the shim's
    // boost headers (they need not be the ones Kea was built with: see
    // arg_subnet4_collection_ids in shim4.cc).
    const isc::data::ConstElementPtr list = classes.toElement();
    for (std::size_t i = 0; list && i < list->size(); ++i) {
        out.push_back(rust::String(list->get(i)->stringValue()));
    }
#else
    const isc::dhcp::ClientClasses& classes = pkt.getClasses(later);
    for (auto it = classes.cbegin(); it != classes.cend(); ++it) {
        out.push_back(rust::String(*it));
    }
#endif
    return out;
}

void pkt_add_class(const isc::dhcp::Pkt& pkt, rust::Str name, bool later) {
#if KEA_SHIM_HOOKS_VERSION >= 30000
    if (later) {
        writable_pkt(pkt).addAdditionalClass(std::string(name));
    } else {
        writable_pkt(pkt).addClass(std::string(name));
    }
#else
    writable_pkt(pkt).addClass(std::string(name), later);
#endif
}

bool pkt_in_class(const isc::dhcp::Pkt& pkt, rust::Str name) {
    return pkt.getClasses().contains(std::string(name));
}

void pkt_set_raw(const isc::dhcp::Pkt& pkt, rust::Slice<const std::uint8_t> data) {
    writable_pkt(pkt).data_.assign(data.begin(), data.end());
}

rust::Slice<const std::uint8_t> pkt_out_buffer(const isc::dhcp::Pkt& pkt) {
    const isc::util::OutputBuffer& buf = writable_pkt(pkt).getBuffer();
    return rust::Slice<const std::uint8_t>(static_cast<const std::uint8_t*>(buf.getData()), buf.getLength());
}

void pkt_set_out_buffer(const isc::dhcp::Pkt& pkt, rust::Slice<const std::uint8_t> data) {
    isc::util::OutputBuffer& buf = writable_pkt(pkt).getBuffer();
    buf.clear();
    buf.writeData(data.data(), data.size());
}

}  // namespace detail
}  // namespace kea_shim
