//! The [`kea_hook!`] macro.

/// Exports a [`Hook`](crate::Hook) type as a Kea hook library.
///
/// Put it once in a crate built as a `cdylib`:
///
/// ```toml
/// [lib]
/// crate-type = ["cdylib"]
/// ```
///
/// It defines five C symbols: the four Kea looks up,
/// * `version()`: the `KEA_HOOKS_VERSION` of the Kea the SDK was built
///   against (Kea refuses the library when it differs from its own);
/// * `multi_threading_compatible()`: 1 (a [`Hook`](crate::Hook) is
///   `Send + Sync`);
/// * `load()`: parses the parameters, calls [`Hook::load`](crate::Hook::load)
///   and registers a callout for every hook point the type implements
///   [`Callout`](crate::Callout) for and the running server has;
/// * `unload()`: drops the hook value;
///
/// and one for the kit's pre-deploy checker, which Kea never calls (and
/// nothing else):
/// * `kea_hooks_check_parameters()`: deserializes and checks parameters as
///   `load()` would ([`Hook::check`](crate::Hook::check)), without Kea.
///
/// The SDK functions these call are `unsafe`: only Kea may load and unload
/// a hook, so safe code cannot free a hook a callout is using.
///
/// No symbol is named like a hook point, so Kea registers nothing behind
/// the SDK's back. Building with `panic = "abort"` is a compile error: a
/// panic must be caught before it reaches Kea.
#[macro_export]
macro_rules! kea_hook {
    ($hook:ty) => {
        #[cfg(panic = "abort")]
        ::core::compile_error!(
            "kea-hooks: build hooks with `panic = \"unwind\"` (set it in [profile.release] and [profile.dev]); with `abort` a panic would take Kea down"
        );

        const _: () = {
            /// Kea hooks API version this library was built for.
            #[allow(unsafe_code)]
            #[unsafe(no_mangle)]
            pub extern "C" fn version() -> ::core::ffi::c_int {
                $crate::__private::KEA_HOOKS_VERSION
            }

            /// The hook may be called from several threads at once.
            #[allow(unsafe_code)]
            #[unsafe(no_mangle)]
            pub extern "C" fn multi_threading_compatible() -> ::core::ffi::c_int {
                1
            }

            /// Builds the hook and registers its callouts.
            #[allow(unsafe_code)]
            #[unsafe(no_mangle)]
            pub extern "C" fn load(
                handle: ::core::option::Option<&mut $crate::__private::RawLibraryHandle>,
            ) -> ::core::ffi::c_int {
                // SAFETY: this is the library's `load`, which only Kea
                // calls, on its main thread, with no callout running.
                unsafe { $crate::__private::load::<$hook>(handle, &$crate::__kea_callout_entries!($hook)) }
            }

            /// The hook's value while it is loaded.
            static SLOT: $crate::__private::HookSlot<$hook> = $crate::__private::new_slot::<$hook>();

            // SAFETY: `SLOT` is this hook's own static, and no other type's.
            #[allow(unsafe_code)]
            unsafe impl $crate::__private::HasSlot for $hook {
                #[inline(always)]
                fn slot() -> &'static $crate::__private::HookSlot<Self> {
                    &SLOT
                }
            }

            /// Drops the hook.
            #[allow(unsafe_code)]
            #[unsafe(no_mangle)]
            pub extern "C" fn unload() -> ::core::ffi::c_int {
                // SAFETY: this is the library's `unload`, which only Kea
                // calls, on its main thread, with no callout running.
                unsafe { $crate::__private::unload::<$hook>() }
            }

            /// For `kea-hooks-check`: checks parameters as `load` would,
            /// without Kea and without starting anything.
            ///
            /// # Safety
            ///
            /// `json` points to `len` readable bytes; `report`, if given,
            /// is callable with `ctx`.
            #[allow(unsafe_code)]
            #[unsafe(no_mangle)]
            pub unsafe extern "C" fn kea_hooks_check_parameters(
                json: *const u8,
                len: usize,
                report: $crate::__private::CheckReport,
                ctx: *mut ::core::ffi::c_void,
            ) -> ::core::ffi::c_int {
                // SAFETY: the caller's contract, as documented above.
                unsafe { $crate::__private::check_parameters::<$hook>(json, len, report, ctx) }
            }
        };
    };
}

/// The callouts `$hook` implements, one entry per hook point the SDK knows.
/// Adding a hook point: a marker in `dhcp4`/`dhcp6` and a line here.
#[doc(hidden)]
#[macro_export]
macro_rules! __kea_callout_entries {
    ($hook:ty) => {{
        #[allow(unused_imports)]
        use $crate::__private::{NotRegistered as _, Registered as _};
        [
            $crate::__kea_probe!($hook, $crate::dhcp4::Pkt4Receive),
            $crate::__kea_probe!($hook, $crate::dhcp4::Subnet4Select),
            $crate::__kea_probe!($hook, $crate::dhcp4::Lease4Select),
            $crate::__kea_probe!($hook, $crate::dhcp4::Leases4Committed),
            $crate::__kea_probe!($hook, $crate::dhcp4::Pkt4Send),
            $crate::__kea_probe!($hook, $crate::dhcp4::Lease4Renew),
            $crate::__kea_probe!($hook, $crate::dhcp4::Lease4Release),
            $crate::__kea_probe!($hook, $crate::dhcp4::Lease4Decline),
            $crate::__kea_probe!($hook, $crate::dhcp4::Buffer4Receive),
            $crate::__kea_probe!($hook, $crate::dhcp4::Buffer4Send),
            $crate::__kea_probe!($hook, $crate::dhcp4::Lease4Expire),
            $crate::__kea_probe!($hook, $crate::dhcp4::Lease4Recover),
            $crate::__kea_probe!($hook, $crate::dhcp4::Host4Identifier),
            $crate::__kea_probe!($hook, $crate::dhcp4::Ddns4Update),
            $crate::__kea_probe!($hook, $crate::dhcp4::Dhcp4SrvConfigured),
            $crate::__kea_probe!($hook, $crate::dhcp4::Cb4Updated),
            $crate::__kea_probe!($hook, $crate::dhcp4::CommandProcessed),
            // Only Kea 2.6+ has it; elsewhere no entry.
            $crate::since_kea_2_6!({
                $crate::__kea_probe!($hook, $crate::dhcp4::Lease4Offer)
            } else {
                ::core::option::Option::None
            }),
            $crate::since_kea_2_6!({
                $crate::__kea_probe!($hook, $crate::dhcp4::Lease4ServerDecline)
            } else {
                ::core::option::Option::None
            }),
            $crate::__kea_probe!($hook, $crate::dhcp6::Buffer6Receive),
            $crate::__kea_probe!($hook, $crate::dhcp6::Pkt6Receive),
            $crate::__kea_probe!($hook, $crate::dhcp6::Subnet6Select),
            $crate::__kea_probe!($hook, $crate::dhcp6::Host6Identifier),
            $crate::__kea_probe!($hook, $crate::dhcp6::Lease6Select),
            $crate::__kea_probe!($hook, $crate::dhcp6::Lease6Renew),
            $crate::__kea_probe!($hook, $crate::dhcp6::Lease6Rebind),
            $crate::__kea_probe!($hook, $crate::dhcp6::Lease6Release),
            $crate::__kea_probe!($hook, $crate::dhcp6::Lease6Decline),
            $crate::__kea_probe!($hook, $crate::dhcp6::Leases6Committed),
            $crate::__kea_probe!($hook, $crate::dhcp6::Pkt6Send),
            $crate::__kea_probe!($hook, $crate::dhcp6::Buffer6Send),
            $crate::__kea_probe!($hook, $crate::dhcp6::Lease6Expire),
            $crate::__kea_probe!($hook, $crate::dhcp6::Lease6Recover),
            $crate::__kea_probe!($hook, $crate::dhcp6::Ddns6Update),
            $crate::__kea_probe!($hook, $crate::dhcp6::Dhcp6SrvConfigured),
            $crate::__kea_probe!($hook, $crate::dhcp6::Cb6Updated),
            // Only Kea 3.0+ has it.
            $crate::since_kea_3_0!({
                $crate::__kea_probe!($hook, $crate::dhcp6::Addr6Register)
            } else {
                ::core::option::Option::None
            }),
        ]
    }};
}

/// Compiles its contents only when the SDK is built against Kea 2.6 or
/// newer: for a hook that supports several Kea releases and uses what only
/// 2.6+ has (for example `Callout<dhcp4::Lease4Offer>`). The form
/// `since_kea_2_6!({ A } else { B })` compiles `A` on 2.6+ and `B` before,
/// in item or expression position.
///
/// ```ignore
/// kea_hooks::since_kea_2_6! {
///     impl Callout<dhcp4::Lease4Offer> for MyHook {
///         fn call(&self, cx: &Context<'_, dhcp4::Lease4Offer>) -> Result<(), Error> {
///             tracing::debug!(lifetime = cx.offer_lifetime()?, "offering");
///             Ok(())
///         }
///     }
/// }
/// ```
#[cfg(kea_2_6)]
#[macro_export]
macro_rules! since_kea_2_6 {
    ({ $($yes:tt)* } else { $($no:tt)* }) => { $($yes)* };
    ($($item:tt)*) => { $($item)* };
}

/// Compiles its contents only when the SDK is built against Kea 2.6 or
/// newer (here: an older Kea, so it expands to nothing).
#[cfg(not(kea_2_6))]
#[macro_export]
macro_rules! since_kea_2_6 {
    ({ $($yes:tt)* } else { $($no:tt)* }) => { $($no)* };
    ($($item:tt)*) => {};
}

/// Compiles its contents only when the SDK is built against Kea 3.0 or
/// newer (for example `Leases4Committed`'s `response()`). See
/// [`since_kea_2_6!`].
#[cfg(kea_3_0)]
#[macro_export]
macro_rules! since_kea_3_0 {
    ({ $($yes:tt)* } else { $($no:tt)* }) => { $($yes)* };
    ($($item:tt)*) => { $($item)* };
}

/// Compiles its contents only when the SDK is built against Kea 3.0 or
/// newer (here: an older Kea, so it expands to nothing).
#[cfg(not(kea_3_0))]
#[macro_export]
macro_rules! since_kea_3_0 {
    ({ $($yes:tt)* } else { $($no:tt)* }) => { $($no)* };
    ($($item:tt)*) => {};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __kea_probe {
    ($hook:ty, $point:ty) => {
        (&&$crate::__private::Probe::<$hook, $point>::new()).entry()
    };
}
