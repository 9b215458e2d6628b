//! Award orders (獎勵令) and consents to electronic delivery.

#[allow(unused_imports)]
use crate::error::Result;
#[allow(unused_imports)]
use crate::store::{Tx, Value};
