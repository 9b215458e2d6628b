//! Real mail: an SMTP client ([`SmtpMailer`]) for the outbox, over rustls (aws-lc-rs) when the
//! server is not on loopback.
//!
//! The outbox worker ([`LocalPortal::deliver_outbox`](crate::portal::LocalPortal::deliver_outbox))
//! marks a mail sent only when [`Mailer::send`] returns `Ok`, and [`SmtpMailer`] returns `Ok`
//! only once the server has answered the end of `DATA` with a 2xx: from then on the mail is the
//! server's responsibility. Any other outcome (server down, refused, timed out, TLS failed,
//! credentials refused) is [`ErrorCode::MailFailed`], the mail stays in the outbox, and the
//! worker retries it later. A server that accepted the mail but whose answer was lost may get it
//! twice (the Message-ID is the same, `<ecpa-outbox-N@…>`, so it can drop the repeat); a mail
//! is never lost.
//!
//! Security is explicit: [`SmtpSecurity::StartTls`] (the default) refuses a server that does
//! not offer STARTTLS rather than sending in clear; [`SmtpSecurity::None`] is for a relay on
//! loopback or a private network. Credentials are sent only as the server asks (AUTH PLAIN or
//! LOGIN); the password is zeroized when the mailer is dropped and never printed.

use std::path::PathBuf;
use std::time::Duration;

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{SmtpTransport, Transport};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{Mailer, OutgoingMail};
use crate::error::{Error, ErrorCode, Result};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain SMTP: only for a relay on loopback or a private network.
    None,
    /// STARTTLS after connecting (usually port 587); a server without it is refused.
    #[default]
    #[serde(alias = "starttls")]
    StartTls,
    /// TLS from the first byte ("SMTPS", usually port 465).
    Tls,
}

impl SmtpSecurity {
    /// The usual port for this security.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::None => 25,
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
        }
    }
}

/// A password that is wiped from memory when dropped and never shown by `Debug`.
#[derive(Clone)]
pub struct SmtpPassword(Zeroizing<String>);

impl<'de> Deserialize<'de> for SmtpPassword {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(SmtpPassword::new)
    }
}

impl SmtpPassword {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Self {
        SmtpPassword(Zeroizing::new(password.into()))
    }
}

impl PartialEq for SmtpPassword {
    fn eq(&self, other: &Self) -> bool {
        *self.0 == *other.0
    }
}

impl std::fmt::Debug for SmtpPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SmtpPassword(***)")
    }
}

fn default_timeout_secs() -> u64 {
    30
}

/// Where and how to send mail; the service reads it from the `[smtp]` table of its TOML file.
///
/// ```toml
/// [smtp]
/// host = "smtp.gov.taipei"
/// security = "starttls"      # "none", "starttls" or "tls"
/// username = "ecpa-notice"
/// password = "…"
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The server's host name (also the name its TLS certificate must carry).
    pub host: String,
    /// The port; by default the usual one for `security` (25, 587 or 465).
    #[serde(default)]
    pub port: Option<u16>,
    /// How the connection is protected.
    #[serde(default)]
    pub security: SmtpSecurity,
    /// The user name, when the server wants a login.
    #[serde(default)]
    pub username: Option<String>,
    /// The password for `username`; never written back out.
    #[serde(default, skip_serializing)]
    pub password: Option<SmtpPassword>,
    /// The envelope sender (`MAIL FROM`, where bounces go); by default the address of the
    /// mail's `From` header (the portal's `mail_from`).
    #[serde(default)]
    pub from: Option<String>,
    /// Seconds to wait for the server at each step.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// A PEM file of extra certificate authorities to trust for TLS (a private CA), on top of
    /// the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
}

impl SmtpConfig {
    /// Plain SMTP to `host:port`, no login: a relay on loopback.
    pub fn plain(host: impl Into<String>, port: u16) -> Self {
        SmtpConfig {
            host: host.into(),
            port: Some(port),
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from: None,
            timeout_secs: default_timeout_secs(),
            ca_file: None,
        }
    }
}

/// Sends the outbox's mail to an SMTP server.
pub struct SmtpMailer {
    transport: SmtpTransport,
    envelope_from: Option<Address>,
    host: String,
    port: u16,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

fn config_error(zh: &str, en: &str, e: &dyn std::fmt::Display) -> Error {
    Error::with(ErrorCode::MailConfigInvalid, format!("{zh}：{e}"), format!("{en}: {e}"))
}

impl SmtpMailer {
    /// A mailer for `config`; checks the settings (not the server, which may be down now and up
    /// later: that is the outbox's business).
    pub fn new(config: &SmtpConfig) -> Result<Self> {
        if config.host.trim().is_empty() {
            return Err(Error::with(
                ErrorCode::MailConfigInvalid,
                "未指定郵件伺服器",
                "no SMTP host given",
            ));
        }
        let port = config.port.unwrap_or_else(|| config.security.default_port());
        let tls = if config.security == SmtpSecurity::None {
            Tls::None
        } else {
            let mut params = TlsParameters::builder(config.host.clone());
            if let Some(path) = &config.ca_file {
                let pem = std::fs::read(path)
                    .map_err(|e| config_error("無法讀取 CA 憑證檔", "cannot read the CA file", &e))?;
                let cert =
                    Certificate::from_pem(&pem).map_err(|e| config_error("CA 憑證檔格式錯誤", "bad CA file", &e))?;
                params = params.add_root_certificate(cert);
            }
            let params = params
                .build_rustls()
                .map_err(|e| config_error("TLS 設定錯誤", "TLS settings", &e))?;
            match config.security {
                SmtpSecurity::StartTls => Tls::Required(params),
                _ => Tls::Wrapper(params),
            }
        };
        let mut builder = SmtpTransport::builder_dangerous(config.host.as_str())
            .port(port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(config.timeout_secs.max(1))));
        match (&config.username, &config.password) {
            (Some(user), Some(pass)) => {
                // lettre keeps its own copy of the password for the life of the transport.
                builder = builder.credentials(Credentials::new(user.clone(), pass.0.as_str().to_owned()));
            }
            (None, None) => {}
            _ => {
                return Err(Error::with(
                    ErrorCode::MailConfigInvalid,
                    "帳號與密碼須同時設定",
                    "username and password go together",
                ));
            }
        }
        let envelope_from = config
            .from
            .as_deref()
            .map(|f| {
                f.parse::<Address>()
                    .map_err(|e| config_error("寄件者地址錯誤", "bad sender address", &e))
            })
            .transpose()?;
        Ok(SmtpMailer {
            transport: builder.build(),
            envelope_from,
            host: config.host.clone(),
            port,
        })
    }
}

fn send_error(what: &str, e: &dyn std::fmt::Display) -> Error {
    Error::with(ErrorCode::MailFailed, format!("{what}：{e}"), format!("{what}: {e}"))
}

impl Mailer for SmtpMailer {
    fn send(&self, mail: &OutgoingMail) -> Result<()> {
        let to: Address = mail.to.parse().map_err(|e| send_error("收件者地址 recipient", &e))?;
        let header_from: lettre::message::Mailbox = mail.from.parse().map_err(|e| send_error("寄件者 sender", &e))?;
        let from = self.envelope_from.clone().unwrap_or(header_from.email);
        let domain = from.domain().to_owned();
        let raw = mail.to_rfc5322(&domain)?;
        let envelope = Envelope::new(Some(from), vec![to]).map_err(|e| send_error("信封 envelope", &e))?;
        self.transport
            .send_raw(&envelope, &raw)
            .map_err(|e| send_error(&format!("SMTP {}:{}", self.host, self.port), &e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reads_from_toml_like_json_and_hides_the_password() {
        let c: SmtpConfig = serde_json::from_str(
            r#"{"host":"smtp.example.tw","security":"tls","username":"u","password":"s3cret!","from":"bounce@example.tw"}"#,
        )
        .expect("parses");
        assert_eq!(c.security, SmtpSecurity::Tls);
        assert_eq!(c.port, None);
        assert_eq!(c.timeout_secs, 30);
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        let m = SmtpMailer::new(&c).expect("builds");
        assert_eq!(m.port, 465);
        assert!(!format!("{m:?}").contains("s3cret"));
    }

    #[test]
    fn default_security_is_starttls_and_unknown_fields_are_refused() {
        let c: SmtpConfig = serde_json::from_str(r#"{"host":"h"}"#).expect("parses");
        assert_eq!(c.security, SmtpSecurity::StartTls);
        assert_eq!(SmtpMailer::new(&c).expect("builds").port, 587);
        assert!(serde_json::from_str::<SmtpConfig>(r#"{"host":"h","pasword":"x"}"#).is_err());
        assert!(serde_json::from_str::<SmtpConfig>(r#"{"host":"h","security":"ssl"}"#).is_err());
    }

    #[test]
    fn bad_settings_are_typed_errors() {
        let mut c = SmtpConfig::plain("localhost", 25);
        c.username = Some("only-user".into());
        assert_eq!(
            SmtpMailer::new(&c).expect_err("half").code(),
            ErrorCode::MailConfigInvalid
        );
        let mut c = SmtpConfig::plain(" ", 25);
        assert_eq!(
            SmtpMailer::new(&c).expect_err("host").code(),
            ErrorCode::MailConfigInvalid
        );
        c.host = "localhost".into();
        c.from = Some("not an address".into());
        assert_eq!(
            SmtpMailer::new(&c).expect_err("from").code(),
            ErrorCode::MailConfigInvalid
        );
        let mut c = SmtpConfig::plain("localhost", 25);
        c.security = SmtpSecurity::Tls;
        c.ca_file = Some("/nonexistent/ca.pem".into());
        assert_eq!(
            SmtpMailer::new(&c).expect_err("ca").code(),
            ErrorCode::MailConfigInvalid
        );
    }
}
