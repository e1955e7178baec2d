//! How image URLs are published, and the signed-URL format of Tidings' own proxy.
//!
//! Builtin proxy URLs look like `{public_url}/{sig}/{b64}`: `b64` is the target URL and `sig` is
//! HMAC-SHA256(key, target URL), both in URL-safe base64 without padding.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::Sha256;

/// Where `<img src>` and lead-image keys point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ImagePolicy {
    /// The original URL, untouched.
    Direct,
    /// A proxy URL template: `{url}` is replaced by the raw URL, `{url_encoded}` by the
    /// percent-encoded URL.
    Template(String),
    /// Signed URLs of Tidings' own proxy.
    Builtin { public_url: String, key: Vec<u8> },
}

/// Characters left alone by `{url_encoded}`: the RFC 3986 unreserved set.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

impl ImagePolicy {
    /// The URL a reader's browser should load for the image at `url`.
    pub fn apply(&self, url: &str) -> String {
        match self {
            ImagePolicy::Direct => url.to_string(),
            // Encoding only when asked for: this runs for every image of every post.
            ImagePolicy::Template(t) if t.contains("{url_encoded}") => t
                .replace(
                    "{url_encoded}",
                    &utf8_percent_encode(url, COMPONENT).to_string(),
                )
                .replace("{url}", url),
            ImagePolicy::Template(t) => t.replace("{url}", url),
            ImagePolicy::Builtin { public_url, key } => {
                format!(
                    "{}/{}",
                    public_url.trim_end_matches('/'),
                    sign_path(key, url)
                )
            }
        }
    }
}

/// `{sig}/{b64}` for `url`: the path part of a builtin proxy URL.
pub fn sign_path(key: &[u8], url: &str) -> String {
    format!(
        "{}/{}",
        URL_SAFE_NO_PAD.encode(signature(key, url)),
        URL_SAFE_NO_PAD.encode(url)
    )
}

/// Checks a `{sig}/{b64}` pair and returns the target URL when the signature is valid.
/// The comparison is constant-time.
pub fn verify(key: &[u8], sig: &str, b64: &str) -> Option<String> {
    let url = String::from_utf8(URL_SAFE_NO_PAD.decode(b64).ok()?).ok()?;
    let given = URL_SAFE_NO_PAD.decode(sig).ok()?;
    let mut mac = mac(key);
    mac.update(url.as_bytes());
    mac.verify_slice(&given).ok()?;
    Some(url)
}

fn signature(key: &[u8], url: &str) -> Vec<u8> {
    let mut mac = mac(key);
    mac.update(url.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes any key length")
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMG: &str = "http://zkres1.myzaker.com/202201/a_1024.jpg";

    #[test]
    fn template_with_raw_url_matches_the_seed_prefix() {
        let p = ImagePolicy::Template("https://cors.zfour.workers.dev/?{url}".into());
        assert_eq!(
            p.apply(IMG),
            format!("https://cors.zfour.workers.dev/?{IMG}")
        );
    }

    #[test]
    fn template_with_encoded_url() {
        let p = ImagePolicy::Template("https://p.example/i?u={url_encoded}".into());
        assert_eq!(
            p.apply("http://a.b/x y?q=1&r"),
            "https://p.example/i?u=http%3A%2F%2Fa.b%2Fx%20y%3Fq%3D1%26r"
        );
    }

    #[test]
    fn builtin_round_trips_and_rejects_tampering() {
        let key = b"secret".to_vec();
        let p = ImagePolicy::Builtin {
            public_url: "https://img.example.com/".into(),
            key: key.clone(),
        };
        let out = p.apply(IMG);
        let rest = out.strip_prefix("https://img.example.com/").unwrap();
        let (sig, b64) = rest.split_once('/').unwrap();
        assert!(!b64.contains('=') && !sig.contains('='));
        assert_eq!(verify(&key, sig, b64).as_deref(), Some(IMG));
        assert_eq!(verify(b"other", sig, b64), None);
        assert_eq!(verify(&key, &sig[..sig.len() - 2], b64), None);
        assert_eq!(verify(&key, "", b64), None);
        let other = URL_SAFE_NO_PAD.encode("http://evil.example/x.jpg");
        assert_eq!(verify(&key, sig, &other), None);
    }

    #[test]
    fn direct_is_identity() {
        assert_eq!(ImagePolicy::Direct.apply(IMG), IMG);
    }
}
