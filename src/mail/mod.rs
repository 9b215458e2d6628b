//! Mail: the message a portal sends, and the mailers that take it.
//!
//! The engine never sends mail itself: it queues each notice in the outbox with the change it
//! belongs to, and the outbox worker ([`LocalPortal::deliver_outbox`]) hands due mail to a
//! [`Mailer`]. Two mailers are here, with no knowledge of the portal's rules:
//! - [`FileMailer`], the embedded default: a maildir, each mail a complete RFC 5322 message
//!   written to `tmp/` and renamed into `new/`, so a reader never sees half a file;
//! - [`SmtpMailer`]: a real SMTP server, over TLS unless it is on loopback.
//!
//! [`LocalPortal::deliver_outbox`]: crate::portal::LocalPortal::deliver_outbox

use lettre::message::{Mailbox, Message, header::ContentType};

use crate::error::{Error, ErrorCode, Result};

mod maildir;
mod smtp;

pub use maildir::{FileMailer, ReceivedMail};
pub use smtp::{SmtpConfig, SmtpMailer, SmtpPassword, SmtpSecurity};

/// A mail ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMail {
    /// The outbox number: the same on every retry, so a receiver can drop repeats.
    pub id: i64,
    /// Sender, e.g. `人事服務網 eCPA <noreply@…>`.
    pub from: String,
    /// Recipient address.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

impl OutgoingMail {
    /// The complete RFC 5322 message (UTF-8 headers encoded as RFC 2047, the body as lettre
    /// chooses: quoted-printable or base64).
    pub fn to_rfc5322(&self, domain: &str) -> Result<Vec<u8>> {
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            Error::with(ErrorCode::MailFailed, format!("{what}：{e}"), format!("{what}: {e}"))
        };
        let from: Mailbox = self.from.parse().map_err(|e| bad("寄件者 sender", &e))?;
        let to: Mailbox = self.to.parse().map_err(|e| bad("收件者 recipient", &e))?;
        let message = Message::builder()
            .from(from)
            .to(to)
            .subject(self.subject.as_str())
            .message_id(Some(format!("<ecpa-outbox-{}@{domain}>", self.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(self.body.clone())
            .map_err(|e| bad("郵件 message", &e))?;
        Ok(message.formatted())
    }
}

/// Something that accepts mail for delivery.
pub trait Mailer: Send + Sync {
    /// Hands one mail over. `Ok` means the mail was accepted and will not be lost.
    fn send(&self, mail: &OutgoingMail) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_encodes_chinese_subject() {
        let m = OutgoingMail {
            id: 7,
            from: "人事服務網 eCPA <noreply@ecpa.localhost>".into(),
            to: "dop-a@mail.taipei.gov.tw".into(),
            subject: "臺北市政府108/04/03個人獎勵令通知信(非社交工程演練)".into(),
            body: "您好".into(),
        };
        let raw = m.to_rfc5322("x").expect("formats");
        let text = String::from_utf8(raw.clone()).expect("ascii headers");
        assert!(text.contains("Subject: =?utf-8?"), "{text}");
        assert!(text.contains("Message-ID: <ecpa-outbox-7@x>"), "{text}");
        let read = ReceivedMail::parse(&raw).expect("parses");
        assert_eq!(read.subject, m.subject);
        assert_eq!(read.to, m.to);
        assert_eq!(read.body.trim_end(), m.body);
    }
}
