//! The pages: the 统一门户 (`/apps`), the consent and logout steps of OpenID Connect, and the
//! administrator's 接入系统 pages (`/sso/clients`). zh-CN, forms without scripts.

use crate::domain::*;
use crate::http::{err, svc};
use crate::service::input_of;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use kernel::{Actor, FieldError};
use maud::{html, Markup, DOCTYPE};
use webcore::layout::{self, csrf_input, error_summary, notice, page, text_field};
use webcore::{AppCtx, FormData, PageCtx, PageError, Path};

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/apps", get(portal))
        .route("/sso/clients", get(clients_page).post(clients_submit))
        .route("/sso/clients/{id}", get(client_page).post(client_submit))
}

/// A tile: the system's characters on its colour.
fn tile(c: &Client) -> Markup {
    html! {
        span.app-icon aria-hidden="true" style=(format!(
            "display:inline-grid;place-items:center;width:3rem;height:3rem;border-radius:10px;\
             background:{};color:#fff;font-weight:700;font-size:1.25rem;flex:none", c.icon_color)) {
            (c.icon_text)
        }
    }
}

// ---------- 统一门户 ----------

async fn portal(State(ctx): State<AppCtx>, p: PageCtx) -> Result<Markup, PageError> {
    let apps = svc(&ctx).portal(&p.actor).await?;
    Ok(page(
        &p,
        "统一门户",
        html! {
            p.muted { "一次登录，即可进入下列业务系统，无需再次输入密码。首次进入某个系统时，请确认向其提供的信息。" }
            @if apps.is_empty() {
                div.card #no-apps { "暂无可使用的业务系统。如需接入，请联系系统管理员。" }
            } @else {
                ul.grid #apps style="list-style:none;padding:0" {
                    @for a in &apps {
                        li.card {
                            a.app href=(a.launch_url) data-client=(a.client_id)
                              style="display:flex;gap:.8em;align-items:center;text-decoration:none;color:inherit" {
                                (tile(a))
                                span { strong { (a.name) } br; span.muted { "进入系统" } }
                            }
                        }
                    }
                }
            }
        },
    ))
}

// ---------- the OpenID Connect steps ----------

/// A page of the login steps, outside the staff layout.
fn step_page(bureau: &str, title: &str, content: Markup) -> Markup {
    layout::public_page(bureau, title, content)
}

/// The consent page (OIDC Core §3.1.2.4): which system, what it will receive, 同意 or 拒绝.
pub fn consent(
    bureau: &str,
    actor: &Actor,
    client: &Client,
    scopes: &[String],
    hidden: &[(String, String)],
    csrf: &str,
) -> Markup {
    step_page(
        bureau,
        "授权确认",
        html! {
            div style="display:flex;gap:.8em;align-items:center" {
                (tile(client))
                h1 style="margin:0" { "登录「" (client.name) "」" }
            }
            p { (actor.display_name) "，您正在通过一网统一身份认证登录「" (client.name) "」。该系统将获得：" }
            ul #scopes {
                @for s in scopes {
                    @if let Some((_, words)) = SCOPES.iter().find(|(k, _)| k == s) {
                        li { (words) }
                    }
                }
            }
            p.muted { "您的身份证号和手机号不会提供给该系统。同意后，下次进入该系统时不再询问。" }
            form #consent method="post" action="/oidc/consent" {
                input type="hidden" name=(webcore::CSRF_FIELD) value=(csrf);
                @for (k, v) in hidden {
                    input type="hidden" name=(k) value=(v);
                }
                div.actions {
                    button #allow type="submit" name="decision" value="allow" { "同意并进入" }
                    button.secondary #deny type="submit" name="decision" value="deny" { "拒绝" }
                }
            }
        },
    )
}

/// A refusal of the login steps that cannot go back to the client.
pub fn sso_error(bureau: &str, message: &str) -> Markup {
    step_page(
        bureau,
        "无法完成登录",
        html! {
            h1 { "无法完成登录" }
            (layout::alert(message))
            p { a href="/apps" { "返回统一门户" } }
        },
    )
}

/// Returns the browser to the client by itself (after a form of ours: browsers apply the
/// form page's `form-action 'self'` to a redirect that follows the form, but not to this).
pub fn returning(bureau: &str, url: &str, client: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta http-equiv="refresh" content=(format!("0;url={url}"));
                title { "正在返回 " (client) " · 一网" }
                link rel="stylesheet" href=(webcore::assets::CSS_PATH);
            }
            body.public {
                header.top { a.brand href="/" { span.logo aria-hidden="true" { "一" } (bureau) } }
                main #main.narrow {
                    h1 { "正在返回「" (client) "」" }
                    p { "如果页面没有自动跳转，请" a #continue href=(url) { "点击这里继续" } "。" }
                }
            }
        }
    }
}

/// Asks the signed-in user to confirm a logout a client asked for without proof of who it
/// was for.
pub fn confirm_logout(
    bureau: &str,
    actor: &Actor,
    client: Option<&Client>,
    hidden: &[(String, String)],
    csrf: &str,
) -> Markup {
    step_page(
        bureau,
        "退出登录",
        html! {
            h1 { "退出登录" }
            p {
                @if let Some(c) = client { "「" (c.name) "」请求退出登录。" }
                (actor.display_name) "，是否退出一网统一身份认证？退出后，通过一网登录的各系统需要重新登录。"
            }
            form #logout method="post" action="/oidc/logout" {
                input type="hidden" name=(webcore::CSRF_FIELD) value=(csrf);
                @for (k, v) in hidden {
                    input type="hidden" name=(k) value=(v);
                }
                div.actions {
                    button #confirm type="submit" { "退出登录" }
                    a href="/apps" { "取消" }
                }
            }
        },
    )
}

pub fn logged_out(bureau: &str) -> Markup {
    step_page(
        bureau,
        "已退出登录",
        html! {
            h1 { "已退出登录" }
            p { "您已退出一网统一身份认证。" }
            p { a href="/login" { "重新登录" } }
        },
    )
}

// ---------- 接入系统 (administrators) ----------

struct Form {
    input: ClientInput,
}

fn lines(s: &str) -> Vec<String> {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn form_input(form: &FormData) -> Result<Form, Vec<FieldError>> {
    let mut dept_ids = Vec::new();
    for d in form.all("dept_ids") {
        match d.parse::<i64>() {
            Ok(v) => dept_ids.push(v),
            Err(_) => {
                return Err(vec![FieldError {
                    field: "dept_ids".into(),
                    code: "invalid_value".into(),
                    detail: "单位选择无效".into(),
                }])
            }
        }
    }
    Ok(Form {
        input: ClientInput {
            name: form.get("name").into(),
            icon_text: form.opt("icon_text"),
            icon_color: form.opt("icon_color"),
            launch_url: form.get("launch_url").into(),
            redirect_uris: lines(form.get("redirect_uris")),
            post_logout_redirect_uris: lines(form.get("post_logout_redirect_uris")),
            scopes: Some(form.all("scopes").iter().map(|s| s.to_string()).collect()),
            dept_ids,
            public_client: form.get("public_client") == "1",
            enabled: form.get("enabled") != "0",
        },
    })
}

fn client_form(
    p: &PageCtx,
    action: &str,
    v: &ClientInput,
    depts: &[(i64, String)],
    errors: &[FieldError],
    new: bool,
) -> Markup {
    let scopes = v.scopes.clone().unwrap_or_else(|| {
        ["openid", "profile", "department", "roles"]
            .map(String::from)
            .to_vec()
    });
    html! {
        (error_summary(errors))
        form #client-form method="post" action=(action) {
            (csrf_input(p))
            input type="hidden" name="op" value="save";
            (text_field("系统名称", "name", &v.name, errors, r#"required maxlength="40""#))
            div.row {
                (text_field("图标文字（1–2 个字，默认取名称首字）", "icon_text", v.icon_text.as_deref().unwrap_or(""), errors, r#"maxlength="2""#))
                div.field {
                    label for="icon_color" { "图标颜色" }
                    select #icon_color name="icon_color" {
                        @for (hex, label) in COLORS {
                            option value=(hex) selected[v.icon_color.as_deref() == Some(*hex)] { (label) }
                        }
                    }
                    (layout::field_error(errors, "icon_color"))
                }
            }
            (text_field("入口地址（统一门户从这里打开系统）", "launch_url", &v.launch_url, errors, r#"required maxlength="500""#))
            div.field {
                label for="redirect_uris" { "回调地址（每行一个，须完全一致）" }
                textarea #redirect_uris name="redirect_uris" rows="3" { (v.redirect_uris.join("\n")) }
                (layout::field_error(errors, "redirect_uris"))
            }
            div.field {
                label for="post_logout_redirect_uris" { "退出后返回地址（每行一个，可不填）" }
                textarea #post_logout_redirect_uris name="post_logout_redirect_uris" rows="2" { (v.post_logout_redirect_uris.join("\n")) }
                (layout::field_error(errors, "post_logout_redirect_uris"))
            }
            fieldset.field #scopes {
                legend { "允许的授权范围" }
                @for (s, words) in SCOPES {
                    label style="font-weight:normal" {
                        input type="checkbox" name="scopes" value=(s) checked[scopes.iter().any(|x| x == s)];
                        " " (words)
                    }
                }
                (layout::field_error(errors, "scopes"))
            }
            fieldset.field #depts {
                legend { "允许登录的单位（不选则全部工作人员可用；含下级单位）" }
                div style="max-height:12em;overflow:auto;columns:2" {
                    @for (id, name) in depts {
                        label style="font-weight:normal;display:block" {
                            input type="checkbox" name="dept_ids" value=(id) checked[v.dept_ids.contains(id)];
                            " " (name)
                        }
                    }
                }
                (layout::field_error(errors, "dept_ids"))
            }
            @if new {
                div.field {
                    label for="public_client" { "客户端类型" }
                    select #public_client name="public_client" {
                        option value="0" selected[!v.public_client] { "机密客户端（服务器端系统，使用密钥）" }
                        option value="1" selected[v.public_client] { "公开客户端（浏览器或移动应用，无密钥，须使用授权码校验）" }
                    }
                }
            } @else {
                input type="hidden" name="enabled" value=(if v.enabled { "1" } else { "0" });
            }
            button type="submit" { (if new { "登记" } else { "保存" }) }
        }
    }
}

async fn clients_page(State(ctx): State<AppCtx>, p: PageCtx) -> Result<Markup, PageError> {
    render_clients(&ctx, &p, &ClientInput::default(), &[], None).await
}

async fn render_clients(
    ctx: &AppCtx,
    p: &PageCtx,
    v: &ClientInput,
    errors: &[FieldError],
    created: Option<(&Client, Option<&str>)>,
) -> Result<Markup, PageError> {
    let s = svc(ctx);
    let list = s.clients(&p.actor).await?;
    let depts = s.departments().await?;
    Ok(page(
        p,
        "统一身份认证 · 接入系统",
        html! {
            @if let Some((c, secret)) = created {
                div.notice role="status" #created {
                    "已登记「" (c.name) "」。客户端编号：" code #client-id { (c.client_id) }
                    @if let Some(sec) = secret {
                        br; "客户端密钥（只显示这一次，请立即交给该系统的管理员）：" code #client-secret { (sec) }
                    }
                }
            }
            p.muted { "接入说明：各系统按统一身份认证标准协议对接，配置地址 " code { "/.well-known/openid-configuration" } "；使用授权码模式，回调地址须与登记的完全一致。" }
            table #clients {
                thead { tr { th { "系统" } th { "客户端编号" } th { "类型" } th { "允许的单位" } th { "状态" } } }
                tbody {
                    @for c in &list {
                        tr {
                            td { a href=(format!("/sso/clients/{}", c.id)) style="display:flex;gap:.5em;align-items:center" { (tile(c)) (c.name) } }
                            td.mono { (c.client_id) }
                            td { (if c.public_client { "公开客户端" } else { "机密客户端" }) }
                            td {
                                @if c.dept_ids.is_empty() { "全部工作人员" }
                                @else {
                                    @for d in &c.dept_ids {
                                        span.tag { (depts.iter().find(|x| x.0 == *d).map(|x| x.1.as_str()).unwrap_or("（已停用的单位）")) }
                                    }
                                }
                            }
                            td { @if c.enabled { span.tag { "启用" } } @else { span.tag.off { "停用" } } }
                        }
                    }
                }
            }
            div.card {
                h2 { "登记接入系统" }
                (client_form(p, "/sso/clients", v, &depts, errors, true))
            }
        },
    ))
}

async fn clients_submit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    form: FormData,
) -> Result<Response, PageError> {
    p.check_csrf(form.get(webcore::CSRF_FIELD))?;
    let f = match form_input(&form) {
        Ok(f) => f,
        Err(errors) => {
            return Ok(
                render_clients(&ctx, &p, &ClientInput::default(), &errors, None)
                    .await?
                    .into_response(),
            )
        }
    };
    match svc(&ctx).create_client(&p.actor, f.input.clone()).await {
        Ok((c, secret)) => Ok(render_clients(
            &ctx,
            &p,
            &ClientInput::default(),
            &[],
            Some((&c, secret.as_deref())),
        )
        .await?
        .into_response()),
        Err(kernel::Error::Validation(errors)) => Ok((
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            render_clients(&ctx, &p, &f.input, &errors, None).await?,
        )
            .into_response()),
        Err(e) => Err(err(e)),
    }
}

async fn client_page(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
) -> Result<Markup, PageError> {
    let c = svc(&ctx).client(&p.actor, id).await?;
    render_client(&ctx, &p, &c, &input_of(&c, c.enabled), &[], None).await
}

async fn render_client(
    ctx: &AppCtx,
    p: &PageCtx,
    c: &Client,
    v: &ClientInput,
    errors: &[FieldError],
    flash: Option<&str>,
) -> Result<Markup, PageError> {
    let depts = svc(ctx).departments().await?;
    let action = format!("/sso/clients/{}", c.id);
    Ok(page(
        p,
        &format!("接入系统 · {}", c.name),
        html! {
            @if let Some(f) = flash { (notice(f)) }
            dl.facts {
                dt { "客户端编号" } dd.mono #client-id { (c.client_id) }
                dt { "类型" } dd { (if c.public_client { "公开客户端（无密钥，须使用授权码校验）" } else { "机密客户端（使用客户端密钥）" }) }
                dt { "状态" } dd #state { (if c.enabled { "启用" } else { "停用" }) }
            }
            div.actions {
                form method="post" action=(action) {
                    (csrf_input(p))
                    @if c.enabled {
                        input type="hidden" name="op" value="disable";
                        button.danger #disable type="submit" { "停用" }
                    } @else {
                        input type="hidden" name="op" value="enable";
                        button #enable type="submit" { "启用" }
                    }
                }
                @if !c.public_client {
                    form method="post" action=(action) {
                        (csrf_input(p))
                        input type="hidden" name="op" value="secret";
                        button.secondary #new-secret type="submit" { "重新生成密钥" }
                    }
                }
                a href="/sso/clients" { "返回列表" }
            }
            div.card {
                h2 { "设置" }
                (client_form(p, &action, v, &depts, errors, false))
            }
        },
    ))
}

async fn client_submit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    p.check_csrf(form.get(webcore::CSRF_FIELD))?;
    let s = svc(&ctx);
    let c = s.client(&p.actor, id).await?;
    let answer = match form.get("op") {
        "disable" | "enable" => {
            let c = s
                .set_enabled(&p.actor, id, form.get("op") == "enable")
                .await?;
            let msg = if c.enabled {
                "已启用"
            } else {
                "已停用：该系统不能再通过一网登录，已签发的令牌失效"
            };
            render_client(&ctx, &p, &c, &input_of(&c, c.enabled), &[], Some(msg)).await?
        }
        "secret" => {
            let secret = s.new_secret(&p.actor, id).await?;
            let msg = format!("新的客户端密钥（只显示这一次，旧密钥已失效）：{secret}");
            render_client(&ctx, &p, &c, &input_of(&c, c.enabled), &[], Some(&msg)).await?
        }
        "save" => {
            let f = match form_input(&form) {
                Ok(f) => f,
                Err(errors) => {
                    return Ok(
                        render_client(&ctx, &p, &c, &input_of(&c, c.enabled), &errors, None)
                            .await?
                            .into_response(),
                    )
                }
            };
            match s.update_client(&p.actor, id, f.input.clone()).await {
                Ok(c) => {
                    render_client(&ctx, &p, &c, &input_of(&c, c.enabled), &[], Some("已保存"))
                        .await?
                }
                Err(kernel::Error::Validation(errors)) => {
                    return Ok((
                        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                        render_client(&ctx, &p, &c, &f.input, &errors, None).await?,
                    )
                        .into_response())
                }
                Err(e) => return Err(err(e)),
            }
        }
        _ => return Ok(Redirect::to(&format!("/sso/clients/{id}")).into_response()),
    };
    Ok(answer.into_response())
}
