//! Renders and writes posts for Hexo (and later Hugo, Zola, Jekyll).
//!
//! Rendering is pure: an [`Article`] plus the final (image-routed) HTML in, the post text out.
//! The only I/O is [`replace_file`], [`sync_tree`] and [`remove_temp_files`].

mod body;
mod fs;
mod slug;
pub mod yaml;

pub use fs::{remove_temp_dir, remove_temp_files, replace_file, sync_tree, TEMP_DIR, TEMP_PREFIX};
pub use slug::slug_base;

use jiff::tz::TimeZone;
use jiff::Timestamp;
use tidings_model::Article;

/// How `date:` and `updated:` are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DateFormat {
    /// `2022-01-23 23:27:25`, wall clock in the site zone. Hexo re-reads every date as wall
    /// clock in its configured `timezone`, so this is the one form that is always right.
    #[default]
    Naive,
    /// `Sun, 23 Jan 2022 15:27:25 GMT`, always in GMT, as the replaced system wrote it.
    Rfc2822,
}

/// Knobs of the Hexo writer.
#[derive(Clone, Debug)]
pub struct HexoOptions {
    pub date_format: DateFormat,
    /// Front-matter keys that receive the lead image URL; themes disagree on the name.
    pub image_keys: Vec<String>,
    /// Zone for [`DateFormat::Naive`]; should equal Hexo's `timezone`.
    pub timezone: TimeZone,
}

impl Default for HexoOptions {
    fn default() -> Self {
        HexoOptions {
            date_format: DateFormat::Naive,
            image_keys: vec!["headimg".to_string(), "thumbnail".to_string()],
            timezone: TimeZone::UTC,
        }
    }
}

/// The complete Hexo post file for `article`.
///
/// `body_html` is the final HTML (images already routed) and `lead_image` the final lead image
/// URL. Key order follows the replaced system's posts: title, categories, first image key,
/// author, comments, date, remaining image keys, updated.
pub fn hexo_post(
    article: &Article,
    body_html: &str,
    lead_image: Option<&str>,
    opts: &HexoOptions,
) -> String {
    let mut out = String::with_capacity(body_html.len() + 512);
    out.push_str("---\n");
    out.push_str(&front_matter(article, lead_image, opts));
    out.push_str("---\n\n");
    out.push_str(&body::hexo_body(body_html));
    out.push('\n');
    out
}

/// The lines between the `---` markers, each ending in `\n`.
fn front_matter(article: &Article, lead_image: Option<&str>, opts: &HexoOptions) -> String {
    let mut fm = String::new();
    line(&mut fm, "title", &yaml::quoted(&article.title));
    categories(&mut fm, &article.categories);
    let (first_keys, later_keys) = match lead_image {
        Some(_) if !opts.image_keys.is_empty() => opts.image_keys.split_at(1),
        _ => (&[][..], &[][..]),
    };
    let image = yaml::quoted(lead_image.unwrap_or(""));
    for key in first_keys {
        line(&mut fm, key, &image);
    }
    line(&mut fm, "author", &yaml::scalar(&article.author));
    line(&mut fm, "comments", "false");
    line(&mut fm, "date", &date(article.published, opts));
    for key in later_keys {
        line(&mut fm, key, &image);
    }
    line(&mut fm, "updated", &date(article.updated, opts));
    fm
}

fn line(fm: &mut String, key: &str, value: &str) {
    // Keys come from configuration; quote them too if they are odd.
    fm.push_str(&yaml::scalar(key));
    fm.push_str(": ");
    fm.push_str(value);
    fm.push('\n');
}

/// A flat list, which Hexo reads as one hierarchy. The trailing space after the colon and the
/// one-space indent reproduce the replaced system's layout.
fn categories(fm: &mut String, categories: &[String]) {
    if categories.is_empty() {
        fm.push_str("categories: []\n");
        return;
    }
    fm.push_str("categories: \n");
    for c in categories {
        fm.push_str(" - ");
        fm.push_str(&yaml::scalar(c));
        fm.push('\n');
    }
}

fn date(ts: Timestamp, opts: &HexoOptions) -> String {
    match opts.date_format {
        DateFormat::Naive => ts
            .to_zoned_datetime(opts.timezone.clone())
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string(),
        DateFormat::Rfc2822 => ts.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string(),
    }
}

#[cfg(test)]
mod tests;
