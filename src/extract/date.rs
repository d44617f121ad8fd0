//! Publication-time parsing for the formats news pages actually print.
//!
//! ISO 8601 / RFC 3339, RFC 2822, `2022-01-21 09:38:35 +0800`, `2022年01月21日 09:38`,
//! `2022/1/21`, `2022-01-21T09:38`, with the configured default zone when the text gives none.

use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use regex::Regex;

fn pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // Built from a literal; a failure here is a bug caught by every test run.
        Regex::new(
            r"(?x)
            (?P<y>(?:19|20)\d{2}) \s* [-/.年] \s* (?P<m>\d{1,2}) \s* [-/.月] \s* (?P<d>\d{1,2}) \s* 日?
            (?: \s* (?:T|,)? \s* (?P<H>\d{1,2}) \s* [:：时] \s* (?P<M>\d{2}) (?: \s* [:：分] \s* (?P<S>\d{2}) (?:\.\d+)? )? 秒? )?
            \s* (?P<z> Z | [+-]\d{2}:?\d{2} )?",
        )
        .expect("static date regex compiles")
    })
}

/// Finds and parses the first date (and time, and zone) in `text`. A date without a time is
/// taken as midnight; a time without a zone is taken in `zone`.
pub fn parse_published(text: &str, zone: FixedOffset) -> Option<DateTime<FixedOffset>> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d);
    }
    if let Ok(d) = DateTime::parse_from_rfc2822(t) {
        return Some(d);
    }
    let caps = pattern().captures(t)?;
    let num = |name: &str| -> Option<u32> { caps.name(name).and_then(|m| m.as_str().parse().ok()) };
    let date = NaiveDate::from_ymd_opt(num("y")? as i32, num("m")?, num("d")?)?;
    let time = match num("H") {
        Some(h) => NaiveTime::from_hms_opt(h, num("M")?, num("S").unwrap_or(0))?,
        None => NaiveTime::MIN,
    };
    let naive = NaiveDateTime::new(date, time);
    let offset = match caps.name("z").map(|m| m.as_str()) {
        Some("Z") => FixedOffset::east_opt(0)?,
        Some(z) => parse_offset(z)?,
        None => zone,
    };
    offset.from_local_datetime(&naive).single()
}

/// `+08:00`, `+0800`, `-05:30` → a fixed offset.
pub fn parse_offset(s: &str) -> Option<FixedOffset> {
    let s = s.trim();
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let h: i32 = digits[..2].parse().ok()?;
    let m: i32 = digits[2..].parse().ok()?;
    if h > 14 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cst() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    fn p(s: &str) -> String {
        parse_published(s, cst())
            .map(|d| d.to_rfc3339())
            .unwrap_or_default()
    }

    #[test]
    fn iso_8601_and_rfc_3339() {
        assert_eq!(p("2022-01-21T09:38:35+08:00"), "2022-01-21T09:38:35+08:00");
        assert_eq!(p("2022-01-21T01:38:35Z"), "2022-01-21T01:38:35+00:00");
        assert_eq!(p("2022-01-21T09:38"), "2022-01-21T09:38:00+08:00");
        assert_eq!(
            p("2022-01-21T09:38:35.123+08:00"),
            "2022-01-21T09:38:35.123+08:00"
        );
    }

    #[test]
    fn rfc_2822() {
        assert_eq!(
            p("Fri, 21 Jan 2022 09:38:35 +0800"),
            "2022-01-21T09:38:35+08:00"
        );
    }

    #[test]
    fn space_separated_with_and_without_zone() {
        assert_eq!(p("2022-01-21 09:38:35 +0800"), "2022-01-21T09:38:35+08:00");
        assert_eq!(p("2022-01-21 09:38:35"), "2022-01-21T09:38:35+08:00");
        assert_eq!(
            p("发布时间：2022-01-21 09:38 来源：新华社"),
            "2022-01-21T09:38:00+08:00"
        );
    }

    #[test]
    fn chinese_dates() {
        assert_eq!(p("2022年01月21日 09:38"), "2022-01-21T09:38:00+08:00");
        assert_eq!(p("2022年1月21日"), "2022-01-21T00:00:00+08:00");
        assert_eq!(p("2022年1月21日09时38分"), "2022-01-21T09:38:00+08:00");
    }

    #[test]
    fn slashed_dates() {
        assert_eq!(p("2022/1/21"), "2022-01-21T00:00:00+08:00");
        assert_eq!(p("2022/01/21 09:38"), "2022-01-21T09:38:00+08:00");
    }

    #[test]
    fn nonsense_is_none() {
        assert_eq!(p("yesterday"), "");
        assert_eq!(p("2022-13-45"), "");
        assert_eq!(p(""), "");
    }

    #[test]
    fn offsets() {
        assert_eq!(parse_offset("+08:00"), FixedOffset::east_opt(8 * 3600));
        assert_eq!(
            parse_offset("-0530"),
            FixedOffset::east_opt(-(5 * 3600 + 1800))
        );
        assert_eq!(parse_offset("08:00"), None);
        assert_eq!(parse_offset("+99:00"), None);
    }
}
