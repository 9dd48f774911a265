//! Synthetic demo data on the real divisions: Chinese names, IDs with valid check digits and
//! Changchun district prefixes, valid USCCs and mobiles. Deterministic for a seed; streamed in
//! batches so a million workers need little memory. Never real personal data.

use std::collections::HashSet;

use anyhow::Context;
use chrono::{Duration, NaiveDate};
use jiazheng_core::account::Role;
use jiazheng_core::division::DivisionCode;
use jiazheng_core::ids::{Mobile, ResidentId, Uscc};
use jiazheng_core::registry::agency::{AgencyDraft, BusinessModel};
use jiazheng_core::registry::binding::BindingKind;
use jiazheng_core::registry::service_point::ServicePointDraft;
use jiazheng_core::registry::worker::{EducationLevel, WorkerDraft};
use jiazheng_core::registry::{ServiceKind, ServiceSet};
use jiazheng_core::workforce::records::InsuranceDraft;
use jiazheng_store::accounts::NewAccount;
use jiazheng_store::excel::{WorkerLine, workers_sheet};
use jiazheng_store::registry::divisions::Division;
use jiazheng_store::registry::workers::{NewBinding, NewWorker, SealedIdentity, SealedWorker};
use jiazheng_store::workforce::Recorder;
use jiazheng_store::workforce::jobs::InboxDelivery;
use jiazheng_store::workforce::readiness::{ReadinessPlan, StaleScope};
use jiazheng_store::{PageRequest, Store};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::commands::progress_bar;
use crate::history::{self, History};

pub const DEMO_PASSWORD: &str = "jiazheng-demo";

const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹", "袁", "邓", "许", "傅", "沈", "曾",
    "彭", "吕", "苏", "卢", "蒋", "蔡", "贾", "丁", "魏", "薛", "叶", "阎", "姜", "崔", "谭", "陆", "范", "金", "石",
    "廖", "邹", "欧阳",
];
const GIVEN_FEMALE: &[&str] = &[
    "秀", "英", "华", "玉", "兰", "芳", "丽", "敏", "静", "梅", "红", "霞", "燕", "艳", "娟", "萍", "琴", "云", "凤",
    "桂", "淑", "珍", "春", "丹", "慧", "莉", "颖", "雪", "洁", "晶",
];
const GIVEN_MALE: &[&str] =
    &["伟", "强", "军", "磊", "勇", "杰", "涛", "明", "斌", "波", "辉", "刚", "平", "建", "国", "林", "峰", "鹏"];
const BRANDS: &[&str] = &[
    "安心",
    "好帮手",
    "巾帼",
    "阳光",
    "康馨",
    "福满堂",
    "惠民",
    "春城",
    "北国",
    "暖家",
    "贴心",
    "家和",
    "月子",
    "益家",
    "乐居",
    "长青",
    "博爱",
    "金管家",
    "净美",
    "优家",
];
const MAJORS: &[&str] = &["家政服务与管理", "老年保健与管理", "护理", "婴幼儿托育服务与管理", "智慧健康养老服务与管理"];

/// What a generation run made.
#[derive(Debug, Default)]
pub struct Summary {
    pub agencies: usize,
    pub workers: usize,
    pub service_points: usize,
    pub first_agency: Option<(i64, String)>,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "generated {} agencies, {} service points, {} workers",
            self.agencies, self.service_points, self.workers
        )
    }
}

fn pick<'a, T>(rng: &mut StdRng, items: &'a [T]) -> &'a T {
    &items[rng.random_range(0..items.len())]
}

fn person_name(rng: &mut StdRng, female: bool) -> String {
    let given = if female { GIVEN_FEMALE } else { GIVEN_MALE };
    let mut name = pick(rng, SURNAMES).to_string();
    name.push_str(pick::<&str>(rng, given));
    if rng.random_bool(0.6) {
        name.push_str(pick::<&str>(rng, given));
    }
    name
}

fn mobile(rng: &mut StdRng) -> Mobile {
    let second = rng.random_range(3..=9);
    let raw = format!("1{second}{:09}", rng.random_range(0..1_000_000_000u64));
    Mobile::parse(&raw).expect("generated mobiles are valid")
}

/// A unique company code for a district.
fn uscc(rng: &mut StdRng, district: &str, used: &mut HashSet<String>) -> Uscc {
    const BODY: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
    loop {
        let body: String =
            (0..8).map(|i| if i == 0 { 'M' } else { BODY[rng.random_range(0..BODY.len())] as char }).collect();
        let code = Uscc::compose(&district[..6], &body);
        if used.insert(code.clone()) {
            return Uscc::parse(&code).expect("composed codes are valid");
        }
    }
}

struct Places {
    units: Vec<Division>,
    streets: Vec<String>,
}

impl Places {
    async fn load(store: &Store) -> anyhow::Result<Self> {
        let units = store.village_units().await?;
        anyhow::ensure!(!units.is_empty(), "no divisions loaded");
        let mut streets: Vec<String> = units.iter().filter_map(|u| u.parent_code.clone()).collect();
        streets.dedup();
        Ok(Self { units, streets })
    }
}

fn services(rng: &mut StdRng) -> ServiceSet {
    let weighted = [
        (ServiceKind::Cleaning, 0.55),
        (ServiceKind::DeepCleaning, 0.2),
        (ServiceKind::Cooking, 0.3),
        (ServiceKind::Laundry, 0.15),
        (ServiceKind::ElderlyCare, 0.25),
        (ServiceKind::PatientCare, 0.1),
        (ServiceKind::Maternity, 0.18),
        (ServiceKind::Childcare, 0.22),
        (ServiceKind::LiveIn, 0.12),
        (ServiceKind::ApplianceCleaning, 0.08),
    ];
    let set: ServiceSet = weighted.iter().filter(|(_, p)| rng.random_bool(*p)).map(|(k, _)| *k).collect();
    if set.is_empty() { [ServiceKind::Cleaning].into_iter().collect() } else { set }
}

fn worker(rng: &mut StdRng, places: &Places, used_ids: &mut HashSet<String>) -> WorkerDraft {
    let unit = pick(rng, &places.units);
    let street =
        DivisionCode::parse(unit.parent_code.as_deref().unwrap_or(&unit.code)).expect("stored codes are valid");
    let female = rng.random_bool(0.92);
    let earliest = NaiveDate::from_ymd_opt(1966, 1, 1).expect("valid date");
    let id_number = loop {
        let birth = earliest + Duration::days(rng.random_range(0..13_880));
        let seq: u16 = rng.random_range(0..500) * 2 + u16::from(!female);
        let number = ResidentId::compose(&street.as_str()[..6], birth, seq);
        if used_ids.insert(number.clone()) {
            break ResidentId::parse(&number, NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date"))
                .expect("composed IDs are valid");
        }
    };
    let roll: f64 = rng.random();
    let education_level = match roll {
        r if r < 0.10 => EducationLevel::Primary,
        r if r < 0.45 => EducationLevel::Junior,
        r if r < 0.68 => EducationLevel::Senior,
        r if r < 0.84 => EducationLevel::Vocational,
        r if r < 0.95 => EducationLevel::College,
        _ => EducationLevel::Bachelor,
    };
    let higher =
        matches!(education_level, EducationLevel::Vocational | EducationLevel::College | EducationLevel::Bachelor);
    let education_related = higher && rng.random_bool(0.35);
    WorkerDraft {
        name: person_name(rng, female),
        phone: mobile(rng),
        ethnicity: if rng.random_bool(0.93) {
            "汉族"
        } else {
            *pick(rng, &["满族", "朝鲜族", "蒙古族", "回族"])
        }
        .to_string(),
        education_level,
        education_major: education_related.then(|| pick(rng, MAJORS).to_string()),
        education_related,
        home_street: street,
        services: services(rng),
        id_number,
    }
}

/// The agency a generated worker works for (85 % have one), with the kind its model implies.
fn binding_for(rng: &mut StdRng, agencies: &[(i64, BusinessModel)]) -> Option<NewBinding> {
    if agencies.is_empty() || !rng.random_bool(0.85) {
        return None;
    }
    let (agency_id, model) = *pick(rng, agencies);
    let kind = match model {
        BusinessModel::EmployeeBased => BindingKind::Employee,
        BusinessModel::Intermediary => BindingKind::Intermediary,
        BusinessModel::Mixed if rng.random_bool(0.5) => BindingKind::Employee,
        BusinessModel::Mixed => BindingKind::Intermediary,
    };
    Some(NewBinding { agency_id, kind, active: true })
}

/// Workers written per transaction: a batch dirties index pages all over (ID and phone hashes
/// are random), and each commit writes every dirty page again, so fewer, larger batches write
/// less (the figures are in docs/benchmarks.md, "Generation").
const WORKER_BATCH: usize = 50_000;

/// Which generated agency workers come with their past records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Histories {
    All,
    /// About this many in a hundred; the others are in the registry only.
    Share(u8),
}

impl Histories {
    pub fn percent(percent: u8) -> Self {
        if percent >= 100 { Histories::All } else { Histories::Share(percent) }
    }

    fn given(self, rng: &mut StdRng) -> bool {
        match self {
            Histories::All => true,
            Histories::Share(0) => false,
            Histories::Share(percent) => rng.random_range(0..100) < percent,
        }
    }
}

/// Makes `agencies` agencies (with service points) and `workers` workers, deterministically for `seed`.
pub async fn generate(
    store: &Store,
    agencies: usize,
    workers: usize,
    seed: u64,
    histories: Histories,
    show_progress: bool,
) -> anyhow::Result<Summary> {
    let mut rng = StdRng::seed_from_u64(seed);
    let places = Places::load(store).await?;
    let mut summary = Summary::default();
    let mut used_codes = HashSet::new();
    let mut agency_models: Vec<(i64, BusinessModel)> = Vec::with_capacity(agencies);
    let bar = progress_bar(agencies as u64, "agencies");
    if !show_progress {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    // Agencies and their points are written in batches of 500, each batch one transaction.
    let mut drafts: Vec<AgencyDraft> = Vec::with_capacity(agencies);
    let mut planned_points: Vec<(usize, ServicePointDraft)> = Vec::new();
    for i in 0..agencies {
        // The first agency sits in 南关区 so the demo's district regulator has it in scope.
        let street = if i == 0 { "220102001000".to_string() } else { pick(&mut rng, &places.streets).clone() };
        let street = DivisionCode::parse(&street).expect("stored codes are valid");
        let brand = if let Some(brand) = BRANDS.get(i) {
            brand.to_string()
        } else {
            format!("{}{}", pick(&mut rng, BRANDS), i)
        };
        let model = match rng.random_range(0..20) {
            0..8 => BusinessModel::EmployeeBased,
            8..15 => BusinessModel::Intermediary,
            _ => BusinessModel::Mixed,
        };
        let draft = AgencyDraft {
            uscc: uscc(&mut rng, street.as_str(), &mut used_codes),
            name: format!("长春市{brand}家政服务有限公司"),
            brand_name: Some(brand),
            legal_representative: {
                let female = rng.random_bool(0.5);
                person_name(&mut rng, female)
            },
            address: format!(
                "{}路{}号",
                pick(&mut rng, &["人民大", "自由", "西安大", "亚泰大", "卫星", "南湖", "绿园", "长春大"]),
                rng.random_range(1..999)
            ),
            street_code: street.clone(),
            phone: format!("0431-8{:07}", rng.random_range(0..10_000_000)),
            business_model: model,
        };
        let in_street: Vec<&Division> =
            places.units.iter().filter(|u| u.parent_code.as_deref() == Some(street.as_str())).collect();
        if !in_street.is_empty() && (i == 0 || rng.random_bool(0.6)) {
            for n in 0..rng.random_range(1..=3usize) {
                let home = *pick(&mut rng, &in_street);
                let mut serves: Vec<DivisionCode> = (0..rng.random_range(0..4))
                    .map(|_| DivisionCode::parse(&pick(&mut rng, &in_street).code).expect("stored codes are valid"))
                    .collect();
                let community_code = DivisionCode::parse(&home.code).expect("stored codes are valid");
                serves.push(community_code.clone());
                serves.sort();
                serves.dedup();
                let suffix = if n > 0 { format!("（{}）", n + 1) } else { String::new() };
                planned_points.push((
                    i,
                    ServicePointDraft {
                        name: format!("{}{}家政服务站{suffix}", home.name, draft.brand_name.as_deref().unwrap_or("")),
                        community_code,
                        address: format!("{}综合服务中心{}室", home.name, rng.random_range(101..399)),
                        opening_hours: pick(&mut rng, &["08:00-17:30", "08:30-18:00", "09:00-20:00"]).to_string(),
                        serves,
                        place: None,
                        cross_district: false,
                    },
                ));
            }
        }
        agency_models.push((0, model));
        drafts.push(draft);
    }
    let mut agency_ids = Vec::with_capacity(agencies);
    for chunk in drafts.chunks(500) {
        agency_ids.extend(store.create_agencies(chunk).await.context("agencies")?);
        bar.inc(chunk.len() as u64);
    }
    for (model, id) in agency_models.iter_mut().zip(&agency_ids) {
        model.0 = *id;
    }
    summary.agencies = agency_ids.len();
    summary.first_agency = agency_ids.first().map(|id| (*id, drafts[0].uscc.to_string()));
    for chunk in planned_points.chunks(500) {
        let points: Vec<(i64, &ServicePointDraft)> = chunk.iter().map(|(i, p)| (agency_ids[*i], p)).collect();
        summary.service_points += store.create_service_points(&points).await?.len();
    }
    let today = jiazheng_server::api::workers::today();
    let mut agency_policies: Vec<(i64, InsuranceDraft)> = Vec::new();
    for id in &agency_ids {
        if rng.random_bool(0.4) {
            agency_policies.push((*id, history::agency_policy(&mut rng, today)));
        }
    }
    let rows: Vec<(Option<i64>, i64, &InsuranceDraft, Recorder)> =
        agency_policies.iter().map(|(id, p)| (None, *id, p, Recorder::agency(*id, None))).collect();
    store.add_policies(&rows).await?;
    if store.providers(PageRequest::default()).await?.total == 0 {
        for provider in history::providers() {
            let id = store.create_provider(&provider).await?;
            for course in history::courses() {
                store.create_course(id, &course).await?;
            }
        }
    }
    bar.finish_and_clear();

    let bar = progress_bar(workers as u64, "workers");
    if !show_progress {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    // A producer thread builds the next batch while this task writes the current one.
    let (tx, rx) =
        std::sync::mpsc::sync_channel::<(Vec<(WorkerDraft, Option<NewBinding>, History)>, Vec<SealedIdentity>)>(2);
    let sealer = store.clone();
    let producer = std::thread::spawn(move || {
        let mut used_ids = HashSet::with_capacity(workers);
        let mut made = 0;
        // At least four batches, so a small run takes the same path (readiness planned beside
        // the next batch) as a large one.
        let size = WORKER_BATCH.min(workers.div_ceil(4).max(1));
        while made < workers {
            let n = size.min(workers - made);
            let batch: Vec<(WorkerDraft, Option<NewBinding>, History)> = (0..n)
                .map(|_| worker(&mut rng, &places, &mut used_ids))
                .collect::<Vec<_>>()
                .into_iter()
                .map(|draft| {
                    let binding = binding_for(&mut rng, &agency_models);
                    // People not working for an agency have no agency to keep their records.
                    let past = match binding {
                        Some(_) if histories.given(&mut rng) => history::history(&mut rng, draft.services, today),
                        _ => History::default(),
                    };
                    (draft, binding, past)
                })
                .collect();
            made += n;
            let sealed = batch.iter().map(|(draft, ..)| sealer.seal_identity(draft)).collect();
            if tx.send((batch, sealed)).is_err() {
                break;
            }
        }
    });
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    let today = jiazheng_core::calendar::beijing_today();
    // The readiness of each batch is planned (read and computed) on another core while the next
    // batch is written; only writing the plan waits its turn.
    let mut planned: Option<tokio::task::JoinHandle<jiazheng_store::Result<ReadinessPlan>>> = None;
    loop {
        let rx = rx.clone();
        let batch = tokio::task::spawn_blocking(move || rx.lock().ok().and_then(|rx| rx.recv().ok())).await?;
        let Some((batch, sealed)) = batch else { break };
        let rows: Vec<SealedWorker> = batch
            .iter()
            .zip(sealed)
            .map(|((draft, binding, _), identity)| SealedWorker {
                worker: NewWorker { draft, binding: *binding },
                identity,
            })
            .collect();
        let ids = store.insert_sealed_workers(&rows).await?;
        write_histories(store, &batch, &ids).await?;
        if let Some(plan) = planned.take() {
            store.apply_readiness(&plan.await??).await?;
        }
        if let (Some(lo), Some(hi)) = (ids.iter().min(), ids.iter().max()) {
            let (store, scope) = (store.clone(), StaleScope::Range(*lo, *hi));
            planned = Some(tokio::spawn(async move { store.plan_readiness(scope, today).await }));
        }
        summary.workers += rows.len();
        bar.set_position(summary.workers as u64);
    }
    if let Some(plan) = planned.take() {
        store.apply_readiness(&plan.await??).await?;
    }
    producer.join().map_err(|_| anyhow::anyhow!("the generator thread failed"))?;
    bar.finish_and_clear();
    let bar = progress_bar(workers as u64, "readiness");
    if !show_progress {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    store
        .refresh_all_readiness(today, &|done, total| {
            bar.set_length(total);
            bar.set_position(done);
        })
        .await?;
    bar.finish_and_clear();
    Ok(summary)
}

/// Writes the histories of a batch of just-inserted workers, each recorded by its agency.
async fn write_histories(
    store: &Store,
    batch: &[(WorkerDraft, Option<NewBinding>, History)],
    ids: &[i64],
) -> anyhow::Result<()> {
    let mut trainings = Vec::new();
    let mut certificates = Vec::new();
    let mut checks = Vec::new();
    let mut policies = Vec::new();
    for ((_, binding, past), id) in batch.iter().zip(ids) {
        let Some(binding) = binding else { continue };
        let by = Recorder::agency(binding.agency_id, None);
        trainings.extend(past.trainings.iter().map(|t| (*id, t, by)));
        certificates.extend(past.certificates.iter().map(|c| (*id, c, by)));
        checks.extend(past.health_checks.iter().map(|h| (*id, h, by)));
        policies.extend(past.policies.iter().map(|p| (Some(*id), binding.agency_id, p, by)));
    }
    store.add_trainings(&trainings).await?;
    store.add_certificates(&certificates).await?;
    store.add_health_checks(&checks).await?;
    store.add_policies(&policies).await?;
    Ok(())
}

/// A synthetic import sheet of `rows` new workers.
pub async fn worker_sheet(store: &Store, rows: usize, seed: u64) -> anyhow::Result<Vec<u8>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let places = Places::load(store).await?;
    let mut used = HashSet::with_capacity(rows);
    let mut lines: Vec<WorkerLine> = Vec::with_capacity(rows);
    // Only people not registered yet, so the sheet imports cleanly into this database.
    while lines.len() < rows {
        let drafts: Vec<WorkerDraft> =
            (0..(rows - lines.len()).min(5000)).map(|_| worker(&mut rng, &places, &mut used)).collect();
        let registered = store.existing_workers(drafts.iter()).await?;
        for draft in drafts.iter().filter(|d| !registered.contains_key(d.id_number.as_str())) {
            let kind = if rng.random_bool(0.6) { BindingKind::Employee } else { BindingKind::Intermediary };
            lines.push(WorkerLine::from_draft(draft, kind));
        }
    }
    Ok(workers_sheet(&lines)?)
}

/// Fills an empty database with a small demo and its accounts; leaves a used one alone.
pub async fn ensure_demo(store: &Store) -> anyhow::Result<()> {
    let any = store.search_agencies(&Default::default()).await?;
    if any.total > 0 {
        return Ok(());
    }
    let summary = generate(store, 60, 3000, 1, Histories::All, false).await?;
    let (agency_id, _) = summary.first_agency.clone().context("the demo has an agency")?;
    let provider = store.providers(PageRequest::default()).await?.items.first().map(|p| p.id);
    let staff = store
        .search_workers(&jiazheng_store::registry::workers::WorkerQuery {
            agency: Some(agency_id),
            page: PageRequest::new(Some(1), Some(5)),
            ..Default::default()
        })
        .await?
        .items;
    let first_worker = staff.first().map(|w| w.id);
    let accounts = [
        ("admin", "系统管理员", Role::SystemAdmin, None, None, None, None),
        ("regulator", "长春市商务局", Role::Regulator, None, None, None, None),
        ("nanguan", "南关区商务局", Role::Regulator, None, Some("220102000000"), None, None),
        ("community", "南关区社区工作人员", Role::CommunityStaff, None, Some("220102000000"), None, None),
        ("nanling", "南岭街道社区工作人员", Role::CommunityStaff, None, Some("220102001000"), None, None),
        ("agency", "安心家政管理员", Role::AgencyAdmin, Some(agency_id), None, None, None),
        ("resident", "居民演示账号", Role::Resident, None, None, None, None),
        ("school", "春城家政职业培训学校", Role::School, None, None, None, provider),
        ("worker", "服务员演示账号", Role::Worker, None, None, first_worker, None),
        ("bank", "吉林银行长春分行", Role::Bank, None, None, None, None),
    ];
    let bank = store.create_bank("吉林银行长春分行").await?;
    let mut ids = std::collections::HashMap::new();
    for (username, display_name, role, agency_id, district, worker_id, provider_id) in accounts {
        if (role == Role::School && provider_id.is_none()) || (role == Role::Worker && worker_id.is_none()) {
            continue;
        }
        let id = store
            .create_account(&NewAccount {
                username: username.into(),
                display_name: display_name.into(),
                password: DEMO_PASSWORD.into(),
                role,
                agency_id,
                district_code: district.map(String::from),
                worker_id,
                provider_id,
                bank_id: (role == Role::Bank).then_some(bank),
                evaluator_id: None,
            })
            .await?;
        ids.insert(username, id);
    }
    credit_examples(store, agency_id, &staff, &ids).await?;
    let market = crate::market_demo::generate(store, 2, 50, 1, false).await?;
    let states = crate::market_demo::every_state(store, agency_id, ids["agency"], ids["resident"]).await?;
    // The demo resident has given the name and (synthetic) ID number their contracts state, so an
    // order's contract is drafted as soon as its page is opened.
    let born = chrono::NaiveDate::from_ymd_opt(1986, 5, 17).unwrap_or_default();
    let id_number = jiazheng_core::ids::ResidentId::compose("220102", born, 18);
    let phone = jiazheng_core::ids::Mobile::parse("13800000001").map_err(|e| anyhow::anyhow!(e.message_en))?;
    store.attach_resident_phone(ids["resident"], &phone).await?;
    store.set_resident_identity(ids["resident"], "张丽华", &id_number).await?;
    println!("{market}; {states} demo orders of the demo agency, one per state");
    let subsidies =
        crate::subsidy_demo::generate(store, ids["regulator"], ids["community"], ids["resident"], agency_id).await?;
    println!("{subsidies}");
    println!("{}", crate::survey_demo::generate(store, ids["community"], agency_id).await?);
    let school = provider.and_then(|p| ids.get("school").map(|account| (*account, p)));
    let community = crate::community_demo::generate(store, agency_id, ids["agency"], ids["community"], school).await?;
    println!("{community}");
    println!("{}", crate::evaluation_demo::generate(store, ids["regulator"], agency_id).await?);
    let accounts = crate::tasks_demo::DemoAccounts {
        admin: ids["admin"],
        city: ids["regulator"],
        district: ids["nanguan"],
        agency: ids["agency"],
        school,
    };
    let staff_ids: Vec<i64> = staff.iter().map(|w| w.id).collect();
    println!("{}", crate::tasks_demo::generate(store, &accounts, agency_id, &staff_ids, DEMO_PASSWORD).await?);
    let claim_accounts = crate::claims_demo::Accounts {
        city: ids["regulator"],
        nanguan: ids["nanguan"],
        agency_admin: ids["agency"],
        resident: ids["resident"],
    };
    println!("{}", crate::claims_demo::generate(store, agency_id, &claim_accounts).await?);
    // The school has enrolled some of the agency's workers in its pre-job course.
    if let Some(provider) = provider {
        let provider_name = store.provider(provider).await?.name;
        let course = store.courses(provider, PageRequest::default()).await?.items.into_iter().last();
        if let Some(course) = course {
            let started = jiazheng_server::api::workers::today() - Duration::days(7);
            for worker in staff.iter().skip(1) {
                store.enrol(&course, &provider_name, worker.id, started, None).await?;
            }
        }
    }
    let today = jiazheng_server::api::workers::today();
    println!("{}", crate::oversight_demo::generate(store, ids["regulator"], today, 6).await?);
    let report = store.run_daily_job(today, &InboxDelivery, &|_, _| {}).await?;
    println!("daily job: {} reminders for {} workers", report.reminders_new, report.workers);
    println!("{summary}");
    Ok(())
}

/// A little credit history to look at: certificates, rated services (and one waiting for the
/// resident's confirmation), an upheld complaint, a reward and a black-list entry reviewed by a
/// second regulator.
async fn credit_examples(
    store: &Store,
    agency_id: i64,
    staff: &[jiazheng_store::registry::workers::Worker],
    ids: &std::collections::HashMap<&str, i64>,
) -> anyhow::Result<()> {
    use jiazheng_core::credit::casework::{
        ActionForm, ComplaintAction, ComplaintForm, ListProposalForm, RatingForm, ServiceRecordForm,
    };
    use jiazheng_store::credit::casework::Actor;
    let today = jiazheng_server::api::workers::today();
    let tokens = certificates(store, 20, today).await?;
    println!("{} home-service certificates issued; a door link: /v/{}", tokens.len(), tokens.first().map_or("", |t| t));
    let actor = |name: &str, source: String, area: Option<&str>| Actor {
        account_id: ids[name],
        source,
        area: area.map(String::from),
    };
    let resident = actor("resident", format!("resident:{}", ids["resident"]), None);
    let city = actor("regulator", "regulator:city".into(), None);
    for (i, worker) in staff.iter().enumerate().take(4) {
        let performed_on = (today - Duration::days(3 + i as i64)).to_string();
        let form = ServiceRecordForm {
            worker_id: worker.id,
            resident: "resident".into(),
            service: "cleaning".into(),
            performed_on,
        };
        let draft = form.parse(today).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let service = store.record_service(agency_id, &draft, ids["agency"]).await?;
        if i == 3 {
            break; // left for the resident to confirm and rate
        }
        store.confirm_service(service.id, &resident).await?;
        let stars = ["5", "4", "5"][i].to_string();
        let rating = RatingForm {
            quality: stars.clone(),
            punctuality: stars,
            attitude: "5".into(),
            communication: "4".into(),
            comment: "准时、细致".into(),
        }
        .parse()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        store.rate_service(service.id, &resident, &rating).await?;
    }
    // An agency of 南关区, so that the district's regulator can be the second pair of eyes.
    let others = store.search_agencies(&Default::default()).await?.items;
    let nanguan = actor("nanguan", "regulator:220102000000".into(), Some("220102000000"));
    if let Some(other) = others.iter().find(|a| a.id != agency_id && a.district_code == "220102000000") {
        let complaint = ComplaintForm {
            subject_kind: "agency".into(),
            subject_id: other.id,
            service_id: None,
            body: "实际收费高于公示价格".into(),
        }
        .parse()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let filed = store.file_complaint(ids["resident"], &complaint).await?;
        store.act_on_complaint(filed.id, ComplaintAction::Acknowledge, "", &nanguan).await?;
        store
            .act_on_complaint(filed.id, ComplaintAction::Uphold, "经核实多收服务费120元，已责令退还", &nanguan)
            .await?;
        let proposal = ListProposalForm {
            subject_kind: "agency".into(),
            subject_id: other.id,
            list: "black".into(),
            reason: "多次违规收费，经责令整改仍未改正".into(),
            document: "长商务信〔2026〕12号".into(),
        }
        .parse()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let listing = store.propose_listing(&proposal, &city).await?;
        store.review_listing(listing.id, true, "同意列入", &nanguan).await?;
    }
    let reward = ActionForm {
        subject_kind: "agency".into(),
        subject_id: agency_id,
        kind: "reward".into(),
        decided_on: (today - Duration::days(30)).to_string(),
        authority: "长春市商务局".into(),
        document: "长商务〔2026〕8号".into(),
        reason: "家政服务诚信示范企业".into(),
    }
    .parse(today)
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    store.record_action(&reward, &city).await?;
    Ok(())
}

pub fn print_logins(base: &str) {
    println!("demo logins (password {DEMO_PASSWORD}):");
    for (name, what) in [
        ("agency", "agency admin of 长春市安心家政服务有限公司"),
        (
            "nanguan",
            "regulator for 南关区: subsidy claims to decide at /regulator/claims, rectification at /regulator/rectifications",
        ),
        ("regulator", "regulator for the whole city, acting for 市商务局: plan tasks at /plan, library review"),
        ("hrss", "市人社局: a unit reporting on its plan tasks at /plan"),
        ("nanguan-gov", "南关区人民政府: a district unit reporting on its plan tasks"),
        ("community", "community staff of 南关区: desk at /community, surveys, subsidised service"),
        ("nanling", "community staff of 南岭街道 (one street): desk at /community, surveys"),
        ("admin", "system admin: accounts at /admin/accounts"),
        ("resident", "resident"),
        ("school", "school / training base: courses, enrolments, exam results"),
        ("worker", "a worker of that agency: own record and reminders"),
        ("bank", "吉林银行长春分行: credit reports agencies release to it, at /bank"),
        ("evaluator", "third-party evaluator: scores the rounds its organisation is assigned, at /evaluation"),
    ] {
        println!("  {name:<10} {what}");
    }
    println!("open {base}/ · API docs {base}/api/docs/");
}

/// Verifies identity and issues certificates for eligible workers, first ids first, until
/// `count` are issued; returns their tokens.
pub async fn certificates(store: &Store, count: usize, today: NaiveDate) -> anyhow::Result<Vec<String>> {
    let bar = progress_bar(count as u64, "certificates");
    let mut tokens = Vec::with_capacity(count);
    let mut lo = 1;
    let max = store.count_workers().await?;
    while tokens.len() < count && lo <= max {
        let workers =
            store.load_worker_facts(jiazheng_store::workforce::facts::FactsScope::Range(lo, lo + 999)).await?;
        lo += 1000;
        for w in workers {
            let Some(agency) = w.agencies.first() else { continue };
            let requirement =
                jiazheng_core::workforce::compliance::Requirement::for_services(ServiceSet::from_bits(w.services));
            let compliance = jiazheng_core::workforce::compliance::assess(&w.facts, &requirement, today);
            if !jiazheng_core::credit::certificate::refusals(true, &compliance).is_empty() {
                continue;
            }
            let source = format!("agency:{agency}");
            store.verify_identity(w.id, source.clone(), None, "id_card").await?;
            tokens.push(store.issue_certificate(w.id, source, None, today).await?.token);
            bar.inc(1);
            if tokens.len() == count {
                break;
            }
        }
    }
    bar.finish_and_clear();
    Ok(tokens)
}

/// Appends synthetic rating entries in batches, for measuring the ledger's verification.
pub async fn ledger(store: &Store, entries: usize) -> anyhow::Result<()> {
    use jiazheng_core::credit::{EntryKind, SubjectKind};
    let bar = progress_bar(entries as u64, "entries");
    let mut written = 0;
    while written < entries {
        let n = 5000.min(entries - written);
        let batch: Vec<jiazheng_store::credit::ledger::NewEntry> = (0..n)
            .map(|i| jiazheng_store::credit::ledger::NewEntry {
                subject_kind: SubjectKind::Worker,
                subject_id: ((written + i) % 1_000_000 + 1) as i64,
                kind: EntryKind::Rating,
                payload: serde_json::json!({ "stars": (written + i) % 5 + 1, "service": written + i }),
                source: "demo".into(),
                recorded_by: None,
                corrects: None,
            })
            .collect();
        store.append_entries(&batch).await?;
        written += n;
        bar.set_position(written as u64);
    }
    bar.finish_and_clear();
    Ok(())
}

/// Lays out a synthetic three-party contract `count` times: the time per PDF (mean, median, 95th
/// percentile, slowest) and its size, and the last PDF.
pub fn contract_pdf_timing(count: usize) -> anyhow::Result<(String, Vec<u8>)> {
    use jiazheng_core::market::contract::{self, ContractKind};
    let kind = ContractKind::IntermediaryService;
    let sample = [
        ("resident_name", "张丽华"),
        ("resident_id", "220102********0018"),
        ("resident_phone", "138****0001"),
        ("service_address", "南关区 · 南岭街道 · 华阳社区 华阳小区3栋2单元501"),
        ("agency_name", "长春市安心家政服务有限公司"),
        ("agency_uscc", "91220102MA0Y12345X"),
        ("agency_legal", "李明"),
        ("agency_address", "南关区南岭街道人民大街1号"),
        ("agency_phone", "043188886666"),
        ("worker_name", "刘桂香"),
        ("worker_id", "220102********003X"),
        ("worker_phone", "139****0032"),
        ("worker_health", "居家服务类，2026-10-01 体检合格，有效期至 2027-10-01"),
        ("worker_training", "2026-09-15 岗前培训考核合格"),
        ("worker_insurance", "家政服务员意外伤害或职业责任保险有效，至 2027-06-30"),
        ("worker_certificate", "家政服务员家务服务员四级/中级"),
        ("item", "日常保洁"),
        ("mode", "按小时"),
        ("description", "擦拭家具、吸尘、拖地、整理台面，厨房和卫生间的日常清洁，不含玻璃外侧和高空作业。"),
        ("order_number", "JZ00001234"),
        ("schedule", "2026-12-05 09:00–11:00"),
        ("unit_price", "¥45.00"),
        ("quantity", "2"),
        ("total_price", "¥90.00"),
        ("deposit", "本合同不收取押金。"),
        ("free_cancel_hours", "24"),
        ("cancel_fee_percent", "20"),
        ("replacement_days", "3"),
        ("platform", "长春家政服务平台"),
        ("regulator", "长春市商务局"),
        ("drafted_on", "2026-12-02"),
    ];
    let mut facts: std::collections::BTreeMap<&str, String> = sample.iter().map(|(k, v)| (*k, v.to_string())).collect();
    let mut times = Vec::with_capacity(count);
    let mut last = Vec::new();
    for n in 0..count {
        let number = contract::number(kind, jiazheng_core::calendar::beijing_today(), rand::random());
        facts.insert("contract_number", number.clone());
        let started = std::time::Instant::now();
        let filled = contract::fill(kind, &facts)?;
        let link = format!("https://jiazheng.example/contracts/check?number={number}");
        last = jiazheng_server::contracts::layout(&filled, &number, &link)?;
        // The first one loads the font: reported apart.
        if n > 0 || count == 1 {
            times.push(started.elapsed().as_secs_f64() * 1000.0);
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() as f64 - 1.0) * q).round() as usize];
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    let report = format!(
        "{} contract PDFs ({} KB each): mean {mean:.1} ms, median {:.1} ms, p95 {:.1} ms, slowest {:.1} ms",
        times.len(),
        last.len() / 1024,
        at(0.5),
        at(0.95),
        at(1.0)
    );
    Ok((report, last))
}
