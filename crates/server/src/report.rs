//! The agency credit report for a bank (信易贷): the agency's consent recorded, the content
//! signed, and a PDF of it laid out by `crate::pdf`.

use jiazheng_store::credit::reports::ReleasedReport;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api::workers::today;
use crate::pdf::{Block, Cell, Font, Table};
use crate::{AppError, AppState};

/// Long hex strings broken into groups so that they wrap on the page.
fn grouped(hex: &str) -> String {
    hex.as_bytes().chunks(16).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ReportRequest {
    /// The bank the report is released to, picked from `GET /api/v1/banks`; only its accounts
    /// (besides the agency and regulators over it) read the released report.
    pub bank_id: Option<i64>,
    pub purpose: String,
    /// The agency consents to the release (must be true).
    pub consent: bool,
}

/// The report's content: what is signed, and what the PDF shows.
async fn content(state: &AppState, agency_id: i64, bank: &str, purpose: &str) -> Result<Value, AppError> {
    let store = &state.store;
    let agency = store.agency(agency_id).await?;
    let grade = crate::api::credit::agency_grade_of(state, agency_id).await?;
    let credit = store.agency_credit(agency_id).await?;
    let workforce = store.agency_workforce(agency_id).await?;
    let list_status = credit.listings.first().map_or("未列入 Not listed".to_string(), |l| {
        let list = jiazheng_core::credit::casework::CreditList::label_of(&l.list, false);
        format!("{list} · {} · {}", l.reason, l.document)
    });
    let actions: Vec<Value> = credit
        .actions
        .iter()
        .map(|e| {
            let p: Value = serde_json::from_str(&e.payload).unwrap_or_default();
            let kind = jiazheng_core::credit::EntryKind::label_of(&e.kind, false);
            json!({ "decided_on": p["decided_on"], "kind": kind, "authority": p["authority"],
                "document": p["document"], "reason": p["reason"] })
        })
        .collect();
    let lines: Vec<Value> = grade
        .contributions
        .iter()
        .map(|c| {
            let entries = c.entries.iter().map(|e| format!("#{e}")).collect::<Vec<_>>().join(" ");
            json!({ "reason": format!("{} {}", c.reason_zh, c.reason_en), "points": format!("{:+.1}", c.points),
                "entries": entries })
        })
        .collect();
    Ok(json!({
        "platform": format!("{} {}", crate::i18n::Lang::Zh.t("app.name"), crate::i18n::Lang::En.t("app.name")),
        "agency": { "name": agency.name, "uscc": agency.uscc, "legal_representative": agency.legal_representative,
            "address": format!("{} {} {}", agency.district_name, agency.street_name, agency.address) },
        "bank": bank,
        "purpose": purpose,
        "generated_at": today().to_string(),
        "grade": { "letter": grade.letter.to_string(), "score": format!("{:.1}", grade.score), "lines": lines },
        "list_status": list_status,
        "confirmed_services": credit.confirmed_services.to_string(),
        "upheld_complaints": credit.upheld_complaints.to_string(),
        "complaint_rate": credit.complaint_rate.map_or("—".to_string(), |r| format!("{r}%")),
        "false_entries": credit.false_entries.to_string(),
        "employees": workforce.employees.to_string(),
        "actions": actions,
    }))
}

/// Records the agency's consent, signs the content and lays out the PDF.
pub async fn release(
    state: &AppState,
    agency_id: i64,
    account_id: i64,
    consented_by: &str,
    request: &ReportRequest,
) -> Result<(ReleasedReport, Vec<u8>), AppError> {
    let mut errors = jiazheng_core::FieldErrors::default();
    let bank = match request.bank_id {
        Some(id) => state.store.bank(id).await.ok(),
        None => None,
    };
    if bank.is_none() {
        errors.0.push(
            jiazheng_core::field::Invalid::new("required", "请选择接收报告的银行", "choose the bank to release to")
                .at("bank_id"),
        );
    }
    let purpose = errors.take("purpose", jiazheng_core::field::required_text(&request.purpose, 200));
    if !request.consent {
        errors.0.push(
            jiazheng_core::field::Invalid::new(
                "consent",
                "须企业授权后方可导出",
                "the agency must consent to the release",
            )
            .at("consent"),
        );
    }
    let (Some(bank), Some(purpose), true) = (bank, purpose, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let font = Font::cjk().map_err(|e| AppError::Internal(e.to_string()))?;
    let content = content(state, agency_id, &bank.name, &purpose).await?;
    let released = state.store.release_credit_report(agency_id, &bank, &purpose, account_id, &content).await?;
    let shown = Shown {
        content,
        report_id: released.id.to_string(),
        consented_by: consented_by.to_string(),
        key_id: released.key_id.to_string(),
        digest: grouped(&hex::encode(&released.digest)),
        signature: grouped(&hex::encode(&released.signature)),
        verify_url: format!("/api/v1/credit/reports/{}", released.id),
    };
    // Layout is CPU work: keep it off the async workers.
    let pdf = tokio::task::spawn_blocking(move || {
        let footer = |page: usize, pages: usize| {
            format!(
                "{} · 报告编号 Report No. {} · 第 {page}/{pages} 页",
                text(&shown.content["platform"]),
                shown.report_id
            )
        };
        crate::pdf::render(font, "家政企业信用报告 Agency credit report", &shown.blocks(), footer)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((released, pdf))
}

/// The signed content and how to check it, as the PDF shows them.
struct Shown {
    content: Value,
    report_id: String,
    consented_by: String,
    key_id: String,
    digest: String,
    signature: String,
    verify_url: String,
}

/// A JSON value as the page shows it: strings bare, absent values as a dash.
pub fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => "—".to_string(),
        other => other.to_string(),
    }
}

fn pairs(rows: &[(&str, String)]) -> Table {
    Table {
        columns: vec![1.0, 2.0],
        header: None,
        rows: rows.iter().map(|(label, value)| vec![Cell::from(*label), Cell::from(value.as_str())]).collect(),
        size: 10.0,
    }
}

/// Who the report is about and for, as labelled rows (the PDF and the bank's page alike).
pub fn agency_rows(d: &Value) -> Vec<(&'static str, String)> {
    vec![
        ("企业名称 Agency", text(&d["agency"]["name"])),
        ("统一社会信用代码 USCC", text(&d["agency"]["uscc"])),
        ("法定代表人 Legal representative", text(&d["agency"]["legal_representative"])),
        ("地址 Address", text(&d["agency"]["address"])),
        ("提供给 Released to", text(&d["bank"])),
        ("用途 Purpose", text(&d["purpose"])),
        ("生成时间 Generated", text(&d["generated_at"])),
    ]
}

/// The agency's standing: lists, services, complaints, false entries and workers.
pub fn standing_rows(d: &Value) -> Vec<(&'static str, String)> {
    vec![
        ("红黑名单 List status", text(&d["list_status"])),
        ("已确认服务 Confirmed services", text(&d["confirmed_services"])),
        ("成立的投诉 Upheld complaints", text(&d["upheld_complaints"])),
        ("投诉成立率 Complaint rate", text(&d["complaint_rate"])),
        ("虚假填报 False entries", text(&d["false_entries"])),
        ("在职服务员 Employed workers", text(&d["employees"])),
    ]
}

/// The grade's lines: reason, points, and the records behind them.
pub fn grade_rows(d: &Value) -> Vec<[String; 3]> {
    let lines = d["grade"]["lines"].as_array().cloned().unwrap_or_default();
    lines.iter().map(|l| [text(&l["reason"]), text(&l["points"]), text(&l["entries"])]).collect()
}

/// Rewards and penalties: date, kind, authority, document, reason.
pub fn action_rows(d: &Value) -> Vec<[String; 5]> {
    let actions = d["actions"].as_array().cloned().unwrap_or_default();
    actions.iter().map(|a| ["decided_on", "kind", "authority", "document", "reason"].map(|key| text(&a[key]))).collect()
}

impl Shown {
    fn blocks(&self) -> Vec<Block> {
        let d = &self.content;
        let mut blocks = vec![
            Block::Title { text: "家政企业信用报告".into(), size: 16.0 },
            Block::Title { text: "Agency credit report · 信易贷".into(), size: 11.0 },
            Block::Gap(8.0),
            Block::Table(pairs(&agency_rows(d))),
            Block::Heading("信用等级 Credit grade".into()),
            Block::Paragraph {
                text: format!("{} · {} 分 / points", text(&d["grade"]["letter"]), text(&d["grade"]["score"])),
                size: 14.0,
            },
        ];
        blocks.push(Block::Table(Table {
            columns: vec![3.0, 1.0, 2.0],
            header: Some(vec!["依据 Reason".into(), "分值 Points".into(), "账本记录 Ledger entries".into()]),
            rows: grade_rows(d).into_iter().map(|row| row.into_iter().map(Cell::from).collect()).collect(),
            size: 10.0,
        }));
        blocks.push(Block::Heading("名单与投诉 Lists and complaints".into()));
        blocks.push(Block::Table(pairs(&standing_rows(d))));
        blocks.push(Block::Heading("表彰与处罚 Rewards and penalties".into()));
        let actions = action_rows(d);
        if actions.is_empty() {
            blocks.push(Block::Paragraph { text: "无 None".into(), size: 10.0 });
        } else {
            blocks.push(Block::Table(Table {
                columns: vec![1.5, 1.2, 2.0, 2.0, 2.8],
                header: Some(vec![
                    "日期 Date".into(),
                    "类别 Kind".into(),
                    "机关 Authority".into(),
                    "文书 Document".into(),
                    "事由 Reason".into(),
                ]),
                rows: actions.into_iter().map(|row| row.into_iter().map(Cell::from).collect()).collect(),
                size: 9.0,
            }));
        }
        blocks.push(Block::Heading("授权与核验 Consent and verification".into()));
        blocks.push(Block::Paragraph {
            text: format!(
                "本报告经企业授权（授权记录 {}，{}）提供给上述银行。报告内容的 SHA-256 摘要由平台信用密钥（Ed25519，密钥编号 {}）签名。",
                self.report_id, self.consented_by, self.key_id
            ),
            size: 10.0,
        });
        blocks.push(Block::Paragraph {
            text: format!(
                "The agency consented to this release (record {}). The SHA-256 digest of the report content is signed \
                 with the platform's credit key (Ed25519, key {}).",
                self.report_id, self.key_id
            ),
            size: 10.0,
        });
        blocks.push(Block::Table(Table {
            columns: vec![1.0, 3.0],
            header: None,
            rows: vec![
                vec!["摘要 Digest".into(), Cell::sized(self.digest.clone(), 8.0)],
                vec!["签名 Signature".into(), Cell::sized(self.signature.clone(), 7.0)],
                vec!["核验 Verify".into(), self.verify_url.clone().into()],
            ],
            size: 10.0,
        }));
        blocks
    }
}
