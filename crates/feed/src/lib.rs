//! Decodes any encoding and parses RSS, Atom and JSON Feed into entries.
