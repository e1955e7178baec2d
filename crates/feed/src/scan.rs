//! Facts feed-rs does not keep, read with a second, cheap pass over the XML — run only when
//! needed: the `xml:base` in scope at each entry (only when the document mentions `xml:base`),
//! and the line of the first XML error (only when parsing already failed).

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use url::Url;

/// For each `<item>`/`<entry>` in document order, the `xml:base` in scope inside it.
///
/// Entries nested in an entry are not counted, matching how feed-rs walks the document.
pub(crate) fn entry_bases(doc: &str, document_url: Option<&Url>) -> Vec<Option<Url>> {
    let mut reader = Reader::from_str(doc);
    let mut bases: Vec<(usize, Url)> = Vec::new();
    let mut found = Vec::new();
    let mut depth = 0usize;
    let mut entry_depth: Option<usize> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => {
                depth += 1;
                if let Some(base) = declared_base(&start, bases.last().map(|b| &b.1), document_url)
                {
                    bases.push((depth, base));
                }
                if entry_depth.is_none() && is_entry(&start) {
                    entry_depth = Some(depth);
                    found.push(bases.last().map(|b| b.1.clone()));
                }
            }
            Ok(Event::Empty(start)) => {
                if entry_depth.is_none() && is_entry(&start) {
                    let scope = bases.last().map(|b| &b.1);
                    found.push(declared_base(&start, scope, document_url).or(scope.cloned()));
                }
            }
            Ok(Event::End(_)) => {
                if bases.last().is_some_and(|b| b.0 == depth) {
                    bases.pop();
                }
                if entry_depth == Some(depth) {
                    entry_depth = None;
                }
                depth = depth.saturating_sub(1);
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    found
}

fn is_entry(start: &BytesStart) -> bool {
    let name = start.local_name();
    matches!(name.as_ref(), "item" | "entry")
}

/// The element's own `xml:base`, resolved against the base in scope.
fn declared_base(start: &BytesStart, scope: Option<&Url>, document: Option<&Url>) -> Option<Url> {
    let attr = start.try_get_attribute("xml:base").ok()??;
    let value = attr
        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
        .ok()?;
    let value = value.trim();
    match Url::parse(value) {
        Ok(url) => Some(url),
        Err(url::ParseError::RelativeUrlWithoutBase) => scope.or(document)?.join(value).ok(),
        Err(_) => None,
    }
}

/// Line (1-based) and description of the first well-formedness error, if quick-xml finds one.
pub(crate) fn locate_error(doc: &str) -> Option<(usize, String)> {
    let mut reader = Reader::from_str(doc);
    let mut open: Vec<String> = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(start)) => {
                open.push(String::from_utf8_lossy(start.name().as_ref().as_bytes()).into_owned())
            }
            Ok(Event::End(_)) => {
                open.pop();
            }
            Ok(Event::Eof) => {
                let name = open.last()?;
                let message = format!("document ends before <{name}> is closed");
                return Some((line_of(doc, doc.len()), message));
            }
            Err(e) => {
                let at = usize::try_from(reader.error_position()).unwrap_or(doc.len());
                return Some((line_of(doc, at), e.to_string()));
            }
            Ok(_) => {}
        }
    }
}

fn line_of(doc: &str, byte: usize) -> usize {
    let end = byte.min(doc.len());
    1 + doc.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bases_follow_scope() {
        let doc = r#"<feed xml:base="http://a.example/blog/">
  <entry><id>1</id></entry>
  <entry xml:base="2024/"><id>2</id><content xml:base="/x/">c</content></entry>
  <entry xml:base="https://b.example/"/>
</feed>"#;
        let got: Vec<_> = entry_bases(doc, None)
            .into_iter()
            .map(|u| u.map(String::from))
            .collect();
        assert_eq!(
            got,
            [
                Some("http://a.example/blog/".to_string()),
                Some("http://a.example/blog/2024/".to_string()),
                Some("https://b.example/".to_string()),
            ]
        );
    }

    #[test]
    fn relative_base_uses_document_url() {
        let doc = r#"<rss xml:base="/news/"><channel><item/></channel></rss>"#;
        let url = Url::parse("http://c.example/feed.xml").ok();
        let got = entry_bases(doc, url.as_ref());
        assert_eq!(
            got[0].as_ref().map(Url::as_str),
            Some("http://c.example/news/")
        );
        assert_eq!(entry_bases(doc, None), [None]);
    }

    #[test]
    fn errors_are_located() {
        let (line, _) = locate_error("<rss>\n<channel>\n<item></wrong>\n</rss>").expect("error");
        assert_eq!(line, 3);
        let (line, message) = locate_error("<rss>\n<channel>\n<item>").expect("error");
        assert_eq!(line, 3);
        assert!(message.contains("<item>"), "{message}");
        assert_eq!(locate_error("<rss></rss>"), None);
    }
}
