//! `tidings`: mirror news feeds into a blog.

mod cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "tidings",
    version,
    about = "Mirror news feeds into a blog: fetch, clean, proxy images, publish.",
    long_about = "Tidings subscribes to RSS, Atom and JSON feeds, cleans every article's HTML, routes \
its images through an image proxy, and publishes each new or changed article as a post (Hexo) or \
into its own store for the built-in site.\n\nStart with `tidings demo` to see it work on bundled \
sample feeds, or `tidings init` to write a starter tidings.toml.",
    after_help = "Exit status: 0 success; 1 fatal error; 2 (sync) some feeds failed but the rest were published."
)]
struct Cli {
    /// Config file (default: tidings.toml in the current folder).
    #[arg(short, long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Init(cmd::init::Args),
    Sync(cmd::sync::Args),
    Sign(cmd::sign::Args),
    Check(cmd::check::Args),
    Status(cmd::status::Args),
    Demo(cmd::demo::Args),
    Proxy(cmd::proxy::Args),
    Build(cmd::build::Args),
    Serve(cmd::serve::Args),
}

fn main() -> ExitCode {
    restore_sigpipe();
    let cli = Cli::parse();
    let config = cli.config.unwrap_or_else(|| PathBuf::from("tidings.toml"));
    let result = match cli.command {
        Command::Init(a) => cmd::init::run(a),
        Command::Sync(a) => cmd::sync::run(&config, a),
        Command::Sign(a) => cmd::sign::run(&config, a),
        Command::Check(a) => cmd::check::run(&config, a),
        Command::Status(a) => cmd::status::run(&config, a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Proxy(a) => cmd::proxy::run(&config, a),
        Command::Build(a) => cmd::build::run(&config, a),
        Command::Serve(a) => cmd::serve::run(&config, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Rust ignores SIGPIPE, which turns `tidings sync | head` into a panic on the next print.
/// Command-line tools should just stop when their reader goes away.
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is always valid.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
