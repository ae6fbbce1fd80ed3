//! The demo's 统一身份认证: three of the bureau's other systems registered as OpenID Connect
//! clients, so that the 统一门户 (`/apps`) has something in it — 协同办公 and 12345 知识库 for
//! every member of staff, 数据共享平台 for the bureau, 公安局 and 民政局 only. Their secrets are
//! printed once, as an administrator would hand them over.

use crate::DetailOrInternal;
use anyhow::{anyhow, Result};
use kernel::config::Config;
use kernel::{Actor, Db};
use org::OrgService;
use sso::domain::ClientInput;
use sso::SsoService;

fn err(e: kernel::Error) -> anyhow::Error {
    anyhow!(e.detail_or_internal())
}

/// (name, icon, colour, host, department names allowed — none for all staff).
const CLIENTS: [(&str, &str, &str, &str, &[&str]); 3] = [
    ("协同办公", "协", "#1f5fa8", "oa.example.gov.cn", &[]),
    (
        "数据共享平台",
        "数",
        "#1d7a5a",
        "data.example.gov.cn",
        &["A市政务服务和数据管理局", "A市公安局", "A市民政局"],
    ),
    ("12345 知识库", "知", "#b5651d", "kb.example.gov.cn", &[]),
];

pub async fn populate(db: &Db, cfg: &Config) -> Result<()> {
    let org = OrgService::new(db.clone(), cfg.auth.clone());
    let svc = SsoService::from_config(db.clone(), cfg);
    let cli = Actor::cli();
    for (name, icon, color, host, depts) in CLIENTS {
        let mut dept_ids = Vec::new();
        for d in depts {
            let found = org.department_by_name(d).await.map_err(err)?;
            dept_ids.push(
                found
                    .ok_or_else(|| anyhow!("demo department {d} missing"))?
                    .id,
            );
        }
        let input = ClientInput {
            name: name.into(),
            icon_text: Some(icon.into()),
            icon_color: Some(color.into()),
            launch_url: format!("https://{host}/"),
            redirect_uris: vec![format!("https://{host}/oidc/callback")],
            post_logout_redirect_uris: vec![format!("https://{host}/")],
            scopes: Some(
                ["openid", "profile", "department", "roles", "offline_access"]
                    .map(String::from)
                    .to_vec(),
            ),
            dept_ids,
            public_client: false,
            enabled: true,
        };
        let (c, secret) = svc.create_client(&cli, input).await.map_err(err)?;
        println!(
            "sso client: {} client_id={} client_secret={}",
            c.name,
            c.client_id,
            secret.unwrap_or_default()
        );
    }
    Ok(())
}
