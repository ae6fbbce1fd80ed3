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
    let mut c = command();
    // On PostgreSQL the key that sealed the test database's personal data is in a file testkit
    // names (beside an SQLite file it is where the command looks by default).
    if db_url.starts_with("postgres") {
        let key = testkit::data_key_file(db_url);
        let config = key.with_extension("toml");
        std::fs::write(
            &config,
            format!("[crypto]\nkey_file = {:?}\n", key.display().to_string()),
        )
        .expect("test config");
        c.arg("--config").arg(config);
    }
    c.arg("--db")
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

/// The text of `word/document.xml` in the Word file at `path`.
pub fn document_xml(path: &Path) -> String {
    use std::io::Read;
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut s = String::new();
    z.by_name("word/document.xml")
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    s
}

/// Creates, as the command line, the `regions` (code, name) and the departments `depts` of
/// A市; the departments' ids, in order.
pub async fn regions_and_departments(
    org: &org::OrgService,
    regions: &[(&str, &str)],
    depts: &[&str],
) -> Vec<i64> {
    let cli = kernel::Actor::cli();
    for (code, name) in regions {
        let region = org::NewRegion {
            code: code.to_string(),
            name: name.to_string(),
        };
        org.create_region(&cli, region).await.unwrap();
    }
    let mut ids = Vec::new();
    for name in depts {
        let dept = org::NewDepartment {
            name: name.to_string(),
            short_name: None,
            region_code: "690100".into(),
            parent_id: None,
            credit_code: None,
            phone: None,
        };
        ids.push(org.create_department(&cli, dept).await.unwrap().id);
    }
    ids
}

/// `yiwang ARGS…` run in `dir` as a user would: no test settings, and without the
/// `YIWANG_DATABASE_URL` of the environment.
pub fn yiwang_as_user_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yiwang"))
        .current_dir(dir)
        .args(args)
        .env_remove("YIWANG_DATABASE_URL")
        .output()
        .expect("run yiwang")
}

/// Asserts that the command printed `want` on its standard output.
pub fn assert_stdout_has(o: &Output, want: &str) {
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(want), "{stdout}");
}
