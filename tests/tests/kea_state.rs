//! Kea's configuration and lease database as a hook reads them, on a real
//! kea-dhcp4: the configured subnets and pools, and lease queries by
//! address, hardware address, client id, subnet and page, from a command,
//! from dhcp4_srv_configured and from a thread of the hook's own
//! (refused while Kea's multi-threading is off, through the main thread
//! otherwise), compared with the lease file. Run as root; see the README.

mod common;

use std::time::{Duration, Instant};

use kea_hooks_tests::{require_root_and_kea, Client4, Kea, KeaConfig, LeaseRow, NetPair};
use serde_json::{json, Value};

use common::{at, records, with_probe};

fn query(kea: &Kea, args: Value) -> Value {
    let answer = kea.command("probe-leases", Some(args.clone()));
    assert_eq!(answer["result"], 0, "{args}: {answer}");
    answer["arguments"].clone()
}

/// A lease file row as the probe writes a lease.
fn row_json(r: &LeaseRow) -> Value {
    json!({
        "address": r.address.to_string(),
        "hwaddr": r.hwaddr,
        "client_id": if r.client_id.is_empty() { Value::Null } else { json!(r.client_id) },
        "valid_lifetime": r.valid_lifetime,
        "expire": r.expire,
        "subnet_id": r.subnet_id,
        "hostname": r.hostname,
        "state": r.state,
    })
}

/// Waits for the probe's `lease_thread` record of `generation`.
fn thread_record(out: &std::path::Path, generation: u32) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let recs = records(out);
        if let Some(r) = at(&recs, "lease_thread").into_iter().find(|r| r["generation"] == generation) {
            return r.clone();
        }
        assert!(Instant::now() < deadline, "no lease_thread record");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn configuration_and_lease_database_as_a_hook_reads_them() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let cfg = KeaConfig::new(&pair);
    let mut subnets = cfg.to_json()["Dhcp4"]["subnet4"].clone();
    // A second subnet, not on the link: a range pool and a prefix pool.
    subnets.as_array_mut().unwrap().push(json!({
        "id": 2, "subnet": "198.19.240.0/24",
        "pools": [{ "pool": "198.19.240.10 - 198.19.240.19" }, { "pool": "198.19.240.128/26" }]
    }));
    let (mut kea, out) = with_probe(&pair, cfg.merge(json!({ "subnet4": subnets })), json!({ "commands": true }));

    let o = pair.server_addr().octets();
    let net = format!("{}.{}.{}", o[0], o[1], o[2]);
    let expected_subnets = json!([
        { "id": 1, "prefix": format!("{net}.0/24"), "total": 241, "pools": [[format!("{net}.10"), format!("{net}.250"), 241]] },
        { "id": 2, "prefix": "198.19.240.0/24", "total": 74,
          "pools": [["198.19.240.10", "198.19.240.19", 10], ["198.19.240.128", "198.19.240.191", 64]] },
    ]);
    let answer = kea.command("probe-subnets", None);
    assert_eq!(answer["arguments"], expected_subnets, "{answer}");
    // load and dhcp4_srv_configured saw the same (the configuration being
    // applied), and dhcp4_srv_configured an empty lease database.
    let recs = records(&out);
    assert_eq!(at(&recs, "load")[0]["subnets4"], expected_subnets);
    let configured = at(&recs, "dhcp4_srv_configured");
    assert_eq!(configured[0]["subnets4"], expected_subnets);
    assert_eq!(configured[0]["leases"], 0);

    // Five clients, one with a client id.
    let mut macs = Vec::new();
    for i in 1..=5u8 {
        let mac = format!("02:c7:00:00:00:{i:02x}");
        let client = Client4::new(&pair, &mac);
        let client = if i == 3 { client.with_option(61, &[1, 0xc7, 0xc7, 0xc7, 0xc7, 0xc7, 0x03]) } else { client };
        client.dora().expect("ACK");
        macs.push(mac);
    }
    let mut rows = kea.lease_rows();
    rows.sort_by_key(|r| r.address);
    assert_eq!(rows.len(), 5);
    let file: Vec<Value> = rows.iter().map(row_json).collect();

    // By address, hardware address, client id, subnet: what the file says.
    assert_eq!(query(&kea, json!({ "by": "address", "address": rows[1].address })), file[1]);
    assert_eq!(query(&kea, json!({ "by": "address", "address": "198.19.240.10" })), Value::Null);
    let by_mac = rows.iter().position(|r| r.hwaddr == macs[3]).unwrap();
    assert_eq!(query(&kea, json!({ "by": "hwaddr", "hwaddr": macs[3] })), json!([file[by_mac]]));
    let with_id = rows.iter().position(|r| !r.client_id.is_empty() && r.hwaddr == macs[2]).expect("a lease with the client id");
    assert_eq!(query(&kea, json!({ "by": "client-id", "client-id": "01:c7:c7:c7:c7:c7:03" })), json!([file[with_id]]));
    let mut by_subnet: Vec<Value> = query(&kea, json!({ "by": "subnet", "subnet-id": 1 })).as_array().unwrap().clone();
    by_subnet.sort_by_key(|l| l["address"].as_str().unwrap().parse::<std::net::Ipv4Addr>().unwrap());
    assert_eq!(by_subnet, file);
    assert_eq!(query(&kea, json!({ "by": "subnet", "subnet-id": 2 })), json!([]));
    // Pages of two: three pages, in address order, every lease once.
    assert_eq!(query(&kea, json!({ "by": "pages", "size": 2 })), json!({ "pages": 3, "leases": file }));
    assert_eq!(query(&kea, json!({ "by": "pages", "size": 5 }))["pages"], 1);
    // A bad query: result 1, naming the problem.
    let answer = kea.command("probe-leases", Some(json!({ "by": "pages", "size": 0 })));
    assert_eq!(answer["result"], 1);
    assert!(answer["text"].as_str().unwrap().contains("a page of 0 leases"), "{answer}");

    // From a thread of the hook's own, with multi-threading off: the lease
    // database is refused, the configuration comes through the main thread.
    assert_eq!(query(&kea, json!({ "by": "thread", "size": 2 })), "started");
    let r = thread_record(&out, 0);
    assert!(r["leases"].as_str().unwrap().starts_with("WrongThread: "), "{r}");
    assert_eq!(r["subnets"], expected_subnets);
    // With it on, the thread reads the lease database itself.
    let cfg = kea.config().clone().multi_threading(true);
    kea.rewrite_config(&cfg);
    let answer = kea.reload_with_hook_parameters(0, json!({ "out": out, "commands": true, "generation": 1 }));
    assert_eq!(answer["result"], 0, "{answer}");
    assert_eq!(query(&kea, json!({ "by": "thread", "size": 2 })), "started");
    let r = thread_record(&out, 1);
    assert_eq!(r["leases"], json!({ "pages": 3, "leases": file }), "{r}");
    // Kea's lease statistics query too, but where 2.2's memfile runs it
    // without its lock: there the SDK refuses it off the main thread.
    if kea_hooks_tests::kea_hooks_version() < 20400 {
        assert!(r["counts"].as_str().is_some_and(|e| e.starts_with("WrongThread: ")), "{r}");
    } else {
        assert_eq!(r["counts"], kea.command("probe-leases", Some(json!({ "by": "counts" })))["arguments"], "{r}");
    }
    assert_eq!(r["subnets"], expected_subnets);
    // The reload's dhcp4_srv_configured found the leases.
    let recs = records(&out);
    assert_eq!(at(&recs, "dhcp4_srv_configured").last().unwrap()["leases"], 5);
}

/// A hook thread querying the lease database in a loop while Kea
/// reconfigures (it replaces the database) and shuts down (it destroys the
/// database before it unloads hooks): the queries in those windows are
/// refused, never run against a database being torn down, and Kea goes
/// through five reloads and a shutdown to the last unload.
#[test]
fn hook_thread_lease_queries_wait_out_reconfigurations_and_shutdown() {
    if !require_root_and_kea() {
        return;
    }
    let pair = NetPair::new();
    let params = |generation: u32, out: &std::path::Path| json!({ "out": out, "quiet": true, "query-loop": true, "generation": generation });
    let cfg = KeaConfig::new(&pair).multi_threading(true);
    let out = cfg.dir().join("probe.jsonl");
    let (mut kea, out) = with_probe(&pair, cfg, params(0, &out));
    Client4::new(&pair, "02:5e:00:00:00:01").dora().expect("an ACK");
    for generation in 1..=5 {
        // Let the loop run in the new generation before the next reload.
        std::thread::sleep(Duration::from_millis(100));
        let answer = kea.reload_with_hook_parameters(0, params(generation, &out));
        assert_eq!(answer["result"], 0, "{answer}");
    }
    std::thread::sleep(Duration::from_millis(100));
    let log = kea.stop();
    let recs = records(&out);
    let unloads = at(&recs, "unload");
    assert_eq!(unloads.len(), 6, "every generation unloaded, the last at shutdown:\n{log}");
    let count = |k: &str| unloads.iter().map(|u| u["queries"][k].as_u64().unwrap()).sum::<u64>();
    assert!(unloads.iter().all(|u| u["queries"]["ok"].as_u64().unwrap() > 0), "{unloads:?}");
    assert_eq!(count("failed"), 0, "{unloads:?}");
    assert!(count("refused") > 0, "no query met a critical section: {unloads:?}");
}
