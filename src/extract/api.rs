//! JSON APIs as sources: a list endpoint's items become links to follow (detail and share
//! URLs built from templates, and the next page), a detail endpoint's record becomes a post.
//!
//! The mapping is data from config ([`ApiRule`]): where the items are (a JSON pointer), which
//! member holds each field (pointers relative to the item), how the publication time is
//! written, whether the body is HTML or plain text. An HTML body is read like a page
//! ([`super::text::lines`]), a plain-text body is split on line breaks, so both reach the
//! same normalisation and fingerprint as the HTML copies of the article.
//!
//! A list item's title, time and source travel with the links it yields ([`Carried`]), because
//! detail endpoints such as `GetNewsText.do` return only the body: the detail post takes the
//! fields its own record lacks from the item that linked it.
//!
//! Every failure names the absolute JSON pointer that failed (`/record/3/showTime: missing`).
//! Pure: text and a rule in, posts, links or errors out; no I/O.

use std::collections::HashSet;

use chrono::format::{Item, StrftimeItems};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;
use url::Url;

use super::{clean_label, date, text};
use crate::model::Post;
use crate::scope::path_and_query;

/// What an API endpoint is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApiKind {
    /// `json_list`: a hub whose items link detail and share pages (and the next page).
    List,
    /// `json_detail`: one record, one post.
    Detail,
}

/// How the `published` value is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeFormat {
    /// Whatever [`date::parse_published`] understands (the lenient page parser).
    Auto,
    /// RFC 3339 / ISO 8601 with a zone.
    Rfc3339,
    /// Seconds since the Unix epoch, as a number or a string of digits.
    Unix,
    /// Milliseconds since the Unix epoch.
    UnixMillis,
    /// A chrono `strftime` pattern; `zoned` when it parses an offset (`%z`), otherwise the
    /// rule's zone applies.
    Pattern {
        /// The pattern, e.g. `%Y-%m-%d %H:%M:%S`.
        pattern: String,
        /// Whether the pattern reads the offset itself.
        zoned: bool,
    },
}

impl TimeFormat {
    /// `auto`, `rfc3339`, `unix`, `unix_ms` or a chrono pattern; `Err` says what is wrong.
    pub fn parse(s: &str) -> Result<TimeFormat, String> {
        Ok(match s {
            "auto" => TimeFormat::Auto,
            "rfc3339" => TimeFormat::Rfc3339,
            "unix" => TimeFormat::Unix,
            "unix_ms" => TimeFormat::UnixMillis,
            p if p.contains('%') => {
                if StrftimeItems::new(p).any(|i| matches!(i, Item::Error)) {
                    return Err(format!("`{p}` is not a valid chrono format string"));
                }
                let zoned = ["%z", "%:z", "%::z", "%#z"].iter().any(|z| p.contains(z));
                TimeFormat::Pattern {
                    pattern: p.to_string(),
                    zoned,
                }
            }
            other => {
                return Err(format!(
                    "`{other}` is not a time format; expected \"auto\", \"rfc3339\", \"unix\", \"unix_ms\" or a chrono pattern such as \"%Y-%m-%d %H:%M:%S\""
                ))
            }
        })
    }
}

/// Whether a body value is HTML markup or plain text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFormat {
    /// Markup: parsed, paragraphs taken like a page's.
    Html,
    /// Plain text: every line break ends a paragraph.
    Text,
}

/// A field a rule can map.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// The item's id (also the `{id}` placeholder in templates).
    Id,
    /// Headline.
    Title,
    /// Publication time.
    Published,
    /// Source or media name.
    Source,
    /// Body (detail rules only).
    Body,
    /// A URL to queue (resolved against the endpoint's URL).
    Url,
}

impl Field {
    /// Every field, in documentation order.
    pub const ALL: [Field; 6] = [
        Field::Id,
        Field::Title,
        Field::Published,
        Field::Source,
        Field::Body,
        Field::Url,
    ];

    /// The config key.
    pub fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Title => "title",
            Field::Published => "published",
            Field::Source => "source",
            Field::Body => "body",
            Field::Url => "url",
        }
    }

    /// The field a config key names.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// JSON pointers (relative to an item) for the mapped fields; `None` = not mapped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldMap {
    /// `id`.
    pub id: Option<String>,
    /// `title`.
    pub title: Option<String>,
    /// `published`.
    pub published: Option<String>,
    /// `source`.
    pub source: Option<String>,
    /// `body`.
    pub body: Option<String>,
    /// `url`.
    pub url: Option<String>,
}

impl FieldMap {
    /// The pointer mapped for `field`.
    pub fn get(&self, field: Field) -> Option<&str> {
        match field {
            Field::Id => self.id.as_deref(),
            Field::Title => self.title.as_deref(),
            Field::Published => self.published.as_deref(),
            Field::Source => self.source.as_deref(),
            Field::Body => self.body.as_deref(),
            Field::Url => self.url.as_deref(),
        }
    }
}

/// How a list endpoint pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Paging {
    /// One page only.
    None,
    /// A page-number query parameter, counted from `first`; at most `max_pages` pages.
    Page {
        /// The parameter, e.g. `page` or `pageIndex`.
        param: String,
        /// The number of the first page (1, or 0 for zero-based APIs).
        first: u64,
        /// Pages read at most.
        max_pages: u32,
    },
    /// A cursor returned in the response (at `pointer`, from the document root) and sent
    /// back as `param`; at most `max_pages` pages.
    Cursor {
        /// The query parameter the cursor goes into.
        param: String,
        /// Where the next cursor is in the response.
        pointer: String,
        /// Pages read at most.
        max_pages: u32,
    },
}

/// One piece of a URL template.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    /// A JSON pointer relative to the item.
    Pointer(String),
    /// The mapped `id` field.
    Id,
}

/// A URL built from a list item: `https://…/GetNewsText.do?id={infoCode}`. `{name}` is the
/// item's member `name`, `{/a/b}` a pointer into the item, `{id}` the mapped `id` field
/// (or the member `id` when none is mapped). Values are percent-encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    raw: String,
    parts: Vec<Part>,
}

impl Template {
    /// Parses a template; `Err` says what is wrong.
    pub fn parse(raw: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = raw;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_string()));
            }
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("`{raw}`: `{{` without a closing `}}`"))?;
            let name = &after[..close];
            if name.is_empty() || name.contains('{') {
                return Err(format!(
                    "`{raw}`: empty or nested placeholder; expected e.g. {{infoCode}}"
                ));
            }
            parts.push(if name == "id" {
                Part::Id
            } else if name.starts_with('/') {
                Part::Pointer(name.to_string())
            } else {
                Part::Pointer(format!("/{}", escape_token(name)))
            });
            rest = &after[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        if rest.contains('}') {
            return Err(format!("`{raw}`: `}}` without an opening `{{`"));
        }
        Ok(Template {
            raw: raw.to_string(),
            parts,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }
}

/// One configured JSON endpoint.
#[derive(Clone, Debug)]
pub struct ApiRule {
    /// Rule name, recorded as the extractor of the posts it yields (`origin-api:detail`).
    pub name: String,
    /// List or detail.
    pub kind: ApiKind,
    /// Pattern over path?query that marks the endpoint's URLs.
    pub url: Regex,
    /// Pointer to the items (an array, for lists) or the record (an object, for details);
    /// `""` is the document root.
    pub items: String,
    /// Field pointers, relative to an item.
    pub fields: FieldMap,
    /// Fields that may be missing or null; every other mapped field must be there.
    pub optional: HashSet<Field>,
    /// How `published` is written.
    pub published_format: TimeFormat,
    /// Zone for times that carry none.
    pub zone: FixedOffset,
    /// Whether `body` is HTML or plain text.
    pub body_format: BodyFormat,
    /// URL templates filled from each list item and queued.
    pub follow: Vec<Template>,
    /// Pagination of a list endpoint.
    pub paging: Paging,
}

/// The API rules of every site, indexed like [`crate::scope::Scope::sites`].
#[derive(Clone, Debug, Default)]
pub struct ApiRules {
    /// Rules per site, in config order; the first whose pattern matches decides.
    pub sites: Vec<Vec<ApiRule>>,
}

impl ApiRules {
    /// The rule for `url` on site `site`, if the URL is a configured JSON endpoint.
    pub fn rule_for(&self, site: usize, url: &Url) -> Option<&ApiRule> {
        let rules = self.sites.get(site)?;
        if rules.is_empty() {
            return None;
        }
        let target = path_and_query(url);
        rules.iter().find(|r| r.url.is_match(&target))
    }
}

/// What a list item tells the pages it links: their title, time and source, and (for the
/// next page of a cursor-paged list) how many pages were read so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Carried {
    /// The item's title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The item's publication time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<FixedOffset>>,
    /// The item's source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Pages of the list read before the one this links (0 when not a next-page link).
    #[serde(default)]
    pub pages_read: u32,
}

/// A URL to queue and what its list item said about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// Absolute URL (not yet normalised).
    pub url: Url,
    /// Fields carried from the list item.
    pub carried: Carried,
}

/// What a list endpoint yielded.
#[derive(Clone, Debug, PartialEq)]
pub struct ListPage {
    /// Links from the good items, in item order, then the next page.
    pub links: Vec<Link>,
    /// Items read without error.
    pub items: usize,
    /// The first item that failed (its links are not queued); the others still count.
    pub error: Option<JsonError>,
}

/// What a detail endpoint yielded.
#[derive(Clone, Debug, PartialEq)]
pub struct DetailPage {
    /// The post (its body may be empty: the caller decides what an empty body means).
    pub post: Post,
    /// The record's `url`, when mapped.
    pub links: Vec<Url>,
}

/// Why a JSON response could not be mapped.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum JsonError {
    /// Not JSON at all.
    #[error("not JSON: {0}")]
    Syntax(String),
    /// A value is missing or has the wrong type; `pointer` is absolute (from the root).
    #[error("{}: {what}", show_pointer(pointer))]
    Field {
        /// Absolute JSON pointer of the value that failed.
        pointer: String,
        /// What is wrong.
        what: String,
    },
}

fn show_pointer(p: &str) -> &str {
    if p.is_empty() {
        "(root)"
    } else {
        p
    }
}

fn field_err(pointer: impl Into<String>, what: impl Into<String>) -> JsonError {
    JsonError::Field {
        pointer: pointer.into(),
        what: what.into(),
    }
}

/// `""` or a pointer that starts with `/`.
pub fn is_pointer(s: &str) -> bool {
    s.is_empty() || s.starts_with('/')
}

/// A member name as a pointer token (`~` → `~0`, `/` → `~1`).
fn escape_token(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn parse(text: &str) -> Result<Value, JsonError> {
    // A BOM is not JSON, but servers send one; it never changes the meaning.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_json::from_str(text).map_err(|e| JsonError::Syntax(e.to_string()))
}

/// The value at `pointer` in `doc`, which must be there and not null.
fn required<'a>(doc: &'a Value, pointer: &str, absolute: &str) -> Result<&'a Value, JsonError> {
    match doc.pointer(pointer) {
        None | Some(Value::Null) => Err(field_err(absolute, "missing")),
        Some(v) => Ok(v),
    }
}

/// One item of a rule's records: its value and its absolute pointer.
struct ItemRef<'a> {
    rule: &'a ApiRule,
    value: &'a Value,
    at: String,
}

impl ItemRef<'_> {
    /// The mapped field's value: `None` when unmapped, or missing and optional.
    fn value(&self, field: Field) -> Result<Option<(&Value, String)>, JsonError> {
        let Some(p) = self.rule.fields.get(field) else {
            return Ok(None);
        };
        let absolute = format!("{}{p}", self.at);
        match self.value.pointer(p) {
            None | Some(Value::Null) if self.rule.optional.contains(&field) => Ok(None),
            None | Some(Value::Null) => Err(field_err(absolute, "missing")),
            Some(v) => Ok(Some((v, absolute))),
        }
    }

    /// A field that must be a string when present.
    fn string(&self, field: Field) -> Result<Option<String>, JsonError> {
        match self.value(field)? {
            None => Ok(None),
            Some((Value::String(s), _)) => Ok(Some(s.trim().to_string())),
            Some((v, at)) => Err(field_err(
                at,
                format!("expected a string, found {}", type_name(v)),
            )),
        }
    }

    /// The id: a string or a number.
    fn id(&self) -> Result<Option<String>, JsonError> {
        match self.value(Field::Id)? {
            None => Ok(None),
            Some((v, at)) => scalar(v).map(Some).ok_or_else(|| {
                field_err(
                    at,
                    format!("expected a string or a number, found {}", type_name(v)),
                )
            }),
        }
    }

    fn published(&self) -> Result<Option<DateTime<FixedOffset>>, JsonError> {
        match self.value(Field::Published)? {
            None => Ok(None),
            Some((v, at)) => parse_time(v, &self.rule.published_format, self.rule.zone)
                .map(Some)
                .map_err(|what| field_err(at, what)),
        }
    }

    fn source(&self) -> Result<Option<String>, JsonError> {
        Ok(self
            .string(Field::Source)?
            .map(|s| clean_label(&s))
            .filter(|s| !s.is_empty()))
    }

    fn url(&self, base: &Url) -> Result<Option<Url>, JsonError> {
        let Some((v, at)) = self.value(Field::Url)? else {
            return Ok(None);
        };
        let Value::String(s) = v else {
            return Err(field_err(
                at,
                format!("expected a string, found {}", type_name(v)),
            ));
        };
        base.join(s.trim())
            .map(|u| Some(crate::scope::without_credentials(u)))
            .map_err(|e| field_err(at, format!("`{s}` is not a URL: {e}")))
    }

    fn render(&self, template: &Template, base: &Url) -> Result<Url, JsonError> {
        let mut out = String::new();
        for part in &template.parts {
            let (pointer, value) = match part {
                Part::Literal(s) => {
                    out.push_str(s);
                    continue;
                }
                Part::Id => match self.rule.fields.id.as_deref() {
                    Some(p) => (p, self.value.pointer(p)),
                    None => ("/id", self.value.pointer("/id")),
                },
                Part::Pointer(p) => (p.as_str(), self.value.pointer(p)),
            };
            let at = format!("{}{pointer}", self.at);
            let value = match value {
                None | Some(Value::Null) => {
                    return Err(field_err(
                        at,
                        format!("missing (needed by `{}`)", template.raw),
                    ))
                }
                Some(v) => v,
            };
            let text = scalar(value).ok_or_else(|| {
                field_err(
                    &at,
                    format!(
                        "expected a string or a number for `{}`, found {}",
                        template.raw,
                        type_name(value)
                    ),
                )
            })?;
            percent_encode(&text, &mut out);
        }
        base.join(&out)
            .map(crate::scope::without_credentials)
            .map_err(|e| field_err(&self.at, format!("`{out}` is not a URL: {e}")))
    }
}

/// A string (trimmed) or a number as text; other types are `None`.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Appends `text` percent-encoded: everything but ASCII letters, digits and `-._~`.
fn percent_encode(text: &str, out: &mut String) {
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// Parses a publication time as `format` says.
pub fn parse_time(
    v: &Value,
    format: &TimeFormat,
    zone: FixedOffset,
) -> Result<DateTime<FixedOffset>, String> {
    let epoch = |scale: i64| -> Result<DateTime<FixedOffset>, String> {
        let n = match v {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => {
                return Err(format!(
                    "expected a number (Unix time), found {}",
                    type_name(v)
                ))
            }
        }
        .ok_or_else(|| format!("`{v}` is not a whole number (Unix time)"))?;
        let utc = if scale == 1 {
            Utc.timestamp_opt(n, 0).single()
        } else {
            Utc.timestamp_millis_opt(n).single()
        };
        utc.map(|t| t.with_timezone(&zone))
            .ok_or_else(|| format!("`{n}` is out of range for a Unix time"))
    };
    let string = || match v {
        Value::String(s) => Ok(s.trim()),
        _ => Err(format!("expected a string, found {}", type_name(v))),
    };
    let bad = |s: &str, why: &str| format!("`{s}` is not a {why}");
    match format {
        TimeFormat::Unix => epoch(1),
        TimeFormat::UnixMillis => epoch(1000),
        TimeFormat::Auto => {
            let s = string()?;
            date::parse_published(s, zone).ok_or_else(|| bad(s, "date"))
        }
        TimeFormat::Rfc3339 => {
            let s = string()?;
            DateTime::parse_from_rfc3339(s).map_err(|_| bad(s, "RFC 3339 time"))
        }
        TimeFormat::Pattern { pattern, zoned } => {
            let s = string()?;
            let why = format!("time in the format `{pattern}`");
            if *zoned {
                return DateTime::parse_from_str(s, pattern).map_err(|_| bad(s, &why));
            }
            let naive = NaiveDateTime::parse_from_str(s, pattern)
                .or_else(|_| {
                    NaiveDate::parse_from_str(s, pattern).map(|d| d.and_time(Default::default()))
                })
                .map_err(|_| bad(s, &why))?;
            zone.from_local_datetime(&naive)
                .single()
                .ok_or_else(|| bad(s, &why))
        }
    }
}

/// Reads a list endpoint: the links of every good item, then the next page.
pub fn read_list(
    rule: &ApiRule,
    text: &str,
    page: &Url,
    carried: Option<&Carried>,
) -> Result<ListPage, JsonError> {
    let doc = parse(text)?;
    let items = required(&doc, &rule.items, &rule.items)?;
    let Value::Array(items) = items else {
        return Err(field_err(
            &rule.items,
            format!("expected an array of items, found {}", type_name(items)),
        ));
    };
    let mut links = Vec::new();
    let mut error = None;
    let mut good = 0;
    for (i, value) in items.iter().enumerate() {
        let item = ItemRef {
            rule,
            value,
            at: format!("{}/{i}", rule.items),
        };
        match list_item(&item, page) {
            Ok(found) => {
                good += 1;
                links.extend(found);
            }
            Err(e) => {
                error.get_or_insert(e);
            }
        }
    }
    if !items.is_empty() {
        if let Some(next) = next_page(rule, &doc, page, carried)? {
            links.push(next);
        }
    }
    Ok(ListPage {
        links,
        items: good,
        error,
    })
}

/// An item's links; an item with any bad mapped field yields none.
fn list_item(item: &ItemRef<'_>, page: &Url) -> Result<Vec<Link>, JsonError> {
    if !item.value.is_object() {
        return Err(field_err(
            &item.at,
            format!("expected an object, found {}", type_name(item.value)),
        ));
    }
    // Read every mapped field, so a bad one fails the item even when no template uses it.
    item.id()?;
    let carried = Carried {
        title: item.string(Field::Title)?,
        published: item.published()?,
        source: item.source()?,
        pages_read: 0,
    };
    let mut links = Vec::new();
    if let Some(url) = item.url(page)? {
        links.push(url);
    }
    for t in &item.rule.follow {
        links.push(item.render(t, page)?);
    }
    Ok(links
        .into_iter()
        .map(|url| Link {
            url,
            carried: carried.clone(),
        })
        .collect())
}

/// The next page's link, within the rule's bound.
fn next_page(
    rule: &ApiRule,
    doc: &Value,
    page: &Url,
    carried: Option<&Carried>,
) -> Result<Option<Link>, JsonError> {
    let (param, value, read) = match &rule.paging {
        Paging::None => return Ok(None),
        Paging::Page {
            param,
            first,
            max_pages,
        } => {
            let current = page
                .query_pairs()
                .find(|(k, _)| k == param)
                .and_then(|(_, v)| v.parse::<u64>().ok())
                .unwrap_or(*first);
            // Pages before `first` count as none read: never page backwards past the bound.
            let read = current.saturating_sub(*first).saturating_add(1);
            if read >= u64::from(*max_pages) {
                return Ok(None);
            }
            (param, (current + 1).to_string(), read as u32)
        }
        Paging::Cursor {
            param,
            pointer,
            max_pages,
        } => {
            let read = carried.map_or(0, |c| c.pages_read) + 1;
            if read >= *max_pages {
                return Ok(None);
            }
            let cursor = match doc.pointer(pointer) {
                None | Some(Value::Null) => return Ok(None),
                Some(v) => scalar(v).ok_or_else(|| {
                    field_err(
                        pointer,
                        format!(
                            "expected a string or a number (the cursor), found {}",
                            type_name(v)
                        ),
                    )
                })?,
            };
            if cursor.is_empty() {
                return Ok(None);
            }
            (param, cursor, read)
        }
    };
    let mut url = page.clone();
    let pairs: Vec<(String, String)> = page
        .query_pairs()
        .filter(|(k, _)| k != param)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .chain(std::iter::once((param.clone(), value)))
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    Ok(Some(Link {
        url,
        carried: Carried {
            pages_read: read,
            ..Carried::default()
        },
    }))
}

/// Reads a detail endpoint into a post; fields its record lacks come from `carried`.
pub fn read_detail(
    rule: &ApiRule,
    text: &str,
    page: &Url,
    carried: Option<&Carried>,
) -> Result<DetailPage, JsonError> {
    let doc = parse(text)?;
    let value = required(&doc, &rule.items, &rule.items)?;
    if !value.is_object() {
        return Err(field_err(
            &rule.items,
            format!("expected an object, found {}", type_name(value)),
        ));
    }
    let item = ItemRef {
        rule,
        value,
        at: rule.items.clone(),
    };
    item.id()?;
    let none = Carried::default();
    let carried = carried.unwrap_or(&none);
    let title = item
        .string(Field::Title)?
        .or_else(|| carried.title.clone())
        .unwrap_or_default();
    let published = item.published()?.or(carried.published);
    let source = item.source()?.or_else(|| carried.source.clone());
    let body = match item.value(Field::Body)? {
        None => Vec::new(),
        Some((v, at)) => body(v, rule.body_format, &at)?,
    };
    let links = item.url(page)?.into_iter().collect();
    let language = text::guess_language(&body);
    Ok(DetailPage {
        post: Post {
            url: page.to_string(),
            title,
            published,
            source,
            author: None,
            body,
            language,
            extractor: rule.name.clone(),
        },
        links,
    })
}

/// A body value as paragraphs: a string, or an array of strings (one or more paragraphs each).
fn body(v: &Value, format: BodyFormat, at: &str) -> Result<Vec<String>, JsonError> {
    let one = |s: &str, at: &str| match format {
        BodyFormat::Html => html_lines(s).map_err(|e| field_err(at, e.to_string())),
        BodyFormat::Text => Ok(text_lines(s)),
    };
    match v {
        Value::String(s) => one(s, at),
        Value::Array(parts) => {
            let mut out = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                match p {
                    Value::String(s) => out.extend(one(s, &format!("{at}/{i}"))?),
                    other => {
                        return Err(field_err(
                            format!("{at}/{i}"),
                            format!("expected a string, found {}", type_name(other)),
                        ))
                    }
                }
            }
            Ok(out)
        }
        other => Err(field_err(
            at,
            format!(
                "expected a string or an array of strings, found {}",
                type_name(other)
            ),
        )),
    }
}

/// HTML markup → paragraphs, exactly as a page body's elements are read; markup too deep or
/// too attribute-laden to parse in bounded time is refused, as a page would be.
pub fn html_lines(markup: &str) -> Result<Vec<String>, super::bounds::TooComplex> {
    let fragment = super::bounds::parse_fragment(markup)?;
    Ok(text::lines(fragment.root_element(), &HashSet::new()))
}

/// Plain text → paragraphs: every line break ends one; blank lines are dropped.
pub fn text_lines(plain: &str) -> Vec<String> {
    plain
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cst() -> FixedOffset {
        FixedOffset::east_opt(8 * 3600).unwrap()
    }

    fn list_rule() -> ApiRule {
        ApiRule {
            name: "origin-api:list".into(),
            kind: ApiKind::List,
            url: Regex::new(r"^/api/list").unwrap(),
            items: "/record".into(),
            fields: FieldMap {
                id: Some("/infoCode".into()),
                title: Some("/title".into()),
                published: Some("/showTime".into()),
                source: Some("/mediaName".into()),
                ..FieldMap::default()
            },
            optional: HashSet::new(),
            published_format: TimeFormat::parse("%Y-%m-%d %H:%M:%S").unwrap(),
            zone: cst(),
            body_format: BodyFormat::Html,
            follow: vec![
                Template::parse("/api/GetNewsText.do?id={infoCode}").unwrap(),
                Template::parse("https://share.test/NewsShare.html?infoCode={id}").unwrap(),
            ],
            paging: Paging::Page {
                param: "page".into(),
                first: 1,
                max_pages: 3,
            },
        }
    }

    fn detail_rule() -> ApiRule {
        ApiRule {
            name: "origin-api:detail".into(),
            kind: ApiKind::Detail,
            items: String::new(),
            fields: FieldMap {
                body: Some("/text".into()),
                ..FieldMap::default()
            },
            follow: Vec::new(),
            paging: Paging::None,
            ..list_rule()
        }
    }

    fn page(u: &str) -> Url {
        Url::parse(u).unwrap()
    }

    const LIST: &str = r#"{"record":[
        {"infoCode":"NW1","title":" 标题一 ","showTime":"2022-01-21 09:38:35","mediaName":"来源：演示日报"},
        {"infoCode":"NW2","title":"标题二","showTime":"2022-01-21 10:00:00","mediaName":"Demo Wire"}
    ],"total":2}"#;

    #[test]
    fn list_items_become_templated_links_carrying_their_fields() {
        let p = read_list(
            &list_rule(),
            LIST,
            &page("http://news.test/api/list?page=1"),
            None,
        )
        .unwrap();
        assert_eq!(p.error, None);
        assert_eq!(p.items, 2);
        let urls: Vec<&str> = p.links.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "http://news.test/api/GetNewsText.do?id=NW1",
                "https://share.test/NewsShare.html?infoCode=NW1",
                "http://news.test/api/GetNewsText.do?id=NW2",
                "https://share.test/NewsShare.html?infoCode=NW2",
                "http://news.test/api/list?page=2",
            ]
        );
        let c = &p.links[0].carried;
        assert_eq!(c.title.as_deref(), Some("标题一"));
        assert_eq!(c.source.as_deref(), Some("演示日报"));
        assert_eq!(
            c.published.unwrap().to_rfc3339(),
            "2022-01-21T09:38:35+08:00"
        );
    }

    #[test]
    fn pagination_stops_at_the_bound_and_on_an_empty_page() {
        let rule = list_rule();
        let next = |u: &str, text: &str| {
            read_list(&rule, text, &page(u), None)
                .unwrap()
                .links
                .into_iter()
                .find(|l| l.url.path() == "/api/list")
                .map(|l| l.url.to_string())
        };
        assert_eq!(
            next("http://news.test/api/list?page=2", LIST).as_deref(),
            Some("http://news.test/api/list?page=3")
        );
        assert_eq!(next("http://news.test/api/list?page=3", LIST), None);
        assert_eq!(
            next("http://news.test/api/list", LIST).as_deref(),
            Some("http://news.test/api/list?page=2"),
            "no parameter is the first page"
        );
        assert_eq!(
            next("http://news.test/api/list?page=1", r#"{"record":[]}"#),
            None
        );
    }

    #[test]
    fn cursor_pagination_counts_pages_through_the_carried_state() {
        let rule = ApiRule {
            paging: Paging::Cursor {
                param: "cursor".into(),
                pointer: "/next".into(),
                max_pages: 2,
            },
            follow: Vec::new(),
            fields: FieldMap {
                url: Some("/u".into()),
                ..FieldMap::default()
            },
            items: "/items".into(),
            ..list_rule()
        };
        let text = r#"{"items":[{"u":"/a/1.html"}],"next":"abc"}"#;
        let first = read_list(&rule, text, &page("http://x.test/api?cursor=0"), None).unwrap();
        let next = first.links.last().unwrap();
        assert_eq!(next.url.as_str(), "http://x.test/api?cursor=abc");
        assert_eq!(next.carried.pages_read, 1);
        let second = read_list(&rule, text, &next.url, Some(&next.carried)).unwrap();
        assert_eq!(second.links.len(), 1, "the bound of 2 pages is reached");
        let end = read_list(
            &rule,
            r#"{"items":[{"u":"/a/2.html"}],"next":null}"#,
            &page("http://x.test/api"),
            None,
        )
        .unwrap();
        assert_eq!(end.links.len(), 1, "a null cursor is the last page");
    }

    #[test]
    fn a_bad_item_names_its_pointer_and_the_good_ones_still_count() {
        let text = r#"{"record":[
            {"infoCode":"NW1","title":"a","showTime":"2022-01-21 09:38:35","mediaName":"m"},
            {"infoCode":"NW2","title":"b","mediaName":"m"},
            {"infoCode":"NW3","title":7,"showTime":"2022-01-21 09:38:35","mediaName":"m"}
        ]}"#;
        let p = read_list(
            &list_rule(),
            text,
            &page("http://n.test/api/list?page=1"),
            None,
        )
        .unwrap();
        assert_eq!(p.items, 1);
        assert_eq!(p.error.unwrap().to_string(), "/record/1/showTime: missing");
        assert_eq!(p.links.len(), 3, "two links from NW1, then page 2");
        let wrong = text.replace(
            r#""title":"b","mediaName":"m""#,
            r#""title":"b","showTime":"x","mediaName":"m""#,
        );
        let p = read_list(&list_rule(), &wrong, &page("http://n.test/api/list"), None).unwrap();
        assert_eq!(
            p.error.unwrap().to_string(),
            "/record/1/showTime: `x` is not a time in the format `%Y-%m-%d %H:%M:%S`"
        );
        let only_third = r#"{"record":[{"infoCode":"NW3","title":7,"showTime":"2022-01-21 09:38:35","mediaName":"m"}]}"#;
        let p = read_list(
            &list_rule(),
            only_third,
            &page("http://n.test/api/list"),
            None,
        )
        .unwrap();
        assert_eq!(
            p.error.unwrap().to_string(),
            "/record/0/title: expected a string, found number"
        );
    }

    #[test]
    fn optional_fields_may_be_missing_or_null() {
        let mut rule = list_rule();
        rule.optional.insert(Field::Source);
        let text = r#"{"record":[{"infoCode":"NW1","title":"a","showTime":"2022-01-21 09:38:35","mediaName":null}]}"#;
        let p = read_list(&rule, text, &page("http://n.test/api/list"), None).unwrap();
        assert_eq!(p.error, None);
        assert_eq!(p.links[0].carried.source, None);
    }

    #[test]
    fn structural_errors_name_the_pointer() {
        let u = page("http://n.test/api/list");
        let e =
            |rule: &ApiRule, text: &str| read_list(rule, text, &u, None).unwrap_err().to_string();
        assert!(e(&list_rule(), r#"{"record":[{"#).starts_with("not JSON: "));
        assert_eq!(e(&list_rule(), r#"{"total":0}"#), "/record: missing");
        assert_eq!(
            e(&list_rule(), r#"{"record":{}}"#),
            "/record: expected an array of items, found object"
        );
        let d = |text: &str| {
            read_detail(&detail_rule(), text, &u, None)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(d("[]"), "(root): expected an object, found array");
        assert_eq!(
            d(r#"{"text":42}"#),
            "/text: expected a string or an array of strings, found number"
        );
        assert_eq!(d(r#"{"txt":"x"}"#), "/text: missing");
        assert_eq!(
            d(r#"{"text":["a",1]}"#),
            "/text/1: expected a string, found number"
        );
    }

    #[test]
    fn templates_name_the_missing_member_and_encode_values() {
        let rule = list_rule();
        let text = r#"{"record":[{"id":"x","infoCode":"N W/1","title":"a","showTime":"2022-01-21 09:38:35","mediaName":"m"}]}"#;
        let p = read_list(&rule, text, &page("http://n.test/api/list"), None).unwrap();
        assert_eq!(
            p.links[0].url.as_str(),
            "http://n.test/api/GetNewsText.do?id=N%20W%2F1"
        );
        // `{id}` is the mapped id field (infoCode), not the member `id`.
        assert!(p.links[1].url.as_str().ends_with("infoCode=N%20W%2F1"));
        let rule = ApiRule {
            follow: vec![Template::parse("/x?c={/meta/code}").unwrap()],
            ..list_rule()
        };
        let text = r#"{"record":[{"infoCode":"1","title":"a","showTime":"2022-01-21 09:38:35","mediaName":"m","meta":{}}]}"#;
        let p = read_list(&rule, text, &page("http://n.test/api/list"), None).unwrap();
        assert_eq!(
            p.error.unwrap().to_string(),
            "/record/0/meta/code: missing (needed by `/x?c={/meta/code}`)"
        );
        assert!(Template::parse("a{b").is_err());
        assert!(Template::parse("a{}").is_err());
        assert!(Template::parse("a}b").is_err());
    }

    #[test]
    fn html_bodies_read_like_pages_and_take_carried_fields() {
        let carried = Carried {
            title: Some("标题".into()),
            published: DateTime::parse_from_rfc3339("2022-01-21T09:38:35+08:00").ok(),
            source: Some("演示日报".into()),
            pages_read: 0,
        };
        let text = r#"{"text":"<p>第一段。</p>\n<p>第二段<br>第三段</p><script>x()</script>"}"#;
        let u = page("http://n.test/api/GetNewsText.do?id=NW1");
        let d = read_detail(&detail_rule(), text, &u, Some(&carried)).unwrap();
        assert_eq!(d.post.body, ["第一段。", "第二段", "第三段"]);
        assert_eq!(d.post.title, "标题");
        assert_eq!(d.post.source.as_deref(), Some("演示日报"));
        assert_eq!(d.post.published, carried.published);
        assert_eq!(d.post.extractor, "origin-api:detail");
        assert_eq!(d.post.url, u.as_str());
        assert_eq!(d.post.language.as_deref(), Some("zh"));
    }

    #[test]
    fn text_bodies_split_on_line_breaks_and_own_fields_win() {
        let rule = ApiRule {
            items: "/data".into(),
            fields: FieldMap {
                title: Some("/title".into()),
                published: Some("/time".into()),
                body: Some("/content".into()),
                ..FieldMap::default()
            },
            published_format: TimeFormat::Unix,
            body_format: BodyFormat::Text,
            ..detail_rule()
        };
        let text =
            r#"{"data":{"title":"Own","time":1642729115,"content":"One.\n\n  Two.\r\nThree.\n"}}"#;
        let carried = Carried {
            title: Some("Carried".into()),
            ..Carried::default()
        };
        let d = read_detail(&rule, text, &page("http://n.test/v2?id=1"), Some(&carried)).unwrap();
        assert_eq!(d.post.body, ["One.", "Two.", "Three."]);
        assert_eq!(d.post.title, "Own");
        assert_eq!(
            d.post.published.unwrap().to_rfc3339(),
            "2022-01-21T09:38:35+08:00"
        );
    }

    #[test]
    fn time_formats() {
        let z = cst();
        let s = |v: &str| Value::String(v.into());
        let rfc = TimeFormat::parse("rfc3339").unwrap();
        assert_eq!(
            parse_time(&s("2022-01-21T01:38:35Z"), &rfc, z).unwrap(),
            DateTime::parse_from_rfc3339("2022-01-21T09:38:35+08:00").unwrap()
        );
        let unix = TimeFormat::parse("unix").unwrap();
        let want = DateTime::parse_from_rfc3339("2022-01-21T09:38:35+08:00").unwrap();
        assert_eq!(
            parse_time(&Value::from(1_642_729_115), &unix, z).unwrap(),
            want
        );
        assert_eq!(parse_time(&s("1642729115"), &unix, z).unwrap(), want);
        let ms = TimeFormat::parse("unix_ms").unwrap();
        assert_eq!(
            parse_time(&Value::from(1_642_729_115_000_i64), &ms, z).unwrap(),
            want
        );
        assert_eq!(
            parse_time(&s("soon"), &unix, z).unwrap_err(),
            "`\"soon\"` is not a whole number (Unix time)"
        );
        let zoned = TimeFormat::parse("%Y-%m-%d %H:%M:%S %z").unwrap();
        assert_eq!(
            parse_time(&s("2022-01-21 01:38:35 +0000"), &zoned, z).unwrap(),
            want
        );
        let day = TimeFormat::parse("%Y/%m/%d").unwrap();
        assert_eq!(
            parse_time(&s("2022/01/21"), &day, z).unwrap().to_rfc3339(),
            "2022-01-21T00:00:00+08:00"
        );
        assert_eq!(
            parse_time(&s("2022年01月21日 09:38"), &TimeFormat::Auto, z)
                .unwrap()
                .to_rfc3339(),
            "2022-01-21T09:38:00+08:00"
        );
        assert_eq!(
            parse_time(&Value::Bool(true), &rfc, z).unwrap_err(),
            "expected a string, found boolean"
        );
        assert!(TimeFormat::parse("%Q").is_err());
        assert!(TimeFormat::parse("yyyy-mm-dd").is_err());
    }

    #[test]
    fn rules_are_found_by_site_and_pattern() {
        let rules = ApiRules {
            sites: vec![Vec::new(), vec![list_rule(), detail_rule()]],
        };
        let u = page("http://n.test/api/list?page=2");
        assert_eq!(rules.rule_for(1, &u).map(|r| r.kind), Some(ApiKind::List));
        assert!(rules.rule_for(0, &u).is_none());
        assert!(rules.rule_for(7, &u).is_none());
        assert!(rules.rule_for(1, &page("http://n.test/other")).is_none());
    }
}
