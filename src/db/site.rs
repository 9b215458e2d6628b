//! What the portal shows every visitor and keeps for itself: the application catalogue and
//! each person's applications, announcements, maintenance windows, the server key.

#[allow(unused_imports)]
use crate::error::Result;
#[allow(unused_imports)]
use crate::store::{Tx, Value};
