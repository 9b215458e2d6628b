//! `ecpa serve` as a real child process (the binary the tests built), and a small loopback HTTP
//! server that hands out one file (a CRL distribution point) and can be stopped and started again
//! on the same port.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running `ecpa serve --config FILE --json`, its standard error in a file; killed (and
/// waited for) on drop, so a failing test leaves no server behind.
pub struct ServeProcess {
    child: Child,
    /// The base URL it printed.
    pub url: String,
    /// Where its log lines (standard error) go.
    pub log: PathBuf,
}

impl ServeProcess {
    /// Starts `ecpa serve` with `config` (and `env` over it); returns once it is listening.
    pub fn start(config: &Path, log: &Path, env: &[(&str, &str)]) -> ServeProcess {
        let stderr = std::fs::File::create(log).expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ecpa"));
        cmd.args(["serve", "--json", "--config"])
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr);
        // The test's own ECPA_* settings would leak into the child's configuration.
        for (k, _) in std::env::vars() {
            if k.starts_with("ECPA_") && k != "ECPA_VECTORS" {
                cmd.env_remove(k);
            }
        }
        cmd.envs(env.iter().copied());
        let mut child = cmd.spawn().expect("ecpa serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let mut this = ServeProcess {
            child,
            url: String::new(),
            log: log.to_owned(),
        };
        let listening = read
            .ok()
            .and_then(|_| serde_json::from_str::<serde_json::Value>(&line).ok())
            .and_then(|v| v["listening"].as_str().map(str::to_owned));
        match listening {
            Some(url) => this.url = url,
            None => panic!(
                "ecpa serve did not start: stdout {line:?}, log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            ),
        }
        this
    }

    /// Its log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback HTTP server answering every GET with one body (settable), until stopped.
pub struct FileServer {
    addr: SocketAddr,
    body: Arc<Mutex<Vec<u8>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Requests answered.
    pub hits: Arc<std::sync::atomic::AtomicUsize>,
}

impl FileServer {
    /// Serves `body` on a free loopback port.
    pub fn start(body: Vec<u8>) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let mut s = FileServer {
            addr: listener.local_addr().expect("addr"),
            body: Arc::new(Mutex::new(body)),
            stop: Arc::new(AtomicBool::new(false)),
            thread: None,
            hits: Arc::default(),
        };
        s.run(listener);
        s
    }

    fn run(&mut self, listener: TcpListener) {
        listener.set_nonblocking(true).expect("nonblocking");
        let (body, stop, hits) = (self.body.clone(), self.stop.clone(), self.hits.clone());
        self.thread = Some(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut conn, _)) => {
                        let _ = conn.set_nonblocking(false);
                        let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
                        let mut request = Vec::new();
                        let mut buf = [0u8; 1024];
                        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                            match conn.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => request.extend_from_slice(&buf[..n]),
                            }
                        }
                        let body = body.lock().expect("body").clone();
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = conn.write_all(head.as_bytes());
                        let _ = conn.write_all(&body);
                        hits.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        }));
    }

    /// The URL of the file.
    pub fn url(&self, name: &str) -> String {
        format!("http://{}/{name}", self.addr)
    }

    /// What it serves from now on.
    pub fn set_body(&self, body: Vec<u8>) {
        *self.body.lock().expect("body") = body;
    }

    /// Stops listening: the port refuses connections until [`FileServer::restart`].
    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    /// Listens again on the same port.
    pub fn restart(&mut self) {
        self.stop = Arc::new(AtomicBool::new(false));
        let listener = TcpListener::bind(self.addr).expect("rebind the same port");
        self.run(listener);
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Polls `f` every 100 ms until it gives `Some`, for at most `limit`.
pub fn wait_for<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let until = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > until {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
