//! Address policy (SSRF guard) and the vetted HTTP client.
