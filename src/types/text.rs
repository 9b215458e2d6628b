//! Free text as the engine accepts it in a field: names, titles, reasons, values.

use crate::error::{Error, ErrorCode, Result};

/// Checks a required free-text field: trimmed, 1 to `max` characters, no control characters.
pub(crate) fn text_field(name: &'static str, value: &str, max: usize) -> Result<String> {
    checked_text(name, value, max).map(str::to_owned)
}

/// [`text_field`] without the copy, for the directory import's hundred thousand lines.
pub(crate) fn checked_text<'a>(name: &'static str, value: &'a str, max: usize) -> Result<&'a str> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(Error::with(
            ErrorCode::FieldInvalid,
            format!("{name} 不可空白、不可超過 {max} 字、不可含控制字元"),
            format!("{name} must be 1 to {max} characters without control characters"),
        ));
    }
    Ok(v)
}
