//! `ecpa agent` as a civil servant's machine runs it: the real binary on loopback, reached over
//! real HTTP, with every way a page could get in the wrong way tried: a foreign origin, no
//! origin on a call that acts, a rebinding `Host`, a private-network preflight from a foreign
//! site, a non-loopback address, a port another program holds.
#![cfg(all(feature = "card", feature = "http"))]
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use reqwest::blocking::Client;
use reqwest::header::{HOST, ORIGIN};

const PORTAL: &str = "https://ecpa.example.gov.tw";
const LEGACY: &str = "https://legacy.example.gov.tw";

struct Agent {
    child: Child,
    port: u16,
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ecpa() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ecpa"));
    for (k, _) in std::env::vars() {
        if k.starts_with("ECPA_") {
            c.env_remove(k);
        }
    }
    c
}

/// Starts the agent on a free loopback port with a module path that does not exist.
fn start() -> Agent {
    let mut child = ecpa()
        .args([
            "agent",
            "--listen",
            "127.0.0.1:0",
            "--json",
            "--allow-origin",
            PORTAL,
            "--legacy-origin",
            LEGACY,
        ])
        .args(["--pkcs11-module", "/nonexistent/libpkcs11.so"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ecpa agent starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the listening line");
    let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    let url = v["listening"].as_str().expect("url");
    let port = url.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
    let origins: Vec<&str> = v["origins"]
        .as_array()
        .expect("origins")
        .iter()
        .filter_map(|o| o.as_str())
        .collect();
    assert!(origins.contains(&PORTAL) && origins.contains(&LEGACY), "{origins:?}");
    assert!(
        origins.contains(&"http://127.0.0.1:8080"),
        "the portal's own origin by default: {origins:?}"
    );
    Agent { child, port }
}

impl Agent {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn refused(r: reqwest::blocking::Response, name: &str) {
    assert_eq!(r.status(), 403);
    assert!(
        r.headers().get("access-control-allow-origin").is_none(),
        "no CORS for a refusal"
    );
    let v: serde_json::Value = r.json().expect("a typed error");
    assert_eq!(v["name"], name, "{v}");
    assert!(v["message_zh"].is_string() && v["message_en"].is_string());
    assert!(v.get("slots").is_none());
}

#[test]
fn the_version_line_pages_parse() {
    let a = start();
    let r = Client::new().get(a.url("/")).send().expect("GET /");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body = r.text().expect("body");
    assert!(body.contains("version:1.3.4."), "{body}");
}

#[test]
fn an_allowed_page_gets_cors_and_the_vendor_reply_shape() {
    let a = start();
    let r = Client::new()
        .get(a.url("/pkcs11info?withcert=true"))
        .header(ORIGIN, PORTAL)
        .send()
        .expect("sent");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["access-control-allow-origin"], PORTAL);
    let v: serde_json::Value = r.json().expect("json");
    assert_eq!(v["func"], "pkcs11info");
    // No module at that path: the vendor's "library" code, in a 200 answer as the vendor does.
    assert_eq!(v["ret_code"], 0x7610_0001u32, "{v}");
}

#[test]
fn pages_of_other_sites_and_rebinding_hosts_get_nothing() {
    let a = start();
    let c = Client::new();
    // A foreign origin, on a read and on a call that acts.
    refused(
        c.get(a.url("/pkcs11info"))
            .header(ORIGIN, "https://ecpa.example.gov.tw.evil.example")
            .send()
            .unwrap(),
        "agent_origin_refused",
    );
    refused(
        c.post(a.url("/pkcs11info"))
            .header(ORIGIN, "https://evil.example")
            .send()
            .unwrap(),
        "agent_origin_refused",
    );
    // A call that acts without an origin.
    refused(c.post(a.url("/pkcs11info")).send().unwrap(), "agent_origin_refused");
    // DNS rebinding: the page's own name for 127.0.0.1 arrives as the Host.
    refused(
        c.get(a.url("/pkcs11info"))
            .header(HOST, format!("rebind.evil.example:{}", a.port))
            .header(ORIGIN, format!("http://rebind.evil.example:{}", a.port))
            .send()
            .unwrap(),
        "agent_host_refused",
    );
    refused(
        c.get(a.url("/")).header(HOST, "localhost.evil.example").send().unwrap(),
        "agent_host_refused",
    );
}

#[test]
fn private_network_preflights_are_answered_for_allowed_origins_only() {
    let a = start();
    let c = Client::new();
    let preflight = |origin: &str| {
        c.request(reqwest::Method::OPTIONS, a.url("/pkcs11info"))
            .header(ORIGIN, origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-private-network", "true")
            .send()
            .expect("preflight")
    };
    let ok = preflight(PORTAL);
    assert_eq!(ok.status(), 204);
    assert_eq!(ok.headers()["access-control-allow-origin"], PORTAL);
    assert_eq!(ok.headers()["access-control-allow-private-network"], "true");
    assert!(
        ok.headers()["access-control-allow-methods"]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    refused(preflight("https://evil.example"), "agent_origin_refused");
}

#[test]
fn the_agent_listens_on_loopback_only_and_names_who_holds_its_port() {
    for addr in ["0.0.0.0:61161", "[::]:61161", "192.0.2.1:61161"] {
        let out = ecpa()
            .args(["agent", "--listen", addr, "--lang", "en"])
            .output()
            .expect("runs");
        assert_ne!(out.status.code(), Some(0), "{addr}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("E2201") && err.contains("loopback"), "{addr}: {err}");
    }
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    let port = held.local_addr().expect("addr").port();
    let out = ecpa()
        .args(["agent", "--listen", &format!("127.0.0.1:{port}"), "--lang", "en"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("E2202"), "{err}");
    assert!(
        err.contains(&format!("PID {}", std::process::id())),
        "names the holder: {err}"
    );
}

#[test]
fn the_user_service_starts_the_agent_at_login() {
    let out = ecpa()
        .args(["agent", "--print-service", "systemd"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let unit = String::from_utf8_lossy(&out.stdout);
    assert!(
        unit.contains("ExecStart=") && unit.contains(" agent --listen 127.0.0.1:61161"),
        "{unit}"
    );
    assert!(unit.contains("WantedBy=default.target"));
    let out = ecpa()
        .args(["agent", "--print-service", "launchd"])
        .output()
        .expect("runs");
    assert!(String::from_utf8_lossy(&out.stdout).contains("<key>RunAtLoad</key>"));
    let out = ecpa()
        .args(["agent", "--print-service", "cron"])
        .output()
        .expect("runs");
    assert_ne!(out.status.code(), Some(0));
}

#[test]
fn the_environment_check_finds_the_agent_at_its_port() {
    // The agent's own port, as a civil servant's machine runs it; skipped when another program
    // holds it here.
    if std::net::TcpListener::bind("127.0.0.1:61161").is_err() {
        eprintln!("SKIPPED: 127.0.0.1:61161 is taken on this machine");
        return;
    }
    let mut child = ecpa()
        .args(["agent", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ecpa agent starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the listening line");
    let _running = Agent { child, port: 61161 };
    let out = ecpa()
        .args([
            "doctor",
            "--json",
            "--timeout",
            "2",
            "--pkcs11-module",
            "/nonexistent/libpkcs11.so",
        ])
        .output()
        .expect("doctor runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("doctor's JSON");
    let row = v["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["id"] == "agent.running")
        .cloned()
        .expect("the agent's row");
    assert_eq!(row["status"], "ok", "{row}");
    assert!(row["found"].to_string().contains("ecpa agent"), "{row}");
}
