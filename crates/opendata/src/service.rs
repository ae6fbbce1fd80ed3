//! `OpendataService`: the open datasets (made from the catalog through sharing's public
//! service), their Chinese search, downloads with their counts, 有条件开放 applications and
//! 开放需求, and the figures.

use crate::domain::*;
use crate::store;
use kernel::audit;
use kernel::error::{Error, Result};
use kernel::{Actor, Authorized, Db, Role};
use serde::Serialize;
use serde_json::{json, Map, Value};
use sharing::open::OpenEntry;
use sharing::SharingService;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use textsearch::{Analysis, FieldSpec, IndexCache, IndexDoc, QueryGroup, TextIndex};

kernel::permission!(
    /// Apply for a 有条件开放 dataset: a resident with an account.
    pub Apply = [Citizen], "opendata:write"
);
kernel::permission!(
    /// Decide applications for one's department's datasets.
    pub Decide = [DataOfficer, ChiefDataOfficer, SysAdmin], "opendata:write"
);
kernel::permission!(
    /// Read and answer 开放需求 (the bureau's data staff).
    pub Demands = [DataOfficer, ChiefDataOfficer, SysAdmin], "opendata:write"
);

#[derive(Clone, Debug)]
pub struct OpendataService {
    db: Db,
}

/// One page of a search.
#[derive(Debug, Clone)]
pub struct SearchResult {
    pub count: usize,
    pub results: Vec<Dataset>,
    pub facets: std::collections::BTreeMap<String, Vec<(String, String, usize)>>,
}

/// Views and downloads of a dataset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub views: i64,
    pub downloads: i64,
}

/// The portal's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    /// 开放数据集数.
    pub datasets: usize,
    pub unconditional: usize,
    pub conditional: usize,
    /// Published catalog entries, open or not.
    pub catalog_entries: usize,
    /// 开放率: open ÷ published entries.
    pub open_rate: f64,
    pub by_department: Vec<DeptFigures>,
    pub views: i64,
    pub downloads: i64,
    pub api_calls: i64,
    pub applications: HashMap<String, i64>,
    pub demands: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct DeptFigures {
    pub dept_id: i64,
    pub name: String,
    pub published: usize,
    pub open: usize,
    pub open_rate: f64,
    pub downloads: i64,
}

const FIELDS: [FieldSpec; 3] = [
    FieldSpec {
        name: "title",
        analysis: Analysis::Words,
        boost: 3.0,
    },
    FieldSpec {
        name: "body",
        analysis: Analysis::Words,
        boost: 1.0,
    },
    FieldSpec {
        name: "grams",
        analysis: Analysis::Bigrams,
        boost: 0.5,
    },
];

type Fingerprint = (usize, i64, i64, i64);

/// The open datasets of one database and the catalog generation they were read at.
#[derive(Default)]
struct DatasetCache(std::sync::Mutex<Option<(i64, Arc<Vec<Dataset>>)>>);

fn cache() -> &'static IndexCache<Fingerprint, TextIndex> {
    static C: OnceLock<IndexCache<Fingerprint, TextIndex>> = OnceLock::new();
    C.get_or_init(Default::default)
}

fn fingerprint(all: &[Dataset]) -> Fingerprint {
    (
        all.len(),
        all.iter().map(|d| d.version).sum(),
        all.iter().map(|d| d.modified).max().unwrap_or(0),
        all.iter().map(|d| d.created % 1_000_003).sum(),
    )
}

impl OpendataService {
    pub fn new(db: Db) -> Self {
        OpendataService { db }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    fn sharing(&self) -> SharingService {
        SharingService::new(self.db.clone())
    }

    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.db.pool().acquire().await?)
    }

    /// Every open dataset, by code.
    pub async fn datasets(&self) -> Result<Vec<Dataset>> {
        Ok(self.datasets_shared().await?.as_ref().clone())
    }

    /// Every open dataset, kept in memory per database while the catalog's change counter
    /// stays the same (one small read per call instead of the whole catalog).
    pub async fn datasets_shared(&self) -> Result<Arc<Vec<Dataset>>> {
        let cache = self.db.state::<DatasetCache>();
        let generation = self.sharing().catalog_generation().await?;
        if let Some((g, all)) = cache.0.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
            if *g == generation {
                return Ok(all.clone());
            }
        }
        let all: Arc<Vec<Dataset>> = Arc::new(
            self.sharing()
                .open_entries()
                .await?
                .iter()
                .map(dataset_of)
                .collect(),
        );
        *cache.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((generation, all.clone()));
        Ok(all)
    }

    /// A page of an open table for streaming: open fields only, and the page's last row id.
    pub async fn rows_page(
        &self,
        e: &OpenEntry,
        resource_code: &str,
        after: i64,
        limit: i64,
    ) -> Result<Option<(i64, Vec<Map<String, Value>>)>> {
        let r = e
            .resources
            .iter()
            .find(|r| r.code == resource_code)
            .ok_or_else(|| Error::not_found("opendata_resource", "资源不存在"))?;
        self.sharing().open_rows_page(r, after, limit).await
    }

    /// A dataset by its id (资源代码) or name (its slug).
    pub async fn dataset(&self, id_or_name: &str) -> Result<(Dataset, OpenEntry)> {
        let code = id_or_name.trim().to_ascii_uppercase();
        if !sharing::catalog::domain::is_entry_code(&code) {
            return Err(Error::not_found("opendata_dataset", "数据集不存在或未开放"));
        }
        let e = self.sharing().open_entry(&code).await?;
        Ok((dataset_of(&e), e))
    }

    /// CKAN's `package_search` over the open datasets: Chinese full text (`textsearch`) when
    /// there is a query, `fq` filters, sort, paging and facets over every match.
    pub async fn search(&self, s: &Search) -> Result<SearchResult> {
        let all = self.datasets_shared().await?;
        let mut hits: Vec<&Dataset> = if s.q.is_empty() {
            all.iter().collect()
        } else {
            let ix = self.index(&all).await?;
            let groups: Vec<QueryGroup> =
                s.q.split(|c: char| c.is_whitespace() || matches!(c, '，' | ',' | '、'))
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .take(8)
                    .map(|t| ix.group(t, 1.0))
                    .filter(|g| !g.is_empty())
                    .collect();
            if groups.is_empty() {
                Vec::new()
            } else {
                let ids = ix.top(&ix.all_groups(&groups), all.len().max(1))?;
                ids.into_iter()
                    .filter_map(|(i, _)| all.get(i as usize))
                    .collect()
            }
        };
        hits.retain(|d| matches_fq(d, &s.fq));
        sort_results(&mut hits, s.sort, !s.q.is_empty());
        let mut facets = facets(&hits, &s.facet_fields);
        for v in facets.values_mut() {
            v.truncate(s.facet_limit);
        }
        Ok(SearchResult {
            count: hits.len(),
            results: hits
                .into_iter()
                .skip(s.start)
                .take(s.rows)
                .cloned()
                .collect(),
            facets,
        })
    }

    /// The search index over the open datasets (documents numbered by their place in `all`),
    /// rebuilt when the open set changed.
    async fn index(&self, all: &[Dataset]) -> Result<Arc<TextIndex>> {
        let key = format!("opendata:{}", self.db.url());
        let g = fingerprint(all);
        if let Some(ix) = cache().cached(&key, &g) {
            return Ok(ix);
        }
        let lock = cache().build_lock(&key);
        let _guard = lock.lock().await;
        if let Some(ix) = cache().cached(&key, &g) {
            return Ok(ix);
        }
        let docs: Vec<IndexDoc> = all
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let body = format!(
                    "{} {} {} {}",
                    d.notes,
                    d.org_title,
                    d.tags.join(" "),
                    d.category.label()
                );
                IndexDoc {
                    id: i as i64,
                    texts: vec![d.title.clone(), body.clone(), format!("{} {body}", d.title)],
                }
            })
            .collect();
        let words: Vec<String> = all
            .iter()
            .map(|d| d.org_title.clone())
            .filter(|n| !n.is_empty())
            .collect();
        let ix = tokio::task::spawn_blocking(move || TextIndex::build(&FIELDS, &docs, &words))
            .await
            .map_err(Error::internal)??;
        let ix = Arc::new(ix);
        cache().insert(&key, g, ix.clone());
        Ok(ix)
    }

    /// Counts a view, a download (`detail` = format) or an API call (`detail` = action).
    pub async fn record(&self, kind: &str, d: Option<&Dataset>, detail: &str) -> Result<()> {
        store::record_usage(
            &mut *self.conn().await?,
            kind,
            d.map(|d| d.code.as_str()).unwrap_or(""),
            detail,
            d.map(|d| d.org_id),
            self.db.now(),
        )
        .await
    }

    /// Views and downloads per dataset code.
    pub async fn usage(&self) -> Result<HashMap<String, Usage>> {
        let mut out: HashMap<String, Usage> = HashMap::new();
        for (code, kind, n) in store::usage_counts(&mut *self.conn().await?, 0, i64::MAX).await? {
            let u = out.entry(code).or_default();
            match kind.as_str() {
                "view" => u.views += n,
                "download" => u.downloads += n,
                _ => {}
            }
        }
        Ok(out)
    }

    /// Whether the reader may download the dataset's rows: anyone for 无条件开放; for
    /// 有条件开放, a resident holding an approved application.
    pub async fn may_download(&self, actor: Option<&Actor>, d: &Dataset) -> Result<bool> {
        if !d.conditional() {
            return Ok(true);
        }
        match actor.and_then(|a| a.user_id) {
            Some(u) => store::approved(&mut *self.conn().await?, u, &d.code).await,
            None => Ok(false),
        }
    }

    /// Refuses a download the reader may not make, saying what to do.
    pub async fn require_download(&self, actor: Option<&Actor>, d: &Dataset) -> Result<()> {
        if self.may_download(actor, d).await? {
            Ok(())
        } else if actor.and_then(|a| a.user_id).is_none() {
            Err(Error::Unauthorized(
                "该数据集为有条件开放，请登录后提出申请，经数据提供部门同意后下载".into(),
            ))
        } else {
            Err(Error::forbidden(
                "该数据集为有条件开放，您的申请尚未获数据提供部门同意，暂不能下载",
            ))
        }
    }

    /// Up to `limit` rows of a table after row `after`, open fields only.
    pub async fn rows(
        &self,
        e: &OpenEntry,
        resource_code: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<(i64, Map<String, Value>)>> {
        let r = e
            .resources
            .iter()
            .find(|r| r.code == resource_code)
            .ok_or_else(|| Error::not_found("opendata_resource", "资源不存在"))?;
        self.sharing().open_rows(r, after, limit).await
    }

    // ---- 数据申请 ----

    /// A resident applies for a 有条件开放 dataset with a purpose.
    pub async fn apply(&self, actor: &Actor, code: &str, purpose: &str) -> Result<Application> {
        let g = actor.authorize::<Apply>()?;
        let user = actor
            .user_id
            .ok_or_else(|| Error::Unauthorized("请先登录".into()))?;
        let purpose = check_purpose(purpose)?;
        let (d, _) = self.dataset(code).await?;
        if !d.conditional() {
            return Err(Error::conflict(
                "not_conditional",
                None,
                "该数据集为无条件开放，无需申请即可下载",
            ));
        }
        let mine = self.my_applications(actor).await?;
        if mine.iter().any(|a| {
            a.entry_code == d.code
                && matches!(
                    a.status,
                    ApplicationStatus::Pending | ApplicationStatus::Approved
                )
        }) {
            return Err(Error::conflict(
                "already_applied",
                None,
                "您已申请过该数据集（待审核或已同意），无需重复申请",
            ));
        }
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let id = store::insert_application(
            &mut tx,
            Authorized::from(g),
            &d.code,
            d.org_id,
            user,
            &actor.display_name,
            &purpose,
            now,
        )
        .await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "opendata_application",
            id,
            "apply",
            json!({"entry_code": d.code, "purpose": purpose}),
        )
        .await?;
        tx.commit().await?;
        self.application(id).await
    }

    pub async fn application(&self, id: i64) -> Result<Application> {
        store::application(&mut *self.conn().await?, id)
            .await?
            .ok_or_else(|| Error::not_found("opendata_application", "申请不存在"))
    }

    pub async fn my_applications(&self, actor: &Actor) -> Result<Vec<Application>> {
        match actor.user_id {
            Some(u) => store::applications(&mut *self.conn().await?, Some(u), None, 200).await,
            None => Ok(Vec::new()),
        }
    }

    /// Applications for the datasets of the departments the actor sees.
    pub async fn applications_to_decide(&self, actor: &Actor) -> Result<Vec<Application>> {
        actor.authorize::<Decide>()?;
        let all = store::applications(&mut *self.conn().await?, None, None, 1000).await?;
        Ok(all
            .into_iter()
            .filter(|a| actor.scope.can_see(&[a.provider_dept_id], None))
            .collect())
    }

    /// The providing department approves or refuses (with a reason) an application.
    pub async fn decide(
        &self,
        actor: &Actor,
        id: i64,
        approve: bool,
        reason: &str,
    ) -> Result<Application> {
        let g = actor.authorize::<Decide>()?;
        let a = self.application(id).await?;
        if !actor.scope.can_see(&[a.provider_dept_id], None) {
            return Err(Error::forbidden("只能审核本部门数据集的申请"));
        }
        let reason = reason.trim();
        if !approve && reason.is_empty() {
            return Err(Error::field("reason", "required", "不同意须写明理由"));
        }
        if reason.chars().count() > 500 {
            return Err(Error::field("reason", "too_long", "理由不能超过 500 个字"));
        }
        let status = if approve {
            ApplicationStatus::Approved
        } else {
            ApplicationStatus::Refused
        };
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        if !store::decide_application(
            &mut tx,
            Authorized::from(g),
            id,
            status,
            reason,
            &actor.display_name,
            now,
        )
        .await?
        {
            return Err(Error::IllegalTransition {
                detail: "该申请已处理".into(),
            });
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "opendata_application",
            id,
            status.code(),
            json!({"entry_code": a.entry_code, "reason": reason}),
        )
        .await?;
        tx.commit().await?;
        self.application(id).await
    }

    // ---- 开放需求 ----

    /// Anyone asks for data not yet open; it reaches the bureau's list of open tasks and its
    /// data staff as a notification (`opendata.demand`).
    pub async fn submit_demand(
        &self,
        title: &str,
        description: &str,
        contact: &str,
    ) -> Result<Demand> {
        let (t, d, c) = check_demand(title, description, contact)?;
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        let id = store::insert_demand(&mut tx, &t, &d, &c, now).await?;
        audit::record(
            &mut tx,
            now,
            &Actor::system().audit_actor(),
            "opendata_demand",
            id,
            "submit",
            json!({"title": t}),
        )
        .await?;
        if let Some(bureau) = self.sharing().bureau().await? {
            let mut m = notify::Message::new("opendata", "opendata.demand");
            m.subject_id = Some(id);
            m.inbox = vec![notify::Recipient::Role {
                role: Role::DataOfficer,
                dept: Some(bureau),
            }];
            m.vars = [
                ("标题", t.clone()),
                ("描述", d.chars().take(200).collect::<String>()),
                (
                    "提交时间",
                    kernel::clock::to_china(now)
                        .format("%Y-%m-%d %H:%M")
                        .to_string(),
                ),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            notify::Outbox::of(&self.db)
                .enqueue(&mut tx, &m, now)
                .await?;
        }
        tx.commit().await?;
        Ok(Demand {
            id,
            title: t,
            description: d,
            contact: c,
            status: "open".into(),
            answer: String::new(),
            created_at: now,
        })
    }

    /// 开放需求 for the bureau (its data staff and administrators).
    pub async fn demands(&self, actor: &Actor) -> Result<Vec<Demand>> {
        actor.authorize::<Demands>()?;
        self.require_bureau(actor).await?;
        let mut v = store::demands(&mut *self.conn().await?, 500).await?;
        if !actor.has_role(Role::SysAdmin) {
            for d in &mut v {
                d.contact = mask_contact(&d.contact);
            }
        }
        Ok(v)
    }

    pub async fn answer_demand(&self, actor: &Actor, id: i64, answer: &str) -> Result<()> {
        let g = actor.authorize::<Demands>()?;
        self.require_bureau(actor).await?;
        let answer = answer.trim();
        if answer.is_empty() || answer.chars().count() > 1000 {
            return Err(Error::field(
                "answer",
                "required",
                "请填写答复（至多 1000 个字）",
            ));
        }
        let now = self.db.now();
        let mut tx = self.db.begin().await?;
        if !store::answer_demand(&mut tx, Authorized::from(g), id, answer, now).await? {
            return Err(Error::not_found("opendata_demand", "需求不存在"));
        }
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "opendata_demand",
            id,
            "answer",
            json!({"answer": answer}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn require_bureau(&self, actor: &Actor) -> Result<()> {
        if self.sharing().is_bureau(actor).await? {
            Ok(())
        } else {
            Err(Error::forbidden("开放需求由数据局处理"))
        }
    }

    // ---- 统计 ----

    /// The figures of all time.
    pub async fn figures(&self) -> Result<Figures> {
        self.figures_between(0, i64::MAX).await
    }

    /// Datasets and 开放率 as they stand now; views, downloads, API calls, applications made
    /// and 开放需求 within [from, to) (Unix ms).
    pub async fn figures_between(&self, from: i64, to: i64) -> Result<Figures> {
        let published = self.sharing().published_entries().await?;
        let all = self.datasets().await?;
        let mut usage_by_code: HashMap<String, Usage> = HashMap::new();
        let mut api_calls = 0;
        for (code, kind, n) in store::usage_counts(&mut *self.conn().await?, from, to).await? {
            let u = usage_by_code.entry(code).or_default();
            match kind.as_str() {
                "view" => u.views += n,
                "download" => u.downloads += n,
                "api" => api_calls += n,
                _ => {}
            }
        }
        let mut depts: std::collections::BTreeMap<i64, DeptFigures> = Default::default();
        for l in &published {
            let e = depts
                .entry(l.entry.provider_dept_id)
                .or_insert_with(|| DeptFigures {
                    dept_id: l.entry.provider_dept_id,
                    name: l.provider_name.clone(),
                    published: 0,
                    open: 0,
                    open_rate: 0.0,
                    downloads: 0,
                });
            e.published += 1;
        }
        for d in &all {
            if let Some(e) = depts.get_mut(&d.org_id) {
                e.open += 1;
                e.downloads += usage_by_code.get(&d.code).map_or(0, |u| u.downloads);
            }
        }
        let rate = |open: usize, all: usize| {
            if all == 0 {
                0.0
            } else {
                (open as f64 / all as f64 * 1000.0).round() / 10.0
            }
        };
        let mut by_department: Vec<DeptFigures> = depts
            .into_values()
            .map(|mut d| {
                d.open_rate = rate(d.open, d.published);
                d
            })
            .collect();
        by_department.sort_by(|a, b| b.open.cmp(&a.open).then(a.name.cmp(&b.name)));
        let applications = store::application_counts(&mut *self.conn().await?, from, to)
            .await?
            .into_iter()
            .collect();
        let demands = store::demand_count(&mut *self.conn().await?, from, to).await? as usize;
        Ok(Figures {
            datasets: all.len(),
            unconditional: all.iter().filter(|d| !d.conditional()).count(),
            conditional: all.iter().filter(|d| d.conditional()).count(),
            catalog_entries: published.len(),
            open_rate: rate(all.len(), published.len()),
            by_department,
            views: usage_by_code.values().map(|u| u.views).sum(),
            downloads: usage_by_code.values().map(|u| u.downloads).sum(),
            api_calls,
            applications,
            demands,
        })
    }
}

/// A contact masked by its kind (a mobile, an 身份证号 …), else all but its first two characters.
fn mask_contact(c: &str) -> String {
    match kernel::mask::kind_of_value(c) {
        Some(k) => kernel::mask::as_kind(k, c),
        None if c.is_empty() => String::new(),
        None => format!("{}***", c.chars().take(2).collect::<String>()),
    }
}
