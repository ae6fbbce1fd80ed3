//! The hotline workbench in a real headless Chromium, on both backends: the whole journey of a
//! request through intake, dispatch, the department inbox, callback, supervision and the
//! second reply; answering a call at once from the knowledge base; refused input that writes
//! nothing. Every page is checked for requests leaving the server and kept as a screenshot
//! (1366×768) under artifacts/screenshots/.

mod common;

use common::*;
use kernel::{Actor, Db, Role};
use org::OrgService;
use serde_json::json;
use testkit::browser::Browser;

testkit::on_both_backends!(migrations; journey_from_intake_to_second_reply, knowledge_base_answer_and_refused_input,
    dispatcher_corrects_splits_and_merges_on_the_ticket_page, citizen_journey_from_portal_to_rating,
    dispatch_queue_renders_suggestion_and_duplicate_without_script);

/// Operators, a dispatcher and a supervisor at the bureau; a small taxonomy with an extra
/// question, a published article and a reply template.
struct Desk {
    category_id: i64,
    leaf_id: i64,
    article_id: i64,
}

async fn desk(w: &World) -> Desk {
    let org = OrgService::new(w.db.clone(), config().auth);
    let bureau = org
        .department_by_name("A市数据局")
        .await
        .unwrap()
        .unwrap()
        .id;
    for (u, r) in [
        ("oper", Role::Operator),
        ("disp", Role::Dispatcher),
        ("sup", Role::Supervisor),
    ] {
        org.create_user(&Actor::cli(), test_user(u, Some(bureau), r))
            .await
            .unwrap();
    }
    let admin = Client::login(&w.url, "admin").await;
    let cats = import_categories(
        &admin,
        json!([
            ["城乡建设", "物业管理", "物业服务"],
            ["城乡建设", "物业管理", "维修基金"],
            ["环境保护", "噪声污染", "施工噪声"],
            ["社会保障", "医疗保险", "异地就医"]
        ]),
    )
    .await;
    let id_of = |path: &str| category_id(&cats, path);
    let leaf_id = id_of("城乡建设/物业管理/物业服务");
    let (s, b, _) = admin
        .raw(
            reqwest::Method::PUT,
            &format!("/api/v1/hotline/categories/{leaf_id}/questions"),
            "application/json",
            json!([{"code": "estate", "label": "小区名称", "kind": "text", "required": true}])
                .to_string()
                .into_bytes(),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, a) = admin
        .post(
            "/api/v1/hotline/kb",
            json!({"question": "异地就医备案怎么办理", "answer": "可通过国家医保服务平台APP或到参保地医保经办机构办理异地就医备案，备案后即可直接结算。",
                   "category_id": id_of("社会保障/医疗保险/异地就医")}),
        )
        .await;
    assert_eq!(s, 201, "{a}");
    let article_id = a["id"].as_i64().unwrap();
    for action in ["review", "publish"] {
        let (s, b) = admin
            .post(
                &format!("/api/v1/hotline/kb/{article_id}/actions"),
                json!({"action": action}),
            )
            .await;
        assert_eq!(s, 200, "{b}");
    }
    let (s, b) = admin
        .post(
            "/api/v1/hotline/reply-templates",
            json!({"title": "已处理答复", "body": "{市民}您好：您反映的“{标题}”（{编号}）已由{单位}核实处理。"}),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    Desk {
        category_id: id_of("城乡建设"),
        leaf_id,
        article_id,
    }
}

/// Signs `user` in afresh: whoever was signed in before is forgotten.
async fn login(b: &Browser, url: &str, user: &str) {
    b.goto(&format!("{url}/login")).await;
    b.client.delete_all_cookies().await.unwrap();
    common::login(b, url, user).await;
    assert_eq!(b.current_path().await, "/", "{user} logged in");
}

/// Screenshot, and nothing on the page came from outside the server.
async fn shot(b: &mut Browser, url: &str, label: &str) {
    b.screenshot(label).await;
    for u in b.loaded_urls().await {
        assert!(
            u.starts_with(url),
            "{label}: page loaded {u} from outside the server"
        );
    }
}

/// On the supervision list of unsatisfied callbacks, writes `reason` to reopen ticket `id`.
async fn write_reopen_reason(b: &Browser, url: &str, id: i64, reason: &str) {
    b.goto(&format!("{url}/hotline/supervision?tab=unsatisfied"))
        .await;
    b.fill(&format!("#reopen-list-{id}-reason"), reason).await;
}

/// Sends the reason written by `write_reopen_reason`.
async fn send_reopen(b: &Browser, id: i64) {
    let button = format!("form:has(#reopen-list-{id}-reason) button[type=submit]");
    b.click_and_wait(&button).await;
}

/// On ticket `id`'s page, replies `text`.
async fn reply_on_ticket_page(b: &Browser, url: &str, id: i64, text: &str) {
    b.goto(&format!("{url}/hotline/tickets/{id}")).await;
    b.fill("#reply-text", text).await;
    b.click_and_wait("#reply-form button[value=reply]").await;
}

/// The world and desk on `db`, the admin's API client, and a browser `name`-<backend>; none
/// when no browser can be started.
async fn desk_and_browser(db: Db, name: &str) -> Option<(World, Desk, Client, Browser)> {
    let backend = db.backend().name();
    let w = world(db).await;
    let d = desk(&w).await;
    let admin = Client::login(&w.url, "admin").await;
    let b = Browser::start(&format!("{name}-{backend}")).await?;
    Some((w, d, admin, b))
}

/// The id of the one ticket from the caller with `phone`.
async fn only_ticket_from(admin: &Client, phone: &str) -> i64 {
    let path = format!("/api/v1/hotline/tickets?caller_phone={phone}");
    let (_, list) = admin.get(&path).await;
    assert_eq!(list["total"], 1, "{list}");
    list["items"][0]["id"].as_i64().unwrap()
}

async fn status_of(admin: &Client, id: i64) -> serde_json::Value {
    let (s, t) = admin.get(&format!("/api/v1/hotline/tickets/{id}")).await;
    assert_eq!(s, 200, "{t}");
    t
}

async fn journey_from_intake_to_second_reply(db: Db) {
    let Some((w, d, admin, mut b)) = desk_and_browser(db, "hotline-journey").await else {
        return;
    };
    let url = w.url.clone();

    // 1. The operator takes the call and saves it with Ctrl+Enter.
    login(&b, &url, "oper").await;
    assert_text_has(&b, "nav.side", "话务受理").await;
    b.goto(&format!("{url}/hotline/intake")).await;
    shot(&mut b, &url, "intake-empty").await;
    b.fill("#caller_phone", "13900001234").await;
    b.fill("#caller_name", "李四").await;
    b.select("#kind", "complaint").await;
    // Typing part of a name narrows the region list and picks the first match.
    b.fill("#region-filter", "A1区").await;
    let picked = run_script(&b, "return document.getElementById('region_code').value;").await;
    assert_eq!(picked, "690102");
    b.select("#region_code", "690102").await;
    b.fill("#address", "幸福小区3栋").await;
    b.fill("#title", "小区物业不清运垃圾").await;
    b.select("#category_id", &d.leaf_id.to_string()).await;
    // The category's extra question appears without a round trip.
    b.fill(&format!("#q_{}_estate", d.leaf_id), "幸福小区")
        .await;
    b.fill(
        "#content",
        "幸福小区垃圾已经三天没有清运，气味很大，物业电话无人接听。",
    )
    .await;
    // The live panels call the intelligence endpoints; one that is missing leaves its panel hidden.
    tokio::time::sleep(std::time::Duration::from_millis(900)).await;
    for (panel, probe) in [
        ("suggest", "/api/v1/hotline/suggest"),
        ("dups", "/api/v1/hotline/duplicates"),
    ] {
        let (s, _) = admin.post(probe, json!({"content": "垃圾"})).await;
        if s == 404 || s == 405 {
            let hidden = b
                .client
                .execute(
                    &format!("return document.getElementById('{panel}').hidden;"),
                    vec![],
                )
                .await
                .unwrap();
            assert_eq!(
                hidden,
                serde_json::Value::Bool(true),
                "{panel} hidden while {probe} answers {s}"
            );
        }
    }
    shot(&mut b, &url, "intake-filled").await;
    b.keys_and_wait("#content", "\u{E009}\u{E007}").await;
    shot(&mut b, &url, "intake-saved").await;
    let number = b.text("#saved-number").await;
    assert!(
        number.contains("12345-"),
        "new ticket number shown: {number}"
    );
    let id = only_ticket_from(&admin, "13900001234").await;
    let t = status_of(&admin, id).await;
    assert_eq!(t["status"], "pending_dispatch");
    assert_eq!(t["answers"]["estate"], "幸福小区");
    assert_eq!(t["category_id"], d.leaf_id);

    // The operator sees it in the caller's history (the no-script lookup).
    b.fill("#caller_phone", "13900001234").await;
    b.click_and_wait("button[name=op][value=lookup]").await;
    assert!(b.text("#history-body").await.contains(&number));
    shot(&mut b, &url, "intake-history").await;

    // 2. The dispatcher confirms the department on the dispatch page.
    login(&b, &url, "disp").await;
    b.goto(&format!("{url}/hotline/tickets/{id}")).await;
    assert_text_has(&b, "#dispatch-form", "确认派单").await;
    shot(&mut b, &url, "ticket-dispatcher").await;
    b.goto(&format!("{url}/hotline/dispatch")).await;
    assert!(b.text("table.tickets").await.contains(&number));
    // Confirming nothing ticked is refused and dispatches nothing.
    b.click_and_wait("#bulk-confirm").await;
    assert_text_has(&b, "#error-summary", "请先勾选").await;
    b.select(&format!("#dept-{id}"), &w.dept_x.to_string())
        .await;
    b.click(&format!("#sel-{id}")).await;
    shot(&mut b, &url, "dispatch-queue").await;
    b.click_and_wait("#bulk-confirm").await;
    // The result says how many went where, by name.
    assert_text_has(&b, ".notice", "已派单 1 件：").await;
    assert_eq!(status_of(&admin, id).await["status"], "dispatched");
    // Nobody has signed for it yet: the dispatcher may take it back, with a reason.
    b.goto(&format!("{url}/hotline/tickets/{id}")).await;
    assert_text_has(&b, "body", "撤回派单（承办单位尚未签收）").await;
    run_script(
        &b,
        "document.querySelector('details:has(#recall-reason)').open = true; window.confirm = () => true;",
    )
    .await;
    b.fill("#recall-reason", "派错单位，重新派单").await;
    b.click_and_wait("form:has(#recall-reason) button[type=submit]")
        .await;
    assert_eq!(status_of(&admin, id).await["status"], "pending_dispatch");
    b.goto(&format!("{url}/hotline/dispatch")).await;
    b.select(&format!("#dept-{id}"), &w.dept_x.to_string())
        .await;
    b.click(&format!("#sel-{id}")).await;
    b.click_and_wait("#bulk-confirm").await;
    assert_eq!(status_of(&admin, id).await["status"], "dispatched");
    assert_eq!(status_of(&admin, id).await["main_dept_id"], w.dept_x);

    // 3. The department acknowledges in its inbox and replies with a template.
    login(&b, &url, "han_x").await;
    b.goto(&format!("{url}/hotline/inbox")).await;
    assert_text_has(&b, "nav.tabs", "待签收 1").await;
    shot(&mut b, &url, "inbox-to-acknowledge").await;
    b.click_and_wait(&format!("#ack-{id}")).await;
    assert!(b.body_text().await.contains("已完成：签收"));
    assert_eq!(status_of(&admin, id).await["status"], "acknowledged");
    // Nothing left to acknowledge: the inbox opens on the first tab with work, 办理中.
    b.goto(&format!("{url}/hotline/inbox")).await;
    assert_text_has(&b, "nav.tabs [aria-current=page]", "办理中 1").await;
    assert!(b.text("table.tickets").await.contains(&number));
    shot(&mut b, &url, "inbox-in-progress").await;
    b.goto(&format!("{url}/hotline/tickets/{id}")).await;
    // Only the holding department's actions are offered.
    let actions = b.text("section[aria-labelledby=h-actions]").await;
    assert_has_all(&actions, &["答复", "退单"]);
    assert_has_none(&actions, &["派单", "回访"]);
    let tpl = run_script(
        &b,
        "return document.querySelector('#reply-template option[data-text]').value;",
    )
    .await;
    b.select("#reply-template", tpl.as_str().unwrap()).await;
    let filled = run_script(&b, "return document.getElementById('reply-text').value;").await;
    let filled = filled.as_str().unwrap().to_owned();
    assert!(
        filled.contains(&number) && filled.contains("A市住建局") && filled.contains("李四您好"),
        "placeholders filled, the caller addressed as recorded: {filled}"
    );
    // A reply that still holds the template's gap is refused beside the field.
    b.fill("#reply-text", &format!("{filled}经核查，……。"))
        .await;
    b.click_and_wait("#reply-form button[value=reply]").await;
    assert_eq!(status_of(&admin, id).await["status"], "acknowledged");
    assert!(
        b.body_text().await.contains("答复中还有模板待填写的“……”"),
        "{}",
        b.body_text().await
    );
    shot(&mut b, &url, "ticket-reply-unfilled").await;
    b.goto(&format!("{url}/hotline/tickets/{id}")).await;
    b.fill("#reply-text", &filled).await;
    shot(&mut b, &url, "ticket-reply").await;
    b.click_and_wait("#reply-form button[value=reply]").await;
    assert_eq!(status_of(&admin, id).await["status"], "replied");
    shot(&mut b, &url, "ticket-replied").await;

    // 4. The callback records 不满意.
    login(&b, &url, "oper").await;
    b.goto(&format!("{url}/hotline/callback")).await;
    assert!(b.body_text().await.contains(&number));
    b.click(&format!("#cb-{id}-unsatisfied")).await;
    b.fill(&format!("#cb-{id}-note"), "市民表示垃圾仍未清运")
        .await;
    shot(&mut b, &url, "callback").await;
    b.click_and_wait(&format!("#cb-{id} button[type=submit]"))
        .await;
    assert!(b.body_text().await.contains("已完成：回访"));
    let t = status_of(&admin, id).await;
    assert_eq!(t["satisfaction"], "unsatisfied");
    assert_eq!(t["status"], "closed");

    // 5. The supervisor reopens it from the 不满意 list.
    login(&b, &url, "sup").await;
    b.goto(&format!("{url}/hotline/supervision?tab=unsatisfied"))
        .await;
    assert!(b.text("table.tickets").await.contains(&number));
    // A reopen without a reason is refused beside the field and changes nothing.
    send_reopen(&b, id).await;
    assert_text_has(&b, &format!("#reopen-ticket-{id}-reason-error"), "重办理由").await;
    assert_eq!(status_of(&admin, id).await["status"], "closed");
    write_reopen_reason(&b, &url, id, "市民反映问题未解决，请重新核实处理").await;
    shot(&mut b, &url, "supervision-unsatisfied").await;
    send_reopen(&b, id).await;
    assert!(b.body_text().await.contains("已完成：重办"));
    let t = status_of(&admin, id).await;
    assert_eq!(t["status"], "dispatched");
    assert_eq!(t["reopen_count"], 1);
    b.goto(&format!("{url}/hotline/supervision?tab=reopened"))
        .await;
    assert!(b.text("table.tickets").await.contains(&number));
    shot(&mut b, &url, "supervision-reopened").await;

    // 6. The department replies again.
    login(&b, &url, "han_x").await;
    b.goto(&format!("{url}/hotline/inbox?tab=reopened")).await;
    assert!(b.text("table.tickets").await.contains(&number));
    b.click_and_wait(&format!("#ack-{id}")).await;
    reply_on_ticket_page(
        &b,
        &url,
        id,
        "经再次核实，已督促物业当日清运完毕，并增加清运频次。",
    )
    .await;
    let t = status_of(&admin, id).await;
    assert_eq!(t["status"], "replied");
    let timeline = b.text("ol.timeline").await;
    for step in ["登记", "派单", "签收", "答复", "回访", "重办"] {
        assert!(timeline.contains(step), "timeline lacks {step}: {timeline}");
    }
    shot(&mut b, &url, "ticket-second-reply").await;

    // Another department cannot open it.
    login(&b, &url, "han_y").await;
    b.goto(&format!("{url}/hotline/tickets/{id}")).await;
    assert!(b.body_text().await.contains("没有权限"));
    b.close().await;
    w.server.stop().await;
}

async fn knowledge_base_answer_and_refused_input(db: Db) {
    let Some((w, d, admin, mut b)) = desk_and_browser(db, "hotline-kb").await else {
        return;
    };
    let url = w.url.clone();
    login(&b, &url, "oper").await;

    // Refused input: no type, no title, a bad phone. Messages beside the fields, nothing written.
    b.goto(&format!("{url}/hotline/intake")).await;
    b.fill("#caller_phone", "12ab").await;
    b.fill("#content", "想问一下").await;
    b.click_and_wait("#save").await;
    assert_text_has(&b, "#kind-error", "请选择工单类型").await;
    assert_text_has(&b, "#caller_phone-error", "来电号码").await;
    assert_text_has(&b, "#error-summary", "有 3 处").await;
    b.select("#kind", "consult").await;
    b.click_and_wait("#save").await;
    assert_text_has(&b, "#caller_phone-error", "来电号码").await;
    assert_text_has(&b, "#title-error", "标题").await;
    assert_eq!(b.text("#content").await, "想问一下", "what was typed stays");
    shot(&mut b, &url, "intake-refused").await;
    // A required extra question left empty is refused too.
    b.fill("#caller_phone", "13900005678").await;
    b.fill("#title", "物业问题").await;
    b.select("#category_id", &d.leaf_id.to_string()).await;
    b.click_and_wait("#save").await;
    let q_err = format!("#q_{}_estate-error", d.leaf_id);
    assert_text_has(&b, &q_err, "小区名称").await;
    let (_, list) = admin.get("/api/v1/hotline/tickets").await;
    assert_eq!(list["total"], 0, "refused forms wrote nothing: {list}");

    // Answering at once from the knowledge base, chosen on the server-rendered form.
    b.goto(&format!("{url}/hotline/intake")).await;
    b.fill("#caller_phone", "13900005678").await;
    b.select("#kind", "consult").await;
    b.fill("#title", "异地就医备案").await;
    b.fill("#content", "父母在外地生活，想问异地就医备案怎么办理。")
        .await;
    b.select("#kb_article_id", &d.article_id.to_string()).await;
    shot(&mut b, &url, "intake-kb").await;
    b.click_and_wait("#answer-submit").await;
    assert_text_has(&b, ".saved", "已即时解答并办结").await;
    let number = b.text("#saved-number").await;
    shot(&mut b, &url, "intake-answered").await;
    let (_, list) = admin.get("/api/v1/hotline/tickets").await;
    assert_eq!(list["total"], 1);
    let t = &list["items"][0];
    assert_eq!(t["number"], number.as_str());
    assert_eq!(t["status"], "closed");
    assert_eq!(t["resolution"], "answered_now");
    assert_eq!(t["kb_article_id"], d.article_id);
    assert!(t["reply"].as_str().unwrap().contains("国家医保服务平台"));

    // The ticket page shows it, closed, with the answer in the timeline.
    b.click_and_wait("#saved-number").await;
    assert_text_has(&b, ".ticket-head", "已办结").await;
    assert_text_has(&b, "ol.timeline", "即时解答").await;
    assert!(b
        .body_text()
        .await
        .contains("引用知识条目：异地就医备案怎么办理"));
    shot(&mut b, &url, "ticket-answered").await;

    // Pages other roles use render for the admin, too (and at phone width stay usable).
    login(&b, &url, "admin").await;
    for (path, label) in [
        ("/hotline/dispatch", "admin-dispatch"),
        ("/hotline/inbox?tab=overdue", "admin-inbox-overdue"),
        ("/hotline/callback", "admin-callback"),
        ("/hotline/supervision?tab=extensions", "admin-supervision"),
    ] {
        b.goto(&format!("{url}{path}")).await;
        assert!(!b.body_text().await.contains("服务器错误"), "{path}");
        shot(&mut b, &url, label).await;
    }
    let _ = d.category_id;
    b.close().await;
    w.server.stop().await;
}

/// A form post as the page would send it, with the session's CSRF token.
async fn form(c: &Client, path: &str, fields: &[(&str, &str)]) -> (u16, String) {
    let mut f: Vec<(&str, String)> = fields.iter().map(|(k, v)| (*k, v.to_string())).collect();
    f.push(("_csrf", c.csrf.clone().unwrap()));
    let r = c
        .http
        .post(format!("{}{}", c.base, path))
        .form(&f)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn new_pending(admin: &Client, title: &str) -> i64 {
    let ticket = json!({"channel": "phone", "kind": "complaint", "caller_name": "王五", "caller_phone": "13700001111",
                        "title": title, "content": "夜间施工噪声扰民，影响休息", "accept": true, "region_code": "690102"});
    submitted_for_dispatch(admin, ticket).await
}

/// The admin takes `ticket` and submits it for dispatch; its id.
async fn submitted_for_dispatch(admin: &Client, ticket: serde_json::Value) -> i64 {
    let (s, t) = admin.post("/api/v1/hotline/tickets", ticket).await;
    assert_eq!(s, 201, "{t}");
    let id = t["id"].as_i64().unwrap();
    let submit = json!({"action": "submit_for_dispatch"});
    let (s, _) = admin
        .post(&format!("/api/v1/hotline/tickets/{id}/actions"), submit)
        .await;
    assert_eq!(s, 200);
    id
}

async fn dispatcher_corrects_splits_and_merges_on_the_ticket_page(db: Db) {
    let w = world(db).await;
    desk(&w).await;
    let admin = Client::login(&w.url, "admin").await;
    let disp = Client::login(&w.url, "disp").await;
    let a = new_pending(&admin, "工地夜间施工").await;
    let b = new_pending(&admin, "工地夜间施工噪声").await;
    let c = new_pending(&admin, "施工噪声与渣土").await;

    // The ticket page offers the dispatcher dispatch, split and merge, and no department's actions.
    let (s, html) = disp.get(&format!("/hotline/tickets/{a}")).await;
    assert_eq!(s, 200);
    let html = html.as_str().unwrap().to_owned();
    for want in ["确认派单", "拆分给多个单位", "合并重复工单"] {
        assert!(html.contains(want), "{want}");
    }
    assert!(!html.contains("提交答复") && !html.contains("签收"));

    // Merge b into a by its number; a bad number is refused beside the field.
    let (s, page) = form(
        &disp,
        &format!("/hotline/tickets/{a}/merge"),
        &[("child_numbers", "A市12345-19990101-000009")],
    )
    .await;
    assert_eq!(s, 422);
    assert!(page.contains("merge-numbers-error") && page.contains("找不到工单"));
    let number_b = status_of(&admin, b).await["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, _) = form(
        &disp,
        &format!("/hotline/tickets/{a}/merge"),
        &[("child_numbers", &number_b)],
    )
    .await;
    assert_eq!(s, 200);
    let tb = status_of(&admin, b).await;
    assert_eq!(tb["status"], "merged");
    assert_eq!(tb["parent_id"], a);

    // Dispatch with a co-handler: no main department is refused and writes nothing.
    let act_on_a = format!("/hotline/tickets/{a}/act");
    let (s, page) = form(
        &disp,
        &act_on_a,
        &[
            ("action", "dispatch"),
            ("co_dept_ids", &w.dept_y.to_string()),
        ],
    )
    .await;
    assert_eq!(s, 422);
    assert!(page.contains("dispatch-main-error") && page.contains("请选择主办单位"));
    assert_eq!(status_of(&admin, a).await["status"], "pending_dispatch");
    let (s, _) = form(
        &disp,
        &act_on_a,
        &[
            ("action", "dispatch"),
            ("main_dept_id", &w.dept_x.to_string()),
            ("co_dept_ids", &w.dept_y.to_string()),
            ("back", "/hotline/dispatch"),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let ta = status_of(&admin, a).await;
    assert_eq!(ta["status"], "dispatched");
    assert_eq!(ta["co_dept_ids"], json!([w.dept_y]));

    // The co-handler sees the caller masked and has nothing to do; the main department may reply.
    let hy = Client::login(&w.url, "han_y").await;
    let (s, html) = hy.get(&format!("/hotline/tickets/{a}")).await;
    assert_eq!(s, 200);
    let html = html.as_str().unwrap();
    assert!(
        html.contains("137****1111") && !html.contains("13700001111"),
        "masked for the co-handler"
    );
    assert!(html.contains("个人信息已脱敏") && html.contains("当前没有您可以办理的操作"));
    let hx = Client::login(&w.url, "han_x").await;
    let (_, html) = hx.get(&format!("/hotline/tickets/{a}")).await;
    assert!(html.as_str().unwrap().contains("13700001111"));

    // The department asks for an extension on the ticket page; a bad number of days is refused
    // beside the field; the supervisor approves it from the extensions list.
    let (s, _) = form(&hx, &act_on_a, &[("action", "acknowledge")]).await;
    assert_eq!(s, 200);
    let extension = |days| {
        [
            ("action", "request_extension"),
            ("days", days),
            ("reason", "需现场勘查"),
        ]
    };
    let (s, page) = form(&hx, &act_on_a, &extension("0")).await;
    assert_eq!(s, 422);
    assert!(page.contains("ext-days-error") && page.contains("延期天数"));
    let (s, _) = form(&hx, &act_on_a, &extension("3")).await;
    assert_eq!(s, 200);
    let due_before = status_of(&admin, a).await["reply_due"].as_i64().unwrap();
    let sup = Client::login(&w.url, "sup").await;
    let (s, html) = sup.get("/hotline/supervision?tab=extensions").await;
    assert_eq!(s, 200);
    assert!(html
        .as_str()
        .unwrap()
        .contains("申请延期 3 个工作日：需现场勘查"));
    let (s, _) = form(
        &sup,
        &act_on_a,
        &[
            ("action", "decide_extension"),
            ("approve", "1"),
            ("note", "同意"),
            ("back", "/hotline/supervision?tab=extensions"),
        ],
    )
    .await;
    assert_eq!(s, 200);
    let ta = status_of(&admin, a).await;
    assert!(ta["pending_extension"].is_null());
    assert!(
        ta["reply_due"].as_i64().unwrap() > due_before,
        "approved extension moves the deadline"
    );
    // Returning needs a reason; with one, the ticket goes back to the dispatch queue and the
    // department back to its inbox (it no longer sees the ticket).
    let (_, html) = hx.get(&format!("/hotline/tickets/{a}")).await;
    assert!(html
        .as_str()
        .unwrap()
        .contains(r#"name="back" value="/hotline/inbox""#));
    let (s, page) = form(&hx, &act_on_a, &[("action", "return"), ("reason", " ")]).await;
    assert_eq!(s, 422);
    assert!(page.contains("return-reason-error"));
    let (s, _) = form(
        &hx,
        &act_on_a,
        &[
            ("action", "return"),
            ("reason", "不属于本单位职责"),
            ("back", "/hotline/inbox"),
        ],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(status_of(&admin, a).await["status"], "pending_dispatch");

    // Split c between two departments; one part alone is refused.
    let (s, page) = form(
        &disp,
        &format!("/hotline/tickets/{c}/split"),
        &[("split_dept", &w.dept_x.to_string()), ("split_dept", "")],
    )
    .await;
    assert_eq!(s, 422, "{page}");
    assert!(page.contains("拆分至少需要两个承办单位"));
    assert_eq!(status_of(&admin, c).await["status"], "pending_dispatch");
    let (s, _) = form(
        &disp,
        &format!("/hotline/tickets/{c}/split"),
        &[
            ("split_dept", &w.dept_x.to_string()),
            ("split_note", "噪声"),
            ("split_dept", &w.dept_y.to_string()),
            ("split_note", "渣土"),
        ],
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(status_of(&admin, c).await["status"], "split");

    // A handler may not use the dispatch page, and a form without the CSRF token is refused.
    let (s, _) = hx.get("/hotline/dispatch").await;
    assert_eq!(s, 403);
    let r = disp
        .http
        .post(format!("{}/hotline/tickets/{c}/act", w.url))
        .form(&[("action", "accept")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    w.server.stop().await;
}

/// Issue 5's whole journey across both sides: a citizen's web request is accepted by an
/// operator, dispatched, answered, called back 不满意, reopened, answered again, and finally
/// tracked and rated by the citizen on the portal.
async fn citizen_journey_from_portal_to_rating(db: Db) {
    let backend = db.backend().name();
    let w = world(db).await;
    desk(&w).await;
    let admin = Client::login(&w.url, "admin").await;
    let Some(mut b) = Browser::start(&format!("citizen-journey-{backend}")).await else {
        return;
    };
    let url = w.url.clone();

    // 1. The citizen leaves a request on the portal, on a phone.
    b.set_size(390, 844).await;
    b.goto(&format!("{url}/portal/new")).await;
    b.select("#kind", "complaint").await;
    write_portal_request(
        &b,
        "东湖路路灯连续一周不亮",
        "东湖路幸福小区门口一段路灯连续一周晚上不亮，行人夜间出行不安全。",
        ("赵六", "13811112222"),
    )
    .await;
    shot(&mut b, &url, "journey-portal-new").await;
    b.click_and_wait("form button[type=submit]").await;
    assert_eq!(b.current_path().await, "/portal/submitted");
    let number = b.text("#ticket-number").await;
    let id = only_ticket_from(&admin, "13811112222").await;
    let t = status_of(&admin, id).await;
    assert_eq!(t["number"], number.as_str());
    assert_eq!(t["channel"], "web");
    assert_eq!(t["status"], "created");
    b.set_size(1366, 768).await;

    // 2. The operator finds it waiting 待受理 on the intake page, accepts it, and passes it on.
    login(&b, &url, "oper").await;
    b.goto(&format!("{url}/hotline/intake")).await;
    assert!(b.text("#waiting").await.contains(&number));
    shot(&mut b, &url, "journey-intake-waiting").await;
    b.click_and_wait(&format!("#accept-{id}")).await;
    assert_eq!(b.current_path().await, format!("/hotline/tickets/{id}"));
    assert_eq!(status_of(&admin, id).await["status"], "accepted");
    b.click_and_wait("form:has(input[name=action][value=submit_for_dispatch]) button")
        .await;
    assert_eq!(status_of(&admin, id).await["status"], "pending_dispatch");
    b.goto(&format!("{url}/hotline/intake")).await;
    assert!(
        !b.text("#waiting").await.contains(&number),
        "an accepted request still waits"
    );

    // 3. The dispatcher confirms the department.
    login(&b, &url, "disp").await;
    b.goto(&format!("{url}/hotline/dispatch")).await;
    assert!(b.text("table.tickets").await.contains(&number));
    b.select(&format!("#dept-{id}"), &w.dept_x.to_string())
        .await;
    b.click(&format!("#sel-{id}")).await;
    b.click_and_wait("#bulk-confirm").await;
    assert_eq!(status_of(&admin, id).await["status"], "dispatched");

    // 4. The department acknowledges and replies.
    login(&b, &url, "han_x").await;
    b.goto(&format!("{url}/hotline/inbox")).await;
    b.click_and_wait(&format!("#ack-{id}")).await;
    assert_eq!(status_of(&admin, id).await["status"], "acknowledged");
    reply_on_ticket_page(&b, &url, id, "已安排维修人员检修东湖路路灯。").await;
    assert_eq!(status_of(&admin, id).await["status"], "replied");

    // 5. The callback records 不满意.
    login(&b, &url, "oper").await;
    b.goto(&format!("{url}/hotline/callback")).await;
    b.click(&format!("#cb-{id}-unsatisfied")).await;
    b.fill(&format!("#cb-{id}-note"), "市民表示路灯仍不亮")
        .await;
    b.click_and_wait(&format!("#cb-{id} button[type=submit]"))
        .await;
    assert_eq!(status_of(&admin, id).await["satisfaction"], "unsatisfied");

    // 6. The supervisor reopens it.
    login(&b, &url, "sup").await;
    write_reopen_reason(&b, &url, id, "路灯仍未修复，请重新处理").await;
    send_reopen(&b, id).await;
    let t = status_of(&admin, id).await;
    assert_eq!(t["status"], "dispatched");
    assert_eq!(t["reopen_count"], 1);

    // 7. The department replies again.
    login(&b, &url, "han_x").await;
    b.goto(&format!("{url}/hotline/inbox?tab=reopened")).await;
    b.click_and_wait(&format!("#ack-{id}")).await;
    reply_on_ticket_page(
        &b,
        &url,
        id,
        "经再次核查，已更换损坏的供电线路，东湖路路灯已全部恢复照明。",
    )
    .await;
    assert_eq!(status_of(&admin, id).await["status"], "replied");
    shot(&mut b, &url, "journey-second-reply").await;

    // 8. The citizen (no staff session) tracks it by number and phone, and rates the reply.
    b.client.delete_all_cookies().await.unwrap();
    b.set_size(390, 844).await;
    track_on_portal(&b, &url, &number, "13811112222").await;
    assert_eq!(b.text("#tracked-status").await, "已答复待回访");
    assert_text_has(&b, "#reply-text", "已全部恢复照明").await;
    assert!(
        !b.body_text().await.contains("测试han_x"),
        "a staff name reached the citizen"
    );
    shot(&mut b, &url, "journey-portal-track").await;
    b.click("input[name=result][value=satisfied]").await;
    b.fill("#note", "第二次修好了").await;
    b.click_and_wait("form[action='/portal/rate'] button[type=submit]")
        .await;
    assert!(b.body_text().await.contains("感谢您的评价"));
    shot(&mut b, &url, "journey-portal-rated").await;
    let t = status_of(&admin, id).await;
    assert_eq!(t["satisfaction"], "satisfied");
    assert_eq!(t["status"], "closed");
    b.close().await;
    w.server.stop().await;
}

/// The dispatch queue as a browser without scripts gets it: each row's stored department
/// suggestion (preselected, with confidence and reason) and its likely duplicate.
async fn dispatch_queue_renders_suggestion_and_duplicate_without_script(db: Db) {
    let w = world(db).await;
    let d = desk(&w).await;
    let admin = Client::login(&w.url, "admin").await;
    let (s, r) = admin
        .post(
            "/api/v1/hotline/routing-rules",
            json!({"name": "物业服务归住建", "conditions": {"category_ids": [d.leaf_id]}, "main_dept_id": w.dept_x}),
        )
        .await;
    assert_eq!(s, 201, "{r}");
    let mut ids = Vec::new();
    for phone in ["13700002221", "13700002222"] {
        let ticket = json!({"channel": "phone", "kind": "complaint", "caller_phone": phone, "title": "幸福小区物业不清运垃圾",
                       "content": "幸福小区垃圾已经三天没有清运，气味很大，物业电话无人接听。", "accept": true,
                       "region_code": "690102", "category_id": d.leaf_id, "answers": {"estate": "幸福小区"}});
        ids.push(submitted_for_dispatch(&admin, ticket).await);
    }
    let first_number = status_of(&admin, ids[0]).await["number"]
        .as_str()
        .unwrap()
        .to_owned();
    let disp = Client::login(&w.url, "disp").await;
    let (s, html) = disp.get("/hotline/dispatch").await;
    assert_eq!(s, 200);
    let html = html.as_str().unwrap().to_owned();
    let row = |id: i64| {
        let start = html
            .find(&format!("id=\"suggest-{id}\""))
            .unwrap_or_else(|| panic!("no suggestion for {id}"));
        let end = html[start..].find("</select>").unwrap() + start;
        html[start..end].to_owned()
    };
    for id in &ids {
        let r = row(*id);
        assert_has_all(&r, &["A市住建局", "置信度"]);
        assert!(
            r.contains("物业服务归住建"),
            "the reason names the rule: {r}"
        );
        assert!(
            r.contains(&format!("<option value=\"{}\" selected>", w.dept_x)),
            "suggested department preselected: {r}"
        );
    }
    let dup = html
        .find(&format!("id=\"dup-{}\"", ids[1]))
        .map(|i| &html[i..i + 400])
        .unwrap_or_else(|| panic!("no duplicate hint for the second ticket"));
    assert!(
        dup.contains(&first_number) && dup.contains("可能重复"),
        "{dup}"
    );
    w.server.stop().await;
}
