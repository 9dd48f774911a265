//! Readiness spans agree with the rules assessed day by day, whatever the facts.

use chrono::{Duration, NaiveDate};
use jiazheng_core::registry::ServiceKind;
use jiazheng_core::workforce::compliance::{
    CertificateFact, Facts, HealthFact, PolicyFact, Requirement, TrainingFact, assess, first_unready_day, ready_spans,
};
use jiazheng_core::workforce::{CertificateKind, CourseKind, HealthCategory, SkillLevel, Source, Trade};
use proptest::prelude::*;

fn base() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()
}

/// A day within about four years of the base, so facts lapse and start inside the window.
fn day() -> impl Strategy<Value = NaiveDate> {
    (0i64..1500).prop_map(|n| base() + Duration::days(n))
}

fn pick<T: Copy + std::fmt::Debug + 'static>(all: &'static [T]) -> impl Strategy<Value = T> {
    (0..all.len()).prop_map(move |i| all[i])
}

fn training() -> impl Strategy<Value = TrainingFact> {
    (pick(CourseKind::ALL), proptest::option::of(day()), proptest::option::of(any::<bool>()), pick(Source::ALL))
        .prop_map(|(kind, completed_on, passed, source)| TrainingFact {
            course_id: None,
            kind,
            completed_on,
            passed,
            source,
        })
}

fn health() -> impl Strategy<Value = HealthFact> {
    (day(), pick(HealthCategory::ALL), any::<bool>()).prop_map(|(checked_on, category, passed)| HealthFact {
        checked_on,
        category,
        passed,
    })
}

fn policy() -> impl Strategy<Value = PolicyFact> {
    (day(), 0i64..500).prop_map(|(starts_on, days)| PolicyFact { starts_on, ends_on: starts_on + Duration::days(days) })
}

fn certificate() -> impl Strategy<Value = CertificateFact> {
    (
        pick(CertificateKind::ALL),
        proptest::option::of(pick(Trade::ALL)),
        proptest::option::of(pick(SkillLevel::ALL)),
        proptest::option::of(day()),
    )
        .prop_map(|(kind, trade, level, valid_until)| CertificateFact { kind, trade, level, valid_until })
}

/// Facts that often meet the rules: a passed pre-job course, a passed check of the strictest
/// category and certificates for every trade, each dated at random, plus random other records.
fn facts() -> impl Strategy<Value = Facts> {
    (
        (day(), day(), day(), proptest::option::of(day())),
        proptest::collection::vec(training(), 0..3),
        proptest::collection::vec(health(), 0..3),
        proptest::collection::vec(policy(), 0..3),
        proptest::collection::vec(certificate(), 0..3),
    )
        .prop_map(
            |((trained, checked, elderly_until, maternal_until), trainings, health_checks, policies, certificates)| {
                let mut facts = Facts { trainings, health_checks, policies, certificates };
                facts.trainings.push(TrainingFact {
                    course_id: None,
                    kind: CourseKind::PreJob,
                    completed_on: Some(trained),
                    passed: Some(true),
                    source: Source::Agency,
                });
                facts.health_checks.push(HealthFact {
                    checked_on: checked,
                    category: HealthCategory::Maternity,
                    passed: true,
                });
                facts.certificates.push(CertificateFact {
                    kind: CertificateKind::ElderlyCare,
                    trade: None,
                    level: None,
                    valid_until: Some(elderly_until),
                });
                facts.certificates.push(CertificateFact {
                    kind: CertificateKind::Occupational,
                    trade: Some(Trade::Maternity),
                    level: Some(SkillLevel::Level4),
                    valid_until: maternal_until,
                });
                facts
            },
        )
}

fn covered(spans: &[(NaiveDate, Option<NaiveDate>)], day: NaiveDate) -> bool {
    spans.iter().any(|(start, end)| *start <= day && end.is_none_or(|end| day < end))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn spans_cover_exactly_the_days_the_rules_pass(facts in facts(), service in pick(ServiceKind::ALL), start in 200i64..900, offset_to in 0i64..120) {
        let requirement = Requirement::for_service(service);
        let from = base() + Duration::days(start);
        let spans = ready_spans(&facts, &requirement, from);
        for offset in 0..1200 {
            let day = from + Duration::days(offset);
            prop_assert_eq!(covered(&spans, day), assess(&facts, &requirement, day).compliant, "on {}", day);
        }
        let last = from + Duration::days(offset_to);
        let unready = (0..=(last - from).num_days()).map(|n| from + Duration::days(n))
            .find(|day| !assess(&facts, &requirement, *day).compliant);
        prop_assert_eq!(first_unready_day(&facts, &requirement, from, last), unready);
        // Spans are kept apart and in order, so one span holds any run of ready days.
        for pair in spans.windows(2) {
            prop_assert!(pair[0].1.is_some_and(|end| end < pair[1].0));
        }
    }
}

#[test]
fn a_worker_whose_insurance_ends_is_ready_until_the_day_after_its_last_day() {
    let on = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
    let facts = Facts {
        trainings: vec![TrainingFact {
            course_id: None,
            kind: CourseKind::PreJob,
            completed_on: Some(on(2026, 3, 1)),
            passed: Some(true),
            source: Source::Agency,
        }],
        health_checks: vec![HealthFact { checked_on: on(2026, 6, 1), category: HealthCategory::InHome, passed: true }],
        policies: vec![
            PolicyFact { starts_on: on(2026, 1, 1), ends_on: on(2026, 12, 31) },
            PolicyFact { starts_on: on(2027, 2, 1), ends_on: on(2027, 12, 31) },
        ],
        certificates: vec![],
    };
    let spans = ready_spans(&facts, &Requirement::for_service(ServiceKind::Cleaning), on(2026, 12, 2));
    // Uninsured in January; the health check lapses on 2027-06-01.
    assert_eq!(spans, [(on(2026, 12, 2), Some(on(2027, 1, 1))), (on(2027, 2, 1), Some(on(2027, 6, 1)))]);
}
