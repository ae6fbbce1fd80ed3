//! Server-rendered pages (zh-CN, forms without JavaScript): 我的证照 with 亮证 and the usage
//! log (phone width) and the public 查证 page (phone width) here; the issuing departments'
//! pages in `staff`. Pages call only the service.

use crate::http::svc;
use crate::issue::domain::License;
use crate::usage::UsageKind;
use crate::verify::domain::Verification;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use kernel::clock::format_minute;
use maud::{html, Markup, PreEscaped};
use webcore::layout::{alert, csrf_input, page, public_page};
use webcore::{AppCtx, Authenticated, FormData, PageCtx, PageError, Path};

mod staff;

type PageResult = Result<Response, PageError>;

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/licenses/mine", get(mine))
        .route("/licenses/mine/{id}", get(mine_one))
        .route("/licenses/mine/{id}/present", post(present))
        .route("/licenses/verify", get(verify_form).post(verify_post))
        .route("/licenses/verify/file", post(verify_file))
        .merge(staff::routes())
}

pub(super) fn day(ms: i64) -> String {
    kernel::clock::to_china(ms).format("%Y-%m-%d").to_string()
}

pub(super) fn until(l: &License) -> String {
    l.valid_until.map_or_else(|| "长期有效".to_owned(), day)
}

pub(super) fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn mine(State(ctx): State<AppCtx>, p: PageCtx) -> PageResult {
    let s = svc(&ctx);
    let list = s.mine(&p.actor).await?;
    let usage = s.my_usage(&p.actor).await?;
    let now = ctx.db.now();
    let body = html! {
        @if list.is_empty() { p { "您名下暂无电子证照。" } }
        ul.cards #licenses {
            @for l in &list {
                li.card {
                    h3 { a href=(format!("/licenses/mine/{}", l.id)) { (l.type_name) } }
                    p { "状态：" strong.status { @if let Some(why) = l.why_unusable(now) { (why) } @else { "有效" } } }
                    p { "有效期：" (day(l.valid_from)) " 至 " (until(l)) }
                    p.small { "证照标识：" code { (l.identifier) } }
                }
            }
        }
        h2 { "用证记录" }
        @if usage.is_empty() { p { "暂无记录。" } }
        @else {
            table #usage {
                thead { tr { th { "时间" } th { "证照" } th { "用途" } th { "使用方" } } }
                tbody { @for u in &usage {
                    tr {
                        td { (format_minute(u.at)) }
                        td { (list.iter().find(|l| l.id == u.license_id).map_or("", |l| l.type_name.as_str())) }
                        td { (UsageKind::label_of(&u.kind)) @if !u.purpose.is_empty() { "（" (u.purpose) "）" } }
                        td { (if u.actor == "anonymous" { "匿名查验" } else { u.actor.as_str() }) }
                    }
                } }
            }
        }
    };
    Ok(page(&p, "我的证照", body).into_response())
}

fn face(l: &License, fields: &crate::types::domain::TypeContent) -> Markup {
    html! {
        dl.face {
            dt { "持证人" } dd { (l.holder_name) }
            @for f in fields.face_fields() {
                @if let Some(v) = l.fields.get(&f.key) { dt { (f.label) } dd { (value_text(v)) } }
            }
            dt { "有效期" } dd { (day(l.valid_from)) " 至 " (until(l)) }
            dt { "证照标识" } dd { code { (l.identifier) } }
        }
    }
}

async fn mine_page(ctx: &AppCtx, p: &PageCtx, id: i64, extra: Markup) -> PageResult {
    let s = svc(ctx);
    let l = s.license(&p.actor, id).await?;
    if !s.mine(&p.actor).await?.iter().any(|m| m.id == id) {
        return Err(kernel::Error::forbidden("只能查看本人的证照").into());
    }
    let content = s.type_version(l.type_id, l.type_version).await?.content;
    let body = html! {
        (face(&l, &content))
        (extra)
        h2 { "亮证" }
        p { "选择要出示的内容，生成 " (crate::present::service::PRESENTATION_MINUTES) " 分钟内有效的亮证码，由查验方扫码或粘贴到查证页面核验。" }
        form #present method="post" action=(format!("/licenses/mine/{id}/present")) {
            (csrf_input(p))
            @for f in content.face_fields() {
                @if l.fields.contains_key(&f.key) {
                    label { input type="checkbox" name="fields" value=(f.key) checked; " " (f.label) }
                }
            }
            button type="submit" { "生成亮证码" }
        }
        p { a href="/licenses/mine" { "返回我的证照" } }
    };
    Ok(page(p, &l.type_name, body).into_response())
}

async fn mine_one(State(ctx): State<AppCtx>, p: PageCtx, Path(id): Path<i64>) -> PageResult {
    mine_page(&ctx, &p, id, html! {}).await
}

async fn present(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    f: FormData,
) -> PageResult {
    p.check_csrf(f.get("_csrf"))?;
    let fields: Vec<String> = f.all("fields").into_iter().map(str::to_owned).collect();
    match svc(&ctx).present(&p.actor, id, &fields).await {
        Ok(pr) => {
            let extra = html! {
                section #qr {
                    h2 { "亮证码" }
                    div.qr { (PreEscaped(pr.svg)) }
                    p { "有效至 " (format_minute(pr.expires_at)) "。查验方可扫码，或复制下面的文字到查证页面。" }
                    textarea #qr-text readonly rows="4" { (pr.text) }
                }
            };
            mine_page(&ctx, &p, id, extra).await
        }
        Err(e @ (kernel::Error::IllegalTransition { .. } | kernel::Error::Validation(_))) => {
            mine_page(&ctx, &p, id, alert(&e.detail())).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The face labels of a verified credential's type, when this library holds the type; a
/// credential of another library shows its field keys.
async fn labels_of(ctx: &AppCtx, v: &Verification) -> Vec<(String, String)> {
    let Some(s) = &v.summary else { return vec![] };
    let s2 = svc(ctx);
    let Ok(Some(t)) = s2.license_type_by_code(&s.type_code).await else {
        return vec![];
    };
    match s2.type_version(t.license_type.id, s.type_version).await {
        Ok(v) => v
            .content
            .fields
            .into_iter()
            .map(|f| (f.key, f.label))
            .collect(),
        Err(_) => vec![],
    }
}

fn result_view(v: &Verification, labels: &[(String, String)]) -> Markup {
    let label = |k: &String| {
        labels
            .iter()
            .find(|(key, _)| key == k)
            .map_or_else(|| k.clone(), |(_, l)| l.clone())
    };
    html! {
        section #result {
            p.verdict class=(if v.valid { "ok" } else { "bad" }) { strong { (v.message) } }
            @if let Some(s) = &v.summary {
                dl.face {
                    dt { "证照" } dd { (s.type_name) }
                    dt { "持证人" } dd { (s.holder_name) }
                    dt { "颁发机构" } dd { (s.issuer) }
                    @for (k, val) in &s.fields { dt { (label(k)) } dd { (value_text(val)) } }
                    dt { "有效期" } dd { (s.valid_from) " 至 " (s.valid_until.clone().unwrap_or_else(|| "长期有效".into())) }
                    dt { "证照标识" } dd { code { (s.identifier) } }
                }
            }
            table #checks {
                thead { tr { th { "核验项" } th { "结果" } th { "说明" } } }
                tbody { @for c in &v.checks {
                    tr {
                        td { (check_label(&c.name)) }
                        td { @if c.ok { "通过" } @else { strong { "未通过" } } }
                        td { (c.message) }
                    }
                } }
            }
        }
    }
}

fn check_label(name: &str) -> &'static str {
    match name {
        "signature" => "签名",
        "issuer_key" => "签发密钥",
        "status" => "证照状态",
        "validity" => "有效期",
        "tampering" => "防篡改",
        "presentation" => "亮证码",
        _ => "其他",
    }
}

fn verify_form_view(text: &str, result: Markup) -> Markup {
    html! {
        h1 { "电子证照查证" }
        p { "粘贴亮证码或电子证照凭证（JSON），核验真伪、状态和有效期。" }
        form #verify method="post" action="/licenses/verify" {
            div.field {
                label for="text" { "亮证码或凭证" }
                // The box takes the page's width; the button stands under it, on a phone too.
                textarea #text name="text" rows="6" required style="width:100%;box-sizing:border-box" { (text) }
            }
            div.actions { button type="submit" { "查证" } }
        }
        form #verify-file method="post" action="/licenses/verify/file" enctype="multipart/form-data" {
            div.field {
                label for="file" { "或上传凭证文件（.json）" }
                input #file type="file" name="file" accept=".json,application/json,application/vc";
            }
            div.actions { button type="submit" { "上传并查证" } }
        }
        (result)
    }
}

async fn verify_form(State(ctx): State<AppCtx>) -> Response {
    public_page(
        &ctx.config.city.bureau,
        "查证",
        verify_form_view("", html! {}),
    )
    .into_response()
}

/// Checks the pasted text: a credential (JSON) or a 亮证码.
async fn verify_text(
    ctx: &AppCtx,
    actor: Option<&kernel::Actor>,
    text: &str,
) -> Result<Markup, PageError> {
    let s = svc(ctx);
    let r = if text.starts_with('{') {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(doc) => s.verify(actor, &doc).await,
            Err(_) => Err(kernel::Error::field(
                "text",
                "invalid",
                "凭证不是合法的 JSON",
            )),
        }
    } else {
        s.verify_presentation(actor, text).await
    };
    Ok(match r {
        Ok(v) => result_view(&v, &labels_of(ctx, &v).await),
        Err(e @ kernel::Error::Validation(_)) => alert(&e.detail()),
        Err(e) => return Err(e.into()),
    })
}

/// Public, like the text form: a credential file a holder sent (at most the body limit).
async fn verify_file(
    State(ctx): State<AppCtx>,
    auth: Option<Extension<Authenticated>>,
    mut mp: axum::extract::Multipart,
) -> PageResult {
    let mut bytes = Vec::new();
    while let Ok(Some(field)) = mp.next_field().await {
        if field.name() == Some("file") {
            bytes = field.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
        }
    }
    let result = match String::from_utf8(bytes) {
        Ok(t) if !t.trim().is_empty() => {
            let actor = auth.as_ref().map(|a| &a.0.actor);
            verify_text(&ctx, actor, t.trim()).await?
        }
        Ok(_) => alert("请选择凭证文件"),
        Err(_) => alert("文件不是文本格式的凭证（JSON）"),
    };
    Ok(public_page(
        &ctx.config.city.bureau,
        "查证",
        verify_form_view("", result),
    )
    .into_response())
}

/// Public: no session, so no CSRF; it changes nothing but the usage log.
async fn verify_post(
    State(ctx): State<AppCtx>,
    auth: Option<Extension<Authenticated>>,
    f: FormData,
) -> PageResult {
    let text = f.get("text").trim().to_owned();
    let actor = auth.as_ref().map(|a| &a.0.actor);
    let result = verify_text(&ctx, actor, &text).await?;
    Ok(public_page(
        &ctx.config.city.bureau,
        "查证",
        verify_form_view(&text, result),
    )
    .into_response())
}
