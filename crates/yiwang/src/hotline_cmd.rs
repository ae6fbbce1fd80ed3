//! `yiwang hotline`: the hotline's text intelligence. On files (no database): train and apply
//! the classification model, evaluate it, find hot issues, score replies. On the database:
//! train a model version from the tickets (`train` without `--labeled`), list the versions,
//! activate one, and run the weak-signal job (`signals`).

use anyhow::{anyhow, bail, Result};
use clap::Subcommand;
use kernel::config::Config;
use nlp::hotspot::{parse_china_time, HotspotOptions, Message};
use nlp::model::{message_text, Evaluation, Model, TrainOptions};
use std::path::{Path, PathBuf};
use std::time::Instant;
use tabular::{Row, Sheet};

const ID: &[&str] = &["留言编号", "id", "message_id"];
const TITLE: &[&str] = &["留言主题", "title", "主题"];
const DETAIL: &[&str] = &["留言详情", "detail", "详情"];
const TIME: &[&str] = &["留言时间", "time"];
const CATEGORY: &[&str] = &["一级分类", "category", "level1"];
const USER: &[&str] = &["留言用户", "user"];
const LIKES: &[&str] = &["点赞数", "likes"];
const REPLY: &[&str] = &["答复意见", "reply"];
const REPLY_TIME: &[&str] = &["答复时间", "reply_time"];

#[derive(Subcommand)]
pub enum HotlineCommand {
    /// 训练分类模型。不带 --labeled 时从数据库训练：用有最终分类的历史工单（已答复、已办结、
    /// 已归档及分类被更正过的）、分类体系与未分类工单，存为新版本，在留出集上不差于当前模型时才启用。
    /// 带 --labeled 时从文件训练：已标注留言（留言编号/id、留言主题/title、留言详情/detail、
    /// 一级分类/category），可加未标注留言与分类体系（categories.csv），写出模型文件并打印留出集指标。
    Train {
        /// 已标注留言（CSV 或 Excel）；不填则从数据库训练。
        #[arg(long, value_name = "FILE", requires = "out")]
        labeled: Option<PathBuf>,
        /// 未标注留言（可重复）。
        #[arg(long, value_name = "FILE", requires = "labeled")]
        unlabeled: Vec<PathBuf>,
        /// 分类体系（一级分类/level1、二级分类/level2、三级分类/level3）。
        #[arg(long, value_name = "FILE", requires = "labeled")]
        taxonomy: Option<PathBuf>,
        /// 模型输出文件（文件训练时必填）。
        #[arg(long, value_name = "MODEL", requires = "labeled")]
        out: Option<PathBuf>,
        /// 快速训练（不做自训练），用于试验；默认训练完整模型。
        #[arg(long, requires = "labeled")]
        fast: bool,
        /// 从数据库训练时：即使新模型在留出集上不如当前模型也启用它。
        #[arg(long, conflicts_with = "labeled")]
        force: bool,
    },
    /// 列出数据库中的模型版本（* 为正在使用的版本）。
    Models,
    /// 启用数据库中的某个模型版本（例如回退到旧版本）。
    Activate {
        /// 模型版本号。
        version: i64,
    },
    /// 用模型给留言分类：输出每一行原有各列，并加上 predicted、confidence、top3 三列。
    Classify {
        #[arg(long, value_name = "MODEL")]
        model: PathBuf,
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// 输出 CSV 文件。
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
    /// 在已标注留言上评估模型：准确率、宏平均 F1、各类指标与混淆矩阵。
    Evaluate {
        #[arg(long, value_name = "MODEL")]
        model: PathBuf,
        #[arg(long, value_name = "FILE")]
        labeled: PathBuf,
        /// 以 JSON 输出。
        #[arg(long)]
        json: bool,
    },
    /// 热点问题挖掘：按主题与地点聚类并按热度排序。
    Hotspots {
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// 只列出热度最高的 N 个（0 为全部）。
        #[arg(long, default_value_t = 20, value_name = "N")]
        top: usize,
        /// 以 JSON 数组输出。
        #[arg(long)]
        json: bool,
    },
    /// 研判告警：对数据库中近期工单做社区/街道、分类的量能异常与新增聚集分析，保存新告警
    /// （已提出的同一告警不重复提出）。服务运行时每小时自动执行。
    Signals {
        /// 以该日（北京时间，YYYY-MM-DD）结束时为分析时点；默认现在。
        #[arg(long, value_name = "DATE")]
        at: Option<String>,
    },
    /// 答复质量评价：输出每一行原有各列，并加上总分、相关性、完整性、解释性、及时性与理由。
    ReplyQuality {
        #[arg(long, value_name = "FILE")]
        input: PathBuf,
        /// 输出 CSV 文件。
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
}

pub async fn run(cfg: &Config, cmd: HotlineCommand) -> Result<()> {
    match cmd {
        HotlineCommand::Train {
            labeled: Some(labeled),
            unlabeled,
            taxonomy,
            out,
            fast,
            ..
        } => {
            let out = out.ok_or_else(|| anyhow!("从文件训练时须用 --out 指定模型输出文件"))?;
            train(&labeled, &unlabeled, taxonomy.as_deref(), &out, fast)
        }
        HotlineCommand::Train {
            labeled: None,
            force,
            ..
        } => train_db(cfg, force).await,
        HotlineCommand::Models => models(cfg).await,
        HotlineCommand::Activate { version } => activate(cfg, version).await,
        HotlineCommand::Classify {
            model,
            input,
            output,
        } => classify(&model, &input, &output),
        HotlineCommand::Evaluate {
            model,
            labeled,
            json,
        } => evaluate(&model, &labeled, json),
        HotlineCommand::Hotspots { input, top, json } => hotspots(&input, top, json),
        HotlineCommand::ReplyQuality { input, output } => reply_quality(&input, &output),
        HotlineCommand::Signals { at } => signals(cfg, at.as_deref()).await,
    }
}

async fn service(cfg: &Config) -> Result<hotline::HotlineService> {
    let db = crate::open(cfg).await?;
    crate::migrate(&db).await?;
    Ok(hotline::HotlineService::new(db, cfg.city.name.clone()))
}

fn db_err(e: kernel::Error) -> anyhow::Error {
    anyhow!(crate::DetailOrInternal::detail_or_internal(&e))
}

fn metrics_line(e: &Evaluation) -> String {
    format!(
        "准确率 {:.3}，宏平均 F1 {:.3}（{} 条）",
        e.accuracy, e.macro_f1, e.n
    )
}

async fn train_db(cfg: &Config, force: bool) -> Result<()> {
    let svc = service(cfg).await?;
    let started = Instant::now();
    let o = svc
        .train_model(&kernel::Actor::cli(), force)
        .await
        .map_err(db_err)?;
    let m = &o.model;
    println!(
        "模型版本 {}：训练用已分类工单 {} 条，未分类工单 {} 条，分类体系 {} 行，留出集 {} 条，用时 {:.1} 秒",
        m.version,
        m.n_labeled,
        m.n_unlabeled,
        m.n_seeds,
        m.n_holdout,
        started.elapsed().as_secs_f64()
    );
    match &o.candidate {
        Some(c) => println!("新模型留出集：{}", metrics_line(c)),
        None => println!("留出集为空，未评估"),
    }
    if let Some((v, e)) = &o.previous {
        println!("当前模型（版本 {v}）留出集：{}", metrics_line(e));
    }
    println!("{}", m.decision);
    println!(
        "{}",
        if o.activated {
            format!("已启用版本 {}", m.version)
        } else {
            format!("版本 {} 已保存但未启用", m.version)
        }
    );
    Ok(())
}

async fn models(cfg: &Config) -> Result<()> {
    let svc = service(cfg).await?;
    let list = svc.models(&kernel::Actor::cli()).await.map_err(db_err)?;
    if list.is_empty() {
        println!("数据库中还没有模型，请先运行 yiwang hotline train");
        return Ok(());
    }
    println!("  版本  训练时间             已分类  留出集  宏平均F1  准确率");
    for m in list {
        let ev = m.metrics.get("candidate");
        let f = |k: &str| {
            ev.and_then(|e| e.get(k))
                .and_then(|v| v.as_f64())
                .map_or("-".to_string(), |v| format!("{v:.3}"))
        };
        println!(
            "{} {:>4}  {}  {:>6}  {:>6}  {:>8}  {:>6}",
            if m.active { "*" } else { " " },
            m.version,
            kernel::clock::to_china(m.created_at).format("%Y-%m-%d %H:%M:%S"),
            m.n_labeled,
            m.n_holdout,
            f("macro_f1"),
            f("accuracy"),
        );
    }
    Ok(())
}

async fn activate(cfg: &Config, version: i64) -> Result<()> {
    let svc = service(cfg).await?;
    let m = svc
        .activate_model(&kernel::Actor::cli(), version)
        .await
        .map_err(db_err)?;
    println!("已启用模型版本 {}", m.version);
    Ok(())
}

async fn signals(cfg: &Config, at: Option<&str>) -> Result<()> {
    let at_ms = match at {
        Some(d) => {
            let day = chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                .map_err(|_| anyhow!("--at 日期格式应为 2025-03-14"))?;
            parse_china_time(&format!("{day} 23:59:59")).ok_or_else(|| anyhow!("--at 日期无效"))?
                + 999
        }
        None => kernel::clock::Clock::system().now(),
    };
    let db = crate::open(cfg).await?;
    kernel::migrate::run(&db, &web::migrations())
        .await
        .map_err(crate::cli_error)?;
    let s = hotline::alerts::run(&db, at_ms)
        .await
        .map_err(crate::cli_error)?;
    println!(
        "分析时点 {}：近期工单 {} 件，新提出告警 {} 条，更新已有告警 {} 条。",
        nlp::hotspot::format_china_time(at_ms),
        s.tickets,
        s.raised.len(),
        s.refreshed.len()
    );
    let list = hotline::alerts::AlertService::new(db.clone())
        .list(&kernel::Actor::cli(), Some("open"))
        .await
        .map_err(crate::cli_error)?;
    for a in list.iter().filter(|a| s.raised.contains(&a.id)) {
        let first = a.evidence["statements"][0].as_str().unwrap_or_default();
        println!("  [{}] {}（{}）{first}", a.id, a.subject_label, a.kind);
    }
    Ok(())
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into())
}

fn read(path: &Path) -> Result<Sheet> {
    tabular::read_path(path).map_err(|e| anyhow!("{e}"))
}

/// The column's index, or an error naming the file and the column.
fn require(sheet: &Sheet, path: &Path, aliases: &[&str]) -> Result<usize> {
    sheet
        .require(aliases)
        .map_err(|e| anyhow!("{}：{e}", file_name(path)))
}

fn load_model(path: &Path) -> Result<Model> {
    let bytes =
        std::fs::read(path).map_err(|e| anyhow!("无法读取模型文件“{}”：{e}", path.display()))?;
    Model::from_bytes(&bytes)
        .map_err(|e| anyhow!("模型文件“{}”无法识别（{e}），请重新训练", path.display()))
}

/// `(text, category)` of every labeled row; rows without a category are left out.
fn labeled_rows(path: &Path) -> Result<Vec<(String, String)>> {
    let sheet = read(path)?;
    require(&sheet, path, ID)?;
    let title = require(&sheet, path, TITLE)?;
    let detail = require(&sheet, path, DETAIL)?;
    let category = require(&sheet, path, CATEGORY)?;
    let rows: Vec<(String, String)> = sheet
        .rows
        .iter()
        .filter(|r| !r.get(Some(category)).is_empty())
        .map(|r| {
            (
                message_text(r.get(Some(title)), r.get(Some(detail))),
                r.get(Some(category)).to_string(),
            )
        })
        .collect();
    if rows.is_empty() {
        bail!("{}：没有带一级分类的留言", file_name(path));
    }
    Ok(rows)
}

fn china_now() -> chrono::DateTime<chrono::FixedOffset> {
    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8");
    chrono::Utc::now().with_timezone(&tz)
}

fn train(
    labeled: &Path,
    unlabeled: &[PathBuf],
    taxonomy: Option<&Path>,
    out: &Path,
    fast: bool,
) -> Result<()> {
    let rows = labeled_rows(labeled)?;
    let mut texts = Vec::new();
    for path in unlabeled {
        let sheet = read(path)?;
        let title = require(&sheet, path, TITLE)?;
        let detail = sheet.column(DETAIL);
        texts.extend(
            sheet
                .rows
                .iter()
                .map(|r| message_text(r.get(Some(title)), r.get(detail))),
        );
    }
    let mut tax = Vec::new();
    if let Some(path) = taxonomy {
        let sheet = read(path)?;
        let l1 = require(&sheet, path, &["一级分类", "level1"])?;
        let l2 = sheet.column(&["二级分类", "level2"]);
        let l3 = sheet.column(&["三级分类", "level3"]);
        tax.extend(sheet.rows.iter().map(|r| {
            (
                r.get(Some(l1)).to_string(),
                r.get(l2).to_string(),
                r.get(l3).to_string(),
            )
        }));
    }
    let now = china_now();
    let mut opts = TrainOptions {
        version: now.format("%Y%m%d.%H%M%S").to_string(),
        trained_at: now.format("%Y-%m-%d %H:%M:%S").to_string(),
        ..TrainOptions::default()
    };
    if fast {
        opts.self_training_rounds = 0;
    }
    println!(
        "训练：已标注 {} 条，未标注 {} 条，分类体系 {} 行",
        rows.len(),
        texts.len(),
        tax.len()
    );
    let started = Instant::now();
    let model = nlp::model::train(&rows, &texts, &tax, &opts);
    let secs = started.elapsed().as_secs_f64();
    let bytes = model
        .to_bytes()
        .map_err(|e| anyhow!("模型序列化失败：{e}"))?;
    std::fs::write(out, &bytes).map_err(|e| anyhow!("无法写入模型文件“{}”：{e}", out.display()))?;
    println!(
        "模型版本 {}，{} 个一级分类，伪标注 {} 条，训练用时 {secs:.1} 秒",
        model.version,
        model.classes().len(),
        model.n_pseudo_labeled
    );
    match &model.holdout {
        Some(h) => println!(
            "留出集（{} 条）：准确率 {:.3}，宏平均 F1 {:.3}",
            h.n, h.accuracy, h.macro_f1
        ),
        None => println!("已标注留言太少，未做留出集评估"),
    }
    println!("已写出模型：{}（{} 字节）", out.display(), bytes.len());
    Ok(())
}

/// Headers and the row's cells cut or padded to the header count.
fn cells(sheet: &Sheet, row: &Row) -> Vec<String> {
    let mut c = row.cells.clone();
    c.resize(sheet.headers.len(), String::new());
    c
}

fn csv_writer(path: &Path) -> Result<csv::Writer<std::fs::File>> {
    csv::Writer::from_path(path).map_err(|e| anyhow!("无法写入文件“{}”：{e}", path.display()))
}

fn classify(model: &Path, input: &Path, output: &Path) -> Result<()> {
    let model = load_model(model)?;
    let sheet = read(input)?;
    require(&sheet, input, ID)?;
    let title = require(&sheet, input, TITLE)?;
    let detail = sheet.column(DETAIL);
    let mut w = csv_writer(output)?;
    let mut header = sheet.headers.clone();
    header.extend(["predicted", "confidence", "top3"].map(String::from));
    w.write_record(&header)?;
    let texts: Vec<String> = sheet
        .rows
        .iter()
        .map(|r| message_text(r.get(Some(title)), r.get(detail)))
        .collect();
    // Both cores, one set of reused buffers per thread; predictions come back in row order.
    let predictions = model.predict_batch(&texts);
    drop(texts);
    for (r, p) in sheet.rows.iter().zip(predictions) {
        let top3: Vec<String> = p.top3.iter().map(|(l, q)| format!("{l}:{q:.4}")).collect();
        let mut rec = cells(&sheet, r);
        rec.push(p.label().to_string());
        rec.push(format!("{:.4}", p.confidence()));
        rec.push(top3.join("|"));
        w.write_record(&rec)?;
    }
    w.flush()?;
    println!(
        "已分类 {} 条留言，写出：{}",
        sheet.rows.len(),
        output.display()
    );
    Ok(())
}

fn evaluate(model: &Path, labeled: &Path, json: bool) -> Result<()> {
    let model = load_model(model)?;
    let rows = labeled_rows(labeled)?;
    let e = nlp::model::evaluate(&model, &rows);
    if json {
        println!("{}", serde_json::to_string_pretty(&e)?);
    } else {
        print_evaluation(&e);
    }
    Ok(())
}

/// Display width: CJK characters take two columns.
fn width(s: &str) -> usize {
    s.chars().map(|c| if c.is_ascii() { 1 } else { 2 }).sum()
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

fn rpad(s: &str, w: usize) -> String {
    format!("{}{s}", " ".repeat(w.saturating_sub(width(s))))
}

fn print_evaluation(e: &Evaluation) {
    println!("样本数：{}", e.n);
    println!("准确率：{:.3}", e.accuracy);
    println!("宏平均 F1：{:.3}", e.macro_f1);
    println!();
    let lw = e
        .labels
        .iter()
        .map(|l| width(l))
        .chain([8])
        .max()
        .unwrap_or(8);
    println!(
        "{}  {}  {}  {}  {}",
        pad("分类", lw),
        rpad("精确率", 8),
        rpad("召回率", 8),
        rpad("F1", 8),
        rpad("样本数", 8)
    );
    for c in &e.per_class {
        println!(
            "{}  {:>8.3}  {:>8.3}  {:>8.3}  {:>8}",
            pad(&c.label, lw),
            c.precision,
            c.recall,
            c.f1,
            c.support
        );
    }
    println!();
    println!("混淆矩阵（行：真实分类，列：预测分类，列号对应行号）");
    let head: Vec<String> = (1..=e.labels.len()).map(|i| format!("{i:>5}")).collect();
    println!("{}      {}", pad("", lw), head.join(""));
    for (i, (l, row)) in e.labels.iter().zip(&e.confusion).enumerate() {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:>5}")).collect();
        println!("{} {:>4} {}", pad(l, lw), i + 1, cells.join(""));
    }
}

fn hotspots(input: &Path, top: usize, json: bool) -> Result<()> {
    let sheet = read(input)?;
    let id = require(&sheet, input, ID)?;
    let title = require(&sheet, input, TITLE)?;
    let time = require(&sheet, input, TIME)?;
    let detail = sheet.column(DETAIL);
    let user = sheet.column(USER);
    let likes = sheet.column(LIKES);
    let mut messages = Vec::with_capacity(sheet.rows.len());
    let mut bad = 0usize;
    for r in &sheet.rows {
        let Some(at_ms) = parse_china_time(r.get(Some(time))) else {
            bad += 1;
            continue;
        };
        messages.push(Message {
            id: r.get(Some(id)).to_string(),
            text: format!("{}\n{}", r.get(Some(title)), r.get(detail)),
            at_ms,
            user: Some(r.get(user).to_string()).filter(|u| !u.is_empty()),
            likes: r.get(likes).parse().unwrap_or(0),
        });
    }
    if bad > 0 {
        eprintln!("{}：{bad} 行留言时间无法识别，已跳过", file_name(input));
    }
    let hot = nlp::hotspot::hotspots(
        &messages,
        &HotspotOptions {
            top,
            ..HotspotOptions::default()
        },
    );
    if json {
        println!("{}", serde_json::to_string_pretty(&hot)?);
        return Ok(());
    }
    println!("{} 条留言，{} 个热点问题", messages.len(), hot.len());
    for h in &hot {
        println!();
        println!("第 {} 名  热度 {:.2}  {}", h.rank, h.heat, h.title);
        if !h.place.is_empty() {
            println!("  地点：{}", h.place);
        }
        println!("  时间：{} 至 {}", h.time_from, h.time_to);
        println!(
            "  留言（{} 条）：{}",
            h.ticket_ids.len(),
            h.ticket_ids.join("、")
        );
    }
    Ok(())
}

fn reply_quality(input: &Path, output: &Path) -> Result<()> {
    let sheet = read(input)?;
    let title = require(&sheet, input, TITLE)?;
    let reply = require(&sheet, input, REPLY)?;
    let time = require(&sheet, input, TIME)?;
    let reply_time = require(&sheet, input, REPLY_TIME)?;
    let detail = sheet.column(DETAIL);
    let calendar = kernel::calendar::Calendar::builtin();
    let mut w = csv_writer(output)?;
    let mut header = sheet.headers.clone();
    header.extend(
        [
            "quality_total",
            "relevance",
            "completeness",
            "explanation",
            "timeliness",
            "reasons",
        ]
        .map(String::from),
    );
    w.write_record(&header)?;
    let mut sum = 0.0;
    for r in &sheet.rows {
        let request = format!("{}\n{}", r.get(Some(title)), r.get(detail));
        let t0 = parse_china_time(r.get(Some(time)));
        let t1 = parse_china_time(r.get(Some(reply_time)));
        let (a, b, minutes) = match (t0, t1) {
            (Some(a), Some(b)) => (a, b, Some(calendar.working_minutes_between(a, b))),
            (Some(a), None) => (a, a, None),
            (None, Some(b)) => (b, b, None),
            (None, None) => (0, 0, None),
        };
        let s = nlp::quality::score(&request, r.get(Some(reply)), a, b, minutes);
        sum += s.total;
        let mut rec = cells(&sheet, r);
        rec.extend([
            format!("{:.1}", s.total),
            format!("{:.1}", s.relevance),
            format!("{:.1}", s.completeness),
            format!("{:.1}", s.explanation),
            format!("{:.1}", s.timeliness),
            s.reasons.join("；"),
        ]);
        w.write_record(&rec)?;
    }
    w.flush()?;
    println!(
        "已评价 {} 条答复，平均总分 {:.1}，写出：{}",
        sheet.rows.len(),
        sum / sheet.rows.len().max(1) as f64,
        output.display()
    );
    Ok(())
}
