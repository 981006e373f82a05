//! DHCPv6 (kea-dhcp6): every hook point, and views of packets (with their
//! relay chain), leases (addresses and delegated prefixes), subnets (with
//! their pools) and options that read and write what Kea reads back.
//!
//! The same shape as [`crate::dhcp4`]: each hook point is a marker type;
//! implement [`Callout<P>`](crate::Callout) for it. A [`Context`] of that
//! point has accessors for exactly the arguments Kea passes there. The
//! views ([`Pkt6`], [`Lease6`], [`Subnet6`]) borrow Kea's objects for the
//! callout and cannot outlive it. A hook may implement points of both
//! families: kea-dhcp4 registers its DHCPv4 callouts, kea-dhcp6 its
//! DHCPv6 ones, and a hook with callouts for only one family is refused
//! by the other server's `load` (see [`Hook`](crate::Hook)).
//!
//! | marker | Kea point | arguments | next steps (besides `Continue`) | a failed callout's refusal |
//! |---|---|---|---|---|
//! | [`Buffer6Receive`] | `buffer6_receive` | `query()`, `buffer()`, `set_buffer()` | `Drop` (counted in `pkt6-receive-drop`) | `Drop` |
//! | [`Pkt6Receive`] | `pkt6_receive` | `query()` | `Skip`, `Drop`: both drop the query (counted in `pkt6-receive-drop`) | `Drop` |
//! | [`Subnet6Select`] | `subnet6_select` | `query()`, `subnet()`, `select_subnet()`, `subnet_ids()` | `Skip`: no subnet; `Drop`: drop the query; park (2.6+) | `Drop` |
//! | [`Host6Identifier`] | `host6_identifier` | `query()`, `identifier()`, `set_identifier()` | `Skip`, `Drop`: the identifier is ignored | `Skip` |
//! | [`Lease6Select`] | `lease6_select` | `query()`, `subnet()`, `lease()`, `fake_allocation()` | `Skip`: the lease is not offered or assigned | `Skip` |
//! | [`Lease6Renew`] | `lease6_renew` | `query()`, `lease()`, `ia()` | `Skip`: the lease is not extended | `Skip` |
//! | [`Lease6Rebind`] | `lease6_rebind` | `query()`, `lease()`, `ia()` | `Skip`: the lease is not extended | `Skip` |
//! | [`Lease6Release`] | `lease6_release` | `query()`, `lease()` | `Skip`: the lease is not released (the IA says UnspecFail) | `Skip` |
//! | [`Lease6Decline`] | `lease6_decline` | `query()`, `lease()` | `Skip`: not declined; `Drop`: not declined, no REPLY | `Drop` |
//! | [`Leases6Committed`] | `leases6_committed` | `query()`, `leases()`, `deleted_leases()`, `response()` (3.0+) | `Drop`: no response is sent; park | `Drop` |
//! | [`Pkt6Send`] | `pkt6_send` | `response()`, `query()`, `subnet()` (2.6+) | `Drop`: the response is not sent | `Drop` |
//! | [`Buffer6Send`] | `buffer6_send` | `response()`, `buffer()`, `set_buffer()` | `Skip`, `Drop`: not sent | `Drop` |
//! | [`Lease6Expire`] | `lease6_expire` | `lease()`, `remove_lease()` | `Skip`: not reclaimed | none |
//! | [`Lease6Recover`] | `lease6_recover` | `lease()` | `Skip`: not recovered | none |
//! | [`Ddns6Update`] | `ddns6_update` | `query()`, `response()`, `subnet()`, `hostname()`, `set_hostname()`, `dns_updates()`, `set_dns_updates()` | none | none |
//! | [`Dhcp6SrvConfigured`] | `dhcp6_srv_configured` | `json_config()`, `reject()` | `Drop`: the configuration is refused | none |
//! | [`Cb6Updated`] | `cb6_updated` | `audit_entries()` | none | none |
//! | [`CommandProcessed`] | `command_processed` | `name()`, `arguments()`, `response()`, `set_response()` | none | none |
//! | `Addr6Register` (Kea 3.0+) | `addr6_register` | `query()`, `response()`, `address()`, `old_lease()`, `new_lease()` | `Skip`: the lease is not written; `Drop`: drop the query | `Drop` |
//!
//! Writes Kea reads back: the lease at `lease6_select`, `lease6_renew` and
//! `lease6_rebind` ([`LeaseWrites6`]: lifetimes, hostname, DNS flags), the
//! subnet at `subnet6_select` (`select_subnet`), options and classes of
//! any [`Pkt6`] (on the response at `pkt6_send`, what the client gets), the
//! raw buffers, and the arguments listed above.
//!
//! What the SDK refuses ([`Context::set_next_step`] returns `Err`): a step
//! Kea ignores at the point, `Skip` at `pkt6_send` (Kea would skip packing
//! the response and send an empty one) and at `buffer6_receive` (Kea would
//! expect the callout to have parsed the packet), and `Park` (a callout
//! parks with [`Context::park`](crate::Context::park) where the point
//! allows it).

use crate::callout::{hook_point, Context, HookPoint, NextStep};
use crate::error::{Error, ErrorKind};
use crate::ffi::{self, Arg, ArgRef};

mod config;
mod lease6;
pub mod option;
mod pkt6;
mod stored;
mod subnet6;

pub use lease6::{Lease6, LeaseState, LeaseType, Leases6, Leases6Iter};
pub use option::{code, Ia, IaAddress, IaPrefix, StatusCode};
pub use pkt6::{MessageType6, Pkt6, Relay6};
pub use config::{PdPool6Config, Pool6Config, Subnet6Config};
pub use stored::{LeaseCount6, Pages6, StoredLease6};
pub use subnet6::{Pool6, Subnet6};

/// `command_processed`, which both servers call (see [`crate::command`]).
pub use crate::command::CommandProcessed;
/// Host identifier kinds and configuration-backend audit entries, shared
/// with DHCPv4.
pub use crate::points::{AuditEntry, AuditModification, HostIdentifierType};

/// Where a hook's drop at `buffer6_receive` or `pkt6_receive` is counted:
/// kea-dhcp6 counts it itself in `pkt6-receive-drop` up to 2.4 (read in
/// its sources, and seen on 2.2), and no longer from 2.6 on (seen), so
/// the SDK counts it there, as it does in kea-dhcp4.
const SDK_COUNTS_DROPS: Option<&str> = if cfg!(kea_2_6) { Some("pkt6-receive-drop") } else { None };

hook_point!(
    /// `buffer6_receive`: a datagram arrived, before Kea parses it.
    /// `query()` holds only what the socket gave (addresses, ports,
    /// interface); [`buffer`](Context::buffer) is the raw DHCPv6 message.
    ///
    /// Next steps: `Drop`: the datagram is dropped, counted in
    /// `pkt6-receive-drop` (see [`Pkt6Receive`] for who counts it). `Skip` is refused: Kea would then expect the
    /// callout to have parsed the packet itself. A failed callout refused
    /// by its policy drops the datagram.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Buffer6Receive> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Buffer6Receive>) -> Result<(), Error> {
    ///         if cx.buffer()?.len() < 4 {
    ///             cx.set_next_step(NextStep::Drop)?; // shorter than a DHCPv6 header
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Buffer6Receive, "buffer6_receive", refuse: Drop, steps: [Drop], servers: [Dhcp6], drop_statistic: SDK_COUNTS_DROPS,
    null_query_drops: true
);
hook_point!(
    /// `pkt6_receive`: a query was received and parsed (a relayed one
    /// unwrapped: see [`Pkt6::relays`]), before any processing. The
    /// cheapest place to drop a packet.
    ///
    /// Next steps: `Skip` and `Drop` both drop the query, counted in
    /// `pkt6-receive-drop`: by kea-dhcp6 itself up to 2.4, by the SDK from
    /// 2.6 on, where Kea no longer counts a hook's drop (when this hook's
    /// step is what drops it, as at [`Pkt4Receive`](crate::dhcp4::Pkt4Receive)). A
    /// failed callout refused by its policy drops it. An earlier library
    /// that set `query6` to null dropped the query: `query()` then fails
    /// and the SDK drops the packet, as for DHCPv4's
    /// [`Pkt4Receive`](crate::dhcp4::Pkt4Receive).
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Pkt6Receive> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Pkt6Receive>) -> Result<(), Error> {
    ///         let query = cx.query()?;
    ///         if let Some(remote_id) = query.relay_option(dhcp6::code::REMOTE_ID)? {
    ///             let (enterprise, id) = remote_id.remote_id()?;
    ///             tracing::debug!(enterprise, id = ?id, "relayed");
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Pkt6Receive, "pkt6_receive", refuse: Drop, steps: [Skip, Drop], servers: [Dhcp6], drop_statistic: SDK_COUNTS_DROPS,
    null_query_drops: true
);
hook_point!(
    /// `subnet6_select`: Kea selected a subnet (possibly none) for the
    /// query.
    ///
    /// Next steps: `Skip`: Kea goes on with no subnet (the client gets no
    /// address); `Drop`: the query is dropped. A failed callout refused by
    /// its policy drops it. On Kea 2.6+ a callout may also park the query
    /// ([`Context::park`](crate::Context::park)).
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Subnet6Select> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Subnet6Select>) -> Result<(), Error> {
    ///         // Queries relayed with interface-id "lab" go to subnet 7, if the configuration has it.
    ///         let lab = cx.query()?.relay_option(dhcp6::code::INTERFACE_ID)?.is_some_and(|id| id.bytes() == b"lab");
    ///         if lab && cx.subnet_ids()?.contains(&7) {
    ///             cx.select_subnet(Some(7))?;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Subnet6Select, "subnet6_select", refuse: Drop, steps: [Skip, Drop], servers: [Dhcp6], can_park: cfg!(kea_2_6)
);
hook_point!(
    /// `host6_identifier`: Kea asks for a flexible host identifier
    /// (`flex-id`) to look the client's reservation up by.
    ///
    /// Next steps: `Skip`, `Drop`: the identifier is ignored. A failed
    /// callout refused by its policy skips.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Host6Identifier> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Host6Identifier>) -> Result<(), Error> {
    ///         // Reserve by the relay's subscriber-id (option 38).
    ///         if let Some(subscriber) = cx.query()?.relay_option(dhcp6::code::SUBSCRIBER_ID)? {
    ///             cx.set_identifier(dhcp6::HostIdentifierType::Flex, subscriber.bytes())?;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Host6Identifier, "host6_identifier", refuse: Skip, steps: [Skip, Drop], servers: [Dhcp6]
);
hook_point!(
    /// `lease6_select`: Kea is about to offer (`fake_allocation()`: an
    /// ADVERTISE) or assign an address or prefix, once per lease.
    ///
    /// Next steps: `Skip`: the lease is not offered or assigned (the IA
    /// gets a NoAddrsAvail or NoPrefixAvail status). Kea ignores `Drop`
    /// here, so a failed callout refused by its policy skips.
    ///
    /// Kea up to 3.0.3 crashes when a lease reserved to the client is
    /// skipped (its allocation engine keeps the null lease and dereferences
    /// it; fixed in 3.0.4). There the SDK does not write a `Skip` for a
    /// lease whose address or prefix has a host reservation, and logs an
    /// error instead: the client gets its reserved lease.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Lease6Select> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Lease6Select>) -> Result<(), Error> {
    ///         // Delegated prefixes of guests live an hour (preferred 30 minutes).
    ///         if cx.lease()?.lease_type() == dhcp6::LeaseType::Pd && cx.query()?.in_class("guest")? {
    ///             cx.set_lifetimes(1800, 3600)?;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Lease6Select, "lease6_select", refuse: Skip, steps: [Skip], servers: [Dhcp6],
    skip_reserved6_guard: crate::KEA_HOOKS_VERSION < 30004
);
hook_point!(
    /// `lease6_renew`: a client asked to extend a lease (a RENEW);
    /// `lease()` is the lease as Kea is about to write it, `ia()` the IA
    /// of the reply being built.
    ///
    /// Next steps: `Skip`: the lease is not extended (the database keeps
    /// it as it was). A failed callout refused by its policy skips.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Lease6Renew> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Lease6Renew>) -> Result<(), Error> {
    ///         let lease = cx.lease()?;
    ///         let iaid = cx.ia()?.map(|ia| ia.iaid);
    ///         tracing::info!(kind = %lease.lease_type(), address = %lease.address(), ?iaid, "renewing");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Lease6Renew, "lease6_renew", refuse: Skip, steps: [Skip], servers: [Dhcp6]
);
hook_point!(
    /// `lease6_rebind`: as [`Lease6Renew`], for a REBIND (the client asks
    /// any server).
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Lease6Rebind> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Lease6Rebind>) -> Result<(), Error> {
    ///         // A client rebinding came through another server's link: keep its lease short.
    ///         cx.set_lifetimes(300, 600)?;
    ///         tracing::info!(address = %cx.lease()?.address(), "rebinding");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Lease6Rebind, "lease6_rebind", refuse: Skip, steps: [Skip], servers: [Dhcp6]
);
hook_point!(
    /// `lease6_release`: a client released a lease (once per lease).
    ///
    /// Next steps: `Skip`: the lease is not released: it stays in the
    /// database as it was, and the REPLY's IA carries status UnspecFail
    /// ("Server failed to release a lease"). `Drop` is refused: Kea 2.2
    /// ignores it for a delegated prefix (and releases it), and elsewhere
    /// it does what `Skip` does. A failed callout refused by its policy
    /// keeps the lease. On Kea 3.0+ a released lease may be kept in state
    /// `released` rather than deleted (when reclaimed leases are held), and
    /// reaches `lease6_expire` later.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Lease6Release> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Lease6Release>) -> Result<(), Error> {
    ///         let lease = cx.lease()?;
    ///         tracing::info!(kind = %lease.lease_type(), address = %lease.address(), prefix_len = lease.prefix_len(), "released");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Lease6Release, "lease6_release", refuse: Skip, steps: [Skip], servers: [Dhcp6]
);
hook_point!(
    /// `lease6_decline`: a client declined an address (a DECLINE: it found
    /// the address in use).
    ///
    /// Next steps: `Skip`: the address is not declined (the lease stays as
    /// it was; the REPLY is sent, and the lease is in `leases6_committed`'s
    /// `leases()` as declined ones are); `Drop`: nothing is declined and no
    /// REPLY is sent (Kea counts no statistic for it). A failed callout
    /// refused by its policy drops.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Lease6Decline> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Lease6Decline>) -> Result<(), Error> {
    ///         tracing::warn!(address = %cx.lease()?.address(), "address in use on the link");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Lease6Decline, "lease6_decline", refuse: Drop, steps: [Skip, Drop], servers: [Dhcp6]
);
hook_point!(
    /// `leases6_committed`: leases were granted, renewed or released in
    /// the lease database, before the REPLY is sent.
    ///
    /// Fires for what commits leases: REQUEST, RENEW, REBIND, RELEASE,
    /// DECLINE, a rapid-commit SOLICIT (and ADDR-REG-INFORM on 3.0+).
    /// `leases()` holds the granted or renewed leases, and for a DECLINE
    /// the declined ones; `deleted_leases()` the released or replaced ones.
    ///
    /// Next steps: `Drop`: no response is sent (the database keeps what
    /// was committed). Kea ignores `Skip` here. A callout may park the
    /// query ([`Context::park`](crate::Context::park)): Kea holds the
    /// REPLY until the hook resumes it. A failed callout refused by its
    /// policy drops the response.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Leases6Committed> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Leases6Committed>) -> Result<(), Error> {
    ///         for lease in cx.leases()?.iter() {
    ///             tracing::info!(kind = %lease.lease_type(), address = %lease.address(), prefix_len = lease.prefix_len(), "committed");
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Leases6Committed, "leases6_committed", refuse: Drop, steps: [Drop], servers: [Dhcp6], can_park: true
);
hook_point!(
    /// `pkt6_send`: the response is about to be packed and sent.
    ///
    /// Next steps: `Drop`: the response is not sent. `Skip` is refused:
    /// Kea would skip packing and send an empty packet. A failed callout
    /// refused by its policy drops the response. Kea does not read
    /// `response6` back: write to the packet [`response()`](Context::response) gives.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # use kea_hooks::option::OptionData;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Pkt6Send> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Pkt6Send>) -> Result<(), Error> {
    ///         let dns = OptionData::from_ipv6_list(&["2001:2::53".parse().unwrap()]);
    ///         cx.response()?.set_option(dhcp6::code::DNS_SERVERS, dns)?;
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Pkt6Send, "pkt6_send", refuse: Drop, steps: [Drop], servers: [Dhcp6]
);
hook_point!(
    /// `buffer6_send`: the response is packed, about to go on the wire.
    ///
    /// Next steps: `Skip` or `Drop`: it is not sent. A failed callout
    /// refused by its policy drops it.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Buffer6Send> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Buffer6Send>) -> Result<(), Error> {
    ///         tracing::trace!(bytes = cx.buffer()?.len(), "sending");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Buffer6Send, "buffer6_send", refuse: Drop, steps: [Skip, Drop], servers: [Dhcp6]
);
hook_point!(
    /// `lease6_expire`: the lease expired and Kea reclaims it.
    ///
    /// Next steps: `Skip`: it is not reclaimed now (the hook takes care of
    /// it). A failed callout goes on with the reclamation.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Lease6Expire> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Lease6Expire>) -> Result<(), Error> {
    ///         tracing::info!(address = %cx.lease()?.address(), removed = cx.remove_lease()?, "expired");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Lease6Expire, "lease6_expire", refuse: Continue, steps: [Skip], servers: [Dhcp6]
);
hook_point!(
    /// `lease6_recover`: a declined address's probation ended and Kea
    /// makes it available again.
    ///
    /// Next steps: `Skip`: it is not recovered now.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Lease6Recover> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Lease6Recover>) -> Result<(), Error> {
    ///         tracing::info!(address = %cx.lease()?.address(), "back in the pool");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Lease6Recover, "lease6_recover", refuse: Continue, steps: [Skip], servers: [Dhcp6]
);
hook_point!(
    /// `ddns6_update`: Kea decided the host name and the DNS updates for
    /// the client (D2 requests follow).
    ///
    /// Next steps: none: change the host name or the updates instead.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Ddns6Update> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Ddns6Update>) -> Result<(), Error> {
    ///         let name = cx.hostname()?.to_lowercase();
    ///         cx.set_hostname(&name)?;
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Ddns6Update, "ddns6_update", refuse: Continue, steps: [], servers: [Dhcp6]
);
hook_point!(
    /// `dhcp6_srv_configured`: a configuration was parsed and is about to
    /// be committed (at start-up and at every reload).
    ///
    /// Next steps: `Drop`: the configuration is refused (use
    /// [`reject`](Context::reject)).
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Dhcp6SrvConfigured> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Dhcp6SrvConfigured>) -> Result<(), Error> {
    ///         let config = cx.json_config()?;
    ///         if config["subnet6"].as_array().map_or(true, |s| s.is_empty()) {
    ///             cx.reject("this hook needs at least one subnet")?;
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Dhcp6SrvConfigured, "dhcp6_srv_configured", refuse: Continue, steps: [Drop], servers: [Dhcp6], applies_config: true
);
hook_point!(
    /// `cb6_updated`: Kea applied changes from a configuration backend.
    ///
    /// Next steps: none.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Cb6Updated> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Cb6Updated>) -> Result<(), Error> {
    ///         for e in cx.audit_entries()? {
    ///             tracing::info!(object = %e.object_type, id = e.object_id, "changed in the backend");
    ///         }
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Cb6Updated, "cb6_updated", refuse: Continue, steps: [], servers: [Dhcp6]
);

#[cfg(kea_3_0)]
hook_point!(
    #[cfg_attr(docsrs, doc(cfg(kea_3_0)))]
    /// **Kea 3.0+.**
    /// `addr6_register` (Kea 3.0+): a client registered an address it
    /// configured itself (an ADDR-REG-INFORM, RFC 9686).
    ///
    /// Next steps: `Skip`: the lease operation is not done (no lease is
    /// added or updated; the client still gets its ADDR-REG-REPLY);
    /// `Drop`: the query is dropped (no reply). A failed callout refused
    /// by its policy drops it.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp6::Addr6Register> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp6::Addr6Register>) -> Result<(), Error> {
    ///         let address = cx.address()?;
    ///         let old = cx.old_lease()?.map(|lease| lease.address());
    ///         tracing::info!(%address, ?old, "address registered by the client");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    Addr6Register, "addr6_register", refuse: Drop, steps: [Skip, Drop], servers: [Dhcp6]
);

use crate::points::{
    ddns_hostname, dns_updates, read_audit_entries, read_identifier, required, set_ddns_hostname, set_dns_updates,
    write_identifier,
};

impl<'a, P: HookPoint> Context<'a, P> {
    /// Argument `name` as a DHCPv6 packet (`None` if Kea passed null).
    /// Prefer the per-point accessors; this reaches arguments the SDK does
    /// not name. Fails when there is no such argument or it has another
    /// type.
    #[inline]
    pub fn argument_pkt6(&self, name: &str) -> Result<Option<Pkt6<'a>>, Error> {
        let packet = self.pkt6(ArgRef::by_name(name))?;
        if P::NULL_QUERY_DROPS && packet.is_none() && name == Arg::Query6.name() {
            self.query_gone.set(true);
        }
        Ok(packet)
    }

    /// Argument `name` as a DHCPv6 lease (`None` if null).
    #[inline]
    pub fn argument_lease6(&self, name: &str) -> Result<Option<Lease6<'a>>, Error> {
        self.lease6(ArgRef::by_name(name))
    }

    /// Argument `name` as a DHCPv6 subnet (`None` if null).
    #[inline]
    pub fn argument_subnet6(&self, name: &str) -> Result<Option<Subnet6<'a>>, Error> {
        self.subnet6(ArgRef::by_name(name))
    }

    /// Argument `name` as a collection of DHCPv6 leases (empty if null).
    #[inline]
    pub fn argument_leases6(&self, name: &str) -> Result<Leases6<'a>, Error> {
        self.leases6(ArgRef::by_name(name))
    }

    #[inline]
    fn pkt6(&self, arg: ArgRef<'_>) -> Result<Option<Pkt6<'a>>, Error> {
        Ok(ffi::arg_pkt6_ref(self.handle, arg)?.map(Pkt6::new))
    }

    #[inline]
    fn lease6(&self, arg: ArgRef<'_>) -> Result<Option<Lease6<'a>>, Error> {
        Ok(ffi::arg_lease6_ref(self.handle, arg)?.map(Lease6::new))
    }

    #[inline]
    fn subnet6(&self, arg: ArgRef<'_>) -> Result<Option<Subnet6<'a>>, Error> {
        Ok(ffi::arg_subnet6_ref(self.handle, arg)?.map(Subnet6::new))
    }

    #[inline]
    fn leases6(&self, arg: ArgRef<'_>) -> Result<Leases6<'a>, Error> {
        Ok(Leases6::new(ffi::arg_lease6_collection_ref(self.handle, arg)?))
    }

    #[inline]
    fn query6(&self) -> Result<Pkt6<'a>, Error> {
        match self.pkt6(ArgRef::Known(Arg::Query6))? {
            Some(query) => Ok(query),
            None => Err(self.query6_null()),
        }
    }

    /// The error for a null `query6`; where that means an earlier library
    /// dropped the query, also marks the packet for `Drop`.
    #[cold]
    #[inline(never)]
    fn query6_null(&self) -> Error {
        if P::NULL_QUERY_DROPS {
            self.query_gone.set(true);
            Error::new(
                ErrorKind::Kea,
                "argument query6 is null: an earlier hook library dropped the query by clearing it; the packet is dropped",
            )
        } else {
            Error::new(ErrorKind::Kea, "argument query6 is null")
        }
    }

    #[inline]
    fn lease6_required(&self) -> Result<Lease6<'a>, Error> {
        required(self.lease6(ArgRef::Known(Arg::Lease6))?, Arg::Lease6)
    }

    #[inline]
    fn response6_required(&self) -> Result<Pkt6<'a>, Error> {
        required(self.pkt6(ArgRef::Known(Arg::Response6))?, Arg::Response6)
    }

    /// The IA argument of a renew or rebind, decoded (`ia_na` for an
    /// address lease, `ia_pd` for a prefix).
    fn ia6(&self) -> Result<Option<Ia>, Error> {
        let name = match self.lease6_required()?.lease_type() {
            LeaseType::Pd => "ia_pd",
            _ => "ia_na",
        };
        let packed = ffi::arg_option6_ia(self.handle, name)?;
        match packed.as_ref() {
            Some(bytes) => Ok(Some(Ia::parse(bytes.as_slice())?)),
            None => Ok(None),
        }
    }
}

/// Accessors of the points whose query is `query6`.
macro_rules! query6_accessor {
    ($($point:ty),*) => {$(
        impl<'a> Context<'a, $point> {
            /// The query (`query6`).
            #[inline]
            pub fn query(&self) -> Result<Pkt6<'a>, Error> {
                self.query6()
            }
        }
    )*};
}

query6_accessor!(
    Pkt6Receive,
    Subnet6Select,
    Host6Identifier,
    Lease6Release,
    Lease6Decline,
    Leases6Committed,
    Pkt6Send,
    Ddns6Update,
    Lease6Select,
    Lease6Renew,
    Lease6Rebind
);
#[cfg(kea_3_0)]
query6_accessor!(Addr6Register);

/// Accessors of the points with a lease (`lease6`) Kea always passes.
macro_rules! lease6_accessor {
    ($($point:ty),*) => {$(
        impl<'a> Context<'a, $point> {
            /// The lease (`lease6`).
            #[inline]
            pub fn lease(&self) -> Result<Lease6<'a>, Error> {
                self.lease6_required()
            }
        }
    )*};
}

lease6_accessor!(Lease6Release, Lease6Decline, Lease6Expire, Lease6Recover, Lease6Select, Lease6Renew, Lease6Rebind);

impl<'a> Context<'a, Subnet6Select> {
    /// The selected subnet (`subnet6`), `None` when Kea found none.
    #[inline]
    pub fn subnet(&self) -> Result<Option<Subnet6<'a>>, Error> {
        self.subnet6(ArgRef::Known(Arg::Subnet6))
    }

    /// Selects subnet `id` of the current configuration for the query, or
    /// none (`None`: the client then gets no address, as with `Skip`).
    /// Fails, changing nothing, when the configuration has no subnet with
    /// that id.
    pub fn select_subnet(&self, id: Option<u32>) -> Result<(), Error> {
        match id {
            None => Ok(ffi::arg_clear_subnet6(self.handle)?),
            Some(id) if ffi::arg_select_subnet6(self.handle, id)? => Ok(()),
            Some(id) => {
                Err(Error::new(ErrorKind::Invalid, format!("the configuration has no subnet with id {id}")))
            }
        }
    }

    /// The ids of the configured subnets Kea could select from
    /// (`subnet6collection`), in id order.
    pub fn subnet_ids(&self) -> Result<Vec<u32>, Error> {
        Ok(ffi::arg_subnet6_collection_ids(self.handle, "subnet6collection")?)
    }
}

impl<'a> Context<'a, Lease6Select> {
    /// The subnet the lease is from (`subnet6`).
    #[inline]
    pub fn subnet(&self) -> Result<Subnet6<'a>, Error> {
        required(self.subnet6(ArgRef::Known(Arg::Subnet6))?, Arg::Subnet6)
    }

    /// True for a SOLICIT (the lease is only advertised), false for a
    /// REQUEST (or a SOLICIT with rapid commit) (`fake_allocation`).
    #[inline]
    pub fn fake_allocation(&self) -> Result<bool, Error> {
        Ok(ffi::arg_bool_known(self.handle, Arg::FakeAllocation)?)
    }
}

impl<'a> Context<'a, Lease6Renew> {
    /// The IA of the reply being built for the lease (`ia_na` or
    /// `ia_pd`), decoded; `None` when Kea passed none.
    pub fn ia(&self) -> Result<Option<Ia>, Error> {
        self.ia6()
    }
}

impl<'a> Context<'a, Lease6Rebind> {
    /// The IA of the reply being built for the lease (`ia_na` or
    /// `ia_pd`), decoded; `None` when Kea passed none.
    pub fn ia(&self) -> Result<Option<Ia>, Error> {
        self.ia6()
    }
}

impl<'a> Context<'a, Leases6Committed> {
    /// The leases granted or renewed (`leases6`).
    #[inline]
    pub fn leases(&self) -> Result<Leases6<'a>, Error> {
        self.leases6(ArgRef::Known(Arg::Leases6))
    }

    /// The leases released or replaced (`deleted_leases6`).
    #[inline]
    pub fn deleted_leases(&self) -> Result<Leases6<'a>, Error> {
        self.leases6(ArgRef::Known(Arg::DeletedLeases6))
    }

    /// **Kea 3.0+.**
    /// The response Kea is about to send (`response6`, Kea 3.0+), `None`
    /// when there is none.
    #[cfg(kea_3_0)]
    #[cfg_attr(docsrs, doc(cfg(kea_3_0)))]
    #[inline]
    pub fn response(&self) -> Result<Option<Pkt6<'a>>, Error> {
        self.pkt6(ArgRef::Known(Arg::Response6))
    }
}

impl<'a> Context<'a, Pkt6Send> {
    /// The response (`response6`); writes to it reach the client.
    #[inline]
    pub fn response(&self) -> Result<Pkt6<'a>, Error> {
        self.response6_required()
    }

    /// **Kea 2.6+.**
    /// The subnet the query was served from (`subnet6`, Kea 2.6+), `None`
    /// when there was none.
    #[cfg(kea_2_6)]
    #[cfg_attr(docsrs, doc(cfg(kea_2_6)))]
    #[inline]
    pub fn subnet(&self) -> Result<Option<Subnet6<'a>>, Error> {
        self.subnet6(ArgRef::Known(Arg::Subnet6))
    }
}

impl<'a> Context<'a, Buffer6Receive> {
    /// The datagram as received (`query6`, not parsed yet: only its
    /// addresses, ports and interface are set).
    pub fn query(&self) -> Result<Pkt6<'a>, Error> {
        self.query6()
    }

    /// The raw DHCPv6 message (a copy).
    pub fn buffer(&self) -> Result<Vec<u8>, Error> {
        Ok(ffi::pkt6_raw(self.query6()?.raw()).to_vec())
    }

    /// Replaces the raw message Kea is about to parse.
    pub fn set_buffer(&self, bytes: &[u8]) -> Result<(), Error> {
        Ok(ffi::pkt6_set_raw(self.query6()?.raw(), bytes)?)
    }
}

impl<'a> Context<'a, Buffer6Send> {
    /// The response, already packed (`response6`).
    pub fn response(&self) -> Result<Pkt6<'a>, Error> {
        self.response6_required()
    }

    /// The packed response as it will go on the wire (a copy).
    pub fn buffer(&self) -> Result<Vec<u8>, Error> {
        Ok(ffi::pkt6_out_buffer(self.response()?.raw())?.to_vec())
    }

    /// Replaces what goes on the wire.
    pub fn set_buffer(&self, bytes: &[u8]) -> Result<(), Error> {
        Ok(ffi::pkt6_set_out_buffer(self.response()?.raw(), bytes)?)
    }
}

impl<'a> Context<'a, Lease6Expire> {
    /// Whether Kea will remove the lease from the database (rather than
    /// keep it as expired-reclaimed): `hold-reclaimed-time` is 0
    /// (`remove_lease`). Read-only: Kea does not read it back.
    pub fn remove_lease(&self) -> Result<bool, Error> {
        Ok(ffi::arg_bool(self.handle, "remove_lease")?)
    }
}

impl<'a> Context<'a, Host6Identifier> {
    /// The identifier as it stands (`id_type`, `id_value`): empty unless
    /// an earlier library set one.
    pub fn identifier(&self) -> Result<(HostIdentifierType, Vec<u8>), Error> {
        read_identifier(self.handle)
    }

    /// Sets the identifier Kea looks the client's reservation up by (at
    /// most 128 bytes; empty means none).
    pub fn set_identifier(&self, kind: HostIdentifierType, value: &[u8]) -> Result<(), Error> {
        write_identifier(self.handle, kind, value)
    }
}

impl<'a> Context<'a, Ddns6Update> {
    /// The response being built (`response6`).
    pub fn response(&self) -> Result<Pkt6<'a>, Error> {
        self.response6_required()
    }

    /// The selected subnet (`subnet6`).
    pub fn subnet(&self) -> Result<Option<Subnet6<'a>>, Error> {
        self.subnet6(ArgRef::Known(Arg::Subnet6))
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

impl<'a> Context<'a, Dhcp6SrvConfigured> {
    /// The configuration as Kea parsed it (`json_config`: the contents of
    /// the `Dhcp6` map).
    pub fn json_config(&self) -> Result<serde_json::Value, Error> {
        self.argument_json("json_config")
    }

    /// Refuses the configuration with `reason` (Kea's error text for it).
    pub fn reject(&self, reason: &str) -> Result<(), Error> {
        ffi::arg_set_string(self.handle, "error", reason)?;
        self.set_next_step(NextStep::Drop)
    }
}

impl<'a> Context<'a, Cb6Updated> {
    /// What the backend changed (`audit_entries`), one [`AuditEntry`] per
    /// changed object. As at `cb4_updated`: a hook built against Boost
    /// 1.92+ headers for a Kea built with an older Boost gets `Err` here
    /// (`bad_any_cast`; the SDK's build warns); build against the Boost
    /// headers Kea was built with (Debian sid: `libboost1.90-dev`).
    pub fn audit_entries(&self) -> Result<Vec<AuditEntry>, Error> {
        read_audit_entries(self.handle)
    }
}

/// **Kea 3.0+.**
#[cfg(kea_3_0)]
#[cfg_attr(docsrs, doc(cfg(kea_3_0)))]
impl<'a> Context<'a, Addr6Register> {
    /// The address the client registers (`address6`).
    pub fn address(&self) -> Result<std::net::Ipv6Addr, Error> {
        Ok(ffi::arg_address6(self.handle, "address6")?.into())
    }

    /// The ADDR-REG-REPLY Kea built (`response6`); writes reach the client.
    pub fn response(&self) -> Result<Pkt6<'a>, Error> {
        self.response6_required()
    }

    /// The lease the address had before (`old_lease6`), if any (a
    /// renewed registration).
    pub fn old_lease(&self) -> Result<Option<Lease6<'a>>, Error> {
        self.lease6(ArgRef::Named("old_lease6"))
    }

    /// The lease Kea is about to write (`new_lease6`: state
    /// `registered`), unless the callout skips.
    pub fn new_lease(&self) -> Result<Option<Lease6<'a>>, Error> {
        self.lease6(ArgRef::Named("new_lease6"))
    }
}

mod sealed {
    pub trait Sealed {}
}

/// Writes to the lease at the points where Kea stores the lease it passed
/// after the callout and answers from it (the lifetimes the client gets
/// are the lease's): [`Lease6Select`], [`Lease6Renew`] and
/// [`Lease6Rebind`]. One trait serves the three, so a hook can treat them
/// with one generic function. It is in the [prelude](crate::prelude).
///
/// ```no_run
/// # use kea_hooks::prelude::*;
/// # struct H;
/// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
/// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
/// fn short_prefixes<'a>(cx: &impl dhcp6::LeaseWrites6<'a>) -> Result<(), Error> {
///     if cx.lease()?.lease_type() == dhcp6::LeaseType::Pd {
///         cx.set_lifetimes(1800, 3600)?;
///     }
///     Ok(())
/// }
///
/// impl Callout<dhcp6::Lease6Select> for H {
///     fn call(&self, cx: &Context<'_, dhcp6::Lease6Select>) -> Result<(), Error> {
///         short_prefixes(cx)
///     }
/// }
/// impl Callout<dhcp6::Lease6Renew> for H {
///     fn call(&self, cx: &Context<'_, dhcp6::Lease6Renew>) -> Result<(), Error> {
///         short_prefixes(cx)
///     }
/// }
/// # kea_hooks::kea_hook!(H);
/// ```
pub trait LeaseWrites6<'a>: sealed::Sealed {
    /// The query (`query6`).
    fn query(&self) -> Result<Pkt6<'a>, Error>;

    /// The lease Kea is about to store (`lease6`).
    fn lease(&self) -> Result<Lease6<'a>, Error>;

    /// Sets the lease's preferred and valid lifetimes, in seconds (what
    /// the lease database records and the client receives in its IAADDR
    /// or IAPREFIX). Fails, changing nothing, when `preferred` exceeds
    /// `valid` (RFC 8415 forbids it; clients discard such an address).
    fn set_lifetimes(&self, preferred: u32, valid: u32) -> Result<(), Error> {
        if preferred > valid {
            return Err(Error::new(
                ErrorKind::Invalid,
                format!("preferred lifetime {preferred} exceeds valid lifetime {valid}"),
            ));
        }
        ffi::lease6_set_lifetimes(self.lease()?.raw(), preferred, valid);
        Ok(())
    }

    /// Sets the lease's hostname (recorded in the lease database).
    fn set_hostname(&self, hostname: &str) -> Result<(), Error> {
        Ok(ffi::lease6_set_hostname(self.lease()?.raw(), hostname.as_bytes())?)
    }

    /// Sets whether forward and reverse DNS are (to be) updated for the
    /// lease.
    fn set_fqdn_flags(&self, forward: bool, reverse: bool) -> Result<(), Error> {
        ffi::lease6_set_fqdn(self.lease()?.raw(), forward, reverse);
        Ok(())
    }
}

macro_rules! lease_writes6 {
    ($($point:ty),*) => {$(
        impl sealed::Sealed for Context<'_, $point> {}
        impl<'a> LeaseWrites6<'a> for Context<'a, $point> {
            #[inline]
            fn query(&self) -> Result<Pkt6<'a>, Error> {
                self.query6()
            }

            #[inline]
            fn lease(&self) -> Result<Lease6<'a>, Error> {
                self.lease6_required()
            }
        }
    )*};
}

lease_writes6!(Lease6Select, Lease6Renew, Lease6Rebind);

// ---- parking: where kea-dhcp6 lets a callout park (see crate::parking) ----

#[cfg(kea_2_6)]
use crate::parking::Parked;
use crate::parking::{Parkable, Parking};

impl Parkable for Leases6Committed {
    const PARKING: Parking = Parking::Plain6;
}
/// **Kea 2.6+.**
#[cfg(kea_2_6)]
#[cfg_attr(docsrs, doc(cfg(kea_2_6)))]
impl Parkable for Subnet6Select {
    const PARKING: Parking = Parking::SubnetSelect6;
}

/// **Kea 2.6+.**
#[cfg(kea_2_6)]
#[cfg_attr(docsrs, doc(cfg(kea_2_6)))]
impl Parked<Subnet6Select> {
    /// Resumes the query in configured subnet `subnet_id`, or with no
    /// subnet (`None`: the client gets no address), as
    /// `Parked<dhcp4::Subnet4Select>::resume_in_subnet` does for DHCPv4.
    pub fn resume_in_subnet(self, subnet_id: Option<u32>) {
        self.resume_in_subnet_id(subnet_id)
    }
}
