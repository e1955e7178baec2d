//! Fetches feeds politely: concurrency limits, conditional GET, size and time caps.
