//! Bundled sample feeds and the in-process fixture server for the demo and the tests.
