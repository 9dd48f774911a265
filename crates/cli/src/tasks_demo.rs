//! Demo of the plan's tasks and the libraries (issue 14, parts 3 and 6): the city regulator acts
//! for 市商务局, two more unit accounts (市人社局, 南关区人民政府) report; a few progress reports
//! (one task done with its evidence), deadlines moved to next year but for two tasks left overdue;
//! the demo agency and one of its skilled workers published in the libraries, a manager and a
//! trainer waiting, a district regulator's nomination turned down and one entry removed.

use chrono::Duration;
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::credit::casework::ActionForm;
use jiazheng_core::division::DivisionCode;
use jiazheng_core::market::subsidy::EvidenceType;
use jiazheng_core::oversight::library::NominationForm;
use jiazheng_core::oversight::plan::ProgressForm;
use jiazheng_core::workforce::records::CertificateDraft;
use jiazheng_core::workforce::{CertificateKind, SkillLevel, Trade};
use jiazheng_store::Store;
use jiazheng_store::accounts::NewAccount;
use jiazheng_store::credit::casework::Actor;
use jiazheng_store::oversight::plan::EvidenceFile;
use jiazheng_store::workforce::Recorder;

const NANGUAN: &str = "220102000000";

fn anyhow_of(e: impl std::fmt::Debug) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

/// The accounts the demo needs: the city regulator, the district regulator, the agency's and
/// the school's, the admin who tags units.
pub struct DemoAccounts {
    pub admin: i64,
    pub city: i64,
    pub district: i64,
    pub agency: i64,
    pub school: Option<(i64, i64)>,
}

async fn unit_of(store: &Store, code: &str) -> anyhow::Result<i64> {
    store
        .plan_units()
        .await?
        .into_iter()
        .find(|u| u.code == code)
        .map(|u| u.id)
        .ok_or_else(|| anyhow::anyhow!("no plan unit {code}"))
}

/// A small real PDF to stand as a report's evidence, when a CJK font is at hand.
fn minutes_pdf(title: &str, text: &str) -> Option<Vec<u8>> {
    use jiazheng_server::pdf::{Block, Font, render};
    let font = Font::cjk().ok()?;
    let blocks = [Block::Title { text: title.into(), size: 15.0 }, Block::Paragraph { text: text.into(), size: 11.0 }];
    render(font, title, &blocks, |page, pages| format!("第 {page}/{pages} 页")).ok()
}

pub async fn generate(
    store: &Store,
    accounts: &DemoAccounts,
    agency_id: i64,
    workers: &[i64],
    password: &str,
) -> anyhow::Result<String> {
    let today = jiazheng_core::calendar::beijing_today();
    let start = store.plan_info().await?.map_or(today, |p| p.starts_on);
    let nanguan = DivisionCode::parse(NANGUAN).map_err(anyhow_of)?;
    let city = Principal { account_id: accounts.city, role: Role::Regulator, scope: Scope::City };
    let district =
        Principal { account_id: accounts.district, role: Role::Regulator, scope: Scope::District(nanguan.clone()) };

    // Units: the city regulator acts for 市商务局; 市人社局 and 南关区人民政府 get accounts.
    store.set_account_plan_unit(accounts.city, Some(unit_of(store, "commerce").await?), accounts.admin).await?;
    let mut unit_accounts = Vec::new();
    for (username, name, unit, scope) in [
        ("hrss", "长春市人力资源和社会保障局", "hrss", Scope::City),
        ("nanguan-gov", "南关区人民政府", "districts", Scope::District(nanguan.clone())),
    ] {
        let new = NewAccount::scoped(username.into(), name.into(), password.into(), Role::Regulator, &scope);
        let id = store.create_account(&new).await?;
        store.set_account_plan_unit(id, Some(unit_of(store, unit).await?), accounts.admin).await?;
        unit_accounts.push(Principal { account_id: id, role: Role::Regulator, scope });
    }
    let (hrss, government) = (&unit_accounts[0], &unit_accounts[1]);

    // Deadlines: extended to the end of next year, but for two tasks that stay overdue.
    use chrono::Datelike;
    let next_year_end = chrono::NaiveDate::from_ymd_opt(today.year() + 1, 12, 31).unwrap_or(today);
    for task in store.all_plan_tasks().await? {
        let deadline = if matches!(task.number, 5 | 16) { today - Duration::days(20) } else { next_year_end };
        store.set_task_deadline(&city, task.number, deadline).await?;
    }

    // Progress: 3 done with its evidence; 13 and 17 under way; 5 and 16 behind.
    let report = |days_ago: i64, status: &str, text: &str| {
        ProgressForm {
            reported_on: (today - Duration::days(days_ago)).to_string(),
            status: status.into(),
            text: text.into(),
        }
        .parse(today, start)
        .map_err(anyhow_of)
    };
    store
        .report_progress(
            &city,
            3,
            &report(60, "in_progress", "起草家政服务三方合同、劳动合同示范文本，征求企业意见。")?,
            None,
        )
        .await?;
    let evidence = minutes_pdf(
        "关于印发家政服务合同示范文本的通知",
        "长商务字〔2026〕21号：印发家政服务三方合同、家政服务员劳动合同示范文本。",
    )
    .map(|bytes| EvidenceFile { name: "合同示范文本通知.pdf".into(), kind: EvidenceType::Pdf, bytes });
    store
        .report_progress(
            &city,
            3,
            &report(20, "done", "示范文本已印发，员工制企业使用规范合同已全覆盖。")?,
            evidence.as_ref(),
        )
        .await?;
    store
        .report_progress(
            &city,
            13,
            &report(15, "in_progress", "启动重点推介企业库和人才库遴选，已收到首批推荐。")?,
            None,
        )
        .await?;
    store
        .report_progress(
            hrss,
            17,
            &report(10, "in_progress", "完成家政服务员职业技能等级认定考核两批次，共186人。")?,
            None,
        )
        .await?;
    store.report_progress(hrss, 16, &report(30, "delayed", "回炉培训场地尚未落实，计划下季度开班。")?, None).await?;
    store
        .report_progress(
            government,
            5,
            &report(25, "delayed", "南关区两处社区服务网点选址未落实，正在协调社区用房。")?,
            None,
        )
        .await?;

    // Libraries: a second reward brings the demo agency to grade B; it and a skilled worker are
    // published; a manager and a trainer wait; a district nomination is turned down; a worker
    // published earlier is removed.
    let reward = ActionForm {
        subject_kind: "agency".into(),
        subject_id: agency_id,
        kind: "reward".into(),
        decided_on: (today - Duration::days(10)).to_string(),
        authority: "长春市商务局".into(),
        document: "长商务〔2026〕15号".into(),
        reason: "家政服务“领跑者”企业".into(),
    }
    .parse(today)
    .map_err(anyhow_of)?;
    let actor = Actor { account_id: accounts.city, source: "regulator:city".into(), area: None };
    store.record_action(&reward, &actor).await?;
    let agency = Principal { account_id: accounts.agency, role: Role::AgencyAdmin, scope: Scope::Agency(agency_id) };
    let nominate = |kind: &str, f: &dyn Fn(&mut NominationForm)| {
        let mut form = NominationForm { kind: kind.into(), ..Default::default() };
        f(&mut form);
        form.parse().map_err(anyhow_of)
    };
    let own = store
        .nominate(
            &agency,
            &nominate("agency", &|f| f.reason = "群众反映良好，连续三年无成立投诉，员工制比例高。".into())?,
            today,
        )
        .await?;
    store.decide_nomination(&city, own, true, Some("符合入库标准"), today).await?;
    let certificate = |number: &str| CertificateDraft {
        kind: CertificateKind::Occupational,
        trade: Some(Trade::Maternity),
        level: Some(SkillLevel::Level3),
        issuer: "长春市人力资源和社会保障局".into(),
        number: number.into(),
        issued_on: today - Duration::days(200),
        valid_until: None,
    };
    let mut published_workers = 0;
    for (i, worker) in workers.iter().skip(1).take(2).enumerate() {
        let draft = certificate(&format!("JZ2026{:04}", i + 1));
        store.add_certificates(&[(*worker, &draft, Recorder::agency(agency_id, Some(accounts.agency)))]).await?;
        let reason = ["全市家政职业技能大赛母婴护理项目一等奖。", "从业八年，客户好评率高。"][i];
        let id = store
            .nominate(
                &agency,
                &nominate("skilled_worker", &|f| {
                    f.worker_id = Some(*worker);
                    f.reason = reason.into();
                })?,
                today,
            )
            .await?;
        store.decide_nomination(&city, id, true, None, today).await?;
        published_workers += 1;
        if i == 1 {
            store.remove_library_entry(&city, id, "本人已离开本市，不再从事家政服务。").await?;
        }
    }
    store
        .nominate(
            &agency,
            &nominate("manager", &|f| {
                f.person_name = "张伟".into();
                f.person_role = "总经理".into();
                f.reason = "带领企业完成员工制转型，获评市级家政服务示范企业。".into();
            })?,
            today,
        )
        .await?;
    if let Some((school_account, provider)) = accounts.school {
        let school = Principal { account_id: school_account, role: Role::School, scope: Scope::Provider(provider) };
        store
            .nominate(
                &school,
                &nominate("trainer", &|f| {
                    f.person_name = "李娜".into();
                    f.person_role = "母婴护理培训讲师".into();
                    f.reason = "主讲母婴护理课程五年，学员考核通过率高。".into();
                })?,
                today,
            )
            .await?;
    }
    let other = store
        .search_agencies(&jiazheng_store::registry::agencies::AgencyQuery {
            district: Some(NANGUAN.into()),
            ..Default::default()
        })
        .await?
        .items
        .into_iter()
        .find(|a| a.id != agency_id);
    if let Some(other) = other {
        let id = store
            .nominate(
                &district,
                &nominate("agency", &|f| {
                    f.agency_id = Some(other.id);
                    f.reason = "区内规模较大的员工制企业。".into();
                })?,
                today,
            )
            .await?;
        store.decide_nomination(&city, id, false, Some("信用等级未达B级，暂不入库。"), today).await?;
    }
    Ok(format!(
        "plan: 34 tasks, 6 progress reports (task 3 done), tasks 5 and 16 overdue; libraries: the demo agency and \
         {published_workers} skilled workers published (one since removed), a manager and a trainer waiting, one \
         nomination turned down"
    ))
}
