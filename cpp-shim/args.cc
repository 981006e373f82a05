// The C++ half of callout arguments (src/ffi/args.rs): reading and setting
// them, the element builder, cb4_updated's audit entries; see shim.h for
// the rules it keeps (and its inline accessors, the callout-time fast path).

#include "shim.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <cc/data.h>
#include <database/audit_entry.h>
#include <dhcpsrv/host.h>

#include "kea-hooks/src/ffi/shim.rs.h"

namespace kea_shim {

// The header's table of argument names follows the order of the shared
// enum `Arg` (src/ffi/shim.rs); cxx numbers its variants from 0 in that order.
static_assert(static_cast<std::uint8_t>(Arg::Query4) == 0, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::Response4) == 1, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::Lease4) == 2, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::Subnet4) == 3, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::Leases4) == 4, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::DeletedLeases4) == 5, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::FakeAllocation) == 6, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::OfferLifetime) == 7, "Arg order");
static_assert(static_cast<std::uint8_t>(Arg::OldLease) == 8, "Arg order");
static_assert(detail::ARG_COUNT == 15, "one name per Arg (the DHCPv6 ones: see shim6.cc)");

namespace {
using isc::data::ConstElementPtr;
using isc::data::Element;
}  // namespace

using detail::element_json;

// ---- callout handle ----

rust::Vec<rust::String> handle_argument_names(const CalloutHandle& handle) {
    rust::Vec<rust::String> out;
    for (const auto& name : handle.getArgumentNames()) {
        out.push_back(rust::String(name));
    }
    return out;
}

// The pointers returned below stay valid after the local shared_ptr copy
// goes: the handle's argument map holds another reference.

const HWAddr* arg_hwaddr(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<isc::dhcp::HWAddrPtr>(handle, std::string(name)).get();
}

bool arg_bool(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<bool>(handle, std::string(name));
}

std::uint32_t arg_u32(const CalloutHandle& handle, rust::Str name) {
    return detail::get_arg<std::uint32_t>(handle, std::string(name));
}

namespace detail {

void copy_out(const std::uint8_t* data, std::size_t len, rust::Vec<std::uint8_t>& out) {
    out.reserve(len);
    for (std::size_t i = 0; i < len; ++i) {
        out.push_back(data[i]);
    }
}

}  // namespace detail

// ---- arguments Kea reads back ----
//
// setArgument replaces the value in the handle's map; the type must be
// exactly the one Kea fetches back, or Kea's getArgument throws.

using detail::writable;

void arg_set_bool(const CalloutHandle& handle, rust::Str name, bool value) {
    writable(handle).setArgument(std::string(name), value);
}

rust::String arg_string(const CalloutHandle& handle, rust::Str name) {
    const std::string value = detail::get_arg<std::string>(handle, std::string(name));
    return rust::String::lossy(value.data(), value.size());
}

void arg_set_string(const CalloutHandle& handle, rust::Str name, rust::Str value) {
    writable(handle).setArgument(std::string(name), std::string(value));
}

void arg_bytes(const CalloutHandle& handle, rust::Str name, rust::Vec<std::uint8_t>& out) {
    const std::vector<std::uint8_t> value = detail::get_arg<std::vector<std::uint8_t>>(handle, std::string(name));
    detail::copy_out(value.data(), value.size(), out);
}

void arg_set_bytes(const CalloutHandle& handle, rust::Str name, rust::Slice<const std::uint8_t> value) {
    writable(handle).setArgument(std::string(name), std::vector<std::uint8_t>(value.begin(), value.end()));
}

std::int32_t arg_identifier_type(const CalloutHandle& handle, rust::Str name) {
    return static_cast<std::int32_t>(detail::get_arg<isc::dhcp::Host::IdentifierType>(handle, std::string(name)));
}

void arg_set_identifier_type(const CalloutHandle& handle, rust::Str name, std::int32_t value) {
    writable(handle).setArgument(std::string(name), static_cast<isc::dhcp::Host::IdentifierType>(value));
}

rust::String arg_element_json(const CalloutHandle& handle, rust::Str name) {
    const ConstElementPtr value = detail::get_arg<ConstElementPtr>(handle, std::string(name));
    return value ? element_json(value) : rust::String("null");
}

void arg_set_element_json(const CalloutHandle& handle, rust::Str name, rust::Str json) {
    const ConstElementPtr value = Element::fromJSON(std::string(json));
    writable(handle).setArgument(std::string(name), value);
}

namespace {
void element_add(ElementBuilder& b, const isc::data::ElementPtr& e) {
    if (b.open.empty()) {
        if (b.root) {
            throw std::logic_error("element builder: a second top-level value");
        }
        b.root = e;
    } else if (b.open.back()->getType() == Element::list) {
        b.open.back()->add(e);
    } else {
        b.open.back()->set(b.key, e);
    }
}
}  // namespace

std::unique_ptr<ElementBuilder> element_builder_new() {
    return std::make_unique<ElementBuilder>();
}

void element_null(ElementBuilder& b) {
    element_add(b, Element::create());
}

void element_bool(ElementBuilder& b, bool value) {
    element_add(b, Element::create(value));
}

void element_int(ElementBuilder& b, std::int64_t value) {
    element_add(b, Element::create(static_cast<long long int>(value)));
}

void element_float(ElementBuilder& b, double value) {
    element_add(b, Element::create(value));
}

void element_string(ElementBuilder& b, rust::Str value) {
    element_add(b, Element::create(std::string(value)));
}

void element_key(ElementBuilder& b, rust::Str key) {
    b.key = std::string(key);
}

void element_begin_list(ElementBuilder& b) {
    const isc::data::ElementPtr list = Element::createList();
    element_add(b, list);
    b.open.push_back(list);
}

void element_begin_map(ElementBuilder& b) {
    const isc::data::ElementPtr map = Element::createMap();
    element_add(b, map);
    b.open.push_back(map);
}

void element_end(ElementBuilder& b) {
    if (b.open.empty()) {
        throw std::logic_error("element builder: end without begin");
    }
    b.open.pop_back();
}

void arg_set_element_built(const CalloutHandle& handle, rust::Str name, const ElementBuilder& b) {
    if (!b.open.empty() || !b.root) {
        throw std::logic_error("element builder: the element is not complete");
    }
    writable(handle).setArgument(std::string(name), ConstElementPtr(b.root));
}

rust::Vec<AuditRow> arg_audit_entries(const CalloutHandle& handle, rust::Str name) {
    const auto entries = detail::get_arg<isc::db::AuditEntryCollectionPtr>(handle, std::string(name));
    rust::Vec<AuditRow> out;
    if (entries) {
        for (const auto& e : *entries) {
            if (!e) {
                continue;
            }
            const std::string type = e->getObjectType();
            const std::string message = e->getLogMessage();
            const boost::posix_time::ptime when = e->getModificationTime();
            const boost::posix_time::ptime epoch(boost::gregorian::date(1970, 1, 1));
            const std::int64_t us = when.is_special() ? 0 : (when - epoch).total_microseconds();
            out.push_back(AuditRow{rust::String::lossy(type.data(), type.size()),
                                   static_cast<std::uint8_t>(e->getModificationType()), e->getObjectId(), us,
                                   e->getRevisionId(), rust::String::lossy(message.data(), message.size())});
        }
    }
    return out;
}

}  // namespace kea_shim
