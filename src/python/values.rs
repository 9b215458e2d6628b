//! Conversions at the edge: dates both ways (`datetime.date` or a ROC string in, `datetime.date`
//! and `datetime.datetime` out), and the masked `repr` every result class shares.

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDate, PyString};

use crate::error::{Error, ErrorCode};
use crate::types::{NationalId, RocDate, RocDateTime};

/// A `datetime.date` for a ROC date.
pub(crate) fn date(py: Python<'_>, d: RocDate) -> PyResult<Py<PyAny>> {
    let g = d.to_gregorian();
    Ok(PyDate::new(py, g.year(), u8::from(g.month()), g.day())?
        .into_any()
        .unbind())
}

static FROMISOFORMAT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// An aware `datetime.datetime` (at Taiwan's offset, to the second) for a ROC date-time.
pub(crate) fn datetime(py: Python<'_>, t: RocDateTime) -> PyResult<Py<PyAny>> {
    let parse = FROMISOFORMAT.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py
            .import("datetime")?
            .getattr("datetime")?
            .getattr("fromisoformat")?
            .unbind())
    })?;
    Ok(parse.bind(py).call1((t.to_iso(),))?.unbind())
}

/// An optional ROC date-time as `datetime.datetime`, or `None`.
pub(crate) fn opt_datetime(py: Python<'_>, t: Option<RocDateTime>) -> PyResult<Option<Py<PyAny>>> {
    t.map(|t| datetime(py, t)).transpose()
}

/// A date given by a caller: a `datetime.date` (or `datetime.datetime`, whose day counts), or a
/// string in any ROC form `RocDate::parse` reads (`108/04/03`, `1080403`, `民國108年4月3日`) or
/// ISO `2019-04-03`. Anything else is a `TypeError`; a day that does not exist is
/// `InvalidInputError` (`date_invalid`).
pub(crate) fn roc_date(value: &Bound<'_, PyAny>) -> PyResult<RocDate> {
    if let Ok(s) = value.cast::<PyString>() {
        let s = s.to_str()?;
        let parsed = if s.len() == 10 && s.as_bytes().get(4) == Some(&b'-') {
            RocDate::parse_iso(s)
        } else {
            RocDate::parse(s)
        };
        return Ok(parsed?);
    }
    if value.is_instance_of::<PyDate>() {
        let year: i32 = value.getattr("year")?.extract()?;
        let month: u8 = value.getattr("month")?.extract()?;
        let day: u8 = value.getattr("day")?.extract()?;
        let month = time::Month::try_from(month).map_err(|_| Error::new(ErrorCode::DateInvalid))?;
        let date = time::Date::from_calendar_date(year, month, day).map_err(|_| Error::new(ErrorCode::DateInvalid))?;
        return Ok(RocDate::from_gregorian(date)?);
    }
    Err(PyTypeError::new_err(format!(
        "expected datetime.date or a ROC date string, got {}",
        value.get_type().name()?
    )))
}

/// An optional date argument.
pub(crate) fn opt_roc_date(value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<RocDate>> {
    value.filter(|v| !v.is_none()).map(roc_date).transpose()
}

/// A national ID as printed: masked (`A12345****`) when it is one, else as given (already
/// masked, or not an ID at all).
pub(crate) fn masked_id(text: &str) -> String {
    NationalId::parse(text).map_or_else(|_| text.to_owned(), |id| id.masked())
}

/// `Name(field=value, …)` from the object's own attributes, with every field whose name says
/// it holds a national ID masked.
pub(crate) fn repr_fields(obj: &Bound<'_, PyAny>, class: &str, fields: &[&str]) -> PyResult<String> {
    let mut parts = Vec::with_capacity(fields.len());
    for field in fields {
        let value = obj.getattr(*field)?;
        let shown = match value.cast::<PyString>() {
            Ok(s) if field.contains("national_id") => format!("{:?}", masked_id(s.to_str()?)),
            _ => value.repr()?.to_str()?.to_owned(),
        };
        parts.push(format!("{field}={shown}"));
    }
    Ok(format!("{class}({})", parts.join(", ")))
}

/// Declares a frozen result class with read-only attributes and a masked `repr`.
macro_rules! record {
    ($(#[$meta:meta])* $name:ident { $( $(#[$fmeta:meta])* $field:ident : $ty:ty ),* $(,)? }) => {
        $(#[$meta])*
        #[pyclass(frozen, get_all, module = "ecpa._ecpa")]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        #[pymethods]
        impl $name {
            fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
                $crate::python::values::repr_fields(slf.as_any(), stringify!($name), &[$(stringify!($field)),*])
            }
        }
    };
}
pub(crate) use record;
