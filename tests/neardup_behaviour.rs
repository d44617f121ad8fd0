//! Near-duplicate behaviour as a user sees it in the store: a mirror's trimmed copy first,
//! then the origin (the canonical copy switches, the change is logged, the mirror stays a
//! member); a revised article at the same URL (a new version linked to the old one, never an
//! overwrite); and two different flashes that share long boilerplate (they stay apart).

use chrono::{DateTime, TimeDelta, Utc};
use trawl::config::{Overrides, Settings};
use trawl::crawl::archive_post;
use trawl::model::{CanonicalReason, Join, Outcome, Post, Record, RunId};
use trawl::store::Store;

const CONFIG: &str = r#"
    [dedup]
    preferred_hosts = ["origin.test"]
    [[site]]
    name = "all"
    hosts = ["origin.test", "mirror.test", "other.test"]
"#;

fn settings(extra: &str) -> Settings {
    Settings::from_toml(
        &format!("{CONFIG}\n{extra}"),
        "test.toml",
        &Overrides::default(),
    )
    .unwrap()
}

const STORY: [&str; 4] = [
    "华信科技今日发布公告称，公司2021年前三季度实现营业收入12.5亿元，同比增长23.4%，净利润3.2亿元。",
    "公司表示，营收增长主要受益于新能源汽车业务的快速放量，以及海外订单的持续增加，产能利用率维持高位。",
    "东达证券研究所首席经济学家王明认为，从中长期看，行业基本面依然稳健，维持对公司的买入评级。",
    "公司同时披露，位于苏州的智能制造基地预计将于明年二季度投产，届时年产能将提升约三成。",
];

fn post(url: &str, title: &str, body: &[&str]) -> Post {
    Post {
        url: url.into(),
        title: title.into(),
        published: DateTime::parse_from_rfc3339("2021-12-08T10:00:00+08:00").ok(),
        source: None,
        author: None,
        body: body.iter().map(|s| s.to_string()).collect(),
        language: Some("zh".into()),
        extractor: "test".into(),
    }
}

/// A mirror's trimmed copy of the story (three paragraphs and a source line) and the origin.
fn mirror_and_origin() -> (Post, Post) {
    let mirror = post(
        "http://mirror.test/a/1.html",
        "华信科技前三季度营收增长23.4%（转载）",
        &[STORY[0], STORY[1], STORY[2], "（文章来源：演示日报）"],
    );
    let origin = post(
        "http://origin.test/news?id=1",
        "华信科技前三季度营收增长23.4%",
        &STORY,
    );
    (mirror, origin)
}

/// Fingerprints `post` and archives it as the crawl's writer does.
fn archive(store: &Store, s: &Settings, post: &Post, secs: i64) -> (Record, Outcome) {
    let seen = Utc::now() + TimeDelta::seconds(secs);
    // Each archive call is a fetch in its own run (the store keeps one sighting per URL and
    // text per run).
    let run = RunId(1 + secs as u64);
    archive_post(store, s, post, &post.url, seen, run)
        .unwrap()
        .expect("post has a fingerprint")
}

#[test]
fn the_origin_arriving_after_a_trimmed_mirror_becomes_canonical() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let s = settings("");
    let (mirror, origin) = mirror_and_origin();

    let (first, o) = archive(&store, &s, &mirror, 0);
    assert_eq!(o, Outcome::New { record: first.id });
    let (r, o) = archive(&store, &s, &origin, 60);
    assert_eq!(o, Outcome::NearDuplicate { of: first.id });
    assert_eq!(r.id, first.id, "record ids never change");
    assert_eq!(r.canonical.url, origin.url);
    assert_eq!(r.canonical_host, "origin.test");
    assert_eq!(
        r.canonical_reason,
        CanonicalReason::PreferredHost {
            host: "origin.test".into()
        }
    );
    assert_eq!(r.canonical_changes.len(), 1);
    assert_eq!(r.canonical_changes[0].from, mirror.url);
    assert_eq!(r.canonical_changes[0].to, origin.url);
    // The mirror stays: both copies, both hashes, the second one joined as `near`.
    assert_eq!(r.copies.len(), 2);
    assert_eq!(r.members.len(), 2);
    assert_eq!(r.members[0].joined, Join::First);
    let Join::Near {
        distance, jaccard, ..
    } = r.members[1].joined
    else {
        panic!("joined as {:?}", r.members[1].joined);
    };
    assert!(distance <= s.near.max_distance && jaccard >= s.near.min_jaccard);
    assert_eq!(store.counts().records, 1);

    // Without preferred hosts the most complete body wins, with the same log.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut s2 = s.clone();
    s2.canonical.preferred_hosts.clear();
    archive(&store, &s2, &mirror, 0);
    let (r, _) = archive(&store, &s2, &origin, 60);
    assert_eq!(r.canonical.url, origin.url);
    assert!(matches!(
        r.canonical_reason,
        CanonicalReason::MostComplete { .. }
    ));
}

#[test]
fn a_revised_article_is_a_new_version_linked_to_the_old() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let s = settings("");
    let url = "http://origin.test/news?id=7";
    let v1 = post(url, "华信科技前三季度营收增长", &STORY);
    let mut revised: Vec<&str> = STORY.to_vec();
    revised.push("更正：本文此前将净利润误写为3.5亿元，现已更正为3.2亿元。");
    let v2 = post(url, "华信科技前三季度营收增长（更新）", &revised);
    let rewrite = post(
        url,
        "华信科技：明年二季度新基地投产",
        &["华信科技公告，苏州智能制造基地明年二季度投产，年产能将提升约三成，公司同时上调全年业绩指引，预计净利润增长三成以上。"],
    );

    let (r1, _) = archive(&store, &s, &v1, 0);
    let (r2, o2) = archive(&store, &s, &v2, 3600);
    assert_eq!(o2, Outcome::NearDuplicate { of: r1.id });
    assert_eq!(r2.id, r1.id);
    assert_eq!(
        r2.canonical.body.len(),
        5,
        "the canonical copy shows the latest text"
    );
    // Fetching the same text again adds a sighting, not a version.
    archive(&store, &s, &v2, 7200);
    // A rewrite shares little text but is still this URL's article: it joins as a revision.
    let (r3, _) = archive(&store, &s, &rewrite, 10800);
    assert_eq!(r3.id, r1.id);
    assert!(matches!(r3.members[2].joined, Join::Revision { .. }));

    let versions = store.versions(url).unwrap();
    assert_eq!(versions.len(), 3);
    assert_eq!(
        versions.iter().map(|v| v.number).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    assert_eq!(versions[0].previous, None);
    assert_eq!(versions[1].previous, Some(versions[0].hash));
    assert_eq!(versions[2].previous, Some(versions[1].hash));
    assert!(versions[1].chars > versions[0].chars);
    assert!(versions[0].seen < versions[1].seen);
    assert_eq!(
        store.sightings(r1.id).unwrap().len(),
        4,
        "nothing is overwritten"
    );

    // With revisions not joined by URL, the rewrite is a record of its own, still linked in
    // the URL's history.
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut s = settings("");
    s.near.join_revisions = false;
    let (a, _) = archive(&store, &s, &v1, 0);
    let (b, o) = archive(&store, &s, &rewrite, 60);
    assert_ne!(a.id, b.id);
    assert_eq!(o, Outcome::New { record: b.id });
    let versions = store.versions(url).unwrap();
    assert_eq!(versions.len(), 2);
    assert_eq!(versions[1].previous, Some(versions[0].hash));
    assert_eq!(versions[1].record, b.id);
}

#[test]
fn different_flashes_with_identical_long_boilerplate_stay_apart() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    // A portal footer that is not built in, configured for the site.
    let s = settings("[normalise]\ndrop_lines = ['^扫码下载.{0,40}$']");
    let boilerplate = [
        "（文章来源：演示日报）",
        "责任编辑：王明",
        "免责声明：本网站所载文章、数据仅供参考，不构成投资建议，使用前请核实，风险自负。本文版权归原作者所有，转载请注明出处，如有侵权请联系删除。",
        "扫码下载演示财经客户端，随时随地获取最新资讯与行情数据",
        "返回财经新闻｜返回首页",
        "分享到：微信 微博 QQ空间",
    ];
    let flash = |url: &str, title: &str, text: &str| {
        let mut body = vec![text];
        body.extend(boilerplate);
        post(url, title, &body)
    };
    let a = flash(
        "http://origin.test/news?id=30",
        "北向资金净流入30亿",
        "北向资金净流入超30亿元。",
    );
    let b = flash(
        "http://origin.test/news?id=40",
        "北向资金净流入40亿",
        "北向资金净流入超40亿元。",
    );
    let fa = s.fingerprinter.fingerprint(&a).unwrap();
    assert!(
        fa.short && fa.near.is_none(),
        "boilerplate does not count as body"
    );
    let (ra, _) = archive(&store, &s, &a, 0);
    let (rb, o) = archive(&store, &s, &b, 10);
    assert_ne!(ra.id, rb.id);
    assert_eq!(o, Outcome::New { record: rb.id });
    assert_eq!(store.counts().records, 2);
}

#[test]
fn copies_join_the_same_way_when_the_band_index_has_moved_to_disk() {
    let s = settings("");
    let unrelated = post(
        "http://other.test/x/9.html",
        "港口因风暴关闭三天",
        &["受强风暴影响，本市港口自周一起关闭三天，渡轮全部停航，海事部门正在检查防波堤和灯塔的受损情况，预计周四恢复通航。"],
    );
    let (mirror, origin) = mirror_and_origin();
    // 0: on disk from the first text; 2: moves to disk while the run goes on.
    for in_memory in [0, 2] {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path())
            .unwrap()
            .with_near_memory_texts(in_memory);
        archive(&store, &s, &unrelated, 0);
        let (first, _) = archive(&store, &s, &mirror, 30);
        let (r, o) = archive(&store, &s, &origin, 60);
        assert_eq!(o, Outcome::NearDuplicate { of: first.id }, "{in_memory}");
        assert_eq!(r.members.len(), 2);
        assert_eq!(store.counts().records, 2);
        // The scratch files have no name: the store's directory holds only the store.
        drop(store);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with(".tmp")), "{names:?}");

        // A new process rebuilds the index from the stored fingerprints, straight to disk,
        // and a third copy still finds the record.
        let store = Store::open(dir.path()).unwrap().with_near_memory_texts(0);
        let third = post(
            "http://other.test/b/2.html",
            "华信科技营收增长",
            &[STORY[0], STORY[1], STORY[3]],
        );
        let (r, o) = archive(&store, &s, &third, 90);
        assert_eq!(o, Outcome::NearDuplicate { of: first.id }, "{in_memory}");
        assert_eq!(r.members.len(), 3);
    }
}
