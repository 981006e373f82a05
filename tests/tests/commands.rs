//! Control commands and statistics, on a real kea-dhcp4: a hook's commands
//! answered on the unix control socket and over HTTP (kea-ctrl-agent on
//! Kea 2.x, the server's own HTTP socket on 3.0+), with typed arguments,
//! errors and a panic; its statistics seen by Kea's statistic commands,
//! and Kea's own read back. Run as root; see the README.

mod common;

use kea_hooks_tests::{require_root_and_kea, Client4, Kea, KeaConfig, NetPair};
use serde_json::{json, Value};

use common::with_probe;

fn listed(answer: &Value) -> Vec<String> {
    answer["arguments"]
        .as_array()
        .unwrap_or_else(|| panic!("list-commands: {answer}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn hook_commands_answer_on_the_control_socket_and_over_http() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (mut kea, out) = with_probe(&pair, KeaConfig::new(&pair).http_control(), json!({ "commands": true }));

    // Both channels list the hook's commands.
    for answer in [kea.command("list-commands", None), kea.http_command("list-commands", None)] {
        let names = listed(&answer);
        for c in ["probe-echo", "probe-fail", "probe-panic", "probe-stats"] {
            assert!(names.iter().any(|n| n == c), "{c} not listed: {answer}");
        }
    }

    // Typed arguments in, serde arguments out; the same on both channels.
    let args = json!({ "text": "ab", "times": 3 });
    let expected = json!({ "result": 0, "text": "probe-echo echoes", "arguments": { "echo": "ababab" } });
    assert_eq!(kea.command("probe-echo", Some(args.clone())), expected);
    assert_eq!(kea.http_command("probe-echo", Some(args)), expected);
    // Optional arguments left out.
    assert_eq!(kea.command("probe-echo", None), json!({ "result": 3, "text": "nothing to echo" }));

    // Bad arguments: result 1 naming the problem; the handler never ran.
    for (args, needle) in [
        (json!({ "text": 5 }), "bad arguments: at 'text': invalid type: integer `5`, expected a string"),
        (json!({ "text": "a", "bogus": 1 }), "unknown field `bogus`"),
        (json!({ "times": 2 }), "missing field `text`"),
    ] {
        for answer in [kea.command("probe-echo", Some(args.clone())), kea.http_command("probe-echo", Some(args.clone()))] {
            assert_eq!(answer["result"], 1, "{args}: {answer}");
            assert!(answer["text"].as_str().unwrap().contains(needle), "{args}: {answer}");
        }
    }
    // A command that needs arguments, sent none: what they are, in the
    // operator's terms (no Rust type names such as `struct SleepArgs`).
    assert_eq!(
        kea.command("probe-sleep", None),
        json!({ "result": 1, "text": "arguments are required: a map with `ms` (missing field `ms`)" })
    );
    assert_eq!(kea.command("probe-stats", None), json!({ "result": 1, "text": "arguments are required (missing field `op`)" }));
    // Arguments of the wrong JSON type: serde's message, the type named as JSON's.
    for (args, text) in [
        (json!("5 ms"), "bad arguments: invalid type: string \"5 ms\", expected a map"),
        (json!({ "ms": "5" }), "bad arguments: at 'ms': invalid type: string \"5\", expected u64"),
    ] {
        let answer = kea.command("probe-sleep", Some(args.clone()));
        assert_eq!(answer, json!({ "result": 1, "text": text }), "{args}");
    }

    // A handler's error, with its context.
    assert_eq!(kea.command("probe-fail", Some(json!({}))), json!({ "result": 1, "text": "probe-fail: probe says no" }));

    // A handler's panic: result 1, one log line, and Kea carries on.
    let answer = kea.http_command("probe-panic", None);
    assert_eq!(answer["result"], 1, "{answer}");
    assert!(answer["text"].as_str().unwrap().contains("probe-panic was asked to panic"), "{answer}");
    assert!(kea.is_alive());
    assert_eq!(kea.count_in_log("probe: command probe-panic panicked: probe-panic was asked to panic"), 1, "{}", kea.log());
    assert!(Client4::new(&pair, "02:c4:00:00:00:01").dora().is_some(), "Kea stopped serving");

    // Unloaded with the hook: after a reload without them, Kea knows none.
    let answer = kea.reload_with_hook_parameters(0, json!({ "out": out, "commands": false }));
    assert_eq!(answer["result"], 0, "{answer}");
    let names = listed(&kea.command("list-commands", None));
    assert!(!names.iter().any(|n| n.starts_with("probe-")), "{names:?}");
    assert_eq!(kea.command("probe-echo", Some(json!({ "text": "x" })))["result"], 2);
}

/// probe-stats `op`'s value.
fn stats(kea: &Kea, op: Value) -> Value {
    let answer = kea.command("probe-stats", Some(op.clone()));
    assert_eq!(answer["result"], 0, "{op}: {answer}");
    answer["arguments"]["value"].clone()
}

/// Statistic `name`'s latest value as Kea's statistic-get shows it.
fn kea_value(kea: &Kea, name: &str) -> Option<Value> {
    let answer = kea.command("statistic-get", Some(json!({ "name": name })));
    assert_eq!(answer["result"], 0, "{answer}");
    answer["arguments"][name].get(0).map(|sample| sample[0].clone())
}

#[test]
fn statistics_a_hook_keeps_are_keas_statistics() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let (mut kea, out) = with_probe(&pair, KeaConfig::new(&pair), json!({ "commands": true }));

    // Set, add, read back through Kea's own commands.
    assert_eq!(stats(&kea, json!({ "op": "set-integer", "name": "probe.count", "value": 5 })), json!({ "integer": 5 }));
    assert_eq!(stats(&kea, json!({ "op": "add-integer", "name": "probe.count", "value": -2 })), json!({ "integer": 3 }));
    assert_eq!(kea_value(&kea, "probe.count"), Some(json!(3)));
    let all = kea.command("statistic-get-all", None);
    assert_eq!(all["arguments"]["probe.count"][0][0], 3, "{all}");
    assert_eq!(stats(&kea, json!({ "op": "set-float", "name": "probe.ratio", "value": 0.25 })), json!({ "float": 0.25 }));
    assert_eq!(kea_value(&kea, "probe.ratio"), Some(json!(0.25)));
    assert_eq!(stats(&kea, json!({ "op": "set-string", "name": "probe.state", "value": "idle" })), json!({ "string": "idle" }));
    assert_eq!(kea_value(&kea, "probe.state"), Some(json!("idle")));
    // What Kea resets, the hook reads as reset.
    let answer = kea.command("statistic-reset", Some(json!({ "name": "probe.count" })));
    assert_eq!(answer["result"], 0, "{answer}");
    assert_eq!(stats(&kea, json!({ "op": "get", "name": "probe.count" })), json!({ "integer": 0 }));

    // Kea's own statistics: the pool's size, and a lease handed out.
    assert_eq!(stats(&kea, json!({ "op": "get", "name": "subnet[1].total-addresses" })), json!({ "integer": 241 }));
    Client4::new(&pair, "02:c4:00:00:00:02").dora().expect("ACK");
    assert_eq!(stats(&kea, json!({ "op": "get", "name": "subnet[1].assigned-addresses" })), json!({ "integer": 1 }));
    assert_eq!(stats(&kea, json!({ "op": "get", "name": "no-such-statistic" })), Value::Null);

    // Removed: gone from Kea's view.
    assert_eq!(stats(&kea, json!({ "op": "remove", "name": "probe.ratio" })), json!({ "removed": true }));
    assert_eq!(stats(&kea, json!({ "op": "remove", "name": "probe.ratio" })), json!({ "removed": false }));
    assert_eq!(kea_value(&kea, "probe.ratio"), None);

    // From a thread of the hook's own: refused while Kea's multi-threading
    // is off (Kea's statistics are not locked then), allowed when it is on.
    let answer = stats(&kea, json!({ "op": "from-thread", "name": "probe.threaded" }));
    assert!(answer["thread"].as_str().unwrap().starts_with("WrongThread: "), "{answer}");
    assert_eq!(kea_value(&kea, "probe.threaded"), None);
    let cfg = kea.config().clone().multi_threading(true);
    kea.rewrite_config(&cfg);
    let answer = kea.reload_with_hook_parameters(0, json!({ "out": out, "commands": true }));
    assert_eq!(answer["result"], 0, "{answer}");
    assert_eq!(stats(&kea, json!({ "op": "from-thread", "name": "probe.threaded" })), json!({ "thread": "ok" }));
    assert_eq!(kea_value(&kea, "probe.threaded"), Some(json!(1)));
}
