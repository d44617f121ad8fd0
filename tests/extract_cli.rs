//! `trawl extract` as a user meets it: a saved page in, the body or the whole post out; exit 2
//! when the input cannot be read.

use std::process::Command;

fn trawl() -> Command {
    Command::new(env!("CARGO_BIN_EXE_trawl"))
}

const PAGE: &str = "<html><head><meta charset=\"gbk\"><title>Harbour reopens - Demo</title></head><body>\
    <ul class=\"nav\"><li><a href=\"/\">Home</a></li><li><a href=\"/w\">World</a></li></ul>\
    <h1>Harbour reopens</h1><div class=\"story\"><p>The harbour reopened on Friday, officials said.</p>\
    <p>Ships queued overnight, and the first one docked at dawn.</p></div></body></html>";

#[test]
fn text_prints_paragraphs_separated_by_blank_lines() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("page.html");
    std::fs::write(&file, PAGE).unwrap();
    let out = trawl().arg("extract").arg(&file).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "The harbour reopened on Friday, officials said.\n\nShips queued overnight, and the first one docked at dawn.\n"
    );
}

#[test]
fn json_from_stdin_has_the_post_and_the_charset() {
    use std::io::Write;
    let mut child = trawl()
        .args([
            "extract",
            "-",
            "--format",
            "json",
            "--url",
            "http://news.test/2022/01/21/a.html",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(PAGE.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["title"], "Harbour reopens");
    assert_eq!(v["extractor"], "generic");
    assert_eq!(v["charset"], "gb18030 (meta)");
    assert_eq!(v["body"].as_array().unwrap().len(), 2);
    assert_eq!(v["published"], "2022-01-21T00:00:00+08:00");
}

#[test]
fn unreadable_input_exits_2() {
    let out = trawl()
        .args(["extract", "/nonexistent/page.html"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}
