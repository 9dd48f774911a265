//! What the pages and the API of the community operations (service points' kits and duty,
//! 家政驿站, volunteer service, the public community page) share: how their refusals read.

use jiazheng_core::division::{DivisionCode, DivisionLevel};
use jiazheng_core::market::slot::Slot;
use jiazheng_store::StoreError;
use jiazheng_store::community::operations::RepeatShare;
use jiazheng_store::community::volunteer::{Station, VolunteerEvent};
use jiazheng_store::registry::divisions::Division;
use jiazheng_store::registry::service_points::ServicePoint;

use crate::{AppError, AppState};

/// A duty that meets another of the worker's duties, naming the time taken.
pub fn duty_overlap(slot: Slot) -> AppError {
    let taken = slot.describe();
    AppError::Conflict {
        code: "duty_overlap",
        message_zh: format!("该服务员在 {taken}（北京时间）已有网点值班安排"),
        message_en: format!("The worker is already on duty {taken} (Beijing time)"),
        existing_id: None,
    }
}

/// A store refusal of these areas as the API and pages answer it.
pub fn ops_error(error: StoreError) -> AppError {
    let conflict = |code: &'static str, zh: &str, en: &str| AppError::Conflict {
        code,
        message_zh: zh.into(),
        message_en: en.into(),
        existing_id: None,
    };
    match error {
        StoreError::Overlap { start, end } => duty_overlap(Slot { start, end }),
        StoreError::Conflict { what: "tool_all_out", .. } => conflict(
            "tool_all_out",
            "该工具已全部借出，请等归还后再借",
            "Every unit of this tool is out; wait for one to come back",
        ),
        StoreError::Conflict { what: "already_returned", .. } => {
            conflict("already_returned", "该工具已归还", "This tool is already back")
        }
        StoreError::Conflict { what: "station_not_waiting", .. } => {
            conflict("station_not_waiting", "该驿站不在待确认状态", "This station is not waiting for confirmation")
        }
        StoreError::Conflict { what: "station_ended", .. } => {
            conflict("station_ended", "该驿站已结束", "This station has already ended")
        }
        StoreError::Conflict { what: "already_joined", .. } => conflict(
            "already_joined",
            "社区已确认本单位的参与，不能再修改",
            "The community has confirmed your part; it can no longer change",
        ),
        StoreError::Conflict { what: "already_confirmed", .. } => {
            conflict("already_confirmed", "该参与已确认", "This participation is already confirmed")
        }
        StoreError::Refused(_) => AppError::Forbidden,
        other => other.into(),
    }
}

/// The message of a conflict, for a page to show beside the field or at the top.
pub fn conflict_text(error: &AppError, english: bool) -> Option<String> {
    match error {
        AppError::Conflict { message_zh, message_en, .. } => {
            Some(if english { message_en.clone() } else { message_zh.clone() })
        }
        _ => None,
    }
}

/// The facts of a community's public page, shared with the API.
pub struct CommunityFacts {
    pub community: Division,
    pub street: String,
    pub district: String,
    pub points: Vec<(ServicePoint, bool)>,
    pub stations: Vec<Station>,
    pub events: Vec<VolunteerEvent>,
    pub shares: Vec<RepeatShare>,
}

impl CommunityFacts {
    pub async fn load(state: &AppState, code: &str) -> Result<Self, AppError> {
        let parsed = DivisionCode::parse(code).map_err(|_| AppError::NotFound)?;
        if parsed.level() != DivisionLevel::Community {
            return Err(AppError::NotFound);
        }
        let store = &state.store;
        let community = store.division(parsed.as_str()).await?;
        let name_of =
            |code: DivisionCode| async move { store.division(code.as_str()).await.map(|d| d.name).unwrap_or_default() };
        let street = name_of(parsed.street()).await;
        let district = name_of(parsed.district()).await;
        let now = chrono::Utc::now();
        let mut points = Vec::new();
        for point in store.points_serving(parsed.as_str()).await? {
            let hours = store.point_hours(point.id).await?;
            points.push((point, jiazheng_core::community::operations::open_at(&hours, now)));
        }
        Ok(Self {
            community,
            street,
            district,
            points,
            stations: store.active_stations(parsed.as_str()).await?,
            events: store.community_volunteer_events(parsed.as_str()).await?,
            shares: store.repeat_shares(Some(parsed.as_str()), None).await?,
        })
    }
}
