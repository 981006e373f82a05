//! HTTP clients of a hook's endpoint inside Kea's network namespace, for
//! liveness tests: a scrape read to its end within a bound, and hostile
//! clients (one that trickles its request, one that says nothing, one
//! that never reads its answer).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use kea_hooks_tests::{in_netns, NetPair};

/// Connects to the endpoint at `listen` in Kea's namespace.
pub fn connect(pair: &NetPair, listen: &str) -> TcpStream {
    let addr: SocketAddr = listen.parse().unwrap();
    in_netns(&pair.server_ns(), move || TcpStream::connect(addr)).expect("connect to the metrics endpoint")
}

/// `GET /metrics` at `listen`, read to its end within `bound`: the status line and the
/// body's length; panics past the bound.
pub fn scrape(pair: &NetPair, listen: &str, bound: Duration) -> (String, usize, Duration) {
    let t0 = Instant::now();
    let mut s = connect(pair, listen);
    s.set_read_timeout(Some(bound)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: kea\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
            Err(e) => panic!("a scrape got {} bytes and then {e} after {:?}", answer.len(), t0.elapsed()),
        }
        assert!(t0.elapsed() < bound, "a scrape took more than {bound:?}");
    }
    let head_end = answer.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP answer");
    let status = String::from_utf8_lossy(&answer[..head_end]).lines().next().unwrap_or("").to_owned();
    (status, answer.len() - head_end - 4, t0.elapsed())
}

/// How a hostile client's connection ended, and after how long.
pub type Cut = JoinHandle<(Duration, String)>;

/// Waits on `s` until the server answers or closes (or `give_up` passes),
/// calling `tick` every `every` meanwhile (false from it: the connection
/// broke on our side).
fn watch(mut s: TcpStream, every: Duration, give_up: Duration, mut tick: impl FnMut(&mut TcpStream) -> bool + Send + 'static) -> Cut {
    std::thread::spawn(move || {
        let t0 = Instant::now();
        s.set_read_timeout(Some(every)).unwrap();
        let mut buf = [0u8; 512];
        loop {
            if t0.elapsed() > give_up {
                return (t0.elapsed(), "still open".into());
            }
            match s.read(&mut buf) {
                Ok(0) => return (t0.elapsed(), "closed".into()),
                Ok(n) => return (t0.elapsed(), String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or("").to_owned()),
                Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                    if !tick(&mut s) {
                        return (t0.elapsed(), "write failed".into());
                    }
                }
                Err(e) => return (t0.elapsed(), format!("{e}")),
            }
        }
    })
}

/// A client that sends its request one byte every 1.5 s (headers that
/// never end) until the server answers or closes.
pub fn trickler(pair: &NetPair, listen: &str, give_up: Duration) -> Cut {
    let mut s = connect(pair, listen);
    s.write_all(b"GET /metrics HTTP/1.1\r\nX-Trickle: ").unwrap();
    watch(s, Duration::from_millis(1500), give_up, |s| s.write_all(b"a").is_ok())
}

/// A client that connects and sends nothing.
pub fn silent(pair: &NetPair, listen: &str, give_up: Duration) -> Cut {
    watch(connect(pair, listen), Duration::from_millis(200), give_up, |_| true)
}

/// A client that asks for the page and never reads it.
pub fn non_reader(pair: &NetPair, listen: &str) -> TcpStream {
    let mut s = connect(pair, listen);
    s.write_all(b"GET /metrics HTTP/1.1\r\n\r\n").unwrap();
    s
}

