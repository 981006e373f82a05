//! The hook points around the packet path's main ones (raw buffers,
//! reclamation, host identifiers, DNS updates, configuration, commands),
//! and the arguments Kea reads back after a callout, written through safe
//! methods.
//!
//! Values Kea reads back are returned as copies, never as references into
//! Kea's objects, so that a write cannot leave a dangling borrow.

use super::option::invalid;
use super::{Lease4, Pkt4, Subnet4};
use crate::callout::{hook_point, Context, HookPoint, NextStep};
use crate::error::{Error, ErrorKind};
use crate::ffi::{self, Arg, ArgRef};
use crate::points::{
    ddns_hostname, dns_updates, read_audit_entries, read_identifier, set_ddns_hostname, set_dns_updates, write_identifier,
    AuditEntry, HostIdentifierType,
};

hook_point!(
    /// `buffer4_receive`: a datagram arrived, before Kea parses it.
    /// `query()` holds only what the socket gave (addresses, ports,
    /// interface); [`buffer`](Context::buffer) is the raw DHCPv4 message.
    ///
    /// Next steps: `Drop`: the datagram is dropped (the SDK counts it in
    /// `pkt4-receive-drop`, as for `pkt4_receive`). `Skip` is refused: Kea
    /// would then expect the callout to have parsed the packet itself. A
    /// failed callout refused by its policy drops the datagram. A `query4`
    /// an earlier library set to null drops the datagram, as at
    /// [`Pkt4Receive`](super::Pkt4Receive).
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Buffer4Receive> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Buffer4Receive>) -> Result<(), Error> {
    ///         if cx.buffer()?.len() < 240 {
    ///             cx.set_next_step(NextStep::Drop)?; // too short to be DHCP
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Buffer4Receive, "buffer4_receive", refuse: Drop, steps: [Drop], servers: [Dhcp4], drop_statistic: Some("pkt4-receive-drop"),
    null_query_drops: true
);

hook_point!(
    /// `buffer4_send`: the response is packed and about to go out;
    /// [`buffer`](Context::buffer) is the wire form, and
    /// [`set_buffer`](Context::set_buffer) replaces it.
    ///
    /// Next steps: `Skip` or `Drop`: the response is not sent. A failed
    /// callout refused by its policy drops it.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Buffer4Send> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Buffer4Send>) -> Result<(), Error> {
    ///         tracing::trace!(bytes = cx.buffer()?.len(), "sending");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Buffer4Send, "buffer4_send", refuse: Drop, steps: [Skip, Drop], servers: [Dhcp4]
);

hook_point!(
    /// `lease4_expire`: the reclamation of expired leases reached `lease()`
    /// (on Kea's main thread, from its timer, with no query).
    ///
    /// Next steps: `Skip`: Kea does not reclaim the lease (no DNS removal,
    /// no state change): the hook took care of it, and Kea tries again at
    /// its next reclamation. A failed callout refused by its policy lets
    /// Kea reclaim as usual (refusing to reclaim would keep the lease
    /// forever).
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Lease4Expire> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Lease4Expire>) -> Result<(), Error> {
    ///         tracing::info!(address = %cx.lease()?.address(), removed = cx.remove_lease()?, "expired");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Lease4Expire, "lease4_expire", refuse: Continue, steps: [Skip], servers: [Dhcp4]
);

hook_point!(
    /// `lease4_recover`: a declined address's probation ended and Kea is
    /// about to make it available again.
    ///
    /// Next steps: `Skip`: the address is not recovered (its lease stays
    /// in the database, reclaimed, instead of being removed). A failed
    /// callout refused by its policy lets Kea recover it.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Lease4Recover> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Lease4Recover>) -> Result<(), Error> {
    ///         tracing::info!(address = %cx.lease()?.address(), "back in the pool");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Lease4Recover, "lease4_recover", refuse: Continue, steps: [Skip], servers: [Dhcp4]
);

hook_point!(
    /// `host4_identifier`: Kea asks for a flexible host identifier (only
    /// when `host-reservation-identifiers` lists `flex-id`). What the
    /// callout sets with [`set_identifier`](Context::set_identifier) is
    /// looked up among the reservations, e.g. `"flex-id": "'room-101'"`.
    ///
    /// Next steps: `Skip` or `Drop`: Kea ignores the identifier. A failed
    /// callout refused by its policy does the same.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Host4Identifier> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Host4Identifier>) -> Result<(), Error> {
    ///         // Reserve by the relay's remote id (option 82, sub-option 2).
    ///         if let Some(rai) = cx.query()?.option(82)? {
    ///             if let Some(remote_id) = rai.sub_options()?.get(2) {
    ///                 cx.set_identifier(dhcp4::HostIdentifierType::Flex, remote_id)?;
    ///             }
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Host4Identifier, "host4_identifier", refuse: Skip, steps: [Skip, Drop], servers: [Dhcp4]
);

hook_point!(
    /// `ddns4_update`: Kea decided the client's host name and whether to
    /// update forward and reverse DNS; the callout may change all three
    /// ([`set_hostname`](Context::set_hostname),
    /// [`set_dns_updates`](Context::set_dns_updates)), and Kea then puts
    /// the new name in the response's host name (12) or FQDN (81) option
    /// and in the lease.
    ///
    /// Next steps: none (Kea reads only the arguments). A failed callout
    /// leaves Kea's own decision.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Ddns4Update> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Ddns4Update>) -> Result<(), Error> {
    ///         let name = cx.hostname()?.to_lowercase();
    ///         cx.set_hostname(&name)?;
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Ddns4Update, "ddns4_update", refuse: Continue, steps: [], servers: [Dhcp4]
);

hook_point!(
    /// `dhcp4_srv_configured`: a configuration was parsed and is about to
    /// be used (at start and on every `config-set`/`config-reload`), on
    /// Kea's main thread.
    ///
    /// Next steps: `Drop` (best through [`reject`](Context::reject), which
    /// gives the reason): the configuration is refused, with that text as
    /// the error (at start Kea exits; on a reload the old one stays). A
    /// failed callout does not refuse it.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Dhcp4SrvConfigured> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Dhcp4SrvConfigured>) -> Result<(), Error> {
    ///         let config = cx.json_config()?;
    ///         if config["subnet4"].as_array().map_or(true, |s| s.is_empty()) {
    ///             cx.reject("this hook needs at least one subnet")?;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Dhcp4SrvConfigured, "dhcp4_srv_configured", refuse: Continue, steps: [Drop], servers: [Dhcp4], applies_config: true
);

hook_point!(
    /// `cb4_updated`: Kea applied changes from a configuration backend
    /// (`config-control`, e.g. MySQL or PostgreSQL); `audit_entries()`
    /// says what changed.
    ///
    /// Next steps: none.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Cb4Updated> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Cb4Updated>) -> Result<(), Error> {
    ///         for e in cx.audit_entries()? {
    ///             tracing::info!(object = %e.object_type, id = e.object_id, "changed in the backend");
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Cb4Updated, "cb4_updated", refuse: Continue, steps: [], servers: [Dhcp4]
);

#[cfg(kea_2_6)]
hook_point!(
    #[cfg_attr(docsrs, doc(cfg(kea_2_6)))]
    /// **Kea 2.6+.**
    /// `lease4_server_decline` (Kea 2.6+): the server itself declined an
    /// address it was about to offer, because a hook (such as ISC's
    /// ping_check) found it in use (`offer_address_in_use` set at a
    /// parked `lease4_offer`).
    ///
    /// Next steps: none.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// kea_hooks::since_kea_2_6! {
    ///     impl Callout<dhcp4::Lease4ServerDecline> for H {
    ///         fn call(&self, cx: &Context<'_, dhcp4::Lease4ServerDecline>) -> Result<(), Error> {
    ///             tracing::warn!(address = %cx.lease()?.address(), "in use, declined by the server");
    ///             Ok(())
    ///         }
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Lease4ServerDecline, "lease4_server_decline", refuse: Continue, steps: [], servers: [Dhcp4]
);

// ---- writes at the main points ----

impl<'a> Context<'a, super::Subnet4Select> {
    /// Selects subnet `id` of the current configuration for the query, or
    /// none (`None`: the client then gets no address, as with `Skip`).
    /// Fails, changing nothing, when the configuration has no subnet with
    /// that id (Kea 3.2 requires a subnet of the configuration here).
    pub fn select_subnet(&self, id: Option<u32>) -> Result<(), Error> {
        match id {
            None => Ok(ffi::arg_clear_subnet4(self.handle)?),
            Some(id) if ffi::arg_select_subnet4(self.handle, id)? => Ok(()),
            Some(id) => Err(invalid(format_args!(
                "the configuration has no subnet with id {id}"
            ))),
        }
    }

    /// The ids of the configured subnets Kea could select from
    /// (`subnet4collection`), in id order.
    pub fn subnet_ids(&self) -> Result<Vec<u32>, Error> {
        Ok(ffi::arg_subnet4_collection_ids(
            self.handle,
            "subnet4collection",
        )?)
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Writes to the lease at the two points where Kea stores the lease it
/// passed after the callout, and answers from it (the lease time the
/// client gets is the lease's valid lifetime): [`Lease4Select`](super::Lease4Select)
/// and [`Lease4Renew`](super::Lease4Renew). One trait serves both, so a
/// hook can treat them with one generic function. It is in the
/// [prelude](crate::prelude).
///
/// ```no_run
/// # use kea_hooks::prelude::*;
/// # struct H;
/// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
/// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
/// fn short_leases_for_guests<'a>(cx: &impl dhcp4::LeaseWrites<'a>) -> Result<(), Error> {
///     if cx.query()?.in_class("guests")? {
///         cx.set_valid_lifetime(900)?;
///     }
///     Ok(())
/// }
///
/// impl Callout<dhcp4::Lease4Select> for H {
///     fn call(&self, cx: &Context<'_, dhcp4::Lease4Select>) -> Result<(), Error> {
///         short_leases_for_guests(cx)
///     }
/// }
/// impl Callout<dhcp4::Lease4Renew> for H {
///     fn call(&self, cx: &Context<'_, dhcp4::Lease4Renew>) -> Result<(), Error> {
///         short_leases_for_guests(cx)
///     }
/// }
/// # kea_hooks::kea_hook!(H);
/// ```
pub trait LeaseWrites<'a>: sealed::Sealed {
    /// The query (`query4`).
    fn query(&self) -> Result<Pkt4<'a>, Error>;

    /// The lease Kea is about to store (`lease4`).
    fn lease(&self) -> Result<Lease4<'a>, Error>;

    /// Sets the lease's valid lifetime, in seconds (what the lease
    /// database records and the client receives in option 51).
    fn set_valid_lifetime(&self, seconds: u32) -> Result<(), Error> {
        ffi::lease4_set_valid_lft(self.lease()?.raw(), seconds);
        Ok(())
    }

    /// Sets the lease's hostname (recorded in the lease database).
    fn set_hostname(&self, hostname: &str) -> Result<(), Error> {
        Ok(ffi::lease4_set_hostname(self.lease()?.raw(), hostname.as_bytes())?)
    }

    /// Sets whether forward and reverse DNS are (to be) updated for the
    /// lease (the lease's `fqdn_fwd`/`fqdn_rev`).
    fn set_fqdn_flags(&self, forward: bool, reverse: bool) -> Result<(), Error> {
        ffi::lease4_set_fqdn(self.lease()?.raw(), forward, reverse);
        Ok(())
    }
}

macro_rules! lease_writes {
    ($($point:ty),*) => {$(
        impl sealed::Sealed for Context<'_, $point> {}
        impl<'a> LeaseWrites<'a> for Context<'a, $point> {
            #[inline]
            fn query(&self) -> Result<Pkt4<'a>, Error> {
                self.query4()
            }

            #[inline]
            fn lease(&self) -> Result<Lease4<'a>, Error> {
                self.lease4_required()
            }
        }
    )*};
}

lease_writes!(super::Lease4Select, super::Lease4Renew);

// ---- accessors of the points above ----

impl<'a> Context<'a, Buffer4Receive> {
    /// The datagram as received (`query4`, not parsed yet: only its
    /// addresses, ports and interface are set).
    pub fn query(&self) -> Result<Pkt4<'a>, Error> {
        self.query4()
    }

    /// The raw DHCPv4 message (a copy).
    pub fn buffer(&self) -> Result<Vec<u8>, Error> {
        Ok(ffi::pkt4_raw(self.query4()?.raw()).to_vec())
    }

    /// Replaces the raw message Kea is about to parse.
    pub fn set_buffer(&self, bytes: &[u8]) -> Result<(), Error> {
        Ok(ffi::pkt4_set_raw(self.query4()?.raw(), bytes)?)
    }
}

impl<'a> Context<'a, Buffer4Send> {
    /// The response, already packed (`response4`).
    pub fn response(&self) -> Result<Pkt4<'a>, Error> {
        self.response4_required()
    }

    /// The packed response as it will go on the wire (a copy).
    pub fn buffer(&self) -> Result<Vec<u8>, Error> {
        Ok(ffi::pkt4_out_buffer(self.response()?.raw())?.to_vec())
    }

    /// Replaces what goes on the wire.
    pub fn set_buffer(&self, bytes: &[u8]) -> Result<(), Error> {
        Ok(ffi::pkt4_set_out_buffer(self.response()?.raw(), bytes)?)
    }
}

impl<'a> Context<'a, Lease4Expire> {
    /// The expired lease (`lease4`).
    pub fn lease(&self) -> Result<Lease4<'a>, Error> {
        self.lease4_required()
    }

    /// Whether Kea will remove the lease from the database (rather than
    /// keep it as expired-reclaimed): `expired-leases-processing`'s
    /// `hold-reclaimed-time` is 0 (`remove_lease`). Kea does not read this
    /// argument back, so it cannot be changed.
    pub fn remove_lease(&self) -> Result<bool, Error> {
        Ok(ffi::arg_bool(self.handle, "remove_lease")?)
    }
}

impl<'a> Context<'a, Lease4Recover> {
    /// The lease of the declined address (`lease4`).
    pub fn lease(&self) -> Result<Lease4<'a>, Error> {
        self.lease4_required()
    }
}

impl<'a> Context<'a, Host4Identifier> {
    /// The query (`query4`).
    pub fn query(&self) -> Result<Pkt4<'a>, Error> {
        self.query4()
    }

    /// The identifier as it stands (`id_type`, `id_value`): empty unless
    /// an earlier library set one.
    pub fn identifier(&self) -> Result<(HostIdentifierType, Vec<u8>), Error> {
        read_identifier(self.handle)
    }

    /// Sets the identifier Kea looks the client's reservation up by (at
    /// most 128 bytes, Kea's limit for an identifier; empty means none).
    pub fn set_identifier(&self, kind: HostIdentifierType, value: &[u8]) -> Result<(), Error> {
        write_identifier(self.handle, kind, value)
    }
}

impl<'a> Context<'a, Ddns4Update> {
    /// The query (`query4`).
    pub fn query(&self) -> Result<Pkt4<'a>, Error> {
        self.query4()
    }

    /// The response being built (`response4`).
    pub fn response(&self) -> Result<Pkt4<'a>, Error> {
        self.response4_required()
    }

    /// The selected subnet (`subnet4`).
    pub fn subnet(&self) -> Result<Option<Subnet4<'a>>, Error> {
        self.subnet4(ArgRef::Known(Arg::Subnet4))
    }

    /// The host name Kea decided on (`hostname`; empty when none).
    pub fn hostname(&self) -> Result<String, Error> {
        ddns_hostname(self.handle)
    }

    /// Replaces the host name (a fully qualified name, or empty for none).
    pub fn set_hostname(&self, hostname: &str) -> Result<(), Error> {
        set_ddns_hostname(self.handle, hostname)
    }

    /// Whether forward (`fwd-update`) and reverse (`rev-update`) DNS will
    /// be updated.
    pub fn dns_updates(&self) -> Result<(bool, bool), Error> {
        dns_updates(self.handle)
    }

    /// Sets whether forward and reverse DNS will be updated.
    pub fn set_dns_updates(&self, forward: bool, reverse: bool) -> Result<(), Error> {
        set_dns_updates(self.handle, forward, reverse)
    }
}

impl<'a> Context<'a, Dhcp4SrvConfigured> {
    /// The configuration as Kea parsed it (`json_config`: the contents of
    /// the `Dhcp4` map, `{"subnet4": [...], ...}`).
    pub fn json_config(&self) -> Result<serde_json::Value, Error> {
        self.argument_json("json_config")
    }

    /// Refuses the configuration with `reason` (Kea's error text for it).
    pub fn reject(&self, reason: &str) -> Result<(), Error> {
        ffi::arg_set_string(self.handle, "error", reason)?;
        self.set_next_step(NextStep::Drop)
    }
}

impl<'a> Context<'a, Cb4Updated> {
    /// What the backend changed (`audit_entries`), one [`AuditEntry`] per
    /// changed object, in Kea's order.
    ///
    /// Kea hands them over as a Boost.MultiIndex container, whose C++ type
    /// depends on the Boost headers: a hook built against Boost 1.92+
    /// headers for a Kea built with an older Boost gets `Err` here
    /// (`bad_any_cast`; the SDK's build warns). Build against the Boost
    /// headers Kea was built with (Debian sid: `libboost1.90-dev`).
    pub fn audit_entries(&self) -> Result<Vec<AuditEntry>, Error> {
        read_audit_entries(self.handle)
    }
}

/// **Kea 2.6+.**
#[cfg(kea_2_6)]
#[cfg_attr(docsrs, doc(cfg(kea_2_6)))]
impl<'a> Context<'a, Lease4ServerDecline> {
    /// The DISCOVER the address was about to be offered for (`query4`).
    pub fn query(&self) -> Result<Pkt4<'a>, Error> {
        self.query4()
    }

    /// The lease of the declined address (`lease4`).
    pub fn lease(&self) -> Result<Lease4<'a>, Error> {
        self.lease4_required()
    }
}

impl<'a, P: HookPoint> Context<'a, P> {
    /// Argument `name`, a Kea data element (`ConstElementPtr`), as JSON.
    /// Prefer the per-point accessors; this reaches arguments the SDK does
    /// not name.
    pub fn argument_json(&self, name: &str) -> Result<serde_json::Value, Error> {
        let text = ffi::arg_element_json(self.handle, name)?;
        serde_json::from_str(&text).map_err(|e| {
            Error::new(
                ErrorKind::Kea,
                format!("argument {name}: Kea's JSON did not parse: {e}"),
            )
        })
    }
}
