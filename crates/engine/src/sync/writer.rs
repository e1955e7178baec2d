//! The single writer of a sync: it owns the store and, through [`Writes`], the output folder.
//! Feeds are stored in batches, their posts written by post-writer threads once the batch is
//! committed, made durable in the background, then marked published.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use tidings_config::Feed;
use tidings_store::{Checkpointer, FeedOk, SqliteStore, Staged, Store, StoredArticle};
use tokio::sync::mpsc;

use super::{cores, FeedFailure, FeedResult, Prepared, Progress};
use crate::render::Target;
use crate::EngineError;

/// What the writer counted, for the run's report.
#[derive(Default)]
pub(super) struct Tally {
    pub ok: usize,
    pub deferred: usize,
    pub failures: Vec<FeedFailure>,
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// Posts written between two flushes. A flush costs one `syncfs`; a crash costs at most this
/// many posts (twice this while a flush runs) re-rendered, and found identical, by the next run.
const FLUSH_EVERY: usize = 2000;

/// [`FLUSH_EVERY`], unless `TIDINGS_FLUSH_EVERY` says otherwise: the crash tests set it low so
/// that their small fixtures go through many flushes.
fn flush_every() -> usize {
    std::env::var("TIDINGS_FLUSH_EVERY")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(FLUSH_EVERY)
}

/// One feed's posts, rendered and written by threads of their own while the writer stores
/// the next feeds: rendering (image routing, front matter) and file creation are most of the
/// writer's work, and they need no store.
pub(super) struct Writes {
    target: Arc<Target>,
    runtime: tokio::runtime::Handle,
    /// Feeds for the post writers. Bounded, so that memory stays flat when writing files is
    /// slower than storing; roomy, so that the writer hands a committed batch over and goes on
    /// storing. With one slot per post writer it waited for a free one after every feed: a
    /// quarter of a cold sync's wall time, with the parsers stalled behind it.
    jobs: Option<std::sync::mpsc::SyncSender<Job>>,
    post_writers: Vec<std::thread::JoinHandle<()>>,
    done_rx: std::sync::mpsc::Receiver<Written>,
    outstanding: usize,
    /// Posts handed out since the last flush.
    posts: usize,
    /// Written posts whose rows are still pending, until the next flush.
    unflushed: Vec<String>,
    /// The flush running in the background, if any: it answers with the ids it made durable.
    syncing: Option<std::sync::mpsc::Receiver<Result<Vec<String>, EngineError>>>,
}

/// A feed's stored articles, to be written as posts.
type Job = (Feed, Vec<StoredArticle>);

/// A finished write job: the ids written, or the error that stopped it.
struct Written {
    feed: Feed,
    result: Result<Vec<String>, EngineError>,
}

impl Writes {
    pub(super) fn new(target: Arc<Target>) -> Writes {
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(BATCH_FEEDS);
        let queue = Arc::new(Mutex::new(queue));
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        let post_writers = (0..cores())
            .map(|_| {
                let (target, queue, done) = (target.clone(), queue.clone(), done_tx.clone());
                std::thread::spawn(move || write_posts(&target, &queue, &done))
            })
            .collect();
        Writes {
            target,
            runtime: tokio::runtime::Handle::current(),
            jobs: Some(jobs),
            post_writers,
            done_rx,
            outstanding: 0,
            posts: 0,
            unflushed: Vec::new(),
            syncing: None,
        }
    }

    /// Queues `stored` for the post writers (blocks while the queue is full).
    fn start(&mut self, feed: Feed, stored: Vec<StoredArticle>) -> Result<(), EngineError> {
        let stopped = || EngineError::Config("the post writers stopped".into());
        let jobs = self.jobs.as_ref().ok_or_else(stopped)?;
        self.posts += stored.len();
        jobs.send((feed, stored)).map_err(|_| stopped())?;
        self.outstanding += 1;
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

impl Drop for Writes {
    /// Closes the queue and waits for the post writers to finish what it held.
    fn drop(&mut self) {
        drop(self.jobs.take());
        for post_writer in self.post_writers.drain(..) {
            let _ = post_writer.join();
        }
    }
}

/// A post writer: takes feeds from the queue until it closes, answers each with its result.
fn write_posts(target: &Target, queue: &Mutex<Receiver<Job>>, done: &Sender<Written>) {
    loop {
        // The lock is held only while waiting: the other post writer queues up behind it.
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok((feed, stored)) = job else {
            return;
        };
        // A panic must still answer: the writer waits for an answer to every job.
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            stored
                .into_iter()
                .map(|s| {
                    target
                        .write(&s.article, &s.path, false)
                        .map(|_| s.article.id)
                })
                .collect()
        }))
        .unwrap_or_else(|_| {
            Err(EngineError::Config(format!(
                "writing the posts of {} panicked",
                feed.url
            )))
        });
        if done.send(Written { feed, result }).is_err() {
            return;
        }
    }
}

/// The single writer: owns the store (and, through [`Writes`], the output folder) for the
/// whole run.
pub(super) fn write_results(
    mut store: SqliteStore,
    mut checkpoints: Checkpointer,
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
    // The last checkpoint and the last flush both wait on the disk: let them wait together.
    checkpoints.finish();
    writes.flush(&mut store, &mut tally)?;
    Ok(tally)
}

/// Feeds stored in one transaction at most. Each commit writes every index page the batch
/// touched, and neighbouring batches touch the same pages: a cold sync of 1,000 feeds wrote
/// 211 MB of log with 16 feeds per batch, 162 MB with 32, 131-141 MB with 48 (the store's
/// 16 MB page cache holds a batch of 48). A batch is also what a crash can cost (it is
/// fetched and stored again by the next run).
const BATCH_FEEDS: usize = 48;

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

/// Stores one feed's articles in the open batch (a failure rolls the batch back and ends the
/// run) and returns the new and changed ones, with their slugs reserved, for writing. Their
/// rows stay pending until the posts are written and flushed; a crash before that leaves them
/// pending, and the next run finishes them under the same slugs: never a duplicate, never a
/// loss.
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
        let content_hash = match p.content_hash {
            Some(hash) => hash,
            None => article.content_hash(),
        };
        match old {
            Some(k) if k.content_hash == content_hash => tally.unchanged += 1,
            _ => {
                if old.is_none() {
                    fresh += 1;
                }
                staged.push(Staged {
                    slug: old.map(|k| k.slug.clone()),
                    slug_base: p.slug_base,
                    path: target.path_template().to_string(),
                    content_hash,
                    body: p.body,
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
pub(super) fn finish_pending(
    store: &mut SqliteStore,
    target: &Target,
) -> Result<usize, EngineError> {
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
pub(super) fn rewrite_all(
    store: &SqliteStore,
    target: &Target,
) -> Result<(usize, usize), EngineError> {
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
