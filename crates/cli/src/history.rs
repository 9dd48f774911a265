//! Synthetic workforce histories for demo workers: training (some overdue for retraining),
//! certificates, health checks (some expired, some of a weaker category than the work needs,
//! a few failed) and insurance (some lapsed), so boards and rates have something true to show.

use chrono::{Duration, Months, NaiveDate};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::registry::{ServiceKind, ServiceSet};
use jiazheng_core::workforce::compliance::Requirement;
use jiazheng_core::workforce::records::{
    CertificateDraft, CourseDraft, HealthCheckDraft, InsuranceDraft, ProviderDraft, TrainingDraft,
};
use jiazheng_core::workforce::{
    CertificateKind, CourseKind, CourseMode, HealthCategory, InsuranceKind, ProviderKind, SkillLevel, Trade,
};
use rand::RngExt;
use rand::rngs::StdRng;

/// The records of one worker, before the worker has an id.
#[derive(Debug, Default)]
pub struct History {
    pub trainings: Vec<TrainingDraft>,
    pub certificates: Vec<CertificateDraft>,
    pub health_checks: Vec<HealthCheckDraft>,
    pub policies: Vec<InsuranceDraft>,
}

const PROVIDERS: &[(&str, ProviderKind, &str, &str)] = &[
    ("长春市春城家政职业培训学校", ProviderKind::TrainingBase, "220102", "岗前培训、母婴护理、养老照护"),
    ("长春市北国家政服务实训基地", ProviderKind::PracticeBase, "220104", "家务服务实训、收纳整理"),
    ("长春市惠民职业技能培训中心", ProviderKind::TrainingBase, "220105", "家庭照护员、育婴员"),
    ("长春市长青家政服务学院", ProviderKind::College, "220106", "家政服务与管理专业学历教育"),
    ("长春市暖家职业培训学校", ProviderKind::TrainingBase, "220103", "回炉培训、职业经理人"),
];

/// Synthetic schools and training bases, with made-up codes (10 digits, 学校标识码 shaped).
pub fn providers() -> Vec<ProviderDraft> {
    PROVIDERS
        .iter()
        .enumerate()
        .map(|(i, (name, kind, district, teaches))| ProviderDraft {
            kind: *kind,
            name: name.to_string(),
            code: format!("41{district}{i:02}"),
            district: DivisionCode::parse(district).expect("known district"),
            teaches: teaches.to_string(),
        })
        .collect()
}

pub fn courses() -> Vec<CourseDraft> {
    vec![
        CourseDraft {
            name: "家政服务员岗前培训".into(),
            kind: CourseKind::PreJob,
            mode: CourseMode::InPerson,
            hours: 40,
            trade: Some(Trade::Housekeeping),
        },
        CourseDraft {
            name: "母婴护理员（四级）".into(),
            kind: CourseKind::SkillUpgrade,
            mode: CourseMode::InPerson,
            hours: 120,
            trade: Some(Trade::Maternity),
        },
        CourseDraft {
            name: "家政服务员回炉培训".into(),
            kind: CourseKind::Retraining,
            mode: CourseMode::Online,
            hours: 16,
            trade: None,
        },
    ]
}

fn days_before(today: NaiveDate, rng: &mut StdRng, min: i64, max: i64) -> NaiveDate {
    today - Duration::days(rng.random_range(min..=max))
}

fn trade_for(services: ServiceSet) -> Trade {
    if services.contains(ServiceKind::Maternity) || services.contains(ServiceKind::Childcare) {
        Trade::Maternity
    } else if services.contains(ServiceKind::ElderlyCare) || services.contains(ServiceKind::PatientCare) {
        Trade::HomeCare
    } else {
        Trade::Housekeeping
    }
}

fn weaker(category: HealthCategory) -> HealthCategory {
    match category {
        HealthCategory::Maternity | HealthCategory::ElderlyCare => HealthCategory::InHome,
        _ => HealthCategory::General,
    }
}

/// A believable history for a worker offering `services`, as of `today`.
pub fn history(rng: &mut StdRng, services: ServiceSet, today: NaiveDate) -> History {
    let mut h = History::default();
    let institutions =
        ["长春市疾病预防控制中心", "南关区社区卫生服务中心", "朝阳区人民医院体检中心", "吉林大学第一医院体检中心"];
    let providers: Vec<&str> = PROVIDERS.iter().map(|p| p.0).collect();
    if rng.random_bool(0.9) {
        let done = days_before(today, rng, 20, 365 * 5);
        let passed = rng.random_bool(0.94);
        h.trainings.push(TrainingDraft {
            course_kind: CourseKind::PreJob,
            course_name: "家政服务员岗前培训".into(),
            provider_name: providers[rng.random_range(0..providers.len())].into(),
            mode: CourseMode::InPerson,
            hours: 40,
            started_on: done - Duration::days(10),
            completed_on: done,
            exam_passed: Some(passed),
            exam_score: Some(if passed { rng.random_range(60..=98) } else { rng.random_range(30..60) }),
        });
        // Most of those trained long ago came back within two years; some did not.
        if done < today - Duration::days(700) && rng.random_bool(0.7) {
            let again = days_before(today, rng, 10, 700);
            h.trainings.push(TrainingDraft {
                course_kind: CourseKind::Retraining,
                course_name: "家政服务员回炉培训".into(),
                provider_name: providers[rng.random_range(0..providers.len())].into(),
                mode: CourseMode::Online,
                hours: 16,
                started_on: again - Duration::days(2),
                completed_on: again,
                exam_passed: Some(true),
                exam_score: Some(rng.random_range(70..=99)),
            });
        }
    }
    let needed = Requirement::for_services(services).health;
    if rng.random_bool(0.9) {
        // Checks from the last 15 months: about one in five has lapsed.
        let checked = days_before(today, rng, 5, 450);
        let category = if rng.random_bool(0.9) { needed } else { weaker(needed) };
        h.health_checks.push(HealthCheckDraft {
            checked_on: checked,
            institution: institutions[rng.random_range(0..institutions.len())].into(),
            category,
            passed: rng.random_bool(0.97),
            notes: None,
        });
    }
    if rng.random_bool(0.8) {
        let starts = days_before(today, rng, 0, 420);
        h.policies.push(InsuranceDraft {
            kind: InsuranceKind::Accident,
            insurer: ["中国人寿长春分公司", "中国人保吉林分公司", "太平洋保险长春中心支公司"][rng.random_range(0..3)]
                .into(),
            policy_number: format!("PA{}{:08}", starts.format("%Y%m"), rng.random_range(0..100_000_000)),
            starts_on: starts,
            ends_on: starts.checked_add_months(Months::new(12)).unwrap_or(starts) - Duration::days(1),
            sum_insured_fen: 50_000_000,
        });
    }
    if rng.random_bool(0.55) {
        let trade = trade_for(services);
        let issued = days_before(today, rng, 30, 365 * 6);
        let level = [SkillLevel::Level5, SkillLevel::Level4, SkillLevel::Level3][rng.random_range(0..3)];
        h.certificates.push(CertificateDraft {
            kind: CertificateKind::Occupational,
            trade: Some(trade),
            level: Some(level),
            issuer: "长春市人力资源和社会保障局".into(),
            number: format!("2201{}{:06}", issued.format("%Y"), rng.random_range(0..1_000_000)),
            issued_on: issued,
            valid_until: None,
        });
    }
    h
}

/// An employer-liability policy covering all of an agency's workers.
pub fn agency_policy(rng: &mut StdRng, today: NaiveDate) -> InsuranceDraft {
    let starts = days_before(today, rng, 0, 400);
    InsuranceDraft {
        kind: InsuranceKind::EmployerLiability,
        insurer: "中国平安财产保险吉林分公司".into(),
        policy_number: format!("EL{}{:06}", starts.format("%Y%m"), rng.random_range(0..1_000_000)),
        starts_on: starts,
        ends_on: starts.checked_add_months(Months::new(12)).unwrap_or(starts) - Duration::days(1),
        sum_insured_fen: 100_000_000,
    }
}
