//! Small charts drawn as inline SVG on the server: no chart library, no script, readable without
//! colour (values are printed) and by screen readers (`<title>`, `<desc>` and a table beside).

use maud::{html, Markup, PreEscaped};
use std::fmt::Write;

/// One line of a line chart.
pub struct Series {
    pub name: String,
    pub values: Vec<f64>,
}

/// Colours with at least 4.5:1 contrast on white, told apart also by dash pattern.
const COLOURS: [&str; 4] = ["#0b57d0", "#b3261e", "#146c2e", "#8a5a00"];
const DASHES: [&str; 4] = ["", "6 3", "2 3", "8 3 2 3"];

/// "Nice" axis ticks from 0 to at least `max`: steps of 1, 2 or 5 × 10ⁿ, at most about 5.
pub fn ticks(max: f64) -> Vec<f64> {
    let max = if max.is_finite() && max > 0.0 {
        max
    } else {
        1.0
    };
    let raw = max / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
        .max(1.0);
    let mut out = vec![0.0];
    let mut v = 0.0;
    while v < max {
        v += step;
        out.push(v);
    }
    out
}

fn esc(s: &str) -> String {
    html! { (s) }.into_string()
}

fn num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

/// A line chart over labelled points (days or weeks). Every `n`-th label is printed so they do
/// not overlap; all values stay in the table below the chart.
pub fn line_chart(id: &str, title: &str, labels: &[String], series: &[Series]) -> Markup {
    let (w, h) = (760.0, 260.0);
    let (left, right, top, bottom) = (48.0, 16.0, 16.0, 44.0);
    let pw = w - left - right;
    let ph = h - top - bottom;
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().copied())
        .fold(0.0, f64::max);
    let ts = ticks(max);
    let top_v = *ts.last().unwrap_or(&1.0);
    let n = labels.len().max(1);
    let x = |i: usize| {
        if n == 1 {
            left + pw / 2.0
        } else {
            left + pw * i as f64 / (n - 1) as f64
        }
    };
    let y = |v: f64| top + ph - ph * v / top_v;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg">"#
    );
    let total: f64 = series.first().map(|s| s.values.iter().sum()).unwrap_or(0.0);
    let _ = write!(
        svg,
        r#"<title id="{id}-t">{}</title><desc id="{id}-d">{}，共 {} 个时间点，合计 {}，最高 {}</desc>"#,
        esc(title),
        esc(&series
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>()
            .join("、")),
        labels.len(),
        num(total),
        num(max)
    );
    for t in &ts {
        let yy = y(*t);
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#d0d4da"/><text x="{}" y="{:.1}" text-anchor="end" font-size="12" fill="#444">{}</text>"##,
            w - right,
            left - 6.0,
            yy + 4.0,
            num(*t)
        );
    }
    let every = n.div_ceil(12).max(1);
    for (i, l) in labels.iter().enumerate() {
        if i % every == 0 || i + 1 == n {
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{}" text-anchor="middle" font-size="12" fill="#444">{}</text>"##,
                x(i),
                h - bottom + 18.0,
                esc(l)
            );
        }
    }
    let _ = write!(
        svg,
        r##"<line x1="{left}" x2="{left}" y1="{top}" y2="{}" stroke="#555"/><line x1="{left}" x2="{}" y1="{}" y2="{}" stroke="#555"/>"##,
        top + ph,
        w - right,
        top + ph,
        top + ph
    );
    for (k, s) in series.iter().enumerate() {
        let c = COLOURS[k % COLOURS.len()];
        let pts: Vec<String> = s
            .values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", x(i), y(*v)))
            .collect();
        let _ = write!(
            svg,
            r#"<polyline fill="none" stroke="{c}" stroke-width="2" stroke-dasharray="{}" points="{}"><title>{}</title></polyline>"#,
            DASHES[k % DASHES.len()],
            pts.join(" "),
            esc(&s.name)
        );
        if s.values.len() <= 45 {
            for (i, v) in s.values.iter().enumerate() {
                let _ = write!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{c}"><title>{} {}：{}</title></circle>"#,
                    x(i),
                    y(*v),
                    esc(labels.get(i).map(String::as_str).unwrap_or("")),
                    esc(&s.name),
                    num(*v)
                );
            }
        }
    }
    // Legend along the bottom.
    for (k, s) in series.iter().enumerate() {
        let lx = left + k as f64 * 140.0;
        let c = COLOURS[k % COLOURS.len()];
        let _ = write!(
            svg,
            r##"<line x1="{lx}" x2="{}" y1="{}" y2="{}" stroke="{c}" stroke-width="3" stroke-dasharray="{}"/><text x="{}" y="{}" font-size="12" fill="#1c1b1f">{}</text>"##,
            lx + 22.0,
            h - 8.0,
            h - 8.0,
            DASHES[k % DASHES.len()],
            lx + 28.0,
            h - 4.0,
            esc(&s.name)
        );
    }
    svg.push_str("</svg>");
    html! {
        figure.chart-box {
            (PreEscaped(svg))
            details {
                summary { "查看数据表" }
                table {
                    thead { tr { th scope="col" { "时间" } @for s in series { th scope="col" { (s.name) } } } }
                    tbody {
                        @for (i, l) in labels.iter().enumerate() {
                            tr { td { (l) } @for s in series { td { (num(s.values.get(i).copied().unwrap_or(0.0))) } } }
                        }
                    }
                }
            }
        }
    }
}

/// A horizontal bar chart: one bar per label, the value printed at its end. Long lists keep
/// the first `max_bars` (callers sort them).
pub fn bar_chart(id: &str, title: &str, bars: &[(String, f64)], max_bars: usize) -> Markup {
    let bars = &bars[..bars.len().min(max_bars)];
    let row = 24.0;
    let (left, right, top) = (170.0, 56.0, 8.0);
    let w = 560.0;
    let h = top * 2.0 + row * bars.len().max(1) as f64;
    let max = bars.iter().map(|b| b.1).fold(0.0, f64::max);
    let scale = if max > 0.0 {
        (w - left - right) / max
    } else {
        0.0
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-t {id}-d" xmlns="http://www.w3.org/2000/svg">"#
    );
    let _ = write!(
        svg,
        r#"<title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(&bars
            .iter()
            .map(|(l, v)| format!("{l} {}", num(*v)))
            .collect::<Vec<_>>()
            .join("；"))
    );
    if bars.is_empty() {
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle" font-size="13" fill="#555">本期无数据</text>"##,
            w / 2.0,
            h / 2.0 + 4.0
        );
    }
    for (i, (label, v)) in bars.iter().enumerate() {
        let y = top + row * i as f64;
        let bw = (v * scale).max(if *v > 0.0 { 1.0 } else { 0.0 });
        // Labels longer than the left margin are cut; the full name is in the tooltip and table.
        let short: String = if label.chars().count() > 11 {
            label.chars().take(10).chain(['…']).collect()
        } else {
            label.clone()
        };
        let _ = write!(
            svg,
            r##"<g><title>{}：{}</title><text x="{}" y="{:.1}" text-anchor="end" font-size="12" fill="#1c1b1f">{}</text><rect x="{left}" y="{:.1}" width="{bw:.1}" height="{}" fill="{}"/><text x="{:.1}" y="{:.1}" font-size="12" fill="#1c1b1f">{}</text></g>"##,
            esc(label),
            num(*v),
            left - 6.0,
            y + row / 2.0 + 4.0,
            esc(&short),
            y + 4.0,
            row - 8.0,
            COLOURS[0],
            left + bw + 4.0,
            y + row / 2.0 + 4.0,
            num(*v)
        );
    }
    svg.push_str("</svg>");
    html! { figure.chart-box { (PreEscaped(svg)) } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(ticks(0.0), vec![0.0, 1.0]);
        assert_eq!(ticks(7.0), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(ticks(100.0), vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        let t = ticks(1234.0);
        assert!(*t.last().unwrap() >= 1234.0 && t.len() <= 7, "{t:?}");
        assert_eq!(t[1], 500.0);
    }

    #[test]
    fn line_chart_draws_every_point_escaped() {
        let labels: Vec<String> = (1..=5).map(|d| format!("3月{d}日")).collect();
        let m = line_chart(
            "trend",
            "受理量<趋势>",
            &labels,
            &[Series {
                name: "受理量".into(),
                values: vec![1.0, 4.0, 2.0, 0.0, 3.0],
            }],
        )
        .into_string();
        assert!(m.contains("<svg") && m.contains("<polyline"));
        assert_eq!(m.matches("<circle").count(), 5);
        assert!(m.contains("受理量&lt;趋势&gt;"));
        assert!(!m.contains("<趋势>"));
        assert!(m.contains("合计 10，最高 4"));
        // The highest point sits on the top tick (4), the zero on the axis.
        assert!(m.contains(r#"cy="16.0""#), "{m}");
    }

    #[test]
    fn bar_chart_scales_to_the_longest_bar_and_says_when_empty() {
        let m = bar_chart(
            "b",
            "分类",
            &[("城乡建设".into(), 10.0), ("交通运输".into(), 5.0)],
            10,
        )
        .into_string();
        assert!(m.contains(r#"width="334.0""#), "{m}");
        assert!(m.contains(r#"width="167.0""#), "{m}");
        let empty = bar_chart("e", "分类", &[], 10).into_string();
        assert!(empty.contains("本期无数据"));
    }
}
