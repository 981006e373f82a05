//! C++ type names shared with Kea.
//!
//! Kea's `CalloutHandle::getArgument<T>` ends in `boost::any_cast`, which
//! compares `typeid(T)`s: libstdc++ compares the type-name pointers, then
//! falls back to `strcmp` of the names. rustc's version script for a cdylib
//! makes every C++ symbol of the shim local, so the shim's `typeid`s would
//! point at private copies of the names and every argument fetch would pay
//! the `strcmp`. Exporting the names of the argument types the shim fetches
//! lets the dynamic linker bind the shim's references to Kea's own copies
//! (Kea's libraries export them, and come first in the lookup order), so the
//! pointer comparison succeeds as it does for a hook written in C++. Where
//! Kea does not export a name, this definition is used, with the same text,
//! and the comparison falls back to `strcmp` as before.

macro_rules! cxx_type_name {
    ($($(#[$cfg:meta])* $sym:ident = $text:literal;)*) => {$(
        $(#[$cfg])*
        #[doc(hidden)]
        #[unsafe(no_mangle)]
        #[allow(non_upper_case_globals)]
        pub static $sym: [u8; $text.len()] = *$text;
    )*};
}

cxx_type_name! {
    _ZTSN5boost10shared_ptrIN3isc4dhcp4Pkt4EEE = b"N5boost10shared_ptrIN3isc4dhcp4Pkt4EEE\0";
    _ZTSN5boost10shared_ptrIN3isc4dhcp6Lease4EEE = b"N5boost10shared_ptrIN3isc4dhcp6Lease4EEE\0";
    #[cfg(not(kea_3_0))]
    _ZTSN5boost10shared_ptrIN3isc4dhcp7Subnet4EEE = b"N5boost10shared_ptrIN3isc4dhcp7Subnet4EEE\0";
    #[cfg(kea_3_0)]
    _ZTSN5boost10shared_ptrIKN3isc4dhcp7Subnet4EEE = b"N5boost10shared_ptrIKN3isc4dhcp7Subnet4EEE\0";
}
