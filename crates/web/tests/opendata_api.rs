//! 开放数据 over HTTP, against one running server per backend: the CKAN Action API as the real
//! PyPI `ckanapi` 4.11 client uses it (action calls, a paged search, `dump datasets --all`
//! returning every open dataset and nothing else, `RemoteCKAN` from Python), CKAN's error
//! bodies and status codes, downloads (CSV/JSON/XLSX, no personal field, 有条件开放 refused
//! without approval), DCAT-AP 3 validated by `pyshacl` with the official shapes, and a
//! withdrawn dataset gone from the API, DCAT and the pages.

mod common;

use common::*;
use kernel::{Actor, Db, Role};
use serde_json::{json, Map, Value};
use sharing::catalog::domain::{NewEntry, OpenKind};
use sharing::SharingService;

testkit::on_both_backends!(migrations; open_data_portal_speaks_ckan_and_dcat);

const SHAPES: &str = "../shared/data/opendata/dcat-ap-3.0.0-SHACL.ttl";

/// The only violations allowed: both need the EU controlled vocabularies, which a harvester
/// loads and this server (offline, in a government intranet) does not ship.
const ALLOWED: [(&str, &str); 2] = [
    (
        "Value does not have class skos:Concept",
        "the publisher's dct:type is an IRI of the EU publisher-type vocabulary, whose skos:Concept typing lives in that scheme, not in this server's answer",
    ),
    (
        "dcat:Dataset",
        "values that must be a dcat:Dataset described elsewhere (a harvester loading several catalogs); not produced today, since each catalog page describes the datasets it names",
    ),
];

fn entry(name: &str, summary: &str, open_kind: &str, items: Value) -> NewEntry {
    serde_json::from_value(json!({
        "category": "theme", "class": ["3", "01"],
        "content": {
            "name": name, "summary": summary, "format": "数据库", "items": items,
            "share_kind": "unconditional", "open_kind": open_kind,
            "open_condition": if open_kind == "conditional" { "用于学术研究，成果须注明数据来源" } else { "" },
            "update_cycle": "monthly"
        }
    }))
    .unwrap()
}

fn rows(v: Vec<Value>) -> Vec<Map<String, Value>> {
    v.into_iter()
        .map(|r| r.as_object().unwrap().clone())
        .collect()
}

struct Setup {
    w: World,
    sharing: SharingService,
    officer: Actor,
    bureau: Actor,
    rental: String,
    air: String,
    fund: String,
    secret: String,
}

async fn setup(db: Db) -> Setup {
    let w = world(db.clone()).await;
    let org = org::OrgService::new(db.clone(), testkit::city::fast_auth());
    for (u, dept, role) in [
        ("x_off", Some(w.dept_x), Role::DataOfficer),
        ("y_off", Some(w.dept_y), Role::DataOfficer),
        ("resident", None, Role::Citizen),
    ] {
        org.create_user(&Actor::cli(), test_user(u, dept, role))
            .await
            .unwrap();
    }
    let actor = |u: &str| {
        let org = org.clone();
        let u = u.to_owned();
        async move {
            let id = org.user_by_username(&u).await.unwrap().unwrap().id;
            org.actor_of_user(id).await.unwrap()
        }
    };
    let (officer, y_off, admin) = (
        actor("x_off").await,
        actor("y_off").await,
        actor("admin").await,
    );
    let sharing = SharingService::new(db.clone());
    let publish = |who: Actor, e: NewEntry, r: Vec<Map<String, Value>>| {
        let (s, admin) = (sharing.clone(), admin.clone());
        async move {
            let v = s.create_entry(&who, e).await.unwrap();
            s.submit_entry(&who, v.entry.id, 1).await.unwrap();
            s.review_entry(&admin, v.entry.id, 1, true, "")
                .await
                .unwrap();
            let m = s.mount_table(&who, v.entry.id, "", "full").await.unwrap();
            let rep = s.push_rows(&who, &m.resource.code, r).await.unwrap();
            assert!(rep.errors.is_empty(), "{:?}", rep.errors);
            v.entry.code
        }
    };
    let rental = publish(
        officer.clone(),
        entry(
            "住房租赁备案统计",
            "各小区住房租赁合同备案的套数和平均租金，按月更新",
            "open",
            json!([
                {"name": "小区名称", "field": "estate", "data_type": "char", "length": 40, "primary_key": true},
                {"name": "区县", "field": "district", "data_type": "char", "length": 10},
                {"name": "备案套数", "field": "units", "data_type": "int", "length": 6},
                {"name": "平均租金", "field": "rent", "data_type": "decimal", "length": 8, "scale": 2}
            ]),
        ),
        rows(
            (0..25)
                .map(|i| json!({"estate": format!("金桥花园{i}期"), "district": "A1区", "units": 10 + i, "rent": "35.50"}))
                .chain([json!({"estate": "逗号,\"引号\"小区", "district": "A2区", "units": 1, "rent": "1"})])
                .collect(),
        ),
    )
    .await;
    let air = publish(
        y_off.clone(),
        entry(
            "空气质量日报",
            "全市各监测站的空气质量指数",
            "open",
            json!([
                {"name": "监测站", "field": "station", "data_type": "char", "length": 20, "primary_key": true},
                {"name": "空气质量指数", "field": "aqi", "data_type": "int", "length": 3}
            ]),
        ),
        rows(vec![json!({"station": "市监测站", "aqi": 42})]),
    )
    .await;
    let fund = publish(
        officer.clone(),
        entry(
            "住房公积金缴存统计",
            "按行业的住房公积金缴存单位数和缴存额",
            "conditional",
            json!([
                {"name": "行业", "field": "trade", "data_type": "char", "length": 20, "primary_key": true},
                {"name": "缴存额", "field": "amount", "data_type": "decimal", "length": 14, "scale": 2}
            ]),
        ),
        rows(vec![json!({"trade": "制造业", "amount": "1200.00"})]),
    )
    .await;
    let secret = publish(
        officer.clone(),
        entry(
            "房屋网签备案信息",
            "买受人和身份证号",
            "not_open",
            json!([
                {"name": "合同编号", "field": "no", "data_type": "char", "length": 20, "primary_key": true},
                {"name": "身份证号", "field": "id_no", "data_type": "char", "length": 18, "sensitive": true, "semantic": "id_card"}
            ]),
        ),
        vec![],
    )
    .await;
    Setup {
        w,
        sharing,
        officer,
        bureau: admin,
        rental,
        air,
        fund,
        secret,
    }
}

fn slug(code: &str) -> String {
    code.to_ascii_lowercase()
}

async fn get_json(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

fn ckan_error(got: &(u16, Value), status: u16, ty: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["success"], false, "{}", got.1);
    assert!(got.1["help"].as_str().unwrap().contains("help_show"));
    assert_eq!(got.1["error"]["__type"], ty, "{}", got.1);
}

async fn python(args: &[&str]) -> Option<std::process::Output> {
    let py = python_with("ckanapi, pyshacl, rdflib", "ckanapi==4.11 pyshacl==0.30.1").await?;
    Some(
        tokio::process::Command::new(&py)
            .args(args)
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .env("PYTHONIOENCODING", "utf-8")
            .output()
            .await
            .unwrap(),
    )
}

/// The `ckanapi` command line, as installed by pip.
async fn ckanapi(args: &[&str]) -> std::process::Output {
    let bin = std::env::var("YIWANG_CKANAPI").unwrap_or_else(|_| "ckanapi".into());
    let out = tokio::process::Command::new(&bin)
        .args(args)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env("PYTHONIOENCODING", "utf-8")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "ckanapi {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

const REMOTE: &str = r#"
import sys, json
from ckanapi import RemoteCKAN, NotFound, ValidationError
site = RemoteCKAN(sys.argv[1])
out = {}
out["status"] = site.action.status_show()["site_url"]
page1 = site.action.package_search(q="住房", rows=1, start=0, sort="name asc")
page2 = site.action.package_search(q="住房", rows=1, start=1, sort="name asc")
out["pages"] = [page1["count"], [p["name"] for p in page1["results"]], [p["name"] for p in page2["results"]]]
f = site.action.package_search(fq="res_format:CSV", **{"facet.field": ["organization", "license_id"]})
out["facets"] = f["search_facets"]
try:
    site.action.package_show(id="b999-000001")
    out["missing"] = "found"
except NotFound:
    out["missing"] = "NotFound"
try:
    site.action.package_search(rows="many")
    out["bad_rows"] = "accepted"
except ValidationError as e:
    out["bad_rows"] = sorted(e.error_dict.keys())
out["orgs"] = site.action.organization_list(all_fields=True)
out["resource"] = site.action.resource_show(id=sys.argv[2])
print(json.dumps(out, ensure_ascii=False))
"#;

const SHACL: &str = r##"
import sys, json, rdflib, pyshacl
from rdflib.namespace import SH, RDF
from rdflib.compare import isomorphic
shapes = rdflib.Graph().parse(sys.argv[1], format="turtle")
out = []
for base in sys.argv[2:]:
    g = rdflib.Graph().parse(base + ".ttl", format="turtle")
    x = rdflib.Graph().parse(base + ".rdf", format="xml")
    j = rdflib.Graph().parse(base + ".jsonld", format="json-ld")
    # Each format's Hydra page names its own address (catalog.ttl?page=1, catalog.rdf?page=1):
    # the rest must be the same triples.
    def core(graph):
        c = rdflib.Graph()
        pages = set(graph.subjects(RDF.type, rdflib.URIRef("http://www.w3.org/ns/hydra/core#PagedCollection")))
        for t in graph:
            if t[0] not in pages:
                c.add(t)
        return c
    conforms, rg, text = pyshacl.validate(g, shacl_graph=shapes, inference="none", allow_warnings=True)
    res = []
    for r in rg.subjects(RDF.type, SH.ValidationResult):
        res.append({"severity": str(rg.value(r, SH.resultSeverity)).split("#")[-1],
                    "message": str(rg.value(r, SH.resultMessage)),
                    "focus": str(rg.value(r, SH.focusNode)),
                    "path": str(rg.value(r, SH.resultPath))})
    out.append({"doc": base, "triples": len(g), "same_rdf": isomorphic(core(g), core(x)), "same_jsonld": isomorphic(core(g), core(j)),
                "datasets": len(set(g.subjects(RDF.type, rdflib.URIRef("http://www.w3.org/ns/dcat#Dataset")))),
                "results": res})
print(json.dumps(out, ensure_ascii=False))
"##;

async fn open_data_portal_speaks_ckan_and_dcat(db: Db) {
    let s = setup(db).await;
    let url = s.w.url.clone();
    let api = format!("{url}/api/3/action");
    let open = {
        let mut v = vec![slug(&s.rental), slug(&s.air), slug(&s.fund)];
        v.sort();
        v
    };

    // ---- CKAN actions, GET and POST ----
    let (st, v) = get_json(&format!("{api}/site_read")).await;
    assert_eq!((st, &v["result"]), (200, &json!(true)));
    assert!(v["help"]
        .as_str()
        .unwrap()
        .ends_with("help_show?name=site_read"));
    let (_, v) = get_json(&format!("{url}/api/action/package_list")).await;
    assert_eq!(v["result"], json!(open), "only the open datasets");
    let (_, v) = get_json(&format!("{api}/package_show?id={}", slug(&s.rental))).await;
    let p = &v["result"];
    assert_eq!(p["title"], "住房租赁备案统计");
    assert_eq!(p["organization"]["title"], "A市住建局");
    assert_eq!(p["num_resources"], 3);
    assert_eq!(p["license_id"], "open-terms");
    assert!(p["resources"][0]["url"].as_str().unwrap().starts_with(&url));
    let c = Client::anonymous(&url);
    let (st, v) = c
        .post(
            "/api/3/action/package_search",
            json!({"q": "住房 租赁", "rows": 5}),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    assert_eq!(v["result"]["count"], 1);
    assert_eq!(v["result"]["results"][0]["name"], slug(&s.rental));
    let (st, v, _) = c
        .raw(
            reqwest::Method::POST,
            "/api/3/action/package_search",
            "application/x-www-form-urlencoded",
            b"fq=organization:dept-0&facet.field=%5B%22organization%22%5D".to_vec(),
        )
        .await;
    assert_eq!((st, v["result"]["count"].as_i64()), (200, Some(0)));
    let (_, v) = get_json(&format!(
        "{api}/package_search?q=%E7%A9%BA%E6%B0%94&facet.field=%5B%22organization%22,%22res_format%22%5D"
    ))
    .await;
    assert_eq!(v["result"]["count"], 1, "空气 finds 空气质量日报: {v}");
    assert_eq!(v["result"]["facets"]["res_format"]["CSV"], 1);
    assert_eq!(
        v["result"]["search_facets"]["organization"]["items"][0]["display_name"],
        "A市生态环境局"
    );
    let (_, v) = get_json(&format!("{api}/group_list?all_fields=true")).await;
    assert_eq!(v["result"][1]["package_count"], 3);
    let (_, v) = get_json(&format!("{api}/tag_list")).await;
    assert!(v["result"].as_array().unwrap().contains(&json!("平均租金")));
    let (_, v) = get_json(&format!("{api}/license_list")).await;
    assert_eq!(v["result"].as_array().unwrap().len(), 2);
    let (_, v) = get_json(&format!("{api}/help_show?name=package_search")).await;
    assert!(v["result"].as_str().unwrap().contains("rows"));

    // ---- CKAN's errors ----
    ckan_error(
        &get_json(&format!("{api}/package_show?id=c301-999999")).await,
        404,
        "Not Found Error",
    );
    ckan_error(
        &get_json(&format!("{api}/package_show?id={}", slug(&s.secret))).await,
        404,
        "Not Found Error",
    );
    let bad_rows = get_json(&format!("{api}/package_search?rows=abc")).await;
    ckan_error(&bad_rows, 409, "Validation Error");
    assert!(bad_rows.1["error"]["rows"][0]
        .as_str()
        .unwrap()
        .contains("整数"));
    ckan_error(
        &get_json(&format!("{api}/package_search?fq=owner:x")).await,
        400,
        "Search Query Error",
    );
    ckan_error(
        &get_json(&format!("{api}/package_show")).await,
        409,
        "Validation Error",
    );
    let unknown = get_json(&format!("{api}/no_such_action")).await;
    assert_eq!(unknown.0, 400);
    assert!(unknown.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no_such_action"));
    let (st, v) = c
        .post("/api/3/action/package_create", json!({"name": "x"}))
        .await;
    ckan_error(&(st, v), 403, "Authorization Error");
    let (st, v, _) = c
        .raw(
            reqwest::Method::POST,
            "/api/3/action/package_search",
            "application/json",
            b"{not json".to_vec(),
        )
        .await;
    assert_eq!(st, 400, "{v}");

    // ---- downloads ----
    let res = format!("{}.1", s.rental);
    let r = reqwest::get(format!("{url}/opendata/download/{res}.csv"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("filename*=UTF-8''"));
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "小区名称,区县,备案套数,平均租金");
    assert_eq!(lines.len(), 27);
    assert!(csv.contains("\"逗号,\"\"引号\"\"小区\",A2区,1,1"), "{csv}");
    let (st, j) = get_json(&format!("{url}/opendata/download/{res}.json")).await;
    assert_eq!(st, 200);
    assert_eq!(j["records"].as_array().unwrap().len(), 26);
    assert_eq!(j["records"][0]["estate"], "金桥花园0期");
    let x = reqwest::get(format!("{url}/opendata/download/{res}.xlsx"))
        .await
        .unwrap();
    let sheet = tabular::read_xlsx(&x.bytes().await.unwrap()).unwrap();
    assert_eq!(sheet.rows.len(), 26);
    // 有条件开放: anonymous 401, a resident without approval 403 — problem+json, zh-CN.
    let fund_csv = format!("/opendata/download/{}.1.csv", s.fund);
    let got = Client::anonymous(&url).get(&fund_csv).await;
    assert_problem(&got, 401, "unauthorized", None);
    let resident = Client::login(&url, "resident").await;
    let got = resident.get(&fund_csv).await;
    assert_problem(&got, 403, "forbidden", None);
    assert_eq!(
        Client::anonymous(&url)
            .get(&format!("/opendata/download/{}.1.csv", s.secret))
            .await
            .0,
        404
    );

    // ---- the real ckanapi client ----
    if let Some(out) = python(&["-c", REMOTE, &url, &format!("{res}.csv")]).await {
        assert!(
            out.status.success(),
            "RemoteCKAN: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["status"], url);
        let mut two = [slug(&s.rental), slug(&s.fund)];
        two.sort();
        assert_eq!(v["pages"], json!([2, [two[0]], [two[1]]]), "a paged search");
        assert_eq!(
            v["facets"]["license_id"]["items"].as_array().unwrap().len(),
            2
        );
        assert_eq!(v["missing"], "NotFound");
        assert_eq!(
            v["bad_rows"],
            json!(["__type", "rows"]),
            "CKAN's Validation Error names the field"
        );
        assert_eq!(v["orgs"].as_array().unwrap().len(), 2);
        assert_eq!(v["resource"]["format"], "CSV");

        let out = ckanapi(&["action", "package_search", "q=租金", "rows=1", "-r", &url]).await;
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["count"], 1);
        assert_eq!(v["results"][0]["name"], slug(&s.rental));
        let out = ckanapi(&["dump", "datasets", "--all", "-q", "-r", &url]).await;
        let mut names: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["name"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        names.sort();
        assert_eq!(
            names, open,
            "dump returns every open dataset and nothing else"
        );

        // ---- DCAT-AP 3 against the official shapes ----
        let dir = tempfile::tempdir().unwrap();
        let mut docs = Vec::new();
        for (name, path) in [
            ("catalog", "/catalog".to_owned()),
            ("dataset", format!("/dataset/{}", slug(&s.rental))),
        ] {
            for ext in ["ttl", "rdf", "jsonld"] {
                let r = reqwest::get(format!("{url}{path}.{ext}")).await.unwrap();
                assert_eq!(r.status(), 200, "{path}.{ext}");
                std::fs::write(
                    dir.path().join(format!("{name}.{ext}")),
                    r.bytes().await.unwrap(),
                )
                .unwrap();
            }
            docs.push(dir.path().join(name).to_string_lossy().into_owned());
        }
        let shapes = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(SHAPES);
        let mut args = vec!["-c", SHACL, shapes.to_str().unwrap()];
        args.extend(docs.iter().map(String::as_str));
        let out = python(&args).await.unwrap();
        assert!(
            out.status.success(),
            "pyshacl: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        for doc in v.as_array().unwrap() {
            assert_eq!(doc["same_rdf"], true, "RDF/XML says the same as Turtle");
            assert_eq!(doc["same_jsonld"], true, "JSON-LD says the same as Turtle");
            let bad: Vec<&Value> = doc["results"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["severity"] == "Violation")
                .filter(|r| {
                    let m = r["message"].as_str().unwrap();
                    !ALLOWED.iter().any(|(a, _)| m.contains(a))
                })
                .collect();
            assert!(
                bad.is_empty(),
                "violations not allowed in {}: {bad:#?}",
                doc["doc"]
            );
            for r in doc["results"].as_array().unwrap() {
                eprintln!(
                    "{} {}: {} ({})",
                    doc["doc"], r["severity"], r["message"], r["path"]
                );
            }
        }
        assert_eq!(v[0]["datasets"], 3, "the catalog lists every open dataset");
    }

    // ---- Hydra paging and bad parameters ----
    let ttl = reqwest::get(format!("{url}/catalog.ttl?page=1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ttl.contains("hydra:totalItems \"3\"^^xsd:integer"), "{ttl}");
    let got = Client::anonymous(&url).get("/catalog.ttl?page=0").await;
    assert_problem(&got, 422, "invalid_page", Some("page"));
    let got = Client::anonymous(&url)
        .get("/catalog.jsonld?modified_since=昨天")
        .await;
    assert_problem(&got, 422, "invalid_time", Some("modified_since"));
    let future = reqwest::get(format!("{url}/catalog.ttl?modified_since=2999-01-01"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(future.contains("hydra:totalItems \"0\""), "{future}");

    // ---- withdrawn: gone from the API, DCAT and the pages ----
    let air_page = format!("/opendata/dataset/{}", slug(&s.air));
    assert_eq!(
        reqwest::get(format!("{url}{air_page}"))
            .await
            .unwrap()
            .status(),
        200
    );
    let y_off = {
        let org = org::OrgService::new(s.w.db.clone(), testkit::city::fast_auth());
        let id = org.user_by_username("y_off").await.unwrap().unwrap().id;
        org.actor_of_user(id).await.unwrap()
    };
    let id = s.sharing.entry_by_code(&s.air).await.unwrap().entry.id;
    let v = s.sharing.new_entry_version(&y_off, id).await.unwrap();
    let mut content = v.latest().content.clone();
    content.open_kind = OpenKind::NotOpen;
    s.sharing
        .update_entry(&y_off, id, 2, content)
        .await
        .unwrap();
    s.sharing.submit_entry(&y_off, id, 2).await.unwrap();
    s.sharing
        .review_entry(&s.bureau, id, 2, true, "")
        .await
        .unwrap();
    let (_, v) = get_json(&format!("{api}/package_list")).await;
    assert!(!v["result"]
        .as_array()
        .unwrap()
        .contains(&json!(slug(&s.air))));
    ckan_error(
        &get_json(&format!("{api}/package_show?id={}", slug(&s.air))).await,
        404,
        "Not Found Error",
    );
    let (_, v) = get_json(&format!("{api}/package_search?q=空气")).await;
    assert_eq!(v["result"]["count"], 0);
    let ttl = reqwest::get(format!("{url}/catalog.ttl"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!ttl.contains(&slug(&s.air)) && !ttl.contains("空气质量日报"));
    assert_eq!(
        reqwest::get(format!("{url}/dataset/{}.ttl", slug(&s.air)))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        reqwest::get(format!("{url}{air_page}"))
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        reqwest::get(format!("{url}/opendata/download/{}.1.csv", s.air))
            .await
            .unwrap()
            .status(),
        404
    );

    // ---- figures count what happened ----
    let (_, f) = get_json(&format!("{url}/api/v1/opendata/figures")).await;
    assert_eq!(f["datasets"], 2);
    assert!(f["downloads"].as_i64().unwrap() >= 3, "{f}");
    assert!(f["api_calls"].as_i64().unwrap() >= 10, "{f}");
    let _ = &s.officer;
    s.w.server.stop().await;
}
