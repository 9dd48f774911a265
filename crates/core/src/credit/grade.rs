//! The credit grade: a score from ledger facts, each point traced to the entries behind it.
//! Ratings enter as a Bayesian average, so one five-star review does not outrank a hundred
//! four-and-a-half-star ones. The weights are data (`weights.json`), published for all to read.

use serde::{Deserialize, Serialize};

use super::EntryKind;

/// The published weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Weights {
    pub base: f64,
    pub identity_verified: f64,
    pub per_passed_training: f64,
    pub max_training: f64,
    pub certificate: f64,
    pub health_valid: f64,
    pub insured: f64,
    pub rating_prior_mean: f64,
    pub rating_prior_count: f64,
    pub points_per_rating_star: f64,
    pub upheld_complaint: f64,
    pub penalty: f64,
    pub false_entry: f64,
    pub reward: f64,
    pub black_list: f64,
    pub red_list: f64,
    pub grade_a: f64,
    pub grade_b: f64,
    pub grade_c: f64,
    /// Per rectification order of an agency past its deadline and not accepted.
    #[serde(default)]
    pub overdue_rectification: f64,
}

/// The weights shipped with the platform.
pub const DEFAULT_WEIGHTS: &str = include_str!("weights.json");

impl Weights {
    pub fn parse(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    pub fn shipped() -> Self {
        Self::parse(DEFAULT_WEIGHTS).expect("the shipped weights parse")
    }
}

/// One ledger fact as the grade reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Fact {
    pub seq: i64,
    pub kind: EntryKind,
    /// Rating stars (1-5) for ratings; `passed` for trainings; the list for list decisions.
    pub value: Option<f64>,
    pub detail: Option<String>,
}

/// Today's standing from the workforce rules, for workers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standing {
    pub health_valid: bool,
    pub insured: bool,
}

impl Standing {
    /// What the workforce rules say today about the checks the grade rewards.
    pub fn of(compliance: &crate::workforce::compliance::Compliance) -> Self {
        use crate::workforce::compliance::Condition;
        let met = |c| compliance.check(c).standing.is_met();
        Self { health_valid: met(Condition::HealthCheck), insured: met(Condition::Insurance) }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contribution {
    pub reason_zh: String,
    pub reason_en: String,
    pub points: f64,
    /// The ledger entries behind these points.
    pub entries: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Grade {
    pub score: f64,
    pub letter: char,
    pub contributions: Vec<Contribution>,
}

fn seqs<'a>(facts: impl Iterator<Item = &'a Fact>) -> Vec<i64> {
    facts.map(|f| f.seq).collect()
}

/// The grade of a subject from its facts. Corrections are expected to be applied already (a
/// corrected entry is left out by the caller).
pub fn grade(facts: &[Fact], standing: Option<Standing>, w: &Weights) -> Grade {
    finish(contributions(facts, standing, w), w)
}

/// An agency's grade: its facts, and its rectification orders overdue today (not a ledger fact:
/// an order stops counting once accepted).
pub fn agency_grade(facts: &[Fact], overdue_rectifications: i64, w: &Weights) -> Grade {
    let mut parts = contributions(facts, None, w);
    if overdue_rectifications > 0 && w.overdue_rectification != 0.0 {
        let n = overdue_rectifications;
        parts.push(Contribution {
            reason_zh: format!("整改逾期{n}项"),
            reason_en: format!("{n} rectification order{} overdue", if n == 1 { "" } else { "s" }),
            points: w.overdue_rectification * n as f64,
            entries: vec![],
        });
    }
    finish(parts, w)
}

fn contributions(facts: &[Fact], standing: Option<Standing>, w: &Weights) -> Vec<Contribution> {
    let mut parts = vec![Contribution {
        reason_zh: "基础分".into(),
        reason_en: "Base score".into(),
        points: w.base,
        entries: vec![],
    }];
    let of = |kind: EntryKind| facts.iter().filter(move |f| f.kind == kind);
    fn counted(n: usize, one: &str, many: &str) -> String {
        format!("{n} {}", if n == 1 { one } else { many })
    }
    let mut add = |zh: String, en: String, points: f64, entries: Vec<i64>| {
        if points != 0.0 {
            parts.push(Contribution { reason_zh: zh, reason_en: en, points, entries });
        }
    };
    if let Some(first) = of(EntryKind::IdentityVerified).next() {
        add("身份已核验".into(), "identity verified".into(), w.identity_verified, vec![first.seq]);
    }
    let passed: Vec<&Fact> = of(EntryKind::Training).filter(|f| f.value == Some(1.0)).collect();
    let training = (passed.len() as f64 * w.per_passed_training).min(w.max_training);
    add(
        format!("{}次培训考核合格", passed.len()),
        format!("{} passed", counted(passed.len(), "training", "trainings")),
        training,
        seqs(passed.into_iter()),
    );
    if of(EntryKind::Certificate).next().is_some() {
        add("持有技能证书".into(), "holds a skill certificate".into(), w.certificate, seqs(of(EntryKind::Certificate)));
    }
    if let Some(s) = standing {
        if s.health_valid {
            add("健康体检有效".into(), "health check valid".into(), w.health_valid, seqs(of(EntryKind::HealthCheck)));
        }
        if s.insured {
            add("保险有效".into(), "insured".into(), w.insured, seqs(of(EntryKind::Insurance)));
        }
    }
    let ratings: Vec<&Fact> = of(EntryKind::Rating).filter(|f| f.value.is_some()).collect();
    if !ratings.is_empty() {
        let sum: f64 = ratings.iter().filter_map(|f| f.value).sum();
        let n = ratings.len() as f64;
        let bayes = (w.rating_prior_count * w.rating_prior_mean + sum) / (w.rating_prior_count + n);
        add(
            format!(
                "{}条评价，贝叶斯平均{:.2}星（先验{}星×{}条）",
                n, bayes, w.rating_prior_mean, w.rating_prior_count
            ),
            format!(
                "{}, Bayesian average {bayes:.2} (prior {} × {})",
                counted(ratings.len(), "rating", "ratings"),
                w.rating_prior_mean,
                w.rating_prior_count
            ),
            (bayes - w.rating_prior_mean) * w.points_per_rating_star,
            seqs(ratings.into_iter()),
        );
    }
    for (kind, weight, zh, en) in [
        (EntryKind::ComplaintUpheld, w.upheld_complaint, "成立的投诉", ("upheld complaint", "upheld complaints")),
        (EntryKind::Penalty, w.penalty, "行政处罚", ("penalty", "penalties")),
        (EntryKind::FalseEntry, w.false_entry, "虚假填报", ("false entry", "false entries")),
        (EntryKind::Reward, w.reward, "表彰奖励", ("reward", "rewards")),
    ] {
        let list: Vec<&Fact> = of(kind).collect();
        add(
            format!("{zh}{}次", list.len()),
            counted(list.len(), en.0, en.1),
            weight * list.len() as f64,
            seqs(list.into_iter()),
        );
    }
    // The latest list decision stands: black, red, or removal (no points).
    if let Some(decision) = of(EntryKind::ListDecision).next_back() {
        match decision.detail.as_deref() {
            Some("black") => add("列入黑名单".into(), "on the black list".into(), w.black_list, vec![decision.seq]),
            Some("red") => add("列入红名单".into(), "on the red list".into(), w.red_list, vec![decision.seq]),
            _ => {}
        }
    }
    parts
}

fn finish(parts: Vec<Contribution>, w: &Weights) -> Grade {
    let score = parts.iter().map(|c| c.points).sum::<f64>().clamp(0.0, 100.0);
    let letter = if score >= w.grade_a {
        'A'
    } else if score >= w.grade_b {
        'B'
    } else if score >= w.grade_c {
        'C'
    } else {
        'D'
    };
    Grade { score: (score * 10.0).round() / 10.0, letter, contributions: parts }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(seq: i64, kind: EntryKind, value: Option<f64>) -> Fact {
        Fact { seq, kind, value, detail: None }
    }

    fn ratings(start: i64, stars: &[f64]) -> Vec<Fact> {
        stars.iter().enumerate().map(|(i, s)| fact(start + i as i64, EntryKind::Rating, Some(*s))).collect()
    }

    #[test]
    fn one_perfect_review_does_not_outrank_a_hundred_good_ones() {
        let w = Weights::shipped();
        let one = grade(&ratings(1, &[5.0]), None, &w);
        let hundred = grade(&ratings(1, &[4.5; 100]), None, &w);
        assert!(hundred.score > one.score, "{} vs {}", hundred.score, one.score);
    }

    #[test]
    fn every_point_names_its_entries_and_the_letter_follows_the_thresholds() {
        let w = Weights::shipped();
        let mut facts = vec![
            fact(1, EntryKind::IdentityVerified, None),
            fact(2, EntryKind::Training, Some(1.0)),
            fact(3, EntryKind::Training, Some(0.0)),
            fact(4, EntryKind::Certificate, None),
            fact(5, EntryKind::HealthCheck, None),
        ];
        let good = grade(&facts, Some(Standing { health_valid: true, insured: false }), &w);
        assert_eq!(good.score, 60.0 + 5.0 + 2.0 + 5.0 + 4.0);
        assert_eq!(good.letter, 'B');
        let training = good.contributions.iter().find(|c| c.reason_en == "1 training passed").unwrap();
        assert_eq!(training.entries, [2], "the failed training earns nothing");
        facts.push(fact(6, EntryKind::ComplaintUpheld, None));
        facts.push(Fact { seq: 7, kind: EntryKind::ListDecision, value: None, detail: Some("black".into()) });
        let bad = grade(&facts, None, &w);
        assert_eq!(bad.letter, 'D');
        assert!(bad.contributions.iter().any(|c| c.entries == [7] && c.points == w.black_list));
        let total: f64 = bad.contributions.iter().map(|c| c.points).sum();
        assert_eq!(bad.score, total.clamp(0.0, 100.0));
    }

    #[test]
    fn the_shipped_weights_are_published_as_data() {
        let w = Weights::shipped();
        assert!(w.grade_a > w.grade_b && w.grade_b > w.grade_c);
        assert!(Weights::parse("{\"base\": 1}").is_err(), "every weight must be given");
    }

    #[test]
    fn overdue_rectification_orders_lower_an_agencys_grade_a_little() {
        let w = Weights::shipped();
        assert!(w.overdue_rectification < 0.0 && w.overdue_rectification > w.penalty);
        let none = agency_grade(&[], 0, &w);
        assert_eq!(none, grade(&[], None, &w));
        let two = agency_grade(&[], 2, &w);
        assert_eq!(two.score, none.score + 2.0 * w.overdue_rectification);
        assert!(two.contributions.iter().any(|c| c.reason_zh == "整改逾期2项"));
        let old = r#"{"base":60,"identity_verified":5,"per_passed_training":2,"max_training":8,"certificate":5,
            "health_valid":4,"insured":3,"rating_prior_mean":4,"rating_prior_count":5,"points_per_rating_star":8,
            "upheld_complaint":-8,"penalty":-15,"false_entry":-10,"reward":5,"black_list":-40,"red_list":5,
            "grade_a":85,"grade_b":70,"grade_c":55}"#;
        assert_eq!(Weights::parse(old).unwrap().overdue_rectification, 0.0, "weights published before still read");
    }
}
