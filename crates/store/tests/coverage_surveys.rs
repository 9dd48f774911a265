//! 家政进社区 on a real database (SQLite, or PostgreSQL with JIAZHENG_TEST_DATABASE): coverage by
//! declaration and by distance, cross-district declarations, surveys with one answer per
//! household, demand lists and the gap against agencies' menus.

use chrono::Days;
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::community::coverage::{CoveredBy, Radius};
use jiazheng_core::community::gap::GapKind;
use jiazheng_core::community::survey::{AnswerForm, QuestionKind, SurveyForm};
use jiazheng_core::division::{DivisionCode, UnitType};
use jiazheng_core::ids::Mobile;
use jiazheng_core::market::catalog::CatalogItem;
use jiazheng_core::registry::service_point::ServicePointForm;
use jiazheng_store::community::surveys::roll_up;
use jiazheng_store::testing::{TestDb, agency, hourly_cleaning};
use jiazheng_store::{Store, StoreError};

fn code(raw: &str) -> DivisionCode {
    DivisionCode::parse(raw).unwrap()
}

async fn account(store: &Store, name: &str, role: Role, scope: &Scope) -> Principal {
    let new =
        jiazheng_store::accounts::NewAccount::scoped(name.into(), name.into(), "password-123".into(), role, scope);
    let id = store.create_account(&new).await.unwrap();
    Principal { account_id: id, role, scope: scope.clone() }
}

fn point(community: &str, serves: &[&str]) -> ServicePointForm {
    ServicePointForm {
        name: format!("{community}网点"),
        community_code: community.into(),
        address: "幸福路1号".into(),
        opening_hours: "08:00-18:00".into(),
        serves: serves.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

/// 南岭街道's three communities have coordinates of their own in the shipped points: 百屹社区 is
/// ~310 m from 华阳社区, 恒安社区 ~1.9 km. Units without coordinates of their own (most of the
/// city's) are covered only by a declaration.
#[tokio::test]
async fn coverage_by_declaration_and_by_distance() {
    let db = TestDb::new().await;
    let s = &db.store;
    let before = s.coverage().await.unwrap();
    let city = before.tally(None);
    assert_eq!(city.all_units.total, 2798);
    assert_eq!(city.all_units.covered, 0);
    assert!(city.communities.total > 700 && city.communities.total < city.all_units.total);

    let a = agency(s, "MA0Y1234").await;
    // Declares 220102001002; stands (by its community's own point) on 华阳社区.
    let id = s.create_service_point(a, &point("220102001001", &["220102001002"]).parse().unwrap()).await.unwrap();
    let after = s.coverage().await.unwrap();
    let by = |c: &str| after.units.iter().find(|u| u.code == c).unwrap().covered;
    assert_eq!(by("220102001001"), Some(CoveredBy::Declared));
    assert_eq!(by("220102001002"), Some(CoveredBy::Declared), "1.9 km away, but declared");
    assert_eq!(by("220102001003"), Some(CoveredBy::Distance), "310 m away, within the default 1,000 m");
    assert_eq!(by("220102002001"), None);
    let street = after.tally(Some(&code("220102001")));
    assert_eq!((street.all_units.covered, street.all_units.total), (3, 3));
    assert!(street.communities.meets_target());
    assert_eq!(after.tally(None).all_units.covered, 3);

    // A point with coordinates of its own reaches units with their own coordinates within the radius.
    let huayang = after.units.iter().find(|u| u.code == "220102001001").unwrap().place.unwrap();
    let neighbours: Vec<&str> = after
        .units
        .iter()
        .filter(|u| u.place.is_some_and(|p| p.metres_to(&huayang) <= 3000.0) && u.code != "220102001001")
        .map(|u| u.code.as_str())
        .collect();
    let (neighbours, across): (Vec<&str>, Vec<&str>) = neighbours.into_iter().partition(|c| c.starts_with("220102"));
    assert!(!neighbours.is_empty(), "the shipped points hold a unit of 南关区 within 3 km of 华阳社区");
    assert!(!across.is_empty(), "and one of another district");
    let regulator = account(s, "city", Role::Regulator, &Scope::City).await;
    s.set_coverage_radius(Radius::new(3000).unwrap(), regulator.account_id).await.unwrap();
    let wide = s.coverage().await.unwrap();
    for n in &neighbours {
        let unit = wide.units.iter().find(|u| u.code == *n).unwrap();
        assert!(unit.covered.is_some(), "{n} lies within 3 km");
    }
    for n in &across {
        let unit = wide.units.iter().find(|u| u.code == *n).unwrap();
        assert!(unit.covered.is_none(), "{n} lies within 3 km but across a district line");
    }
    assert_eq!(wide.radius.metres(), 3000);

    // A closed point covers nothing.
    s.close_service_point(id, a).await.unwrap();
    assert_eq!(s.coverage().await.unwrap().tally(None).all_units.covered, 0);
}

#[tokio::test]
async fn the_suggestion_covers_the_uncovered_with_the_most_demand_first() {
    let db = TestDb::new().await;
    let s = &db.store;
    let c = s.coverage().await.unwrap();
    let street = code("220102001");
    // 华阳 and 百屹 lie within 1,000 m of each other, 恒安 apart: one point at 华阳 (the lower
    // code of the tie) covers two, a second at 恒安 the third, and a third point adds nothing.
    let picks = c.suggest(Some(&street), 3);
    assert_eq!(picks.len(), 2);
    assert_eq!(c.units[picks[0].site].code, "220102001001");
    assert_eq!(picks[0].gain.len(), 2);
    assert_eq!(c.units[picks[1].site].code, "220102001002");
    for p in &picks {
        assert!(c.units[p.site].covered.is_none());
    }
    let uncovered = c.uncovered(Some(&street));
    assert_eq!(uncovered.len() as u32, c.tally(Some(&street)).all_units.total);
    assert!(uncovered.windows(2).all(|w| (w[0].kind != UnitType::Community) <= (w[1].kind != UnitType::Community)));
}

#[tokio::test]
async fn a_declaration_across_a_district_line_waits_for_that_regulator() {
    let db = TestDb::new().await;
    let s = &db.store;
    let a = agency(s, "MA0Y1234").await;
    // 220103 is 宽城区; the agency's point is in 南关区.
    let across = point("220102001001", &["220103002001"]);
    let refused = s.create_service_point(a, &across.parse().unwrap()).await.unwrap_err();
    let StoreError::Invalid(e) = refused else { panic!("{refused:?}") };
    assert_eq!(e.for_field("serves").unwrap().code, "outside_district");

    let asked = ServicePointForm { cross_district: true, ..across };
    let id = s.create_service_point(a, &asked.parse().unwrap()).await.unwrap();
    let covered = |c: &jiazheng_store::community::coverage::Coverage, code: &str| {
        c.units.iter().find(|u| u.code == code).unwrap().covered.is_some()
    };
    assert!(!covered(&s.coverage().await.unwrap(), "220103002001"), "pending counts for nothing");
    let kuancheng = code("220103");
    let nanguan = code("220102");
    let pending = s.pending_declarations(Some(&kuancheng)).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert!(s.pending_declarations(Some(&nanguan)).await.unwrap().is_empty());
    let regulator = account(s, "kc-reg", Role::Regulator, &Scope::District(kuancheng.clone())).await;
    let other = account(s, "ng-reg", Role::Regulator, &Scope::District(nanguan.clone())).await;
    // The point's own district's regulator may not decide for another district.
    let wrong = s.decide_declaration(id, &code("220103002001"), true, Some(&nanguan), other.account_id).await;
    assert!(matches!(wrong, Err(StoreError::NotFound)));
    s.decide_declaration(id, &code("220103002001"), true, Some(&kuancheng), regulator.account_id).await.unwrap();
    assert!(covered(&s.coverage().await.unwrap(), "220103002001"));
    // Decided once.
    let again = s.decide_declaration(id, &code("220103002001"), false, Some(&kuancheng), regulator.account_id).await;
    assert!(matches!(again, Err(StoreError::NotFound)));
}

async fn resident(s: &Store, phone: &str) -> i64 {
    s.resident_by_phone(&Mobile::parse(phone).unwrap()).await.unwrap().0
}

fn answer(community: &str, services: &[&str], max: &str) -> AnswerForm {
    AnswerForm {
        community: community.into(),
        services: services.iter().map(|s| s.to_string()).collect(),
        frequency: "weekly".into(),
        price_min: "20".into(),
        price_max: max.into(),
        times: vec!["morning".into()],
        care: vec!["elderly".into()],
        note: String::new(),
    }
}

#[tokio::test]
async fn surveys_take_one_answer_per_household_and_add_up() {
    let db = TestDb::new().await;
    let s = &db.store;
    let today = beijing_today();
    let area = code("220102001");
    let staff = account(s, "staff", Role::CommunityStaff, &Scope::District(area.clone())).await;
    let form = SurveyForm {
        title: "冬季需求调查".into(),
        questions: QuestionKind::ALL.iter().map(|q| q.as_str().to_string()).collect(),
        opens_on: today.to_string(),
        closes_on: (today + Days::new(10)).to_string(),
        ..Default::default()
    };
    let id = s.create_survey(&area, &form.parse(today).unwrap(), staff.account_id).await.unwrap();
    let survey = s.survey_in(id, Some(&area)).await.unwrap();
    assert_eq!(s.survey_by_link(&survey.link_token).await.unwrap().id, id);
    assert!(matches!(s.survey_in(id, Some(&code("220103"))).await, Err(StoreError::NotFound)), "another area's staff");
    assert!(matches!(s.survey_by_link("00000000000000000000000000000000").await, Err(StoreError::NotFound)));

    let asked = survey.asked();
    let (r1, r2, r3) =
        (resident(s, "13800000011").await, resident(s, "13800000012").await, resident(s, "13800000013").await);
    let a1 = answer("220102001001", &["elderly_care", "daily_cleaning"], "40").parse(&asked).unwrap();
    let a2 = answer("220102001001", &["elderly_care"], "60").parse(&asked).unwrap();
    let a3 = answer("220102001002", &["cooking"], "50").parse(&asked).unwrap();
    s.answer_survey(&survey, r1, &code("220102001001"), &a1, today).await.unwrap();
    s.answer_survey(&survey, r2, &code("220102001001"), &a2, today).await.unwrap();
    s.answer_survey(&survey, r3, &code("220102001002"), &a3, today).await.unwrap();
    assert!(s.has_answered(id, r1).await.unwrap());

    // The same household again: 409, and nothing changes.
    let twice = s.answer_survey(&survey, r1, &code("220102001001"), &a1, today).await;
    assert!(matches!(twice, Err(StoreError::Conflict { what: "survey_answer", .. })), "{twice:?}");
    // A community outside the survey's street.
    let outside = s.answer_survey(&survey, r1, &code("220102002001"), &a1, today).await.unwrap_err();
    assert!(matches!(&outside, StoreError::Invalid(e) if e.for_field("community").is_some()), "{outside:?}");

    let demand = s.survey_demand(id).await.unwrap();
    let recount = s.survey_demand_recount(id).await.unwrap();
    assert_eq!(format!("{demand:?}"), format!("{recount:?}"), "the running totals equal a count of the answers");
    assert_eq!(demand.len(), 2);
    let huayang = &demand[0].demand;
    assert_eq!((demand[0].community_code.as_str(), huayang.households), ("220102001001", 2));
    assert_eq!(huayang.wanting(CatalogItem::ElderlyCare), 2);
    assert_eq!(huayang.wanting(CatalogItem::DailyCleaning), 1);
    assert_eq!(huayang.average_price_fen(), Some((2000, 5000)));
    let street = roll_up(&demand, 9);
    assert_eq!(street.len(), 1);
    assert_eq!(street[0].demand.households, 3);
    assert_eq!(street[0].demand.wanting(CatalogItem::Cooking), 1);

    // Closed: a clear refusal, and not-yet-open likewise.
    s.close_survey(id, &area).await.unwrap();
    let closed = s.survey_in(id, None).await.unwrap();
    let r4 = resident(s, "13800000014").await;
    let late = s.answer_survey(&closed, r4, &code("220102001001"), &a1, today).await.unwrap_err();
    assert!(matches!(&late, StoreError::Invalid(e) if e.for_field("survey").unwrap().code == "closed"), "{late:?}");
    let later = SurveyForm { opens_on: (today + Days::new(3)).to_string(), ..form };
    let future = s.create_survey(&area, &later.parse(today).unwrap(), staff.account_id).await.unwrap();
    let future = s.survey_in(future, None).await.unwrap();
    let early = s.answer_survey(&future, r4, &code("220102001001"), &a1, today).await.unwrap_err();
    assert!(matches!(&early, StoreError::Invalid(e) if e.for_field("survey").unwrap().code == "not_yet_open"));
    assert_eq!(s.survey_demand(id).await.unwrap().iter().map(|d| d.demand.households).sum::<i64>(), 3);
}

#[tokio::test]
async fn the_gap_sets_demand_against_menus_where_points_serve() {
    let db = TestDb::new().await;
    let s = &db.store;
    let today = beijing_today();
    let area = code("220102001");
    let staff = account(s, "staff", Role::CommunityStaff, &Scope::District(area.clone())).await;
    let a = agency(s, "MA0Y1234").await;
    let admin = account(s, "admin", Role::AgencyAdmin, &Scope::Agency(a)).await;
    // 日常保洁 by the hour at ¥45, sold where its point serves: 华阳社区 only.
    s.publish_menu_item(a, &hourly_cleaning(), admin.account_id).await.unwrap();
    s.create_service_point(a, &point("220102001001", &[]).parse().unwrap()).await.unwrap();
    let supply = s.supply_in(&area).await.unwrap();
    assert_eq!(supply.len(), 1);
    assert_eq!((supply[0].community_code.as_str(), supply[0].item.as_str()), ("220102001001", "daily_cleaning"));

    let form = SurveyForm {
        title: "需求调查".into(),
        questions: vec!["services".into(), "price".into()],
        opens_on: today.to_string(),
        closes_on: today.to_string(),
        ..Default::default()
    };
    let id = s.create_survey(&area, &form.parse(today).unwrap(), staff.account_id).await.unwrap();
    let survey = s.survey_in(id, None).await.unwrap();
    let asked = survey.asked();
    let cheap = answer("220102001001", &["daily_cleaning"], "40").parse(&asked).unwrap();
    let elder = answer("220102001002", &["elderly_care"], "60").parse(&asked).unwrap();
    s.answer_survey(&survey, resident(s, "13800000021").await, &code("220102001001"), &cheap, today).await.unwrap();
    s.answer_survey(&survey, resident(s, "13800000022").await, &code("220102001002"), &elder, today).await.unwrap();

    let gap = s.survey_gap(&survey).await.unwrap();
    let find =
        |c: &str, item: CatalogItem| gap.iter().find(|g| g.community_code == c && g.item == item).map(|g| g.kind);
    // Residents accept ¥40 an hour; the cheapest published is ¥45.
    assert_eq!(find("220102001001", CatalogItem::DailyCleaning), Some(GapKind::PricedAbove));
    assert_eq!(find("220102001002", CatalogItem::ElderlyCare), Some(GapKind::DemandWithoutSupply));
    assert_eq!(gap[0].kind, GapKind::DemandWithoutSupply, "demand without supply comes first");
    assert_eq!(gap.len(), 2);

    // At ¥60 accepted the same supply meets the demand.
    let rich = answer("220102001001", &["daily_cleaning"], "60").parse(&asked).unwrap();
    s.answer_survey(&survey, resident(s, "13800000023").await, &code("220102001001"), &rich, today).await.unwrap();
    let gap = s.survey_gap(&survey).await.unwrap();
    let row = gap.iter().find(|g| g.item == CatalogItem::DailyCleaning).unwrap();
    assert_eq!((row.households, row.agencies, row.accepted_per_hour_fen), (2, 1, Some(5000)));
    assert_eq!(row.kind, GapKind::Met);
}

/// Answers written one by one and in bulk keep the running totals equal to a count of the answers.
#[tokio::test]
async fn running_totals_equal_a_recount_after_single_and_bulk_answers() {
    use jiazheng_core::community::survey::{Answer, Frequency, mask_of};
    use jiazheng_store::community::surveys::BulkAnswer;
    let db = TestDb::new().await;
    let s = &db.store;
    let today = beijing_today();
    let area = code("220102");
    let staff = account(s, "staff", Role::CommunityStaff, &Scope::District(area.clone())).await;
    let form = SurveyForm {
        title: "需求调查".into(),
        questions: QuestionKind::ALL.iter().map(|q| q.as_str().to_string()).collect(),
        opens_on: today.to_string(),
        closes_on: today.to_string(),
        ..Default::default()
    };
    let id = s.create_survey(&area, &form.parse(today).unwrap(), staff.account_id).await.unwrap();
    let communities = ["220102001001", "220102001002", "220102002001", "220102003001"];
    let bulk: Vec<BulkAnswer> = (0..1500u64)
        .map(|n| {
            let mut household = [0u8; 16];
            household[..8].copy_from_slice(&n.to_be_bytes());
            BulkAnswer {
                household,
                community_code: communities[(n * 7 % 4) as usize].into(),
                answer: Answer {
                    services: mask_of(
                        CatalogItem::ALL,
                        &[CatalogItem::ALL[(n % 12) as usize], CatalogItem::ALL[(n * 5 % 12) as usize]],
                    ),
                    frequency: (n % 3 != 0).then_some(Frequency::ALL[(n % 5) as usize]),
                    price_min_fen: (n % 4 != 0).then_some(2000 + (n as i64 % 30) * 100),
                    price_max_fen: (n % 4 != 0).then_some(5000 + (n as i64 % 20) * 100),
                    times: (n % 16) as i64,
                    care: (n % 64) as i64,
                    note: None,
                },
            }
        })
        .collect();
    s.bulk_survey_answers(id, &bulk).await.unwrap();
    let survey = s.survey_in(id, None).await.unwrap();
    let one = answer("220102001001", &["cooking"], "45").parse(&survey.asked()).unwrap();
    s.answer_survey(&survey, resident(s, "13800000031").await, &code("220102001001"), &one, today).await.unwrap();
    let demand = s.survey_demand(id).await.unwrap();
    assert_eq!(demand.iter().map(|d| d.demand.households).sum::<i64>(), 1501);
    assert_eq!(format!("{demand:?}"), format!("{:?}", s.survey_demand_recount(id).await.unwrap()));
    // The coverage suggestion weighs communities by the households that answered there.
    let c = s.coverage().await.unwrap();
    assert_eq!(c.units.iter().map(|u| u.demand).sum::<u32>(), 1501);
}

/// What the attack on coverage found, held shut: coordinates far from the point's community,
/// declarations beyond its street counted at once, points opened without end.
#[tokio::test]
async fn a_point_cannot_reach_further_than_its_street_without_review() {
    let db = TestDb::new().await;
    let s = &db.store;
    let a = agency(s, "MA0Y1234").await;
    // Coordinates in 宽城区, ~6 km from 华阳社区: refused beside the coordinates.
    let far = ServicePointForm { lng: Some(125.3185), lat: Some(43.9066), ..point("220102001001", &[]) };
    let refused = s.create_service_point(a, &far.parse().unwrap()).await.unwrap_err();
    assert!(
        matches!(&refused, StoreError::Invalid(e) if e.for_field("lng").unwrap().code == "far_from_community"),
        "{refused:?}"
    );
    // Another street of the same district: waits for the district's regulator.
    let wider = point("220102001001", &["220102002001"]);
    s.create_service_point(a, &wider.parse().unwrap()).await.unwrap();
    let c = s.coverage().await.unwrap();
    assert!(c.units.iter().find(|u| u.code == "220102002001").unwrap().covered.is_none());
    assert_eq!(s.pending_declarations(Some(&code("220102"))).await.unwrap().len(), 1);
    // At most twenty new points a day through the pages and the API.
    for n in 1..20 {
        s.create_service_point(a, &point("220102001002", &[]).parse().unwrap())
            .await
            .unwrap_or_else(|e| panic!("{n}: {e:?}"));
    }
    let over = s.create_service_point(a, &point("220102001002", &[]).parse().unwrap()).await.unwrap_err();
    assert!(matches!(&over, StoreError::Invalid(e) if e.for_field("name").unwrap().code == "daily_limit"), "{over:?}");
}

#[tokio::test]
async fn a_closed_point_takes_no_new_tools() {
    use jiazheng_core::community::operations::ToolDraft;
    let db = TestDb::new().await;
    let s = &db.store;
    let a = agency(s, "MA0Y1234").await;
    let id = s.create_service_point(a, &point("220102001001", &[]).parse().unwrap()).await.unwrap();
    s.add_tool(id, a, &ToolDraft { name: "吸尘器".into(), count: 2 }).await.unwrap();
    s.close_service_point(id, a).await.unwrap();
    let refused = s.add_tool(id, a, &ToolDraft { name: "梯子".into(), count: 1 }).await;
    assert!(matches!(refused, Err(StoreError::Conflict { what: "point_closed", .. })), "{refused:?}");
}
