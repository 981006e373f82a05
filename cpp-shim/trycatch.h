// How the shim turns C++ exceptions into Rust errors, in a header of its own
// so that a test can compile it without Kea (tests/tests/shim.rs).
//
// cxx turns a C++ exception thrown inside a function declared `-> Result`
// into a Rust `Err` through `rust::behavior::trycatch`. Its default only
// catches std::exception; a hook must never let anything escape into Kea or
// Rust, so this one catches everything, except glibc's forced unwinding
// (pthread_exit, pthread_cancel): that must be rethrown, or glibc aborts
// the process ("exception not rethrown"). cxx calls this from its noexcept
// wrappers, so a forced unwind that reaches them still terminates; what
// this guarantees is that the shim never swallows one.
#pragma once

#include <cxxabi.h>

#include <exception>

// Rethrows a forced unwind; use as the first handler before `catch (...)`.
// In a noexcept function the rethrow ends in std::terminate, which is what
// C++ requires there (g++'s -Wterminate says so; it is silenced for this
// one statement).
#define KEA_SHIM_RETHROW_FORCED_UNWIND                                  \
    catch (abi::__forced_unwind&) {                                     \
        _Pragma("GCC diagnostic push")                                  \
        _Pragma("GCC diagnostic ignored \"-Wterminate\"") throw;        \
        _Pragma("GCC diagnostic pop")                                   \
    }

namespace rust {
namespace behavior {
template <typename Try, typename Fail>
static void trycatch(Try&& func, Fail&& fail) try {
    func();
}
KEA_SHIM_RETHROW_FORCED_UNWIND
catch (const std::exception& e) {
    fail(e.what());
} catch (...) {
    fail("unknown C++ exception (not derived from std::exception)");
}
}  // namespace behavior
}  // namespace rust
