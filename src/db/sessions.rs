//! Sessions: opened by a login, seen by every call, ended by logout, expiry or removal.

#[allow(unused_imports)]
use crate::error::Result;
#[allow(unused_imports)]
use crate::store::{Tx, Value};
