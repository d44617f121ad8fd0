//! Real text: the finews corpus (real Chinese financial-news posts, their stored versions and
//! their known twins) rendered through every mirror template of the demo network, served on
//! loopback and crawled. Every post's copies must collapse into one record, the twin groups
//! listed in DUPLICATES.tsv whose bodies differ only by formatting must collapse too, and
//! nothing else may.
//!
//! Needs `../shared/corpus/finews`; skips with a notice when it is absent (fails under
//! `TRAWL_REQUIRE_SHARED=1`).

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use chrono::{NaiveDate, TimeZone};
use trawl::config::Overrides;
use trawl::demo::{Article, Carriage, Lang, Mirror, Network};
use trawl::model::RecordId;
use trawl::query;
use trawl::scope::UrlPolicy;
use trawl::store::Store;

/// One corpus file turned into a demo article.
struct Post {
    rel: String,
    article: Article,
}

/// Parses a Jekyll post into a demo article; a post with no usable date gets the day its id
/// names.
fn parse(path: &Path, rel: &str, id: String) -> Post {
    let p = common::jekyll::read(path);
    let digits = &id[2..];
    let fallback_day = NaiveDate::parse_from_str(&digits[..8], "%Y%m%d").unwrap();
    let published = p.published.unwrap_or_else(|| {
        common::jekyll::cst()
            .from_local_datetime(&fallback_day.and_hms_opt(0, 0, 0).unwrap())
            .unwrap()
    });
    Post {
        rel: rel.to_string(),
        article: Article {
            id,
            title: p.title,
            published,
            source: p.tags,
            category: if p.categories.is_empty() {
                "news".into()
            } else {
                p.categories
            },
            lang: Lang::Zh,
            paragraphs: p.paragraphs,
        },
    }
}

/// Every post and every stored version, each under its own id (versions and twins reached
/// the site under the same file name, so they get a distinguishing digit).
fn load(root: &Path) -> Vec<Post> {
    let mut files: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(root.join("posts")).unwrap() {
        files.push(format!(
            "posts/{}",
            entry.unwrap().file_name().to_string_lossy()
        ));
    }
    for commit in std::fs::read_dir(root.join("versions")).unwrap() {
        let commit = commit.unwrap();
        for entry in std::fs::read_dir(commit.path()).unwrap() {
            files.push(format!(
                "versions/{}/{}",
                commit.file_name().to_string_lossy(),
                entry.unwrap().file_name().to_string_lossy()
            ));
        }
    }
    files.sort();
    let mut used: HashMap<String, u32> = HashMap::new();
    files
        .iter()
        .map(|rel| {
            let name = rel.rsplit('/').next().unwrap().trim_end_matches(".md");
            let digits: String = match name
                .rsplit('-')
                .next()
                .filter(|d| d.len() >= 12 && d.bytes().all(|b| b.is_ascii_digit()))
            {
                Some(d) => d.to_string(),
                None => format!(
                    "{}000000",
                    name.get(..10).unwrap_or("2021-12-01").replace('-', "")
                ),
            };
            let n = used.entry(digits.clone()).or_insert(0);
            *n += 1;
            let id = if *n == 1 {
                format!("NW{digits}")
            } else {
                format!("NW{digits}{n}")
            };
            parse(&root.join(rel), rel, id)
        })
        .collect()
}

/// Groups of files that must share one record: same-path versions, same-title twins, the
/// posts/old_post copies, O01 (one article that reached the site under two file names), and
/// O04 (a twin that drops the last sentence and adds a source tag: near-duplicate detection
/// joins it; see tests/neardup_eval.rs).
/// A version whose note says its body text DIFFERS is a revision, not a formatting variant:
/// it is left out of its group (joining revisions is near-duplicate work).
fn must_collapse(root: &Path) -> Vec<Vec<String>> {
    let tsv = std::fs::read_to_string(root.join("DUPLICATES.tsv")).unwrap();
    tsv.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            let (group, paths, kind, note) = (
                cols[0],
                cols[1],
                cols[2],
                cols.get(3).copied().unwrap_or(""),
            );
            let collapse = kind == "same-path-versions"
                || kind == "same-title-different-id"
                || group.starts_with('F')
                || group == "O01"
                || group == "O04";
            let revised: Vec<&str> = note
                .split_once("DIFFERS")
                .map(|(_, rest)| {
                    rest.split(|c: char| !c.is_ascii_hexdigit())
                        .filter(|t| t.len() == 8)
                        .collect()
                })
                .unwrap_or_default();
            let members: Vec<String> = paths
                .split(',')
                .filter(|p| {
                    !revised
                        .iter()
                        .any(|r| p.starts_with(&format!("versions/{r}")))
                })
                .map(str::to_string)
                .collect();
            collapse.then_some(members)
        })
        .collect()
}

fn negative_group(root: &Path) -> Vec<String> {
    let tsv = std::fs::read_to_string(root.join("DUPLICATES.tsv")).unwrap();
    tsv.lines()
        .find(|l| l.starts_with("N01\t"))
        .map(|l| {
            l.split('\t')
                .nth(1)
                .unwrap()
                .split(',')
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn real_posts_collapse_to_one_record_each_and_twins_join() {
    let Some(root) = common::shared("finews") else {
        return;
    };
    let posts = load(&root);
    assert!(posts.len() > 150, "corpus has {} files", posts.len());
    let network = Arc::new(Network::from_articles(
        posts.iter().map(|p| p.article.clone()).collect(),
        Carriage::All,
    ));
    let server = common::start(network.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let summary = common::crawl_into(
        common::demo_settings(server.addr(), Overrides::default()),
        &store,
    )
    .await;
    server.shutdown().await;
    assert_eq!(
        summary.outcomes.get("failed"),
        None,
        "{:?}",
        summary.failures
    );

    // Each file's four copies (origin, full-width, blog, GBK) land in one record.
    let urls = UrlPolicy::default();
    let mut record_of: BTreeMap<String, RecordId> = BTreeMap::new();
    for (i, post) in posts.iter().enumerate() {
        let mut ids = BTreeSet::new();
        for m in Mirror::ALL {
            let url = network.article_url(m, i).unwrap();
            let view = query::get(&store, &url, &urls)
                .unwrap_or_else(|e| panic!("{} via {url}: {e}", post.rel));
            ids.insert(view.record.id);
        }
        assert_eq!(
            ids.len(),
            1,
            "{}: copies on different mirrors split into {ids:?}",
            post.rel
        );
        record_of.insert(post.rel.clone(), *ids.iter().next().unwrap());
    }

    // Twins join; expected records = connected components of the must-collapse groups.
    let mut parent: BTreeMap<String, String> =
        record_of.keys().map(|k| (k.clone(), k.clone())).collect();
    fn find(p: &mut BTreeMap<String, String>, x: &str) -> String {
        let up = p[x].clone();
        if up == x {
            return up;
        }
        let root = find(p, &up);
        p.insert(x.to_string(), root.clone());
        root
    }
    for group in must_collapse(&root) {
        let first = &group[0];
        for member in &group {
            assert!(
                record_of.contains_key(member),
                "DUPLICATES.tsv names {member}, which was not loaded"
            );
            assert_eq!(
                record_of[member], record_of[first],
                "{member} and {first} differ only by formatting"
            );
            let (a, b) = (find(&mut parent, first), find(&mut parent, member));
            parent.insert(a, b);
        }
    }
    let keys: Vec<String> = parent.keys().cloned().collect();
    let components: BTreeSet<String> = keys.iter().map(|k| find(&mut parent, k)).collect();
    assert_eq!(
        store.counts().records as usize,
        components.len(),
        "nothing unrelated collapses"
    );

    // The templated running tallies are different articles.
    let negatives: BTreeSet<RecordId> =
        negative_group(&root).iter().map(|p| record_of[p]).collect();
    assert_eq!(negatives.len(), negative_group(&root).len());
}
