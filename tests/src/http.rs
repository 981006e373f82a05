//! A small HTTP endpoint inside a test's network namespace, for hooks that
//! call out over HTTP: it records every request body (JSON) and answers as
//! the test says.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::netns::in_netns;

/// How the endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpAnswer {
    /// 200 at once.
    Ok,
    /// This status at once.
    Status(u16),
    /// 200 once [`Endpoint::release`] is called (or the endpoint dropped).
    Hold,
    /// Nothing: the connection stays open, unanswered, until the client
    /// closes it.
    Never,
}

struct State {
    answer: HttpAnswer,
    received: Vec<Value>,
    /// Bumped by `release`: held requests see it change.
    releases: u64,
    stopping: bool,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

/// An HTTP endpoint on 127.0.0.1 in a network namespace; stopped when
/// dropped.
pub struct Endpoint {
    addr: SocketAddr,
    ns: String,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Endpoint {
    /// Listens on 127.0.0.1 (a free port) in namespace `ns`, answering
    /// [`HttpAnswer::Ok`] until told otherwise.
    pub fn start(ns: &str) -> Endpoint {
        let listener = in_netns(ns, || TcpListener::bind("127.0.0.1:0").expect("bind the endpoint"));
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            state: Mutex::new(State { answer: HttpAnswer::Ok, received: Vec::new(), releases: 0, stopping: false }),
            changed: Condvar::new(),
        });
        let s = Arc::clone(&shared);
        let acceptor = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.state.lock().unwrap().stopping {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s = Arc::clone(&s);
                std::thread::spawn(move || serve(conn, &s));
            }
        });
        Endpoint { addr, ns: ns.to_owned(), shared, acceptor: Some(acceptor) }
    }

    /// `http://127.0.0.1:PORT/leases`.
    pub fn url(&self) -> String {
        format!("http://{}/leases", self.addr)
    }

    /// Sets how the next requests are answered.
    pub fn answer(&self, answer: HttpAnswer) {
        self.shared.state.lock().unwrap().answer = answer;
    }

    /// Answers the requests held so far ([`HttpAnswer::Hold`]) with 200.
    pub fn release(&self) {
        self.shared.state.lock().unwrap().releases += 1;
        self.shared.changed.notify_all();
    }

    /// The request bodies received so far.
    pub fn received(&self) -> Vec<Value> {
        self.shared.state.lock().unwrap().received.clone()
    }

    /// Waits until `n` requests have arrived (panics after `timeout`) and
    /// returns their bodies.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.state.lock().unwrap();
        while state.received.len() < n {
            let now = Instant::now();
            assert!(now < deadline, "the endpoint got {} requests, not {n}", state.received.len());
            state = self.shared.changed.wait_timeout(state, deadline - now).unwrap().0;
        }
        state.received.clone()
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        {
            let mut state = self.shared.state.lock().unwrap();
            state.stopping = true;
            state.releases += 1;
        }
        self.shared.changed.notify_all();
        // Wake the acceptor.
        let addr = self.addr;
        let _ = in_netns(&self.ns, move || TcpStream::connect(addr));
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
    }
}

/// Reads one request, records its body, answers.
fn serve(mut conn: TcpStream, shared: &Shared) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let (head_len, length) = loop {
        let n = match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        data.extend_from_slice(&buf[..n]);
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..i]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)))
                .unwrap_or(0);
            break (i + 4, length);
        }
    };
    while data.len() < head_len + length {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    let body: Value = serde_json::from_slice(&data[head_len..head_len + length]).unwrap_or(Value::Null);
    let answer = {
        let mut state = shared.state.lock().unwrap();
        state.received.push(body);
        state.answer
    };
    shared.changed.notify_all();
    let status = match answer {
        HttpAnswer::Ok => 200,
        HttpAnswer::Status(code) => code,
        HttpAnswer::Hold => {
            let mut state = shared.state.lock().unwrap();
            let seen = state.releases;
            while state.releases == seen {
                state = shared.changed.wait(state).unwrap();
            }
            200
        }
        HttpAnswer::Never => {
            // Until the client gives up and closes.
            let _ = conn.read(&mut buf);
            return;
        }
    };
    let _ = conn.write_all(format!("HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes());
}
