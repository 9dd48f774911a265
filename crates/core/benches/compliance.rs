//! How long the rule set takes for one worker: the market calls it for every candidate it
//! shows, and the daily job for every worker in the city. Run: `cargo bench -p jiazheng-core`.

use chrono::NaiveDate;
use divan::black_box;
use jiazheng_core::registry::{ServiceKind, ServiceSet};
use jiazheng_core::workforce::compliance::{
    CertificateFact, Facts, HealthFact, PolicyFact, Requirement, TrainingFact, assess,
};
use jiazheng_core::workforce::{CertificateKind, CourseKind, HealthCategory, SkillLevel, Source, Trade};

fn main() {
    divan::main();
}

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// A worker with a long history: eight years of trainings, yearly health checks, yearly
/// policies and three certificates, some of them disputed or lapsed.
fn long_history() -> Facts {
    let mut facts = Facts::default();
    for year in 2018..2027 {
        facts.trainings.push(TrainingFact {
            course_id: Some(i64::from(year)),
            kind: if year == 2018 { CourseKind::PreJob } else { CourseKind::Retraining },
            completed_on: Some(d(&format!("{year}-03-01"))),
            passed: Some(true),
            source: if year % 2 == 0 { Source::Provider } else { Source::Agency },
        });
        facts.health_checks.push(HealthFact {
            checked_on: d(&format!("{year}-06-01")),
            category: if year % 3 == 0 { HealthCategory::InHome } else { HealthCategory::Maternity },
            passed: year != 2021,
        });
        facts
            .policies
            .push(PolicyFact { starts_on: d(&format!("{year}-01-01")), ends_on: d(&format!("{year}-12-31")) });
    }
    for (trade, level) in [(Trade::Housekeeping, SkillLevel::Level5), (Trade::Maternity, SkillLevel::Level4)] {
        facts.certificates.push(CertificateFact {
            kind: CertificateKind::Occupational,
            trade: Some(trade),
            level: Some(level),
            valid_until: None,
        });
    }
    facts.certificates.push(CertificateFact {
        kind: CertificateKind::Childcare,
        trade: None,
        level: None,
        valid_until: Some(d("2025-12-31")),
    });
    facts
}

#[divan::bench]
fn one_worker_one_service(bencher: divan::Bencher) {
    let facts = long_history();
    let requirement = Requirement::for_service(ServiceKind::Maternity);
    let today = d("2026-11-29");
    bencher.bench(|| assess(black_box(&facts), black_box(&requirement), black_box(today)));
}

#[divan::bench]
fn one_worker_every_service_offered(bencher: divan::Bencher) {
    let facts = long_history();
    let services: ServiceSet = ServiceKind::ALL.iter().copied().collect();
    let today = d("2026-11-29");
    bencher.bench(|| {
        let requirement = Requirement::for_services(black_box(services));
        let result = assess(black_box(&facts), &requirement, black_box(today));
        result.reminders()
    });
}
