//! The exception hierarchy: `EcpaError` and one subclass per area of codes, made from the same
//! ranges as the module documentation of [`crate::error`], and the one conversion of a crate
//! [`Error`] into a Python exception.

use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use crate::error::{Error, ErrorCode};
use crate::types::Lang;

/// The areas of codes (inclusive ranges) and the exception class of each, in ascending order.
/// The base class `EcpaError` is not in the table; every area class derives from it.
pub(crate) const AREAS: &[(u32, u32, &str, &str)] = &[
    (
        1000,
        1999,
        "InvalidInputError",
        "Invalid input: an ID, a date, a code, a password, a CSV file (1000–1999).",
    ),
    (
        2000,
        2999,
        "CardError",
        "Smart cards: readers, PC/SC, the NHI card, PKCS#11 tokens (2000–2999).",
    ),
    (
        3000,
        3999,
        "PinError",
        "PINs; `.tries_left` says how many tries are left when the card tells (3000–3999).",
    ),
    (
        4000,
        4999,
        "PkiError",
        "Certificates, paths, CRLs and CMS signatures (4000–4999).",
    ),
    (
        5000,
        5499,
        "AuthError",
        "Login, sessions, certificate binding and permissions (5000–5499).",
    ),
    (
        5500,
        5999,
        "DirectoryError",
        "The directory of agencies and employees (5500–5999).",
    ),
    (
        6000,
        6999,
        "RegistrationError",
        "NHI card online registration (6000–6999).",
    ),
    (
        7000,
        7499,
        "ConsentError",
        "Consent to electronic award orders (7000–7499).",
    ),
    (7500, 7999, "AwardError", "Award orders (7500–7999)."),
    (8000, 8999, "ProofingError", "Proofing of personal data (8000–8999)."),
    (9000, 9499, "StorageError", "The database (9000–9499)."),
    (9500, 9799, "TransportError", "Mail, files and the network (9500–9799)."),
    (
        9800,
        9899,
        "BindingError",
        "Misuse of a language binding (the C ABI, this module) (9800–9899).",
    ),
    (
        9900,
        9999,
        "InternalError",
        "A bug in ecpa: please report it (9900–9999).",
    ),
];

/// The class name of the area a code belongs to (what the tests check the table with) (`"EcpaError"` for a code outside every range).
#[cfg(test)]
fn area_of(code: u32) -> &'static str {
    AREAS
        .iter()
        .find(|(lo, hi, _, _)| (*lo..=*hi).contains(&code))
        .map_or("EcpaError", |a| a.2)
}

/// The classes, made once per interpreter: the base first, then the areas in table order.
static CLASSES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();

fn classes(py: Python<'_>) -> PyResult<&Vec<Py<PyType>>> {
    CLASSES.get_or_try_init(py, || {
        let base = PyErr::new_type(
            py,
            c"ecpa.EcpaError",
            Some(
                c"Every failure of ecpa: `.code` (stable number), `.name` (snake_case), `.message_zh`, `.message_en`.",
            ),
            Some(&py.get_type::<PyException>()),
            None,
        )?;
        let base = base.into_bound(py);
        // Class-level defaults, so that the attributes exist on any instance, even one made by hand.
        base.setattr("code", 0)?;
        base.setattr("name", "")?;
        base.setattr("message_zh", "")?;
        base.setattr("message_en", "")?;
        base.setattr("tries_left", py.None())?;
        let mut out = vec![base.clone().unbind()];
        for (_, _, name, doc) in AREAS {
            let qualified =
                std::ffi::CString::new(format!("ecpa.{name}")).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
            let doc = std::ffi::CString::new(*doc).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
            out.push(PyErr::new_type(py, &qualified, Some(&doc), Some(&base), None)?);
        }
        Ok(out)
    })
}

/// Adds the classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let all = classes(py)?;
    m.add("EcpaError", all[0].clone_ref(py))?;
    for ((_, _, name, _), class) in AREAS.iter().zip(&all[1..]) {
        m.add(*name, class.clone_ref(py))?;
    }
    Ok(())
}

fn class_for<'py>(py: Python<'py>, code: u32) -> PyResult<Bound<'py, PyType>> {
    let all = classes(py)?;
    let index = AREAS
        .iter()
        .position(|(lo, hi, _, _)| (*lo..=*hi).contains(&code))
        .map_or(0, |i| i + 1);
    Ok(all[index].bind(py).clone())
}

/// The exception for a crate error: the area's class, with the code, name, both messages and,
/// for a refused PIN or password, the tries left.
fn exception(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let code = e.code();
    let class = class_for(py, code.number())?;
    let value = class.call1((e.to_string(),))?;
    value.setattr("code", code.number())?;
    value.setattr("name", code.name())?;
    value.setattr("message_zh", e.message(Lang::ZhTw))?;
    value.setattr("message_en", e.message(Lang::En))?;
    let tries = match e {
        Error::PinIncorrect { tries_left } => *tries_left,
        Error::RegistrationPasswordWrong { tries_left } => Some(*tries_left),
        Error::Failed {
            code: ErrorCode::PinBlocked,
            ..
        } => Some(0),
        _ => None,
    };
    if let Some(n) = tries {
        value.setattr("tries_left", n)?;
    }
    Ok(PyErr::from_value(value))
}

impl From<Error> for PyErr {
    /// The one conversion of a crate error into a Python exception.
    fn from(e: Error) -> PyErr {
        Python::attach(|py| exception(py, &e).unwrap_or_else(|failed| failed))
    }
}

/// An error code number that the table does not hold.
pub(crate) fn unknown_code(code: u32) -> Error {
    Error::with(
        ErrorCode::FieldInvalid,
        format!("沒有代碼 {code} 的錯誤"),
        format!("there is no error code {code}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_an_area_and_the_areas_follow_the_module_doc() {
        for code in ErrorCode::ALL {
            assert_ne!(area_of(code.number()), "EcpaError", "{code}");
        }
        assert_eq!(area_of(ErrorCode::PinIncorrect.number()), "PinError");
        assert_eq!(area_of(ErrorCode::CardSupportMissing.number()), "CardError");
        assert_eq!(area_of(ErrorCode::Pkcs11TokenRemoved.number()), "CardError");
        assert_eq!(area_of(ErrorCode::EmployeeNotFound.number()), "DirectoryError");
        assert_eq!(area_of(ErrorCode::HttpUnreachable.number()), "TransportError");
        assert_eq!(area_of(ErrorCode::Internal.number()), "InternalError");
        assert_eq!(area_of(12), "EcpaError");
        // Ascending, adjacent, without overlap.
        for pair in AREAS.windows(2) {
            assert_eq!(pair[0].1 + 1, pair[1].0);
        }
    }
}
