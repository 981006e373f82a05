//! A real Prometheus server (Debian's `prometheus`) scraping a test's
//! metrics endpoints, to show that what a hook serves is what Prometheus
//! itself accepts and stores.

use std::collections::BTreeMap;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

use crate::env::{program, TestDir};
use crate::http::curl_get;
use crate::netns::{in_netns, NetPair};
use crate::prom_text::Labels;

/// The job name of every target, as in `up{job="kea"}`.
pub const PROMETHEUS_JOB: &str = "kea";

/// A Prometheus server on 127.0.0.1 (a free port) in a network namespace
/// (or the test process's own), scraping its targets' `/metrics` every
/// second (`scrape_interval` and `scrape_timeout` 1 s, job `kea`), storing
/// into its own [`TestDir`]; it reaches nothing but its targets. Killed
/// when dropped, after printing its targets' state and the tail of its
/// log if the thread is panicking.
pub struct Prometheus {
    child: Child,
    port: u16,
    ns: Option<String>,
    targets: Vec<String>,
    dir: TestDir,
}

impl Prometheus {
    /// True when Prometheus can run here (`prometheus` and `curl` are
    /// installed); otherwise, as [`require_root_and_kea`](crate::require_root_and_kea):
    /// with `CI` set it panics, else it prints why the test is skipped
    /// and returns false.
    pub fn available() -> bool {
        crate::env::require_programs("Prometheus", &[("prometheus", "`prometheus` (package prometheus)"), ("curl", "`curl` (package curl)")])
    }

    /// Writes `prometheus.yml` for `targets` (`host:port`, each scraped at
    /// `http://host:port/metrics`) and starts Prometheus in namespace `ns`
    /// (`ip netns exec`; `None`: this process's namespace) with
    /// `--config.file`, `--storage.tsdb.path` in a fresh [`TestDir`] and
    /// `--web.listen-address 127.0.0.1:PORT`; returns once `/-/ready`
    /// answers 200. Panics (with its log) if it exits or is not ready
    /// within 60 s.
    pub fn start(targets: &[String], ns: Option<&str>) -> Prometheus {
        let binary = program("prometheus", "prometheus");
        let dir = TestDir::new();
        let config = dir.path().join("prometheus.yml");
        let quoted: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: {PROMETHEUS_JOB}\n    static_configs:\n      - targets: [{}]\n",
                quoted.join(", ")
            ),
        )
        .unwrap_or_else(|e| panic!("write {}: {e}", config.display()));
        let log_path = dir.path().join("prometheus.log");
        let read_log = || String::from_utf8_lossy(&std::fs::read(&log_path).unwrap_or_default()).into_owned();
        for attempt in 1..=5 {
            // Free when chosen, in the namespace Prometheus runs in; if
            // another process takes it first, Prometheus exits and another
            // is tried.
            let free_port = || std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port on 127.0.0.1").port();
            let port = match ns {
                Some(ns) => in_netns(ns, free_port),
                None => free_port(),
            };
            let mut cmd = match ns {
                Some(ns) => NetPair::command_in(ns, binary.to_str().unwrap()),
                None => std::process::Command::new(&binary),
            };
            let log = std::fs::File::create(&log_path).unwrap_or_else(|e| panic!("create {}: {e}", log_path.display()));
            let mut child = cmd
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", binary.display()));
            let url = format!("http://127.0.0.1:{port}/-/ready");
            let deadline = Instant::now() + Duration::from_secs(60);
            let failure = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break format!("Prometheus exited ({status}) before it was ready");
                }
                if curl_get(ns, &url, &[], Duration::from_secs(5)).is_ok() {
                    let targets = targets.to_vec();
                    return Prometheus { child, port, ns: ns.map(str::to_owned), targets, dir };
                }
                if Instant::now() > deadline {
                    break format!("Prometheus was not ready at {url} within 60 s");
                }
                std::thread::sleep(Duration::from_millis(50));
            };
            // Child::kill: SIGKILL to our own child, by its pid (`ip netns
            // exec` execs Prometheus in its place).
            let _ = child.kill();
            let _ = child.wait();
            let log = read_log();
            if !(log.contains("address already in use") && attempt < 5) {
                panic!("{failure}:\n{log}");
            }
        }
        unreachable!("the last attempt panics")
    }

    /// Its address, `http://127.0.0.1:PORT` (inside its namespace).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `GET path` of its HTTP API with `query`'s pairs: the JSON answer,
    /// checked to say `"status": "success"`; panics otherwise.
    fn api(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let url = format!("{}{path}", self.url());
        let body = curl_get(self.ns.as_deref(), &url, query, Duration::from_secs(20)).unwrap_or_else(|e| panic!("Prometheus: {e}"));
        let answer: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("Prometheus {path}: {e}: {body}"));
        assert_eq!(answer["status"], "success", "Prometheus {path} {query:?}: {answer}");
        answer
    }

    /// The instant query `promql` (`/api/v1/query`, evaluated now): the
    /// whole answer, `{"status": "success", "data": {"resultType": ...,
    /// "result": ...}}`. Panics on an error answer (a bad query).
    pub fn query(&self, promql: &str) -> Value {
        self.api("/api/v1/query", &[("query", promql)])
    }

    /// The instant query `promql`, whose result must be a vector: each
    /// series' value by its labels (`__name__` included when the result
    /// keeps it). `"NaN"`, `"+Inf"` and `"-Inf"` become those floats.
    pub fn vector(&self, promql: &str) -> BTreeMap<Labels, f64> {
        let answer = self.query(promql);
        assert_eq!(answer["data"]["resultType"], "vector", "{promql}: {answer}");
        answer["data"]["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|series| {
                let labels: Labels = serde_json::from_value(series["metric"].clone()).unwrap();
                let text = series["value"][1].as_str().unwrap_or_else(|| panic!("{promql}: {series}"));
                let value = match text {
                    "NaN" => f64::NAN,
                    "+Inf" => f64::INFINITY,
                    "-Inf" => f64::NEG_INFINITY,
                    v => v.parse().unwrap_or_else(|_| panic!("{promql}: value {v:?}")),
                };
                (labels, value)
            })
            .collect()
    }

    /// `/api/v1/targets`: each target's `health`, `lastError`,
    /// `lastScrape`, ... (what to print when a scrape fails).
    pub fn targets(&self) -> Value {
        self.api("/api/v1/targets", &[])
    }

    /// Waits until every target has been scraped successfully by a scrape
    /// that began after this call (the first scrape comes about 5 s after
    /// [`Prometheus::start`]: Prometheus hands discovered targets to its
    /// scrapers at most every 5 s, so give at least 10 s): `up{job="kea"}` is 1 and
    /// `timestamp(up{job="kea"})` (the scrape's start) is not before the
    /// call, for each target's `instance`. The samples of that scrape are
    /// stored by then (Prometheus writes `up` with them, after them), so
    /// queries made afterwards see a page served after the call. Polls
    /// every 100 ms; panics after `timeout` with the targets' state
    /// (`lastError`).
    pub fn wait_for_scrape(&self, timeout: Duration) {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64();
        let deadline = Instant::now() + timeout;
        let job = format!("{{job=\"{PROMETHEUS_JOB}\"}}");
        loop {
            let up = self.vector(&format!("up{job}"));
            let at = self.vector(&format!("timestamp(up{job})"));
            let instance = |m: &BTreeMap<Labels, f64>, t: &str| m.iter().find(|(l, _)| l.get("instance").map(String::as_str) == Some(t)).map(|(_, v)| *v);
            // Prometheus stores scrape times in milliseconds.
            let fresh = |t: &str| instance(&up, t) == Some(1.0) && instance(&at, t).is_some_and(|s| s >= (since * 1000.0).floor() / 1000.0);
            if self.targets.iter().all(|t| fresh(t)) {
                return;
            }
            if Instant::now() > deadline {
                let state: Vec<Value> = self.targets()["data"]["activeTargets"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| json!({ "scrapeUrl": t["scrapeUrl"], "health": t["health"], "lastError": t["lastError"], "lastScrape": t["lastScrape"] }))
                    .collect();
                panic!(
                    "Prometheus did not scrape every target ({:?}) within {timeout:?}: up {up:?}, at {at:?} (waiting since {since:.3})\ntargets: {}",
                    self.targets,
                    Value::from(state)
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Its log so far (stdout and stderr).
    pub fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(self.dir.path().join("prometheus.log")).unwrap_or_default()).into_owned()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let targets = curl_get(self.ns.as_deref(), &format!("{}/api/v1/targets", self.url()), &[], Duration::from_secs(5));
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            eprintln!(
                "--- Prometheus's targets ---\n{}\n--- last lines of Prometheus's log ---\n{}",
                targets.unwrap_or_else(|e| e),
                lines[lines.len().saturating_sub(30)..].join("\n")
            );
        }
        // Child::kill: SIGKILL to our own child, by its pid.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
