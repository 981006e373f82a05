//! Hook points every server has, whatever its family: defined once here
//! and re-exported by each family's module (`dhcp4`, `dhcp6`) and, for
//! `command_processed`, by [`crate::command`]; and what both families'
//! points of the same kind share (host identifiers, configuration-backend
//! audit entries, DNS update arguments, required arguments), written once.

use crate::callout::{hook_point, Context};
use crate::error::{Error, ErrorKind};
use crate::ffi::{self, Arg};
use crate::option::invalid;

// ---- the command_processed hook point ----

hook_point!(
    /// `command_processed`: the server answered a control command (any
    /// command, from the control socket or through the control agent);
    /// the callout sees the command and its answer and may replace the
    /// answer ([`set_response`](Context::set_response)). Both DHCPv4 and
    /// DHCPv6 servers call it.
    ///
    /// Next steps: none.
    ///
    /// ```no_run
    /// # use kea_hooks::prelude::*;
    /// # struct H;
    /// # impl Hook for H { const NAME: &'static str = "h"; type Params = NoParameters;
    /// #     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> { Ok(H) } }
    /// impl Callout<dhcp4::CommandProcessed> for H {
    ///     fn call(&self, cx: &Context<'_, dhcp4::CommandProcessed>) -> Result<(), Error> {
    ///         tracing::info!(command = %cx.name()?, "command answered");
    ///         Ok(())
    ///     }
    /// }
    /// # kea_hooks::kea_hook!(H);
    /// ```
    CommandProcessed, "command_processed", refuse: Continue, steps: [], servers: [Dhcp4, Dhcp6]
);

impl<'a> Context<'a, CommandProcessed> {
    /// The command's name (`name`).
    pub fn name(&self) -> Result<String, Error> {
        Ok(ffi::arg_string(self.handle, "name")?)
    }

    /// The command's `arguments` (`null` when it had none).
    pub fn arguments(&self) -> Result<serde_json::Value, Error> {
        self.argument_json("arguments")
    }

    /// The answer (`response`: `{"result": N, "text": ..., "arguments": ...}`).
    pub fn response(&self) -> Result<serde_json::Value, Error> {
        self.argument_json("response")
    }

    /// Replaces the answer the client of the control socket gets.
    pub fn set_response(&self, response: &serde_json::Value) -> Result<(), Error> {
        Ok(ffi::arg_set_element(self.handle, "response", response)?)
    }
}

// ---- what both families share ----

/// The kind of a host identifier (Kea's `Host::IdentifierType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HostIdentifierType {
    /// `hw-address`.
    HwAddress,
    /// `duid`.
    Duid,
    /// `circuit-id` (option 82, sub-option 1).
    CircuitId,
    /// `client-id` (option 61).
    ClientId,
    /// `flex-id`, the one `host4_identifier` is for.
    Flex,
}

impl HostIdentifierType {
    fn from_raw(raw: i32) -> Result<Self, Error> {
        Ok(match raw {
            0 => Self::HwAddress,
            1 => Self::Duid,
            2 => Self::CircuitId,
            3 => Self::ClientId,
            4 => Self::Flex,
            other => {
                return Err(Error::new(
                    ErrorKind::Kea,
                    format!("unknown host identifier type {other}"),
                ))
            }
        })
    }

    fn raw(self) -> i32 {
        match self {
            Self::HwAddress => 0,
            Self::Duid => 1,
            Self::CircuitId => 2,
            Self::ClientId => 3,
            Self::Flex => 4,
        }
    }

    /// Kea's name for it in the configuration (`flex-id`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Self::HwAddress => "hw-address",
            Self::Duid => "duid",
            Self::CircuitId => "circuit-id",
            Self::ClientId => "client-id",
            Self::Flex => "flex-id",
        }
    }
}

/// One change a configuration backend reported (`cb4_updated`,
/// `cb6_updated`): a row of the backend's audit table (`dhcp4_audit`,
/// `dhcp6_audit`), which the backend's triggers write for every change
/// made in a transaction that began with an audit revision.
///
/// Kea fires `cb*_updated` only when a poll of the backend
/// (`config-control`'s `config-fetch-wait-time`, or `config-backend-pull`)
/// finds entries newer than the last it applied: never for the full fetch
/// at start-up or on a reconfiguration (tested against real PostgreSQL
/// and MariaDB on Kea 2.2, 2.6 and 3.0).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// What kind of object changed: the backend's table, e.g.
    /// `dhcp4_global_parameter`, `dhcp4_subnet`, `dhcp4_options`.
    pub object_type: String,
    /// Whether it was created, updated or deleted.
    pub modification: AuditModification,
    /// The object's id in the backend (the row's `id` in `object_type`).
    pub object_id: u64,
    /// When the backend recorded the change: Kea's time of the audit
    /// revision, taken as UTC (as Kea stores and compares it).
    pub modification_time: std::time::SystemTime,
    /// The backend's revision of the change: every change made under one
    /// audit revision shares it.
    pub revision_id: u64,
    /// The log message of the audit revision.
    pub log_message: String,
}

/// What a configuration backend did to an object ([`AuditEntry::modification`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuditModification {
    /// The object was created (Kea's `CREATE`, 0).
    Create,
    /// The object was updated (`UPDATE`, 1).
    Update,
    /// The object was deleted (`DELETE`, 2).
    Delete,
}

impl AuditModification {
    fn from_raw(raw: u8) -> Result<Self, Error> {
        match raw {
            0 => Ok(Self::Create),
            1 => Ok(Self::Update),
            2 => Ok(Self::Delete),
            other => Err(invalid(format_args!("audit entry: unknown modification type {other}"))),
        }
    }

    /// Kea's name for it (`create`, `update`, `delete`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Delete => "delete",
        }
    }
}

/// `id_type` and `id_value` of a `host*_identifier` callout.
pub(crate) fn read_identifier(handle: &ffi::CalloutHandle) -> Result<(HostIdentifierType, Vec<u8>), Error> {
    let kind = HostIdentifierType::from_raw(ffi::arg_identifier_type(handle, "id_type")?)?;
    let mut value = Vec::new();
    ffi::arg_bytes(handle, "id_value", &mut value)?;
    Ok((kind, value))
}

/// Sets `id_type` and `id_value` (at most 128 bytes, Kea's limit).
pub(crate) fn write_identifier(handle: &ffi::CalloutHandle, kind: HostIdentifierType, value: &[u8]) -> Result<(), Error> {
    if value.len() > 128 {
        return Err(invalid(format_args!("host identifier: {} bytes, at most 128", value.len())));
    }
    ffi::arg_set_identifier_type(handle, "id_type", kind.raw())?;
    Ok(ffi::arg_set_bytes(handle, "id_value", value)?)
}

/// `audit_entries` of a `cb*_updated` callout.
pub(crate) fn read_audit_entries(handle: &ffi::CalloutHandle) -> Result<Vec<AuditEntry>, Error> {
    ffi::arg_audit_entries(handle, "audit_entries")?
        .into_iter()
        .map(|r| {
            let since_epoch = std::time::Duration::from_micros(r.modification_time_us.unsigned_abs());
            let modification_time = if r.modification_time_us >= 0 {
                std::time::UNIX_EPOCH + since_epoch
            } else {
                std::time::UNIX_EPOCH - since_epoch
            };
            Ok(AuditEntry {
                object_type: r.object_type,
                modification: AuditModification::from_raw(r.modification)?,
                object_id: r.object_id,
                modification_time,
                revision_id: r.revision_id,
                log_message: r.log_message,
            })
        })
        .collect()
}

/// `hostname` of a `ddns*_update` callout (empty when none).
pub(crate) fn ddns_hostname(handle: &ffi::CalloutHandle) -> Result<String, Error> {
    Ok(ffi::arg_string(handle, "hostname")?)
}

/// Replaces `hostname` of a `ddns*_update` callout.
pub(crate) fn set_ddns_hostname(handle: &ffi::CalloutHandle, hostname: &str) -> Result<(), Error> {
    Ok(ffi::arg_set_string(handle, "hostname", hostname)?)
}

/// `fwd-update` and `rev-update` of a `ddns*_update` callout.
pub(crate) fn dns_updates(handle: &ffi::CalloutHandle) -> Result<(bool, bool), Error> {
    Ok((ffi::arg_bool(handle, "fwd-update")?, ffi::arg_bool(handle, "rev-update")?))
}

/// Sets `fwd-update` and `rev-update` of a `ddns*_update` callout.
pub(crate) fn set_dns_updates(handle: &ffi::CalloutHandle, forward: bool, reverse: bool) -> Result<(), Error> {
    ffi::arg_set_bool(handle, "fwd-update", forward)?;
    Ok(ffi::arg_set_bool(handle, "rev-update", reverse)?)
}

/// `value`, or the error for argument `arg` being null (where Kea never
/// passes it null, or the point's accessor says it needs one).
#[inline]
pub(crate) fn required<T>(value: Option<T>, arg: Arg) -> Result<T, Error> {
    match value {
        Some(v) => Ok(v),
        None => Err(Error::new(ErrorKind::Kea, format!("argument {} is null", arg.name()))),
    }
}
