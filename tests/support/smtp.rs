//! A small but real SMTP server on loopback that keeps what it receives, so tests can read
//! the mails back: RFC 5321 over TCP (EHLO/HELO, optional AUTH PLAIN and LOGIN, MAIL, RCPT,
//! DATA with dot-unstuffing, RSET, NOOP, QUIT), one thread per connection. It can be stopped
//! (its port then refuses connections) and started again on the same port, and it can be told
//! to refuse the next mails with a 4xx, as a mail server that is down or overloaded does. With
//! [`SmtpServer::start_tls`] it speaks TLS (rustls): from the first byte, or after STARTTLS.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use base64ct::{Base64, Encoding};
use ecpa::portal::ReceivedMail;

/// One mail as the server received it.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// `MAIL FROM`.
    pub mail_from: String,
    /// `RCPT TO`, each.
    pub rcpt_to: Vec<String>,
    /// The user who logged in, if any.
    pub user: Option<String>,
    /// The message as sent (after dot-unstuffing).
    pub raw: Vec<u8>,
    /// Whether it came over TLS.
    pub tls: bool,
}

/// How a TLS server protects its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS from the first byte (port 465 style).
    Implicit,
    /// Plain text until the client says STARTTLS (port 587 style); mail is refused before it.
    StartTls,
}

impl Delivered {
    /// The message decoded as a mail client would.
    pub fn parsed(&self) -> ReceivedMail {
        ReceivedMail::parse(&self.raw).expect("received mail parses")
    }
}

struct Shared {
    mails: Mutex<Vec<Delivered>>,
    stopping: AtomicBool,
    refuse_next: AtomicUsize,
    login: Option<(String, String)>,
    tls: Option<(Arc<rustls::ServerConfig>, TlsMode)>,
}

/// The server.
pub struct SmtpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl SmtpServer {
    /// Starts a server on a free loopback port; with `login`, mail is accepted only after AUTH
    /// with that user and password.
    pub fn start(login: Option<(&str, &str)>) -> SmtpServer {
        Self::start_with(login, None)
    }

    /// Starts a server that speaks TLS with the certificate of `ca`, as `mode` says.
    pub fn start_tls(mode: TlsMode, ca: &super::tls::PrivateCa) -> SmtpServer {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let chain = CertificateDer::pem_file_iter(&ca.cert)
            .expect("certificate file")
            .collect::<Result<Vec<_>, _>>()
            .expect("certificate");
        let key = PrivateKeyDer::from_pem_file(&ca.key).expect("key");
        let config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_no_client_auth()
                .with_single_cert(chain, key)
                .expect("server certificate");
        Self::start_with(None, Some((Arc::new(config), mode)))
    }

    fn start_with(login: Option<(&str, &str)>, tls: Option<(Arc<rustls::ServerConfig>, TlsMode)>) -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let shared = Arc::new(Shared {
            mails: Mutex::new(Vec::new()),
            stopping: AtomicBool::new(false),
            refuse_next: AtomicUsize::new(0),
            login: login.map(|(u, p)| (u.to_owned(), p.to_owned())),
            tls,
        });
        let mut s = SmtpServer {
            addr,
            shared,
            thread: None,
        };
        s.serve(listener);
        s
    }

    fn serve(&mut self, listener: TcpListener) {
        let shared = self.shared.clone();
        self.thread = Some(std::thread::spawn(move || {
            for stream in listener.incoming() {
                if shared.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let _ = connection(stream, &shared);
                });
            }
        }));
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Stops listening: new connections are refused until [`SmtpServer::restart`].
    pub fn stop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wakes the accept loop
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread");
        }
    }

    /// Listens again on the same port.
    pub fn restart(&mut self) {
        self.shared.stopping.store(false, Ordering::SeqCst);
        let listener = TcpListener::bind(self.addr).expect("rebind the same port");
        self.serve(listener);
    }

    /// Answers the next `n` mails' `DATA` end with `451` (temporary failure, not accepted).
    pub fn refuse_next(&self, n: usize) {
        self.shared.refuse_next.store(n, Ordering::SeqCst);
    }

    /// Every mail accepted so far, in order.
    pub fn mails(&self) -> Vec<Delivered> {
        self.shared.mails.lock().expect("mails").clone()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One client: TLS first if the server is implicit-TLS, and again after STARTTLS.
fn connection(tcp: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let secure = |tcp: TcpStream, config: &Arc<rustls::ServerConfig>| -> std::io::Result<_> {
        let conn = rustls::ServerConnection::new(config.clone()).map_err(std::io::Error::other)?;
        Ok(rustls::StreamOwned::new(conn, tcp))
    };
    match &shared.tls {
        Some((config, TlsMode::Implicit)) => session(secure(tcp, config)?, shared, true, true).map(drop),
        Some((config, TlsMode::StartTls)) => match session(tcp, shared, false, true)? {
            Some(tcp) => session(secure(tcp, config)?, shared, true, false).map(drop),
            None => Ok(()),
        },
        None => session(tcp, shared, false, true).map(drop),
    }
}

fn reply(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    out.write_all(format!("{text}\r\n").as_bytes())
}

/// Serves SMTP commands on `stream` until QUIT or the end; returns the stream when the client
/// asked for STARTTLS (the caller goes on over TLS). `greet` sends the 220 banner first.
fn session<S: Read + Write>(stream: S, shared: &Shared, tls: bool, greet: bool) -> std::io::Result<Option<S>> {
    let mut input = BufReader::new(stream);
    if greet {
        reply(input.get_mut(), "220 ecpa-test ESMTP ready")?;
    }
    let offer_starttls = !tls && matches!(shared.tls, Some((_, TlsMode::StartTls)));
    let mut user: Option<String> = None;
    let mut from: Option<String> = None;
    let mut rcpt: Vec<String> = Vec::new();
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let cmd = line.trim_end_matches(['\r', '\n']).to_owned();
        let upper = cmd.to_ascii_uppercase();
        if upper.starts_with("EHLO") {
            let auth = if shared.login.is_some() {
                "250-AUTH PLAIN LOGIN\r\n"
            } else {
                ""
            };
            let starttls = if offer_starttls { "250-STARTTLS\r\n" } else { "" };
            let ehlo = format!("250-ecpa-test\r\n{auth}{starttls}250-8BITMIME\r\n250 SMTPUTF8\r\n");
            input.get_mut().write_all(ehlo.as_bytes())?;
        } else if upper == "STARTTLS" && offer_starttls {
            reply(input.get_mut(), "220 2.0.0 Ready to start TLS")?;
            return Ok(Some(input.into_inner()));
        } else if upper.starts_with("HELO") {
            reply(input.get_mut(), "250 ecpa-test")?;
        } else if upper.starts_with("AUTH PLAIN") {
            let arg = cmd.get(10..).map(str::trim).unwrap_or("");
            let arg = if arg.is_empty() {
                reply(input.get_mut(), "334 ")?;
                read_trimmed(&mut input)?
            } else {
                arg.to_owned()
            };
            let decoded = Base64::decode_vec(&arg).unwrap_or_default();
            let parts: Vec<&[u8]> = decoded.split(|b| *b == 0).collect();
            let given = (parts.len() == 3).then(|| {
                (
                    String::from_utf8_lossy(parts[1]).into_owned(),
                    String::from_utf8_lossy(parts[2]).into_owned(),
                )
            });
            user = check_login(input.get_mut(), shared, given)?;
        } else if upper.starts_with("AUTH LOGIN") {
            reply(input.get_mut(), "334 VXNlcm5hbWU6")?;
            let u = Base64::decode_vec(&read_trimmed(&mut input)?).unwrap_or_default();
            reply(input.get_mut(), "334 UGFzc3dvcmQ6")?;
            let p = Base64::decode_vec(&read_trimmed(&mut input)?).unwrap_or_default();
            let given = Some((
                String::from_utf8_lossy(&u).into_owned(),
                String::from_utf8_lossy(&p).into_owned(),
            ));
            user = check_login(input.get_mut(), shared, given)?;
        } else if upper.starts_with("MAIL FROM:") {
            if offer_starttls {
                reply(input.get_mut(), "530 5.7.0 Must issue a STARTTLS command first")?;
                continue;
            }
            if shared.login.is_some() && user.is_none() {
                reply(input.get_mut(), "530 5.7.0 Authentication required")?;
                continue;
            }
            from = Some(angle(&cmd[10..]));
            rcpt.clear();
            reply(input.get_mut(), "250 OK")?;
        } else if upper.starts_with("RCPT TO:") {
            if from.is_none() {
                reply(input.get_mut(), "503 MAIL first")?;
                continue;
            }
            rcpt.push(angle(&cmd[8..]));
            reply(input.get_mut(), "250 OK")?;
        } else if upper == "DATA" {
            if from.is_none() || rcpt.is_empty() {
                reply(input.get_mut(), "503 MAIL and RCPT first")?;
                continue;
            }
            reply(input.get_mut(), "354 End data with <CR><LF>.<CR><LF>")?;
            let mut raw = Vec::new();
            loop {
                let mut l = Vec::new();
                if input.read_until(b'\n', &mut l)? == 0 {
                    return Ok(None); // cut off mid-message: nothing accepted
                }
                if l == b".\r\n" || l == b".\n" {
                    break;
                }
                let l = if l.starts_with(b"..") { &l[1..] } else { &l[..] };
                raw.extend_from_slice(l);
            }
            let refuse = shared
                .refuse_next
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
            if refuse {
                reply(input.get_mut(), "451 4.3.0 Try again later")?;
            } else {
                shared.mails.lock().expect("mails").push(Delivered {
                    mail_from: from.take().unwrap_or_default(),
                    rcpt_to: std::mem::take(&mut rcpt),
                    user: user.clone(),
                    raw,
                    tls,
                });
                reply(input.get_mut(), "250 OK queued")?;
            }
            from = None;
            rcpt.clear();
        } else if upper == "RSET" {
            from = None;
            rcpt.clear();
            reply(input.get_mut(), "250 OK")?;
        } else if upper == "NOOP" {
            reply(input.get_mut(), "250 OK")?;
        } else if upper == "QUIT" {
            reply(input.get_mut(), "221 Bye")?;
            return Ok(None);
        } else {
            reply(input.get_mut(), "502 Command not implemented")?;
        }
    }
}

fn read_trimmed(input: &mut impl BufRead) -> std::io::Result<String> {
    let mut l = String::new();
    input.read_line(&mut l)?;
    Ok(l.trim().to_owned())
}

fn check_login(
    out: &mut impl Write,
    shared: &Shared,
    given: Option<(String, String)>,
) -> std::io::Result<Option<String>> {
    match (&shared.login, given) {
        (Some(want), Some(got)) if *want == got => {
            out.write_all(b"235 2.7.0 Authentication successful\r\n")?;
            Ok(Some(got.0))
        }
        _ => {
            out.write_all(b"535 5.7.8 Authentication credentials invalid\r\n")?;
            Ok(None)
        }
    }
}

/// The address inside `<…>` (parameters after it ignored).
fn angle(s: &str) -> String {
    let s = s.trim();
    match (s.find('<'), s.find('>')) {
        (Some(a), Some(b)) if a < b => s[a + 1..b].to_owned(),
        _ => s.split_whitespace().next().unwrap_or("").to_owned(),
    }
}
