//! The 电子证照 JSON API under `/api/v1/licenses`. Thin: parse, call the service, answer.

use crate::issue::domain::*;
use crate::issue::service::*;
use crate::keys::domain::IssuerKey;
use crate::service::*;
use crate::types::domain::*;
use crate::types::service::TypeView;
use crate::usage::Usage;
use crate::verify::domain::*;
use axum::Router;
use kernel::auth::Permission;
use kernel::Role;
use utoipa::OpenApi;
use webcore::{ApiResult, AppCtx, NavItem};

pub fn svc(ctx: &AppCtx) -> LicensesService {
    LicensesService::from_config(ctx.db.clone(), &ctx.config)
}

pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            section: "电子证照",
            label: "证照类型",
            href: "/licenses/types",
            roles: ReadLicenses::ROLES,
        },
        NavItem {
            section: "电子证照",
            label: "签发证照",
            href: "/licenses/issue",
            roles: Issue::ROLES,
        },
        NavItem {
            section: "电子证照",
            label: "证照查询",
            href: "/licenses/search",
            roles: ReadLicenses::ROLES,
        },
        NavItem {
            section: "电子证照",
            label: "存量导入",
            href: "/licenses/import",
            roles: Issue::ROLES,
        },
        NavItem {
            section: "电子证照",
            label: "证照统计",
            href: "/licenses/figures",
            roles: ReadLicenses::ROLES,
        },
        NavItem {
            section: "电子证照",
            label: "我的证照",
            href: "/licenses/mine",
            roles: &[Role::Citizen],
        },
        NavItem {
            section: "电子证照",
            label: "查证",
            href: "/licenses/verify",
            roles: &Role::ALL,
        },
    ]
}

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .merge(crate::types::http::routes())
        .merge(crate::keys::http::routes())
        .merge(crate::issue::http::routes())
        .merge(crate::status::http::routes())
        .merge(crate::verify::http::routes())
        .merge(crate::figures::http::routes())
}

#[derive(OpenApi)]
#[openapi(
    paths(crate::types::http::list_types, crate::types::http::create_type, crate::types::http::one_type,
          crate::types::http::update_draft, crate::types::http::publish, crate::types::http::new_version,
          crate::keys::http::keys, crate::keys::http::rotate, crate::keys::http::register, crate::keys::http::key_document,
          crate::keys::http::issuer,
          crate::issue::http::issue, crate::issue::http::search, crate::issue::http::mine, crate::issue::http::usage,
          crate::issue::http::one, crate::issue::http::credential, crate::issue::http::amend,
          crate::issue::http::revoke, crate::issue::http::suspend, crate::issue::http::reinstate,
          crate::issue::http::cancel, crate::issue::http::report_lost,
          crate::status::http::status_list, crate::verify::http::verify, crate::verify::http::trust, crate::figures::http::figures),
    components(schemas(LicenseType, TypeView, TypeVersion, TypeContent, FieldDef, FieldKind, HolderKind, NewType,
                       IssuerKey, License, LicenseStatus, NewLicense, Holder, Amendment, Usage, Verification, Check,
                       Summary, crate::figures::service::FigureRow, crate::issue::http::Reason, crate::keys::http::Register, crate::keys::http::Rotate)),
    tags((name = "licenses", description = "电子证照：证照类型、签发、状态、查证"))
)]
pub struct LicensesApi;

pub(crate) type J<T> = ApiResult<axum::Json<T>>;
