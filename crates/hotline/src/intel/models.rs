//! Classification models kept in the database: training from the bureau's own tickets,
//! promotion only when not worse on the held-out tickets, and the in-memory cache serving uses.

use super::{store, ManageModels};
use crate::HotlineService;
use kernel::error::{Error, Result};
use kernel::{audit, Actor, Role};
use nlp::model::{message_text, Evaluation, Model, TrainOptions};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use utoipa::ToSchema;

/// Unlabeled texts taken into training at most (the newest).
const MAX_UNLABELED: i64 = 20_000;

/// Whether a ticket belongs to the held-out part. Decided by the ticket id alone, so every
/// model is measured on tickets that neither it nor any earlier model trained on, and the
/// comparison between a candidate and the active model is fair.
pub fn is_holdout(ticket_id: i64) -> bool {
    // splitmix64: ids are sequential, the hash spreads them.
    let mut z = (ticket_id as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    z.is_multiple_of(5)
}

/// What the database gives a training run.
#[derive(Debug, Clone, Default)]
pub struct TrainingSet {
    /// `(ticket id, text, category path)`.
    pub labeled: Vec<(i64, String, String)>,
    pub unlabeled: Vec<String>,
    /// `(level 1, level 2, level 3)` names of the taxonomy.
    pub taxonomy: Vec<(String, String, String)>,
    /// Regions and departments, for the segmenter.
    pub user_words: Vec<String>,
}

/// A stored model version.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelInfo {
    pub version: i64,
    pub created_at: i64,
    pub created_by: String,
    pub n_labeled: i64,
    pub n_unlabeled: i64,
    pub n_seeds: i64,
    pub n_holdout: i64,
    /// `{"candidate": Evaluation | null, "active": {"version", "evaluation"} | null}` on the
    /// held-out tickets at training time.
    #[schema(value_type = Object)]
    pub metrics: serde_json::Value,
    /// Why it was or was not made active.
    pub decision: String,
    pub active: bool,
    pub size_bytes: i64,
}

impl From<store::ModelRow> for ModelInfo {
    fn from(r: store::ModelRow) -> Self {
        ModelInfo {
            version: r.version,
            created_at: r.created_at,
            created_by: r.created_by,
            n_labeled: r.n_labeled,
            n_unlabeled: r.n_unlabeled,
            n_seeds: r.n_seeds,
            n_holdout: r.n_holdout,
            metrics: serde_json::from_str(&r.metrics).unwrap_or(serde_json::Value::Null),
            decision: r.decision,
            active: r.active,
            size_bytes: r.size,
        }
    }
}

/// The result of a training run.
#[derive(Debug, Clone, Serialize)]
pub struct TrainOutcome {
    pub model: ModelInfo,
    pub activated: bool,
    pub candidate: Option<Evaluation>,
    /// The model that was active before, measured on the same held-out tickets.
    pub previous: Option<(i64, Evaluation)>,
}

/// Whether a candidate replaces the active model, and why (zh-CN).
pub fn decide(
    candidate: Option<&Evaluation>,
    active: Option<(i64, &Evaluation)>,
    had_active: bool,
    force: bool,
) -> (bool, String) {
    let verdict = match (candidate, active) {
        _ if !had_active => (true, "此前没有启用的模型，新模型直接启用".to_string()),
        (Some(c), Some((v, a))) => {
            let text = format!(
                "留出集 {} 条：新模型宏平均 F1 {:.3}、准确率 {:.3}；当前模型（版本 {v}）宏平均 F1 {:.3}、准确率 {:.3}",
                c.n, c.macro_f1, c.accuracy, a.macro_f1, a.accuracy
            );
            if nlp::model::is_not_worse(c, a) {
                (true, format!("{text}。新模型不差于当前模型，已启用"))
            } else {
                (
                    false,
                    format!("{text}。新模型不如当前模型（宏平均 F1 下降或准确率下降超过 1 个百分点），未启用"),
                )
            }
        }
        _ => (false, "留出集为空，无法与当前模型比较，未启用".to_string()),
    };
    match verdict {
        (false, why) if force => (true, format!("{why}；管理员强制启用")),
        v => v,
    }
}

type Cache = Mutex<HashMap<String, (i64, Arc<Model>)>>;

/// The active model of each database (by URL), with its version.
fn cache() -> &'static Cache {
    static C: OnceLock<Cache> = OnceLock::new();
    C.get_or_init(Default::default)
}

fn level_names(path: &str) -> (String, String, String) {
    let mut p = path.split('/').map(str::to_string);
    (
        p.next().unwrap_or_default(),
        p.next().unwrap_or_default(),
        p.next().unwrap_or_default(),
    )
}

/// Training options for a run from the database (`version` is the stored version).
pub fn options(version: i64, trained_at: i64, user_words: Vec<String>) -> TrainOptions {
    TrainOptions {
        version: version.to_string(),
        trained_at: kernel::clock::to_china(trained_at)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string(),
        user_words,
        // The held-out part is chosen by ticket id here, not inside nlp.
        holdout_fraction: 0.0,
        ..TrainOptions::default()
    }
}

impl HotlineService {
    /// The training data the database holds now.
    pub async fn training_set(&self, actor: &Actor) -> Result<TrainingSet> {
        actor.require_any_role(&[Role::SysAdmin])?;
        let mut c = self.db().pool().acquire().await?;
        let labeled = store::labeled_tickets(&mut c)
            .await?
            .into_iter()
            .map(|(id, title, content, path)| (id, message_text(&title, &content), path))
            .collect();
        let unlabeled = store::unlabeled_tickets(&mut c, MAX_UNLABELED)
            .await?
            .into_iter()
            .map(|(t, d)| message_text(&t, &d))
            .collect();
        let taxonomy = crate::ticket::store::categories(&mut c)
            .await?
            .into_iter()
            .filter(|c| c.active)
            .map(|c| level_names(&c.path))
            .collect();
        let user_words = store::org_words(&mut c).await?;
        Ok(TrainingSet {
            labeled,
            unlabeled,
            taxonomy,
            user_words,
        })
    }

    /// Trains a model from the database and stores it as a new version. It becomes active when
    /// there is no active model, or when it is not worse than the active one on the held-out
    /// tickets; `force` (admins) activates it regardless.
    pub async fn train_model(&self, actor: &Actor, force: bool) -> Result<TrainOutcome> {
        let granted = actor.authorize::<ManageModels>()?;
        let set = self.training_set(actor).await?;
        let (train, held): (Vec<_>, Vec<_>) =
            set.labeled.iter().partition(|(id, _, _)| !is_holdout(*id));
        let train_rows: Vec<(String, String)> = train
            .iter()
            .map(|(_, t, l)| (t.clone(), l.clone()))
            .collect();
        let held_rows: Vec<(String, String)> = held
            .iter()
            .map(|(_, t, l)| (t.clone(), l.clone()))
            .collect();
        let classes: std::collections::BTreeSet<String> = train_rows
            .iter()
            .map(|(_, l)| nlp::model::level_prefix(l, 1))
            .collect();
        if classes.len() < 2 {
            return Err(Error::conflict(
                "not_enough_data",
                None,
                "有最终分类的历史工单太少（至少需要两个一级分类），暂不能训练模型",
            ));
        }
        let now = self.db().now();
        let next = {
            let mut c = self.db().pool().acquire().await?;
            store::models(&mut c)
                .await?
                .first()
                .map_or(1, |m| m.version + 1)
        };
        let opts = options(next, now, set.user_words.clone());
        let unlabeled = set.unlabeled.clone();
        let taxonomy = set.taxonomy.clone();
        let active = self.active_model().await?;
        let had_active = active.is_some();
        // Training is CPU work: off the async threads, so intake keeps being served.
        let (model, candidate, previous, bytes) = tokio::task::spawn_blocking(move || {
            let model = nlp::model::train(&train_rows, &unlabeled, &taxonomy, &opts);
            let candidate =
                (!held_rows.is_empty()).then(|| nlp::model::evaluate(&model, &held_rows));
            let previous = active
                .as_ref()
                .filter(|_| !held_rows.is_empty())
                .map(|(v, m)| (*v, nlp::model::evaluate(m, &held_rows)));
            let bytes = model.to_bytes();
            (model, candidate, previous, bytes)
        })
        .await
        .map_err(Error::internal)?;
        let bytes = bytes.map_err(Error::internal)?;
        let (activate, decision) = decide(
            candidate.as_ref(),
            previous.as_ref().map(|(v, e)| (*v, e)),
            had_active,
            force,
        );
        let metrics = json!({
            "candidate": candidate,
            "active": previous.as_ref().map(|(v, e)| json!({"version": v, "evaluation": e})),
        });
        let mut tx = self.db().begin().await?;
        let who = actor.audit_actor();
        let version = store::insert_model(
            &mut tx,
            granted,
            store::NewModel {
                created_at: now,
                created_by: &who.0,
                n_labeled: train.len() as i64,
                n_unlabeled: model.n_unlabeled as i64,
                n_seeds: set.taxonomy.len() as i64,
                n_holdout: held.len() as i64,
                metrics: &metrics.to_string(),
                decision: &decision,
                bytes: &bytes,
            },
        )
        .await?;
        if activate {
            store::set_active(&mut tx, granted, version).await?;
        }
        audit::record(
            &mut tx,
            now,
            &who,
            "hotline_model",
            version,
            "train",
            json!({"activated": activate, "forced": force, "decision": decision,
                   "n_labeled": train.len(), "n_holdout": held.len()}),
        )
        .await?;
        tx.commit().await?;
        let info = {
            let mut c = self.db().pool().acquire().await?;
            store::model(&mut c, version)
                .await?
                .ok_or_else(|| Error::internal("model vanished"))?
        };
        Ok(TrainOutcome {
            model: info.into(),
            activated: activate,
            candidate,
            previous,
        })
    }

    pub async fn models(&self, actor: &Actor) -> Result<Vec<ModelInfo>> {
        actor.require_any_role(&[Role::SysAdmin, Role::Supervisor, Role::Dispatcher])?;
        let mut c = self.db().pool().acquire().await?;
        Ok(store::models(&mut c)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Makes a stored version the active one (admins; e.g. to roll back).
    pub async fn activate_model(&self, actor: &Actor, version: i64) -> Result<ModelInfo> {
        let granted = actor.authorize::<ManageModels>()?;
        let now = self.db().now();
        let mut tx = self.db().begin().await?;
        store::model(&mut tx, version)
            .await?
            .ok_or_else(|| Error::not_found("model", format!("模型版本 {version} 不存在")))?;
        store::set_active(&mut tx, granted, version).await?;
        audit::record(
            &mut tx,
            now,
            &actor.audit_actor(),
            "hotline_model",
            version,
            "activate",
            json!({}),
        )
        .await?;
        tx.commit().await?;
        let mut c = self.db().pool().acquire().await?;
        Ok(store::model(&mut c, version)
            .await?
            .ok_or_else(|| Error::internal("model vanished"))?
            .into())
    }

    /// The active model, from the cache when its version is still the active one (one small
    /// query); loaded from the database when another version became active.
    pub async fn active_model(&self) -> Result<Option<(i64, Arc<Model>)>> {
        let mut c = self.db().pool().acquire().await?;
        let Some(version) = store::active_version(&mut c).await? else {
            return Ok(None);
        };
        let key = self.db().url().to_string();
        if let Some((v, m)) = cache().lock().expect("model cache").get(&key) {
            if *v == version {
                return Ok(Some((version, m.clone())));
            }
        }
        let bytes = store::model_bytes(&mut c, version)
            .await?
            .ok_or_else(|| Error::internal("active model vanished"))?;
        drop(c);
        let model = tokio::task::spawn_blocking(move || Model::from_bytes(&bytes))
            .await
            .map_err(Error::internal)?
            .map_err(|e| Error::internal(format!("model {version}: {e}")))?;
        let model = Arc::new(model);
        cache()
            .lock()
            .expect("model cache")
            .insert(key, (version, model.clone()));
        Ok(Some((version, model)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn about_a_fifth_is_held_out() {
        let n = (1..=10_000).filter(|&i| is_holdout(i)).count();
        assert!((1_800..2_200).contains(&n), "{n}");
    }

    fn ev(f1: f64, acc: f64) -> Evaluation {
        Evaluation {
            n: 10,
            accuracy: acc,
            macro_f1: f1,
            per_class: vec![],
            labels: vec![],
            confusion: vec![],
        }
    }

    #[test]
    fn worse_is_refused_unless_forced() {
        let (ok, why) = decide(Some(&ev(0.5, 0.6)), Some((1, &ev(0.8, 0.8))), true, false);
        assert!(!ok);
        assert!(why.contains("未启用"), "{why}");
        assert!(decide(Some(&ev(0.5, 0.6)), Some((1, &ev(0.8, 0.8))), true, true).0);
        assert!(decide(Some(&ev(0.8, 0.8)), Some((1, &ev(0.8, 0.8))), true, false).0);
        assert!(decide(None, None, false, false).0);
        assert!(!decide(None, None, true, false).0);
    }
}
