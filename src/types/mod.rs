//! Domain types (filled in by the types work).
