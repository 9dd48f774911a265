//! Coverage read whole: the city's village-level units, its open service points and what they
//! declared, computed by the core's rules. The city has a few thousand units, so one pass over
//! all of them answers every district's figure, the uncovered list and the suggestion.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::community::coverage::{
    CoverageTally, CoveredBy, Pick, Radius, Reach, Unit, candidate_sets, covered, greedy,
};
use jiazheng_core::division::{DivisionCode, UnitType};
use jiazheng_core::market::assignment::{Place, PlacedBy};
use serde::Serialize;

use crate::oversight::audit::{AuditRecord, audit_in};
use crate::registry::places::locate;
use crate::{Result, Store, StoreError, now, on_pool};

/// A village-level unit with what coverage found for it.
#[derive(Debug, Clone)]
pub struct CoverageUnit {
    pub code: String,
    pub name: String,
    pub kind: UnitType,
    /// Its own coordinates, when the city has them.
    pub place: Option<Place>,
    pub covered: Option<CoveredBy>,
    /// Households that answered a survey there: ties in the suggestion go to more demand.
    pub demand: u32,
}

/// An open service point, where it is drawn.
#[derive(Debug, Clone)]
pub struct PointPin {
    pub id: i64,
    pub name: String,
    pub agency_name: String,
    pub community_code: String,
    /// Its own coordinates, else its community's (or street's) point, for the map only.
    pub drawn_at: Option<Place>,
    pub has_own_place: bool,
}

/// One suggested site: a unit where a new point would cover `gain` more units.
#[derive(Debug, Clone)]
pub struct Suggestion {
    pub site: usize,
    pub gain: Vec<usize>,
}

/// Everything coverage knows at one moment.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub units: Vec<CoverageUnit>,
    pub points: Vec<PointPin>,
    pub radius: Radius,
    /// District and street names by code.
    pub names: HashMap<String, String>,
    pub computed_at: DateTime<Utc>,
}

row! {
    struct DivisionRow {
        code: String,
        name: String,
        level: String,
        unit_type: Option<String>,
    }
}

row! {
    struct PointRow {
        id: i64,
        name: String,
        agency_name: String,
        community_code: String,
        lng: Option<f64>,
        lat: Option<f64>,
    }
}

row! {
    /// A declaration of a community across a district line, waiting for that district's regulator.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct PendingDeclaration {
        pub point_id: i64,
        pub point_name: String,
        pub agency_name: String,
        pub point_community_name: String,
        pub community_code: String,
        pub community_name: String,
        pub community_district_name: String,
    }
}

impl Coverage {
    fn within<'a>(&'a self, area: Option<&'a DivisionCode>) -> impl Iterator<Item = (usize, &'a CoverageUnit)> + 'a {
        self.units.iter().enumerate().filter(move |(_, u)| area.is_none_or(|a| u.code.starts_with(area_prefix(a))))
    }

    /// Coverage over an area (a district, street or community), or the whole city.
    pub fn tally(&self, area: Option<&DivisionCode>) -> CoverageTally {
        let mut t = CoverageTally::default();
        for (_, u) in self.within(area) {
            t.add(u.kind, u.covered.is_some());
        }
        t
    }

    /// Each district's (or, within a district, each street's) code, name and coverage.
    pub fn breakdown(&self, area: Option<&DivisionCode>) -> Vec<(String, String, CoverageTally)> {
        let digits = if area.is_some() { 9 } else { 6 };
        let mut rows: Vec<(String, String, CoverageTally)> = Vec::new();
        for (_, u) in self.within(area) {
            let code = format!("{:0<12}", &u.code[..digits]);
            match rows.last_mut() {
                Some((last, _, t)) if *last == code => t.add(u.kind, u.covered.is_some()),
                _ => {
                    let mut t = CoverageTally::default();
                    t.add(u.kind, u.covered.is_some());
                    let name = self.names.get(&code).cloned().unwrap_or_else(|| code.clone());
                    rows.push((code, name, t));
                }
            }
        }
        rows
    }

    /// The uncovered units of an area, 社区 first, in code order.
    pub fn uncovered<'a>(&'a self, area: Option<&'a DivisionCode>) -> Vec<&'a CoverageUnit> {
        let mut list: Vec<&CoverageUnit> = self.within(area).map(|(_, u)| u).filter(|u| u.covered.is_none()).collect();
        list.sort_by_key(|u| (u.kind != UnitType::Community, u.code.clone()));
        list
    }

    /// Where `k` new points would raise the area's coverage most (greedy; see the core's bound).
    pub fn suggest(&self, area: Option<&DivisionCode>, k: usize) -> Vec<Suggestion> {
        // Candidates are computed over the area's units only, re-indexed, then mapped back.
        let index: Vec<usize> = self.within(area).map(|(i, _)| i).collect();
        let units: Vec<Unit> = index.iter().map(|&i| rule_unit(&self.units[i])).collect();
        let by: Vec<Option<CoveredBy>> = index.iter().map(|&i| self.units[i].covered).collect();
        let sets = candidate_sets(&units, &by, Some(self.radius));
        greedy(&sets, k, |u| u64::from(self.units[index[u]].demand))
            .into_iter()
            .map(|Pick { site, gain }| Suggestion {
                site: index[site],
                gain: gain.into_iter().map(|g| index[g]).collect(),
            })
            .collect()
    }

    pub fn name_of(&self, code: &str) -> String {
        self.names.get(code).cloned().unwrap_or_default()
    }

    /// Where a unit is drawn: its own point, else its street's or district's.
    pub fn drawn_at(&self, unit: &CoverageUnit) -> Option<Place> {
        unit.place.or_else(|| locate(&unit.code).map(|(p, _)| p))
    }
}

/// The digits an area's codes share: 6 for a district, 9 for a street, 12 for a community.
pub fn area_prefix(area: &DivisionCode) -> &str {
    area.significant()
}

impl Store {
    /// Computes coverage now, from what the database holds.
    pub async fn coverage(&self) -> Result<Coverage> {
        let divisions: Vec<DivisionRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT code, name, level, unit_type FROM divisions WHERE level IN ('district', 'street', 'community') ORDER BY code",
        ).fetch_all(p).await?);
        let points: Vec<PointRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT sp.id, sp.name, a.name AS agency_name, sp.community_code, sp.lng, sp.lat
             FROM service_points sp JOIN agencies a ON a.id = sp.agency_id
             WHERE sp.status = 'active' AND a.status = 'active' ORDER BY sp.id",
        ).fetch_all(p).await?);
        let declared: Vec<(i64, String)> = on_pool!(self, p => sqlx::query_as(
            "SELECT spc.point_id, spc.community_code FROM service_point_communities spc
             JOIN service_points sp ON sp.id = spc.point_id JOIN agencies a ON a.id = sp.agency_id
             WHERE sp.status = 'active' AND a.status = 'active' AND spc.status = 'approved'",
        ).fetch_all(p).await?);
        let demand: Vec<(String, i64)> = on_pool!(self, p => sqlx::query_as(
            "SELECT community_code, CAST(SUM(households) AS BIGINT) FROM survey_tallies GROUP BY community_code",
        ).fetch_all(p).await?);
        let radius = self.coverage_radius().await?;

        let demand: HashMap<String, i64> = demand.into_iter().collect();
        let mut names = HashMap::new();
        let mut units = Vec::new();
        for d in divisions {
            if d.level == "community" {
                let place = match locate(&d.code) {
                    Some((place, PlacedBy::Own)) => Some(place),
                    _ => None,
                };
                let kind = d.unit_type.as_deref().and_then(|t| UnitType::parse(t).ok()).unwrap_or(UnitType::Other);
                let demand = demand.get(&d.code).copied().unwrap_or(0).clamp(0, i64::from(u32::MAX)) as u32;
                units.push(CoverageUnit {
                    code: d.code.clone(),
                    name: d.name.clone(),
                    kind,
                    place,
                    covered: None,
                    demand,
                });
            }
            names.insert(d.code, d.name);
        }
        let at: HashMap<&str, usize> = units.iter().enumerate().map(|(i, u)| (u.code.as_str(), i)).collect();
        let slot: HashMap<i64, usize> = points.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
        let mut reach: Vec<Reach> = points
            .iter()
            .map(|p| Reach {
                declared: vec![],
                place: p.lng.zip(p.lat).map(|(lng, lat)| Place { lng, lat }),
                district: district_number(&p.community_code),
            })
            .collect();
        for (point, code) in &declared {
            if let (Some(&i), Some(&u)) = (slot.get(point), at.get(code.as_str())) {
                reach[i].declared.push(u);
            }
        }
        let by = covered(&units.iter().map(rule_unit).collect::<Vec<_>>(), &reach, Some(radius));
        for (unit, by) in units.iter_mut().zip(by) {
            unit.covered = by;
        }
        let points = points
            .into_iter()
            .zip(&reach)
            .map(|(p, r)| PointPin {
                id: p.id,
                name: p.name,
                agency_name: p.agency_name,
                drawn_at: r.place.or_else(|| locate(&p.community_code).map(|(place, _)| place)),
                has_own_place: r.place.is_some(),
                community_code: p.community_code,
            })
            .collect();
        Ok(Coverage { units, points, radius, names, computed_at: now() })
    }

    pub async fn coverage_radius(&self) -> Result<Radius> {
        let (metres,): (i64,) = on_pool!(self, p => sqlx::query_as("SELECT radius_m FROM coverage_settings WHERE id = 1").fetch_one(p).await?);
        Radius::new(u32::try_from(metres).unwrap_or(0))
            .map_err(|e| StoreError::Invalid(FieldErrors(vec![e.at("radius")])))
    }

    pub async fn set_coverage_radius(&self, radius: Radius, account_id: i64) -> Result<()> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let (old,): (i64,) = sqlx::query_as("SELECT radius_m FROM coverage_settings WHERE id = 1")
                .fetch_one(&mut *tx).await?;
            sqlx::query("UPDATE coverage_settings SET radius_m = $1, set_by = $2, set_at = $3 WHERE id = 1")
                .bind(i64::from(radius.metres())).bind(account_id).bind(now()).execute(&mut *tx).await?;
            let record = AuditRecord {
                actor: account_id,
                action: "coverage.radius",
                subject_kind: "coverage",
                subject_id: 1,
                subject_label: "网点服务半径 Coverage radius".into(),
                before: Some(serde_json::json!({ "radius_m": old })),
                after: Some(serde_json::json!({ "radius_m": radius.metres() })),
            };
            audit_in!(&mut *tx, &record)?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Declarations across a district line into `area` (or anywhere), waiting for a decision.
    pub async fn pending_declarations(&self, area: Option<&DivisionCode>) -> Result<Vec<PendingDeclaration>> {
        let prefix = format!("{}%", area.map(area_prefix).unwrap_or(""));
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT spc.point_id, sp.name AS point_name, a.name AS agency_name, pc.name AS point_community_name,
                    spc.community_code, c.name AS community_name, cd.name AS community_district_name
             FROM service_point_communities spc
             JOIN service_points sp ON sp.id = spc.point_id JOIN agencies a ON a.id = sp.agency_id
             JOIN divisions c ON c.code = spc.community_code JOIN divisions pc ON pc.code = sp.community_code
             JOIN divisions cd ON cd.code = substr(spc.community_code, 1, 6) || '000000'
             WHERE spc.status = 'pending' AND sp.status = 'active' AND spc.community_code LIKE $1
             ORDER BY spc.community_code, spc.point_id LIMIT 200",
        ).bind(prefix).fetch_all(p).await?))
    }

    /// A regulator approves or refuses a declaration into their area; outside it, nothing is found.
    pub async fn decide_declaration(
        &self,
        point_id: i64,
        community: &DivisionCode,
        approve: bool,
        area: Option<&DivisionCode>,
        account_id: i64,
    ) -> Result<()> {
        if area.is_some_and(|a| !community.is_within(a)) {
            return Err(StoreError::NotFound);
        }
        let status = if approve { "approved" } else { "refused" };
        let (point_name, community_name): (String, String) = on_pool!(self, p => sqlx::query_as(
            "SELECT sp.name, d.name FROM service_points sp, divisions d WHERE sp.id = $1 AND d.code = $2",
        ).bind(point_id).bind(community.as_str()).fetch_optional(p).await?)
        .ok_or(StoreError::NotFound)?;
        let record = AuditRecord {
            actor: account_id,
            action: "coverage.declaration",
            subject_kind: "service_point",
            subject_id: point_id,
            subject_label: format!("{point_name} → {community_name}"),
            before: Some(serde_json::json!({ "status": "pending" })),
            after: Some(serde_json::json!({ "status": status, "community": community_name })),
        };
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query(
                "UPDATE service_point_communities SET status = $1, decided_by = $2, decided_at = $3
                 WHERE point_id = $4 AND community_code = $5 AND status = 'pending'",
            ).bind(status).bind(account_id).bind(now()).bind(point_id).bind(community.as_str())
            .execute(&mut *tx).await?.rows_affected();
            if done != 1 {
                return Err(StoreError::NotFound);
            }
            audit_in!(&mut *tx, &record)?;
            tx.commit().await?;
        });
        Ok(())
    }
}

fn rule_unit(u: &CoverageUnit) -> Unit {
    Unit { kind: u.kind, place: u.place, district: district_number(&u.code) }
}

/// A code's district as a number: its first six digits.
fn district_number(code: &str) -> u32 {
    code.get(..6).and_then(|d| d.parse().ok()).unwrap_or(0)
}
