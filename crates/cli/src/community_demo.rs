//! Demo community operations: the demo agency's first service point with weekly hours, staff on
//! duty, a tool kit (one tool out, one overdue) and two events; two 家政驿站 of the demo school
//! in 南关区 (one confirmed by the community, one waiting); a 红色家政 volunteer project with
//! events the demo agency and school took part in. All synthetic, on real divisions.

use chrono::Duration;
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::community::operations::{Borrower, CheckoutDraft, DutyDraft, PointEventDraft, ToolDraft};
use jiazheng_core::community::volunteer::{JoinDraft, ProjectDraft, StationForm, VolunteerEventDraft, VolunteerKind};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::market::slot::{Shift, Slot, day_start};
use jiazheng_store::{PageRequest, Store};

const NANGUAN: &str = "220102000000";

fn at(day: chrono::NaiveDate, from: &str, to: &str) -> anyhow::Result<Slot> {
    let shift = Shift::parse(from, to).map_err(|e| anyhow::anyhow!(e.message_en))?;
    let start = day_start(day);
    Ok(Slot { start: start + Duration::minutes(shift.from.into()), end: start + Duration::minutes(shift.to.into()) })
}

fn code(raw: &str) -> anyhow::Result<DivisionCode> {
    DivisionCode::parse(raw).map_err(|e| anyhow::anyhow!(e.message_en))
}

pub async fn generate(
    store: &Store,
    agency_id: i64,
    agency_account: i64,
    staff_account: i64,
    school: Option<(i64, i64)>,
) -> anyhow::Result<String> {
    let today = jiazheng_core::calendar::beijing_today();
    let mut said = Vec::new();
    // The demo agency's first point: hours, duty, tools, events.
    let point = store.service_points(None, Some(agency_id), PageRequest::new(Some(1), Some(1))).await?.items;
    if let Some(point) = point.first() {
        let weekday = Shift::parse("08:30", "17:30").map_err(|e| anyhow::anyhow!(e.message_en))?;
        let saturday = Shift::parse("09:00", "12:00").map_err(|e| anyhow::anyhow!(e.message_en))?;
        let mut week: Vec<(u8, Shift)> = (1..=5).map(|d| (d, weekday)).collect();
        week.push((6, saturday));
        store.set_point_hours(point.id, agency_id, &week).await?;
        let workers = store.workers_bound_to(agency_id).await?;
        let tomorrow = today + Duration::days(1);
        let shifts =
            [(tomorrow, "08:30", "12:30"), (tomorrow, "13:00", "17:30"), (today + Duration::days(2), "08:30", "17:30")];
        for (worker, (day, from, to)) in workers.iter().zip(shifts) {
            let draft = DutyDraft { worker_id: worker.id, slot: at(day, from, to)? };
            store.add_duty(point.id, agency_id, agency_account, &draft).await?;
        }
        let mut tools = Vec::new();
        for (name, count) in [("吸尘器", 2), ("蒸汽清洁机", 1), ("高空擦窗器", 1), ("家电清洗工具箱", 3)]
        {
            tools.push(store.add_tool(point.id, agency_id, &ToolDraft { name: name.into(), count }).await?);
        }
        if let Some(worker) = workers.first() {
            let lent = CheckoutDraft { borrower: Borrower::Worker(worker.id), due_on: tomorrow };
            store.check_out_tool(point.id, tools[0], agency_id, agency_account, &lent).await?;
        }
        // A volunteer's loan that should have come back two days ago: the overdue list has it.
        let late =
            CheckoutDraft { borrower: Borrower::Volunteer("王秀兰".into()), due_on: today - Duration::days(2) };
        store.check_out_tool(point.id, tools[1], agency_id, agency_account, &late).await?;
        let events = [
            (
                "家政服务进社区 · 免费家电清洗",
                today - Duration::days(6),
                "09:00",
                "11:30",
                "为社区老人免费清洗油烟机和空调滤网",
                Some(42),
            ),
            (
                "母婴护理公益讲座",
                today + Duration::days(5),
                "14:00",
                "16:00",
                "金牌月嫂讲解新生儿护理要点，现场答疑",
                None,
            ),
        ];
        for (title, day, from, to, description, attendance) in events {
            let draft = PointEventDraft {
                title: title.into(),
                slot: at(day, from, to)?,
                description: description.into(),
                attendance,
            };
            store.add_point_event(point.id, agency_id, agency_account, &draft).await?;
        }
        said.push(format!("service point {}: hours, {} on duty, 4 tools, 2 events", point.name, workers.len().min(3)));
    }
    // Two 家政驿站 of the demo school in 南关区: one confirmed by the community, one waiting.
    let staff =
        Principal { account_id: staff_account, role: Role::CommunityStaff, scope: Scope::District(code(NANGUAN)?) };
    let street = store.child_divisions(Some(NANGUAN)).await?.into_iter().next();
    let communities = match &street {
        Some(street) => store.child_divisions(Some(&street.code)).await?,
        None => Vec::new(),
    };
    if let (Some((school_account, provider)), [first, second, ..]) = (school, communities.as_slice()) {
        let school = Principal { account_id: school_account, role: Role::School, scope: Scope::Provider(provider) };
        let stations = [
            (first, "春城家政驿站（一站）", "养老照护、保洁培训与上门服务对接", vec!["elderly_care", "daily_cleaning"]),
            (second, "春城家政驿站（二站）", "母婴护理咨询", vec!["maternity", "childcare"]),
        ];
        let mut ids = Vec::new();
        for (community, name, address, services) in stations {
            let form = StationForm {
                name: name.into(),
                community: community.code.clone(),
                address: format!("{}活动中心 · {address}", community.name),
                services: services.into_iter().map(String::from).collect(),
                hours: "周一至周五 09:00-16:30".into(),
            };
            let draft = form.parse().map_err(|e| anyhow::anyhow!("{e:?}"))?;
            ids.push(store.propose_station(&school, &draft).await?);
        }
        store.confirm_station(ids[0], &staff).await?;
        said.push("2 stations (1 confirmed, 1 waiting)".into());
        // A 红色家政 project with two events; the agency and the school took part.
        let project = ProjectDraft {
            kind: VolunteerKind::Red,
            title: "党员家政服务队进社区".into(),
            description: "组织家政企业和院校的党员志愿者，为独居、高龄老人上门保洁和照护".into(),
        };
        let project = store.create_volunteer_project(&staff, &project).await?;
        let agency = Principal { account_id: agency_account, role: Role::AgencyAdmin, scope: Scope::Agency(agency_id) };
        let plans = [
            (first, today - Duration::days(10), "08:30", "11:30", "为独居老人上门保洁", (6, 180), (4, 150)),
            (second, today - Duration::days(3), "13:30", "16:30", "高龄老人居家照护指导", (3, 180), (5, 120)),
        ];
        for (community, day, from, to, description, by_agency, by_school) in plans {
            let draft = VolunteerEventDraft {
                community: code(&community.code)?,
                slot: at(day, from, to)?,
                description: description.into(),
            };
            let event = store.add_volunteer_event(project, &staff, &draft).await?;
            let joined = store
                .join_volunteer_event(event, &agency, &JoinDraft { people: by_agency.0, minutes_each: by_agency.1 })
                .await?;
            store.confirm_participation(joined, &staff).await?;
            let joined = store
                .join_volunteer_event(event, &school, &JoinDraft { people: by_school.0, minutes_each: by_school.1 })
                .await?;
            if day < today - Duration::days(5) {
                store.confirm_participation(joined, &staff).await?;
            }
        }
        said.push("a 红色家政 project with 2 events and their participants".into());
    }
    Ok(format!("community operations: {}", said.join("; ")))
}
