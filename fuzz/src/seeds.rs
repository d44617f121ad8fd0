//! Seed corpora for the fuzz targets, generated from the project's own fixtures: the demo
//! network's pages, feeds, sitemaps and robots files (synthetic text, no third-party
//! articles), plus short hand-written inputs for the parsers of small things.

use trawl::demo::{self, Mirror, Network};

/// `(target, seed name, bytes)` for every target.
pub fn all() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    let network = Network::generate(11, 6);
    let mut pages: Vec<(String, String, Vec<u8>)> = Vec::new();
    for mirror in Mirror::ALL {
        let mut paths = vec![mirror.index_path().to_string()];
        for i in 0..network.articles().len() {
            if let Some(url) = network.article_url(mirror, i) {
                if let Ok(u) = url::Url::parse(&url) {
                    let q = u.query().map(|q| format!("?{q}")).unwrap_or_default();
                    paths.push(format!("{}{q}", u.path()));
                }
            }
        }
        for path in paths {
            let r = network.respond(mirror.host(), &path);
            if r.status == 200 {
                pages.push((mirror.host().to_string(), r.content_type, r.body));
            }
        }
    }
    for path in ["/gbk-undeclared.html", "/utf8-lies.html", "/malformed.html"] {
        let r = network.respond(demo::FAULT_HOST, path);
        pages.push((demo::FAULT_HOST.to_string(), r.content_type, r.body));
    }
    for (i, (host, ct, body)) in pages.iter().enumerate() {
        out.push(("extract_site", format!("page-{i}"), body.clone()));
        out.push(("extract_generic", format!("page-{i}"), body.clone()));
        let mut with_header = ct.clone().into_bytes();
        with_header.push(b'\n');
        with_header.extend_from_slice(body);
        out.push(("charset", format!("page-{i}"), with_header));
        let mut no_header = vec![b'\n'];
        no_header.extend_from_slice(body);
        out.push(("charset", format!("bare-{i}"), no_header));
        let base = format!("http://{host}/dir/page.html");
        for (j, link) in links_in(body).into_iter().take(4).enumerate() {
            out.push((
                "url_scope",
                format!("page-{i}-{j}"),
                format!("{base}\n{link}").into_bytes(),
            ));
        }
    }
    for (i, a) in network.articles().iter().enumerate() {
        let mut text = a.title.clone();
        for p in &a.paragraphs {
            text.push('\n');
            text.push_str(p);
        }
        out.push(("fingerprint", format!("article-{i}"), text.into_bytes()));
        out.push((
            "date",
            format!("article-{i}"),
            a.published.to_rfc3339().into_bytes(),
        ));
        out.push((
            "date",
            format!("article-{i}-zh"),
            a.published
                .format("%Y年%m月%d日 %H:%M")
                .to_string()
                .into_bytes(),
        ));
    }
    for mirror in Mirror::ALL {
        for path in [
            "/rss.xml",
            "/feed.xml",
            "/sitemap.xml",
            "/sitemap-1.xml",
            "/sitemap-news.xml",
        ] {
            let r = network.respond(mirror.host(), path);
            if r.status == 200 {
                out.push((
                    "feed",
                    format!("{}{}", mirror.host(), path.replace('/', "-")),
                    r.body,
                ));
            }
        }
    }
    for host in demo::ROBOTS_HOSTS {
        let r = network.respond(host, "/robots.txt");
        out.push(("robots", host.to_string(), r.body));
    }
    let robots_txt: [&[u8]; 3] = [
        b"User-agent: *\nDisallow: /private/\nCrawl-delay: 2\nSitemap: http://a.test/s.xml\n",
        b"User-agent: trawl\nDisallow: /\n\nUser-agent: *\nAllow: /\n",
        b"\xef\xbb\xbfUser-agent: *\nDisallow: /*.php$\nAllow: /a/*\n",
    ];
    for (i, r) in robots_txt.iter().enumerate() {
        out.push(("robots", format!("hand-{i}"), r.to_vec()));
    }
    for (i, d) in [
        "2022-01-21 09:38:35",
        "2022-01-21T09:38:35+08:00",
        "Fri, 21 Jan 2022 09:38:35 +0800",
        "2022年01月21日 09:38",
        "2022/1/21",
        "Dec 15, 2011 5:03 PM EST",
        "/2022/01/21/story.html",
        "/20220121/c_1128.htm",
        "+08:00",
    ]
    .iter()
    .enumerate()
    {
        out.push(("date", format!("hand-{i}"), d.as_bytes().to_vec()));
    }
    for (i, u) in [
        "\nHTTP://News.Example.COM:80/a/b.html?z=1&a=2&utm_source=x#top",
        "http://x.test/a/\n../c.html?spm=1#f",
        "\nhttp://user:pw@x.test/%E4%B8%AD?q=%E4%B8%AD%20x",
        "https://x.test/\n//other.test:8443/p?a=1&a=0",
    ]
    .iter()
    .enumerate()
    {
        out.push(("url_scope", format!("hand-{i}"), u.as_bytes().to_vec()));
    }
    out
}

/// `href` values in a page, by a plain scan (the seeds need examples, not a parser).
fn links_in(body: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(body);
    text.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}
