//! Supply menus: what each agency offers in each community, from its published menu and the
//! communities its open points serve; and the gap between that and a survey's demand.

use std::collections::{BTreeMap, HashMap};

use jiazheng_core::community::gap::{Cell, GapKind};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::market::catalog::{CatalogItem, PriceMode};
use serde::Serialize;

use super::coverage::area_prefix;
use super::surveys::Survey;
use crate::{Result, Store, on_pool};

row! {
    /// One item an agency sells in one community.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct SupplyOffer {
        pub community_code: String,
        pub community_name: String,
        pub agency_id: i64,
        pub agency_name: String,
        pub item: String,
        pub mode: String,
        pub price_fen: i64,
        pub amount: i64,
        pub level: String,
    }
}

/// One service in one community where there is demand or supply.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GapRow {
    pub community_code: String,
    pub community_name: String,
    pub item: CatalogItem,
    pub households: u32,
    pub agencies: u32,
    pub accepted_per_hour_fen: Option<i64>,
    pub cheapest_per_hour_fen: Option<i64>,
    pub kind: GapKind,
}

/// The most offers one list holds: a district's communities times its agencies' menus.
const MAX_OFFERS: i64 = 20_000;

impl Store {
    /// Every item offered in the communities of `area`, by community then agency.
    pub async fn supply_in(&self, area: &DivisionCode) -> Result<Vec<SupplyOffer>> {
        let prefix = format!("{}%", area_prefix(area));
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT DISTINCT spc.community_code, c.name AS community_name, a.id AS agency_id, a.name AS agency_name,
                    m.item, m.mode, m.price_fen, m.amount, m.level
             FROM service_point_communities spc
             JOIN service_points sp ON sp.id = spc.point_id
             JOIN agencies a ON a.id = sp.agency_id
             JOIN menu_items m ON m.agency_id = a.id
             JOIN divisions c ON c.code = spc.community_code
             WHERE spc.status = 'approved' AND sp.status = 'active' AND a.status = 'active' AND m.withdrawn_at IS NULL
               AND spc.community_code LIKE $1
             ORDER BY spc.community_code, a.name, a.id, m.item, m.mode, m.level LIMIT $2",
        ).bind(prefix).bind(MAX_OFFERS).fetch_all(p).await?))
    }

    /// Demand against supply for every service in every community of the survey's area that has
    /// either, demand without supply first.
    pub async fn survey_gap(&self, survey: &Survey) -> Result<Vec<GapRow>> {
        let Some(area) = survey.area() else { return Ok(Vec::new()) };
        let demand = self.survey_demand(survey.id).await?;
        let offers = self.supply_in(&area).await?;
        let names = self.community_names(&area).await?;

        let mut cells: BTreeMap<(String, usize), Cell> = BTreeMap::new();
        let position = |item: CatalogItem| CatalogItem::ALL.iter().position(|x| *x == item).unwrap_or(0);
        for row in &demand {
            for (i, item) in CatalogItem::ALL.iter().enumerate() {
                let households = row.demand.wanting(*item);
                if households > 0 {
                    let cell = cells.entry((row.community_code.clone(), i)).or_default();
                    cell.households = u32::try_from(households).unwrap_or(u32::MAX);
                    cell.accepted_per_hour_fen = row.demand.average_price_fen().map(|(_, max)| max);
                }
            }
        }
        let mut agencies: HashMap<(String, usize), Vec<i64>> = HashMap::new();
        for offer in &offers {
            let Ok(item) = CatalogItem::parse(&offer.item) else { continue };
            let key = (offer.community_code.clone(), position(item));
            let seen = agencies.entry(key.clone()).or_default();
            if !seen.contains(&offer.agency_id) {
                seen.push(offer.agency_id);
            }
            let cell = cells.entry(key).or_default();
            cell.agencies = seen.len() as u32;
            if offer.mode == PriceMode::PerHour.as_str() {
                cell.cheapest_per_hour_fen =
                    Some(cell.cheapest_per_hour_fen.map_or(offer.price_fen, |c| c.min(offer.price_fen)));
            }
        }
        let mut rows: Vec<GapRow> = cells
            .into_iter()
            .filter_map(|((code, i), cell)| {
                Some(GapRow {
                    community_name: names.get(&code).cloned().unwrap_or_default(),
                    community_code: code,
                    item: CatalogItem::ALL[i],
                    households: cell.households,
                    agencies: cell.agencies,
                    accepted_per_hour_fen: cell.accepted_per_hour_fen,
                    cheapest_per_hour_fen: cell.cheapest_per_hour_fen,
                    kind: cell.kind()?,
                })
            })
            .collect();
        let rank = |k: GapKind| GapKind::ALL.iter().position(|x| *x == k).unwrap_or(0);
        rows.sort_by(|a, b| {
            rank(a.kind)
                .cmp(&rank(b.kind))
                .then(b.households.cmp(&a.households))
                .then(a.community_code.cmp(&b.community_code))
                .then(position(a.item).cmp(&position(b.item)))
        });
        Ok(rows)
    }

    /// The names of the village-level units of an area, by code.
    pub async fn community_names(&self, area: &DivisionCode) -> Result<HashMap<String, String>> {
        let prefix = format!("{}%", area_prefix(area));
        let rows: Vec<(String, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT code, name FROM divisions WHERE level = 'community' AND code LIKE $1",
        ).bind(prefix).fetch_all(p).await?);
        Ok(rows.into_iter().collect())
    }
}
