//! The audit trail: who read or changed whose data, and when. Acts write it through
//! [`db::audit`](crate::db::audit); an officer reads it through [`trail`](super::trail).
//!
//! Every change, and every read of another person's data (an officer's query, list or view),
//! is written in the same transaction as the act itself, so the trail cannot miss an act that
//! happened. A person's reads of their own lists are not recorded: they are the person's own.
//! Entries never hold a full national ID, a password or an order's text.

use crate::error::Result;

/// Checks an operator's name for the audit trail: 1 to 100 characters, no control characters.
pub(crate) fn operator_name(name: &str) -> Result<String> {
    crate::types::text::text_field("操作人員 operator", name, 100)
}
