//! Demo subsidy claims and rectification orders for the demo agency: the city's standard
//! amounts; six employee-based workers taken on this month (four insured); claims waiting,
//! approved, partly approved and rejected; a penalty whose order is overdue and an upheld
//! complaint whose order the agency has reported on. All names and numbers are synthetic.

use chrono::{Datelike, Duration, NaiveDate};
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::credit::casework::{ActionForm, ComplaintAction, ComplaintForm};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::ids::ResidentId;
use jiazheng_core::market::subsidy::EvidenceType;
use jiazheng_core::oversight::claims::{ClaimDecisionForm, ClaimForm, ClaimKind, MonthRange, month_code};
use jiazheng_core::oversight::rectification::{OrderDraft, RectificationSource};
use jiazheng_core::registry::binding::BindingKind;
use jiazheng_core::registry::worker::WorkerForm;
use jiazheng_core::workforce::records::{CertificateDraft, SocialInsuranceDraft, TrainingDraft};
use jiazheng_core::workforce::{CertificateKind, CourseKind, CourseMode, SkillLevel, Trade};
use jiazheng_store::Store;
use jiazheng_store::credit::casework::Actor;
use jiazheng_store::oversight::claims::Submitted;
use jiazheng_store::registry::workers::{NewBinding, NewWorker};
use jiazheng_store::workforce::Recorder;

const NANGUAN: &str = "220102000000";

fn fail(e: impl std::fmt::Debug) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

/// The ids of the accounts the demo acts as.
pub struct Accounts {
    pub city: i64,
    pub nanguan: i64,
    pub agency_admin: i64,
    pub resident: i64,
}

pub async fn generate(store: &Store, agency: i64, who: &Accounts) -> anyhow::Result<String> {
    let today = jiazheng_core::calendar::beijing_today();
    let this_month = month_code(today.with_day(1).unwrap_or(today));
    let city = Principal { account_id: who.city, role: Role::Regulator, scope: Scope::City };
    let district = DivisionCode::parse(NANGUAN).map_err(fail)?;
    let nanguan = Principal { account_id: who.nanguan, role: Role::Regulator, scope: Scope::District(district) };
    let admin = Principal { account_id: who.agency_admin, role: Role::AgencyAdmin, scope: Scope::Agency(agency) };
    for (kind, fen) in [
        (ClaimKind::SocialInsurance, 30_000),
        (ClaimKind::Training, 60_000),
        (ClaimKind::Appraisal, 100_000),
        (ClaimKind::PointRent, 200_000),
    ] {
        store.set_claim_standard(&city, kind, fen).await?;
    }

    // Six employee-based workers taken on this month; the agency insures four of them.
    let names = ["韩秀梅", "冯桂兰", "曹丽娟", "彭淑华", "蒋玉珍", "沈春燕"];
    let drafts: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            WorkerForm {
                id_number: ResidentId::compose(
                    "220102",
                    NaiveDate::from_ymd_opt(1978, 4, 2).unwrap_or_default() + Duration::days(97 * i as i64),
                    880 + i as u16,
                ),
                name: (*name).into(),
                phone: format!("1350431{:04}", 8800 + i),
                education_level: "senior".into(),
                education_related: "否".into(),
                home_street: "220102001".into(),
                services: vec!["cleaning".into(), "elderly_care".into()],
                ..Default::default()
            }
            .parse(today)
            .map_err(fail)
        })
        .collect::<anyhow::Result<_>>()?;
    let binding = Some(NewBinding { agency_id: agency, kind: BindingKind::Employee, active: true });
    let rows: Vec<NewWorker> = drafts.iter().map(|draft| NewWorker { draft, binding }).collect();
    let people = store.insert_workers(&rows).await?;
    let first_day = today.with_day(1).unwrap_or(today);
    for worker in &people[..4] {
        let insured = SocialInsuranceDraft { enrolled: true, since: Some(first_day) };
        store.set_social_insurance(*worker, agency, &insured).await?;
    }
    let by = Recorder::agency(agency, None);
    let training = |passed: bool| TrainingDraft {
        course_kind: CourseKind::PreJob,
        course_name: "家政服务员岗前培训（养老护理方向）".into(),
        provider_name: "长春市春城家政职业培训学校".into(),
        mode: CourseMode::InPerson,
        hours: 40,
        started_on: today - Duration::days(5),
        completed_on: today,
        exam_passed: Some(passed),
        exam_score: Some(if passed { 86 } else { 52 }),
    };
    let (passed, failed) = (training(true), training(false));
    let trainings =
        store.add_trainings(&[(people[0], &passed, by), (people[1], &passed, by), (people[2], &failed, by)]).await?;
    let certificate = CertificateDraft {
        kind: CertificateKind::Occupational,
        trade: Some(Trade::HomeCare),
        level: Some(SkillLevel::Level4),
        issuer: "长春市职业技能鉴定指导中心".into(),
        number: "2522010400881".into(),
        issued_on: today,
        valid_until: None,
    };
    let certificates = store.add_certificates(&[(people[3], &certificate, by)]).await?;

    let claim = |kind: &str, items: &[i64], note: &str| ClaimForm {
        kind: kind.into(),
        from: this_month.clone(),
        to: this_month.clone(),
        items: items.iter().map(|i| i.to_string()).collect(),
        note: note.into(),
    };
    let submit = |form: ClaimForm, evidence: Option<Vec<u8>>| {
        let admin = admin.clone();
        async move {
            let draft = form.parse(today).map_err(fail)?;
            let file = evidence.map(|bytes| (bytes, EvidenceType::Pdf));
            match store.submit_claim(&admin, &draft, file.as_ref().map(|(b, k)| (b.as_slice(), *k))).await? {
                Submitted::Created(id) => Ok::<i64, anyhow::Error>(id),
                Submitted::Taken(clash) => Err(anyhow::anyhow!("demo claim already taken: {}", clash.number)),
            }
        }
    };
    let decide = |id: i64, decision: &str, lines: Vec<i64>, reason: &str| {
        let nanguan = nanguan.clone();
        let form = ClaimDecisionForm {
            decision: decision.into(),
            lines: lines.iter().map(|l| l.to_string()).collect(),
            reason: reason.into(),
        };
        async move {
            let verdict = form.parse().map_err(fail)?;
            store.decide_claim(id, &nanguan, &verdict).await?;
            Ok::<(), anyhow::Error>(())
        }
    };
    let mut made = 0;
    // Waiting: this month's social insurance of all six; two are not insured.
    let evidence = crate::subsidy_demo::evidence_pdf("social insurance payment list");
    submit(claim("social_insurance", &people, "本月员工制服务员社保缴费明细见附件"), Some(evidence)).await?;
    made += 1;
    // Approved: the rent of the agency's open service points this month.
    let period = MonthRange::parse(&this_month, &this_month, today).map_err(fail)?;
    let points: Vec<i64> = store
        .claim_candidates(agency, ClaimKind::PointRent, &period)
        .await?
        .iter()
        .filter(|c| c.ready)
        .map(|c| c.id)
        .collect();
    if !points.is_empty() {
        let id = submit(claim("point_rent", &points, ""), None).await?;
        decide(id, "matching", vec![], "").await?;
        made += 1;
    }
    // Partly approved: two trainings passed and one not (picked by mistake); the matching ones approved.
    let id = submit(claim("training", &trainings, "岗前培训结业名单"), None).await?;
    decide(id, "matching", vec![], "第三人考核未通过，不予补贴").await?;
    made += 1;
    // Rejected, with the reason: the certificate's number is to be checked with the appraisal centre.
    let id = submit(claim("appraisal", &certificates, ""), None).await?;
    decide(id, "reject", vec![], "证书编号需与鉴定中心核对，请补充鉴定机构出具的证明后重新申报").await?;
    made += 1;

    // Rectification: a penalty whose order is past its deadline, and an upheld complaint the
    // agency has reported on.
    let regulator =
        Actor { account_id: who.nanguan, source: "regulator:220102000000".into(), area: Some(NANGUAN.into()) };
    let penalty = ActionForm {
        subject_kind: "agency".into(),
        subject_id: agency,
        kind: "penalty".into(),
        decided_on: (today - Duration::days(40)).to_string(),
        authority: "长春市南关区商务局".into(),
        document: "南商罚〔2026〕15号".into(),
        reason: "未与部分员工制服务员签订书面劳动合同".into(),
    }
    .parse(today)
    .map_err(fail)?;
    let seq = store.record_action(&penalty, &regulator).await?;
    // Opened 40 days ago with 30 days to put it right: now overdue.
    let overdue = OrderDraft {
        source: RectificationSource::Penalty,
        source_id: seq,
        deadline: today - Duration::days(10),
        requirement: "1. 与全部员工制服务员补签书面劳动合同；\n2. 报送合同签订台账。".into(),
    };
    store.open_rectification(&nanguan, &overdue).await?;
    let complaint = ComplaintForm {
        subject_kind: "agency".into(),
        subject_id: agency,
        service_id: None,
        body: "服务结束后未按合同约定开具收费凭证".into(),
    }
    .parse()
    .map_err(fail)?;
    let filed = store.file_complaint(who.resident, &complaint).await?;
    store.act_on_complaint(filed.id, ComplaintAction::Acknowledge, "", &regulator).await?;
    store.act_on_complaint(filed.id, ComplaintAction::Uphold, "经核实未开具收费凭证", &regulator).await?;
    let reported = OrderDraft {
        source: RectificationSource::Complaint,
        source_id: filed.id,
        deadline: today + Duration::days(20),
        requirement: "建立收费凭证制度，每次服务后开具凭证并留存。".into(),
    };
    let order = store.open_rectification(&nanguan, &reported).await?;
    let evidence = crate::subsidy_demo::evidence_pdf("receipt procedure");
    store
        .report_rectification(
            order,
            &admin,
            "已制定《服务收费凭证管理办法》，自本月起每次服务后开具电子凭证。",
            Some((&evidence, EvidenceType::Pdf)),
            today,
        )
        .await?;
    Ok(format!(
        "{made} subsidy claims of the demo agency (waiting, approved, partly approved, rejected); 2 rectification orders (1 overdue)"
    ))
}

/// The timing of claims: a new agency of `workers` employee-based workers, employed and insured
/// since well before, then `rounds` social-insurance claims of `months` months each (different
/// months each round), every claim over all the workers; each submission (every line checked and
/// written) and each decision timed.
pub async fn bench(store: &Store, workers: usize, months: u32, rounds: u32) -> anyhow::Result<String> {
    use std::time::Instant;
    let months = months.clamp(1, jiazheng_core::oversight::claims::MAX_MONTHS);
    let rounds = rounds.max(1);
    let today = jiazheng_core::calendar::beijing_today();
    let this_month = today.with_day(1).unwrap_or(today);
    let tag: u32 = rand::random::<u32>() % 100_000_000;
    let form = jiazheng_core::registry::agency::AgencyForm {
        uscc: jiazheng_core::ids::Uscc::compose("220102", &format!("MB{:06}", tag % 1_000_000)),
        name: format!("长春市申报测试{tag}家政服务有限公司"),
        brand_name: String::new(),
        legal_representative: "王测试".into(),
        address: "人民大街1号".into(),
        street_code: "220102001".into(),
        phone: "043188886666".into(),
        business_model: "employee".into(),
    };
    let agency = store.create_agency(&form.parse().map_err(fail)?).await?;
    let account = |name: String, role: Role, scope: Scope| async move {
        let new =
            jiazheng_store::accounts::NewAccount::scoped(name.clone(), name, "bench-password-1".into(), role, &scope);
        Ok::<Principal, anyhow::Error>(Principal { account_id: store.create_account(&new).await?, role, scope })
    };
    let admin = account(format!("bench_agency_{tag}"), Role::AgencyAdmin, Scope::Agency(agency)).await?;
    let city = account(format!("bench_city_{tag}"), Role::Regulator, Scope::City).await?;
    store.set_claim_standard(&city, ClaimKind::SocialInsurance, 30_000).await?;
    let started = Instant::now();
    let mut ids = Vec::with_capacity(workers);
    let base = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    for chunk in (0..workers).collect::<Vec<_>>().chunks(2000) {
        let drafts: Vec<_> = chunk
            .iter()
            .map(|i| {
                let n = tag as usize * 7 + i;
                WorkerForm {
                    id_number: ResidentId::compose(
                        "220102",
                        base + Duration::days((n % 10_000) as i64),
                        (n / 10_000 % 1000) as u16,
                    ),
                    name: "测试服务员".into(),
                    phone: format!("139{:08}", n % 100_000_000),
                    education_level: "senior".into(),
                    education_related: "否".into(),
                    home_street: "220102001".into(),
                    services: vec!["cleaning".into()],
                    ..Default::default()
                }
                .parse(today)
                .map_err(fail)
            })
            .collect::<anyhow::Result<_>>()?;
        let binding = Some(NewBinding { agency_id: agency, kind: BindingKind::Employee, active: true });
        let rows: Vec<NewWorker> = drafts.iter().map(|draft| NewWorker { draft, binding }).collect();
        ids.extend(store.insert_workers(&rows).await?);
    }
    let span = months * rounds + 2;
    let since = this_month.checked_sub_months(chrono::Months::new(span)).unwrap_or(this_month);
    store.demo_employment(agency, jiazheng_core::market::slot::day_start(since), since).await?;
    let mut out = format!(
        "{} workers employed and insured in {:.1} s; {} rounds of {} worker-months each\n",
        ids.len(),
        started.elapsed().as_secs_f64(),
        rounds,
        ids.len() * months as usize
    );
    let regulator = city;
    let (mut submits, mut decides) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        let last = this_month.checked_sub_months(chrono::Months::new(1 + round * months)).unwrap_or(this_month);
        let first = last.checked_sub_months(chrono::Months::new(months - 1)).unwrap_or(last);
        let draft = ClaimForm {
            kind: "social_insurance".into(),
            from: month_code(first),
            to: month_code(last),
            items: ids.iter().map(|i| i.to_string()).collect(),
            note: String::new(),
        }
        .parse(today)
        .map_err(fail)?;
        let started = Instant::now();
        let id = match store.submit_claim(&admin, &draft, None).await? {
            Submitted::Created(id) => id,
            Submitted::Taken(clash) => anyhow::bail!("months already claimed in {}", clash.number),
        };
        submits.push(started.elapsed());
        let verdict = ClaimDecisionForm { decision: "matching".into(), ..Default::default() }.parse().map_err(fail)?;
        let started = Instant::now();
        let decided = store.decide_claim(id, &regulator, &verdict).await?;
        decides.push(started.elapsed());
        out.push_str(&format!(
            "round {}: {} lines ({} matching) checked and written in {:.0} ms; decided in {:.0} ms\n",
            round + 1,
            decided.lines,
            decided.matching,
            submits[round as usize].as_secs_f64() * 1000.0,
            decides[round as usize].as_secs_f64() * 1000.0
        ));
    }
    let worst = submits.iter().max().copied().unwrap_or_default();
    out.push_str(&format!(
        "slowest submission {:.0} ms ({} the 2 s the issue asks)",
        worst.as_secs_f64() * 1000.0,
        if worst.as_secs_f64() < 2.0 { "within" } else { "OVER" }
    ));
    Ok(out)
}
