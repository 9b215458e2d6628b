//! `ecpa agent`: the local service through which a web page reaches the cards, in place of the
//! vendor components (HiPKI's local sign server on `127.0.0.1:61161`, the NHI card component).
//!
//! It listens on loopback only, answers only requests addressed to this machine by a loopback
//! name, and only pages of the origins it allows ([`gate`]). This first part serves the
//! HiPKI-compatible version line (`GET /`, which pages parse for `version:`) and
//! `/pkcs11info`, which lists the PKCS#11 module's tokens and certificates in the reply shape
//! pages expect.
//!
//! The server is axum on a current-thread runtime: an agent serves one person's browser, and a
//! card operation holds the card anyway.

pub mod gate;
mod hipki;

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;

use crate::config::AgentSettings;
use crate::error::{Error, ErrorCode, Result};

pub use gate::Origins;

/// The protocol version pages read from `GET /` (`version:<n.n.n.n>`): the HiPKI release whose
/// endpoints and replies the agent follows, so pages that ask for at least that one work.
pub const HIPKI_COMPATIBLE_VERSION: &str = "1.3.4.103349";

/// What the agent runs with, resolved from the flags, the `[agent]` section and the portal's
/// public origin.
#[derive(Debug, Clone)]
pub struct Agent {
    /// Where it listens (loopback).
    pub listen: SocketAddr,
    /// The PKCS#11 module, if one was named (otherwise the default HiCOS paths are tried).
    pub pkcs11_module: Option<PathBuf>,
    /// The pages it answers.
    pub origins: Arc<Origins>,
}

impl Agent {
    /// The agent for `settings`, allowing also `portal_origin` (the portal's public origin).
    /// The address must be loopback.
    pub fn new(settings: &AgentSettings, portal_origin: Option<&str>) -> Result<Agent> {
        let listen = loopback_listen(&settings.listen)?;
        let own = format!("http://{listen}");
        let allow = settings.allow_origins.iter().map(String::as_str).chain(portal_origin);
        let origins = Origins::new(allow, settings.legacy_origins.iter().map(String::as_str), &own)?;
        Ok(Agent {
            listen,
            pkcs11_module: settings.pkcs11_module.clone(),
            origins: Arc::new(origins),
        })
    }

    /// The agent's routes behind its gate.
    pub fn router(&self) -> Router {
        hipki::routes(self.pkcs11_module.clone())
            .layer(axum::middleware::from_fn_with_state(self.origins.clone(), gate::gate))
    }

    /// Binds the listening socket, saying who holds the port when it is taken.
    pub fn bind(&self) -> Result<TcpListener> {
        TcpListener::bind(self.listen).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                let who = port_holder(self.listen.port())
                    .map(|(pid, name)| (format!("（{name}，PID {pid}）"), format!(" ({name}, PID {pid})")))
                    .unwrap_or_default();
                Error::with(
                    ErrorCode::AgentPortTaken,
                    format!("{} 已被占用{}", self.listen, who.0),
                    format!("{} is taken{}", self.listen, who.1),
                )
            } else {
                Error::from(e)
            }
        })
    }

    /// Serves on `listener` until the process is stopped, calling `on_listening` with the
    /// address first.
    pub fn serve(&self, listener: TcpListener, on_listening: impl FnOnce(SocketAddr)) -> Result<()> {
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let app = self.router();
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            on_listening(addr);
            axum::serve(listener, app).await
        })?;
        Ok(())
    }
}

/// `addr` as a socket address, refused unless it is loopback.
pub fn loopback_listen(addr: &str) -> Result<SocketAddr> {
    let refused = || {
        Error::with(
            ErrorCode::AgentListenNotLoopback,
            format!("無法接聽 {addr}：只接受 127.0.0.1、::1 等本機位址"),
            format!("cannot listen on {addr}: only loopback addresses (127.0.0.1, ::1) are accepted"),
        )
    };
    let parsed: SocketAddr = match addr.trim().strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}").parse().map_err(|_| refused())?,
        None => addr.trim().parse().map_err(|_| refused())?,
    };
    if !parsed.ip().is_loopback() {
        return Err(refused());
    }
    Ok(parsed)
}

/// The program holding TCP `port` on this machine, `(pid, name)`, read from `/proc` (Linux); `None`
/// elsewhere or when it cannot be told (another user's process).
fn port_holder(port: u16) -> Option<(u32, String)> {
    // The listening sockets' inodes on that port, IPv4 and IPv6.
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            // local_address is HEX_IP:HEX_PORT; state 0A is LISTEN; the inode is field 9.
            let listens = f.get(3) == Some(&"0A");
            let on_port = f
                .get(1)
                .and_then(|a| a.rsplit_once(':'))
                .and_then(|(_, p)| u16::from_str_radix(p, 16).ok())
                == Some(port);
            if listens && on_port {
                inodes.extend(f.get(9).map(|i| format!("socket:[{i}]")));
            }
        }
    }
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        let holds = fds
            .flatten()
            .filter_map(|fd| std::fs::read_link(fd.path()).ok())
            .any(|target| inodes.iter().any(|i| target.as_os_str() == i.as_str()));
        if holds {
            let name = std::fs::read_to_string(entry.path().join("comm")).unwrap_or_default();
            return Some((pid, name.trim().to_owned()));
        }
    }
    None
}

/// The user service that starts the agent at login: a systemd user unit or a launchd agent,
/// running `program` (the `ecpa` binary) with `args`.
pub fn service_definition(kind: &str, program: &str, args: &[String]) -> Result<String> {
    let line = std::iter::once(program.to_owned())
        .chain(args.iter().cloned())
        .collect::<Vec<_>>();
    match kind {
        "systemd" => Ok(format!(
            "[Unit]\nDescription=ecpa card agent (讀卡代理程式)\nAfter=pcscd.socket\n\n[Service]\n\
             ExecStart={}\nRestart=on-failure\nNoNewPrivileges=true\nPrivateTmp=true\n\n[Install]\n\
             WantedBy=default.target\n",
            line.join(" ")
        )),
        "launchd" => {
            let items: String = line
                .iter()
                .map(|a| format!("    <string>{}</string>\n", xml_escape(a)))
                .collect();
            Ok(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \
                 \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n  \
                 <key>Label</key>\n  <string>tw.ecpa.agent</string>\n  <key>ProgramArguments</key>\n  <array>\n\
                 {items}  </array>\n  <key>RunAtLoad</key>\n  <true/>\n  <key>KeepAlive</key>\n  <true/>\n</dict>\n</plist>\n"
            ))
        }
        other => Err(Error::with(
            ErrorCode::FieldInvalid,
            format!("不支援的服務類型「{other}」（可用 systemd、launchd）"),
            format!("unknown service kind {other:?} (systemd or launchd)"),
        )),
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_listened_on() {
        assert_eq!(loopback_listen("127.0.0.1:61161").unwrap().port(), 61161);
        assert!(loopback_listen("[::1]:61161").is_ok());
        assert!(loopback_listen("localhost:0").is_ok());
        for bad in [
            "0.0.0.0:61161",
            "[::]:61161",
            "192.168.1.5:61161",
            "example.com:61161",
            "61161",
        ] {
            let e = loopback_listen(bad).unwrap_err();
            assert_eq!(e.code(), ErrorCode::AgentListenNotLoopback, "{bad}");
        }
    }

    #[test]
    fn the_port_holder_is_named() {
        let held = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = held.local_addr().unwrap().port();
        let (pid, _) = port_holder(port).expect("this process holds it");
        assert_eq!(pid, std::process::id());
    }

    #[test]
    fn service_definitions() {
        let args = vec!["agent".to_owned(), "--listen".to_owned(), "127.0.0.1:61161".to_owned()];
        let unit = service_definition("systemd", "/usr/bin/ecpa", &args).unwrap();
        assert!(
            unit.contains("ExecStart=/usr/bin/ecpa agent --listen 127.0.0.1:61161"),
            "{unit}"
        );
        let plist = service_definition("launchd", "/usr/local/bin/ecpa", &args).unwrap();
        assert!(plist.contains("<string>/usr/local/bin/ecpa</string>") && plist.contains("RunAtLoad"));
        assert!(service_definition("cron", "ecpa", &args).is_err());
    }
}
