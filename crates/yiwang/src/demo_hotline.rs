//! The demo city's hotline: a small taxonomy of the project's own, knowledge-base articles,
//! reply templates, and tickets over the last weeks with daily and weekly rhythms, every
//! stage of the life cycle, and a few injected hot issues. Deterministic for a seed.

use anyhow::Result;
use hotline::domain::*;
use hotline::HotlineService;
use kernel::clock::Clock;
use kernel::{Actor, Db};
use org::OrgService;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// (一级, 二级, 三级) — the project's own small taxonomy.
const TAXONOMY: &[(&str, &str, &str)] = &[
    ("城乡建设", "物业管理", "物业服务"),
    ("城乡建设", "物业管理", "维修资金"),
    ("城乡建设", "市政设施", "道路破损"),
    ("城乡建设", "市政设施", "路灯照明"),
    ("城乡建设", "供水供气", "停水"),
    ("城乡建设", "供水供气", "燃气"),
    ("城乡建设", "住房保障", "公租房"),
    ("城乡建设", "建筑施工", "施工噪音"),
    ("环境保护", "大气污染", "油烟扰民"),
    ("环境保护", "噪声污染", "商业噪声"),
    ("环境保护", "水污染", "河道污染"),
    ("交通运输", "公共交通", "公交线路"),
    ("交通运输", "出租车", "出租车服务"),
    ("交通运输", "道路交通", "交通拥堵"),
    ("教育文体", "学前教育", "幼儿园收费"),
    ("教育文体", "义务教育", "入学划片"),
    ("劳动和社会保障", "工资待遇", "拖欠工资"),
    ("劳动和社会保障", "社会保险", "社保缴纳"),
    ("商贸旅游", "市场秩序", "价格投诉"),
    ("商贸旅游", "旅游服务", "景区管理"),
    ("卫生计生", "医疗服务", "医院服务"),
    ("卫生计生", "公共卫生", "病媒防治"),
];

/// Issue templates: (三级分类, kind, department short name, title, content). `{村}` is a
/// community and `{路}` a street name of the generated city.
const ISSUES: &[(&str, TicketKind, &str, &str, &str)] = &[
    ("物业服务", TicketKind::Complaint, "住建局", "{村}物业不作为", "{村}小区物业长期不打扫楼道，电梯经常停运，业主多次反映无人处理，希望主管部门督促整改。"),
    ("维修资金", TicketKind::Consult, "住建局", "维修资金如何申请使用", "我是{村}的业主，楼顶漏水需要维修，想咨询住宅专项维修资金的申请流程和需要的材料。"),
    ("道路破损", TicketKind::Help, "城管局", "{路}路面塌陷", "{路}靠近{村}路段出现坑洼和塌陷，晚上看不清，已有电动车摔倒，请尽快修复。"),
    ("路灯照明", TicketKind::Help, "城管局", "{路}路灯不亮", "{路}一段路灯连续多晚不亮，行人夜间出行不安全，请安排维修。"),
    ("停水", TicketKind::Help, "供水公司", "{村}停水", "{村}从昨天下午开始停水，没有任何通知，家里有老人小孩，生活很不方便，请问什么时候恢复供水？"),
    ("燃气", TicketKind::Complaint, "燃气公司", "燃气开户收费不合理", "在{村}新房开通燃气时被要求缴纳多项费用，请核实收费是否合规。"),
    ("公租房", TicketKind::Consult, "住建局", "公租房申请条件", "想咨询本市公租房的申请条件、收入标准和排队时间。"),
    ("施工噪音", TicketKind::Complaint, "城管局", "{村}旁工地夜间施工", "{村}旁边的工地每天晚上十一点以后还在施工，噪音很大，严重影响休息，请查处。"),
    ("油烟扰民", TicketKind::Complaint, "生态环境局", "{路}餐馆油烟扰民", "{路}临街餐馆没有安装油烟净化设备，油烟直接排向居民楼，窗户都不敢开。"),
    ("商业噪声", TicketKind::Complaint, "生态环境局", "{路}商铺音响噪音", "{路}几家商铺门口长时间用大音量音响招揽顾客，噪音扰民。"),
    ("河道污染", TicketKind::Report, "生态环境局", "{村}附近河道发黑发臭", "{村}附近的河道近期水体发黑、有异味，怀疑有企业偷排，请调查。"),
    ("公交线路", TicketKind::Suggestion, "交通运输局", "建议增设公交线路", "{村}居民多，到地铁站没有直达公交，建议增设一条社区接驳线路。"),
    ("出租车服务", TicketKind::Complaint, "交通运输局", "出租车拒载绕路", "在{路}打车，司机拒载后又绕路多收费，已记下车牌，请处理。"),
    ("交通拥堵", TicketKind::Suggestion, "交通运输局", "{路}早高峰拥堵", "{路}早高峰拥堵严重，红绿灯配时不合理，建议优化信号灯。"),
    ("幼儿园收费", TicketKind::Complaint, "教育局", "幼儿园乱收费", "{村}附近一所民办幼儿园以各种名义额外收费，请教育部门核查。"),
    ("入学划片", TicketKind::Consult, "教育局", "小学入学划片咨询", "户籍在{村}，想了解今年小学的划片范围和报名时间。"),
    ("拖欠工资", TicketKind::Help, "人社局", "工地拖欠农民工工资", "我在{路}一处工地干活，老板已拖欠三个月工资，多次讨要无果，请帮忙维权。"),
    ("社保缴纳", TicketKind::Consult, "人社局", "灵活就业社保怎么缴", "想咨询灵活就业人员如何参加职工养老保险，缴费基数怎么选。"),
    ("价格投诉", TicketKind::Complaint, "市场监管局", "超市价格标签与结算不符", "{路}一家超市货架标价与结账价格不一致，多收钱，请查处。"),
    ("景区管理", TicketKind::Suggestion, "文旅局", "景区停车难", "节假日去景区停车位严重不足，建议增加停车场和接驳车。"),
    ("医院服务", TicketKind::Praise, "卫健委", "表扬医护人员", "家人在市人民医院住院期间，医护人员认真负责，特此表扬。"),
    ("病媒防治", TicketKind::Help, "卫健委", "{村}老鼠蟑螂多", "{村}垃圾站周边老鼠蟑螂很多，希望安排消杀。"),
];

const KB: &[(&str, &str)] = &[
    ("住宅专项维修资金怎么申请使用？", "由业主委员会或物业服务企业提出使用方案，经专有部分占建筑物总面积三分之二以上且占总人数三分之二以上业主参与表决、并经参与表决业主双过半同意后，向住建部门申请划转。所需材料：使用方案、业主表决结果、维修预算等。"),
    ("公租房的申请条件是什么？", "本市户籍或持居住证满一年，家庭人均收入和住房面积低于当年公布标准，可向户籍或居住地街道提出申请，经审核、公示后轮候配租。"),
    ("灵活就业人员如何缴纳职工养老保险？", "持身份证到社保经办窗口或通过政务服务网办理参保登记，缴费基数可在全省平均工资的 60% 至 300% 之间自选，按月或按年缴纳。"),
    ("小学入学划片在哪里查？", "每年 6 月教育局在官网和政务服务网公布各学校招生划片范围，也可拨打 12345 查询，报名一般在 7 月上旬进行。"),
    ("停水了怎么查询恢复时间？", "计划停水会提前 24 小时在小区公告；突发停水可拨打供水公司服务热线或 12345，坐席可查询抢修进度和预计恢复时间。"),
];

/// Fills the demo city's hotline. The database clock is moved back in time while tickets are
/// generated, then restored.
pub async fn populate(
    db: &Db,
    cfg: &kernel::config::Config,
    seed: u64,
    regions: &[(String, String)],
) -> Result<()> {
    let mut db = db.clone();
    let real_now = kernel::clock::Clock::system().now();
    let clock = Clock::manual(real_now - 45 * 86_400_000);
    db.clock = clock.clone();
    let svc = HotlineService::new(db.clone(), cfg.city.name.clone());
    let org = OrgService::new(db.clone(), cfg.auth.clone());
    let cli = Actor::cli();
    let err = crate::cli_error;
    let rows: Vec<(String, String, String)> = TAXONOMY
        .iter()
        .map(|(a, b, c)| ((*a).into(), (*b).into(), (*c).into()))
        .collect();
    svc.import_taxonomy(&cli, &rows).await.map_err(err)?;
    let cats = svc.categories().await.map_err(err)?;
    let leaf = |name: &str| {
        cats.iter()
            .find(|c| c.level == 3 && c.name == name)
            .map(|c| c.id)
    };
    if let Some(id) = leaf("停水") {
        svc.set_questions(
            &cli,
            id,
            vec![
                Question {
                    code: "estate".into(),
                    label: "小区名称".into(),
                    kind: QuestionKind::Text,
                    options: vec![],
                    required: true,
                },
                Question {
                    code: "scope".into(),
                    label: "停水范围".into(),
                    kind: QuestionKind::Single,
                    options: vec![
                        "单户".into(),
                        "单栋".into(),
                        "整个小区".into(),
                        "片区".into(),
                    ],
                    required: true,
                },
                Question {
                    code: "since".into(),
                    label: "开始日期".into(),
                    kind: QuestionKind::Date,
                    options: vec![],
                    required: false,
                },
            ],
        )
        .await
        .map_err(err)?;
    }
    svc.create_template(&cli, NewReplyTemplate { category_id: None, status: Some("replied".into()), title: "通用答复".into(), body: "{市民}您好！您反映的“{标题}”（工单 {编号}）已收悉。经{单位}核查，……。感谢您对我们工作的支持！{日期}".into() })
        .await
        .map_err(err)?;
    svc.create_template(&cli, NewReplyTemplate { category_id: None, status: Some("replied".into()), title: "不属实答复".into(), body: "{市民}您好！关于您反映的“{标题}”，{单位}于{日期}派员现场核查，情况如下：……。如有疑问请再次来电。".into() })
        .await
        .map_err(err)?;
    let user = |name: &'static str| {
        let org = org.clone();
        async move {
            let u = org
                .user_by_username(name)
                .await?
                .ok_or_else(|| kernel::Error::internal(format!("demo user {name} missing")))?;
            org.actor_of_user(u.id).await
        }
    };
    let operator = user("operator").await.map_err(err)?;
    let dispatcher = user("dispatcher").await.map_err(err)?;
    let supervisor = user("supervisor").await.map_err(err)?;
    for (q, a) in KB {
        let art = svc
            .save_article(
                &operator,
                None,
                ArticleInput {
                    question: (*q).into(),
                    answer: (*a).into(),
                    category_id: None,
                    dept_id: None,
                    valid_from: None,
                    valid_until: None,
                },
            )
            .await
            .map_err(err)?;
        svc.article_action(&supervisor, art.id, ArticleAction::Review)
            .await
            .map_err(err)?;
        svc.article_action(&supervisor, art.id, ArticleAction::Publish)
            .await
            .map_err(err)?;
    }
    // Department handlers act as the system (an admin-like actor) in the generated history.
    let handler = Actor {
        display_name: "承办单位".into(),
        ..Actor::cli()
    };
    let communities: Vec<&(String, String)> = regions
        .iter()
        .filter(|(c, _)| c.len() == 12 && !c.ends_with("000"))
        .collect();
    let streets: Vec<&str> = [
        "人民路",
        "解放路",
        "建设路",
        "新华路",
        "中山路",
        "东风路",
        "和平路",
        "五一路",
        "湘江路",
        "芙蓉路",
    ]
    .to_vec();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x12345);
    let mut dept_cache = std::collections::HashMap::new();
    let start = real_now - 42 * 86_400_000;
    let mut made = 0usize;
    for day in 0..42i64 {
        let date = kernel::clock::to_china(start + day * 86_400_000).date_naive();
        let weekend = matches!(
            chrono::Datelike::weekday(&date),
            chrono::Weekday::Sat | chrono::Weekday::Sun
        );
        let mut n = if weekend {
            rng.gen_range(6..10)
        } else {
            rng.gen_range(14..22)
        };
        // A burst: water cut in one community, 3–5 days ago.
        let burst = (37..=39).contains(&day);
        if burst {
            n += 12;
        }
        for k in 0..n {
            // Calls cluster in office hours with a lunch dip.
            let hour = *[
                8, 9, 9, 10, 10, 10, 11, 11, 14, 14, 15, 15, 16, 16, 17, 19, 20,
            ]
            .choose(&mut rng)
            .unwrap();
            let at = kernel::clock::china()
                .from_local_datetime(
                    &date
                        .and_hms_opt(hour, rng.gen_range(0..60), rng.gen_range(0..60))
                        .unwrap(),
                )
                .single()
                .unwrap()
                .timestamp_millis();
            clock.set(at);
            let (leaf_name, kind, dept, title, content) = if burst && k < 12 {
                ISSUES[4]
            } else {
                *ISSUES.choose(&mut rng).unwrap()
            };
            let (vcode, vname) = if burst && k < 12 {
                communities[3]
            } else {
                communities.choose(&mut rng).unwrap()
            };
            let road = streets.choose(&mut rng).unwrap();
            let fill = |s: &str| s.replace("{村}", vname).replace("{路}", road);
            let cat = leaf(leaf_name);
            let mut answers = serde_json::Map::new();
            if leaf_name == "停水" {
                answers.insert("estate".into(), vname.clone().into());
                answers.insert("scope".into(), "整个小区".into());
            }
            let phone = format!(
                "13{}{:08}",
                rng.gen_range(0..10),
                rng.gen_range(0..100_000_000u32)
            );
            let input = NewTicket {
                channel: *[
                    Channel::Phone,
                    Channel::Phone,
                    Channel::Phone,
                    Channel::Web,
                    Channel::Wechat,
                    Channel::App,
                ]
                .choose(&mut rng)
                .unwrap(),
                kind,
                urgency: if rng.gen_bool(0.05) {
                    Urgency::Urgent
                } else {
                    Urgency::Normal
                },
                caller_name: Some(format!(
                    "{}{}",
                    ["王", "李", "张", "刘", "陈", "杨", "赵", "黄"]
                        .choose(&mut rng)
                        .unwrap(),
                    if rng.gen_bool(0.5) {
                        "先生"
                    } else {
                        "女士"
                    }
                )),
                caller_phone: Some(phone),
                wants_reply: !rng.gen_bool(0.1),
                anonymous: false,
                address: Some(format!("{}{}", fill("{路}"), rng.gen_range(1..300))),
                region_code: Some(vcode.clone()),
                lng: None,
                lat: None,
                title: fill(title),
                content: fill(content),
                category_id: cat,
                answers,
                accept: true,
            };
            let t = svc.create(&operator, input).await.map_err(err)?.ticket;
            made += 1;
            let age_days = 42 - day;
            // Nothing happens after the moment the demo is made: a step that would pass it
            // leaves the ticket where it stands.
            let step = |ms: i64| {
                clock.advance(ms);
                clock.now() <= real_now
            };
            // Consultations with a knowledge-base answer are answered at once.
            if kind == TicketKind::Consult && rng.gen_bool(0.7) {
                if !step(6 * 60_000) {
                    continue;
                }
                svc.act(
                    &operator,
                    t.id,
                    Action::AnswerNow {
                        answer: "已按知识库口径解答。".into(),
                        kb_article_id: None,
                    },
                )
                .await
                .map_err(err)?;
                continue;
            }
            if !step(10 * 60_000) {
                continue;
            }
            svc.act(&operator, t.id, Action::SubmitForDispatch)
                .await
                .map_err(err)?;
            if age_days <= 1 && rng.gen_bool(0.5) {
                continue; // still waiting in the dispatch queue
            }
            let dept_id = match dept_cache.get(dept) {
                Some(d) => *d,
                None => {
                    let d = org
                        .departments(
                            &cli,
                            &org::service::DepartmentQuery {
                                q: Some(dept.to_string()),
                                ..Default::default()
                            },
                            &kernel::page::PageQuery {
                                page: None,
                                per_page: None,
                            },
                        )
                        .await
                        .map_err(err)?
                        .items
                        .into_iter()
                        .find(|d| d.short_name == dept)
                        .map(|d| d.id)
                        .ok_or_else(|| anyhow::anyhow!("demo department {dept} missing"))?;
                    dept_cache.insert(dept, d);
                    d
                }
            };
            if !step(rng.gen_range(5..40) * 60_000) {
                continue;
            }
            svc.act(
                &dispatcher,
                t.id,
                Action::Dispatch {
                    main_dept_id: dept_id,
                    co_dept_ids: vec![],
                },
            )
            .await
            .map_err(err)?;
            if age_days <= 1 {
                continue;
            }
            if !step(rng.gen_range(10..150) * 60_000) {
                continue;
            }
            svc.act(&handler, t.id, Action::Acknowledge)
                .await
                .map_err(err)?;
            if age_days <= 4 && rng.gen_bool(0.6) {
                continue; // in the department's hands; some will turn yellow or red
            }
            if !step(rng.gen_range(1..4) * 86_400_000 + rng.gen_range(0..480) * 60_000) {
                continue;
            }
            svc.act(&handler, t.id, Action::Reply { text: format!("您好，您反映的“{}”已收悉。经现场核查，已责成相关责任单位限期处理，目前问题已得到解决。", t.title) }).await.map_err(err)?;
            let replied = svc.get(&cli, t.id).await.map_err(err)?.ticket;
            if replied.status != Status::Replied || age_days <= 2 {
                continue;
            }
            if !step(rng.gen_range(2..20) * 3_600_000) {
                continue;
            }
            let r: f64 = rng.gen();
            let result = if r < 0.62 {
                CallbackResult::Satisfied
            } else if r < 0.82 {
                CallbackResult::BasicallySatisfied
            } else if r < 0.92 {
                CallbackResult::Unsatisfied
            } else {
                CallbackResult::Unreached
            };
            let reopen = result == CallbackResult::Unsatisfied && rng.gen_bool(0.6);
            svc.act(
                &operator,
                t.id,
                Action::Callback {
                    result,
                    note: String::new(),
                    reopen,
                },
            )
            .await
            .map_err(err)?;
            if reopen && age_days > 8 {
                if !step(3_600_000) {
                    continue;
                }
                svc.act(&handler, t.id, Action::Acknowledge)
                    .await
                    .map_err(err)?;
                if !step(2 * 86_400_000) {
                    continue;
                }
                svc.act(
                    &handler,
                    t.id,
                    Action::Reply {
                        text: "重办答复：已再次现场督促整改，问题已解决。".into(),
                    },
                )
                .await
                .map_err(err)?;
                if !step(86_400_000) {
                    continue;
                }
                svc.act(
                    &operator,
                    t.id,
                    Action::Callback {
                        result: CallbackResult::Satisfied,
                        note: String::new(),
                        reopen: false,
                    },
                )
                .await
                .map_err(err)?;
            }
        }
    }
    clock.set(real_now);
    svc.sweep_cards().await.map_err(err)?;
    tracing::info!(tickets = made, "demo hotline generated");
    intel(&svc, &org, &cats).await
}

/// The first classification model, trained from the generated tickets, and a few routing rules
/// so the demo shows dispatch suggestions.
async fn intel(svc: &HotlineService, org: &OrgService, cats: &[Category]) -> Result<()> {
    use hotline::intel::routing::{AnswerCondition, AnswerOp, Conditions, RuleInput};
    let cli = Actor::cli();
    let err = crate::cli_error;
    let trained = svc.train_model(&cli, false).await.map_err(err)?;
    tracing::info!(
        version = trained.model.version,
        activated = trained.activated,
        "demo classification model trained"
    );
    let mut depts = std::collections::HashMap::new();
    for short in ["供水公司", "燃气公司", "住建局", "城管局"] {
        let d = org
            .departments(
                &cli,
                &org::service::DepartmentQuery {
                    q: Some(short.to_string()),
                    ..Default::default()
                },
                &kernel::page::PageQuery {
                    page: None,
                    per_page: None,
                },
            )
            .await
            .map_err(err)?
            .items
            .into_iter()
            .find(|d| d.short_name == short)
            .ok_or_else(|| anyhow::anyhow!("demo department {short} missing"))?;
        depts.insert(short, d.id);
    }
    let cat = |name: &str| {
        cats.iter()
            .find(|c| c.name == name)
            .map(|c| c.id)
            .ok_or_else(|| anyhow::anyhow!("demo category {name} missing"))
    };
    let rule = |name: &str, main: &str, co: &[&str], conditions: Conditions| RuleInput {
        name: name.into(),
        enabled: true,
        conditions,
        main_dept_id: depts[main],
        co_dept_ids: co.iter().map(|c| depts[c]).collect(),
        valid_from: None,
        valid_until: None,
    };
    let rules = [
        rule(
            "片区停水：供水公司主办，住建局协办",
            "供水公司",
            &["住建局"],
            Conditions {
                category_ids: vec![cat("停水")?],
                answers: vec![AnswerCondition {
                    code: "scope".into(),
                    op: AnswerOp::OneOf,
                    values: vec!["整个小区".into(), "片区".into()],
                }],
                ..Conditions::default()
            },
        ),
        rule(
            "供水归供水公司",
            "供水公司",
            &[],
            Conditions {
                category_ids: vec![cat("停水")?],
                ..Conditions::default()
            },
        ),
        rule(
            "燃气归燃气公司，住建局协办",
            "燃气公司",
            &["住建局"],
            Conditions {
                category_ids: vec![cat("燃气")?],
                ..Conditions::default()
            },
        ),
        rule(
            "夜间施工噪音归城管",
            "城管局",
            &[],
            Conditions {
                category_ids: vec![cat("施工噪音")?],
                time_from: Some("22:00".into()),
                time_to: Some("06:00".into()),
                ..Conditions::default()
            },
        ),
        rule(
            "老城网格市政设施归城管",
            "城管局",
            &[],
            Conditions {
                category_ids: vec![cat("市政设施")?],
                area: Some(vec![
                    [112.93, 28.18],
                    [113.00, 28.18],
                    [113.00, 28.23],
                    [112.93, 28.23],
                ]),
                ..Conditions::default()
            },
        ),
    ];
    for r in rules {
        svc.create_routing_rule(&cli, r).await.map_err(err)?;
    }
    Ok(())
}

use chrono::TimeZone;
