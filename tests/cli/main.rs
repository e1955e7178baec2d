//! End-to-end tests: the real `tidings` binary against the in-process fixture server, a real
//! SQLite store in a temp folder, and (in `hexo`) real Hexo from npm.

mod commands;
mod crash;
mod common;
mod faults;
mod hexo;
mod seed;
mod site;
mod sync;
