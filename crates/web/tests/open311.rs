//! Open311 GeoReport v2 to the letter of the spec: every endpoint in JSON and XML (the XML
//! parsed strictly and compared with the JSON), api_key checks, input errors, filters, the token
//! flow, no personal data in any answer, and a maintained Python client (`georeport` from PyPI)
//! reading and posting unchanged. Every test runs on SQLite and on PostgreSQL.

mod common;

use common::*;
use hotline::domain::{Action, Question, QuestionKind};
use hotline::HotlineService;
use kernel::clock::Clock;
use kernel::{Actor, Db};
use org::{NewApiToken, OrgService};
use serde_json::{json, Value};

testkit::on_both_backends!(migrations;
    discovery_and_services_in_json_and_xml,
    posting_checks_the_key_and_the_input,
    reading_requests_with_filters_and_tokens,
    no_personal_data_in_any_answer,
    georeport_client_works_unchanged,
);

const SPEC: &str = "http://wiki.open311.org/GeoReport_v2";

// ---- a strict little XML reader (the documents have no attributes and no mixed content) ----

#[derive(Debug, Clone)]
struct El {
    name: String,
    kids: Vec<El>,
    text: String,
}

impl El {
    fn child(&self, name: &str) -> &El {
        let found: Vec<&El> = self.kids.iter().filter(|k| k.name == name).collect();
        assert_eq!(found.len(), 1, "<{}> needs exactly one <{name}>", self.name);
        found[0]
    }
    fn names(&self) -> Vec<&str> {
        self.kids.iter().map(|k| k.name.as_str()).collect()
    }
}

fn unescape(raw: &str) -> String {
    assert!(!raw.contains('<'), "raw < in text: {raw}");
    let mut out = String::new();
    let mut rest = raw;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let j = rest[i..].find(';').expect("unterminated entity") + i;
        let ent = &rest[i + 1..j];
        match ent {
            "amp" => out.push('&'),
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "quot" => out.push('"'),
            "apos" => out.push('\''),
            e if e.starts_with("#x") => {
                out.push(char::from_u32(u32::from_str_radix(&e[2..], 16).unwrap()).unwrap())
            }
            e if e.starts_with('#') => out.push(char::from_u32(e[1..].parse().unwrap()).unwrap()),
            e => panic!("unknown entity &{e};"),
        }
        rest = &rest[j + 1..];
    }
    out.push_str(rest);
    out
}

fn name_at(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .expect("unterminated tag");
    assert!(end > 0, "empty tag name at {s:.20}");
    (&s[..end], &s[end..])
}

fn element(s: &str) -> (El, &str) {
    let s = s.strip_prefix('<').expect("element expected");
    let (name, s) = name_at(s);
    if let Some(rest) = s.strip_prefix("/>") {
        let el = El {
            name: name.into(),
            kids: vec![],
            text: String::new(),
        };
        return (el, rest);
    }
    let mut s = s
        .strip_prefix('>')
        .unwrap_or_else(|| panic!("<{name}> has attributes or is malformed"));
    let mut kids = Vec::new();
    let mut text = String::new();
    loop {
        if let Some(rest) = s.strip_prefix("</") {
            let (close, rest) = name_at(rest);
            assert_eq!(close, name, "mismatched closing tag");
            s = rest.strip_prefix('>').expect("closing >");
            break;
        } else if s.starts_with('<') {
            let (k, rest) = element(s);
            kids.push(k);
            s = rest;
        } else {
            let i = s.find('<').expect("unclosed element");
            text.push_str(&unescape(&s[..i]));
            s = &s[i..];
        }
    }
    assert!(
        kids.is_empty() || text.trim().is_empty(),
        "<{name}> mixes text and elements"
    );
    let el = El {
        name: name.into(),
        kids,
        text,
    };
    (el, s)
}

fn parse_xml(doc: &str) -> El {
    let body = doc
        .strip_prefix(r#"<?xml version="1.0" encoding="utf-8"?>"#)
        .unwrap_or_else(|| panic!("XML declaration missing: {doc:.80}"));
    let (el, rest) = element(body);
    assert!(rest.trim().is_empty(), "content after the root: {rest}");
    el
}

/// The XML document carries exactly what the JSON one does.
fn same(j: &Value, x: &El) {
    match j {
        Value::Null => assert!(
            x.kids.is_empty() && x.text.is_empty(),
            "<{}> should be empty",
            x.name
        ),
        Value::Bool(b) => assert_eq!(x.text, b.to_string(), "<{}>", x.name),
        Value::Number(n) => assert_eq!(
            x.text.parse::<f64>().unwrap(),
            n.as_f64().unwrap(),
            "<{}>",
            x.name
        ),
        Value::String(s) => assert_eq!(&x.text, s, "<{}>", x.name),
        Value::Array(a) => {
            assert_eq!(x.kids.len(), a.len(), "<{}> items", x.name);
            for (v, k) in a.iter().zip(&x.kids) {
                same(v, k);
            }
        }
        Value::Object(m) => {
            assert_eq!(
                x.kids.len(),
                m.len(),
                "<{}> fields: {:?}",
                x.name,
                x.names()
            );
            for (k, v) in m {
                same(v, x.child(k));
            }
        }
    }
}

// ---- the world ----

struct O {
    w: World,
    svc: HotlineService,
    admin: Actor,
    http: reqwest::Client,
    base: String,
    /// A token with `hotline:write`.
    key: String,
    read_key: String,
    revoked_key: String,
    parent: i64,
    housing: i64,
    water: i64,
    water_code: String,
    noise: i64,
}

async fn setup(db: Db) -> O {
    let w = world(db).await;
    let cfg = config();
    let org = OrgService::new(w.db.clone(), cfg.auth.clone());
    let admin = org.actor_of_user(w.admin).await.unwrap();
    let svc = HotlineService::new(w.db.clone(), cfg.city.name.clone());
    let rows = [
        ("城乡建设", "住房保障", "保障性住房"),
        ("城乡建设", "供水", "停水"),
        ("环境保护", "噪声污染", ""),
    ];
    let rows: Vec<(String, String, String)> = rows
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    svc.import_taxonomy(&Actor::cli(), &rows).await.unwrap();
    let cats = svc.categories().await.unwrap();
    let id = |path: &str| cats.iter().find(|c| c.path == path).unwrap().id;
    let q = |code: &str, label: &str, kind, options: &[&str], required| Question {
        code: code.into(),
        label: label.into(),
        kind,
        options: options.iter().map(|o| o.to_string()).collect(),
        required,
    };
    let water = id("城乡建设/供水/停水");
    svc.set_questions(
        &Actor::cli(),
        water,
        vec![
            q("estate", "小区名称", QuestionKind::Text, &[], true),
            q("households", "涉及户数", QuestionKind::Number, &[], false),
            q("since", "开始日期", QuestionKind::Date, &[], false),
            q(
                "type",
                "问题类型",
                QuestionKind::Single,
                &["停水", "水压低", "水质差"],
                true,
            ),
            q(
                "times",
                "发生时段",
                QuestionKind::Multiple,
                &["白天", "夜间"],
                false,
            ),
        ],
    )
    .await
    .unwrap();
    let token = |name: &str, scope: &str| NewApiToken {
        name: name.into(),
        scopes: vec![scope.into()],
        expires_in_days: None,
    };
    let (key, _) = org
        .create_token(&admin, token("区网格系统", "hotline:write"))
        .await
        .unwrap();
    let (read_key, _) = org
        .create_token(&admin, token("只读", "hotline:read"))
        .await
        .unwrap();
    let (revoked_key, info) = org
        .create_token(&admin, token("已吊销", "hotline:write"))
        .await
        .unwrap();
    org.revoke_token(&admin, info.id).await.unwrap();
    O {
        base: format!("{}/open311/v2", w.url),
        http: reqwest::Client::new(),
        svc,
        admin,
        key,
        read_key,
        revoked_key,
        parent: id("城乡建设"),
        housing: id("城乡建设/住房保障/保障性住房"),
        water,
        water_code: water.to_string(),
        noise: id("环境保护/噪声污染"),
        w,
    }
}

struct Got {
    status: u16,
    ct: String,
    body: String,
}

impl Got {
    fn json(&self) -> Value {
        assert_eq!(self.ct, "application/json; charset=utf-8", "{}", self.body);
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
    fn xml(&self) -> El {
        assert_eq!(self.ct, "text/xml; charset=utf-8", "{}", self.body);
        parse_xml(&self.body)
    }
}

async fn got(r: reqwest::RequestBuilder) -> Got {
    let r = r.send().await.unwrap();
    Got {
        status: r.status().as_u16(),
        ct: r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default(),
        body: r.text().await.unwrap(),
    }
}

impl O {
    async fn get(&self, path: &str) -> Got {
        got(self.http.get(format!("{}{path}", self.base))).await
    }
    async fn post(&self, ext: &str, form: &[(&str, &str)]) -> Got {
        got(self
            .http
            .post(format!("{}/requests.{ext}", self.base))
            .form(form))
        .await
    }
    /// The same resource as JSON and XML; asserts both say the same. Answers the JSON.
    async fn both(&self, path_no_ext: &str, root: &str, item: Option<&str>) -> (u16, Value) {
        let (j, x) = self.both_raw(path_no_ext).await;
        assert_eq!(j.status, x.status);
        let (jv, xe) = (j.json(), x.xml());
        assert_eq!(xe.name, root, "{}", x.body);
        if let Some(item) = item {
            assert!(xe.kids.iter().all(|k| k.name == item), "{}", x.body);
        }
        same(&jv, &xe);
        (j.status, jv)
    }
    async fn both_raw(&self, path_no_ext: &str) -> (Got, Got) {
        let (p, q) = match path_no_ext.split_once('?') {
            Some((p, q)) => (p, format!("?{q}")),
            None => (path_no_ext, String::new()),
        };
        (
            self.get(&format!("{p}.json{q}")).await,
            self.get(&format!("{p}.xml{q}")).await,
        )
    }
    /// A valid request for 停水, with `extra` replacing or adding fields.
    fn water_form<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut f: Vec<(&str, &str)> = vec![
            ("api_key", self.key.as_str()),
            ("service_code", self.water_code.as_str()),
            ("lat", "30.57281234"),
            ("long", "114.27912345"),
            ("description", "小区从早上开始停水，没有通知"),
            ("attribute[estate]", "幸福小区"),
            ("attribute[type]", "停水"),
        ];
        f.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
        f.extend(extra.iter().filter(|(_, v)| *v != "<drop>"));
        f
    }
    async fn create(&self, extra: &[(&str, &str)]) -> String {
        let r = self.post("json", &self.water_form(extra)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()[0]["service_request_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
    async fn ticket_id(&self, number: &str) -> i64 {
        self.svc
            .get_by_number(&self.admin, number)
            .await
            .unwrap()
            .ticket
            .id
    }
}

fn zh(s: &str) -> bool {
    s.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

/// An Open311 error document (JSON) with this status, one description mentioning `mention`.
fn assert_err(g: &Got, status: u16, mention: &str) {
    assert_eq!(g.status, status, "{}", g.body);
    let v = g.json();
    let errors = v.as_array().expect("an array of errors");
    assert!(!errors.is_empty());
    for e in errors {
        assert_eq!(e.as_object().unwrap().len(), 2, "{e}");
        assert_eq!(e["code"], status, "{e}");
        assert!(zh(e["description"].as_str().unwrap()), "zh-CN: {e}");
    }
    assert!(
        errors
            .iter()
            .any(|e| e["description"].as_str().unwrap().contains(mention)),
        "no error mentions {mention}: {}",
        g.body
    );
}

fn assert_xml_err(g: &Got, status: u16, mention: &str) {
    assert_eq!(g.status, status, "{}", g.body);
    assert!(g
        .body
        .starts_with(r#"<?xml version="1.0" encoding="utf-8"?><errors><error><code>"#));
    let x = g.xml();
    assert_eq!(x.name, "errors");
    assert!(!x.kids.is_empty());
    for e in &x.kids {
        assert_eq!(e.name, "error");
        assert_eq!(e.names(), ["code", "description"]);
        assert_eq!(e.child("code").text, status.to_string());
        assert!(zh(&e.child("description").text));
    }
    assert!(
        x.kids
            .iter()
            .any(|e| e.child("description").text.contains(mention)),
        "{}",
        g.body
    );
}

// ---- tests ----

async fn discovery_and_services_in_json_and_xml(db: Db) {
    let o = setup(db).await;
    // Discovery: the spec's fields; the URL is this server's.
    let (s, d) = o.both("/discovery", "discovery", None).await;
    assert_eq!(s, 200);
    assert!(d["changeset"].as_str().unwrap().starts_with("20"));
    assert!(zh(d["contact"].as_str().unwrap()));
    assert!(d["key_service"].as_str().unwrap().contains("hotline:write"));
    let ep = &d["endpoints"][0];
    assert_eq!(ep["specification"], SPEC);
    assert_eq!(ep["url"], o.base);
    assert_eq!(ep["type"], "production");
    assert_eq!(ep["formats"], json!(["application/json", "text/xml"]));
    assert!(ep["changeset"].is_string());
    let x = o.get("/discovery.xml").await.xml();
    assert_eq!(x.child("endpoints").names(), ["endpoint"]);
    assert_eq!(
        x.child("endpoints").kids[0].child("formats").names(),
        ["format", "format"]
    );
    // Behind a public address, that address.
    let mut cfg = config();
    cfg.server.public_url = Some("https://12345.example.gov.cn/".into());
    let other = web::start(web::context(o.w.db.clone(), cfg), "127.0.0.1:0")
        .await
        .unwrap();
    let g = got(o
        .http
        .get(format!("{}/open311/v2/discovery.json", other.url())))
    .await;
    assert_eq!(
        g.json()["endpoints"][0]["url"],
        "https://12345.example.gov.cn/open311/v2"
    );
    other.stop().await;

    // Services: the leaves only.
    let (s, list) = o.both("/services", "services", Some("service")).await;
    assert_eq!(s, 200);
    let names = strings_of(&list, "service_name");
    assert_eq!(names, ["保障性住房", "停水", "噪声污染"]);
    let water = list
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service_name"] == "停水")
        .unwrap();
    assert_eq!(
        water,
        &json!({"service_code": o.water.to_string(), "service_name": "停水", "description": "城乡建设/供水/停水",
                "metadata": true, "type": "realtime", "keywords": "城乡建设, 供水, 停水", "group": "城乡建设"})
    );
    let noise = list
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["service_name"] == "噪声污染")
        .unwrap();
    assert_eq!(noise["metadata"], false);
    assert_eq!(noise["group"], "环境保护");
    assert_eq!(noise["service_code"], o.noise.to_string());
    // jurisdiction_id: the city, or 404.
    assert_eq!(
        o.get("/services.json?jurisdiction_id=A市").await.status,
        200
    );
    assert_err(
        &o.get("/services.json?jurisdiction_id=B市").await,
        404,
        "jurisdiction_id",
    );
    assert_xml_err(
        &o.get("/services.xml?jurisdiction_id=B市").await,
        404,
        "jurisdiction_id",
    );

    // A service definition: the questions as attributes.
    let (s, def) = o
        .both(
            &format!("/services/{}", o.water),
            "service_definition",
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(def["service_code"], o.water.to_string());
    let attrs = def["attributes"].as_array().unwrap();
    let codes: Vec<&str> = attrs.iter().map(|a| a["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["estate", "households", "since", "type", "times"]);
    let types: Vec<&str> = attrs
        .iter()
        .map(|a| a["datatype"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "string",
            "number",
            "datetime",
            "singlevaluelist",
            "multivaluelist"
        ]
    );
    assert_eq!(attrs[0]["variable"], true);
    assert_eq!(attrs[0]["required"], true);
    assert_eq!(attrs[0]["order"], 1);
    assert_eq!(attrs[0]["description"], "小区名称");
    assert!(attrs[0]["datatype_description"].is_string());
    assert!(attrs[0].get("values").is_none());
    assert_eq!(attrs[1]["required"], false);
    assert_eq!(attrs[3]["order"], 4);
    assert!(attrs[3]["datatype_description"].is_null());
    assert_eq!(
        attrs[3]["values"],
        json!([{"key": "停水", "name": "停水"}, {"key": "水压低", "name": "水压低"}, {"key": "水质差", "name": "水质差"}])
    );
    let x = o.get(&format!("/services/{}.xml", o.water)).await.xml();
    let a = &x.child("attributes").kids;
    assert!(a.iter().all(|k| k.name == "attribute"));
    assert_eq!(a[3].child("values").names(), ["value", "value", "value"]);
    // No questions: no attributes.
    let (_, def) = o
        .both(
            &format!("/services/{}", o.housing),
            "service_definition",
            None,
        )
        .await;
    assert_eq!(def["attributes"], json!([]));
    // Not a service: 404 in both formats.
    for code in [o.parent.to_string(), "999999".into(), "abc".into()] {
        assert_err(
            &o.get(&format!("/services/{code}.json")).await,
            404,
            "service_code",
        );
        assert_xml_err(
            &o.get(&format!("/services/{code}.xml")).await,
            404,
            "service_code",
        );
    }
    // Unknown addresses and methods: the spec's error documents too.
    assert_err(&o.get("/services.csv").await, 404, "Open311");
    assert_err(&o.get("/nothing.json").await, 404, "Open311");
    assert_xml_err(&o.get("/nothing.xml").await, 404, "Open311");
    let g = got(o.http.delete(format!("{}/services.json", o.base))).await;
    assert_err(&g, 405, "方法");
    let g = got(o.http.delete(format!("{}/services/1.xml", o.base))).await;
    assert_xml_err(&g, 405, "方法");
    o.w.server.stop().await;
}

async fn posting_checks_the_key_and_the_input(db: Db) {
    let o = setup(db).await;
    let staff = Client::login(&o.w.url, "admin").await;
    let count = || async {
        let (_, l) = staff.get("/api/v1/hotline/tickets").await;
        l["total"].as_i64().unwrap()
    };

    // A valid request: the spec's answer, and a ticket staff see with channel api.
    let form = o.water_form(&[
        ("first_name", "三"),
        ("last_name", "张"),
        ("phone", "139 1234 5678"),
        ("email", "zhangsan@example.com"),
        ("device_id", "dev-1"),
        ("account_id", "acc-1"),
        ("address_string", "A1区东湖街道幸福路12号"),
        ("address_id", "690102"),
        ("attribute[households]", "12"),
        ("attribute[since]", "2026-03-14T23:30:00Z"),
        ("attribute[times][]", "白天"),
        ("attribute[times][]", "夜间"),
        ("media_url", "https://img.example.cn/a.jpg"),
        ("jurisdiction_id", "A市"),
    ]);
    let r = o.post("json", &form).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 1);
    let number = arr[0]["service_request_id"].as_str().unwrap().to_owned();
    assert!(number.starts_with("A市12345-"), "{number}");
    assert_eq!(arr[0].as_object().unwrap().len(), 3);
    assert!(arr[0]["service_notice"].as_str().unwrap().contains(&number));
    assert!(arr[0]["account_id"].is_null());
    let (s, l) = staff
        .get(&format!("/api/v1/hotline/tickets?q={number}"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(l["total"], 1, "{l}");
    let t = &l["items"][0];
    assert_eq!(t["channel"], "api");
    assert_eq!(t["status"], "created");
    assert_eq!(t["kind"], "help");
    assert_eq!(t["category_id"], o.water);
    assert_eq!(t["caller"]["name"], "张三");
    assert_eq!(t["caller"]["phone"], "13912345678");
    assert_eq!(t["location"]["region_code"], "690102");
    assert_eq!(t["location"]["lat"], 30.57281234);
    assert_eq!(
        t["answers"],
        json!({"estate": "幸福小区", "households": 12.0, "since": "2026-03-15", "type": "停水", "times": ["白天", "夜间"]})
    );
    assert_eq!(
        t["content"],
        "小区从早上开始停水，没有通知\n【图片】https://img.example.cn/a.jpg"
    );
    let id = t["id"].as_i64().unwrap();
    let (_, one) = staff.get(&format!("/api/v1/hotline/tickets/{id}")).await;
    assert_eq!(one["channel"], "api");

    // XML, with the ticket type from attribute[kind] and no description.
    let r = o
        .post(
            "xml",
            &o.water_form(&[("attribute[kind]", "投诉"), ("description", "<drop>")]),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let x = r.xml();
    assert_eq!(x.name, "service_requests");
    let req = x.child("request");
    assert_eq!(
        req.names(),
        ["service_request_id", "service_notice", "account_id"]
    );
    assert!(req.child("account_id").text.is_empty());
    let n2 = req.child("service_request_id").text.clone();
    let t2 = o.svc.get_by_number(&o.admin, &n2).await.unwrap().ticket;
    assert_eq!(t2.kind.code(), "complaint");
    assert_eq!(t2.title, "停水");
    // 4,000 characters of description are fine; a noise report needs no attributes.
    let long = "水".repeat(4000);
    let noise = o.noise.to_string();
    let r = o
        .post(
            "json",
            &[
                ("api_key", o.key.as_str()),
                ("service_code", noise.as_str()),
                ("address_string", "A1区东湖路"),
                ("description", long.as_str()),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let created = count().await;
    assert_eq!(created, 3);

    // The key: missing, made up, revoked, without hotline:write → 403.
    assert_err(
        &o.post("json", &o.water_form(&[("api_key", "<drop>")]))
            .await,
        403,
        "api_key",
    );
    assert_err(
        &o.post("json", &o.water_form(&[("api_key", "yw_made_up")]))
            .await,
        403,
        "api_key",
    );
    assert_xml_err(
        &o.post("xml", &o.water_form(&[("api_key", "yw_made_up")]))
            .await,
        403,
        "api_key",
    );
    assert_err(
        &o.post(
            "json",
            &o.water_form(&[("api_key", o.revoked_key.as_str())]),
        )
        .await,
        403,
        "api_key",
    );
    assert_err(
        &o.post("json", &o.water_form(&[("api_key", o.read_key.as_str())]))
            .await,
        403,
        "hotline:write",
    );
    // The service.
    assert_err(
        &o.post("json", &o.water_form(&[("service_code", "<drop>")]))
            .await,
        400,
        "service_code",
    );
    assert_xml_err(
        &o.post("xml", &o.water_form(&[("service_code", "<drop>")]))
            .await,
        400,
        "service_code",
    );
    for bad in ["999999", "abc", &o.parent.to_string()] {
        assert_err(
            &o.post("json", &o.water_form(&[("service_code", bad)]))
                .await,
            404,
            "service_code",
        );
    }
    assert_err(
        &o.post("json", &o.water_form(&[("jurisdiction_id", "B市")]))
            .await,
        404,
        "jurisdiction_id",
    );
    // The description and media.
    let too_long = "水".repeat(4001);
    assert_err(
        &o.post("json", &o.water_form(&[("description", too_long.as_str())]))
            .await,
        400,
        "description",
    );
    assert_err(
        &o.post("json", &o.water_form(&[("media_url", "ftp://x/y.jpg")]))
            .await,
        400,
        "media_url",
    );
    // Attributes: required, options, unknown, one value only, several errors at once.
    assert_err(
        &o.post("json", &o.water_form(&[("attribute[estate]", "<drop>")]))
            .await,
        400,
        "attribute[estate]",
    );
    assert_xml_err(
        &o.post("xml", &o.water_form(&[("attribute[estate]", "<drop>")]))
            .await,
        400,
        "attribute[estate]",
    );
    assert_err(
        &o.post("json", &o.water_form(&[("attribute[type]", "停电")]))
            .await,
        400,
        "attribute[type]",
    );
    assert_err(
        &o.post("json", &o.water_form(&[("attribute[times][]", "凌晨")]))
            .await,
        400,
        "attribute[times]",
    );
    assert_err(
        &o.post("json", &o.water_form(&[("attribute[color]", "红")]))
            .await,
        400,
        "attribute[color]",
    );
    assert_err(
        &o.post("json", &o.water_form(&[("attribute[kind]", "吐槽")]))
            .await,
        400,
        "attribute[kind]",
    );
    assert_err(
        &o.post("json", &o.water_form(&[("attribute[households]", "很多")]))
            .await,
        400,
        "attribute[households]",
    );
    let mut twice = o.water_form(&[]);
    twice.push(("attribute[type]", "水压低"));
    assert_err(&o.post("json", &twice).await, 400, "attribute[type]");
    let r = o
        .post(
            "json",
            &o.water_form(&[("attribute[estate]", "<drop>"), ("attribute[type]", "停电")]),
        )
        .await;
    assert_err(&r, 400, "attribute[estate]");
    assert_err(&r, 400, "attribute[type]");
    assert_eq!(r.json().as_array().unwrap().len(), 2);
    // Location.
    for (extra, mention) in [
        (vec![("lat", "北纬30度")], "lat"),
        (vec![("long", "NaN")], "long"),
        (vec![("long", "<drop>")], "long"),
        (vec![("lat", "91")], "纬度"),
        (vec![("long", "200")], "long"),
        (
            vec![("lat", "<drop>"), ("long", "<drop>")],
            "address_string",
        ),
        (
            vec![("lat", "<drop>"), ("long", "<drop>"), ("address_id", "12")],
            "address_id",
        ),
    ] {
        assert_err(&o.post("json", &o.water_form(&extra)).await, 400, mention);
    }
    // The caller's phone.
    assert_err(
        &o.post("json", &o.water_form(&[("phone", "call me")])).await,
        400,
        "phone",
    );
    // Not a form.
    let g = got(o
        .http
        .post(format!("{}/requests.json", o.base))
        .json(&json!({"api_key": o.key, "service_code": o.water})))
    .await;
    assert_err(&g, 400, "x-www-form-urlencoded");
    // Nothing refused left a ticket behind.
    assert_eq!(count().await, created);
    o.w.server.stop().await;
}

/// Monday 2026-03-16 09:30 China time.
fn t0() -> i64 {
    let t = 1_773_624_600_000;
    assert_eq!(kernel::clock::rfc3339(t), "2026-03-16T09:30:00+08:00");
    t
}

const DAY: i64 = 86_400_000;

fn numbers(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["service_request_id"].as_str().unwrap())
        .collect()
}

async fn reading_requests_with_filters_and_tokens(db: Db) {
    let mut db = db;
    db.clock = Clock::manual(t0());
    let o = setup(db).await;
    let clock = o.w.db.clock.clone();
    let noise = o.noise.to_string();
    // A: 100 days ago; B: 30 days ago (noise, then answered); C: yesterday (dispatched); D: now.
    clock.set(t0() - 100 * DAY);
    let a = o.create(&[]).await;
    clock.set(t0() - 30 * DAY);
    let b = o
        .create(&[
            ("service_code", noise.as_str()),
            ("attribute[estate]", "<drop>"),
            ("attribute[type]", "<drop>"),
        ])
        .await;
    clock.set(t0() - DAY);
    let c = o
        .create(&[
            ("media_url", "https://img.example.cn/c.jpg"),
            ("address_string", "A1区东湖街道幸福路12号3栋"),
            ("address_id", "690102"),
        ])
        .await;
    clock.set(t0());
    let d = o
        .create(&[
            ("lat", "<drop>"),
            ("long", "<drop>"),
            ("address_id", "690103"),
        ])
        .await;
    let bid = o.ticket_id(&b).await;
    o.svc
        .act(
            &o.admin,
            bid,
            Action::AnswerNow {
                answer: "已转告街道，噪声已停止".into(),
                kb_article_id: None,
            },
        )
        .await
        .unwrap();
    let cid = o.ticket_id(&c).await;
    o.svc
        .act(&o.admin, cid, Action::SubmitForDispatch)
        .await
        .unwrap();
    let dispatched = o
        .svc
        .act(
            &o.admin,
            cid,
            Action::Dispatch {
                main_dept_id: o.w.dept_x,
                co_dept_ids: vec![],
            },
        )
        .await
        .unwrap()
        .ticket;

    // By default: the last 90 days, newest first.
    let (s, all) = o
        .both("/requests", "service_requests", Some("request"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(numbers(&all), [d.as_str(), c.as_str(), b.as_str()]);
    // One request, in the spec's fields and order.
    let (s, one) = o
        .both(
            &format!("/requests/{c}"),
            "service_requests",
            Some("request"),
        )
        .await;
    assert_eq!(s, 200);
    let r = &one[0];
    let x = o.get(&format!("/requests/{c}.xml")).await.xml();
    assert_eq!(
        x.child("request").names(),
        [
            "service_request_id",
            "status",
            "status_notes",
            "service_name",
            "service_code",
            "description",
            "agency_responsible",
            "service_notice",
            "requested_datetime",
            "updated_datetime",
            "expected_datetime",
            "address",
            "address_id",
            "zipcode",
            "lat",
            "long",
            "media_url"
        ]
    );
    assert_eq!(r["service_request_id"], c);
    assert_eq!(r["status"], "open");
    assert_eq!(r["status_notes"], "待签收");
    assert_eq!(r["service_name"], "停水");
    assert_eq!(r["service_code"], o.water.to_string());
    assert_eq!(r["description"], "小区从早上开始停水，没有通知");
    assert_eq!(r["agency_responsible"], "A市住建局");
    assert!(r["service_notice"].as_str().unwrap().contains("工作日"));
    assert_eq!(r["requested_datetime"], kernel::clock::rfc3339(t0() - DAY));
    assert_eq!(r["updated_datetime"], kernel::clock::rfc3339(t0()));
    assert_eq!(
        r["expected_datetime"],
        kernel::clock::rfc3339(dispatched.reply_due.unwrap())
    );
    assert_eq!(r["address"], "A1区东湖街道****");
    assert_eq!(r["address_id"], "690102");
    assert!(r["zipcode"].is_null());
    assert_eq!(r["lat"], 30.573);
    assert_eq!(r["long"], 114.279);
    assert_eq!(r["media_url"], "https://img.example.cn/c.jpg");
    // Closed, with the reply as its notes; no media, no department.
    let (_, one) = o
        .both(
            &format!("/requests/{b}"),
            "service_requests",
            Some("request"),
        )
        .await;
    assert_eq!(one[0]["status"], "closed");
    assert_eq!(one[0]["status_notes"], "已转告街道，噪声已停止");
    assert_eq!(one[0]["service_name"], "噪声污染");
    assert!(one[0]["media_url"].is_null());
    assert!(one[0]["agency_responsible"].is_null());
    assert!(one[0]["expected_datetime"].is_null());
    // Location by region code only.
    let (_, one) = o
        .both(
            &format!("/requests/{d}"),
            "service_requests",
            Some("request"),
        )
        .await;
    assert!(one[0]["lat"].is_null() && one[0]["address"].is_null());
    assert_eq!(one[0]["address_id"], "690103");
    assert_eq!(one[0]["status_notes"], "待受理");
    // Unknown: 404.
    assert_err(
        &o.get("/requests/A市12345-20200101-000001.json").await,
        404,
        "service_request_id",
    );
    assert_xml_err(
        &o.get("/requests/nope.xml").await,
        404,
        "service_request_id",
    );

    // service_request_id overrides every other filter, old tickets included.
    let (_, l) = o
        .both(
            &format!("/requests?service_request_id={a},{c}&status=closed&service_code={noise}"),
            "service_requests",
            Some("request"),
        )
        .await;
    assert_eq!(numbers(&l), [c.as_str(), a.as_str()]);
    let (_, l) = o
        .both(
            &format!("/requests?service_request_id={a}&service_request_id={b}"),
            "service_requests",
            None,
        )
        .await;
    assert_eq!(numbers(&l), [b.as_str(), a.as_str()]);
    // service_code, one or a comma list.
    let (_, l) = o
        .both(
            &format!("/requests?service_code={}", o.water),
            "service_requests",
            None,
        )
        .await;
    assert_eq!(numbers(&l), [d.as_str(), c.as_str()]);
    let (_, l) = o
        .both(
            &format!("/requests?service_code={},{noise}", o.water),
            "service_requests",
            None,
        )
        .await;
    assert_eq!(numbers(&l), [d.as_str(), c.as_str(), b.as_str()]);
    assert_err(
        &o.get("/requests.json?service_code=x").await,
        400,
        "service_code",
    );
    // status.
    let (_, l) = o
        .both("/requests?status=open", "service_requests", None)
        .await;
    assert_eq!(numbers(&l), [d.as_str(), c.as_str()]);
    let (_, l) = o
        .both("/requests?status=closed", "service_requests", None)
        .await;
    assert_eq!(numbers(&l), [b.as_str()]);
    let (_, l) = o
        .both("/requests?status=open,closed", "service_requests", None)
        .await;
    assert_eq!(numbers(&l), [d.as_str(), c.as_str(), b.as_str()]);
    assert_err(&o.get("/requests.json?status=pending").await, 400, "status");
    assert_xml_err(&o.get("/requests.xml?status=pending").await, 400, "status");
    // Dates: a window of at most 90 days; ISO 8601 with or without a time and an offset.
    let day = |ms: i64| kernel::clock::to_china(ms).format("%Y-%m-%d").to_string();
    let (_, l) = o
        .both(
            &format!(
                "/requests?start_date={}&end_date={}",
                day(t0() - 120 * DAY),
                day(t0() - 60 * DAY)
            ),
            "service_requests",
            None,
        )
        .await;
    assert_eq!(numbers(&l), [a.as_str()]);
    let (_, l) = o
        .both(
            &format!(
                "/requests?start_date={}&end_date={}",
                urlencode(&kernel::clock::rfc3339(t0() - 30 * DAY)),
                urlencode(&kernel::clock::rfc3339(t0() - DAY))
            ),
            "service_requests",
            None,
        )
        .await;
    assert_eq!(
        numbers(&l),
        [c.as_str(), b.as_str()],
        "both ends are included"
    );
    let (_, l) = o
        .both(
            &format!("/requests?start_date={}", day(t0() - 40 * DAY)),
            "service_requests",
            None,
        )
        .await;
    assert_eq!(numbers(&l), [d.as_str(), c.as_str(), b.as_str()]);
    let (_, l) = o
        .both(
            &format!("/requests?end_date={}", day(t0() - 50 * DAY)),
            "service_requests",
            None,
        )
        .await;
    assert_eq!(numbers(&l), [a.as_str()]);
    let span = format!(
        "start_date={}&end_date={}",
        day(t0() - 120 * DAY),
        day(t0() - 20 * DAY)
    );
    assert_err(&o.get(&format!("/requests.json?{span}")).await, 400, "90");
    assert_xml_err(&o.get(&format!("/requests.xml?{span}")).await, 400, "90");
    assert_err(
        &o.get("/requests.json?start_date=2026-03-10&end_date=2026-03-01")
            .await,
        400,
        "end_date",
    );
    assert_err(
        &o.get("/requests.json?start_date=上个月").await,
        400,
        "start_date",
    );
    assert_err(
        &o.get("/requests.json?jurisdiction_id=B市").await,
        404,
        "jurisdiction_id",
    );

    // The token flow: the token is the request id.
    let (s, tk) = o
        .both(&format!("/tokens/{c}"), "service_requests", Some("request"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(tk, json!([{"service_request_id": c, "token": c}]));
    assert_err(&o.get("/tokens/nope.json").await, 404, "token");
    assert_xml_err(&o.get("/tokens/nope.xml").await, 404, "token");
    o.w.server.stop().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn no_personal_data_in_any_answer(db: Db) {
    let o = setup(db).await;
    let secrets = [
        "张三",
        "13912345678",
        "139 1234 5678",
        "zhangsan",
        "dev-secret-7",
        "acc-secret-9",
        "幸福路12号",
        "11010519491231002X",
    ];
    let number = o
        .create(&[
            ("first_name", "三"),
            ("last_name", "张"),
            ("phone", "139 1234 5678"),
            ("email", "zhangsan@example.com"),
            ("device_id", "dev-secret-7"),
            ("account_id", "acc-secret-9"),
            ("address_string", "A1区东湖街道幸福路12号3栋501"),
            (
                "description",
                "我是张三，电话13912345678，邮箱zhangsan@example.com，身份证11010519491231002X，楼下水管破裂",
            ),
        ])
        .await;
    let post = o
        .post(
            "xml",
            &o.water_form(&[
                ("first_name", "三"),
                ("last_name", "张"),
                ("phone", "13912345678"),
            ]),
        )
        .await;
    let id = o.ticket_id(&number).await;
    o.svc
        .act(
            &o.admin,
            id,
            Action::AnswerNow {
                answer: "张三您好，已安排抢修；如仍停水请拨打 13912345678 以外的号码联系物业"
                    .into(),
                kb_article_id: None,
            },
        )
        .await
        .unwrap();
    let mut bodies = vec![post.body];
    for p in [
        "/requests".to_owned(),
        format!("/requests/{number}"),
        format!("/requests?service_request_id={number}"),
        format!("/tokens/{number}"),
        "/services".to_owned(),
        format!("/services/{}", o.water),
        "/discovery".to_owned(),
    ] {
        let (j, x) = o.both_raw(&p).await;
        assert_eq!(j.status, 200, "{p}: {}", j.body);
        bodies.push(j.body);
        bodies.push(x.body);
    }
    for b in &bodies {
        for s in secrets {
            assert!(!b.contains(s), "“{s}” leaked: {b}");
        }
    }
    // The text is still there, masked.
    let (_, one) = o
        .both(&format!("/requests/{number}"), "service_requests", None)
        .await;
    assert_eq!(
        one[0]["description"],
        "我是张*，电话139****5678，邮箱***@example.com，身份证110105********002X，楼下水管破裂"
    );
    assert!(one[0]["status_notes"]
        .as_str()
        .unwrap()
        .starts_with("张*您好"));
    assert_eq!(one[0]["address"], "A1区东湖街道****");
    o.w.server.stop().await;
}

/// Reads with `georeport` (a maintained Open311 client on PyPI) as it is, and posts the way
/// Open311 clients do (form fields with `requests`). Under CI a missing client fails the test.
const CLIENT: &str = r#"
import json, sys
import requests, xmltodict
from georeport import GeoReport

base, key, code, number = sys.argv[1:5]
# A client starts from discovery and uses the endpoint it names.
disc = requests.get(base + "/discovery.json")
disc.raise_for_status()
root = disc.json()["endpoints"][0]["url"]
out = {"root": root}
for fmt in ("json", "xml"):
    c = GeoReport(root, jurisdiction="A市", output_format=fmt)
    services = c.get_service_list()
    if isinstance(services, dict):
        services = [services]
    d = c.get_service_definition(code)
    attrs = d["attributes"]
    if fmt == "xml":
        attrs = attrs["attribute"]
    one = c.get_service_request(number)
    many = c.get_service_requests(service_request_id=number)
    if isinstance(many, dict):
        many = [many]
    # (georeport reads an empty XML list as None and fails: the empty window is asked in JSON.)
    opened = [] if fmt == "xml" else c.get_service_requests(
        service_code=code, status="open", start_date="2020-01-01T00:00:00Z", end_date="2020-03-01T00:00:00Z")
    out[fmt] = {
        "services": [[s["service_code"], s["service_name"], str(s["metadata"]).lower()] for s in services],
        "attributes": [[a["code"], a["datatype"], str(a["required"]).lower()] for a in attrs],
        "one": [one["service_request_id"], one["status"], one["service_name"]],
        "many": [r["service_request_id"] for r in many],
        "window_empty": opened == [],
    }
# Posting, as form fields, repeated keys for a multivaluelist.
form = [("api_key", key), ("service_code", code), ("lat", "30.5728"), ("long", "114.2791"),
        ("description", "客户端提交的停水诉求"), ("attribute[estate]", "幸福小区"),
        ("attribute[type]", "水压低"), ("attribute[times][]", "白天"), ("attribute[times][]", "夜间")]
r = requests.post(root + "/requests.json", data=form)
r.raise_for_status()
out["posted"] = r.json()[0]["service_request_id"]
r = requests.post(root + "/requests.xml", data=form)
r.raise_for_status()
out["posted_xml"] = xmltodict.parse(r.content)["service_requests"]["request"]["service_request_id"]
bad = requests.post(root + "/requests.json", data=[("api_key", "wrong")] + form[1:])
out["bad_key"] = [bad.status_code, bad.json()[0]["code"]]
print(json.dumps(out, ensure_ascii=False))
"#;

async fn georeport_client_works_unchanged(db: Db) {
    let o = setup(db).await;
    let Some(py) = python_with("georeport, xmltodict, requests", "georeport==0.3.1").await else {
        o.w.server.stop().await;
        return;
    };
    let number = o.create(&[]).await;
    let code = o.water.to_string();
    let out = tokio::process::Command::new(&py)
        .args(["-c", CLIENT, &o.base, &o.key, &code, &number])
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("PYTHONIOENCODING", "utf-8")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["root"], o.base);
    for fmt in ["json", "xml"] {
        let r = &v[fmt];
        let names: Vec<&str> = r["services"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s[1].as_str().unwrap())
            .collect();
        assert_eq!(names, ["保障性住房", "停水", "噪声污染"], "{fmt}");
        assert!(r["services"]
            .as_array()
            .unwrap()
            .contains(&json!([code, "停水", "true"])));
        assert_eq!(
            r["attributes"][0],
            json!(["estate", "string", "true"]),
            "{fmt}"
        );
        assert_eq!(
            r["attributes"][4],
            json!(["times", "multivaluelist", "false"])
        );
        assert_eq!(r["one"], json!([number, "open", "停水"]), "{fmt}");
        assert_eq!(r["many"], json!([number]), "{fmt}");
        assert_eq!(r["window_empty"], true, "{fmt}");
    }
    assert_eq!(v["bad_key"], json!([403, 403]));
    for key in ["posted", "posted_xml"] {
        let n = v[key].as_str().unwrap();
        let t = o.svc.get_by_number(&o.admin, n).await.unwrap().ticket;
        assert_eq!(t.channel.code(), "api");
        assert_eq!(t.answers["times"], json!(["白天", "夜间"]));
        assert_eq!(t.answers["type"], "水压低");
    }
    o.w.server.stop().await;
}
