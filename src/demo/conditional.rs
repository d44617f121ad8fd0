//! Conditional GET for the mirror hosts (RFC 9110 §8.8, §13): validators on every page and
//! the decision to answer `304 Not Modified`.
//!
//! Pure functions over a rendered `Response` and the request headers, so a crawler's
//! re-fetch logic can be tested against them without a socket. The `ETag` is strong and
//! derived from the body bytes, so it changes exactly when the page does.

use chrono::{DateTime, NaiveDateTime, Utc};

use super::render::Response;

/// The strong entity tag of `body`: the first 8 bytes of its BLAKE3 hash in lower-case hex,
/// quoted, e.g. `"0123456789abcdef"`.
pub(crate) fn etag(body: &[u8]) -> String {
    let hash = blake3::hash(body);
    let hex: String = hash.as_bytes()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"{hex}\"")
}

/// `time` as an IMF-fixdate, the HTTP-date form servers must send
/// (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn http_date(time: DateTime<Utc>) -> String {
    time.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Parses an HTTP-date in any of the three forms recipients must accept (RFC 9110 §5.6.7):
/// IMF-fixdate, the obsolete RFC 850 form and asctime.
pub(crate) fn parse_http_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc2822(text) {
        return Some(time.with_timezone(&Utc));
    }
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

/// Every value of header `name` in `headers` (any case), in order.
fn values<'a>(headers: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Whether a request with `headers` already holds the representation tagged `etag` and
/// last modified at `modified`, so that `304 Not Modified` is the answer.
///
/// `If-None-Match` takes precedence: when present, only it decides (weak comparison, `*`
/// matches anything). Otherwise an `If-Modified-Since` date not older than `modified`
/// means not modified; an unparsable date is ignored, as RFC 9110 §13.1.3 requires.
pub(crate) fn is_not_modified(
    headers: &[(String, String)],
    etag: &str,
    modified: DateTime<Utc>,
) -> bool {
    let mut if_none_match = values(headers, "if-none-match").peekable();
    if if_none_match.peek().is_some() {
        let ours = etag.trim_start_matches("W/");
        return if_none_match
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .any(|tag| tag == "*" || tag.trim_start_matches("W/") == ours);
    }
    values(headers, "if-modified-since")
        .next()
        .and_then(parse_http_date)
        .is_some_and(|since| modified <= since)
}

/// Adds `ETag` and `Last-Modified` to a successful `response` and turns it into a
/// body-less `304 Not Modified` (keeping both validators) when `request_headers` say the
/// client already has it. Other statuses pass through untouched.
pub(crate) fn answer(
    mut response: Response,
    modified: DateTime<Utc>,
    request_headers: &[(String, String)],
) -> Response {
    if response.status != 200 {
        return response;
    }
    let etag = etag(&response.body);
    if is_not_modified(request_headers, &etag, modified) {
        response.status = 304;
        response.body.clear();
        // A 304 describes the stored representation; it has no content of its own.
        response.content_type.clear();
    }
    response.headers.push(("ETag".to_string(), etag));
    response
        .headers
        .push(("Last-Modified".to_string(), http_date(modified)));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).expect("in range")
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn etags_are_quoted_hex_of_eight_hash_bytes() {
        let tag = etag(b"hello");
        assert_eq!(tag.len(), 18);
        assert!(tag.starts_with('"') && tag.ends_with('"'));
        assert!(tag[1..17].bytes().all(|b| b.is_ascii_hexdigit()));
        let hex: String = blake3::hash(b"hello").as_bytes()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(tag, format!("\"{hex}\""));
        assert_ne!(etag(b"hello"), etag(b"hello!"));
    }

    #[test]
    fn http_dates_round_trip_in_all_three_forms() {
        let time = at(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(http_date(time), "Sun, 06 Nov 1994 08:49:37 GMT");
        for text in [
            "Sun, 06 Nov 1994 08:49:37 GMT",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun Nov  6 08:49:37 1994",
        ] {
            assert_eq!(parse_http_date(text), Some(time), "{text}");
        }
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn if_none_match_decides_when_present() {
        let modified = at(1_000_000);
        let tag = "\"00112233aabbccdd\"";
        let yes = |h: &[(&str, &str)]| is_not_modified(&headers(h), tag, modified);
        assert!(yes(&[("If-None-Match", tag)]));
        assert!(yes(&[("if-none-match", "\"x\", W/\"00112233aabbccdd\"")]));
        assert!(yes(&[("If-None-Match", "*")]));
        assert!(!yes(&[("If-None-Match", "\"other\"")]));
        // A mismatching tag wins over a date that alone would mean "not modified".
        assert!(!yes(&[
            ("If-None-Match", "\"other\""),
            ("If-Modified-Since", "Sun, 06 Nov 2050 08:49:37 GMT"),
        ]));
        assert!(!yes(&[]));
    }

    #[test]
    fn if_modified_since_compares_dates() {
        let modified = at(784_111_777);
        let yes = |since: &str| {
            is_not_modified(&headers(&[("If-Modified-Since", since)]), "\"t\"", modified)
        };
        assert!(
            yes("Sun, 06 Nov 1994 08:49:37 GMT"),
            "equal is not modified"
        );
        assert!(yes("Mon, 07 Nov 1994 00:00:00 GMT"));
        assert!(!yes("Sun, 06 Nov 1994 08:49:36 GMT"));
        assert!(!yes("not a date"));
    }

    #[test]
    fn answer_adds_validators_and_turns_matches_into_304() {
        let page = Response::text(200, "page");
        let modified = at(1_642_982_400);
        let fresh = answer(page.clone(), modified, &[]);
        assert_eq!(fresh.status, 200);
        assert_eq!(fresh.body, b"page");
        let tag = etag(b"page");
        assert!(fresh.headers.contains(&("ETag".to_string(), tag.clone())));
        assert!(fresh.headers.contains(&(
            "Last-Modified".to_string(),
            "Mon, 24 Jan 2022 00:00:00 GMT".to_string()
        )));

        let cached = answer(page.clone(), modified, &headers(&[("If-None-Match", &tag)]));
        assert_eq!(cached.status, 304);
        assert!(cached.body.is_empty() && cached.content_type.is_empty());
        assert!(cached.headers.contains(&("ETag".to_string(), tag)));

        let by_date = answer(
            page,
            modified,
            &headers(&[("If-Modified-Since", "Mon, 24 Jan 2022 00:00:00 GMT")]),
        );
        assert_eq!(by_date.status, 304);

        let missing = answer(Response::not_found(), modified, &[]);
        assert_eq!(missing.status, 404);
        assert!(missing.headers.is_empty());
    }
}
