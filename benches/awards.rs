//! Award-order benchmarks (being written).
fn main() {}
