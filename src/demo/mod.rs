//! The demo mirror network: synthetic articles served by four fake news hosts.
//!
//! `article` generates deterministic, seeded articles (Chinese and English, self-written
//! filler text); `render` decides which mirror carries which article and renders each host's
//! pages with its own template and quirks (full-width punctuation, a blog with front matter,
//! GBK bytes); `feeds` adds the origin's RSS feed and sitemaps and the blog's Atom feed;
//! `server` serves all four hosts from one loopback socket, routed by `Host`.
//! The crawler's end-to-end tests crawl this network through a resolve override and check
//! that every mirror copy of an article collapses into one record. Nothing here touches the
//! network beyond the socket it is asked to bind.

pub mod article;
mod feeds;
mod pages;
pub mod render;
mod rng;
pub mod server;
mod text;

pub use article::{generate, Article, Lang};
pub use render::{Carriage, Mirror, Network, Response};
pub use server::{serve, ServerHandle};
