//! The report as .xlsx and the monthly report as .docx.

use super::domain::*;
use kernel::error::{Error, Result};

/// A rate as the bureau's reports write it (one decimal), "—" when it has no denominator.
fn pct(x: Option<f64>) -> String {
    x.map_or_else(|| "—".into(), |x| format!("{:.1}%", x * 100.0))
}

const HEADERS: [&str; 15] = [
    "统计对象",
    "受理量",
    "期初在办",
    "办结量",
    "办结率",
    "网办率",
    "即办件占比",
    "承诺时限压缩率",
    "平均办理时长（天，不含补正和特别程序）",
    "超期件",
    "评价数",
    "好评率",
    "评价覆盖度",
    "差评数",
    "差评整改率",
];

fn cells(r: &ReportRow) -> Vec<tabular::Cell> {
    use tabular::Cell;
    vec![
        Cell::from(r.label.clone()),
        Cell::Int(r.accepted),
        Cell::Int(r.carried_over),
        Cell::Int(r.closed),
        Cell::from(pct(r.closed_rate)),
        Cell::from(pct(r.online_rate)),
        Cell::from(pct(r.immediate_share)),
        Cell::from(pct(r.compression)),
        Cell::Float((r.avg_handling_days * 10.0).round() / 10.0),
        Cell::Int(r.overdue),
        Cell::Int(r.evaluations),
        Cell::from(pct(r.good_rate)),
        Cell::from(pct(r.coverage)),
        Cell::Int(r.bad),
        Cell::from(pct(r.rectified_rate)),
    ]
}

/// The report as a workbook: one row per group and the total.
pub fn to_xlsx(r: &Report) -> Result<Vec<u8>> {
    let headers: Vec<String> = HEADERS.iter().map(|s| s.to_string()).collect();
    let mut rows: Vec<Vec<tabular::Cell>> = r.rows.iter().map(cells).collect();
    rows.push(cells(&r.total));
    tabular::write_xlsx(&[(&format!("{} 政务服务", r.period), &headers, &rows)])
        .map_err(Error::internal)
}

/// The monthly 政务服务运行情况 report for leaders.
pub fn to_docx(r: &Report, city: &str) -> Result<Vec<u8>> {
    let t = &r.total;
    let mut d = tabular::Doc::new(format!("{city}{}政务服务运行情况", r.period));
    d.cover(
        format!("{city}政务服务中心"),
        format!("统计期：{}", r.period),
    );
    d.heading(1, "一、总体情况");
    d.paragraph(format!(
        "本期共受理办件 {} 件，期初在办 {} 件，办结 {} 件，办结率 {}（办结量 ÷（期初在办 + 本期受理））；网上办理占 {}，即办件占 {}；承诺时限较法定时限压缩 {}，平均办理时长 {:.1} 天（按各事项的计时方式，不含补正和特别程序时间）；超期 {} 件。",
        t.accepted, t.carried_over, t.closed, pct(t.closed_rate), pct(t.online_rate), pct(t.immediate_share), pct(t.compression), t.avg_handling_days, t.overdue
    ));
    d.heading(1, "二、好差评");
    d.paragraph(format!(
        "收到评价 {} 条，评价覆盖度 {}，好评率 {}；差评 {} 条，已整改 {} 条，差评整改率 {}。",
        t.evaluations,
        pct(t.coverage),
        pct(t.good_rate),
        t.bad,
        t.rectified,
        pct(t.rectified_rate)
    ));
    d.heading(1, "三、办不成事反映");
    d.paragraph(format!(
        "收到“办不成事”反映 {} 件，已答复 {} 件。",
        r.feedback, r.feedback_answered
    ));
    if !r.rows.is_empty() {
        d.heading(1, "四、分部门情况");
        let rows: Vec<Vec<String>> = r
            .rows
            .iter()
            .map(|x| {
                vec![
                    x.label.clone(),
                    x.accepted.to_string(),
                    x.closed.to_string(),
                    pct(x.closed_rate),
                    pct(x.online_rate),
                    x.overdue.to_string(),
                    pct(x.good_rate),
                ]
            })
            .collect();
        d.caption("各部门办件情况").table(
            &[
                "单位",
                "受理量",
                "办结量",
                "办结率",
                "网办率",
                "超期件",
                "好评率",
            ],
            &rows,
        );
    }
    d.to_bytes().map_err(Error::internal)
}
