// libdhcp_bench_park_cpp.so: the hand-written C++ twin of the parking bench
// hook (tests/bench/park-hook/src/lib.rs), written as a C++ hook author would
// write it:
//   leases4_committed  notes the time in the packet's callout context; with
//                      "park": true, parks the query (status PARK) and hands
//                      it to a thread of its own, which at once has Kea's main
//                      thread resume it (with multi-threading off, a parked
//                      packet must be resumed on the main thread);
//   pkt4_send          adds the time since leases4_committed to a histogram.
// With "park": false the same callouts, without parking: the baseline.
//
// How the thread gets the main thread to resume ("wake"):
//   "eventfd" (the default): through an eventfd Kea's interface manager
//       watches beside its DHCP sockets, so the main thread wakes at once
//       even when idle; what the Rust SDK does, and what Kea's own HTTP
//       client does for the HA hook with multi-threading off;
//   "ioservice": by posting the unpark to the IOService Kea passes to
//       dhcp4_srv_configured as "io_context", which Kea's packet loop polls
//       between packets: no extra turn of the loop under load, but an idle
//       server leaves a parked packet until its select times out (up to
//       1 s).
//
// For the benchmark only: a resume still posted when the library is unloaded
// would run code of an unmapped library (the benchmark unloads only at
// shutdown, after the traffic).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

#include <sys/eventfd.h>
#include <unistd.h>

#include <asiolink/io_service.h>
#include <cc/data.h>
#include <dhcp/iface_mgr.h>
#include <dhcp/pkt4.h>
#include <hooks/hooks.h>

using isc::hooks::CalloutHandle;
using isc::hooks::LibraryHandle;
using isc::hooks::ParkingLotHandlePtr;

namespace {

using Clock = std::chrono::steady_clock;

bool park = false;
bool wake_eventfd = true;
int wake_fd = -1;
isc::asiolink::IOServicePtr io_service;

// Latency histogram: bucket i counts samples in [2^i, 2^(i+1)) ns.
std::atomic<std::uint64_t> buckets[40];
std::atomic<std::uint64_t> sum{0};
std::atomic<std::uint64_t> count{0};

void add_sample(std::uint64_t ns) {
    const std::uint64_t v = ns ? ns : 1;
    unsigned i = 63 - __builtin_clzll(v);
    if (i > 39) {
        i = 39;
    }
    buckets[i].fetch_add(1, std::memory_order_relaxed);
    sum.fetch_add(ns, std::memory_order_relaxed);
    count.fetch_add(1, std::memory_order_relaxed);
}

// The resumer: a queue of parked queries and the thread that serves it.
struct Parked {
    ParkingLotHandlePtr lot;
    isc::dhcp::Pkt4Ptr query;
};
std::mutex mutex;
std::deque<Parked> to_resume;
std::condition_variable ready;
std::deque<Parked> jobs;
bool stopping = false;
std::thread worker;

void serve() {
    std::unique_lock<std::mutex> lock(mutex);
    for (;;) {
        ready.wait(lock, [] { return stopping || !jobs.empty(); });
        if (jobs.empty()) {
            return;
        }
        Parked p = jobs.front();
        jobs.pop_front();
        if (wake_eventfd) {
            to_resume.push_back(p);
            lock.unlock();
            const std::uint64_t one = 1;
            ssize_t n = write(wake_fd, &one, sizeof(one));
            (void)n;
            lock.lock();
            continue;
        }
        isc::asiolink::IOServicePtr io = io_service;
        lock.unlock();
        if (io) {
            io->post([p] { p.lot->unpark(p.query); });
        }
        lock.lock();
    }
}

void on_wake(int fd) {
    std::uint64_t n;
    ssize_t r = read(fd, &n, sizeof(n));
    (void)r;
    std::deque<Parked> batch;
    {
        std::lock_guard<std::mutex> lock(mutex);
        batch.swap(to_resume);
    }
    for (auto& p : batch) {
        p.lot->unpark(p.query);
    }
}

int on_srv_configured(CalloutHandle& handle) {
    try {
        isc::asiolink::IOServicePtr io;
        handle.getArgument("io_context", io);
        std::lock_guard<std::mutex> lock(mutex);
        io_service = io;
        return 0;
    } catch (...) {
        return 1;
    }
}

int on_leases4_committed(CalloutHandle& handle) {
    try {
        handle.setContext("committed", Clock::now());
        if (!park) {
            return 0;
        }
        isc::dhcp::Pkt4Ptr query;
        handle.getArgument("query4", query);
        if (!query || handle.getStatus() != CalloutHandle::NEXT_STEP_CONTINUE) {
            return 0;
        }
        ParkingLotHandlePtr lot = handle.getParkingLotHandlePtr();
        lot->reference(query);
        handle.setStatus(CalloutHandle::NEXT_STEP_PARK);
        {
            std::lock_guard<std::mutex> lock(mutex);
            jobs.push_back(Parked{lot, query});
        }
        ready.notify_one();
        return 0;
    } catch (...) {
        return 1;
    }
}

int on_pkt4_send(CalloutHandle& handle) {
    try {
        // getContext throws when nothing was stored (an OFFER's query never
        // reaches leases4_committed): look first, as the Rust SDK does.
        handle.deleteContext(std::string());
        if (handle.getContextNames().empty()) {
            return 0;
        }
        Clock::time_point at;
        handle.getContext("committed", at);
        handle.deleteContext("committed");
        add_sample(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - at).count());
        return 0;
    } catch (...) {
        return 0;
    }
}

}  // namespace

extern "C" {

int version() {
    return KEA_HOOKS_VERSION;
}

int multi_threading_compatible() {
    return 1;
}

int load(LibraryHandle& handle) {
    try {
        const isc::data::ConstElementPtr p = handle.getParameter("park");
        park = p && p->boolValue();
        handle.registerCallout("dhcp4_srv_configured", on_srv_configured);
        handle.registerCallout("leases4_committed", on_leases4_committed);
        handle.registerCallout("pkt4_send", on_pkt4_send);
        stopping = false;
        const isc::data::ConstElementPtr w = handle.getParameter("wake");
        wake_eventfd = !w || w->stringValue() != "ioservice";
        if (wake_eventfd) {
            wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
            isc::dhcp::IfaceMgr::instance().addExternalSocket(wake_fd, on_wake);
        }
        if (park) {
            worker = std::thread(serve);
        }
        return 0;
    } catch (...) {
        return 1;
    }
}

int unload() {
    {
        std::lock_guard<std::mutex> lock(mutex);
        stopping = true;
        io_service.reset();
    }
    ready.notify_all();
    if (worker.joinable()) {
        worker.join();
    }
    jobs.clear();
    if (wake_fd >= 0) {
        isc::dhcp::IfaceMgr::instance().deleteExternalSocket(wake_fd);
        close(wake_fd);
        wake_fd = -1;
    }
    to_resume.clear();
    return 0;
}

}  // extern "C"
