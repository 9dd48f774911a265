//! Service points (社区网点) and the communities they serve.

use chrono::{DateTime, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::field::Invalid;
use jiazheng_core::market::assignment::PlacedBy;
use jiazheng_core::registry::service_point::ServicePointDraft;
use serde::Serialize;

use crate::registry::places::locate;

/// New points an agency may open in a day (demo and bulk loads write past the pages and the API).
pub const POINTS_A_DAY: i64 = 20;

/// A point's own coordinates must lie near its community: within 5 km of the community's (or its
/// street's) point, 30 km where only the district's is known, 80 km on the city's.
fn far_from_its_community(draft: &ServicePointDraft) -> Option<Invalid> {
    let place = draft.place?;
    let (near, by) = locate(draft.community_code.as_str())?;
    let limit_km = match by {
        PlacedBy::Own | PlacedBy::Street => 5.0,
        PlacedBy::District => 30.0,
        PlacedBy::City => 80.0,
    };
    let km = place.metres_to(&near) / 1000.0;
    (km > limit_km).then(|| {
        Invalid::new(
            "far_from_community",
            format!("坐标离网点所在社区约{km:.0}公里，应在{limit_km:.0}公里以内"),
            format!("is about {km:.0} km from the point's community; it must be within {limit_km:.0} km"),
        )
    })
}
use crate::{Page, PageRequest, Result, Store, StoreError, now, on_pool};

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct ServicePoint {
        pub id: i64,
        pub agency_id: i64,
        pub agency_name: String,
        pub name: String,
        pub community_code: String,
        pub community_name: String,
        pub district_code: String,
        pub address: String,
        pub opening_hours: String,
        pub status: String,
        pub communities_served: i64,
        pub created_at: DateTime<Utc>,
    }
}

const SELECT_POINT: &str = "SELECT sp.id, sp.agency_id, a.name AS agency_name, sp.name, sp.community_code,
        c.name AS community_name, sp.district_code, sp.address, sp.opening_hours, sp.status,
        (SELECT COUNT(*) FROM service_point_communities spc WHERE spc.point_id = sp.id AND spc.status = 'approved') AS communities_served, sp.created_at
    FROM service_points sp JOIN agencies a ON a.id = sp.agency_id JOIN divisions c ON c.code = sp.community_code";

impl Store {
    /// Opens one point for an agency (the pages and the API): at most `POINTS_A_DAY` a day.
    pub async fn create_service_point(&self, agency_id: i64, draft: &ServicePointDraft) -> Result<i64> {
        if self.points_opened_today(agency_id).await? >= POINTS_A_DAY {
            return Err(StoreError::Invalid(FieldErrors(vec![
                Invalid::new(
                    "daily_limit",
                    format!("每个企业每天最多新开{POINTS_A_DAY}个网点，请明天再试"),
                    format!("An agency opens at most {POINTS_A_DAY} points a day; try again tomorrow"),
                )
                .at("name"),
            ])));
        }
        Ok(self.create_service_points(&[(agency_id, draft)]).await?[0])
    }

    /// Opens service points in one transaction: all or none.
    pub async fn create_service_points(&self, points: &[(i64, &ServicePointDraft)]) -> Result<Vec<i64>> {
        let codes: Vec<(&str, &str)> = points
            .iter()
            .flat_map(|(_, d)| {
                std::iter::once((d.community_code.as_str(), "community_code"))
                    .chain(d.serves.iter().map(|c| (c.as_str(), "serves")))
            })
            .collect();
        self.require_divisions(&codes).await?;
        for (_, draft) in points {
            if let Some(error) = far_from_its_community(draft) {
                return Err(StoreError::Invalid(FieldErrors(vec![error.at("lng")])));
            }
            if !draft.cross_district && draft.outside_district().next().is_some() {
                return Err(StoreError::Invalid(FieldErrors(vec![
                    Invalid::new(
                        "outside_district",
                        "所选社区不在网点所在的区：跨区服务须申请，经该区监管部门批准后计入覆盖",
                        "A community lies outside the point's district: serving across a district line must be asked for and approved by that district's regulator",
                    )
                    .at("serves"),
                ])));
            }
        }
        let at = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let mut ids = Vec::with_capacity(points.len());
            for (agency_id, draft) in points {
                // Without coordinates of its own, a point stands at its community's own point.
                let place = draft.place.or_else(|| match locate(draft.community_code.as_str()) {
                    Some((place, PlacedBy::Own)) => Some(place),
                    _ => None,
                });
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO service_points (agency_id, name, community_code, district_code, address, opening_hours,
                         status, created_at, lng, lat)
                     VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $8, $9) RETURNING id",
                )
                .bind(agency_id).bind(&draft.name).bind(draft.community_code.as_str())
                .bind(draft.community_code.district().as_str()).bind(&draft.address).bind(&draft.opening_hours).bind(at)
                .bind(place.map(|p| p.lng)).bind(place.map(|p| p.lat))
                .fetch_one(&mut *tx).await?;
                // Its own street counts at once; another street of the district, or another
                // district, once that district's regulator approves.
                let street = draft.community_code.street();
                for code in &draft.serves {
                    let status = if code.street() == street { "approved" } else { "pending" };
                    sqlx::query("INSERT INTO service_point_communities (point_id, community_code, status) VALUES ($1, $2, $3)")
                        .bind(id).bind(code.as_str()).bind(status).execute(&mut *tx).await?;
                }
                ids.push(id);
            }
            tx.commit().await?;
            Ok(ids)
        })
    }

    /// How many points an agency opened in the last day: coverage counts them at once, so an
    /// agency opens at most `POINTS_A_DAY` a day.
    pub async fn points_opened_today(&self, agency_id: i64) -> Result<i64> {
        let since = now() - chrono::Duration::hours(24);
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM service_points WHERE agency_id = $1 AND created_at > $2",
        ).bind(agency_id).bind(since).fetch_one(p).await?);
        Ok(n)
    }

    pub async fn close_service_point(&self, id: i64, agency_id: i64) -> Result<()> {
        let done = on_pool!(self, p => sqlx::query(
            "UPDATE service_points SET status = 'closed', closed_at = $3 WHERE id = $1 AND agency_id = $2 AND status = 'active'",
        ).bind(id).bind(agency_id).bind(crate::now()).execute(p).await?.rows_affected());
        if done == 1 { Ok(()) } else { Err(StoreError::NotFound) }
    }

    /// Points in a district (or all), of one agency (or all), open ones first.
    pub async fn service_points(
        &self,
        district: Option<&str>,
        agency: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<ServicePoint>> {
        // Conditions are added only when given, so each query can use its index.
        fn filters<DB: sqlx::Database>(qb: &mut sqlx::QueryBuilder<DB>, district: Option<&str>, agency: Option<i64>)
        where
            for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
            for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
        {
            qb.push(" WHERE 1 = 1");
            if let Some(d) = district {
                qb.push(" AND sp.district_code = ").push_bind(d.to_string());
            }
            if let Some(a) = agency {
                qb.push(" AND sp.agency_id = ").push_bind(a);
            }
        }
        let items: Vec<ServicePoint> = on_pool!(self, p => {
            let mut list = sqlx::QueryBuilder::new(SELECT_POINT);
            filters(&mut list, district, agency);
            list.push(" ORDER BY sp.status, sp.community_code, sp.id LIMIT ").push_bind(page.limit());
            list.push(" OFFSET ").push_bind(page.offset());
            list.build_query_as().fetch_all(p).await?
        });
        let total = match page.total_if_known(items.len()) {
            Some(total) => total,
            None => on_pool!(self, p => {
                let mut count = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM service_points sp");
                filters(&mut count, district, agency);
                let (n,): (i64,) = count.build_query_as().fetch_one(p).await?;
                n
            }),
        };
        Ok(page.wrap(items, total))
    }
}
