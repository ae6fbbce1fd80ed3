//! Hotline intelligence that answers from the database (issue 4, part B): knowledge-base search
//! and the citizens' Q&A (`kb`, `tokenizer`), duplicate suggestions at intake (`duplicates`) and
//! hot issues over a period (`hotspots`). Weak-signal alerts are in [`crate::alerts`].
//!
//! `SearchService` follows the module's shape: every method that reads tickets or articles takes
//! the `&Actor` and checks role, token scope and data scope itself; the Q&A is public and reads
//! only published articles.

pub mod duplicates;
pub mod hotspots;
pub mod kb;
mod store;
pub use textsearch::tokenizer;

use crate::HotlineService;
use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use duplicates::{Candidate, Probe};
use hotspots::DbHotspot;
use kernel::error::{Checks, Error, Result};
use kernel::{Actor, Db, Role};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa::{IntoParams, OpenApi, ToSchema};
use webcore::{ApiActor, ApiResult, AppCtx, Json, Path, Query};

/// Tunables kept in `hotline_intel_settings` (one row), so every instance uses the same.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub kb_generation: i64,
    /// Q&A answers below this normalised score are not given (`no_answer`).
    pub qa_min_score: f64,
    /// Duplicates are looked for among tickets of the last this many days.
    pub dup_window_days: i64,
    pub dup_min_similarity: f64,
}

pub async fn settings(c: &mut AnyConnection) -> Result<Settings> {
    store::settings(c).await
}

/// Longest question the public Q&A takes (a question, not a document).
pub const MAX_QUESTION_CHARS: usize = 500;
const MAX_SEARCH_CHARS: usize = 500;

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct KbSearchItem {
    pub article_id: i64,
    pub title: String,
    /// Plain text from the answer around the words that matched.
    pub snippet: String,
    /// BM25 with field boosts (title ×3, category ×1.5): orders this result list only.
    pub score: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct KbSearchResult {
    pub items: Vec<KbSearchItem>,
    /// Time spent answering, including the index freshness check.
    pub took_ms: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema, PartialEq)]
pub struct QaAnswer {
    pub article_id: i64,
    pub title: String,
    pub answer: String,
    /// Normalised to [0, 1]: the mean of the IDF-weighted share of the question's words found in
    /// the article and of the article's title words found in the question.
    pub score: f64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct QaResult {
    /// Best first; only answers at or above the threshold (empty when `no_answer`).
    pub answers: Vec<QaAnswer>,
    pub no_answer: bool,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QaRequest {
    pub question: String,
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DuplicateRequest {
    pub title: Option<String>,
    pub content: String,
    pub region_code: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// The caller's phone; a ticket of the same caller is still a candidate (they call again).
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DuplicateResult {
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketDuplicates {
    pub ticket_id: i64,
    /// Distinct callers on this ticket and its merged children.
    pub callers: i64,
    /// The suggestion stored when the ticket was registered, if the reader may see it.
    pub suggested: Option<Candidate>,
    /// Open tickets that look like the same issue now.
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct KbSearchQuery {
    pub q: Option<String>,
    /// 1–20, default 5.
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct HotspotQuery {
    /// `YYYY-MM-DD`, inclusive, China time.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, inclusive, China time.
    pub to: Option<String>,
    /// 1–100, default 10.
    pub top: Option<i64>,
    /// Region code prefix (e.g. a district's 6 digits).
    pub region: Option<String>,
}

#[derive(Clone, Debug)]
pub struct SearchService {
    db: Db,
}

const DAY_MS: i64 = 86_400_000;

fn require_staff(actor: &Actor) -> Result<()> {
    actor.require_scope("hotline:read")?;
    if actor.roles.iter().all(|r| *r == Role::Citizen) || actor.roles.is_empty() {
        return Err(Error::forbidden("仅限工作人员访问"));
    }
    Ok(())
}

fn china_date(s: &str, field: &str) -> Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| Error::field(field, "invalid_date", "日期格式应为 2025-03-14"))
}

fn day_start_ms(d: chrono::NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_local_timezone(kernel::clock::china())
        .single()
        .expect("fixed offset")
        .timestamp_millis()
}

impl SearchService {
    pub fn new(db: Db) -> Self {
        SearchService { db }
    }

    fn today(&self) -> String {
        kernel::clock::to_china(self.db.now())
            .date_naive()
            .to_string()
    }

    /// Top articles for what an operator types. Any staff role may read the knowledge base.
    pub async fn kb_search(&self, actor: &Actor, q: &str, limit: i64) -> Result<KbSearchResult> {
        let started = std::time::Instant::now();
        require_staff(actor)?;
        let mut c = Checks::new();
        c.check(!q.trim().is_empty(), "q", "required", "请输入要查找的内容");
        c.check(
            q.chars().count() <= MAX_SEARCH_CHARS,
            "q",
            "too_long",
            format!("查询内容不能超过 {MAX_SEARCH_CHARS} 个字"),
        );
        c.check(
            (1..=20).contains(&limit),
            "limit",
            "out_of_range",
            "limit 应在 1 到 20 之间",
        );
        c.finish()?;
        let ix = kb::current(&self.db).await?;
        let hits = ix.search(q, limit as usize, &self.today())?;
        Ok(KbSearchResult {
            items: hits
                .into_iter()
                .map(|h| KbSearchItem {
                    article_id: h.article_id,
                    title: h.title,
                    snippet: h.snippet,
                    score: (h.bm25 * 1000.0).round() / 1000.0,
                })
                .collect(),
            took_ms: (started.elapsed().as_secs_f64() * 1e6).round() / 1000.0,
        })
    }

    /// The citizens' 智能客服: the best published answers to a question, or `no_answer`.
    pub async fn qa(&self, question: &str) -> Result<QaResult> {
        let mut c = Checks::new();
        c.check(
            !question.trim().is_empty(),
            "question",
            "required",
            "请输入您的问题",
        );
        c.check(
            question.chars().count() <= MAX_QUESTION_CHARS,
            "question",
            "too_long",
            format!("问题不能超过 {MAX_QUESTION_CHARS} 个字"),
        );
        c.finish()?;
        let s = settings(&mut *self.db.pool().acquire().await?).await?;
        let ix = kb::current(&self.db).await?;
        let mut hits = ix.search(question, 10, &self.today())?;
        // BM25 finds the candidates; the normalised score orders and filters them.
        hits.sort_by(|a, b| {
            b.coverage
                .total_cmp(&a.coverage)
                .then_with(|| b.bm25.total_cmp(&a.bm25))
        });
        let answers: Vec<QaAnswer> = hits
            .into_iter()
            .filter(|h| h.coverage >= s.qa_min_score)
            .take(3)
            .map(|h| QaAnswer {
                article_id: h.article_id,
                title: h.title,
                answer: h.answer,
                score: h.coverage,
            })
            .collect();
        Ok(QaResult {
            no_answer: answers.is_empty(),
            answers,
        })
    }

    /// Open tickets that look like the one being registered, within the reader's scope.
    pub async fn duplicates(&self, actor: &Actor, r: &DuplicateRequest) -> Result<DuplicateResult> {
        require_staff(actor)?;
        let mut c = Checks::new();
        c.text("content", "诉求内容", &r.content, 4000);
        if let Some(t) = &r.title {
            c.check(
                t.chars().count() <= 200,
                "title",
                "too_long",
                "标题不能超过 200 个字",
            );
        }
        if let Some(rc) = r.region_code.as_deref().filter(|s| !s.is_empty()) {
            c.check(
                kernel::codes::check_region_code(rc).is_ok(),
                "region_code",
                "invalid",
                "行政区划代码应为 6 位或 12 位数字",
            );
        }
        if let Some(lat) = r.lat {
            c.check(
                (-90.0..=90.0).contains(&lat),
                "lat",
                "out_of_range",
                "纬度应在 -90 到 90 之间",
            );
        }
        if let Some(lon) = r.lon {
            c.check(
                (-180.0..=180.0).contains(&lon),
                "lon",
                "out_of_range",
                "经度应在 -180 到 180 之间",
            );
        }
        c.check(
            r.lat.is_some() == r.lon.is_some(),
            if r.lat.is_some() { "lon" } else { "lat" },
            "required",
            "经纬度需同时填写",
        );
        c.finish()?;
        let mut conn = self.db.pool().acquire().await?;
        let s = settings(&mut conn).await?;
        let probe = Probe {
            exclude_id: None,
            title: r.title.clone().unwrap_or_default(),
            content: r.content.clone(),
            region_code: r.region_code.clone().filter(|s| !s.is_empty()),
            address: None,
            lat: r.lat,
            lon: r.lon,
        };
        let candidates = duplicates::find(
            &mut conn,
            self.db.sealer(),
            &self.db.state::<duplicates::DupCache>(),
            Some(actor),
            &probe,
            self.db.now(),
            s.dup_window_days,
            s.dup_min_similarity,
            5,
        )
        .await?;
        Ok(DuplicateResult { candidates })
    }

    /// A ticket's callers for the same issue, its stored suggestion and its live candidates.
    pub async fn ticket_duplicates(&self, actor: &Actor, id: i64) -> Result<TicketDuplicates> {
        let hotline = HotlineService::new(self.db.clone(), "");
        let t = hotline.get(actor, id).await?.ticket;
        require_staff(actor)?;
        let mut conn = self.db.pool().acquire().await?;
        let s = settings(&mut conn).await?;
        let callers = duplicates::callers(&mut conn, id).await?;
        let probe = Probe {
            exclude_id: Some(id),
            title: t.title.clone(),
            content: t.content.clone(),
            region_code: t.location.region_code.clone(),
            address: t.location.address.clone(),
            lat: t.location.lat,
            lon: t.location.lng,
        };
        let candidates = if t.status.is_open() {
            duplicates::find(
                &mut conn,
                self.db.sealer(),
                &self.db.state::<duplicates::DupCache>(),
                Some(actor),
                &probe,
                self.db.now(),
                s.dup_window_days,
                s.dup_min_similarity,
                5,
            )
            .await?
        } else {
            Vec::new()
        };
        let suggested = match duplicates::stored_suggestion(&mut conn, id).await? {
            Some((cid, sim)) => {
                match crate::ticket::store::ticket(&mut conn, self.db.sealer(), cid).await? {
                    Some((c, _)) if HotlineService::can_see(actor, &c) => Some(Candidate {
                        ticket_id: c.id,
                        number: c.number.clone(),
                        title: c.title.clone(),
                        status: c.status.code().to_owned(),
                        similarity: sim,
                        callers: duplicates::callers(&mut conn, c.id).await?,
                        created_at: nlp::hotspot::format_china_time(c.created_at),
                    }),
                    _ => None,
                }
            }
            None => None,
        };
        Ok(TicketDuplicates {
            ticket_id: id,
            callers,
            suggested,
            candidates,
        })
    }

    /// Hot issues among the tickets registered from `from` to `to` (inclusive days).
    pub async fn hotspots(&self, actor: &Actor, q: &HotspotQuery) -> Result<Vec<DbHotspot>> {
        require_staff(actor)?;
        let mut c = Checks::new();
        let today = kernel::clock::to_china(self.db.now()).date_naive();
        let parse = |c: &mut Checks, v: &Option<String>, field: &str| match v.as_deref() {
            Some(s) if !s.trim().is_empty() => match china_date(s, field) {
                Ok(d) => Some(d),
                Err(_) => {
                    c.add(field, "invalid_date", "日期格式应为 2025-03-14");
                    None
                }
            },
            _ => None,
        };
        let to = parse(&mut c, &q.to, "to").unwrap_or(today);
        let from = parse(&mut c, &q.from, "from").unwrap_or(to - chrono::Duration::days(29));
        c.check(from <= to, "to", "before_start", "结束日期不能早于开始日期");
        c.check(
            (to - from).num_days() <= 366,
            "from",
            "too_long",
            "统计期间不能超过一年",
        );
        let top = q.top.unwrap_or(10);
        c.check(
            (1..=100).contains(&top),
            "top",
            "out_of_range",
            "top 应在 1 到 100 之间",
        );
        let region = q.region.as_deref().map(str::trim).filter(|s| !s.is_empty());
        if let Some(r) = region {
            c.check(
                r.len() <= 12 && r.bytes().all(|b| b.is_ascii_digit()),
                "region",
                "invalid",
                "区划代码应为数字",
            );
        }
        c.finish()?;
        hotspots::from_db(
            &self.db,
            Some(actor),
            day_start_ms(from),
            day_start_ms(to) + DAY_MS,
            top as usize,
            region,
        )
        .await
    }
}

// ---- HTTP ----

fn svc(ctx: &AppCtx) -> SearchService {
    SearchService::new(ctx.db.clone())
}

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/hotline/kb/search", get(kb_search))
        .route("/api/v1/hotline/qa", post(qa))
        .route("/api/v1/hotline/duplicates", post(find_duplicates))
        .route(
            "/api/v1/hotline/tickets/{id}/duplicates",
            get(ticket_duplicates),
        )
        .route("/api/v1/hotline/hotspots", get(hot))
}

#[derive(OpenApi)]
#[openapi(
    paths(kb_search, qa, find_duplicates, ticket_duplicates, hot),
    components(schemas(KbSearchResult, KbSearchItem, QaRequest, QaResult, QaAnswer, DuplicateRequest,
                       DuplicateResult, Candidate, TicketDuplicates, DbHotspot)),
    tags((name = "hotline-intel", description = "12345 热线智能：知识检索、智能问答、重复工单、热点问题、研判告警"))
)]
pub struct SearchApi;

/// Knowledge-base search for operators: the best published articles for what they type.
#[utoipa::path(get, path = "/api/v1/hotline/kb/search", tag = "hotline-intel", params(KbSearchQuery),
    responses((status = 200, body = KbSearchResult), (status = 422, body = webcore::error::Problem)))]
async fn kb_search(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<KbSearchQuery>,
) -> ApiResult<axum::Json<KbSearchResult>> {
    Ok(axum::Json(
        svc(&ctx)
            .kb_search(&a, q.q.as_deref().unwrap_or(""), q.limit.unwrap_or(5))
            .await?,
    ))
}

/// 智能客服 (public): best answers from the published knowledge base, `no_answer` when none
/// reaches the threshold. Questions are limited to 500 characters.
#[utoipa::path(post, path = "/api/v1/hotline/qa", tag = "hotline-intel", request_body = QaRequest,
    responses((status = 200, body = QaResult), (status = 422, body = webcore::error::Problem)))]
async fn qa(
    State(ctx): State<AppCtx>,
    Json(r): Json<QaRequest>,
) -> ApiResult<axum::Json<QaResult>> {
    Ok(axum::Json(svc(&ctx).qa(&r.question).await?))
}

/// Open tickets of the same issue at the same place, for the intake form.
#[utoipa::path(post, path = "/api/v1/hotline/duplicates", tag = "hotline-intel", request_body = DuplicateRequest,
    responses((status = 200, body = DuplicateResult), (status = 422, body = webcore::error::Problem)))]
async fn find_duplicates(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(r): Json<DuplicateRequest>,
) -> ApiResult<axum::Json<DuplicateResult>> {
    Ok(axum::Json(svc(&ctx).duplicates(&a, &r).await?))
}

/// A ticket's caller count for the same issue and its possible duplicates.
#[utoipa::path(get, path = "/api/v1/hotline/tickets/{id}/duplicates", tag = "hotline-intel", params(("id" = i64, Path)),
    responses((status = 200, body = TicketDuplicates), (status = 403, body = webcore::error::Problem), (status = 404, body = webcore::error::Problem)))]
async fn ticket_duplicates(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Path(id): Path<i64>,
) -> ApiResult<axum::Json<TicketDuplicates>> {
    Ok(axum::Json(svc(&ctx).ticket_duplicates(&a, id).await?))
}

/// Hot issues among the tickets registered in a period (default: the last 30 days).
#[utoipa::path(get, path = "/api/v1/hotline/hotspots", tag = "hotline-intel", params(HotspotQuery),
    responses((status = 200, body = Vec<DbHotspot>), (status = 422, body = webcore::error::Problem)))]
async fn hot(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Query(q): Query<HotspotQuery>,
) -> ApiResult<axum::Json<Vec<DbHotspot>>> {
    Ok(axum::Json(svc(&ctx).hotspots(&a, &q).await?))
}
