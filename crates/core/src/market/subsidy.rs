//! Subsidised service (plan task 7): community staff register a resident in need with evidence
//! and a yearly quota, in money or in hours, drawn on their district's budget; the district pays
//! for orders against the quota, and an order past the quota or the budget is refused with the
//! figures that refuse it. Monthly statements carry an audit list of patterns worth a look.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};

use crate::calendar::beijing;
use crate::choice;
use crate::division::{DivisionCode, DivisionLevel};
use crate::field::{FieldErrors, Invalid};
use crate::ids::{Mobile, ResidentId};
use crate::market::contract::parse_legal_name;
use crate::market::payment::yuan;
use crate::workforce::records::parse_yuan;

choice!(
    /// Why a resident may be served at the district's cost.
    SubsidyCategory {
        MinimumLiving = ("dibao", "低保对象", "Minimum living allowance"),
        ExtremePoverty = ("tekun", "特困人员", "Extreme poverty support"),
        DisabledElder = ("disabled_elder", "失能老人", "Elderly, unable to care for self"),
        SemiDisabledElder = ("semi_disabled_elder", "半失能老人", "Elderly, partly unable to care for self"),
        Disability = ("disability", "残疾人", "Person with a disability"),
        Entitled = ("entitled", "优抚对象", "Entitled group (veterans, martyrs' families)"),
    }
);

choice!(
    /// What a quota counts.
    QuotaKind {
        Money = ("money", "按金额", "By amount"),
        Time = ("hours", "按小时", "By hours"),
    }
);

/// The most one resident may be granted in a year: ¥200,000 or 2,000 hours.
pub const MAX_QUOTA_FEN: i64 = 20_000_000;
pub const MAX_QUOTA_MINUTES: i64 = 2_000 * 60;
/// The most a district's yearly budget may be: ¥1,000,000,000.
pub const MAX_BUDGET_FEN: i64 = 100_000_000_000;
pub const MAX_EVIDENCE_NOTE_CHARS: usize = 200;
pub const MAX_LEGAL_NAME_CHARS: usize = 30;
/// The largest evidence file kept (a phone photo of a certificate, or a scanned PDF).
pub const MAX_EVIDENCE_BYTES: usize = 5 * 1024 * 1024;

/// A yearly allowance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quota {
    Fen(i64),
    Minutes(i64),
}

impl Quota {
    /// From the form: the kind, and an amount in yuan (two decimals at most) or in hours
    /// (halves allowed: a visit is often an hour and a half).
    pub fn parse(kind: &str, amount: &str) -> Result<Self, (&'static str, Invalid)> {
        let kind = QuotaKind::parse(kind).map_err(|e| ("quota_kind", e))?;
        let amount = amount.trim();
        match kind {
            QuotaKind::Money => {
                let fen = parse_yuan(amount).map_err(|e| ("quota_amount", e))?;
                if fen <= 0 || fen > MAX_QUOTA_FEN {
                    return Err((
                        "quota_amount",
                        Invalid::new(
                            "quota_out_of_range",
                            "年度额度应在0.01元到200,000元之间",
                            "the yearly quota must be from ¥0.01 to ¥200,000",
                        ),
                    ));
                }
                Ok(Self::Fen(fen))
            }
            QuotaKind::Time => {
                let bad = || {
                    Invalid::new(
                        "quota_out_of_range",
                        "年度小时数应为0.5到2000之间，以半小时计",
                        "the yearly hours must be from 0.5 to 2,000, in half hours",
                    )
                };
                if amount.is_empty() {
                    return Err(("quota_amount", Invalid::required()));
                }
                let (whole, half) = match amount.split_once('.') {
                    None => (amount, false),
                    Some((w, "5")) => (w, true),
                    Some((w, "0")) => (w, false),
                    Some(_) => return Err(("quota_amount", bad())),
                };
                if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(("quota_amount", bad()));
                }
                let whole: i64 = whole.parse().map_err(|_| ("quota_amount", bad()))?;
                let minutes = whole.checked_mul(60).map(|m| m + if half { 30 } else { 0 });
                match minutes {
                    Some(m) if m > 0 && m <= MAX_QUOTA_MINUTES => Ok(Self::Minutes(m)),
                    _ => Err(("quota_amount", bad())),
                }
            }
        }
    }

    /// The stored pair (`money`/`hours` and fen or minutes).
    pub fn from_stored(kind: &str, amount: i64) -> Self {
        match QuotaKind::parse(kind) {
            Ok(QuotaKind::Time) => Self::Minutes(amount),
            _ => Self::Fen(amount),
        }
    }

    pub fn kind(self) -> QuotaKind {
        match self {
            Self::Fen(_) => QuotaKind::Money,
            Self::Minutes(_) => QuotaKind::Time,
        }
    }

    pub fn amount(self) -> i64 {
        match self {
            Self::Fen(n) | Self::Minutes(n) => n,
        }
    }

    /// What an order of this price and length takes from the quota.
    pub fn charge(self, order_fen: i64, order_minutes: i64) -> i64 {
        match self {
            Self::Fen(_) => order_fen,
            Self::Minutes(_) => order_minutes,
        }
    }

    /// An amount in the quota's unit, as people read it.
    pub fn show(self, n: i64, english: bool) -> String {
        match self {
            Self::Fen(_) => yuan(n),
            Self::Minutes(_) => hours(n, english),
        }
    }

    /// Refuses an order that takes more than is left, naming the quota and what is left.
    pub fn admit(self, used: i64, order_fen: i64, order_minutes: i64) -> Result<(), Invalid> {
        let left = (self.amount() - used).max(0);
        let wanted = self.charge(order_fen, order_minutes);
        if wanted <= left {
            return Ok(());
        }
        Err(Invalid::new(
            "over_quota",
            format!(
                "超出补贴额度：本年度额度{}，已用{}，剩余{}，本单需{}",
                self.show(self.amount(), false),
                self.show(used, false),
                self.show(left, false),
                self.show(wanted, false)
            ),
            format!(
                "Over the subsidy quota: {} a year, {} used, {} left, this order needs {}",
                self.show(self.amount(), true),
                self.show(used, true),
                self.show(left, true),
                self.show(wanted, true)
            ),
        ))
    }
}

/// Minutes as hours: "2 小时", "1.5 小时" / "2 hours".
pub fn hours(minutes: i64, english: bool) -> String {
    let text = if minutes % 60 == 0 { format!("{}", minutes / 60) } else { format!("{:.1}", minutes as f64 / 60.0) };
    if english { format!("{text} hours") } else { format!("{text}小时") }
}

/// Refuses an order the district's budget for the year can no longer pay, naming the budget.
pub fn admit_budget(year: i32, budget_fen: Option<i64>, spent_fen: i64, order_fen: i64) -> Result<(), Invalid> {
    let Some(budget) = budget_fen else {
        return Err(Invalid::new(
            "no_budget",
            format!("本区尚未设定{year}年度补贴预算"),
            format!("the district has no subsidy budget for {year} yet"),
        ));
    };
    let left = (budget - spent_fen).max(0);
    if order_fen <= left {
        return Ok(());
    }
    Err(Invalid::new(
        "over_budget",
        format!("超出本区{year}年度补贴预算：预算{}，剩余{}，本单需{}", yuan(budget), yuan(left), yuan(order_fen)),
        format!(
            "Over the district's {year} subsidy budget: {} in all, {} left, this order needs {}",
            yuan(budget),
            yuan(left),
            yuan(order_fen)
        ),
    ))
}

/// A budget as typed by a regulator: yuan, above zero, at most `MAX_BUDGET_FEN`.
pub fn parse_budget(raw: &str) -> Result<i64, Invalid> {
    let fen = parse_yuan(raw)?;
    if fen <= 0 || fen > MAX_BUDGET_FEN {
        return Err(Invalid::new(
            "budget_out_of_range",
            "年度预算应在0.01元到10亿元之间",
            "the yearly budget must be from ¥0.01 to ¥1,000,000,000",
        ));
    }
    Ok(fen)
}

/// The year a grant or budget is for: this Beijing year or the next (budgets are set ahead).
pub fn parse_year(raw: &str, today: NaiveDate) -> Result<i32, Invalid> {
    let year = raw.trim().parse::<i32>().ok().filter(|y| (today.year()..=today.year() + 1).contains(y));
    year.ok_or_else(|| {
        Invalid::new(
            "bad_year",
            format!("年度应为{}或{}", today.year(), today.year() + 1),
            format!("the year must be {} or {}", today.year(), today.year() + 1),
        )
    })
}

/// The file kept as evidence, by what its bytes are (not what its name claims).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceType {
    Jpeg,
    Png,
    Pdf,
}

impl EvidenceType {
    pub fn sniff(bytes: &[u8]) -> Result<Self, Invalid> {
        if bytes.is_empty() {
            return Err(Invalid::new("required", "请上传证明材料", "upload the evidence"));
        }
        if bytes.len() > MAX_EVIDENCE_BYTES {
            return Err(Invalid::new("too_large", "证明材料不能超过 5 MB", "the evidence file is larger than 5 MB"));
        }
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Ok(Self::Jpeg)
        } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            Ok(Self::Png)
        } else if bytes.starts_with(b"%PDF-") {
            Ok(Self::Pdf)
        } else {
            Err(Invalid::new(
                "not_evidence",
                "证明材料应为 JPEG、PNG 图片或 PDF 文件",
                "the evidence must be a JPEG or PNG picture or a PDF",
            ))
        }
    }

    pub fn mime(self) -> &'static str {
        match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Pdf => "application/pdf",
        }
    }

    pub fn from_mime(mime: &str) -> Option<Self> {
        [Self::Jpeg, Self::Png, Self::Pdf].into_iter().find(|t| t.mime() == mime)
    }
}

/// The registration form as typed (the community picked from the district's list).
#[derive(Debug, Clone, Default)]
pub struct GrantForm {
    pub legal_name: String,
    pub phone: String,
    pub id_number: String,
    pub category: String,
    pub community: String,
    pub year: String,
    pub quota_kind: String,
    pub quota_amount: String,
    pub evidence_note: String,
}

/// A registration that parsed.
#[derive(Debug, Clone)]
pub struct GrantDraft {
    pub legal_name: String,
    pub phone: Mobile,
    pub id_number: ResidentId,
    pub category: SubsidyCategory,
    pub community: DivisionCode,
    pub year: i32,
    pub quota: Quota,
    pub evidence_note: String,
}

impl GrantForm {
    /// Every field checked at once; the community must be one of `district`'s.
    pub fn parse(&self, district: &DivisionCode, today: NaiveDate) -> Result<GrantDraft, FieldErrors> {
        let mut errors = FieldErrors::default();
        let legal_name = errors.take("legal_name", parse_legal_name(&self.legal_name, MAX_LEGAL_NAME_CHARS));
        let phone = errors.take("phone", Mobile::parse(&self.phone));
        let id: String = self.id_number.chars().filter(|c| !c.is_whitespace()).collect();
        let id_number = errors.take("id_number", ResidentId::parse(&id, today));
        let category = errors.take("category", SubsidyCategory::parse(&self.category));
        let community = errors.take(
            "community",
            DivisionCode::parse(&self.community).and_then(|c| {
                if c.level() == DivisionLevel::Community && c.is_within(district) {
                    Ok(c)
                } else {
                    Err(Invalid::new("not_in_district", "请选择本区的社区", "pick a community of your district"))
                }
            }),
        );
        let year = errors.take("year", parse_year(&self.year, today));
        let quota = match Quota::parse(&self.quota_kind, &self.quota_amount) {
            Ok(q) => Some(q),
            Err((field, e)) => {
                // Without a kind the amount is still checked, so one round of fixes is enough.
                if field == "quota_kind" && parse_yuan(&self.quota_amount).is_err() {
                    errors.take::<()>("quota_amount", Err(Invalid::required()));
                }
                errors.take::<()>(field, Err(e));
                None
            }
        };
        let evidence_note =
            errors.take("evidence_note", crate::field::required_text(&self.evidence_note, MAX_EVIDENCE_NOTE_CHARS));
        match (legal_name, phone, id_number, category, community, year, quota, evidence_note) {
            (
                Some(legal_name),
                Some(phone),
                Some(id_number),
                Some(category),
                Some(community),
                Some(year),
                Some(quota),
                Some(evidence_note),
            ) if errors.is_empty() => {
                Ok(GrantDraft { legal_name, phone, id_number, category, community, year, quota, evidence_note })
            }
            _ => Err(errors),
        }
    }
}

// ---- the audit list ---------------------------------------------------------------------

/// The same worker at the same resident this many times in a Beijing day is worth a look.
pub const SAME_PAIR_PER_DAY: usize = 3;
/// Between two homes a worker needs at least this long; closer than this elsewhere is odd.
pub const TRAVEL_MINUTES: i64 = 30;

/// One service the audit reads: every subsidised order of the month, and the same workers'
/// other orders on those days.
#[derive(Debug, Clone)]
pub struct ServiceLine {
    pub order_id: i64,
    pub worker_id: i64,
    pub resident: i64,
    pub community: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub subsidised: bool,
}

/// A pattern worth a look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Oddity {
    /// One worker served one subsidised resident `orders.len()` times in a day.
    SamePairOften { worker_id: i64, resident: i64, day: NaiveDate, orders: Vec<i64> },
    /// A subsidised service while, or just before or after, the worker was booked at another home.
    BookedElsewhere { order_id: i64, other_order_id: i64, worker_id: i64, day: NaiveDate },
}

fn beijing_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&beijing()).date_naive()
}

/// The audit list, in day order.
pub fn audit(lines: &[ServiceLine]) -> Vec<Oddity> {
    let mut found = Vec::new();
    let mut pairs: BTreeMap<(NaiveDate, i64, i64), Vec<i64>> = BTreeMap::new();
    let mut by_worker_day: HashMap<(i64, NaiveDate), Vec<&ServiceLine>> = HashMap::new();
    for line in lines {
        let day = beijing_day(line.starts_at);
        if line.subsidised {
            pairs.entry((day, line.worker_id, line.resident)).or_default().push(line.order_id);
        }
        by_worker_day.entry((line.worker_id, day)).or_default().push(line);
    }
    for ((day, worker_id, resident), mut orders) in pairs {
        if orders.len() >= SAME_PAIR_PER_DAY {
            orders.sort_unstable();
            found.push(Oddity::SamePairOften { worker_id, resident, day, orders });
        }
    }
    let margin = chrono::Duration::minutes(TRAVEL_MINUTES);
    for ((worker_id, day), day_lines) in &by_worker_day {
        for this in day_lines.iter().filter(|l| l.subsidised) {
            for other in day_lines.iter() {
                // Two subsidised services too close are one finding, named from the earlier order.
                let seen_from_other = other.subsidised && other.order_id < this.order_id;
                let another_home = other.resident != this.resident || other.community != this.community;
                let too_close = other.starts_at < this.ends_at + margin && this.starts_at < other.ends_at + margin;
                if other.order_id != this.order_id && !seen_from_other && another_home && too_close {
                    found.push(Oddity::BookedElsewhere {
                        order_id: this.order_id,
                        other_order_id: other.order_id,
                        worker_id: *worker_id,
                        day: *day,
                    });
                }
            }
        }
    }
    found.sort_by_key(|o| match o {
        Oddity::SamePairOften { day, orders, .. } => (*day, 0, orders.first().copied().unwrap_or_default(), 0),
        Oddity::BookedElsewhere { day, order_id, other_order_id, .. } => (*day, 1, *order_id, *other_order_id),
    });
    found
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        beijing().with_ymd_and_hms(2026, 12, day, hour, minute, 0).unwrap().with_timezone(&Utc)
    }

    fn line(order_id: i64, worker_id: i64, resident: i64, from: (u32, u32), to: (u32, u32), sub: bool) -> ServiceLine {
        ServiceLine {
            order_id,
            worker_id,
            resident,
            community: format!("c{resident}"),
            starts_at: at(3, from.0, from.1),
            ends_at: at(3, to.0, to.1),
            subsidised: sub,
        }
    }

    #[test]
    fn a_quota_in_money_or_hours_parses_within_its_bounds() {
        assert_eq!(Quota::parse("money", "3000"), Ok(Quota::Fen(300_000)));
        assert_eq!(Quota::parse("money", "¥1,234.5"), Ok(Quota::Fen(123_450)));
        assert_eq!(Quota::parse("hours", "40"), Ok(Quota::Minutes(2_400)));
        assert_eq!(Quota::parse("hours", "1.5"), Ok(Quota::Minutes(90)));
        assert_eq!(Quota::parse("money", "0").unwrap_err().1.code, "quota_out_of_range");
        assert_eq!(Quota::parse("money", "200000.01").unwrap_err().1.code, "quota_out_of_range");
        assert_eq!(Quota::parse("hours", "1.25").unwrap_err().0, "quota_amount");
        assert_eq!(Quota::parse("hours", "2001").unwrap_err().1.code, "quota_out_of_range");
        assert_eq!(Quota::parse("hours", "").unwrap_err().1.code, "required");
        assert_eq!(Quota::parse("hours", "-0.5").unwrap_err().1.code, "quota_out_of_range");
        assert_eq!(Quota::parse("hours", "+1").unwrap_err().1.code, "quota_out_of_range");
        assert_eq!(Quota::parse("days", "3").unwrap_err().0, "quota_kind");
    }

    #[test]
    fn an_order_past_the_quota_is_refused_naming_the_quota_and_what_is_left() {
        let quota = Quota::Fen(300_000);
        assert!(quota.admit(290_000, 10_000, 120).is_ok(), "exactly what is left fits");
        let refused = quota.admit(290_000, 10_001, 120).unwrap_err();
        assert_eq!(refused.code, "over_quota");
        assert!(refused.message_zh.contains("¥3000.00") && refused.message_zh.contains("剩余¥100.00"));
        assert!(refused.message_en.contains("¥100.01"), "{}", refused.message_en);
        let hours = Quota::Minutes(600);
        assert!(hours.admit(480, 999_999, 120).is_ok(), "hours count time, not money");
        let refused = hours.admit(540, 1, 120).unwrap_err();
        assert!(refused.message_zh.contains("剩余1小时") && refused.message_zh.contains("本单需2小时"));
        assert!(refused.message_en.contains("10 hours a year"), "{}", refused.message_en);
        assert!(hours.admit(700, 1, 30).is_err(), "over-used (after a change) admits nothing");
    }

    #[test]
    fn the_district_budget_refuses_what_it_cannot_pay_and_a_missing_budget_pays_nothing() {
        assert!(admit_budget(2026, Some(10_000), 9_000, 1_000).is_ok());
        let refused = admit_budget(2026, Some(10_000), 9_000, 1_001).unwrap_err();
        assert_eq!(refused.code, "over_budget");
        assert!(refused.message_zh.contains("2026年度") && refused.message_zh.contains("剩余¥10.00"));
        assert_eq!(admit_budget(2027, None, 0, 1).unwrap_err().code, "no_budget");
    }

    #[test]
    fn the_registration_form_checks_every_field_and_keeps_the_community_in_the_district() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let district = DivisionCode::parse("220104000000").unwrap();
        let id = ResidentId::compose("220104", NaiveDate::from_ymd_opt(1946, 3, 1).unwrap(), 12);
        let form = GrantForm {
            legal_name: "王秀兰".into(),
            phone: "13900000011".into(),
            id_number: id.clone(),
            category: "disabled_elder".into(),
            community: "220104001001".into(),
            year: "2026".into(),
            quota_kind: "hours".into(),
            quota_amount: "96".into(),
            evidence_note: "失能评估报告 2026-10".into(),
        };
        let draft = form.parse(&district, today).unwrap();
        assert_eq!(
            (draft.category, draft.quota, draft.year),
            (SubsidyCategory::DisabledElder, Quota::Minutes(5_760), 2026)
        );
        let elsewhere = GrantForm { community: "220102001001".into(), ..form.clone() };
        let errors = elsewhere.parse(&district, today).unwrap_err();
        assert_eq!(errors.for_field("community").unwrap().code, "not_in_district");
        let street = GrantForm { community: "220104001000".into(), ..form.clone() };
        assert!(street.parse(&district, today).unwrap_err().for_field("community").is_some());
        let empty = GrantForm::default().parse(&district, today).unwrap_err();
        for field in
            ["legal_name", "phone", "id_number", "category", "community", "year", "quota_kind", "evidence_note"]
        {
            assert!(empty.for_field(field).is_some(), "{field} is reported");
        }
        let late = GrantForm { year: "2028".into(), ..form };
        assert_eq!(late.parse(&district, today).unwrap_err().for_field("year").unwrap().code, "bad_year");
    }

    #[test]
    fn evidence_is_known_by_its_bytes() {
        assert_eq!(EvidenceType::sniff(b"%PDF-1.7 ..."), Ok(EvidenceType::Pdf));
        assert_eq!(EvidenceType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Ok(EvidenceType::Jpeg));
        assert_eq!(EvidenceType::sniff(b"\x89PNG\r\n\x1a\n...."), Ok(EvidenceType::Png));
        assert_eq!(EvidenceType::sniff(b"<html>").unwrap_err().code, "not_evidence");
        assert_eq!(EvidenceType::sniff(b"").unwrap_err().code, "required");
        let big = vec![0xFF; MAX_EVIDENCE_BYTES + 1];
        assert_eq!(EvidenceType::sniff(&big).unwrap_err().code, "too_large");
        assert_eq!(EvidenceType::from_mime("application/pdf"), Some(EvidenceType::Pdf));
    }

    #[test]
    fn the_audit_flags_many_visits_a_day_and_services_too_close_to_another_booking() {
        let lines = [
            // Worker 1 at resident 10 three times on the 3rd: flagged once, with the three orders.
            line(1, 1, 10, (8, 0), (9, 0), true),
            line(2, 1, 10, (11, 0), (12, 0), true),
            line(3, 1, 10, (15, 0), (16, 0), true),
            // Worker 2 at resident 20 twice: not flagged.
            line(4, 2, 20, (8, 0), (9, 0), true),
            line(5, 2, 20, (14, 0), (15, 0), true),
            // Worker 3: a paid order elsewhere ends 10 minutes before the subsidised one starts.
            line(6, 3, 30, (8, 0), (9, 50), false),
            line(7, 3, 31, (10, 0), (11, 0), true),
            // Worker 4: another home, but with an hour to get there: fine.
            line(8, 4, 40, (8, 0), (9, 0), false),
            line(9, 4, 41, (10, 0), (11, 0), true),
        ];
        let found = audit(&lines);
        let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert_eq!(
            found,
            vec![
                Oddity::SamePairOften { worker_id: 1, resident: 10, day, orders: vec![1, 2, 3] },
                Oddity::BookedElsewhere { order_id: 7, other_order_id: 6, worker_id: 3, day },
            ]
        );
    }

    #[test]
    fn the_audit_reads_days_in_beijing_time() {
        // 23:30 and 00:30 Beijing are two days, though both are the same UTC day.
        let mut late = line(1, 1, 10, (8, 0), (9, 0), true);
        late.starts_at = at(3, 23, 0);
        late.ends_at = at(3, 23, 30);
        let mut early = late.clone();
        early.order_id = 2;
        early.starts_at = at(4, 0, 30);
        early.ends_at = at(4, 1, 0);
        let mut third = early.clone();
        third.order_id = 3;
        third.starts_at = at(4, 2, 0);
        third.ends_at = at(4, 3, 0);
        assert!(audit(&[late, early, third]).is_empty(), "two on the 4th, one on the 3rd");
    }
}
