//! The personnel record and its proofing (校對): the record's fields, drafts, submissions,
//! corrections and the officers' to-do items.

#[allow(unused_imports)]
use crate::error::Result;
#[allow(unused_imports)]
use crate::store::{Tx, Value};
