//! Import of historical tickets (留言) and of the taxonomy from CSV and Excel files.
//!
//! A file is read by `tabular` into a [`tabular::Sheet`]; this module maps its columns (Chinese
//! or English headers), checks each row and hands the good ones to
//! [`HotlineService::import_batch`] in batches of [`BATCH_ROWS`], one transaction each. Bad rows
//! are reported by line and reason and the good ones kept.
//!
//! How a message becomes a ticket:
//! - `external_id` = `board:<留言编号>`: importing a file again, or the same message from
//!   another file, finds the ticket and only fills in what it lacks (category, reply, extra
//!   columns); a message id that already names a different message (other title or time) is
//!   reported and skipped.
//! - created_at = 留言时间 (China time); the number uses that day (`A市12345-20190105-000001`).
//! - channel 网站, urgency 普通, kind by [`kind_of`].
//! - category = the level-1 category named in 一级分类 (import the taxonomy first); an unknown
//!   name is reported and the ticket imported without category.
//! - with 答复意见 and 答复时间: closed, resolution 部门答复, replied_at = closed_at = 答复时间;
//!   otherwise accepted.
//! - columns without a ticket field (留言用户, 点赞数, 反对数, reply_explains and any other) go to
//!   the ticket's `extra` JSON ([`HotlineService::ticket_extra`]).

use crate::domain::TicketKind;
use crate::service::{HotlineService, ImportOutcome, ImportRow};
use kernel::error::{Checks, Error, Result};
use kernel::{Actor, Role};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use utoipa::ToSchema;

/// Rows written per transaction: big enough that SQLite's synced commits do not dominate,
/// small enough that a failure loses little and other writers are not held up long.
pub const BATCH_ROWS: usize = 500;
/// Prefix of the external id of messages from the message board (问政平台).
pub const EXTERNAL_PREFIX: &str = "board:";
/// Longest 留言详情 and 答复意见 accepted. Real messages run to 9,000 characters, more than the
/// intake form's 4,000, and must not be lost; the cap only stops absurd cells.
pub const MAX_TEXT: usize = 20_000;
const MAX_TITLE: usize = 200;
const MAX_ID: usize = 64;
/// Largest file the HTTP import accepts.
pub const MAX_UPLOAD_BYTES: usize = 32 * 1024 * 1024;

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = TicketImportReport)]
pub struct ImportReport {
    /// Data rows in the file (blank rows not counted).
    pub total_rows: usize,
    /// New tickets.
    pub imported: usize,
    /// Tickets already there that got something they lacked (reply, category, extra columns).
    pub updated: usize,
    /// Tickets already there with everything the row has.
    pub unchanged: usize,
    /// Rows not imported; each has an entry in `errors`. `total_rows` = imported + updated +
    /// unchanged + skipped.
    pub skipped: usize,
    /// Problems by line, in line order: every skipped row, and rows imported with a part left
    /// out (an unknown category, say), which the reason says.
    pub errors: Vec<RowError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = TicketImportRowError)]
pub struct RowError {
    /// The line as Excel or a text editor shows it (the header is line 1).
    pub line: usize,
    /// zh-CN, fit to show to whoever prepared the file.
    pub reason: String,
}

impl ImportReport {
    fn skip(&mut self, line: usize, reason: String) {
        self.skipped += 1;
        self.errors.push(RowError { line, reason });
    }
}

/// The kind of an imported message: 投诉, 举报, 咨询 or 求助 when its title says so (the word
/// that comes first wins), otherwise 建议. Only the title counts: details often mention earlier
/// complaints ("多次投诉无果") without being one.
pub fn kind_of(title: &str) -> TicketKind {
    [
        ("投诉", TicketKind::Complaint),
        ("举报", TicketKind::Report),
        ("咨询", TicketKind::Consult),
        ("求助", TicketKind::Help),
    ]
    .iter()
    .filter_map(|(word, kind)| title.find(word).map(|at| (at, *kind)))
    .min_by_key(|(at, _)| *at)
    .map_or(TicketKind::Suggestion, |(_, kind)| kind)
}

/// Parses a time as written in China time: `2019-01-05 09:30:00` (what the shared files and
/// Excel cells read by `tabular` give), also with `/`, `T`, 年月日, without seconds, or a date
/// alone (midnight). Returns UTC milliseconds.
pub fn parse_china_time(s: &str) -> Option<i64> {
    const DATETIME: &[&str] = &[
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y/%m/%d %H:%M:%S",
        "%Y/%m/%d %H:%M",
        "%Y年%m月%d日 %H:%M:%S",
        "%Y年%m月%d日 %H:%M",
        "%Y年%m月%d日%H:%M:%S",
    ];
    const DATE: &[&str] = &["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日"];
    let s = s.trim();
    let at = DATETIME
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
        .or_else(|| {
            DATE.iter()
                .find_map(|f| chrono::NaiveDate::parse_from_str(s, f).ok())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    at.and_local_timezone(kernel::clock::china())
        .single()
        .map(|t| t.timestamp_millis())
}

/// A known column: its key in `extra` (for extra columns) and the header aliases.
struct Col {
    key: &'static str,
    aliases: &'static [&'static str],
}

const ID: Col = Col {
    key: "id",
    aliases: &["留言编号", "id", "message_id"],
};
const TITLE: Col = Col {
    key: "title",
    aliases: &["留言主题", "title", "主题"],
};
const TIME: Col = Col {
    key: "time",
    aliases: &["留言时间", "time"],
};
const DETAIL: Col = Col {
    key: "detail",
    aliases: &["留言详情", "detail", "详情"],
};
const CATEGORY: Col = Col {
    key: "category",
    aliases: &["一级分类", "category", "level1"],
};
const REPLY: Col = Col {
    key: "reply",
    aliases: &["答复意见", "reply"],
};
const REPLY_TIME: Col = Col {
    key: "reply_time",
    aliases: &["答复时间", "reply_time"],
};
/// Columns kept in `extra` under a fixed key, whatever language the header is in.
const EXTRA: &[Col] = &[
    Col {
        key: "user",
        aliases: &["留言用户", "user"],
    },
    Col {
        key: "likes",
        aliases: &["点赞数", "likes"],
    },
    Col {
        key: "dislikes",
        aliases: &["反对数", "dislikes"],
    },
    Col {
        key: "reply_explains",
        aliases: &["答复是否解释", "reply_explains"],
    },
];

/// Extra columns holding counts or 0/1 labels.
const NUMERIC: &[&str] = &["likes", "dislikes", "reply_explains"];

/// Where each column is in a sheet.
struct Columns {
    id: usize,
    title: usize,
    time: usize,
    detail: usize,
    category: Option<usize>,
    reply: Option<usize>,
    reply_time: Option<usize>,
    /// (index, key in `extra`): the known extra columns and every other non-blank header.
    extra: Vec<(usize, String)>,
}

impl Columns {
    fn find(sheet: &tabular::Sheet) -> Result<Columns> {
        let mut c = Checks::new();
        let mut required = |col: &Col| {
            let found = sheet.column(col.aliases);
            c.check(
                found.is_some(),
                "file",
                "missing_column",
                format!(
                    "文件缺少“{}”列（英文表头为 {}）",
                    col.aliases[0], col.aliases[1]
                ),
            );
            found.unwrap_or(0)
        };
        let (id, title, time, detail) = (
            required(&ID),
            required(&TITLE),
            required(&TIME),
            required(&DETAIL),
        );
        c.finish()?;
        let category = sheet.column(CATEGORY.aliases);
        let reply = sheet.column(REPLY.aliases);
        let reply_time = sheet.column(REPLY_TIME.aliases);
        let mut used = vec![Some(id), Some(title), Some(time), Some(detail)];
        used.extend([category, reply, reply_time]);
        let mut extra = Vec::new();
        for col in EXTRA {
            if let Some(i) = sheet
                .column(col.aliases)
                .filter(|i| !used.contains(&Some(*i)))
            {
                used.push(Some(i));
                extra.push((i, col.key.to_owned()));
            }
        }
        // Any other column is kept under its own header, so nothing in the file is lost.
        for (i, h) in sheet.headers.iter().enumerate() {
            if !h.trim().is_empty() && !used.contains(&Some(i)) {
                extra.push((i, h.trim().to_owned()));
            }
        }
        Ok(Columns {
            id,
            title,
            time,
            detail,
            category,
            reply,
            reply_time,
            extra,
        })
    }
}

/// Categories by the names a file may use: level-1 name, or a full path.
struct Categories {
    by_name: HashMap<String, i64>,
}

impl Categories {
    async fn load(svc: &HotlineService) -> Result<Categories> {
        let mut by_name = HashMap::new();
        for c in svc.categories().await? {
            if c.level == 1 {
                by_name.insert(c.name.clone(), c.id);
            }
            by_name.insert(c.path.clone(), c.id);
        }
        Ok(Categories { by_name })
    }
}

/// A row checked: the message to write and the problems that did not stop it.
struct Checked {
    id: String,
    row: ImportRow,
    warnings: Vec<String>,
}

fn check_row(
    cols: &Columns,
    r: &tabular::Row,
    cats: &Categories,
    now: i64,
) -> std::result::Result<Checked, String> {
    let cell = |i: usize| r.get(Some(i));
    let id = cell(cols.id);
    if id.is_empty() {
        return Err("缺少留言编号，已跳过".into());
    }
    if id.chars().count() > MAX_ID || id.chars().any(char::is_whitespace) {
        return Err(format!(
            "留言编号“{}”无效（不能含空白，最长 {MAX_ID} 位），已跳过",
            id.chars().take(MAX_ID).collect::<String>()
        ));
    }
    let title = cell(cols.title);
    if title.is_empty() {
        return Err("缺少留言主题，已跳过".into());
    }
    if title.chars().count() > MAX_TITLE {
        return Err(format!("留言主题超过 {MAX_TITLE} 个字，已跳过"));
    }
    let content = cell(cols.detail);
    if content.is_empty() {
        return Err("缺少留言详情，已跳过".into());
    }
    if content.chars().count() > MAX_TEXT {
        return Err(format!("留言详情超过 {MAX_TEXT} 个字，已跳过"));
    }
    let time = cell(cols.time);
    if time.is_empty() {
        return Err("缺少留言时间，已跳过".into());
    }
    let Some(created_at) = parse_china_time(time) else {
        return Err(format!(
            "留言时间“{time}”无法识别，应写作 2019-01-05 09:30:00，已跳过"
        ));
    };
    if created_at > now {
        return Err(format!("留言时间“{time}”晚于当前时间，已跳过"));
    }
    let reply_text = cols.reply.map(cell).unwrap_or("");
    let reply_time = cols.reply_time.map(cell).unwrap_or("");
    let reply = if reply_text.is_empty() {
        None
    } else {
        if reply_text.chars().count() > MAX_TEXT {
            return Err(format!("答复意见超过 {MAX_TEXT} 个字，已跳过"));
        }
        if reply_time.is_empty() {
            return Err("有答复意见但缺少答复时间，已跳过".into());
        }
        let Some(at) = parse_china_time(reply_time) else {
            return Err(format!(
                "答复时间“{reply_time}”无法识别，应写作 2019-01-05 09:30:00，已跳过"
            ));
        };
        if at < created_at {
            return Err(format!(
                "答复时间“{reply_time}”早于留言时间“{time}”，已跳过"
            ));
        }
        if at > now {
            return Err(format!("答复时间“{reply_time}”晚于当前时间，已跳过"));
        }
        Some((reply_text.to_owned(), at))
    };
    let mut warnings = Vec::new();
    let category = cols.category.map(cell).unwrap_or("");
    let category_id = if category.is_empty() {
        None
    } else {
        let found = cats.by_name.get(category).copied();
        if found.is_none() {
            warnings.push(format!(
                "一级分类“{category}”不存在（请先导入分类），工单已导入但未设分类"
            ));
        }
        found
    };
    let mut extra = Map::new();
    for (i, key) in &cols.extra {
        let v = cell(*i);
        if v.is_empty() {
            continue;
        }
        // Counts and 0/1 labels are kept as numbers; anything else as the text it is ("007"
        // stays "007").
        let numeric = EXTRA
            .iter()
            .find(|c| c.key == key.as_str() && NUMERIC.contains(&c.key));
        let value = match numeric {
            None => Value::String(v.to_owned()),
            Some(col) => match v.parse::<u32>() {
                Ok(n) => Value::from(n),
                Err(_) => {
                    warnings.push(format!("{}“{v}”不是非负整数，已忽略该项", col.aliases[0]));
                    continue;
                }
            },
        };
        extra.insert(key.clone(), value);
    }
    Ok(Checked {
        id: id.to_owned(),
        row: ImportRow {
            line: r.line,
            external_id: format!("{EXTERNAL_PREFIX}{id}"),
            kind: kind_of(title),
            title: title.to_owned(),
            content: content.to_owned(),
            created_at,
            category_id,
            reply,
            extra,
        },
        warnings,
    })
}

/// Imports the messages of `sheet` as tickets (admins only). `source` names the file in the
/// timeline and the audit. `progress(done, total)` is called with rows handled so far after
/// each batch (and with 0 at the start). Batches already written stay written if a later one
/// fails on a database error, which is returned; re-running the import then completes it.
pub async fn import_tickets(
    svc: &HotlineService,
    actor: &Actor,
    sheet: &tabular::Sheet,
    source: &str,
    progress: &mut (dyn FnMut(usize, usize) + Send),
) -> Result<ImportReport> {
    actor.require_any_role(&[Role::SysAdmin])?;
    actor.require_scope("hotline:write")?;
    let cols = Columns::find(sheet)?;
    let cats = Categories::load(svc).await?;
    let now = svc.db().now();
    let total = sheet.rows.len();
    let mut report = ImportReport {
        total_rows: total,
        ..Default::default()
    };
    // First line of each message id in this file: a repeat is a mistake, not an update.
    let mut first_line: HashMap<String, usize> = HashMap::new();
    let mut done = 0;
    progress(0, total);
    for chunk in sheet.rows.chunks(BATCH_ROWS) {
        let mut batch = Vec::with_capacity(chunk.len());
        let mut ids = Vec::with_capacity(chunk.len());
        for r in chunk {
            match check_row(&cols, r, &cats, now) {
                Err(reason) => report.skip(r.line, reason),
                Ok(c) => {
                    if let Some(first) = first_line.get(&c.id) {
                        report.skip(
                            r.line,
                            format!("留言编号“{}”与第 {first} 行重复，已跳过", c.id),
                        );
                        continue;
                    }
                    first_line.insert(c.id.clone(), r.line);
                    for w in c.warnings {
                        report.errors.push(RowError {
                            line: r.line,
                            reason: w,
                        });
                    }
                    ids.push(c.id);
                    batch.push(c.row);
                }
            }
        }
        let outcomes = svc.import_batch(actor, source, &batch).await?;
        for ((row, id), outcome) in batch.iter().zip(&ids).zip(outcomes) {
            match outcome {
                ImportOutcome::Imported => report.imported += 1,
                ImportOutcome::Updated(_) => report.updated += 1,
                ImportOutcome::Unchanged => report.unchanged += 1,
                ImportOutcome::Conflict(number) => report.skip(
                    row.line,
                    format!(
                        "留言编号“{id}”已导入为工单 {number}，但主题或留言时间与本行不同，已跳过"
                    ),
                ),
            }
        }
        done += chunk.len();
        progress(done, total);
    }
    // Stable: a line's own problems stay in the order they were found.
    report.errors.sort_by_key(|e| e.line);
    Ok(report)
}

/// The rows of a taxonomy file (一级分类/二级分类/三级分类 or level1/level2/level3, as
/// `categories.csv`), ready for [`HotlineService::import_taxonomy`].
pub fn taxonomy_rows(sheet: &tabular::Sheet) -> Result<Vec<(String, String, String)>> {
    let l1 = sheet
        .require(&["一级分类", "level1"])
        .map_err(|e| Error::field("file", "missing_column", e.to_string()))?;
    let l2 = sheet.column(&["二级分类", "level2"]);
    let l3 = sheet.column(&["三级分类", "level3"]);
    Ok(sheet
        .rows
        .iter()
        .map(|r| {
            (
                r.get(Some(l1)).to_owned(),
                r.get(l2).to_owned(),
                r.get(l3).to_owned(),
            )
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_title() {
        assert_eq!(
            kind_of("投诉A市A1区苑物业违规收停车费"),
            TicketKind::Complaint
        );
        assert_eq!(kind_of("举报某公司偷排，投诉无果"), TicketKind::Report);
        assert_eq!(kind_of("咨询A6区道路命名问题"), TicketKind::Consult);
        assert_eq!(kind_of("孩子上学求助"), TicketKind::Help);
        assert_eq!(
            kind_of("A市在水一方大厦人为烂尾多年"),
            TicketKind::Suggestion
        );
    }

    #[test]
    fn times_are_china_time() {
        let t = parse_china_time("2019-01-05 09:30:00").unwrap();
        assert_eq!(
            kernel::clock::to_china(t).to_rfc3339(),
            "2019-01-05T09:30:00+08:00"
        );
        for s in [
            "2019/1/5 9:30",
            "2019-01-05T09:30:00",
            "2019年1月5日 09:30",
            "2019-01-05 09:30:00.000",
        ] {
            assert_eq!(parse_china_time(s), Some(t), "{s}");
        }
        assert_eq!(
            parse_china_time("2019-01-05"),
            Some(t - (9 * 60 + 30) * 60_000)
        );
        for s in ["", "昨天", "2019-13-01 00:00:00", "05/01/2019"] {
            assert_eq!(parse_china_time(s), None, "{s}");
        }
    }
}
