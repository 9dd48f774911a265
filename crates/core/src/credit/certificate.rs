//! The home-service certificate (居家上门服务证): who may get one, and its colour today, computed
//! from current facts rather than stored once.

use chrono::NaiveDate;
use serde::Serialize;

use crate::workforce::compliance::{Compliance, Condition};

/// Green: identity verified, health check and insurance valid. Yellow: identity verified but a
/// health check or insurance missing or lapsed. Red: identity not verified, or revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Colour {
    Green,
    Yellow,
    Red,
}

impl Colour {
    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<Self> {
        [Colour::Green, Colour::Yellow, Colour::Red].get(usize::from(code)).copied()
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Colour::Green => "green",
            Colour::Yellow => "yellow",
            Colour::Red => "red",
        }
    }

    pub fn label(self, english: bool) -> &'static str {
        match (self, english) {
            (Colour::Green, false) => "绿色 · 可上门服务",
            (Colour::Yellow, false) => "黄色 · 体检或保险待更新",
            (Colour::Red, false) => "红色 · 不可上门服务",
            (Colour::Green, true) => "Green · may serve in homes",
            (Colour::Yellow, true) => "Yellow · health check or insurance to renew",
            (Colour::Red, true) => "Red · may not serve in homes",
        }
    }
}

/// The colour from today's facts.
pub fn colour(identity_verified: bool, revoked: bool, compliance: &Compliance) -> Colour {
    let met = |c| compliance.check(c).standing.is_met();
    if !identity_verified || revoked {
        Colour::Red
    } else if met(Condition::HealthCheck) && met(Condition::Insurance) {
        Colour::Green
    } else {
        Colour::Yellow
    }
}

/// What the door may say of a worker today: the services they meet every rule for (pre-job
/// training, the health check and skill certificate each service asks, insurance), the services
/// they offer but do not meet them for, and the colour of the services listed as servable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoorFacts {
    pub ready: crate::registry::ServiceSet,
    pub not_ready: crate::registry::ServiceSet,
    pub colour: Colour,
}

pub fn door_facts(
    identity_verified: bool,
    revoked: bool,
    facts: &crate::workforce::compliance::Facts,
    offered: crate::registry::ServiceSet,
    today: NaiveDate,
) -> DoorFacts {
    use crate::workforce::compliance::{Requirement, assess};
    let (ready, not_ready): (Vec<_>, Vec<_>) = offered.kinds().into_iter().partition(|service| {
        let compliance = assess(facts, &Requirement::for_service(*service), today);
        [Condition::PreJobTraining, Condition::HealthCheck, Condition::Skill, Condition::Insurance]
            .iter()
            .all(|c| compliance.check(*c).standing.is_met())
    });
    if !identity_verified || revoked {
        // Red: nobody may be let in on this card, whatever the records would allow.
        return DoorFacts { ready: Default::default(), not_ready: offered, colour: Colour::Red };
    }
    let colour = if ready.is_empty() { Colour::Yellow } else { Colour::Green };
    DoorFacts { ready: ready.into_iter().collect(), not_ready: not_ready.into_iter().collect(), colour }
}

/// Why a certificate cannot be issued now; empty when it can. Issued only when identity is
/// verified, a health check within 12 months passed and pre-job training with an exam passed.
pub fn refusals(identity_verified: bool, compliance: &Compliance) -> Vec<(&'static str, String, String)> {
    let mut out = Vec::new();
    if !identity_verified {
        out.push(("identity", "身份尚未核验".to_string(), "identity has not been verified".to_string()));
    }
    for condition in [Condition::HealthCheck, Condition::PreJobTraining] {
        let check = compliance.check(condition);
        if !check.standing.is_met() {
            out.push((condition.as_str(), check.reason_zh.clone(), check.reason_en.clone()));
        }
    }
    out
}

/// The certificate number: district, the worker's serial and, from the second card on, which
/// card of the worker's it is. A revoked number is never given again.
pub fn number(district: &str, worker: i64, card: i64) -> String {
    let district = &district[..district.len().min(6)];
    if card <= 1 { format!("JZ-{district}-{worker:06}") } else { format!("JZ-{district}-{worker:06}-{card}") }
}

/// How long a card is printed valid for: a year, and never past the health check's expiry.
pub fn valid_until(issued_on: NaiveDate, health_expires: Option<NaiveDate>) -> NaiveDate {
    let year = issued_on.checked_add_months(chrono::Months::new(12)).unwrap_or(issued_on);
    health_expires.map_or(year, |h| h.min(year))
}

/// A name as the card shows it: the first and last characters, the middle hidden.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => name.to_string(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::ServiceKind;
    use crate::workforce::compliance::{Facts, HealthFact, PolicyFact, Requirement, TrainingFact, assess};
    use crate::workforce::{CourseKind, HealthCategory, Source};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn facts(checked: &str) -> Facts {
        Facts {
            trainings: vec![TrainingFact {
                course_id: None,
                kind: CourseKind::PreJob,
                completed_on: Some(d("2026-01-10")),
                passed: Some(true),
                source: Source::Provider,
            }],
            health_checks: vec![HealthFact { checked_on: d(checked), category: HealthCategory::InHome, passed: true }],
            policies: vec![PolicyFact { starts_on: d("2026-01-01"), ends_on: d("2026-12-31") }],
            certificates: vec![],
        }
    }

    fn compliance(checked: &str, today: &str) -> Compliance {
        assess(&facts(checked), &Requirement::for_service(ServiceKind::Cleaning), d(today))
    }

    #[test]
    fn an_expired_health_check_turns_green_yellow_without_reissuing() {
        assert_eq!(colour(true, false, &compliance("2025-12-01", "2026-11-29")), Colour::Green);
        assert_eq!(colour(true, false, &compliance("2025-12-01", "2026-12-05")), Colour::Yellow);
        assert_eq!(colour(false, false, &compliance("2025-12-01", "2026-11-29")), Colour::Red);
        assert_eq!(colour(true, true, &compliance("2025-12-01", "2026-11-29")), Colour::Red);
    }

    #[test]
    fn issuing_needs_identity_a_current_health_check_and_pre_job_training() {
        assert!(refusals(true, &compliance("2026-06-01", "2026-11-29")).is_empty());
        let reasons: Vec<&str> =
            refusals(false, &compliance("2025-06-01", "2026-11-29")).iter().map(|(code, _, _)| *code).collect();
        assert_eq!(reasons, ["identity", "health_check"]);
    }

    #[test]
    fn the_door_lists_only_the_services_met_today_and_colours_them() {
        let offered: crate::registry::ServiceSet =
            [ServiceKind::Cleaning, ServiceKind::Maternity].into_iter().collect();
        // An in-home health check, no maternal-care certificate: cleaning yes, maternity apart.
        let door = door_facts(true, false, &facts("2026-06-01"), offered, d("2026-11-29"));
        assert_eq!(door.ready.kinds(), [ServiceKind::Cleaning]);
        assert_eq!(door.not_ready.kinds(), [ServiceKind::Maternity]);
        assert_eq!(door.colour, Colour::Green, "green for the cleaning it lists");
        // The health check lapsed: nothing servable, yellow.
        let door = door_facts(true, false, &facts("2025-06-01"), offered, d("2026-11-29"));
        assert!(door.ready.is_empty());
        assert_eq!(door.colour, Colour::Yellow);
        // Unverified or revoked: red, and nothing listed as servable even where the records would be.
        for (verified, revoked) in [(false, false), (true, true)] {
            let door = door_facts(verified, revoked, &facts("2026-06-01"), offered, d("2026-11-29"));
            assert_eq!(door.colour, Colour::Red);
            assert!(door.ready.is_empty(), "verified {verified}, revoked {revoked}");
            assert_eq!(door.not_ready, offered);
        }
    }

    #[test]
    fn names_numbers_and_validity_are_printed_carefully() {
        assert_eq!(mask_name("王秀英"), "王*英");
        assert_eq!(mask_name("欧阳秀兰"), "欧**兰");
        assert_eq!(mask_name("李静"), "李*");
        assert_eq!(number("220102001", 42, 1), "JZ-220102-000042");
        assert_eq!(number("220102001", 42, 2), "JZ-220102-000042-2");
        assert_eq!(valid_until(d("2026-11-29"), Some(d("2027-03-01"))), d("2027-03-01"));
        assert_eq!(valid_until(d("2026-11-29"), None), d("2027-11-29"));
        assert_eq!(Colour::from_code(Colour::Yellow.code()), Some(Colour::Yellow));
        assert_eq!(Colour::from_code(9), None);
    }
}
