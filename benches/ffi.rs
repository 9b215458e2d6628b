//! The cost of the C boundary on a trivial call, measured in the same run: the national ID
//! check called directly in Rust (`NationalId::parse`, the baseline) and through the exported
//! `extern "C"` function `ecpa_id_check` (C string in, NUL scan and UTF-8 check, panic guard,
//! last-error bookkeeping, optional outputs). The summary prints the exported call as a ratio of
//! the direct one. A failing check (bad check digit) is measured too, since it also records the
//! last error.
//!
//! The figure from a real C program through the cdylib is `bindings/c/demo bench N` (run by
//! `PROFILE=release scripts/test-c`), timed with `clock_gettime` against a plain-C checksum.
//! Run with `cargo bench --features ffi --bench ffi`; `-- --test` runs each once.
#![allow(unsafe_code)] // calls the C ABI as C would

use std::cell::RefCell;
use std::ffi::CStr;
use std::hint::black_box;
use std::time::Instant;

use criterion::Criterion;
use ecpa::ffi::{ECPA_OK, ecpa_id_check};
use ecpa::types::NationalId;

const VALID: &CStr = c"A123456789";
const BAD: &CStr = c"A123456788";

fn median(v: &mut [f64]) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut group = c.benchmark_group("id_check");
    // Per-call times of each variant in nanoseconds: every sample's mean, for the summary.
    let times: [RefCell<Vec<f64>>; 4] = Default::default();
    let cases: [(&str, &CStr, bool); 4] = [
        ("rust_direct_valid", VALID, false),
        ("extern_c_valid", VALID, true),
        ("rust_direct_bad_check_digit", BAD, false),
        ("extern_c_bad_check_digit", BAD, true),
    ];
    for (k, (name, id, exported)) in cases.iter().enumerate() {
        group.bench_function(*name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    if *exported {
                        let mut kind = 0u32;
                        // SAFETY: a NUL-terminated string and a valid output; NULL for the other.
                        let rc = unsafe { ecpa_id_check(black_box(id.as_ptr()), &mut kind, std::ptr::null_mut()) };
                        black_box((rc, kind));
                    } else {
                        let s = black_box(*id).to_str().unwrap_or_default();
                        black_box(NationalId::parse(s).map(|i| i.kind()).is_ok());
                    }
                }
                let took = start.elapsed();
                times[k].borrow_mut().push(took.as_nanos() as f64 / iters.max(1) as f64);
                took
            });
        });
    }
    group.finish();
    // SAFETY: as above.
    assert_eq!(
        unsafe { ecpa_id_check(VALID.as_ptr(), std::ptr::null_mut(), std::ptr::null_mut()) },
        ECPA_OK
    );
    c.final_summary();
    let m: Vec<f64> = times.iter().map(|t| median(&mut t.borrow_mut())).collect();
    println!();
    println!("national ID check, per call (median of the samples' means):");
    println!("| input | Rust direct | through extern \"C\" | ratio |");
    println!("|---|---|---|---|");
    for (label, direct, exported) in [("valid", m[0], m[1]), ("bad check digit", m[2], m[3])] {
        let ratio = exported / direct.max(1e-9);
        println!("| {label} | {direct:.1} ns | {exported:.1} ns | {ratio:.2}x |");
    }
}
