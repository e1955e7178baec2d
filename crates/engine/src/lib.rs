//! Runs the pipeline: sync (fetch, parse, clean, store, publish).
