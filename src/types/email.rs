//! E-mail addresses: where award-order notices and registration links are sent.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, ErrorCode, Result};

use super::Lang;

/// An e-mail address that is plausibly deliverable.
///
/// The check is pragmatic rather than full RFC 5322: one `@`; a local part of 1 to 64 ASCII
/// letters, digits and ``!#$%&'*+/=?^_`{|}~.-`` with no leading, trailing or doubled dot; a
/// domain of at most 253 characters made of at least two dot-separated labels (1 to 63 letters,
/// digits or hyphens, not starting or ending with a hyphen) whose last label is alphabetic. The
/// domain is lower-cased; the local part is kept as typed, since some servers honour its case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email {
    text: String,
    /// Byte position of the `@`.
    at: usize,
}

fn invalid(zh: &'static str, en: &'static str) -> Error {
    Error::with(ErrorCode::EmailInvalid, zh, en)
}

fn local_part_ok(local: &str) -> bool {
    const SPECIALS: &[u8] = b"!#$%&'*+/=?^_`{|}~.-";
    (1..=64).contains(&local.len())
        && local
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || SPECIALS.contains(&b))
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
}

fn domain_ok(domain: &str) -> bool {
    let label_ok = |label: &[u8]| {
        (1..=63).contains(&label.len())
            && label.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && label.first() != Some(&b'-')
            && label.last() != Some(&b'-')
    };
    let mut labels = domain.as_bytes().split(|b| *b == b'.');
    domain.len() <= 253
        && domain.contains('.')
        && labels.clone().all(label_ok)
        && labels
            .next_back()
            .is_some_and(|tld| tld.iter().all(u8::is_ascii_alphabetic))
}

impl Email {
    /// Checks a typed address, trimming surrounding whitespace and lower-casing the domain.
    pub fn parse(s: &str) -> Result<Email> {
        let s = s.trim();
        let Some((local, domain)) = s.split_once('@').filter(|(_, domain)| !domain.contains('@')) else {
            return Err(invalid(
                "電子郵件信箱應包含一個「@」",
                "an e-mail address contains exactly one \"@\"",
            ));
        };
        if !local_part_ok(local) {
            return Err(invalid(
                "「@」前的帳號部分只能使用英文字母、數字及部分符號，長度 1 至 64 字元，且句點不可在開頭、結尾或連續出現",
                "the part before \"@\" must be 1 to 64 ASCII letters, digits or allowed symbols, \
                 with no dot at its start or end and no two dots in a row",
            ));
        }
        if !domain_ok(domain) {
            return Err(invalid(
                "「@」後的網域格式錯誤（如 gov.taipei、example.com.tw）",
                "the domain after \"@\" is malformed (it should look like gov.taipei or \
                 example.com.tw)",
            ));
        }
        // One allocation: a staff file checks an address on every line.
        let mut text = String::with_capacity(s.len());
        text.push_str(local);
        text.push('@');
        text.push_str(domain);
        text[local.len() + 1..].make_ascii_lowercase();
        Ok(Email { text, at: local.len() })
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The address as a page or a receipt may show it to whoever asked: the first two
    /// characters of the mailbox, then `***`, then the domain (`wa***@mail.taipei.gov.tw`).
    /// Enough for the owner to recognise it, not to hand a stranger someone's mailbox.
    pub fn masked(&self) -> String {
        let local = self.text.get(..self.at).unwrap_or("");
        let shown: String = local.chars().take(2).collect();
        format!("{shown}***@{}", self.domain())
    }

    /// The part after `@`, lower-cased.
    pub fn domain(&self) -> &str {
        self.text.get(self.at + 1..).unwrap_or("")
    }

    /// A warning if the address is at one of Microsoft's consumer mail services (hotmail, live,
    /// outlook, msn, livemail), whose servers have refused the NHI service's mail.
    ///
    /// A domain matches when it is, or ends with a dot and, one of `msn.com`, or `hotmail`,
    /// `live`, `outlook` or `livemail` followed by a public suffix: one label (`outlook.com`,
    /// `hotmail.fr`) or a short label and a country code (`hotmail.com.tw`, `live.co.uk`). The
    /// suffix rule keeps unrelated domains such as `live.example.org` from matching.
    pub fn microsoft_warning(&self) -> Option<EmailWarning> {
        const BRANDS: [&str; 4] = ["hotmail", "live", "outlook", "livemail"];
        let domain = self.domain();
        if domain == "msn.com" || domain.ends_with(".msn.com") {
            return Some(EmailWarning);
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let suffix_like = |rest: &[&str]| match rest {
            [_] => true,
            [second, country] => second.len() <= 3 && country.len() == 2,
            _ => false,
        };
        let hit = labels
            .iter()
            .enumerate()
            .any(|(i, label)| BRANDS.contains(label) && labels.get(i + 1..).is_some_and(suffix_like));
        hit.then_some(EmailWarning)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Email {
    type Err = Error;

    fn from_str(s: &str) -> Result<Email> {
        Email::parse(s)
    }
}

serde_as_validated_str!(Email);

/// Advice, not an error: mail to Microsoft consumer domains may never arrive, so the form
/// suggests another address but accepts this one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct EmailWarning;

impl EmailWarning {
    /// The text the NHI registration form shows next to the field.
    pub fn message(&self, lang: Lang) -> &'static str {
        lang.pick(
            "因與微軟郵件伺服器連線異常，建議不要填寫微軟e-mail信箱(如hotmail, livemail...)，以免無法收到本署寄發的信件。",
            "Because connections to Microsoft's mail servers fail, we advise against Microsoft \
             e-mail addresses (such as hotmail, livemail...): you might not receive the mail we send.",
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses() {
        let e = Email::parse("  Chen.Wei+award@Mail.Taipei.GOV.tw ").unwrap();
        assert_eq!(e.as_str(), "Chen.Wei+award@mail.taipei.gov.tw");
        assert_eq!(e.domain(), "mail.taipei.gov.tw");
        assert_eq!(e.to_string(), "Chen.Wei+award@mail.taipei.gov.tw");
        assert_eq!(e.masked(), "Ch***@mail.taipei.gov.tw");
        assert_eq!(Email::parse("a@b.co").unwrap().masked(), "a***@b.co");
        for ok in [
            "a@b.co",
            "user@gov.taipei",
            "x_y-z@ex-ample.com.tw",
            "!#$%&'*+/=?^_`{|}~-@example.org",
            "1@123.example",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        let long_local = format!("{}@example.com", "a".repeat(64));
        assert!(Email::parse(&long_local).is_ok());
    }

    #[test]
    fn invalid_addresses() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_label = format!("a@{}.com", "b".repeat(64));
        let long_domain = format!("a@{}com", "abcdefghi.".repeat(26));
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@@example.com",
            "a@b@example.com",
            ".a@example.com",
            "a.@example.com",
            "a..b@example.com",
            "a b@example.com",
            "a(b)@example.com",
            "陳@example.com",
            "a@localhost",
            "a@example",
            "a@-example.com",
            "a@example-.com",
            "a@exa_mple.com",
            "a@example..com",
            "a@.example.com",
            "a@example.com.",
            "a@example.c0m",
            "a@example.123",
            "a@例子.tw",
            &long_local,
            &long_label,
            &long_domain,
        ] {
            let code = Email::parse(bad).err().map(|e| e.code());
            assert_eq!(code, Some(ErrorCode::EmailInvalid), "{bad}");
        }
    }

    #[test]
    fn microsoft_domains_warn() {
        for warn in [
            "a@hotmail.com",
            "a@hotmail.com.tw",
            "a@HOTMAIL.CO.UK",
            "a@outlook.com",
            "a@live.com",
            "a@live.jp",
            "a@msn.com",
            "a@livemail.tw",
            "a@mail.live.com",
        ] {
            let e = Email::parse(warn).unwrap();
            assert_eq!(e.microsoft_warning(), Some(EmailWarning), "{warn}");
        }
        for quiet in [
            "a@gmail.com",
            "a@gov.taipei",
            "a@msn.com.evil.org",
            "a@notmsn.com",
            "a@myhotmail.com",
            "a@live.example.org",
            "a@outlook.taipei.gov.tw",
            "hotmail@example.com",
        ] {
            let e = Email::parse(quiet).unwrap();
            assert_eq!(e.microsoft_warning(), None, "{quiet}");
        }
        let w = EmailWarning;
        assert!(w.message(Lang::ZhTw).contains("(如hotmail, livemail...)"));
        assert!(w.message(Lang::En).contains("Microsoft"));
    }

    #[test]
    fn serde_validates() {
        let e = Email::parse("a@example.com").unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"a@example.com\"");
        assert_eq!(serde_json::from_str::<Email>("\"a@EXAMPLE.com\"").unwrap(), e);
        assert!(serde_json::from_str::<Email>("\"a@b\"").is_err());
    }
}
