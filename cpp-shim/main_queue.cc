// The C++ half of the work queued for Kea's main thread and of the lease
// gate (src/ffi/main_queue.rs, src/ffi/lease_gate.rs); see shim.h for the
// rules it keeps.

#include "shim.h"

#include <string>

#include <dhcp/iface_mgr.h>
#include <util/multi_threading_mgr.h>

#include "kea-hooks/src/ffi/shim.rs.h"

namespace kea_shim {

// ---- Kea's main thread ----
//
// The hook's queue of work for Kea's main thread is an eventfd that Kea's
// interface manager watches with its DHCP sockets: the select that waits
// for packets on the main thread wakes when a thread of the hook writes to
// it, and calls back on that thread. The callback runs Rust code that never
// unwinds; unload() removes it before the library is closed.

void main_queue_open(int fd) {
    isc::dhcp::IfaceMgr::instance().addExternalSocket(fd, [](int) { run_main_queue(); });
}

void main_queue_close(int fd) {
    isc::dhcp::IfaceMgr::instance().deleteExternalSocket(fd);
}

// Kea calls these when a multi-threading critical section begins and ends
// (reconfiguration, shutdown), with its packet threads stopped: the SDK
// keeps the hook's own threads out of the lease database meanwhile.
bool lease_gate_register(rust::Str name) {
    auto& mt = isc::util::MultiThreadingMgr::instance();
    const std::string key(name);
    mt.removeCriticalSectionCallbacks(key);
    mt.addCriticalSectionCallbacks(key, [] {}, [] { lease_gate_close(); }, [] { lease_gate_open(); });
    // Loaded inside one (Kea loads hooks while it reconfigures): the
    // section's end opens the gate.
    return mt.isInCriticalSection();
}

void lease_gate_unregister(rust::Str name) {
    isc::util::MultiThreadingMgr::instance().removeCriticalSectionCallbacks(std::string(name));
}

}  // namespace kea_shim
