//! Encodings, round trips, reports and bad input.

use std::io::{Cursor, Read};

use chrono::NaiveDate;
use tabular::{
    read_csv, read_named, read_path, read_xlsx, read_xlsx_sheet, write_xlsx, Cell, Doc,
    TabularError,
};

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[test]
fn gbk_csv_as_saved_by_chinese_excel() {
    let text = "姓名,部门,备注\r\n张三,市数据局,\"含逗号,和“引号”\"\r\n李四,A1区政务服务中心,\r\n";
    let (gbk, _, unmappable) = encoding_rs::GBK.encode(text);
    assert!(!unmappable);
    assert!(
        std::str::from_utf8(&gbk).is_err(),
        "the test needs non-UTF-8 bytes"
    );

    let sheet = read_csv(&gbk).unwrap();
    assert_eq!(sheet.headers, ["姓名", "部门", "备注"]);
    assert_eq!(sheet.rows.len(), 2);
    assert_eq!(sheet.rows[0].cells, ["张三", "市数据局", "含逗号,和“引号”"]);
    assert_eq!(sheet.rows[1].cells, ["李四", "A1区政务服务中心", ""]);
    assert_eq!(sheet.rows[1].line, 3);

    // GB18030-only characters (rare surnames, extension B) survive too.
    let (gb18030, _, _) = encoding_rs::GB18030.encode("姓名\n𠀾先生\n");
    assert_eq!(read_csv(&gb18030).unwrap().rows[0].cells, ["𠀾先生"]);
}

#[test]
fn bom_is_stripped_and_headers_match_by_alias() {
    let text = "\u{feff}留言编号, 留言 主题 ,ＩＤ\n1,标题,x\n";
    let sheet = read_csv(text.as_bytes()).unwrap();
    assert_eq!(sheet.headers[0], "留言编号");
    assert_eq!(sheet.headers[1], "留言 主题");
    assert_eq!(sheet.column(&["留言编号", "id"]), Some(0));
    assert_eq!(sheet.column(&["message_id", "留言编号"]), Some(0));
    assert_eq!(sheet.column(&["留言主题"]), Some(1));
    assert_eq!(sheet.column(&["id"]), Some(2), "full-width ＩＤ matches id");
    assert_eq!(sheet.column(&["答复意见"]), None);
    assert!(matches!(
        sheet.require(&["答复意见", "reply"]),
        Err(TabularError::MissingColumn(c)) if c == "答复意见"
    ));
    let row = &sheet.rows[0];
    assert_eq!(row.get(sheet.column(&["留言主题"])), "标题");
    assert_eq!(row.get(None), "");
    assert_eq!(row.get(Some(99)), "");
}

#[test]
fn ragged_rows_and_blank_lines_do_not_fail_the_file() {
    let text = "a,b,c\n1\n\n,,\n1,2,3,4\n  x  , y ,z\n,,\n";
    let sheet = read_csv(text.as_bytes()).unwrap();
    let got: Vec<(usize, Vec<String>)> = sheet
        .rows
        .iter()
        .map(|r| (r.line, r.cells.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (2, s(&["1", "", ""])),
            (5, s(&["1", "2", "3", "4"])),
            (6, s(&["x", "y", "z"])),
        ]
    );
}

#[test]
fn line_numbers_with_every_line_ending() {
    for (ending, name) in [("\r\n", "CRLF"), ("\n", "LF"), ("\r", "CR")] {
        let text = ["h1,h2", "1,\"多行", "文本\"", "", "2,x", "3,y"].join(ending);
        let sheet = read_csv(text.as_bytes()).unwrap();
        let lines: Vec<usize> = sheet.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [2, 5, 6], "{name}");
        assert_eq!(sheet.rows[0].cells[1], "多行\n文本", "{name}");
    }
}

#[test]
fn text_saved_with_an_xls_name_is_read_as_text() {
    // Some older systems export tab-separated GBK text and call it .xls.
    let (gbk, _, _) = encoding_rs::GBK.encode("姓名\t电话\r\n张三\t13800138000\r\n");
    let sheet = read_named("导出.xls", &gbk).unwrap();
    assert_eq!(sheet.headers, ["姓名", "电话"]);
    assert_eq!(sheet.rows[0].cells, ["张三", "13800138000"]);
    assert_eq!(sheet.rows[0].line, 2);
}

#[test]
fn leading_blank_lines_before_the_header() {
    let sheet = read_csv(b"\n,,\nid,name\n7,x\n").unwrap();
    assert_eq!(sheet.headers, ["id", "name"]);
    assert_eq!(sheet.rows[0].line, 4);
}

#[test]
fn xlsx_round_trip() {
    let headers = s(&[
        "姓名",
        "年龄",
        "得分",
        "入职日期",
        "登记时间",
        "身份证号",
        "备注",
    ]);
    let date = NaiveDate::from_ymd_opt(2024, 3, 8).unwrap();
    let at = date.and_hms_opt(9, 30, 5).unwrap();
    let rows = vec![
        vec![
            Cell::from("张三"),
            Cell::Int(42),
            Cell::Float(98.5),
            Cell::Date(date),
            Cell::DateTime(at),
            Cell::from("110101199003070012"),
            Cell::from("第一行\n第二行"),
        ],
        vec![
            Cell::from("李四"),
            Cell::Int(-7),
            Cell::Float(0.1 + 0.2),
            Cell::Empty,
            Cell::from(None::<NaiveDate>),
            Cell::from("=1+1"),
            Cell::Int(9_007_199_254_740_993), // beyond 2^53: kept exact as text
        ],
    ];
    let other = vec![vec![Cell::from("x")]];
    let bytes =
        write_xlsx(&[("人员名单", &headers, &rows), ("其他", &s(&["列"]), &other)]).unwrap();

    let sheet = read_xlsx(&bytes).unwrap();
    assert_eq!(sheet.headers, headers);
    assert_eq!(sheet.rows.len(), 2);
    assert_eq!(sheet.rows[0].line, 2);
    assert_eq!(
        sheet.rows[0].cells,
        s(&[
            "张三",
            "42",
            "98.5",
            "2024-03-08",
            "2024-03-08 09:30:05",
            "110101199003070012",
            "第一行\n第二行"
        ])
    );
    assert_eq!(
        sheet.rows[1].cells,
        s(&["李四", "-7", "0.3", "", "", "=1+1", "9007199254740993"])
    );

    let second = read_xlsx_sheet(&bytes, "其他").unwrap();
    assert_eq!(second.headers, ["列"]);
    assert_eq!(second.rows[0].cells, ["x"]);
    let err = read_xlsx_sheet(&bytes, "不存在").unwrap_err();
    assert!(err.to_string().contains("人员名单、其他"), "{err}");

    // The same bytes through the path reader, and mislabelled as .csv.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("名单.xlsx");
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(read_path(&path).unwrap(), sheet);
    assert_eq!(read_named("名单.CSV", &bytes).unwrap(), sheet);
}

#[test]
fn xlsx_has_frozen_bold_filtered_header_and_fitted_widths() {
    let headers = s(&["编号", "单位名称"]);
    let rows = vec![vec![
        Cell::Int(1),
        Cell::from("西地省A市政务服务和大数据管理局"),
    ]];
    let bytes = write_xlsx(&[("Sheet/1", &headers, &rows)]).unwrap();
    let sheet_xml = zip_entry(&bytes, "xl/worksheets/sheet1.xml");
    assert!(sheet_xml.contains(r#"<pane ySplit="1""#), "{sheet_xml}");
    assert!(
        sheet_xml.contains(r#"<autoFilter ref="A1:B2"/>"#),
        "{sheet_xml}"
    );
    // 15 Chinese characters need about 30 units, more than the short first column.
    let widths: Vec<f64> = sheet_xml
        .split("<col ")
        .skip(1)
        .map(|c| {
            let w = c.split("width=\"").nth(1).unwrap();
            w[..w.find('"').unwrap()].parse().unwrap()
        })
        .collect();
    assert_eq!(widths.len(), 2, "{sheet_xml}");
    assert!(widths[1] >= 30.0 && widths[0] < widths[1], "{widths:?}");
    let styles = zip_entry(&bytes, "xl/styles.xml");
    assert!(styles.contains("<b/>"), "header font is bold");
    let workbook = zip_entry(&bytes, "xl/workbook.xml");
    assert!(workbook.contains(r#"name="Sheet_1""#), "{workbook}");
}

#[test]
fn hidden_first_sheet_is_skipped() {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let lists = wb.add_worksheet();
    lists.set_name("下拉选项").unwrap();
    lists.write_string(0, 0, "选项").unwrap();
    lists.set_hidden(true);
    let data = wb.add_worksheet();
    data.set_name("数据").unwrap();
    data.write_string(2, 1, "姓名").unwrap();
    data.write_string(3, 1, "王五").unwrap();
    // Excel cannot hide the active sheet; a real template opens on its data sheet.
    data.set_active(true);
    let bytes = wb.save_to_buffer().unwrap();

    let sheet = read_xlsx(&bytes).unwrap();
    assert_eq!(sheet.headers, ["姓名"]);
    assert_eq!(sheet.rows[0].cells, ["王五"]);
    assert_eq!(sheet.rows[0].line, 4, "the row number Excel shows");
}

#[test]
fn docx_report() {
    let mut doc = Doc::new("2024年第一季度12345热线工作报告");
    doc.heading(1, "一、总体情况")
        .paragraph("本季度共受理群众诉求 12,345 件，同比增长 5.2%。\n第二行")
        .heading(2, "（一）分类情况")
        .bullet("城乡建设类最多")
        .bullet("环境保护类次之 <&> 特殊字符")
        .table(
            &["一级分类", "件数", "占比"],
            &[
                vec!["城乡建设", "5021", "40.7%"],
                vec!["劳动和社会保障", "1888"],
            ],
        )
        .page_break()
        .heading(7, "附件\u{1}");
    let bytes = doc.to_bytes().unwrap();

    let xml = zip_entry(&bytes, "word/document.xml");
    for text in [
        "2024年第一季度12345热线工作报告",
        "一、总体情况",
        "（一）分类情况",
        "城乡建设类最多",
        "&lt;&amp;&gt;",
        "一级分类",
        "劳动和社会保障",
        "40.7%",
        "附件",
    ] {
        assert!(xml.contains(text), "document.xml lacks {text}");
    }
    assert!(!xml.contains('\u{1}'), "control characters are dropped");
    assert!(xml.contains(r#"w:eastAsia="宋体""#), "body font");
    assert!(xml.contains(r#"w:eastAsia="黑体""#), "heading font");
    assert!(
        xml.contains(r#"<w:pStyle w:val="Heading3" />"#) || xml.contains(r#"w:val="Heading3""#)
    );
    assert!(xml.contains("<w:tbl>"), "a table");
    assert!(xml.contains(r#"w:type="page""#), "a page break");
    assert!(xml.contains(r#"w:fill="D9D9D9""#), "shaded header row");
    let styles = zip_entry(&bytes, "word/styles.xml");
    assert!(styles.contains("heading 1"), "{styles}");
    let numbering = zip_entry(&bytes, "word/numbering.xml");
    assert!(numbering.contains(r#"w:val="bullet""#), "{numbering}");

    // An empty report is still a valid document.
    let empty = Doc::new("").to_bytes().unwrap();
    assert!(zip_entry(&empty, "word/document.xml").contains("<w:body>"));
}

#[test]
fn bad_input_gives_clear_errors() {
    let junk: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0";
    for (what, err) in [
        ("xlsx junk", read_xlsx(junk).unwrap_err()),
        ("csv junk", read_csv(junk).unwrap_err()),
        ("named junk", read_named("a.xlsx", junk).unwrap_err()),
        ("text as xlsx", read_xlsx(b"id,name\n1,x\n").unwrap_err()),
    ] {
        assert!(
            matches!(err, TabularError::NotASpreadsheet(_)),
            "{what}: {err:?}"
        );
        assert!(err.to_string().contains("不是"), "{what}: {err}");
    }

    // A zip that is not a workbook, and a truncated workbook.
    let good = write_xlsx(&[("a", &s(&["h"]), &[vec![Cell::Int(1)]])]).unwrap();
    for bytes in [&good[..good.len() / 2], &b"PK\x03\x04garbage"[..]] {
        let err = read_xlsx(bytes).unwrap_err();
        assert!(matches!(err, TabularError::Corrupt { .. }), "{err:?}");
        assert!(err.to_string().contains("已损坏"), "{err}");
    }

    // An OLE container holding an encrypted package: a password-protected .xlsx.
    let mut encrypted = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    encrypted.extend([0u8; 64]);
    encrypted.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
    assert!(matches!(
        read_xlsx(&encrypted),
        Err(TabularError::Encrypted)
    ));
    let ole_junk = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1, 1, 2, 3];
    assert!(matches!(
        read_xlsx(&ole_junk),
        Err(TabularError::Corrupt { .. })
    ));

    // Nothing to read.
    for (what, err) in [
        ("empty csv", read_csv(b"").unwrap_err()),
        (
            "blank csv",
            read_csv(b"\xef\xbb\xbf\r\n , ,\r\n").unwrap_err(),
        ),
        ("empty xlsx", read_xlsx(b"").unwrap_err()),
        (
            "header-less sheet",
            read_xlsx(&write_xlsx(&[("空", &[], &[])]).unwrap()).unwrap_err(),
        ),
    ] {
        assert!(matches!(err, TabularError::Empty), "{what}: {err:?}");
        assert!(err.to_string().contains("表头"), "{what}: {err}");
    }

    // Files and names.
    let err = read_named("报表.pdf", b"%PDF-1.4").unwrap_err();
    assert!(matches!(err, TabularError::UnknownExtension(ref e) if e == ".pdf"));
    assert!(err.to_string().contains(".xlsx"), "{err}");
    let missing = std::path::Path::new("/nonexistent/名单.xlsx");
    let err = read_path(missing).unwrap_err();
    assert!(matches!(err, TabularError::Unreadable { .. }), "{err:?}");
    assert!(err.to_string().contains("无法读取文件"), "{err}");
}

#[test]
fn write_limits_are_errors_not_panics() {
    let long = "字".repeat(32_768);
    let err = write_xlsx(&[("长文本", &s(&["备注"]), &[vec![Cell::Text(long)]])]).unwrap_err();
    assert!(matches!(err, TabularError::Write(_)));
    assert!(err.to_string().contains("第 2 行第 1 列"), "{err}");

    // Dates Excel cannot hold are kept as text; NaN as text.
    let old = NaiveDate::from_ymd_opt(1850, 1, 2).unwrap();
    let bytes = write_xlsx(&[(
        "s",
        &s(&["d", "f"]),
        &[vec![Cell::Date(old), Cell::Float(f64::NAN)]],
    )])
    .unwrap();
    assert_eq!(
        read_xlsx(&bytes).unwrap().rows[0].cells,
        ["1850-01-02", "NaN"]
    );

    // No sheets at all still makes an openable workbook.
    assert!(write_xlsx(&[]).unwrap().starts_with(b"PK"));
}

fn zip_entry(bytes: &[u8], name: &str) -> String {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = String::new();
    archive
        .by_name(name)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .read_to_string(&mut out)
        .unwrap();
    out
}
