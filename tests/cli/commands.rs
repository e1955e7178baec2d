//! The smaller commands, the lock, and the error paths of the CLI.

use crate::common::{Blog, Server, HEXO_HEAD};

#[test]
fn init_writes_a_valid_starter_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let blog = Blog { dir };
    std::fs::remove_file(blog.path().join("tidings.toml")).ok();
    let run = blog.run(&["init"]);
    assert_eq!(run.code, 0, "{run:?}");
    let text = std::fs::read_to_string(blog.path().join("tidings.toml")).unwrap();
    assert!(
        text.contains("[[feed]]") && text.contains("# "),
        "commented starter"
    );
    tidings_config::Config::parse(&text, &blog.path().join("tidings.toml")).unwrap();
    let again = blog.run(&["init"]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("already exists"), "{again:?}");
}

#[test]
fn bad_config_exits_1_naming_file_line_and_key() {
    let blog = Blog::new("[site]\ntimezone = \"Asia/Shanghai\"\n[[feed]]\nurl = \"http://a.example/\"\ncategoires = [\"x\"]\n");
    let run = blog.run(&["sync"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr
            .contains("tidings.toml:5: feed.categoires: unknown key (did you mean `categories`?)"),
        "{run:?}"
    );
}

#[test]
fn missing_config_suggests_init() {
    let dir = tempfile::tempdir().unwrap();
    let blog = Blog { dir };
    let run = blog.run(&["sync"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("tidings init"), "{run:?}");
}

#[test]
fn sign_prints_a_url_the_proxy_key_verifies() {
    let blog = Blog::new("[proxy]\npublic_url = \"https://img.example.com\"\nkey = \"k3y\"\n");
    let run = blog.run(&["sign", "http://zkres1.myzaker.com/a.jpg"]);
    assert_eq!(run.code, 0, "{run:?}");
    let url = run.stdout.trim();
    let (sig, b64) = url
        .strip_prefix("https://img.example.com/")
        .unwrap()
        .split_once('/')
        .unwrap();
    assert_eq!(
        tidings_model::image::verify(b"k3y", sig, b64).as_deref(),
        Some("http://zkres1.myzaker.com/a.jpg")
    );
    let bad = blog.run(&["sign", "javascript:alert(1)"]);
    assert_eq!(bad.code, 1);
}

#[test]
fn generated_proxy_key_is_created_once_with_mode_0600() {
    let blog = Blog::new("[proxy]\npublic_url = \"https://img.example.com\"\n");
    let first = blog.run(&["sign", "http://a.example/x.png"]);
    let second = blog.run(&["sign", "http://a.example/x.png"]);
    assert_eq!(first.code, 0, "{first:?}");
    assert_eq!(
        first.stdout, second.stdout,
        "the key must not change between runs"
    );
    let key = blog.path().join(".tidings/proxy.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    assert!(std::fs::read_to_string(key).unwrap().len() >= 32);
}

#[test]
fn a_second_run_on_the_same_state_is_refused_while_the_first_holds_the_lock() {
    let server = Server::start();
    let blog = Blog::new(&format!("{HEXO_HEAD}{}", server.sample_feeds()));
    std::fs::create_dir_all(blog.path().join(".tidings")).unwrap();
    let lock = tidings_engine::StateLock::acquire(&blog.path().join(".tidings")).unwrap();
    let run = blog.run(&["sync"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("another tidings run holds"), "{run:?}");
    assert!(blog.snapshot().is_empty(), "nothing written while locked");
    drop(lock);
    assert_eq!(blog.run(&["sync"]).code, 0);
}

#[test]
fn feed_flag_limits_the_run_and_unknown_names_are_listed() {
    let server = Server::start();
    let blog = Blog::new(&format!("{HEXO_HEAD}{}", server.sample_feeds()));
    let run = blog.run(&["sync", "--feed", "gbk-local"]);
    assert!(
        run.stdout.contains("feeds: 1 ok, 0 failed; posts: 2 new"),
        "{run:?}"
    );
    let run = blog.run(&["sync", "--feed", "nope"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("no feed named \"nope\"") && run.stderr.contains("zaker-tech"),
        "{run:?}"
    );
}

#[test]
fn check_probes_feeds_without_writing() {
    let server = Server::start();
    server.server.remove(tidings_demo::FEEDS[2].path);
    let blog = Blog::new(&format!("{HEXO_HEAD}{}", server.sample_feeds()));
    let run = blog.run(&["check"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout.contains("ok      zaker-tech (3 entries)"),
        "{run:?}"
    );
    assert!(run.stdout.contains("FAILED  river-notes: "), "{run:?}");
    assert!(blog.snapshot().is_empty());
}

#[test]
fn demo_runs_with_no_config_and_is_incremental() {
    let dir = tempfile::tempdir().unwrap();
    let blog = Blog { dir };
    let run = blog.run(&["demo", "--dir", "site", "--no-serve"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("posts: 13 new"), "{run:?}");
    let posts = blog.path().join("site/source/_posts");
    assert_eq!(std::fs::read_dir(&posts).unwrap().count(), 13);
    let again = blog.run(&["demo", "--dir", "site", "--no-serve"]);
    assert!(
        again.stdout.contains("posts: 0 new, 0 updated"),
        "{again:?}"
    );
}

#[test]
fn help_teaches_every_command() {
    let blog = Blog::new("");
    let run = blog.run(&["--help"]);
    for c in ["init", "sync", "sign", "check", "status", "demo"] {
        assert!(
            run.stdout.contains(c),
            "{c} missing from --help:\n{}",
            run.stdout
        );
    }
    let sync = blog.run(&["sync", "--help"]);
    assert!(
        sync.stdout.contains("--rewrite") && sync.stdout.contains("Exit status"),
        "{sync:?}"
    );
}
