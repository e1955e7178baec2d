//! Renders and writes posts for Hexo (and later Hugo, Zola, Jekyll).
