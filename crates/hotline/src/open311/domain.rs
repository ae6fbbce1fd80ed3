//! The Open311 mapping, pure: parameters and their decoding, a posted request checked and
//! mapped to a new ticket, time windows, the services (leaf categories) and their attributes'
//! types, and the masking of personal data in what is read back.

use crate::domain::*;
use kernel::{mask, Error};
use serde_json::{Map, Value};
use std::collections::HashMap;

pub(super) const MAX_DESCRIPTION: usize = 4000;

pub(super) const MAX_MEDIA_URL: usize = 1000;

pub(super) const MAX_SPAN_MS: i64 = 90 * 86_400_000;

/// Marks the media URL line at the end of an Open311 ticket's content.
pub(super) const MEDIA_MARK: &str = "【图片】";

/// The content of a ticket posted without a description (the ticket needs one).
pub(super) const NO_DESCRIPTION: &str = "（市民未填写问题描述）";

/// An Open311 error answer: one status, one or more descriptions.
#[derive(Debug)]
pub(super) struct Fail {
    /// The HTTP status of the answer.
    pub(super) status: u16,
    pub(super) errors: Vec<String>,
}

impl Fail {
    pub(super) fn new(status: u16, d: impl Into<String>) -> Fail {
        Fail {
            status,
            errors: vec![d.into()],
        }
    }
    pub(super) fn bad(d: impl Into<String>) -> Fail {
        Fail::new(400, d)
    }
    pub(super) fn forbidden(d: impl Into<String>) -> Fail {
        Fail::new(403, d)
    }
    pub(super) fn not_found(d: impl Into<String>) -> Fail {
        Fail::new(404, d)
    }
}

/// The Open311 parameter a ticket field comes from, so errors name what the client sent.
pub(super) fn param_of(field: &str) -> String {
    if let Some(code) = field.strip_prefix("answers.") {
        return format!("attribute[{code}]");
    }
    match field {
        "answers" => "attribute",
        "caller_phone" => "phone",
        "caller_name" => "first_name/last_name",
        "lng" => "long",
        "content" | "title" => "description",
        "address" => "address_string",
        "region_code" => "address_id",
        "category_id" => "service_code",
        other => other,
    }
    .to_owned()
}

impl From<Error> for Fail {
    fn from(e: Error) -> Fail {
        let status = match &e {
            Error::Validation(fields) => {
                return Fail {
                    status: 400,
                    errors: fields
                        .iter()
                        .map(|f| format!("{}：{}", param_of(&f.field), f.detail))
                        .collect(),
                }
            }
            Error::Unauthorized(_) | Error::Forbidden(_) => 403,
            Error::NotFound { .. } => 404,
            Error::RateLimited { .. } => 429,
            Error::PayloadTooLarge { .. } => 413,
            Error::Internal(cause) => {
                tracing::error!(%cause, "open311 request failed");
                500
            }
            Error::BadRequest { .. } | Error::Conflict { .. } | Error::IllegalTransition { .. } => {
                400
            }
        };
        let d = match e.field_name() {
            Some(f) => format!("{}：{}", param_of(f), e.detail()),
            None => e.detail(),
        };
        Fail::new(status, d)
    }
}

/// Decodes one `application/x-www-form-urlencoded` component; `None` if it is not UTF-8.
pub(super) fn decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let hex = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 2;
                    }
                    // Not an escape: kept as it is, like browsers do.
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Query or form parameters in their order, repeated names kept.
#[derive(Debug, Default)]
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    pub(super) fn parse(raw: &str) -> Result<Params, Fail> {
        let mut out = Vec::new();
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match (decode(k), decode(v)) {
                (Some(k), Some(v)) => out.push((k, v)),
                _ => return Err(Fail::bad("参数须为 UTF-8 编码的 URL 编码格式")),
            }
        }
        Ok(Params(out))
    }

    pub(super) fn extend(&mut self, other: Params) {
        self.0.extend(other.0);
    }

    /// The first non-blank value, trimmed.
    pub(super) fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .find(|v| !v.is_empty())
    }

    /// Every value, comma lists split, blanks dropped (the spec's "comma delimited").
    pub(super) fn list(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// Active categories with no active child and no inactive ancestor: what a citizen can pick.
pub(super) fn leaves(cats: &[Category]) -> Vec<&Category> {
    let by_id: HashMap<i64, &Category> = cats.iter().map(|c| (c.id, c)).collect();
    let live = |c: &Category| {
        let mut cur = Some(c);
        while let Some(x) = cur {
            if !x.active {
                return false;
            }
            cur = x.parent_id.and_then(|p| by_id.get(&p).copied());
        }
        true
    };
    cats.iter()
        .filter(|c| live(c))
        .filter(|c| !cats.iter().any(|k| k.parent_id == Some(c.id) && k.active))
        .collect()
}

pub(super) fn root_name(c: &Category, cats: &[Category]) -> String {
    let mut cur = c;
    while let Some(p) = cur.parent_id.and_then(|p| cats.iter().find(|x| x.id == p)) {
        cur = p;
    }
    cur.name.clone()
}

pub(super) fn datatype(k: QuestionKind) -> (&'static str, Option<&'static str>) {
    match k {
        QuestionKind::Text => ("string", Some("文字，不超过 500 字")),
        QuestionKind::Number => ("number", Some("数字，如 12 或 3.5")),
        QuestionKind::Date => (
            "datetime",
            Some("日期，如 2026-03-14；也接受 ISO 8601 日期时间，按北京时间取日期"),
        ),
        QuestionKind::Single => ("singlevaluelist", None),
        QuestionKind::Multiple => (
            "multivaluelist",
            Some("可多选：重复提交 attribute[代码][]=取值"),
        ),
    }
}

pub(super) fn parse_coord(p: &Params, key: &str) -> Result<Option<f64>, Fail> {
    p.get(key)
        .map(|v| {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| Fail::bad(format!("{key}：应为 WGS84 十进制度数，如 30.5728")))
        })
        .transpose()
}

/// `attribute[code]=v` and `attribute[code][]=v`, in order, values per code.
pub(super) fn attributes(p: &Params) -> Result<Vec<(String, Vec<String>)>, Fail> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (k, v) in &p.0 {
        let Some(rest) = k.strip_prefix("attribute[") else {
            continue;
        };
        let code = rest
            .strip_suffix("][]")
            .or_else(|| rest.strip_suffix(']'))
            .filter(|c| !c.is_empty() && !c.contains(['[', ']']))
            .ok_or_else(|| {
                Fail::bad(format!(
                    "{k}：附加问题参数应写作 attribute[代码] 或 attribute[代码][]"
                ))
            })?;
        let v = v.trim().to_owned();
        match out.iter_mut().find(|(c, _)| c == code) {
            Some((_, vs)) => vs.push(v),
            None => out.push((code.to_owned(), vec![v])),
        }
    }
    Ok(out)
}

/// An attribute's values as the answer `check_answers` expects.
pub(super) fn answer_value(
    code: &str,
    q: Option<&Question>,
    mut vs: Vec<String>,
) -> Result<Value, Fail> {
    vs.retain(|v| !v.is_empty());
    match q.map(|q| q.kind) {
        Some(QuestionKind::Multiple) => {
            Ok(Value::Array(vs.into_iter().map(Value::String).collect()))
        }
        _ if vs.len() > 1 => Err(Fail::bad(format!("attribute[{code}]：只能有一个取值"))),
        Some(QuestionKind::Date) => {
            let v = vs.pop().unwrap_or_default();
            // A client's datetime becomes the China date the question asks for.
            Ok(Value::String(
                parse_time(&v)
                    .filter(|(_, date_only)| !date_only)
                    .map(|(ms, _)| kernel::clock::to_china(ms).format("%Y-%m-%d").to_string())
                    .unwrap_or(v),
            ))
        }
        _ => Ok(Value::String(vs.pop().unwrap_or_default())),
    }
}

pub(super) fn is_http_url(u: &str) -> bool {
    (u.starts_with("http://") || u.starts_with("https://"))
        && u.len() > "https://".len()
        && !u.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The caller's name from the spec's first/last name: 姓 then 名 without a space, Latin names
/// as "first last".
pub(super) fn caller_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    match (first, last) {
        (Some(f), Some(l)) if f.is_ascii() && l.is_ascii() => Some(format!("{f} {l}")),
        (Some(f), Some(l)) => Some(format!("{l}{f}")),
        (Some(x), None) | (None, Some(x)) => Some(x.to_owned()),
        (None, None) => None,
    }
}

/// The ticket a posted request asks for, checked as far as Open311 goes (the ticket's own rules
/// and the category's questions are checked by `HotlineService::create`).
pub(super) fn new_ticket(p: &Params, cat: &Category) -> Result<NewTicket, Fail> {
    let lat = parse_coord(p, "lat")?;
    let lng = parse_coord(p, "long")?;
    if lat.is_some() != lng.is_some() {
        return Err(Fail::bad("lat 和 long 须同时提供"));
    }
    let address = p.get("address_string").map(str::to_owned);
    let region_code = p.get("address_id").map(str::to_owned);
    if lat.is_none() && address.is_none() && region_code.is_none() {
        return Err(Fail::bad(
            "缺少位置：请提供 lat 和 long，或 address_string，或 address_id（行政区划代码）",
        ));
    }

    let description = p.get("description").map(str::to_owned);
    if description
        .as_deref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        return Err(Fail::bad(format!(
            "description：问题描述不能超过 {MAX_DESCRIPTION} 个字"
        )));
    }
    let media = p.get("media_url").map(str::to_owned);
    if let Some(u) = &media {
        if u.len() > MAX_MEDIA_URL || !is_http_url(u) {
            return Err(Fail::bad(format!(
                "media_url：应为 http 或 https 地址，不超过 {MAX_MEDIA_URL} 个字符"
            )));
        }
    }
    let mut content = description.clone().unwrap_or_else(|| NO_DESCRIPTION.into());
    if let Some(u) = &media {
        content = format!("{content}\n{MEDIA_MARK}{u}");
        if content.chars().count() > MAX_DESCRIPTION {
            return Err(Fail::bad(format!(
                "description：问题描述与 media_url 合计不能超过 {MAX_DESCRIPTION} 个字"
            )));
        }
    }
    let excerpt: String = description
        .as_deref()
        .unwrap_or("")
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .take(40)
        .collect();
    let title: String = if excerpt.trim().is_empty() {
        cat.name.clone()
    } else {
        format!("{}：{}", cat.name, excerpt.trim())
    }
    .chars()
    .take(200)
    .collect();

    // Attributes: the category's questions, plus `kind` for the ticket type unless the
    // category asks a question of that code itself.
    let mut kind = TicketKind::Help;
    let mut answers = Map::new();
    let mut errors = Vec::new();
    for (code, vs) in attributes(p)? {
        let q = cat.questions.iter().find(|q| q.code == code);
        if code == "kind" && q.is_none() {
            let v = vs.last().map(String::as_str).unwrap_or("");
            match TicketKind::parse(v) {
                Some(k) => kind = k,
                None => errors.push(format!(
                    "attribute[kind]：工单类型只能是 {}",
                    TicketKind::ALL
                        .iter()
                        .map(|k| format!("{}（{}）", k.code(), k.label()))
                        .collect::<Vec<_>>()
                        .join("、")
                )),
            }
            continue;
        }
        match answer_value(&code, q, vs) {
            Ok(v) => {
                if code == "kind" {
                    if let Some(k) = v.as_str().and_then(TicketKind::parse) {
                        kind = k;
                    }
                }
                answers.insert(code, v);
            }
            Err(e) => errors.extend(e.errors),
        }
    }
    if !errors.is_empty() {
        return Err(Fail {
            status: 400,
            errors,
        });
    }

    let name = caller_name(p.get("first_name"), p.get("last_name"));
    let phone = p.get("phone").map(|x| x.replace([' ', '　'], ""));
    Ok(NewTicket {
        channel: Channel::Api,
        kind,
        urgency: Urgency::Normal,
        wants_reply: phone.is_some(),
        anonymous: name.is_none() && phone.is_none(),
        caller_name: name,
        caller_phone: phone,
        address,
        region_code,
        lng,
        lat,
        title,
        content,
        category_id: Some(cat.id),
        answers,
        accept: false,
    })
}

/// Parses an ISO 8601 / W3C time: with an offset, local China time, or a date alone.
/// Returns UTC milliseconds and whether it was a date alone.
pub(super) fn parse_time(raw: &str) -> Option<(i64, bool)> {
    let mut t = raw.trim().to_owned();
    // An unencoded `+08:00` arrives as ` 08:00`.
    if t.len() > 6 && t.as_bytes()[t.len() - 6] == b' ' && t.contains('T') {
        t.replace_range(t.len() - 6..t.len() - 5, "+");
    }
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(&t) {
        return Some((d.timestamp_millis(), false));
    }
    let china = kernel::clock::china();
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(n) = chrono::NaiveDateTime::parse_from_str(&t, fmt) {
            return n
                .and_local_timezone(china)
                .single()
                .map(|d| (d.timestamp_millis(), false));
        }
    }
    let d = chrono::NaiveDate::parse_from_str(&t, "%Y-%m-%d").ok()?;
    d.and_hms_opt(0, 0, 0)?
        .and_local_timezone(china)
        .single()
        .map(|x| (x.timestamp_millis(), true))
}

/// The `[from, to)` window: the given one (at most 90 days), or 90 days from one end, or the
/// last 90 days. An end date alone includes its whole day.
pub(super) fn window(p: &Params, now: i64) -> Result<(i64, i64), Fail> {
    let bad = |k: &str| {
        Fail::bad(format!(
            "{k}：应为 ISO 8601 时间，如 2026-03-01T00:00:00+08:00 或 2026-03-01"
        ))
    };
    let start = p
        .get("start_date")
        .map(|v| {
            parse_time(v)
                .map(|(ms, _)| ms)
                .ok_or_else(|| bad("start_date"))
        })
        .transpose()?;
    let end = p
        .get("end_date")
        .map(|v| {
            parse_time(v)
                .map(|(ms, date_only)| if date_only { ms + 86_400_000 } else { ms + 1 })
                .ok_or_else(|| bad("end_date"))
        })
        .transpose()?;
    match (start, end) {
        (Some(a), Some(b)) if b <= a => Err(Fail::bad("end_date 不能早于 start_date")),
        (Some(a), Some(b)) if b - a > MAX_SPAN_MS + 1 => {
            Err(Fail::bad("start_date 与 end_date 相隔不能超过 90 天"))
        }
        (Some(a), Some(b)) => Ok((a, b)),
        (Some(a), None) => Ok((a, a + MAX_SPAN_MS)),
        (None, Some(b)) => Ok((b - MAX_SPAN_MS, b)),
        (None, None) => Ok((now - MAX_SPAN_MS, now + 1)),
    }
}

/// Masks e-mail addresses, mobile numbers and ID numbers inside free text.
pub(super) fn mask_in_text(text: &str) -> String {
    let local = |x: char| x.is_ascii_alphanumeric() || "._%+-".contains(x);
    let dom = |x: char| x.is_ascii_alphanumeric() || ".-".contains(x);
    let c: Vec<char> = text.chars().collect();
    // E-mail: the local part goes, the domain stays.
    let mut hide = vec![false; c.len()];
    for i in (0..c.len()).filter(|i| c[*i] == '@') {
        let mut a = i;
        while a > 0 && local(c[a - 1]) {
            a -= 1;
        }
        let domain = c[i + 1..].iter().take_while(|x| dom(**x));
        if a < i && domain.clone().any(|x| *x == '.') {
            hide[a..i].iter_mut().for_each(|h| *h = true);
        }
    }
    let mut c2 = Vec::with_capacity(c.len());
    for (i, ch) in c.iter().enumerate() {
        if !hide[i] {
            c2.push(*ch);
        } else if i == 0 || !hide[i - 1] {
            c2.extend("***".chars());
        }
    }
    let c = c2;
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < c.len() {
        if !c[i].is_ascii_digit() {
            out.push(c[i]);
            i += 1;
            continue;
        }
        let mut j = i;
        while j < c.len() && c[j].is_ascii_digit() {
            j += 1;
        }
        if j - i == 17 && j < c.len() && matches!(c[j], 'X' | 'x') {
            j += 1;
        }
        let run: String = c[i..j].iter().collect();
        match run.len() {
            11 if run.starts_with('1') => out.push_str(&mask::phone(&run)),
            18 => out.push_str(&mask::id_card(&run)),
            _ => out.push_str(&run),
        }
        i = j;
    }
    out
}

/// Free text as the public may see it: the caller's own name and phone masked, then any
/// mobile number, ID number or e-mail address.
pub(crate) fn scrub(text: &str, caller: &Caller) -> String {
    let mut t = text.to_owned();
    if let Some(p) = caller.phone.as_deref().filter(|p| p.len() >= 5) {
        t = t.replace(p, &mask::phone(p));
    }
    if let Some(n) = caller.name.as_deref().filter(|n| n.chars().count() >= 2) {
        t = t.replace(n, &mask::name(n));
    }
    mask_in_text(&t)
}

/// The description and media URL of a ticket, undoing what `create` put into the content.
pub(super) fn description_and_media(t: &Ticket) -> (Option<String>, Option<String>) {
    let mut text = t.content.as_str();
    let mut media = None;
    if t.channel == Channel::Api {
        if let Some((head, last)) = text.rsplit_once('\n') {
            if let Some(u) = last.strip_prefix(MEDIA_MARK).filter(|u| is_http_url(u)) {
                media = Some(u.to_owned());
                text = head;
            }
        }
        if text == NO_DESCRIPTION {
            return (None, media);
        }
    }
    (Some(text.to_owned()), media)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_parameters_decode() {
        let p = Params::parse("a=1+2&b=%E5%B8%82&attribute%5Bx%5D%5B%5D=y&c=%zz&a=3").unwrap();
        assert_eq!(p.get("a"), Some("1 2"));
        assert_eq!(p.get("b"), Some("市"));
        assert_eq!(p.get("c"), Some("%zz"));
        assert_eq!(p.list("a"), ["1 2", "3"]);
        assert_eq!(attributes(&p).unwrap(), [("x".into(), vec!["y".into()])]);
        assert!(Params::parse("a=%FF").is_err());
        assert!(attributes(&Params::parse("attribute[x=1").unwrap()).is_err());
        assert_eq!(decode("%"), Some("%".into()));
        assert_eq!(decode("a%4"), Some("a%4".into()));
    }

    #[test]
    fn times_parse_in_china_time_unless_offset_given() {
        let (utc, d) = parse_time("2026-03-01T00:00:00Z").unwrap();
        assert!(!d);
        assert_eq!(parse_time("2026-03-01T08:00:00+08:00").unwrap().0, utc);
        assert_eq!(parse_time("2026-03-01T08:00:00 08:00").unwrap().0, utc);
        assert_eq!(parse_time("2026-03-01T08:00:00").unwrap().0, utc);
        assert_eq!(
            parse_time("2026-03-01").unwrap(),
            (utc - 8 * 3_600_000, true)
        );
        assert!(parse_time("2026-13-01").is_none());
        assert!(parse_time("昨天").is_none());
    }

    #[test]
    fn windows_are_at_most_ninety_days() {
        let p = |q: &str| Params::parse(q).unwrap();
        let now = parse_time("2026-06-01T00:00:00Z").unwrap().0;
        assert_eq!(window(&p(""), now).unwrap(), (now - MAX_SPAN_MS, now + 1));
        assert!(window(&p("start_date=2026-01-01&end_date=2026-03-31"), now).is_ok());
        assert!(window(&p("start_date=2026-01-01&end_date=2026-04-01"), now).is_err());
        assert!(window(&p("start_date=2026-02-01&end_date=2026-01-01"), now).is_err());
        assert!(window(&p("start_date=x"), now).is_err());
        let (a, b) = window(&p("end_date=2026-03-01"), now).unwrap();
        assert_eq!(b - a, MAX_SPAN_MS);
    }

    #[test]
    fn personal_data_is_masked_in_text() {
        let caller = Caller {
            name: Some("张三丰".into()),
            phone: Some("0571-8888888".into()),
            wants_reply: true,
            anonymous: false,
        };
        let t = scrub(
            "我是张三丰，电话13912345678或0571-8888888，身份证11010519491231002X，邮箱zhang.s@example.com，编号20260316-000123，a@b",
            &caller,
        );
        assert_eq!(
            t,
            "我是张**，电话139****5678或057****8888，身份证110105********002X，邮箱***@example.com，编号20260316-000123，a@b"
        );
    }

    #[test]
    fn errors_name_the_open311_parameter() {
        let e = Error::Validation(vec![
            kernel::FieldError::new("answers.estate", "required", "请回答“小区名称”"),
            kernel::FieldError::new("lng", "out_of_range", "经度应在 -180 到 180 之间"),
        ]);
        let f = Fail::from(e);
        assert_eq!(f.status, 400);
        assert_eq!(
            f.errors,
            [
                "attribute[estate]：请回答“小区名称”",
                "long：经度应在 -180 到 180 之间"
            ]
        );
    }

    #[test]
    fn leaves_are_active_categories_without_active_children() {
        let c = |id, parent, name: &str, active| Category {
            id,
            parent_id: parent,
            level: 1,
            name: name.into(),
            path: name.into(),
            questions: vec![],
            active,
        };
        let cats = vec![
            c(1, None, "城乡建设", true),
            c(2, Some(1), "供水", true),
            c(3, Some(2), "停水", true),
            c(4, Some(1), "燃气", true),
            c(5, Some(4), "旧", false),
            c(6, None, "停用", false),
            c(7, Some(6), "子", true),
        ];
        let ids: Vec<i64> = leaves(&cats).iter().map(|c| c.id).collect();
        assert_eq!(ids, [3, 4]);
        assert_eq!(root_name(&cats[2], &cats), "城乡建设");
    }
}
