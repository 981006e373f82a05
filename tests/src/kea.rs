//! A kea-dhcp4 process: its configuration, start-up, control socket, log
//! and lease file.

use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use std::{fmt, fs};

use serde_json::{json, Value};

use crate::env::{find_program, TestDir};
use crate::netns::NetPair;

/// A kea-dhcp4 configuration for one [`NetPair`], built up by a test.
#[derive(Debug)]
pub struct KeaConfig {
    dir: TestDir,
    interface: String,
    subnet: String,
    pool: String,
    router: Ipv4Addr,
    severity: String,
    debuglevel: u32,
    loggers: Vec<Value>,
    hooks: Vec<Value>,
    multi_threading: bool,
    valid_lifetime: u32,
    cpu: Option<usize>,
    extra: Value,
}

impl KeaConfig {
    /// A configuration serving the pair's subnet on its server interface,
    /// with a fresh directory for the lease file, log and socket.
    pub fn new(pair: &NetPair) -> KeaConfig {
        KeaConfig {
            dir: TestDir::new("kea"),
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
            extra: json!({}),
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

    /// Adds a logger (same output file as the root logger).
    pub fn logger(mut self, name: &str, severity: &str, debuglevel: u32) -> Self {
        self.loggers.push(json!({
            "name": name, "severity": severity, "debuglevel": debuglevel,
            "output_options": [{ "output": self.log_path(), "flush": true }]
        }));
        self
    }

    /// Appends a `hooks-libraries` entry.
    pub fn hook(mut self, library: &Path, parameters: Option<Value>) -> Self {
        let mut entry = json!({ "library": library });
        if let Some(p) = parameters {
            entry["parameters"] = p;
        }
        self.hooks.push(entry);
        self
    }

    /// Replaces the parameters of hook entry `index`.
    pub fn set_hook_parameters(&mut self, index: usize, parameters: Value) {
        self.hooks[index]["parameters"] = parameters;
    }

    /// Turns Kea's multi-threading on (4 threads) or off (2.2's default).
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

    /// Deep-merges `extra` into the `Dhcp4` object.
    pub fn merge(mut self, extra: Value) -> Self {
        merge(&mut self.extra, extra);
        self
    }

    fn log_path(&self) -> PathBuf {
        self.dir().join("kea.log")
    }

    fn socket_path(&self) -> PathBuf {
        self.dir().join("kea4.sock")
    }

    fn config_path(&self) -> PathBuf {
        self.dir().join("kea-dhcp4.conf")
    }

    /// The configuration as Kea reads it (`{"Dhcp4": {...}}`).
    pub fn to_json(&self) -> Value {
        let mut loggers = vec![json!({
            "name": "kea-dhcp4", "severity": self.severity, "debuglevel": self.debuglevel,
            "output_options": [{ "output": self.log_path(), "flush": true }]
        })];
        loggers.extend(self.loggers.iter().cloned());
        let mut dhcp4 = json!({
            "interfaces-config": { "interfaces": [self.interface], "dhcp-socket-type": "raw" },
            "lease-database": { "type": "memfile", "name": self.dir().join("leases4.csv"), "lfc-interval": 0 },
            "control-socket": { "socket-type": "unix", "socket-name": self.socket_path() },
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
        merge(&mut dhcp4, self.extra.clone());
        json!({ "Dhcp4": dhcp4 })
    }

    fn write(&self) {
        let text = serde_json::to_string_pretty(&self.to_json()).unwrap();
        fs::write(self.config_path(), text).expect("write kea config");
    }

    /// Writes the configuration and starts kea-dhcp4 in the pair's server
    /// namespace; returns once its control socket answers, or with Kea's
    /// output if it exits first (or does not answer within 20 s).
    pub fn start(self, pair: &NetPair) -> Result<Kea, StartFailure> {
        self.write();
        let dir = self.dir().to_path_buf();
        let kea_bin = find_program("kea-dhcp4").expect("kea-dhcp4 not installed");
        let hooks_dir = self
            .hooks
            .first()
            .and_then(|h| h["library"].as_str())
            .and_then(|p| Path::new(p).parent())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| dir.clone());
        let mut cmd = match self.cpu {
            None => NetPair::command_in(&pair.server_ns(), kea_bin.to_str().unwrap()),
            Some(cpu) => {
                let mut c = NetPair::command_in(&pair.server_ns(), "taskset");
                c.args(["-c", &cpu.to_string()]).arg(&kea_bin);
                c
            }
        };
        let child = cmd
            .arg("-c")
            .arg(self.config_path())
            // Writable pid and lock dirs; on 2.6+ also the allowed dirs for
            // hooks, data, sockets and logs (2.2 ignores those).
            .env("KEA_PIDFILE_DIR", &dir)
            .env("KEA_LOCKFILE_DIR", &dir)
            .env("KEA_HOOKS_PATH", &hooks_dir)
            .env("KEA_DHCP_DATA_DIR", &dir)
            .env("KEA_CONTROL_SOCKET_DIR", &dir)
            .env("KEA_LOG_FILE_DIR", &dir)
            .env_remove("RUST_BACKTRACE")
            .stdin(Stdio::null())
            .stdout(fs::File::create(dir.join("kea.stdout")).unwrap())
            .stderr(fs::File::create(dir.join("kea.stderr")).unwrap())
            .spawn()
            .expect("spawn kea-dhcp4");
        let mut kea = Kea { child: Some(child), config: self };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = kea.child.as_mut().unwrap().try_wait().unwrap() {
                let log = kea.all_output();
                kea.child = None;
                return Err(StartFailure { status: Some(status), log });
            }
            if kea.config.socket_path().exists() {
                if let Ok(answer) = kea.try_command("list-commands", None) {
                    if answer["result"] == 0 {
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

/// A lease from Kea's memfile.
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
    /// Lease state (0 = default).
    pub state: u32,
}

/// A running kea-dhcp4. Dropping it stops the process (SIGTERM, then
/// SIGKILL after 5 s) and removes its directory.
pub struct Kea {
    child: Option<Child>,
    config: KeaConfig,
}

impl Kea {
    /// Kea's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// The test directory.
    pub fn dir(&self) -> &Path {
        self.config.dir()
    }

    /// The configuration, to change before [`Kea::write_config`].
    pub fn config_mut(&mut self) -> &mut KeaConfig {
        &mut self.config
    }

    /// Rewrites the configuration file (for a later reload or SIGHUP).
    pub fn write_config(&self) {
        self.config.write();
    }

    /// The contents of Kea's log file.
    pub fn log(&self) -> String {
        fs::read_to_string(self.config.log_path()).unwrap_or_default()
    }

    fn all_output(&self) -> String {
        let read = |name: &str| fs::read_to_string(self.dir().join(name)).unwrap_or_default();
        format!("{}\n--- stderr ---\n{}\n--- stdout ---\n{}", self.log(), read("kea.stderr"), read("kea.stdout"))
    }

    /// Waits until the log contains `needle`.
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
        let mut stream = UnixStream::connect(self.config.socket_path())?;
        stream.set_read_timeout(Some(Duration::from_secs(20)))?;
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

    /// Sends a command over the control socket and returns Kea's answer.
    pub fn command(&self, name: &str, arguments: Option<Value>) -> Value {
        let mut last = None;
        for _ in 0..50 {
            match self.try_command(name, arguments.clone()) {
                Ok(v) => return v,
                Err(e) => last = Some(e),
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("command {name}: {:?}", last);
    }

    /// `config-reload`: Kea rereads its configuration file.
    pub fn config_reload(&self) -> Value {
        self.command("config-reload", None)
    }

    fn signal(&self, sig: &str) {
        let status = Command::new("kill").arg(format!("-{sig}")).arg(self.pid().to_string()).status().expect("kill");
        assert!(status.success(), "kill -{sig} {}", self.pid());
    }

    /// Sends SIGHUP (Kea reloads its configuration file).
    pub fn sighup(&self) {
        self.signal("HUP");
    }

    /// Whether the process is still running.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// The active leases in the memfile (latest row per address, state 0,
    /// non-zero lifetime).
    pub fn leases(&self) -> Vec<LeaseRow> {
        let text = fs::read_to_string(self.dir().join("leases4.csv")).unwrap_or_default();
        let mut lines = text.lines();
        let header: Vec<&str> = lines.next().unwrap_or("").split(',').collect();
        let col = |name: &str| header.iter().position(|h| *h == name).unwrap_or_else(|| panic!("no column {name}"));
        let mut rows: Vec<LeaseRow> = Vec::new();
        for line in lines.filter(|l| !l.is_empty()) {
            let f: Vec<&str> = line.split(',').collect();
            let row = LeaseRow {
                address: f[col("address")].parse().expect("lease address"),
                hwaddr: f[col("hwaddr")].to_owned(),
                client_id: f[col("client_id")].to_owned(),
                valid_lifetime: f[col("valid_lifetime")].parse().unwrap_or(0),
                expire: f[col("expire")].parse().unwrap_or(0),
                subnet_id: f[col("subnet_id")].parse().unwrap_or(0),
                hostname: f[col("hostname")].to_owned(),
                state: f[col("state")].parse().unwrap_or(0),
            };
            rows.retain(|r| r.address != row.address);
            rows.push(row);
        }
        rows.retain(|r| r.state == 0 && r.valid_lifetime > 0);
        rows
    }
}

impl Kea {
    /// Stops Kea (SIGTERM; SIGKILL after 5 s) and returns its log, which
    /// then holds what the hooks logged at unload.
    pub fn stop(&mut self) -> String {
        self.terminate();
        self.log()
    }

    fn terminate(&mut self) {
        let Some(mut child) = self.child.take() else { return };
        if let Ok(None) = child.try_wait() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(5);
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
            let log = self.all_output();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(60)..];
            eprintln!("--- last lines of {} ---\n{}", self.config.log_path().display(), tail.join("\n"));
        }
    }
}
