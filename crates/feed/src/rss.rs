//! placeholder
use crate::FeedContext;
use tidings_model::ParsedFeed;
pub(crate) fn parse(_doc: &str, _cx: &FeedContext) -> Option<ParsedFeed> {
    None
}
