//! The embedded default mailer: a maildir, and reading its messages back as a recipient would.

use std::fs;
use std::path::{Path, PathBuf};

use super::{Mailer, OutgoingMail};
use crate::error::{Error, ErrorCode, Result};

/// A maildir on disk: the embedded default mailer.
#[derive(Debug, Clone)]
pub struct FileMailer {
    dir: PathBuf,
}

impl FileMailer {
    /// A maildir at `dir` (created with `tmp/`, `new/` and `cur/` if missing).
    pub fn new(dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = dir.into();
        for sub in ["tmp", "new", "cur"] {
            fs::create_dir_all(dir.join(sub))?;
        }
        Ok(FileMailer { dir })
    }

    /// The maildir's folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Every delivered message, oldest first (by outbox number), decoded as a mail client would.
    pub fn messages(&self) -> Result<Vec<ReceivedMail>> {
        let mut names: Vec<PathBuf> = fs::read_dir(self.dir.join("new"))?
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<_>>()?;
        names.sort();
        names.iter().map(|p| ReceivedMail::parse(&fs::read(p)?)).collect()
    }
}

/// A mail as its recipient reads it: decoded headers and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The recipient's address.
    pub to: String,
    /// The decoded subject.
    pub subject: String,
    /// The decoded plain-text body.
    pub body: String,
}

impl ReceivedMail {
    /// Decodes an RFC 5322 message.
    pub fn parse(raw: &[u8]) -> Result<Self> {
        let bad = || Error::with(ErrorCode::MailFailed, "無法解讀郵件", "the mail does not parse");
        let m = mail_parser::MessageParser::default().parse(raw).ok_or_else(bad)?;
        let to = m
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address())
            .ok_or_else(bad)?
            .to_owned();
        Ok(ReceivedMail {
            to,
            subject: m.subject().unwrap_or_default().to_owned(),
            body: m.body_text(0).map(|b| b.into_owned()).unwrap_or_default(),
        })
    }

    /// The token of the first link in the body that carries one (`…?token=…`).
    pub fn link_token(&self) -> Option<&str> {
        let start = self.body.find("token=")? + "token=".len();
        let rest = &self.body[start..];
        let len = rest.find(|c: char| !c.is_ascii_hexdigit()).unwrap_or(rest.len());
        Some(&rest[..len])
    }
}

impl Mailer for FileMailer {
    fn send(&self, mail: &OutgoingMail) -> Result<()> {
        let bytes = mail.to_rfc5322("ecpa.localhost")?;
        // Named by outbox number: a repeat after a crash overwrites instead of duplicating.
        let name = format!("{:012}.ecpa", mail.id);
        let tmp = self.dir.join("tmp").join(&name);
        fs::write(&tmp, &bytes)?;
        fs::File::open(&tmp)?.sync_all()?;
        fs::rename(&tmp, self.dir.join("new").join(&name))?;
        Ok(())
    }
}
