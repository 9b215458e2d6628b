//! The Python module `ecpa._ecpa` (feature `python`): the whole flow for operators who script in
//! Python, with the same names, error codes and guarantees as the Rust API.
//!
//! pyo3 types never leave this module. Every engine call that touches the database, the network
//! or a card runs with the GIL released ([`Python::detach`]), so a [`portal::PyPortal`] shared by
//! several Python threads runs their calls side by side. Failures become exceptions of one
//! hierarchy ([`errors`]), generated from the code ranges of [`crate::error`]; results are frozen
//! classes whose `repr` masks national IDs.
//!
//! The shared library is built by maturin (`bindings/python`), which sets
//! `PYO3_BUILD_EXTENSION_MODULE`; the crate keeps `crate-type = ["rlib"]` because maturin asks
//! `cargo rustc` for a `cdylib` itself. The crate's `deny(unsafe_code)` holds here too: pyo3's
//! macros keep their FFI glue to themselves, and this module writes no `unsafe`.

mod cards;
mod errors;
mod portal;
mod records;
mod values;

use std::time::Instant;

use pyo3::prelude::*;

use crate::types::NationalId;

/// `check_national_id`: what `ecpa id check` answers for one input, never raising for an
/// invalid ID (only for a value that is not a `str`).
#[pyfunction]
fn check_national_id(value: &str) -> records::IdCheck {
    records::IdCheck::of(value)
}

/// `is_valid_national_id`: the cheapest call there is, a `bool`; the benchmark measures the
/// per-call overhead of the binding with it.
#[pyfunction]
fn is_valid_national_id(value: &str) -> bool {
    NationalId::parse(value).is_ok()
}

/// The Rust-side baseline of the ID-check benchmark: `n` checks of two IDs (one valid, one
/// not) in a loop, in nanoseconds per call, measured in the same process as the Python loop.
#[pyfunction]
fn _bench_rust_id_check(py: Python<'_>, n: u64) -> f64 {
    py.detach(|| {
        let inputs = ["A123456789", "A123456788"];
        let start = Instant::now();
        let mut valid = 0u64;
        for i in 0..n {
            let input = std::hint::black_box(inputs[(i & 1) as usize]);
            valid += u64::from(NationalId::parse(input).is_ok());
        }
        std::hint::black_box(valid);
        start.elapsed().as_nanos() as f64 / n.max(1) as f64
    })
}

/// The message of an error code in one language (`"zh-TW"` or `"en"`), as the C ABI's
/// `ecpa_error_message` gives it.
#[pyfunction]
#[pyo3(signature = (code, lang = "zh-TW"))]
fn error_message(code: u32, lang: &str) -> PyResult<String> {
    let lang: crate::types::Lang = lang.parse()?;
    let code = crate::ErrorCode::from_number(code).ok_or_else(|| errors::unknown_code(code))?;
    Ok(code.message(lang).to_owned())
}

/// The module: `import ecpa` re-exports all of it.
#[pymodule]
fn _ecpa(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("CARD_SUPPORT", cfg!(feature = "card"))?;
    // The form field a single sign-on assertion is posted in to an application's address.
    m.add("SSO_ASSERTION_FIELD", crate::portal::sso::ASSERTION_FIELD)?;
    errors::register(m)?;
    m.add_function(wrap_pyfunction!(check_national_id, m)?)?;
    m.add_function(wrap_pyfunction!(is_valid_national_id, m)?)?;
    m.add_function(wrap_pyfunction!(_bench_rust_id_check, m)?)?;
    m.add_function(wrap_pyfunction!(error_message, m)?)?;
    records::register(m)?;
    cards::register(m)?;
    portal::register(m)?;
    Ok(())
}
