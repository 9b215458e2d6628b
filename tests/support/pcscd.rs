//! A private pcscd for the card tests: its own socket, its own vpcd ports, started and stopped
//! by the test that uses it.
//!
//! pcscd's socket path (`/run/pcscd/pcscd.comm`) is compiled in, and only one pcscd may run per
//! socket. So that the card tests never fight over the daemon with a pcscd the test script (or
//! another test binary, or the person's desktop) runs, this one runs in a private mount
//! namespace (`unshare --mount`) where a temporary directory is bound over `/run/pcscd`. Its
//! socket is then `<dir>/run/pcscd.comm` for everyone else, and the client library reaches it
//! through `PCSCLITE_CSOCK_NAME`, which must be set before the test process starts (the outer
//! test re-runs the binary with it). Its vpcd readers listen on two free ports chosen here
//! (`reader.conf.d` `CHANNELID`), not on the default 35963/35964.
//!
//! Owner of the daemon: the process that calls [`PrivatePcscd::start`]; it stops it by PID
//! ([`PrivatePcscd::stop`], and on drop) and waits for it before starting another.
#![allow(dead_code)]

use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The friendly name of the private readers: they are `ECPA Test PCD 00 00` and `… 00 01`.
pub const FRIENDLY_NAME: &str = "ECPA Test PCD";

/// Where a private pcscd lives: its directory, socket and ports.
#[derive(Debug, Clone)]
pub struct PcscdDir {
    /// The directory (holds `run/` and `conf/`).
    pub dir: PathBuf,
    /// The first vpcd port; the second reader is on the next one.
    pub port: u16,
}

impl PcscdDir {
    /// Makes the directory and the reader configuration, with two free consecutive ports.
    pub fn create(dir: &Path) -> io::Result<PcscdDir> {
        std::fs::create_dir_all(dir.join("run"))?;
        std::fs::create_dir_all(dir.join("conf"))?;
        let port = free_port_pair()?;
        std::fs::write(
            dir.join("conf").join("vpcd"),
            format!(
                "FRIENDLYNAME \"{FRIENDLY_NAME}\"\nDEVICENAME   /dev/null:0x{port:X}\n\
                 LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID    0x{port:X}\n"
            ),
        )?;
        Ok(PcscdDir {
            dir: dir.to_owned(),
            port,
        })
    }

    /// The daemon's socket, for `PCSCLITE_CSOCK_NAME`.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("run").join("pcscd.comm")
    }

    /// The two reader names.
    pub fn readers(&self) -> [String; 2] {
        [format!("{FRIENDLY_NAME} 00 00"), format!("{FRIENDLY_NAME} 00 01")]
    }
}

fn free_port_pair() -> io::Result<u16> {
    for _ in 0..50 {
        let a = TcpListener::bind(("127.0.0.1", 0))?;
        let port = a.local_addr()?.port();
        if port < u16::MAX && TcpListener::bind(("0.0.0.0", port + 1)).is_ok() {
            return Ok(port);
        }
    }
    Err(io::Error::other("no two free consecutive ports"))
}

/// Why a private pcscd cannot run here, if it cannot: the reason the tests print when skipping.
pub fn unavailable_reason() -> Option<String> {
    if !Path::new("/usr/sbin/pcscd").exists() {
        return Some("pcscd is not installed (apt-get install pcscd)".into());
    }
    if !Path::new("/usr/lib/pcsc/drivers/serial/libifdvpcd.so").exists() {
        return Some("the vpcd driver is not installed (apt-get install vsmartcard-vpcd)".into());
    }
    let ok = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "true"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !ok {
        return Some("cannot make a private mount namespace (unshare --mount needs root)".into());
    }
    None
}

/// A running private pcscd.
pub struct PrivatePcscd {
    /// Where it lives.
    pub at: PcscdDir,
    child: Option<Child>,
}

impl PrivatePcscd {
    /// Starts pcscd in its private namespace and waits (up to 10 s) until its socket exists and
    /// the first vpcd reader listens.
    pub fn start(at: PcscdDir) -> io::Result<PrivatePcscd> {
        let run = at.dir.join("run");
        let _ = std::fs::remove_file(at.socket());
        let conf = at.dir.join("conf");
        let script = format!(
            "mkdir -p /run/pcscd && mount --bind '{}' /run/pcscd && exec /usr/sbin/pcscd --foreground -c '{}'",
            run.display(),
            conf.display()
        );
        let child = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let mut me = PrivatePcscd { at, child: Some(child) };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let listening = std::net::TcpStream::connect(("127.0.0.1", me.at.port))
                .map(drop)
                .is_ok();
            if me.at.socket().exists() && listening {
                return Ok(me);
            }
            if let Some(c) = me.child.as_mut()
                && let Some(status) = c.try_wait()?
            {
                return Err(io::Error::other(format!("pcscd exited at start: {status}")));
            }
            if Instant::now() >= deadline {
                me.stop();
                return Err(io::Error::other("pcscd did not come up within 10 s"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops it by PID and waits for it (a second pcscd refuses to start while the first lives).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // `unshare` execs `sh`, which execs pcscd: the child's PID is pcscd's.
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(5);
            while c.try_wait().ok().flatten().is_none() {
                if Instant::now() >= deadline {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            // A killed daemon may leave its socket behind; the next start waits for a fresh one.
            let _ = std::fs::remove_file(self.at.socket());
        }
    }
}

impl Drop for PrivatePcscd {
    fn drop(&mut self) {
        self.stop();
    }
}
