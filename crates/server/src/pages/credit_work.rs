//! Credit pages: the public red and black lists, a resident's services (confirm, rate, complain),
//! an agency's own credit (record services, export the loan report), and the regulator's desk
//! (complaints, review queue, listings, appeals, rewards and penalties).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::credit::casework::{
    ActionForm, AppealOutcome, ComplaintAction, ComplaintStatus, CreditList, DecisionForm, ListProposalForm,
    ListingReview, RatingForm, ReviewDecision, ServiceRecordForm,
};
use jiazheng_core::credit::grade::Grade;
use jiazheng_core::registry::ServiceKind;
use jiazheng_store::PageRequest;
use jiazheng_store::credit::casework::{AppealRow, ComplaintRow, ListingRow, ServiceRow};
use serde::Deserialize;

use super::queue_view::{QueueView, REVIEWED_KINDS};
use super::{Chrome, render};
use crate::api::casework::{regulator, resident};
use crate::api::workers::today;
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/credit/lists", get(lists))
        .route("/my/services", get(my_services))
        .route("/my/services/{id}/confirm", post(confirm))
        .route("/my/services/{id}/rating", post(rate))
        .route("/agency/credit", get(agency_desk))
        .route("/agency/services", post(record_service))
        .route("/agency/services/new", get(service_form))
        .route("/agency/credit-report", post(credit_report))
        .route("/regulator/credit", get(regulator_desk))
        .route("/regulator/complaints/{id}", post(act_on_complaint))
        .route("/regulator/entries/{seq}", post(review_entry))
        .route("/regulator/entries/approve", post(approve_selected))
        .route("/regulator/listings", post(propose_listing))
        .route("/regulator/listings/{id}", post(review_listing))
        .route("/regulator/appeals/{id}", post(decide_appeal))
        .route("/regulator/actions", post(record_action))
}

#[derive(Template)]
#[template(path = "credit_lists.html")]
struct ListsPage {
    chrome: Chrome,
    /// Anchor, heading, rows: the red list, then the black list.
    sections: Vec<(&'static str, String, Vec<ListingRow>)>,
}

impl ListsPage {
    fn subject_href(&self, row: &ListingRow) -> String {
        match row.subject_kind.as_str() {
            "agency" => format!("/agencies/{}", row.subject_id),
            _ => format!("/workers/{}", row.subject_id),
        }
    }
}

async fn lists(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    render(&ListsPage {
        chrome: Chrome::new(lang, &viewer, "/credit/lists", lang.t("lists.title")),
        sections: vec![
            ("red-list", lang.t("lists.red"), state.store.credit_list(CreditList::Red).await?),
            ("black-list", lang.t("lists.black"), state.store.credit_list(CreditList::Black).await?),
        ],
    })
}

#[derive(Template)]
#[template(path = "my_services.html")]
struct MyServicesPage {
    chrome: Chrome,
    services: Vec<ServiceRow>,
    complaints: Vec<ComplaintRow>,
    /// The complaint just filed, to confirm it.
    filed: Option<i64>,
}

impl MyServicesPage {
    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        super::beijing_minutes(*at)
    }

    fn service(&self, code: &str) -> String {
        ServiceKind::label_of(code, self.chrome.is_en()).to_string()
    }

    fn status(&self, code: &str) -> String {
        ComplaintStatus::label_of(code, self.chrome.is_en()).to_string()
    }
}

#[derive(Deserialize)]
struct MyServicesQuery {
    filed: Option<i64>,
}

async fn my_services(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(query): Query<MyServicesQuery>,
) -> Result<Response, AppError> {
    let me = resident(&viewer)?;
    render(&MyServicesPage {
        filed: query.filed,
        chrome: Chrome::new(lang, &viewer, "/my/services", lang.t("services.title")),
        services: state.store.services_of_resident(me.account_id).await?,
        complaints: state
            .store
            .complaints(None, Some(me.account_id), None, PageRequest::new(None, Some(50)))
            .await?
            .items,
    })
}

#[derive(Deserialize)]
struct Csrf {
    csrf: String,
}

async fn confirm(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<Csrf>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    state.store.confirm_service(id, &resident(&viewer)?).await?;
    Ok(Redirect::to("/my/services").into_response())
}

#[derive(Deserialize)]
struct RatingPost {
    csrf: String,
    #[serde(flatten)]
    rating: RatingForm,
}

async fn rate(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<RatingPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let me = resident(&viewer)?;
    let rating = form.rating.parse().map_err(AppError::Invalid)?;
    state.store.rate_service(id, &me, &rating).await?;
    Ok(Redirect::to("/my/services").into_response())
}

/// Ids come as text from a form; a bad one is a field error, not a 400 from the extractor.
fn id_field(raw: &str, field: &str) -> Result<i64, AppError> {
    raw.trim().parse().map_err(|_| {
        crate::api::field_error(field)(jiazheng_core::field::Invalid::new("number", "请填写编号", "enter a number"))
    })
}

/// The grade with its reasons, as pages show it.
pub struct GradeView {
    pub grade: Grade,
    pub lines: Vec<(String, String, String)>,
}

impl GradeView {
    pub fn new(grade: Grade, lang: Lang) -> Self {
        let lines = grade
            .contributions
            .iter()
            .map(|c| {
                let reason = if lang.is_en() { c.reason_en.clone() } else { c.reason_zh.clone() };
                // How many records back the line; the records themselves are on the timeline.
                let entries = match (c.entries.len(), lang.is_en()) {
                    (0, _) => String::new(),
                    (1, true) => "1 record".to_string(),
                    (n, true) => format!("{n} records"),
                    (n, false) => format!("{n} 条记录"),
                };
                (reason, format!("{:+.1}", c.points), entries)
            })
            .collect();
        Self { grade, lines }
    }
}

#[derive(Template)]
#[template(path = "agency_credit.html")]
struct AgencyDesk {
    chrome: Chrome,
    agency_id: i64,
    grade: GradeView,
    services: Vec<ServiceRow>,
    banks: Vec<jiazheng_store::credit::reports::Bank>,
    report: ReportFormState,
    recorded: bool,
}

/// The report form as typed, with each error beside its field.
#[derive(Default)]
struct ReportFormState {
    bank_id: String,
    purpose: String,
    consent: bool,
    bank_error: Option<String>,
    purpose_error: Option<String>,
    consent_error: Option<String>,
}

impl AgencyDesk {
    fn service_label(&self, code: &str) -> &'static str {
        ServiceKind::label_of(code, self.chrome.is_en())
    }
}

#[derive(Deserialize)]
struct AgencyDeskQuery {
    /// A service was just recorded: say so.
    #[serde(default)]
    recorded: Option<String>,
}

async fn agency_desk(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(query): Query<AgencyDeskQuery>,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    let mut page = agency_desk_page(&state, lang, &viewer, agency, ReportFormState::default()).await?;
    page.recorded = query.recorded.is_some();
    render(&page)
}

async fn agency_desk_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    agency: i64,
    report: ReportFormState,
) -> Result<AgencyDesk, AppError> {
    let grade = crate::api::credit::agency_grade_of(state, agency).await?;
    Ok(AgencyDesk {
        chrome: Chrome::new(lang, viewer, "/agency/credit", lang.t("agency_credit.title")),
        agency_id: agency,
        grade: GradeView::new(grade, lang),
        services: state.store.services_of_agency(agency).await?,
        banks: state.store.banks().await?,
        report,
        recorded: false,
    })
}

#[derive(Deserialize)]
struct ServicePost {
    csrf: String,
    worker_id: String,
    resident: String,
    service: String,
    performed_on: String,
}

/// Recording a service for one of the agency's workers, picked from its list (never typed).
#[derive(Template)]
#[template(path = "service_form.html")]
struct ServiceFormPage {
    chrome: Chrome,
    worker_id: i64,
    worker_name: String,
    kinds: Vec<(&'static str, &'static str)>,
    resident: String,
    service: String,
    performed_on: String,
    resident_error: Option<String>,
    service_error: Option<String>,
    performed_on_error: Option<String>,
}

#[derive(Deserialize)]
struct ServiceFormQuery {
    worker: i64,
}

/// The worker, if the agency employs them (an active binding).
async fn own_worker(
    state: &AppState,
    agency: i64,
    worker: i64,
) -> Result<jiazheng_store::registry::workers::Worker, AppError> {
    if !state.store.employing_agencies(worker).await?.contains(&agency) {
        return Err(AppError::Forbidden);
    }
    Ok(state.store.worker(worker).await?)
}

async fn service_form_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    agency: i64,
    form: &ServicePost,
    worker_id: i64,
    errors: &jiazheng_core::FieldErrors,
) -> Result<ServiceFormPage, AppError> {
    let worker = own_worker(state, agency, worker_id).await?;
    let offered = jiazheng_core::registry::ServiceSet::from_bits(worker.services);
    let message = |field| super::field_message(errors, lang, field);
    Ok(ServiceFormPage {
        chrome: Chrome::new(lang, viewer, "/agency/workers", lang.t("agency_credit.record")),
        worker_id,
        worker_name: worker.name,
        kinds: ServiceKind::ALL
            .iter()
            .filter(|k| offered.contains(**k))
            .map(|k| (k.as_str(), k.label(lang.is_en())))
            .collect(),
        resident: form.resident.clone(),
        service: form.service.clone(),
        performed_on: form.performed_on.clone(),
        resident_error: message("resident"),
        service_error: message("service").or_else(|| message("worker_id")),
        performed_on_error: message("performed_on"),
    })
}

async fn service_form(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(query): Query<ServiceFormQuery>,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    let blank = ServicePost {
        csrf: String::new(),
        worker_id: query.worker.to_string(),
        resident: String::new(),
        service: String::new(),
        performed_on: today().to_string(),
    };
    let page = service_form_page(&state, lang, &viewer, agency, &blank, query.worker, &Default::default()).await?;
    render(&page)
}

async fn record_service(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(form): Form<ServicePost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let (session, agency) = viewer.require_agency()?;
    let worker_id = id_field(&form.worker_id, "worker_id")?;
    let draft = ServiceRecordForm {
        worker_id,
        resident: form.resident.clone(),
        service: form.service.clone(),
        performed_on: form.performed_on.clone(),
    }
    .parse(today());
    let outcome = match draft {
        Ok(draft) => {
            state.store.record_service(agency, &draft, session.principal.account_id).await.map_err(AppError::from)
        }
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to("/agency/credit?recorded=1#services").into_response()),
        // The form again, with what was typed and each error beside its field.
        Err(AppError::Invalid(errors)) => {
            let page = service_form_page(&state, lang, &viewer, agency, &form, worker_id, &errors).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(other) => Err(other),
    }
}

#[derive(Template)]
#[template(path = "regulator_credit.html")]
struct RegulatorDesk {
    chrome: Chrome,
    complaints: Vec<ComplaintRow>,
    queue: Vec<QueueLine>,
    queue_total: i64,
    pager: super::Pager,
    /// How the queue is narrowed, and the choices offered for it.
    view: QueueView,
    agency_filter_error: Option<String>,
    kinds: Vec<(&'static str, &'static str)>,
    /// The city's districts, for a city regulator; a district regulator sees only their own.
    districts: Vec<(String, String)>,
    /// After approving several at once: how many were approved, how many were already decided.
    approved: Option<(usize, usize)>,
    bulk_error: Option<String>,
    /// The regulator reading the desk: their own list proposals wait for someone else.
    me: i64,
    /// A decision refused: the entry, the reason typed and what was wrong, shown beside it.
    refused: Option<(i64, String, String)>,
    decided: Option<i64>,
    listings: Vec<ListingRow>,
    appeals: Vec<AppealRow>,
    today: String,
    /// A refused list proposal or reward/penalty: what was typed and what was wrong.
    listing_draft: Draft,
    action_draft: Draft,
}

/// A regulator's form refused: its values kept, each error beside its field.
#[derive(Default)]
struct Draft {
    values: std::collections::HashMap<String, String>,
    errors: jiazheng_core::FieldErrors,
}

impl Draft {
    fn new(values: &[(&str, &str)], errors: jiazheng_core::FieldErrors) -> Self {
        Self { values: values.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(), errors }
    }
}

impl RegulatorDesk {
    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        super::beijing_minutes(*at)
    }

    fn listing(&self, field: &str) -> String {
        self.listing_draft.values.get(field).cloned().unwrap_or_default()
    }

    fn listing_error(&self, field: &str) -> Option<String> {
        super::field_message(&self.listing_draft.errors, self.chrome.lang, field)
    }

    fn action(&self, field: &str) -> String {
        self.action_draft.values.get(field).cloned().unwrap_or_else(|| match field {
            "decided_on" => self.today.clone(),
            _ => String::new(),
        })
    }

    fn action_error(&self, field: &str) -> Option<String> {
        super::field_message(&self.action_draft.errors, self.chrome.lang, field)
    }

    fn status(&self, code: &str) -> String {
        ComplaintStatus::label_of(code, self.chrome.is_en()).to_string()
    }

    fn entry_kind(&self, code: &str) -> String {
        jiazheng_core::credit::EntryKind::label_of(code, self.chrome.is_en()).to_string()
    }

    fn list(&self, code: &str) -> String {
        CreditList::label_of(code, self.chrome.is_en()).to_string()
    }

    /// The actions a complaint in this status can take next.
    fn next_actions(&self, status: &str) -> Vec<(&'static str, &'static str)> {
        let Ok(from) = ComplaintStatus::parse(status) else { return Vec::new() };
        ComplaintAction::ALL
            .iter()
            .filter(|a| a.apply(from).is_ok())
            .map(|a| (a.as_str(), a.label(self.chrome.is_en())))
            .collect()
    }
}

/// An agency-entered record waiting for review, as the desk reads it.
struct QueueLine {
    seq: i64,
    worker_id: i64,
    worker_name: String,
    kind: String,
    words: String,
    entered_by: String,
    entered_at: String,
}

async fn regulator_desk(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let view = QueueView::from_pairs(&query);
    let mut page = regulator_desk_page(&state, lang, &viewer, &view, None).await?;
    let number = |key: &str| query.iter().find(|(k, _)| k == key).and_then(|(_, v)| v.parse::<usize>().ok());
    page.decided = number("decided").map(|n| n as i64);
    page.approved = number("approved").map(|n| (n, number("skipped").unwrap_or(0)));
    render(&page)
}

async fn regulator_desk_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    view: &QueueView,
    refused: Option<(i64, String, String)>,
) -> Result<RegulatorDesk, AppError> {
    let me = regulator(viewer)?;
    let area = me.area.as_deref();
    let open = |s| state.store.complaints(Some(s), None, area, PageRequest::new(None, Some(50)));
    let mut complaints = open(ComplaintStatus::Filed).await?.items;
    complaints.extend(open(ComplaintStatus::Acknowledged).await?.items);
    complaints.extend(open(ComplaintStatus::Investigating).await?.items);
    let (filter, agency_filter_error) = view.filter(state, area, lang).await;
    let queue = state.store.review_queue(&filter, PageRequest::new(view.page, Some(20))).await?;
    let districts = if area.is_none() {
        state.districts().await?.iter().map(|d| (d.code.clone(), d.name.clone())).collect()
    } else {
        Vec::new()
    };
    let sources = super::words::source_names(&state.store, queue.items.iter().map(|e| e.source.as_str()), lang).await;
    let lines = queue
        .items
        .iter()
        .map(|e| QueueLine {
            seq: e.seq,
            worker_id: e.worker_id,
            worker_name: e.worker_name.clone(),
            kind: jiazheng_core::credit::EntryKind::label_of(&e.kind, lang.is_en()).to_string(),
            words: super::words::entry_in_words(&e.kind, &e.payload, lang),
            entered_by: sources.get(&e.source).cloned().unwrap_or_default(),
            entered_at: super::beijing_time(&e.recorded_at),
        })
        .collect();
    Ok(RegulatorDesk {
        chrome: Chrome::new(lang, viewer, "/regulator/credit", lang.t("regulator_credit.title")),
        complaints,
        queue_total: queue.total,
        pager: super::Pager::new(&queue, "/regulator/credit", &view.query()),
        view: view.clone(),
        agency_filter_error,
        kinds: REVIEWED_KINDS.iter().map(|k| (k.as_str(), k.label(lang.is_en()))).collect(),
        districts,
        approved: None,
        bulk_error: None,
        me: me.account_id,
        refused,
        decided: None,
        queue: lines,
        listings: state.store.open_listings(area).await?,
        appeals: state.store.open_appeals(area).await?,
        today: today().to_string(),
        listing_draft: Draft::default(),
        action_draft: Draft::default(),
    })
}

impl RegulatorDesk {
    /// The reason typed for `seq` and the error beside it, when its decision was refused.
    fn refusal(&self, seq: &i64) -> Option<(&str, &str)> {
        self.refused.as_ref().filter(|(s, _, _)| s == seq).map(|(_, reason, error)| (reason.as_str(), error.as_str()))
    }
}

#[derive(Deserialize)]
struct DecisionPost {
    csrf: String,
    decision: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    false_entry: Option<String>,
    /// The queue page and view the decision was made on, to return to them.
    #[serde(default)]
    page: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    agency: String,
    #[serde(default)]
    district: String,
    #[serde(default)]
    age: String,
    #[serde(default)]
    sort: String,
}

impl DecisionPost {
    fn view(&self) -> QueueView {
        let pairs: Vec<(String, String)> = [
            ("page", &self.page),
            ("kind", &self.kind),
            ("agency", &self.agency),
            ("district", &self.district),
            ("age", &self.age),
            ("sort", &self.sort),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
        QueueView::from_pairs(&pairs)
    }

    fn form(&self) -> DecisionForm {
        DecisionForm {
            decision: self.decision.clone(),
            reason: self.reason.clone(),
            false_entry: self.false_entry.is_some(),
        }
    }
}

/// At most this many entries approved by one press.
const MAX_APPROVED_AT_ONCE: usize = 100;

/// Approves the entries ticked on the queue page, each on its own: one decided meanwhile by
/// another regulator is counted as skipped, and the rest still go through.
async fn approve_selected(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let csrf = fields.iter().find(|(k, _)| k == "csrf").map(|(_, v)| v.as_str());
    viewer.check_csrf(csrf)?;
    let me = regulator(&viewer)?;
    let view = QueueView::from_pairs(&fields);
    let selected: Vec<i64> = fields.iter().filter(|(k, _)| k == "seq").filter_map(|(_, v)| v.parse().ok()).collect();
    if selected.is_empty() || selected.len() > MAX_APPROVED_AT_ONCE {
        let mut page = regulator_desk_page(&state, lang, &viewer, &view, None).await?;
        page.bulk_error = Some(
            lang.pick(
                &format!("请勾选 1 到 {MAX_APPROVED_AT_ONCE} 条记录后再批准"),
                &format!("tick between 1 and {MAX_APPROVED_AT_ONCE} records, then approve"),
            )
            .to_string(),
        );
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    }
    let (mut approved, mut skipped) = (0, 0);
    for seq in selected {
        match state.store.review_entry(seq, ReviewDecision::Approved, "", false, &me).await {
            Ok(_) => approved += 1,
            Err(
                jiazheng_store::StoreError::Conflict { .. }
                | jiazheng_store::StoreError::Stale
                | jiazheng_store::StoreError::Invalid(_)
                | jiazheng_store::StoreError::NotFound
                | jiazheng_store::StoreError::Refused(_),
            ) => skipped += 1,
            Err(other) => return Err(other.into()),
        }
    }
    let extra = format!("approved={approved}&skipped={skipped}");
    Ok(Redirect::to(&view.link(Some(view.page.unwrap_or(1)), &extra)).into_response())
}

fn back() -> Response {
    Redirect::to("/regulator/credit").into_response()
}

async fn act_on_complaint(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<DecisionPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let me = regulator(&viewer)?;
    let (action, reason) = form.form().parse::<ComplaintAction>().map_err(AppError::Invalid)?;
    state.store.act_on_complaint(id, action, &reason, &me).await?;
    Ok(back())
}

async fn review_entry(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(seq): Path<i64>,
    Form(form): Form<DecisionPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let me = regulator(&viewer)?;
    let view = form.view();
    let decision = form.form();
    let outcome = match decision.parse::<ReviewDecision>() {
        Ok((verdict, reason)) => {
            state.store.review_entry(seq, verdict, &reason, decision.false_entry, &me).await.map_err(AppError::from)
        }
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&view.link(Some(view.page.unwrap_or(1)), &format!("decided={seq}"))).into_response()),
        // The same queue page again, the reason kept and the error beside the entry it is about
        // (its field focused, so the page opens there).
        Err(AppError::Invalid(errors)) => {
            let error =
                errors.0.first().map(|e| lang.pick(&e.message_zh, &e.message_en).to_string()).unwrap_or_default();
            let refused = Some((seq, form.reason.clone(), error));
            let page = regulator_desk_page(&state, lang, &viewer, &view, refused).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(other) => Err(other),
    }
}

#[derive(Deserialize)]
struct ListingPost {
    csrf: String,
    #[serde(default)]
    subject_kind: String,
    /// A name, a credit code or a certificate number, as the regulator knows them.
    #[serde(default)]
    subject: String,
    #[serde(default)]
    list: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    document: String,
}

async fn propose_listing(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(form): Form<ListingPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let me = regulator(&viewer)?;
    let outcome = async {
        let subject = super::subjects::named(&state, &form.subject_kind, &form.subject, me.area.as_deref()).await;
        let proposal = ListProposalForm {
            subject_kind: form.subject_kind.clone(),
            subject_id: subject.as_ref().copied().unwrap_or_default(),
            list: form.list.clone(),
            reason: form.reason.clone(),
            document: form.document.clone(),
        }
        .parse();
        let proposal = every_error(subject, proposal)?;
        state.store.propose_listing(&proposal, &me).await?;
        Ok::<_, AppError>(())
    }
    .await;
    let values = [
        ("subject_kind", form.subject_kind.as_str()),
        ("subject", form.subject.as_str()),
        ("list", form.list.as_str()),
        ("reason", form.reason.as_str()),
        ("document", form.document.as_str()),
    ];
    after_desk_form(&state, lang, &viewer, outcome, DeskForm::Listing, &values).await
}

enum DeskForm {
    Listing,
    Action,
}

/// Back to the desk, or the desk again with the refused form's values and errors.
async fn after_desk_form(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    outcome: Result<(), AppError>,
    form: DeskForm,
    values: &[(&str, &str)],
) -> Result<Response, AppError> {
    match outcome {
        Ok(()) => Ok(back()),
        Err(AppError::Invalid(errors)) => {
            let mut page = regulator_desk_page(state, lang, viewer, &QueueView::default(), None).await?;
            let draft = Draft::new(values, subject_errors(errors));
            match form {
                DeskForm::Listing => page.listing_draft = draft,
                DeskForm::Action => page.action_draft = draft,
            }
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(other) => Err(other),
    }
}

async fn review_listing(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<DecisionPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let me = regulator(&viewer)?;
    let (decision, note) = form.form().parse::<ListingReview>().map_err(AppError::Invalid)?;
    state.store.review_listing(id, decision == ListingReview::Approve, &note, &me).await?;
    Ok(back())
}

async fn decide_appeal(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<DecisionPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let me = regulator(&viewer)?;
    let (outcome, reason) = form.form().parse::<AppealOutcome>().map_err(AppError::Invalid)?;
    state.store.decide_appeal(id, outcome, &reason, &me).await?;
    Ok(back())
}

#[derive(Deserialize)]
struct ActionPost {
    csrf: String,
    #[serde(default)]
    subject_kind: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    decided_on: String,
    #[serde(default)]
    authority: String,
    #[serde(default)]
    document: String,
    #[serde(default)]
    reason: String,
}

async fn record_action(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(form): Form<ActionPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let me = regulator(&viewer)?;
    let outcome = async {
        let subject = super::subjects::named(&state, &form.subject_kind, &form.subject, me.area.as_deref()).await;
        let action = ActionForm {
            subject_kind: form.subject_kind.clone(),
            subject_id: subject.as_ref().copied().unwrap_or_default(),
            kind: form.kind.clone(),
            decided_on: form.decided_on.clone(),
            authority: form.authority.clone(),
            document: form.document.clone(),
            reason: form.reason.clone(),
        }
        .parse(today());
        let action = every_error(subject, action)?;
        state.store.record_action(&action, &me).await?;
        Ok::<_, AppError>(())
    }
    .await;
    let values = [
        ("subject_kind", form.subject_kind.as_str()),
        ("subject", form.subject.as_str()),
        ("kind", form.kind.as_str()),
        ("decided_on", form.decided_on.as_str()),
        ("authority", form.authority.as_str()),
        ("document", form.document.as_str()),
        ("reason", form.reason.as_str()),
    ];
    after_desk_form(&state, lang, &viewer, outcome, DeskForm::Action, &values).await
}

/// The parsed form when the subject was found too; otherwise every error at once, the subject's
/// beside the rest, so one submit shows all that is missing.
fn every_error<T>(
    subject: Result<i64, AppError>,
    parsed: Result<T, jiazheng_core::FieldErrors>,
) -> Result<T, AppError> {
    match (subject, parsed) {
        (Ok(_), Ok(value)) => Ok(value),
        (Err(AppError::Invalid(mut errors)), Err(more)) => {
            errors.0.extend(more.0);
            Err(AppError::Invalid(errors))
        }
        (Err(e), _) => Err(e),
        (Ok(_), Err(errors)) => Err(AppError::Invalid(errors)),
    }
}

/// Errors the store gives about the subject's number belong beside the subject the regulator typed.
fn subject_errors(mut errors: jiazheng_core::FieldErrors) -> jiazheng_core::FieldErrors {
    for error in &mut errors.0 {
        if error.field == "subject_id" {
            error.field = "subject".into();
        }
    }
    errors
}

#[derive(Deserialize)]
struct ReportPost {
    csrf: String,
    #[serde(default)]
    bank_id: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    consent: Option<String>,
}

async fn credit_report(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Form(form): Form<ReportPost>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let (session, agency) = viewer.require_agency()?;
    let request = crate::report::ReportRequest {
        bank_id: form.bank_id.parse().ok(),
        purpose: form.purpose.clone(),
        consent: form.consent.is_some(),
    };
    match crate::report::release(&state, agency, session.principal.account_id, &session.display_name, &request).await {
        Ok((released, pdf)) => Ok(crate::api::casework::pdf_response(released.id, pdf)),
        // The desk again, with what was typed and each error beside its field.
        Err(AppError::Invalid(errors)) => {
            let message = |field| super::field_message(&errors, lang, field);
            let report = ReportFormState {
                bank_id: form.bank_id,
                purpose: form.purpose,
                consent: form.consent.is_some(),
                bank_error: message("bank_id"),
                purpose_error: message("purpose"),
                consent_error: message("consent"),
            };
            let page = agency_desk_page(&state, lang, &viewer, agency, report).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(other) => Err(other),
    }
}
