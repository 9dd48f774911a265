//! Demo community data: 南关区 staff's demand surveys (one open, one finished) answered by
//! synthetic households across the district's communities, and a service point that asks to serve
//! a community across the district line (waiting for the regulator). Phones and answers are
//! synthetic; the places are real divisions.

use chrono::{Days, NaiveDate};
use jiazheng_core::community::survey::{AnswerForm, CareFor, Frequency, QuestionKind, SurveyDraft, TimeOfDay};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::ids::Mobile;
use jiazheng_core::market::CatalogItem;
use jiazheng_core::registry::service_point::ServicePointForm;
use jiazheng_store::Store;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

const NANGUAN: &str = "220102000000";

fn parse(code: &str) -> anyhow::Result<DivisionCode> {
    DivisionCode::parse(code).map_err(|e| anyhow::anyhow!(e.message_en))
}

fn some<T: Copy + std::fmt::Display>(rng: &mut StdRng, all: &[T], at_most: usize) -> Vec<String> {
    let n = rng.random_range(1..=at_most.min(all.len()));
    (0..n).map(|_| all[rng.random_range(0..all.len())].to_string()).collect()
}

/// One synthetic household's answer: services weighted towards cleaning and elderly care.
fn answer(rng: &mut StdRng, community: &str) -> AnswerForm {
    let popular = [
        CatalogItem::DailyCleaning,
        CatalogItem::DailyCleaning,
        CatalogItem::ElderlyCare,
        CatalogItem::ElderlyCare,
        CatalogItem::HourlyHelp,
        CatalogItem::Cooking,
        CatalogItem::Childcare,
        CatalogItem::Maternity,
        CatalogItem::ApplianceCleaning,
        CatalogItem::DeepCleaning,
        CatalogItem::PatientCare,
    ];
    let low = rng.random_range(25..45);
    let care = if rng.random_bool(0.3) { vec![CareFor::Nobody.to_string()] } else { some(rng, &CareFor::ALL[..5], 2) };
    AnswerForm {
        community: community.into(),
        services: some(rng, &popular, 3),
        frequency: Frequency::ALL[rng.random_range(0..Frequency::ALL.len())].to_string(),
        price_min: low.to_string(),
        price_max: (low + rng.random_range(5..30)).to_string(),
        times: some(rng, TimeOfDay::ALL, 2),
        care,
        note: String::new(),
    }
}

async fn answer_many(
    store: &Store,
    rng: &mut StdRng,
    survey_id: i64,
    households: u32,
    first_phone: u64,
    communities: &[String],
    on: NaiveDate,
) -> anyhow::Result<u32> {
    let survey = store.survey_in(survey_id, None).await?;
    let asked = survey.asked();
    let mut taken = 0;
    for n in 0..households {
        let phone = Mobile::parse(&format!("139{:08}", first_phone + u64::from(n)))
            .map_err(|e| anyhow::anyhow!(e.message_en))?;
        let (resident, _) = store.resident_by_phone(&phone).await?;
        let community = &communities[rng.random_range(0..communities.len())];
        let form = answer(rng, community);
        let parsed = form.parse(&asked).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        store.answer_survey(&survey, resident, &parse(community)?, &parsed, on).await?;
        taken += 1;
    }
    Ok(taken)
}

pub async fn generate(store: &Store, staff: i64, agency: i64) -> anyhow::Result<String> {
    let today = jiazheng_core::calendar::beijing_today();
    let mut rng = StdRng::seed_from_u64(13);
    let nanguan = parse(NANGUAN)?;
    // Most households live in a dozen communities, so the demand list has places to compare.
    let mut communities: Vec<String> = store.community_names(&nanguan).await?.into_keys().collect();
    communities.sort();
    communities.truncate(12);

    let finished = SurveyDraft {
        title: "2026年秋季家政服务需求调查".into(),
        intro: "了解各社区居民对家政服务的需求，用于安排社区家政服务网点和服务项目。".into(),
        questions: vec![QuestionKind::Services, QuestionKind::Frequency, QuestionKind::Price],
        opens_on: today - Days::new(60),
        closes_on: today - Days::new(31),
    };
    let old = store.create_survey(&nanguan, &finished, staff).await?;
    let first = answer_many(store, &mut rng, old, 60, 10_000, &communities, today - Days::new(45)).await?;

    let open = SurveyDraft {
        title: "2026年冬季家政服务需求调查".into(),
        intro: "每户填写一次，约两分钟。结果用于补齐社区缺少的服务。".into(),
        questions: QuestionKind::ALL.to_vec(),
        opens_on: today - Days::new(5),
        closes_on: today + Days::new(25),
    };
    let current = store.create_survey(&nanguan, &open, staff).await?;
    let second = answer_many(store, &mut rng, current, 120, 20_000, &communities, today).await?;

    // A point of the demo agency that asks to serve a community of 朝阳区 as well.
    let across = ServicePointForm {
        name: "南岭街道家政便民服务站".into(),
        community_code: "220102001002".into(),
        address: "恒安社区服务中心一楼".into(),
        opening_hours: "08:00-18:00".into(),
        serves: vec!["220102001003".into(), "220104001001".into()],
        cross_district: true,
        ..Default::default()
    };
    let draft = across.parse().map_err(|e| anyhow::anyhow!("{e:?}"))?;
    store.create_service_point(agency, &draft).await?;
    Ok(format!(
        "community: 2 demand surveys of 南关区 with {} answers, a cross-district declaration waiting",
        first + second
    ))
}

/// What `demo community` measured.
pub struct BenchReport {
    pub points: usize,
    pub answers: usize,
    pub coverage_ms: Vec<f64>,
    pub demand_ms: Vec<f64>,
    pub recount_ms: f64,
    pub roll_up_ms: f64,
    pub gap_ms: f64,
    pub covered: String,
}

impl std::fmt::Display for BenchReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let show = |v: &[f64]| v.iter().map(|ms| format!("{ms:.1}")).collect::<Vec<_>>().join(", ");
        writeln!(f, "open points: {}; survey answers: {}", self.points, self.answers)?;
        writeln!(f, "coverage over the city's units (read + compute), ms: {}", show(&self.coverage_ms))?;
        writeln!(f, "coverage: {}", self.covered)?;
        writeln!(f, "survey demand by community (running totals), ms: {}", show(&self.demand_ms))?;
        writeln!(f, "the same counted again from every answer (one scan), ms: {:.1}", self.recount_ms)?;
        writeln!(f, "roll-up to streets and districts, ms: {:.2}", self.roll_up_ms)?;
        write!(f, "gap report for the whole survey, ms: {:.1}", self.gap_ms)
    }
}

fn ms(since: std::time::Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// For scripts/benchmark-community: `points` open service points over the city's units (each
/// declaring up to four more of its street, two in five with coordinates of their own near their
/// community), a city-wide survey with `answers` answers, then the timings of coverage and of the
/// survey's aggregation.
pub async fn bench(store: &Store, points: usize, answers: usize, seed: u64) -> anyhow::Result<BenchReport> {
    use jiazheng_core::community::survey::{Answer, mask_of};
    use jiazheng_core::market::assignment::Place;
    use jiazheng_core::registry::agency::{AgencyDraft, BusinessModel};
    use jiazheng_core::registry::service_point::ServicePointDraft;
    use jiazheng_store::community::surveys::{BulkAnswer, roll_up};

    let mut rng = StdRng::seed_from_u64(seed);
    let units = store.village_units().await?;
    anyhow::ensure!(!units.is_empty(), "no divisions loaded");
    let mut agencies = store.agency_ids().await?;
    if agencies.is_empty() {
        let drafts: Vec<AgencyDraft> = (0..20)
            .map(|i| {
                let street = &units[i * 97 % units.len()];
                Ok(AgencyDraft {
                    uscc: jiazheng_core::ids::Uscc::parse(&jiazheng_core::ids::Uscc::compose(
                        &street.code[..6],
                        &format!("BCH{i:05}"),
                    ))
                    .map_err(|e| anyhow::anyhow!(e.message_en))?,
                    name: format!("基准测试家政{i}号"),
                    brand_name: None,
                    legal_representative: "测试".into(),
                    address: "测试路1号".into(),
                    street_code: parse(&format!("{:0<12}", &street.code[..9]))?,
                    phone: "043188886666".into(),
                    business_model: BusinessModel::EmployeeBased,
                })
            })
            .collect::<anyhow::Result<_>>()?;
        agencies = store.create_agencies(&drafts).await?;
    }
    let mut by_street: std::collections::HashMap<&str, Vec<&str>> = std::collections::HashMap::new();
    for u in &units {
        by_street.entry(&u.code[..9]).or_default().push(&u.code);
    }
    let bar = crate::commands::progress_bar(points as u64, "service points");
    let mut made = 0;
    while made < points {
        let batch: Vec<(i64, ServicePointDraft)> = (0..(points - made).min(1000))
            .map(|_| {
                let home = &units[rng.random_range(0..units.len())];
                let street = &by_street[&home.code[..9]];
                let mut serves: Vec<DivisionCode> = (0..rng.random_range(0..5))
                    .map(|_| parse(street[rng.random_range(0..street.len())]))
                    .collect::<anyhow::Result<_>>()?;
                let community_code = parse(&home.code)?;
                serves.push(community_code.clone());
                serves.sort();
                serves.dedup();
                let place = jiazheng_store::registry::places::locate(&home.code).filter(|_| rng.random_bool(0.4)).map(
                    |(p, _)| Place {
                        lng: p.lng + rng.random_range(-0.01..0.01),
                        lat: p.lat + rng.random_range(-0.01..0.01),
                    },
                );
                let draft = ServicePointDraft {
                    name: format!("{}服务站", home.name),
                    community_code,
                    address: "社区服务中心".into(),
                    opening_hours: "08:00-18:00".into(),
                    serves,
                    place,
                    cross_district: false,
                };
                Ok((agencies[rng.random_range(0..agencies.len())], draft))
            })
            .collect::<anyhow::Result<_>>()?;
        let refs: Vec<(i64, &ServicePointDraft)> = batch.iter().map(|(a, d)| (*a, d)).collect();
        store.create_service_points(&refs).await?;
        made += batch.len();
        bar.inc(batch.len() as u64);
    }
    bar.finish();

    let today = jiazheng_core::calendar::beijing_today();
    let by = store.system_account().await?;
    let city = parse(&format!("{:0<12}", &units[0].code[..4]))?;
    let draft = SurveyDraft {
        title: "基准测试调查".into(),
        intro: String::new(),
        questions: QuestionKind::ALL.to_vec(),
        opens_on: today,
        closes_on: today + Days::new(30),
    };
    let survey = store.create_survey(&city, &draft, by).await?;
    let bar = crate::commands::progress_bar(answers as u64, "survey answers");
    let mut written = 0;
    while written < answers {
        let batch: Vec<BulkAnswer> = (0..(answers - written).min(20_000))
            .map(|n| {
                let items: Vec<CatalogItem> = (0..rng.random_range(1..4))
                    .map(|_| CatalogItem::ALL[rng.random_range(0..CatalogItem::ALL.len())])
                    .collect();
                let low = rng.random_range(20..60) * 100;
                let mut household = [0u8; 16];
                household[..8].copy_from_slice(&((written + n) as u64).to_be_bytes());
                household[8..].copy_from_slice(&seed.to_be_bytes());
                BulkAnswer {
                    household,
                    community_code: units[rng.random_range(0..units.len())].code.clone(),
                    answer: Answer {
                        services: mask_of(CatalogItem::ALL, &items),
                        frequency: Some(Frequency::ALL[rng.random_range(0..Frequency::ALL.len())]),
                        price_min_fen: Some(low),
                        price_max_fen: Some(low + rng.random_range(5..30) * 100),
                        times: rng.random_range(1..16),
                        care: rng.random_range(1..32),
                        note: None,
                    },
                }
            })
            .collect();
        store.bulk_survey_answers(survey, &batch).await?;
        written += batch.len();
        bar.inc(batch.len() as u64);
    }
    bar.finish();

    let mut coverage_ms = Vec::new();
    let mut covered = String::new();
    for _ in 0..5 {
        let started = std::time::Instant::now();
        let c = store.coverage().await?;
        coverage_ms.push(ms(started));
        let t = c.tally(None);
        covered = format!(
            "社区 {}% ({}/{}), all units {}% ({}/{})",
            t.communities.percent(),
            t.communities.covered,
            t.communities.total,
            t.all_units.percent(),
            t.all_units.covered,
            t.all_units.total
        );
    }
    let mut demand_ms = Vec::new();
    let mut rows = Vec::new();
    for _ in 0..3 {
        let started = std::time::Instant::now();
        rows = store.survey_demand(survey).await?;
        demand_ms.push(ms(started));
    }
    let started = std::time::Instant::now();
    let recount = store.survey_demand_recount(survey).await?;
    let recount_ms = ms(started);
    anyhow::ensure!(format!("{recount:?}") == format!("{rows:?}"), "the running totals equal the recount");
    let started = std::time::Instant::now();
    let streets = roll_up(&rows, 9);
    let districts = roll_up(&rows, 6);
    let roll_up_ms = ms(started);
    anyhow::ensure!(
        districts.iter().map(|d| d.demand.households).sum::<i64>() as usize >= answers,
        "every answer counted"
    );
    anyhow::ensure!(!streets.is_empty());
    let started = std::time::Instant::now();
    store.survey_gap(&store.survey_in(survey, None).await?).await?;
    let gap_ms = ms(started);
    Ok(BenchReport { points, answers, coverage_ms, demand_ms, recount_ms, roll_up_ms, gap_ms, covered })
}
