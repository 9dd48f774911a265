//! The certificate check a resident opens at the door: from the QR code (`/v/{token}`) or a
//! typed number. It shows only the card's fields and today's colour, and says so when today's
//! status differs from what the card claims. A bad code gets a clear "not valid" page.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Redirect;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum_extra::extract::Form;
use jiazheng_core::credit::token::TokenError;

use super::{Chrome, render, service_labels};
use crate::api::credit::check_token;
use crate::api::workers::today;
use crate::auth::Viewer;
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v/{token}", get(by_token))
        .route("/certificates/check", get(by_number))
        .route("/certificates/{number}/record", get(record_page))
        .route("/certificates/{number}/consent", post(ask_consent))
        .route("/certificates/{number}/consent-code", post(use_code))
        .route("/agency/workers/{id}/card", post(print_card).get(agency_card))
        .route("/me/card", get(my_card))
        .route("/me/card.pdf", get(my_card_pdf))
        .route("/agency/workers/{id}/card.pdf", get(agency_card_pdf))
}

/// What the page offers a visitor about the full record.
struct ConsentBlock {
    number: String,
    back: String,
    /// Signing in from here comes back here.
    login: String,
    signed_in: bool,
    until: Option<String>,
    message: Option<String>,
}

async fn consent_block(
    state: &AppState,
    viewer: &Viewer,
    number: &str,
    worker_id: i64,
    back: &str,
) -> Result<ConsentBlock, AppError> {
    let until = match &viewer.session {
        Some(session) => state.store.consent_until(worker_id, session.principal.account_id).await?,
        None => None,
    };
    Ok(ConsentBlock {
        number: number.to_string(),
        back: back.to_string(),
        login: format!("/login?next={}", super::encode(back)),
        signed_in: viewer.session.is_some(),
        until: until.map(super::beijing_minutes),
        message: None,
    })
}

#[derive(Template)]
#[template(path = "certificate_check.html")]
struct CheckPage {
    chrome: Chrome,
    verdict: String,
    genuine: bool,
    card: Option<Card>,
    live: Option<Live>,
    differs: Option<String>,
    number: String,
    consent: Option<ConsentBlock>,
    /// With a genuine card's token only: the face printed on the card.
    photo: Option<String>,
}

impl CheckPage {
    /// The page for a typed number: no card to compare, only today's status.
    fn by_number(
        lang: Lang,
        viewer: &Viewer,
        verdict: String,
        live: Option<&jiazheng_store::credit::certificates::LiveStatus>,
        number: String,
        consent: Option<ConsentBlock>,
    ) -> Self {
        Self {
            chrome: Chrome::new(lang, viewer, "/certificates/check", lang.t("cert.title")),
            genuine: live.is_some(),
            live: live.map(|l| live_view(l, lang)),
            verdict,
            card: None,
            differs: None,
            number,
            consent,
            photo: None,
        }
    }
}

struct Card {
    number: String,
    name: String,
    colour: String,
    colour_label: String,
    valid_until: String,
}

struct Live {
    worker_id: i64,
    colour: String,
    colour_label: String,
    agencies: String,
    services: String,
    not_ready: String,
    certificates: String,
    note: Option<String>,
}

/// The skill certificates a worker holds, as the door names them: "家务服务员 四级/中级、育婴员证书".
fn held_certificates(certificates: &[jiazheng_core::workforce::compliance::CertificateFact], lang: Lang) -> String {
    let en = lang.is_en();
    let names: Vec<String> = certificates
        .iter()
        .map(|c| match (c.trade, c.level) {
            (Some(trade), Some(level)) => format!("{} {}", trade.label(en), level.label(en)),
            _ => c.kind.label(en).to_string(),
        })
        .collect();
    if names.is_empty() { lang.t("cert.no_certificate") } else { names.join(if en { ", " } else { "、" }) }
}

fn live_view(live: &jiazheng_store::credit::certificates::LiveStatus, lang: Lang) -> Live {
    let note = if live.revoked {
        Some(lang.t("cert.revoked"))
    } else if live.expired {
        Some(lang.t("cert.expired"))
    } else {
        None
    };
    Live {
        worker_id: live.worker_id,
        colour: live.status.as_str().into(),
        colour_label: live.status.label(lang.is_en()).into(),
        agencies: live.agencies.join("、"),
        services: service_labels(lang, live.ready_services),
        not_ready: service_labels(lang, live.other_services),
        certificates: held_certificates(&live.certificates, lang),
        note,
    }
}

async fn by_token(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    // Trimmed as the check trims it, and the page (its links) is built from the trimmed token:
    // padding cannot make copies of a page, nor put what it pads with into everyone's links.
    let token = token.trim();
    if viewer.session.is_none() {
        // An anonymous visitor's page is the same for everyone who scans this card today.
        let page = crate::reads::current(&state, door_key(token, lang), async {
            let (status, html) = door_page(&state, lang, &viewer, token).await?;
            Ok(crate::reads::html(status, html))
        })
        .await?;
        return Ok(page.into_response());
    }
    let (status, html) = door_page(&state, lang, &viewer, token).await?;
    Ok((status, axum::response::Html(html)).into_response())
}

fn door_key(token: &str, lang: Lang) -> String {
    format!("door|{token}|{}|{}", lang.code(), crate::api::workers::today())
}

/// The door page for a token.
async fn door_page(
    state: &AppState,
    lang: Lang,
    viewer: &Viewer,
    token: &str,
) -> Result<(StatusCode, String), AppError> {
    let (result, claims, live) = check_token(state, token).await?;
    let error = TokenError::from_code(&result.verdict);
    let en = lang.is_en();
    let card = claims.as_ref().map(|c| Card {
        number: c.number.clone(),
        name: c.name_masked.clone(),
        colour: c.status.as_str().into(),
        colour_label: c.status.label(en).into(),
        valid_until: c.valid_until.to_string(),
    });
    let differs = match (&claims, &live) {
        (Some(_), None) => Some(lang.t("cert.unknown_number")),
        (Some(c), Some(l)) if result.differs => {
            Some(format!("{} {} → {}", lang.t("cert.differs"), c.status.label(en), l.status.label(en)))
        }
        _ => None,
    };
    let status = if error.is_some() { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let consent = match &live {
        Some(l) => Some(consent_block(state, viewer, &l.number, l.worker_id, &format!("/v/{token}")).await?),
        None => None,
    };
    let photo = match (&claims, &live) {
        (Some(_), Some(l)) if error.is_none() && super::photos::shows_face(l) => {
            l.photo.as_ref().map(|d| format!("/v/{token}/photo.jpg?v={}", &d[..12]))
        }
        _ => None,
    };
    let page = CheckPage {
        photo,
        consent,
        chrome: Chrome::new(lang, viewer, &format!("/v/{token}"), lang.t("cert.title")),
        // A genuine card that was revoked or ran out is not good news: the banner says so.
        verdict: match (&live, error) {
            (Some(l), None) if l.revoked => lang.t("cert.verdict_revoked"),
            (Some(l), None) if l.expired => lang.t("cert.verdict_expired"),
            _ => crate::api::credit::verdict_words(error, en).into(),
        },
        genuine: error.is_none() && live.as_ref().is_some_and(|l| !l.revoked && !l.expired),
        live: live.as_ref().map(|l| live_view(l, lang)),
        number: card.as_ref().map(|c| c.number.clone()).unwrap_or_default(),
        card,
        differs,
    };
    let html = page.render().map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((status, html))
}

#[derive(serde::Deserialize)]
struct NumberQuery {
    number: Option<String>,
}

/// A typed certificate number: today's status only (a number proves nothing about the card).
async fn by_number(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<NumberQuery>,
) -> Result<Response, AppError> {
    let typed = q.number.unwrap_or_default();
    // A card's code pasted into the box (alone or as the link the code holds) is checked as a
    // scan would be: that proves the card, which a number cannot.
    if let Some(token) = jiazheng_core::credit::token::in_pasted(&typed) {
        return Ok(axum::response::Redirect::to(&format!("/v/{token}")).into_response());
    }
    let number = typed.trim().to_uppercase();
    let live = if number.is_empty() {
        None
    } else {
        match state.live_status(&number).await {
            Ok(live) => Some(live),
            Err(AppError::NotFound) => None,
            Err(other) => return Err(other),
        }
    };
    let verdict = match (&live, number.is_empty()) {
        (_, true) => String::new(),
        (Some(_), _) => lang.t("cert.found"),
        (None, _) => lang.t("cert.unknown_number"),
    };
    let status = if live.is_none() && !number.is_empty() { StatusCode::NOT_FOUND } else { StatusCode::OK };
    let consent = match &live {
        Some(l) => Some(
            consent_block(&state, &viewer, &l.number, l.worker_id, &format!("/certificates/check?number={}", l.number))
                .await?,
        ),
        None => None,
    };
    let page = CheckPage::by_number(lang, &viewer, verdict, live.as_deref(), number, consent);
    Ok((status, render(&page)?).into_response())
}

#[derive(serde::Deserialize)]
struct ConsentForm {
    csrf: String,
    back: String,
    #[serde(default)]
    code: String,
}

fn safe_back(back: &str) -> &str {
    super::return_path(back).unwrap_or("/")
}

async fn ask_consent(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(number): Path<String>,
    Form(form): Form<ConsentForm>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let session = viewer.require()?;
    let cert = state.store.certificate(&number).await?;
    match state.store.request_consent(cert.worker_id, session.principal.account_id).await {
        Ok(_) | Err(jiazheng_store::StoreError::Conflict { .. }) => {}
        Err(other) => return Err(other.into()),
    }
    Ok(Redirect::to(&format!("{}#consent", safe_back(&form.back))).into_response())
}

async fn use_code(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(number): Path<String>,
    address: crate::limits::ClientAddr,
    Form(form): Form<ConsentForm>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let session = viewer.require()?;
    let cert = state.store.certificate(&number).await?;
    let account = session.principal.account_id;
    match crate::limits::claim_consent_code(&state, account, address.0, cert.worker_id, &form.code).await {
        Ok(()) => Ok(Redirect::to(&format!("/certificates/{number}/record")).into_response()),
        Err(AppError::Invalid(errors)) => {
            let message = super::field_message(&errors, lang, "code");
            let live = state.live_status(&number).await?;
            let mut consent = consent_block(&state, &viewer, &number, cert.worker_id, safe_back(&form.back)).await?;
            consent.message = message;
            let page = CheckPage::by_number(lang, &viewer, lang.t("cert.found"), Some(&live), number, Some(consent));
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(other) => Err(other),
    }
}

#[derive(Template)]
#[template(path = "full_record.html")]
struct RecordPage {
    chrome: Chrome,
    record: crate::api::credit::FullRecord,
    cells: Vec<super::workforce::CheckCell>,
    until: Option<String>,
}

async fn record_page(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Path(number): Path<String>,
) -> Result<Response, AppError> {
    let cert = state.store.certificate(&number).await?;
    let until = crate::api::credit::record_access(&state, &viewer, cert.worker_id).await?;
    let (record, _) = crate::api::credit::full_record(&state, &number).await?;
    let compliance =
        jiazheng_core::workforce::compliance::Compliance { compliant: false, checks: record.checks.clone() };
    render(&RecordPage {
        chrome: Chrome::new(lang, &viewer, "/certificates/check", lang.t("cert.full_record")),
        cells: super::workforce::check_cells(&compliance, lang),
        until: until.map(super::beijing_minutes),
        record,
    })
}

#[derive(Template)]
#[template(path = "card.html")]
struct CardPage {
    chrome: Chrome,
    name: String,
    number: String,
    agencies: String,
    services: String,
    skill: String,
    valid_until: String,
    colour: jiazheng_core::credit::certificate::Colour,
    colour_label: String,
    link: String,
    qr_svg: String,
    /// The same card as a PDF at ID-1 size.
    pdf_link: String,
    photo_src: Option<String>,
    photo_digest: Option<String>,
}

impl CardPage {
    /// The card at ID-1 size (85.6 × 54 mm) as a PDF, every field on one line.
    fn pdf(&self, photo: Option<Vec<u8>>) -> Result<Vec<u8>, AppError> {
        let font = crate::pdf::Font::cjk().map_err(|e| AppError::Internal(e.to_string()))?;
        let t = |key: &str| self.chrome.t(key);
        let code = qrcode::QrCode::new(self.link.as_bytes()).map_err(|e| AppError::Internal(e.to_string()))?;
        use jiazheng_core::credit::certificate::Colour;
        let colour = match self.colour {
            Colour::Green => (46, 125, 50),
            Colour::Yellow => (249, 200, 70),
            Colour::Red => (198, 40, 40),
        };
        let card = crate::pdf::CardContent {
            title: t("card.title"),
            platform: t("app.name"),
            lines: vec![
                (t("worker.name"), self.name.clone()),
                (t("cert.agency"), self.agencies.clone()),
                (t("worker.services"), self.services.clone()),
                (t("cert.certificates"), self.skill.clone()),
                (t("cert.number"), self.number.clone()),
                (t("record.validity"), self.valid_until.clone()),
                (t("cert.colour"), self.colour_label.clone()),
            ],
            colour,
            photo_label: t("card.photo"),
            photo,
            footer: t("card.scan"),
            qr: code.to_colors().iter().map(|c| *c == qrcode::Color::Dark).collect(),
            qr_width: code.width(),
        };
        crate::pdf::render_card(font, &card).map_err(|e| AppError::Internal(e.to_string()))
    }
}

fn pdf_response(bytes: Vec<u8>, name: &str) -> Response {
    use axum::http::header;
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response()
}

/// The QR code of `text` as inline SVG (no XML prologue), dark on light.
pub fn qr_svg(text: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| AppError::Internal(e.to_string()))?;
    let svg = code.render::<qrcode::render::svg::Color>().min_dimensions(220, 220).build();
    Ok(svg.split_once("?>").map_or(svg.clone(), |(_, rest)| rest.to_string()))
}

/// Issues (or re-issues) a worker's certificate, then shows the printable card at its own
/// address (so a refresh shows the card again rather than issuing another).
async fn print_card(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<i64>,
    Form(form): Form<super::CsrfForm>,
) -> Result<Response, AppError> {
    viewer.check_csrf(Some(&form.csrf))?;
    let by = crate::api::workforce::writing_agency(&state, &viewer, id).await?;
    let source = format!("agency:{}", by.source_id.unwrap_or_default());
    state.store.issue_certificate(id, source, by.account_id, today()).await?;
    Ok(Redirect::to(&format!("/agency/workers/{id}/card")).into_response())
}

/// The employing agency's view of a worker's current card, to print or check again.
async fn agency_card(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    crate::api::workforce::writing_agency(&state, &viewer, id).await?;
    let (number, token) = state.store.current_card(id).await?.ok_or(AppError::NotFound)?;
    let chrome = Chrome::new(lang, &viewer, "/agency/workers", lang.t("card.title"));
    let mut card = card_page(&state, chrome, &headers, id, &number, &token, None).await?;
    card.pdf_link = format!("/agency/workers/{id}/card.pdf");
    render(&card)
}

/// The employing agency's copy of a worker's current card as a PDF.
async fn agency_card_pdf(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (_, agency) = viewer.require_agency()?;
    if !state.store.employing_agencies(id).await?.contains(&agency) {
        return Err(AppError::Forbidden);
    }
    let chrome = Chrome::new(lang, &viewer, "/agency/workers", lang.t("card.title"));
    current_card_pdf(&state, chrome, &headers, id).await
}

/// The worker's current card as a PDF (laid out off the async workers).
async fn current_card_pdf(
    state: &AppState,
    chrome: Chrome,
    headers: &axum::http::HeaderMap,
    id: i64,
) -> Result<Response, AppError> {
    let (number, token) = state.store.current_card(id).await?.ok_or(AppError::NotFound)?;
    let card = card_page(state, chrome, headers, id, &number, &token, None).await?;
    let photo = card.photo_digest.as_deref().and_then(|d| state.photos.load(d));
    let (pdf, number) = tokio::task::spawn_blocking(move || card.pdf(photo).map(|pdf| (pdf, card.number)))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
    Ok(pdf_response(pdf, &format!("{number}.pdf")))
}

/// The worker's own current card as a PDF.
async fn my_card_pdf(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let id = super::me::own_worker(&viewer)?;
    let chrome = Chrome::new(lang, &viewer, "/me", lang.t("card.title"));
    current_card_pdf(&state, chrome, &headers, id).await
}

/// A card as printed and as its worker shows it: the services met at printing, the
/// certificates held, the colour it claims (`None`: today's) and the QR code of its door page.
async fn card_page(
    state: &AppState,
    chrome: Chrome,
    headers: &axum::http::HeaderMap,
    worker_id: i64,
    number: &str,
    token: &str,
    colour: Option<jiazheng_core::credit::certificate::Colour>,
) -> Result<CardPage, AppError> {
    let lang = chrome.lang;
    let worker = state.store.worker(worker_id).await?;
    let live = state.live_status(number).await?;
    let colour = colour.unwrap_or(live.status);
    let link = format!("{}/v/{token}", super::origin(state, headers));
    Ok(CardPage {
        chrome,
        name: worker.name,
        number: number.to_string(),
        agencies: live.agencies.join("、"),
        services: service_labels(lang, live.ready_services),
        skill: held_certificates(&live.certificates, lang),
        valid_until: live.valid_until.to_string(),
        colour,
        colour_label: colour.label(lang.is_en()).into(),
        qr_svg: qr_svg(&link)?,
        link,
        pdf_link: "/me/card.pdf".into(),
        photo_src: live.photo.as_ref().map(|d| format!("/workers/{worker_id}/photo.jpg?v={}", &d[..12])),
        photo_digest: live.photo.clone(),
    })
}

/// The worker's own current card with its QR code, to show at a door or print again.
async fn my_card(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    headers: axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let id = super::me::own_worker(&viewer)?;
    let (number, token) = state.store.current_card(id).await?.ok_or(AppError::NotFound)?;
    let chrome = Chrome::new(lang, &viewer, "/me", lang.t("card.title"));
    render(&card_page(&state, chrome, &headers, id, &number, &token, None).await?)
}
