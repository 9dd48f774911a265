//! Community staff's home: their area's coverage, the service points and agencies there, the
//! workers who live there, its surveys and subsidised residents; and the supply menus (what
//! each agency sells in each community), for staff and regulators.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use chrono::Datelike;
use jiazheng_core::account::Role;
use jiazheng_core::calendar::beijing_today;
use jiazheng_core::division::DivisionCode;
use jiazheng_core::market::catalog::{CatalogItem, PriceMode};
use jiazheng_core::market::payment::yuan;
use jiazheng_store::PageRequest;
use jiazheng_store::community::AreaFacts;
use jiazheng_store::community::coverage::{PointPin, area_prefix};
use jiazheng_store::community::surveys::Survey;
use serde::Deserialize;

use super::coverage::Figure;
use super::{Chrome, Pager, render};
use crate::auth::Viewer;
use crate::community::{staff_area, watched_area};
use crate::i18n::Lang;
use crate::{AppError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/community", get(home)).route("/community/supply", get(supply))
}

#[derive(Template)]
#[template(path = "community_desk.html")]
struct HomePage {
    chrome: Chrome,
    area_code: String,
    area_name: String,
    is_district: bool,
    communities: Figure,
    all_units: Figure,
    points: Vec<PointPin>,
    agencies: Vec<(String, usize)>,
    facts: AreaFacts,
    surveys: Vec<Survey>,
}

async fn home(State(state): State<AppState>, lang: Lang, viewer: Viewer) -> Result<Response, AppError> {
    let session = viewer.require_role(&[Role::CommunityStaff])?;
    let area = staff_area(&session.principal)?;
    let coverage = state.coverage().await?;
    let tally = coverage.tally(Some(&area));
    let prefix = area_prefix(&area);
    let points: Vec<PointPin> =
        coverage.points.iter().filter(|p| p.community_code.starts_with(prefix)).cloned().collect();
    let mut agencies: BTreeMap<String, usize> = BTreeMap::new();
    for p in &points {
        *agencies.entry(p.agency_name.clone()).or_default() += 1;
    }
    let page = HomePage {
        chrome: Chrome::new(lang, &viewer, "/community", lang.pick("社区工作台", "Community desk").into()),
        area_name: state.store.division(area.as_str()).await?.name,
        is_district: area.level() == jiazheng_core::division::DivisionLevel::District,
        communities: tally.communities.into(),
        all_units: tally.all_units.into(),
        agencies: agencies.into_iter().collect(),
        points,
        facts: state.store.area_facts(&area, beijing_today().year()).await?,
        surveys: state.store.surveys(Some(&area), PageRequest::new(Some(1), Some(5))).await?.items,
        area_code: area.as_str().to_string(),
    };
    render(&page)
}

/// One agency's offers in one community, as a line of the supply menu.
struct AgencyOffers {
    agency_id: i64,
    agency_name: String,
    offers: Vec<String>,
}

struct CommunitySupply {
    code: String,
    name: String,
    agencies: Vec<AgencyOffers>,
}

#[derive(Template)]
#[template(path = "community_supply.html")]
struct SupplyPage {
    chrome: Chrome,
    area_name: String,
    rows: Vec<CommunitySupply>,
    pager: Pager,
    truncated: bool,
}

#[derive(Deserialize, Default)]
struct SupplyQuery {
    page: Option<u32>,
}

const COMMUNITIES_PER_PAGE: usize = 20;

fn offer_words(item: &str, mode: &str, price_fen: i64, amount: i64, lang: Lang) -> String {
    let en = lang.is_en();
    let label = CatalogItem::label_of(item, en);
    let unit = match PriceMode::parse(mode) {
        Ok(PriceMode::PerHour) => lang.pick("/小时", "/h").to_string(),
        Ok(PriceMode::Package) => lang.pick(&format!("/{amount}天"), &format!("/{amount} days")).to_string(),
        _ => lang.pick("/次", "/visit").to_string(),
    };
    format!("{label} {}{unit}", yuan(price_fen))
}

async fn supply(
    State(state): State<AppState>,
    lang: Lang,
    viewer: Viewer,
    Query(q): Query<SupplyQuery>,
) -> Result<Response, AppError> {
    let session = viewer.require_role(&[Role::CommunityStaff, Role::Regulator])?;
    // A city-wide regulator reads one district at a time: the first, until one is picked.
    let area = match watched_area(&session.principal)? {
        Some(area) => area,
        None => {
            let first = state.districts().await?.first().map(|d| d.code.clone()).ok_or(AppError::NotFound)?;
            DivisionCode::parse(&first).map_err(|_| AppError::NotFound)?
        }
    };
    let offers = state.store.supply_in(&area).await?;
    let truncated = offers.len() >= 20_000;
    let mut by_community: Vec<CommunitySupply> = Vec::new();
    for o in offers {
        if by_community.last().is_none_or(|c| c.code != o.community_code) {
            by_community.push(CommunitySupply {
                code: o.community_code.clone(),
                name: o.community_name.clone(),
                agencies: Vec::new(),
            });
        }
        let community = by_community.last_mut().expect("pushed above");
        if community.agencies.last().is_none_or(|a| a.agency_id != o.agency_id) {
            community.agencies.push(AgencyOffers {
                agency_id: o.agency_id,
                agency_name: o.agency_name.clone(),
                offers: Vec::new(),
            });
        }
        let agency = community.agencies.last_mut().expect("pushed above");
        agency.offers.push(offer_words(&o.item, &o.mode, o.price_fen, o.amount, lang));
    }
    let request = PageRequest::new(q.page, Some(COMMUNITIES_PER_PAGE as u32));
    let total = by_community.len() as i64;
    let rows: Vec<CommunitySupply> =
        by_community.into_iter().skip(request.offset() as usize).take(COMMUNITIES_PER_PAGE).collect();
    let listed = request.wrap(Vec::<()>::new(), total);
    let page = SupplyPage {
        chrome: Chrome::new(lang, &viewer, "/community/supply", lang.pick("供给清单", "Supply menus").into()),
        area_name: state.store.division(area.as_str()).await?.name,
        pager: Pager::new(&listed, "/community/supply", ""),
        rows,
        truncated,
    };
    render(&page)
}
