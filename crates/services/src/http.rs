//! The service hall's JSON API under `/api/v1/services`. Thin: parse, call the service, answer.

use crate::bundles::http::DeliverRequest;
use crate::cases::http::TrackRequest;
use crate::domain::*;
use crate::evaluation::http::{AnswerRequest, EvaluateRequest, LevelCode, PublicEvaluation};
use crate::items::import::{ImportReport, ImportedRow, RowError};
use crate::report::{GroupBy, Report, ReportRow};
use crate::service::*;
use axum::Router;
use kernel::page::Page;
use kernel::Role;
use utoipa::OpenApi;
use webcore::{ApiResult, AppCtx, NavItem};

pub fn svc(ctx: &AppCtx) -> ServicesService {
    // With the 电子证照 library, so that applications get 免证办.
    ServicesService::new(ctx.db.clone()).with_licenses(licenses::LicensesService::from_config(
        ctx.db.clone(),
        &ctx.config,
    ))
}

pub fn nav() -> Vec<NavItem> {
    vec![
        NavItem {
            section: "一网通办",
            label: "综合窗口收件",
            href: "/services/desk",
            roles: <crate::service::FrontDesk as kernel::auth::Permission>::ROLES,
        },
        NavItem {
            section: "一网通办",
            label: "窗口评价",
            href: "/services/desk/evaluate",
            roles: <crate::service::FrontDesk as kernel::auth::Permission>::ROLES,
        },
        NavItem {
            section: "一网通办",
            label: "部门办件",
            href: "/services/inbox",
            roles: <crate::service::WorkCases as kernel::auth::Permission>::ROLES,
        },
        NavItem {
            section: "一网通办",
            label: "事项管理",
            href: "/services/items",
            roles: &[
                Role::Approver,
                Role::SysAdmin,
                Role::Clerk,
                Role::Supervisor,
            ],
        },
        NavItem {
            section: "一网通办",
            label: "差评整改",
            href: "/services/rectifications",
            roles: &[
                Role::Supervisor,
                Role::Approver,
                Role::Clerk,
                Role::SysAdmin,
            ],
        },
        NavItem {
            section: "一网通办",
            label: "政务服务统计",
            href: "/services/reports",
            roles: crate::pages::report::READERS,
        },
        NavItem {
            section: "一网通办",
            label: "办不成事反映",
            href: "/services/feedback",
            roles: <crate::service::Supervise as kernel::auth::Permission>::ROLES,
        },
        NavItem {
            section: "一网通办",
            label: "我的办件",
            href: "/services/mine",
            roles: &[Role::Citizen],
        },
        NavItem {
            section: "一网通办",
            label: "办事指南",
            href: "/guide",
            roles: &Role::ALL,
        },
    ]
}

pub fn routes() -> Router<AppCtx> {
    Router::new()
        .merge(crate::items::http::routes())
        .merge(crate::bundles::http::routes())
        .merge(crate::cases::http::routes())
        .merge(crate::evaluation::http::routes())
        .merge(crate::report::http::routes())
}

#[derive(OpenApi)]
#[openapi(
    paths(crate::items::http::search, crate::items::http::create_item, crate::items::http::item, crate::items::http::update_item, crate::items::http::publish, crate::items::http::versions, crate::items::http::history, crate::items::http::version, crate::items::http::import, crate::items::http::export, crate::bundles::http::bundles, crate::bundles::http::create_bundle, crate::bundles::http::bundle, crate::bundles::http::apply_bundle, crate::bundles::http::bundle_case, crate::bundles::http::deliver_bundle, crate::cases::http::list, crate::cases::http::submit, crate::cases::http::one, crate::cases::http::timeline, crate::cases::http::act, crate::evaluation::http::evaluate, crate::evaluation::http::codes, crate::evaluation::http::rectifications, crate::evaluation::http::reply, crate::evaluation::http::review, crate::evaluation::http::feedback_list, crate::evaluation::http::feedback, crate::evaluation::http::answer, crate::report::http::report_json, crate::report::http::report_xlsx, crate::report::http::report_docx, crate::cases::http::track, crate::evaluation::http::evaluate_public),
    components(schemas(ServiceItem, ItemInput, ItemType, ExerciseLevel, HandlingKind, ApprovalMode, Depth, DeliveryMethod,
                       MaterialForm, FieldKind, ItemStatus, Material, FormField, Scenario, SpecialProcedure, AutoRule, Condition,
                       Test, AutoDecision, Bundle, BundleInput, BundleOrder, BundleView, MergedForm, Savings, BundleStatus,
                       BundleCaseView, BundleCaseRow, NewBundleCase, NewCase, CaseView, Case, CaseStatus, Channel, ApplicantKind,
                       Card, MaterialSource, Applicant, CaseMaterial, Decision, Rejection, Delivery, SpecialRun, Tolerated,
                       SupplementRequest, Action, TimelineEntry, Evaluation, NewEvaluation, Level, Coding, EvalChannel,
                       Rectification, RectificationStatus, RectificationReply, RectificationReview, Feedback, NewFeedback,
                       FeedbackStatus, Tracking, TrackRequest, PublicEvaluation, EvaluateRequest, DeliverRequest, AnswerRequest,
                       LevelCode, Report, ReportRow, GroupBy, ImportReport, ImportedRow, RowError, ItemChange, Page<CaseView>,
                       kernel::deadline::TimeUnit)),
    tags((name = "services", description = "一网通办：事项、一件事、办件、好差评"))
)]
pub struct ServicesApi;

pub(crate) type J<T> = ApiResult<axum::Json<T>>;

pub(crate) use webcore::download::{attachment, DOCX, XLSX};
