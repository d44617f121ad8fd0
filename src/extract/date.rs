//! Publication-time parsing for the formats news pages actually print.
//!
//! ISO 8601 / RFC 3339, RFC 2822, `2022-01-21 09:38:35 +0800`, `2022年01月21日 09:38`,
//! `2022/1/21`, `2022-01-21T09:38`, English month names (`Dec 15, 2011 5:03 PM EST`,
//! `15 December 2011 10:15 GMT`), with the configured default zone when the text gives none;
//! and the date many news URLs carry (`/2011/12/15/`, `/20111215/`, `t20111215_`).

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

fn english_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // Built from a literal; a failure here is a bug caught by every test run.
        Regex::new(
            r"(?xi)
            \b(?:
                (?P<d1>\d{1,2})(?:st|nd|rd|th)? \s+ (?P<m1>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,? \s+ (?P<y1>(?:19|20)\d{2})
              | (?P<m2>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \s+ (?P<d2>\d{1,2})(?:st|nd|rd|th)?,? \s+ (?P<y2>(?:19|20)\d{2})
            )
            (?: \s* (?:,|at|-|\||\bT)? \s* (?P<H>\d{1,2}) [:.] (?P<M>\d{2}) (?: : (?P<S>\d{2}) )? \s* (?P<ap>[ap]\.?m\b\.?)? )?
            \s* (?P<z> gmt | utc | z\b | est | edt | cst | cdt | mst | mdt | pst | pdt | bst | cet | cest | [+-]\d{2}:?\d{2} )?",
        )
        .expect("static English date regex compiles")
    })
}

fn url_pattern() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        // Built from a literal; a failure here is a bug caught by every test run.
        Regex::new(
            r"(?x)
            (?:^|[/_\-t])
            (?: (?P<y1>(?:19|20)\d{2}) [/_\-] (?P<m1>\d{1,2}) [/_\-] (?P<d1>\d{1,2}) (?:[/_\-.]|$)
              | (?P<y2>(?:19|20)\d{2}) [/_\-]? (?P<m2>\d{2}) [/_\-]? (?P<d2>\d{2}) (?:[/_\-.]|$)
              | (?P<y3>(?:19|20)\d{2}) [/_\-]? (?P<m3>\d{2}) / (?P<d3>\d{2})
            )",
        )
        .expect("static URL date regex compiles")
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
    let numeric = pattern().captures(t);
    // English month names only when no numeric date comes first (ISO forms are the more
    // exact ones when a page prints both).
    let english = if t.bytes().any(|b| b.is_ascii_alphabetic()) {
        english_pattern().captures(t)
    } else {
        None
    };
    match (&numeric, &english) {
        (Some(n), Some(e)) if e.get(0)?.start() < n.get(0)?.start() => english_at(e, zone),
        (Some(_), _) => numeric_at(numeric.as_ref()?, zone),
        (None, Some(e)) => english_at(e, zone),
        (None, None) => None,
    }
}

/// The publication date a news URL carries in its path, at midnight in `zone`.
pub fn from_url(path: &str, zone: FixedOffset) -> Option<DateTime<FixedOffset>> {
    for caps in url_pattern().captures_iter(path) {
        let num =
            |name: &str| -> Option<u32> { caps.name(name).and_then(|m| m.as_str().parse().ok()) };
        let ymd = num("y1")
            .map(|y| (y, num("m1"), num("d1")))
            .or_else(|| num("y2").map(|y| (y, num("m2"), num("d2"))))
            .or_else(|| num("y3").map(|y| (y, num("m3"), num("d3"))));
        let Some((y, Some(m), Some(d))) = ymd else {
            continue;
        };
        if let Some(date) = NaiveDate::from_ymd_opt(y as i32, m, d) {
            return zone
                .from_local_datetime(&NaiveDateTime::new(date, NaiveTime::MIN))
                .single();
        }
    }
    None
}

fn english_at(caps: &regex::Captures<'_>, zone: FixedOffset) -> Option<DateTime<FixedOffset>> {
    let num = |name: &str| -> Option<u32> { caps.name(name).and_then(|m| m.as_str().parse().ok()) };
    let month_name = caps
        .name("m1")
        .or(caps.name("m2"))?
        .as_str()
        .to_ascii_lowercase();
    let month = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ]
    .iter()
    .position(|m| month_name.starts_with(m))? as u32
        + 1;
    let year = num("y1").or(num("y2"))?;
    let day = num("d1").or(num("d2"))?;
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let time = match num("H") {
        Some(mut h) => {
            match caps.name("ap").map(|m| m.as_str().to_ascii_lowercase()) {
                Some(ap) if ap.starts_with('p') && h < 12 => h += 12,
                Some(ap) if ap.starts_with('a') && h == 12 => h = 0,
                _ => {}
            }
            NaiveTime::from_hms_opt(h, num("M")?, num("S").unwrap_or(0))?
        }
        None => NaiveTime::MIN,
    };
    let offset = match caps.name("z").map(|m| m.as_str().to_ascii_lowercase()) {
        Some(z) => zone_abbreviation(&z).or_else(|| parse_offset(&z))?,
        None => zone,
    };
    offset
        .from_local_datetime(&NaiveDateTime::new(date, time))
        .single()
}

/// Offsets of the zone abbreviations English news pages print. `CST` is read as US Central
/// here because it only matches next to an English month name.
fn zone_abbreviation(z: &str) -> Option<FixedOffset> {
    let hours = match z {
        "gmt" | "utc" | "z" => 0,
        "bst" | "cet" => 1,
        "cest" => 2,
        "est" | "cdt" => -5,
        "edt" => -4,
        "cst" | "mdt" => -6,
        "mst" | "pdt" => -7,
        "pst" => -8,
        _ => return None,
    };
    FixedOffset::east_opt(hours * 3600)
}

fn numeric_at(caps: &regex::Captures<'_>, zone: FixedOffset) -> Option<DateTime<FixedOffset>> {
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
    fn english_month_names() {
        assert_eq!(p("December 15, 2011"), "2011-12-15T00:00:00+08:00");
        assert_eq!(p("Dec. 15, 2011 5:03 PM EST"), "2011-12-15T17:03:00-05:00");
        assert_eq!(
            p("Last updated at 15 December 2011 10:15 GMT"),
            "2011-12-15T10:15:00+00:00"
        );
        assert_eq!(p("Thursday 15th Dec 2011"), "2011-12-15T00:00:00+08:00");
        assert_eq!(p("12:30 a.m. Jan 2, 2012"), "2012-01-02T00:00:00+08:00");
    }

    #[test]
    fn the_earlier_of_two_dates_wins() {
        assert_eq!(
            p("Posted Jan 2, 2012; updated 2012-01-05"),
            "2012-01-02T00:00:00+08:00"
        );
    }

    #[test]
    fn url_dates() {
        let u = |s: &str| {
            from_url(s, cst())
                .map(|d| d.to_rfc3339())
                .unwrap_or_default()
        };
        assert_eq!(
            u("/news/2011/12/15/story.html"),
            "2011-12-15T00:00:00+08:00"
        );
        assert_eq!(u("/a/20111215/000123.htm"), "2011-12-15T00:00:00+08:00");
        assert_eq!(
            u("/gb/201112/15/t20111215_1.shtml"),
            "2011-12-15T00:00:00+08:00"
        );
        assert_eq!(u("/2011-12-15/abc"), "2011-12-15T00:00:00+08:00");
        assert_eq!(u("/id/12345678901"), "");
        assert_eq!(u("/2011/13/45/x"), "");
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
