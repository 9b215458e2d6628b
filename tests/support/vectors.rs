//! Where the external conformance suites are: `ECPA_VECTORS`, or `../shared/vectors` beside
//! the project. They are read in place, never copied into the project.

use std::path::PathBuf;

/// The vectors folder, or `None` (with a message saying the tests are skipped) when absent.
pub fn dir(suite: &str) -> Option<PathBuf> {
    let base = std::env::var_os("ECPA_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors"));
    let dir = base.join(suite);
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} not found (set ECPA_VECTORS to the shared vectors folder)",
            dir.display()
        );
        None
    }
}
