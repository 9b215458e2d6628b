//! Secrets a person types: the registration password and the citizen-card PIN.
//!
//! Both are wiped from memory when dropped ([`zeroize::Zeroizing`]), never printed by `Debug`,
//! have no `Display` and no serde, and their errors never repeat them.

use std::fmt;

use zeroize::Zeroizing;

use crate::error::{Error, ErrorCode, Result};

use super::Lang;

/// The password registered for an NHI card (註冊密碼), also used for eCPA account passwords.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

/// The password policy, the only copy in the crate: 6 to 12 characters, each printable ASCII
/// (0x21–0x7E), none of space, `<`, `>`, `'` or `"` (the NHI form forbids them).
fn password_policy(candidate: &str) -> Result<()> {
    let broken = |zh: &'static str, en: &'static str| Err(Error::with(ErrorCode::PasswordPolicy, zh, en));
    let length = candidate.chars().count();
    if !(6..=12).contains(&length) {
        return broken(
            "註冊密碼長度必需6-12碼。",
            "The registration password must be 6 to 12 characters long.",
        );
    }
    if candidate.chars().any(|c| matches!(c, ' ' | '<' | '>' | '\'' | '"')) {
        return broken(
            "不可包含空白、<、>、'、\"",
            "it must not contain a space, <, >, ' or \"",
        );
    }
    if !candidate.bytes().all(|b| (0x21..=0x7E).contains(&b)) {
        return broken(
            "只能使用半形英文字母、數字及鍵盤符號",
            "only ASCII letters, digits and keyboard symbols are allowed",
        );
    }
    Ok(())
}

/// Compares two byte strings without stopping at the first difference, so response times do
/// not reveal how much of a guess was right.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    std::hint::black_box(diff) == 0
}

impl Password {
    /// Takes ownership of a typed password and checks it against the policy. The text is held
    /// in zeroizing memory from the start, so a refused password is wiped too.
    pub fn new(password: impl Into<String>) -> Result<Password> {
        let password = Zeroizing::new(password.into());
        password_policy(&password)?;
        Ok(Password(password))
    }

    /// A password from the form's two fields: checks the policy, then that the confirmation
    /// (確認密碼) is the same, comparing in time independent of where they differ.
    pub fn confirm(password: impl Into<String>, confirmation: impl AsRef<str>) -> Result<Password> {
        let password = Password::new(password)?;
        if !same_bytes(password.expose().as_bytes(), confirmation.as_ref().as_bytes()) {
            return Err(Error::new(ErrorCode::PasswordMismatch));
        }
        Ok(password)
    }

    /// The password itself, for hashing or comparing. Named so every use is easy to find.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The strength shown by the registration form's meter.
    pub fn strength(&self) -> Strength {
        password_strength(&self.0)
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// The four steps of the registration form's password meter (弱 / 中 / 中強 / 強), in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Strength {
    /// 弱: fewer than two kinds of character, or shorter than 6.
    Weak,
    /// 中: two kinds of character, at least 6 long.
    Medium,
    /// 中強: three kinds of character, at least 8 long.
    MediumStrong,
    /// 強: upper case, lower case, digit and one of `~!@#$%^&*`, at least 8 long.
    Strong,
}

impl Strength {
    /// The word the meter shows.
    pub fn label(self, lang: Lang) -> &'static str {
        match self {
            Strength::Weak => lang.pick("弱", "weak"),
            Strength::Medium => lang.pick("中", "medium"),
            Strength::MediumStrong => lang.pick("中強", "medium-strong"),
            Strength::Strong => lang.pick("強", "strong"),
        }
    }
}

/// The meter, usable while the person is still typing (the text need not pass the policy).
///
/// Let *classes* be how many of these occur: an upper-case letter, a lower-case letter, a digit,
/// one of `~!@#$%^&*`; and *length* the number of characters. Then: **Strong** = all four
/// classes and length ≥ 8; **MediumStrong** = at least three classes and length ≥ 8;
/// **Medium** = at least two classes and length ≥ 6; otherwise **Weak**. Adding characters never
/// lowers the result.
pub fn password_strength(candidate: &str) -> Strength {
    let has = |pred: fn(char) -> bool| usize::from(candidate.chars().any(pred));
    let classes = has(|c| c.is_ascii_uppercase())
        + has(|c| c.is_ascii_lowercase())
        + has(|c| c.is_ascii_digit())
        + has(|c| "~!@#$%^&*".contains(c));
    let length = candidate.chars().count();
    match (classes, length) {
        (4, 8..) => Strength::Strong,
        (3.., 8..) => Strength::MediumStrong,
        (2.., 6..) => Strength::Medium,
        _ => Strength::Weak,
    }
}

/// The PIN of the citizen digital certificate card (自然人憑證 PIN碼).
///
/// Three wrong PINs lock the card, so this type only checks the shape, to refuse an obvious
/// typo before it costs a try: 6 to 8 ASCII letters or digits.
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    /// Takes ownership of a typed PIN and checks its shape (the PIN policy's only copy).
    pub fn new(pin: impl Into<String>) -> Result<Pin> {
        let pin = Zeroizing::new(pin.into());
        let ok = (6..=8).contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_alphanumeric());
        if !ok {
            return Err(Error::with(
                ErrorCode::PinFormatInvalid,
                "PIN 碼應為 6 至 8 碼英文字母或數字",
                "the PIN must be 6 to 8 ASCII letters or digits",
            ));
        }
        Ok(Pin(pin))
    }

    /// The PIN itself, for the card module. Named so every use is easy to find.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(***)")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn code_of<T>(r: Result<T>) -> Option<ErrorCode> {
        r.err().map(|e| e.code())
    }

    #[test]
    fn policy() {
        for ok in ["abc123", "Abcdef12!@#$", "~!@#$%", "a&b;c:d[e]"] {
            assert_eq!(Password::new(ok).unwrap().expose(), ok);
        }
        for bad in [
            "",
            "abc12",
            "abcdefghi1234",
            "abc 123",
            "abc<123",
            "abc>123",
            "abc'123",
            "abc\"123",
            "abc\t123",
            "abc\u{7f}123",
            "密碼abcdef",
            "ａbcdef",
        ] {
            assert_eq!(code_of(Password::new(bad)), Some(ErrorCode::PasswordPolicy), "{bad:?}");
        }
        // Length counts characters, not bytes: six CJK characters are long enough but not ASCII.
        let err = Password::new("密碼密碼密碼").unwrap_err();
        assert!(err.message(Lang::En).contains("ASCII"));
    }

    #[test]
    fn policy_names_the_rule_and_hides_the_password() {
        let err = Password::new("secret<1").unwrap_err();
        assert!(err.message(Lang::ZhTw).contains("不可包含"));
        assert!(!err.message(Lang::ZhTw).contains("secret"));
        assert!(!format!("{err:?}").contains("secret"));
        let err = Password::new("sec").unwrap_err();
        assert!(err.message(Lang::En).contains("6 to 12"));
    }

    #[test]
    fn confirmation() {
        assert_eq!(Password::confirm("abc123", "abc123").unwrap().expose(), "abc123");
        assert_eq!(
            code_of(Password::confirm("abc123", "abc124")),
            Some(ErrorCode::PasswordMismatch)
        );
        assert_eq!(
            code_of(Password::confirm("abc123", "abc1234")),
            Some(ErrorCode::PasswordMismatch)
        );
        assert_eq!(
            code_of(Password::confirm("abc123", "")),
            Some(ErrorCode::PasswordMismatch)
        );
        let typed = String::from("abc123");
        assert!(Password::confirm(&typed, &typed).is_ok());
        assert_eq!(code_of(Password::confirm("ab", "ab")), Some(ErrorCode::PasswordPolicy));
        assert!(same_bytes(b"", b""));
        assert!(!same_bytes(b"a", b"a\0"));
    }

    #[test]
    fn debug_hides_secrets() {
        let p = Password::new("Abc123!x").unwrap();
        assert_eq!(format!("{p:?}"), "Password(***)");
        let pin = Pin::new("123456").unwrap();
        assert_eq!(format!("{pin:?}"), "Pin(***)");
        assert_eq!(format!("{:?}", Some(pin.clone())), "Some(Pin(***))");
        assert_eq!(pin.expose(), "123456");
    }

    #[test]
    fn meter_steps() {
        use Strength::*;
        assert_eq!(password_strength(""), Weak);
        assert_eq!(password_strength("abcdefgh"), Weak);
        assert_eq!(password_strength("12345678"), Weak);
        assert_eq!(password_strength("ab12"), Weak);
        assert_eq!(password_strength("abc123"), Medium);
        assert_eq!(password_strength("Abc123"), Medium);
        assert_eq!(password_strength("Abc12!"), Medium);
        assert_eq!(password_strength("abcd1234"), Medium);
        assert_eq!(password_strength("Abcd1234"), MediumStrong);
        assert_eq!(password_strength("abcd123!"), MediumStrong);
        assert_eq!(password_strength("Abcd123!"), Strong);
        assert_eq!(password_strength("P@ssw0rd2019"), Strong);
        // Symbols outside ~!@#$%^&* do not count as the special class.
        assert_eq!(password_strength("Abcd123?"), MediumStrong);
        assert_eq!(Password::new("Abcd123!").unwrap().strength(), Strong);
        assert_eq!(Strong.label(Lang::ZhTw), "強");
        assert_eq!(MediumStrong.label(Lang::ZhTw), "中強");
        assert_eq!(Medium.label(Lang::En), "medium");
        assert_eq!(Weak.label(Lang::ZhTw), "弱");
        assert!(Weak < Medium && Medium < MediumStrong && MediumStrong < Strong);
    }

    #[test]
    fn pins() {
        for ok in ["123456", "12345678", "abCD1234"] {
            assert!(Pin::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", "12345", "123456789", "1234 56", "12345６", "123-456"] {
            assert_eq!(code_of(Pin::new(bad)), Some(ErrorCode::PinFormatInvalid), "{bad}");
        }
    }
}
