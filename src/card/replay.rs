//! Recorded card exchanges: a transport that records what passes through it, and one that plays
//! a transcript back.
//!
//! A transcript is text, one exchange per pair of lines:
//!
//! ```text
//! # comments and blank lines are ignored
//! atr: 3B EE 00 00 81 31 FE 45 80 31 80 66 40 90 93 06 0F 17 83 0F 90 00 F3
//! > 00 A4 04 00 10 D1 58 00 00 01 00 00 00 00 00 00 00 00 00 11 00
//! < 90 00
//! ```
//!
//! Hex may be written with or without spaces, in either case. The optional `atr:` line gives
//! the ATR the replayed card reports. Replaying checks every command against the transcript, so
//! a test fails loudly if the code under test sends anything else.

use std::fmt::Write as _;
use std::path::Path;

use crate::error::{Error, ErrorCode, Result};

use super::transport::Transport;

fn transcript_invalid(zh: impl Into<String>, en: impl Into<String>) -> Error {
    Error::with(ErrorCode::CardTranscriptInvalid, zh.into(), en.into())
}

fn spaced_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{b:02X}");
    }
    s
}

/// One command and the card's raw response to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The command APDU as sent.
    pub command: Vec<u8>,
    /// The response as received (data and status word).
    pub response: Vec<u8>,
}

/// A sequence of exchanges, with the ATR of the card they were made with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    /// The card's ATR (empty if the transcript does not say).
    pub atr: Vec<u8>,
    /// The exchanges, in order.
    pub exchanges: Vec<Exchange>,
}

impl Transcript {
    /// Reads a transcript's text. A line that is neither a comment, `atr:`, `>` nor `<`, bad
    /// hex, or a `<` without its `>` is [`ErrorCode::CardTranscriptInvalid`] naming the line.
    pub fn parse(text: &str) -> Result<Transcript> {
        let mut t = Transcript::default();
        let mut pending: Option<Vec<u8>> = None;
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let line = line.trim();
            let hex_of = |s: &str| {
                let digits: String = s.chars().filter(|c| !c.is_whitespace()).collect();
                hex::decode(&digits).map_err(|e| {
                    transcript_invalid(
                        format!("第 {n} 行的十六進位內容錯誤：{e}"),
                        format!("line {n}: bad hex: {e}"),
                    )
                })
            };
            if line.is_empty() || line.starts_with('#') {
                continue;
            } else if let Some(rest) = line.strip_prefix("atr:") {
                t.atr = hex_of(rest)?;
            } else if let Some(rest) = line.strip_prefix('>') {
                if pending.is_some() {
                    return Err(transcript_invalid(
                        format!("第 {n} 行：前一個指令沒有回應"),
                        format!("line {n}: the previous command has no response"),
                    ));
                }
                pending = Some(hex_of(rest)?);
            } else if let Some(rest) = line.strip_prefix('<') {
                let command = pending.take().ok_or_else(|| {
                    transcript_invalid(
                        format!("第 {n} 行：回應之前沒有指令"),
                        format!("line {n}: a response without a command"),
                    )
                })?;
                let response = hex_of(rest)?;
                if response.len() < 2 {
                    return Err(transcript_invalid(
                        format!("第 {n} 行：回應缺少狀態碼"),
                        format!("line {n}: the response has no status word"),
                    ));
                }
                t.exchanges.push(Exchange { command, response });
            } else {
                return Err(transcript_invalid(
                    format!("第 {n} 行無法辨識（應為 >、<、atr: 或 #）"),
                    format!("line {n} is not understood (expected >, <, atr: or #)"),
                ));
            }
        }
        if pending.is_some() {
            return Err(transcript_invalid(
                "最後一個指令沒有回應",
                "the last command has no response",
            ));
        }
        Ok(t)
    }

    /// Reads a transcript file.
    pub fn load(path: impl AsRef<Path>) -> Result<Transcript> {
        Transcript::parse(&std::fs::read_to_string(path)?)
    }

    /// The transcript as text, in the form [`Transcript::parse`] reads.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        if !self.atr.is_empty() {
            let _ = writeln!(s, "atr: {}", spaced_hex(&self.atr));
        }
        for e in &self.exchanges {
            let _ = writeln!(s, "> {}", spaced_hex(&e.command));
            let _ = writeln!(s, "< {}", spaced_hex(&e.response));
        }
        s
    }
}

/// Wraps a transport and records every exchange that passes through it.
///
/// The recording holds whatever the card said, personal data included: keep recordings of real
/// cards out of repositories and logs.
#[derive(Debug)]
pub struct RecordingTransport<T> {
    inner: T,
    transcript: Transcript,
}

impl<T: Transport> RecordingTransport<T> {
    /// Starts recording on `inner`.
    pub fn new(inner: T) -> Self {
        let atr = inner.atr().to_vec();
        RecordingTransport {
            inner,
            transcript: Transcript {
                atr,
                exchanges: Vec::new(),
            },
        }
    }

    /// What was recorded so far.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// Stops recording: the inner transport and the transcript.
    pub fn into_parts(self) -> (T, Transcript) {
        (self.inner, self.transcript)
    }
}

impl<T: Transport> Transport for RecordingTransport<T> {
    fn transmit_raw(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        let response = self.inner.transmit_raw(command)?;
        self.transcript.exchanges.push(Exchange {
            command: command.to_vec(),
            response: response.clone(),
        });
        Ok(response)
    }

    fn atr(&self) -> &[u8] {
        self.inner.atr()
    }

    fn reader_name(&self) -> &str {
        self.inner.reader_name()
    }
}

/// Plays a transcript back as a card: each command must be the next one in the transcript, and
/// gets its recorded response.
#[derive(Debug, Clone)]
pub struct ReplayTransport {
    transcript: Transcript,
    next: usize,
    reader: String,
}

impl ReplayTransport {
    /// A card that answers as `transcript` says.
    pub fn new(transcript: Transcript) -> Self {
        ReplayTransport {
            transcript,
            next: 0,
            reader: "replay".to_owned(),
        }
    }

    /// A card that answers as the transcript file at `path` says.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let mut t = ReplayTransport::new(Transcript::load(path)?);
        t.reader = format!("replay:{}", path.display());
        Ok(t)
    }

    /// Exchanges not yet replayed.
    pub fn remaining(&self) -> usize {
        self.transcript.exchanges.len().saturating_sub(self.next)
    }

    /// Checks that every exchange of the transcript was replayed: code that stops early (or
    /// skips a GET RESPONSE) fails here.
    pub fn finish(&self) -> Result<()> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(transcript_invalid(
                format!("交換紀錄尚有 {n} 筆未使用"),
                format!("{n} exchanges of the transcript were not replayed"),
            )),
        }
    }
}

impl Transport for ReplayTransport {
    fn transmit_raw(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        let n = self.next + 1;
        let expected = self.transcript.exchanges.get(self.next).ok_or_else(|| {
            transcript_invalid(
                format!("第 {n} 個指令 {} 超出交換紀錄", spaced_hex(command)),
                format!(
                    "command {n} ({}) is past the end of the transcript",
                    spaced_hex(command)
                ),
            )
        })?;
        if expected.command != command {
            return Err(transcript_invalid(
                format!(
                    "第 {n} 個指令應為 {}，實際為 {}",
                    spaced_hex(&expected.command),
                    spaced_hex(command)
                ),
                format!(
                    "command {n} should be {} but was {}",
                    spaced_hex(&expected.command),
                    spaced_hex(command)
                ),
            ));
        }
        self.next += 1;
        Ok(expected.response.clone())
    }

    fn atr(&self) -> &[u8] {
        &self.transcript.atr
    }

    fn reader_name(&self) -> &str {
        &self.reader
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip_and_errors() {
        let text = "# x\natr: 3b 01\n\n> 00A4 0400\n< 90 00\n> 00 B0 00 00 02\n< 01 02 90 00\n";
        let t = Transcript::parse(text).unwrap();
        assert_eq!(t.atr, [0x3B, 0x01]);
        assert_eq!(t.exchanges.len(), 2);
        assert_eq!(Transcript::parse(&t.to_text()).unwrap(), t);
        let code = |s: &str| Transcript::parse(s).err().map(|e| e.code());
        for bad in [
            "> 00\n",
            "< 9000\n",
            "> 00\n> 01\n< 9000\n",
            "> 0G\n< 9000\n",
            "> 00\n< 90\n",
            "hello\n",
        ] {
            assert_eq!(code(bad), Some(ErrorCode::CardTranscriptInvalid), "{bad:?}");
        }
    }

    #[test]
    fn replay_checks_every_command() {
        let mut r = ReplayTransport::new(Transcript::parse("> 00 01\n< 90 00\n> 00 02\n< 90 00\n").unwrap());
        assert_eq!(r.transmit_raw(&[0, 1]).unwrap(), [0x90, 0]);
        assert_eq!(
            r.finish().err().map(|e| e.code()),
            Some(ErrorCode::CardTranscriptInvalid)
        );
        assert_eq!(
            r.transmit_raw(&[0, 3]).err().map(|e| e.code()),
            Some(ErrorCode::CardTranscriptInvalid)
        );
        assert_eq!(r.transmit_raw(&[0, 2]).unwrap(), [0x90, 0]);
        r.finish().unwrap();
        assert_eq!(
            r.transmit_raw(&[0, 2]).err().map(|e| e.code()),
            Some(ErrorCode::CardTranscriptInvalid)
        );
    }

    #[test]
    fn recording_replays() {
        let source = ReplayTransport::new(Transcript::parse("atr: 3B 00\n> 00 01\n< 01 90 00\n").unwrap());
        let mut rec = RecordingTransport::new(source);
        rec.transmit_raw(&[0, 1]).unwrap();
        let (_, t) = rec.into_parts();
        assert_eq!(t.to_text(), "atr: 3B 00\n> 00 01\n< 01 90 00\n");
    }
}
