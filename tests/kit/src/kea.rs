//! A kea-dhcp4 process: its configuration, start-up, control socket, log
//! and lease file.

use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use std::{fmt, fs};

use serde_json::{json, Value};

use crate::env::{program, TestDir};
use crate::netns::NetPair;

/// Which Kea DHCP server a [`KeaConfig`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// kea-dhcp4 (the default).
    V4,
    /// kea-dhcp6: with no interfaces and no subnets ([`KeaConfig::dhcp6`]),
    /// enough to load hooks and answer on its control socket, or serving
    /// the pair's IPv6 subnet ([`KeaConfig::new6`]).
    V6,
}

/// A kea-dhcp4 configuration for one [`NetPair`], built up by a test.
///
/// It owns the test directory (config, lease file, log, control socket);
/// clones share it, and [`Kea`] takes it over on [`KeaConfig::start`].
#[derive(Debug, Clone)]
pub struct KeaConfig {
    dir: Arc<TestDir>,
    interface: String,
    subnet: String,
    pool: String,
    router: Ipv4Addr,
    severity: String,
    debuglevel: u32,
    loggers: Vec<(String, String, u32)>,
    hooks: Vec<Value>,
    multi_threading: bool,
    valid_lifetime: u32,
    cpu: Option<usize>,
    launcher: Vec<String>,
    server_binary: Option<PathBuf>,
    extra: Value,
    family: Family,
    /// kea-dhcp6 serving: the pair's IPv6 subnet and pool.
    subnet6: Option<(String, String)>,
    /// Merged into the pair's `subnet6` entry (pd-pools, relay, ...).
    subnet6_extra: Value,
    /// More `subnet6` entries, after the pair's.
    more_subnets6: Vec<Value>,
    stderr_closed_pipe: bool,
    text_replacements: Vec<(String, String)>,
    http_control: bool,
    start_timeout: Option<Duration>,
    /// Environment variables for the server.
    env: Vec<(String, String)>,
}

/// The port of the HTTP control channel inside the server's namespace
/// (each test has its own namespace, so one port serves them all).
const HTTP_CONTROL_PORT: u16 = 8000;
/// The HTTP control socket's basic-authentication client (Kea 3.0+).
const HTTP_USER: &str = "kea-hooks-tests";
const HTTP_PASSWORD: &str = "not-a-secret";

impl KeaConfig {
    /// A configuration serving the pair's subnet (id 1, the pair's pool,
    /// option routers = the server address) on its server interface over a
    /// raw socket, with a fresh [`TestDir`] for the lease file, log and
    /// control socket. Root logger at INFO, valid-lifetime 3600, no hooks,
    /// multi-threading off.
    pub fn new(pair: &NetPair) -> KeaConfig {
        KeaConfig {
            dir: Arc::new(TestDir::new()),
            interface: pair.server_if(),
            subnet: pair.subnet(),
            pool: pair.pool(),
            router: pair.server_addr(),
            severity: "INFO".into(),
            debuglevel: 0,
            loggers: Vec::new(),
            hooks: Vec::new(),
            multi_threading: false,
            valid_lifetime: 3600,
            cpu: None,
            launcher: Vec::new(),
            server_binary: None,
            extra: json!({}),
            family: Family::V4,
            subnet6: None,
            subnet6_extra: json!({}),
            more_subnets6: Vec::new(),
            stderr_closed_pipe: false,
            text_replacements: Vec::new(),
            http_control: false,
            start_timeout: None,
            env: Vec::new(),
        }
    }

    /// Sets an environment variable for the server (e.g. `MYSQL_UNIX_PORT`,
    /// which Kea's MySQL backend honours: see [`crate::MariaDbServer`]).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// How long start-up may take (default 20 s, 240 s with a launcher):
    /// loading a large lease file takes longer.
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = Some(timeout);
        self
    }

    /// A kea-dhcp6 configuration serving the pair's IPv6 subnet (id 1,
    /// [`NetPair::pool6`]) on its server interface, otherwise as
    /// [`KeaConfig::new`]: valid lifetime 3600, preferred 3000.
    pub fn new6(pair: &NetPair) -> KeaConfig {
        pair.wait_ipv6();
        let mut cfg = KeaConfig::new(pair).dhcp6();
        cfg.subnet6 = Some((pair.subnet6(), pair.pool6()));
        cfg
    }

    /// Adds a `pd-pools` entry to the pair's IPv6 subnet (see
    /// [`KeaConfig::new6`]): prefixes of length `delegated_len` out of
    /// `prefix`/`len`. Pick `prefix` inside 2001:2::/48 and off the pair's
    /// /64s, e.g. [`NetPair::pd_space6`].
    pub fn pd_pool(mut self, prefix: std::net::Ipv6Addr, len: u8, delegated_len: u8) -> Self {
        let pool = json!({ "prefix": prefix.to_string(), "prefix-len": len, "delegated-len": delegated_len });
        let pools = self.subnet6_extra.as_object_mut().unwrap().entry("pd-pools").or_insert_with(|| json!([]));
        pools.as_array_mut().expect("pd-pools is a list").push(pool);
        self
    }

    /// Deep-merges `extra` into the pair's `subnet6` entry (see
    /// [`KeaConfig::new6`]; as [`KeaConfig::merge`] does), e.g.
    /// `json!({"rapid-commit": true})` or `json!({"relay": {"ip-addresses":
    /// [...]}})`. (That entry names its `interface`, so Kea refuses an
    /// `interface-id` in it: give one to a second subnet,
    /// [`KeaConfig::subnet6`].)
    pub fn subnet6_merge(mut self, extra: Value) -> Self {
        merge(&mut self.subnet6_extra, extra);
        self
    }

    /// Appends a `subnet6` entry after the pair's (which has id 1), e.g. one
    /// for queries relayed from another link:
    /// `json!({"id": 2, "subnet": "2001:2:0:4000::/64", "pools": [...],
    /// "relay": {"ip-addresses": [...]}})` or with `"interface-id"`.
    pub fn subnet6(mut self, subnet: Value) -> Self {
        self.more_subnets6.push(subnet);
        self
    }

    /// Runs kea-dhcp6 instead, listening on no interface (for tests of
    /// loading and of the control socket). Loggers named here keep their
    /// names: name hook loggers `kea-dhcp6.<hook>`.
    pub fn dhcp6(mut self) -> Self {
        self.family = Family::V6;
        self
    }

    /// Gives Kea a stderr that is a pipe nobody reads (its read end is
    /// closed before Kea starts): a write to it fails with EPIPE (or kills
    /// the process, while SIGPIPE is not ignored). Kea's own log goes to
    /// the log file regardless.
    pub fn stderr_to_closed_pipe(mut self) -> Self {
        self.stderr_closed_pipe = true;
        self
    }

    /// Replaces `from` with `to` in the configuration's text as written
    /// (after JSON serialization), for what serde_json would not write,
    /// such as a `\u00e9` escape.
    pub fn replace_in_text(mut self, from: &str, to: &str) -> Self {
        self.text_replacements.push((from.to_owned(), to.to_owned()));
        self
    }

    /// Opens an HTTP control channel on 127.0.0.1 in the server's
    /// namespace, for [`Kea::http_command`]: the server's own HTTP control
    /// socket on Kea 3.0+, a kea-ctrl-agent in front of the unix socket
    /// before (2.x has no other; the agent is deprecated in 3.0).
    pub fn http_control(mut self) -> Self {
        self.http_control = true;
        self
    }

    fn server(&self) -> &'static str {
        match self.family {
            Family::V4 => "kea-dhcp4",
            Family::V6 => "kea-dhcp6",
        }
    }

    /// The directory holding config, leases, log and control socket.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Sets the root logger (`kea-dhcp4`) to DEBUG at `debuglevel`.
    pub fn debug(mut self, debuglevel: u32) -> Self {
        self.severity = "DEBUG".into();
        self.debuglevel = debuglevel;
        self
    }

    /// Runs kea-dhcp4 under `command` (for example `["valgrind",
    /// "--tool=callgrind"]`). Start-up and shutdown then get a minute each.
    pub fn launcher(mut self, command: &[&str]) -> Self {
        self.launcher = command.iter().map(|s| s.to_string()).collect();
        self
    }

    /// Runs the server as `user`, as distributions do (Gentoo: user
    /// `dhcp`, `setcap cap_net_bind_service,cap_net_raw=+ep` on the
    /// binary): from a copy of its binary that only root and the user's
    /// group may run, with file capabilities `capabilities` (`setcap`
    /// syntax), started by `setpriv` with the user's uid and gid, no
    /// supplementary groups and umask 022 (a service manager's default).
    /// The test directory becomes the user's (mode 0750); what the test
    /// writes into it stays root's, readable by the user.
    pub fn run_as(mut self, user: &crate::SystemUser, capabilities: &str) -> Self {
        let program = match self.family {
            Family::V4 => program("kea-dhcp4", "kea-dhcp4-server"),
            Family::V6 => program("kea-dhcp6", "kea-dhcp6-server"),
        };
        self.server_binary = Some(user.capable_copy(&program, capabilities));
        std::os::unix::fs::chown(self.dir(), Some(user.uid()), Some(user.gid()))
            .unwrap_or_else(|e| panic!("chown {}: {e}", self.dir().display()));
        let (uid, gid) = (user.uid().to_string(), user.gid().to_string());
        self.launcher = ["setpriv", "--reuid", &uid, "--regid", &gid, "--clear-groups", "--", "/bin/sh", "-c"]
            .into_iter()
            .map(str::to_owned)
            .chain(["umask 022 && exec \"$0\" \"$@\"".to_owned()])
            .collect();
        self.start_timeout.get_or_insert(Duration::from_secs(20));
        self
    }

    /// Sets the root logger's severity (`"WARN"` keeps Kea from writing
    /// two INFO lines per DORA exchange, as the benchmark wants).
    pub fn severity(mut self, severity: &str) -> Self {
        self.severity = severity.into();
        self
    }

    /// Adds a logger, e.g. `("kea-dhcp4.my-hook", "DEBUG", 40)`, writing
    /// to the same file as the root logger.
    pub fn logger(mut self, name: &str, severity: &str, debuglevel: u32) -> Self {
        self.loggers.push((name.to_owned(), severity.to_owned(), debuglevel));
        self
    }

    /// Appends a `hooks-libraries` entry `{"library": library,
    /// "parameters": parameters}` (no `parameters` key for `None`).
    pub fn hook(mut self, library: &Path, parameters: Option<Value>) -> Self {
        let mut entry = json!({ "library": library });
        if let Some(p) = parameters {
            entry["parameters"] = p;
        }
        self.hooks.push(entry);
        self
    }

    /// Replaces the library of hook entry `index`.
    pub fn set_hook_library(&mut self, index: usize, library: &Path) {
        self.hooks[index]["library"] = json!(library);
    }

    /// Replaces the parameters of hook entry `index`.
    pub fn set_hook_parameters(&mut self, index: usize, parameters: Value) {
        self.hooks[index]["parameters"] = parameters;
    }

    /// Turns Kea's multi-threading on (4 threads, queue 64) or off (2.2's
    /// default; 2.4+ default to on, which is why it is always written).
    pub fn multi_threading(mut self, on: bool) -> Self {
        self.multi_threading = on;
        self
    }

    /// Sets `valid-lifetime`.
    pub fn valid_lifetime(mut self, seconds: u32) -> Self {
        self.valid_lifetime = seconds;
        self
    }

    /// Pins kea-dhcp4 to one CPU (with `taskset`), for benchmarks.
    pub fn cpu(mut self, cpu: Option<usize>) -> Self {
        self.cpu = cpu;
        self
    }

    /// Deep-merges `extra` into the `Dhcp4` object (objects merge key by
    /// key, anything else replaces). Applied last, so it can override
    /// anything the builder writes.
    pub fn merge(mut self, extra: Value) -> Self {
        merge(&mut self.extra, extra);
        self
    }

    fn log_path(&self) -> PathBuf {
        self.dir().join("kea.log")
    }

    fn socket_path(&self) -> PathBuf {
        self.dir().join(match self.family {
            Family::V4 => "kea4.sock",
            Family::V6 => "kea6.sock",
        })
    }

    fn config_path(&self) -> PathBuf {
        self.dir().join(format!("{}.conf", self.server()))
    }

    /// The configuration as Kea reads it (`{"Dhcp4": {...}}`).
    pub fn to_json(&self) -> Value {
        let logger = |name: &str, severity: &str, debuglevel: u32| {
            json!({
                "name": name, "severity": severity, "debuglevel": debuglevel,
                "output_options": [{ "output": self.log_path(), "flush": true }]
            })
        };
        let mut loggers = vec![logger(self.server(), &self.severity, self.debuglevel)];
        loggers.extend(self.loggers.iter().map(|(n, s, d)| logger(n, s, *d)));
        if self.family == Family::V6 {
            let (interfaces, mut subnets) = match &self.subnet6 {
                Some((subnet, pool)) => {
                    let mut own = json!({ "id": 1, "subnet": subnet, "interface": self.interface, "pools": [{ "pool": pool }] });
                    merge(&mut own, self.subnet6_extra.clone());
                    (json!([self.interface]), vec![own])
                }
                None => (json!([]), Vec::new()),
            };
            subnets.extend(self.more_subnets6.iter().cloned());
            let mut dhcp6 = json!({
                "interfaces-config": { "interfaces": interfaces },
                "lease-database": { "type": "memfile", "name": self.dir().join("leases6.csv"), "lfc-interval": 0 },
                "control-socket": { "socket-type": "unix", "socket-name": self.socket_path() },
                "subnet6": subnets,
                "valid-lifetime": self.valid_lifetime,
                "preferred-lifetime": self.valid_lifetime / 6 * 5,
                // No DUID file in /var/lib/kea: a server id of its own.
                "server-id": { "type": "LLT", "persist": false },
                "multi-threading": {
                    "enable-multi-threading": self.multi_threading,
                    "thread-pool-size": 4, "packet-queue-size": 64
                },
                "hooks-libraries": self.hooks,
                "loggers": loggers,
            });
            merge(&mut dhcp6, self.extra.clone());
            return json!({ "Dhcp6": dhcp6 });
        }
        let unix_socket = json!({ "socket-type": "unix", "socket-name": self.socket_path() });
        let mut dhcp4 = json!({
            "interfaces-config": { "interfaces": [self.interface], "dhcp-socket-type": "raw" },
            "lease-database": { "type": "memfile", "name": self.dir().join("leases4.csv"), "lfc-interval": 0 },
            "control-socket": unix_socket,
            "valid-lifetime": self.valid_lifetime,
            "subnet4": [{
                "id": 1, "subnet": self.subnet, "pools": [{ "pool": self.pool }],
                "option-data": [{ "name": "routers", "data": self.router.to_string() }]
            }],
            "multi-threading": {
                "enable-multi-threading": self.multi_threading,
                "thread-pool-size": 4, "packet-queue-size": 64
            },
            "hooks-libraries": self.hooks,
            "loggers": loggers,
        });
        if self.http_control && crate::kea_hooks_version() >= 30000 {
            let map = dhcp4.as_object_mut().unwrap();
            let unix_socket = map.remove("control-socket").unwrap();
            map.insert(
                "control-sockets".into(),
                json!([unix_socket, {
                    "socket-type": "http", "socket-address": "127.0.0.1", "socket-port": HTTP_CONTROL_PORT,
                    // Kea 3.2 refuses an HTTP control socket with neither
                    // TLS nor authentication.
                    // (3.2 also refuses a user or password in clear text
                    // in the configuration: a file holds `user:password`.)
                    "authentication": {
                        "type": "basic", "realm": "kea-hooks-tests", "directory": self.dir(),
                        "clients": [{ "password-file": "http-credentials" }]
                    }
                }]),
            );
        }
        merge(&mut dhcp4, self.extra.clone());
        json!({ "Dhcp4": dhcp4 })
    }

    fn write(&self) {
        if self.http_control {
            fs::write(self.dir().join("http-credentials"), format!("{HTTP_USER}:{HTTP_PASSWORD}")).unwrap();
        }
        let mut text = serde_json::to_string_pretty(&self.to_json()).unwrap();
        for (from, to) in &self.text_replacements {
            assert!(text.contains(from.as_str()), "{from:?} is not in the configuration");
            text = text.replace(from.as_str(), to);
        }
        fs::write(self.config_path(), text).unwrap_or_else(|e| panic!("write {}: {e}", self.config_path().display()));
    }

    /// Writes the configuration file (`<dir>/kea-dhcp4.conf`, as
    /// [`start`](Self::start) would) and returns its path.
    pub fn write_file(&self) -> PathBuf {
        self.write();
        self.config_path()
    }

    /// `kea-dhcp4 -t <file>` on the configuration (written first), in the
    /// pair's server namespace with the environment [`start`](Self::start)
    /// gives Kea: whether Kea accepts it, and its output. (`-t` never calls
    /// a hook library's `load()`.)
    pub fn check_with_kea(&self, pair: &NetPair) -> (bool, String) {
        self.write();
        let out = self.server_command(pair, false).arg("-t").arg(self.config_path()).output().expect("run kea-dhcp4 -t");
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.success(), text)
    }

    /// The directory the hook libraries sit in (Kea 2.6+ loads them only
    /// from `KEA_HOOKS_PATH`, a single directory); the test directory when
    /// there are none.
    fn hooks_dir(&self) -> PathBuf {
        self.hooks
            .first()
            .and_then(|h| h["library"].as_str())
            .and_then(|p| Path::new(p).parent())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| self.dir().to_path_buf())
    }

    /// The server's command in the pair's server namespace (under
    /// `taskset` and the launcher, with `wrapped`), with the environment
    /// Kea needs: writable pid and lock dirs; on 2.6+ also the allowed dirs
    /// for hooks, data, sockets and logs (2.2 ignores those). 3.0 also
    /// wants the socket dir at mode 0750 or stricter: TestDir is 0750.
    fn server_command(&self, pair: &NetPair, wrapped: bool) -> std::process::Command {
        let dir = self.dir();
        let kea_bin = match (&self.server_binary, self.family) {
            (Some(copy), _) => copy.clone(),
            (None, Family::V4) => program("kea-dhcp4", "kea-dhcp4-server"),
            (None, Family::V6) => program("kea-dhcp6", "kea-dhcp6-server"),
        };
        let mut argv: Vec<String> = Vec::new();
        if wrapped {
            if let Some(cpu) = self.cpu {
                argv.extend(["taskset".to_owned(), "-c".to_owned(), cpu.to_string()]);
            }
            argv.extend(self.launcher.iter().cloned());
        }
        argv.push(kea_bin.to_str().unwrap().to_owned());
        let mut cmd = NetPair::command_in(&pair.server_ns(), &argv[0]);
        cmd.args(&argv[1..])
            .env("KEA_PIDFILE_DIR", dir)
            .env("KEA_LOCKFILE_DIR", dir)
            .env("KEA_HOOKS_PATH", self.hooks_dir())
            .env("KEA_DHCP_DATA_DIR", dir)
            .env("KEA_CONTROL_SOCKET_DIR", dir)
            .env("KEA_LOG_FILE_DIR", dir)
            // Kea 3.0+ runs hook scripts (run_script's) only from here.
            .env("KEA_HOOK_SCRIPTS_PATH", dir);
        cmd
    }

    /// Writes `<dir>/kea-dhcp4.conf` and starts kea-dhcp4 in the pair's
    /// server namespace (stdout/stderr to `<dir>/kea.stdout`,
    /// `kea.stderr`); returns once the control socket answers
    /// `list-commands`, or Kea's output if it exits first (or does not
    /// answer within 20 s, after which it is killed).
    pub fn start(self, pair: &NetPair) -> Result<Kea, StartFailure> {
        self.write();
        let dir = self.dir().to_path_buf();
        let hooks_dir = self.hooks_dir();
        // Kea 2.6.3+ refuses a library outside KEA_HOOKS_PATH ("invalid path
        // specified"), and that is a single directory.
        for lib in self.hooks.iter().filter_map(|h| h["library"].as_str()) {
            assert!(
                Path::new(lib).parent() == Some(hooks_dir.as_path()),
                "hook libraries must share one directory (Kea 2.6+ loads them only from KEA_HOOKS_PATH): \
                 {lib} is not in {}",
                hooks_dir.display()
            );
        }
        let stderr: Stdio = if self.stderr_closed_pipe {
            closed_pipe().into()
        } else {
            fs::File::create(dir.join("kea.stderr")).unwrap().into()
        };
        let child = self
            .server_command(pair, true)
            .arg("-c")
            .arg(self.config_path())
            .env_remove("RUST_BACKTRACE")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.join("kea.stdout")).unwrap())
            .stderr(stderr)
            .spawn()
            .expect("spawn the Kea server");
        let mut kea = Kea { child: Some(child), config: self, agent: None, ns: pair.server_ns() };
        let deadline = Instant::now() + kea.grace();
        loop {
            if let Some(status) = kea.child.as_mut().unwrap().try_wait().unwrap() {
                let log = kea.all_output();
                kea.child = None;
                return Err(StartFailure { status: Some(status), log });
            }
            if kea.config.socket_path().exists() {
                if let Ok(answer) = kea.try_command("list-commands", None) {
                    // Kea 2.6+ opens its control socket while it parses the
                    // configuration, and answers on it while it shuts down
                    // after the configuration failed (seen: a refused hook
                    // library, then an answer to list-commands). Its
                    // INIT_FAIL line comes before that answer; keep waiting
                    // for the exit then.
                    let init_fail = kea.all_output().contains("_INIT_FAIL");
                    if answer["result"] == 0 && !init_fail {
                        if kea.config.http_control && crate::kea_hooks_version() < 30000 {
                            kea.start_agent(pair);
                        }
                        return Ok(kea);
                    }
                }
            }
            if Instant::now() > deadline {
                let log = kea.all_output();
                return Err(StartFailure { status: None, log });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The write end of a pipe whose read end is already closed.
fn closed_pipe() -> std::os::fd::OwnedFd {
    use std::os::fd::FromRawFd;
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2 writes two descriptors into `fds`, which has room for
    // them; O_CLOEXEC keeps them out of other children (the spawn dups the
    // write end onto fd 2 without the flag).
    let rc = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(rc, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just created and are owned by nothing
    // else; dropping the read end closes it.
    let (read, write) = unsafe { (std::os::fd::OwnedFd::from_raw_fd(fds[0]), std::os::fd::OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    write
}

fn merge(into: &mut Value, from: Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k).or_insert(Value::Null), v);
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Why Kea did not start: its exit status (if it exited) and its output.
/// Debug and Display show both, so `.unwrap()` / `.expect()` print Kea's
/// own reason.
pub struct StartFailure {
    /// The exit status, `None` if it never answered and was killed.
    pub status: Option<ExitStatus>,
    /// kea.log, stderr and stdout.
    pub log: String,
}

impl fmt::Debug for StartFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "kea-dhcp4 did not start (status {:?}):\n{}", self.status, self.log)
    }
}

impl fmt::Display for StartFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A lease from Kea's memfile (`leases4.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseRow {
    /// Leased address.
    pub address: Ipv4Addr,
    /// Client hardware address, lowercase colon hex.
    pub hwaddr: String,
    /// Client id, colon hex (may be empty).
    pub client_id: String,
    /// Valid lifetime, seconds.
    pub valid_lifetime: u32,
    /// Expiry, epoch seconds.
    pub expire: u64,
    /// Subnet id.
    pub subnet_id: u32,
    /// Hostname.
    pub hostname: String,
    /// Forward and reverse DNS flags (`fqdn_fwd`, `fqdn_rev`).
    pub fqdn: (bool, bool),
    /// Lease state (0 = default).
    pub state: u32,
}

/// [`unix_command`], tried again every 100 ms for up to `wait` while it
/// fails (Kea may still be starting); the last error after that.
pub fn unix_command_within(socket: &Path, name: &str, arguments: Option<Value>, wait: Duration) -> std::io::Result<Value> {
    let deadline = Instant::now() + wait;
    loop {
        match unix_command(socket, name, arguments.clone()) {
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            answer => return answer,
        }
    }
}

/// Sends `{"command": name, "arguments": arguments}` to the Kea control
/// socket at `socket` (one try) and returns the answer.
pub fn unix_command(socket: &Path, name: &str, arguments: Option<Value>) -> std::io::Result<Value> {
    unix_command_timeout(socket, name, arguments, Duration::from_secs(20))
}

/// [`unix_command`] that gives up (`TimedOut`/`WouldBlock`) when no answer
/// has come within `timeout`.
fn unix_command_timeout(socket: &Path, name: &str, arguments: Option<Value>, timeout: Duration) -> std::io::Result<Value> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    let mut request = json!({ "command": name });
    if let Some(a) = arguments {
        request["arguments"] = a;
    }
    stream.write_all(request.to_string().as_bytes())?;
    stream.shutdown(std::net::Shutdown::Write)?;
    let mut text = String::new();
    stream.read_to_string(&mut text)?;
    serde_json::from_str(&text).map_err(|e| std::io::Error::other(format!("bad answer {text:?}: {e}")))
}

/// Writes `rows` as the v4 memfile of the Kea under test (its own header:
/// 2.6+ has a `pool_id` column, and Kea converts a file with another
/// header by running kea-lfc at start-up). `expire` is epoch seconds;
/// `client_id` and `hostname` may be empty.
pub fn write_memfile4(path: &Path, rows: impl IntoIterator<Item = LeaseRow>) {
    use std::io::Write as _;
    let pool_id = crate::kea_hooks_version() >= 20600;
    let mut out = std::io::BufWriter::new(fs::File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display())));
    let header = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context";
    writeln!(out, "{header}{}", if pool_id { ",pool_id" } else { "" }).unwrap();
    for r in rows {
        write!(
            out,
            "{},{},{},{},{},{},{},{},{},{},",
            r.address,
            r.hwaddr,
            r.client_id,
            r.valid_lifetime,
            r.expire,
            r.subnet_id,
            u8::from(r.fqdn.0),
            u8::from(r.fqdn.1),
            r.hostname.replace(',', "&#x2c"),
            r.state
        )
        .unwrap();
        writeln!(out, "{}", if pool_id { ",0" } else { "" }).unwrap();
    }
    out.flush().unwrap();
}

/// Writes `rows` as the v6 memfile (`leases6.csv`) of the Kea under test,
/// with its header (csv_lease_file6 at each tag: 2.6+ adds `pool_id`).
/// Rows have no hardware address, host name or user context; a lease in
/// state default needs a DUID (Kea refuses the file otherwise).
pub fn write_memfile6(path: &Path, rows: impl IntoIterator<Item = Lease6Row>) {
    use std::io::Write as _;
    let pool_id = crate::kea_hooks_version() >= 20600;
    let mut out = std::io::BufWriter::new(fs::File::create(path).unwrap_or_else(|e| panic!("create {}: {e}", path.display())));
    let header = "address,duid,valid_lifetime,expire,subnet_id,pref_lifetime,lease_type,iaid,prefix_len,\
                  fqdn_fwd,fqdn_rev,hostname,hwaddr,state,user_context,hwtype,hwaddr_source";
    writeln!(out, "{header}{}", if pool_id { ",pool_id" } else { "" }).unwrap();
    for r in rows {
        write!(
            out,
            "{},{},{},{},{},{},{},{},{},0,0,,,{},,,",
            r.address, r.duid, r.valid_lifetime, r.expire, r.subnet_id, r.preferred_lifetime, r.lease_type, r.iaid, r.prefix_len, r.state
        )
        .unwrap();
        writeln!(out, "{}", if pool_id { ",0" } else { "" }).unwrap();
    }
    out.flush().unwrap();
}

/// A running kea-dhcp4. Dropping it stops the process (SIGTERM, then
/// SIGKILL after 5 s) and removes its directory; if the thread is
/// panicking (a failed assertion) or `KEEP_TEST_DIRS` is set, it first
/// prints the last 60 lines of Kea's output to stderr.
pub struct Kea {
    child: Option<Child>,
    config: KeaConfig,
    /// kea-ctrl-agent, for [`KeaConfig::http_control`] before Kea 3.0.
    agent: Option<Child>,
    /// The network namespace Kea runs in.
    ns: String,
}

impl Kea {
    /// Kea's pid (0 once stopped).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// The test directory.
    pub fn dir(&self) -> &Path {
        self.config.dir()
    }

    /// Kea's unix control socket (`<dir>/kea4.sock`, `kea6.sock`), e.g.
    /// for kea-exporter or a control-command client.
    pub fn socket_path(&self) -> PathBuf {
        self.config.socket_path()
    }

    /// The configuration Kea was started with (or last rewritten to).
    /// Clone it, change the clone with the builder methods and pass it to
    /// [`Kea::rewrite_config`].
    pub fn config(&self) -> &KeaConfig {
        &self.config
    }

    /// The configuration, to change in place before [`Kea::write_config`].
    pub fn config_mut(&mut self) -> &mut KeaConfig {
        &mut self.config
    }

    /// Rewrites the configuration file from [`Kea::config`] (for a later
    /// [`Kea::config_reload`] or [`Kea::sighup`]).
    pub fn write_config(&self) {
        self.config.write();
    }

    /// Replaces the configuration with `cfg` (normally a changed clone of
    /// [`Kea::config`]; if it was made for another directory, its settings
    /// are used with this Kea's directory) and rewrites the file. Kea reads
    /// it on the next [`Kea::config_reload`] or [`Kea::sighup`].
    pub fn rewrite_config(&mut self, cfg: &KeaConfig) {
        let mut cfg = cfg.clone();
        cfg.dir = Arc::clone(&self.config.dir);
        self.config = cfg;
        self.config.write();
    }

    /// The contents of Kea's log file (`<dir>/kea.log`).
    pub fn log(&self) -> String {
        read_lossy(&self.config.log_path())
    }

    fn all_output(&self) -> String {
        let read = |name: &str| read_lossy(&self.dir().join(name));
        format!("--- kea.log ---\n{}\n--- kea.stderr ---\n{}\n--- kea.stdout ---\n{}", self.log(), read("kea.stderr"), read("kea.stdout"))
    }

    /// Waits until the log contains `needle`; false after `timeout`.
    pub fn wait_for_log(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.log().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// How many log lines contain `needle`.
    pub fn count_in_log(&self, needle: &str) -> usize {
        self.log().lines().filter(|l| l.contains(needle)).count()
    }

    fn try_command(&self, name: &str, arguments: Option<Value>) -> std::io::Result<Value> {
        unix_command(&self.config.socket_path(), name, arguments)
    }

    /// Starts kea-ctrl-agent in the server's namespace, forwarding
    /// `service: ["dhcp4"]` to this Kea's unix socket.
    fn start_agent(&mut self, pair: &NetPair) {
        let dir = self.dir().to_path_buf();
        let config = json!({ "Control-agent": {
            "http-host": "127.0.0.1", "http-port": HTTP_CONTROL_PORT,
            "control-sockets": { "dhcp4": { "socket-type": "unix", "socket-name": self.config.socket_path() } },
            "loggers": [{ "name": "kea-ctrl-agent", "severity": "INFO",
                          "output_options": [{ "output": dir.join("agent.log"), "flush": true }] }]
        }});
        let path = dir.join("kea-ctrl-agent.conf");
        fs::write(&path, config.to_string()).unwrap();
        let agent = program("kea-ctrl-agent", "kea-ctrl-agent");
        let child = NetPair::command_in(&pair.server_ns(), agent.to_str().unwrap())
            .arg("-c")
            .arg(&path)
            .env("KEA_PIDFILE_DIR", &dir)
            .env("KEA_LOCKFILE_DIR", &dir)
            .env("KEA_CONTROL_SOCKET_DIR", &dir)
            .env("KEA_LOG_FILE_DIR", &dir)
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.join("agent.stdout")).unwrap())
            .stderr(fs::File::create(dir.join("agent.stderr")).unwrap())
            .spawn()
            .expect("spawn kea-ctrl-agent");
        self.agent = Some(child);
    }

    /// Sends `{"command": name, "arguments": arguments}` over HTTP (see
    /// [`KeaConfig::http_control`]) with curl, from the server's namespace,
    /// and returns the answer (the first of the list the agent sends).
    /// Retries connecting for up to 10 s (the agent may still be starting);
    /// panics if nothing answers.
    pub fn http_command(&self, name: &str, arguments: Option<Value>) -> Value {
        assert!(self.config.http_control, "start Kea with KeaConfig::http_control() to use http_command");
        let mut request = json!({ "command": name });
        if let Some(a) = arguments {
            request["arguments"] = a;
        }
        let mut auth = Vec::new();
        if crate::kea_hooks_version() < 30000 {
            request["service"] = json!(["dhcp4"]);
        } else {
            auth = vec!["-u".to_owned(), format!("{HTTP_USER}:{HTTP_PASSWORD}")];
        }
        let curl = program("curl", "curl");
        let url = format!("http://127.0.0.1:{HTTP_CONTROL_PORT}/");
        let body = request.to_string();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let out = NetPair::command_in(&self.server_ns(), curl.to_str().unwrap())
                .args(["-sS", "--max-time", "20", "-X", "POST", "-H", "Content-Type: application/json", "-d", &body, &url])
                .args(&auth)
                .output()
                .expect("run curl");
            // 7: could not connect (the agent is not listening yet).
            if out.status.code() == Some(7) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(out.status.success(), "curl {body}: {:?}: {}{}", out.status, text, String::from_utf8_lossy(&out.stderr));
            let answer: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad HTTP answer {text:?}: {e}"));
            return match answer {
                Value::Array(mut list) if !list.is_empty() => list.swap_remove(0),
                other => other,
            };
        }
    }

    fn server_ns(&self) -> String {
        self.ns.clone()
    }

    /// [`Kea::command`], returning the answer's text as Kea wrote it (to
    /// compare numbers serde_json cannot hold exactly, e.g. big integers).
    pub fn command_text(&self, name: &str, arguments: Option<Value>) -> String {
        let mut request = json!({ "command": name });
        if let Some(a) = arguments {
            request["arguments"] = a;
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let attempt = (|| -> std::io::Result<String> {
                let mut stream = UnixStream::connect(self.config.socket_path())?;
                stream.set_read_timeout(Some(Duration::from_secs(20)))?;
                stream.write_all(request.to_string().as_bytes())?;
                stream.shutdown(std::net::Shutdown::Write)?;
                let mut text = String::new();
                stream.read_to_string(&mut text)?;
                Ok(text)
            })();
            match attempt {
                Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
                Err(e) => panic!("command {name}: {e:?}"),
                Ok(text) => return text,
            }
        }
    }

    /// Sends `{"command": name, "arguments": arguments}` over the control
    /// socket and returns Kea's answer (`{"result": 0, ...}` on success).
    /// Retries connecting for up to 5 s; panics if Kea never answers.
    pub fn command(&self, name: &str, arguments: Option<Value>) -> Value {
        unix_command_within(&self.config.socket_path(), name, arguments, Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("command {name}: {e:?}"))
    }

    /// Sends a command that must be answered within `bound` (a liveness
    /// check: connecting, sending and the answer all count); returns the
    /// answer and how long it took. Panics, saying how long it waited,
    /// when Kea did not answer in time.
    pub fn command_within(&self, name: &str, arguments: Option<Value>, bound: Duration) -> (Value, Duration) {
        let t0 = Instant::now();
        match unix_command_timeout(&self.config.socket_path(), name, arguments, bound) {
            Ok(answer) => {
                let took = t0.elapsed();
                assert!(took <= bound, "{name} took {took:?} (bound {bound:?})");
                (answer, took)
            }
            Err(e) => panic!("{name}: no answer within {bound:?} (after {:?}): {e}", t0.elapsed()),
        }
    }

    /// Stops Kea (SIGTERM), which must exit by itself within `bound`;
    /// returns how long it took. Panics (after killing it) when it did not.
    pub fn shutdown_within(&mut self, bound: Duration) -> Duration {
        if let Some(mut agent) = self.agent.take() {
            let _ = agent.kill();
            let _ = agent.wait();
        }
        let mut child = self.child.take().expect("Kea is running");
        let t0 = Instant::now();
        // SAFETY: kill(2) on our own, not yet reaped, child.
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
        while t0.elapsed() < bound {
            if let Ok(Some(_)) = child.try_wait() {
                return t0.elapsed();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("Kea did not exit within {bound:?} of SIGTERM (killed)");
    }

    /// The latest value of Kea's integer statistic `name` (0 when there is
    /// none), from `statistic-get`.
    pub fn statistic(&self, name: &str) -> u64 {
        self.command("statistic-get", Some(json!({ "name": name })))["arguments"][name][0][0].as_u64().unwrap_or(0)
    }

    /// `config-reload`: Kea rereads its configuration file.
    pub fn config_reload(&self) -> Value {
        self.command("config-reload", None)
    }

    /// Gives hook `index` new `parameters`, writes the configuration file
    /// and asks for `config-reload`; returns Kea's answer.
    pub fn reload_with_hook_parameters(&mut self, index: usize, parameters: Value) -> Value {
        self.config_mut().set_hook_parameters(index, parameters);
        self.write_config();
        self.config_reload()
    }

    fn signal(&self, sig: libc::c_int) {
        let pid = self.pid();
        assert!(pid != 0, "Kea is not running");
        // SAFETY: kill(2) on our own child's pid; no memory is involved.
        let rc = unsafe { libc::kill(pid as libc::pid_t, sig) };
        assert!(rc == 0, "kill({pid}, {sig}): {}", std::io::Error::last_os_error());
    }

    /// Kills Kea at once (SIGKILL, a crash: no shutdown, lease file and
    /// control socket left as they were) and reaps it. Idempotent.
    pub fn kill(&mut self) {
        if let Some(mut agent) = self.agent.take() {
            let _ = agent.kill();
            let _ = agent.wait();
        }
        if let Some(mut child) = self.child.take() {
            // Child::kill sends SIGKILL to our own child, by its pid.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGHUP (Kea reloads its configuration file).
    pub fn sighup(&self) {
        self.signal(libc::SIGHUP);
    }

    /// Whether the process is still running (reaps it if it exited).
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// The active leases in the memfile, in file order: the latest row
    /// per address, without released/expired ones (valid lifetime 0) and
    /// without declined or reclaimed ones (state != 0).
    pub fn leases(&self) -> Vec<LeaseRow> {
        parse_leases(&read_lossy(&self.dir().join("leases4.csv")))
    }

    /// The memfile's latest row for each address, whatever its state
    /// (declined, released with valid lifetime 0, reclaimed), in file order.
    pub fn lease_rows(&self) -> Vec<LeaseRow> {
        latest_rows(&read_lossy(&self.dir().join("leases4.csv")))
    }

    /// The latest row per address and type of kea-dhcp6's memfile
    /// (`leases6.csv`), in file order.
    pub fn lease6_rows(&self) -> Vec<Lease6Row> {
        latest_rows6(&read_lossy(&self.dir().join("leases6.csv")))
    }
}

/// A lease from kea-dhcp6's memfile (`leases6.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease6Row {
    /// The address, or the delegated prefix.
    pub address: std::net::Ipv6Addr,
    /// The client's DUID, colon hex.
    pub duid: String,
    /// Valid lifetime, seconds.
    pub valid_lifetime: u32,
    /// Expiry, epoch seconds.
    pub expire: u64,
    /// Preferred lifetime, seconds.
    pub preferred_lifetime: u32,
    /// Subnet id.
    pub subnet_id: u32,
    /// 0: an address (IA_NA), 1: IA_TA, 2: a delegated prefix (IA_PD).
    pub lease_type: u8,
    /// The IA's identifier.
    pub iaid: u32,
    /// 128 for an address; the prefix length for a delegated prefix.
    pub prefix_len: u8,
    /// 0 default, 1 declined, 2 expired and reclaimed.
    pub state: u32,
}

/// The latest row per (address, type) of a v6 memfile, in file order
/// (columns found by the header's names, as they differ by release). A
/// partly written last line is skipped.
fn latest_rows6(text: &str) -> Vec<Lease6Row> {
    let names = ["address", "duid", "valid_lifetime", "pref_lifetime", "subnet_id", "lease_type", "iaid", "prefix_len", "state", "expire"];
    let Some((cols, width, lines)) = memfile_rows(text, names) else { return Vec::new() };
    let mut rows: Vec<Lease6Row> = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() < width {
            continue;
        }
        let num = |i: usize| f[cols[i]].parse::<u64>().ok();
        let (Ok(address), Some(valid), Some(pref), Some(subnet), Some(kind), Some(iaid), Some(len), Some(state), Some(expire)) =
            (f[cols[0]].parse(), num(2), num(3), num(4), num(5), num(6), num(7), num(8), num(9))
        else {
            continue;
        };
        let row = Lease6Row {
            address,
            duid: f[cols[1]].to_owned(),
            valid_lifetime: valid as u32,
            expire,
            preferred_lifetime: pref as u32,
            subnet_id: subnet as u32,
            lease_type: kind as u8,
            iaid: iaid as u32,
            prefix_len: len as u8,
            state: state as u32,
        };
        match rows.iter_mut().find(|r| r.address == row.address && r.lease_type == row.lease_type) {
            Some(r) => *r = row,
            None => rows.push(row),
        }
    }
    rows
}

fn read_lossy(path: &Path) -> String {
    fs::read(path).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
}

/// Parses a Kea 2.x v4 memfile: a header naming the columns, then one row
/// per lease update (the last row for an address wins). A partly written
/// last line (Kea appends while we read) is skipped.
pub(crate) fn parse_leases(text: &str) -> Vec<LeaseRow> {
    let mut rows = latest_rows(text);
    rows.retain(|r| r.state == 0 && r.valid_lifetime > 0);
    rows
}

/// A memfile's header and rows: the positions of the columns `names`
/// (found by the header's names, which differ by release), the header's
/// width, and the lines after it; `None` for a file without a header yet.
fn memfile_rows<'t, const N: usize>(text: &'t str, names: [&str; N]) -> Option<([usize; N], usize, std::str::Lines<'t>)> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
    if header.len() < 2 {
        return None;
    }
    let cols = names.map(|name| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("lease file has no column {name}")));
    Some((cols, header.len(), lines))
}

/// The latest row per address of a v4 memfile, in file order.
fn latest_rows(text: &str) -> Vec<LeaseRow> {
    let names = ["address", "hwaddr", "client_id", "valid_lifetime", "expire", "subnet_id", "hostname", "state", "fqdn_fwd", "fqdn_rev"];
    let Some((cols, width, lines)) = memfile_rows(text, names) else { return Vec::new() };
    let mut rows: Vec<LeaseRow> = Vec::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        // Kea writes every column (user_context, last, may be empty).
        if f.len() < width {
            continue;
        }
        let [address, hwaddr, client_id, valid, expire, subnet, hostname, state, fwd, rev] = cols.map(|c| f[c]);
        let Ok(address) = address.parse() else { continue };
        let row = LeaseRow {
            address,
            hwaddr: hwaddr.to_owned(),
            client_id: client_id.to_owned(),
            valid_lifetime: valid.parse().unwrap_or(0),
            expire: expire.parse().unwrap_or(0),
            subnet_id: subnet.parse().unwrap_or(0),
            // Kea escapes commas in text fields as "&#x2c".
            hostname: hostname.replace("&#x2c", ","),
            fqdn: (fwd == "1", rev == "1"),
            state: state.parse().unwrap_or(0),
        };
        rows.retain(|r| r.address != row.address);
        rows.push(row);
    }
    rows
}

impl Kea {
    /// Stops Kea (SIGTERM; SIGKILL after 5 s) and returns its log, which
    /// then holds what the hooks logged at unload. Idempotent.
    pub fn stop(&mut self) -> String {
        self.terminate();
        self.log()
    }

    /// How long start-up may take (a quarter of it for shutdown).
    fn grace(&self) -> Duration {
        self.config.start_timeout.unwrap_or(Duration::from_secs(if self.config.launcher.is_empty() { 20 } else { 240 }))
    }

    fn terminate(&mut self) {
        if let Some(mut agent) = self.agent.take() {
            let _ = agent.kill();
            let _ = agent.wait();
        }
        let Some(mut child) = self.child.take() else { return };
        if let Ok(None) = child.try_wait() {
            // SAFETY: kill(2) on our own, not yet reaped, child.
            unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) };
            let deadline = Instant::now() + self.grace() / 4;
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Kea {
    fn drop(&mut self) {
        self.terminate();
        if std::thread::panicking() || std::env::var_os("KEEP_TEST_DIRS").is_some() {
            let tail = |text: String, n: usize| {
                let lines: Vec<&str> = text.lines().collect();
                lines[lines.len().saturating_sub(n)..].join("\n")
            };
            let mut report = format!("--- last lines of {} ---\n{}", self.config.log_path().display(), tail(self.log(), 60));
            // A crash (abort, uncaught exception) shows on stderr only.
            let stderr = read_lossy(&self.dir().join("kea.stderr"));
            if !stderr.trim().is_empty() {
                report += &format!("\n--- last lines of kea.stderr ---\n{}", tail(stderr, 20));
            }
            eprintln!("{report}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lease_file_keeps_the_latest_active_row_per_address() {
        let text = "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context
198.18.1.10,00:0c:01:02:03:04,01:00:0c:01:02:03:04,7200,1795380897,1,0,0,,0,
198.18.1.11,00:0c:01:02:03:05,,7200,1795380897,1,0,0,a&#x2cb,0,
198.18.1.10,00:0c:01:02:03:04,01:00:0c:01:02:03:04,3600,1795380999,1,0,0,host,0,{ \"a\": 1&#x2c \"b\": 2 }
198.18.1.12,00:0c:01:02:03:06,,7200,1795380897,1,0,0,,0,
198.18.1.12,00:0c:01:02:03:06,,0,1795380897,1,0,0,,0,
198.18.1.13,00:0c:01:02:03:07,,7200,1795380897,1,0,0,,1,
198.18.1.14,00:0c:01:02:03:08,,72";
        let rows = parse_leases(text);
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0].address, Ipv4Addr::new(198, 18, 1, 11));
        assert_eq!(rows[0].hostname, "a,b");
        assert_eq!(rows[0].client_id, "");
        assert_eq!(
            rows[1],
            LeaseRow {
                address: Ipv4Addr::new(198, 18, 1, 10),
                hwaddr: "00:0c:01:02:03:04".into(),
                client_id: "01:00:0c:01:02:03:04".into(),
                valid_lifetime: 3600,
                expire: 1795380999,
                subnet_id: 1,
                hostname: "host".into(),
                fqdn: (false, false),
                state: 0,
            }
        );
        assert!(parse_leases("").is_empty());
    }

    #[test]
    fn merge_is_deep() {
        let mut a = json!({ "x": { "y": 1, "z": [1] }, "k": "v" });
        merge(&mut a, json!({ "x": { "y": 2, "z": [3, 4], "n": null }, "w": true }));
        assert_eq!(a, json!({ "x": { "y": 2, "z": [3, 4], "n": null }, "k": "v", "w": true }));
    }
}
