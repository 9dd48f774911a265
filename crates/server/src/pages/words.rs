//! Ledger entries in words: what a person reads in place of a payload's stored fields. Codes
//! become labels, money is yuan, internal numbers (record ids, digests) are left out, and a
//! field without a label here is not shown at all — the API keeps the whole payload.

use jiazheng_core::credit::IdentityMethod;
use jiazheng_core::credit::casework::CreditList;
use jiazheng_core::registry::ServiceKind;
use jiazheng_core::workforce::{CertificateKind, CourseKind, HealthCategory, InsuranceKind, SkillLevel, Trade};
use serde_json::Value;

use crate::i18n::Lang;

/// How one field's value is written.
#[derive(Clone, Copy)]
enum Shape {
    Text,
    /// A closed set: the code's label.
    Choice(fn(&str, bool) -> &'static str),
    /// Fen, written as yuan.
    Money,
    PassFail,
    Hours,
    /// A date with nothing after it meaning "no end".
    Until,
}

/// The fields a person reads, in the order they read them: (key, 中文, English, shape).
const FIELDS: &[(&str, &str, &str, Shape)] = &[
    ("course", "课程", "course", Shape::Text),
    ("course_kind", "类别", "type", Shape::Choice(CourseKind::label_of)),
    ("hours", "学时", "hours", Shape::Hours),
    ("provider", "培训机构", "provider", Shape::Text),
    ("completed_on", "结业", "completed", Shape::Text),
    ("exam_passed", "考核", "exam", Shape::PassFail),
    ("exam_score", "成绩", "score", Shape::Text),
    ("trade", "工种", "trade", Shape::Choice(Trade::label_of)),
    ("level", "等级", "level", Shape::Choice(SkillLevel::label_of)),
    ("issuer", "发证机关", "issuer", Shape::Text),
    ("issued_on", "发证日期", "issued", Shape::Text),
    ("valid_until", "有效期至", "valid until", Shape::Until),
    ("category", "体检类别", "category", Shape::Choice(HealthCategory::label_of)),
    ("institution", "体检机构", "institution", Shape::Text),
    ("checked_on", "体检日期", "checked", Shape::Text),
    ("insurer", "保险公司", "insurer", Shape::Text),
    ("policy_number", "保单号", "policy", Shape::Text),
    ("starts_on", "起保", "from", Shape::Text),
    ("ends_on", "止保", "to", Shape::Text),
    ("sum_insured_fen", "保额", "sum insured", Shape::Money),
    ("method", "核验方式", "method", Shape::Choice(IdentityMethod::label_of)),
    ("item", "服务项目", "item", Shape::Choice(jiazheng_core::market::CatalogItem::label_of)),
    ("performed_on", "服务日期", "performed", Shape::Text),
    ("stars", "评分", "stars", Shape::Text),
    ("list", "名单", "list", Shape::Choice(CreditList::label_of)),
    ("authority", "决定机关", "authority", Shape::Text),
    ("decided_on", "决定日期", "decided", Shape::Text),
    ("document", "文号", "document", Shape::Text),
    ("reason", "事由", "reason", Shape::Text),
];

pub use jiazheng_core::market::menu::yuan;

/// The kind-specific label of a `kind` field (a certificate's, an insurance policy's) or of
/// a `service` field that names a service (not a service record's number).
fn kind_label(entry_kind: &str, key: &str, value: &Value, en: bool) -> Option<String> {
    let code = value.as_str()?;
    let label = match (entry_kind, key) {
        ("certificate", "kind") => CertificateKind::label_of(code, en),
        ("insurance", "kind") => InsuranceKind::label_of(code, en),
        (_, "service") => ServiceKind::label_of(code, en),
        _ => return None,
    };
    Some(label.to_string())
}

/// One entry's payload as a line of labelled facts, e.g. "岗前培训 · 学时 40 · 考核 合格".
pub fn entry_in_words(entry_kind: &str, payload: &str, lang: Lang) -> String {
    let en = lang.is_en();
    let value: Value = serde_json::from_str(payload).unwrap_or_default();
    let Some(map) = value.as_object() else { return String::new() };
    let mut parts: Vec<String> = ["kind", "service"]
        .iter()
        .filter_map(|key| map.get(*key).and_then(|v| kind_label(entry_kind, key, v, en)))
        .collect();
    if let Some(number) = map.get("number").and_then(Value::as_str) {
        parts.push(format!("{} {number}", if en { "no." } else { "编号" }));
    }
    for (key, zh, english, shape) in FIELDS {
        let Some(value) = map.get(*key) else { continue };
        let label = if en { english } else { zh };
        let text = match (shape, value) {
            (Shape::Until, Value::Null) => (if en { "no end date" } else { "长期" }).to_string(),
            (_, Value::Null) => continue,
            (Shape::Choice(label_of), Value::String(code)) => label_of(code, en).to_string(),
            (Shape::Money, v) => match v.as_i64() {
                Some(fen) => yuan(fen),
                None => continue,
            },
            (Shape::PassFail, Value::Bool(passed)) => match (passed, en) {
                (true, false) => "合格".into(),
                (false, false) => "不合格".into(),
                (true, true) => "passed".into(),
                (false, true) => "failed".into(),
            },
            (Shape::Hours, v) => v.to_string(),
            (_, Value::String(s)) => s.clone(),
            (_, Value::Number(n)) => n.to_string(),
            _ => continue,
        };
        parts.push(format!("{label} {text}"));
    }
    if map.contains_key("sealed_result_sha256") {
        parts.push((if en { "result sealed" } else { "结果已密封" }).to_string());
    }
    parts.join(" · ")
}

/// Who recorded entries, by name: `agency:55` is the agency's name, `regulator:220102000000`
/// the district's regulator, `regulator:city` the city's. Looked up once per distinct source.
pub async fn source_names<'a>(
    store: &jiazheng_store::Store,
    sources: impl Iterator<Item = &'a str>,
    lang: Lang,
) -> std::collections::HashMap<String, String> {
    let en = lang.is_en();
    let mut names = std::collections::HashMap::new();
    for source in sources {
        if names.contains_key(source) {
            continue;
        }
        let (kind, rest) = source.split_once(':').unwrap_or((source, ""));
        let id = rest.parse::<i64>().ok();
        let name = match (kind, rest) {
            ("agency", _) => match id {
                Some(id) => store.agency(id).await.ok().map(|a| a.name),
                None => None,
            },
            ("provider", _) => match id {
                Some(id) => store.provider(id).await.ok().map(|p| p.name),
                None => None,
            },
            ("regulator", "city") => Some((if en { "City regulator" } else { "市级监管部门" }).to_string()),
            ("regulator", code) => store
                .division(code)
                .await
                .ok()
                .map(|d| if en { format!("{} regulator", d.name) } else { format!("{}监管部门", d.name) }),
            ("resident", _) => Some((if en { "a resident" } else { "居民" }).to_string()),
            // The order number people quote; the resident stays unnamed.
            ("order", _) => {
                id.map(|id| if en { format!("platform order JZ{id:08}") } else { format!("平台订单 JZ{id:08}") })
            }
            ("worker", _) => Some((if en { "the worker" } else { "本人" }).to_string()),
            _ => None,
        };
        let fallback = || (if en { "the platform" } else { "平台" }).to_string();
        names.insert(source.to_string(), name.unwrap_or_else(fallback));
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_as_labelled_facts_without_codes_or_internal_numbers() {
        let training = r#"{"completed_on":"2023-07-12","course":"家政服务员岗前培训","course_kind":"pre_job","exam_passed":true,"exam_score":64,"hours":40,"provider":"长春市惠民职业技能培训中心","record":1}"#;
        assert_eq!(
            entry_in_words("training", training, Lang::Zh),
            "课程 家政服务员岗前培训 · 类别 岗前培训 · 学时 40 · 培训机构 长春市惠民职业技能培训中心 · 结业 2023-07-12 · 考核 合格 · 成绩 64"
        );
        let insurance = r#"{"agency":1,"ends_on":"2027-06-20","insurer":"中国平安","kind":"employer_liability","policy_number":"EL2026","record":1,"starts_on":"2026-06-21","sum_insured_fen":100000000}"#;
        let line = entry_in_words("insurance", insurance, Lang::En);
        assert_eq!(
            line,
            "Employer liability · insurer 中国平安 · policy EL2026 · from 2026-06-21 · to 2027-06-20 · sum insured ¥1,000,000.00"
        );
        let certificate = r#"{"issued_on":"2023-12-16","issuer":"人社局","kind":"occupational","level":"level3","number":"2201","record":1,"trade":"home_care","valid_until":null}"#;
        let line = entry_in_words("certificate", certificate, Lang::Zh);
        assert!(
            line.starts_with("家政服务员职业技能等级证书 · 编号 2201 · 工种 家庭照护员 · 等级 三级/高级"),
            "{line}"
        );
        assert!(line.ends_with("有效期至 长期"), "{line}");
        for line in [
            entry_in_words("training", training, Lang::En),
            entry_in_words("certificate", certificate, Lang::En),
            entry_in_words(
                "health_check",
                r#"{"category":"elderly_care","record":3,"sealed_result_sha256":"c9da"}"#,
                Lang::En,
            ),
        ] {
            assert!(!line.contains('_') && !line.contains("record") && !line.contains("c9da"), "{line}");
        }
    }

    #[test]
    fn money_is_yuan_with_two_decimals() {
        assert_eq!(yuan(0), "¥0.00");
        assert_eq!(yuan(12_345), "¥123.45");
        assert_eq!(yuan(100_000_000), "¥1,000,000.00");
        assert_eq!(yuan(-5), "-¥0.05");
    }
}
