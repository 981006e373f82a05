//! The error type callouts and `load` return.

use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;

/// What went wrong, broadly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Kea threw a C++ exception (for example `NoSuchArgument`); the message
    /// is the exception's `what()`.
    Kea,
    /// The hook's `parameters` could not be deserialized.
    Parameters,
    /// The hook itself reported an error.
    Hook,
    /// Data from the network (an option a client or relay sent) does not
    /// have the form the hook asked for.
    Malformed,
    /// A value the hook tried to write that Kea would refuse or
    /// misinterpret (an option longer than 255 bytes, a subnet id the
    /// configuration does not have, ...); nothing was changed.
    Invalid,
    /// A call made on a thread where Kea does not allow it (for example
    /// Kea's statistics from a hook's own thread while Kea's
    /// multi-threading is off); nothing was done.
    WrongThread,
    /// A bounded wait reached its deadline: a name lookup or connection
    /// past its [`Deadline`](crate::net::Deadline), or
    /// [`main_thread::call_timeout`] whose work Kea's main thread did not
    /// run in time (it is then skipped if it had not started).
    ///
    /// [`main_thread::call_timeout`]: crate::threads::main_thread::call_timeout
    TimedOut,
    /// A wait was cut short by an [`Interrupt`](crate::net::Interrupt)
    /// (the hook is being unloaded, say).
    Interrupted,
    /// A network peer or the name resolver failed: a refused or reset
    /// connection, a name that does not resolve.
    Network,
}

/// An error from a callout, from `load`, or from a Kea call.
///
/// `?` converts into it from anything that converts into
/// `Box<dyn std::error::Error + Send + Sync>`: every
/// `std::error::Error + Send + Sync + 'static` type, `anyhow::Error`,
/// `Box<dyn Error + Send + Sync>` itself, and `String`/`&str` messages.
/// [`Error::msg`] makes one from anything `Display`.
///
/// The error keeps what it was made from as its [`source`](Error::source),
/// so the whole chain survives: `{:#}` prints the message and then every
/// cause in the chain, `message: cause: deeper cause`, which is how the SDK
/// logs a failed callout or load. (Like `anyhow::Error`, it does not itself
/// implement `std::error::Error`, which is what lets it convert from every
/// type that does.)
///
/// It is one pointer wide, so `Result<View, Error>` comes back from an
/// accessor in registers: the success path of a callout pays nothing for
/// the error type.
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    message: Cow<'static, str>,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

impl Error {
    /// An error of kind [`ErrorKind::Hook`] with this message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Error::new(ErrorKind::Hook, message.to_string())
    }

    #[cold]
    pub(crate) fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Error(Box::new(Inner { kind, message: message.into(), source: None }))
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The error this one was converted from, if any: its own `source()`
    /// leads on down the chain.
    pub fn source(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        self.0.source.as_deref()
    }

    /// The causes below this error's message, outermost first (empty for an
    /// error made from text).
    pub fn chain(&self) -> impl Iterator<Item = &(dyn StdError + 'static)> {
        // The message is the converted error's own Display, so its chain
        // starts one below it.
        let first = self.0.source.as_deref().and_then(|e| e.source());
        std::iter::successors(first, |e: &&(dyn StdError + 'static)| (*e).source())
    }

    /// Prefixes the message with `context: ` (the chain is kept).
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.0.message = format!("{context}: {}", self.0.message).into();
        self
    }
}

impl<E> From<E> for Error
where
    E: Into<Box<dyn StdError + Send + Sync + 'static>>,
{
    #[cold]
    fn from(e: E) -> Self {
        let boxed: Box<dyn StdError + Send + Sync + 'static> = e.into();
        let kind = if boxed.is::<cxx::Exception>() { ErrorKind::Kea } else { ErrorKind::Hook };
        Error(Box::new(Inner { kind, message: boxed.to_string().into(), source: Some(boxed) }))
    }
}

impl fmt::Display for Error {
    /// The message; with `{:#}`, followed by each cause in the chain.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.kind == ErrorKind::Kea {
            write!(f, "Kea error: {}", self.0.message)?;
        } else {
            f.write_str(&self.0.message)?;
        }
        if f.alternate() {
            for cause in self.chain() {
                write!(f, ": {cause}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("message", &self.0.message)
            .field("source", &self.0.source)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_convert_as_hook_errors() {
        let e: Error = std::io::Error::other("disk on fire").into();
        assert_eq!(e.kind(), ErrorKind::Hook);
        assert_eq!(e.to_string(), "disk on fire");
        assert!(e.source().is_some());
        assert_eq!(e.context("writing").to_string(), "writing: disk on fire");
    }

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("reading the allow list")
        }
    }
    impl StdError for Outer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn the_chain_is_kept_and_printed_with_the_alternate_flag() {
        let e: Error = Outer(std::io::Error::other("disk on fire")).into();
        assert_eq!(e.to_string(), "reading the allow list");
        assert_eq!(format!("{e:#}"), "reading the allow list: disk on fire");
        assert_eq!(e.chain().count(), 1);
        assert_eq!(format!("{:#}", e.context("loading")), "loading: reading the allow list: disk on fire");
    }

    #[test]
    fn question_mark_takes_boxed_errors_and_text() {
        fn boxed() -> Result<(), Box<dyn StdError + Send + Sync>> {
            Err(Box::new(Outer(std::io::Error::other("gone"))))
        }
        fn via_question_mark() -> Result<(), Error> {
            boxed()?;
            Ok(())
        }
        let e = via_question_mark().unwrap_err();
        assert_eq!(format!("{e:#}"), "reading the allow list: gone");
        fn text() -> Result<(), Error> {
            Err("plain words")?;
            Ok(())
        }
        assert_eq!(text().unwrap_err().to_string(), "plain words");
    }

    #[test]
    fn question_mark_takes_anyhow_errors_with_their_chain() {
        fn inner() -> anyhow::Result<()> {
            let io = std::io::Error::other("no such file");
            Err(anyhow::Error::new(io).context("opening the list"))
        }
        fn via_question_mark() -> Result<(), Error> {
            inner()?;
            Ok(())
        }
        let e = via_question_mark().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Hook);
        assert_eq!(format!("{e:#}"), "opening the list: no such file");
    }

    #[test]
    fn results_of_views_fit_in_registers() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        assert_eq!(std::mem::size_of::<Result<(), Error>>(), std::mem::size_of::<usize>());
    }
}
