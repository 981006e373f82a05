//! Hook points every server has, whatever its family: defined once here
//! and re-exported by each family's module (`dhcp4`) and, for
//! `command_processed`, by [`crate::command`].

use crate::callout::{hook_point, Context};
use crate::error::Error;
use crate::ffi;

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
