#!/usr/bin/env python3
"""Per-call overhead of the national-ID check from Python, against the same check in Rust,
measured in the same process and run (the machines are shared: only the same-run difference
means something).

    python bench/id_check.py [--calls N] [--repeat R]

- rust:   `_bench_rust_id_check(n)`: `NationalId::parse` in a Rust loop (ns/call).
- python: `is_valid_national_id(s)` and `check_national_id(s)` called from a Python loop by
  `timeit` (the best of R repeats, ns/call), minus nothing: the figure is what a caller pays.
- overhead: python - rust, the cost of crossing into the module; the goal is under 3 µs.

Build the module in release for meaningful figures (maturin develop --release).
"""

from __future__ import annotations

import argparse
import json
import timeit

import ecpa


def best_ns(stmt: str, calls: int, repeat: int) -> float:
    env = {"ecpa": ecpa, "a": "A123456789", "b": "A123456788"}
    times = timeit.repeat(stmt, globals=env, number=calls, repeat=repeat)
    return min(times) / calls / 2 * 1e9  # each statement makes two calls


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    rust = min(ecpa._bench_rust_id_check(args.calls * 2) for _ in range(args.repeat))
    empty = best_ns("len(a); len(b)", args.calls, args.repeat)
    is_valid = best_ns("ecpa.is_valid_national_id(a); ecpa.is_valid_national_id(b)", args.calls, args.repeat)
    check = best_ns("ecpa.check_national_id(a); ecpa.check_national_id(b)", args.calls, args.repeat)
    result = {
        "rust_ns": round(rust, 1),
        "python_builtin_len_ns": round(empty, 1),
        "python_is_valid_ns": round(is_valid, 1),
        "python_check_ns": round(check, 1),
        "overhead_is_valid_ns": round(is_valid - rust, 1),
        "overhead_check_ns": round(check - rust, 1),
        "goal_ns": 3000,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"Rust NationalId::parse loop          {rust:8.1f} ns/call")
    print(f"Python len() (a trivial builtin)     {empty:8.1f} ns/call")
    print(f"Python ecpa.is_valid_national_id     {is_valid:8.1f} ns/call  (overhead {is_valid - rust:7.1f} ns)")
    print(f"Python ecpa.check_national_id        {check:8.1f} ns/call  (overhead {check - rust:7.1f} ns)")
    print(f"goal: overhead under 3000 ns: {'met' if max(is_valid, check) - rust < 3000 else 'NOT met'}")


if __name__ == "__main__":
    main()
