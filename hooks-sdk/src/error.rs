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
}

/// An error from a callout, from `load`, or from a Kea call.
///
/// Any `std::error::Error + Send + Sync` converts into it with `?`, and
/// [`Error::msg`] makes one from text.
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

    /// The underlying error, if it was converted from one.
    pub fn source(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        self.0.source.as_deref()
    }

    /// Prefixes the message with `context: `.
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.0.message = format!("{context}: {}", self.0.message).into();
        self
    }
}

impl<E: StdError + Send + Sync + 'static> From<E> for Error {
    #[cold]
    fn from(e: E) -> Self {
        let any: &dyn std::any::Any = &e;
        let kind = if any.is::<cxx::Exception>() { ErrorKind::Kea } else { ErrorKind::Hook };
        Error(Box::new(Inner { kind, message: e.to_string().into(), source: Some(Box::new(e)) }))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.kind == ErrorKind::Kea {
            write!(f, "Kea error: {}", self.0.message)
        } else {
            f.write_str(&self.0.message)
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error").field("kind", &self.0.kind).field("message", &self.0.message).finish()
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

    #[test]
    fn results_of_views_fit_in_registers() {
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        assert_eq!(std::mem::size_of::<Result<(), Error>>(), std::mem::size_of::<usize>());
    }
}
