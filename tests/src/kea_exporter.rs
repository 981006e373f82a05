//! The real kea-exporter (<https://github.com/mweinelt/kea-exporter>, from
//! PyPI) reading a running Kea's unix control socket, for comparing a
//! hook's metrics with what the exporter operators run today makes of
//! Kea's own statistics.
//!
//! The exporter is installed once per Python version into a virtual
//! environment under the cargo target directory
//! (`target/kea-exporter/venv-py<X.Y.Z>-<version>`), shared by every test
//! of the run and by later runs; pip uses the machine's own configuration
//! (index, proxy, certificates).
//!
//! **When it reads Kea.** kea-exporter 0.7 (`cli.py`) reads Kea on a
//! scrape, not on a timer: its `--interval` (`-i`, default 0) is the
//! least time between two reads, and each `GET` that comes at least that
//! long after the last read first sends `config-get` and
//! `statistic-get-all` to the socket, then answers. Started here with
//! `-i 0`, every [`KeaExporter::scrape`] shows Kea's statistics as they are
//! when the request arrives; no waiting is needed. (What it cannot show:
//! a statistic Kea dropped keeps its last value, since the exporter only
//! ever sets its gauges.)
//!
//! **Its page** (seen with Kea 2.2, 2.6 and 3.0): every family is a gauge,
//! `_total` names included, values printed as `12.0`; the families of both
//! servers are listed (`kea_dhcp4_*` and `kea_dhcp6_*`, the other's empty),
//! with prometheus_client's `python_*` and `process_*`. Per-subnet samples
//! carry `subnet` (the prefix), `subnet_id` and `pool`: `""` for the
//! subnet's own statistic, Kea's pool text (`198.18.5.10-198.18.5.250`, as
//! `config-get` writes it) for a per-pool one (Kea 2.6+). kea-exporter
//! takes the `N` of Kea's `subnet[I].pool[N]` for an index into the
//! subnet's pools, but Kea numbers them by `pool-id` (0 unless set), so
//! with default ids every pool's statistics, summed by Kea, are labelled
//! with the first pool's text and the other pools get no sample. DHCPv6:
//! `kea_dhcp6_na_assigned_total`, `kea_dhcp6_na_total` (with `pool`),
//! `kea_dhcp6_pd_assigned_total`, `kea_dhcp6_pd_total` (no `pool`), and
//! `kea_dhcp6_packets_received_total{operation="solicit"}` and the like.

use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use kea_hooks_test::{find_program, TestDir};
use kea_hooks_test::prom_text::{parse_samples, Samples};

/// The kea-exporter release the tests install: the newest 0.7 (it
/// declares Python >= 3.8; seen installing on bookworm's 3.11).
pub const KEA_EXPORTER_VERSION: &str = "0.7.1";

/// A kea-exporter process on 127.0.0.1 (a free port, in the test
/// process's own network namespace) reading one Kea's unix control socket;
/// killed when dropped (after printing the tail of its output if the
/// thread is panicking).
pub struct KeaExporter {
    child: Child,
    port: u16,
    socket: PathBuf,
    dir: TestDir,
}

impl KeaExporter {
    /// True when kea-exporter can be installed here (`python3` and `curl`
    /// are present); otherwise, as [`require_root_and_kea`](crate::require_root_and_kea):
    /// with `CI` set it panics, else it prints why the test is skipped and
    /// returns false. A `python3` without `venv` (Debian's python3-venv) or
    /// a failing `pip install` is not a reason to skip: [`KeaExporter::start`]
    /// panics then, saying so.
    pub fn available() -> bool {
        kea_hooks_test::require_programs("kea-exporter", &[("python3", "`python3` (packages python3, python3-venv)"), ("curl", "`curl` (package curl)")])
    }

    /// Starts `kea-exporter -a 127.0.0.1 -p PORT -i 0 SOCKET` (installing it
    /// first if this run has not: see [`kea_exporter_venv`]) and returns
    /// once it listens. Panics if the socket does not exist, or if the
    /// exporter exits or does not listen within 30 s (with its output).
    pub fn start(socket: &Path) -> KeaExporter {
        assert!(socket.exists(), "no Kea control socket at {}", socket.display());
        let program = kea_exporter_venv().join("bin/kea-exporter");
        let dir = TestDir::new();
        let log_path = dir.path().join("kea-exporter.log");
        let read_log = || String::from_utf8_lossy(&std::fs::read(&log_path).unwrap_or_default()).into_owned();
        // The port is free when chosen; should another process take it
        // before the exporter binds it, try another.
        for attempt in 1..=5 {
            let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port on 127.0.0.1").port();
            let log = File::create(&log_path).unwrap_or_else(|e| panic!("create {}: {e}", log_path.display()));
            let mut child = Command::new(&program)
                .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-i", "0"])
                .arg(socket)
                // Its options also come from these variables: none may
                // leak in from the test's environment.
                .env_remove("ADDRESS")
                .env_remove("PORT")
                .env_remove("INTERVAL")
                .env_remove("TARGETS")
                .env_remove("CLIENT_CERT")
                .env_remove("CLIENT_KEY")
                .env("PYTHONUNBUFFERED", "1")
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", program.display()));
            let listening = format!("Listening on http://127.0.0.1:{port}");
            let deadline = Instant::now() + Duration::from_secs(30);
            let failure = loop {
                if read_log().contains(&listening) {
                    return KeaExporter { child, port, socket: socket.to_path_buf(), dir };
                }
                if let Some(status) = child.try_wait().unwrap() {
                    break format!("kea-exporter exited ({status}) before listening");
                }
                if Instant::now() > deadline {
                    break format!("kea-exporter did not listen on 127.0.0.1:{port} within 30 s");
                }
                std::thread::sleep(Duration::from_millis(20));
            };
            // Child::kill: SIGKILL to our own child, by its pid.
            let _ = child.kill();
            let _ = child.wait();
            let log = read_log();
            if !(log.contains("Address already in use") && attempt < 5) {
                panic!("{failure}:\n{log}");
            }
        }
        unreachable!("the last attempt panics")
    }

    /// Its page's address, `http://127.0.0.1:PORT/metrics` (it answers
    /// the same page on any path).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/metrics", self.port)
    }

    /// The Kea control socket it reads.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// `GET /metrics`: the page, made from Kea's statistics as they are
    /// now (each scrape reads Kea: see the module's documentation).
    /// Panics (with the exporter's output) on an error answer, which is
    /// what the exporter gives when it cannot read Kea.
    pub fn scrape(&self) -> String {
        kea_hooks_test::curl_get(None, &self.url(), &[], Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("scraping kea-exporter: {e}\n--- kea-exporter's output ---\n{}", self.log()))
    }

    /// A [`scrape`](KeaExporter::scrape), parsed with
    /// [`parse_samples`](kea_hooks_test::prom_text::parse_samples).
    pub fn samples(&self) -> Samples {
        let page = self.scrape();
        parse_samples(&page).unwrap_or_else(|e| panic!("kea-exporter's page does not parse: {e}\n{page}"))
    }

    /// What it printed so far (stdout and stderr: "Listening on ...",
    /// "Unhandled metric ..." for each Kea statistic it has no mapping for,
    /// Python tracebacks).
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.dir.path().join("kea-exporter.log")).unwrap_or_default()).into_owned()
    }
}

impl Drop for KeaExporter {
    fn drop(&mut self) {
        // Child::kill: SIGKILL to our own child, by its pid.
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            eprintln!("--- last lines of kea-exporter's output ---\n{}", lines[lines.len().saturating_sub(30)..].join("\n"));
        }
    }
}

/// The virtual environment holding kea-exporter [`KEA_EXPORTER_VERSION`]
/// for this machine's `python3`: `<target>/kea-exporter/venv-py<X.Y.Z>-<version>`,
/// made once (`python3 -m venv`, then `pip install kea-exporter==<version>`
/// with pip's own configuration) and reused by later tests and runs. Test
/// processes making it at the same time wait for each other (an exclusive
/// `flock` on a lock file beside it); a venv left unfinished by a killed
/// process (no `.complete` file, which holds `pip freeze`) is made again.
/// Panics, with the tool's output, if either step fails.
pub fn kea_exporter_venv() -> PathBuf {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(make_venv).clone()
}

fn make_venv() -> PathBuf {
    let python = find_program("python3").expect("`python3` not found: install the Debian packages python3 and python3-venv");
    let out = Command::new(&python)
        .args(["-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"])
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
    assert!(out.status.success(), "{} -c ... failed: {}", python.display(), String::from_utf8_lossy(&out.stderr));
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let cache = kea_hooks_test::target_dir().join("kea-exporter");
    std::fs::create_dir_all(&cache).unwrap_or_else(|e| panic!("create {}: {e}", cache.display()));
    let name = format!("venv-py{version}-{KEA_EXPORTER_VERSION}");
    let dir = cache.join(&name);
    let lock_path = cache.join(format!("{name}.lock"));
    let lock = File::create(&lock_path).unwrap_or_else(|e| panic!("create {}: {e}", lock_path.display()));
    // SAFETY: flock(2) on a descriptor `lock` owns; closing it (dropping
    // `lock` at the end of this function) releases the lock.
    let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
    assert_eq!(rc, 0, "flock {}: {}", lock_path.display(), std::io::Error::last_os_error());
    let complete = dir.join(".complete");
    if complete.exists() {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    let t0 = Instant::now();
    let run = |what: &str, cmd: &mut Command| {
        let out = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(
            out.status.success(),
            "{what} failed ({}), so kea-exporter cannot be installed:\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(
        &format!("`{} -m venv {}` (install the Debian package python3-venv)", python.display(), dir.display()),
        Command::new(&python).args(["-m", "venv"]).arg(&dir),
    );
    let venv_python = dir.join("bin/python");
    let spec = format!("kea-exporter=={KEA_EXPORTER_VERSION}");
    run(
        &format!("`pip install {spec}` in {}", dir.display()),
        Command::new(&venv_python).args(["-m", "pip", "install", "--no-input", "--disable-pip-version-check", &spec]),
    );
    let freeze = run("pip freeze", Command::new(&venv_python).args(["-m", "pip", "freeze", "--disable-pip-version-check"]));
    std::fs::write(&complete, &freeze).unwrap_or_else(|e| panic!("write {}: {e}", complete.display()));
    eprintln!(
        "installed kea-exporter {KEA_EXPORTER_VERSION} for Python {version} in {} ({:.1} s): {}",
        dir.display(),
        t0.elapsed().as_secs_f64(),
        freeze.split_whitespace().collect::<Vec<_>>().join(" ")
    );
    dir
}
