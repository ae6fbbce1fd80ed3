//! The catalog workbook: download (the catalog, or a blank template) and upload as drafts of
//! one's department, with every bad row by sheet, line and column.

use super::PageResult;
use crate::catalog::service::CatalogImport;
use crate::http::svc;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use kernel::{Error, FieldError};
use maud::{html, Markup};
use serde::Deserialize;
use webcore::layout::{csrf_input, error_summary, field_error, page};
use webcore::{AppCtx, PageCtx, PageError, Query};

pub(super) fn routes() -> Router<AppCtx> {
    Router::new()
        .route("/sharing/catalog.xlsx", get(download))
        .route("/sharing/catalog/import", get(form).post(upload))
}

#[derive(Debug, Deserialize, Default)]
struct DownloadQuery {
    #[serde(default)]
    template: String,
}

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn download(
    State(ctx): State<AppCtx>,
    p: PageCtx,
    Query(q): Query<DownloadQuery>,
) -> PageResult {
    let template = !q.template.is_empty();
    let bytes = svc(&ctx).export_catalog(&p.actor, template).await?;
    let (ascii, zh) = if template {
        (
            "sharing-catalog-template.xlsx",
            "政务信息资源目录_导入模板.xlsx",
        )
    } else {
        ("sharing-catalog.xlsx", "政务信息资源目录.xlsx")
    };
    Ok(webcore::download::attachment(bytes, XLSX, ascii, zh))
}

fn body(p: &PageCtx, errors: &[FieldError], report: Option<&CatalogImport>) -> Markup {
    html! {
        p { a href="/sharing/cataloguing" { "← 编目与审核" } }
        @if let Some(r) = report { (report_html(r)) }
        (error_summary(errors))
        form #import-form method="post" action="/sharing/catalog/import" enctype="multipart/form-data" {
            (csrf_input(p))
            div.field {
                label for="file" { "目录文件（.xlsx）" }
                input #file type="file" name="file" accept=".xlsx" required aria-invalid=[errors.iter().any(|e| e.field == "file").then_some("true")];
                (field_error(errors, "file"))
            }
            button type="submit" #do-import { "导入为本部门草稿" }
        }
        h2 { "文件格式" }
        p { "工作簿有“目录”“信息项”两张表：目录表每行一条目录，用“序号”编号；信息项表每行一个信息项，用“序号”指明所属目录。“填写说明”表列出每列的填写要求。" }
        p { "导入的目录一律作为本部门的草稿，检查无误后在“编目与审核”中逐条提交审核。有问题的目录（目录行或其任一信息项有误）整条不导入，并按工作表、行号和列列出；其余照常导入。" }
        p {
            a #template href="/sharing/catalog.xlsx?template=1" { "下载空白模板（.xlsx）" }
            " · "
            a #export href="/sharing/catalog.xlsx" { "下载现有目录（.xlsx）" }
        }
    }
}

fn report_html(r: &CatalogImport) -> Markup {
    let bad: std::collections::BTreeSet<(&str, usize)> = r
        .errors
        .iter()
        .filter(|e| e.sheet == crate::catalog::workbook::ENTRY_SHEET)
        .map(|e| (e.sheet.as_str(), e.line))
        .collect();
    html! {
        div.notice role="status" #import-summary {
            "导入草稿 " strong { (r.created.len()) } " 条"
            @if !r.errors.is_empty() { "；" (bad.len()) " 条目录、共 " (r.errors.len()) " 处问题，未导入" }
            "。"
        }
        @if !r.created.is_empty() {
            h2 { "已导入" }
            table #imported {
                thead { tr { th { "目录表行号" } th { "资源代码" } th { "名称" } th { "状态" } } }
                tbody { @for x in &r.created {
                    tr {
                        td { (x.line) }
                        td { code { (x.code) } }
                        td { a href=(format!("/sharing/catalog/{}", x.id)) { (x.name) } }
                        td { "草稿" }
                    }
                } }
            }
        }
        @if !r.errors.is_empty() {
            h2 { "有问题的行" }
            table #import-errors {
                thead { tr { th { "工作表" } th { "行号" } th { "列" } th { "问题" } } }
                tbody { @for e in &r.errors {
                    tr {
                        td { (e.sheet) }
                        td { "第 " (e.line) " 行" }
                        td { (if e.column.is_empty() { "—" } else { e.column.as_str() }) }
                        td { (e.reason) }
                    }
                } }
            }
        }
    }
}

async fn form(p: PageCtx) -> PageResult {
    p.actor.authorize::<crate::service::Catalogue>()?;
    Ok(page(&p, "导入目录", body(&p, &[], None)).into_response())
}

fn bad_upload(e: axum::extract::multipart::MultipartError) -> PageError {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        PageError(Error::PayloadTooLarge { limit: 0 })
    } else {
        PageError(Error::BadRequest {
            code: "malformed_upload",
            detail: "上传的表单无法读取，请重新选择文件后再试".into(),
            field: Some("file".into()),
        })
    }
}

async fn upload(State(ctx): State<AppCtx>, p: PageCtx, mut mp: Multipart) -> PageResult {
    let (mut csrf, mut file) = (String::new(), None);
    while let Some(field) = mp.next_field().await.map_err(bad_upload)? {
        match field.name().unwrap_or("") {
            "_csrf" => csrf = field.text().await.map_err(bad_upload)?,
            "file" => {
                let name = field.file_name().unwrap_or("").to_owned();
                file = Some((name, field.bytes().await.map_err(bad_upload)?));
            }
            _ => {}
        }
    }
    p.check_csrf(&csrf)?;
    let refuse = |e: &Error| -> PageResult {
        let errs = [FieldError::new("file", e.code(), e.detail())];
        Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&p, "导入目录", body(&p, &errs, None)),
        )
            .into_response())
    };
    let Some((name, bytes)) = file.filter(|(n, b)| !n.is_empty() || !b.is_empty()) else {
        return refuse(&Error::field(
            "file",
            "required",
            "请选择要导入的 .xlsx 文件",
        ));
    };
    match svc(&ctx)
        .import_catalog(&p.actor, &name, bytes.to_vec())
        .await
    {
        Ok(r) => Ok(page(&p, "导入目录", body(&p, &[], Some(&r))).into_response()),
        // Refused as a whole (not a workbook, a sheet or column missing): nothing written.
        Err(e @ Error::Validation(_)) => refuse(&e),
        Err(e) => Err(e.into()),
    }
}
