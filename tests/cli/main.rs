//! End-to-end tests: the real `tidings` binary against the in-process fixture server, a real
//! SQLite store in a temp folder, and (in `hexo`) real Hexo from npm.

mod browser;
mod commands;
mod common;
mod crash;
mod faults;
mod hexo;
mod seed;
mod site;
mod sync;
