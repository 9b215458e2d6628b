//! The exception hierarchy: `EcpaError` and one subclass per [`ErrorClass`], the class column
//! of the error table, and the one conversion of a crate [`Error`] into a Python exception.

use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyType;

use crate::error::{Error, ErrorClass, ErrorCode};
use crate::types::Lang;

/// The classes, made once per interpreter: the base first, then [`ErrorClass::ALL`] in order.
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
        for class in ErrorClass::ALL {
            let qualified = std::ffi::CString::new(format!("ecpa.{}", class.name()))
                .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
            let doc = std::ffi::CString::new(class.doc()).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
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
    for (class, made) in ErrorClass::ALL.iter().zip(&all[1..]) {
        m.add(class.name(), made.clone_ref(py))?;
    }
    Ok(())
}

fn class_for<'py>(py: Python<'py>, code: ErrorCode) -> PyResult<Bound<'py, PyType>> {
    let all = classes(py)?;
    let index = ErrorClass::ALL
        .iter()
        .position(|c| *c == code.class())
        .map_or(0, |i| i + 1);
    Ok(all[index].bind(py).clone())
}

/// The exception for a crate error: its code's class, with the code, name, both messages and,
/// for a refused PIN or password, the tries left.
fn exception(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let code = e.code();
    let class = class_for(py, code)?;
    let value = class.call1((e.to_string(),))?;
    value.setattr("code", code.number())?;
    value.setattr("name", code.name())?;
    value.setattr("message_zh", e.message(Lang::ZhTw))?;
    value.setattr("message_en", e.message(Lang::En))?;
    let tries = match e {
        Error::PinIncorrect { tries_left } => *tries_left,
        Error::RegistrationPasswordWrong { tries_left } => Some(*tries_left),
        _ if e.code() == ErrorCode::PinBlocked => Some(0),
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
