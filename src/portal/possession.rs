//! Whether the NHI card is really in the caller's reader.
//!
//! An NHI card's basic data (number, name, ID, birth date) is printed on it and read without a
//! PIN, so a login that sends it proves nothing about the card: the registered password is what
//! stands between a stranger and the account. In the real system the card's possession is
//! proved only by NHI's own SAM service, which answers a page's random with the card's
//! `H_Sign` (256 characters) through the NHI card component. That service is NHI's alone: no
//! verifier here calls it. An agency that has access plugs one in
//! ([`LocalPortal::with_nhi_card_verifier`](super::LocalPortal::with_nhi_card_verifier)).
//!
//! Every NHI-card session records whether possession was verified (session info, the audit
//! trail's login row), and `[portal] officer_requires_verified_card` makes officer functions
//! need it (or the certificate, which always qualifies). A random is good for one answer: a
//! captured pair sent again is refused.

use serde::{Deserialize, Serialize};
use time::Duration;

use super::env::{millis, token_hash};
use super::local::LocalPortal;
use crate::db::challenges;
use crate::error::{Error, ErrorCode, Result};
use crate::store::StoreExt;
use crate::types::NhiCardData;

/// Answers whether an `H_Sign` is the card's own answer to a random: NHI's SAM service, or
/// whatever an agency has in its place.
pub trait NhiCardVerifier: Send + Sync {
    /// `Ok(true)`: this card signed `random`; `Ok(false)`: it did not. An `Err` (the service
    /// cannot be reached) leaves the login unverified rather than refusing it.
    fn verify(&self, card: &NhiCardData, random: &str, h_sign: &str) -> Result<bool>;
}

/// The card's answer to the page's random, sent with an NHI-card login.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(schemars::JsonSchema))]
pub struct CardPossession {
    /// The random the page gave the card component.
    pub random: String,
    /// The card's answer through NHI's SAM service (`H_Sign`).
    pub h_sign: String,
}

impl std::fmt::Debug for CardPossession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardPossession")
            .field("random", &self.random)
            .field("h_sign", &format_args!("{} chars", self.h_sign.chars().count()))
            .finish()
    }
}

/// How long a used random is remembered (a replay after that is an old answer to a random no
/// page issues any more, which the SAM service refuses itself).
const REMEMBER_RANDOMS: Duration = Duration::days(1);

/// Checks a login's proof of possession. `Ok(true)`: verified; `Ok(false)`: nothing to check
/// it with (no proof, no verifier, the verifier unreachable); `Err`: the proof is wrong or
/// replayed.
pub(crate) fn check(p: &LocalPortal, card: &NhiCardData, proof: Option<&CardPossession>) -> Result<bool> {
    let (Some(proof), Some(verifier)) = (proof, p.verifier.as_deref()) else {
        return Ok(false);
    };
    let refused = || Error::new(ErrorCode::CardPossessionUnverified);
    if proof.random.is_empty() || proof.random.len() > 256 || proof.h_sign.len() > 1024 {
        return Err(refused());
    }
    let now = millis(p.now());
    let fresh = p.store.write(|tx| {
        challenges::forget_randoms(tx, now - REMEMBER_RANDOMS.whole_milliseconds() as i64)?;
        challenges::remember_random(tx, &token_hash(&proof.random), now)
    })?;
    if !fresh {
        return Err(refused());
    }
    match verifier.verify(card, &proof.random, &proof.h_sign) {
        Ok(true) => Ok(true),
        Ok(false) => Err(refused()),
        // The service is down: the login goes on as the guides have it, marked unverified.
        Err(_) => Ok(false),
    }
}
