//! The 一网共享 JSON API under `/api/v1/sharing` and the gateway under `/gateway/v1`. Thin:
//! parse, call the service, answer.

use crate::service::*;
use axum::Router;
use kernel::auth::Permission;
use utoipa::OpenApi;
use webcore::{ApiResult, AppCtx, NavItem};

pub fn svc(ctx: &AppCtx) -> SharingService {
    SharingService::new(ctx.db.clone())
}

pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            section: "一网共享",
            label: "资源目录",
            href: "/sharing/catalog",
            roles: &kernel::Role::STAFF,
        },
        NavItem {
            section: "一网共享",
            label: "编目与审核",
            href: "/sharing/cataloguing",
            roles: Review::ROLES,
        },
        NavItem {
            section: "一网共享",
            label: "责任清单",
            href: "/sharing/duties",
            roles: ReadSharing::ROLES,
        },
        NavItem {
            section: "一网共享",
            label: "申请用数",
            href: "/sharing/requests",
            roles: ReadSharing::ROLES,
        },
        NavItem {
            section: "一网共享",
            label: "审批",
            href: "/sharing/approvals",
            roles: Approve::ROLES,
        },
        NavItem {
            section: "一网共享",
            label: "授权",
            href: "/sharing/grants",
            roles: ReadSharing::ROLES,
        },
        NavItem {
            section: "一网共享",
            label: "数据异议",
            href: "/sharing/objections",
            roles: ReadSharing::ROLES,
        },
        NavItem {
            section: "一网共享",
            label: "数据回流",
            href: "/sharing/backflows",
            roles: ReadSharing::ROLES,
        },
        NavItem {
            section: "一网共享",
            label: "调用日志",
            href: "/sharing/calls",
            roles: ReadSharing::ROLES,
        },
        NavItem {
            section: "一网共享",
            label: "统计",
            href: "/sharing/figures",
            roles: ReadSharing::ROLES,
        },
    ]
}

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .merge(crate::catalog::http::routes())
        .merge(crate::mount::http::routes())
        .merge(crate::grants::http::routes())
        .merge(crate::gateway::http::routes())
        .merge(crate::figures::http::routes())
        .merge(crate::objections::http::routes())
        .merge(crate::backflow::http::routes())
        .merge(crate::duties::http::routes())
}

#[derive(OpenApi)]
#[openapi(
    paths(crate::catalog::http::list, crate::catalog::http::create, crate::catalog::http::one, crate::catalog::http::update,
          crate::catalog::http::submit, crate::catalog::http::review, crate::catalog::http::new_version, crate::catalog::http::export, crate::catalog::http::import,
          crate::mount::http::mount, crate::mount::http::list, crate::mount::http::one, crate::mount::http::push, crate::mount::http::upload,
          crate::grants::http::submit, crate::grants::http::list, crate::grants::http::queue, crate::grants::http::one,
          crate::grants::http::decide, crate::grants::http::grants, crate::grants::http::grant, crate::grants::http::change,
          crate::grants::http::register_system,
          crate::gateway::http::list, crate::gateway::http::serve, crate::gateway::http::calls, crate::gateway::http::verify,
          crate::figures::http::figures, crate::duties::http::list,
          crate::objections::http::raise, crate::objections::http::list, crate::objections::http::one,
          crate::objections::http::answer,
          crate::backflow::http::create, crate::backflow::http::list, crate::backflow::http::one,
          crate::backflow::http::change, crate::backflow::http::runs, crate::backflow::http::run),
    components(schemas(
        crate::backflow::domain::NewBackflow, crate::backflow::domain::Backflow, crate::backflow::domain::BackflowRun,
        crate::backflow::domain::SourceKind, crate::backflow::domain::RunStatus,
        crate::backflow::service::BackflowView, crate::backflow::http::BackflowChange,
        crate::objections::domain::NewObjection, crate::objections::domain::ObjectionAnswer,
        crate::objections::domain::Objection, crate::objections::domain::ObjectionStatus,
        crate::objections::service::ObjectionView, kernel::page::Page<crate::objections::service::ObjectionView>,
        crate::catalog::domain::NewEntry, crate::catalog::domain::EntryContent, crate::catalog::domain::Item,
        crate::catalog::domain::Entry, crate::catalog::domain::EntryVersion, crate::catalog::domain::Category,
        crate::catalog::domain::DataType, crate::catalog::domain::Semantic, crate::catalog::domain::ShareKind,
        crate::catalog::domain::OpenKind, crate::catalog::domain::UpdateCycle, crate::catalog::domain::VersionStatus,
        crate::catalog::service::EntryView, crate::catalog::service::EntryLine, crate::catalog::service::ItemSource, crate::catalog::service::CatalogImport, crate::catalog::service::ImportedEntry, crate::catalog::workbook::ImportError,
        crate::duties::domain::DutyKind, crate::duties::domain::DutyLine, crate::duties::domain::DutyTotals, crate::duties::domain::DutyList, crate::catalog::http::ReviewInput,
        crate::mount::domain::Resource, crate::mount::domain::LoadReport, crate::mount::domain::RowError,
        crate::mount::service::ResourceView, crate::mount::http::MountInput, crate::mount::http::PushInput,
        crate::grants::domain::NewRequest, crate::grants::domain::GrantTerms, crate::grants::domain::GrantField,
        crate::grants::domain::Mask, crate::grants::domain::Condition, crate::grants::domain::FilterOp,
        crate::grants::domain::Request, crate::grants::domain::Step, crate::grants::domain::Grant,
        crate::grants::domain::GrantChange, crate::grants::domain::Level, crate::grants::domain::RequestStatus,
        crate::grants::domain::StepStatus, crate::grants::domain::GrantStatus,
        crate::grants::service::RequestView, crate::grants::service::SystemToken, crate::grants::http::Decision,
        crate::grants::http::SystemInput,
        crate::gateway::domain::Call, crate::gateway::domain::CallVerification, crate::gateway::domain::BrokenCall,
        crate::gateway::service::GrantedResource, crate::gateway::service::PageBody,
        crate::figures::service::Figures, crate::figures::service::CatalogFigures,
        crate::figures::service::Consumer, crate::figures::service::ObjectionFigures,
        crate::figures::contrib::Section, crate::figures::contrib::SectionRow, crate::figures::contrib::SectionTable)),
    tags((name = "sharing", description = "一网共享：资源目录、挂接、申请用数、授权、调用日志"),
         (name = "gateway", description = "共享网关：按授权返回脱敏数据，每次调用写入链式日志"))
)]
pub struct SharingApi;

pub(crate) type J<T> = ApiResult<axum::Json<T>>;
