//! A lenient date parser for the forms feeds really use.
//!
//! Accepted forms (surrounding whitespace ignored, case-insensitive names):
//! - RFC 2822 and its sloppy variants: `Sun, 23 Jan 2022 15:27:25 GMT`, without the weekday,
//!   with a single-digit day or hour, a long month name, `Jan 23, 2022`, a two-digit year,
//!   `AM`/`PM`, a numeric offset (`+0800`, `+08:00`) or a named zone;
//! - RFC 3339 / ISO 8601: `2022-01-23T15:27:25Z`, a space instead of `T`, with or without an
//!   offset, with fractional seconds;
//! - `YYYY-MM-DD[ HH:MM[:SS]]`, `YYYY/MM/DD[ HH:MM[:SS]]`, `YYYY.MM.DD`, and
//!   `YYYY年MM月DD日[ HH:MM[:SS]]` (also `HH时MM分[SS秒]`);
//! - epoch seconds (9–10 digits) and epoch milliseconds (13 digits);
//! - zone suffixes `GMT+8`, `GMT+08:00`, `UTC+8`, `UTC-0530`.
//!
//! A time without a zone is wall-clock time in the feed's zone `tz`; a date without a time is
//! midnight there. Anything else, including dates jiff cannot represent (beyond year 9999),
//! gives `None`; this module never panics.

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;

/// Parses a feed date; naive times are read in `tz`.
///
/// **The `CST` rule:** `CST` is ambiguous. It means China Standard Time (+08:00) when `tz` is
/// at +08:00 on that date (Asia/Shanghai, Asia/Hong_Kong, Asia/Taipei, …), and US Central
/// Standard Time (−06:00) otherwise. Chinese feeds label Beijing time `CST` routinely.
pub fn parse_date(s: &str, tz: &TimeZone) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() || s.len() > 100 {
        return None;
    }
    if let Some(ts) = parse_epoch(s) {
        return Some(ts);
    }
    let starts_with_year = s.bytes().take(4).all(|b| b.is_ascii_digit())
        && s.as_bytes().get(4).is_some_and(|b| !b.is_ascii_digit());
    let (dt, zone) = if starts_with_year {
        parse_iso_like(s)?
    } else {
        parse_rfc2822_like(s)?
    };
    resolve(dt, zone, tz)
}

/// The zone part of a date string.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Zone {
    /// No zone given: read in the feed's zone.
    Naive,
    /// A fixed offset in seconds east of UTC.
    Fixed(i32),
    /// `CST`: see the rule on [`parse_date`].
    Cst,
}

fn resolve(dt: DateTime, zone: Zone, tz: &TimeZone) -> Option<Timestamp> {
    let offset = match zone {
        Zone::Naive => return tz.to_timestamp(dt).ok(),
        Zone::Fixed(seconds) => seconds,
        Zone::Cst => {
            let approx = Offset::UTC.to_timestamp(dt).ok()?;
            if tz.to_offset(approx).seconds() == 8 * 3600 {
                8 * 3600
            } else {
                -6 * 3600
            }
        }
    };
    Offset::from_seconds(offset).ok()?.to_timestamp(dt).ok()
}

fn parse_epoch(s: &str) -> Option<Timestamp> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = s.parse().ok()?;
    match s.len() {
        9 | 10 => Timestamp::from_second(n).ok(),
        13 => Timestamp::from_millisecond(n).ok(),
        _ => None,
    }
}

/// A cursor over the remaining text.
struct Cursor<'a>(&'a str);

impl Cursor<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let len = self
            .0
            .bytes()
            .take(max)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if len < min {
            return None;
        }
        let value = self.0.get(..len)?.parse().ok()?;
        self.0 = self.0.get(len..)?;
        Some(value)
    }

    /// Consumes the first of `options` that the text starts with; returns it.
    fn eat_any(&mut self, options: &[&'static str]) -> Option<&'static str> {
        let found = options.iter().find(|o| self.0.starts_with(**o))?;
        self.0 = self.0.get(found.len()..)?;
        Some(found)
    }

    fn skip_spaces(&mut self) {
        self.0 = self.0.trim_start();
    }
}

/// `YYYY-MM-DD…`, `YYYY/MM/DD…`, `YYYY年MM月DD日…`.
fn parse_iso_like(s: &str) -> Option<(DateTime, Zone)> {
    let mut c = Cursor(s);
    let year = c.digits(4, 4)?;
    let sep = c.eat_any(&["-", "/", ".", "年"])?;
    let month = c.digits(1, 2)?;
    match sep {
        "年" => c.eat_any(&["月"])?,
        other => c.eat_any(&[other])?,
    };
    let day = c.digits(1, 2)?;
    if sep == "年" {
        c.eat_any(&["日", "号"])?;
    }
    c.skip_spaces();
    let has_t = c.eat_any(&["T", "t"]).is_some();
    if has_t {
        c.skip_spaces();
    }
    let (hour, minute, second, nano) = if has_t || c.0.starts_with(|ch: char| ch.is_ascii_digit()) {
        parse_time(&mut c)?
    } else {
        (0, 0, 0, 0)
    };
    c.skip_spaces();
    let zone = parse_zone(c.0)?;
    let dt = civil(year as i32, month, day, hour, minute, second, nano)?;
    Some((dt, zone))
}

/// `HH:MM[:SS[.frac]]` or `HH时MM分[SS秒]`, plus an optional AM/PM marker.
fn parse_time(c: &mut Cursor) -> Option<(u32, u32, u32, u32)> {
    let mut hour = c.digits(1, 2)?;
    let cjk = c.eat_any(&[":", "时", "時", "点"])? != ":";
    let minute = c.digits(1, 2)?;
    let mut second = 0;
    let mut nano = 0;
    if cjk {
        c.eat_any(&["分"]);
        if let Some(s) = c.digits(1, 2) {
            second = s;
            c.eat_any(&["秒"])?;
        }
    } else if c.eat_any(&[":"]).is_some() {
        second = c.digits(1, 2)?;
        if c.eat_any(&[".", ","]).is_some() {
            nano = fraction(c)?;
        }
    }
    let before_meridiem = c.0;
    c.skip_spaces();
    match c.eat_any(&["AM", "am", "PM", "pm"]) {
        Some(m) => hour = meridiem(hour, m)?,
        None => c.0 = before_meridiem,
    }
    Some((hour, minute, second, nano))
}

fn meridiem(hour: u32, marker: &str) -> Option<u32> {
    if !(1..=12).contains(&hour) {
        return None;
    }
    let pm = marker.eq_ignore_ascii_case("pm");
    Some(match (hour, pm) {
        (12, false) => 0,
        (12, true) => 12,
        (h, false) => h,
        (h, true) => h + 12,
    })
}

/// Fractional seconds as nanoseconds; digits past the ninth are dropped.
fn fraction(c: &mut Cursor) -> Option<u32> {
    let len = c.0.bytes().take_while(|b| b.is_ascii_digit()).count();
    if len == 0 {
        return None;
    }
    let digits = c.0.get(..len)?;
    c.0 = c.0.get(len..)?;
    let kept = digits.get(..len.min(9))?;
    let value: u32 = kept.parse().ok()?;
    Some(value * 10u32.pow(9 - kept.len() as u32))
}

/// RFC 2822 and friends, read as whitespace/comma separated tokens in any order.
fn parse_rfc2822_like(s: &str) -> Option<(DateTime, Zone)> {
    let s = strip_comments(s);
    let mut day = None;
    let mut month = None;
    let mut year = None;
    let mut time = None;
    let mut zone = Zone::Naive;
    let tokens = s.split(|c: char| c.is_whitespace() || c == ',');
    for token in tokens.filter(|t| !t.is_empty()) {
        if let Some(m) = month_number(token) {
            month = Some(month.map_or(Some(m), |_| None)?);
        } else if is_weekday(token) {
            continue;
        } else if token.eq_ignore_ascii_case("am") || token.eq_ignore_ascii_case("pm") {
            let (h, m, sec, n) = time?;
            time = Some((meridiem(h, token)?, m, sec, n));
        } else if token.starts_with(|c: char| c.is_ascii_alphabetic() || c == '+' || c == '-') {
            zone = parse_zone(token)?;
        } else if token.contains(':') {
            let mut c = Cursor(token);
            let t = parse_time(&mut c)?;
            if !c.0.is_empty() {
                zone = parse_zone(c.0)?;
            }
            time = Some(t);
        } else if token.bytes().all(|b| b.is_ascii_digit()) {
            match token.len() {
                1 | 2 if day.is_none() => day = token.parse().ok(),
                2 if year.is_none() => year = Some(two_digit_year(token.parse().ok()?)),
                4 if year.is_none() => year = token.parse().ok(),
                _ => return None,
            }
        } else {
            return None;
        }
    }
    let (hour, minute, second, nano) = time.unwrap_or_default();
    let dt = civil(year?, month?, day?, hour, minute, second, nano)?;
    Some((dt, zone))
}

/// RFC 2822 allows comments in parentheses: `+0800 (CST)`.
fn strip_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0u32;
    for ch in s.chars() {
        match ch {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(ch),
            _ => {}
        }
    }
    out
}

/// RFC 2822 rule for two-digit years.
fn two_digit_year(y: i32) -> i32 {
    if y < 50 {
        2000 + y
    } else {
        1900 + y
    }
}

fn month_number(token: &str) -> Option<u32> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    const LONG: [&str; 12] = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ];
    let lower = token.trim_end_matches('.').to_ascii_lowercase();
    let index = MONTHS
        .iter()
        .position(|m| *m == lower)
        .or_else(|| LONG.iter().position(|m| *m == lower))
        .or_else(|| (lower == "sept").then_some(8))?;
    Some(index as u32 + 1)
}

fn is_weekday(token: &str) -> bool {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let lower = token.trim_end_matches('.').to_ascii_lowercase();
    lower.len() >= 3
        && lower.is_char_boundary(3)
        && DAYS.contains(&&lower[..3])
        && lower.bytes().all(|b| b.is_ascii_alphabetic())
}

/// Reads a zone designator: empty, `Z`, `±HH[:MM]`, `±HHMM`, a name, or `GMT+8`-style.
fn parse_zone(s: &str) -> Option<Zone> {
    let s = s.trim();
    if s.is_empty() {
        return Some(Zone::Naive);
    }
    if let Some(offset) = s.strip_prefix(['+', '-']) {
        let sign = if s.starts_with('-') { -1 } else { 1 };
        return numeric_offset(offset).map(|secs| Zone::Fixed(sign * secs));
    }
    let name_len = s.bytes().take_while(|b| b.is_ascii_alphabetic()).count();
    let (name, rest) = s.split_at(name_len);
    let upper = name.to_ascii_uppercase();
    if rest.is_empty() {
        return named_zone(&upper);
    }
    // `GMT+8`, `UTC+08:00`: an offset from UTC under a UTC name.
    if matches!(upper.as_str(), "GMT" | "UTC" | "UT") {
        return match parse_zone(rest)? {
            Zone::Fixed(secs) => Some(Zone::Fixed(secs)),
            _ => None,
        };
    }
    None
}

/// `8`, `08`, `0800`, `08:00`, `8:00` → seconds.
fn numeric_offset(s: &str) -> Option<i32> {
    // ASCII only from here on, so the byte splits below fall on character boundaries.
    if !s.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    let (hours, minutes) = match s.split_once(':') {
        Some((h, m)) => (h, m),
        None if s.len() <= 2 => (s, "0"),
        None if s.len() == 4 => s.split_at(2),
        None if s.len() == 3 => s.split_at(1),
        None => return None,
    };
    if hours.is_empty()
        || hours.len() > 2
        || minutes.len() > 2
        || !hours
            .bytes()
            .chain(minutes.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let h: i32 = hours.parse().ok()?;
    let m: i32 = minutes.parse().ok()?;
    (h <= 18 && m < 60).then_some(h * 3600 + m * 60)
}

fn named_zone(upper: &str) -> Option<Zone> {
    let hours = match upper {
        "Z" | "GMT" | "UT" | "UTC" | "WET" => 0,
        "CST" => return Some(Zone::Cst),
        "EST" => -5,
        "EDT" => -4,
        "CDT" => -5,
        "MST" => -7,
        "MDT" => -6,
        "PST" => -8,
        "PDT" => -7,
        "BST" | "CET" | "WEST" => 1,
        "CEST" | "EET" => 2,
        "EEST" | "MSK" => 3,
        "HKT" | "SGT" | "AWST" => 8,
        "JST" | "KST" => 9,
        _ => return None,
    };
    Some(Zone::Fixed(hours * 3600))
}

fn civil(
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nano: u32,
) -> Option<DateTime> {
    DateTime::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
        i8::try_from(hour).ok()?,
        i8::try_from(minute).ok()?,
        // A leap second `:60` is clamped rather than rejected.
        i8::try_from(second.min(59)).ok()?,
        i32::try_from(nano).ok()?,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> TimeZone {
        TimeZone::get(name).expect("bundled tz")
    }

    fn at(s: &str, tz: &str) -> Option<String> {
        parse_date(s, &zone(tz)).map(|t| t.to_string())
    }

    #[test]
    fn offsets_of_wide_characters_are_refused_not_split() {
        // Four bytes, or three, like `0800` or `800`, but one character: found by proptest.
        for s in [
            "Sun, 23 Jan 2022 15:27:25 +\u{10F77}",
            "Sun, 23 Jan 2022 15:27:25 -经",
            "2022-01-23T15:27:25+\u{10F77}",
        ] {
            assert_eq!(at(s, "UTC"), None, "{s}");
        }
        assert_eq!(numeric_offset("\u{10F77}"), None);
        assert_eq!(numeric_offset("0800"), Some(8 * 3600));
    }

    #[test]
    fn table() {
        let cases: &[(&str, &str, &str)] = &[
            // RFC 2822
            (
                "Sun, 23 Jan 2022 15:27:25 GMT",
                "UTC",
                "2022-01-23T15:27:25Z",
            ),
            ("23 Jan 2022 15:27:25 GMT", "UTC", "2022-01-23T15:27:25Z"),
            (
                "Sun, 3 Jan 2022 15:27:25 +0000",
                "UTC",
                "2022-01-03T15:27:25Z",
            ),
            ("Mon, 03 Jan 2022 5:07:00 UT", "UTC", "2022-01-03T05:07:00Z"),
            (
                "Mon, 03 Jan 2022 05:07:00 UTC",
                "Asia/Shanghai",
                "2022-01-03T05:07:00Z",
            ),
            (
                "Mon, 03 Jan 2022 05:07:00 -0500",
                "UTC",
                "2022-01-03T10:07:00Z",
            ),
            (
                "Mon, 03 Jan 2022 05:07:00 +08:00",
                "UTC",
                "2022-01-02T21:07:00Z",
            ),
            ("Mon, 03 Jan 2022 05:07 EST", "UTC", "2022-01-03T10:07:00Z"),
            (
                "Mon, 04 Jul 2022 05:07:00 EDT",
                "UTC",
                "2022-07-04T09:07:00Z",
            ),
            (
                "Mon, 04 Jul 2022 05:07:00 CDT",
                "UTC",
                "2022-07-04T10:07:00Z",
            ),
            (
                "Mon, 04 Jul 2022 05:07:00 MST",
                "UTC",
                "2022-07-04T12:07:00Z",
            ),
            (
                "Mon, 04 Jul 2022 05:07:00 MDT",
                "UTC",
                "2022-07-04T11:07:00Z",
            ),
            (
                "Mon, 04 Jul 2022 05:07:00 PST",
                "UTC",
                "2022-07-04T13:07:00Z",
            ),
            (
                "Mon, 04 Jul 2022 05:07:00 PDT",
                "UTC",
                "2022-07-04T12:07:00Z",
            ),
            (
                "Thursday, 28 October 2021 14:08:07 GMT",
                "UTC",
                "2021-10-28T14:08:07Z",
            ),
            ("Oct 28, 2021 2:08 PM", "UTC", "2021-10-28T14:08:00Z"),
            ("28 Oct 21 14:08:07 +0000", "UTC", "2021-10-28T14:08:07Z"),
            (
                "Thu, 28 Oct 2021 14:08:07 +0800 (CST)",
                "UTC",
                "2021-10-28T06:08:07Z",
            ),
            (
                "Thu, 28 Oct 2021 14:08:07",
                "Asia/Shanghai",
                "2021-10-28T06:08:07Z",
            ),
            // CST rule
            (
                "Thu, 28 Oct 2021 14:08:07 CST",
                "Asia/Shanghai",
                "2021-10-28T06:08:07Z",
            ),
            (
                "Thu, 28 Oct 2021 14:08:07 CST",
                "Asia/Hong_Kong",
                "2021-10-28T06:08:07Z",
            ),
            (
                "Thu, 28 Oct 2021 14:08:07 CST",
                "Asia/Taipei",
                "2021-10-28T06:08:07Z",
            ),
            (
                "Thu, 28 Oct 2021 14:08:07 CST",
                "America/Chicago",
                "2021-10-28T20:08:07Z",
            ),
            (
                "Thu, 28 Oct 2021 14:08:07 CST",
                "UTC",
                "2021-10-28T20:08:07Z",
            ),
            (
                "2021-10-28 14:08:07 CST",
                "Asia/Shanghai",
                "2021-10-28T06:08:07Z",
            ),
            // GMT+8 style suffixes
            (
                "Thu, 28 Oct 2021 14:08:07 GMT+8",
                "UTC",
                "2021-10-28T06:08:07Z",
            ),
            (
                "Thu, 28 Oct 2021 14:08:07 GMT+08:00",
                "UTC",
                "2021-10-28T06:08:07Z",
            ),
            ("2021-10-28 14:08:07 UTC+8", "UTC", "2021-10-28T06:08:07Z"),
            (
                "2021-10-28 14:08:07 GMT-0530",
                "UTC",
                "2021-10-28T19:38:07Z",
            ),
            // RFC 3339 / ISO 8601
            (
                "2021-10-28T14:08:07Z",
                "Asia/Shanghai",
                "2021-10-28T14:08:07Z",
            ),
            ("2021-10-28T14:08:07z", "UTC", "2021-10-28T14:08:07Z"),
            ("2021-10-28T14:08:07+08:00", "UTC", "2021-10-28T06:08:07Z"),
            ("2021-10-28T14:08:07+0800", "UTC", "2021-10-28T06:08:07Z"),
            (
                "2021-10-28T14:08:07.123456+08:00",
                "UTC",
                "2021-10-28T06:08:07.123456Z",
            ),
            (
                "2021-10-28T14:08:07.1234567891Z",
                "UTC",
                "2021-10-28T14:08:07.123456789Z",
            ),
            ("2021-10-28 14:08:07Z", "UTC", "2021-10-28T14:08:07Z"),
            (
                "2021-10-28T14:08:07",
                "Asia/Shanghai",
                "2021-10-28T06:08:07Z",
            ),
            ("2021-10-28T14:08", "UTC", "2021-10-28T14:08:00Z"),
            // naive forms read in tz
            (
                "2021-10-28 14:08:07",
                "Asia/Shanghai",
                "2021-10-28T06:08:07Z",
            ),
            ("2021-10-28 14:08", "Asia/Shanghai", "2021-10-28T06:08:00Z"),
            ("2021-10-28", "Asia/Shanghai", "2021-10-27T16:00:00Z"),
            ("2021/10/28", "Asia/Shanghai", "2021-10-27T16:00:00Z"),
            ("2021/10/28 14:08", "Asia/Shanghai", "2021-10-28T06:08:00Z"),
            (
                "2021/10/28 14:08:07",
                "America/Chicago",
                "2021-10-28T19:08:07Z",
            ),
            ("2021.10.28", "UTC", "2021-10-28T00:00:00Z"),
            ("2021-1-2 3:04", "UTC", "2021-01-02T03:04:00Z"),
            ("2021年10月28日", "Asia/Shanghai", "2021-10-27T16:00:00Z"),
            (
                "2021年10月28日 14:08",
                "Asia/Shanghai",
                "2021-10-28T06:08:00Z",
            ),
            (
                "2021年10月28日 14:08:07",
                "Asia/Shanghai",
                "2021-10-28T06:08:07Z",
            ),
            (
                "2021年10月28日14:08",
                "Asia/Shanghai",
                "2021-10-28T06:08:00Z",
            ),
            (
                "2021年10月28日 14时08分",
                "Asia/Shanghai",
                "2021-10-28T06:08:00Z",
            ),
            (
                "2021年10月28日 14时08分07秒",
                "Asia/Shanghai",
                "2021-10-28T06:08:07Z",
            ),
            ("2021年1月2日", "UTC", "2021-01-02T00:00:00Z"),
            // epochs
            ("1635401287", "Asia/Shanghai", "2021-10-28T06:08:07Z"),
            ("999999999", "UTC", "2001-09-09T01:46:39Z"),
            ("1635401287123", "UTC", "2021-10-28T06:08:07.123Z"),
            // far future
            ("9999-12-01T00:00:00Z", "UTC", "9999-12-01T00:00:00Z"),
            (
                "  Sun, 23 Jan 2022 15:27:25 GMT \n",
                "UTC",
                "2022-01-23T15:27:25Z",
            ),
        ];
        for (input, tz, want) in cases {
            assert_eq!(at(input, tz).as_deref(), Some(*want), "{input} in {tz}");
        }
    }

    #[test]
    fn garbage_and_out_of_range_is_none() {
        let bad = [
            "",
            "   ",
            "yesterday",
            "not a date at all",
            "2021-13-01",
            "2021-02-30",
            "2021-10-28 25:00",
            "2021-10-28T14:08:07+99:00",
            "2021-10-28 14:08:07 XYZ",
            "Thu, 32 Oct 2021 14:08:07 GMT",
            "Thu, 28 Foo 2021 14:08:07 GMT",
            "Thu, 28 Oct Oct 2021",
            "12345",
            "12345678901",
            "99999999999999999999999",
            "2021年10月",
            "2021-10-28T",
            "2021-10-28T14:",
            "Mon, 03 Jan 2022 13:07 PM",
            "9999-12-31T23:59:59-05:00",
            "10000-01-01",
            "+9999-01-01",
            "1:2:3:4",
            "年月日",
            "２０２１-10-28",
        ];
        for input in bad {
            assert_eq!(at(input, "America/Chicago"), None, "{input:?}");
        }
    }

    #[test]
    fn year_9999_in_zone_does_not_panic() {
        // Wall clock at the very end of jiff's range in a zone west of UTC overflows: None.
        // jiff's range ends late on 9999-12-30, so the last instants give None, not a panic.
        for tz in ["America/Chicago", "Asia/Shanghai", "UTC"] {
            assert_eq!(at("9999-12-31 23:59:59", tz), None);
            assert_eq!(at("Fri, 31 Dec 9999 23:59:59 GMT", tz), None);
            assert!(at("9999-06-01 00:00:00", tz).is_some());
        }
    }

    #[test]
    fn dst_gap_does_not_fail() {
        // 02:30 does not exist on that day in Chicago; compatible disambiguation moves it.
        assert!(at("2022-03-13 02:30:00", "America/Chicago").is_some());
    }
}
