//! Demo third-party evaluation: an evaluator organisation with the `evaluator` sign-in; last
//! year's round, scored, published, with front-runners designated (so the public page and the
//! agencies' pages show results); and this year's open round, partly scored. Scores and notes
//! are synthetic.

use chrono::Datelike;
use jiazheng_core::account::{Role, Scope};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::oversight::evaluation::{
    Dimension, EvaluatedKind, OrgForm, Period, RoundDraft, SUGGESTED_FRONT_RUNNERS, ScoreDraft, Weights,
};
use jiazheng_store::accounts::NewAccount;
use jiazheng_store::oversight::evaluation::{NewSubject, ScoreEntry};
use jiazheng_store::registry::agencies::AgencyQuery;
use jiazheng_store::{PageRequest, Store};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::demo::DEMO_PASSWORD;

const NOTES: [&str; 7] = [
    "员工制服务员占比及劳动合同抽查",
    "社区网点运营记录及走访",
    "品牌注册证书及宣传材料",
    "客户回访记录与投诉处理台账",
    "岗前培训、复训记录抽查",
    "信用记录、行业自律公约签署情况",
    "执行国家及地方标准情况",
];

/// Seven scores around `level`, each with its note.
fn card(rng: &mut StdRng, level: i64) -> Vec<ScoreEntry> {
    Dimension::ALL
        .iter()
        .zip(NOTES)
        .map(|(d, note)| ScoreEntry {
            draft: ScoreDraft {
                dimension: *d,
                score: (level + rng.random_range(-8..=8)).clamp(40, 100),
                note: Some(note.to_string()),
                evidence_id: None,
            },
            file: None,
        })
        .collect()
}

pub async fn generate(store: &Store, regulator: i64, demo_agency: i64) -> anyhow::Result<String> {
    let mut rng = StdRng::seed_from_u64(12);
    let org_form = OrgForm {
        name: "吉林省家政服务质量评价中心".into(),
        uscc: String::new(),
        contact: "王经理 0431-88880000".into(),
    };
    let org_draft = org_form.parse().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let org = store.create_evaluator_org(&org_draft, Some(regulator)).await?;
    let evaluator = store
        .create_account(&NewAccount::scoped(
            "evaluator".into(),
            "评价中心评价员".into(),
            DEMO_PASSWORD.into(),
            Role::Evaluator,
            &Scope::Evaluator(org),
        ))
        .await?;
    let mut agencies: Vec<i64> = store
        .search_agencies(&AgencyQuery { page: PageRequest::new(Some(1), Some(12)), ..Default::default() })
        .await?
        .items
        .into_iter()
        .map(|a| a.id)
        .filter(|id| *id != demo_agency)
        .collect();
    agencies.insert(0, demo_agency);
    let this_year = jiazheng_server::api::workers::today().year();

    // Last year's round: agencies, a school and a community, published.
    let past = RoundDraft {
        name: format!("{}年度家政服务机构第三方评价", this_year - 1),
        year: this_year - 1,
        period: Period::Year,
        kinds: vec![EvaluatedKind::Agency, EvaluatedKind::Provider, EvaluatedKind::Community],
        weights: Weights::suggested(),
    };
    let round = store.open_round(&past, regulator).await?;
    let mut subjects = Vec::new();
    for agency in agencies.iter().take(8) {
        subjects.push(store.add_subject(round, &NewSubject::Agency(*agency), regulator).await?);
    }
    if let Some(provider) = store.providers(PageRequest::default()).await?.items.first() {
        subjects.push(store.add_subject(round, &NewSubject::Provider(provider.id), regulator).await?);
    }
    let huayang = DivisionCode::parse("220102001001").map_err(|e| anyhow::anyhow!(e.message_en))?;
    subjects.push(store.add_subject(round, &NewSubject::Community(huayang), regulator).await?);
    store.assign_evaluator(round, org, None, regulator).await?;
    for (i, subject) in subjects.iter().enumerate() {
        let level = if i == 0 { 90 } else { rng.random_range(65..88) };
        store.record_scores(round, *subject, org, &card(&mut rng, level), evaluator).await?;
        store.submit_scorecard(round, *subject, org, evaluator).await?;
    }
    store.publish_round(round, regulator).await?;
    let best = store.published_results(round, None, None, false, PageRequest::new(Some(1), Some(100))).await?;
    let front: Vec<i64> =
        best.items.iter().filter(|r| r.rank <= SUGGESTED_FRONT_RUNNERS).map(|r| r.subject.id).collect();
    store.designate_front_runners(round, &front, regulator).await?;

    // This year's round: agencies, open, a few scored and not yet submitted.
    let open = RoundDraft {
        name: format!("{this_year}年上半年家政企业第三方评价"),
        year: this_year,
        period: Period::FirstHalf,
        kinds: vec![EvaluatedKind::Agency],
        weights: Weights::suggested(),
    };
    let current = store.open_round(&open, regulator).await?;
    let mut open_subjects = Vec::new();
    for agency in agencies.iter().take(5) {
        open_subjects.push(store.add_subject(current, &NewSubject::Agency(*agency), regulator).await?);
    }
    store.assign_evaluator(current, org, None, regulator).await?;
    for subject in open_subjects.iter().skip(1).take(2) {
        let level = rng.random_range(70..90);
        store.record_scores(current, *subject, org, &card(&mut rng, level)[..4], evaluator).await?;
    }
    Ok(format!(
        "evaluation: {} published with {} results and {} front-runners; {} open with {} subjects",
        past.name,
        best.total,
        front.len(),
        open.name,
        open_subjects.len()
    ))
}
