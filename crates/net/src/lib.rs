//! Address policy (SSRF guard) and the vetted HTTP client.
//!
//! Everything that fetches a URL an outsider chose (image URLs, article links, the image proxy)
//! goes through [`AddressPolicy`] and [`SafeClient`]: only http(s), no credentials, no private or
//! special addresses in any spelling or embedding, names resolved once and vetted, every redirect
//! hop re-checked. Feed URLs the user configured do not need this.

mod addr;
mod client;
mod error;
mod literal;
mod policy;

pub use addr::forbidden_reason;
pub use client::SafeClient;
pub use error::NetError;
pub use literal::parse_ip_literal;
pub use policy::{AddressPolicy, Resolve, SystemResolver};
