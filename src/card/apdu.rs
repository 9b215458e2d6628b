//! APDUs (ISO/IEC 7816-4): commands, responses with typed status words, and the one routine
//! that sends a command and follows the card's answers.
//!
//! Every exchange with a card goes through [`transmit`]: it is the single place that follows
//! `61xx` with GET RESPONSE, re-sends on `6Cxx` with the length the card asked for, and turns
//! `63Cx` and `6983` into the crate's PIN errors, so no caller can forget one of them.

use std::fmt;

use crate::error::{Error, ErrorCode, Result};

use super::transport::Transport;

/// Longest command data field: 65,535 bytes (extended length).
pub const MAX_DATA: usize = 65_535;
/// Longest expected response: 65,536 bytes (extended Le `00 00`).
pub const MAX_LE: u32 = 65_536;
/// How many GET RESPONSE rounds a single command may take before the card is deemed broken.
const MAX_CHAIN: usize = 256;

fn apdu_invalid(zh: impl Into<String>, en: impl Into<String>) -> Error {
    Error::with(ErrorCode::ApduInvalid, zh.into(), en.into())
}

/// A command APDU: header, optional data, optional expected length.
///
/// The four cases of ISO 7816-4 follow from what is set: case 1 (header only), case 2 (`le`),
/// case 3 (`data`), case 4 (both). [`Command::to_bytes`] picks short encoding when it fits and
/// extended encoding otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Class byte.
    pub cla: u8,
    /// Instruction byte.
    pub ins: u8,
    /// Parameter 1.
    pub p1: u8,
    /// Parameter 2.
    pub p2: u8,
    /// Command data (empty for cases 1 and 2).
    pub data: Vec<u8>,
    /// Expected response length, 1 to 65,536 (`None` for cases 1 and 3).
    pub le: Option<u32>,
}

impl Command {
    /// A case-1 command: the header alone.
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Command {
        Command {
            cla,
            ins,
            p1,
            p2,
            data: Vec::new(),
            le: None,
        }
    }

    /// The same command carrying `data` (case 3, or case 4 with an `le`).
    pub fn with_data(mut self, data: impl Into<Vec<u8>>) -> Command {
        self.data = data.into();
        self
    }

    /// The same command expecting up to `le` bytes back (case 2, or case 4 with data); 256 is
    /// short `Le = 00`, 65,536 is extended `Le = 00 00`.
    pub fn with_le(mut self, le: u32) -> Command {
        self.le = Some(le);
        self
    }

    /// Whether this command needs extended-length encoding.
    pub fn is_extended(&self) -> bool {
        self.data.len() > 255 || self.le.is_some_and(|le| le > 256)
    }

    /// The command's bytes. Data over 65,535 bytes or an `le` outside 1..=65,536 is
    /// [`ErrorCode::ApduInvalid`]; nothing is truncated.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        if self.data.len() > MAX_DATA {
            return Err(apdu_invalid(
                format!("指令資料 {} 位元組，超過上限 65535", self.data.len()),
                format!("command data of {} bytes exceeds 65535", self.data.len()),
            ));
        }
        if let Some(le) = self.le
            && !(1..=MAX_LE).contains(&le)
        {
            return Err(apdu_invalid(
                format!("預期回應長度 {le} 不在 1 至 65536 之間"),
                format!("expected length {le} is not within 1..=65536"),
            ));
        }
        let mut out = Vec::with_capacity(4 + 3 + self.data.len() + 3);
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        // The casts below are exact: lengths were checked against the field widths above.
        if self.is_extended() {
            out.push(0x00);
            if !self.data.is_empty() {
                out.extend_from_slice(&(self.data.len() as u16).to_be_bytes());
                out.extend_from_slice(&self.data);
            }
            if let Some(le) = self.le {
                out.extend_from_slice(&((le % MAX_LE) as u16).to_be_bytes());
            }
        } else {
            if !self.data.is_empty() {
                out.push(self.data.len() as u8);
                out.extend_from_slice(&self.data);
            }
            if let Some(le) = self.le {
                out.push((le % 256) as u8);
            }
        }
        Ok(out)
    }

    /// Reads a command's bytes back (what a card does; the virtual cards of the tests use it).
    pub fn parse(bytes: &[u8]) -> Result<Command> {
        let bad = || {
            apdu_invalid(
                format!("指令長度 {} 與其長度欄位不符", bytes.len()),
                format!("a command of {} bytes does not match its length fields", bytes.len()),
            )
        };
        let [cla, ins, p1, p2, body @ ..] = bytes else {
            return Err(bad());
        };
        let mut cmd = Command::new(*cla, *ins, *p1, *p2);
        match body {
            [] => {}
            [le] => cmd.le = Some(if *le == 0 { 256 } else { u32::from(*le) }),
            [0, hi, lo] => {
                let le = u32::from(u16::from_be_bytes([*hi, *lo]));
                cmd.le = Some(if le == 0 { MAX_LE } else { le });
            }
            [0, hi, lo, rest @ ..] if u16::from_be_bytes([*hi, *lo]) != 0 => {
                let lc = usize::from(u16::from_be_bytes([*hi, *lo]));
                match rest.len().checked_sub(lc) {
                    Some(0) => cmd.data = rest.to_vec(),
                    Some(2) => {
                        cmd.data = rest.get(..lc).ok_or_else(bad)?.to_vec();
                        let le = u32::from(u16::from_be_bytes([rest[lc], rest[lc + 1]]));
                        cmd.le = Some(if le == 0 { MAX_LE } else { le });
                    }
                    _ => return Err(bad()),
                }
            }
            [lc, rest @ ..] if *lc != 0 => {
                let lc = usize::from(*lc);
                match rest.len().checked_sub(lc) {
                    Some(0) => cmd.data = rest.to_vec(),
                    Some(1) => {
                        cmd.data = rest.get(..lc).ok_or_else(bad)?.to_vec();
                        let le = rest[lc];
                        cmd.le = Some(if le == 0 { 256 } else { u32::from(le) });
                    }
                    _ => return Err(bad()),
                }
            }
            _ => return Err(bad()),
        }
        Ok(cmd)
    }
}

/// A status word (SW1 SW2), typed where the meaning matters to the caller.
///
/// `StatusWord::from(u16)` followed by `u16::from` gives back the same number for every one of
/// the 65,536 values (pinned by a test); the named variants are never hidden in `Other`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusWord {
    /// `90 00`: success.
    Success,
    /// `61 xx`: success, `xx` more bytes wait for GET RESPONSE (0 means 256).
    BytesAvailable(u8),
    /// `62 xx`: warning, the card's state is unchanged.
    WarningUnchanged(u8),
    /// `63 Cx`: a verification failed, `x` tries left.
    VerifyFailed {
        /// Tries left (0 to 15).
        tries_left: u8,
    },
    /// `63 xx` other than `Cx`: warning, the card's state changed.
    WarningChanged(u8),
    /// `67 00`: wrong length.
    WrongLength,
    /// `69 82`: security status not satisfied (e.g. no PIN verified).
    SecurityNotSatisfied,
    /// `69 83`: authentication method blocked (the PIN is blocked).
    AuthBlocked,
    /// `69 85`: conditions of use not satisfied.
    ConditionsNotSatisfied,
    /// `6A 80`: incorrect data.
    IncorrectData,
    /// `6A 82`: file or application not found.
    FileNotFound,
    /// `6A 86`: incorrect P1 P2.
    IncorrectP1P2,
    /// `6C xx`: wrong Le; `xx` is the right one (0 means 256).
    WrongLe(u8),
    /// `6D 00`: instruction not supported.
    InsNotSupported,
    /// `6E 00`: class not supported.
    ClaNotSupported,
    /// `6F 00`: no precise diagnosis.
    Unknown,
    /// Any other status word.
    Other(u16),
}

impl From<u16> for StatusWord {
    fn from(sw: u16) -> StatusWord {
        let [sw1, sw2] = sw.to_be_bytes();
        match (sw1, sw2) {
            (0x90, 0x00) => StatusWord::Success,
            (0x61, n) => StatusWord::BytesAvailable(n),
            (0x62, n) => StatusWord::WarningUnchanged(n),
            (0x63, n) if n & 0xF0 == 0xC0 => StatusWord::VerifyFailed { tries_left: n & 0x0F },
            (0x63, n) => StatusWord::WarningChanged(n),
            (0x67, 0x00) => StatusWord::WrongLength,
            (0x69, 0x82) => StatusWord::SecurityNotSatisfied,
            (0x69, 0x83) => StatusWord::AuthBlocked,
            (0x69, 0x85) => StatusWord::ConditionsNotSatisfied,
            (0x6A, 0x80) => StatusWord::IncorrectData,
            (0x6A, 0x82) => StatusWord::FileNotFound,
            (0x6A, 0x86) => StatusWord::IncorrectP1P2,
            (0x6C, n) => StatusWord::WrongLe(n),
            (0x6D, 0x00) => StatusWord::InsNotSupported,
            (0x6E, 0x00) => StatusWord::ClaNotSupported,
            (0x6F, 0x00) => StatusWord::Unknown,
            _ => StatusWord::Other(sw),
        }
    }
}

impl From<StatusWord> for u16 {
    fn from(sw: StatusWord) -> u16 {
        let pair = |a: u8, b: u8| u16::from_be_bytes([a, b]);
        match sw {
            StatusWord::Success => 0x9000,
            StatusWord::BytesAvailable(n) => pair(0x61, n),
            StatusWord::WarningUnchanged(n) => pair(0x62, n),
            StatusWord::VerifyFailed { tries_left } => pair(0x63, 0xC0 | (tries_left & 0x0F)),
            StatusWord::WarningChanged(n) => pair(0x63, n),
            StatusWord::WrongLength => 0x6700,
            StatusWord::SecurityNotSatisfied => 0x6982,
            StatusWord::AuthBlocked => 0x6983,
            StatusWord::ConditionsNotSatisfied => 0x6985,
            StatusWord::IncorrectData => 0x6A80,
            StatusWord::FileNotFound => 0x6A82,
            StatusWord::IncorrectP1P2 => 0x6A86,
            StatusWord::WrongLe(n) => pair(0x6C, n),
            StatusWord::InsNotSupported => 0x6D00,
            StatusWord::ClaNotSupported => 0x6E00,
            StatusWord::Unknown => 0x6F00,
            StatusWord::Other(sw) => sw,
        }
    }
}

impl fmt::Display for StatusWord {
    /// `6A82`: the form card specifications and logs use.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", u16::from(*self))
    }
}

impl StatusWord {
    /// Whether the command succeeded (`9000`, or `61xx` before GET RESPONSE).
    pub fn is_success(self) -> bool {
        matches!(self, StatusWord::Success | StatusWord::BytesAvailable(_))
    }
}

/// A response APDU: data and status word.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The response data (without the status word).
    pub data: Vec<u8>,
    /// The status word.
    pub sw: StatusWord,
}

impl Response {
    /// Splits a raw response; fewer than two bytes is [`ErrorCode::ApduInvalid`].
    pub fn parse(bytes: &[u8]) -> Result<Response> {
        match bytes {
            [data @ .., sw1, sw2] => Ok(Response {
                data: data.to_vec(),
                sw: StatusWord::from(u16::from_be_bytes([*sw1, *sw2])),
            }),
            _ => Err(apdu_invalid(
                format!("卡片回應只有 {} 位元組，缺少狀態碼", bytes.len()),
                format!("the card's response has {} bytes, no status word", bytes.len()),
            )),
        }
    }

    /// The response's bytes: data then status word.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.data.clone();
        out.extend_from_slice(&u16::from(self.sw).to_be_bytes());
        out
    }

    /// The data if the status word is `9000`, else [`ErrorCode::CardStatus`] naming the command
    /// and the status word.
    pub fn into_data(self, what: &str) -> Result<Vec<u8>> {
        if self.sw == StatusWord::Success {
            Ok(self.data)
        } else {
            Err(Error::with(
                ErrorCode::CardStatus,
                format!("{what}：狀態碼 {}", self.sw),
                format!("{what}: status word {}", self.sw),
            ))
        }
    }
}

/// Sends a command and follows the card's answers to the end:
///
/// - `6Cxx` (wrong Le): the same command is sent once more with `Le = xx`;
/// - `61xx` (more data): GET RESPONSE `00 C0 00 00 xx` until the card says `9000` or an error,
///   the data of every round joined (at most 256 rounds, then [`ErrorCode::ApduInvalid`]);
/// - `63Cx`: [`Error::PinIncorrect`] with `tries_left: Some(x)`;
/// - `6983`: [`ErrorCode::PinBlocked`].
///
/// Any other status word comes back in the [`Response`] for the caller to judge.
pub fn transmit(transport: &mut dyn Transport, command: &Command) -> Result<Response> {
    let mut response = Response::parse(&transport.transmit_raw(&command.to_bytes()?)?)?;
    if let StatusWord::WrongLe(n) = response.sw {
        let retry = command.clone().with_le(if n == 0 { 256 } else { u32::from(n) });
        response = Response::parse(&transport.transmit_raw(&retry.to_bytes()?)?)?;
    }
    let mut rounds = 0;
    while let StatusWord::BytesAvailable(n) = response.sw {
        rounds += 1;
        if rounds > MAX_CHAIN {
            return Err(apdu_invalid(
                "卡片回應串接超過 256 次",
                "the card chained more than 256 GET RESPONSE rounds",
            ));
        }
        let get = Command::new(0x00, 0xC0, 0x00, 0x00).with_le(if n == 0 { 256 } else { u32::from(n) });
        let next = Response::parse(&transport.transmit_raw(&get.to_bytes()?)?)?;
        response.data.extend_from_slice(&next.data);
        response.sw = next.sw;
    }
    match response.sw {
        StatusWord::VerifyFailed { tries_left } => Err(Error::PinIncorrect {
            tries_left: Some(u32::from(tries_left)),
        }),
        StatusWord::AuthBlocked => Err(Error::new(ErrorCode::PinBlocked)),
        _ => Ok(response),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn status_words_round_trip_losslessly() {
        for n in 0..=u16::MAX {
            assert_eq!(u16::from(StatusWord::from(n)), n, "{n:04X}");
        }
        assert_eq!(StatusWord::from(0x63C2), StatusWord::VerifyFailed { tries_left: 2 });
        assert_eq!(StatusWord::from(0x6300), StatusWord::WarningChanged(0));
        assert_eq!(StatusWord::from(0x6983), StatusWord::AuthBlocked);
        assert_eq!(StatusWord::from(0x9001), StatusWord::Other(0x9001));
        assert_eq!(StatusWord::FileNotFound.to_string(), "6A82");
    }

    #[test]
    fn the_four_cases_short_and_extended() {
        let h = Command::new(0x00, 0xA4, 0x04, 0x00);
        assert_eq!(h.to_bytes().unwrap(), [0x00, 0xA4, 0x04, 0x00]);
        assert_eq!(
            h.clone().with_le(256).to_bytes().unwrap(),
            [0x00, 0xA4, 0x04, 0x00, 0x00]
        );
        assert_eq!(h.clone().with_le(5).to_bytes().unwrap(), [0x00, 0xA4, 0x04, 0x00, 0x05]);
        assert_eq!(
            h.clone().with_data([1, 2]).to_bytes().unwrap(),
            [0x00, 0xA4, 0x04, 0x00, 0x02, 1, 2]
        );
        assert_eq!(
            h.clone().with_data([1, 2]).with_le(256).to_bytes().unwrap(),
            [0x00, 0xA4, 0x04, 0x00, 0x02, 1, 2, 0x00]
        );
        // Extended: Le over 256, data over 255, Le of 65,536.
        assert_eq!(
            h.clone().with_le(257).to_bytes().unwrap(),
            [0x00, 0xA4, 0x04, 0x00, 0x00, 0x01, 0x01]
        );
        assert_eq!(
            h.clone().with_le(MAX_LE).to_bytes().unwrap(),
            [0x00, 0xA4, 0x04, 0x00, 0x00, 0x00, 0x00]
        );
        let big = vec![7u8; 300];
        let bytes = h.clone().with_data(big.clone()).with_le(2).to_bytes().unwrap();
        assert_eq!(&bytes[..7], [0x00, 0xA4, 0x04, 0x00, 0x00, 0x01, 0x2C]);
        assert_eq!(&bytes[7..307], big.as_slice());
        assert_eq!(&bytes[307..], [0x00, 0x02]);
        let bytes = h.clone().with_data(big.clone()).to_bytes().unwrap();
        assert_eq!(bytes.len(), 4 + 3 + 300);
    }

    #[test]
    fn commands_parse_back() {
        let h = Command::new(0x80, 0xCA, 0x11, 0x00);
        for cmd in [
            h.clone(),
            h.clone().with_le(1),
            h.clone().with_le(256),
            h.clone().with_le(257),
            h.clone().with_le(MAX_LE),
            h.clone().with_data([0, 0]),
            h.clone().with_data([0, 0]).with_le(256),
            h.clone().with_data(vec![9; 255]).with_le(256),
            h.clone().with_data(vec![9; 256]),
            h.clone().with_data(vec![9; 256]).with_le(MAX_LE),
            h.clone().with_data(vec![9; MAX_DATA]).with_le(3),
        ] {
            assert_eq!(Command::parse(&cmd.to_bytes().unwrap()).unwrap(), cmd);
        }
    }

    #[test]
    fn bad_commands_are_errors_not_panics() {
        let code = |r: Result<Command>| r.err().map(|e| e.code());
        for bytes in [
            &[][..],
            &[0, 1, 2],
            &[0, 0xA4, 4, 0, 3, 1, 2],
            &[0, 0xA4, 4, 0, 1, 1, 2, 3],
            &[0, 0xA4, 4, 0, 0, 0, 2, 1],
            &[0, 0xA4, 4, 0, 0, 0],
        ] {
            assert_eq!(
                code(Command::parse(bytes)),
                Some(ErrorCode::ApduInvalid),
                "{bytes:02X?}"
            );
        }
        let h = Command::new(0, 0xB0, 0, 0);
        assert_eq!(
            h.clone().with_le(0).to_bytes().err().map(|e| e.code()),
            Some(ErrorCode::ApduInvalid)
        );
        assert_eq!(
            h.clone().with_le(MAX_LE + 1).to_bytes().err().map(|e| e.code()),
            Some(ErrorCode::ApduInvalid)
        );
        assert_eq!(
            h.with_data(vec![0; MAX_DATA + 1]).to_bytes().err().map(|e| e.code()),
            Some(ErrorCode::ApduInvalid)
        );
        assert_eq!(
            Response::parse(&[0x90]).err().map(|e| e.code()),
            Some(ErrorCode::ApduInvalid)
        );
    }

    #[test]
    fn responses() {
        let r = Response::parse(&[1, 2, 0x90, 0x00]).unwrap();
        assert_eq!(r.data, [1, 2]);
        assert_eq!(r.sw, StatusWord::Success);
        assert_eq!(r.to_bytes(), [1, 2, 0x90, 0x00]);
        let e = Response::parse(&[0x6A, 0x82]).unwrap().into_data("SELECT").unwrap_err();
        assert_eq!(e.code(), ErrorCode::CardStatus);
        assert!(e.message(crate::types::Lang::En).contains("6A82"));
    }
}
