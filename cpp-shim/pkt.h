// What DHCPv4 and DHCPv6 packets share: Kea keeps classes, the raw
// datagram and the packed output in its `Pkt` base class, so both families'
// shim functions (shim4.cc, shim6.cc) call these.
#pragma once

#include "shim.h"

#include <dhcp/pkt.h>

namespace kea_shim {
namespace detail {

// The packet's classes; `later`: the classes evaluated after subnet
// selection (2.x "required" classes, 3.0+ "additional" classes).
rust::Vec<rust::String> pkt_classes(const isc::dhcp::Pkt& pkt, bool later);
void pkt_add_class(const isc::dhcp::Pkt& pkt, rust::Str name, bool later);
bool pkt_in_class(const isc::dhcp::Pkt& pkt, rust::Str name);

// The raw datagram (what buffer*_receive callouts see and may replace).
inline rust::Slice<const std::uint8_t> pkt_raw(const isc::dhcp::Pkt& pkt) { return bytes(pkt.data_); }
void pkt_set_raw(const isc::dhcp::Pkt& pkt, rust::Slice<const std::uint8_t> data);

// The packed output (what buffer*_send callouts see and may replace).
rust::Slice<const std::uint8_t> pkt_out_buffer(const isc::dhcp::Pkt& pkt);
void pkt_set_out_buffer(const isc::dhcp::Pkt& pkt, rust::Slice<const std::uint8_t> data);

}  // namespace detail
}  // namespace kea_shim
