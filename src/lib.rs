//! ecpa (placeholder front page; the quick start is written with the engine)
#![forbid(unsafe_code)]

pub mod error;
pub mod types;

pub use error::{Error, ErrorCode, Result};
