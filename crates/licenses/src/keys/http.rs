//! JSON API of issuing keys, and the public key and issuer documents credentials point to.

use super::domain::IssuerKey;
use crate::http::{svc, J};
use axum::extract::State;
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;
use webcore::{ApiActor, AppCtx, Json, Path};

pub(crate) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/api/v1/licenses/keys", get(keys))
        .route("/api/v1/licenses/keys/rotate", post(rotate))
        .route("/api/v1/licenses/keys/register", post(register))
        .route("/api/v1/licenses/keys/{kid}", get(key_document))
        .route("/api/v1/licenses/issuers/{dept_id}", get(issuer))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rotate {
    pub dept_id: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Register {
    pub dept_id: i64,
    /// `{"kty":"EC","crv":"SM2","x","y"}`.
    #[schema(value_type = Object)]
    pub public_key_jwk: Value,
}

/// Every issuing key (public parts; admins).
#[utoipa::path(get, path = "/api/v1/licenses/keys", tag = "licenses", responses((status = 200, body = Vec<IssuerKey>)))]
pub(crate) async fn keys(State(ctx): State<AppCtx>, ApiActor(a): ApiActor) -> J<Vec<IssuerKey>> {
    Ok(axum::Json(svc(&ctx).keys(&a).await?))
}

/// Rotates a department's key: a new pair signs from now on, the old one still verifies.
#[utoipa::path(post, path = "/api/v1/licenses/keys/rotate", tag = "licenses", request_body = Rotate, responses((status = 200, body = IssuerKey)))]
pub(crate) async fn rotate(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(r): Json<Rotate>,
) -> J<IssuerKey> {
    Ok(axum::Json(svc(&ctx).rotate_key(&a, r.dept_id).await?))
}

/// Registers a department's external public key (its private key lives in a signing device).
#[utoipa::path(post, path = "/api/v1/licenses/keys/register", tag = "licenses", request_body = Register,
    responses((status = 200, body = IssuerKey), (status = 422, body = webcore::error::Problem)))]
pub(crate) async fn register(
    State(ctx): State<AppCtx>,
    ApiActor(a): ApiActor,
    Json(r): Json<Register>,
) -> J<IssuerKey> {
    Ok(axum::Json(
        svc(&ctx)
            .register_key(&a, r.dept_id, &r.public_key_jwk)
            .await?,
    ))
}

/// Public: the verification method a credential's proof names, with its `publicKeyJwk`.
#[utoipa::path(get, path = "/api/v1/licenses/keys/{kid}", tag = "licenses", params(("kid" = String, Path)),
    responses((status = 200, body = Object), (status = 404, body = webcore::error::Problem)))]
pub(crate) async fn key_document(State(ctx): State<AppCtx>, Path(kid): Path<String>) -> J<Value> {
    let s = svc(&ctx);
    let k = s
        .key(&kid)
        .await?
        .ok_or_else(|| kernel::Error::not_found("license_key", "签发密钥不存在"))?;
    Ok(axum::Json(s.key_document(&k)))
}

/// Public: an issuing department with all its keys (current and retired).
#[utoipa::path(get, path = "/api/v1/licenses/issuers/{dept_id}", tag = "licenses", params(("dept_id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = webcore::error::Problem)))]
pub(crate) async fn issuer(State(ctx): State<AppCtx>, Path(dept_id): Path<i64>) -> J<Value> {
    let s = svc(&ctx);
    let dept = s
        .issuer(dept_id)
        .await
        .map_err(|_| kernel::Error::not_found("issuer", "颁发部门不存在"))?;
    let keys: Vec<Value> = s
        .public_keys()
        .await?
        .iter()
        .filter(|k| k.dept_id == dept_id)
        .map(|k| s.key_document(k))
        .collect();
    let ids: Vec<Value> = keys.iter().map(|k| k["id"].clone()).collect();
    Ok(axum::Json(json!({
        "@context": ["https://www.w3.org/ns/cid/v1"],
        "id": s.issuer_url(dept_id),
        "name": dept.name,
        "creditCode": dept.credit_code,
        "verificationMethod": keys,
        "assertionMethod": ids,
    })))
}
