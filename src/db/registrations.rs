//! The NHI card online service's registrations and their one-time links (registration,
//! e-mail confirmation, password reset).

#[allow(unused_imports)]
use crate::error::Result;
#[allow(unused_imports)]
use crate::store::{Tx, Value};
