//! 亮证 and 查证 of the QR text.

use super::domain::*;
use crate::service::*;
use crate::usage::{service::who, UsageKind};
use crate::verify::domain::{Check, Verification};
use kernel::error::{Error, Result};
use kernel::Actor;
use serde::Serialize;
use serde_json::Map;

/// How long a QR code stays valid.
pub const PRESENTATION_MINUTES: i64 = 5;

#[derive(Debug, Clone, Serialize)]
pub struct Presentation {
    pub text: String,
    pub expires_at: i64,
    /// The QR code of `text`, as SVG.
    pub svg: String,
}

impl LicensesService {
    /// The holder presents a license: the chosen fields, signed, valid a few minutes.
    pub async fn present(&self, actor: &Actor, id: i64, fields: &[String]) -> Result<Presentation> {
        let l = self.license(actor, id).await?;
        if l.holder_user_id != actor.user_id && !self.mine(actor).await?.iter().any(|m| m.id == id)
        {
            return Err(Error::forbidden("只有持证人可以亮证"));
        }
        let now = self.db.now();
        if let Some(why) = l.why_unusable(now) {
            return Err(Error::IllegalTransition {
                detail: format!("不能亮证：{why}"),
            });
        }
        let mut shown = Map::new();
        for k in fields {
            match l.fields.get(k) {
                Some(v) => {
                    shown.insert(k.clone(), v.clone());
                }
                None => {
                    return Err(Error::field(
                        "fields",
                        "unknown_field",
                        format!("“{k}”不是该证照的照面项"),
                    ))
                }
            }
        }
        let (key, sk) = self.current_signer(l.dept_id).await?;
        let exp = now + PRESENTATION_MINUTES * 60_000;
        let text = encode(
            &Payload {
                i: l.identifier.clone(),
                k: key.kid,
                t: l.type_name.clone(),
                n: l.holder_name.clone(),
                f: shown,
                exp,
            },
            &sk,
        );
        let svg = qrcode::QrCode::new(text.as_bytes())
            .map_err(|e| Error::internal(format!("QR: {e}")))?
            .render::<qrcode::render::svg::Color>()
            .min_dimensions(240, 240)
            .build();
        let purpose = format!("亮证：{}", fields.join("、"));
        self.log_usage(id, UsageKind::Present, &who(Some(actor)), &purpose)
            .await?;
        Ok(Presentation {
            text,
            expires_at: exp,
            svg,
        })
    }

    /// 查证 of a QR text: its own signature and expiry, then the license's full checks; the
    /// summary shows only what the holder chose.
    pub async fn verify_presentation(
        &self,
        actor: Option<&Actor>,
        text: &str,
    ) -> Result<Verification> {
        let (p, body, sig) =
            decode(text).map_err(|e| Error::field("text", "invalid_presentation", e))?;
        let key = self.key(&p.k).await?;
        let sig_ok = key.as_ref().is_some_and(|k| {
            verify_signature(&body, &sig, &hex::decode(&k.public_key).unwrap_or_default())
        });
        let now = self.db.now();
        let mut pres = vec![Check {
            name: "presentation".into(),
            ok: sig_ok,
            message: if sig_ok {
                "亮证码签名有效".into()
            } else {
                "亮证码签名无效或签名密钥未登记".into()
            },
        }];
        if p.exp < now {
            pres.push(Check {
                name: "presentation".into(),
                ok: false,
                message: "亮证码已过期，请持证人重新亮证".into(),
            });
        }
        let license = self.license_by_identifier(&p.i).await?;
        let same_dept = match (&license, &key) {
            (Some(l), Some(k)) => l.dept_id == k.dept_id,
            _ => false,
        };
        let mut v = match (&license, sig_ok && same_dept) {
            (Some(l), true) => {
                let vc = self
                    .stored_credential(l.id)
                    .await?
                    .ok_or_else(|| Error::internal("license without credential"))?;
                self.verify(actor, &vc).await?
            }
            _ => Verification {
                valid: false,
                message: String::new(),
                checks: vec![],
                summary: None,
            },
        };
        if license.is_none() {
            pres.push(Check {
                name: "presentation".into(),
                ok: false,
                message: "登记库中没有该证照".into(),
            });
        }
        pres.append(&mut v.checks);
        v.checks = pres;
        v.valid = v.checks.iter().all(|c| c.ok);
        let bad: Vec<&str> = v
            .checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.message.as_str())
            .collect();
        v.message = if v.valid {
            "证照真实有效".into()
        } else {
            format!("证照无效：{}", bad.join("；"))
        };
        if let Some(s) = &mut v.summary {
            s.fields = p.f.clone();
            s.holder_name = p.n.clone();
            s.holder_id_no = String::new();
        }
        Ok(v)
    }
}
