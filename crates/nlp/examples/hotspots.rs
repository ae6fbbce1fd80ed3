//! Hot issues from a CSV in the board's format (`id,user,title,time,detail,likes,dislikes`),
//! printed as the JSON array of the CLI contract.
//!
//! `cargo run --release -p nlp --example hotspots -- FILE [--top N]`
//! `cargo run --release -p nlp --example hotspots -- --generate 100000` times a synthetic run.

use nlp::hotspot::{hotspots, parse_china_time, HotspotOptions, Message};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut top = 20usize;
    let mut file = None;
    let mut generate = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--top" => {
                top = args.get(i + 1).ok_or("--top N")?.parse()?;
                i += 1;
            }
            "--generate" => {
                generate = Some(args.get(i + 1).ok_or("--generate N")?.parse::<usize>()?);
                i += 1;
            }
            "--json" => {}
            f => file = Some(f.to_string()),
        }
        i += 1;
    }
    let messages = match (generate, file) {
        (Some(n), _) => generated(n),
        (None, Some(f)) => read_csv(&f)?,
        (None, None) => return Err("用法：hotspots FILE [--top N] | --generate N".into()),
    };
    let opts = HotspotOptions {
        top,
        ..HotspotOptions::default()
    };
    let started = Instant::now();
    let hot = hotspots(&messages, &opts);
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "{} 条留言，{} 个热点，用时 {secs:.2} 秒",
        messages.len(),
        hot.len()
    );
    println!("{}", serde_json::to_string_pretty(&hot)?);
    Ok(())
}

fn read_csv(path: &str) -> Result<Vec<Message>, Box<dyn std::error::Error>> {
    let mut rd = csv::Reader::from_path(path)?;
    let h = rd.headers()?.clone();
    let col = |name: &str| {
        h.iter()
            .position(|x| x.trim_start_matches('\u{feff}') == name)
    };
    let (id, user, title, time, detail) = (
        col("id").ok_or("缺少 id 列")?,
        col("user"),
        col("title").ok_or("缺少 title 列")?,
        col("time").ok_or("缺少 time 列")?,
        col("detail"),
    );
    let likes = col("likes");
    let mut out = Vec::new();
    for rec in rd.records() {
        let rec = rec?;
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).unwrap_or("").trim().to_string();
        out.push(Message {
            id: get(Some(id)),
            text: format!("{}\n{}", get(Some(title)), get(detail)),
            at_ms: parse_china_time(&get(Some(time))).unwrap_or(0),
            user: Some(get(user)).filter(|u| !u.is_empty()),
            likes: get(likes).parse().unwrap_or(0),
        });
    }
    Ok(out)
}

const A: [&str; 32] = [
    "金", "银", "锦", "翠", "碧", "福", "康", "宁", "泰", "华", "盛", "嘉", "和", "瑞", "祥", "安",
    "云", "星", "月", "枫", "梅", "兰", "竹", "松", "桂", "荷", "湘", "麓", "岳", "芙", "蓉", "橘",
];
const B: [&str; 25] = [
    "山", "湖", "江", "城", "苑", "庭", "景", "园", "林", "溪", "泉", "桥", "港", "湾", "洲", "岭",
    "峰", "谷", "源", "台", "坊", "府", "阁", "轩", "居",
];
const KIND: [&str; 4] = ["小区", "花园", "家园", "公寓"];

/// Deterministic synthetic tickets: topics × places over a year, with rewordings.
fn generated(n: usize) -> Vec<Message> {
    let mut rng = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        rng = rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let topics = [
        (
            "油烟扰民",
            "楼下餐馆油烟直排，家里窗户都不敢开，请环保部门查处",
        ),
        ("噪音扰民", "工地夜间施工噪音太大，严重影响休息，请城管执法"),
        ("停车收费", "物业擅自提高停车费，没有经过业主大会同意"),
        ("路灯不亮", "道路路灯坏了很久没人修，晚上出行很不安全"),
        ("垃圾清运", "垃圾站垃圾堆积没有及时清运，臭气熏天蚊蝇滋生"),
        ("供水停水", "小区经常停水，水压不足，高层住户用不上水"),
        ("学位入学", "孩子入学划片不合理，配套学校学位不足"),
        (
            "拖欠工资",
            "公司拖欠工资三个月，多次讨要无果，请劳动监察介入",
        ),
        ("电梯故障", "电梯经常困人，维保单位敷衍了事，存在安全隐患"),
        ("违章搭建", "有住户在楼顶违章搭建，影响邻居采光和安全"),
    ];
    let fillers = [
        "请尽快处理",
        "希望有关部门重视",
        "多次反映未解决",
        "谢谢",
        "望回复",
        "十分气愤",
    ];
    let start = parse_china_time("2025-01-01 00:00:00").unwrap_or(0);
    (0..n)
        .map(|k| {
            let t = topics[(next() % topics.len() as u64) as usize];
            let p = next() as usize;
            let place = format!(
                "{}{}{}",
                A[p % A.len()],
                B[(p / 64) % B.len()],
                KIND[(p / 4096) % KIND.len()]
            );
            let r = next() as usize;
            let road = format!("{}{}路", B[r % B.len()], A[(r / 64) % A.len()]);
            let f = fillers[(next() % fillers.len() as u64) as usize];
            let at = start + (next() % (365 * 86_400_000)) as i64;
            Message {
                id: format!("T{k:06}"),
                text: format!("{place}{}\n{road}{place}附近，{}。{f}", t.0, t.1),
                at_ms: at,
                user: Some(format!("U{}", next() % (n as u64 / 2 + 1))),
                likes: (next() % 3) as i64,
            }
        })
        .collect()
}
