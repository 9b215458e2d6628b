//! One-time challenges of the logins: certificate-login challenges, the random an NHI card
//! signs to prove it is in the reader, and the certificates bound to employees.

#[allow(unused_imports)]
use crate::error::Result;
#[allow(unused_imports)]
use crate::store::{Tx, Value};
