//! DHCPv4 (kea-dhcp4): every hook point, and views of packets, leases,
//! subnets and options that read and write what Kea reads back.
//!
//! Each hook point is a marker type; implement
//! [`Callout<P>`](crate::Callout) for it. A [`Context`] of that point has
//! accessors for exactly the arguments Kea passes there. The views
//! ([`Pkt4`], [`Lease4`], [`Subnet4`]) borrow Kea's objects for the callout
//! and cannot outlive it.
//!
//! | marker | Kea point | arguments | next steps (besides `Continue`) | a failed callout's refusal |
//! |---|---|---|---|---|
//! | [`Pkt4Receive`] | `pkt4_receive` | `query()` | `Skip`, `Drop`: both drop the query (the SDK counts it in `pkt4-receive-drop`) | `Drop` |
//! | [`Subnet4Select`] | `subnet4_select` | `query()`, `subnet()` | `Skip`: no subnet (the client gets no lease); `Drop`: drop the query | `Drop` |
//! | [`Lease4Select`] | `lease4_select` | `query()`, `subnet()`, `lease()`, `fake_allocation()` | `Skip`: the lease is not offered or assigned | `Skip` |
//! | [`Leases4Committed`] | `leases4_committed` | `query()`, `leases()`, `deleted_leases()`, `response()` (3.0+) | `Drop`: no response is sent (the leases stay committed) | `Drop` |
//! | [`Pkt4Send`] | `pkt4_send` | `response()`, `query()`, `subnet()` (2.6+) | `Drop`: the response is not sent | `Drop` |
//! | [`Lease4Renew`] | `lease4_renew` | `query()`, `subnet()`, `lease()`, `client_id()`, `hwaddr()` | `Skip`: the lease is not renewed (the database keeps it as it was) | `Skip` |
//! | [`Lease4Release`] | `lease4_release` | `query()`, `lease()` | `Skip`, `Drop`: the lease is not released | `Drop` |
//! | [`Lease4Decline`] | `lease4_decline` | `query()`, `lease()` | `Skip`, `Drop`: the address is not declined | `Drop` |
//! | `Lease4Offer` (Kea 2.6+) | `lease4_offer` | `query()`, `leases()`, `offer_lifetime()`, `old_lease()`, `response()` (3.0+) | `Drop`: the OFFER is not sent | `Drop` |
//! | [`Buffer4Receive`] | `buffer4_receive` | `query()`, `buffer()`, `set_buffer()` | `Drop` (counted in `pkt4-receive-drop`) | `Drop` |
//! | [`Buffer4Send`] | `buffer4_send` | `response()`, `buffer()`, `set_buffer()` | `Skip`, `Drop`: not sent | `Drop` |
//! | [`Host4Identifier`] | `host4_identifier` | `query()`, `identifier()`, `set_identifier()` | `Skip`, `Drop`: the identifier is ignored | `Skip` |
//! | [`Ddns4Update`] | `ddns4_update` | `query()`, `response()`, `subnet()`, `hostname()`, `set_hostname()`, `dns_updates()`, `set_dns_updates()` | none | none |
//! | [`Lease4Expire`] | `lease4_expire` | `lease()`, `remove_lease()` | `Skip`: not reclaimed | none |
//! | [`Lease4Recover`] | `lease4_recover` | `lease()` | `Skip`: not recovered | none |
//! | [`Dhcp4SrvConfigured`] | `dhcp4_srv_configured` | `json_config()`, `reject()` | `Drop`: the configuration is refused | none |
//! | [`Cb4Updated`] | `cb4_updated` | `audit_entries()` | none | none |
//! | [`CommandProcessed`] | `command_processed` | `name()`, `arguments()`, `response()`, `set_response()` | none | none |
//! | `Lease4ServerDecline` (Kea 2.6+) | `lease4_server_decline` | `query()`, `lease()` | none | none |
//!
//! Writes Kea reads back: the lease at `lease4_select` and `lease4_renew`
//! ([`LeaseWrites`]: `set_valid_lifetime`, `set_hostname`, `set_fqdn_flags`), the subnet at
//! `subnet4_select` (`select_subnet`), options and fields of any [`Pkt4`]
//! (on the response at `pkt4_send`, what the client gets), client classes,
//! and the arguments listed above. `lease4_offer`'s `offer_address_in_use`
//! is read by Kea only when the callout parked the packet, so it is written
//! by resuming it: `Parked<Lease4Offer>::resume_address_in_use`.
//! `lease4_expire`'s `remove_lease` is not read back by any release, so it
//! is read-only.
//!
//! What the SDK refuses ([`Context::set_next_step`] returns `Err`): a step
//! Kea ignores at the point (`Skip` at `leases4_committed` and
//! `lease4_offer`, `Drop` at `lease4_select`), `Skip` at `pkt4_send` (Kea
//! would skip packing and send an empty packet), and `Park` (a callout
//! parks with [`Context::park`](crate::Context::park), at the points that
//! allow it: `leases4_committed`, and on Kea 2.6+ `lease4_offer` and
//! `subnet4_select`; another library's `Park` is always kept).
//!
//! # What exists only on some Kea releases
//!
//! The SDK is built against one Kea; points and arguments that Kea release
//! lacks are not compiled in at all, so using one is a compile error rather
//! than a failure at load. A hook that supports several releases wraps
//! such code in [`since_kea_2_6!`](crate::since_kea_2_6) or
//! [`since_kea_3_0!`](crate::since_kea_3_0).

use crate::callout::{hook_point, Context, HookPoint};
use crate::error::{Error, ErrorKind};
use crate::ffi::{self, Arg, ArgRef};
use crate::hwaddr::HwAddr;

pub(crate) mod config;
mod lease4;
/// Option payloads (family-neutral: the same module as [`crate::option`]).
pub use crate::option;
mod pkt4;
pub(crate) mod stored;
mod subnet4;

pub use lease4::{Lease4, LeaseState, Leases4, Leases4Iter};
pub use option::{OptionData, SubOption, SubOptions, VendorOptions};
pub use pkt4::{MessageType, Pkt4};
pub use config::{Pool4Config, Subnet4Config};
pub use stored::{LeaseCount4, Pages4, StoredLease4};
pub use subnet4::Subnet4;

mod points;

/// `command_processed`, which both servers call (see [`crate::command`]).
pub use crate::points::CommandProcessed;
#[cfg(kea_2_6)]
pub use points::Lease4ServerDecline;
pub use points::{
    Buffer4Receive, Buffer4Send, Cb4Updated, Ddns4Update, Dhcp4SrvConfigured, Host4Identifier, Lease4Expire,
    Lease4Recover, LeaseWrites,
};
/// Host identifier kinds and configuration-backend audit entries, shared
/// with DHCPv6.
pub use crate::points::{AuditEntry, AuditModification, HostIdentifierType};

hook_point!(
    /// `pkt4_receive`: a query was received and parsed, before any
    /// processing. The cheapest place to drop a packet.
    ///
    /// Next steps: `Skip` and `Drop` both drop the query. A failed callout
    /// refused by its policy drops it.
    ///
    /// Kea does not count a query a hook drops here (Kea 3.2's
    /// documentation makes that the hook's job): the SDK adds it to the
    /// statistic `pkt4-receive-drop` when this hook's step is what drops it
    /// (not when an earlier library had dropped it already).
    ///
    /// An earlier library may drop the query by setting `query4` to null
    /// (Kea 3.2 asks libraries not to, and returns silently; Kea 2.2 to
    /// 3.0 go on with the null query and crash). Then `query()` returns an
    /// `Err` saying so, and the SDK drops the packet with status `Drop`
    /// when the callout returns, whatever it returned and whatever
    /// [`Hook::on_error`](crate::Hook::on_error) says, counted as above
    /// and logged at debug level only. So a Rust hook after such a library
    /// keeps even the older releases up (if its callout reads the query).
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Pkt4Receive> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Pkt4Receive>) -> Result<(), Error> {
    ///         // Put VoIP phones in a class of their own, by their vendor class (option 60).
    ///         let query = cx.query()?;
    ///         if query.option(60)?.is_some_and(|vendor| vendor.bytes().starts_with(b"voip")) {
    ///             query.add_class("voip")?;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Pkt4Receive, "pkt4_receive", refuse: Drop, steps: [Skip, Drop], servers: [Dhcp4], drop_statistic: Some("pkt4-receive-drop"),
    null_query_drops: true
);
hook_point!(
    /// `subnet4_select`: Kea selected a subnet (possibly none) for the query.
    ///
    /// Next steps: `Skip`: Kea goes on with no subnet (the client gets no
    /// address); `Drop`: the query is dropped. A failed callout refused by
    /// its policy drops it. On Kea 2.6+ a callout may also park the query
    /// ([`Context::park`](crate::Context::park)); when it resumes, Kea goes
    /// on in the subnet selected when it was parked (or the one given to
    /// `Parked::resume_in_subnet`).
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Subnet4Select> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Subnet4Select>) -> Result<(), Error> {
    ///         // Clients in class "quarantine" go to subnet 99, if the configuration has it.
    ///         if cx.query()?.in_class("quarantine")? && cx.subnet_ids()?.contains(&99) {
    ///             cx.select_subnet(Some(99))?;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Subnet4Select, "subnet4_select", refuse: Drop, steps: [Skip, Drop], servers: [Dhcp4], can_park: cfg!(kea_2_6)
);
hook_point!(
    /// `lease4_select`: Kea is about to offer (`fake_allocation()`) or
    /// assign a lease.
    ///
    /// Next steps: `Skip`: the lease is not offered or assigned (the client
    /// gets a NAK or no answer). Kea cannot drop the query here, so a
    /// failed callout refused by its policy ([`OnFailure::Drop`](crate::OnFailure::Drop))
    /// skips instead.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Lease4Select> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Lease4Select>) -> Result<(), Error> {
    ///         // Guests get ten minutes, in the lease database and in option 51.
    ///         if cx.query()?.in_class("guest")? {
    ///             cx.set_valid_lifetime(600)?;
    ///         }
    ///         tracing::debug!(address = %cx.lease()?.address(), offer = cx.fake_allocation()?, "selected");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Lease4Select, "lease4_select", refuse: Skip, steps: [Skip], servers: [Dhcp4]
);
hook_point!(
    /// `leases4_committed`: leases were granted (or released) in the lease
    /// database, before the response is sent.
    ///
    /// Next steps: `Drop`: no response is sent (the lease database keeps
    /// what was committed). Kea ignores `Skip` here. A failed callout
    /// refused by its policy drops the response.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Leases4Committed> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Leases4Committed>) -> Result<(), Error> {
    ///         for lease in cx.leases()?.iter() {
    ///             tracing::info!(address = %lease.address(), valid = lease.valid_lifetime(), "committed");
    ///         }
    ///         for lease in cx.deleted_leases()?.iter() {
    ///             tracing::info!(address = %lease.address(), "given back");
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Leases4Committed, "leases4_committed", refuse: Drop, steps: [Drop], servers: [Dhcp4], can_park: true
);
hook_point!(
    /// `pkt4_send`: the response is about to be sent.
    ///
    /// Next steps: `Drop`: the response is not sent. `Skip` is refused: Kea
    /// would skip packing the response and send whatever wire data it
    /// already has, empty unless a callout packed it. A failed callout
    /// refused by its policy drops the response.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # use kea_hooks::option::OptionData;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Pkt4Send> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Pkt4Send>) -> Result<(), Error> {
    ///         // Tell every client that gets an ACK where its proxy configuration is (option 252).
    ///         let response = cx.response()?;
    ///         if response.message_type()? == dhcp4::MessageType::ACK {
    ///             response.set_option(252, OptionData::from_text("http://198.18.0.1/wpad.dat"))?;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Pkt4Send, "pkt4_send", refuse: Drop, steps: [Drop], servers: [Dhcp4]
);

hook_point!(
    /// `lease4_renew`: a client with a lease asked to extend it (a
    /// REQUEST while renewing or rebinding, or for an address it holds);
    /// `lease()` is the lease as Kea is about to write it.
    ///
    /// Next steps: `Skip`: the lease is not renewed, and the lease
    /// database keeps it as it was (the client still gets its answer). Kea
    /// ignores `Drop` here, so a failed callout refused by its policy skips.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Lease4Renew> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Lease4Renew>) -> Result<(), Error> {
    ///         let lease = cx.lease()?;
    ///         tracing::info!(address = %lease.address(), subnet = cx.subnet()?.id(), "renewing");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Lease4Renew, "lease4_renew", refuse: Skip, steps: [Skip], servers: [Dhcp4]
);
hook_point!(
    /// `lease4_release`: a client released its lease (a RELEASE for a
    /// lease it holds).
    ///
    /// Next steps: `Skip` or `Drop`: the lease is not released (it stays
    /// in the lease database as it was). A failed callout refused by its
    /// policy keeps the lease too.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Lease4Release> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Lease4Release>) -> Result<(), Error> {
    ///         tracing::info!(address = %cx.lease()?.address(), "released");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Lease4Release, "lease4_release", refuse: Drop, steps: [Skip, Drop], servers: [Dhcp4]
);
hook_point!(
    /// `lease4_decline`: a client declined the address it was given (a
    /// DECLINE: it found the address in use).
    ///
    /// Next steps: `Skip` or `Drop`: the address is not declined (the
    /// lease stays as it was instead of being quarantined). A failed
    /// callout refused by its policy does not decline it either.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Lease4Decline> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Lease4Decline>) -> Result<(), Error> {
    ///         tracing::warn!(address = %cx.lease()?.address(), "address in use on the network");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Lease4Decline, "lease4_decline", refuse: Drop, steps: [Skip, Drop], servers: [Dhcp4]
);

#[cfg(kea_2_6)]
hook_point!(
    #[cfg_attr(docsrs, doc(cfg(kea_2_6)))]
    /// **Kea 2.6+.**
    /// `lease4_offer` (Kea 2.6+): Kea is about to send an OFFER for the
    /// leases in `leases()`.
    ///
    /// Next steps: `Drop`: the OFFER is not sent. Kea ignores `Skip` here.
    /// A failed callout refused by its policy drops the OFFER.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::Lease4Offer> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::Lease4Offer>) -> Result<(), Error> {
    ///         let leases = cx.leases()?;
    ///         tracing::debug!(leases = leases.len(), offer_lifetime = cx.offer_lifetime()?, "offering");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Lease4Offer, "lease4_offer", refuse: Drop, steps: [Drop], servers: [Dhcp4], can_park: true
);

use crate::points::required;

impl<'a, P: HookPoint> Context<'a, P> {
    /// Argument `name` as a DHCPv4 packet (`None` if Kea passed null).
    /// Prefer the per-point accessors; this reaches arguments the SDK does
    /// not name yet. Fails when there is no such argument or it has another
    /// type. (A null `query4` read here at `buffer4_receive` or
    /// `pkt4_receive` drops the packet, as [`Pkt4Receive`] says.)
    #[inline]
    pub fn argument_pkt4(&self, name: &str) -> Result<Option<Pkt4<'a>>, Error> {
        let packet = self.pkt4(ArgRef::by_name(name))?;
        if P::NULL_QUERY_DROPS && packet.is_none() && name == Arg::Query4.name() {
            self.query_gone.set(true);
        }
        Ok(packet)
    }

    /// Argument `name` as a DHCPv4 lease (`None` if null).
    #[inline]
    pub fn argument_lease4(&self, name: &str) -> Result<Option<Lease4<'a>>, Error> {
        self.lease4(ArgRef::by_name(name))
    }

    /// Argument `name` as a DHCPv4 subnet (`None` if null).
    #[inline]
    pub fn argument_subnet4(&self, name: &str) -> Result<Option<Subnet4<'a>>, Error> {
        self.subnet4(ArgRef::by_name(name))
    }

    /// Argument `name` as a collection of DHCPv4 leases (empty if null).
    #[inline]
    pub fn argument_leases4(&self, name: &str) -> Result<Leases4<'a>, Error> {
        self.leases4(ArgRef::by_name(name))
    }

    #[inline]
    fn pkt4(&self, arg: ArgRef<'_>) -> Result<Option<Pkt4<'a>>, Error> {
        Ok(ffi::arg_pkt4_ref(self.handle, arg)?.map(Pkt4::new))
    }

    #[inline]
    fn lease4(&self, arg: ArgRef<'_>) -> Result<Option<Lease4<'a>>, Error> {
        Ok(ffi::arg_lease4_ref(self.handle, arg)?.map(Lease4::new))
    }

    #[inline]
    fn subnet4(&self, arg: ArgRef<'_>) -> Result<Option<Subnet4<'a>>, Error> {
        Ok(ffi::arg_subnet4_ref(self.handle, arg)?.map(Subnet4::new))
    }

    #[inline]
    fn leases4(&self, arg: ArgRef<'_>) -> Result<Leases4<'a>, Error> {
        Ok(Leases4::new(ffi::arg_lease4_collection_ref(
            self.handle,
            arg,
        )?))
    }

    #[inline]
    fn query4(&self) -> Result<Pkt4<'a>, Error> {
        match self.pkt4(ArgRef::Known(Arg::Query4))? {
            Some(query) => Ok(query),
            None => Err(self.query4_null()),
        }
    }

    /// The error for a null `query4`. Where that means an earlier library
    /// dropped the query (`buffer4_receive`, `pkt4_receive`), also marks
    /// the packet for `Drop` when the callout returns.
    #[cold]
    #[inline(never)]
    fn query4_null(&self) -> Error {
        if P::NULL_QUERY_DROPS {
            self.query_gone.set(true);
            Error::new(
                ErrorKind::Kea,
                "argument query4 is null: an earlier hook library dropped the query by clearing it; the packet is dropped",
            )
        } else {
            Error::new(ErrorKind::Kea, "argument query4 is null")
        }
    }

    /// `subnet4`, which Kea never passes null where this is used.
    #[inline]
    fn subnet4_required(&self) -> Result<Subnet4<'a>, Error> {
        required(self.subnet4(ArgRef::Known(Arg::Subnet4))?, Arg::Subnet4)
    }

    /// `lease4`, likewise.
    #[inline]
    fn lease4_required(&self) -> Result<Lease4<'a>, Error> {
        required(self.lease4(ArgRef::Known(Arg::Lease4))?, Arg::Lease4)
    }

    /// `response4`, where Kea always passes one.
    #[inline]
    fn response4_required(&self) -> Result<Pkt4<'a>, Error> {
        required(self.pkt4(ArgRef::Known(Arg::Response4))?, Arg::Response4)
    }
}

impl<'a> Context<'a, Pkt4Receive> {
    /// The query (`query4`).
    #[inline]
    pub fn query(&self) -> Result<Pkt4<'a>, Error> {
        self.query4()
    }
}

impl<'a> Context<'a, Subnet4Select> {
    /// The query (`query4`).
    #[inline]
    pub fn query(&self) -> Result<Pkt4<'a>, Error> {
        self.query4()
    }

    /// The selected subnet (`subnet4`), `None` when Kea found none.
    #[inline]
    pub fn subnet(&self) -> Result<Option<Subnet4<'a>>, Error> {
        self.subnet4(ArgRef::Known(Arg::Subnet4))
    }
}

impl<'a> Context<'a, Lease4Select> {
    /// The query (`query4`).
    #[inline]
    pub fn query(&self) -> Result<Pkt4<'a>, Error> {
        self.query4()
    }

    /// The subnet the lease is from (`subnet4`).
    #[inline]
    pub fn subnet(&self) -> Result<Subnet4<'a>, Error> {
        self.subnet4_required()
    }

    /// The lease about to be offered or assigned (`lease4`).
    #[inline]
    pub fn lease(&self) -> Result<Lease4<'a>, Error> {
        self.lease4_required()
    }

    /// True for a DISCOVER (the lease is only offered), false for a REQUEST
    /// (`fake_allocation`).
    #[inline]
    pub fn fake_allocation(&self) -> Result<bool, Error> {
        Ok(ffi::arg_bool_known(self.handle, Arg::FakeAllocation)?)
    }
}

impl<'a> Context<'a, Leases4Committed> {
    /// The query (`query4`).
    #[inline]
    pub fn query(&self) -> Result<Pkt4<'a>, Error> {
        self.query4()
    }

    /// The leases granted or renewed (`leases4`).
    #[inline]
    pub fn leases(&self) -> Result<Leases4<'a>, Error> {
        self.leases4(ArgRef::Known(Arg::Leases4))
    }

    /// **Kea 3.0+.**
    /// The response Kea is about to send (`response4`, Kea 3.0+), `None`
    /// when there is none (for example after a RELEASE).
    #[cfg(kea_3_0)]
    #[cfg_attr(docsrs, doc(cfg(kea_3_0)))]
    #[inline]
    pub fn response(&self) -> Result<Option<Pkt4<'a>>, Error> {
        self.pkt4(ArgRef::Known(Arg::Response4))
    }

    /// The leases released or replaced (`deleted_leases4`).
    #[inline]
    pub fn deleted_leases(&self) -> Result<Leases4<'a>, Error> {
        self.leases4(ArgRef::Known(Arg::DeletedLeases4))
    }
}

impl<'a> Context<'a, Lease4Renew> {
    /// The query (`query4`).
    #[inline]
    pub fn query(&self) -> Result<Pkt4<'a>, Error> {
        self.query4()
    }

    /// The subnet of the lease (`subnet4`).
    #[inline]
    pub fn subnet(&self) -> Result<Subnet4<'a>, Error> {
        self.subnet4_required()
    }

    /// The lease as Kea is about to write it (`lease4`).
    #[inline]
    pub fn lease(&self) -> Result<Lease4<'a>, Error> {
        self.lease4_required()
    }

    /// The client identifier's bytes (`clientid`): `None` when the client
    /// sent none, or when the subnet has `match-client-id` off (Kea then
    /// passes none).
    pub fn client_id(&self) -> Result<Option<&'a [u8]>, Error> {
        Ok(ffi::arg_client_id_ref(self.handle, "clientid")?.map(ffi::client_id_bytes))
    }

    /// The client's hardware address (`hwaddr`), if Kea has one.
    pub fn hwaddr(&self) -> Result<Option<HwAddr<'a>>, Error> {
        Ok(ffi::arg_hwaddr_ref(self.handle, "hwaddr")?.map(|hw| {
            let mut htype = 0;
            let bytes = ffi::hwaddr_bytes(hw, &mut htype);
            HwAddr::new(htype, bytes)
        }))
    }
}

impl<'a> Context<'a, Lease4Release> {
    /// The RELEASE (`query4`).
    #[inline]
    pub fn query(&self) -> Result<Pkt4<'a>, Error> {
        self.query4()
    }

    /// The lease being released (`lease4`).
    #[inline]
    pub fn lease(&self) -> Result<Lease4<'a>, Error> {
        self.lease4_required()
    }
}

impl<'a> Context<'a, Lease4Decline> {
    /// The DECLINE (`query4`).
    #[inline]
    pub fn query(&self) -> Result<Pkt4<'a>, Error> {
        self.query4()
    }

    /// The lease of the declined address (`lease4`).
    #[inline]
    pub fn lease(&self) -> Result<Lease4<'a>, Error> {
        self.lease4_required()
    }
}

impl<'a> Context<'a, Pkt4Send> {
    /// **Kea 2.6+.**
    /// The subnet of the response (`subnet4`, Kea 2.6+), `None` when Kea
    /// selected none.
    #[cfg(kea_2_6)]
    #[cfg_attr(docsrs, doc(cfg(kea_2_6)))]
    #[inline]
    pub fn subnet(&self) -> Result<Option<Subnet4<'a>>, Error> {
        self.subnet4(ArgRef::Known(Arg::Subnet4))
    }

    /// The response about to be sent (`response4`).
    #[inline]
    pub fn response(&self) -> Result<Pkt4<'a>, Error> {
        self.response4_required()
    }

    /// The query it answers (`query4`).
    #[inline]
    pub fn query(&self) -> Result<Pkt4<'a>, Error> {
        self.query4()
    }
}

/// **Kea 2.6+.**
#[cfg(kea_2_6)]
#[cfg_attr(docsrs, doc(cfg(kea_2_6)))]
impl<'a> Context<'a, Lease4Offer> {
    /// The DISCOVER (`query4`).
    #[inline]
    pub fn query(&self) -> Result<Pkt4<'a>, Error> {
        self.query4()
    }

    /// The leases about to be offered (`leases4`).
    #[inline]
    pub fn leases(&self) -> Result<Leases4<'a>, Error> {
        self.leases4(ArgRef::Known(Arg::Leases4))
    }

    /// How long the offered lease is held for the client, in seconds
    /// (`offer_lifetime`; 0 unless `offer-lifetime` is configured).
    #[inline]
    pub fn offer_lifetime(&self) -> Result<u32, Error> {
        Ok(ffi::arg_u32(self.handle, Arg::OfferLifetime.name())?)
    }

    /// The client's previous lease, if Kea had one (`old_lease`).
    #[inline]
    pub fn old_lease(&self) -> Result<Option<Lease4<'a>>, Error> {
        self.lease4(ArgRef::Known(Arg::OldLease))
    }

    /// **Kea 3.0+.**
    /// The OFFER about to be sent (`response4`, Kea 3.0+).
    #[cfg(kea_3_0)]
    #[cfg_attr(docsrs, doc(cfg(kea_3_0)))]
    #[inline]
    pub fn response(&self) -> Result<Pkt4<'a>, Error> {
        self.response4_required()
    }
}

// ---- parking: where kea-dhcp4 lets a callout park (see crate::parking) ----

#[cfg(kea_2_6)]
use crate::parking::Parked;
use crate::parking::{Parkable, Parking};

impl Parkable for Leases4Committed {
    const PARKING: Parking = Parking::Plain;
}
/// **Kea 2.6+.**
#[cfg(kea_2_6)]
#[cfg_attr(docsrs, doc(cfg(kea_2_6)))]
impl Parkable for Lease4Offer {
    const PARKING: Parking = Parking::Offer;
}
/// **Kea 2.6+.**
#[cfg(kea_2_6)]
#[cfg_attr(docsrs, doc(cfg(kea_2_6)))]
impl Parkable for Subnet4Select {
    const PARKING: Parking = Parking::SubnetSelect;
}

/// **Kea 2.6+.**
#[cfg(kea_2_6)]
#[cfg_attr(docsrs, doc(cfg(kea_2_6)))]
impl Parked<Lease4Offer> {
    /// Resumes the OFFER's query telling Kea the offered address is in use
    /// (`offer_address_in_use`, as ISC's ping_check does when the address
    /// answers a ping): Kea declines the address (a `lease4_server_decline`
    /// callout sees it), sends no OFFER, and the client retries.
    pub fn resume_address_in_use(self) {
        self.resume_offer_in_use()
    }
}

/// **Kea 2.6+.**
#[cfg(kea_2_6)]
#[cfg_attr(docsrs, doc(cfg(kea_2_6)))]
impl Parked<Subnet4Select> {
    /// Resumes the query in configured subnet `subnet_id` (the decision
    /// the hook waited for: a RADIUS server's answer, say), or with no
    /// subnet (`None`: the client gets no address). An id the running
    /// configuration lacks when the packet resumes drops it, with an error
    /// in the log.
    pub fn resume_in_subnet(self, subnet_id: Option<u32>) {
        self.resume_in_subnet_id(subnet_id)
    }
}
