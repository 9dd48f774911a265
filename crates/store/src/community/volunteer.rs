//! 家政驿站 and volunteer service. A school's account proposes a station in a community; only
//! community staff whose area holds that community see it and confirm it (to anyone else it is
//! not found); either side ends it. Staff run volunteer projects of their area, with events in
//! its communities; agencies and schools join events with the people they sent and the hours
//! each gave, and the staff of the event's area confirm before the hours count.

use chrono::{DateTime, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::community::volunteer::{JoinDraft, ProjectDraft, StationDraft, VolunteerEventDraft};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::field::Invalid;
use serde::Serialize;

use crate::market::write_tx;
use crate::{Result, Store, StoreError, now, on_pool};

fn invalid(field: &str, invalid: Invalid) -> StoreError {
    StoreError::Invalid(FieldErrors(vec![invalid.at(field)]))
}

/// The area a community-staff account works in.
pub fn staff_area(who: &Principal) -> Result<DivisionCode> {
    match (who.role, &who.scope) {
        (Role::CommunityStaff, Scope::District(area)) => Ok(area.clone()),
        _ => Err(StoreError::Refused("community staff only".into())),
    }
}

/// `LIKE` pattern of the codes inside an area.
pub fn area_pattern(area: &DivisionCode) -> String {
    format!("{}%", area.significant())
}

/// Whether a project's area and a staff member's area hold one another (either way).
fn overlaps(project_area: &str, area: &DivisionCode) -> bool {
    DivisionCode::parse(project_area).is_ok_and(|c| c.is_within(area) || area.is_within(&c))
}

/// Who takes part in volunteer events: an agency or a school.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Participant {
    Agency(i64),
    Provider(i64),
}

impl Participant {
    pub fn of(who: &Principal) -> Result<Self> {
        match (who.role, &who.scope) {
            (Role::AgencyAdmin, Scope::Agency(id)) => Ok(Self::Agency(*id)),
            (Role::School, Scope::Provider(id)) => Ok(Self::Provider(*id)),
            _ => Err(StoreError::Refused("agencies and schools only".into())),
        }
    }

    fn ids(self) -> (Option<i64>, Option<i64>) {
        match self {
            Self::Agency(id) => (Some(id), None),
            Self::Provider(id) => (None, Some(id)),
        }
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct Station {
        pub id: i64,
        pub provider_id: i64,
        pub provider_name: String,
        pub name: String,
        pub community_code: String,
        pub community_name: String,
        pub street_name: String,
        pub address: String,
        /// Catalog item codes, comma-separated.
        pub services: String,
        pub hours: String,
        /// `proposed`, `active` or `ended`.
        pub status: String,
        pub proposed_at: DateTime<Utc>,
        pub confirmed_at: Option<DateTime<Utc>>,
        /// `school` or `community`, once ended.
        pub ended_side: Option<String>,
        pub ended_at: Option<DateTime<Utc>>,
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct VolunteerProject {
        pub id: i64,
        pub area_code: String,
        pub area_name: String,
        /// `micro_venture` (微公益创投), `red` (红色家政) or `service` (志愿服务).
        pub kind: String,
        pub title: String,
        pub description: String,
        pub created_at: DateTime<Utc>,
        pub events: i64,
        /// Confirmed volunteer minutes over all its events (people × minutes each).
        pub minutes: i64,
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct VolunteerEvent {
        pub id: i64,
        pub project_id: i64,
        pub project_title: String,
        pub kind: String,
        pub community_code: String,
        pub community_name: String,
        pub starts_at: DateTime<Utc>,
        pub ends_at: DateTime<Utc>,
        pub description: String,
        /// Confirmed participants.
        pub participants: i64,
        /// Confirmed volunteer minutes.
        pub minutes: i64,
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct EventParticipant {
        pub id: i64,
        pub event_id: i64,
        pub agency_id: Option<i64>,
        pub provider_id: Option<i64>,
        /// The agency's or school's name.
        pub name: String,
        pub people: i64,
        pub minutes_each: i64,
        /// `joined` (waiting for the community) or `confirmed`.
        pub status: String,
    }
}

impl EventParticipant {
    pub fn minutes(&self) -> i64 {
        self.people * self.minutes_each
    }
}

/// What an agency or school gave: events taken part in (confirmed) and the volunteer minutes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VolunteerTotals {
    pub events: i64,
    pub minutes: i64,
}

const SELECT_STATION: &str = "SELECT s.id, s.provider_id, tp.name AS provider_name, s.name, s.community_code,
        c.name AS community_name, COALESCE(st.name, '') AS street_name, s.address, s.services, s.hours, s.status,
        s.proposed_at, s.confirmed_at, s.ended_side, s.ended_at
    FROM stations s JOIN training_providers tp ON tp.id = s.provider_id JOIN divisions c ON c.code = s.community_code
    LEFT JOIN divisions st ON st.code = c.parent_code";

const SELECT_PROJECT: &str =
    "SELECT p.id, p.area_code, d.name AS area_name, p.kind, p.title, p.description, p.created_at,
        CAST((SELECT COUNT(*) FROM volunteer_events e WHERE e.project_id = p.id) AS BIGINT) AS events,
        CAST(COALESCE((SELECT SUM(vp.people * vp.minutes_each) FROM volunteer_participants vp
                       JOIN volunteer_events e ON e.id = vp.event_id
                       WHERE e.project_id = p.id AND vp.status = 'confirmed'), 0) AS BIGINT) AS minutes
    FROM volunteer_projects p JOIN divisions d ON d.code = p.area_code";

const SELECT_EVENT: &str = "SELECT e.id, e.project_id, p.title AS project_title, p.kind, e.community_code,
        c.name AS community_name, e.starts_at, e.ends_at, e.description,
        CAST((SELECT COUNT(*) FROM volunteer_participants vp WHERE vp.event_id = e.id AND vp.status = 'confirmed') AS BIGINT) AS participants,
        CAST(COALESCE((SELECT SUM(vp.people * vp.minutes_each) FROM volunteer_participants vp
                       WHERE vp.event_id = e.id AND vp.status = 'confirmed'), 0) AS BIGINT) AS minutes
    FROM volunteer_events e JOIN volunteer_projects p ON p.id = e.project_id JOIN divisions c ON c.code = e.community_code";

const SELECT_PARTICIPANT: &str = "SELECT vp.id, vp.event_id, vp.agency_id, vp.provider_id,
        COALESCE(a.name, tp.name, '') AS name, vp.people, vp.minutes_each, vp.status
    FROM volunteer_participants vp LEFT JOIN agencies a ON a.id = vp.agency_id
    LEFT JOIN training_providers tp ON tp.id = vp.provider_id";

fn sql(text: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(text)
}

impl Store {
    // ---- 家政驿站 ----------------------------------------------------------------------------

    /// A school proposes a station; it waits for the community's staff.
    pub async fn propose_station(&self, who: &Principal, draft: &StationDraft) -> Result<i64> {
        let provider = who.provider_id().ok_or_else(|| StoreError::Refused("schools propose stations".into()))?;
        let known: Option<(String,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT code FROM divisions WHERE code = $1 AND level = 'community'",
        ).bind(draft.community.as_str()).fetch_optional(p).await?);
        if known.is_none() {
            return Err(invalid("community", Invalid::new("unknown_division", "请选择社区", "pick a community")));
        }
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO stations (provider_id, name, community_code, address, services, hours, status, proposed_by, proposed_at)
             VALUES ($1, $2, $3, $4, $5, $6, 'proposed', $7, $8) RETURNING id",
        ).bind(provider).bind(&draft.name).bind(draft.community.as_str()).bind(&draft.address)
            .bind(draft.services_text()).bind(&draft.hours).bind(who.account_id).bind(now()).fetch_one(p).await?);
        Ok(id)
    }

    pub async fn stations_of_provider(&self, provider: i64) -> Result<Vec<Station>> {
        let q =
            sql(format!("{SELECT_STATION} WHERE s.provider_id = $1 ORDER BY s.status = 'ended', s.id DESC LIMIT 200"));
        Ok(on_pool!(self, p => sqlx::query_as(q).bind(provider).fetch_all(p).await?))
    }

    /// Stations in a staff member's area, waiting ones first.
    pub async fn stations_in_area(&self, area: &DivisionCode) -> Result<Vec<Station>> {
        let q = sql(format!(
            "{SELECT_STATION} WHERE s.community_code LIKE $1
             ORDER BY CASE s.status WHEN 'proposed' THEN 0 WHEN 'active' THEN 1 ELSE 2 END, s.id DESC LIMIT 200"
        ));
        Ok(on_pool!(self, p => sqlx::query_as(q).bind(area_pattern(area)).fetch_all(p).await?))
    }

    /// The active stations of a community, for its public page.
    pub async fn active_stations(&self, community: &str) -> Result<Vec<Station>> {
        let q = sql(format!("{SELECT_STATION} WHERE s.community_code = $1 AND s.status = 'active' ORDER BY s.id"));
        Ok(on_pool!(self, p => sqlx::query_as(q).bind(community).fetch_all(p).await?))
    }

    /// A station as `who` may see it: its school, or staff whose area holds its community.
    pub async fn station(&self, id: i64, who: &Principal) -> Result<Station> {
        let q = sql(format!("{SELECT_STATION} WHERE s.id = $1"));
        let station: Station =
            on_pool!(self, p => sqlx::query_as(q).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)?;
        let sees = match (who.role, &who.scope) {
            (Role::School, Scope::Provider(p)) => *p == station.provider_id,
            (Role::CommunityStaff, Scope::District(area)) => {
                DivisionCode::parse(&station.community_code).is_ok_and(|c| c.is_within(area))
            }
            _ => false,
        };
        if sees { Ok(station) } else { Err(StoreError::NotFound) }
    }

    /// The community's side confirms a proposed station: it becomes active.
    pub async fn confirm_station(&self, id: i64, who: &Principal) -> Result<()> {
        staff_area(who)?;
        let station = self.station(id, who).await?;
        let done = on_pool!(self, p => sqlx::query(
            "UPDATE stations SET status = 'active', confirmed_by = $1, confirmed_at = $2 WHERE id = $3 AND status = 'proposed'",
        ).bind(who.account_id).bind(now()).bind(station.id).execute(p).await?.rows_affected());
        if done == 1 { Ok(()) } else { Err(StoreError::Conflict { what: "station_not_waiting", existing_id: None }) }
    }

    /// Either side ends a station (a proposal the community ends is declined).
    pub async fn end_station(&self, id: i64, who: &Principal) -> Result<()> {
        let station = self.station(id, who).await?;
        let side = if who.role == Role::School { "school" } else { "community" };
        let done = on_pool!(self, p => sqlx::query(
            "UPDATE stations SET status = 'ended', ended_by = $1, ended_side = $2, ended_at = $3
             WHERE id = $4 AND status <> 'ended'",
        ).bind(who.account_id).bind(side).bind(now()).bind(station.id).execute(p).await?.rows_affected());
        if done == 1 { Ok(()) } else { Err(StoreError::Conflict { what: "station_ended", existing_id: None }) }
    }

    // ---- volunteer projects -------------------------------------------------------------------

    /// Community staff create a project for their area.
    pub async fn create_volunteer_project(&self, who: &Principal, draft: &ProjectDraft) -> Result<i64> {
        let area = staff_area(who)?;
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO volunteer_projects (area_code, kind, title, description, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        ).bind(area.as_str()).bind(draft.kind.as_str()).bind(&draft.title).bind(&draft.description)
            .bind(who.account_id).bind(now()).fetch_one(p).await?);
        Ok(id)
    }

    /// Projects of the staff member's area, newest first: those inside it, and the wider ones
    /// (a district's) that hold it, whose events may reach it.
    pub async fn volunteer_projects(&self, area: &DivisionCode) -> Result<Vec<VolunteerProject>> {
        let q = sql(format!("{SELECT_PROJECT} WHERE p.area_code LIKE $1 ORDER BY p.id DESC LIMIT 500"));
        let rows: Vec<VolunteerProject> =
            on_pool!(self, p => sqlx::query_as(q).bind(area_pattern(&area.district())).fetch_all(p).await?);
        Ok(rows.into_iter().filter(|p| overlaps(&p.area_code, area)).take(200).collect())
    }

    /// A project of the staff member's area; any other is not found.
    pub async fn volunteer_project(&self, id: i64, who: &Principal) -> Result<VolunteerProject> {
        let area = staff_area(who)?;
        let q = sql(format!("{SELECT_PROJECT} WHERE p.id = $1"));
        let project: VolunteerProject =
            on_pool!(self, p => sqlx::query_as(q).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)?;
        if overlaps(&project.area_code, &area) { Ok(project) } else { Err(StoreError::NotFound) }
    }

    /// Adds an event to a project; its community must lie in the project's and the staff's area.
    pub async fn add_volunteer_event(
        &self,
        project_id: i64,
        who: &Principal,
        draft: &VolunteerEventDraft,
    ) -> Result<i64> {
        let area = staff_area(who)?;
        let project = self.volunteer_project(project_id, who).await?;
        let project_area = DivisionCode::parse(&project.area_code).map_err(|_| StoreError::NotFound)?;
        if !draft.community.is_within(&area) || !draft.community.is_within(&project_area) {
            return Err(invalid(
                "community",
                Invalid::new("outside_area", "只能选择本辖区的社区", "pick a community of your area"),
            ));
        }
        let known: Option<(String,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT code FROM divisions WHERE code = $1 AND level = 'community'",
        ).bind(draft.community.as_str()).fetch_optional(p).await?);
        if known.is_none() {
            return Err(invalid("community", Invalid::new("unknown_division", "请选择社区", "pick a community")));
        }
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO volunteer_events (project_id, community_code, starts_at, ends_at, description, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        ).bind(project_id).bind(draft.community.as_str()).bind(draft.slot.start).bind(draft.slot.end)
            .bind(&draft.description).bind(who.account_id).bind(now()).fetch_one(p).await?);
        Ok(id)
    }

    pub async fn project_events(&self, project_id: i64) -> Result<Vec<VolunteerEvent>> {
        let q = sql(format!("{SELECT_EVENT} WHERE e.project_id = $1 ORDER BY e.starts_at DESC, e.id DESC LIMIT 200"));
        Ok(on_pool!(self, p => sqlx::query_as(q).bind(project_id).fetch_all(p).await?))
    }

    /// Events in a community, latest first.
    pub async fn community_volunteer_events(&self, community: &str) -> Result<Vec<VolunteerEvent>> {
        let q =
            sql(format!("{SELECT_EVENT} WHERE e.community_code = $1 ORDER BY e.starts_at DESC, e.id DESC LIMIT 50"));
        Ok(on_pool!(self, p => sqlx::query_as(q).bind(community).fetch_all(p).await?))
    }

    /// Events agencies and schools may join: from 30 days back on, soonest first.
    pub async fn joinable_volunteer_events(&self) -> Result<Vec<VolunteerEvent>> {
        let since = now() - chrono::Duration::days(30);
        let q = sql(format!("{SELECT_EVENT} WHERE e.ends_at > $1 ORDER BY e.starts_at, e.id LIMIT 200"));
        Ok(on_pool!(self, p => sqlx::query_as(q).bind(since).fetch_all(p).await?))
    }

    pub async fn volunteer_event(&self, id: i64) -> Result<VolunteerEvent> {
        let q = sql(format!("{SELECT_EVENT} WHERE e.id = $1"));
        on_pool!(self, p => sqlx::query_as(q).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
    }

    /// Participants of a project's events (or of one participant's own events).
    pub async fn project_participants(&self, project_id: i64) -> Result<Vec<EventParticipant>> {
        let q = sql(format!(
            "{SELECT_PARTICIPANT} JOIN volunteer_events e ON e.id = vp.event_id WHERE e.project_id = $1
             ORDER BY vp.event_id, vp.id"
        ));
        Ok(on_pool!(self, p => sqlx::query_as(q).bind(project_id).fetch_all(p).await?))
    }

    /// What an agency or school has joined, by event.
    pub async fn participations(&self, who: Participant) -> Result<Vec<EventParticipant>> {
        let (agency, provider) = who.ids();
        let q = sql(format!(
            "{SELECT_PARTICIPANT} WHERE vp.agency_id = $1 OR vp.provider_id = $2 ORDER BY vp.event_id DESC LIMIT 500"
        ));
        Ok(
            on_pool!(self, p => sqlx::query_as(q).bind(agency.unwrap_or(0)).bind(provider.unwrap_or(0)).fetch_all(p).await?),
        )
    }

    /// An agency or school joins an event with the people sent and the hours each gave; once
    /// per event (`already_joined`). Until confirmed it may be changed by joining again.
    pub async fn join_volunteer_event(&self, event_id: i64, who: &Principal, draft: &JoinDraft) -> Result<i64> {
        let participant = Participant::of(who)?;
        let (agency, provider) = participant.ids();
        let event = self.volunteer_event(event_id).await?;
        // Nobody gives more hours to an event than it lasts.
        let length = (event.ends_at - event.starts_at).num_minutes();
        if draft.minutes_each > length {
            let hours = length as f64 / 60.0;
            return Err(StoreError::Invalid(jiazheng_core::FieldErrors(vec![
                jiazheng_core::field::Invalid::new(
                    "longer_than_event",
                    format!("每人时长不能超过活动时长（{hours:.1}小时）"),
                    format!("Hours each cannot exceed the event's length ({hours:.1} h)"),
                )
                .at("hours"),
            ])));
        }
        write_tx!(self, tx => async {
            let existing: Option<(i64, String)> = sqlx::query_as(
                "SELECT id, status FROM volunteer_participants WHERE event_id = $1 AND (agency_id = $2 OR provider_id = $3)",
            ).bind(event_id).bind(agency.unwrap_or(0)).bind(provider.unwrap_or(0)).fetch_optional(&mut *tx).await?;
            match existing {
                Some((_, status)) if status == "confirmed" => {
                    Err(StoreError::Conflict { what: "already_joined", existing_id: None })
                }
                Some((id, _)) => {
                    sqlx::query("UPDATE volunteer_participants SET people = $1, minutes_each = $2, joined_by = $3, joined_at = $4 WHERE id = $5")
                        .bind(draft.people).bind(draft.minutes_each).bind(who.account_id).bind(now()).bind(id)
                        .execute(&mut *tx).await?;
                    Ok(id)
                }
                None => {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO volunteer_participants (event_id, agency_id, provider_id, people, minutes_each, status, joined_by, joined_at)
                         VALUES ($1, $2, $3, $4, $5, 'joined', $6, $7) RETURNING id",
                    ).bind(event_id).bind(agency).bind(provider).bind(draft.people).bind(draft.minutes_each)
                        .bind(who.account_id).bind(now()).fetch_one(&mut *tx).await
                        .map_err(StoreError::conflict_on("already_joined"))?;
                    Ok(id)
                }
            }
        }.await)
    }

    /// Staff whose area holds the event's community confirm a participation; others: not found.
    pub async fn confirm_participation(&self, participant_id: i64, who: &Principal) -> Result<i64> {
        let area = staff_area(who)?;
        let found: Option<(i64, String, String, DateTime<Utc>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT e.project_id, e.community_code, vp.status, e.ends_at FROM volunteer_participants vp
             JOIN volunteer_events e ON e.id = vp.event_id WHERE vp.id = $1",
        ).bind(participant_id).fetch_optional(p).await?);
        let (project, community, _, ends_at) = found.ok_or(StoreError::NotFound)?;
        if !DivisionCode::parse(&community).is_ok_and(|c| c.is_within(&area)) {
            return Err(StoreError::NotFound);
        }
        // Hours are confirmed once they were given: after the event.
        if ends_at > now() {
            return Err(StoreError::Conflict { what: "event_not_over", existing_id: None });
        }
        let done = on_pool!(self, p => sqlx::query(
            "UPDATE volunteer_participants SET status = 'confirmed', confirmed_by = $1, confirmed_at = $2
             WHERE id = $3 AND status = 'joined'",
        ).bind(who.account_id).bind(now()).bind(participant_id).execute(p).await?.rows_affected());
        if done == 1 { Ok(project) } else { Err(StoreError::Conflict { what: "already_confirmed", existing_id: None }) }
    }

    /// Confirmed events and volunteer minutes of an agency or school.
    pub async fn volunteer_totals(&self, who: Participant) -> Result<VolunteerTotals> {
        let (agency, provider) = who.ids();
        let (events, minutes): (i64, i64) = on_pool!(self, p => sqlx::query_as(
            "SELECT CAST(COUNT(DISTINCT event_id) AS BIGINT), CAST(COALESCE(SUM(people * minutes_each), 0) AS BIGINT)
             FROM volunteer_participants WHERE status = 'confirmed' AND (agency_id = $1 OR provider_id = $2)",
        ).bind(agency.unwrap_or(0)).bind(provider.unwrap_or(0)).fetch_one(p).await?);
        Ok(VolunteerTotals { events, minutes })
    }
}
