//! The plan of a build: every output file, a key that hashes what it is made from, and how to
//! render it.
//!
//! Keys are cheap: an article is known by its stored content hash, slug and dates (its item
//! key), never by its body, so a build can tell which files changed before it reads a single
//! body or builds a single page context. List pages are numbered from the oldest article, so
//! new articles touch only the front page of each list they join and its newest numbered page.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use jiff::tz::TimeZone;
use jiff::{Timestamp, ZonedDateTime as Zoned};
use minijinja::value::{Serde, Value};
use serde::Serialize;
use serde_json::{json, Value as Json};
use sha2::{Digest, Sha256};

use crate::paths::{category_segment, root_of, slug_is_safe, Location};
use crate::text::{excerpt, html_safe_json, xml_escape};
use crate::theme::Theme;
use crate::{SiteArticle, SiteError, SiteOptions};

/// Characters of article text kept for the search index; list pages show the first part.
const SEARCH_TEXT: usize = 160;
const LIST_TEXT: usize = 120;
/// Entries in the Atom feed.
pub(crate) const FEED_ENTRIES: usize = 50;
/// Articles per search-index and sitemap shard. Shards are counted from the oldest article,
/// like list pages, so new articles change only the newest shard (and its neighbours' files
/// stay byte for byte the same).
pub(crate) const SHARD: usize = 1000;

/// Shards of a site of `n` articles.
pub(crate) fn shard_count(n: usize) -> usize {
    n.div_ceil(SHARD)
}

/// The articles (indices, newest first) of shard `k` (from 1) of `n`: the k-th run of
/// [`SHARD`] counted from the oldest.
pub(crate) fn shard_range(n: usize, k: usize) -> std::ops::Range<usize> {
    let end = n.saturating_sub((k - 1) * SHARD);
    end.saturating_sub(SHARD)..end
}

/// One output file.
pub(crate) struct Job {
    /// Path relative to the output folder, `/`-separated.
    pub file: String,
    /// Hash of everything the file is made from.
    pub key: [u8; 32],
    pub body: Body,
}

pub(crate) enum Body {
    /// The page of the article at this index.
    Article(usize),
    /// A template and its full context.
    Page {
        template: &'static str,
        ctx: Json,
    },
    /// One page of a list; its context is built only if it must be rendered.
    List(ListPage),
    Atom,
    /// `sitemap.xml`: the list of the sitemap files below.
    SitemapIndex,
    /// `sitemap/lists.xml`: the front page and every category.
    SitemapLists,
    /// `sitemap/K.xml`: the articles of shard K.
    SitemapShard(usize),
    /// `search.json`: the article count and the shard files, newest first.
    SearchIndex,
    /// `search/K.json`: the rows of shard K.
    SearchShard(usize),
    /// Bytes known while planning (the assets).
    Bytes(Vec<u8>),
}

pub(crate) struct Plan {
    pub jobs: Vec<Job>,
    /// Each article's text, set by [`Plan::set_texts`] once the bodies it needs are loaded.
    texts: Vec<String>,
    /// Items are made when a page shows them: a build after a sync shows a few dozen.
    items: Vec<OnceLock<Item>>,
    site: Json,
    /// First pages of every category, for the sitemap.
    category_urls: Vec<String>,
    /// A short hash of each search shard (from 1), added to its URL so that no cache serves
    /// an old copy of a shard beside a new index.
    shard_versions: Vec<String>,
    per_page: usize,
}

/// Page `page` of the list `list`; `None` is the front page.
pub(crate) struct ListPage {
    list: Arc<List>,
    page: Option<usize>,
}

/// A list of articles (newest first) with its heading, at `segments`.
struct List {
    segments: Vec<String>,
    ids: Vec<usize>,
    head: ListHead,
}

impl List {
    /// Full pages, counted from the oldest article.
    fn full_pages(&self, per_page: usize) -> usize {
        self.ids.len() / per_page
    }

    /// The articles a page shows, newest first: the newest `per_page` on the front page, and
    /// on page N the N-th run of `per_page` counted from the oldest.
    fn chunk(&self, page: Option<usize>, per_page: usize) -> &[usize] {
        let n = self.ids.len();
        match page {
            None => &self.ids[..n.min(per_page)],
            Some(k) => {
                let end = n.saturating_sub((k - 1) * per_page);
                &self.ids[end.saturating_sub(per_page)..end]
            }
        }
    }

    /// Links to the newer and the older page.
    fn neighbours(&self, page: Option<usize>, per_page: usize) -> (Option<String>, Option<String>) {
        let segs: Vec<&str> = self.segments.iter().map(String::as_str).collect();
        let full = self.full_pages(per_page);
        let numbered = |k: usize| Some(Location::numbered(&segs, k).url);
        match page {
            None if self.ids.len() <= per_page => (None, None),
            // The front page repeats page `full` exactly when no article is left over.
            None if self.ids.len() % per_page == 0 => (None, numbered(full - 1)),
            None => (None, numbered(full)),
            Some(k) => {
                let newer = if k < full {
                    numbered(k + 1)
                } else {
                    Some(Location::dir(&segs).url)
                };
                (newer, if k > 1 { numbered(k - 1) } else { None })
            }
        }
    }
}

/// What planning needs of an article: where its page is and the key of everything it shows.
struct Head<'a> {
    file: String,
    key: [u8; 32],
    /// Category names, outermost first.
    cats: &'a [String],
    month: (i16, i8),
}

/// An article as list pages, the search index and its own page show it.
#[derive(Clone, Serialize)]
struct Item {
    title: String,
    url: String,
    date: String,
    date_iso: String,
    author: String,
    cats: Vec<Link>,
    excerpt: String,
    thumb: Option<String>,
}

#[derive(Clone, Serialize)]
struct Link {
    name: String,
    url: String,
}

/// Sorts newest first and drops articles whose slug cannot be a folder name or repeats one
/// (compared case-insensitively, as some file systems do).
pub(crate) fn accept(all: Vec<SiteArticle>) -> (Vec<SiteArticle>, Vec<String>) {
    // Indices are sorted, not the articles: an article is a few hundred bytes to move.
    let mut order: Vec<usize> = (0..all.len()).collect();
    order.sort_by(|&x, &y| {
        let (a, b) = (&all[x].article, &all[y].article);
        b.published.cmp(&a.published).then_with(|| a.id.cmp(&b.id))
    });
    let mut seen = HashSet::with_capacity(all.len());
    let mut reasons: Vec<Option<&'static str>> = vec![None; all.len()];
    for &i in &order {
        let slug = all[i].slug.as_str();
        // Most slugs have no capital letter: no lowercase copy is made of those.
        let folded: Cow<str> = if slug.chars().any(char::is_uppercase) {
            Cow::Owned(slug.to_lowercase())
        } else {
            Cow::Borrowed(slug)
        };
        reasons[i] = if !slug_is_safe(slug) {
            Some("unsafe slug")
        } else if !seen.insert(folded) {
            Some("slug used by another article")
        } else {
            None
        };
    }
    drop(seen);
    let mut slots: Vec<Option<SiteArticle>> = all.into_iter().map(Some).collect();
    let mut kept = Vec::with_capacity(slots.len());
    let mut skipped = Vec::new();
    for i in order {
        let Some(a) = slots[i].take() else { continue };
        match reasons[i] {
            None => kept.push(a),
            Some(reason) => skipped.push(format!(
                "article {} ({:?}): {reason} {:?}",
                a.article.id, a.article.title, a.slug
            )),
        }
    }
    (kept, skipped)
}

/// Plans every file of the site from the articles' heads (no body is read).
pub(crate) fn plan(articles: &[SiteArticle], options: &SiteOptions, theme: &Theme) -> Plan {
    let common = common_key(options, theme);
    let heads: Vec<Head> = articles.iter().map(|a| head(a, options)).collect();
    let site = json!({
        "title": options.title,
        "lang": options.language,
        "url": options.base_url,
    });
    let mut p = Planner {
        jobs: Vec::new(),
        heads: &heads,
        site: &site,
        common,
        per_page: options.per_page.max(1),
        category_urls: Vec::new(),
    };
    p.list(&[], (0..heads.len()).collect(), ListHead::default());
    p.categories();
    p.archives();
    p.simple("search/index.html", "search.html", "Search", None);
    p.simple(
        "404.html",
        "404.html",
        "Not found",
        Some(base_path(&options.base_url)),
    );
    for (i, h) in heads.iter().enumerate() {
        let key = hash(&[&common, b"article", h.file.as_bytes(), &h.key]);
        p.jobs.push(Job {
            file: h.file.clone(),
            key,
            body: Body::Article(i),
        });
    }
    let keys =
        |r: std::ops::Range<usize>| -> Vec<u8> { heads[r].iter().flat_map(|h| h.key).collect() };
    let atom_key = hash(&[&common, b"atom", &keys(0..heads.len().min(FEED_ENTRIES))]);
    p.keyed("atom.xml", atom_key, Body::Atom);
    let shard_versions = p.shards();
    let index_key = hash(&[
        &common,
        b"search index",
        &heads.len().to_le_bytes(),
        shard_versions.join(" ").as_bytes(),
    ]);
    p.keyed("search.json", index_key, Body::SearchIndex);
    let urls = p.category_urls.join("\n");
    let lists_key = hash(&[&common, b"sitemap lists", urls.as_bytes()]);
    p.keyed("sitemap/lists.xml", lists_key, Body::SitemapLists);
    let map_key = hash(&[&common, b"sitemap", &shard_versions.len().to_le_bytes()]);
    p.keyed("sitemap.xml", map_key, Body::SitemapIndex);
    for (name, source) in &theme.assets {
        let bytes = source.clone().into_bytes();
        p.keyed(
            &format!("assets/{name}"),
            hash(&[b"bytes", &bytes]),
            Body::Bytes(bytes),
        );
    }
    let (jobs, category_urls) = (p.jobs, p.category_urls);
    Plan {
        jobs,
        texts: Vec::new(),
        items: Vec::new(),
        site,
        category_urls,
        shard_versions,
        per_page: options.per_page.max(1),
    }
}

impl Plan {
    /// Sets the text of every article (see [`text_of`]), one per article. Only the texts the
    /// stale files read (see [`Plan::texts_read`]) need be known; the others may be empty.
    pub(crate) fn set_texts(&mut self, texts: Vec<String>) {
        self.items = (0..texts.len()).map(|_| OnceLock::new()).collect();
        self.texts = texts;
    }

    /// The texts as set by [`Plan::set_texts`] (empty before).
    pub(crate) fn texts(&self) -> &[String] {
        &self.texts
    }

    fn item(&self, i: usize, articles: &[SiteArticle], options: &SiteOptions) -> &Item {
        self.items[i].get_or_init(|| item(&articles[i], &self.texts[i], options))
    }

    /// The bytes of one file.
    pub(crate) fn render(
        &self,
        job: &Job,
        articles: &[SiteArticle],
        options: &SiteOptions,
        theme: &Theme,
    ) -> Result<Vec<u8>, SiteError> {
        match &job.body {
            Body::Bytes(b) => Ok(b.clone()),
            Body::Page { template, ctx } => render(theme, template, &job.file, ctx),
            Body::List(lp) => {
                let ctx = self.list_ctx(lp, &job.file, articles, options);
                render(theme, "list.html", &job.file, &ctx)
            }
            Body::Article(i) => {
                let it = self.item(*i, articles, options);
                let ctx = self.article_ctx(&articles[*i], it, &job.file, options);
                render(theme, "article.html", &job.file, &ctx)
            }
            Body::Atom => {
                let top = articles.len().min(FEED_ENTRIES);
                let items: Vec<&Item> = (0..top).map(|i| self.item(i, articles, options)).collect();
                Ok(atom(articles, &items, options).into_bytes())
            }
            Body::SitemapIndex => {
                Ok(sitemap_index(self.shard_versions.len(), options).into_bytes())
            }
            Body::SitemapLists => Ok(sitemap_lists(&self.category_urls, options).into_bytes()),
            Body::SitemapShard(k) => {
                let range = shard_range(articles.len(), *k);
                Ok(sitemap_shard(&articles[range], options).into_bytes())
            }
            Body::SearchIndex => {
                Ok(search_index(articles.len(), &self.shard_versions).into_bytes())
            }
            Body::SearchShard(k) => {
                let range = shard_range(articles.len(), *k);
                Ok(
                    search_shard(&articles[range.clone()], &self.texts[range], options)
                        .into_bytes(),
                )
            }
        }
    }

    /// Calls `f` with every article whose text rendering `job` reads (list excerpts, search
    /// rows, the article's own summary).
    pub(crate) fn texts_read(&self, job: &Job, articles: usize, f: &mut dyn FnMut(usize)) {
        let per_page = self.per_page;
        match &job.body {
            Body::Article(i) => f(*i),
            Body::List(lp) => lp.list.chunk(lp.page, per_page).iter().for_each(|&i| f(i)),
            Body::Atom => (0..articles.min(FEED_ENTRIES)).for_each(f),
            Body::SearchShard(k) => shard_range(articles, *k).for_each(f),
            _ => {}
        }
    }

    fn list_ctx(
        &self,
        lp: &ListPage,
        file: &str,
        articles: &[SiteArticle],
        options: &SiteOptions,
    ) -> Json {
        let per_page = options.per_page.max(1);
        let list = &lp.list;
        let items: Vec<&Item> = list
            .chunk(lp.page, per_page)
            .iter()
            .map(|&i| self.item(i, articles, options))
            .collect();
        let head = &list.head;
        let title = match (head.page_title.is_empty(), lp.page) {
            (_, None) => head.page_title.clone(),
            (true, Some(n)) => format!("Page {n}"),
            (false, Some(n)) => format!("{} · Page {n}", head.page_title),
        };
        let (newer, older) = list.neighbours(lp.page, per_page);
        // Counts and subcategories change with every new article: only the front page shows
        // them, so that a full numbered page never changes.
        let front = lp.page.is_none();
        json!({
            "site": self.site,
            "root": root_of(file),
            "page_title": title,
            "heading": head.heading,
            "crumbs": head.crumbs,
            "children": if front { head.children.clone() } else { Vec::new() },
            "items": items,
            "total": front.then_some(list.ids.len()),
            "pager": {
                "page": lp.page,
                "prev": newer,
                "next": older,
            },
        })
    }

    fn article_ctx(&self, a: &SiteArticle, it: &Item, file: &str, options: &SiteOptions) -> Json {
        let body = tidings_content::route_images(&a.article.html, &options.policy);
        let updated = (a.article.updated > a.article.published)
            .then(|| show(a.article.updated, &options.timezone))
            .filter(|(shown, _)| *shown != it.date);
        json!({
            "site": self.site,
            "root": root_of(file),
            "page_title": it.title,
            "article": {
                "title": it.title,
                "author": it.author,
                "date": it.date,
                "date_iso": it.date_iso,
                "updated": updated.as_ref().map(|u| &u.0),
                "updated_iso": updated.as_ref().map(|u| &u.1),
                "cats": it.cats,
                "link": web_link(a.article.link.as_deref()),
                "excerpt": it.excerpt,
                "body": body,
            },
        })
    }
}

fn render(theme: &Theme, template: &str, file: &str, ctx: &Json) -> Result<Vec<u8>, SiteError> {
    let err = |e| SiteError::Render {
        page: file.to_string(),
        source: Box::new(e),
    };
    let tmpl = theme.env.get_template(template).map_err(err)?;
    let mut html = tmpl.render(Value::from(Serde(ctx))).map_err(err)?;
    html.push('\n');
    Ok(html.into_bytes())
}

/// Heading, breadcrumbs and subcategories of a list.
#[derive(Default)]
struct ListHead {
    heading: String,
    page_title: String,
    crumbs: Vec<Link>,
    children: Vec<Json>,
}

struct Planner<'a> {
    jobs: Vec<Job>,
    heads: &'a [Head<'a>],
    site: &'a Json,
    common: [u8; 32],
    per_page: usize,
    /// First pages of every category, for the sitemap.
    category_urls: Vec<String>,
}

impl Planner<'_> {
    /// The pages of a list of articles (newest first) rooted at `segments`: the front page and
    /// the numbered pages. Keyed by what each page shows (heading, links, its items' keys),
    /// so that no context is built for a page that has not changed.
    fn list(&mut self, segments: &[&str], ids: Vec<usize>, head: ListHead) {
        let head_key = hash(&[
            head.heading.as_bytes(),
            head.page_title.as_bytes(),
            &serde_json::to_vec(&head.crumbs).unwrap_or_default(),
        ]);
        let front_key = hash(&[
            &head_key,
            &serde_json::to_vec(&head.children).unwrap_or_default(),
            &ids.len().to_le_bytes(),
        ]);
        let list = Arc::new(List {
            segments: segments.iter().map(|s| s.to_string()).collect(),
            ids,
            head,
        });
        let full = list.full_pages(self.per_page);
        let pages = std::iter::once(None).chain((1..=full).map(Some));
        for page in pages {
            let (file, page_key) = match page {
                None => (Location::dir(segments).file, front_key),
                Some(k) => (Location::numbered(segments, k).file, head_key),
            };
            let (newer, older) = list.neighbours(page, self.per_page);
            let mut h = Sha256::new();
            for part in [
                &self.common[..],
                b"list",
                file.as_bytes(),
                &page_key,
                newer.unwrap_or_default().as_bytes(),
                older.unwrap_or_default().as_bytes(),
            ] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part);
            }
            for &i in list.chunk(page, self.per_page) {
                h.update(self.heads[i].key);
            }
            let body = Body::List(ListPage {
                list: Arc::clone(&list),
                page,
            });
            self.keyed(&file, h.finalize().into(), body);
        }
    }

    /// The search and sitemap shards; returns each search shard's version.
    fn shards(&mut self) -> Vec<String> {
        let n = self.heads.len();
        let mut versions = Vec::new();
        for k in 1..=shard_count(n) {
            let mut search = Sha256::new();
            let mut map = Sha256::new();
            for (h, what) in [(&mut search, &b"search"[..]), (&mut map, b"sitemap")] {
                h.update(self.common);
                h.update(what);
                h.update(k.to_le_bytes());
            }
            for head in &self.heads[shard_range(n, k)] {
                search.update(head.key);
                map.update(head.key);
            }
            let key: [u8; 32] = search.finalize().into();
            versions.push(tidings_model::hex(&key[..6]));
            self.keyed(&format!("search/{k}.json"), key, Body::SearchShard(k));
            self.keyed(
                &format!("sitemap/{k}.xml"),
                map.finalize().into(),
                Body::SitemapShard(k),
            );
        }
        versions
    }

    fn keyed(&mut self, file: &str, key: [u8; 32], body: Body) {
        self.jobs.push(Job {
            file: file.to_string(),
            key,
            body,
        });
    }

    fn page(&mut self, file: String, template: &'static str, ctx: Json) {
        let bytes = serde_json::to_vec(&ctx).unwrap_or_default();
        let key = hash(&[&self.common, template.as_bytes(), file.as_bytes(), &bytes]);
        self.jobs.push(Job {
            file,
            key,
            body: Body::Page { template, ctx },
        });
    }

    fn simple(&mut self, file: &str, template: &'static str, title: &str, root: Option<String>) {
        let ctx = json!({
            "site": self.site,
            "root": root.unwrap_or_else(|| root_of(file)),
            "page_title": title,
        });
        self.page(file.to_string(), template, ctx);
    }

    /// Every category at every level, and the category index.
    fn categories(&mut self) {
        let tree = category_tree(self.heads);
        let mut index = Vec::new();
        for (segs, node) in &tree {
            let children: Vec<Json> = tree
                .range(segs.clone()..)
                .skip(1)
                .take_while(|(k, _)| k.starts_with(segs))
                .filter(|(k, _)| k.len() == segs.len() + 1)
                .map(|(k, n)| json!({"name": n.name, "url": category_url(k), "count": n.ids.len()}))
                .collect();
            self.category_urls.push(category_url(segs));
            index.push(json!({
                "name": node.name,
                "url": category_url(segs),
                "count": node.ids.len(),
                "depth": segs.len() - 1,
            }));
            let crumbs = (1..=segs.len())
                .map(|l| Link {
                    name: tree
                        .get(&segs[..l])
                        .map_or_else(String::new, |n| n.name.clone()),
                    url: category_url(&segs[..l]),
                })
                .collect();
            let mut path: Vec<&str> = vec!["categories"];
            path.extend(segs.iter().map(String::as_str));
            let head = ListHead {
                heading: node.name.clone(),
                page_title: node.name.clone(),
                crumbs,
                children,
            };
            self.list(&path, node.ids.clone(), head);
        }
        let ctx = json!({
            "site": self.site,
            "root": root_of("categories/index.html"),
            "page_title": "Categories",
            "categories": index,
        });
        self.page("categories/index.html".into(), "categories.html", ctx);
    }

    /// One list per month (in the site zone), and the archive index.
    fn archives(&mut self) {
        let mut months: BTreeMap<(i16, i8), Vec<usize>> = BTreeMap::new();
        for (i, h) in self.heads.iter().enumerate() {
            months.entry(h.month).or_default().push(i);
        }
        let mut years: BTreeMap<i16, Vec<Json>> = BTreeMap::new();
        for ((y, m), ids) in months.iter().rev() {
            let (ys, ms) = (y.to_string(), format!("{m:02}"));
            let path = ["archives", ys.as_str(), ms.as_str()];
            let label = format!("{y}-{m:02}");
            years.entry(*y).or_default().push(json!({
                "label": label,
                "url": Location::dir(&path).url,
                "count": ids.len(),
            }));
            let head = ListHead {
                heading: label.clone(),
                page_title: label,
                ..ListHead::default()
            };
            self.list(&path, ids.clone(), head);
        }
        let years: Vec<Json> = years
            .into_iter()
            .rev()
            .map(|(y, months)| json!({"year": y, "months": months}))
            .collect();
        let ctx = json!({
            "site": self.site,
            "root": root_of("archives/index.html"),
            "page_title": "Archives",
            "years": years,
        });
        self.page("archives/index.html".into(), "archives.html", ctx);
    }
}

struct Node {
    name: String,
    ids: Vec<usize>,
}

/// Category folder path (segments) → display name and articles, newest first. Every level of
/// every article's path is a node.
fn category_tree(heads: &[Head]) -> BTreeMap<Vec<String>, Node> {
    let mut tree: BTreeMap<Vec<String>, Node> = BTreeMap::new();
    // Ten thousand articles share a few hundred category names: each is made a folder name once.
    let mut segments: HashMap<&str, String> = HashMap::new();
    for (i, h) in heads.iter().enumerate() {
        let mut segs = Vec::new();
        for c in h.cats {
            let seg = segments
                .entry(c.as_str())
                .or_insert_with(|| category_segment(c));
            segs.push(seg.clone());
            // Looked up before inserting: `entry` would want a copy of the path every time.
            if !tree.contains_key(&segs) {
                let node = Node {
                    name: c.clone(),
                    ids: Vec::new(),
                };
                tree.insert(segs.clone(), node);
            }
            let Some(node) = tree.get_mut(&segs) else {
                continue;
            };
            // A path that names one category twice (a › a) lists the article once.
            if node.ids.last() != Some(&i) {
                node.ids.push(i);
            }
        }
    }
    tree
}

fn category_url(segs: &[String]) -> String {
    let mut path: Vec<&str> = vec!["categories"];
    path.extend(segs.iter().map(String::as_str));
    Location::dir(&path).url
}

/// The page, categories, month and key of an article, from its head alone. The key covers
/// everything an item or an article page shows: the content hash covers the title, author,
/// categories, link, dates (to the second), lead image and body.
fn head<'a>(a: &'a SiteArticle, options: &SiteOptions) -> Head<'a> {
    let art = &a.article;
    let zoned = art.published.to_zoned_datetime(options.timezone.clone());
    let key = hash(&[
        art.id.as_bytes(),
        a.slug.as_bytes(),
        a.content_hash.as_bytes(),
        &art.published.as_nanosecond().to_le_bytes(),
        &art.updated.as_nanosecond().to_le_bytes(),
    ]);
    Head {
        // Location::dir(["posts", slug]).file, without encoding a link nobody reads here.
        file: format!("posts/{}/index.html", a.slug),
        key,
        cats: &art.categories,
        month: (zoned.year(), zoned.month()),
    }
}

fn cat_links(categories: &[String]) -> Vec<Link> {
    let mut segs = Vec::new();
    categories
        .iter()
        .map(|name| {
            segs.push(category_segment(name));
            Link {
                name: name.clone(),
                url: category_url(&segs),
            }
        })
        .collect()
}

/// The text of an article's body as the search index and list pages show it.
pub(crate) fn text_of(html: &str) -> String {
    excerpt(html, SEARCH_TEXT)
}

fn item(a: &SiteArticle, text: &str, options: &SiteOptions) -> Item {
    let art = &a.article;
    let (date, date_iso) = show(art.published, &options.timezone);
    Item {
        title: art.title.clone(),
        url: Location::dir(&["posts", &a.slug]).url,
        date,
        date_iso,
        author: art.author.clone(),
        cats: cat_links(&art.categories),
        excerpt: text.chars().take(LIST_TEXT).collect(),
        thumb: art.lead_image.as_deref().map(|u| options.policy.apply(u)),
    }
}

/// `(shown, iso)` in the site zone: `2026-11-22 20:30`, `2026-11-22T20:30:00+08:00`.
fn show(ts: Timestamp, tz: &TimeZone) -> (String, String) {
    let z = ts.to_zoned_datetime(tz.clone());
    (shown(&z), iso(&z))
}

// Formatted by hand: the search index and the sitemap format twenty thousand dates, and
// `strftime` parses its format string every time.
fn shown(z: &Zoned) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        z.year(),
        z.month(),
        z.day(),
        z.hour(),
        z.minute()
    )
}

fn iso(z: &Zoned) -> String {
    let offset = z.offset().seconds();
    let sign = if offset < 0 { '-' } else { '+' };
    let offset = offset.unsigned_abs();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        z.year(),
        z.month(),
        z.day(),
        z.hour(),
        z.minute(),
        z.second(),
        offset / 3600,
        offset % 3600 / 60
    )
}

fn format_date(ts: Timestamp, tz: &TimeZone, format: fn(&Zoned) -> String) -> String {
    format(&ts.to_zoned_datetime(tz.clone()))
}

/// The article's original link, if it is a web link (feeds are hostile: no `javascript:`).
fn web_link(link: Option<&str>) -> Option<&str> {
    link.filter(|l| {
        let lower = l.trim_start().to_ascii_lowercase();
        lower.starts_with("https://") || lower.starts_with("http://")
    })
}

/// Path part of the site URL (`/news/`), `/` without one: the 404 page is served at any path,
/// so its links start from the site root rather than from where it sits.
fn base_path(base_url: &str) -> String {
    let rest = base_url.split_once("://").map_or("", |(_, r)| r);
    let path = rest.find('/').map_or("/", |i| &rest[i..]);
    let path = path.split(['?', '#']).next().unwrap_or("/");
    if path.ends_with('/') {
        path.to_string()
    } else {
        format!("{path}/")
    }
}

/// An absolute link for the feed and the sitemap (root-relative without a site URL).
fn absolute(options: &SiteOptions, url: &str) -> String {
    format!("{}/{url}", options.base_url.trim_end_matches('/'))
}

fn atom(articles: &[SiteArticle], items: &[&Item], options: &SiteOptions) -> String {
    let home = absolute(options, "");
    let updated = articles
        .iter()
        .take(FEED_ENTRIES)
        .map(|a| a.article.updated.max(a.article.published))
        .max()
        .unwrap_or(Timestamp::UNIX_EPOCH);
    let id = if options.base_url.is_empty() {
        "urn:tidings:site".to_string()
    } else {
        home.clone()
    };
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    x.push_str("<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    x.push_str(&format!("<title>{}</title>\n", xml_escape(&options.title)));
    x.push_str(&format!(
        "<id>{}</id>\n<updated>{updated}</updated>\n",
        xml_escape(&id)
    ));
    x.push_str(&format!(
        "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
        xml_escape(&home)
    ));
    x.push_str(&format!(
        "<link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>\n",
        xml_escape(&absolute(options, "atom.xml"))
    ));
    x.push_str("<generator>Tidings</generator>\n");
    for (a, it) in articles
        .iter()
        .zip(items.iter().copied())
        .take(FEED_ENTRIES)
    {
        entry(&mut x, a, it, options);
    }
    x.push_str("</feed>\n");
    x
}

fn entry(x: &mut String, a: &SiteArticle, it: &Item, options: &SiteOptions) {
    let art = &a.article;
    let body = tidings_content::route_images(&art.html, &options.policy);
    x.push_str("<entry>\n");
    x.push_str(&format!(
        "<title type=\"text\">{}</title>\n",
        xml_escape(&art.title)
    ));
    x.push_str(&format!(
        "<id>urn:tidings:article:{}</id>\n",
        xml_escape(&art.id)
    ));
    x.push_str(&format!(
        "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n",
        xml_escape(&absolute(options, &it.url))
    ));
    if let Some(link) = web_link(art.link.as_deref()) {
        x.push_str(&format!(
            "<link rel=\"related\" href=\"{}\"/>\n",
            xml_escape(link)
        ));
    }
    x.push_str(&format!("<published>{}</published>\n", art.published));
    x.push_str(&format!(
        "<updated>{}</updated>\n",
        art.updated.max(art.published)
    ));
    if !art.author.is_empty() {
        x.push_str(&format!(
            "<author><name>{}</name></author>\n",
            xml_escape(&art.author)
        ));
    }
    for c in &art.categories {
        x.push_str(&format!("<category term=\"{}\"/>\n", xml_escape(c)));
    }
    x.push_str(&format!(
        "<content type=\"html\">{}</content>\n",
        xml_escape(&body)
    ));
    x.push_str("</entry>\n");
}

const SITEMAP_HEAD: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n";
const SITEMAP_NS: &str = "xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"";

/// `sitemap.xml`: a sitemap index naming `sitemap/lists.xml` and one file per shard (a
/// single sitemap may hold at most 50,000 URLs, and one shard changes per new article).
fn sitemap_index(shards: usize, options: &SiteOptions) -> String {
    let mut x = format!("{SITEMAP_HEAD}<sitemapindex {SITEMAP_NS}>\n");
    let files =
        std::iter::once("lists".to_string()).chain((1..=shards).rev().map(|k| k.to_string()));
    for f in files {
        let loc = absolute(options, &format!("sitemap/{f}.xml"));
        x.push_str(&format!(
            "<sitemap><loc>{}</loc></sitemap>\n",
            xml_escape(&loc)
        ));
    }
    x.push_str("</sitemapindex>\n");
    x
}

/// `sitemap/lists.xml`: the front page and the first page of every category.
fn sitemap_lists(lists: &[String], options: &SiteOptions) -> String {
    let mut x = format!("{SITEMAP_HEAD}<urlset {SITEMAP_NS}>\n");
    for u in std::iter::once("").chain(lists.iter().map(String::as_str)) {
        sitemap_url(&mut x, &absolute(options, u), None);
    }
    x.push_str("</urlset>\n");
    x
}

/// `sitemap/K.xml`: the articles of one shard, newest first, with their dates.
fn sitemap_shard(articles: &[SiteArticle], options: &SiteOptions) -> String {
    let mut x = format!("{SITEMAP_HEAD}<urlset {SITEMAP_NS}>\n");
    for a in articles {
        let url = absolute(options, &Location::dir(&["posts", &a.slug]).url);
        let lastmod = format_date(a.article.published, &options.timezone, iso);
        sitemap_url(&mut x, &url, Some(&lastmod));
    }
    x.push_str("</urlset>\n");
    x
}

fn sitemap_url(x: &mut String, url: &str, lastmod: Option<&str>) {
    x.push_str("<url><loc>");
    x.push_str(&xml_escape(url));
    x.push_str("</loc>");
    if let Some(m) = lastmod {
        x.push_str("<lastmod>");
        x.push_str(m);
        x.push_str("</lastmod>");
    }
    x.push_str("</url>\n");
}

/// `search.json`: `{"v":2,"count":N,"shards":["search/K.json?v=…",…]}`, newest shard first.
/// The script loads every shard it names.
fn search_index(count: usize, versions: &[String]) -> String {
    let shards: Vec<String> = versions
        .iter()
        .enumerate()
        .rev()
        .map(|(i, v)| format!("search/{}.json?v={v}", i + 1))
        .collect();
    json!({"v": 2, "count": count, "shards": shards}).to_string()
}

/// `search/K.json`: `{"v":2,"items":[[slug,title,date,categories,text],…]}`, newest first.
/// The slug is raw (a third of the size of its percent-encoded form in Chinese); the script
/// encodes it.
fn search_shard(articles: &[SiteArticle], texts: &[String], options: &SiteOptions) -> String {
    #[derive(Serialize)]
    struct Shard<'a> {
        v: u32,
        items: Vec<(&'a str, &'a str, String, String, &'a str)>,
    }
    let items = articles
        .iter()
        .zip(texts)
        .map(|(a, text)| {
            (
                a.slug.as_str(),
                a.article.title.as_str(),
                format_date(a.article.published, &options.timezone, shown),
                a.article.categories.join(" › "),
                text.as_str(),
            )
        })
        .collect();
    let json = serde_json::to_string(&Shard { v: 2, items }).unwrap_or_default();
    html_safe_json(&json)
}

/// What every page depends on besides its own content: theme, options, image policy.
fn common_key(options: &SiteOptions, theme: &Theme) -> [u8; 32] {
    // The policy is identified by what it does to a probe URL, so that no secret is hashed.
    let probe = options.policy.apply("https://tidings.invalid/probe.png");
    hash(&[
        &theme.fingerprint,
        options.title.as_bytes(),
        options.base_url.as_bytes(),
        options.language.as_bytes(),
        format!("{:?}", options.timezone).as_bytes(),
        &options.per_page.to_le_bytes(),
        probe.as_bytes(),
    ])
}

/// SHA-256 over length-prefixed parts, so that ("ab","c") and ("a","bc") differ.
fn hash(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_as_strftime_would_write_them() {
        let zones = [
            "Asia/Shanghai",
            "America/St_Johns",
            "Asia/Kathmandu",
            "UTC",
            "Pacific/Chatham",
        ];
        for zone in zones {
            let tz = TimeZone::get(zone).unwrap();
            for secs in [
                0,
                1_795_350_000,
                951_782_400,
                1_710_000_123,
                -86_400 * 365 * 30,
            ] {
                let z = Timestamp::from_second(secs)
                    .unwrap()
                    .to_zoned_datetime(tz.clone());
                assert_eq!(shown(&z), z.strftime("%Y-%m-%d %H:%M").to_string(), "{z}");
                assert_eq!(
                    iso(&z),
                    z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
                    "{z}"
                );
            }
        }
    }
}
