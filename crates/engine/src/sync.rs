//! `tidings sync`: fetch every feed, publish what is new or changed, record what failed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use tidings_config::{Config, Feed};
use tidings_feed::FeedContext;
use tidings_fetch::{FetchError, FetchOptions, FetchOutcome, Fetcher, Validators};
use tidings_model::{Article, Entry, ParsedFeed};
use tidings_store::{FeedOk, FeedState, SqliteStore, Staged, Store, StoredArticle};
use tokio::sync::{mpsc, Semaphore};

use crate::render::Target;
use crate::{EngineError, StateLock};

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
    let writer =
        tokio::task::spawn_blocking(move || write_results(store, writes, rx, &*writer_progress));
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
    drop(checkpoints);
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
    Prepared {
        dated,
        article: Article {
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
        },
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

#[derive(Default)]
struct Tally {
    ok: usize,
    deferred: usize,
    failures: Vec<FeedFailure>,
    new: usize,
    updated: usize,
    unchanged: usize,
}

/// Posts written between two flushes. A flush costs one `syncfs`; a crash costs at most this
/// many posts (twice this while a flush runs) re-rendered, and found identical, by the next run.
const FLUSH_EVERY: usize = 5000;

/// [`FLUSH_EVERY`], unless `TIDINGS_FLUSH_EVERY` says otherwise: the crash tests set it low so
/// that their small fixtures go through many flushes.
fn flush_every() -> usize {
    std::env::var("TIDINGS_FLUSH_EVERY")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(FLUSH_EVERY)
}

/// One feed's posts, rendered and written on the blocking pool while the writer stores the
/// next feed: rendering (image routing, front matter) and file creation are most of the
/// writer's work, and they need no store.
struct Writes {
    target: Arc<Target>,
    runtime: tokio::runtime::Handle,
    /// Feeds being written at once: one per core keeps memory flat.
    slots: Arc<Semaphore>,
    done_tx: std::sync::mpsc::Sender<Written>,
    done_rx: std::sync::mpsc::Receiver<Written>,
    outstanding: usize,
    /// Posts handed out since the last flush.
    posts: usize,
    /// Written posts whose rows are still pending, until the next flush.
    unflushed: Vec<String>,
    /// The flush running in the background, if any: it answers with the ids it made durable.
    syncing: Option<std::sync::mpsc::Receiver<Result<Vec<String>, EngineError>>>,
}

/// A finished write job: the ids written, or the error that stopped it.
struct Written {
    feed: Feed,
    result: Result<Vec<String>, EngineError>,
}

impl Writes {
    fn new(target: Arc<Target>) -> Writes {
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        Writes {
            target,
            runtime: tokio::runtime::Handle::current(),
            slots: Arc::new(Semaphore::new(cores())),
            done_tx,
            done_rx,
            outstanding: 0,
            posts: 0,
            unflushed: Vec::new(),
            syncing: None,
        }
    }

    /// Starts writing `stored` (blocks while every slot is busy).
    fn start(&mut self, feed: Feed, stored: Vec<StoredArticle>) -> Result<(), EngineError> {
        let slot = self
            .runtime
            .block_on(self.slots.clone().acquire_owned())
            .map_err(|e| EngineError::Config(format!("post writers stopped: {e}")))?;
        let (target, done) = (self.target.clone(), self.done_tx.clone());
        self.outstanding += 1;
        self.posts += stored.len();
        self.runtime.spawn_blocking(move || {
            let _slot = slot;
            let result = stored
                .into_iter()
                .map(|s| {
                    target
                        .write(&s.article, &s.path, false)
                        .map(|_| s.article.id)
                })
                .collect();
            let _ = done.send(Written { feed, result });
        });
        Ok(())
    }

    /// Waits for every job.
    fn wait_all(&mut self, store: &mut SqliteStore, tally: &mut Tally) -> Result<(), EngineError> {
        while self.outstanding > 0 {
            let Ok(done) = self.done_rx.recv() else {
                return Err(EngineError::Config("a post writer stopped".into()));
            };
            self.finished(done, store, tally)?;
        }
        Ok(())
    }

    /// Takes in the jobs that are done, without waiting for the others.
    fn collect_done(
        &mut self,
        store: &mut SqliteStore,
        tally: &mut Tally,
    ) -> Result<(), EngineError> {
        while let Ok(done) = self.done_rx.try_recv() {
            self.finished(done, store, tally)?;
        }
        Ok(())
    }

    /// A feed whose posts could not be written becomes a failure (its rows stay pending and
    /// the next run finishes them).
    fn finished(
        &mut self,
        done: Written,
        store: &mut SqliteStore,
        tally: &mut Tally,
    ) -> Result<(), EngineError> {
        self.outstanding -= 1;
        match done.result {
            Ok(ids) => {
                tally.ok += 1;
                self.unflushed.extend(ids);
            }
            Err(e @ EngineError::Publish { .. }) => {
                let cause = e.to_string();
                let feed = done.feed;
                store.record_failure(&feed.url, &feed.name, &cause, None)?;
                tally.failures.push(FeedFailure {
                    name: feed.name,
                    url: feed.url,
                    cause,
                });
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// Marks published what the background flush made durable, once it has; with `wait`,
    /// waits for it.
    fn reap(&mut self, store: &mut SqliteStore, wait: bool) -> Result<(), EngineError> {
        let Some(syncing) = &self.syncing else {
            return Ok(());
        };
        let answer = if wait {
            syncing.recv().ok()
        } else {
            match syncing.try_recv() {
                Err(std::sync::mpsc::TryRecvError::Empty) => return Ok(()),
                answer => answer.ok(),
            }
        };
        self.syncing = None;
        let ids =
            answer.ok_or_else(|| EngineError::Config("the flush thread stopped".into()))??;
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        store.mark_published(&ids)?;
        Ok(())
    }

    /// Makes the posts written so far durable on the blocking pool while the run goes on,
    /// then (in [`Writes::reap`]) marks them published. A flush waits on the disk for a
    /// quarter of a second or more; the writer used to stop for it.
    fn flush_in_background(
        &mut self,
        store: &mut SqliteStore,
        tally: &mut Tally,
    ) -> Result<(), EngineError> {
        self.collect_done(store, tally)?;
        self.reap(store, false)?;
        if self.syncing.is_some() || self.unflushed.is_empty() {
            return Ok(());
        }
        self.posts = 0;
        let ids = std::mem::take(&mut self.unflushed);
        let (answer, syncing) = std::sync::mpsc::channel();
        let target = self.target.clone();
        self.runtime.spawn_blocking(move || {
            let _ = answer.send(target.flush().map(|()| ids));
        });
        self.syncing = Some(syncing);
        Ok(())
    }

    /// Waits for the writes, makes them durable, then marks them published: the order that
    /// makes a post published in the store certain to be whole on disk.
    fn flush(&mut self, store: &mut SqliteStore, tally: &mut Tally) -> Result<(), EngineError> {
        self.reap(store, true)?;
        self.wait_all(store, tally)?;
        self.posts = 0;
        if self.unflushed.is_empty() {
            return Ok(());
        }
        self.target.flush()?;
        let ids: Vec<&str> = self.unflushed.iter().map(String::as_str).collect();
        store.mark_published(&ids)?;
        self.unflushed.clear();
        Ok(())
    }
}

/// The single writer: owns the store (and, through [`Writes`], the output folder) for the
/// whole run.
fn write_results(
    mut store: SqliteStore,
    mut writes: Writes,
    mut rx: mpsc::Receiver<FeedResult>,
    progress: &dyn Progress,
) -> Result<Tally, EngineError> {
    let mut tally = Tally::default();
    let flush_every = flush_every();
    let mut batch = Vec::new();
    loop {
        let result = match rx.try_recv() {
            Ok(result) => result,
            Err(mpsc::error::TryRecvError::Empty) => {
                // Nothing waiting: commit now rather than sit on stored but unwritten feeds.
                commit_and_write(&mut store, &mut writes, &mut batch)?;
                match rx.blocking_recv() {
                    Some(result) => result,
                    None => break,
                }
            }
            Err(mpsc::error::TryRecvError::Disconnected) => break,
        };
        match result {
            FeedResult::Deferred => tally.deferred += 1,
            FeedResult::Failed {
                feed,
                cause,
                retry_after,
            } => {
                store.record_failure(&feed.url, &feed.name, &cause, retry_after)?;
                progress.feed_done(&feed.name, false);
                tally.failures.push(FeedFailure {
                    name: feed.name,
                    url: feed.url,
                    cause,
                });
            }
            FeedResult::NotModified { feed, ok } => {
                store.record_not_modified(&ok)?;
                tally.ok += 1;
                progress.feed_done(&feed.name, true);
            }
            FeedResult::Fetched { feed, ok, articles } => {
                progress.feed_done(&feed.name, true);
                store.begin_batch()?;
                let stored = stage_feed(&mut store, &writes.target, &ok, articles, &mut tally)?;
                batch.push((feed, stored));
                if batch.len() >= BATCH_FEEDS {
                    commit_and_write(&mut store, &mut writes, &mut batch)?;
                }
                if writes.posts >= flush_every {
                    writes.flush_in_background(&mut store, &mut tally)?;
                }
            }
        }
    }
    commit_and_write(&mut store, &mut writes, &mut batch)?;
    writes.flush(&mut store, &mut tally)?;
    Ok(tally)
}

/// Feeds stored in one transaction at most. One commit per feed wrote the index pages that
/// neighbouring feeds share again and again; a batch is also what a crash can cost (it is
/// fetched and stored again by the next run).
const BATCH_FEEDS: usize = 16;

/// Commits the stored feeds, then starts writing their posts: a post file is written only
/// once its row (and the slug in its name) is committed, so a crash never leaves a file the
/// store does not know.
fn commit_and_write(
    store: &mut SqliteStore,
    writes: &mut Writes,
    batch: &mut Vec<(Feed, Vec<StoredArticle>)>,
) -> Result<(), EngineError> {
    store.commit_batch()?;
    for (feed, stored) in batch.drain(..) {
        writes.start(feed, stored)?;
    }
    Ok(())
}

/// Stores one feed's articles, all or nothing (a savepoint of the open batch), and returns the
/// new and changed ones, with their slugs reserved, for writing. Their rows stay pending until the posts are written and
/// flushed; a crash before that leaves them pending, and the next run finishes them under the
/// same slugs: never a duplicate, never a loss.
fn stage_feed(
    store: &mut SqliteStore,
    target: &Target,
    ok: &FeedOk,
    mut articles: Vec<Prepared>,
    tally: &mut Tally,
) -> Result<Vec<StoredArticle>, EngineError> {
    let ids: Vec<&str> = articles.iter().map(|p| p.article.id.as_str()).collect();
    let known = store.known(&ids)?;
    let now = Timestamp::now();
    let mut staged = Vec::new();
    let mut fresh = 0;
    for p in articles.drain(..) {
        let mut article = p.article;
        let old = known.get(&article.id);
        if !p.dated {
            // Undated entries keep the time they were first seen, so their hash is stable.
            article.published = old.map_or(now, |k| k.published);
            article.updated = article.published;
        }
        let content_hash = article.content_hash();
        match old {
            Some(k) if k.content_hash == content_hash => tally.unchanged += 1,
            _ => {
                if old.is_none() {
                    fresh += 1;
                }
                staged.push(Staged {
                    slug: old.map(|k| k.slug.clone()),
                    slug_base: tidings_publish::slug_base(&article.title, &article.id),
                    path: target.path_template().to_string(),
                    content_hash,
                    article,
                });
            }
        }
    }
    let changed = staged.len();
    let stored = store.stage(ok, staged)?;
    tally.new += fresh;
    tally.updated += changed - fresh;
    Ok(stored)
}

/// Writes the posts a crashed run staged but never finished.
fn finish_pending(store: &mut SqliteStore, target: &Target) -> Result<usize, EngineError> {
    let pending = store.pending()?;
    for s in &pending {
        target.write(&s.article, &s.path, true)?;
    }
    if !pending.is_empty() {
        target.flush()?;
    }
    let ids: Vec<&str> = pending.iter().map(|s| s.article.id.as_str()).collect();
    store.mark_published(&ids)?;
    Ok(pending.len())
}

/// Re-renders every stored article; files whose bytes would not change are left alone.
/// Returns (rewritten, unchanged).
fn rewrite_all(store: &SqliteStore, target: &Target) -> Result<(usize, usize), EngineError> {
    let (mut written, mut same) = (0, 0);
    let mut failure = None;
    store.for_each_article(&mut |s| {
        match target.write(&s.article, &s.path, true) {
            Ok(true) => written += 1,
            Ok(false) => same += 1,
            Err(e) => failure = Some(e),
        }
        Ok(())
    })?;
    match failure {
        Some(e) => Err(e),
        None if written > 0 => target.flush().map(|()| (written, same)),
        None => Ok((written, same)),
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
