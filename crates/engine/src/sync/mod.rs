//! `tidings sync`: fetch every feed, publish what is new or changed, record what failed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tidings_config::{Config, Feed};
use tidings_feed::FeedContext;
use tidings_fetch::{FetchError, FetchOptions, FetchOutcome, Fetcher, Validators};
use tidings_model::{Article, Entry, ParsedFeed};
use tidings_store::{FeedOk, FeedState, PackedBody, Store};
use tokio::sync::{mpsc, Semaphore};

use crate::render::Target;
use crate::{EngineError, StateLock};
use writer::{finish_pending, rewrite_all, write_results, Writes};

mod writer;

/// What the caller asked for.
#[derive(Clone, Debug, Default)]
pub struct SyncOptions {
    /// Only the feed with this name.
    pub feed: Option<String>,
    /// Re-render every post from the store instead of fetching.
    pub rewrite: bool,
}

/// Progress callbacks; the binary draws a bar, tests ignore them.
pub trait Progress: Send + Sync {
    fn begin(&self, _feeds: usize) {}
    fn feed_done(&self, _name: &str, _ok: bool) {}
    fn end(&self) {}
}

impl Progress for () {}

/// One feed that failed this run, named with its URL and cause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedFailure {
    pub name: String,
    pub url: String,
    pub cause: String,
}

impl std::fmt::Display for FeedFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "feed {:?} ({}): {}", self.name, self.url, self.cause)
    }
}

/// The outcome of a run, for the summary line and the exit code.
#[derive(Clone, Debug, Default)]
pub struct SyncReport {
    pub feeds_ok: usize,
    /// Feeds left alone because they asked us to wait (429 Retry-After still in force).
    pub feeds_deferred: usize,
    pub failures: Vec<FeedFailure>,
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Posts finished from a previous run that stopped midway.
    pub recovered: usize,
    /// This was a `--rewrite` run: `rewritten` and `unchanged` count post files.
    pub rewrite: bool,
    /// Posts rewritten by `--rewrite`.
    pub rewritten: usize,
    pub elapsed: Duration,
}

impl std::fmt::Display for SyncReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.rewrite {
            return write!(
                f,
                "posts: {} rewritten, {} unchanged in {:.2}s",
                self.rewritten,
                self.unchanged,
                self.elapsed.as_secs_f64()
            );
        }
        write!(
            f,
            "feeds: {} ok, {} failed",
            self.feeds_ok,
            self.failures.len()
        )?;
        if self.feeds_deferred > 0 {
            write!(f, ", {} deferred", self.feeds_deferred)?;
        }
        write!(
            f,
            "; posts: {} new, {} updated, {} unchanged",
            self.new, self.updated, self.unchanged
        )?;
        if self.recovered > 0 {
            write!(f, ", {} recovered", self.recovered)?;
        }
        write!(f, " in {:.2}s", self.elapsed.as_secs_f64())
    }
}

/// Runs a sync. Fails only on errors that make the whole run meaningless (lock, store, output
/// folder); a feed that fails is recorded in the report and the run goes on.
pub async fn sync(
    config: &Config,
    options: &SyncOptions,
    progress: Arc<dyn Progress>,
) -> Result<SyncReport, EngineError> {
    let started = Instant::now();
    // The lock comes first: two runs must not even race to create and migrate the store.
    let _lock = StateLock::acquire(&config.state_dir)?;
    let mut store = crate::open_store(config)?;
    let target = Arc::new(Target::from_config(config)?);
    let mut report = SyncReport::default();

    target.sweep()?;
    report.recovered = finish_pending(&mut store, &target)?;
    if options.rewrite {
        report.rewrite = true;
        (report.rewritten, report.unchanged) = rewrite_all(&store, &target)?;
        target.tidy()?;
        report.elapsed = started.elapsed();
        return Ok(report);
    }

    let feeds = selected_feeds(config, options)?;
    let states: HashMap<String, FeedState> = store
        .feeds()?
        .into_iter()
        .map(|(url, _, state)| (url, state))
        .collect();
    let fetcher =
        Fetcher::new(fetch_options(config)).map_err(|e| EngineError::Config(e.to_string()))?;

    progress.begin(feeds.len());
    let (tx, rx) = mpsc::channel::<FeedResult>(8);
    let writes = Writes::new(target.clone());
    let writer_progress = progress.clone();
    let checkpoints = store.checkpoint_in_background()?;
    let writer = tokio::task::spawn_blocking(move || {
        write_results(store, checkpoints, writes, rx, &*writer_progress)
    });
    // Feeds between fetch and store: bounds memory whatever the feed count (each holds its
    // body, entries and clean HTML). Parsing is CPU-bound: one at a time per core.
    let in_flight = Arc::new(Semaphore::new(config.fetch.concurrency.max(1) * 2));
    let cpus = Arc::new(Semaphore::new(cores()));
    let now = Timestamp::now();
    for feed in feeds {
        let state = states.get(&feed.url).cloned().unwrap_or_default();
        if state.retry_after.is_some_and(|t| t > now) {
            let _ = tx.send(FeedResult::Deferred).await;
            continue;
        }
        let (tx, fetcher, cpus) = (tx.clone(), fetcher.clone(), cpus.clone());
        let Ok(slot) = in_flight.clone().acquire_owned().await else {
            break; // never closed
        };
        tokio::spawn(async move {
            let result = process(&fetcher, &cpus, feed, &state).await;
            let _ = tx.send(result).await;
            drop(slot);
        });
    }
    drop(tx);
    let mut tally = writer
        .await
        .map_err(|e| EngineError::Config(format!("the writer thread stopped: {e}")))??;
    target.tidy()?;
    progress.end();
    report.feeds_ok = tally.ok;
    report.feeds_deferred = tally.deferred;
    report.failures = std::mem::take(&mut tally.failures);
    report.new = tally.new;
    report.updated = tally.updated;
    report.unchanged = tally.unchanged;
    report.elapsed = started.elapsed();
    Ok(report)
}

fn selected_feeds(config: &Config, options: &SyncOptions) -> Result<Vec<Feed>, EngineError> {
    match &options.feed {
        None => Ok(config.feeds.clone()),
        Some(name) => {
            let chosen: Vec<Feed> = config
                .feeds
                .iter()
                .filter(|f| &f.name == name)
                .cloned()
                .collect();
            if chosen.is_empty() {
                let known = config
                    .feeds
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(EngineError::NoSuchFeed {
                    name: name.clone(),
                    known,
                });
            }
            Ok(chosen)
        }
    }
}

fn fetch_options(config: &Config) -> FetchOptions {
    FetchOptions {
        concurrency: config.fetch.concurrency,
        per_host: config.fetch.per_host,
        timeout: config.fetch.timeout,
        max_bytes: config.fetch.max_bytes,
        ..FetchOptions::default()
    }
}

/// What a fetch task hands to the writer.
enum FeedResult {
    Deferred,
    Failed {
        feed: Feed,
        cause: String,
        retry_after: Option<Timestamp>,
    },
    NotModified {
        feed: Feed,
        ok: FeedOk,
    },
    Fetched {
        feed: Feed,
        ok: FeedOk,
        articles: Vec<Prepared>,
    },
}

/// An article ready to store; `dated` is false when the feed gave no date and `published` is a
/// stand-in that the writer replaces with the first-seen time from the store.
struct Prepared {
    article: Article,
    dated: bool,
    /// The content hash when `dated` (an undated article's depends on the store), and the
    /// slug base: computed here, on every core, rather than by the single writer.
    content_hash: Option<String>,
    slug_base: String,
    body: PackedBody,
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, usize::from)
}

/// Fetches one feed, then parses and cleans it on the blocking pool.
async fn process(
    fetcher: &Fetcher,
    cpus: &Arc<Semaphore>,
    feed: Feed,
    state: &FeedState,
) -> FeedResult {
    let validators = Validators {
        etag: state.etag.clone(),
        last_modified: state.last_modified.clone(),
    };
    let outcome = match fetcher.fetch(&feed.url, &validators).await {
        Ok(o) => o,
        Err(e) => {
            let retry_after = match &e {
                FetchError::RateLimited { retry_after, .. } => *retry_after,
                _ => None,
            };
            return FeedResult::Failed {
                cause: one_line_cause(&feed.url, &e.to_string()),
                feed,
                retry_after,
            };
        }
    };
    let ok = |status: &str, v: &Validators| FeedOk {
        url: feed.url.clone(),
        name: feed.name.clone(),
        etag: v.etag.clone(),
        last_modified: v.last_modified.clone(),
        status: status.into(),
    };
    match outcome {
        FetchOutcome::NotModified => {
            let ok = ok("304", &validators);
            FeedResult::NotModified { feed, ok }
        }
        FetchOutcome::Fetched {
            body,
            content_type,
            validators,
            ..
        } => {
            let ok = ok("200", &validators);
            let task_feed = feed.clone();
            let Ok(cpu) = cpus.clone().acquire_owned().await else {
                return FeedResult::Failed {
                    cause: "the run is shutting down".into(),
                    feed,
                    retry_after: None,
                };
            };
            let parsed = tokio::task::spawn_blocking(move || {
                let _cpu = cpu;
                prepare(&task_feed, &body, content_type.as_deref())
            })
            .await;
            match parsed {
                Ok(Ok(articles)) => FeedResult::Fetched { feed, ok, articles },
                Ok(Err(cause)) => FeedResult::Failed {
                    cause: one_line_cause(&feed.url, &cause),
                    feed,
                    retry_after: None,
                },
                Err(e) => FeedResult::Failed {
                    feed,
                    cause: format!("parser crashed: {e}"),
                    retry_after: None,
                },
            }
        }
    }
}

/// The cause of a feed failure as printed after `feed "NAME" (URL): `: the stage errors start
/// with the URL themselves, which would say it twice, and a hostile server's text must not
/// break the one-line-per-feed output.
fn one_line_cause(url: &str, message: &str) -> String {
    let cause = message
        .strip_prefix(url)
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(message);
    cause
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Decodes and parses a feed body, naive dates read in the feed's own zone.
fn parse_feed(feed: &Feed, body: &[u8], content_type: Option<&str>) -> Result<ParsedFeed, String> {
    let cx = FeedContext {
        url: &feed.url,
        timezone: &feed.timezone,
    };
    tidings_feed::parse(body, content_type, &cx).map_err(|e| e.to_string())
}

/// Parses a feed body and cleans every entry. CPU-bound: runs on the blocking pool.
fn prepare(feed: &Feed, body: &[u8], content_type: Option<&str>) -> Result<Vec<Prepared>, String> {
    let parsed = parse_feed(feed, body, content_type)?;
    let author = feed
        .author
        .clone()
        .or_else(|| parsed.title.clone().filter(|t| !t.is_empty()))
        .unwrap_or_else(|| feed.name.clone());
    Ok(parsed
        .entries
        .into_iter()
        .map(|e| article(feed, &author, e))
        .collect())
}

fn article(feed: &Feed, author: &str, entry: Entry) -> Prepared {
    let clean = tidings_content::clean(&entry.content, entry.base.as_deref());
    let lead_image = clean.images.first().cloned().or(entry.media_image);
    let dated = entry.published.or(entry.updated).is_some();
    let published = entry
        .published
        .or(entry.updated)
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let title = if entry.title.is_empty() {
        untitled(&clean.html)
    } else {
        entry.title
    };
    let article = Article {
        id: entry.id,
        feed_url: feed.url.clone(),
        guid: entry.guid,
        link: entry.link,
        title,
        author: author.to_string(),
        categories: feed.categories.clone(),
        published,
        updated: entry.updated.unwrap_or(published),
        html: clean.html,
        lead_image,
        images: clean.images,
    };
    Prepared {
        dated,
        content_hash: dated.then(|| article.content_hash()),
        slug_base: tidings_publish::slug_base(&article.title, &article.id),
        body: PackedBody::of(&article.html),
        article,
    }
}

/// A title for an entry that has none: the start of its text, as feed readers do.
fn untitled(html: &str) -> String {
    let text = tidings_feed::text::plain(html);
    let short: String = text.chars().take(40).collect();
    if short.is_empty() {
        "(untitled)".into()
    } else if short.len() < text.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// `tidings check`: fetches and parses every feed without touching the store or the output.
/// Returns each feed with its entry count or its error.
pub async fn check(config: &Config) -> Result<Vec<(Feed, Result<usize, String>)>, EngineError> {
    let fetcher =
        Fetcher::new(fetch_options(config)).map_err(|e| EngineError::Config(e.to_string()))?;
    let tasks: Vec<_> = config
        .feeds
        .iter()
        .cloned()
        .map(|feed| {
            let fetcher = fetcher.clone();
            tokio::spawn(async move {
                let r = match fetcher.fetch(&feed.url, &Validators::default()).await {
                    Err(e) => Err(e.to_string()),
                    Ok(FetchOutcome::NotModified) => Ok(0),
                    Ok(FetchOutcome::Fetched {
                        body, content_type, ..
                    }) => {
                        parse_feed(&feed, &body, content_type.as_deref()).map(|p| p.entries.len())
                    }
                };
                (feed, r)
            })
        })
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(
            t.await
                .map_err(|e| EngineError::Config(format!("check task failed: {e}")))?,
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::one_line_cause;

    #[test]
    fn causes_drop_the_repeated_url_and_stay_on_one_line() {
        let url = "http://a.example/feed";
        assert_eq!(
            one_line_cause(url, "http://a.example/feed: HTTP 404 Not Found"),
            "HTTP 404 Not Found"
        );
        // Only a leading copy of this feed's own URL is removed.
        assert_eq!(
            one_line_cause(url, "http://b.example/: x"),
            "http://b.example/: x"
        );
        assert_eq!(
            one_line_cause(url, "XML error:\nline two\r\u{1b}[31m"),
            "XML error: line two  [31m"
        );
    }
}
