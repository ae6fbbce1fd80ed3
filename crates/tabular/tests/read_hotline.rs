//! Reads the real hotline data in `../shared/data/hotline/` (see shared/data/README.md).

use std::path::PathBuf;

use tabular::{read_csv, read_path, Sheet};

fn data(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/hotline/"
    ))
    .join(name)
}

fn read(name: &str) -> Sheet {
    read_path(&data(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn assert_shape(sheet: &Sheet, name: &str, rows: usize, headers: &[&str]) {
    assert_eq!(sheet.headers, headers, "{name} headers");
    assert_eq!(sheet.rows.len(), rows, "{name} row count");
    for row in &sheet.rows {
        assert_eq!(
            row.cells.len(),
            headers.len(),
            "{name} line {} has a different number of cells",
            row.line
        );
    }
    // Line numbers start right below the header and only go up.
    assert!(sheet.rows[0].line >= 2, "{name} first data line");
    for pair in sheet.rows.windows(2) {
        assert!(pair[0].line < pair[1].line, "{name} lines must increase");
    }
}

#[test]
fn categories() {
    let sheet = read("categories.csv");
    assert_shape(&sheet, "categories", 517, &["level1", "level2", "level3"]);
    assert_eq!(sheet.rows[0].cells, ["城乡建设", "安全生产", "事故处理"]);
    assert_eq!(sheet.rows[0].line, 2);
    // No field spans lines, so the last record sits on the file's last line.
    assert_eq!(sheet.rows.last().unwrap().line, 518);
    let level1 = sheet.column(&["一级分类", "level1"]);
    let mut classes: Vec<&str> = sheet.rows.iter().map(|r| r.get(level1)).collect();
    classes.sort_unstable();
    classes.dedup();
    assert!(classes.contains(&"劳动和社会保障"), "{classes:?}");
}

#[test]
fn labeled() {
    let sheet = read("labeled.csv");
    assert_shape(
        &sheet,
        "labeled",
        457,
        &["id", "user", "title", "time", "detail", "category"],
    );
    let category = sheet.column(&["一级分类", "Category"]);
    let title = sheet.column(&["留言主题", "title"]);
    let first = &sheet.rows[0];
    assert_eq!(first.line, 2);
    assert_eq!(first.get(sheet.column(&["留言编号", "id"])), "24");
    assert_eq!(first.get(title), "A市西湖建筑集团占道施工有安全隐患");
    assert_eq!(first.get(category), "城乡建设");
    assert_eq!(first.get(sheet.column(&["time"])), "2020-01-06 12:09:38");

    // Quoted fields: some details hold commas and doubled quotes, and must arrive whole.
    let detail = sheet.column(&["detail"]);
    assert!(sheet.rows.iter().any(|r| r.get(detail).contains(',')));
    let quoted = sheet
        .rows
        .iter()
        .find(|r| r.get(detail).contains('"'))
        .expect("a detail with a quote");
    assert!(!quoted.get(category).is_empty());
    // Line 49 of the file: a detail with a doubled quote ("") and commas inside quotes.
    let row = sheet.rows.iter().find(|r| r.line == 49).unwrap();
    assert_eq!(row.get(sheet.column(&["id"])), "19040");
    assert!(row.get(detail).starts_with("尊敬的杨书记： 您好！"));
    assert!(row.get(detail).contains("答复;\"拆”，至今"));
    assert!(row.get(detail).ends_with("谢谢！"));
    assert_eq!(row.get(category), "城乡建设");
    let classes = [
        "城乡建设",
        "环境保护",
        "交通运输",
        "教育文体",
        "劳动和社会保障",
        "商贸旅游",
        "卫生计生",
    ];
    for row in &sheet.rows {
        assert!(
            classes.contains(&row.get(category)),
            "line {}: {:?}",
            row.line,
            row.get(category)
        );
    }
}

#[test]
fn unlabeled() {
    let sheet = read("unlabeled.csv");
    assert_shape(
        &sheet,
        "unlabeled",
        2801,
        &["id", "user", "title", "time", "detail"],
    );
}

#[test]
fn messages_with_votes() {
    let sheet = read("messages_with_votes.csv");
    assert_shape(
        &sheet,
        "votes",
        4320,
        &["id", "user", "title", "time", "detail", "likes", "dislikes"],
    );
    let likes = sheet.column(&["点赞数", "likes"]);
    for row in &sheet.rows {
        assert!(
            row.get(likes).parse::<u32>().is_ok(),
            "line {}: likes {:?}",
            row.line,
            row.get(likes)
        );
    }
}

#[test]
fn messages_with_replies() {
    let sheet = read("messages_with_replies.csv");
    assert_shape(
        &sheet,
        "replies",
        2805,
        &[
            "id",
            "user",
            "title",
            "time",
            "detail",
            "reply",
            "reply_time",
            "reply_explains",
        ],
    );
    let explains = sheet.column(&["reply_explains"]);
    assert!(sheet
        .rows
        .iter()
        .all(|r| matches!(r.get(explains), "0" | "1")));
}

/// The real files have no line breaks inside fields, so this checks the same reader on a copy of
/// a real record with one added, and on the RFC 4180 cases that matter.
#[test]
fn quoted_fields_with_line_breaks_commas_and_quotes() {
    let csv = "id,title,detail\r\n\
               1,\"A市,A1区\",\"第一行\r\n第二行，说“好”\"\"ok\"\"\"\r\n\
               2,普通,\"三\n行\n文本\"\n\
               3,末行,无换行";
    let sheet = read_csv(csv.as_bytes()).unwrap();
    assert_eq!(sheet.headers, ["id", "title", "detail"]);
    let lines: Vec<usize> = sheet.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 4, 7], "a record's line is where it starts");
    assert_eq!(sheet.rows[0].cells[1], "A市,A1区");
    assert_eq!(sheet.rows[0].cells[2], "第一行\n第二行，说“好”\"ok\"");
    assert_eq!(sheet.rows[1].cells[2], "三\n行\n文本");
    assert_eq!(sheet.rows[2].cells, ["3", "末行", "无换行"]);
}
