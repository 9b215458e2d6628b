//! PostgreSQL for the tests: a fresh database per fixture on the server `scripts/test` started
//! (`ECPA_TEST_PG`), and, for tests that must stop and start a server, one of their own
//! (`initdb` into a temp dir, `pg_ctl start`, stopped by PID).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The URL of the test server, if the tests run on PostgreSQL.
pub fn server_url() -> Option<String> {
    std::env::var("ECPA_TEST_PG").ok().filter(|u| !u.is_empty())
}

/// `url` with its database name replaced by `dbname` (query options kept).
pub fn with_dbname(url: &str, dbname: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let host_start = base.find("://").map_or(0, |i| i + 3);
    let path_at = base[host_start..].find('/').map_or(base.len(), |i| host_start + i);
    let mut out = format!("{}/{dbname}", &base[..path_at]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// A database of its own for one test, created on the test server and dropped at the end.
pub struct TestDatabase {
    /// Its URL.
    pub url: String,
    admin_url: String,
    name: String,
}

impl TestDatabase {
    /// A fresh database when `ECPA_TEST_PG` is set, else `None` (the tests run on SQLite).
    pub fn from_env() -> Option<TestDatabase> {
        server_url().map(|u| TestDatabase::create(&u))
    }

    /// A fresh database on the server at `admin_url`.
    pub fn create(admin_url: &str) -> TestDatabase {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "ecpa_t{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            time::OffsetDateTime::now_utc().unix_timestamp_nanos() % 1_000_000
        );
        let mut admin = postgres::Client::connect(admin_url, postgres::NoTls).expect("test server reachable");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create test database");
        TestDatabase {
            url: with_dbname(admin_url, &name),
            admin_url: admin_url.to_owned(),
            name,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Ok(mut admin) = postgres::Client::connect(&self.admin_url, postgres::NoTls) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
        }
    }
}

/// The folder of the PostgreSQL programs: `ECPA_TEST_PG_BIN`, else Debian's newest.
pub fn bin_dir() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("ECPA_TEST_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("pg_ctl").exists())
        .collect();
    found.sort();
    found.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A PostgreSQL server of the test's own, on a free loopback port.
pub struct PgServer {
    dir: tempfile::TempDir,
    bin: PathBuf,
    user: Option<String>,
    port: u16,
    pid: Option<u32>,
    /// Server options beside the port, socket and address (e.g. `-c ssl=on`).
    extra: String,
}

impl PgServer {
    /// Starts one, or `None` (with a message) where PostgreSQL is not installed.
    pub fn start() -> Option<PgServer> {
        PgServer::start_with(|_| String::new())
    }

    /// Starts one whose data folder `configure` prepares after `initdb` (certificates,
    /// `pg_hba.conf`); it returns more server options (`-c ssl=on …`). What it writes there is
    /// handed to the server's user, who must own its key file.
    pub fn start_with(configure: impl FnOnce(&Path) -> String) -> Option<PgServer> {
        let Some(bin) = bin_dir() else {
            eprintln!("SKIPPED: PostgreSQL is not installed (scripts/test installs it)");
            return None;
        };
        let user = if is_root() {
            // PostgreSQL refuses to run as root: the user scripts/test creates.
            let user = std::env::var("ECPA_TEST_PG_USER").unwrap_or_else(|_| "ecpa-pg".into());
            let exists = Command::new("id").arg(&user).output().is_ok_and(|o| o.status.success());
            if !exists {
                eprintln!("SKIPPED: running as root and the user {user} does not exist (scripts/test creates it)");
                return None;
            }
            Some(user)
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("ecpa-pg-own")
            .tempdir()
            .expect("tempdir");
        if let Some(u) = &user {
            let ok = Command::new("chown")
                .arg(u)
                .arg(dir.path())
                .status()
                .expect("chown runs");
            assert!(ok.success(), "chown {u}");
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut server = PgServer {
            dir,
            bin,
            user,
            port,
            pid: None,
            extra: String::new(),
        };
        let data = server.data();
        server.run(
            "initdb",
            &[
                "-D",
                path(&data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
        );
        server.extra = configure(&data);
        if let Some(u) = &server.user {
            let ok = Command::new("chown")
                .arg("-R")
                .arg(u)
                .arg(&data)
                .status()
                .expect("chown runs");
            assert!(ok.success(), "chown -R {u}");
        }
        server.start_again();
        Some(server)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, program: &str, args: &[&str]) {
        let exe = self.bin.join(program);
        let mut cmd = match &self.user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(u).arg("--").arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let out = cmd.args(args).output().expect("PostgreSQL program runs");
        assert!(
            out.status.success(),
            "{program} {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Starts the (stopped) server again on the same port and data.
    pub fn start_again(&mut self) {
        let data = self.data();
        let log = self.dir.path().join("log");
        let sock = self.dir.path().to_path_buf();
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off {}",
            self.port,
            sock.display(),
            self.extra
        );
        self.run(
            "pg_ctl",
            &["-D", path(&data), "-l", path(&log), "-w", "-o", &opts, "start"],
        );
        let pid = std::fs::read_to_string(data.join("postmaster.pid")).expect("postmaster.pid");
        self.pid = Some(pid.lines().next().and_then(|l| l.trim().parse().ok()).expect("pid"));
    }

    /// Stops the server (fast shutdown: sessions are cut, open transactions rolled back),
    /// by its PID, and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(pid) = self.pid.take() {
            let _ = Command::new("kill").arg("-INT").arg(pid.to_string()).status();
            let gone = |pid: u32| !Path::new(&format!("/proc/{pid}")).exists();
            for _ in 0..600 {
                if gone(pid) {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            assert!(gone(pid), "PostgreSQL {pid} did not stop");
        }
    }

    /// The admin URL (database `postgres`).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// A `key=value` connection string over its Unix socket (which `pg_hba.conf`'s `local`
    /// lines govern), for setting up what TCP connections may not.
    pub fn socket_url(&self) -> String {
        format!(
            "host={} port={} user=postgres dbname=postgres",
            self.dir.path().display(),
            self.port
        )
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("temp paths are UTF-8")
}
