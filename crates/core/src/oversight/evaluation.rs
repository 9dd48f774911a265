//! Third-party evaluation (task 12 of the plan): the regulator opens a round with published
//! weights over the plan's seven dimensions; evaluator organisations score each subject 0–100 per
//! dimension with evidence; the weighted total is computed in whole hundredths of a point, exactly,
//! and subjects are ranked within their kind.

use std::cmp::Ordering;

use chrono::{Datelike, NaiveDate};

use crate::choice;
use crate::field::{FieldErrors, Invalid, required_text, string_or_number};

choice!(
    /// The plan's seven dimensions, in the order it names them.
    Dimension {
        Employment = ("employment", "员工制发展程度", "Employee-based development"),
        Community = ("community", "家政进社区", "Services in communities"),
        Brand = ("brand", "品牌建设", "Brand building"),
        Quality = ("quality", "服务质量与创新", "Service quality and innovation"),
        Training = ("training", "员工培训", "Staff training"),
        Integrity = ("integrity", "行业自律与诚信经营", "Self-regulation and integrity"),
        Standards = ("standards", "标准与法规", "Standards and regulations"),
    }
);

choice!(
    /// What a round evaluates: agencies, and for the front-runner designation also schools
    /// (training providers) and communities.
    EvaluatedKind {
        Agency = ("agency", "家政企业", "Agency"),
        Provider = ("provider", "院校/培训机构", "School / training provider"),
        Community = ("community", "社区", "Community"),
    }
);

choice!(
    /// The part of the year a round looks back on.
    Period {
        Year = ("year", "全年", "Whole year"),
        FirstHalf = ("h1", "上半年", "First half"),
        SecondHalf = ("h2", "下半年", "Second half"),
        Q1 = ("q1", "第一季度", "First quarter"),
        Q2 = ("q2", "第二季度", "Second quarter"),
        Q3 = ("q3", "第三季度", "Third quarter"),
        Q4 = ("q4", "第四季度", "Fourth quarter"),
    }
);

choice!(
    RoundStatus {
        Open = ("open", "评价中", "Open for scoring"),
        Published = ("published", "已发布", "Published"),
    }
);

pub const NAME_MAX: usize = 60;
/// An evidence note.
pub const NOTE_MAX: usize = 1000;
/// What an organisation says its tie to an agency is.
pub const TIE_MAX: usize = 200;
pub const ORG_NAME_MAX: usize = 100;
pub const CONTACT_MAX: usize = 100;
/// The scale of every dimension.
pub const SCALE_MAX: i64 = 100;
/// Rounds look back at most this many years.
pub const YEARS_BACK: i32 = 5;
/// Top ranks of each kind suggested for the front-runner (领跑) designation.
pub const SUGGESTED_FRONT_RUNNERS: i64 = 3;

/// The weight of each dimension in percent, in `Dimension::ALL`'s order; they sum to 100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Weights([i64; 7]);

impl Weights {
    /// Weights from stored rows; `None` unless all seven are there and they sum to 100.
    pub fn from_pairs(pairs: &[(String, i64)]) -> Option<Self> {
        let mut w = [0; 7];
        for (i, d) in Dimension::ALL.iter().enumerate() {
            w[i] = pairs.iter().find(|(code, _)| code == d.as_str())?.1;
        }
        (w.iter().sum::<i64>() == 100 && w.iter().all(|x| (1..=100).contains(x))).then_some(Self(w))
    }

    pub fn of(&self, d: Dimension) -> i64 {
        self.0[index(d)]
    }

    pub fn pairs(&self) -> impl Iterator<Item = (Dimension, i64)> + '_ {
        Dimension::ALL.iter().copied().zip(self.0.iter().copied())
    }

    /// The weighted total of one scorecard in hundredths of a point: Σ weight% × score. Exact,
    /// since weights are whole percents and scores whole points.
    pub fn total_hundredths(&self, card: &Scorecard) -> i64 {
        self.0.iter().zip(card.0.iter()).map(|(w, s)| w * s).sum()
    }

    /// The plan's dimensions, equal but for the first (employee-based development, the plan's
    /// first aim) — a starting point for a new round's form.
    pub fn suggested() -> Self {
        Self([20, 15, 15, 15, 15, 10, 10])
    }
}

fn index(d: Dimension) -> usize {
    Dimension::ALL.iter().position(|x| *x == d).unwrap_or(0)
}

/// The form field of a dimension's weight.
pub fn weight_field(d: Dimension) -> String {
    format!("weight_{}", d.as_str())
}

/// The seven weights as typed, whole percents.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct WeightsForm {
    #[serde(deserialize_with = "string_or_number")]
    pub weight_employment: String,
    #[serde(deserialize_with = "string_or_number")]
    pub weight_community: String,
    #[serde(deserialize_with = "string_or_number")]
    pub weight_brand: String,
    #[serde(deserialize_with = "string_or_number")]
    pub weight_quality: String,
    #[serde(deserialize_with = "string_or_number")]
    pub weight_training: String,
    #[serde(deserialize_with = "string_or_number")]
    pub weight_integrity: String,
    #[serde(deserialize_with = "string_or_number")]
    pub weight_standards: String,
}

impl WeightsForm {
    pub fn raw(&self, d: Dimension) -> &str {
        match d {
            Dimension::Employment => &self.weight_employment,
            Dimension::Community => &self.weight_community,
            Dimension::Brand => &self.weight_brand,
            Dimension::Quality => &self.weight_quality,
            Dimension::Training => &self.weight_training,
            Dimension::Integrity => &self.weight_integrity,
            Dimension::Standards => &self.weight_standards,
        }
    }

    pub fn of(weights: &Weights) -> Self {
        let w = |d| weights.of(d).to_string();
        Self {
            weight_employment: w(Dimension::Employment),
            weight_community: w(Dimension::Community),
            weight_brand: w(Dimension::Brand),
            weight_quality: w(Dimension::Quality),
            weight_training: w(Dimension::Training),
            weight_integrity: w(Dimension::Integrity),
            weight_standards: w(Dimension::Standards),
        }
    }

    /// Each weight a whole percent from 1 to 100 (every dimension counts), beside its field;
    /// their sum exactly 100, under `weights`.
    pub fn parse(&self) -> Result<Weights, FieldErrors> {
        let mut e = FieldErrors::default();
        let mut w = [0; 7];
        for (i, d) in Dimension::ALL.iter().enumerate() {
            if let Some(x) = e.take(&weight_field(*d), whole_in(self.raw(*d), 1, 100, "%")) {
                w[i] = x;
            }
        }
        if e.is_empty() {
            let sum: i64 = w.iter().sum();
            if sum != 100 {
                e.take::<()>(
                    "weights",
                    Err(Invalid::new(
                        "weights_sum",
                        format!("七项权重之和应为100%，现为{sum}%"),
                        format!("the seven weights must add up to 100%; they add up to {sum}%"),
                    )),
                );
            }
        }
        if e.is_empty() { Ok(Weights(w)) } else { Err(e) }
    }
}

/// A whole number from `lo` to `hi`.
fn whole_in(raw: &str, lo: i64, hi: i64, unit: &str) -> Result<i64, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Invalid::required());
    }
    let out_of = || {
        Invalid::new(
            "out_of_scale",
            format!("请填写{lo}到{hi}之间的整数{unit}"),
            format!("must be a whole number from {lo} to {hi}{unit}"),
        )
    };
    match text.parse::<i64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(n),
        Ok(_) => Err(out_of()),
        Err(_) if text.parse::<f64>().is_ok() => Err(out_of()),
        Err(_) => Err(Invalid::new("not_a_number", "请填写数字", "must be a number")),
    }
}

/// A new round as typed by the regulator.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RoundForm {
    pub name: String,
    /// The year evaluated, e.g. 2025.
    #[serde(deserialize_with = "string_or_number")]
    pub year: String,
    /// `year`, `h1`, `h2`, `q1` … `q4`.
    pub period: String,
    /// What is evaluated: `agency`, `provider`, `community`.
    pub kinds: Vec<String>,
    #[serde(flatten)]
    pub weights: WeightsForm,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoundDraft {
    pub name: String,
    pub year: i32,
    pub period: Period,
    pub kinds: Vec<EvaluatedKind>,
    pub weights: Weights,
}

impl RoundForm {
    /// Every field at once; a year from five years back to this one.
    pub fn parse(&self, today: NaiveDate) -> Result<RoundDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = e.take("name", required_text(&self.name, NAME_MAX));
        let this = today.year();
        let year = e.take(
            "year",
            whole_in(&self.year, i64::from(this - YEARS_BACK), i64::from(this), "").map(|y| y as i32).map_err(|_| {
                Invalid::new(
                    "bad_year",
                    format!("年度应在{}到{this}之间", this - YEARS_BACK),
                    format!("the year must be from {} to {this}", this - YEARS_BACK),
                )
            }),
        );
        let period = e.take("period", Period::parse(&self.period));
        let mut kinds = Vec::new();
        for raw in self.kinds.iter().take(8).filter(|k| !k.trim().is_empty()) {
            match e.take("kinds", EvaluatedKind::parse(raw)) {
                Some(k) if !kinds.contains(&k) => kinds.push(k),
                Some(_) => {}
                None => break,
            }
        }
        if kinds.is_empty() && e.for_field("kinds").is_none() {
            e.take::<()>("kinds", Err(Invalid::new("no_kinds", "请至少选择一类评价对象", "pick at least one kind")));
        }
        kinds.sort_by_key(|k| EvaluatedKind::ALL.iter().position(|x| x == k));
        let weights = self.weights.parse().map_err(|w| e.0.extend(w.0)).ok();
        match (name, year, period, weights) {
            (Some(name), Some(year), Some(period), Some(weights)) if e.is_empty() => {
                Ok(RoundDraft { name, year, period, kinds, weights })
            }
            _ => Err(e),
        }
    }
}

/// Kinds as the bit mask a round stores, over `EvaluatedKind::ALL`'s order.
pub fn kinds_mask(kinds: &[EvaluatedKind]) -> i64 {
    EvaluatedKind::ALL.iter().enumerate().filter(|(_, k)| kinds.contains(k)).fold(0, |m, (i, _)| m | (1 << i))
}

pub fn kinds_of(mask: i64) -> Vec<EvaluatedKind> {
    EvaluatedKind::ALL.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, k)| *k).collect()
}

/// One dimension's score as typed.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ScoreForm {
    /// `employment`, `community`, `brand`, `quality`, `training`, `integrity`, `standards`.
    pub dimension: String,
    /// A whole number from 0 to 100.
    #[serde(deserialize_with = "string_or_number")]
    pub score: String,
    /// What the score rests on (up to 1,000 characters); a note or a file is required.
    pub note: String,
    /// An evidence file uploaded before (`POST …/evidence`).
    pub evidence_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScoreDraft {
    pub dimension: Dimension,
    pub score: i64,
    pub note: Option<String>,
    pub evidence_id: Option<i64>,
}

/// An evidence note: paragraphs kept, bounded.
fn parse_note(raw: &str) -> Result<Option<String>, Invalid> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    crate::field::required_paragraphs(raw, NOTE_MAX).map(Some)
}

impl ScoreForm {
    /// Errors are named `<field>_<dimension>` (`score_brand`, `note_brand`, `evidence_brand`) so
    /// a form of all seven shows each beside its own field. `file` says a new file comes with it.
    pub fn parse(&self, file: bool) -> Result<ScoreDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let Some(dimension) = e.take("dimension", Dimension::parse(&self.dimension)) else { return Err(e) };
        let at = |f: &str| format!("{f}_{}", dimension.as_str());
        let score = e.take(&at("score"), whole_in(&self.score, 0, SCALE_MAX, ""));
        let note = e.take(&at("note"), parse_note(&self.note));
        let evidence_id = self.evidence_id.filter(|id| *id > 0);
        if let Some(None) = note
            && !file
            && evidence_id.is_none()
        {
            e.take::<()>(
                &at("evidence"),
                Err(Invalid::new(
                    "no_evidence",
                    "每项评分都要有依据：请填写说明或上传证明文件",
                    "every score needs evidence: write a note or upload a file",
                )),
            );
        }
        match (score, note) {
            (Some(score), Some(note)) if e.is_empty() => Ok(ScoreDraft { dimension, score, note, evidence_id }),
            _ => Err(e),
        }
    }
}

/// An evaluator organisation as the regulator registers it.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct OrgForm {
    pub name: String,
    /// Its unified social credit code (optional).
    pub uscc: String,
    /// A person and a phone to reach it.
    pub contact: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgDraft {
    pub name: String,
    pub uscc: Option<String>,
    pub contact: String,
}

impl OrgForm {
    pub fn parse(&self) -> Result<OrgDraft, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = e.take("name", required_text(&self.name, ORG_NAME_MAX));
        let uscc = e.take(
            "uscc",
            match self.uscc.trim() {
                "" => Ok(None),
                raw => crate::ids::Uscc::parse(raw).map(|u| Some(u.as_str().to_string())),
            },
        );
        let contact = e.take("contact", required_text(&self.contact, CONTACT_MAX));
        match (name, uscc, contact) {
            (Some(name), Some(uscc), Some(contact)) if e.is_empty() => Ok(OrgDraft { name, uscc, contact }),
            _ => Err(e),
        }
    }
}

/// What an organisation says ties it to an agency, required.
pub fn parse_tie(raw: &str) -> Result<String, Invalid> {
    required_text(raw, TIE_MAX)
}

/// One organisation's scores of one subject, in `Dimension::ALL`'s order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scorecard(pub [i64; 7]);

impl Scorecard {
    /// A full card from (dimension code, score) rows; `None` while a dimension is missing.
    pub fn from_rows(rows: &[(String, i64)]) -> Option<Self> {
        let mut card = [0; 7];
        for (i, d) in Dimension::ALL.iter().enumerate() {
            card[i] = rows.iter().find(|(code, _)| code == d.as_str())?.1;
        }
        Some(Self(card))
    }
}

/// A subject's result over the submitted cards: the sum of their weighted totals (hundredths)
/// and how many cards. The total is their mean, compared exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Outcome {
    pub sum_hundredths: i64,
    pub cards: i64,
}

impl Outcome {
    pub fn of(weights: &Weights, cards: &[Scorecard]) -> Self {
        Self { sum_hundredths: cards.iter().map(|c| weights.total_hundredths(c)).sum(), cards: cards.len() as i64 }
    }

    /// The total shown, in hundredths: exact with one card; the mean rounded half up with more.
    pub fn total_hundredths(&self) -> i64 {
        mean_half_up(self.sum_hundredths, self.cards)
    }

    /// Higher first; exact (cross-multiplied), never through rounding or floats.
    pub fn compare(&self, other: &Self) -> Ordering {
        let (a, b) = (i128::from(self.sum_hundredths), i128::from(other.sum_hundredths));
        let (n, m) = (i128::from(self.cards.max(1)), i128::from(other.cards.max(1)));
        (b * n).cmp(&(a * m))
    }
}

/// `sum / n` rounded half up (both non-negative).
pub fn mean_half_up(sum: i64, n: i64) -> i64 {
    if n <= 0 { 0 } else { (2 * sum + n) / (2 * n) }
}

/// Hundredths of a point as people read them: `86.35`.
pub fn points(hundredths: i64) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

/// Competition ranking ("1, 2, 2, 4") of `outcomes`, best first, ties exact; the input order
/// breaks nothing (equal outcomes share a rank).
pub fn rank<T: Copy>(outcomes: &[(T, Outcome)]) -> Vec<(T, Outcome, i64)> {
    let mut sorted: Vec<(T, Outcome)> = outcomes.to_vec();
    sorted.sort_by(|a, b| a.1.compare(&b.1));
    let mut out: Vec<(T, Outcome, i64)> = Vec::with_capacity(sorted.len());
    for (i, (id, o)) in sorted.into_iter().enumerate() {
        let r = match out.last() {
            Some((_, prev, r)) if prev.compare(&o) == Ordering::Equal => *r,
            _ => i as i64 + 1,
        };
        out.push((id, o, r));
    }
    out
}

/// Why a round cannot be published yet, per subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// No organisation free of ties is assigned to it.
    NoEvaluator { subject: i64 },
    /// An assigned organisation has not submitted its scorecard.
    NotSubmitted { subject: i64, org: i64 },
}

/// A subject's computed result: the outcome, its rank within its kind, and each dimension's mean
/// in hundredths (half up), in `Dimension::ALL`'s order; `None` without a submitted card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectResult {
    pub subject: i64,
    pub kind: EvaluatedKind,
    pub outcome: Outcome,
    pub rank: i64,
    pub dimensions: [i64; 7],
}

/// A round's results from its facts: `subjects` (id, kind), the `expected` (subject,
/// organisation) pairs — assigned and free of ties — and the submitted full `cards`. Cards of
/// pairs not expected (a tie declared after submitting) count for nothing. Subjects without a
/// counted card have no result; every gap is named in the second list.
pub fn tally(
    weights: &Weights,
    subjects: &[(i64, EvaluatedKind)],
    expected: &[(i64, i64)],
    cards: &[(i64, i64, Scorecard)],
) -> (Vec<SubjectResult>, Vec<Missing>) {
    let mut missing = Vec::new();
    let mut counted: Vec<(i64, EvaluatedKind, Vec<Scorecard>)> = Vec::new();
    for &(subject, kind) in subjects {
        let orgs: Vec<i64> = expected.iter().filter(|(s, _)| *s == subject).map(|(_, o)| *o).collect();
        if orgs.is_empty() {
            missing.push(Missing::NoEvaluator { subject });
        }
        let mut mine = Vec::new();
        for org in orgs {
            match cards.iter().find(|(s, o, _)| *s == subject && *o == org) {
                Some((_, _, card)) => mine.push(*card),
                None => missing.push(Missing::NotSubmitted { subject, org }),
            }
        }
        if !mine.is_empty() {
            counted.push((subject, kind, mine));
        }
    }
    let mut results = Vec::new();
    for kind in EvaluatedKind::ALL {
        let of_kind: Vec<(usize, Outcome)> = counted
            .iter()
            .enumerate()
            .filter(|(_, (_, k, _))| k == kind)
            .map(|(i, (_, _, cards))| (i, Outcome::of(weights, cards)))
            .collect();
        for (i, outcome, rank) in rank(&of_kind) {
            let (subject, kind, cards) = &counted[i];
            let mut dimensions = [0; 7];
            for (d, mean) in dimensions.iter_mut().enumerate() {
                let sum: i64 = cards.iter().map(|c| c.0[d] * 100).sum();
                *mean = mean_half_up(sum, cards.len() as i64);
            }
            results.push(SubjectResult { subject: *subject, kind: *kind, outcome, rank, dimensions });
        }
    }
    (results, missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weights(w: [&str; 7]) -> WeightsForm {
        WeightsForm {
            weight_employment: w[0].into(),
            weight_community: w[1].into(),
            weight_brand: w[2].into(),
            weight_quality: w[3].into(),
            weight_training: w[4].into(),
            weight_integrity: w[5].into(),
            weight_standards: w[6].into(),
        }
    }

    #[test]
    fn the_seven_weights_are_whole_percents_that_sum_to_exactly_100() {
        let w = weights(["20", "15", "15", "15", "15", "10", "10"]).parse().unwrap();
        assert_eq!(w, Weights::suggested());
        assert_eq!(w.pairs().map(|(_, x)| x).sum::<i64>(), 100);
        let short = weights(["20", "15", "15", "15", "15", "10", "9"]).parse().unwrap_err();
        assert_eq!(short.for_field("weights").unwrap().code, "weights_sum");
        assert!(short.for_field("weights").unwrap().message_zh.contains("99"));
        let over = weights(["30", "15", "15", "15", "15", "10", "10"]).parse().unwrap_err();
        assert!(over.for_field("weights").unwrap().message_en.contains("110"));
        let bad = weights(["0", "15", "x", "15.5", "", "10", "101"]).parse().unwrap_err();
        let code = |f: &str| bad.for_field(f).unwrap().code;
        assert_eq!(code("weight_employment"), "out_of_scale", "every dimension counts");
        assert_eq!(code("weight_brand"), "not_a_number");
        assert_eq!(code("weight_quality"), "out_of_scale", "whole percents only");
        assert_eq!(code("weight_training"), "required");
        assert_eq!(code("weight_standards"), "out_of_scale");
        assert!(bad.for_field("weights").is_none(), "the sum is said once the parts are right");
        let stored: Vec<(String, i64)> = w.pairs().map(|(d, x)| (d.as_str().to_string(), x)).collect();
        assert_eq!(Weights::from_pairs(&stored), Some(w));
        assert_eq!(Weights::from_pairs(&stored[1..]), None);
    }

    #[test]
    fn a_round_form_reports_every_field_and_keeps_the_kinds_in_order() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        let form = RoundForm {
            name: "2025年度家政企业第三方评价".into(),
            year: "2025".into(),
            period: "全年".into(),
            kinds: vec!["community".into(), "agency".into(), "agency".into()],
            weights: WeightsForm::of(&Weights::suggested()),
        };
        let draft = form.parse(today).unwrap();
        assert_eq!(draft.kinds, vec![EvaluatedKind::Agency, EvaluatedKind::Community]);
        assert_eq!((draft.year, draft.period), (2025, Period::Year));
        assert_eq!(kinds_of(kinds_mask(&draft.kinds)), draft.kinds);
        let bad = RoundForm { name: " ".into(), year: "2027".into(), period: "month".into(), ..Default::default() }
            .parse(today)
            .unwrap_err();
        for (field, code) in [
            ("name", "required"),
            ("year", "bad_year"),
            ("period", "unknown_choice"),
            ("kinds", "no_kinds"),
            ("weight_brand", "required"),
        ] {
            assert_eq!(bad.for_field(field).map(|e| e.code), Some(code), "{field}");
        }
    }

    #[test]
    fn a_score_is_a_whole_point_on_the_scale_with_a_note_or_a_file() {
        let form = |score: &str, note: &str| ScoreForm {
            dimension: "brand".into(),
            score: score.into(),
            note: note.into(),
            evidence_id: None,
        };
        let ok = form("88", "  获评市级品牌\r\n有证书 ").parse(false).unwrap();
        assert_eq!((ok.dimension, ok.score, ok.note.as_deref()), (Dimension::Brand, 88, Some("获评市级品牌\n有证书")));
        assert_eq!(form("0", "").parse(true).unwrap().score, 0, "a file alone is evidence");
        let kept = ScoreForm { evidence_id: Some(7), ..form("100", "") };
        assert_eq!(kept.parse(false).unwrap().evidence_id, Some(7), "a file uploaded before");
        for (score, code) in [
            ("101", "out_of_scale"),
            ("-1", "out_of_scale"),
            ("88.5", "out_of_scale"),
            ("高", "not_a_number"),
            ("", "required"),
        ] {
            let e = form(score, "依据").parse(false).unwrap_err();
            assert_eq!(e.for_field("score_brand").map(|e| e.code), Some(code), "{score}");
        }
        let none = form("80", " ").parse(false).unwrap_err();
        assert_eq!(none.for_field("evidence_brand").unwrap().code, "no_evidence");
        let long = form("80", &"字".repeat(NOTE_MAX + 1)).parse(true).unwrap_err();
        assert_eq!(long.for_field("note_brand").unwrap().code, "too_long");
        let dim = ScoreForm { dimension: "beauty".into(), ..form("80", "x") }.parse(false).unwrap_err();
        assert_eq!(dim.for_field("dimension").unwrap().code, "unknown_choice");
    }

    #[test]
    fn the_weighted_total_is_exact_in_hundredths() {
        let w = weights(["23", "17", "13", "11", "19", "9", "8"]).parse().unwrap();
        let card = Scorecard([91, 77, 83, 69, 88, 95, 72]);
        // 23·91 + 17·77 + 13·83 + 11·69 + 19·88 + 9·95 + 8·72 = 8343 hundredths = 83.43.
        assert_eq!(w.total_hundredths(&card), 8343);
        assert_eq!(points(8343), "83.43");
        assert_eq!(points(10000), "100.00");
        assert_eq!(points(5), "0.05");
        // Every score at the top of the scale is exactly 100 points, whatever the weights.
        assert_eq!(w.total_hundredths(&Scorecard([100; 7])), 10000);
        let two = Outcome::of(&w, &[card, Scorecard([90, 77, 83, 69, 88, 95, 72])]);
        assert_eq!(two.sum_hundredths, 8343 + 8320);
        assert_eq!(two.total_hundredths(), 8332, "(8343 + 8320) / 2 = 8331.5, half up");
        assert_eq!(mean_half_up(7, 3), 2);
        assert_eq!(mean_half_up(8, 3), 3);
    }

    #[test]
    fn ranks_are_exact_and_ties_share_a_place() {
        let o = |sum, cards| Outcome { sum_hundredths: sum, cards };
        // 16551/2 = 8275.5 and 8276 round alike but are not equal; 8275.5 ties 16551/2 only.
        let ranked = rank(&[('a', o(16551, 2)), ('b', o(8276, 1)), ('c', o(16551, 2)), ('d', o(9000, 1))]);
        let order: Vec<(char, i64)> = ranked.iter().map(|(id, _, r)| (*id, *r)).collect();
        assert_eq!(order, vec![('d', 1), ('b', 2), ('a', 3), ('c', 3)]);
        assert!(rank::<u8>(&[]).is_empty());
    }

    #[test]
    fn a_tally_ranks_within_each_kind_and_names_every_gap() {
        let w = Weights::suggested();
        let (a, b, c, school) = (1, 2, 3, 4);
        let (x, y) = (10, 20);
        let subjects = [
            (a, EvaluatedKind::Agency),
            (b, EvaluatedKind::Agency),
            (c, EvaluatedKind::Agency),
            (school, EvaluatedKind::Provider),
        ];
        // Agency c has no organisation free of ties; x and y both score a; y has not submitted b.
        let expected = [(a, x), (a, y), (b, x), (b, y), (school, x)];
        let cards = [
            (a, x, Scorecard([80; 7])),
            (a, y, Scorecard([91, 80, 80, 80, 80, 80, 80])),
            (b, x, Scorecard([90; 7])),
            (school, x, Scorecard([60; 7])),
            // A card of a pair no longer expected (a tie declared since) counts for nothing.
            (c, y, Scorecard([100; 7])),
        ];
        let (results, missing) = tally(&w, &subjects, &expected, &cards);
        assert_eq!(missing, vec![Missing::NotSubmitted { subject: b, org: y }, Missing::NoEvaluator { subject: c }]);
        let ids: Vec<(i64, i64)> = results.iter().map(|r| (r.subject, r.rank)).collect();
        assert_eq!(ids, vec![(b, 1), (a, 2), (school, 1)], "ranked within kind; c has no counted card");
        let a_result = results.iter().find(|r| r.subject == a).unwrap();
        // a: 8000 and 8000 + 20·11 = 8220; mean 8110 hundredths; the first dimension 85.50.
        assert_eq!(a_result.outcome, Outcome { sum_hundredths: 16220, cards: 2 });
        assert_eq!(a_result.outcome.total_hundredths(), 8110);
        assert_eq!(a_result.dimensions[0], 8550);
        assert_eq!(a_result.dimensions[1], 8000);
    }
}
