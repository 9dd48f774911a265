//! Model contracts (示范合同): three templates kept in the repository, filled from an order or a
//! binding, and signed by each of their parties. A contract keeps the text it was filled with,
//! so a later template change never alters what was signed.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::choice;
use crate::workforce::CourseKind;
use crate::workforce::compliance::Facts;

choice!(
    ContractKind {
        EmployeeService = ("employee_service", "家政服务合同（员工制，两方）", "Service contract (employee-based, two parties)"),
        IntermediaryService = ("intermediary_service", "家政服务合同（中介制，三方）", "Service contract (intermediary, three parties)"),
        WorkerAgreement = ("worker_agreement", "服务员与企业协议", "Worker's agreement with the agency"),
    }
);

choice!(
    /// Who signs.
    Signer {
        Resident = ("resident", "消费者", "Resident"),
        Agency = ("agency", "家政企业", "Agency"),
        Worker = ("worker", "家政服务员", "Worker"),
    }
);

choice!(
    ContractStatus {
        Signing = ("signing", "待签署", "Awaiting signatures"),
        Signed = ("signed", "已签署", "Signed"),
        Void = ("void", "已作废", "Void"),
    }
);

impl ContractKind {
    /// Who must sign, in the order the signature block lists them.
    pub fn signers(self) -> &'static [Signer] {
        match self {
            ContractKind::EmployeeService => &[Signer::Resident, Signer::Agency],
            ContractKind::IntermediaryService => &[Signer::Resident, Signer::Worker, Signer::Agency],
            ContractKind::WorkerAgreement => &[Signer::Agency, Signer::Worker],
        }
    }

    /// A service contract's kind from the assigned worker's binding: an employee serves under the
    /// agency's two-party contract, anyone else under the three-party one.
    pub fn for_service(employee: bool) -> Self {
        if employee { ContractKind::EmployeeService } else { ContractKind::IntermediaryService }
    }

    pub fn template(self) -> &'static str {
        match self {
            ContractKind::EmployeeService => include_str!("../../contracts/employee_service.txt"),
            ContractKind::IntermediaryService => include_str!("../../contracts/intermediary_service.txt"),
            ContractKind::WorkerAgreement => include_str!("../../contracts/worker_agreement.txt"),
        }
    }

    /// The number's prefix: 服务 service contracts HT, worker agreements XY.
    pub fn prefix(self) -> &'static str {
        match self {
            ContractKind::WorkerAgreement => "XY",
            _ => "HT",
        }
    }
}

/// One clause of a filled contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clause {
    pub heading: String,
    pub paragraphs: Vec<String>,
}

/// A contract's text after filling: what the PDF shows and what is kept with the signatures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filled {
    pub kind: ContractKind,
    pub version: String,
    pub title: String,
    pub subtitle: String,
    pub clauses: Vec<Clause>,
}

/// Why a template could not be filled: a fact it names is missing (a bug in the caller or the
/// template, caught by the tests over every template).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the template names {0}, which the facts do not give")]
pub struct MissingFact(pub String);

/// Fills `kind`'s template: every `{name}` in it is replaced by the fact of that name.
pub fn fill(kind: ContractKind, facts: &BTreeMap<&str, String>) -> Result<Filled, MissingFact> {
    let mut filled =
        Filled { kind, version: String::new(), title: String::new(), subtitle: String::new(), clauses: Vec::new() };
    for line in kind.template().lines().map(str::trim).filter(|l| !l.is_empty()) {
        let line = substitute(line, facts)?;
        if let Some(heading) = line.strip_prefix("## ") {
            filled.clauses.push(Clause { heading: heading.to_string(), paragraphs: Vec::new() });
        } else if let Some(clause) = filled.clauses.last_mut() {
            clause.paragraphs.push(line);
        } else if let Some(title) = line.strip_prefix("标题：") {
            filled.title = title.to_string();
        } else if let Some(subtitle) = line.strip_prefix("副标题：") {
            filled.subtitle = subtitle.to_string();
        } else if let Some(version) = line.strip_prefix("版本：") {
            filled.version = version.to_string();
        }
    }
    Ok(filled)
}

/// Replaces every `{name}` of `line`.
fn substitute(line: &str, facts: &BTreeMap<&str, String>) -> Result<String, MissingFact> {
    let mut out = String::with_capacity(line.len() * 2);
    let mut rest = line;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| MissingFact(after.to_string()))?;
        let name = &after[..close];
        out.push_str(facts.get(name).ok_or_else(|| MissingFact(name.to_string()))?);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// A worker's health, training and insurance as a contract states them on `day`.
pub struct WorkerRecordLines {
    pub health: String,
    pub training: String,
    pub insurance: String,
    pub certificate: String,
}

/// Health checks are valid twelve months.
const HEALTH_VALID_MONTHS: u32 = 12;

pub fn worker_record_lines(facts: &Facts, day: NaiveDate) -> WorkerRecordLines {
    let health = facts.health_checks.iter().filter(|h| h.passed).max_by_key(|h| h.checked_on).map_or(
        "平台无合格体检记录 No passed health check on record".to_string(),
        |h| {
            format!(
                "{}，{} 体检合格，有效期至 {}",
                h.category.label_zh(),
                h.checked_on,
                health_valid_until(h.checked_on)
            )
        },
    );
    let training = facts
        .trainings
        .iter()
        .filter(|t| t.kind == CourseKind::PreJob && t.passed == Some(true))
        .filter_map(|t| t.completed_on)
        .max()
        .map_or("平台无岗前培训合格记录 No passed pre-job training on record".to_string(), |on| {
            format!("{on} 岗前培训考核合格")
        });
    let insurance =
        facts.policies.iter().filter(|p| p.starts_on <= day && p.ends_on >= day).map(|p| p.ends_on).max().map_or(
            "服务开始时平台无有效保险记录 No valid insurance on record on the first day".to_string(),
            |until| format!("家政服务员意外伤害或职业责任保险有效，至 {until}"),
        );
    let certificate = facts
        .certificates
        .iter()
        .filter(|c| c.valid_until.is_none_or(|until| until >= day))
        .map(|c| {
            let detail: Vec<&str> =
                [c.trade.map(|t| t.label_zh()), c.level.map(|l| l.label_zh())].into_iter().flatten().collect();
            if detail.is_empty() {
                c.kind.label_zh().to_string()
            } else {
                format!("{}（{}）", c.kind.label_zh(), detail.join(" "))
            }
        })
        .collect::<Vec<_>>();
    WorkerRecordLines {
        health,
        training,
        insurance,
        certificate: if certificate.is_empty() { "无 None".to_string() } else { certificate.join("；") },
    }
}

/// A contract number: prefix, Beijing date and eight letters and digits drawn at random, so that
/// a number found on one contract tells nothing about another's.
pub fn number(kind: ContractKind, day: NaiveDate, random: [u8; 8]) -> String {
    // No 0/O or 1/I/L: the number is read aloud and typed.
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let tail: String = random.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
    format!("{}{}{}", kind.prefix(), day.format("%Y%m%d"), tail)
}

/// What a typed contract number may look like: two letters, eight digits, eight letters or digits.
pub fn parse_number(raw: &str) -> Result<String, crate::field::Invalid> {
    let text: String = raw.trim().to_uppercase().chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    let ok = text.len() == 18
        && text.is_ascii()
        && text[..2].chars().all(|c| c.is_ascii_uppercase())
        && text[2..10].chars().all(|c| c.is_ascii_digit())
        && text[10..].chars().all(|c| c.is_ascii_alphanumeric());
    if text.is_empty() {
        Err(crate::field::Invalid::required())
    } else if ok {
        Ok(text)
    } else {
        Err(crate::field::Invalid::new(
            "contract_number",
            "合同编号应为 18 位，如 HT20261202ABCD2345",
            "a contract number has 18 characters, like HT20261202ABCD2345",
        ))
    }
}

/// The free-replacement window of a service contract, in days (as the order rules have it).
pub fn replacement_days() -> i64 {
    crate::market::order::FREE_REPLACEMENT_DAYS
}

/// The unit an order's quantity counts in, by how the item is sold.
pub fn quantity_unit(mode: &str) -> &'static str {
    match mode {
        "per_hour" => "小时",
        "package" => "期",
        _ => "次",
    }
}

/// A name as a contract states it: letters (any script), the middle dot of some names, and
/// spaces between words; 2 to `max` characters.
pub fn parse_legal_name(raw: &str, max: usize) -> Result<String, crate::field::Invalid> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let count = name.chars().count();
    if name.is_empty() {
        return Err(crate::field::Invalid::required());
    }
    if count > max {
        return Err(crate::field::Invalid::too_long(max));
    }
    if count < 2 || !name.chars().all(|c| c.is_alphabetic() || matches!(c, '·' | '•' | ' ')) {
        return Err(crate::field::Invalid::new(
            "not_a_name",
            "请填写身份证上的姓名（只含文字，至少两个字）",
            "type the name on the ID card (letters only, at least two)",
        ));
    }
    Ok(name)
}

/// A short notice period for ending a worker agreement.
pub const NOTICE_DAYS: i64 = 7;

/// The keys every template may name. Tests fill each template from exactly these.
pub const SERVICE_FACTS: &[&str] = &[
    "contract_number",
    "drafted_on",
    "platform",
    "regulator",
    "resident_name",
    "resident_id",
    "resident_phone",
    "service_address",
    "agency_name",
    "agency_uscc",
    "agency_legal",
    "agency_address",
    "agency_phone",
    "worker_name",
    "worker_id",
    "worker_phone",
    "worker_health",
    "worker_training",
    "worker_insurance",
    "worker_certificate",
    "item",
    "mode",
    "description",
    "order_number",
    "schedule",
    "unit_price",
    "quantity",
    "total_price",
    "deposit",
    "free_cancel_hours",
    "cancel_fee_percent",
    "replacement_days",
];

pub const AGREEMENT_FACTS: &[&str] = &[
    "contract_number",
    "drafted_on",
    "platform",
    "regulator",
    "agency_name",
    "agency_uscc",
    "agency_legal",
    "agency_address",
    "agency_phone",
    "worker_name",
    "worker_id",
    "worker_phone",
    "worker_health",
    "worker_training",
    "worker_insurance",
    "relationship",
    "bound_since",
    "notice_days",
];

impl ContractKind {
    pub fn facts(self) -> &'static [&'static str] {
        match self {
            ContractKind::WorkerAgreement => AGREEMENT_FACTS,
            _ => SERVICE_FACTS,
        }
    }
}

/// The day a health check stays valid to (shown to the parties on the contract page).
pub fn health_valid_until(checked_on: NaiveDate) -> NaiveDate {
    checked_on.checked_add_months(chrono::Months::new(HEALTH_VALID_MONTHS)).unwrap_or(checked_on + Duration::days(365))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts_for(kind: ContractKind) -> BTreeMap<&'static str, String> {
        kind.facts().iter().map(|k| (*k, format!("<{k}>"))).collect()
    }

    #[test]
    fn every_template_fills_from_its_facts_and_uses_each_party() {
        for kind in ContractKind::ALL {
            let filled = fill(*kind, &facts_for(*kind)).expect("fills");
            assert!(!filled.title.is_empty() && !filled.version.is_empty(), "{kind:?}");
            let text: String = filled.clauses.iter().flat_map(|c| c.paragraphs.iter().cloned()).collect();
            assert!(!text.contains('{'), "{kind:?} left a {{name}} unfilled");
            for needed in ["<contract_number>", "<agency_name>", "<worker_name>", "<regulator>"] {
                assert!(text.contains(needed), "{kind:?} does not state {needed}");
            }
            if *kind != ContractKind::WorkerAgreement {
                for needed in ["<resident_id>", "<service_address>", "<total_price>", "<cancel_fee_percent>"] {
                    assert!(text.contains(needed), "{kind:?} does not state {needed}");
                }
            }
        }
    }

    #[test]
    fn the_design_notes_clauses_are_all_there() {
        let headings =
            ["当事人", "服务", "地点", "费用", "押金", "保险", "健康", "更换", "解除", "违约", "争议", "签署"];
        for kind in [ContractKind::EmployeeService, ContractKind::IntermediaryService] {
            let filled = fill(kind, &facts_for(kind)).unwrap();
            for word in headings {
                assert!(filled.clauses.iter().any(|c| c.heading.contains(word)), "{kind:?} lacks a clause on {word}");
            }
        }
    }

    #[test]
    fn a_missing_fact_is_named() {
        let mut facts = facts_for(ContractKind::EmployeeService);
        facts.remove("resident_id");
        assert_eq!(fill(ContractKind::EmployeeService, &facts), Err(MissingFact("resident_id".into())));
    }

    #[test]
    fn numbers_parse_back_and_differ() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let a = number(ContractKind::EmployeeService, day, [1, 2, 3, 4, 5, 6, 7, 8]);
        let b = number(ContractKind::EmployeeService, day, [8, 7, 6, 5, 4, 3, 2, 1]);
        assert_ne!(a, b);
        assert!(a.starts_with("HT20261202"));
        assert_eq!(parse_number(&format!(" {} ", a.to_lowercase())), Ok(a));
        assert!(parse_number("HT2026").is_err());
        assert!(parse_number("").is_err());
    }

    #[test]
    fn a_legal_name_is_letters() {
        assert_eq!(parse_legal_name("  李  秀兰 ", 30), Ok("李 秀兰".to_string()));
        assert_eq!(parse_legal_name("阿依古丽·买买提", 30).map(|n| n.chars().count()), Ok(8));
        for bad in ["12345", "<b>x</b>", "李", "王1"] {
            assert!(parse_legal_name(bad, 30).is_err(), "{bad}");
        }
        assert_eq!(parse_legal_name(&"张".repeat(31), 30).unwrap_err().code, "too_long");
    }

    #[test]
    fn three_party_contracts_are_signed_by_the_worker_too() {
        assert_eq!(ContractKind::for_service(true).signers().len(), 2);
        assert!(ContractKind::for_service(false).signers().contains(&Signer::Worker));
        assert!(!ContractKind::for_service(true).signers().contains(&Signer::Worker));
    }
}
