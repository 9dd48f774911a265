//! 公示公开: one public section for everything the plan asks the city to publish, each entry with
//! how much there is and the date of its latest change; and the agencies' administrative rewards
//! and penalties, newest first.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use chrono::{DateTime, Utc};
use jiazheng_core::credit::EntryKind;
use jiazheng_store::PageRequest;
use serde::Deserialize;

use super::{Chrome, Pager, beijing_minutes, render};
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/disclosure", get(index)).route("/disclosure/actions", get(actions))
}

/// One published thing: where it is, what it is, how much, and since when.
pub struct Entry {
    pub href: &'static str,
    pub title: &'static str,
    pub what: &'static str,
    pub count: String,
    pub dated: String,
}

#[derive(Template)]
#[template(path = "disclosure.html")]
struct IndexPage {
    chrome: Chrome,
    entries: Vec<Entry>,
    now: String,
}

fn when(at: Option<DateTime<Utc>>, lang: Lang) -> String {
    match at {
        Some(at) => format!("{} {}", lang.pick("最近更新", "last change"), beijing_minutes(at)),
        None => lang.pick("尚无数据", "nothing yet").to_string(),
    }
}

async fn index(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    let s = state.store.disclosure_summary().await?;
    let targets = state.targets().await?;
    let coverage = state.coverage().await?;
    let n = |count: i64, zh: &str, en: &str| format!("{count} {}", lang.pick(zh, en));
    let job = match targets.job_as_of {
        Some(day) => format!("{} {day}", lang.pick("每日统计", "daily job")),
        None => lang.pick("每日统计尚未运行", "the daily job has not run").to_string(),
    };
    let entries = vec![
        Entry {
            href: "/targets",
            title: lang.pick("规划目标", "The plan's targets"),
            what: lang.pick(
                "三项目标与其他指标，各区与月度趋势",
                "The three targets and the other figures, by district and month",
            ),
            count: targets
                .city
                .get(jiazheng_core::oversight::targets::Metric::BrandedEmployeeAgencies)
                .display(lang.is_en()),
            dated: format!("{} {} · {job}", lang.pick("实时", "live"), beijing_minutes(targets.live_at)),
        },
        Entry {
            href: "/coverage",
            title: lang.pick("社区网点覆盖", "Service point coverage"),
            what: lang.pick(
                "社区与全部村级单位的覆盖率、地图、未覆盖清单",
                "Coverage of communities and all village-level units, map, what is uncovered",
            ),
            count: format!("{}%", coverage.tally(None).communities.percent()),
            dated: format!("{} {}", lang.pick("计算于", "computed"), beijing_minutes(coverage.computed_at)),
        },
        Entry {
            href: "/evaluations",
            title: lang.pick("第三方评价结果", "Third-party evaluation results"),
            what: lang
                .pick("七个维度的得分、权重与领跑者", "Scores on the seven dimensions, weights and front-runners"),
            count: n(s.rounds_published, "轮已公示", "rounds published"),
            dated: when(s.rounds_at, lang),
        },
        Entry {
            href: "/libraries",
            title: lang.pick("重点企业库与人才库", "Key-agency and talent libraries"),
            what: lang.pick(
                "入库的重点企业、技能人才、管理人员与培训师，及移出记录",
                "Key agencies, skilled workers, managers and trainers in the libraries, and removals",
            ),
            count: n(s.library_entries, "条在库", "in the libraries"),
            dated: when(s.libraries_at, lang),
        },
        Entry {
            href: "/credit/lists",
            title: lang.pick("红黑名单", "Red and black lists"),
            what: lang
                .pick("列入的企业与服务员、理由与文号", "Listed agencies and workers, with reasons and documents"),
            count: n(s.listed, "个主体在列", "listed"),
            dated: when(s.listed_at, lang),
        },
        Entry {
            href: "/disclosure/actions",
            title: lang.pick("行政奖惩", "Rewards and penalties"),
            what: lang.pick("企业受到的行政奖励与处罚", "Administrative rewards and penalties of agencies"),
            count: n(s.actions, "条", "entries"),
            dated: when(s.actions_at, lang),
        },
        Entry {
            href: "/agencies",
            title: lang.pick("价格公示", "Published prices"),
            what: lang.pick(
                "各企业的服务项目与明码标价，含调价历史",
                "Each agency's services and prices, with their history",
            ),
            count: n(s.pricing_agencies, "家企业已公示", "agencies publishing"),
            dated: when(s.prices_at, lang),
        },
        Entry {
            href: "/targets/agencies?passing=1",
            title: lang.pick("认定品牌", "Recognised brands"),
            what: lang.pick(
                "市商务局认定的家政品牌及其员工制占比",
                "Brands the city recognises, with their employee-based share",
            ),
            count: n(s.brands, "个", "brands"),
            dated: s.brands_on.map_or_else(
                || lang.pick("尚无数据", "nothing yet").to_string(),
                |d| format!("{} {d}", lang.pick("最近认定", "last recognised")),
            ),
        },
    ];
    let page = IndexPage {
        chrome: Chrome::new(lang, &viewer, "/disclosure", lang.pick("公示公开", "Public disclosure").to_string()),
        entries,
        now: beijing_minutes(Utc::now()),
    };
    render(&page)
}

pub struct ActionLine {
    pub agency_id: i64,
    pub agency: String,
    pub kind: &'static str,
    pub is_penalty: bool,
    pub decided_on: String,
    pub authority: String,
    pub document: String,
    pub reason: String,
    pub recorded: String,
}

#[derive(Template)]
#[template(path = "disclosure_actions.html")]
struct ActionsPage {
    chrome: Chrome,
    lines: Vec<ActionLine>,
    pager: Pager,
    kind: String,
    now: String,
}

#[derive(Deserialize, Default)]
struct ActionsQuery {
    kind: Option<String>,
    page: Option<u32>,
}

async fn actions(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<ActionsQuery>,
) -> Result<Response, AppError> {
    let kind = match q.kind.as_deref() {
        Some("reward") => "reward",
        Some("penalty") => "penalty",
        _ => "",
    };
    let page = state.store.public_actions(Some(kind), PageRequest::new(q.page, Some(50))).await?;
    let lines = page
        .items
        .iter()
        .map(|a| {
            let p: serde_json::Value = serde_json::from_str(&a.payload).unwrap_or_default();
            let text = |k: &str| p[k].as_str().unwrap_or_default().to_string();
            ActionLine {
                agency_id: a.agency_id,
                agency: a.agency_name.clone(),
                kind: EntryKind::label_of(&a.kind, lang.is_en()),
                is_penalty: a.kind == EntryKind::Penalty.as_str(),
                decided_on: text("decided_on"),
                authority: text("authority"),
                document: text("document"),
                reason: text("reason"),
                recorded: DateTime::parse_from_rfc3339(&a.recorded_at)
                    .map(|at| beijing_minutes(at.to_utc()))
                    .unwrap_or_default(),
            }
        })
        .collect();
    let view = ActionsPage {
        chrome: Chrome::new(
            lang,
            &viewer,
            "/disclosure/actions",
            lang.pick("行政奖惩", "Rewards and penalties").to_string(),
        ),
        pager: Pager::new(&page, "/disclosure/actions", &format!("kind={kind}")),
        lines,
        kind: kind.to_string(),
        now: beijing_minutes(Utc::now()),
    };
    render(&view)
}
