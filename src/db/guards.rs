//! The login guards' tables: wrong guesses counted per subject and network, the lock
//! ceilings, and the reservations that keep two checks of one subject from racing.

#[allow(unused_imports)]
use crate::error::Result;
#[allow(unused_imports)]
use crate::store::{Tx, Value};
