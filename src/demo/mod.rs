//! The demo mirror network: synthetic articles served by four fake news hosts, plus a
//! fault host and four robots hosts for testing a crawler's robustness and politeness.
//!
//! `article` generates deterministic, seeded articles (Chinese and English, self-written
//! filler text); `render` decides which mirror carries which article and renders each host's
//! pages with its own template and quirks (full-width punctuation, a blog with front matter,
//! GBK bytes), with `conditional` adding validators and 304s; `feeds` adds the origin's RSS
//! feed and sitemaps and the blog's Atom feed; `api` the origin's JSON list and detail APIs.
//! `faults` (`FAULT_HOST`) and `robots` (`ROBOTS_HOSTS`) serve small `fixtures` pages behind
//! failures, slow or endless bodies, redirects, bad charsets and robots.txt rules. `server` serves every host from one
//! loopback socket, routed by `Host`; `wire` puts each response on it as its `Behaviour`
//! says, and `stats` records what each host saw (requests, concurrency, bytes, statuses).
//! The crawler's end-to-end tests crawl this network through a resolve override and check
//! that every mirror copy of an article collapses into one record. Nothing here touches the
//! network beyond the socket it is asked to bind.

mod api;
pub mod article;
mod conditional;
pub mod faults;
mod feeds;
mod fixtures;
mod pages;
pub mod render;
mod rng;
pub mod robots;
pub mod server;
mod stats;
mod text;
mod wire;

pub use api::LIST_PAGE_SIZE;
pub use article::{generate, Article, Lang};
pub use faults::{
    fault_article, gbk_article, utf8_lies_article, FAULT_HOST, FAULT_ROUTES, GZIP_BOMB_INFLATED,
    HUGE_LENGTH,
};
pub use render::{Behaviour, Carriage, Mirror, Network, Response};
pub use robots::{
    ROBOTS_404_HOST, ROBOTS_500_HOST, ROBOTS_DELAY_HOST, ROBOTS_DISALLOW_HOST, ROBOTS_HOSTS,
};
pub use server::{serve, ServerHandle};
