// callout_bench: in-process cost of one hook point's callouts, as Kea's
// HooksManager dispatches them.
//
//   callout_bench [--cpu N] [--iterations N] [--reps R] [--warmup N]
//                 [--fixed-layout] [--cold BYTES] [--cold-code PAGES]
//                 [--log debug|info|warn|error] [LIBRARY.so]
//
// It does what kea-dhcp4 does around a hook library, minus the network:
// sets up Kea's logging with the root logger "kea-dhcp4", registers the
// dhcp4 hook point names, loads LIBRARY through HooksManager::loadLibraries
// (no parameters), builds a DHCPDISCOVER, an offer and a lease, and then,
// for pkt4_receive, lease4_select and pkt4_send, times a tight loop of
// HooksManager::callCallouts() on a CalloutHandle that carries the
// arguments kea-dhcp4 2.2 passes at that point.
//
// Without LIBRARY no callout is registered: callCallouts() then only resets
// the status and finds the hook's callout list empty, so the numbers are the
// floor of the loop itself, not Kea's full dispatch cost (which includes a
// Stopwatch and debug-log checks around each callout).
//
// With --cold BYTES each call is timed alone, after reading a buffer of
// BYTES (one load per cache line) that evicts the callout's code and data
// from the caches, as the rest of Kea's packet processing does between two
// callouts in the daemon. ns_per_call is then the cost of one cold call
// (plus the clock reads, the same for every library). --cold-code PAGES
// also calls into PAGES pages of code (one `ret` at the start of each, x86-64
// only), which evicts the callout's code from the instruction TLB and the
// branch predictors as well.
//
// Output, one line per point (the median over the repetitions):
//   point=pkt4_receive lib=NAME callouts=1 iterations=N reps=R ns_per_call=X min=Y max=Z

#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <exception>
#include <limits.h>
#include <memory>
#include <string>
#include <vector>

#include <asiolink/io_address.h>
#include <dhcp/dhcp4.h>
#include <dhcp/hwaddr.h>
#include <dhcp/option.h>
#include <dhcp/pkt4.h>
#include <dhcpsrv/lease.h>
#include <hooks/callout_handle.h>
#include <hooks/hooks_manager.h>
#include <hooks/libinfo.h>
#include <hooks/server_hooks.h>
#include <log/logger_name.h>
#include <log/logger_support.h>

// lease4_select's `subnet4` argument is a Subnet4Ptr (a ConstSubnet4Ptr
// from Kea 3.0 on; build.sh defines BENCH_HOOKS_VERSION). The bench hooks
// never read it, so it is passed as a null pointer of that type; the type
// only needs declaring (dhcpsrv/subnet.h does not compile with Debian's 2.2
// kea-dev).
namespace isc {
namespace dhcp {
class Subnet4;
#if defined(BENCH_HOOKS_VERSION) && BENCH_HOOKS_VERSION >= 30000
typedef boost::shared_ptr<const Subnet4> BenchSubnet4Arg;
#else
typedef boost::shared_ptr<Subnet4> BenchSubnet4Arg;
#endif
}  // namespace dhcp
}  // namespace isc

using isc::asiolink::IOAddress;
using isc::hooks::CalloutHandle;
using isc::hooks::CalloutHandlePtr;
using isc::hooks::HooksManager;
using isc::hooks::ServerHooks;

namespace {

// The hook points kea-dhcp4 2.2 registers (context_create/destroy are
// registered by ServerHooks itself).
const char* const DHCP4_HOOKS[] = {
    "buffer4_receive", "buffer4_send",   "cb4_updated",       "command_processed",
    "ddns4_update",    "dhcp4_srv_configured", "host4_identifier", "lease4_decline",
    "lease4_expire",   "lease4_recover", "lease4_release",    "lease4_renew",
    "lease4_select",   "leases4_committed", "pkt4_receive",   "pkt4_send",
    "subnet4_select",
};

struct Options {
    int cpu = -1;
    long iterations = 2000000;
    int reps = 7;
    long warmup = 200000;
    bool fixed_layout = false;
    long cold = 0;
    long cold_code = 0;
    isc::log::Severity severity = isc::log::WARN;
    std::string library;
};

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s [--cpu N] [--iterations N] [--reps R] [--warmup N]\n"
                 "          [--fixed-layout] [--cold BYTES] [--cold-code PAGES]\n"
                 "          [--log debug|info|warn|error] [LIBRARY.so]\n",
                 argv0);
    std::exit(2);
}

long number(const char* argv0, const char* text) {
    char* end = nullptr;
    long v = std::strtol(text, &end, 10);
    if (!*text || *end || v < 0) {
        usage(argv0);
    }
    return v;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) {
                usage(argv[0]);
            }
            return argv[++i];
        };
        if (a == "--cpu") {
            o.cpu = static_cast<int>(number(argv[0], value()));
        } else if (a == "--iterations") {
            o.iterations = number(argv[0], value());
        } else if (a == "--reps") {
            o.reps = static_cast<int>(number(argv[0], value()));
        } else if (a == "--warmup") {
            o.warmup = number(argv[0], value());
        } else if (a == "--log") {
            std::string s = value();
            if (s == "debug") {
                o.severity = isc::log::DEBUG;
            } else if (s == "info") {
                o.severity = isc::log::INFO;
            } else if (s == "warn") {
                o.severity = isc::log::WARN;
            } else if (s == "error") {
                o.severity = isc::log::ERROR;
            } else {
                usage(argv[0]);
            }
        } else if (a == "--cold") {
            o.cold = number(argv[0], value());
        } else if (a == "--cold-code") {
            o.cold_code = number(argv[0], value());
        } else if (a == "--fixed-layout") {
            o.fixed_layout = true;
        } else if (a == "-h" || a == "--help") {
            usage(argv[0]);
        } else if (!a.empty() && a[0] == '-') {
            usage(argv[0]);
        } else if (o.library.empty()) {
            o.library = a;
        } else {
            usage(argv[0]);
        }
    }
    if (o.iterations == 0 || o.reps == 0) {
        usage(argv[0]);
    }
    return o;
}

void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) {
        std::perror("sched_setaffinity");
        std::exit(1);
    }
}

struct Point {
    const char* name;
    int index;
    std::vector<double> ns;
};

// What kea-dhcp4 2.2 has at the three points: a DHCPDISCOVER (options 53,
// 55, 61), the DHCPOFFER answering it, the lease offered; one callout
// handle per point carrying that point's arguments.
struct Fixture {
    isc::dhcp::Pkt4Ptr query;
    isc::dhcp::Pkt4Ptr response;
    isc::dhcp::Lease4Ptr lease;
    std::vector<CalloutHandlePtr> handles;

    explicit Fixture(const std::vector<Point>& points) {
        const std::uint8_t mac[] = {0x02, 0x42, 0xc6, 0x12, 0x00, 0x2a};
        isc::dhcp::HWAddrPtr hw(new isc::dhcp::HWAddr(mac, sizeof(mac), isc::dhcp::HTYPE_ETHER));

        query.reset(new isc::dhcp::Pkt4(isc::dhcp::DHCPDISCOVER, 0x5eed1234));
        query->setHWAddr(hw);
        query->setIface("veth0");
        query->setIndex(2);
        query->setRemoteAddr(IOAddress("0.0.0.0"));
        query->setLocalAddr(IOAddress("255.255.255.255"));
        query->setRemotePort(68);
        query->setLocalPort(67);
        query->addOption(isc::dhcp::OptionPtr(new isc::dhcp::Option(
            isc::dhcp::Option::V4, isc::dhcp::DHO_DHCP_PARAMETER_REQUEST_LIST,
            isc::dhcp::OptionBuffer{1, 3, 6, 15, 51, 54})));
        isc::dhcp::OptionBuffer client_id{0x01};
        client_id.insert(client_id.end(), mac, mac + sizeof(mac));
        query->addOption(isc::dhcp::OptionPtr(new isc::dhcp::Option(
            isc::dhcp::Option::V4, isc::dhcp::DHO_DHCP_CLIENT_IDENTIFIER, client_id)));

        response.reset(new isc::dhcp::Pkt4(isc::dhcp::DHCPOFFER, query->getTransid()));
        response->setHWAddr(hw);
        response->setYiaddr(IOAddress("198.18.0.10"));
        response->setIface("veth0");

        lease.reset(new isc::dhcp::Lease4(IOAddress("198.18.0.10"), hw, client_id.data(),
                                          client_id.size(), 3600, std::time(nullptr), 1));

        for (const Point& p : points) {
            CalloutHandlePtr h = HooksManager::createCalloutHandle();
            const std::string name = p.name;
            if (name == "pkt4_receive") {
                h->setArgument("query4", query);
            } else if (name == "lease4_select") {
                h->setArgument("query4", query);
                h->setArgument("subnet4", isc::dhcp::BenchSubnet4Arg());
                h->setArgument("fake_allocation", true);
                h->setArgument("lease4", lease);
            } else if (name == "pkt4_send") {
                h->setArgument("response4", response);
                h->setArgument("query4", query);
            }
            handles.push_back(h);
        }
    }
};

// The buffer --cold reads between calls, and where the reads go so that
// the compiler keeps them.
std::vector<unsigned char> evict_buffer;
volatile unsigned evict_sink;
using CodePage = void (*)();
std::vector<CodePage> evict_code;

// PAGES pages of code, each starting with a `ret`.
bool make_code_pages(long pages) {
#if defined(__x86_64__)
    const long page = sysconf(_SC_PAGESIZE);
    void* mem = mmap(nullptr, static_cast<std::size_t>(pages * page), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        std::perror("mmap");
        return false;
    }
    auto* bytes = static_cast<unsigned char*>(mem);
    for (long i = 0; i < pages; ++i) {
        bytes[i * page] = 0xc3;  // ret
    }
    if (mprotect(mem, static_cast<std::size_t>(pages * page), PROT_READ | PROT_EXEC) != 0) {
        std::perror("mprotect");
        return false;
    }
    for (long i = 0; i < pages; ++i) {
        evict_code.push_back(reinterpret_cast<CodePage>(bytes + i * page));
    }
    return true;
#else
    (void)pages;
    std::fprintf(stderr, "--cold-code is only implemented for x86-64\n");
    return false;
#endif
}

void evict() {
    unsigned sum = 0;
    for (std::size_t i = 0; i < evict_buffer.size(); i += 64) {
        sum += evict_buffer[i];
    }
    evict_sink = sum;
    for (CodePage f : evict_code) {
        f();
    }
}

// Median of n single calls, each after evict(): the cost of a cold call.
double run_cold(int index, CalloutHandle& h, long n) {
    std::vector<double> ns;
    ns.reserve(static_cast<std::size_t>(n));
    for (long i = 0; i < n; ++i) {
        h.setStatus(CalloutHandle::NEXT_STEP_CONTINUE);
        evict();
        const auto start = std::chrono::steady_clock::now();
        HooksManager::callCallouts(index, h);
        const auto stop = std::chrono::steady_clock::now();
        ns.push_back(std::chrono::duration<double, std::nano>(stop - start).count());
    }
    std::nth_element(ns.begin(), ns.begin() + ns.size() / 2, ns.end());
    return ns[ns.size() / 2];
}

double run(int index, CalloutHandle& h, long n, bool cold = false) {
    if (cold) {
        return run_cold(index, h, n);
    }
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < n; ++i) {
        h.setStatus(CalloutHandle::NEXT_STEP_CONTINUE);
        HooksManager::callCallouts(index, h);
    }
    const auto stop = std::chrono::steady_clock::now();
    return std::chrono::duration<double, std::nano>(stop - start).count() / static_cast<double>(n);
}

int bench(const Options& o) {
    if (o.cpu >= 0) {
        pin(o.cpu);
    }

    // Kea's logger takes an interprocess lock file in /var/run/kea unless
    // told otherwise; "none" disables it (one process, nothing to share).
    setenv("KEA_LOCKFILE_DIR", "none", 0);
    isc::log::initLogger("kea-dhcp4", o.severity, 0, nullptr, false);
    if (isc::log::getRootLoggerName() != "kea-dhcp4") {
        std::fprintf(stderr, "root logger is %s, expected kea-dhcp4\n",
                     isc::log::getRootLoggerName().c_str());
        return 1;
    }

    ServerHooks& hooks = ServerHooks::getServerHooks();
    for (const char* name : DHCP4_HOOKS) {
        if (hooks.findIndex(name) < 0) {
            hooks.registerHook(name);
        }
    }

    // Loading (even nothing) makes a CalloutManager sized for the hook
    // points registered above.
    isc::hooks::HookLibsCollection libs;
    std::string lib_name = "none";
    if (!o.library.empty()) {
        char resolved[PATH_MAX];
        if (!realpath(o.library.c_str(), resolved)) {
            std::perror(o.library.c_str());
            return 1;
        }
        libs.push_back(isc::hooks::HookLibInfo(resolved, isc::data::ConstElementPtr()));
        lib_name = o.library.substr(o.library.find_last_of('/') + 1);
    }
    if (!HooksManager::loadLibraries(libs)) {
        std::fprintf(stderr, "loading %s failed (see the log above)\n", o.library.c_str());
        return 1;
    }

    std::vector<Point> points = {
        {"pkt4_receive", hooks.getIndex("pkt4_receive"), {}},
        {"lease4_select", hooks.getIndex("lease4_select"), {}},
        {"pkt4_send", hooks.getIndex("pkt4_send"), {}},
    };

    std::printf("# lib=%s cpu=%d iterations=%ld reps=%d warmup=%ld layout=%s cold=%ld\n",
                lib_name.c_str(), o.cpu, o.iterations, o.reps, o.warmup,
                o.fixed_layout ? "fixed" : "varied", o.cold);
    if (o.cold > 0) {
        evict_buffer.assign(static_cast<std::size_t>(o.cold), 1);
    }
    if (o.cold_code > 0 && !make_code_pages(o.cold_code)) {
        return 1;
    }
    const bool cold = o.cold > 0 || o.cold_code > 0;

    // Where the packets, the handles' argument maps and Kea's per-call
    // Stopwatch land in memory moves a point's cost by up to ~20 ns (seen:
    // the same .so under another path name). Unless --fixed-layout, each
    // repetition rebuilds the fixture behind a pseudo-random padding
    // allocation, so the median is taken over heap layouts.
    std::vector<std::unique_ptr<char[]>> pads;
    std::uint32_t seed = 0x9e3779b9u;
    std::unique_ptr<Fixture> fixture(new Fixture(points));
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (o.warmup > 0) {
            run(points[i].index, *fixture->handles[i], o.warmup);
        }
    }
    // Repetitions interleave the points, so slow drift (frequency, other
    // load) spreads over all of them instead of biasing one.
    for (int r = 0; r < o.reps; ++r) {
        if (!o.fixed_layout && r > 0) {
            fixture.reset();
            seed = seed * 1664525u + 1013904223u;
            const std::size_t size = 16 + 16 * ((seed >> 8) % 256);
            pads.emplace_back(new char[size]);
            pads.back()[0] = 1;
            fixture.reset(new Fixture(points));
            for (std::size_t i = 0; i < points.size(); ++i) {
                run(points[i].index, *fixture->handles[i], std::max(1L, o.iterations / 20));
            }
        }
        for (std::size_t i = 0; i < points.size(); ++i) {
            points[i].ns.push_back(run(points[i].index, *fixture->handles[i], o.iterations, cold));
        }
    }
    for (Point& p : points) {
        std::vector<double> v = p.ns;
        std::sort(v.begin(), v.end());
        const double median = v.size() % 2 ? v[v.size() / 2]
                                           : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
        std::printf("point=%s lib=%s callouts=%d iterations=%ld reps=%d ns_per_call=%.1f min=%.1f "
                    "max=%.1f\n",
                    p.name, lib_name.c_str(), HooksManager::calloutsPresent(p.index) ? 1 : 0,
                    o.iterations, o.reps, median, v.front(), v.back());
    }
    std::fflush(stdout);

    // The handles hold references into the library's state: release them
    // before unloading, as kea-dhcp4 does.
    fixture.reset();
    HooksManager::prepareUnloadLibraries();
    HooksManager::unloadLibraries();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    try {
        return bench(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "callout_bench: %s\n", e.what());
    } catch (...) {
        std::fprintf(stderr, "callout_bench: unknown exception\n");
    }
    return 1;
}
