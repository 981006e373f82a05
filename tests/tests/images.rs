//! The container images of docker/, as scripts/images.sh builds them with
//! podman, for each release in `KEA_TEST_IMAGES` (2.6, 3.0, 3.2), named as
//! docker-kea names its images: the hooks image (`kea-hooks`) holds exactly
//! our libraries in /hooks and a static `ls`, nothing else (its size is
//! printed); the slim server images (`kea-dhcp4-slim`, `kea-dhcp6-slim`)
//! have no hook library, the full ones (`kea-dhcp4`, `kea-dhcp6`) ISC's,
//! which their Kea loads; the example image (a slim Kea image plus
//! run-script, lease-stats and kea-metrics, COPYed from the hooks image as
//! docker/README.md says), for kea-dhcp4 and for kea-dhcp6, runs in a test
//! network namespace with the example's hook configuration files, serves
//! perfdhcp (DHCPv6: addresses and delegated prefixes), runs run-script's
//! script inside the container, answers `lease-stats-get` on its control
//! socket, serves lease-stats' metrics and kea-metrics' page
//! (kea-exporter's families counting the leases, `kea_up`, the image's
//! Kea release in `kea_build_info`, the three libraries); no runtime image
//! has a compiler or Rust; the compose file starts the same service; a hooks image build
//! given a library for another release fails.
//!
//! `#[ignore]`: the test matrix's `images` entry runs these through
//! `scripts/images.sh --test 2.6 3.0 3.2`, after building the images.
//! Needs root and podman.

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use kea_hooks_tests::{perfdhcp, perfdhcp6, run_in_ns, unix_command_within, workspace_root, NetPair, TestDir};
use serde_json::{json, Value};

/// lease-stats' metric families of assigned addresses and delegated
/// prefixes per subnet.
const METRIC_NAS: &str = "kea_lease_stats_subnet_assigned_nas";
const METRIC_PDS: &str = "kea_lease_stats_subnet_assigned_pds";

/// The hook libraries the hooks image must hold, and nothing else.
const HOOKS: [&str; 6] = [
    "libdhcp_class_policy.so",
    "libdhcp_kea_metrics.so",
    "libdhcp_lease_notifier.so",
    "libdhcp_lease_stats.so",
    "libdhcp_mac_acl.so",
    "libdhcp_run_script.so",
];

/// The libraries the example's servers load (config/kea-dhcp4.json,
/// config/kea-dhcp6.json), as kea-metrics' `kea_hook_library_info` names
/// them.
const EXAMPLE_HOOKS: [&str; 3] = ["libdhcp_run_script.so", "libdhcp_lease_stats.so", "libdhcp_kea_metrics.so"];

/// kea-metrics' ports in the example (config/kea-metrics.json,
/// config/kea-metrics6.json).
const KEA_METRICS4_PORT: u16 = 9547;
const KEA_METRICS6_PORT: u16 = 9548;

fn releases() -> Vec<String> {
    let list = std::env::var("KEA_TEST_IMAGES").unwrap_or_default();
    let releases: Vec<String> = list.split_whitespace().map(str::to_owned).collect();
    assert!(!releases.is_empty(), "KEA_TEST_IMAGES names no release: run these through scripts/images.sh --test RELEASE...");
    releases
}

/// `podman run`'s limits: runc cannot set podman's default open-files
/// limit on this machine kind (and crun fails on its cgroups).
const RUN_LIMITS: [&str; 4] = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"];

/// podman, with runc; `run` gets [`RUN_LIMITS`].
fn podman(args: &[&str]) -> Output {
    let mut cmd = Command::new("podman");
    cmd.args(["--runtime", "runc"]);
    match args.split_first() {
        Some((&"run", rest)) => cmd.arg("run").args(RUN_LIMITS).args(rest),
        _ => cmd.args(args),
    };
    cmd.output().expect("run podman (scripts/images.sh installs it)")
}

/// podman's stdout; panics with its stderr when it fails.
fn podman_ok(args: &[&str]) -> String {
    let out = podman(args);
    assert!(out.status.success(), "podman {args:?}: {}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A release's slim Kea image for `daemon` (no hook library; docker-kea's
/// layout for 3.2): the hooks are built in the dhcp4 one, the examples
/// FROM both.
fn kea_image(rel: &str, daemon: &str) -> String {
    kea_image_named(rel, &format!("kea-{daemon}-slim"))
}

/// A release's full Kea image for `daemon`: the slim one with ISC's hooks.
fn kea_full_image(rel: &str, daemon: &str) -> String {
    kea_image_named(rel, &format!("kea-{daemon}"))
}

/// A release's Kea image called `name` (ours for 2.6 and 3.0, the
/// docker-kea stand-ins for 3.2).
fn kea_image_named(rel: &str, name: &str) -> String {
    if rel == "3.2" {
        format!("localhost/docker-kea/{name}:3.2.0")
    } else {
        format!("localhost/kea-hooks/{name}:{rel}")
    }
}

fn example_image(rel: &str, daemon: &str) -> String {
    format!("localhost/kea-hooks/kea-{daemon}-example:{rel}")
}

fn hooks_image(rel: &str) -> String {
    format!("localhost/kea-hooks/kea-hooks:{rel}")
}

/// The example's configuration, made to serve `pair`: its kea-dhcp4.json
/// and kea-dhcp6.json with the pair's interface, subnets and pools (the
/// DHCPv6 prefix-delegation pool is [`NetPair::pd_space6`] already) and
/// the hooks' own files as they are.
fn example_config(pair: &NetPair, dir: &Path) {
    let examples = workspace_root().join("docker/examples/config");
    let interface = format!("\"{}\"", pair.server_if());
    let read = |file: &str| std::fs::read_to_string(examples.join(file)).unwrap().replace("\"eth0\"", &interface);
    let net = pair.subnet();
    let main = read("kea-dhcp4.json").replace("198.18.0.0/24", &net).replace("198.18.0.100 - 198.18.0.200", &pair.pool());
    assert!(main.contains(net.rsplit_once('.').unwrap().0), "the example's subnet was not replaced:\n{main}");
    let main6 = read("kea-dhcp6.json")
        .replace("2001:2:0:1::/64", &pair.subnet6())
        .replace("2001:2:0:1::100 - 2001:2:0:1::1ff", &pair.pool6());
    assert!(main6.contains(&pair.subnet6()) && main6.contains(&pair.pool6()), "the example's subnet was not replaced:\n{main6}");
    let (pd, pd_len) = pair.pd_space6();
    assert!(main6.contains(&format!("\"prefix\": \"{pd}\", \"prefix-len\": {pd_len}")), "the example's pd-pool moved:\n{main6}");
    std::fs::write(dir.join("kea-dhcp4.json"), main).unwrap();
    std::fs::write(dir.join("kea-dhcp6.json"), main6).unwrap();
    for f in ["run-script.json", "lease-stats.json", "lease-stats6.json", "kea-metrics.json", "kea-metrics6.json"] {
        std::fs::copy(examples.join(f), dir.join(f)).unwrap();
    }
}

/// A container (stopped and removed when dropped), with its log on failure.
struct Container {
    name: String,
}

impl Container {
    fn logs(&self) -> String {
        let out = podman(&["logs", &self.name]);
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("--- podman logs {} ---\n{}", self.name, self.logs());
        }
        let _ = podman(&["rm", "-f", "-t", "5", &self.name]);
    }
}

/// Host directories mounted as the container's /kea/*.
struct Volumes {
    _dir: TestDir,
    config: PathBuf,
    sockets: PathBuf,
    leases: PathBuf,
    logs: PathBuf,
}

impl Volumes {
    fn new() -> Volumes {
        let dir = TestDir::new();
        let sub = |name: &str| {
            let p = dir.path().join(name);
            std::fs::create_dir_all(&p).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o750)).unwrap();
            p
        };
        let (config, sockets, leases, logs) = (sub("config"), sub("sockets"), sub("leases"), sub("logs"));
        Volumes { _dir: dir, config, sockets, leases, logs }
    }

    fn mounts(&self) -> Vec<String> {
        [(&self.config, "/kea/config:ro"), (&self.sockets, "/kea/sockets"), (&self.leases, "/kea/leases"), (&self.logs, "/kea/logs")]
            .iter()
            .flat_map(|(host, inner)| ["-v".to_owned(), format!("{}:{inner}", host.display())])
            .collect()
    }

    /// The control socket of `daemon` (dhcp4, dhcp6).
    fn socket(&self, daemon: &str) -> PathBuf {
        self.sockets.join(format!("kea-{daemon}.sock"))
    }

    /// The lines run-script's script (on-lease.sh) wrote that start with
    /// `start`, once there are `want` (or after 20 s).
    fn events(&self, start: &str, want: usize) -> Vec<String> {
        let events = self.logs.join("lease-events.log");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = std::fs::read_to_string(&events).unwrap_or_default();
            let lines: Vec<String> = text.lines().filter(|l| l.starts_with(start)).map(str::to_owned).collect();
            if lines.len() >= want || Instant::now() >= deadline {
                return lines;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Waits for `daemon`'s control socket to answer; the answer to `command`.
fn command(volumes: &Volumes, c: &Container, daemon: &str, name: &str, args: Option<Value>) -> Value {
    let socket = volumes.socket(daemon);
    unix_command_within(&socket, name, args, Duration::from_secs(30))
        .unwrap_or_else(|e| panic!("{name} on {}: {e}\n{}", socket.display(), c.logs()))
}

/// The metrics page lease-stats or kea-metrics serves on `port` in the
/// pair's server namespace.
fn metrics(pair: &NetPair, port: u16) -> String {
    let url = format!("http://127.0.0.1:{port}/metrics");
    let page = run_in_ns(&pair.server_ns(), "curl", &["-sS", "--max-time", "5", &url]);
    String::from_utf8_lossy(&page.stdout).into_owned()
}

/// kea-metrics' page on `port` for `daemon` (dhcp4, dhcp6) of release
/// `rel`: the server is up, its Kea is `rel` (the hook was built for the
/// image's Kea), it lists the example's libraries, and each of `samples`
/// (a sample's name and labels, exactly as the page writes them) has
/// value `want`.
fn check_kea_metrics(rel: &str, pair: &NetPair, port: u16, daemon: &str, samples: &[String], want: u64) {
    let page = metrics(pair, port);
    let has = |start: &str, end: &str| page.lines().any(|l| l.starts_with(start) && l.ends_with(end));
    assert!(has(&format!("kea_up{{daemon=\"{daemon}\"}} "), " 1"), "{rel}: no kea_up for {daemon} in kea-metrics' page:\n{page}");
    assert!(
        has(&format!("kea_build_info{{daemon=\"{daemon}\",version=\"{rel}."), " 1"),
        "{rel}: kea-metrics' kea_build_info is not Kea {rel}:\n{page}"
    );
    for lib in EXAMPLE_HOOKS {
        assert!(
            page.lines().any(|l| l.starts_with("kea_hook_library_info{") && l.contains(&format!("{lib}\"")) && l.ends_with(" 1")),
            "{rel}: {lib} is not in kea-metrics' kea_hook_library_info:\n{page}"
        );
    }
    for sample in samples {
        assert!(has(&format!("{sample} "), &format!(" {want}")), "{rel}: no {sample} {want} in kea-metrics' page:\n{page}");
    }
    assert!(page.lines().any(|l| l.starts_with("kea_metrics_scrape_seconds ")), "{rel}: {page}");
}

/// The value in `answer`'s first row under `column`.
fn cell<'a>(answer: &'a Value, column: &str) -> &'a Value {
    let set = &answer["arguments"]["result-set"];
    let columns = set["columns"].as_array().unwrap_or_else(|| panic!("no columns: {answer}"));
    let i = columns.iter().position(|c| c == column).unwrap_or_else(|| panic!("no column {column}: {answer}"));
    &set["rows"][0][i]
}

/// What the kea-dhcp4 example serves, checked from outside the container.
fn check_service4(rel: &str, pair: &NetPair, volumes: &Volumes, c: &Container) {
    command(volumes, c, "dhcp4", "list-commands", None);
    let report = perfdhcp(pair, &["-r", "50", "-R", "20", "-n", "20", "-p", "10", "-W", "2000000"]);
    assert_eq!(report.acks(), 20, "{rel}: perfdhcp got {} of 20 leases\n{}\n{}", report.acks(), report.stdout, c.logs());
    // run-script's script ran inside the container (it writes /kea/logs).
    let committed = volumes.events("leases4_committed DHCPREQUEST ", 20);
    assert_eq!(committed.len(), 20, "{rel}: the script recorded {} commits: {committed:?}\n{}", committed.len(), c.logs());
    // lease-stats over the control socket, and its metrics endpoint.
    let answer = command(volumes, c, "dhcp4", "lease-stats-get", None);
    assert_eq!(answer["result"], 0, "{rel}: {answer}");
    assert_eq!(cell(&answer, "assigned-addresses"), 20, "{rel}: {answer}");
    let page = metrics(pair, 9464);
    assert!(
        page.lines().any(|l| l.starts_with("kea_lease_stats_subnet_assigned_addresses{subnet_id=\"1\"") && l.ends_with(" 20")),
        "{rel}: metrics:\n{page}"
    );
    // kea-metrics: kea-exporter's family of the subnet's assigned addresses.
    let assigned = format!("kea_dhcp4_addresses_assigned_total{{subnet=\"{}\",subnet_id=\"1\",pool=\"\"}}", pair.subnet());
    check_kea_metrics(rel, pair, KEA_METRICS4_PORT, "dhcp4", &[assigned], 20);
    let status = command(volumes, c, "dhcp4", "run-script-status", None);
    assert_eq!((status["arguments"]["run"].as_u64(), status["arguments"]["failed"].as_u64()), (Some(20), Some(0)), "{rel}: {status}");
}

/// What the kea-dhcp6 example serves, checked from outside the container:
/// 20 perfdhcp -6 clients each get an address and a delegated prefix in
/// one REQUEST, which the script records as one commit of two leases.
fn check_service6(rel: &str, pair: &NetPair, volumes: &Volumes, c: &Container) {
    command(volumes, c, "dhcp6", "list-commands", None);
    // Two -n: perfdhcp 2.2 counts both exchanges against a single one.
    let report = perfdhcp6(
        pair,
        &["-e", "address-and-prefix", "-b", "mac=02:6e:00:00:00:00", "-r", "50", "-R", "20", "-n", "20", "-n", "20", "-p", "10", "-W", "2000000"],
    );
    let replies = report.exchange("REQUEST-REPLY").map_or(0, |e| e.received);
    assert_eq!(replies, 20, "{rel}: perfdhcp -6 got {replies} of 20 REPLYs\n{}\n{}", report.stdout, c.logs());
    let committed = volumes.events("leases6_committed REQUEST ", 20);
    assert_eq!(committed.len(), 20, "{rel}: the script recorded {} commits: {committed:?}\n{}", committed.len(), c.logs());
    // Each line: TYPE:address/len for each lease after `size=2`.
    let (pd, pd_len) = pair.pd_space6();
    let in_pd_space = |p: &str| {
        p.strip_suffix("/64").and_then(|a| a.parse::<Ipv6Addr>().ok()).is_some_and(|a| u128::from(a) >> (128 - pd_len) == u128::from(pd) >> (128 - pd_len))
    };
    for line in &committed {
        let leases: Vec<&str> = line.split(' ').skip(3).collect();
        assert!(line.contains(" size=2 "), "{rel}: {line}");
        assert!(leases.iter().any(|l| l.starts_with("IA_NA:") && l.ends_with("/128")), "{rel}: no address in {line}");
        assert!(leases.iter().any(|l| l.strip_prefix("IA_PD:").is_some_and(in_pd_space)), "{rel}: no prefix of {pd}/{pd_len} in {line}");
    }
    let answer = command(volumes, c, "dhcp6", "lease-stats-get", None);
    assert_eq!(answer["result"], 0, "{rel}: {answer}");
    assert_eq!((cell(&answer, "assigned-nas"), cell(&answer, "assigned-pds")), (&json!(20), &json!(20)), "{rel}: {answer}");
    let page = metrics(pair, 9465);
    for family in [METRIC_NAS, METRIC_PDS] {
        assert!(
            page.lines().any(|l| l.starts_with(&format!("{family}{{subnet_id=\"1\"")) && l.ends_with(" 20")),
            "{rel}: no {family} of 20 for subnet 1 in the metrics:\n{page}"
        );
    }
    // kea-metrics: kea-exporter's families of the subnet's addresses and
    // delegated prefixes.
    let subnet = pair.subnet6();
    let samples = [
        format!("kea_dhcp6_na_assigned_total{{subnet=\"{subnet}\",subnet_id=\"1\",pool=\"\"}}"),
        format!("kea_dhcp6_pd_assigned_total{{subnet=\"{subnet}\",subnet_id=\"1\"}}"),
    ];
    check_kea_metrics(rel, pair, KEA_METRICS6_PORT, "dhcp6", &samples, 20);
    // Every DHCPv6 event the script wrote a line for ran once, and none
    // failed (a script's line is written before its exit is counted).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = command(volumes, c, "dhcp6", "run-script-status", None);
        let lines = volumes.events("", 0).iter().filter(|l| l.split(' ').next().is_some_and(|p| p.contains('6'))).count() as u64;
        let (run, failed) = (status["arguments"]["run"].as_u64(), status["arguments"]["failed"].as_u64());
        if (run, failed) == (Some(lines), Some(0)) {
            break;
        }
        assert!(Instant::now() < deadline, "{rel}: {lines} lines, {status}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Every file, directory and link of `image` (paths relative to its root,
/// directories with a trailing `/`), read from the image itself (`podman
/// image mount`), not from a container.
fn image_files(image: &str) -> Vec<String> {
    let root = PathBuf::from(podman_ok(&["image", "mount", image]).trim());
    struct Unmount(String);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = podman(&["image", "unmount", &self.0]);
        }
    }
    let _unmount = Unmount(image.to_owned());
    fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            let name = path.strip_prefix(root).unwrap().display().to_string();
            if path.symlink_metadata().unwrap().is_dir() {
                out.push(format!("{name}/"));
                walk(root, &path, out);
            } else {
                out.push(name);
            }
        }
    }
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files.sort();
    files
}

/// `image`'s size as podman counts it, in MB.
fn image_mb(image: &str) -> f64 {
    let bytes: f64 = podman_ok(&["image", "inspect", "--format", "{{.Size}}", image]).trim().parse().unwrap();
    bytes / 1e6
}

#[test]
#[ignore = "run by scripts/images.sh --test (the test matrix's images entry)"]
fn the_hooks_image_holds_exactly_our_libraries() {
    for rel in releases() {
        let image = hooks_image(&rel);
        // Nothing but /hooks and the static `ls`: no Kea, no shell, no libc.
        let mut want = vec!["bin/".to_owned(), "bin/ls".to_owned(), "hooks/".to_owned()];
        want.extend(HOOKS.iter().map(|lib| format!("hooks/{lib}")));
        want.sort();
        assert_eq!(image_files(&image), want, "{rel}: the files of {image}");
        // Its command, as docker-kea's hooks image's: the listing of /hooks.
        let out = podman_ok(&["run", "--rm", &image]);
        for lib in HOOKS {
            assert!(out.lines().any(|l| l.starts_with("-r") && l.ends_with(&format!(" {lib}"))), "{rel}: no {lib} in {image}'s `ls -l /hooks`:\n{out}");
        }
        let mb = image_mb(&image);
        eprintln!("images: {image}: {mb:.1} MB");
        assert!(mb < 16.0, "{rel}: {image} is {mb:.1} MB: it should hold little more than our libraries");
    }
}

/// The hook libraries in `image`'s hooks directories (docker-kea's
/// /usr/local/lib/kea/hooks, Debian's /usr/lib/<arch>/kea/hooks), by file
/// name; links to another directory's are not counted twice.
fn isc_hooks(image: &str) -> Vec<String> {
    let mut libs: Vec<String> = image_files(image)
        .into_iter()
        .filter(|f| f.contains("/kea/hooks/") && f.ends_with(".so"))
        .map(|f| f.rsplit('/').next().unwrap().to_owned())
        .collect();
    libs.sort();
    libs.dedup();
    libs
}

#[test]
#[ignore = "run by scripts/images.sh --test (the test matrix's images entry)"]
fn slim_server_images_have_no_hook_library_and_full_ones_have_iscs() {
    for rel in releases() {
        for (daemon, map) in [("dhcp4", "Dhcp4"), ("dhcp6", "Dhcp6")] {
            let slim = kea_image(&rel, daemon);
            assert_eq!(isc_hooks(&slim), Vec::<String>::new(), "{rel}: {slim} has hook libraries");
            let full = kea_full_image(&rel, daemon);
            let libs = isc_hooks(&full);
            // Among ISC's open-source hooks in every build here (the 3.2 stand-in has three).
            for lib in ["libdhcp_lease_cmds.so", "libdhcp_run_script.so", "libdhcp_stat_cmds.so"] {
                assert!(libs.iter().any(|l| l == lib), "{rel}: no {lib} in {full}: {libs:?}");
            }
            // The image's own Kea opens every one of them by bare name.
            let entries: Vec<String> = libs.iter().map(|lib| format!("{{ \"library\": \"{lib}\" }}")).collect();
            let config = format!("{{ \"{map}\": {{ \"hooks-libraries\": [ {} ] }} }}", entries.join(", "));
            let out = podman(&[
                "run", "--rm", "--entrypoint", "/bin/sh", &full, "-c",
                &format!("printf '%s' '{config}' >/tmp/c.json; for d in /usr/local/sbin /usr/sbin; do [ -x $d/kea-{daemon} ] && exec $d/kea-{daemon} -t /tmp/c.json; done; exit 127"),
            ]);
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            assert!(out.status.success(), "{rel}: {full}'s Kea refuses ISC's hooks {libs:?}:\n{text}");
            eprintln!("images: {slim}: {:.1} MB, {full}: {:.1} MB ({} ISC hook libraries)", image_mb(&slim), image_mb(&full), libs.len());
        }
        // And one of them answers in a running server.
        let volumes = Volumes::new();
        let config = json!({ "Dhcp4": {
            "interfaces-config": { "interfaces": [] },
            "control-socket": { "socket-type": "unix", "socket-name": "/kea/sockets/kea-dhcp4.sock" },
            "lease-database": { "type": "memfile", "persist": false },
            "hooks-libraries": [ { "library": "libdhcp_lease_cmds.so" } ],
            "loggers": [ { "name": "kea-dhcp4", "severity": "INFO", "output-options": [ { "output": "stdout" } ] } ],
        } });
        std::fs::write(volumes.config.join("kea.json"), config.to_string()).unwrap();
        let name = format!("kea-hooks-test-{}-full-{}", std::process::id(), rel.replace('.', ""));
        let mut args: Vec<String> = ["run", "-d", "--name", &name, "--network", "none"].map(str::to_owned).to_vec();
        args.extend(volumes.mounts());
        args.extend([kea_full_image(&rel, "dhcp4"), "-c".into(), "/kea/config/kea.json".into()]);
        podman_ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let c = Container { name };
        let answer = command(&volumes, &c, "dhcp4", "lease4-get-all", None);
        // 3: no lease yet; an unknown command would be 2.
        assert_eq!(answer["result"], 3, "{rel}: ISC's lease_cmds did not answer: {answer}");
    }
}

#[test]
#[ignore = "run by scripts/images.sh --test (the test matrix's images entry)"]
fn runtime_images_carry_no_compiler_or_rust() {
    for rel in releases() {
        // (The hooks image has no shell: its whole file list is checked above.)
        let mut images = Vec::new();
        for daemon in ["dhcp4", "dhcp6"] {
            images.extend([kea_image(&rel, daemon), kea_full_image(&rel, daemon), example_image(&rel, daemon)]);
        }
        for image in images {
            let found = podman_ok(&[
                "run", "--rm", "--entrypoint", "/bin/sh", &image, "-c",
                "for p in cc gcc g++ c++ clang rustc cargo; do command -v $p; done; ls -d /root/.cargo /root/.rustup /usr/lib/rustlib 2>/dev/null; true",
            ]);
            assert!(found.trim().is_empty(), "{image} has a compiler or Rust: {found}");
        }
    }
}

/// Runs `rel`'s example image for `daemon` in the pair's server
/// namespace, with `volumes`.
fn run_example(rel: &str, daemon: &str, pair: &NetPair, volumes: &Volumes) -> Container {
    let name = format!("kea-hooks-test-{}-{daemon}-{}", std::process::id(), rel.replace('.', ""));
    let network = format!("ns:/run/netns/{}", pair.server_ns());
    let mut args: Vec<String> =
        ["run", "-d", "--name", &name, "--network", &network, "--cap-add", "NET_ADMIN,NET_RAW"].map(str::to_owned).to_vec();
    args.extend(volumes.mounts());
    args.extend([example_image(rel, daemon), "-c".into(), format!("/kea/config/kea-{daemon}.json")]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    podman_ok(&args);
    Container { name }
}

#[test]
#[ignore = "run by scripts/images.sh --test (the test matrix's images entry)"]
fn the_example_image_serves_leases_with_run_script_and_lease_stats() {
    for rel in releases() {
        let pair = NetPair::new();
        let volumes = Volumes::new();
        example_config(&pair, &volumes.config);
        let c = run_example(&rel, "dhcp4", &pair, &volumes);
        check_service4(&rel, &pair, &volumes, &c);
    }
}

#[test]
#[ignore = "run by scripts/images.sh --test (the test matrix's images entry)"]
fn the_dhcp6_example_image_serves_addresses_and_prefixes_with_run_script_and_lease_stats() {
    for rel in releases() {
        let pair = NetPair::new();
        // kea-dhcp6 binds the interface's link-local address at start.
        pair.wait_ipv6();
        let volumes = Volumes::new();
        example_config(&pair, &volumes.config);
        let c = run_example(&rel, "dhcp6", &pair, &volumes);
        check_service6(&rel, &pair, &volumes, &c);
    }
}

#[test]
#[ignore = "run by scripts/images.sh --test (the test matrix's images entry)"]
fn the_compose_file_starts_the_same_service() {
    let rel = releases().remove(0);
    let pair = NetPair::new();
    pair.wait_ipv6();
    let volumes = Volumes::new();
    example_config(&pair, &volumes.config);
    let project = format!("keahookstest{}", std::process::id());
    let compose = workspace_root().join("docker/examples/compose.yaml");
    let run = |args: &[&str]| -> Output {
        let compose_bin = std::env::var_os("KEA_TEST_PODMAN_COMPOSE").expect("KEA_TEST_PODMAN_COMPOSE (set by scripts/images.sh)");
        Command::new(compose_bin)
            .args(["--podman-args=--runtime=runc", &format!("--podman-run-args={}", RUN_LIMITS.join(" ")), "-p", &project, "-f"])
            .arg(&compose)
            .args(args)
            .env("KEA_EXAMPLE_IMAGE", example_image(&rel, "dhcp4"))
            .env("KEA_IMAGE", kea_image(&rel, "dhcp4"))
            .env("KEA6_EXAMPLE_IMAGE", example_image(&rel, "dhcp6"))
            .env("KEA6_IMAGE", kea_image(&rel, "dhcp6"))
            .env("HOOKS_IMAGE", hooks_image(&rel))
            .env("KEA_NETWORK_MODE", format!("ns:/run/netns/{}", pair.server_ns()))
            .env("KEA_CONFIG_DIR", &volumes.config)
            .env("KEA_SOCKETS_DIR", &volumes.sockets)
            .env("KEA_LEASES_DIR", &volumes.leases)
            .env("KEA_LOGS_DIR", &volumes.logs)
            .output()
            .expect("run podman-compose")
    };
    let up = run(&["up", "-d", "--no-build"]);
    let c = Container { name: format!("{project}_dhcp4_1") };
    let c6 = Container { name: format!("{project}_dhcp6_1") };
    assert!(up.status.success(), "podman-compose up: {}{}", String::from_utf8_lossy(&up.stdout), String::from_utf8_lossy(&up.stderr));
    check_service4(&rel, &pair, &volumes, &c);
    check_service6(&rel, &pair, &volumes, &c6);
    let down = run(&["down"]);
    assert!(down.status.success(), "podman-compose down: {}", String::from_utf8_lossy(&down.stderr));
}

#[test]
#[ignore = "run by scripts/images.sh --test (the test matrix's images entry)"]
fn a_library_for_another_release_fails_the_hooks_image_build() {
    let releases = releases();
    let rel = &releases[0];
    // A library built for another Kea: ours, from another release's hooks image.
    let other = releases.iter().find(|r| *r != rel).expect("name two releases in KEA_TEST_IMAGES (scripts/images.sh --test 2.6 3.0 ...)");
    // docker/hooks.Dockerfile takes extra libraries from prebuilt/ in its
    // context (the repository), removed again here.
    let prebuilt = workspace_root().join("prebuilt");
    std::fs::create_dir_all(&prebuilt).unwrap();
    struct Clean(PathBuf);
    impl Drop for Clean {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    let _clean = Clean(prebuilt.clone());
    copy_from_image(&hooks_image(other), "/hooks/libdhcp_mac_acl.so", &prebuilt.join("libdhcp_mac_acl.so"));
    let out = podman(&[
        "build", "--isolation", "chroot", "-f", workspace_root().join("docker/hooks.Dockerfile").to_str().unwrap(),
        "--build-arg", &format!("KEA_IMAGE={}", kea_image(rel, "dhcp4")),
        "--build-arg", "PACKAGES=", "-t", "localhost/kea-hooks/hooks-wrong:test",
        workspace_root().to_str().unwrap(),
    ]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(!out.status.success(), "{rel}: the build took {other}'s library:\n{text}");
    let line = text.lines().find(|l| l.contains("/out/libdhcp_mac_acl.so")).unwrap_or_else(|| panic!("no check line:\n{text}"));
    assert!(line.contains("error"), "{line}");
    assert!(!podman(&["image", "exists", "localhost/kea-hooks/hooks-wrong:test"]).status.success());
}

/// Copies `path` out of `image` to `to`, as a user takes a file from an
/// image with no tools in it (`podman create`, `podman cp`).
fn copy_from_image(image: &str, path: &str, to: &Path) {
    let id = podman_ok(&["create", image]).trim().to_owned();
    let out = podman(&["cp", &format!("{id}:{path}"), to.to_str().unwrap()]);
    let _ = podman(&["rm", &id]);
    assert!(out.status.success(), "podman cp {image}:{path}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The archive has a newer Kea than the image (tests/fixtures/
/// kea-archive-ahead.Dockerfile: the 2.6 image with sid's Kea 3.0 offered
/// and preferred): the hooks image built FROM it still holds hooks for the
/// image's own Kea (the builder pins kea-dev to the image's version), which
/// that Kea accepts (`kea-dhcp4 -t` opens each library and checks its
/// version). A build that cannot pin must fail, naming the versions.
#[test]
#[ignore = "run by scripts/images.sh --test (the test matrix's images entry)"]
fn a_newer_kea_in_the_archive_does_not_end_up_in_the_hooks_image() {
    assert!(releases().iter().any(|r| r == "2.6"), "needs the 2.6 images: scripts/images.sh --test 2.6 ...");
    let (ahead, hooks) = ("localhost/kea-hooks/kea-dhcp4-archive-ahead:test", "localhost/kea-hooks/hooks-archive-ahead:test");
    struct Remove(&'static [&'static str]);
    impl Drop for Remove {
        fn drop(&mut self) {
            for image in self.0 {
                let _ = podman(&["rmi", "-f", image]);
            }
        }
    }
    let _remove = Remove(&["localhost/kea-hooks/hooks-archive-ahead:test", "localhost/kea-hooks/kea-dhcp4-archive-ahead:test"]);
    let fixtures = workspace_root().join("tests/fixtures");
    let out = podman(&[
        "build", "--isolation", "chroot", "-f", fixtures.join("kea-archive-ahead.Dockerfile").to_str().unwrap(),
        "--build-arg", &format!("KEA_IMAGE={}", kea_image("2.6", "dhcp4")), "-t", ahead, fixtures.to_str().unwrap(),
    ]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the fixture image did not build:\n{text}");
    let premise = text.lines().find(|l| l.starts_with("image's Kea: ")).unwrap_or_else(|| panic!("{text}"));
    eprintln!("images: {premise}");
    let out = podman(&[
        "build", "--isolation", "chroot", "-f", workspace_root().join("docker/hooks.Dockerfile").to_str().unwrap(),
        "--build-arg", &format!("KEA_IMAGE={ahead}"), "--build-arg", "PACKAGES=kea-hook-mac-acl", "-t", hooks,
        workspace_root().to_str().unwrap(),
    ]);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the hooks image did not build ({premise}):\n{text}");
    // Independently of the build's own check: the image's Kea takes it
    // (the hooks image has no Kea: the library is mounted into the image
    // it was built for).
    let dir = TestDir::new();
    copy_from_image(hooks, "/hooks/libdhcp_mac_acl.so", &dir.path().join("libdhcp_mac_acl.so"));
    let check = podman(&[
        "run", "--rm", "-v", &format!("{}:/hooks:ro", dir.path().display()), "--entrypoint", "/bin/sh", ahead, "-c",
        "printf '{ \"Dhcp4\": { \"hooks-libraries\": [ { \"library\": \"/hooks/libdhcp_mac_acl.so\" } ] } }' >/tmp/c.json; \
         kea-dhcp4 -v; KEA_HOOKS_PATH=/hooks kea-dhcp4 -t /tmp/c.json",
    ]);
    let text = format!("{}{}", String::from_utf8_lossy(&check.stdout), String::from_utf8_lossy(&check.stderr));
    assert!(check.status.success(), "the image's Kea refuses the hook built for it ({premise}):\n{text}");
}
