//! The one thing card logic needs from a reader: send bytes, get bytes back.
//!
//! Card logic ([`super::apdu::transmit`], [`super::nhi`], [`super::detect`]) is written against
//! this trait only, so the same code runs over PC/SC, over a recorded transcript, or over any
//! other way of reaching a card.

use crate::error::Result;

/// A connection to one card in one reader.
pub trait Transport {
    /// Sends one command APDU as it is and returns the card's raw response (data and status
    /// word). No GET RESPONSE or re-send happens here: that is [`super::apdu::transmit`]'s job.
    fn transmit_raw(&mut self, command: &[u8]) -> Result<Vec<u8>>;

    /// The card's answer to reset, as the reader reported it when connecting.
    fn atr(&self) -> &[u8];

    /// The name of the reader the card sits in.
    fn reader_name(&self) -> &str;
}

impl<T: Transport + ?Sized> Transport for &mut T {
    fn transmit_raw(&mut self, command: &[u8]) -> Result<Vec<u8>> {
        (**self).transmit_raw(command)
    }

    fn atr(&self) -> &[u8] {
        (**self).atr()
    }

    fn reader_name(&self) -> &str {
        (**self).reader_name()
    }
}
