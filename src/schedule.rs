//! When scheduled crawls (`trawl run`) fire: every fixed interval, or by a five-field cron
//! expression (`minute hour day-of-month month day-of-week`, with `*`, `*/n`, `a-b`, `a-b/n`
//! and lists), in local time. Pure: the caller supplies "now".

use chrono::{DateTime, Datelike, Duration as ChronoDuration, TimeZone, Timelike};
use thiserror::Error;

/// A cron expression that does not parse.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("invalid cron expression `{expr}`: {reason} (expected five fields: minute hour day-of-month month day-of-week, e.g. \"*/15 * * * *\")")]
pub struct CronError {
    /// The expression.
    pub expr: String,
    /// What is wrong.
    pub reason: String,
}

/// A parsed cron expression: for each field, which values match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cron {
    minutes: [bool; 60],
    hours: [bool; 24],
    days: [bool; 32],
    months: [bool; 13],
    weekdays: [bool; 7],
    /// Whether day-of-month and day-of-week were both restricted: then either may match, as
    /// in every common cron.
    day_or: bool,
}

impl Cron {
    /// Parses `minute hour day-of-month month day-of-week`.
    pub fn parse(expr: &str) -> Result<Cron, CronError> {
        let fail = |reason: String| CronError {
            expr: expr.to_string(),
            reason,
        };
        let fields: Vec<&str> = expr.split_whitespace().collect();
        let [m, h, dom, mon, dow] = fields.as_slice() else {
            return Err(fail(format!("{} field(s)", fields.len())));
        };
        let mut minutes = [false; 60];
        let mut hours = [false; 24];
        let mut days = [false; 32];
        let mut months = [false; 13];
        let mut weekdays = [false; 8];
        field(m, 0, 59, &mut minutes).map_err(|r| fail(format!("minute: {r}")))?;
        field(h, 0, 23, &mut hours).map_err(|r| fail(format!("hour: {r}")))?;
        field(dom, 1, 31, &mut days).map_err(|r| fail(format!("day of month: {r}")))?;
        field(mon, 1, 12, &mut months).map_err(|r| fail(format!("month: {r}")))?;
        field(dow, 0, 7, &mut weekdays).map_err(|r| fail(format!("day of week: {r}")))?;
        // 7 is Sunday too.
        weekdays[0] |= weekdays[7];
        let mut wd = [false; 7];
        wd.copy_from_slice(&weekdays[..7]);
        Ok(Cron {
            minutes,
            hours,
            days,
            months,
            weekdays: wd,
            day_or: *dom != "*" && *dow != "*",
        })
    }

    /// The first matching minute strictly after `after`.
    pub fn next_after<Tz: TimeZone>(&self, after: &DateTime<Tz>) -> Option<DateTime<Tz>> {
        let mut t = after.clone().with_second(0)?.with_nanosecond(0)? + ChronoDuration::minutes(1);
        // A year and a day of minutes bounds the search (Feb 29 expressions included).
        for _ in 0..(366 * 24 * 60 + 1) {
            if self.matches(&t) {
                return Some(t);
            }
            t += ChronoDuration::minutes(1);
        }
        None
    }

    fn matches<Tz: TimeZone>(&self, t: &DateTime<Tz>) -> bool {
        let dom = self.days[t.day() as usize];
        let dow = self.weekdays[t.weekday().num_days_from_sunday() as usize];
        let day = if self.day_or { dom || dow } else { dom && dow };
        self.minutes[t.minute() as usize]
            && self.hours[t.hour() as usize]
            && self.months[t.month() as usize]
            && day
    }
}

/// Marks the values one field selects.
fn field(spec: &str, min: usize, max: usize, out: &mut [bool]) -> Result<(), String> {
    for part in spec.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<usize>().map_err(|_| format!("bad step `{s}`"))?,
            ),
            None => (part, 1),
        };
        if step == 0 {
            return Err("step 0".into());
        }
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (num(a, min, max)?, num(b, min, max)?)
        } else {
            let v = num(range, min, max)?;
            // `5/10` means from 5 to the end in steps of 10.
            (v, if part.contains('/') { max } else { v })
        };
        if lo > hi {
            return Err(format!("range {lo}-{hi} is backwards"));
        }
        for v in (lo..=hi).step_by(step) {
            out[v] = true;
        }
    }
    Ok(())
}

fn num(s: &str, min: usize, max: usize) -> Result<usize, String> {
    let v: usize = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if v < min || v > max {
        return Err(format!("{v} is outside {min}-{max}"));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn next(expr: &str, after: &str) -> String {
        Cron::parse(expr)
            .unwrap()
            .next_after(&at(after))
            .unwrap()
            .to_rfc3339()
    }

    #[test]
    fn every_fifteen_minutes() {
        assert_eq!(
            next("*/15 * * * *", "2026-11-29T10:07:30Z"),
            "2026-11-29T10:15:00+00:00"
        );
        assert_eq!(
            next("*/15 * * * *", "2026-11-29T10:15:00Z"),
            "2026-11-29T10:30:00+00:00"
        );
        assert_eq!(
            next("*/15 * * * *", "2026-11-29T23:50:00Z"),
            "2026-11-30T00:00:00+00:00"
        );
    }

    #[test]
    fn lists_ranges_and_weekdays() {
        // Weekdays at 09:30: 2026-11-29 is a Sunday.
        assert_eq!(
            next("30 9 * * 1-5", "2026-11-29T12:00:00Z"),
            "2026-11-30T09:30:00+00:00"
        );
        assert_eq!(
            next("0 8,20 * * *", "2026-11-29T09:00:00Z"),
            "2026-11-29T20:00:00+00:00"
        );
        assert_eq!(
            next("0 0 1 1 *", "2026-11-29T09:00:00Z"),
            "2027-01-01T00:00:00+00:00"
        );
        // Sunday as 7.
        assert_eq!(
            next("0 12 * * 7", "2026-11-28T13:00:00Z"),
            "2026-11-29T12:00:00+00:00"
        );
        // Day of month OR day of week when both are given.
        assert_eq!(
            next("0 0 15 * 1", "2026-11-29T09:00:00Z"),
            "2026-11-30T00:00:00+00:00"
        );
    }

    #[test]
    fn bad_expressions() {
        for e in [
            "",
            "* * * *",
            "60 * * * *",
            "*/0 * * * *",
            "a * * * *",
            "5-1 * * * *",
            "* * 0 * *",
        ] {
            let err = Cron::parse(e).unwrap_err();
            assert!(err.to_string().contains("five fields"), "{err}");
        }
    }
}
