//! The PC/SC backend (pcsc-lite on Linux and macOS, WinSCard on Windows): the only file of the
//! crate that names the `pcsc` crate.
//!
//! Three things here matter more than they look:
//! - dropping a `pcsc::Card` resets the card for every program using it, so [`PcscCard`]
//!   always disconnects with `LeaveCard`, explicitly, also when dropped;
//! - each PC/SC failure a person can cause or fix (service stopped, no reader, no card, card
//!   pulled out, card reset by another program, reader held exclusively) has its own code;
//! - waiting for a card compares the PRESENT / EMPTY bits of `SCardGetStatusChange`, because
//!   the CHANGED bit alone also fires when nothing a person would notice happened.

use std::ffi::CString;
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorCode, Result};

use super::transport::Transport;

/// Maps a PC/SC error to the crate's error, keeping pcsc-lite's own words as the detail.
fn map_error(e: pcsc::Error) -> Error {
    let code = match e {
        pcsc::Error::NoService | pcsc::Error::ServiceStopped => ErrorCode::PcscUnavailable,
        pcsc::Error::NoReadersAvailable | pcsc::Error::UnknownReader | pcsc::Error::ReaderUnavailable => {
            ErrorCode::ReaderNotFound
        }
        pcsc::Error::NoSmartcard => ErrorCode::CardAbsent,
        pcsc::Error::RemovedCard => ErrorCode::CardRemoved,
        pcsc::Error::ResetCard => ErrorCode::CardReset,
        pcsc::Error::NotTransacted => ErrorCode::CardNotTransacted,
        pcsc::Error::SharingViolation => ErrorCode::CardInUse,
        pcsc::Error::Timeout => ErrorCode::CardTimeout,
        _ => ErrorCode::CardTransportFailed,
    };
    let words = e.to_string();
    Error::caused(code, format!("PC/SC：{words}"), format!("PC/SC: {words}"), e)
}

/// What a reader holds, as PC/SC reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// The reader's name.
    pub reader: String,
    /// The card's ATR, if a card is present.
    pub atr: Option<Vec<u8>>,
}

/// What to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardEvent {
    /// A card is present (returns at once if one already is).
    Inserted,
    /// The reader is empty (returns at once if it already is).
    Removed,
}

/// A connection to the PC/SC service.
///
/// After the service restarts, a context made before keeps failing with
/// [`ErrorCode::PcscUnavailable`]: make a new one.
pub struct PcscContext {
    ctx: pcsc::Context,
}

impl std::fmt::Debug for PcscContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PcscContext")
    }
}

fn reader_cstring(name: &str) -> Result<CString> {
    CString::new(name).map_err(|_| {
        Error::with(
            ErrorCode::ReaderNotFound,
            "讀卡機名稱含有 NUL 字元",
            "the reader name holds a NUL character",
        )
    })
}

impl PcscContext {
    /// Connects to the PC/SC service (user scope).
    pub fn establish() -> Result<PcscContext> {
        let ctx = pcsc::Context::establish(pcsc::Scope::User).map_err(map_error)?;
        Ok(PcscContext { ctx })
    }

    /// The names of the connected readers; none is an empty list, not an error.
    pub fn reader_names(&self) -> Result<Vec<String>> {
        match self.ctx.list_readers_owned() {
            Ok(names) => Ok(names.iter().map(|n| n.to_string_lossy().into_owned()).collect()),
            Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
            Err(e) => Err(map_error(e)),
        }
    }

    /// What each reader holds right now.
    pub fn slots(&self) -> Result<Vec<Slot>> {
        let names = self.reader_names()?;
        let mut states = names
            .iter()
            .map(|n| Ok(pcsc::ReaderState::new(reader_cstring(n)?, pcsc::State::UNAWARE)))
            .collect::<Result<Vec<_>>>()?;
        if states.is_empty() {
            return Ok(Vec::new());
        }
        match self.ctx.get_status_change(Duration::ZERO, &mut states) {
            Ok(()) | Err(pcsc::Error::Timeout) => {}
            Err(e) => return Err(map_error(e)),
        }
        Ok(states
            .iter()
            .map(|s| Slot {
                reader: s.name().to_string_lossy().into_owned(),
                atr: s.event_state().contains(pcsc::State::PRESENT).then(|| s.atr().to_vec()),
            })
            .collect())
    }

    /// Waits until one of `readers` (all readers when empty) sees `event`, for at most
    /// `timeout`; returns that reader's name. Past the timeout: [`ErrorCode::CardTimeout`].
    pub fn wait_for(&self, readers: &[String], event: CardEvent, timeout: Duration) -> Result<String> {
        let names = if readers.is_empty() {
            self.reader_names()?
        } else {
            readers.to_vec()
        };
        if names.is_empty() {
            return Err(Error::new(ErrorCode::ReaderNotFound));
        }
        let mut states = names
            .iter()
            .map(|n| Ok(pcsc::ReaderState::new(reader_cstring(n)?, pcsc::State::UNAWARE)))
            .collect::<Result<Vec<_>>>()?;
        let deadline = Instant::now() + timeout;
        let mut wait = Duration::ZERO;
        loop {
            match self.ctx.get_status_change(wait, &mut states) {
                Ok(()) | Err(pcsc::Error::Timeout) => {}
                Err(e) => return Err(map_error(e)),
            }
            for s in &states {
                let state = s.event_state();
                let hit = match event {
                    CardEvent::Inserted => state.contains(pcsc::State::PRESENT),
                    CardEvent::Removed => state.contains(pcsc::State::EMPTY),
                };
                if hit {
                    return Ok(s.name().to_string_lossy().into_owned());
                }
            }
            for s in &mut states {
                s.sync_current_state();
            }
            wait = deadline.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                let secs = timeout.as_secs_f64();
                return Err(match event {
                    CardEvent::Inserted => Error::with(
                        ErrorCode::CardTimeout,
                        format!("等候 {secs:.1} 秒仍未插入卡片"),
                        format!("no card was inserted within {secs:.1} s"),
                    ),
                    CardEvent::Removed => Error::with(
                        ErrorCode::CardTimeout,
                        format!("等候 {secs:.1} 秒仍未取出卡片"),
                        format!("the card was not removed within {secs:.1} s"),
                    ),
                });
            }
        }
    }

    /// Connects to the card in `reader`, shared with other programs, T=0 or T=1.
    pub fn connect(&self, reader: &str) -> Result<PcscCard> {
        let name = reader_cstring(reader)?;
        let card = self
            .ctx
            .connect(&name, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
            .map_err(map_error)?;
        let atr = card
            .get_attribute_owned(pcsc::Attribute::AtrString)
            .or_else(|_| card.status2_owned().map(|s| s.atr().to_vec()))
            .map_err(map_error)?;
        Ok(PcscCard {
            card: Some(card),
            reader: reader.to_owned(),
            atr,
            buf: vec![0; pcsc::MAX_BUFFER_SIZE_EXTENDED],
        })
    }
}

/// A card connected over PC/SC. Dropping it disconnects with `LeaveCard` (never a reset), and
/// so does [`PcscCard::disconnect`], which also reports a failure.
pub struct PcscCard {
    card: Option<pcsc::Card>,
    reader: String,
    atr: Vec<u8>,
    buf: Vec<u8>,
}

impl std::fmt::Debug for PcscCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscCard")
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

impl PcscCard {
    /// Disconnects, leaving the card as it is for the next program.
    pub fn disconnect(mut self) -> Result<()> {
        match self.card.take() {
            Some(card) => card.disconnect(pcsc::Disposition::LeaveCard).map_err(|(card, e)| {
                // The handle is unusable; forget it rather than let its Drop reset the card.
                std::mem::forget(card);
                map_error(e)
            }),
            None => Ok(()),
        }
    }
}

impl Drop for PcscCard {
    fn drop(&mut self) {
        if let Some(card) = self.card.take()
            && let Err((card, _)) = card.disconnect(pcsc::Disposition::LeaveCard)
        {
            std::mem::forget(card);
        }
    }
}

impl Transport for PcscCard {
    fn transmit_raw(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        let card = self.card.as_ref().ok_or_else(|| Error::new(ErrorCode::CardRemoved))?;
        let response = card.transmit(command, &mut self.buf).map_err(map_error)?;
        if response.is_empty() {
            // What a reader driver (vpcd among them) reports when the card went away mid-command:
            // success with no bytes, not even a status word.
            return Err(Error::with(
                ErrorCode::CardNotTransacted,
                "讀卡機回報卡片沒有回應（卡片可能已被取出）",
                "the reader got no answer from the card (it may have been pulled out)",
            ));
        }
        Ok(response.to_vec())
    }

    fn atr(&self) -> &[u8] {
        &self.atr
    }

    fn reader_name(&self) -> &str {
        &self.reader
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pcsc_failure_keeps_pcsc_lites_error_as_its_source() {
        let e = map_error(pcsc::Error::RemovedCard);
        assert_eq!(e.code(), ErrorCode::CardRemoved);
        let source = std::error::Error::source(&e).expect("a source");
        assert_eq!(source.downcast_ref::<pcsc::Error>(), Some(&pcsc::Error::RemovedCard));
    }
}
