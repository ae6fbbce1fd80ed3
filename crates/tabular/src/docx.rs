//! A small .docx report builder on docx-rs, styled for Chinese government reports.

use std::io::Cursor;

use docx_rs::{
    AbstractNumbering, AlignmentType, BreakType, Docx, Footer, IndentLevel, Level, LevelJc,
    LevelText, LineSpacing, LineSpacingType, NumPages, NumberFormat, NumberingId, PageNum,
    Paragraph, Run, RunFonts, Shading, SpecialIndentType, Start, Style, StyleType, Table,
    TableCell, TableLayoutType, TableRow, WidthType,
};

use crate::text::{widest_line, xml_safe};
use crate::TabularError;

// Fonts every Chinese Windows, WPS and Word install has; Latin text uses Times New Roman.
const BODY_FONT: &str = "宋体";
const HEADING_FONT: &str = "黑体";
const LATIN_FONT: &str = "Times New Roman";
// Sizes in half-points, named by the Chinese type sizes (字号) reports are specified in.
const SIZE_COVER: usize = 52; // 一号
const SIZE_TITLE: usize = 44; // 二号
const SIZE_H1: usize = 32; // 三号
const SIZE_H2: usize = 30; // 小三
const SIZE_H3: usize = 28; // 四号
const SIZE_BODY: usize = 24; // 小四
const SIZE_TABLE: usize = 21; // 五号
/// Text width of an A4 page with docx-rs's default margins, in twips.
const TEXT_WIDTH: usize = 11_906 - 2 * 1_701;
/// Numbering id of the bullet list (id 1 is docx-rs's built-in decimal list).
const BULLET_NUMBERING: usize = 2;

/// A report under construction: a title, then headings, paragraphs, bullets, tables and page
/// breaks in order. Build it, then call [`Doc::to_bytes`] for the `.docx` file.
///
/// ```
/// let mut doc = tabular::Doc::new("2024年第一季度热线工作报告");
/// doc.heading(1, "一、总体情况")
///     .paragraph("本季度共受理群众来电 12,345 件。")
///     .bullet("按时办结率 98.6%")
///     .table(&["类别", "件数"], &[vec!["城乡建设", "5,021"]]);
/// let bytes = doc.to_bytes().unwrap();
/// assert!(bytes.starts_with(b"PK"));
/// ```
///
/// Body text is 宋体 小四 with a two-character first-line indent and 1.5 line spacing; headings
/// are 黑体 in Word's "heading 1–3" styles, so they appear in the navigation pane and a table
/// of contents; the footer shows "第 X 页，共 Y 页".
#[derive(Debug, Clone, Default)]
pub struct Doc {
    title: String,
    cover: Option<(String, String)>,
    blocks: Vec<Block>,
}

#[derive(Debug, Clone)]
enum Block {
    Heading(u8, String),
    Paragraph(String),
    Bullet(String),
    Table(Vec<String>, Vec<Vec<String>>),
    /// "表N　…" above the next table, numbered in order.
    Caption(String),
    PageBreak,
}

impl Doc {
    /// A new report; a non-empty `title` is set centred in 黑体 二号 at the top.
    pub fn new(title: impl Into<String>) -> Self {
        Doc {
            title: title.into(),
            cover: None,
            blocks: Vec::new(),
        }
    }

    /// A title page in the bureau's style: the title large in the upper third, the issuing
    /// body and the date below it; the report starts on the next page.
    pub fn cover(&mut self, issuer: impl Into<String>, date: impl Into<String>) -> &mut Self {
        self.cover = Some((issuer.into(), date.into()));
        self
    }

    /// The caption of the next table, numbered "表1", "表2" … in order; kept on the table's page.
    pub fn caption(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Caption(text.into()));
        self
    }

    /// A heading of `level` 1, 2 or 3 (values outside are clamped to that range).
    pub fn heading(&mut self, level: u8, text: impl Into<String>) -> &mut Self {
        self.blocks
            .push(Block::Heading(level.clamp(1, 3), text.into()));
        self
    }

    /// A body paragraph. Line breaks in `text` become line breaks within the paragraph.
    pub fn paragraph(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Paragraph(text.into()));
        self
    }

    /// A bulleted list item ("•", a real Word list, so Word and WPS continue it naturally).
    pub fn bullet(&mut self, text: impl Into<String>) -> &mut Self {
        self.blocks.push(Block::Bullet(text.into()));
        self
    }

    /// A full-width table with a shaded header row, repeated at the top of every page the table
    /// runs onto. Column widths follow the content (Chinese characters count double), so a
    /// figure such as "100.0%" never wraps; columns of figures are right-aligned. Short rows
    /// are padded with empty cells.
    pub fn table<H: AsRef<str>, C: AsRef<str>>(
        &mut self,
        headers: &[H],
        rows: &[Vec<C>],
    ) -> &mut Self {
        let headers = headers.iter().map(|h| h.as_ref().to_string()).collect();
        let rows = rows
            .iter()
            .map(|r| r.iter().map(|c| c.as_ref().to_string()).collect())
            .collect();
        self.blocks.push(Block::Table(headers, rows));
        self
    }

    /// Starts a new page.
    pub fn page_break(&mut self) -> &mut Self {
        self.blocks.push(Block::PageBreak);
        self
    }

    /// The `.docx` file.
    pub fn to_bytes(&self) -> Result<Vec<u8>, TabularError> {
        let mut docx = Docx::new()
            .default_fonts(fonts(BODY_FONT))
            .default_size(SIZE_BODY)
            .add_style(heading_style("Title", "Title", SIZE_TITLE, None))
            .add_style(heading_style("Heading1", "heading 1", SIZE_H1, Some(0)))
            .add_style(heading_style("Heading2", "heading 2", SIZE_H2, Some(1)))
            .add_style(heading_style("Heading3", "heading 3", SIZE_H3, Some(2)))
            .add_abstract_numbering(
                AbstractNumbering::new(BULLET_NUMBERING).add_level(
                    Level::new(
                        0,
                        Start::new(1),
                        NumberFormat::new("bullet"),
                        LevelText::new("•"),
                        LevelJc::new("left"),
                    )
                    .indent(Some(840), Some(SpecialIndentType::Hanging(420)), None, None)
                    .fonts(RunFonts::new().ascii(LATIN_FONT).hi_ansi(LATIN_FONT)),
                ),
            )
            .add_numbering(docx_rs::Numbering::new(BULLET_NUMBERING, BULLET_NUMBERING))
            .footer(Footer::new().add_paragraph(page_number()));

        if let Some((issuer, date)) = &self.cover {
            // About a third of the way down the page: blank lines of body size.
            for _ in 0..8 {
                docx = docx.add_paragraph(Paragraph::new());
            }
            docx = docx.add_paragraph(
                lines(
                    Paragraph::new().align(AlignmentType::Center),
                    &self.title,
                    HEADING_FONT,
                    SIZE_COVER,
                )
                .line_spacing(LineSpacing::new().after(1_200)),
            );
            for text in [issuer, date] {
                docx = docx.add_paragraph(
                    lines(
                        Paragraph::new().align(AlignmentType::Center),
                        text,
                        BODY_FONT,
                        SIZE_H2,
                    )
                    .line_spacing(LineSpacing::new().after(240)),
                );
            }
            docx =
                docx.add_paragraph(Paragraph::new().add_run(Run::new().add_break(BreakType::Page)));
        }
        if !self.title.trim().is_empty() {
            docx = docx.add_paragraph(
                lines(
                    Paragraph::new().style("Title").align(AlignmentType::Center),
                    &self.title,
                    HEADING_FONT,
                    SIZE_TITLE,
                )
                .line_spacing(LineSpacing::new().before(240).after(480)),
            );
        }
        let mut tables = 0;
        for block in &self.blocks {
            docx = match block {
                Block::Caption(text) => {
                    tables += 1;
                    let p = Paragraph::new()
                        .align(AlignmentType::Center)
                        .keep_next(true)
                        .line_spacing(LineSpacing::new().before(120).after(60));
                    docx.add_paragraph(lines(
                        p,
                        &format!("表{tables}　{text}"),
                        HEADING_FONT,
                        SIZE_TABLE,
                    ))
                }
                Block::Heading(level, text) => {
                    let (style, size) = match level {
                        1 => ("Heading1", SIZE_H1),
                        2 => ("Heading2", SIZE_H2),
                        _ => ("Heading3", SIZE_H3),
                    };
                    let p = Paragraph::new()
                        .style(style)
                        .outline_lvl(usize::from(*level) - 1)
                        .keep_next(true)
                        .line_spacing(LineSpacing::new().before(240).after(120));
                    docx.add_paragraph(lines(p, text, HEADING_FONT, size))
                }
                Block::Paragraph(text) => docx.add_paragraph(lines(
                    body_paragraph().first_line_chars(200).indent(
                        None,
                        Some(SpecialIndentType::FirstLine(2 * SIZE_BODY as i32 * 10)),
                        None,
                        None,
                    ),
                    text,
                    BODY_FONT,
                    SIZE_BODY,
                )),
                Block::Bullet(text) => docx.add_paragraph(lines(
                    body_paragraph()
                        .numbering(NumberingId::new(BULLET_NUMBERING), IndentLevel::new(0)),
                    text,
                    BODY_FONT,
                    SIZE_BODY,
                )),
                Block::Table(headers, rows) => match table(headers, rows) {
                    // A paragraph after each table keeps two adjacent tables from merging.
                    Some(t) => docx.add_table(t).add_paragraph(Paragraph::new()),
                    None => docx,
                },
                Block::PageBreak => docx
                    .add_paragraph(Paragraph::new().add_run(Run::new().add_break(BreakType::Page))),
            };
        }

        let mut out = Cursor::new(Vec::new());
        docx.build()
            .pack(&mut out)
            .map_err(|e| TabularError::Write(format!("DOCX：{e}")))?;
        repeat_header_rows(&out.into_inner())
    }
}

/// docx-rs cannot mark a row as a header row (`w:tblHeader`), which Word and WPS repeat at the
/// top of each page; the header rows are the only rows built with `cantSplit`, so the mark is
/// added beside it in the packed document.
fn repeat_header_rows(docx: &[u8]) -> Result<Vec<u8>, TabularError> {
    use std::io::{Read, Write};
    let err = |e: &dyn std::fmt::Display| TabularError::Write(format!("DOCX：{e}"));
    let mut zin = zip::ZipArchive::new(Cursor::new(docx)).map_err(|e| err(&e))?;
    let mut zout = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).map_err(|e| err(&e))?;
        let name = f.name().map_err(|e| err(&e))?.to_string();
        let mut data = Vec::new();
        f.read_to_end(&mut data).map_err(|e| err(&e))?;
        if name == "word/document.xml" {
            let xml = String::from_utf8(data).map_err(|e| err(&e))?;
            data = xml
                .replace(
                    "<w:trPr><w:cantSplit /></w:trPr>",
                    "<w:trPr><w:cantSplit /><w:tblHeader /></w:trPr>",
                )
                .into_bytes();
        }
        zout.start_file(name, opts).map_err(|e| err(&e))?;
        zout.write_all(&data).map_err(|e| err(&e))?;
    }
    Ok(zout.finish().map_err(|e| err(&e))?.into_inner())
}

/// A figure as reports print it: 1,234 · 98.6% · −3.2% · 12.5 · — (none).
fn is_figure(s: &str) -> bool {
    let t = s.trim();
    if t.is_empty() || t == "—" || t == "-" {
        return true;
    }
    let t = t
        .trim_start_matches(['+', '-', '−'])
        .trim_end_matches(['%', '‰']);
    !t.is_empty()
        && t.chars().any(|c| c.is_ascii_digit())
        && t.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
}

fn fonts(east_asia: &str) -> RunFonts {
    // The eastAsia hint makes Word render ambiguous characters such as “” and … in the Chinese
    // font at full width, as Chinese readers expect.
    RunFonts::new()
        .east_asia(east_asia)
        .ascii(LATIN_FONT)
        .hi_ansi(LATIN_FONT)
        .hint("eastAsia")
}

fn heading_style(id: &str, name: &str, size: usize, outline: Option<usize>) -> Style {
    let style = Style::new(id, StyleType::Paragraph)
        .name(name)
        .fonts(fonts(HEADING_FONT))
        .size(size)
        .q_format(true);
    match outline {
        Some(level) => style.outline_lvl(level),
        None => style,
    }
}

fn body_paragraph() -> Paragraph {
    Paragraph::new().align(AlignmentType::Both).line_spacing(
        LineSpacing::new()
            .line(360)
            .line_rule(LineSpacingType::Auto),
    )
}

/// Adds `text` to `p` as runs in the given font, one per line, joined by line breaks.
fn lines(mut p: Paragraph, text: &str, font: &str, size: usize) -> Paragraph {
    let text = xml_safe(text);
    for (i, line) in text.split('\n').enumerate() {
        let mut run = Run::new().fonts(fonts(font)).size(size);
        if i > 0 {
            run = run.add_break(BreakType::TextWrapping);
        }
        p = p.add_run(run.add_text(line.trim_end_matches('\r')));
    }
    p
}

fn page_number() -> Paragraph {
    let run = |t: &str| {
        Run::new()
            .fonts(fonts(BODY_FONT))
            .size(SIZE_TABLE)
            .add_text(t)
    };
    Paragraph::new()
        .align(AlignmentType::Center)
        .add_run(run("第 "))
        .add_page_num(PageNum::new())
        .add_run(run(" 页，共 "))
        .add_num_pages(NumPages::new())
        .add_run(run(" 页"))
}

/// Twips one unit of [`widest_line`] takes at 五号 (a Chinese character is two units, 210 twips).
const TWIPS_PER_UNIT: usize = SIZE_TABLE * 10 / 2;
/// Word's default left and right cell margins (108 twips each), with a little slack.
const CELL_PADDING: usize = 240;
/// Beyond this many units a column's text wraps anyway, so it claims no more width.
const WIDE_CAP: usize = 60;

/// Column widths in twips that fill the text width. Narrow columns (numbers, codes, category
/// names) get the width to show their longest text on one line; wide ones share the rest in
/// proportion to their text, so "城乡建设" never wraps beside a long message detail.
fn column_widths(wants: &[usize]) -> Vec<usize> {
    let needs: Vec<usize> = wants
        .iter()
        .map(|w| (*w).clamp(2, WIDE_CAP) * TWIPS_PER_UNIT + CELL_PADDING)
        .collect();
    let total: usize = needs.iter().sum();
    if total <= TEXT_WIDTH {
        return needs.iter().map(|n| n * TEXT_WIDTH / total).collect();
    }
    let fair = TEXT_WIDTH / needs.len();
    let narrow: usize = needs.iter().filter(|n| **n <= fair).sum();
    let wide: usize = needs.iter().filter(|n| **n > fair).sum();
    let rest = TEXT_WIDTH - narrow;
    needs
        .iter()
        .map(|n| if *n <= fair { *n } else { n * rest / wide })
        .collect()
}

fn table(headers: &[String], rows: &[Vec<String>]) -> Option<Table> {
    let columns = rows
        .iter()
        .map(Vec::len)
        .chain([headers.len()])
        .max()
        .unwrap_or(0);
    if columns == 0 {
        return None;
    }
    let wants: Vec<usize> = (0..columns)
        .map(|c| {
            let cells = rows.iter().filter_map(|r| r.get(c));
            headers
                .get(c)
                .into_iter()
                .chain(cells)
                .map(|s| widest_line(s))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let widths = column_widths(&wants);
    // A column of figures (every body cell a number, a rate or "—") is right-aligned so that
    // the digits line up; the first column names the rows and stays left.
    let figures: Vec<bool> = (0..columns)
        .map(|c| {
            c > 0
                && rows
                    .iter()
                    .any(|r| r.get(c).is_some_and(|x| !x.trim().is_empty()))
                && rows.iter().all(|r| r.get(c).is_none_or(|x| is_figure(x)))
        })
        .collect();

    let cell = |text: &str, col: usize, header: bool| {
        let p = Paragraph::new().align(if header {
            AlignmentType::Center
        } else if figures[col] {
            AlignmentType::Right
        } else {
            AlignmentType::Left
        });
        let font = if header { HEADING_FONT } else { BODY_FONT };
        let mut c = TableCell::new()
            .width(widths[col], WidthType::Dxa)
            .add_paragraph(lines(p, text, font, SIZE_TABLE));
        if header {
            c = c.shading(Shading::new().fill("D9D9D9"));
        }
        c
    };
    let header_row = (!headers.is_empty()).then(|| {
        TableRow::new(
            (0..columns)
                .map(|c| cell(headers.get(c).map_or("", String::as_str), c, true))
                .collect(),
        )
        .cant_split()
    });
    let body_rows = rows.iter().map(|r| {
        TableRow::new(
            (0..columns)
                .map(|c| cell(r.get(c).map_or("", String::as_str), c, false))
                .collect(),
        )
    });
    Some(
        Table::new(header_row.into_iter().chain(body_rows).collect())
            .set_grid(widths.clone())
            .width(TEXT_WIDTH, WidthType::Dxa)
            .layout(TableLayoutType::Fixed),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_are_told_from_words() {
        for f in [
            "1,234", "98.6%", "−3.2%", "+12.5%", "0", "—", "100.0%", "3.5‰",
        ] {
            assert!(is_figure(f), "{f}");
        }
        for w in ["城乡建设", "A1区", "2026-03", "第1版", "12 件", "%"] {
            assert!(!is_figure(w), "{w}");
        }
    }

    #[test]
    fn header_rows_repeat_and_captions_are_numbered() {
        let mut d = Doc::new("报告");
        d.cover("A市政务服务和数据管理局", "2026年3月")
            .caption("办理量")
            .table(
                &["单位", "件数", "办结率"],
                &[vec!["住建局", "1,234", "98.6%"]],
            )
            .caption("办理质量")
            .table(&["单位", "率"], &[vec!["住建局", "100.0%"]]);
        let bytes = d.to_bytes().unwrap();
        let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut xml = String::new();
        std::io::Read::read_to_string(&mut z.by_name("word/document.xml").unwrap(), &mut xml)
            .unwrap();
        assert_eq!(xml.matches("<w:tblHeader />").count(), 2);
        assert!(xml.contains("表1　办理量") && xml.contains("表2　办理质量"));
        // The cover page: the title, then a page break before the report's own title.
        let cover = xml.find("A市政务服务和数据管理局").unwrap();
        let brk = xml[cover..].find("w:type=\"page\"").unwrap();
        assert!(xml[cover + brk..].contains("报告"));
        // The figures right-aligned, the names left.
        let row = &xml[xml.find("住建局").unwrap() - 400..];
        assert!(row.contains("w:val=\"left\""), "{row}");
        assert!(xml.contains("w:val=\"right\""));
    }

    #[test]
    fn narrow_columns_keep_their_width() {
        // 留言主题 (about 30 units), a long detail, and 分类 ("城乡建设", 8 units).
        let widths = column_widths(&[30, 400, 8]);
        assert!(widths.iter().sum::<usize>() <= TEXT_WIDTH);
        assert!(widths.iter().sum::<usize>() > TEXT_WIDTH - 10);
        assert_eq!(widths[2], 8 * TWIPS_PER_UNIT + CELL_PADDING);
        assert!(widths[1] > widths[0]);

        // Short tables are stretched to the full width in proportion.
        let widths = column_widths(&[8, 4, 6]);
        assert!(widths[0] > widths[2] && widths[2] > widths[1]);
        assert!(widths.iter().sum::<usize>() > TEXT_WIDTH - 10);
    }
}
