//! The near-duplicate evaluation: a labelled set of documents goes through the real
//! fingerprint → dedup → store path, and "joins the same record" is scored pairwise against
//! the labels.
//!
//! - Generated: demo articles (templated, so unrelated articles share stock phrases), each
//!   with two transformed copies drawn from: mirror formatting (full width, indentation, a
//!   source line and navigation), last paragraph trimmed, editor's note, correction, swapped
//!   headline, trimmed + note. Negatives: every other article (same generator, same days).
//! - Real: the finews posts and their stored versions (`../shared/corpus/finews`). Positives:
//!   the twin and version groups of DUPLICATES.tsv (versions served under their post's URL,
//!   as the site did, so V22's rewrite is a revision), O01, T01, O03 and O04 (a trimmed,
//!   annotated twin). Negatives: every other pair, including the templated tallies of N01 and
//!   the same-story rewrites O02, O05–O13.
//!
//! Run `cargo test --test neardup_eval -- --nocapture` to see the figures and the threshold
//! sweep that justifies the defaults.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use trawl::config::{Overrides, Settings};
use trawl::crawl::archive_post;
use trawl::demo::{generate, Article, Lang};
use trawl::fingerprint::NearPrint;
use trawl::model::{Post, RecordId, RunId};
use trawl::store::Store;

/// One labelled document.
#[derive(Clone)]
struct Doc {
    /// True cluster.
    label: String,
    url: String,
    post: Post,
}

fn post(
    url: &str,
    title: &str,
    published: Option<DateTime<FixedOffset>>,
    body: Vec<String>,
) -> Post {
    Post {
        url: url.into(),
        title: title.into(),
        published,
        source: None,
        author: None,
        body,
        language: None,
        extractor: "eval".into(),
    }
}

fn full_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '!'..='~' if !c.is_ascii_alphabetic() => char::from_u32(c as u32 + 0xFEE0).unwrap(),
            ' ' => '\u{3000}',
            c => c,
        })
        .collect()
}

/// The transformations mirrors apply, by number.
fn transform(a: &Article, t: usize) -> (String, Vec<String>) {
    let zh = a.lang == Lang::Zh;
    let mut p = a.paragraphs.clone();
    let mut title = a.title.clone();
    let note = if zh {
        "编者按：本文根据公司公告及分析师观点整理，仅供读者参考。"
    } else {
        "Editor's note: this story was compiled from company filings and analyst comments."
    };
    match t {
        0 => {
            p = p.iter().map(|x| format!("　　{}", full_width(x))).collect();
            p.push(format!("（文章来源：{}）", a.source));
            p.push("返回财经新闻｜返回首页".into());
        }
        1 => {
            p.pop();
        }
        2 => p.insert(0, note.into()),
        3 => p.push(if zh {
            "更正：本文此前版本中的一处数据有误，现已更正，特此说明。".into()
        } else {
            "Correction: an earlier version of this story misstated one of the figures.".into()
        }),
        4 => title = format!("{}（转载）", title.replace('，', " ")),
        _ => {
            p.pop();
            p.push(note.into());
        }
    }
    (title, p)
}

fn generated(n: usize) -> Vec<Doc> {
    let mut docs = Vec::new();
    for (i, a) in generate(2024, n).into_iter().enumerate() {
        let label = format!("gen-{}", a.id);
        let url = |host: &str| format!("http://{host}/{}", a.id);
        docs.push(Doc {
            label: label.clone(),
            url: url("origin.test"),
            post: post(
                &url("origin.test"),
                &a.title,
                Some(a.published),
                a.paragraphs.clone(),
            ),
        });
        for (k, t) in [i % 6, (i + 3) % 6].into_iter().enumerate() {
            let (title, body) = transform(&a, t);
            let u = url(&format!("m{k}.test"));
            docs.push(Doc {
                label: label.clone(),
                url: u.clone(),
                post: post(&u, &title, Some(a.published), body),
            });
        }
    }
    docs
}

/// A finews Jekyll post as the site served it: front-matter title and date, body lines.
fn finews_post(path: &Path, url: &str) -> Post {
    let p = common::jekyll::read(path);
    post(url, &p.title, p.published, p.paragraphs)
}

fn finews(root: &Path) -> Vec<Doc> {
    let mut files: Vec<String> = std::fs::read_dir(root.join("posts"))
        .unwrap()
        .map(|e| format!("posts/{}", e.unwrap().file_name().to_string_lossy()))
        .collect();
    files.sort();
    let mut versions = Vec::new();
    for commit in std::fs::read_dir(root.join("versions")).unwrap() {
        let commit = commit.unwrap();
        for e in std::fs::read_dir(commit.path()).unwrap() {
            versions.push(format!(
                "versions/{}/{}",
                commit.file_name().to_string_lossy(),
                e.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    versions.sort();
    files.extend(versions);

    // Labels: union of the positive groups.
    let mut parent: HashMap<String, String> =
        files.iter().map(|f| (f.clone(), f.clone())).collect();
    fn find(p: &mut HashMap<String, String>, x: &str) -> String {
        let up = p[x].clone();
        if up == x {
            return up;
        }
        let r = find(p, &up);
        p.insert(x.to_string(), r.clone());
        r
    }
    let tsv = std::fs::read_to_string(root.join("DUPLICATES.tsv")).unwrap();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (group, kind) = (cols[0], cols[2]);
        let positive = kind == "same-path-versions"
            || kind == "same-title-different-id"
            || group.starts_with('F')
            || ["O01", "O03", "O04"].contains(&group);
        if !positive {
            continue;
        }
        let members: Vec<&str> = cols[1].split(',').collect();
        for m in &members[1..] {
            let (a, b) = (find(&mut parent, members[0]), find(&mut parent, m));
            parent.insert(a, b);
        }
    }
    files
        .iter()
        .map(|rel| {
            let name = rel.rsplit('/').next().unwrap();
            // Versions were served under their post's URL: same file name, same URL.
            let url = format!("http://finews.test/{}", name.trim_end_matches(".md"));
            Doc {
                label: format!("finews-{}", find(&mut parent, rel)),
                url: url.clone(),
                post: finews_post(&root.join(rel), &url),
            }
        })
        .collect()
}

/// Pairwise precision and recall of "same record" against the labels.
fn score(labels: &[String], predicted: &[Option<RecordId>]) -> (f64, f64, u64, u64) {
    let pairs =
        |counts: &mut dyn Iterator<Item = u64>| counts.map(|n| n * (n - 1) / 2).sum::<u64>();
    let mut truth: BTreeMap<&str, u64> = BTreeMap::new();
    let mut pred: BTreeMap<RecordId, u64> = BTreeMap::new();
    let mut both: BTreeMap<(&str, RecordId), u64> = BTreeMap::new();
    for (l, p) in labels.iter().zip(predicted) {
        let Some(p) = p else { continue };
        *truth.entry(l).or_default() += 1;
        *pred.entry(*p).or_default() += 1;
        *both.entry((l, *p)).or_default() += 1;
    }
    let tp = pairs(&mut both.values().copied());
    let pp = pairs(&mut pred.values().copied());
    let tt = pairs(&mut truth.values().copied());
    let ratio = |a: u64, b: u64| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    (ratio(tp, pp), ratio(tp, tt), tp, tt)
}

/// Ingests every document through fingerprint → dedup → store; returns each one's record.
fn run(docs: &[Doc], settings: &Settings) -> Vec<Option<RecordId>> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let start = Utc::now();
    docs.iter()
        .enumerate()
        .map(|(i, d)| {
            let seen = start + TimeDelta::seconds(i as i64);
            let (record, _) =
                archive_post(&store, settings, &d.post, &d.url, seen, RunId(1)).unwrap()?;
            Some(record.id)
        })
        .collect()
}

/// Direct pair decisions over every long-body pair for a grid of thresholds: what each
/// setting would accept (record-level joining is transitive; this is the per-pair check).
fn sweep(docs: &[Doc], settings: &Settings) {
    let prints: Vec<(usize, NearPrint)> = docs
        .iter()
        .enumerate()
        .filter_map(|(i, d)| Some((i, settings.fingerprinter.fingerprint(&d.post)?.near?)))
        .collect();
    let mut pos: Vec<(u32, f64)> = Vec::new();
    let mut neg: Vec<(u32, f64)> = Vec::new();
    for (a, (i, p)) in prints.iter().enumerate() {
        for (j, q) in &prints[a + 1..] {
            let v = (p.distance(q), p.jaccard(q));
            if docs[*i].label == docs[*j].label {
                pos.push(v);
            } else if v.1 > 0.1 || v.0 < 24 {
                neg.push(v);
            }
        }
    }
    let max_neg_j = neg.iter().map(|v| v.1).fold(0.0, f64::max);
    let min_neg_d = neg.iter().map(|v| v.0).min().unwrap_or(64);
    println!(
        "pairs: {} positive, hardest negative: jaccard {:.3}, distance {}",
        pos.len(),
        max_neg_j,
        min_neg_d
    );
    println!("max_distance min_jaccard  pos_accepted  neg_accepted");
    for d in [6, 10, 14, 18, 22, 64] {
        for j in [0.3, 0.4, 0.5, 0.6, 0.7] {
            let ok = |v: &&(u32, f64)| v.0 <= d && v.1 >= j;
            println!(
                "{d:>12} {j:>11.1} {:>9}/{:<5} {:>12}",
                pos.iter().filter(ok).count(),
                pos.len(),
                neg.iter().filter(ok).count()
            );
        }
    }
}

fn evaluate(name: &str, docs: &[Doc], settings: &Settings) -> (f64, f64) {
    let predicted = run(docs, settings);
    let labels: Vec<String> = docs.iter().map(|d| d.label.clone()).collect();
    let (p, r, tp, tt) = score(&labels, &predicted);
    println!(
        "{name}: {} documents, precision {p:.4}, recall {r:.4} ({tp} of {tt} positive pairs)",
        docs.len()
    );
    (p, r)
}

#[test]
fn near_duplicates_join_and_nothing_else_does() {
    let settings = Settings::load(None, &Overrides::default()).unwrap();
    let gen = generated(600);
    sweep(&gen, &settings);
    let (p, r) = evaluate("generated", &gen, &settings);
    assert!(p >= 0.998, "generated precision {p}");
    assert!(r >= 0.98, "generated recall {r}");

    let Some(root) = common::shared("finews") else {
        return;
    };
    let real = finews(&root);
    sweep(&real, &settings);
    let (p, r) = evaluate("finews", &real, &settings);
    assert!(p >= 0.998, "finews precision {p}");
    assert!(r >= 0.95, "finews recall {r}");
    let mut content_only = settings.clone();
    content_only.near.join_revisions = false;
    let (p, r) = evaluate("finews, revisions not joined by URL", &real, &content_only);
    assert!(p >= 0.998, "finews content-only precision {p}");
    assert!(r >= 0.89, "finews content-only recall {r}");
    println!("(content-only recall {r:.4})");

    let all: Vec<Doc> = gen.into_iter().chain(real).collect();
    let (p, r) = evaluate("all", &all, &settings);
    assert!(p >= 0.998 && r >= 0.98, "all: precision {p}, recall {r}");
}
