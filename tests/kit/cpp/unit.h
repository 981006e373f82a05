// The C++ half of kea_hooks_test::unit (src/unit/ffi.rs is the bridge):
// Kea's HooksManager driven in-process, the way kea-dhcp4/kea-dhcp6 drive
// it around a hook library, with packets, leases, subnets and commands
// built by Kea's own code.
//
// Every function here runs with the Rust side's process-wide lock held
// (src/unit.rs): HooksManager, ServerHooks and the logger are singletons.

#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <string>

#include <hooks/callout_handle.h>

#include "rust/cxx.h"

// A C++ exception of any type becomes the bridged function's Err (cxx's
// default catches only std::exception).
namespace rust {
namespace behavior {
template <typename Try, typename Fail>
static void trycatch(Try&& func, Fail&& fail) noexcept try {
    func();
} catch (const std::exception& e) {
    fail(e.what());
} catch (...) {
    fail("a C++ exception that is not a std::exception");
}
}  // namespace behavior
}  // namespace rust

namespace kea_unit {

struct Lease4Data;
struct Lease6Data;
struct PacketData;
struct Peer;
struct PoolData;
struct SubnetData;

// A callout handle kept across calls, as the server keeps one per query
// (its callout contexts live as long as it does).
struct Handle {
    isc::hooks::CalloutHandlePtr handle;
};

// One call of a hook point: its index and the callout handle carrying the
// arguments set so far.
struct Call {
    int index;
    isc::hooks::CalloutHandlePtr handle;
};

void logging_init(rust::Str log_file);
bool library_load(std::uint8_t family, rust::Str path, rust::Str parameters_json);
void library_unload();

std::unique_ptr<Handle> handle_new();
std::unique_ptr<Call> call_new(const Handle& handle, rust::Str point);
void call_set_pkt4(Call& call, rust::Str name, rust::Slice<const std::uint8_t> wire, bool unpack, const Peer& peer);
void call_set_pkt6(Call& call, rust::Str name, rust::Slice<const std::uint8_t> wire, bool unpack, const Peer& peer);
void call_set_lease4(Call& call, rust::Str name, const Lease4Data& lease);
void call_set_lease6(Call& call, rust::Str name, const Lease6Data& lease);
void call_set_leases4(Call& call, rust::Str name, rust::Slice<const Lease4Data> leases);
void call_set_leases6(Call& call, rust::Str name, rust::Slice<const Lease6Data> leases);
void call_add_classes(Call& call, rust::Str name, std::uint8_t family, rust::Slice<const rust::String> classes);
void call_set_subnet4(Call& call, rust::Str name, const SubnetData& subnet);
void call_set_subnet6(Call& call, rust::Str name, const SubnetData& subnet);
void call_set_bool(Call& call, rust::Str name, bool value);
void call_set_u32(Call& call, rust::Str name, std::uint32_t value);
void call_set_string(Call& call, rust::Str name, rust::Str value);
std::int32_t call_run(Call& call);
PacketData call_get_pkt4(const Call& call, rust::Str name);
PacketData call_get_pkt6(const Call& call, rust::Str name);
Lease4Data call_get_lease4(const Call& call, rust::Str name);
Lease6Data call_get_lease6(const Call& call, rust::Str name);
rust::Vec<Lease4Data> call_get_leases4(const Call& call, rust::Str name);
rust::Vec<Lease6Data> call_get_leases6(const Call& call, rust::Str name);
SubnetData call_get_subnet4(const Call& call, rust::Str name);
SubnetData call_get_subnet6(const Call& call, rust::Str name);
bool call_get_bool(const Call& call, rust::Str name);
std::uint32_t call_get_u32(const Call& call, rust::Str name);

bool command_present(rust::Str name);
rust::String command_call(rust::Str name, rust::Str command_json);

}  // namespace kea_unit
