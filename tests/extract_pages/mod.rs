//! Small news pages generated for the extractor tests: articles (Chinese and English, three
//! templates with navigation, share bars, related links, comments and footers) and pages that
//! are not articles (listings, tag and category pages, about/contact pages, soft 404s).
//!
//! The text is made up here from hand-written fragments, so the tests carry no third-party
//! article text, and every page knows its expected title, body, date, source and author.

#![allow(dead_code)]

/// A tiny deterministic generator (SplitMix64), so pages are the same on every run.
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform index below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One of `items`.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const ZH_SUBJECTS: &[&str] = &[
    "市统计局",
    "省交通运输厅",
    "这家港口企业",
    "当地农业合作社",
    "区教育部门",
    "市气象台",
    "一家新能源车企",
    "城市供水公司",
];
const ZH_VERBS: &[&str] = &[
    "发布了最新数据",
    "宣布启动新项目",
    "召开了专题会议",
    "公布了年度计划",
    "完成了设备升级",
    "调整了服务时间",
];
const ZH_TAILS: &[&str] = &[
    "，预计将惠及周边数万名居民",
    "，相关负责人表示工作将分阶段推进",
    "，其中第三季度的增幅明显高于去年同期",
    "，市民可以通过官方渠道查询具体安排",
    "，业内人士认为这一变化值得持续关注",
    "，后续进展将在下月公布",
];

const EN_SUBJECTS: &[&str] = &[
    "The city council",
    "A regional water utility",
    "The harbour authority",
    "Local farmers",
    "The school board",
    "A small electric-car maker",
    "The weather service",
    "Hospital managers",
];
const EN_VERBS: &[&str] = &[
    "published new figures on Tuesday",
    "announced a plan to expand services",
    "met to discuss the budget",
    "said the upgrade was finished",
    "changed its opening hours",
    "warned of delays over the holidays",
];
const EN_TAILS: &[&str] = &[
    ", and officials expect thousands of residents to benefit.",
    ", according to a spokesperson who asked for patience.",
    ", with growth in the third quarter well above last year.",
    ". Residents can check the details on the official website.",
    ", which analysts said deserved close attention.",
    ". Further updates are expected next month.",
];

/// A paragraph of `sentences` made-up sentences.
pub fn paragraph(rng: &mut Rng, zh: bool, sentences: usize) -> String {
    let mut p = String::new();
    for _ in 0..sentences {
        if zh {
            p.push_str(rng.pick(ZH_SUBJECTS));
            p.push_str(rng.pick(ZH_VERBS));
            p.push_str(rng.pick(ZH_TAILS));
            p.push('。');
        } else {
            if !p.is_empty() {
                p.push(' ');
            }
            p.push_str(rng.pick(EN_SUBJECTS));
            p.push(' ');
            p.push_str(rng.pick(EN_VERBS));
            p.push_str(rng.pick(EN_TAILS));
        }
    }
    p
}

/// A headline-sized phrase.
pub fn headline(rng: &mut Rng, zh: bool) -> String {
    if zh {
        format!("{}{}", rng.pick(ZH_SUBJECTS), rng.pick(ZH_VERBS))
    } else {
        format!("{} {}", rng.pick(EN_SUBJECTS), rng.pick(EN_VERBS))
    }
}

/// A generated article and what extraction must find in it.
pub struct Article {
    /// The page.
    pub html: String,
    /// Where it is served.
    pub url: String,
    /// Expected title.
    pub title: String,
    /// Expected body paragraphs.
    pub body: Vec<String>,
    /// Expected publication time (RFC 3339).
    pub published: String,
    /// Expected source.
    pub source: Option<String>,
    /// Expected author.
    pub author: Option<String>,
}

fn nav(rng: &mut Rng, zh: bool, n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let label = if zh {
            [
                "首页", "国内", "国际", "财经", "体育", "科技", "娱乐", "图片",
            ][i % 8]
                .to_string()
        } else {
            [
                "Home", "World", "Business", "Sport", "Science", "Culture", "Video", "Opinion",
            ][i % 8]
                .to_string()
        };
        s.push_str(&format!(
            "<li><a href=\"/c/{}\">{label}</a></li>",
            rng.below(1000)
        ));
    }
    s
}

fn related(rng: &mut Rng, zh: bool, n: usize) -> String {
    let mut s = String::new();
    for _ in 0..n {
        s.push_str(&format!(
            "<li><a href=\"/n/{}.html\">{}</a></li>",
            rng.below(100_000),
            headline(rng, zh)
        ));
    }
    s
}

fn comments(rng: &mut Rng, zh: bool, n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!(
            "<div class=\"comment-item\"><span class=\"user\">{}{i}</span><p>{}</p></div>",
            if zh { "网友" } else { "reader" },
            paragraph(rng, zh, 2)
        ));
    }
    s
}

/// An article page from template `template` (0, 1 or 2).
pub fn article(seed: u64, zh: bool, template: usize) -> Article {
    let mut rng = Rng::new(seed);
    let title = headline(&mut rng, zh);
    let body: Vec<String> = (0..3 + rng.below(5))
        .map(|_| {
            let n = 2 + rng.below(3);
            paragraph(&mut rng, zh, n)
        })
        .collect();
    let day = 1 + rng.below(28);
    let (hour, minute) = (rng.below(24), rng.below(60));
    let id = rng.below(1_000_000);
    let paras: String = body.iter().map(|p| format!("<p>{p}</p>\n")).collect();
    let published = format!("2022-03-{day:02}T{hour:02}:{minute:02}:00+08:00");
    let (source, author) = if zh {
        (Some("演示日报".to_string()), Some("李明".to_string()))
    } else {
        (
            Some("Demo Wire".to_string()),
            Some("Jane Example".to_string()),
        )
    };
    let html = match template {
        // Div layout: date and source in an info line, source line and editor under the body.
        0 => {
            let src = source.clone().unwrap_or_default();
            let (info, tail) = if zh {
                (
                    format!("2022年03月{day:02}日 {hour:02}:{minute:02}　来源：{src}　作者：李明"),
                    format!("<p>（文章来源：{src}）</p><p>责任编辑：王五</p>"),
                )
            } else {
                (
                    format!("Source: {src} 2022-03-{day:02} {hour:02}:{minute:02}"),
                    String::new(),
                )
            };
            let share = if zh {
                "分享到：微博 微信 QQ空间"
            } else {
                "Share this: Twitter Facebook Email"
            };
            format!(
                "<html><head><meta charset=\"utf-8\"><title>{title}_新闻中心_演示网</title></head><body>\
                 <div id=\"header\"><ul class=\"nav\">{nav}</ul></div>\
                 <div class=\"breadcrumb\"><a href=\"/\">首页</a> &gt; <a href=\"/news\">新闻</a></div>\
                 <div class=\"main\"><h1>{title}</h1><div class=\"info\">{info}</div>\
                 <div id=\"content\">{paras}{tail}</div>\
                 <div class=\"share-bar\">{share}</div>\
                 <div class=\"related\"><h3>{rel_h}</h3><ul>{related}</ul></div>\
                 <div id=\"comments\">{comments}</div></div>\
                 <div class=\"footer\">Copyright © 2022 演示网 版权所有 京ICP备00000000号</div></body></html>",
                nav = nav(&mut rng, zh, 8),
                rel_h = if zh { "相关新闻" } else { "Related" },
                related = related(&mut rng, zh, 6),
                comments = comments(&mut rng, zh, 4),
            )
        }
        // Table layout of older Chinese portals: body split by <br>, date only in the text.
        1 => {
            let text: String = body.iter().map(|p| format!("　　{p}<br><br>\n")).collect();
            let src = source.clone().unwrap_or_default();
            format!(
                "<html><head><title>{title} - 演示网</title></head><body><table width=\"100%\">\
                 <tr><td class=\"topmenu\">{nav}</td></tr>\
                 <tr><td><table><tr><td width=\"70%\" valign=\"top\">\
                 <div class=\"t1\">{title}</div>\
                 <div class=\"t2\">{meta_line}</div>\
                 <div class=\"t3\">{text}</div></td>\
                 <td width=\"30%\" valign=\"top\"><div class=\"box\"><b>{hot}</b><ul>{related}</ul></div></td>\
                 </tr></table></td></tr>\
                 <tr><td class=\"bottom\">关于我们 | 联系我们 | 版权声明 Copyright 2022</td></tr></table></body></html>",
                nav = nav(&mut rng, zh, 10),
                meta_line = if zh {
                    format!("发布时间：2022-03-{day:02} {hour:02}:{minute:02}  来源：{src}  作者：{}", author.clone().unwrap_or_default())
                } else {
                    format!("Posted 2022-03-{day:02} {hour:02}:{minute:02} | Source: {src}</div><div class=\"t2\">By {}", author.clone().unwrap_or_default())
                },
                hot = if zh { "热点排行" } else { "Most read" },
                related = related(&mut rng, zh, 10),
            )
        }
        // HTML5 with JSON-LD, OpenGraph and <time>; byline; aside and comment section.
        _ => {
            let au = author.clone().unwrap_or_default();
            let src = source.clone().unwrap_or_default();
            format!(
                "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title} | Demo</title>\
                 <meta property=\"og:type\" content=\"article\"><meta property=\"og:title\" content=\"{title}\">\
                 <script type=\"application/ld+json\">{{\"@context\":\"https://schema.org\",\"@type\":\"NewsArticle\",\
                 \"headline\":\"{title}\",\"datePublished\":\"{published}\",\
                 \"author\":{{\"@type\":\"Person\",\"name\":\"{au}\"}},\"publisher\":{{\"@type\":\"Organization\",\"name\":\"{src}\"}}}}</script>\
                 </head><body><header><nav><ul>{nav}</ul></nav></header>\
                 <main><article><h1>{title}</h1><p class=\"byline\">By {au}</p>\
                 <time datetime=\"{published}\">March {day}, 2022</time>\
                 <div class=\"article-body\">{paras}</div>\
                 <div class=\"social-share\"><a href=\"/s/1\">Share</a> <a href=\"/s/2\">Tweet</a></div>\
                 </article><aside><h2>{more}</h2><ul>{related}</ul></aside>\
                 <section class=\"comments\">{comments}</section></main>\
                 <footer><p>© 2022 Demo Media. All rights reserved.</p></footer></body></html>",
                nav = nav(&mut rng, zh, 8),
                more = if zh { "更多新闻" } else { "More stories" },
                related = related(&mut rng, zh, 8),
                comments = comments(&mut rng, zh, 5),
            )
        }
    };
    // The English div layout names no author.
    let author = if !zh && template == 0 { None } else { author };
    Article {
        html,
        url: format!("http://news.demo.test/2022/03/{day:02}/{id}.html"),
        title,
        body,
        published,
        source,
        author,
    }
}

/// The kinds of non-article pages the generator makes.
pub const NON_ARTICLE_KINDS: &[&str] =
    &["listing", "tag", "category", "about", "contact", "soft_404"];

/// A page that is not an article, of kind `kind` (one of [`NON_ARTICLE_KINDS`]), and its URL.
pub fn non_article(seed: u64, zh: bool, kind: &str) -> (String, String) {
    let mut rng = Rng::new(seed);
    let navs = nav(&mut rng, zh, 8);
    let footer = if zh {
        "版权所有 © 2022 演示网"
    } else {
        "© 2022 Demo Media"
    };
    let page = |title: &str, main: &str| {
        format!(
            "<html><head><meta charset=\"utf-8\"><title>{title}</title></head><body>\
             <div id=\"header\"><ul class=\"menu\">{navs}</ul></div><div class=\"main\">{main}</div>\
             <div class=\"foot\">{footer}</div></body></html>"
        )
    };
    match kind {
        "listing" | "tag" | "category" => {
            let with_blurbs = rng.below(2) == 0;
            let mut items = String::new();
            for _ in 0..8 + rng.below(8) {
                let h = headline(&mut rng, zh);
                let blurb = if with_blurbs {
                    format!("<p>{}</p>", paragraph(&mut rng, zh, 1))
                } else {
                    String::new()
                };
                items.push_str(&format!(
                    "<li><h3><a href=\"/n/{}.html\">{h}</a></h3>{blurb}<span>2022-03-{:02}</span></li>",
                    rng.below(100_000),
                    1 + rng.below(28)
                ));
            }
            let name = if zh { "经济" } else { "Economy" };
            let path = match kind {
                "tag" => format!("/tag/{}", rng.below(1000)),
                "category" => format!("/category/{}/", rng.below(1000)),
                _ => format!("/news/index_{}.html", rng.below(10)),
            };
            (
                page(
                    &format!("{name} - 演示网"),
                    &format!("<h2>{name}</h2><ul>{items}</ul>"),
                ),
                format!("http://news.demo.test{path}"),
            )
        }
        "about" | "contact" => {
            let (title, text) = match (kind, zh) {
                ("about", true) => (
                    "关于我们",
                    "演示网成立于二〇二〇年，是一家提供本地新闻的网站。",
                ),
                ("about", false) => (
                    "About us",
                    "Demo Media was founded in 2020 to cover local news.",
                ),
                (_, true) => (
                    "联系我们",
                    "电话：010-00000000 邮箱：news@demo.test 地址：演示市演示路一号。",
                ),
                (_, false) => (
                    "Contact us",
                    "Phone: 000 0000. Email: news@demo.test. Address: 1 Demo Road.",
                ),
            };
            let path = if rng.below(2) == 0 {
                format!("/{kind}.html")
            } else {
                format!("/page/{}", rng.below(100))
            };
            (
                page(
                    &format!("{title} - Demo"),
                    &format!("<h1>{title}</h1><p>{text}</p>"),
                ),
                format!("http://news.demo.test{path}"),
            )
        }
        _ => {
            let (title, text) = if zh {
                (
                    "页面不存在",
                    "对不起，您访问的页面不存在或已被删除。请返回首页。",
                )
            } else {
                (
                    "Page not found",
                    "Sorry, the page you were looking for does not exist. Go back home.",
                )
            };
            (
                page(
                    &format!("404 {title}"),
                    &format!("<h1>{title}</h1><p>{text}</p>"),
                ),
                format!(
                    "http://news.demo.test/2022/03/01/{}.html",
                    rng.below(100_000)
                ),
            )
        }
    }
}
