// The C++ half of the per-packet context (src/ffi/context.rs); see shim.h
// for the rules it keeps.

#include "shim.h"

#include <string>

#include <boost/make_shared.hpp>

#include "kea-hooks/src/ffi/shim.rs.h"

namespace kea_shim {

using detail::writable;

// ---- the per-packet context ----
//
// One entry in the handle's context for this library, holding the Rust
// `PacketValues` (the hook's typed values). Kea keeps a packet's handle as
// long as the packet and destroys its context with it, on whatever thread
// lets the packet go: the holder's destructor then drops the Rust box
// (whose Drop catches panics). The handle also keeps the library loaded
// while it exists (its LibraryManagerCollection), so the drop code is
// still mapped.

namespace {

// Aligned as ARG_NAMES is (shim.h): no page end near its characters.
alignas(64) const std::string CONTEXT_NAME = "kea-hooks-sdk";

struct ContextHolder {
    explicit ContextHolder(rust::Box<PacketValues> v) : values(std::move(v)) {}
    rust::Box<PacketValues> values;
};

using ContextPtr = boost::shared_ptr<ContextHolder>;

}  // namespace

PacketValues* handle_context(const CalloutHandle& handle, bool create) {
    // getContext and getContextNames throw when the library has no
    // context yet, or not this name. deleteContext of a name never used
    // (the empty one) makes the library's context exist, empty, without
    // throwing and erases nothing; asking for the names then keeps the
    // common "nothing stored yet" case free of exceptions. Only the SDK
    // stores in this library's context, under CONTEXT_NAME alone.
    CalloutHandle& h = writable(handle);
    h.deleteContext(std::string());
    if (!h.getContextNames().empty()) {
        ContextPtr holder;
        h.getContext(CONTEXT_NAME, holder);
        if (holder) {
            return &*holder->values;
        }
    }
    if (!create) {
        return nullptr;
    }
    // One allocation for the holder and its count (make_shared); the
    // values' heap address stays as the holder moves into the context.
    ContextPtr holder = boost::make_shared<ContextHolder>(packet_values_new());
    PacketValues* values = &*holder->values;
    h.setContext(CONTEXT_NAME, holder);
    return values;
}

}  // namespace kea_shim
