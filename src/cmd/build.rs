//! `tidings build`: render the built-in site from the store.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

/// Render the built-in site from the store into `[site] out` (default `public/`).
///
/// Pages whose bytes would not change are not touched, and pages of articles no longer in the
/// store are removed. Files in `templates/` beside the config replace the built-in templates of
/// the same name.
#[derive(clap::Args)]
pub struct Args {}

pub fn run(config: &Path, _args: Args) -> anyhow::Result<ExitCode> {
    let config = super::load_config(config)?;
    let started = Instant::now();
    let bar = Bar::new();
    let report = tidings_engine::build_site(&config, &bar).context("tidings build")?;
    for skipped in &report.skipped {
        eprintln!("skipped: {skipped}");
    }
    println!("site: {report} in {:.2} s", started.elapsed().as_secs_f64());
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on a terminal, nothing otherwise.
struct Bar(Option<ProgressBar>);

impl Bar {
    fn new() -> Bar {
        Bar(std::io::stderr().is_terminal().then(|| ProgressBar::new(0)))
    }
}

impl tidings_site::Progress for Bar {
    fn begin(&self, pages: usize) {
        if let Some(b) = &self.0 {
            b.set_length(pages as u64);
            b.set_style(
                ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} pages")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
        }
    }
    fn advance(&self, pages: usize) {
        if let Some(b) = &self.0 {
            b.inc(pages as u64);
        }
    }
    fn end(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
