//! Which records a `list` or an `export` covers: time bounds on the published or first-seen
//! time, host, source, language, extractor and cluster size. Pure: parsing and matching only.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};

use super::QueryError;
use crate::model::Record;

/// Which time `--since`/`--until` compare against.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TimeField {
    /// The canonical post's publication time; records without one never match a bound.
    #[default]
    Published,
    /// When the record was first seen by a crawl.
    Seen,
}

/// A conjunction of conditions on a record. The default matches everything.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Inclusive lower bound.
    pub since: Option<DateTime<Utc>>,
    /// Exclusive upper bound.
    pub until: Option<DateTime<Utc>>,
    /// What the bounds apply to.
    pub time_field: TimeField,
    /// The record has a copy on one of these hosts (any copy, not only the canonical one).
    pub hosts: Vec<String>,
    /// The canonical source equals this (case-insensitive, trimmed).
    pub source: Option<String>,
    /// The canonical language equals this (case-insensitive).
    pub language: Option<String>,
    /// The canonical post's extractor equals this.
    pub extractor: Option<String>,
    /// At least this many copies (distinct URLs).
    pub min_copies: usize,
}

impl Filter {
    /// Whether `record` satisfies every condition.
    pub fn matches(&self, record: &Record) -> bool {
        let post = &record.canonical;
        if self.since.is_some() || self.until.is_some() {
            let t = match self.time_field {
                TimeField::Published => post.published.map(|p| p.with_timezone(&Utc)),
                TimeField::Seen => Some(record.first_seen),
            };
            let Some(t) = t else {
                return false;
            };
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t >= u) {
                return false;
            }
        }
        if !self.hosts.is_empty()
            && !record
                .copies
                .iter()
                .any(|c| self.hosts.iter().any(|h| c.host.eq_ignore_ascii_case(h)))
        {
            return false;
        }
        let same = |want: &Option<String>, have: &Option<String>| match want {
            None => true,
            Some(w) => have
                .as_deref()
                .is_some_and(|h| h.trim().to_lowercase() == w.trim().to_lowercase()),
        };
        same(&self.source, &post.source)
            && same(&self.language, &post.language)
            && self.extractor.as_ref().is_none_or(|e| *e == post.extractor)
            && record.copies.len() >= self.min_copies
    }
}

/// Parses a time bound typed by a user. A bare date (or a time without a zone) is read in
/// `zone`; for an upper bound a bare date means the end of that day, so `--until 2022-01-18`
/// includes the 18th.
pub fn parse_bound(
    flag: &'static str,
    value: &str,
    zone: FixedOffset,
    upper: bool,
) -> Result<DateTime<Utc>, QueryError> {
    let bad = || QueryError::BadDate {
        flag,
        value: value.to_string(),
    };
    let v = value.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(v, fmt) {
            return zone
                .from_local_datetime(&t)
                .single()
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(bad);
        }
    }
    let date = NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|_| bad())?;
    let date = if upper {
        date.succ_opt().ok_or_else(bad)?
    } else {
        date
    };
    zone.from_local_datetime(&date.and_time(chrono::NaiveTime::MIN))
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cst() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    #[test]
    fn bare_dates_cover_whole_days_in_the_zone() {
        let since = parse_bound("--since", "2022-01-18", cst(), false).unwrap();
        let until = parse_bound("--until", "2022-01-18", cst(), true).unwrap();
        assert_eq!(since.to_rfc3339(), "2022-01-17T16:00:00+00:00");
        assert_eq!(until.to_rfc3339(), "2022-01-18T16:00:00+00:00");
        let t = parse_bound("--since", "2022-01-18T09:30:00+00:00", cst(), false).unwrap();
        assert_eq!(t.to_rfc3339(), "2022-01-18T09:30:00+00:00");
        let t = parse_bound("--since", "2022-01-18 09:30", cst(), false).unwrap();
        assert_eq!(t.to_rfc3339(), "2022-01-18T01:30:00+00:00");
    }

    #[test]
    fn malformed_dates_are_user_errors() {
        for bad in ["yesterday", "2022-13-01", "2022-02-30", "18/01/2022", ""] {
            let err = parse_bound("--since", bad, cst(), false).unwrap_err();
            assert!(matches!(err, QueryError::BadDate { .. }), "{bad}");
            assert!(err.is_user_error());
            assert!(err.to_string().contains("--since"));
        }
    }
}
