//! The plan of a build: every output file, what it is made from, and how to render it.
//!
//! List pages carry their whole context (a few dozen short strings), so their key is a hash of
//! it; article pages are keyed by the article's stored content hash, so an unchanged article
//! is neither routed through the image policy nor rendered again.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use jiff::tz::TimeZone;
use jiff::Timestamp;
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
const FEED_ENTRIES: usize = 50;

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
    Page { template: &'static str, ctx: Json },
    /// One page of a list; its context is built only if it must be rendered.
    List(ListPage),
    /// Bytes made while planning (feed, sitemap, search index, assets).
    Bytes(Vec<u8>),
}

pub(crate) struct Plan {
    pub jobs: Vec<Job>,
    items: Vec<Item>,
    site: Json,
}

/// Page `page` of the list `list`.
pub(crate) struct ListPage {
    list: Arc<List>,
    page: usize,
}

/// A list of articles (newest first) with its heading, at `segments`.
struct List {
    segments: Vec<String>,
    ids: Vec<usize>,
    pages: usize,
    head: ListHead,
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
    #[serde(skip)]
    text: String,
    /// `新媒体 › ZAKER › source`
    #[serde(skip)]
    cats_line: String,
    #[serde(skip)]
    file: String,
    #[serde(skip)]
    month: (i16, i8),
}

#[derive(Clone, Serialize)]
struct Link {
    name: String,
    url: String,
}

/// Sorts newest first and drops articles whose slug cannot be a folder name or repeats one
/// (compared case-insensitively, as some file systems do).
pub(crate) fn accept(mut all: Vec<SiteArticle>) -> (Vec<SiteArticle>, Vec<String>) {
    all.sort_by(|a, b| {
        b.article
            .published
            .cmp(&a.article.published)
            .then_with(|| a.article.id.cmp(&b.article.id))
    });
    let mut seen = HashSet::new();
    let mut kept = Vec::with_capacity(all.len());
    let mut skipped = Vec::new();
    for a in all {
        let reason = if !slug_is_safe(&a.slug) {
            "unsafe slug"
        } else if !seen.insert(a.slug.to_lowercase()) {
            "slug used by another article"
        } else {
            kept.push(a);
            continue;
        };
        skipped.push(format!(
            "article {} ({:?}): {reason} {:?}",
            a.article.id, a.article.title, a.slug
        ));
    }
    (kept, skipped)
}

/// Plans every file of the site.
pub(crate) fn plan(articles: &[SiteArticle], options: &SiteOptions, theme: &Theme) -> Plan {
    let common = common_key(options, theme);
    let items = items(articles, options);
    let site = json!({
        "title": options.title,
        "lang": options.language,
        "url": options.base_url,
    });
    let mut p = Planner {
        jobs: Vec::new(),
        items: &items,
        item_keys: items
            .iter()
            .map(|it| hash(&[&serde_json::to_vec(it).unwrap_or_default()]))
            .collect(),
        site: &site,
        common,
        per_page: options.per_page.max(1),
        category_urls: Vec::new(),
    };
    p.list(&[], (0..items.len()).collect(), ListHead::default());
    p.categories();
    p.archives();
    p.simple("search/index.html", "search.html", "Search", None);
    p.simple(
        "404.html",
        "404.html",
        "Not found",
        Some(base_path(&options.base_url)),
    );
    for (i, it) in items.iter().enumerate() {
        let key = hash(&[
            &common,
            b"article",
            it.file.as_bytes(),
            articles[i].content_hash.as_bytes(),
        ]);
        p.jobs.push(Job {
            file: it.file.clone(),
            key,
            body: Body::Article(i),
        });
    }
    p.bytes("atom.xml", atom(articles, &items, options).into_bytes());
    let map = sitemap(&items, &p.category_urls, options);
    p.bytes("sitemap.xml", map.into_bytes());
    p.bytes("search.json", search_index(articles, &items).into_bytes());
    for (name, source) in &theme.assets {
        p.bytes(&format!("assets/{name}"), source.clone().into_bytes());
    }
    let jobs = p.jobs;
    Plan { jobs, items, site }
}

impl Plan {
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
                let ctx = self.list_ctx(lp, &job.file, options.per_page.max(1));
                render(theme, "list.html", &job.file, &ctx)
            }
            Body::Article(i) => {
                let ctx = self.article_ctx(&articles[*i], &self.items[*i], options);
                render(theme, "article.html", &job.file, &ctx)
            }
        }
    }

    fn list_ctx(&self, lp: &ListPage, file: &str, per_page: usize) -> Json {
        let list = &lp.list;
        let (page, pages) = (lp.page, list.pages);
        let segments: Vec<&str> = list.segments.iter().map(String::as_str).collect();
        let chunk = list.ids.chunks(per_page).nth(page - 1).unwrap_or(&[]);
        let items: Vec<&Item> = chunk.iter().map(|&i| &self.items[i]).collect();
        let head = &list.head;
        let title = match (head.page_title.is_empty(), page) {
            (true, 1) => String::new(),
            (true, n) => format!("Page {n}"),
            (false, 1) => head.page_title.clone(),
            (false, n) => format!("{} · Page {n}", head.page_title),
        };
        json!({
            "site": self.site,
            "root": root_of(file),
            "page_title": title,
            "heading": head.heading,
            "crumbs": head.crumbs,
            "children": head.children,
            "items": items,
            "total": list.ids.len(),
            "pager": {
                "page": page,
                "pages": pages,
                "prev": (page > 1).then(|| Location::paged(&segments, page - 1).url),
                "next": (page < pages).then(|| Location::paged(&segments, page + 1).url),
            },
        })
    }

    fn article_ctx(&self, a: &SiteArticle, it: &Item, options: &SiteOptions) -> Json {
        let body = tidings_content::route_images(&a.article.html, &options.policy);
        let updated = (a.article.updated > a.article.published)
            .then(|| show(a.article.updated, &options.timezone))
            .filter(|(shown, _)| *shown != it.date);
        json!({
            "site": self.site,
            "root": root_of(&it.file),
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
    items: &'a [Item],
    /// Hash of each item as list pages show it.
    item_keys: Vec<[u8; 32]>,
    site: &'a Json,
    common: [u8; 32],
    per_page: usize,
    /// First pages of every category, for the sitemap.
    category_urls: Vec<String>,
}

impl Planner<'_> {
    /// The pages of a list of articles (newest first) rooted at `segments`. Keyed by the
    /// list's heading and the keys of the items each page shows, so that no context is built
    /// for a page that has not changed.
    fn list(&mut self, segments: &[&str], ids: Vec<usize>, head: ListHead) {
        let pages = ids.len().div_ceil(self.per_page).max(1);
        let head_key = hash(&[
            head.heading.as_bytes(),
            head.page_title.as_bytes(),
            &serde_json::to_vec(&(&head.crumbs, &head.children)).unwrap_or_default(),
            &ids.len().to_le_bytes(),
        ]);
        let list = Arc::new(List {
            segments: segments.iter().map(|s| s.to_string()).collect(),
            ids,
            pages,
            head,
        });
        for page in 1..=pages {
            let file = Location::paged(segments, page).file;
            let chunk = list.ids.chunks(self.per_page).nth(page - 1).unwrap_or(&[]);
            let mut h = Sha256::new();
            for part in [&self.common[..], b"list", file.as_bytes(), &head_key] {
                h.update((part.len() as u64).to_le_bytes());
                h.update(part);
            }
            h.update(page.to_le_bytes());
            h.update(pages.to_le_bytes());
            for &i in chunk {
                h.update(self.item_keys[i]);
            }
            let body = Body::List(ListPage {
                list: Arc::clone(&list),
                page,
            });
            self.jobs.push(Job {
                file,
                key: h.finalize().into(),
                body,
            });
        }
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

    fn bytes(&mut self, file: &str, bytes: Vec<u8>) {
        let key = hash(&[b"bytes", &bytes]);
        self.jobs.push(Job {
            file: file.to_string(),
            key,
            body: Body::Bytes(bytes),
        });
    }

    /// Every category at every level, and the category index.
    fn categories(&mut self) {
        let tree = category_tree(self.items);
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
        for (i, it) in self.items.iter().enumerate() {
            months.entry(it.month).or_default().push(i);
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
fn category_tree(items: &[Item]) -> BTreeMap<Vec<String>, Node> {
    let mut tree: BTreeMap<Vec<String>, Node> = BTreeMap::new();
    for (i, it) in items.iter().enumerate() {
        let mut segs = Vec::new();
        for c in &it.cats {
            segs.push(category_segment(&c.name));
            let node = tree.entry(segs.clone()).or_insert_with(|| Node {
                name: c.name.clone(),
                ids: Vec::new(),
            });
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

/// The items of every article, made on every core (dates, excerpts and signed thumbnail URLs
/// add up over ten thousand articles).
fn items(articles: &[SiteArticle], options: &SiteOptions) -> Vec<Item> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = articles.len().div_ceil(workers).max(256);
    std::thread::scope(|s| {
        let handles: Vec<_> = articles
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(|a| item(a, options)).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

fn item(a: &SiteArticle, options: &SiteOptions) -> Item {
    let art = &a.article;
    let loc = Location::dir(&["posts", &a.slug]);
    let (date, date_iso) = show(art.published, &options.timezone);
    let zoned = art.published.to_zoned_datetime(options.timezone.clone());
    let mut segs = Vec::new();
    let cats = art
        .categories
        .iter()
        .map(|name| {
            segs.push(category_segment(name));
            Link {
                name: name.clone(),
                url: category_url(&segs),
            }
        })
        .collect();
    let text = excerpt(&art.html, SEARCH_TEXT);
    let cats_line = art.categories.join(" › ");
    Item {
        title: art.title.clone(),
        url: loc.url,
        date,
        date_iso,
        author: art.author.clone(),
        cats,
        excerpt: text.chars().take(LIST_TEXT).collect(),
        thumb: art.lead_image.as_deref().map(|u| options.policy.apply(u)),
        text,
        cats_line,
        file: loc.file,
        month: (zoned.year(), zoned.month()),
    }
}

/// `(2026-11-22 20:30, 2026-11-22T20:30:00+08:00)` in the site zone.
fn show(ts: Timestamp, tz: &TimeZone) -> (String, String) {
    let z = ts.to_zoned_datetime(tz.clone());
    (
        z.strftime("%Y-%m-%d %H:%M").to_string(),
        z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
    )
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

fn atom(articles: &[SiteArticle], items: &[Item], options: &SiteOptions) -> String {
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
    for (a, it) in articles.iter().zip(items).take(FEED_ENTRIES) {
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

/// Every article, the front page and the first page of every category.
fn sitemap(items: &[Item], lists: &[String], options: &SiteOptions) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    x.push_str("<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    let mut add = |u: &str, lastmod: Option<&str>| {
        x.push_str(&format!(
            "<url><loc>{}</loc>",
            xml_escape(&absolute(options, u))
        ));
        if let Some(m) = lastmod {
            x.push_str(&format!("<lastmod>{m}</lastmod>"));
        }
        x.push_str("</url>\n");
    };
    add("", None);
    for u in lists {
        add(u, None);
    }
    for it in items {
        add(&it.url, Some(&it.date_iso));
    }
    x.push_str("</urlset>\n");
    x
}

/// `{"v":1,"items":[[slug,title,date,categories,text],…]}`, newest first. The slug is raw
/// (a third of the size of its percent-encoded form in Chinese); the script encodes it.
fn search_index(articles: &[SiteArticle], items: &[Item]) -> String {
    let rows: Vec<[&str; 5]> = articles
        .iter()
        .zip(items)
        .map(|(a, it)| {
            [
                a.slug.as_str(),
                it.title.as_str(),
                it.date.as_str(),
                it.cats_line.as_str(),
                it.text.as_str(),
            ]
        })
        .collect();
    #[derive(Serialize)]
    struct Index<'a> {
        v: u32,
        items: Vec<[&'a str; 5]>,
    }
    let json = serde_json::to_string(&Index { v: 1, items: rows }).unwrap_or_default();
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
