//! What the command-line tests share: running the built binary and reading what it printed.
#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A file of the shared real hotline data (`../shared/data/hotline/`).
pub fn shared(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/hotline/"
    ))
    .join(name)
}

fn command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yiwang"));
    // Password hashing cheap enough for tests.
    c.env("YIWANG_AUTH__ARGON2_MEMORY_KIB", "1024")
        .env("YIWANG_AUTH__ARGON2_ITERATIONS", "1");
    c
}

/// `yiwang --db URL ARGS…`.
pub fn yiwang(db_url: &str, args: &[&str]) -> Output {
    command()
        .arg("--db")
        .arg(db_url)
        .args(args)
        .output()
        .expect("run yiwang")
}

/// `yiwang ARGS…` run in `dir`, on whatever database the folder's defaults give.
pub fn yiwang_in(dir: &Path, args: &[&str]) -> Output {
    command()
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run yiwang")
}

/// Everything the command printed, stdout then stderr.
pub fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}
