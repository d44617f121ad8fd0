//! The origin's JSON APIs: the same articles as its share pages, the way news apps fetch them.
//!
//! - `/api/list?page=N` (N ≥ 1, 20 items a page, newest first), eastmoney-style:
//!   `{"record":[{"infoCode":"NW…","title":…,"showTime":"2022-01-21 09:38:35","mediaName":…}],
//!   "total":…,"page":N}`; a page past the end has an empty `record`.
//! - `/api/GetNewsText.do?id=NW…`: `{"text":"<p>…</p><p>…</p>"}`, the body as HTML only.
//! - `/api/v2/article?code=NW…`: `{"code":0,"data":{"title":…,"publishTime":<unix seconds>,
//!   "media":…,"content":"…\n\n…"}}`, the whole record with a plain-text body.
//!
//! Fault routes, never linked (a crawl reaches them only as seeds): `fault=malformed` on the
//! list (truncated JSON), `fault=missing` on the list (item 1 has no `showTime`) and
//! `fault=wrong_type` on `GetNewsText.do` (`"text": 42`). Query parameters may come in any
//! order; the crawler sorts them. Pure, like the rest of `render`.

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::article::BEIJING;
use super::pages::escape;
use super::render::{Mirror, Network, Response};

/// Items per list page.
pub const LIST_PAGE_SIZE: usize = 20;

/// `/api/list` (with `page=N`), `/api/GetNewsText.do` (with `id=`), `/api/v2/article`
/// (with `code=`).
const LIST_PATH: &str = "/api/list";
const TEXT_PATH: &str = "/api/GetNewsText.do";
const V2_PATH: &str = "/api/v2/article";

impl Network {
    /// Absolute URL of the origin's JSON list API, page 1: the seed for API crawls.
    pub fn api_list_url(&self) -> String {
        format!("http://{}{LIST_PATH}?page=1", Mirror::Origin.host())
    }

    /// Absolute URLs of article `i`'s two JSON detail records (`GetNewsText.do`, then the v2
    /// record); `None` when the origin does not carry it.
    pub fn api_detail_urls(&self, i: usize) -> Option<[String; 2]> {
        if !self.carries(Mirror::Origin, i) {
            return None;
        }
        let id = &self.articles()[i].id;
        let host = Mirror::Origin.host();
        Some([
            format!("http://{host}{TEXT_PATH}?id={id}"),
            format!("http://{host}{V2_PATH}?code={id}"),
        ])
    }
}

/// The API response at `path_and_query` on the origin, with the modification time of a detail
/// record (for `Last-Modified`, `ETag` and 304s, like an article page); `None` when it is not
/// an API route. Lists carry no validators: a crawler reads them in full every run.
pub(super) fn respond(
    network: &Network,
    path_and_query: &str,
) -> Option<(Response, Option<DateTime<Utc>>)> {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let param = |name: &str| {
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    };
    let fault = param("fault");
    match path {
        LIST_PATH => {
            let page = param("page").and_then(page_number)?;
            let mut list = list(network, page);
            match fault {
                None => {}
                Some("malformed") => {
                    // Cut mid-record, as a proxy that drops the connection's tail would.
                    // Bytes, not a str slice: the cut may fall inside a character.
                    let mut bytes = list.to_string().into_bytes();
                    bytes.truncate(bytes.len() / 2);
                    return Some((json_response(bytes), None));
                }
                Some("missing") => {
                    if let Some(item) = list["record"].get_mut(1).and_then(Value::as_object_mut) {
                        item.remove("showTime");
                    }
                }
                Some(_) => return None,
            }
            Some((json_response(list.to_string().into_bytes()), None))
        }
        TEXT_PATH => {
            let i = network.origin_index(param("id")?)?;
            let a = &network.articles()[i];
            let (body, modified) = match fault {
                None => (
                    json!({ "text": html_body(&a.paragraphs) }),
                    Some(a.published.with_timezone(&Utc)),
                ),
                Some("wrong_type") => (json!({ "text": 42 }), None),
                Some(_) => return None,
            };
            Some((json_response(body.to_string().into_bytes()), modified))
        }
        V2_PATH if fault.is_none() => {
            let i = network.origin_index(param("code")?)?;
            let a = &network.articles()[i];
            let body = json!({
                "code": 0,
                "data": {
                    "title": a.title,
                    "publishTime": a.published.timestamp(),
                    "media": a.source,
                    "content": a.paragraphs.join("\n\n"),
                }
            });
            let modified = a.published.with_timezone(&Utc);
            Some((json_response(body.to_string().into_bytes()), Some(modified)))
        }
        _ => None,
    }
}

/// A page number ≥ 1 written canonically.
fn page_number(text: &str) -> Option<usize> {
    if text.starts_with('0') || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|&n| n >= 1)
}

/// List page `page` (1-based): the origin's articles, newest first.
fn list(network: &Network, page: usize) -> Value {
    let newest = network.newest_first(Mirror::Origin);
    let start = (page - 1).saturating_mul(LIST_PAGE_SIZE).min(newest.len());
    let end = (start + LIST_PAGE_SIZE).min(newest.len());
    let record: Vec<Value> = newest[start..end]
        .iter()
        .map(|&i| {
            let a = &network.articles()[i];
            json!({
                "infoCode": a.id,
                "title": a.title,
                "showTime": a.published.with_timezone(&BEIJING).format("%Y-%m-%d %H:%M:%S").to_string(),
                "mediaName": a.source,
            })
        })
        .collect();
    json!({ "record": record, "total": newest.len(), "page": page })
}

/// The body as the share page's paragraphs, HTML-escaped.
fn html_body(paragraphs: &[String]) -> String {
    paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", escape(p)))
        .collect()
}

fn json_response(body: Vec<u8>) -> Response {
    Response {
        status: 200,
        content_type: "application/json; charset=utf-8".to_string(),
        body,
        headers: Vec::new(),
        behaviour: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::{generate, Carriage};

    fn get(network: &Network, path: &str) -> Value {
        let r = network.respond(Mirror::Origin.host(), path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.content_type, "application/json; charset=utf-8");
        serde_json::from_slice(&r.body).expect("valid JSON")
    }

    #[test]
    fn the_list_pages_through_every_origin_article() {
        let network = Network::from_articles(generate(4, 45), Carriage::All);
        let first = get(&network, "/api/list?page=1");
        assert_eq!(first["total"], 45);
        let newest = network.newest_first(Mirror::Origin)[0];
        let a = &network.articles()[newest];
        assert_eq!(first["record"][0]["infoCode"], a.id.as_str());
        assert_eq!(first["record"][0]["title"], a.title.as_str());
        assert_eq!(first["record"][0]["mediaName"], a.source.as_str());
        assert_eq!(
            first["record"][0]["showTime"],
            a.published.format("%Y-%m-%d %H:%M:%S").to_string()
        );
        let sizes: Vec<usize> = (1..=4)
            .map(|p| {
                get(&network, &format!("/api/list?page={p}"))["record"]
                    .as_array()
                    .map_or(0, Vec::len)
            })
            .collect();
        assert_eq!(sizes, [20, 20, 5, 0]);
        for bad in ["/api/list", "/api/list?page=0", "/api/list?page=01"] {
            assert_eq!(network.respond(Mirror::Origin.host(), bad).status, 404);
        }
    }

    #[test]
    fn detail_records_carry_the_article_body() {
        let network = Network::from_articles(generate(4, 5), Carriage::All);
        let a = &network.articles()[2];
        let text = get(&network, &format!("/api/GetNewsText.do?id={}", a.id));
        assert_eq!(text["text"], html_body(&a.paragraphs));
        let v2 = get(&network, &format!("/api/v2/article?code={}", a.id));
        assert_eq!(v2["data"]["content"], a.paragraphs.join("\n\n"));
        assert_eq!(v2["data"]["publishTime"], a.published.timestamp());
        let [t, v] = network.api_detail_urls(2).unwrap();
        assert!(t.ends_with(&format!("/api/GetNewsText.do?id={}", a.id)));
        assert!(v.ends_with(&format!("/api/v2/article?code={}", a.id)));
        assert_eq!(
            network
                .respond(Mirror::Origin.host(), "/api/GetNewsText.do?id=NW0")
                .status,
            404
        );
    }

    #[test]
    fn fault_routes() {
        let network = Network::from_articles(generate(4, 25), Carriage::All);
        let r = network.respond(Mirror::Origin.host(), "/api/list?fault=malformed&page=1");
        assert!(serde_json::from_slice::<Value>(&r.body).is_err());
        let missing = get(&network, "/api/list?fault=missing&page=1");
        assert!(missing["record"][0].get("showTime").is_some());
        assert!(missing["record"][1].get("showTime").is_none());
        let id = &network.articles()[0].id;
        let wrong = get(
            &network,
            &format!("/api/GetNewsText.do?fault=wrong_type&id={id}"),
        );
        assert_eq!(wrong["text"], 42);
    }
}
