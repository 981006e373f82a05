//! Kea as a non-root user, as distributions run it (Gentoo: user `dhcp`,
//! `setcap cap_net_bind_service,cap_net_raw=+ep` on kea-dhcp4): a system
//! user the test creates, a copy of kea-dhcp4 with those capabilities, and
//! our hooks (run-script in exec mode, lease-stats with its metrics
//! endpoint on a port below 1024, mac-acl), real DHCP traffic over the raw
//! socket, a reload; then the files left behind. Run as root; see the
//! README.

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use kea_hooks_tests::{hooks_together, require_root_and_kea, run_in_ns, Client4, Kea, KeaConfig, NetPair, SystemUser};
use serde_json::json;

use common::{hook_library, lease_stats, load_failure_line, mac_acl};

/// What Gentoo's recipe gives kea-dhcp4.
const CAPABILITIES: &str = "cap_net_bind_service,cap_net_raw=ep";
/// The metrics endpoint, inside the server's namespace: a port only root,
/// or a process with CAP_NET_BIND_SERVICE, may bind.
const LISTEN: &str = "127.0.0.1:999";

/// A script that says who runs it, with which capabilities, into the log
/// (its output, at run-script's debug level) and into `<script>.out`.
const SCRIPT: &str = r#"#!/bin/sh
caps=none
while read -r key value; do
    [ "$key" = CapEff: ] && caps=$value
done </proc/self/status
echo "script ran: uid=$(/usr/bin/id -u) gid=$(/usr/bin/id -g) CapEff=$caps point=$1"
echo "$1" >>"$0.out"
"#;

/// Field `name` of /proc/`pid`/status (e.g. `Uid`), its values split.
fn proc_status(pid: u32, name: &str) -> Vec<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("Kea's status");
    let line = status.lines().find(|l| l.starts_with(&format!("{name}:"))).unwrap_or_else(|| panic!("no {name} in {status}"));
    line[name.len() + 1..].split_whitespace().map(str::to_owned).collect()
}

fn metrics(pair: &NetPair) -> Result<String, String> {
    let out = run_in_ns(&pair.server_ns(), "curl", &["-sS", "--fail", "--max-time", "10", &format!("http://{LISTEN}/metrics")]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() { Ok(text) } else { Err(String::from_utf8_lossy(&out.stderr).into_owned()) }
}

/// Every path under `dir` (not following symbolic links), with `dir`.
fn walk(dir: &Path, into: &mut Vec<PathBuf>) {
    into.push(dir.to_path_buf());
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        match e.file_type() {
            Ok(t) if t.is_dir() => walk(&e.path(), into),
            _ => into.push(e.path()),
        }
    }
}

/// The paths owned by `uid` under the directories a user without
/// privileges may create files in besides its own (those writable by
/// all), outside the directories `except`.
fn owned_elsewhere(uid: u32, except: &[&Path]) -> Vec<PathBuf> {
    let mut all = Vec::new();
    for d in ["/tmp", "/var/tmp", "/dev/shm", "/run", "/var/lock"] {
        walk(Path::new(d), &mut all);
    }
    all.into_iter()
        .filter(|p| !except.iter().any(|e| p.starts_with(e)))
        .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.uid() == uid))
        .collect()
}

/// Kea started as a new system user from a copy of kea-dhcp4 with
/// cap_net_bind_service and cap_net_raw (and no other privilege) serves
/// clients over its raw socket with our hooks loaded: mac-acl decides,
/// run-script's script runs as that user without capabilities, and
/// lease-stats' metrics endpoint listens on port 999, before and after a
/// reload; everything Kea and the hooks created is in Kea's directory,
/// owned by the user (and its own group) and writable by no one else. Without
/// cap_net_bind_service the endpoint cannot listen, and the load fails
/// saying so.
#[test]
fn kea_as_a_user_with_capabilities_runs_our_hooks() {
    if !require_root_and_kea() {
        return;
    }
    // Dropped last, once Kea (which runs as it) has stopped.
    let user = SystemUser::create();
    // (What a user with a recycled uid left, as a test killed before it
    // removed its directory, is not this run's.)
    let left_before = owned_elsewhere(user.uid(), &[]);
    let pair = NetPair::new();
    let hooks = |cfg: KeaConfig| {
        let dir = cfg.dir().to_path_buf();
        let run_script = hook_library("kea-hook-run-script", "dhcp_run_script");
        let libs = hooks_together(&dir, &[run_script, lease_stats(), mac_acl()]);
        let script = dir.join("whoami.sh");
        std::fs::write(&script, SCRIPT).unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        cfg.logger("kea-dhcp4.run-script", "DEBUG", 40)
            .hook(&libs[0], Some(json!({ "name": script, "output": "log" })))
            .hook(&libs[1], Some(json!({ "listen": LISTEN, "recount-interval": 0 })))
            .hook(&libs[2], Some(json!({ "deny": ["02:d0:00:00:00:02"] })))
    };

    // The control: without cap_net_bind_service, the endpoint's bind fails
    // and so does the load (Kea exits), with a message naming `listen`.
    let control = KeaConfig::new(&pair).run_as(&user, "cap_net_raw=ep");
    let control_dir = control.dir().to_path_buf();
    let failure = hooks(control).start(&pair).err().expect(
        "Kea started, and lease-stats listened on port 999, without cap_net_bind_service",
    );
    let line = load_failure_line(&failure, "kea-dhcp4.lease-stats");
    assert!(line.contains("at 'listen'") && line.contains("Permission denied"), "{line}");

    // A script only root may execute (root's, mode 0744): refused at load,
    // as Kea's user could not run it, rather than failing every event.
    let root_only = KeaConfig::new(&pair).run_as(&user, CAPABILITIES);
    let script = root_only.dir().join("root-only.sh");
    std::fs::write(&script, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o744)).unwrap();
    let lib = hooks_together(root_only.dir(), &[hook_library("kea-hook-run-script", "dhcp_run_script")]).remove(0);
    let failure = root_only.hook(&lib, Some(json!({ "name": script }))).start(&pair).err().expect("Kea's user cannot run a 0744 script of root's");
    let line = load_failure_line(&failure, "kea-dhcp4.run-script");
    assert!(line.contains("at 'name'") && line.contains("File not executable"), "{line}");

    let cfg = hooks(KeaConfig::new(&pair).multi_threading(true).run_as(&user, CAPABILITIES));
    let dir = cfg.dir().to_path_buf();
    let mut kea = cfg.start(&pair).unwrap_or_else(|e| panic!("{e}"));
    let pid = kea.pid();
    let (uid, gid) = (user.uid().to_string(), user.gid().to_string());
    // Real, effective, saved and filesystem ids; no supplementary group;
    // exactly the two capabilities (bits 10 and 13), none to pass on.
    assert_eq!(proc_status(pid, "Uid"), [uid.as_str(); 4], "Kea's uids");
    assert_eq!(proc_status(pid, "Gid"), [gid.as_str(); 4], "Kea's gids");
    assert!(proc_status(pid, "Groups").is_empty(), "Kea's groups: {:?}", proc_status(pid, "Groups"));
    assert_eq!(proc_status(pid, "CapEff"), ["0000000000002400"], "Kea's effective capabilities");
    assert_eq!(proc_status(pid, "CapInh"), ["0000000000000000"]);
    assert_eq!(proc_status(pid, "CapAmb"), ["0000000000000000"]);

    let serve = |kea: &mut Kea, round: u8| {
        // The raw socket (cap_net_raw) serves; mac-acl denies its client.
        let ack = Client4::new(&pair, &format!("02:d0:00:00:{round:02x}:01")).dora();
        assert!(ack.is_some(), "round {round}: no ACK:\n{}", kea.log());
        let denied = Client4::new(&pair, "02:d0:00:00:00:02").with_timeout(Duration::from_secs(1)).dora();
        assert!(denied.is_none(), "round {round}: mac-acl's denied client was served");
        // The script ran as the user, with no capability.
        let said = format!("script ran: uid={uid} gid={gid} CapEff=0000000000000000 point=leases4_committed");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while kea.count_in_log(&said) < usize::from(round) {
            assert!(std::time::Instant::now() < deadline, "round {round}: no {said:?} in the log:\n{}", kea.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        // The endpoint on port 999 answers.
        let page = metrics(&pair).unwrap_or_else(|e| panic!("round {round}: the metrics endpoint: {e}"));
        assert!(page.contains("kea_lease_stats_recount_corrections_total"), "round {round}: {page}");
    };
    serve(&mut kea, 1);
    // A reload: each hook unloaded and loaded again by the same process,
    // lease-stats binding port 999 again.
    let answer = kea.config_reload();
    assert_eq!(answer["result"], 0, "{answer}");
    serve(&mut kea, 2);
    kea.stop();

    // What was created: in Kea's directory only, the user's, writable by
    // the user (and its own group) alone.
    let mut made = Vec::new();
    walk(&dir, &mut made);
    let mut theirs = Vec::new();
    for p in made.iter().filter(|p| *p != &dir) {
        let m = std::fs::symlink_metadata(p).unwrap();
        if m.uid() == 0 {
            continue; // the test's (config, hooks, script, Kea's stdout/stderr)
        }
        assert_eq!((m.uid(), m.gid()), (user.uid(), user.gid()), "{} is owned by another user", p.display());
        // (Group-writable is the user's own group: Kea makes its
        // logger_lockfile 0660.)
        assert_eq!(m.mode() & 0o002, 0, "{} is writable by all: mode {:o}", p.display(), m.mode() & 0o7777);
        theirs.push(p.file_name().unwrap().to_string_lossy().into_owned());
    }
    theirs.sort();
    eprintln!("created by the user in Kea's directory: {theirs:?}");
    let script_out = dir.join("whoami.sh.out");
    assert!(theirs.iter().any(|n| n == "whoami.sh.out"), "the script wrote nothing: {theirs:?}");
    assert_eq!(std::fs::read_to_string(&script_out).unwrap().lines().count(), 2);
    assert!(theirs.iter().any(|n| n == "leases4.csv"), "{theirs:?}");
    let mut elsewhere = owned_elsewhere(user.uid(), &[&dir, &control_dir]);
    elsewhere.retain(|p| !left_before.contains(p));
    assert!(elsewhere.is_empty(), "files of the user outside Kea's directory: {elsewhere:?}");
}
