//! What a connection may hold of a real `ecpa serve` process: silent sockets are closed after
//! the idle timeout, one address cannot open more than its cap, plaintext HTTP/2 is not spoken,
//! and through all of it the service keeps answering others.
#![cfg(feature = "http")]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use support::serve::ServeProcess;

/// Idle timeout and per-address cap of the service under test.
const IDLE_MS: u64 = 600;
const CAP: usize = 120;

fn serve(dir: &Path) -> ServeProcess {
    let config = dir.join("ecpa.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\nlisten = \"127.0.0.1:0\"\nworker_threads = 2\nidle_timeout_ms = {IDLE_MS}\n\
             max_connections_per_address = {CAP}\n\
             [database]\nurl = \"sqlite:{db}\"\n[mail]\nkind = \"file\"\ndir = \"{mail}\"\n",
            db = dir.join("ecpa.db").display(),
            mail = dir.join("mail").display(),
        ),
    )
    .expect("config");
    ServeProcess::start(&config, &dir.join("serve.log"), &[])
}

fn addr(serve: &ServeProcess) -> String {
    serve.url.trim_start_matches("http://").trim_end_matches('/').to_owned()
}

/// Whether the server has closed this socket: a read gives end of file or an error (reset)
/// rather than timing out.
fn closed_by_server(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_millis(200))).expect("timeout");
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut),
    }
}

/// One plain request on a fresh connection: the status line.
fn ping(addr: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    s.write_all(format!("GET /api/v1/ping HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())
        .expect("sends");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn silent_sockets_are_closed_and_others_still_get_in() {
    let dir = tempfile::tempdir().expect("tempdir");
    let serve = serve(dir.path());
    let addr = addr(&serve);
    // Sockets that connect and never say a word (as many as the cap allows), and one that
    // sends half a request and stops.
    let mut silent: Vec<TcpStream> = (0..CAP - 1)
        .map(|_| TcpStream::connect(&addr).expect("connects"))
        .collect();
    let mut half = TcpStream::connect(&addr).expect("connects");
    half.write_all(b"GET /api/v1/ping HTTP/1.1\r\nHo").expect("sends");
    let opened = Instant::now();
    // While they are open, the cap is reached: this address gets no more connections...
    std::thread::sleep(Duration::from_millis(100));
    let mut over = TcpStream::connect(&addr).expect("the kernel accepts");
    assert!(closed_by_server(&mut over), "a connection over the cap was kept");
    // ...and after the idle time every one of them is closed.
    std::thread::sleep(Duration::from_millis(IDLE_MS + 400).saturating_sub(opened.elapsed()));
    let still_open = silent.iter_mut().map(closed_by_server).filter(|closed| !closed).count();
    assert_eq!(still_open, 0, "silent sockets still open after the idle timeout");
    assert!(closed_by_server(&mut half), "the half request was kept");
    // Their places are free again.
    assert_eq!(ping(&addr), "HTTP/1.1 200 OK");
}

#[test]
fn a_connection_in_use_is_not_idle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let serve = serve(dir.path());
    let addr = addr(&serve);
    let mut s = TcpStream::connect(&addr).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    // Requests on one keep-alive connection, each well inside the idle time, for longer than it.
    let started = Instant::now();
    while started.elapsed() < Duration::from_millis(IDLE_MS * 3) {
        s.write_all(format!("GET /api/v1/ping HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
            .expect("the connection is still open");
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).expect("an answer");
        assert!(
            buf[..n].starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&buf[..n])
        );
        std::thread::sleep(Duration::from_millis(IDLE_MS / 4));
    }
}

#[test]
fn plaintext_http2_is_not_spoken() {
    let dir = tempfile::tempdir().expect("tempdir");
    let serve = serve(dir.path());
    let addr = addr(&serve);
    let mut s = TcpStream::connect(&addr).expect("connects");
    s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    // The HTTP/2 connection preface, then an empty SETTINGS frame.
    s.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .expect("sends");
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    // An HTTP/2 server answers with its own SETTINGS frame (type 4); this one answers HTTP/1
    // (a 400) or closes.
    assert!(
        out.is_empty() || out.starts_with(b"HTTP/1.1 4"),
        "answered: {:?}",
        String::from_utf8_lossy(&out)
    );
    assert_eq!(ping(&addr), "HTTP/1.1 200 OK");
}
