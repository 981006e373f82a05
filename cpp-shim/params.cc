// The C++ half of loading a hook (src/load.rs, with src/params.rs and
// hook.rs's script_path): the parameters as JSON, the server's hook points
// and root logger, the script-path rule, callout and command registration;
// see shim.h for the rules it keeps.

#include "shim.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>

#include <cc/data.h>
#include <config/command_mgr.h>
#include <hooks/hooks_manager.h>
#if KEA_SHIM_HOOKS_VERSION >= 30000
#include <hooks/hooks_parser.h>
#endif
#include <hooks/server_hooks.h>
#include <log/logger_name.h>

namespace kea_shim {

// ---- library handle / load ----

// The `parameters` map as JSON text, written here rather than by Kea's
// Element::str(), which escapes every byte >= 0x80 on its own (so UTF-8
// text came back as Latin-1 mojibake) and prints doubles with 6 significant
// digits. Strings go out byte for byte (checked to be UTF-8), integers in
// full, doubles in the shortest form that reads back as the same double,
// always with a '.' or an exponent so that they stay floats.
namespace {

using isc::data::ConstElementPtr;
using isc::data::Element;

[[noreturn]] void parameter_error(const std::string& path, const std::string& what) {
    throw std::runtime_error(path.empty() ? what : "at '" + path + "': " + what);
}

// Length of the UTF-8 sequence at s[i], or 0 if it is not one (overlong
// forms, surrogates and code points past U+10FFFF included).
std::size_t utf8_sequence(const std::string& s, std::size_t i) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char c = byte(i);
    const std::size_t left = s.size() - i;
    const auto cont = [&](std::size_t k) { return k < left && (byte(i + k) & 0xC0) == 0x80; };
    if (c < 0x80) {
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        return cont(1) ? 2 : 0;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (!cont(1) || !cont(2)) {
            return 0;
        }
        const unsigned char c1 = byte(i + 1);
        if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F)) {
            return 0;
        }
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (!cont(1) || !cont(2) || !cont(3)) {
            return 0;
        }
        const unsigned char c1 = byte(i + 1);
        if ((c == 0xF0 && c1 < 0x90) || (c == 0xF4 && c1 > 0x8F)) {
            return 0;
        }
        return 4;
    }
    return 0;
}

void write_string(std::string& out, const std::string& s, const std::string& path) {
    out.push_back('"');
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t n = utf8_sequence(s, i);
        if (n == 0) {
            parameter_error(path,
                            "text is not valid UTF-8 (byte " + std::to_string(i) +
                                "; Kea reads a \\u0080-\\u00ff escape as a single byte: write such "
                                "characters as UTF-8 instead)");
        }
        const char c = s[i];
        if (n > 1) {
            out.append(s, i, n);
        } else if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(c);
        } else if (static_cast<unsigned char>(c) < 0x20) {
            static const char hex[] = "0123456789abcdef";
            out.append("\\u00");
            out.push_back(hex[(c >> 4) & 0xF]);
            out.push_back(hex[c & 0xF]);
        } else {
            out.push_back(c);
        }
        i += n;
    }
    out.push_back('"');
}

void write_double(std::string& out, double d, const std::string& path) {
    if (!std::isfinite(d)) {
        parameter_error(path, "number is not finite");
    }
    char buf[64];
    const auto result = std::to_chars(buf, buf + sizeof buf, d);
    if (result.ec != std::errc()) {
        parameter_error(path, "number cannot be written");
    }
    const std::string text(buf, result.ptr);
    out += text;
    if (text.find_first_of(".eE") == std::string::npos) {
        out += ".0";
    }
}

void write_json(std::string& out, const ConstElementPtr& e, std::string& path) {
    if (!e) {
        out += "null";
        return;
    }
    switch (e->getType()) {
    case Element::integer:
        out += std::to_string(e->intValue());
        return;
#if KEA_SHIM_HOOKS_VERSION >= 20400
    case Element::bigint: {
        // Only Kea's generic JSON parser (config-set) makes these; the
        // configuration file's parser stops at 64 bits.
        const isc::util::int128_t v = e->bigIntValue();
        if (v > static_cast<isc::util::int128_t>(UINT64_MAX) ||
            v < static_cast<isc::util::int128_t>(INT64_MIN)) {
            parameter_error(path, "integer does not fit in 64 bits");
        }
        out += v < 0 ? std::to_string(static_cast<std::int64_t>(v))
                     : std::to_string(static_cast<std::uint64_t>(v));
        return;
    }
#endif
    case Element::real:
        write_double(out, e->doubleValue(), path);
        return;
    case Element::boolean:
        out += e->boolValue() ? "true" : "false";
        return;
    case Element::null:
        out += "null";
        return;
    case Element::string:
        write_string(out, e->stringValue(), path);
        return;
    case Element::list: {
        out.push_back('[');
        const std::size_t len = path.size();
        std::size_t i = 0;
        for (const auto& item : e->listValue()) {
            if (i) {
                out.push_back(',');
            }
            path += "[" + std::to_string(i++) + "]";
            write_json(out, item, path);
            path.resize(len);
        }
        out.push_back(']');
        return;
    }
    case Element::map: {
        out.push_back('{');
        const std::size_t len = path.size();
        bool first = true;
        for (const auto& kv : e->mapValue()) {
            if (!first) {
                out.push_back(',');
            }
            first = false;
            path += (len ? "." : "") + kv.first;
            write_string(out, kv.first, path);
            out.push_back(':');
            write_json(out, kv.second, path);
            path.resize(len);
        }
        out.push_back('}');
        return;
    }
    default:
        parameter_error(path, "value of a type JSON does not have");
    }
}

}  // namespace

namespace detail {

rust::String element_json(const ConstElementPtr& e) {
    std::string out;
    std::string path;
    write_json(out, e, path);
    return rust::String(out);
}

}  // namespace detail

using detail::element_json;

rust::String library_parameters_json(LibraryHandle& handle) {
    ConstElementPtr params = handle.getParameters();
    return params ? element_json(params) : rust::String();
}

bool server_has_hook(rust::Str name) {
    return isc::hooks::ServerHooks::getServerHooks().findIndex(std::string(name)) >= 0;
}

rust::String server_root_logger() {
    return rust::String(isc::log::getRootLoggerName());
}

rust::String hook_script_path(rust::Str name) {
#if KEA_SHIM_HOOKS_VERSION >= 30000
    // Kea's own rule for scripts a hook runs (KEA_HOOK_SCRIPTS_PATH, or
    // <prefix>/share/kea/scripts; not enforced under `-X`).
    return rust::String(isc::hooks::HookLibraryScriptsChecker::validatePath(std::string(name)));
#else
    return rust::String(std::string(name));
#endif
}

void register_callout(LibraryHandle& handle, rust::Str name, std::size_t callout) {
    // `callout` is a Rust `extern "C" fn(Option<&mut RawCalloutHandle>) ->
    // c_int`: the ABI of Kea's `int (*)(CalloutHandle&)`. It never unwinds
    // (panics are caught inside it, and it calls no C++ that can throw
    // outside a `Result`).
    handle.registerCallout(std::string(name), reinterpret_cast<isc::hooks::CalloutPtr>(callout));
}

void register_command(LibraryHandle& handle, rust::Str name, std::size_t callout) {
    // Kea calls a command's handlers as callouts of the hook point
    // "$<name>", with arguments "command" and "response"; same ABI.
    handle.registerCommandCallout(std::string(name), reinterpret_cast<isc::hooks::CalloutPtr>(callout));
}

rust::Vec<rust::String> hook_library_names() {
    rust::Vec<rust::String> out;
    for (const std::string& name : isc::hooks::HooksManager::getLibraryNames()) {
        out.push_back(rust::String(name));
    }
    return out;
}

rust::String execute_command(rust::Str command_json) {
    const isc::data::ConstElementPtr command = isc::data::Element::fromJSON(std::string(command_json));
    const isc::data::ConstElementPtr answer = isc::config::CommandMgr::instance().processCommand(command);
    return answer ? detail::element_json(answer) : rust::String("null");
}

}  // namespace kea_shim
