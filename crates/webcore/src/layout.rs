//! The zh-CN page shell: header, role-based navigation, content. Server-rendered with maud
//! (checked at compile time); forms work without JavaScript.

use crate::extract::PageCtx;
use crate::NavItem;
use kernel::FieldError;
use maud::{html, Markup, PreEscaped, DOCTYPE};

fn head(title: &str) -> Markup {
    html! {
        head {
            meta charset="utf-8";
            meta name="viewport" content="width=device-width, initial-scale=1";
            title { (title) " · 一网" }
            link rel="stylesheet" href=(crate::assets::CSS_PATH);
            link rel="icon" href="/assets/favicon.svg" type="image/svg+xml";
            script src=(crate::assets::JS_PATH) defer {}
        }
    }
}

/// The navigation entries this actor's roles see, grouped by section in declaration order.
pub fn visible_nav(ctx: &PageCtx) -> Vec<(&'static str, Vec<&NavItem>)> {
    let mut groups: Vec<(&'static str, Vec<&NavItem>)> = Vec::new();
    for item in ctx.nav.iter().filter(|i| ctx.actor.has_any_role(i.roles)) {
        match groups.iter_mut().find(|(s, _)| *s == item.section) {
            Some((_, v)) => v.push(item),
            None => groups.push((item.section, vec![item])),
        }
    }
    groups
}

/// The navigation entry for the current path: the longest href the path starts with, so
/// that `/services/desk/evaluate` marks 窗口评价 and not also 综合窗口收件.
fn current_nav_href(ctx: &PageCtx) -> Option<&'static str> {
    ctx.nav
        .iter()
        .filter(|i| ctx.actor.has_any_role(i.roles))
        .map(|i| i.href)
        .filter(|h| {
            ctx.path == *h
                || (*h != "/"
                    && ctx
                        .path
                        .strip_prefix(h)
                        .is_some_and(|rest| rest.starts_with('/')))
        })
        .max_by_key(|h| h.len())
}

/// A staff page: header with the user and logout, navigation, and the content.
pub fn page(ctx: &PageCtx, title: &str, content: Markup) -> Markup {
    let roles: Vec<&str> = ctx.actor.roles.iter().map(|r| r.label()).collect();
    let current_href = current_nav_href(ctx);
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head(title))
            body {
                a.skip href="#main" { "跳到正文" }
                header.top {
                    a.brand href="/" { span.logo aria-hidden="true" { "一" } (ctx.bureau) }
                    // Staff only: a citizen's pages carry no staff words.
                    @if ctx.actor.has_any_role(&kernel::Role::STAFF) {
                        (lookup_box("top-lookup", ""))
                    }
                    div.who {
                        span { (ctx.actor.display_name) }
                        span.roles { (roles.join("、")) }
                        form method="post" action="/logout" {
                            input type="hidden" name=(crate::CSRF_FIELD) value=(ctx.csrf);
                            button.link type="submit" { "退出登录" }
                        }
                    }
                }
                div.frame {
                    nav.side aria-label="主导航" {
                        @for (section, items) in visible_nav(ctx) {
                            h2 { (section) }
                            ul {
                                @for it in items {
                                    @let current = current_href == Some(it.href);
                                    li { a href=(it.href) aria-current=[current.then_some("page")] { (it.label) } }
                                }
                            }
                        }
                    }
                    main #main tabindex="-1" {
                        h1 { (title) }
                        (content)
                    }
                }
            }
        }
    }
}

/// The 按编号查找 form (tickets and cases by number), `GET /lookup?number=…`. Not
/// `type=search`, so that the `/` key still goes to the page's own search box.
pub fn lookup_box(id: &str, value: &str) -> Markup {
    html! {
        form.lookup method="get" action="/lookup" role="search" aria-label="按编号查找" {
            input id=(id) name="number" type="text" value=(value) maxlength="64"
                placeholder="按编号查找" aria-label="按编号查找工单或办件" autocomplete="off";
            button type="submit" { "查找" }
        }
    }
}

/// A document to print on A4 (a 受理回执, a 告知书): no navigation, a toolbar that does not
/// print, and the document itself as the page.
pub fn print_page(bureau: &str, title: &str, back: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head(title))
            body.print {
                div.print-bar.no-print {
                    a href=(back) { "返回" }
                    button type="button" data-print="1" { "打印" }
                }
                main #main.print-doc {
                    p.print-org { (bureau) }
                    h1 { (title) }
                    (content)
                }
            }
        }
    }
}

/// A page without a session (login, public pages).
pub fn public_page(bureau: &str, title: &str, content: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head(title))
            body.public {
                header.top { a.brand href="/" { span.logo aria-hidden="true" { "一" } (bureau) } }
                main #main.narrow { (content) }
            }
        }
    }
}

/// A wide public page (the citizen portal): the header carries the portal's own links, the
/// content is as wide as an office screen allows and reflows on a phone.
pub fn public_page_nav(
    bureau: &str,
    title: &str,
    links: &[(&str, &str)],
    current: &str,
    content: Markup,
) -> Markup {
    html! {
        (DOCTYPE)
        html lang="zh-CN" {
            (head(title))
            body.public.portal {
                a.skip href="#main" { "跳到正文" }
                header.top {
                    a.brand href=(links.first().map(|l| l.1).unwrap_or("/")) { span.logo aria-hidden="true" { "一" } (bureau) }
                    nav.portal-nav aria-label="市民服务" {
                        @for (label, href) in links {
                            a href=(href) aria-current=[(current == *href).then_some("page")] { (label) }
                        }
                    }
                }
                main #main.wide tabindex="-1" { (content) }
            }
        }
    }
}

/// The message for one field, shown beside it.
pub fn field_error(errors: &[FieldError], name: &str) -> Markup {
    html! {
        @for e in errors.iter().filter(|e| e.field == name) {
            p.field-error id=(format!("{name}-error")) role="alert" { (e.detail) }
        }
    }
}

/// A labelled text input with its error.
pub fn text_field(
    label: &str,
    name: &str,
    value: &str,
    errors: &[FieldError],
    attrs: &str,
) -> Markup {
    let invalid = errors.iter().any(|e| e.field == name);
    html! {
        div.field {
            label for=(name) { (label) }
            (PreEscaped(format!(
                r#"<input id="{n}" name="{n}" value="{v}" {a}{inv}>"#,
                n = name,
                v = html! { (value) }.into_string(),
                a = attrs,
                inv = if invalid { format!(r#" aria-invalid="true" aria-describedby="{name}-error""#) } else { String::new() }
            )))
            (field_error(errors, name))
        }
    }
}

/// A summary at the top of a form page: every error, each linking to its field.
pub fn error_summary(errors: &[FieldError]) -> Markup {
    html! {
        @if !errors.is_empty() {
            div.alert role="alert" #error-summary {
                strong { "有 " (errors.len()) " 处需要修改：" }
                ul {
                    @for e in errors { li { a href=(format!("#{}", e.field)) { (e.detail) } } }
                }
            }
        }
    }
}

/// A summary box for errors that belong to no single field.
pub fn alert(message: &str) -> Markup {
    html! { div.alert role="alert" { (message) } }
}

pub fn notice(message: &str) -> Markup {
    html! { div.notice role="status" { (message) } }
}

pub fn csrf_input(ctx: &PageCtx) -> Markup {
    html! { input type="hidden" name=(crate::CSRF_FIELD) value=(ctx.csrf); }
}

/// Page links for a list.
pub fn pager(path_with_query: &str, page: i64, pages: i64, total: i64) -> Markup {
    let sep = if path_with_query.contains('?') {
        '&'
    } else {
        '?'
    };
    html! {
        nav.pager aria-label="分页" {
            span { "共 " (total) " 条，第 " (page) "/" (pages) " 页" }
            @if page > 1 { a href=(format!("{path_with_query}{sep}page={}", page - 1)) { "上一页" } }
            @if page < pages { a href=(format!("{path_with_query}{sep}page={}", page + 1)) { "下一页" } }
        }
    }
}

/// An HTML error page for staff pages.
pub fn error_page(bureau: &str, status: u16, message: &str) -> Markup {
    public_page(
        bureau,
        crate::error::title_of(
            axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::BAD_REQUEST),
        ),
        html! {
            h1 { (crate::error::title_of(axum::http::StatusCode::from_u16(status).unwrap_or(axum::http::StatusCode::BAD_REQUEST))) }
            (alert(message))
            p { a href="/" { "返回首页" } }
        },
    )
}

/// An error on a page, answered as an HTML page with the right status.
#[derive(Debug)]
pub struct PageError(pub kernel::Error);

impl From<kernel::Error> for PageError {
    fn from(e: kernel::Error) -> Self {
        PageError(e)
    }
}

impl axum::response::IntoResponse for PageError {
    fn into_response(self) -> axum::response::Response {
        let status = crate::error::status_of(&self.0);
        if status.is_server_error() {
            tracing::error!(error = %self.0, "page failed");
        }
        (
            status,
            error_page("一网", status.as_u16(), &self.0.detail()),
        )
            .into_response()
    }
}
