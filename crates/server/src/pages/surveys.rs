//! Demand surveys: community staff publish one for their area and share its link (and QR code);
//! households answer on a phone page once signed in by phone; the demand list and the gap against
//! what agencies offer there are read on the survey's page and in its spreadsheet.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::FieldErrors;
use jiazheng_core::account::Role;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::community::survey::{
    AnswerForm, CareFor, Frequency, QuestionKind, SurveyForm, SurveyState, TimeOfDay, refuse_unless_open,
};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::market::catalog::CatalogItem;
use jiazheng_store::PageRequest;
use jiazheng_store::community::surveys::Survey;
use jiazheng_store::registry::divisions::Division;
use serde::Deserialize;

use super::{Chrome, CsrfForm, Pager, field_message, render};
use crate::auth::Viewer;
use crate::community::{staff_area, watched_area};
use crate::i18n::Lang;
use crate::surveys::{DemandLevel, DemandView, GapView, demand_view, gap_view, survey_xlsx};
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/community/surveys", get(list).post(create))
        .route("/community/surveys/new", get(new_survey))
        .route("/community/surveys/{id}", get(show))
        .route("/community/surveys/{id}/demand.xlsx", get(file))
        .route("/community/surveys/{id}/close", post(close))
        .route("/surveys/{token}", get(answer_page).post(answer))
}

fn state_label(s: SurveyState, lang: Lang) -> &'static str {
    s.label(lang.is_en())
}

// ---- staff: list, new, show -----------------------------------------------------------------

#[derive(Template)]
#[template(path = "surveys.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<(Survey, &'static str)>,
    pager: Pager,
    may_create: bool,
}

#[derive(Deserialize, Default)]
struct ListQuery {
    page: Option<u32>,
}

async fn list(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<ListQuery>,
) -> Result<Response, AppError> {
    let session = viewer.require_role(&[Role::CommunityStaff, Role::Regulator])?;
    let area = watched_area(&session.principal)?;
    let page = state.store.surveys(area.as_ref(), PageRequest::new(q.page, Some(20))).await?;
    let today = beijing_today();
    let page_view = ListPage {
        chrome: Chrome::new(lang, &viewer, "/community/surveys", lang.pick("需求调查", "Demand surveys").into()),
        pager: Pager::new(&page, "/community/surveys", ""),
        rows: page
            .items
            .into_iter()
            .map(|s| {
                let label = state_label(s.state(today), lang);
                (s, label)
            })
            .collect(),
        may_create: session.principal.role == Role::CommunityStaff,
    };
    render(&page_view)
}

#[derive(Template)]
#[template(path = "survey_form.html")]
struct FormPage {
    chrome: Chrome,
    area_name: String,
    form: SurveyForm,
    errors: FieldErrors,
}

impl FormPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn ticked(&self, code: &str) -> bool {
        self.form.questions.iter().any(|x| x == code)
    }

    fn kinds(&self) -> Vec<(&'static str, &'static str)> {
        QuestionKind::ALL.iter().map(|q| (q.as_str(), q.label(self.chrome.is_en()))).collect()
    }
}

async fn form_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    form: SurveyForm,
    errors: FieldErrors,
    status: StatusCode,
) -> Result<Response, AppError> {
    let area = staff_area(&viewer.require()?.principal)?;
    let page = FormPage {
        chrome: Chrome::new(lang, viewer, "/community/surveys", lang.pick("发布需求调查", "New demand survey").into()),
        area_name: state.store.division(area.as_str()).await?.name,
        form,
        errors,
    };
    Ok((status, render(&page)?).into_response())
}

async fn new_survey(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    let today = beijing_today();
    let form = SurveyForm {
        questions: QuestionKind::ALL.iter().map(|q| q.as_str().to_string()).collect(),
        opens_on: today.to_string(),
        closes_on: (today + chrono::Days::new(30)).to_string(),
        ..Default::default()
    };
    form_page(&state, lang, &viewer, form, FieldErrors::default(), StatusCode::OK).await
}

#[derive(Deserialize)]
struct SurveyBody {
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    intro: String,
    #[serde(default)]
    questions: Vec<String>,
    #[serde(default)]
    opens_on: String,
    #[serde(default)]
    closes_on: String,
}

async fn create(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(body): Form<SurveyBody>,
) -> Result<Response, AppError> {
    let session = viewer.require_role(&[Role::CommunityStaff])?;
    viewer.check_csrf(Some(&body.csrf))?;
    let area = staff_area(&session.principal)?;
    let form = SurveyForm {
        title: body.title,
        intro: body.intro,
        questions: body.questions,
        opens_on: body.opens_on,
        closes_on: body.closes_on,
    };
    match form.parse(beijing_today()) {
        Ok(draft) => {
            let id = state.store.create_survey(&area, &draft, session.principal.account_id).await?;
            Ok(Redirect::to(&format!("/community/surveys/{id}")).into_response())
        }
        Err(errors) => form_page(&state, lang, &viewer, form, errors, StatusCode::UNPROCESSABLE_ENTITY).await,
    }
}

#[derive(Template)]
#[template(path = "survey.html")]
struct ShowPage {
    chrome: Chrome,
    survey: Survey,
    state_label: &'static str,
    open: bool,
    link: String,
    qr_svg: String,
    questions: Vec<&'static str>,
    level: DemandLevel,
    demand: DemandView,
    gap: GapView,
    may_close: bool,
}

impl ShowPage {
    fn levels(&self) -> [DemandLevel; 3] {
        DemandLevel::ALL
    }

    fn level_label(&self, level: &DemandLevel) -> &'static str {
        level.label(self.chrome.lang)
    }

    /// Each place, then the total.
    fn demand_rows(&self) -> Vec<&crate::surveys::DemandLine> {
        self.demand.lines.iter().chain(std::iter::once(&self.demand.total)).collect()
    }
}

#[derive(Deserialize, Default)]
struct ShowQuery {
    level: Option<String>,
}

/// A survey the viewer may read: staff of its area, a regulator over it.
async fn readable(state: &AppState, viewer: &Viewer, id: i64) -> Result<(Survey, Option<DivisionCode>), AppError> {
    let session = viewer.require_role(&[Role::CommunityStaff, Role::Regulator])?;
    let area = watched_area(&session.principal)?;
    let survey = state.store.survey_in(id, area.as_ref()).await?;
    Ok((survey, area))
}

async fn show(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(q): Query<ShowQuery>,
) -> Result<Response, AppError> {
    let (survey, _) = readable(&state, &viewer, id).await?;
    let level = DemandLevel::parse(q.level.as_deref());
    let today = beijing_today();
    let link = format!("{}/surveys/{}", super::origin(&state, &headers), survey.link_token);
    let demand = demand_view(&state, &survey, level, lang).await?;
    let gap = gap_view(&state, &survey, lang).await?;
    let s = survey.state(today);
    let page = ShowPage {
        chrome: Chrome::new(lang, &viewer, "/community/surveys", survey.title.clone()),
        state_label: state_label(s, lang),
        open: s != SurveyState::Closed,
        qr_svg: super::certificate::qr_svg(&link)?,
        link,
        questions: survey.asked().iter().map(|q| q.label(lang.is_en())).collect(),
        level,
        demand,
        gap,
        may_close: viewer.session.as_ref().is_some_and(|s| s.principal.role == Role::CommunityStaff),
        survey,
    };
    render(&page)
}

async fn file(State(state): State<AppState>, viewer: Viewer, Path(id): Path<i64>) -> Result<Response, AppError> {
    let (survey, _) = readable(&state, &viewer, id).await?;
    let bytes = survey_xlsx(&state, &survey).await?;
    let name = format!("attachment; filename=\"survey-{id}-demand.xlsx\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        bytes,
    )
        .into_response())
}

async fn close(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    let session = viewer.require_role(&[Role::CommunityStaff])?;
    viewer.check_csrf(Some(&form.csrf))?;
    state.store.close_survey(id, &staff_area(&session.principal)?).await?;
    Ok(Redirect::to(&format!("/community/surveys/{id}")).into_response())
}

// ---- households: the answer page -------------------------------------------------------------

#[derive(Template)]
#[template(path = "survey_answer.html")]
struct AnswerPage {
    chrome: Chrome,
    survey: Survey,
    token: String,
    /// Why no answer can be taken now, when so.
    refusal: Option<String>,
    signed_in_resident: bool,
    answered: bool,
    thanks: bool,
    asked: Vec<QuestionKind>,
    form: AnswerForm,
    errors: FieldErrors,
    /// The area's streets, for the household to pick theirs, and the picked street's units.
    streets: Vec<Division>,
    street: String,
    communities: Vec<Division>,
}

impl AnswerPage {
    fn err(&self, field: &str) -> Option<String> {
        field_message(&self.errors, self.chrome.lang, field)
    }

    fn asks(&self, q: QuestionKind) -> bool {
        self.asked.contains(&q)
    }

    fn services(&self) -> Vec<(&'static str, &'static str, bool)> {
        let en = self.chrome.is_en();
        CatalogItem::ALL
            .iter()
            .map(|c| (c.as_str(), c.label(en), self.form.services.iter().any(|s| s == c.as_str())))
            .collect()
    }

    fn frequencies(&self) -> Vec<(&'static str, &'static str, bool)> {
        let en = self.chrome.is_en();
        Frequency::ALL.iter().map(|c| (c.as_str(), c.label(en), self.form.frequency == c.as_str())).collect()
    }

    fn times(&self) -> Vec<(&'static str, &'static str, bool)> {
        let en = self.chrome.is_en();
        TimeOfDay::ALL
            .iter()
            .map(|c| (c.as_str(), c.label(en), self.form.times.iter().any(|s| s == c.as_str())))
            .collect()
    }

    fn cares(&self) -> Vec<(&'static str, &'static str, bool)> {
        let en = self.chrome.is_en();
        CareFor::ALL.iter().map(|c| (c.as_str(), c.label(en), self.form.care.iter().any(|s| s == c.as_str()))).collect()
    }

    fn label(&self, q: QuestionKind) -> &'static str {
        q.label(self.chrome.is_en())
    }
}

#[derive(Deserialize, Default)]
struct AnswerQuery {
    thanks: Option<String>,
}

#[allow(clippy::too_many_arguments)]
async fn render_answer(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    token: &str,
    mut form: AnswerForm,
    street: String,
    errors: FieldErrors,
    thanks: bool,
    status: StatusCode,
) -> Result<Response, AppError> {
    let survey = state.store.survey_by_link(token).await?;
    let resident = viewer.session.as_ref().filter(|s| s.principal.role == Role::Resident);
    let answered = match resident {
        Some(s) => state.store.has_answered(survey.id, s.principal.account_id).await?,
        None => false,
    };
    if let (Some(s), true) = (resident, form.community.is_empty() && street.is_empty()) {
        // The household on record is the first guess.
        if let Some(code) = state.store.resident_profile(s.principal.account_id).await?.community_code {
            form.community = code;
        }
    }
    let refusal = refuse_unless_open(survey.state(beijing_today()), survey.opens_on, survey.closes_on)
        .err()
        .map(|e| lang.pick(&e.message_zh, &e.message_en).to_string());
    let area = survey.area().ok_or(AppError::NotFound)?;
    let streets = match area.level() {
        jiazheng_core::division::DivisionLevel::District => state.store.child_divisions(Some(area.as_str())).await?,
        _ => vec![state.store.division(area.street().as_str()).await?],
    };
    let street = if street.len() == 9 { street } else { form.community.get(..9).unwrap_or_default().to_string() };
    let street = if streets.len() == 1 { streets[0].code[..9].to_string() } else { street };
    let communities = if street.len() == 9 && streets.iter().any(|s| s.code.starts_with(&street)) {
        let all = state.store.child_divisions(Some(&format!("{street:0<12}"))).await?;
        all.into_iter().filter(|c| DivisionCode::parse(&c.code).is_ok_and(|c| c.is_within(&area))).collect()
    } else {
        Vec::new()
    };
    let page = AnswerPage {
        chrome: Chrome::new(lang, viewer, "/surveys", survey.title.clone()),
        asked: survey.asked(),
        token: token.to_string(),
        refusal,
        signed_in_resident: resident.is_some(),
        answered,
        thanks,
        form,
        errors,
        streets,
        street,
        communities,
        survey,
    };
    Ok((status, render(&page)?).into_response())
}

async fn answer_page(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(token): Path<String>,
    Query(q): Query<AnswerQuery>,
) -> Result<Response, AppError> {
    let thanks = q.thanks.is_some();
    render_answer(
        &state,
        lang,
        &viewer,
        &token,
        AnswerForm::default(),
        String::new(),
        FieldErrors::default(),
        thanks,
        StatusCode::OK,
    )
    .await
}

#[derive(Deserialize)]
struct AnswerBody {
    csrf: String,
    #[serde(default)]
    street: String,
    #[serde(default)]
    community: String,
    #[serde(default)]
    services: Vec<String>,
    #[serde(default)]
    frequency: String,
    #[serde(default)]
    price_min: String,
    #[serde(default)]
    price_max: String,
    #[serde(default)]
    times: Vec<String>,
    #[serde(default)]
    care: Vec<String>,
    #[serde(default)]
    note: String,
    /// `place`: list the picked street's communities, keeping the answers typed; no save.
    #[serde(default)]
    step: String,
}

async fn answer(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(token): Path<String>,
    Form(body): Form<AnswerBody>,
) -> Result<Response, AppError> {
    let session = viewer.require_role(&[Role::Resident])?;
    viewer.check_csrf(Some(&body.csrf))?;
    let survey = state.store.survey_by_link(&token).await?;
    let form = AnswerForm {
        community: if body.community.starts_with(&body.street) { body.community } else { String::new() },
        services: body.services,
        frequency: body.frequency,
        price_min: body.price_min,
        price_max: body.price_max,
        times: body.times,
        care: body.care,
        note: body.note,
    };
    let refused = |errors: FieldErrors, form: AnswerForm, street: String, status: StatusCode| {
        let (state, viewer, token) = (&state, &viewer, &token);
        async move { render_answer(state, lang, viewer, token, form, street, errors, false, status).await }
    };
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    if body.step == "place" {
        return render_answer(
            &state,
            lang,
            &viewer,
            &token,
            form,
            body.street,
            FieldErrors::default(),
            false,
            StatusCode::OK,
        )
        .await;
    }
    let mut errors = FieldErrors::default();
    let community = errors.take(
        "community",
        DivisionCode::parse(&form.community)
            .and_then(|c| jiazheng_core::registry::service_point::parse_community(c.as_str())),
    );
    let parsed = form.parse(&survey.asked());
    match (community, parsed) {
        (Some(community), Ok(answer)) if errors.is_empty() => {
            match state
                .store
                .answer_survey(&survey, session.principal.account_id, &community, &answer, beijing_today())
                .await
            {
                Ok(_) => Ok(Redirect::to(&format!("/surveys/{token}?thanks=1")).into_response()),
                Err(jiazheng_store::StoreError::Invalid(e)) => refused(e, form, body.street, unprocessable).await,
                // A second answer from the household (another tab, a double tap): said on the page.
                Err(e @ jiazheng_store::StoreError::Conflict { .. }) => {
                    let AppError::Conflict { message_zh, message_en, .. } = AppError::from(e) else {
                        return Err(AppError::Internal("conflict expected".into()));
                    };
                    let said = jiazheng_core::field::Invalid::new("answered", message_zh, message_en).at("survey");
                    refused(FieldErrors(vec![said]), form, body.street, StatusCode::CONFLICT).await
                }
                Err(other) => Err(other.into()),
            }
        }
        (_, parsed) => {
            if let Err(more) = parsed {
                errors.0.extend(more.0);
            }
            refused(errors, form, body.street, unprocessable).await
        }
    }
}
