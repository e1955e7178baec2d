//! Shared pieces: a fixture server on its own runtime, a blog folder, and a way to run the binary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

use tidings_demo::FixtureServer;

/// The fixture server, kept alive by its own runtime while the binary runs in the foreground.
pub struct Server {
    pub server: FixtureServer,
    _rt: tokio::runtime::Runtime,
}

impl Server {
    pub fn start() -> Server {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = rt
            .block_on(FixtureServer::start(([127, 0, 0, 1], 0).into()))
            .unwrap();
        Server { server, _rt: rt }
    }

    /// Config lines for every bundled sample feed.
    pub fn sample_feeds(&self) -> String {
        self.server.feeds_toml()
    }
}

/// A blog folder with a config in it.
pub struct Blog {
    pub dir: tempfile::TempDir,
}

pub const HEXO_HEAD: &str = r#"
[site]
timezone = "Asia/Shanghai"
[output]
format = "hexo"
dir = "source/_posts"
[images]
proxy = "https://cors.zfour.workers.dev/?{url}"
"#;

impl Blog {
    pub fn new(config: &str) -> Blog {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tidings.toml"), config).unwrap();
        Blog { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn posts_dir(&self) -> PathBuf {
        self.path().join("source/_posts")
    }

    /// Runs `tidings ARGS` in the blog folder.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = Command::new(env!("CARGO_BIN_EXE_tidings"))
            .args(args)
            .current_dir(self.path())
            .output()
            .unwrap();
        Run::from(out)
    }

    /// Every post file: name → (bytes, mtime).
    pub fn snapshot(&self) -> BTreeMap<String, (Vec<u8>, SystemTime)> {
        let mut out = BTreeMap::new();
        let Ok(entries) = std::fs::read_dir(self.posts_dir()) else {
            return out;
        };
        for e in entries.flatten() {
            let meta = e.metadata().unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            if meta.is_dir() {
                // A folder (the writer's temp folder) shows as `name/`, without bytes.
                out.insert(format!("{name}/"), (Vec::new(), meta.modified().unwrap()));
                continue;
            }
            out.insert(
                name,
                (std::fs::read(e.path()).unwrap(), meta.modified().unwrap()),
            );
        }
        out
    }

    /// The post whose front matter has exactly this title line.
    pub fn post_titled(&self, title_line: &str) -> String {
        self.snapshot()
            .into_values()
            .map(|(bytes, _)| String::from_utf8(bytes).unwrap())
            .find(|text| text.lines().nth(1) == Some(title_line))
            .unwrap_or_else(|| {
                panic!(
                    "no post with {title_line:?}; posts: {:?}",
                    self.snapshot().keys()
                )
            })
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The front matter lines of a post (between the `---` fences).
pub fn front_matter(post: &str) -> Vec<&str> {
    let mut lines = post.lines();
    assert_eq!(
        lines.next(),
        Some("---"),
        "post must start with ---:\n{post}"
    );
    lines.take_while(|l| *l != "---").collect()
}
