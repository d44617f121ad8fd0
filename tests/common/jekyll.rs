//! The finews corpus's Jekyll posts, read as the mirror site publishes them: front matter
//! (title, date, categories, tags) and a Markdown body with raw HTML paragraphs.

use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDateTime, TimeZone};

/// One post file.
pub struct JekyllPost {
    /// Front-matter title (may be empty in malformed posts).
    pub title: String,
    /// Front-matter date, in +08:00 when it names no zone; `None` when missing or malformed.
    pub published: Option<DateTime<FixedOffset>>,
    /// Front-matter categories.
    pub categories: String,
    /// Front-matter tags.
    pub tags: String,
    /// Body paragraphs: Markdown lines, quote marks removed, HTML lines split into their text
    /// lines.
    pub paragraphs: Vec<String>,
}

/// Beijing time, the site's zone.
pub fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap()
}

/// Reads and parses a post file.
pub fn read(path: &Path) -> JekyllPost {
    let raw = std::fs::read_to_string(path).unwrap();
    let mut parts = raw.splitn(3, "---\n");
    let (_, front, body) = (
        parts.next(),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let field = |name: &str| -> String {
        front
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .map(|v| v.trim().trim_matches('"').replace("\\\"", "\""))
            .unwrap_or_default()
    };
    let date = field("date");
    let published = DateTime::parse_from_str(&date, "%Y-%m-%d %H:%M:%S %z")
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(&date, "%Y-%m-%d %H:%M:%S")
                .ok()
                .and_then(|n| cst().from_local_datetime(&n).single())
        });
    let mut paragraphs = Vec::new();
    for line in body.lines() {
        let line = line.trim().trim_start_matches("> ").trim();
        if line.is_empty() {
            continue;
        }
        if line.contains("</") || line.contains("/>") || line.starts_with("<p") {
            let html = scraper::Html::parse_fragment(line);
            paragraphs.extend(trawl::extract::text::lines(
                html.root_element(),
                &Default::default(),
            ));
        } else {
            paragraphs.push(line.to_string());
        }
    }
    JekyllPost {
        title: field("title"),
        published,
        categories: field("categories"),
        tags: field("tags"),
        paragraphs,
    }
}
