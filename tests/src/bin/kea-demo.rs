//! `kea-demo`: builds the mac-acl, lease-stats, run-script and kea-metrics
//! hooks and shows them working in a real kea-dhcp4 (run it through
//! `scripts/demo.sh`, as root).
//!
//! Kea runs in a network namespace of its own, a DHCP client (dhclient) in
//! another; mac-acl allows hardware addresses under `02:aa` and denies the
//! rest. One allowed and one denied client ask for an address; then
//! lease-stats answers `lease-stats-get` and serves its metrics page,
//! kea-metrics serves Kea's statistics in kea-exporter's names, and
//! run-script shows what its script (a two-line shell script, as users
//! write for ISC's run_script) was given. Then the same run-script and
//! lease-stats libraries in a kea-dhcp6 on the same link: a DHCPv6 client
//! gets an address and a delegated prefix, lease-stats counts both
//! (stat_cmds' `stat-lease6-get` columns) and the script records them.

use std::time::Duration;

use std::path::Path;

use kea_hooks_tests::{build_hook, dhclient, dhclient6, require_root_and_kea, run_in_ns, Ias6, Kea, KeaConfig, NetPair, Profile};
use serde_json::json;

/// Writes an executable shell script.
fn script_file(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Waits (up to 10 s) until run-script has no event queued or running:
/// scripts run off the packet path.
fn scripts_done(kea: &Kea) -> serde_json::Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while kea.command("run-script-status", None)["arguments"]["unfinished"] != 0 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    kea.command("run-script-status", None)
}

/// The lines of a metrics page (lease-stats' or kea-metrics', at `listen`
/// in the pair's server namespace) that contain `family`.
fn metrics(pair: &NetPair, listen: &str, family: &str) -> Vec<String> {
    let page = run_in_ns(&pair.server_ns(), "curl", &["-sS", "--max-time", "5", &format!("http://{listen}/metrics")]);
    String::from_utf8_lossy(&page.stdout).lines().filter(|l| l.contains(family)).map(str::to_owned).collect()
}

fn main() {
    if !require_root_and_kea() {
        std::process::exit(1);
    }
    let lib = build_hook("kea-hook-mac-acl", "dhcp_mac_acl", Profile::Release);
    println!("built {}", lib.display());
    // Built into the same directory (Kea 2.6+ loads hooks from one).
    let stats_lib = build_hook("kea-hook-lease-stats", "dhcp_lease_stats", Profile::Release);
    println!("built {}", stats_lib.display());
    let script_lib = build_hook("kea-hook-run-script", "dhcp_run_script", Profile::Release);
    println!("built {}", script_lib.display());
    let metrics_lib = build_hook("kea-hook-kea-metrics", "dhcp_kea_metrics", Profile::Release);
    println!("built {}", metrics_lib.display());
    let listen = "127.0.0.1:9464";
    let metrics_listen = "127.0.0.1:9547";

    let pair = NetPair::new();
    let params = json!({ "allow": ["02:aa"], "default": "deny" });
    let cfg = KeaConfig::new(&pair);
    // In Kea's directory, which the harness makes Kea 3.0+'s hook-scripts
    // directory (KEA_HOOK_SCRIPTS_PATH).
    let script = cfg.dir().join("on-lease.sh");
    let events = cfg.dir().join("events.log");
    script_file(&script, &format!("#!/bin/sh\necho \"$1 $LEASES4_AT0_ADDRESS $LEASES4_AT0_HWADDR ($QUERY4_TYPE)\" >> {}\n", events.display()));
    let cfg = cfg
        .logger("kea-dhcp4.mac-acl", "DEBUG", 40)
        .hook(&lib, Some(params.clone()))
        .hook(&stats_lib, Some(json!({ "listen": listen })))
        .hook(&script_lib, Some(json!({ "name": script })))
        .hook(&metrics_lib, Some(json!({ "listen": metrics_listen })));
    println!("\nkea-dhcp4 config, hooks-libraries:\n{}", serde_json::to_string_pretty(&cfg.to_json()["Dhcp4"]["hooks-libraries"]).unwrap());
    let mut kea = cfg.start(&pair).unwrap_or_else(|e| panic!("{e}"));
    println!("kea-dhcp4 (pid {}) serves {} in namespace {}", kea.pid(), pair.subnet(), pair.server_ns());

    let mut ok = true;
    for (mac, expect) in [("02:aa:00:00:00:01", true), ("02:bb:00:00:00:01", false)] {
        pair.set_client_mac(mac);
        let got = dhclient(&pair, Duration::from_secs(if expect { 15 } else { 5 }));
        match got {
            Some(addr) => println!("dhclient {mac}: got {addr}"),
            None => println!("dhclient {mac}: no answer (dropped by mac-acl)"),
        }
        ok &= got.is_some() == expect;
    }

    println!("\nlease-stats: lease-stats-get (stat_cmds' stat-lease4-get answer, kept from lease events):");
    let answer = kea.command("lease-stats-get", None);
    println!("{}", serde_json::to_string_pretty(&answer).unwrap());
    let pools = kea.command("lease-stats-get", Some(json!({ "pools": true, "utilization": true })));
    println!("with \"pools\" and \"utilization\":\n{}", serde_json::to_string_pretty(&pools["arguments"]["result-set"]["rows"]).unwrap());
    ok &= answer["arguments"]["result-set"]["rows"][0][3] == 1;
    let lines = metrics(&pair, listen, "kea_lease_stats_subnet_assigned_addresses");
    println!("\nits metrics page (http://{listen}/metrics in Kea's namespace), the subnet's assigned addresses:");
    for line in &lines {
        println!("  {line}");
    }
    ok &= lines.iter().any(|l| l.starts_with("kea_lease_stats_subnet_assigned_addresses{") && l.ends_with(" 1"));

    let lines = metrics(&pair, metrics_listen, "kea_dhcp4_addresses_assigned_total{");
    println!("\nkea-metrics (http://{metrics_listen}/metrics, kea-exporter's names): the subnet's assigned addresses:");
    for line in lines.iter().chain(&metrics(&pair, metrics_listen, "kea_dhcp4_packets_received_total{operation=\"discover\"}")) {
        println!("  {line}");
    }
    ok &= lines.iter().any(|l| l.contains("pool=\"\"") && l.ends_with(" 1"));

    let status = scripts_done(&kea);
    println!("\nrun-script: {} was run with argv [name, hook point] and ISC's variables; it wrote:", script.display());
    let written = std::fs::read_to_string(&events).unwrap_or_default();
    for line in written.lines() {
        println!("  {line}");
    }
    println!("run-script-status: {}", status["arguments"]);
    ok &= written.contains("leases4_committed") && status["arguments"]["run"].as_u64().unwrap_or(0) >= 1;

    let log = kea.stop();
    println!("\nwhat the hook logged (logger kea-dhcp4.mac-acl):");
    for line in log.lines().filter(|l| l.contains("kea-dhcp4.mac-acl")) {
        println!("  {line}");
    }
    ok &= dhcp6(&pair, &stats_lib, &script_lib);
    if !ok {
        eprintln!("\nthe hooks did not behave as expected");
        std::process::exit(1);
    }
    println!("\nmac-acl works: the allowed client got a lease, the denied one was dropped; lease-stats counted it; kea-metrics showed it; run-script ran the script.");
    println!("In kea-dhcp6 the same libraries counted the address and the delegated prefix and ran the script for both.");
}

/// lease-stats and run-script in a kea-dhcp6 serving the same link, with
/// an address pool and a prefix-delegation pool: dhclient -6 asks for
/// both. Whether everything came out as expected.
fn dhcp6(pair: &NetPair, stats_lib: &Path, script_lib: &Path) -> bool {
    let listen = "127.0.0.1:9465";
    let (pd, pd_len) = pair.pd_space6();
    let cfg = KeaConfig::new6(pair).pd_pool(pd, pd_len, 64);
    let script = cfg.dir().join("on-lease6.sh");
    let events = cfg.dir().join("events6.log");
    script_file(
        &script,
        &format!(
            "#!/bin/sh\n[ \"$1\" = leases6_committed ] && echo \"$1 $QUERY6_TYPE $LEASES6_AT0_TYPE $LEASES6_AT0_ADDRESS/$LEASES6_AT0_PREFIX_LEN \
             $LEASES6_AT1_TYPE $LEASES6_AT1_ADDRESS/$LEASES6_AT1_PREFIX_LEN duid $QUERY6_CLIENT_ID\" >> {}\nexit 0\n",
            events.display()
        ),
    );
    let cfg = cfg.hook(stats_lib, Some(json!({ "listen": listen }))).hook(script_lib, Some(json!({ "name": script })));
    println!("\nkea-dhcp6 config, hooks-libraries:\n{}", serde_json::to_string_pretty(&cfg.to_json()["Dhcp6"]["hooks-libraries"]).unwrap());
    let kea = cfg.start(pair).unwrap_or_else(|e| panic!("{e}"));
    println!("kea-dhcp6 (pid {}) serves {} and prefixes of {pd}/{pd_len} in namespace {}", kea.pid(), pair.subnet6(), pair.server_ns());
    let got = dhclient6(pair, Ias6::NaPd, Duration::from_secs(20));
    println!("DHCPv6 client: address {:?}, prefix {:?}", got.address, got.prefix);
    let mut ok = got.address.is_some() && got.prefix.is_some();

    let answer = kea.command("lease-stats-get", None);
    println!("\nlease-stats in kea-dhcp6: lease-stats-get (stat_cmds' stat-lease6-get answer):\n{}", serde_json::to_string_pretty(&answer).unwrap());
    let set = &answer["arguments"]["result-set"];
    let column = |name: &str| set["columns"].as_array().and_then(|c| c.iter().position(|c| c == name)).map(|i| set["rows"][0][i].clone());
    ok &= column("assigned-nas") == Some(json!(1)) && column("assigned-pds") == Some(json!(1));
    println!("\nits metrics page (http://{listen}/metrics), the subnet's assigned addresses and prefixes:");
    let lines = metrics(pair, listen, "kea_lease_stats_subnet_assigned_");
    for line in &lines {
        println!("  {line}");
    }
    for family in ["kea_lease_stats_subnet_assigned_nas{", "kea_lease_stats_subnet_assigned_pds{"] {
        ok &= lines.iter().any(|l| l.starts_with(family) && l.ends_with(" 1"));
    }

    let status = scripts_done(&kea);
    println!("\nrun-script in kea-dhcp6: {} got ISC's DHCPv6 variables; it wrote:", script.display());
    let written = std::fs::read_to_string(&events).unwrap_or_default();
    for line in written.lines() {
        println!("  {line}");
    }
    println!("run-script-status: {}", status["arguments"]);
    ok && written.lines().any(|l| l.starts_with("leases6_committed REQUEST ") && l.contains("IA_NA ") && l.contains("IA_PD "))
}
