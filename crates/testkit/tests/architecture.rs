//! The module shape, checked on the source (ARCHITECTURE.md, "Invariants"). A module crate is
//! one whose lib.rs exports `pub fn module() -> webcore::Module`. For each:
//! - SQL (`sqlx::query…`) appears only in store files (`store.rs`, `store/…`);
//! - a store names only its own module's tables (`<module>_…`), never another module's;
//! - `domain` files are pure (no sqlx, no axum), pages never touch a pool or SQL;
//! - stores are private to their crate (no `pub mod store`);
//!
//! and `web` names nothing inside a module but its crate-root items (`module()`, its service
//! types), never a module's `http`, `pages` or `store`.

use regex::Regex;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Module crates: (name, src folder).
fn modules() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(root().join("crates")).unwrap().flatten() {
        let Ok(text) = std::fs::read_to_string(e.path().join("src/lib.rs")) else {
            continue;
        };
        if text.contains("pub fn module() -> webcore::Module") {
            let name = e.file_name().to_string_lossy().into_owned();
            out.push((name, e.path().join("src")));
        }
    }
    out.sort();
    assert!(
        out.iter().any(|(n, _)| n == "hotline") && out.iter().any(|(n, _)| n == "org"),
        "module crates not found under {}",
        root().display()
    );
    out
}

/// The file without `//` comments, so that a comment may name what the code may not do.
fn code_of(path: &Path) -> String {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| match l.find("//") {
            Some(i) if !l[..i].contains('"') => &l[..i],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn rel(p: &Path) -> String {
    p.strip_prefix(root())
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

fn has_part(p: &Path, file: &str, dir: &str) -> bool {
    p.file_name().is_some_and(|f| f == file) || p.components().any(|c| c.as_os_str() == dir)
}

fn is_store(p: &Path) -> bool {
    has_part(p, "store.rs", "store")
}

fn is_domain(p: &Path) -> bool {
    has_part(p, "domain.rs", "domain")
}

fn is_page(p: &Path) -> bool {
    has_part(p, "pages.rs", "pages")
}

/// Every (module, file) of the module crates.
fn module_files() -> Vec<(String, PathBuf)> {
    modules()
        .into_iter()
        .flat_map(|(m, src)| rust_files(&src).into_iter().map(move |f| (m.clone(), f)))
        .collect()
}

/// Whether code runs SQL: `sqlx::query…`, or sqlx in scope and a statement executed.
fn runs_sql(code: &str) -> bool {
    let exec =
        Regex::new(r"\.(fetch_one|fetch_all|fetch_optional|fetch)\(|\bquery(_scalar|_as)?\(")
            .unwrap();
    code.contains("sqlx::query") || (code.contains("sqlx") && exec.is_match(code))
}

#[test]
fn sql_lives_only_in_stores() {
    let bad: Vec<String> = module_files()
        .into_iter()
        .filter(|(_, f)| !is_store(f) && runs_sql(&code_of(f)))
        .map(|(_, f)| rel(&f))
        .collect();
    assert!(bad.is_empty(), "SQL outside store files: {bad:#?}");
}

#[test]
fn a_store_names_only_its_own_tables() {
    let table =
        Regex::new(r"(?i)\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+([a-z][a-z0-9]*_[a-z0-9_]*)").unwrap();
    let mut bad = Vec::new();
    for (module, f) in module_files().into_iter().filter(|(_, f)| is_store(f)) {
        let code = code_of(&f);
        for c in table.captures_iter(&code) {
            if !c[1].starts_with(&format!("{module}_")) {
                bad.push(format!("{}: {}", rel(&f), &c[1]));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "stores naming other modules' tables: {bad:#?}"
    );
}

#[test]
fn domain_is_pure_and_pages_touch_no_database() {
    let mut bad = Vec::new();
    for (_, f) in module_files() {
        let code = code_of(&f);
        if is_domain(&f) && (code.contains("sqlx") || code.contains("axum")) {
            bad.push(format!("{}: domain uses sqlx or axum", rel(&f)));
        }
        if is_page(&f) && (code.contains(".pool()") || code.contains("sqlx")) {
            bad.push(format!("{}: a page touches the database", rel(&f)));
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}

#[test]
fn stores_are_private() {
    let public = Regex::new(r"\bpub\s+mod\s+store\b").unwrap();
    let bad: Vec<String> = module_files()
        .into_iter()
        .filter(|(_, f)| public.is_match(&code_of(f)))
        .map(|(_, f)| rel(&f))
        .collect();
    assert!(bad.is_empty(), "public stores: {bad:#?}");
}

#[test]
fn web_knows_modules_only_through_the_contract() {
    let mut bad = Vec::new();
    for (n, _) in modules() {
        // A lower-case path segment after the crate name is a module path or a function:
        // only `module()` is allowed; types at the crate root (`org::OrgService`) are.
        let inner = Regex::new(&format!(r"\b{n}::([a-z_][a-z0-9_]*)")).unwrap();
        for f in rust_files(&root().join("crates/web/src")) {
            for c in inner.captures_iter(&code_of(&f)) {
                if &c[1] != "module" {
                    bad.push(format!("{}: {n}::{}", rel(&f), &c[1]));
                }
            }
        }
    }
    assert!(bad.is_empty(), "web names a module's insides: {bad:#?}");
}

/// The records people change: written only by store functions that take a proof of
/// authorization (`kernel::Granted<P>` or `kernel::Authorized`), so no service reaches the write
/// without the check. System rows (sessions, outbox, suggestions, logs) are not in the list.
const GUARDED_TABLES: &[&str] = &[
    "hotline_tickets",
    "hotline_kb_articles",
    "hotline_routing_rules",
    "hotline_models",
    "services_cases",
    "services_items",
    "org_regions",
    "org_departments",
    "org_users",
    "org_user_roles",
    "licenses_types",
    "licenses_type_versions",
    "licenses_keys",
    "licenses_licenses",
    "sharing_entries",
    "sharing_entry_versions",
    "sharing_resources",
    "sharing_rows",
    "sharing_requests",
    "sharing_request_steps",
    "sharing_grants",
    "sharing_systems",
    "sharing_calls",
    "sharing_objections",
    "sharing_backflows",
    "sharing_backflow_runs",
    "sharing_backflow_files",
    "sso_clients",
    "sso_keys",
];

/// `(function, table)` for each function in `code` that writes a guarded table without taking
/// a proof in its signature.
fn unguarded_writes(code: &str) -> Vec<(String, String)> {
    let fn_start = Regex::new(r"\bfn\s+(\w+)").unwrap();
    let write =
        Regex::new(r"(?i)\b(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+([a-z][a-z0-9_]*)").unwrap();
    let starts: Vec<(usize, String)> = fn_start
        .captures_iter(code)
        .map(|c| (c.get(0).unwrap().start(), c[1].to_owned()))
        .collect();
    let mut out = Vec::new();
    for (i, (at, name)) in starts.iter().enumerate() {
        let end = starts.get(i + 1).map_or(code.len(), |n| n.0);
        let body = &code[*at..end];
        let signature = &body[..body.find('{').unwrap_or(body.len())];
        let proven = signature.contains("Granted<") || signature.contains("Authorized<");
        for c in write.captures_iter(body) {
            if !proven && GUARDED_TABLES.contains(&&c[1]) {
                out.push((name.clone(), c[1].to_owned()));
            }
        }
    }
    out
}

#[test]
fn writes_of_what_people_change_take_a_proof_of_authorization() {
    let mut bad = Vec::new();
    for (_, f) in module_files().into_iter().filter(|(_, f)| is_store(f)) {
        for (name, table) in unguarded_writes(&code_of(&f)) {
            bad.push(format!("{}: {name} writes {table}", rel(&f)));
        }
    }
    assert!(
        bad.is_empty(),
        "store writes without Granted/Authorized: {bad:#?}"
    );
}

/// The checks above must be able to fail: each rule catches a planted violation.
#[test]
fn the_checks_catch_what_they_look_for() {
    assert!(is_store(Path::new("crates/x/src/ticket/store.rs")));
    assert!(is_store(Path::new("crates/x/src/report/store/kpi.rs")));
    assert!(!is_store(Path::new("crates/x/src/ticket/service.rs")));
    assert!(is_page(Path::new("crates/x/src/pages/portal.rs")));
    assert!(is_domain(Path::new("crates/x/src/ticket/domain.rs")));
    assert!(runs_sql("use sqlx::query;\nlet r = query(\"SELECT 1\")"));
    assert!(!runs_sql("let q = store::query_tickets(c, f).await?;"));
    let table =
        Regex::new(r"(?i)\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+([a-z][a-z0-9]*_[a-z0-9_]*)").unwrap();
    let caught: Vec<&str> = table
        .captures_iter("SELECT name FROM org_regions r JOIN hotline_tickets t ON 1=1")
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    assert_eq!(caught, ["org_regions", "hotline_tickets"]);
    let planted = "pub async fn set_status(c: &mut AnyConnection, id: i64) -> Result<()> {\n    sqlx::query(\"UPDATE hotline_tickets SET status = 'x'\")\n}\n\
        pub async fn rename(c: &mut AnyConnection, by: Authorized<'_>, id: i64) -> Result<()> {\n    sqlx::query(\"UPDATE org_users SET name = 'y'\")\n}\n";
    assert_eq!(
        unguarded_writes(planted),
        [("set_status".to_owned(), "hotline_tickets".to_owned())]
    );
}
