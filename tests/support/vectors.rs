//! Where the external conformance suites are: `ECPA_VECTORS`, or `../shared/vectors` beside
//! the project. They are read in place, never copied into the project.
//!
//! A clone without them still runs every other test: a missing suite is skipped with a message.
//! With `ECPA_REQUIRE_VECTORS=1` (which `.ci/run` sets, where the suites are always beside the
//! project) a missing suite fails its tests instead, so conformance cannot pass by accident.

// Each test that includes this file uses one of its two functions.
#![allow(dead_code)]

use std::path::PathBuf;

/// The vectors folder, or `None` (with a message saying the tests are skipped) when absent;
/// a panic when absent and `ECPA_REQUIRE_VECTORS=1`.
pub fn dir(suite: &str) -> Option<PathBuf> {
    let base = std::env::var_os("ECPA_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/vectors"));
    let dir = base.join(suite);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("ECPA_REQUIRE_VECTORS").as_deref() != Ok("1"),
        "{} not found, and ECPA_REQUIRE_VECTORS=1 requires the conformance suites \
         (set ECPA_VECTORS to the shared vectors folder)",
        dir.display()
    );
    eprintln!(
        "SKIPPED: {} not found (set ECPA_VECTORS to the shared vectors folder)",
        dir.display()
    );
    None
}

/// The text of the two original guides (`../shared/seeds`, or `ECPA_SEEDS`), line breaks
/// removed (a sentence of the FAQ is broken over lines there), or `None` when absent: skipped
/// with a message, or a panic under `ECPA_REQUIRE_VECTORS=1`, as for the suites.
pub fn guides() -> Option<String> {
    let dir = std::env::var_os("ECPA_SEEDS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/seeds"));
    let files = ["nhi-card-login-guide.zh-TW.txt", "award-orders-login-guide.zh-TW.txt"];
    if !files.iter().all(|f| dir.join(f).is_file()) {
        assert!(
            std::env::var("ECPA_REQUIRE_VECTORS").as_deref() != Ok("1"),
            "the guides are not in {}, and ECPA_REQUIRE_VECTORS=1 requires them (set ECPA_SEEDS)",
            dir.display()
        );
        eprintln!("SKIPPED: the guides are not in {} (set ECPA_SEEDS)", dir.display());
        return None;
    }
    let text: String = files
        .iter()
        .map(|f| std::fs::read_to_string(dir.join(f)).expect("a guide reads"))
        .collect();
    Some(text.replace(['\r', '\n'], ""))
}
