//! 家政驿站 and volunteer service pages. Schools propose stations (`/school/stations`) and staff
//! whose area holds the community confirm or end them (`/community/stations`); staff run
//! volunteer projects and their events (`/community/volunteer`) and confirm the agencies and
//! schools that took part, who join events at `/volunteer`. `/communities/{code}` is public.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::FieldErrors;
use jiazheng_core::account::Role;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::community::volunteer::{
    ParticipationStatus, ProjectForm, StationForm, StationSide, StationStatus, VolunteerEventForm, VolunteerJoinForm,
    VolunteerKind, hours_text, service_labels,
};
use jiazheng_core::division::{DivisionCode, DivisionLevel};
use jiazheng_core::field::Invalid;
use jiazheng_core::market::CatalogItem;
use jiazheng_core::market::slot::Slot;
use jiazheng_store::community::operations::RepeatShare;
use jiazheng_store::community::volunteer::{
    EventParticipant, Participant, Station, VolunteerEvent, VolunteerProject, staff_area,
};
use jiazheng_store::registry::divisions::Division;
use jiazheng_store::registry::service_points::ServicePoint;

use super::{Chrome, field_message, render};
use crate::auth::Viewer;
use crate::community_ops::{conflict_text, ops_error};
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/school/stations", get(school_stations).post(propose))
        .route("/school/stations/{id}/end", post(end_station))
        .route("/community/stations", get(staff_stations))
        .route("/community/stations/{id}/confirm", post(confirm_station))
        .route("/community/stations/{id}/end", post(end_station))
        .route("/community/volunteer", get(projects).post(create_project))
        .route("/community/volunteer/{id}", get(project))
        .route("/community/volunteer/{id}/events", post(add_event))
        .route("/community/volunteer/participants/{id}/confirm", post(confirm_participant))
        .route("/volunteer", get(joinable))
        .route("/volunteer/events/{id}/join", post(join))
        .route("/communities/{code}", get(community))
}

type Body = HashMap<String, String>;

fn field(body: &Body, name: &str) -> String {
    body.get(name).map(|v| v.chars().take(1000).collect()).unwrap_or_default()
}

/// What a refused form needs to show again: the errors and the values typed.
#[derive(Default)]
struct Typed {
    values: HashMap<String, String>,
    errors: FieldErrors,
    message: Option<String>,
    /// The row (event) a per-row form was for.
    row: i64,
}

impl Typed {
    fn from_error(
        body: Body,
        error: AppError,
        lang: Lang,
        conflict_field: &str,
        row: i64,
    ) -> Result<(StatusCode, Self), AppError> {
        let (status, errors, message) = match &error {
            AppError::Invalid(errors) => (StatusCode::UNPROCESSABLE_ENTITY, errors.clone(), None),
            AppError::Conflict { code, message_zh, message_en, .. } => (
                StatusCode::CONFLICT,
                FieldErrors(vec![Invalid::new(code, message_zh.clone(), message_en.clone()).at(conflict_field)]),
                conflict_text(&error, lang.is_en()),
            ),
            _ => return Err(error),
        };
        let mut values = body;
        values.remove("csrf");
        Ok((status, Self { values, errors, message, row }))
    }

    fn err(&self, lang: Lang, field: &str) -> Option<String> {
        field_message(&self.errors, lang, field)
    }

    fn val(&self, field: &str) -> String {
        self.values.get(field).cloned().unwrap_or_default()
    }

    fn failed(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// A street and its communities, for pickers.
struct StreetChoices {
    name: String,
    communities: Vec<(String, String)>,
}

/// The communities of a staff member's area, by street.
async fn area_communities(state: &AppState, area: &DivisionCode) -> Result<Vec<StreetChoices>, AppError> {
    let streets: Vec<Division> = match area.level() {
        DivisionLevel::Community => {
            let me = state.store.division(area.as_str()).await?;
            return Ok(vec![StreetChoices { name: String::new(), communities: vec![(me.code, me.name)] }]);
        }
        DivisionLevel::Street => vec![state.store.division(area.as_str()).await?],
        _ => state.store.child_divisions(Some(area.as_str())).await?,
    };
    let mut out = Vec::new();
    for street in streets {
        let communities = state.store.child_divisions(Some(&street.code)).await?;
        out.push(StreetChoices {
            name: street.name,
            communities: communities.into_iter().map(|c| (c.code, c.name)).collect(),
        });
    }
    Ok(out)
}

fn when(starts_at: chrono::DateTime<chrono::Utc>, ends_at: chrono::DateTime<chrono::Utc>) -> String {
    Slot { start: starts_at, end: ends_at }.describe()
}

fn station_status(s: &Station, lang: Lang) -> String {
    let status = StationStatus::label_of(&s.status, lang.is_en());
    match &s.ended_side {
        Some(side) => format!("{status}（{}）", StationSide::label_of(side, lang.is_en())),
        None => status.to_string(),
    }
}

// ---- schools: stations ----------------------------------------------------------------------

#[derive(Template)]
#[template(path = "school_stations.html")]
struct SchoolStationsPage {
    chrome: Chrome,
    rows: Vec<Station>,
    streets: std::sync::Arc<Vec<crate::StreetGroup>>,
    communities: Vec<Division>,
    street: String,
    typed: Typed,
    services: Vec<String>,
}

impl SchoolStationsPage {
    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.chrome.lang.pick(zh, en)
    }
    fn err(&self, field: &str) -> Option<String> {
        self.typed.err(self.chrome.lang, field)
    }
    fn status(&self, s: &Station) -> String {
        station_status(s, self.chrome.lang)
    }
    fn labels(&self, s: &Station) -> String {
        service_labels(&s.services, self.chrome.is_en())
    }
    fn catalog(&self) -> Vec<(&'static str, &'static str, bool)> {
        CatalogItem::ALL
            .iter()
            .map(|c| (c.as_str(), c.label(self.chrome.is_en()), self.services.iter().any(|s| s == c.as_str())))
            .collect()
    }
}

fn require_school(viewer: &Viewer) -> Result<i64, AppError> {
    viewer.require_role(&[Role::School])?.principal.provider_id().ok_or(AppError::Forbidden)
}

async fn school_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    street: String,
    typed: Typed,
    services: Vec<String>,
) -> Result<SchoolStationsPage, AppError> {
    let provider = require_school(viewer)?;
    let street: String = street.chars().filter(char::is_ascii_digit).take(9).collect();
    let communities = if street.len() == 9 {
        state.store.child_divisions(Some(&format!("{street:0<12}"))).await?
    } else {
        Vec::new()
    };
    Ok(SchoolStationsPage {
        chrome: Chrome::new(lang, viewer, "/school/stations", lang.pick("家政驿站", "Home-service stations").into()),
        rows: state.store.stations_of_provider(provider).await?,
        streets: state.street_groups().await?,
        communities,
        street,
        typed,
        services,
    })
}

#[derive(serde::Deserialize, Default)]
struct StreetQuery {
    #[serde(default)]
    street: String,
}

async fn school_stations(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<StreetQuery>,
) -> Result<Response, AppError> {
    render(&school_page(&state, lang, &viewer, q.street, Typed::default(), Vec::new()).await?)
}

async fn propose(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(body): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    require_school(&viewer)?;
    let csrf = body.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
    viewer.check_csrf(csrf)?;
    let who = viewer.require()?.principal.clone();
    let services: Vec<String> =
        body.iter().filter(|(k, _)| k == "services").map(|(_, v)| v.chars().take(40).collect()).take(40).collect();
    let map: Body = body.into_iter().filter(|(k, _)| k != "services").collect();
    let street = field(&map, "street");
    if field(&map, "step") == "place" {
        let typed = Typed { values: map, ..Typed::default() };
        return render(&school_page(&state, lang, &viewer, street, typed, services).await?);
    }
    let form = StationForm {
        name: field(&map, "name"),
        community: field(&map, "community"),
        address: field(&map, "address"),
        services: services.clone(),
        hours: field(&map, "hours"),
    };
    let outcome = async {
        let draft = form.parse().map_err(AppError::Invalid)?;
        state.store.propose_station(&who, &draft).await.map_err(ops_error)
    }
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to("/school/stations#stations").into_response()),
        Err(e) => {
            let (status, typed) = Typed::from_error(map, e, lang, "name", 0)?;
            let page = school_page(&state, lang, &viewer, street, typed, services).await?;
            Ok((status, render(&page)?).into_response())
        }
    }
}

/// Either side ends a station: the school from its list, staff from theirs.
async fn end_station(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let who = viewer.require_role(&[Role::School, Role::CommunityStaff])?.principal.clone();
    viewer.check_csrf(body.get("csrf").map(String::as_str))?;
    state.store.end_station(id, &who).await.map_err(ops_error)?;
    let back = if who.role == Role::School { "/school/stations#stations" } else { "/community/stations#stations" };
    Ok(Redirect::to(back).into_response())
}

// ---- staff: stations ------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "community_stations.html")]
struct StaffStationsPage {
    chrome: Chrome,
    rows: Vec<Station>,
}

impl StaffStationsPage {
    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.chrome.lang.pick(zh, en)
    }
    fn status(&self, s: &Station) -> String {
        station_status(s, self.chrome.lang)
    }
    fn labels(&self, s: &Station) -> String {
        service_labels(&s.services, self.chrome.is_en())
    }
}

async fn staff_stations(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    let who = viewer.require_role(&[Role::CommunityStaff])?.principal.clone();
    let area = staff_area(&who).map_err(ops_error)?;
    render(&StaffStationsPage {
        chrome: Chrome::new(
            lang,
            &viewer,
            "/community/stations",
            lang.pick("家政驿站", "Home-service stations").into(),
        ),
        rows: state.store.stations_in_area(&area).await?,
    })
}

async fn confirm_station(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let who = viewer.require_role(&[Role::CommunityStaff])?.principal.clone();
    viewer.check_csrf(body.get("csrf").map(String::as_str))?;
    state.store.confirm_station(id, &who).await.map_err(ops_error)?;
    Ok(Redirect::to("/community/stations#stations").into_response())
}

// ---- staff: volunteer projects ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "volunteer_projects.html")]
struct ProjectsPage {
    chrome: Chrome,
    rows: Vec<VolunteerProject>,
    typed: Typed,
}

impl ProjectsPage {
    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.chrome.lang.pick(zh, en)
    }
    fn err(&self, field: &str) -> Option<String> {
        self.typed.err(self.chrome.lang, field)
    }
    fn kind(&self, code: &str) -> &'static str {
        VolunteerKind::label_of(code, self.chrome.is_en())
    }
    fn kinds(&self) -> Vec<(&'static str, &'static str)> {
        VolunteerKind::ALL.iter().map(|k| (k.as_str(), k.label(self.chrome.is_en()))).collect()
    }
    fn hours(&self, minutes: &i64) -> String {
        hours_text(*minutes)
    }
}

async fn projects_page(state: &AppState, lang: Lang, viewer: &Viewer, typed: Typed) -> Result<ProjectsPage, AppError> {
    let who = viewer.require_role(&[Role::CommunityStaff])?.principal.clone();
    let area = staff_area(&who).map_err(ops_error)?;
    Ok(ProjectsPage {
        chrome: Chrome::new(
            lang,
            viewer,
            "/community/volunteer",
            lang.pick("志愿公益服务", "Volunteer service").into(),
        ),
        rows: state.store.volunteer_projects(&area).await?,
        typed,
    })
}

async fn projects(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    render(&projects_page(&state, lang, &viewer, Typed::default()).await?)
}

async fn create_project(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let who = viewer.require_role(&[Role::CommunityStaff])?.principal.clone();
    viewer.check_csrf(body.get("csrf").map(String::as_str))?;
    let form = ProjectForm {
        kind: field(&body, "kind"),
        title: field(&body, "title"),
        description: field(&body, "description"),
    };
    let outcome = async {
        let draft = form.parse().map_err(AppError::Invalid)?;
        state.store.create_volunteer_project(&who, &draft).await.map_err(ops_error)
    }
    .await;
    match outcome {
        Ok(id) => Ok(Redirect::to(&format!("/community/volunteer/{id}")).into_response()),
        Err(e) => {
            let (status, typed) = Typed::from_error(body, e, lang, "title", 0)?;
            let page = projects_page(&state, lang, &viewer, typed).await?;
            Ok((status, render(&page)?).into_response())
        }
    }
}

#[derive(Template)]
#[template(path = "volunteer_project.html")]
struct ProjectPage {
    chrome: Chrome,
    project: VolunteerProject,
    events: Vec<VolunteerEvent>,
    participants: Vec<EventParticipant>,
    streets: Vec<StreetChoices>,
    typed: Typed,
    /// The viewer's area: participations are confirmed for events inside it only.
    area: DivisionCode,
}

impl ProjectPage {
    fn ours(&self, e: &VolunteerEvent) -> bool {
        DivisionCode::parse(&e.community_code).is_ok_and(|c| c.is_within(&self.area))
    }
    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.chrome.lang.pick(zh, en)
    }
    fn err(&self, field: &str) -> Option<String> {
        self.typed.err(self.chrome.lang, field)
    }
    fn kind(&self) -> &'static str {
        VolunteerKind::label_of(&self.project.kind, self.chrome.is_en())
    }
    fn hours(&self, minutes: &i64) -> String {
        hours_text(*minutes)
    }
    fn when(&self, e: &VolunteerEvent) -> String {
        when(e.starts_at, e.ends_at)
    }
    fn of_event(&self, event: &i64) -> Vec<&EventParticipant> {
        self.participants.iter().filter(|p| p.event_id == *event).collect()
    }
    fn status(&self, p: &EventParticipant) -> &'static str {
        ParticipationStatus::label_of(&p.status, self.chrome.is_en())
    }
    fn part_hours(&self, p: &EventParticipant) -> String {
        format!("{} × {} = {}", p.people, hours_text(p.minutes_each), hours_text(p.minutes()))
    }
}

async fn project_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    id: i64,
    typed: Typed,
) -> Result<ProjectPage, AppError> {
    let who = viewer.require_role(&[Role::CommunityStaff])?.principal.clone();
    let area = staff_area(&who).map_err(ops_error)?;
    let project = state.store.volunteer_project(id, &who).await?;
    Ok(ProjectPage {
        chrome: Chrome::new(lang, viewer, &format!("/community/volunteer/{id}"), project.title.clone()),
        events: state.store.project_events(id).await?,
        participants: state.store.project_participants(id).await?,
        streets: area_communities(state, &area).await?,
        project,
        typed,
        area,
    })
}

async fn project(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    render(&project_page(&state, lang, &viewer, id, Typed::default()).await?)
}

async fn add_event(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let who = viewer.require_role(&[Role::CommunityStaff])?.principal.clone();
    viewer.check_csrf(body.get("csrf").map(String::as_str))?;
    let form = VolunteerEventForm {
        community: field(&body, "community"),
        date: field(&body, "date"),
        from: field(&body, "from"),
        to: field(&body, "to"),
        description: field(&body, "description"),
    };
    let outcome = match form.parse(beijing_today()) {
        Ok(draft) => state.store.add_volunteer_event(id, &who, &draft).await.map_err(ops_error),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/community/volunteer/{id}#events")).into_response()),
        Err(e) => {
            let (status, typed) = Typed::from_error(body, e, lang, "community", 0)?;
            let page = project_page(&state, lang, &viewer, id, typed).await?;
            Ok((status, render(&page)?).into_response())
        }
    }
}

async fn confirm_participant(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let who = viewer.require_role(&[Role::CommunityStaff])?.principal.clone();
    viewer.check_csrf(body.get("csrf").map(String::as_str))?;
    let project = state.store.confirm_participation(id, &who).await.map_err(ops_error)?;
    Ok(Redirect::to(&format!("/community/volunteer/{project}#events")).into_response())
}

// ---- agencies and schools: joining --------------------------------------------------------------

#[derive(Template)]
#[template(path = "volunteer_events.html")]
struct JoinPage {
    chrome: Chrome,
    events: Vec<VolunteerEvent>,
    mine: Vec<EventParticipant>,
    typed: Typed,
}

impl JoinPage {
    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.chrome.lang.pick(zh, en)
    }
    fn kind(&self, code: &str) -> &'static str {
        VolunteerKind::label_of(code, self.chrome.is_en())
    }
    fn when(&self, e: &VolunteerEvent) -> String {
        when(e.starts_at, e.ends_at)
    }
    fn can_join(&self, event: &i64) -> bool {
        self.mine_at(event).is_none_or(|p| p.status == "joined")
    }
    fn mine_at(&self, event: &i64) -> Option<&EventParticipant> {
        self.mine.iter().find(|p| p.event_id == *event)
    }
    fn status(&self, p: &EventParticipant) -> &'static str {
        ParticipationStatus::label_of(&p.status, self.chrome.is_en())
    }
    fn hours(&self, minutes: &i64) -> String {
        hours_text(*minutes)
    }
    fn here(&self, event: &i64) -> bool {
        self.typed.failed() && self.typed.row == *event
    }
    fn err(&self, event: &i64, field: &str) -> Option<String> {
        if self.here(event) { self.typed.err(self.chrome.lang, field) } else { None }
    }
    fn val(&self, event: &i64, field: &str) -> String {
        if self.here(event) { self.typed.val(field) } else { String::new() }
    }
}

async fn join_page(state: &AppState, lang: Lang, viewer: &Viewer, typed: Typed) -> Result<JoinPage, AppError> {
    let who = viewer.require_role(&[Role::AgencyAdmin, Role::School])?.principal.clone();
    let me = Participant::of(&who).map_err(ops_error)?;
    Ok(JoinPage {
        chrome: Chrome::new(lang, viewer, "/volunteer", lang.pick("志愿公益活动", "Volunteer events").into()),
        events: state.store.joinable_volunteer_events().await?,
        mine: state.store.participations(me).await?,
        typed,
    })
}

async fn joinable(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    render(&join_page(&state, lang, &viewer, Typed::default()).await?)
}

async fn join(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(body): Form<Body>,
) -> Result<Response, AppError> {
    let who = viewer.require_role(&[Role::AgencyAdmin, Role::School])?.principal.clone();
    viewer.check_csrf(body.get("csrf").map(String::as_str))?;
    let form = VolunteerJoinForm { people: field(&body, "people"), hours: field(&body, "hours") };
    let outcome = async {
        let draft = form.parse().map_err(AppError::Invalid)?;
        state.store.join_volunteer_event(id, &who, &draft).await.map_err(ops_error)
    }
    .await;
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/volunteer#event-{id}")).into_response()),
        Err(e) => {
            let (status, typed) = Typed::from_error(body, e, lang, "people", id)?;
            let page = join_page(&state, lang, &viewer, typed).await?;
            Ok((status, render(&page)?).into_response())
        }
    }
}

// ---- the public community page ------------------------------------------------------------------

#[derive(Template)]
#[template(path = "community.html")]
struct CommunityPage {
    chrome: Chrome,
    community: Division,
    street: String,
    district: String,
    points: Vec<(ServicePoint, bool)>,
    stations: Vec<Station>,
    events: Vec<VolunteerEvent>,
    shares: Vec<RepeatShare>,
}

impl CommunityPage {
    fn t<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        self.chrome.lang.pick(zh, en)
    }
    fn labels(&self, s: &Station) -> String {
        service_labels(&s.services, self.chrome.is_en())
    }
    fn kind(&self, code: &str) -> &'static str {
        VolunteerKind::label_of(code, self.chrome.is_en())
    }
    fn when(&self, e: &VolunteerEvent) -> String {
        when(e.starts_at, e.ends_at)
    }
    fn hours(&self, minutes: &i64) -> String {
        hours_text(*minutes)
    }
}

async fn community(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let facts = crate::community_ops::CommunityFacts::load(&state, &code).await?;
    render(&CommunityPage {
        chrome: Chrome::new(
            lang,
            &viewer,
            &format!("/communities/{}", facts.community.code),
            facts.community.name.clone(),
        ),
        community: facts.community,
        street: facts.street,
        district: facts.district,
        points: facts.points,
        stations: facts.stations,
        events: facts.events,
        shares: facts.shares,
    })
}
