//! Which upstream bodies are images: the declared Content-Type and the first bytes must agree.

/// Image types served as declared when the bytes give no clearer answer.
const IMAGE_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/apng",
    "image/gif",
    "image/webp",
    "image/avif",
    "image/bmp",
    "image/x-icon",
    "image/vnd.microsoft.icon",
    "image/svg+xml",
    "image/tiff",
    "image/heic",
    "image/heif",
    "image/jxl",
];

pub(crate) const SVG: &str = "image/svg+xml";

/// How many leading bytes the sniffer wants before deciding.
pub(crate) const SNIFF_LEN: usize = 512;

/// What the upstream's Content-Type header claims.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Declared {
    Image(String),
    /// `application/octet-stream` and friends: common on Chinese CDNs, the bytes decide.
    Opaque,
}

/// The normalised type to send for an upstream body, or why it is refused.
pub(crate) fn decide(content_type: Option<&str>, head: &[u8]) -> Result<&'static str, String> {
    let declared = declared(content_type)?;
    let sniffed = sniff(head);
    match (declared, sniffed) {
        (_, Sniffed::Markup) => Err("the body is HTML or other markup, not an image".into()),
        (Declared::Opaque, Sniffed::Image(t)) => Ok(t),
        (Declared::Opaque, _) => Err("an octet-stream body that is not a known image".into()),
        (Declared::Image(_), Sniffed::Image(t)) => Ok(t),
        (Declared::Image(d), Sniffed::Svg) if d == SVG => Ok(SVG),
        (Declared::Image(_), Sniffed::Svg) => {
            Err("an SVG document labelled as a raster image".into())
        }
        (Declared::Image(d), Sniffed::Unknown) if d == SVG => {
            Err("labelled SVG but is not SVG".into())
        }
        (Declared::Image(d), Sniffed::Unknown) => IMAGE_TYPES
            .iter()
            .find(|t| **t == d)
            .copied()
            .ok_or_else(|| format!("unsupported image type {d}")),
    }
}

/// Parse a Content-Type strictly: one `type/subtype`, parameters only as `name=value`.
/// `image/png, text/html` and `image/png;text/html` are refused (browsers disagree on them).
fn declared(content_type: Option<&str>) -> Result<Declared, String> {
    let raw = content_type.ok_or("no Content-Type")?;
    if raw.contains(',') {
        return Err(format!("ambiguous Content-Type {raw:?}"));
    }
    let mut parts = raw.split(';');
    let essence = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    if parts.any(|p| !p.trim().is_empty() && !p.contains('=')) {
        return Err(format!("malformed Content-Type {raw:?}"));
    }
    let (kind, sub) = essence
        .split_once('/')
        .ok_or_else(|| format!("malformed Content-Type {raw:?}"))?;
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    if !token(kind) || !token(sub) {
        return Err(format!("malformed Content-Type {raw:?}"));
    }
    match (kind, sub) {
        ("image", "jpg" | "pjpeg") => Ok(Declared::Image("image/jpeg".into())),
        ("image", "x-png") => Ok(Declared::Image("image/png".into())),
        ("image", _) => Ok(Declared::Image(essence)),
        ("application" | "binary", "octet-stream") => Ok(Declared::Opaque),
        _ => Err(format!("not an image: {essence}")),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Sniffed {
    Image(&'static str),
    Svg,
    Markup,
    Unknown,
}

/// Identify the body from its first bytes.
fn sniff(head: &[u8]) -> Sniffed {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\xFF\xD8\xFF", "image/jpeg"),
        (b"\x89PNG\r\n\x1A\n", "image/png"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"BM", "image/bmp"),
        (b"\x00\x00\x01\x00", "image/x-icon"),
        (b"II*\x00", "image/tiff"),
        (b"MM\x00*", "image/tiff"),
        (b"\xFF\x0A", "image/jxl"),
    ];
    if let Some((_, t)) = MAGIC.iter().find(|(m, _)| head.starts_with(m)) {
        return Sniffed::Image(t);
    }
    if head.len() >= 12 && &head[..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return Sniffed::Image("image/webp");
    }
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        match &head[8..12] {
            b"avif" | b"avis" => return Sniffed::Image("image/avif"),
            b"heic" | b"heix" | b"mif1" => return Sniffed::Image("image/heic"),
            _ => {}
        }
    }
    markup(head)
}

/// SVG, other markup (HTML, XML) or unknown binary.
fn markup(head: &[u8]) -> Sniffed {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return Sniffed::Unknown;
    };
    let text = &text[start..];
    if text.first() != Some(&b'<') {
        return Sniffed::Unknown;
    }
    let lower = text.to_ascii_lowercase();
    let prologue = lower.starts_with(b"<?xml")
        || lower.starts_with(b"<!--")
        || lower.starts_with(b"<!doctype svg");
    if lower.starts_with(b"<svg")
        || (prologue && contains(&lower, b"<svg") && !contains(&lower, b"<html"))
    {
        Sniffed::Svg
    } else {
        Sniffed::Markup
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00";
    const PNG: &[u8] = b"\x89PNG\r\n\x1A\n\x00\x00\x00\rIHDR";

    #[test]
    fn refuses_non_images_and_smuggled_types() {
        for ct in [
            None,
            Some("text/html"),
            Some("nonsense"),
            Some(""),
            Some("image/png, text/html"),
            Some("image/png;text/html"),
            Some("image/"),
            Some("image/png x"),
            Some("application/json"),
        ] {
            assert!(decide(ct, PNG).is_err(), "{ct:?}");
        }
    }

    #[test]
    fn normalises_and_sniffs() {
        assert_eq!(
            decide(Some("IMAGE/PNG; charset=binary"), PNG),
            Ok("image/png")
        );
        assert_eq!(
            decide(Some("application/octet-stream"), JPEG),
            Ok("image/jpeg")
        );
        assert_eq!(decide(Some("image/jpg"), JPEG), Ok("image/jpeg"));
        // Chinese CDNs often label PNGs as JPEG: the bytes win.
        assert_eq!(decide(Some("image/jpeg"), PNG), Ok("image/png"));
        assert_eq!(
            decide(Some("image/x-icon"), b"\x00\x00\x01\x00\x01"),
            Ok("image/x-icon")
        );
        assert!(decide(Some("application/octet-stream"), b"plain text").is_err());
        assert!(decide(Some("image/x-made-up"), b"\x01\x02\x03").is_err());
    }

    #[test]
    fn html_labelled_as_image_is_refused() {
        for body in [
            &b"<html><body>hi"[..],
            b"  <!DOCTYPE html>",
            b"\xEF\xBB\xBF<script>",
            b"<?xml version='1.0'?><html>",
        ] {
            assert!(decide(Some("image/png"), body).is_err());
            assert!(decide(Some("image/svg+xml"), body).is_err());
        }
    }

    #[test]
    fn svg_only_as_svg() {
        let svg = b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"/>";
        assert_eq!(decide(Some("image/svg+xml"), svg), Ok(SVG));
        assert_eq!(decide(Some("image/svg+xml"), b"<svg/>"), Ok(SVG));
        assert!(decide(Some("image/png"), svg).is_err());
        assert!(decide(Some("application/octet-stream"), svg).is_err());
        assert!(decide(Some("image/svg+xml"), PNG).is_ok_and(|t| t == "image/png"));
    }
}
