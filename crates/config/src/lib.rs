//! Reads and validates tidings.toml.
