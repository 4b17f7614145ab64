//! Cross-crate journeys live in `tests/*.rs`; this library holds their shared helpers.
