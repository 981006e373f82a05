//! Control commands: named commands a hook answers on Kea's control
//! channel (the server's unix socket, its HTTP socket on Kea 3.0+, or
//! kea-ctrl-agent in front of it).
//!
//! A hook lists its commands in [`Hook::commands`](crate::Hook::commands); each is a function of
//! the hook, the [`CommandContext`] and the command's `arguments`,
//! deserialized with serde into a type of the hook's choosing, that returns
//! an [`Answer`]. The SDK turns that into Kea's answer
//! `{"result": N, "text": "...", "arguments": ...}`:
//!
//! * arguments that do not fit the type: result 1, `bad arguments: at
//!   'field': ...` (serde's message, with the JSON type expected in place
//!   of a Rust type's name), and the handler is not called;
//! * no arguments (or `null`) where the type needs some: result 1,
//!   `arguments are required: a map with ...` naming the fields (or the
//!   variants of an enum), and the handler is not called; a type that
//!   takes `null` (an `Option`) or an empty map (a struct whose every
//!   field has a default) is given that instead;
//! * a handler's `Err`: result 1 with the error and its causes;
//! * a handler's panic: result 1, and one `ERROR` line in Kea's log; Kea
//!   carries on.
//!
//! Kea lists the commands in `list-commands` from the moment the hook is
//! loaded, and forgets them when it is unloaded.
//!
//! ```no_run
//! use kea_hooks::prelude::*;
//! use kea_hooks::command::{Answer, CommandContext, Commands};
//! use serde::{Deserialize, Serialize};
//! use std::sync::atomic::{AtomicU64, Ordering};
//!
//! struct Counter {
//!     seen: AtomicU64,
//! }
//!
//! #[derive(Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct ResetArgs {
//!     /// The value to start again from.
//!     to: u64,
//! }
//!
//! #[derive(Serialize)]
//! struct Report {
//!     seen: u64,
//! }
//!
//! impl Counter {
//!     fn get(&self, _cx: &CommandContext<'_>, _args: Option<serde_json::Value>) -> Result<Answer, Error> {
//!         Answer::success("counted").with_arguments(Report { seen: self.seen.load(Ordering::Relaxed) })
//!     }
//!
//!     fn reset(&self, _cx: &CommandContext<'_>, args: ResetArgs) -> Result<Answer, Error> {
//!         self.seen.store(args.to, Ordering::Relaxed);
//!         Ok(Answer::success(format!("reset to {}", args.to)))
//!     }
//! }
//!
//! impl Hook for Counter {
//!     const NAME: &'static str = "counter";
//!     type Params = NoParameters;
//!     fn load(_: NoParameters, _: &LoadContext) -> Result<Self, Error> {
//!         Ok(Counter { seen: AtomicU64::new(0) })
//!     }
//!     fn commands(&self, commands: &mut Commands<Self>) -> Result<(), Error> {
//!         commands.add("counter-get", Self::get)?;
//!         commands.add("counter-reset", Self::reset)?;
//!         Ok(())
//!     }
//! }
//!
//! impl Callout<dhcp4::Pkt4Receive> for Counter {
//!     fn call(&self, _cx: &Context<'_, dhcp4::Pkt4Receive>) -> Result<(), Error> {
//!         self.seen.fetch_add(1, Ordering::Relaxed);
//!         Ok(())
//!     }
//! }
//!
//! kea_hooks::kea_hook!(Counter);
//! ```
//!
//! # Threads
//! Kea runs command handlers on its main thread, the one that also reads
//! the control sockets and, with multi-threading off, processes every
//! packet: keep them short, and hand slow work to a thread of the hook's
//! own. With multi-threading on, callouts run on Kea's packet threads at
//! the same time as a handler, which is why a handler gets `&self` like a
//! callout.

use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind};
use crate::guard::guard;
use crate::log::{self as klog, Severity};

/// `command_processed`, the hook point where a callout sees every command
/// the server answers. Defined with the hook points every server has
/// (also re-exported as `dhcp4::CommandProcessed`): this re-export keeps
/// its path here, the one place this module names a module above it.
pub use crate::points::CommandProcessed;

/// Kea's result codes for a command's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AnswerResult {
    /// 0: the command succeeded.
    Success,
    /// 1: the command failed.
    Error,
    /// 2: the command is not supported.
    Unsupported,
    /// 3: the command succeeded, but found nothing (for example no lease
    /// for the address asked about).
    Empty,
    /// 4: the command could not be applied because of a conflict (Kea 2.6+
    /// uses it, for example for a lease update that lost a race).
    Conflict,
}

impl AnswerResult {
    /// The number Kea puts in `result`.
    pub fn code(self) -> i64 {
        match self {
            AnswerResult::Success => 0,
            AnswerResult::Error => 1,
            AnswerResult::Unsupported => 2,
            AnswerResult::Empty => 3,
            AnswerResult::Conflict => 4,
        }
    }
}

/// What marks a [`big_integer`] in a `Value` (a string no answer sends:
/// it starts with a NUL).
pub(crate) const BIG_INTEGER_MARK: &str = "\u{0}kea-big-integer:";

/// Runs control command `name` (with `arguments`) in this Kea server, as
/// if a client had sent it to the control socket, and returns Kea's
/// answer (`{"result": ..., "text": ..., "arguments": ...}`): Kea's own
/// commands and every loaded hook's (this one's too), with the
/// `command_processed` callouts of every hook run on it, as for any
/// command (the HA hook adds its part of `status-get` there).
///
/// Only on Kea's main thread, where Kea handles commands: in a command
/// handler, in `load`, in a callout on that thread (a single-threaded
/// Kea's), or in [`main_thread`](crate::threads::main_thread) work from a
/// thread of the hook's own (with `call_timeout`: a command that takes
/// long holds Kea's main thread as it would for a client). Elsewhere it
/// fails with [`ErrorKind::WrongThread`].
///
/// ```no_run
/// use kea_hooks::threads::main_thread;
/// use std::time::Duration;
/// // From a thread of the hook's own:
/// let status = main_thread::call_timeout(Duration::from_secs(1), || kea_hooks::command::execute("status-get", None));
/// ```
pub fn execute(name: &str, arguments: Option<&Value>) -> Result<Value, Error> {
    if !crate::ffi::on_main_thread() {
        return Err(Error::new(ErrorKind::WrongThread, format!("command {name}: Kea handles commands on its main thread only")));
    }
    let mut command = Map::new();
    command.insert("command".into(), Value::String(name.to_owned()));
    if let Some(a) = arguments {
        command.insert("arguments".into(), a.clone());
    }
    let text = crate::ffi::execute_command(&Value::Object(command).to_string())?;
    serde_json::from_str(&text).map_err(|e| Error::new(ErrorKind::Kea, format!("command {name}: Kea's answer is not JSON: {e}")))
}

/// An integer of any size as an answer's argument: Kea's own big integers
/// (a /64 pool's 2^64 addresses in `total-nas`, which stat_cmds sends as a
/// bare JSON number) do not fit serde_json's numbers. Within `i64` or
/// `u64` this is an ordinary number; beyond, the SDK hands the answer to
/// Kea's JSON parser with the number written out, which Kea 2.6+ reads as
/// its big-integer element. Kea 2.2 has none, and its parser refuses such
/// a number (the answer then fails): clamp there.
///
/// ```
/// # use kea_hooks::command::{big_integer, Answer};
/// let a = Answer::success("ok").with_arguments(serde_json::json!({ "total": big_integer(1 << 64) })).unwrap();
/// assert_eq!(a.arguments().unwrap()["total"].as_u64(), None); // marked, not a serde_json number
/// assert_eq!(big_integer(5), serde_json::json!(5));
/// ```
pub fn big_integer(v: i128) -> Value {
    if let Ok(i) = i64::try_from(v) {
        Value::from(i)
    } else if let Ok(u) = u64::try_from(v) {
        Value::from(u)
    } else {
        Value::String(format!("{BIG_INTEGER_MARK}{v}"))
    }
}

/// `text` (JSON) with every quoted [`big_integer`] mark written out as the
/// bare number it stands for.
pub(crate) fn expand_big_integers(text: &str) -> String {
    // serde_json writes the mark's NUL as \u0000.
    const QUOTED: &str = "\"\\u0000kea-big-integer:";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(QUOTED) {
        out.push_str(&rest[..i]);
        let after = &rest[i + QUOTED.len()..];
        let end = after.find('"').unwrap_or(after.len());
        out.push_str(&after[..end]);
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// Whether `v` holds a [`big_integer`] mark.
pub(crate) fn has_big_integer(v: &Value) -> bool {
    match v {
        Value::String(s) => s.starts_with(BIG_INTEGER_MARK),
        Value::Array(a) => a.iter().any(has_big_integer),
        Value::Object(m) => m.values().any(has_big_integer),
        _ => false,
    }
}

/// A command's answer: Kea's `{"result": N, "text": "...", "arguments": ...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    result: AnswerResult,
    text: String,
    arguments: Option<Value>,
}

impl Answer {
    /// An answer with `result` and `text`, and no arguments.
    pub fn new(result: AnswerResult, text: impl Into<String>) -> Answer {
        Answer { result, text: text.into(), arguments: None }
    }

    /// Result 0.
    pub fn success(text: impl Into<String>) -> Answer {
        Answer::new(AnswerResult::Success, text)
    }

    /// Result 1.
    pub fn error(text: impl Into<String>) -> Answer {
        Answer::new(AnswerResult::Error, text)
    }

    /// Result 3: nothing matched.
    pub fn empty(text: impl Into<String>) -> Answer {
        Answer::new(AnswerResult::Empty, text)
    }

    /// The same answer with `arguments` (any serde type that serializes to
    /// JSON: usually a struct, which becomes a map). Fails only where
    /// serde_json does, for example for a map whose keys are not strings.
    pub fn with_arguments(mut self, arguments: impl Serialize) -> Result<Answer, Error> {
        let value = serde_json::to_value(arguments)
            .map_err(|e| Error::new(ErrorKind::Invalid, format!("the answer's arguments are not JSON: {e}")))?;
        self.arguments = Some(value);
        Ok(self)
    }

    /// The result.
    pub fn result(&self) -> AnswerResult {
        self.result
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The arguments, if any.
    pub fn arguments(&self) -> Option<&Value> {
        self.arguments.as_ref()
    }

    /// The answer as Kea sends it.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("result".into(), Value::from(self.result.code()));
        map.insert("text".into(), Value::from(self.text.as_str()));
        if let Some(args) = &self.arguments {
            map.insert("arguments".into(), args.clone());
        }
        Value::Object(map)
    }
}

/// What a command handler may want to know about the call.
pub struct CommandContext<'a> {
    name: &'a str,
    // Handlers run on Kea's main thread, and what they may do there (read
    // Kea's configuration) must stay there.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl<'a> CommandContext<'a> {
    /// The command's name, as the client sent it (a handler can serve
    /// several commands).
    pub fn name(&self) -> &str {
        self.name
    }

    /// Kea's configuration and lease database, for this handler (see
    /// [`crate::kea`]).
    pub fn kea(&self) -> crate::kea::KeaAccess<'a> {
        crate::kea::KeaAccess::new(false)
    }
}

impl fmt::Debug for CommandContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandContext").field("name", &self.name).finish()
    }
}

type Handler<H> = Box<dyn Fn(&H, &CommandContext<'_>, Option<Value>) -> Answer + Send + Sync>;

/// The commands a hook answers, as it lists them in [`Hook::commands`](crate::Hook::commands).
pub struct Commands<H> {
    entries: Vec<(String, Handler<H>)>,
}

impl<H> Default for Commands<H> {
    fn default() -> Self {
        Commands { entries: Vec::new() }
    }
}

impl<H> fmt::Debug for Commands<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries.iter().map(|(n, _)| n)).finish()
    }
}

impl<H> Commands<H> {
    /// Adds command `name`, answered by `handler`.
    ///
    /// `A` is what the command's `arguments` deserialize into: a struct
    /// (use `#[serde(deny_unknown_fields)]` to refuse unknown keys),
    /// `Option<T>` where the arguments may be left out (then `None`),
    /// [`serde_json::Value`] to take anything. Arguments that do not fit
    /// are answered with result 1 naming the field; absent ones, where `A`
    /// needs some, with result 1 and `arguments are required: a map with`
    /// the struct's fields; in both cases the handler is not called.
    ///
    /// Names are 1 to 64 characters of letters, digits, `-` and `_`; Kea
    /// reads `-` and `_` as the same character in a command's name, so
    /// `a-b` and `a_b` are the same command. Prefix them with the hook's
    /// name: a name Kea itself answers (`statistic-get`, ...) would take
    /// that command over for every client. Fails for a bad or repeated
    /// name.
    pub fn add<A, F>(&mut self, name: &str, handler: F) -> Result<&mut Self, Error>
    where
        A: DeserializeOwned,
        F: Fn(&H, &CommandContext<'_>, A) -> Result<Answer, Error> + Send + Sync + 'static,
    {
        check_command_name(name)?;
        let key = hook_name_of(name);
        if self.entries.iter().any(|(n, _)| hook_name_of(n) == key) {
            return Err(Error::new(ErrorKind::Invalid, format!("command {name:?} is listed twice")));
        }
        let wrapped = move |hook: &H, cx: &CommandContext<'_>, arguments: Option<Value>| -> Answer {
            let args: A = match decode(arguments) {
                Ok(a) => a,
                Err(text) => return Answer::error(text),
            };
            match handler(hook, cx, args) {
                Ok(answer) => answer,
                Err(e) => Answer::error(format!("{e:#}")),
            }
        };
        self.entries.push((name.to_owned(), Box::new(wrapped)));
        Ok(self)
    }

    /// The names listed so far.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, name: &str) -> Option<&Handler<H>> {
        let key = hook_name_of(name);
        self.entries.iter().find(|(n, _)| hook_name_of(n) == key).map(|(_, h)| h)
    }
}

fn check_command_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Invalid,
            format!("command name {name:?} must be 1 to 64 characters of letters, digits, '-' and '_'"),
        ))
    }
}

/// The hook point Kea files command `name` under (`$` + the name with `-`
/// turned into `_`).
fn hook_name_of(name: &str) -> String {
    name.replace('-', "_")
}

/// Deserializes a command's `arguments` (`None` when the command had none)
/// into `A`; the error text is the answer's, written for the operator who
/// sent the command: no Rust type names.
///
/// Absent arguments (or `"arguments": null`) are what `A` makes of `null`
/// (`None` for an `Option`), else of an empty map (a struct whose every
/// field has a default); when neither fits, the answer says that arguments
/// are required and what they are, from the names serde knows: "arguments
/// are required: a map with \`subnet-id\`, \`verbose\` (missing field
/// \`subnet-id\`)".
fn decode<A: DeserializeOwned>(arguments: Option<Value>) -> Result<A, String> {
    let arguments = match arguments {
        None | Some(Value::Null) => {
            if let Ok(a) = <A as serde::Deserialize>::deserialize(Value::Null) {
                return Ok(a);
            }
            return match <A as serde::Deserialize>::deserialize(Value::Object(Map::new())) {
                Ok(a) => Ok(a),
                Err(e) => {
                    let why = operator_text(&e.to_string());
                    Err(match expected_shape::<A>() {
                        Some(Shape::Fields(fields)) => format!("arguments are required: a map with {} ({why})", quoted(fields)),
                        Some(Shape::Variants(variants)) => format!("arguments are required: one of {}", quoted(variants)),
                        None => format!("arguments are required ({why})"),
                    })
                }
            };
        }
        Some(v) => v,
    };
    serde_path_to_error::deserialize(arguments).map_err(|e| {
        let path = e.path().to_string();
        let inner = operator_text(&e.into_inner().to_string());
        if path == "." || path.is_empty() {
            format!("bad arguments: {inner}")
        } else {
            format!("bad arguments: at '{path}': {inner}")
        }
    })
}

/// serde's error text with the Rust type names it mentions (`expected
/// struct VisitArgs`, `... untagged enum Op`) replaced by what they are in
/// JSON; the rest (field names, values, the expected JSON type) is kept.
fn operator_text(serde_text: &str) -> String {
    // (what serde writes before the type's name, what to write instead)
    const KINDS: [(&str, &str); 9] = [
        ("expected struct variant ", "expected a map"),
        ("expected tuple variant ", "expected an array"),
        ("expected tuple struct ", "expected an array"),
        ("expected unit struct ", "expected null"),
        ("expected newtype struct ", "expected a value"),
        ("expected struct ", "expected a map"),
        ("expected internally tagged enum ", "expected a map"),
        ("expected adjacently tagged enum ", "expected a map"),
        ("expected enum ", "expected a string or a map"),
    ];
    let mut text = serde_text.to_owned();
    for (kind, json) in KINDS {
        while let Some(at) = text.find(kind) {
            let name_end = text[at + kind.len()..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(text.len(), |n| at + kind.len() + n);
            text.replace_range(at..name_end, json);
        }
    }
    if let Some(at) = text.find("data did not match any variant of untagged enum ") {
        text.truncate(at);
        text.push_str("the arguments match none of the forms the command takes");
    }
    text
}

/// What arguments of type `A` look like, when serde says: the fields of a
/// struct, or the names of an enum's variants. `None` for other types.
fn expected_shape<A: DeserializeOwned>() -> Option<Shape> {
    let shape = std::cell::RefCell::new(None);
    let _ = <A as serde::Deserialize>::deserialize(ShapeProbe { shape: &shape });
    shape.into_inner().filter(|s| match s {
        Shape::Fields(names) | Shape::Variants(names) => !names.is_empty(),
    })
}

/// Names as a list for an answer's text: `` `a`, `b` ``.
fn quoted(names: &[&str]) -> String {
    names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

/// What [`ShapeProbe`] saw serde ask for.
enum Shape {
    /// A struct's field names (as written in JSON, after `rename`).
    Fields(&'static [&'static str]),
    /// An enum's variant names.
    Variants(&'static [&'static str]),
}

/// A deserializer that holds no data: it records the field or variant
/// names a type's `Deserialize` asks for, then fails.
struct ShapeProbe<'a> {
    shape: &'a std::cell::RefCell<Option<Shape>>,
}

impl<'de> serde::Deserializer<'de> for ShapeProbe<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("no data"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.shape.borrow_mut() = Some(Shape::Fields(fields));
        Err(serde::de::Error::custom("no data"))
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.shape.borrow_mut() = Some(Shape::Variants(variants));
        Err(serde::de::Error::custom("no data"))
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

/// The commands of hook `H` while it is loaded (kept in its slot).
#[doc(hidden)]
pub struct CommandTable<H> {
    commands: Commands<H>,
}

impl<H> CommandTable<H> {
    pub(crate) fn new(commands: Commands<H>) -> Self {
        CommandTable { commands }
    }
}

/// Answers one command for `hook` (named `hook_name`): `command` is the
/// JSON Kea passed as the callout's `command` argument.
pub(crate) fn answer<H>(hook_name: &str, hook: &H, table: &CommandTable<H>, command: &str) -> Answer {
    let parsed: Value = match serde_json::from_str(command) {
        Ok(v) => v,
        Err(e) => return Answer::error(format!("the command is not JSON: {e}")),
    };
    let Some(name) = parsed.get("command").and_then(Value::as_str) else {
        return Answer::error("the command has no name");
    };
    let Some(handler) = table.commands.find(name) else {
        return Answer::new(AnswerResult::Unsupported, format!("{hook_name}: no command {name:?}"));
    };
    let arguments = parsed.get("arguments").cloned();
    let cx = CommandContext { name, _not_send: std::marker::PhantomData };
    match guard(|| handler(hook, &cx, arguments)) {
        Ok(answer) => answer,
        Err(panic) => {
            let line = format!("{hook_name}: command {name} panicked: {panic}");
            let _ = guard(|| klog::emit(Severity::Error, 0, &line));
            Answer::error(format!("{hook_name}: the command failed (the hook panicked: {panic})"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    struct Args {
        subnet_id: u32,
        #[serde(default)]
        verbose: bool,
    }

    #[test]
    fn arguments_errors_name_the_field() {
        let e = decode::<Args>(Some(serde_json::json!({"subnet-id": "x"}))).unwrap_err();
        assert!(e.starts_with("bad arguments: at 'subnet-id': invalid type"), "{e}");
        let e = decode::<Args>(Some(serde_json::json!({"subnet-id": 1, "bogus": 2}))).unwrap_err();
        assert!(e.contains("unknown field `bogus`"), "{e}");
        let e = decode::<Args>(None).unwrap_err();
        assert_eq!(e, "arguments are required: a map with `subnet-id`, `verbose` (missing field `subnet-id`)");
        assert_eq!(decode::<Args>(Some(Value::Null)).unwrap_err(), e);
        let e = decode::<Args>(Some(serde_json::json!("x"))).unwrap_err();
        assert_eq!(e, "bad arguments: invalid type: string \"x\", expected a map");
        let a = decode::<Args>(Some(serde_json::json!({"subnet-id": 7}))).unwrap();
        assert_eq!((a.subnet_id, a.verbose), (7, false));
        assert!(decode::<Option<Args>>(None).unwrap().is_none());
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    struct AllDefault {
        verbose: bool,
    }

    #[allow(dead_code)] // only deserialized
    #[derive(Debug, Deserialize)]
    #[serde(rename_all = "kebab-case")]
    enum Mode {
        Fast,
        Thorough { depth: u32 },
    }

    #[allow(dead_code)] // only deserialized
    #[derive(Debug, Deserialize)]
    #[serde(tag = "op", rename_all = "kebab-case")]
    enum Tagged {
        Get { name: String },
    }

    #[test]
    fn absent_arguments_say_what_is_required_without_rust_type_names() {
        // What takes null or an empty map needs no arguments.
        assert!(!decode::<AllDefault>(None).unwrap().verbose);
        assert_eq!(decode::<Value>(None).unwrap(), Value::Null);
        decode::<()>(None).unwrap();
        // Enums: their variants; an internally tagged one: its tag.
        assert_eq!(decode::<Mode>(None).unwrap_err(), "arguments are required: one of `fast`, `thorough`");
        assert_eq!(decode::<Tagged>(None).unwrap_err(), "arguments are required (missing field `op`)");
        // Present but wrong: serde's message and path, no type names.
        let e = decode::<Mode>(Some(serde_json::json!({"thorough": {"depth": "x"}}))).unwrap_err();
        assert_eq!(e, "bad arguments: at 'thorough.depth': invalid type: string \"x\", expected u32");
        let e = decode::<Tagged>(Some(serde_json::json!(5))).unwrap_err();
        assert_eq!(e, "bad arguments: invalid type: integer `5`, expected a map");
        assert_eq!(operator_text("invalid type: null, expected struct VisitArgs"), "invalid type: null, expected a map");
        assert_eq!(
            operator_text("data did not match any variant of untagged enum Either"),
            "the arguments match none of the forms the command takes"
        );
    }

    #[test]
    fn answers_are_keas_layout() {
        let a = Answer::success("ok").with_arguments(serde_json::json!({"n": 1})).unwrap();
        assert_eq!(a.to_json(), serde_json::json!({"result": 0, "text": "ok", "arguments": {"n": 1}}));
        assert_eq!(Answer::empty("none").to_json(), serde_json::json!({"result": 3, "text": "none"}));
        let mut bad = std::collections::HashMap::new();
        bad.insert((1, 2), 3);
        assert_eq!(Answer::success("").with_arguments(bad).unwrap_err().kind(), ErrorKind::Invalid);
    }

    #[test]
    fn big_integers_are_written_out_as_bare_numbers() {
        let v = serde_json::json!({ "rows": [[1, big_integer(1i128 << 64), "x"], [big_integer(-(1i128 << 70))]], "s": "\"q" });
        assert!(has_big_integer(&v));
        assert_eq!(
            expand_big_integers(&v.to_string()),
            r#"{"rows":[[1,18446744073709551616,"x"],[-1180591620717411303424]],"s":"\"q"}"#
        );
        assert!(!has_big_integer(&serde_json::json!([big_integer(i64::MIN.into()), big_integer(u64::MAX.into())])));
    }

    #[test]
    fn names() {
        assert!(check_command_name("probe-echo").is_ok());
        assert!(check_command_name("").is_err());
        assert!(check_command_name("a b").is_err());
        assert!(check_command_name(&"x".repeat(65)).is_err());
        assert_eq!(hook_name_of("a-b"), hook_name_of("a_b"));
    }
}
