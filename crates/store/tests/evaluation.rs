//! Third-party evaluation on a real database (SQLite, or PostgreSQL with JIAZHENG_TEST_DATABASE):
//! one score per round, subject, dimension and organisation; scores replaced until submission
//! and locked after; ties and assignments decide who may score; weights fixed once scoring
//! starts; publication refuses a round not fully scored, names what is missing, and freezes
//! exact results.

use jiazheng_core::account::{Role, Scope};
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::division::DivisionCode;
use jiazheng_core::market::subsidy::EvidenceType;
use jiazheng_core::oversight::evaluation::{
    Dimension, EvaluatedKind, OrgForm, RoundForm, ScoreDraft, Weights, WeightsForm,
};
use jiazheng_store::accounts::NewAccount;
use jiazheng_store::oversight::evaluation::{NewSubject, RoundsFor, ScoreEntry};
use jiazheng_store::testing::{TestDb, agency};
use jiazheng_store::{PageRequest, Store, StoreError};

async fn account(store: &Store, name: &str, role: Role, scope: &Scope) -> i64 {
    store
        .create_account(&NewAccount::scoped(name.into(), name.into(), "password-123".into(), role, scope))
        .await
        .unwrap()
}

async fn org(store: &Store, name: &str) -> i64 {
    let form = OrgForm { name: name.into(), contact: "王经理 13900000000".into(), ..Default::default() };
    store.create_evaluator_org(&form.parse().unwrap(), None).await.unwrap()
}

fn round_form(kinds: &[&str]) -> RoundForm {
    RoundForm {
        name: "2025年度家政服务第三方评价".into(),
        year: (beijing_today().format("%Y").to_string().parse::<i32>().unwrap() - 1).to_string(),
        period: "year".into(),
        kinds: kinds.iter().map(|k| k.to_string()).collect(),
        weights: WeightsForm::of(&Weights::suggested()),
    }
}

/// Seven scores with notes: `base` for each dimension, the first `first`.
fn card(first: i64, base: i64) -> Vec<ScoreEntry> {
    Dimension::ALL
        .iter()
        .enumerate()
        .map(|(i, d)| ScoreEntry {
            draft: ScoreDraft {
                dimension: *d,
                score: if i == 0 { first } else { base },
                note: Some(format!("{}：现场核查", d.label_zh())),
                evidence_id: None,
            },
            file: None,
        })
        .collect()
}

fn refused(result: Result<(), StoreError>) -> String {
    match result {
        Err(StoreError::Refused(reason)) => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_round_from_opening_to_published_results() {
    let db = TestDb::new().await;
    let s = &db.store;
    let today = beijing_today();
    let city = account(s, "city", Role::Regulator, &Scope::City).await;
    let (x, y, z) = (org(s, "吉林省家政评价中心").await, org(s, "长春市标准化研究院").await, org(s, "无关机构").await);
    let taken = OrgForm { name: "吉林省家政评价中心".into(), contact: "x".into(), ..Default::default() };
    let StoreError::Invalid(e) = s.create_evaluator_org(&taken.parse().unwrap(), Some(city)).await.unwrap_err() else {
        panic!()
    };
    assert_eq!(e.for_field("name").unwrap().code, "taken");
    let ex = account(s, "eval_x", Role::Evaluator, &Scope::Evaluator(x)).await;
    let ey = account(s, "eval_y", Role::Evaluator, &Scope::Evaluator(y)).await;
    let ez = account(s, "eval_z", Role::Evaluator, &Scope::Evaluator(z)).await;
    let principal = s.authenticate("eval_x", "password-123").await.unwrap().unwrap();
    assert_eq!(principal.evaluator_org(), Some(x), "the account carries its organisation");
    assert_eq!(s.evaluator_org(x).await.unwrap().accounts, 1);

    let (a, b) = (agency(s, "MA0Y1111").await, agency(s, "MA0Y2222").await);
    let round = s.open_round(&round_form(&["agency", "community"]).parse(today).unwrap(), city).await.unwrap();
    assert_eq!(s.round_weights(round).await.unwrap(), Weights::suggested());
    let sa = s.add_subject(round, &NewSubject::Agency(a), city).await.unwrap();
    let sb = s.add_subject(round, &NewSubject::Agency(b), city).await.unwrap();
    let community = DivisionCode::parse("220102001001").unwrap();
    let sc = s.add_subject(round, &NewSubject::Community(community.clone()), city).await.unwrap();
    assert!(matches!(
        s.add_subject(round, &NewSubject::Agency(a), city).await,
        Err(StoreError::Conflict { what: "subject_added", .. })
    ));
    let StoreError::Invalid(e) = s.add_subject(round, &NewSubject::Provider(1), city).await.unwrap_err() else {
        panic!()
    };
    assert_eq!(e.for_field("kind").unwrap().code, "kind_not_evaluated");
    let street = DivisionCode::parse("220102001").unwrap();
    assert!(matches!(s.add_subject(round, &NewSubject::Community(street), city).await, Err(StoreError::Invalid(_))));
    let subjects = s.round_subjects(round, None, PageRequest::default()).await.unwrap();
    assert_eq!(
        subjects.items.iter().map(|s| s.kind()).collect::<Vec<_>>(),
        [EvaluatedKind::Agency, EvaluatedKind::Agency, EvaluatedKind::Community]
    );
    assert_eq!(subjects.items[2].name, "华阳社区");
    let chaoyang = DivisionCode::parse("220104").unwrap();
    assert_eq!(s.round_subjects(round, Some(&chaoyang), PageRequest::default()).await.unwrap().total, 0);

    // Weights change freely until the first score.
    let heavier = WeightsForm {
        weight_employment: "30".into(),
        weight_standards: "0".into(),
        ..WeightsForm::of(&Weights::suggested())
    };
    assert!(heavier.parse().is_err(), "every dimension counts");
    let heavier = WeightsForm {
        weight_employment: "30".into(),
        weight_integrity: "5".into(),
        weight_standards: "5".into(),
        ..WeightsForm::of(&Weights::suggested())
    };
    let weights = heavier.parse().unwrap();
    s.set_round_weights(round, &weights, city).await.unwrap();

    // x scores the whole round; y scores agency a only; x declares a tie to b. z is not assigned.
    s.assign_evaluator(round, x, None, city).await.unwrap();
    s.assign_evaluator(round, y, Some(sa), city).await.unwrap();
    assert!(matches!(
        s.assign_evaluator(round, y, Some(sa), city).await,
        Err(StoreError::Conflict { what: "already_assigned", .. })
    ));
    s.declare_tie(x, b, "2024年为该企业提供咨询服务", ex).await.unwrap();
    assert!(matches!(s.declare_tie(x, b, "again", ex).await, Err(StoreError::Conflict { what: "tie_declared", .. })));
    let StoreError::Invalid(e) = s.assign_evaluator(round, x, Some(sb), city).await.unwrap_err() else { panic!() };
    assert_eq!(e.for_field("org").unwrap().code, "tied");

    assert!(refused(s.record_scores(round, sb, x, &card(90, 90), ex).await).contains("tie"), "a tied organisation");
    assert!(!s.may_score(round, sb, x).await.unwrap());
    // The tie stands while the round that scores b is open: withdrawing it would free x to score.
    assert!(matches!(
        s.withdraw_tie(x, b, ex).await,
        Err(StoreError::Conflict { what: "tie_in_open_round", existing_id: Some(r) }) if r == round
    ));
    assert!(
        matches!(s.record_scores(round, sa, z, &card(90, 90), ez).await, Err(StoreError::NotFound)),
        "not assigned"
    );
    assert!(matches!(s.evaluator_subjects(round, z, PageRequest::default()).await, Err(StoreError::NotFound)));
    assert!(refused(s.record_scores(round, sc, y, &card(90, 90), ey).await).contains("not assigned"));
    let mine = s.evaluator_subjects(round, x, PageRequest::default()).await.unwrap();
    assert_eq!(mine.total, 3);
    assert!(mine.items.iter().find(|i| i.subject.id == sb).unwrap().tied);

    // A score and its replacement: one row per round, subject, dimension and organisation.
    let first = &card(70, 80)[..1];
    s.record_scores(round, sa, x, first, ex).await.unwrap();
    assert!(s.scoring_started(round).await.unwrap());
    assert!(matches!(
        s.set_round_weights(round, &Weights::suggested(), city).await,
        Err(StoreError::Conflict { what: "scoring_started", .. })
    ));
    let file = ScoreEntry {
        draft: ScoreDraft { dimension: Dimension::Employment, score: 74, note: None, evidence_id: None },
        file: Some((EvidenceType::Pdf, b"%PDF-1.4 evidence".to_vec())),
    };
    s.record_scores(round, sa, x, &[file], ex).await.unwrap();
    let scores = s.subject_scores(round, sa, Some(x)).await.unwrap();
    assert_eq!(scores.len(), 1);
    assert_eq!((scores[0].score, scores[0].note.as_deref()), (74, None));
    let evidence = scores[0].evidence_id.unwrap();
    let (r, o, kind, bytes) = s.evaluation_evidence(evidence).await.unwrap();
    assert_eq!((r, o, kind, bytes.as_slice()), (round, x, EvidenceType::Pdf, b"%PDF-1.4 evidence".as_slice()));
    // Another organisation's file is not this one's evidence.
    let foreign = ScoreEntry {
        draft: ScoreDraft { dimension: Dimension::Brand, score: 60, note: None, evidence_id: Some(evidence) },
        file: None,
    };
    let StoreError::Invalid(e) = s.record_scores(round, sa, y, &[foreign], ey).await.unwrap_err() else { panic!() };
    assert_eq!(e.for_field("evidence_brand").unwrap().code, "unknown_evidence");
    assert!(s.subject_scores(round, sa, Some(y)).await.unwrap().is_empty(), "nothing of a refused card is kept");
    // The database itself holds one score per round, subject, dimension and organisation.
    let twice = match s.pool() {
        jiazheng_store::Pool::Sqlite(p) => sqlx::query(
            "INSERT INTO evaluation_scores (round_id, subject_id, org_id, dimension, score, note, scored_by, scored_at)
             VALUES ($1, $2, $3, 'employment', 50, 'x', $4, '2026-01-01T00:00:00Z')",
        )
        .bind(round)
        .bind(sa)
        .bind(x)
        .bind(ex)
        .execute(p)
        .await
        .map(|_| ()),
        jiazheng_store::Pool::Postgres(p) => sqlx::query(
            "INSERT INTO evaluation_scores (round_id, subject_id, org_id, dimension, score, note, scored_by, scored_at)
             VALUES ($1, $2, $3, 'employment', 50, 'x', $4, now())",
        )
        .bind(round)
        .bind(sa)
        .bind(x)
        .bind(ex)
        .execute(p)
        .await
        .map(|_| ()),
    };
    assert!(twice.unwrap_err().as_database_error().is_some_and(|e| e.is_unique_violation()));

    // Submission wants all seven, then locks.
    let StoreError::Invalid(e) = s.submit_scorecard(round, sa, x, ex).await.unwrap_err() else { panic!() };
    assert!(e.for_field("scorecard").unwrap().message_zh.contains("还有6项未评分"));
    s.record_scores(round, sa, x, &card(74, 80), ex).await.unwrap();
    s.submit_scorecard(round, sa, x, ex).await.unwrap();
    assert!(matches!(
        s.record_scores(round, sa, x, &card(99, 99), ex).await,
        Err(StoreError::Conflict { what: "scorecard_submitted", .. })
    ));
    assert!(matches!(
        s.submit_scorecard(round, sa, x, ex).await,
        Err(StoreError::Conflict { what: "scorecard_submitted", .. })
    ));

    // Publication refuses what is not fully scored, and names it.
    let StoreError::Invalid(e) = s.publish_round(round, city).await.unwrap_err() else { panic!() };
    let said = &e.for_field("round").unwrap().message_zh;
    assert!(said.contains("长春市标准化研究院未提交"), "{said}");
    assert!(said.contains("长春市MA0Y2222家政服务有限公司（未指派无关联的评价机构）"), "{said}");
    assert!(said.contains("华阳社区（吉林省家政评价中心未提交"), "{said}");
    assert!(!s.evaluation_round(round).await.unwrap().is_published());

    s.assign_evaluator(round, y, Some(sb), city).await.unwrap();
    s.record_scores(round, sa, y, &card(90, 80), ey).await.unwrap();
    s.submit_scorecard(round, sa, y, ey).await.unwrap();
    s.record_scores(round, sb, y, &card(100, 90), ey).await.unwrap();
    s.submit_scorecard(round, sb, y, ey).await.unwrap();
    s.record_scores(round, sc, x, &card(60, 60), ex).await.unwrap();
    s.submit_scorecard(round, sc, x, ex).await.unwrap();
    let (provisional, missing) = s.provisional_results(round).await.unwrap();
    assert!(missing.is_empty());
    assert_eq!(provisional.len(), 3);
    s.publish_round(round, city).await.unwrap();
    assert!(s.evaluation_round(round).await.unwrap().is_published());
    assert!(matches!(s.publish_round(round, city).await, Err(StoreError::Conflict { what: "round_published", .. })));
    assert!(matches!(
        s.record_scores(round, sc, x, &card(1, 1), ex).await,
        Err(StoreError::Conflict { what: "round_published", .. })
    ));

    // Weights 30/15/15/15/15/5/5. a: x 30·74 + 70·80 = 7820, y 30·90 + 70·80 = 8300 → 8060.
    // b: 30·100 + 70·90 = 9300. The community: 6000.
    let results = s.published_results(round, None, None, false, PageRequest::default()).await.unwrap();
    let line: Vec<(i64, i64, i64, i64)> =
        results.items.iter().map(|r| (r.subject.id, r.total_hundredths, r.rank, r.cards)).collect();
    assert_eq!(line, vec![(sb, 9300, 1, 1), (sa, 8060, 2, 2), (sc, 6000, 1, 1)]);
    assert_eq!(results.items[1].dimensions, vec![8200, 8000, 8000, 8000, 8000, 8000, 8000]);
    // A tie declared after publication changes nothing published.
    s.declare_tie(y, a, "2026年起参股", ey).await.unwrap();
    let again = s.published_results(round, None, None, false, PageRequest::default()).await.unwrap();
    assert_eq!(again.items[1].total_hundredths, 8060);

    assert!(matches!(s.designate_front_runners(round, &[sb, 999_999], city).await, Err(StoreError::Invalid(_))));
    s.designate_front_runners(round, &[sb, sc], city).await.unwrap();
    let front = s.published_results(round, None, None, true, PageRequest::default()).await.unwrap();
    assert_eq!(front.items.iter().map(|r| r.subject.id).collect::<Vec<_>>(), vec![sb, sc]);
    let latest = s.latest_agency_evaluation(b).await.unwrap().unwrap();
    assert_eq!(
        (latest.round_id, latest.total_hundredths, latest.rank, latest.ranked, latest.front_runner),
        (round, 9300, 1, 2, true)
    );
    assert!(s.latest_agency_evaluation(agency(s, "MA0Y3333").await).await.unwrap().is_none());

    // Lists: the public sees published rounds; an organisation its own.
    let other = s.open_round(&round_form(&["agency"]).parse(today).unwrap(), city).await.unwrap();
    let ids = |p: jiazheng_store::Page<jiazheng_store::oversight::evaluation::EvaluationRound>| {
        p.items.iter().map(|r| r.id).collect::<Vec<_>>()
    };
    assert_eq!(ids(s.evaluation_rounds(RoundsFor::Published, PageRequest::default()).await.unwrap()), vec![round]);
    assert_eq!(ids(s.evaluation_rounds(RoundsFor::All, PageRequest::default()).await.unwrap()), vec![other, round]);
    assert_eq!(ids(s.evaluation_rounds(RoundsFor::Org(z), PageRequest::default()).await.unwrap()), Vec::<i64>::new());
    assert!(s.latest_agency_evaluation(a).await.unwrap().is_some());

    // Every regulator and evaluator write left its row, with the values before and after.
    let audit = |action: &str| {
        let query = jiazheng_store::oversight::audit::AuditQuery { action: Some(action.into()), ..Default::default() };
        async move { s.audit(&query, PageRequest::new(Some(1), Some(100))).await.unwrap().items }
    };
    let scored = audit("evaluation.score").await;
    let replaced = scored
        .iter()
        .find(|r| r.actor_account_id == ex && r.value_before.as_deref().is_some_and(|b| b.contains("\"score\":70")))
        .expect("the replaced score's row");
    assert!(replaced.value_after.as_deref().unwrap().contains("\"score\":74"), "{replaced:?}");
    assert!(
        replaced.subject_label.contains("长春市MA0Y1111家政服务有限公司 · 员工制发展程度"),
        "{}",
        replaced.subject_label
    );
    for action in [
        "evaluation.round_open",
        "evaluation.weights_set",
        "evaluation.subject_add",
        "evaluation.assign",
        "evaluation.tie_declare",
        "evaluation.submit",
        "evaluation.publish",
        "evaluation.front_runners",
    ] {
        assert!(!audit(action).await.is_empty(), "{action}");
    }
    let weights_row = audit("evaluation.weights_set").await.remove(0);
    assert!(weights_row.value_before.unwrap().contains("\"employment\":20"));
    assert!(weights_row.value_after.unwrap().contains("\"employment\":30"));
    // A refused write leaves no row: the refused card above wrote nothing.
    assert!(
        audit("evaluation.score")
            .await
            .iter()
            .all(|r| r.actor_account_id != ey || !r.value_after.as_deref().unwrap_or("").contains("\"score\":60"))
    );
}

#[tokio::test]
async fn a_round_without_subjects_or_with_unscored_ones_is_not_published() {
    let db = TestDb::new().await;
    let s = &db.store;
    let city = account(s, "city", Role::Regulator, &Scope::City).await;
    let round = s.open_round(&round_form(&["agency"]).parse(beijing_today()).unwrap(), city).await.unwrap();
    let StoreError::Invalid(e) = s.publish_round(round, city).await.unwrap_err() else { panic!() };
    assert_eq!(e.for_field("round").unwrap().code, "no_subjects");
    let a = agency(s, "MA0Y1111").await;
    let sa = s.add_subject(round, &NewSubject::Agency(a), city).await.unwrap();
    let StoreError::Invalid(e) = s.publish_round(round, city).await.unwrap_err() else { panic!() };
    assert!(e.for_field("round").unwrap().message_en.contains("no evaluator free of ties assigned"));
    // A subject no one scored can be taken out again; one scored cannot.
    let x = org(s, "评价机构甲").await;
    let ex = account(s, "ex", Role::Evaluator, &Scope::Evaluator(x)).await;
    s.assign_evaluator(round, x, Some(sa), city).await.unwrap();
    s.record_scores(round, sa, x, &card(50, 50)[..2], ex).await.unwrap();
    assert!(matches!(
        s.remove_subject(round, sa, city).await,
        Err(StoreError::Conflict { what: "subject_scored", .. })
    ));
    let b = agency(s, "MA0Y2222").await;
    let sb = s.add_subject(round, &NewSubject::Agency(b), city).await.unwrap();
    s.remove_subject(round, sb, city).await.unwrap();
    let StoreError::Invalid(e) = s.publish_round(round, city).await.unwrap_err() else { panic!() };
    assert!(e.for_field("round").unwrap().message_zh.contains("评价机构甲未提交"));
    assert_eq!(s.round_subjects(round, None, PageRequest::default()).await.unwrap().total, 1);
}
