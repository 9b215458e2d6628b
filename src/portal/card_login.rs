//! NHI-card login with the card itself: read it, over PC/SC or any [`Transport`], then log in
//! with its data and the registered password ([`Portal::login_nhi_card`]).
//!
//! The NHI card signs nothing for its holder: an NHI-card login is "this card is present and
//! read" plus the password registered for its number. These helpers live with the engine, not
//! in `card/`, so the card layer knows nothing of the portal and the layers point one way.

use std::time::Duration;

use super::{Portal, Session};
use crate::card::{Transport, nhi};
use crate::error::Result;
use crate::types::Password;

/// Logs in with the NHI card behind `transport` (a PC/SC card, a replayed transcript) and the
/// registered password.
pub fn login_over<P: Portal + ?Sized>(
    portal: &P,
    transport: &mut dyn Transport,
    password: &Password,
) -> Result<Session> {
    let card = nhi::read_basic_data(transport)?;
    portal.login_nhi_card(&card, password)
}

/// Logs in with the NHI card in `reader` (or, without a name, whichever reader holds one),
/// waiting up to `timeout` for it to be inserted, and the registered password. Without the
/// `card` feature this is `E2090 card_support_missing`.
pub fn login_with_reader<P: Portal + ?Sized>(
    portal: &P,
    reader: Option<&str>,
    timeout: Duration,
    password: &Password,
) -> Result<Session> {
    let card = nhi::read_nhi(reader, timeout)?;
    portal.login_nhi_card(&card, password)
}
