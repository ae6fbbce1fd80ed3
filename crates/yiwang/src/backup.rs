//! `yiwang backup` and `yiwang restore`: one portable archive for SQLite and PostgreSQL.
//!
//! The archive is JSON Lines: a manifest (format, the migrations the data was written under,
//! every table with its columns and row count, in foreign-key order), then each table's rows
//! as JSON arrays, then `{"sm3":"…"}`, the SM3 digest of every byte before it. A backup taken
//! on one backend restores on the other. Restore reads the whole archive and checks the digest
//! before it writes anything, and then creates the schema and writes the rows in one
//! transaction: a restore either completes or leaves the database as empty as it found it.

use anyhow::{bail, Context, Result};
use base64::Engine;
use futures::TryStreamExt;
use kernel::{Backend, Db};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sm3::{Digest, Sm3};
use sqlx::{Row, ValueRef};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;

const FORMAT: &str = "yiwang-backup";
const VERSION: i64 = 1;
/// Kept out of the data: restore recreates it by applying the same migrations.
const MIGRATIONS_TABLE: &str = "kernel_migrations";

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: i64,
    yiwang: String,
    source_backend: String,
    created_at: i64,
    /// (module, version) of every migration applied to the source.
    migrations: Vec<(String, i64)>,
    /// In an order where every table comes after the tables it references.
    tables: Vec<TableEntry>,
}

#[derive(Serialize, Deserialize)]
struct TableEntry {
    name: String,
    columns: Vec<String>,
    rows: u64,
}

/// How a column's values are bound on the target: from its declared type, because a NULL or a
/// number must reach PostgreSQL with the column's own type.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Int,
    Real,
    Text,
    Blob,
    Bool,
}

fn kind_of(declared: &str) -> Kind {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        Kind::Int
    } else if t.contains("REAL")
        || t.contains("DOUBLE")
        || t.contains("FLOAT")
        || t.contains("NUMERIC")
    {
        Kind::Real
    } else if t.contains("BLOB") || t.contains("BYTEA") {
        Kind::Blob
    } else if t.contains("BOOL") {
        Kind::Bool
    } else {
        Kind::Text
    }
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Every table of the database except SQLite's own and the migration bookkeeping.
async fn tables<'e, E>(backend: Backend, ex: E) -> Result<Vec<String>>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql = match backend {
        Backend::Sqlite => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        }
        Backend::Postgres => {
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"
        }
    };
    let rows = sqlx::query(sql).fetch_all(ex).await?;
    Ok(rows
        .iter()
        .map(|r| r.get::<String, _>(0))
        .filter(|t| t != MIGRATIONS_TABLE)
        .collect())
}

/// A table's writable columns with their declared types, in table order.
async fn columns(
    backend: Backend,
    tx: &mut kernel::Tx,
    table: &str,
) -> Result<Vec<(String, Kind)>> {
    let sql = match backend {
        Backend::Sqlite => "SELECT name, type FROM pragma_table_info($1) ORDER BY cid",
        Backend::Postgres => {
            "SELECT column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER'
             ORDER BY ordinal_position"
        }
    };
    let rows = sqlx::query(sql).bind(table).fetch_all(&mut **tx).await?;
    Ok(rows
        .iter()
        .map(|r| (r.get::<String, _>(0), kind_of(&r.get::<String, _>(1))))
        .collect())
}

/// Tables in an order where each comes after those it references (self-references aside).
async fn dependency_order(
    backend: Backend,
    tx: &mut kernel::Tx,
    names: &[String],
) -> Result<Vec<String>> {
    let mut deps: BTreeMap<String, BTreeSet<String>> =
        names.iter().map(|n| (n.clone(), BTreeSet::new())).collect();
    match backend {
        Backend::Sqlite => {
            for n in names {
                let rows = sqlx::query("SELECT \"table\" FROM pragma_foreign_key_list($1)")
                    .bind(n)
                    .fetch_all(&mut **tx)
                    .await?;
                for r in rows {
                    deps.get_mut(n).unwrap().insert(r.get::<String, _>(0));
                }
            }
        }
        Backend::Postgres => {
            let rows = sqlx::query(
                "SELECT cl.relname::text, rf.relname::text FROM pg_constraint c
                 JOIN pg_class cl ON cl.oid = c.conrelid
                 JOIN pg_class rf ON rf.oid = c.confrelid
                 JOIN pg_namespace ns ON ns.oid = cl.relnamespace
                 WHERE c.contype = 'f' AND ns.nspname = current_schema()",
            )
            .fetch_all(&mut **tx)
            .await?;
            for r in rows {
                if let Some(d) = deps.get_mut(&r.get::<String, _>(0)) {
                    d.insert(r.get::<String, _>(1));
                }
            }
        }
    }
    let mut order = Vec::with_capacity(names.len());
    let mut placed = BTreeSet::new();
    while order.len() < names.len() {
        let ready: Vec<String> = deps
            .iter()
            .filter(|(n, d)| {
                !placed.contains(*n)
                    && d.iter()
                        .all(|t| t == *n || placed.contains(t) || !deps.contains_key(t))
            })
            .map(|(n, _)| n.clone())
            .collect();
        if ready.is_empty() {
            let cycle: Vec<&String> = deps.keys().filter(|n| !placed.contains(*n)).collect();
            bail!("数据表之间的外键成环，无法排定备份顺序：{cycle:?}");
        }
        for n in ready {
            placed.insert(n.clone());
            order.push(n);
        }
    }
    Ok(order)
}

/// The primary key columns, to write rows parents first (a self-reference points back).
async fn key_columns(backend: Backend, tx: &mut kernel::Tx, table: &str) -> Result<Vec<String>> {
    let sql = match backend {
        Backend::Sqlite => "SELECT name FROM pragma_table_info($1) WHERE pk > 0 ORDER BY pk",
        Backend::Postgres => {
            "SELECT a.attname::text FROM pg_index i
             JOIN pg_class c ON c.oid = i.indrelid
             JOIN pg_namespace ns ON ns.oid = c.relnamespace
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
             WHERE i.indisprimary AND c.relname = $1 AND ns.nspname = current_schema()
             ORDER BY array_position(i.indkey, a.attnum)"
        }
    };
    let rows = sqlx::query(sql).bind(table).fetch_all(&mut **tx).await?;
    Ok(rows.iter().map(|r| r.get::<String, _>(0)).collect())
}

/// A writer that hashes what it writes, for the trailing digest.
struct Hashing<W: Write> {
    inner: W,
    hash: Sm3,
}

impl<W: Write> Hashing<W> {
    fn line(&mut self, v: &impl Serialize) -> Result<()> {
        let mut bytes = serde_json::to_vec(v)?;
        bytes.push(b'\n');
        self.hash.update(&bytes);
        self.inner.write_all(&bytes)?;
        Ok(())
    }
}

fn cell(row: &sqlx::any::AnyRow, i: usize) -> Result<Value> {
    use sqlx::any::AnyTypeInfoKind as K;
    let raw = row.try_get_raw(i)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let kind = raw.type_info().kind();
    Ok(match kind {
        K::Null => Value::Null,
        K::Bool => Value::Bool(row.try_get::<bool, _>(i)?),
        K::SmallInt | K::Integer | K::BigInt => Value::from(row.try_get::<i64, _>(i)?),
        K::Real | K::Double => Value::from(row.try_get::<f64, _>(i)?),
        K::Text => Value::String(row.try_get::<String, _>(i)?),
        K::Blob => serde_json::json!({
            "b64": base64::engine::general_purpose::STANDARD.encode(row.try_get::<Vec<u8>, _>(i)?)
        }),
    })
}

/// Writes the archive of `db` to `out` (never over an existing file). Returns (tables, rows).
pub async fn backup(db: &Db, out: &Path) -> Result<(usize, u64)> {
    if out.exists() {
        bail!("目标文件已存在：{}（不会覆盖）", out.display());
    }
    let backend = db.backend();
    // One snapshot for every table: a consistent copy while the server runs.
    let mut tx: kernel::Tx = db.pool().begin().await?;
    if backend == Backend::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await?;
    }
    let names = tables(backend, &mut *tx).await?;
    let order = dependency_order(backend, &mut tx, &names).await?;
    let migrations =
        sqlx::query("SELECT module, version FROM kernel_migrations ORDER BY module, version")
            .fetch_all(&mut *tx)
            .await
            .context("这不是一网的数据库（没有迁移记录）")?
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
            .collect();
    let mut entries = Vec::new();
    for t in &order {
        let cols = columns(backend, &mut tx, t).await?;
        let n: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {}", quote(t)))
            .fetch_one(&mut *tx)
            .await?
            .get(0);
        entries.push(TableEntry {
            name: t.clone(),
            columns: cols.into_iter().map(|(c, _)| c).collect(),
            rows: n as u64,
        });
    }
    let manifest = Manifest {
        format: FORMAT.into(),
        version: VERSION,
        yiwang: env!("CARGO_PKG_VERSION").into(),
        source_backend: backend.name().into(),
        created_at: db.now(),
        migrations,
        tables: entries,
    };
    // Written beside the target and renamed when complete: never a half archive under its name.
    let partial = out.with_extension("partial");
    let file = std::fs::File::create(&partial)
        .with_context(|| format!("无法写入 {}", partial.display()))?;
    let mut w = Hashing {
        inner: std::io::BufWriter::new(file),
        hash: Sm3::new(),
    };
    let result: Result<u64> = async {
        w.line(&manifest)?;
        let mut total = 0u64;
        for t in &manifest.tables {
            let keys = key_columns(backend, &mut tx, &t.name).await?;
            let order_by = if keys.is_empty() {
                String::new()
            } else {
                format!(
                    " ORDER BY {}",
                    keys.iter().map(|k| quote(k)).collect::<Vec<_>>().join(", ")
                )
            };
            let sql = format!(
                "SELECT {} FROM {}{order_by}",
                t.columns
                    .iter()
                    .map(|c| quote(c))
                    .collect::<Vec<_>>()
                    .join(", "),
                quote(&t.name)
            );
            let mut rows = sqlx::query(&sql).fetch(&mut *tx);
            let mut n = 0u64;
            while let Some(row) = rows.try_next().await? {
                let values = (0..t.columns.len())
                    .map(|i| cell(&row, i))
                    .collect::<Result<Vec<_>>>()?;
                w.line(&values)?;
                n += 1;
            }
            if n != t.rows {
                bail!("备份期间 {} 的行数变化（{} → {}）", t.name, t.rows, n);
            }
            total += n;
        }
        let digest = hex::encode(w.hash.clone().finalize());
        w.inner
            .write_all(format!("{{\"sm3\":\"{digest}\"}}\n").as_bytes())?;
        w.inner.flush()?;
        w.inner.get_ref().sync_all()?;
        Ok(total)
    }
    .await;
    match result {
        Ok(total) => {
            std::fs::rename(&partial, out)?;
            Ok((manifest.tables.len(), total))
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e.context("备份失败"))
        }
    }
}

/// Reads an archive line by line, hashing as it goes.
struct Reader {
    inner: BufReader<std::fs::File>,
    hash: Sm3,
    line_no: u64,
    manifest: Manifest,
    /// The table being read and how many of its rows are left.
    table: usize,
    left: u64,
}

impl Reader {
    fn open(path: &Path) -> Result<Reader> {
        let file = std::fs::File::open(path)
            .with_context(|| format!("无法打开备份文件 {}", path.display()))?;
        let mut r = Reader {
            inner: BufReader::new(file),
            hash: Sm3::new(),
            line_no: 0,
            manifest: Manifest {
                format: String::new(),
                version: 0,
                yiwang: String::new(),
                source_backend: String::new(),
                created_at: 0,
                migrations: vec![],
                tables: vec![],
            },
            table: 0,
            left: 0,
        };
        let first = r.raw_line()?.context("备份文件是空的")?;
        r.hash.update(&first);
        let m: Manifest = serde_json::from_slice(&first)
            .map_err(|_| anyhow::anyhow!("这不是一网的备份文件（第 1 行不是备份清单）"))?;
        if m.format != FORMAT {
            bail!("这不是一网的备份文件（格式为“{}”）", m.format);
        }
        if m.version != VERSION {
            bail!(
                "备份文件格式版本 {} 不受支持（本程序读版本 {VERSION}）",
                m.version
            );
        }
        r.left = m.tables.first().map_or(0, |t| t.rows);
        r.manifest = m;
        Ok(r)
    }

    fn raw_line(&mut self) -> Result<Option<Vec<u8>>> {
        let mut buf = Vec::new();
        if self.inner.read_until(b'\n', &mut buf)? == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        Ok(Some(buf))
    }

    fn corrupt(&self, what: &str) -> anyhow::Error {
        anyhow::anyhow!("备份文件已损坏：第 {} 行{what}", self.line_no)
    }

    /// The next row as (table index, values); `None` after the last, once the digest matched.
    fn next_row(&mut self) -> Result<Option<(usize, Vec<Value>)>> {
        while self.table < self.manifest.tables.len() && self.left == 0 {
            self.table += 1;
            self.left = self.manifest.tables.get(self.table).map_or(0, |t| t.rows);
        }
        if self.table >= self.manifest.tables.len() {
            self.finish()?;
            return Ok(None);
        }
        let line = self
            .raw_line()?
            .ok_or_else(|| anyhow::anyhow!("备份文件不完整：在第 {} 行后中断", self.line_no))?;
        self.hash.update(&line);
        let values: Vec<Value> =
            serde_json::from_slice(&line).map_err(|_| self.corrupt("不是一行数据（JSON 数组）"))?;
        let t = &self.manifest.tables[self.table];
        if values.len() != t.columns.len() {
            return Err(self.corrupt(&format!(
                "有 {} 个值，{} 有 {} 列",
                values.len(),
                t.name,
                t.columns.len()
            )));
        }
        self.left -= 1;
        Ok(Some((self.table, values)))
    }

    fn finish(&mut self) -> Result<()> {
        let line = self
            .raw_line()?
            .ok_or_else(|| anyhow::anyhow!("备份文件不完整：缺少结尾的 SM3 摘要"))?;
        #[derive(Deserialize)]
        struct Trailer {
            sm3: String,
        }
        let t: Trailer = serde_json::from_slice(&line)
            .map_err(|_| self.corrupt("应为结尾的 SM3 摘要（数据行数与清单不符）"))?;
        if self.raw_line()?.is_some() {
            return Err(self.corrupt("之后还有内容（数据行数与清单不符）"));
        }
        let actual = hex::encode(self.hash.clone().finalize());
        if actual != t.sm3 {
            bail!("备份文件校验失败：SM3 摘要不符（文件被改动或损坏），未写入任何数据");
        }
        Ok(())
    }
}

/// Reads the whole archive once: the digest, the structure. Returns its manifest.
fn check(path: &Path) -> Result<Manifest> {
    let mut r = Reader::open(path)?;
    while r.next_row()?.is_some() {}
    Ok(r.manifest)
}

/// What a restore did.
pub struct Restored {
    pub tables: usize,
    pub rows: u64,
    pub source_backend: String,
}

/// Restores the archive at `path` into `db`, which must have no tables at all.
pub async fn restore(
    db: &Db,
    path: &Path,
    all_migrations: &[kernel::migrate::Migration],
) -> Result<Restored> {
    // Everything is checked before anything is written.
    let manifest = check(path)?;
    if !kernel::migrate::is_empty(db)
        .await
        .map_err(crate::cli_error)?
    {
        bail!(
            "目标数据库不是空的（已有数据表），恢复只写入空数据库，以免覆盖现有数据；请新建一个空数据库再恢复"
        );
    }
    let wanted: BTreeSet<(String, i64)> = manifest.migrations.iter().cloned().collect();
    let known: BTreeSet<(String, i64)> = all_migrations
        .iter()
        .map(|m| (m.module.to_owned(), m.version))
        .collect();
    if let Some((m, v)) = wanted.difference(&known).next() {
        bail!(
            "备份来自更新的版本（含本程序没有的迁移 {m}/{v}，备份程序版本 {}）；请用相同或更新版本的 yiwang 恢复",
            manifest.yiwang
        );
    }
    // The schema exactly as the data was written under; later migrations run after the restore.
    let same: Vec<kernel::migrate::Migration> = all_migrations
        .iter()
        .filter(|m| wanted.contains(&(m.module.to_owned(), m.version)))
        .cloned()
        .collect();
    let backend = db.backend();
    let mut tx = db.begin().await?;
    if backend == Backend::Sqlite {
        // A row may reference a later row of its own table; SQLite checks at commit instead.
        sqlx::query("PRAGMA defer_foreign_keys = ON")
            .execute(&mut *tx)
            .await?;
    }
    kernel::migrate::run_in(&mut tx, backend, db.now(), &same)
        .await
        .map_err(crate::cli_error)?;
    let target = tables(backend, &mut *tx).await?;
    let in_archive: BTreeSet<&str> = manifest.tables.iter().map(|t| t.name.as_str()).collect();
    if let Some(t) = target.iter().find(|t| !in_archive.contains(t.as_str())) {
        bail!("备份中缺少数据表 {t}（备份与本程序的表结构不一致）");
    }
    let mut inserts = Vec::new();
    for t in &manifest.tables {
        if !target.contains(&t.name) {
            bail!("备份中的数据表 {} 在本程序的表结构中不存在", t.name);
        }
        let cols: BTreeMap<String, Kind> = columns(backend, &mut tx, &t.name)
            .await?
            .into_iter()
            .collect();
        let mut kinds = Vec::new();
        for c in &t.columns {
            kinds.push(
                *cols
                    .get(c)
                    .with_context(|| format!("数据表 {} 没有备份中的列 {c}", t.name))?,
            );
        }
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            quote(&t.name),
            t.columns
                .iter()
                .map(|c| quote(c))
                .collect::<Vec<_>>()
                .join(", "),
            (1..=t.columns.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        inserts.push((sql, kinds));
    }
    // Rows the migrations seeded (event lists, default templates) give way to the archive's.
    for t in manifest.tables.iter().rev() {
        sqlx::query(&format!("DELETE FROM {}", quote(&t.name)))
            .execute(&mut *tx)
            .await?;
    }
    let mut reader = Reader::open(path)?;
    let mut rows = 0u64;
    while let Some((ti, values)) = reader.next_row()? {
        let (sql, kinds) = &inserts[ti];
        let mut q = sqlx::query(sql);
        for (i, (v, k)) in values.into_iter().zip(kinds).enumerate() {
            q = bind(q, v, *k).with_context(|| {
                format!(
                    "备份文件第 {} 行：{}.{} 的值与列类型不符",
                    reader.line_no, manifest.tables[ti].name, manifest.tables[ti].columns[i]
                )
            })?;
        }
        q.execute(&mut *tx).await.with_context(|| {
            format!(
                "写入 {} 失败（备份文件第 {} 行）",
                manifest.tables[ti].name, reader.line_no
            )
        })?;
        rows += 1;
    }
    if backend == Backend::Postgres {
        // Explicit ids leave identity sequences behind; the next insert must not collide.
        for t in &manifest.tables {
            let ids = sqlx::query(
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1
                   AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')",
            )
            .bind(&t.name)
            .fetch_all(&mut *tx)
            .await?;
            for r in ids {
                let c: String = r.get(0);
                sqlx::query(&format!(
                    "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX({q}), 0) + 1, false) FROM {t}",
                    q = quote(&c),
                    t = quote(&t.name)
                ))
                .bind(quote(&t.name))
                .bind(&c)
                .execute(&mut *tx)
                .await?;
            }
        }
    }
    tx.commit().await?;
    Ok(Restored {
        tables: manifest.tables.len(),
        rows,
        source_backend: manifest.source_backend,
    })
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

fn bind(q: Query<'_>, v: Value, kind: Kind) -> Result<Query<'_>> {
    Ok(match (kind, v) {
        (Kind::Int, Value::Null) => q.bind(None::<i64>),
        (Kind::Real, Value::Null) => q.bind(None::<f64>),
        (Kind::Text, Value::Null) => q.bind(None::<String>),
        (Kind::Blob, Value::Null) => q.bind(None::<Vec<u8>>),
        (Kind::Bool, Value::Null) => q.bind(None::<bool>),
        (Kind::Int, Value::Number(n)) => q.bind(n.as_i64().context("不是整数")?),
        (Kind::Int, Value::Bool(b)) => q.bind(i64::from(b)),
        (Kind::Real, Value::Number(n)) => q.bind(n.as_f64().context("不是数")?),
        (Kind::Bool, Value::Bool(b)) => q.bind(b),
        (Kind::Bool, Value::Number(n)) => q.bind(n.as_i64().context("不是 0/1")? != 0),
        (Kind::Text, Value::String(s)) => q.bind(s),
        // SQLite keeps a value's own type whatever the column says; PostgreSQL wants the column's.
        (Kind::Text, Value::Number(n)) => q.bind(n.to_string()),
        (Kind::Int, Value::String(s)) => q.bind(s.parse::<i64>().context("不是整数")?),
        (Kind::Real, Value::String(s)) => q.bind(s.parse::<f64>().context("不是数")?),
        (Kind::Blob, Value::Object(o)) => {
            let b64 = o
                .get("b64")
                .and_then(Value::as_str)
                .context("不是二进制值")?;
            q.bind(base64::engine::general_purpose::STANDARD.decode(b64)?)
        }
        (Kind::Blob, Value::String(s)) => q.bind(s.into_bytes()),
        (Kind::Text, Value::Object(o)) => {
            let b64 = o
                .get("b64")
                .and_then(Value::as_str)
                .context("不是二进制值")?;
            q.bind(String::from_utf8(
                base64::engine::general_purpose::STANDARD.decode(b64)?,
            )?)
        }
        (k, v) => bail!("{v} 不能写入 {k:?} 列"),
    })
}
