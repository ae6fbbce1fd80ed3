//! The 安全管理员's pages (三员分立): who holds which role, and the account security of the
//! three administrators' accounts (a lost second factor, a forgotten password). Accounts
//! themselves are the 系统管理员's (`/admin/users`).

use crate::domain::UserChanges;
use crate::http::{role_checkboxes, roles_from, svc, FlashQuery, ListQuery};
use crate::service::{ManageSecurity, UserQuery};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use kernel::page::PageQuery;
use kernel::{Error, Role};
use maud::{html, Markup};
use webcore::layout::{self, csrf_input, field_error, notice, page, pager};
use webcore::{AppCtx, FormData, PageCtx, PageError, Path};

pub(crate) async fn roles_page(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> Result<Markup, PageError> {
    p.actor.authorize::<ManageSecurity>()?;
    let role = q.role.as_deref().and_then(Role::parse);
    let list = svc(&ctx)
        .users(
            &p.actor,
            &UserQuery {
                dept_id: None,
                role,
                q: q.q.clone(),
            },
            &PageQuery {
                page: q.page,
                per_page: Some(50),
            },
        )
        .await?;
    let qs = format!(
        "/admin/roles?q={}&role={}",
        webcore::query_value(q.q.as_deref().unwrap_or_default()),
        q.role.clone().unwrap_or_default()
    );
    Ok(page(
        &p,
        "角色分配",
        html! {
            p.muted { "系统管理员、安全管理员、审计管理员须由不同的人担任（三员分立）；账号的新增和停用由系统管理员办理。" }
            form.filters method="get" action="/admin/roles" role="search" {
                div.field { label for="q" { "查找用户" } input #q type="search" name="q" value=(q.q.clone().unwrap_or_default()) placeholder="用户名或姓名"; }
                div.field {
                    label for="role" { "角色" }
                    select #role name="role" {
                        option value="" { "全部" }
                        @for r in Role::ALL { option value=(r.code()) selected[q.role.as_deref() == Some(r.code())] { (r.label()) } }
                    }
                }
                button.secondary type="submit" { "查找" }
            }
            table {
                thead { tr { th { "用户名" } th { "姓名" } th { "单位" } th { "角色" } th { "状态" } } }
                tbody {
                    @for u in &list.items {
                        tr {
                            td { a href=(format!("/admin/roles/{}", u.id)) { (u.username) } }
                            td { (u.display_name) }
                            td { (u.dept_name.clone().unwrap_or_default()) }
                            td { @for r in &u.roles { span.tag { (r.label()) } } }
                            td { @if u.active { span.tag { "启用" } } @else { span.tag.off { "停用" } } }
                        }
                    }
                }
            }
            (pager(&qs, list.page, list.pages(), list.total))
        },
    ))
}

pub(crate) async fn user_roles_page(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    axum::extract::Query(fq): axum::extract::Query<FlashQuery>,
) -> Result<Markup, PageError> {
    p.actor.authorize::<ManageSecurity>()?;
    render(&ctx, &p, id, &[], fq.message("已保存")).await
}

async fn render(
    ctx: &AppCtx,
    p: &PageCtx,
    id: i64,
    errors: &[kernel::FieldError],
    flash: Option<&str>,
) -> Result<Markup, PageError> {
    let s = svc(ctx);
    let u = s.user(&p.actor, id).await?;
    let selected: Vec<&str> = u.roles.iter().map(|r| r.code()).collect();
    let two_factor = s.user_two_factor_enabled(&p.actor, id).await?;
    let own = p.actor.user_id == Some(id);
    let three = u.roles.iter().any(|r| Role::THREE_ADMINS.contains(r));
    Ok(page(
        p,
        &format!("角色分配：{}", u.display_name),
        html! {
            @if let Some(f) = flash { (notice(f)) }
            (layout::error_summary(errors))
            p { a href="/admin/roles" { "← 返回角色分配" } }
            div.card {
                p { "用户名：" span.mono { (u.username) } "　单位：" (u.dept_name.clone().unwrap_or_default()) }
                @if own {
                    p.muted { "不能更改自己的角色。" }
                    p { @for r in &u.roles { span.tag { (r.label()) } } }
                } @else {
                    form #roles-form method="post" action=(format!("/admin/roles/{id}")) {
                        (csrf_input(p))
                        input type="hidden" name="action" value="roles";
                        (role_checkboxes(&p.actor, &selected, errors))
                        button type="submit" { "保存角色" }
                    }
                }
            }
            div.card #user-two-factor {
                h2 { "双因素认证" }
                @if two_factor {
                    p { span.tag { "已启用" } " 用户丢失手机时，可在此重置：其已登录的会话将结束，之后凭密码登录并重新绑定。" }
                    @if !own {
                        form method="post" action=(format!("/admin/roles/{id}")) data-confirm="确定重置该用户的双因素认证？" {
                            (csrf_input(p))
                            input type="hidden" name="action" value="two_factor_reset";
                            button.danger type="submit" { "重置双因素认证" }
                        }
                    }
                } @else {
                    p { span.tag.off { "未启用" } }
                }
            }
            // The three administrators' passwords are reset here, not by the system administrator.
            @if three && !own {
                div.card {
                    h2 { "重置密码" }
                    form method="post" action=(format!("/admin/roles/{id}")) data-confirm="确定重置该管理员的密码？其已登录的会话和 API 令牌将失效，登录锁定将解除。" {
                        (csrf_input(p))
                        input type="hidden" name="action" value="password";
                        div.field {
                            label for="reset-password" { "新密码" }
                            input #reset-password type="password" name="password" autocomplete="new-password" required;
                            (field_error(errors, "password"))
                        }
                        button.danger type="submit" { "重置密码" }
                    }
                }
            }
        },
    ))
}

pub(crate) async fn user_roles_submit(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Path(id): Path<i64>,
    form: FormData,
) -> Result<Response, PageError> {
    p.actor.authorize::<ManageSecurity>()?;
    p.check_csrf(form.get(webcore::CSRF_FIELD))?;
    let s = svc(&ctx);
    let result = async {
        match form.get("action") {
            "two_factor_reset" => s.reset_two_factor(&p.actor, id).await,
            "password" => {
                s.set_password(&p.actor, id, None, form.get("password"))
                    .await
            }
            _ => {
                let ch = UserChanges {
                    roles: Some(roles_from(&form)?),
                    ..UserChanges::default()
                };
                s.update_user(&p.actor, id, ch).await.map(|_| ())
            }
        }
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/admin/roles/{id}?saved=1")).into_response()),
        Err(Error::Validation(f)) => Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&ctx, &p, id, &f, None).await?,
        )
            .into_response()),
        Err(e) => Err(e.into()),
    }
}
