//! Cleans article HTML: lazy images, relative URLs, sanitizing, image routing.
