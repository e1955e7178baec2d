//! `tidings sync`: fetch the feeds and publish new or changed posts.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressStyle};
use tidings_engine::{Progress, SyncOptions, SyncReport};

/// Fetch every feed, publish new and changed articles, print a summary.
///
/// Exit status: 0 when every feed succeeded; 2 when some failed (each is named with its URL and
/// cause) but the rest were published; 1 on a fatal error (config, store, lock).
#[derive(clap::Args)]
pub struct Args {
    /// Only sync the feed with this name.
    #[arg(long, value_name = "NAME")]
    feed: Option<String>,
    /// Re-render every post from the store without fetching (after changing the image proxy,
    /// the date format or the image keys). Unchanged files are not touched.
    #[arg(long)]
    rewrite: bool,
}

pub fn run(config: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let config = super::load_config(config)?;
    let options = SyncOptions {
        feed: args.feed,
        rewrite: args.rewrite,
    };
    let report = super::runtime()?.block_on(tidings_engine::sync(&config, &options, bar()))?;
    Ok(print_report(&report))
}

/// Prints failures and the summary line; returns the exit code the report deserves.
pub fn print_report(report: &SyncReport) -> ExitCode {
    for f in &report.failures {
        eprintln!("failed: {f}");
    }
    println!("{report}");
    if report.failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    }
}

/// A progress bar on a terminal, nothing otherwise (logs stay clean).
pub fn bar() -> Arc<dyn Progress> {
    if std::io::stderr().is_terminal() {
        Arc::new(Bar(ProgressBar::new(0)))
    } else {
        Arc::new(())
    }
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn begin(&self, feeds: usize) {
        self.0.set_length(feeds as u64);
        self.0.set_style(
            ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} feeds {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
    }
    fn feed_done(&self, name: &str, _ok: bool) {
        self.0.set_message(name.to_string());
        self.0.inc(1);
    }
    fn end(&self) {
        self.0.finish_and_clear();
    }
}
