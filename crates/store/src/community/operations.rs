//! A service point's operations: weekly hours, staff on duty (never two overlapping duties of one
//! worker), the shared tool kit and its loans (a check-out takes a unit only while one is in, so
//! two check-outs of the last unit cannot both win), events; and stable relationships (the share
//! of residents whose latest order had a worker who served them before).
//!
//! Every change names the agency acting: a point of another agency is not found.

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::community::operations::{Borrower, CheckoutDraft, DutyDraft, PointEventDraft, ToolDraft};
use jiazheng_core::field::Invalid;
use jiazheng_core::market::slot::{Shift, Slot};
use serde::Serialize;

use crate::market::write_tx;
use crate::registry::service_points::ServicePoint;
use crate::{Result, Store, StoreError, now, on_pool};

fn invalid(field: &str, invalid: Invalid) -> StoreError {
    StoreError::Invalid(FieldErrors(vec![invalid.at(field)]))
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct PointDuty {
        pub id: i64,
        pub point_id: i64,
        pub worker_id: i64,
        pub worker_name: String,
        pub starts_at: DateTime<Utc>,
        pub ends_at: DateTime<Utc>,
    }
}

impl PointDuty {
    pub fn slot(&self) -> Slot {
        Slot { start: self.starts_at, end: self.ends_at }
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct PointTool {
        pub id: i64,
        pub point_id: i64,
        pub name: String,
        pub count: i64,
        /// Units out now.
        pub out_count: i64,
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct ToolLoan {
        pub id: i64,
        pub tool_id: i64,
        pub tool_name: String,
        pub worker_id: Option<i64>,
        pub worker_name: Option<String>,
        pub volunteer_name: Option<String>,
        pub due_on: NaiveDate,
        pub out_at: DateTime<Utc>,
        pub returned_at: Option<DateTime<Utc>>,
    }
}

impl ToolLoan {
    pub fn borrower(&self) -> &str {
        self.worker_name.as_deref().or(self.volunteer_name.as_deref()).unwrap_or_default()
    }

    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        jiazheng_core::community::operations::is_overdue(self.due_on, self.returned_at.is_some(), today)
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct PointEvent {
        pub id: i64,
        pub point_id: i64,
        pub title: String,
        pub starts_at: DateTime<Utc>,
        pub ends_at: DateTime<Utc>,
        pub description: String,
        pub attendance: Option<i64>,
    }
}

impl PointEvent {
    pub fn slot(&self) -> Slot {
        Slot { start: self.starts_at, end: self.ends_at }
    }
}

row! {
    /// One of an agency's workers with an active binding, for pickers.
    #[derive(Debug, Clone, Serialize)]
    pub struct BoundWorker {
        pub id: i64,
        pub name: String,
        pub phone_masked: String,
    }
}

row! {
    /// Stable relationships of one agency in one community: residents with two or more completed
    /// orders there, and those whose latest order had a worker who served them before.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct RepeatShare {
        pub agency_id: i64,
        pub agency_name: String,
        pub community_code: String,
        pub community_name: String,
        pub residents: i64,
        pub kept: i64,
    }
}

impl RepeatShare {
    /// The share in whole percent.
    pub fn percent(&self) -> i64 {
        jiazheng_core::community::operations::percent(self.kept, self.residents).unwrap_or(0)
    }
}

row! {
    /// A point's weekly hours as stored.
    struct HourRow {
        weekday: i64,
        opens_minute: i64,
        closes_minute: i64,
    }
}

/// Everything an agency's point page shows.
#[derive(Debug, Clone)]
pub struct PointOperations {
    pub point: ServicePoint,
    pub hours: Vec<(u8, Shift)>,
    pub duties: Vec<PointDuty>,
    pub tools: Vec<PointTool>,
    /// Loans out now, and the last returned ones.
    pub loans: Vec<ToolLoan>,
    pub events: Vec<PointEvent>,
}

pub(crate) const SELECT_POINT: &str = "SELECT sp.id, sp.agency_id, a.name AS agency_name, sp.name, sp.community_code,
        c.name AS community_name, sp.district_code, sp.address, sp.opening_hours, sp.status,
        (SELECT COUNT(*) FROM service_point_communities spc WHERE spc.point_id = sp.id) AS communities_served, sp.created_at
    FROM service_points sp JOIN agencies a ON a.id = sp.agency_id JOIN divisions c ON c.code = sp.community_code";

const SELECT_LOAN: &str = "SELECT l.id, l.tool_id, t.name AS tool_name, l.worker_id, w.name AS worker_name,
        l.volunteer_name, l.due_on, l.out_at, l.returned_at
    FROM tool_loans l JOIN point_tools t ON t.id = l.tool_id LEFT JOIN workers w ON w.id = l.worker_id";

fn no_worker() -> StoreError {
    invalid(
        "worker_id",
        Invalid::new(
            "not_employed",
            "只能选择与本企业关联有效的服务员",
            "pick one of your agency's workers (an active binding)",
        ),
    )
}

impl Store {
    /// A point of `agency`; another agency's point (or none) is not found.
    pub async fn own_point(&self, point_id: i64, agency: i64) -> Result<ServicePoint> {
        let sql = format!("{SELECT_POINT} WHERE sp.id = $1 AND sp.agency_id = $2");
        let sql = sqlx::AssertSqlSafe(sql);
        on_pool!(self, p => sqlx::query_as(sql).bind(point_id).bind(agency).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    /// An agency's own point that is still open: a closed point takes no new hours, duty, tools,
    /// loans or events (409); tools still come back and attendance is still recorded.
    pub async fn open_point(&self, point_id: i64, agency: i64) -> Result<ServicePoint> {
        let point = self.own_point(point_id, agency).await?;
        if point.status == "active" {
            Ok(point)
        } else {
            Err(StoreError::Conflict { what: "point_closed", existing_id: Some(point_id) })
        }
    }

    /// The active points serving a community (their own or one they reach).
    pub async fn points_serving(&self, community: &str) -> Result<Vec<ServicePoint>> {
        let sql = format!(
            "{SELECT_POINT} WHERE sp.status = 'active' AND sp.id IN
                 (SELECT point_id FROM service_point_communities WHERE community_code = $1 AND status = 'approved')
             ORDER BY sp.id LIMIT 100"
        );
        let sql = sqlx::AssertSqlSafe(sql);
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(community).fetch_all(p).await?))
    }

    /// Weekly hours of points, Monday first, by point.
    pub async fn point_hours(&self, point_id: i64) -> Result<Vec<(u8, Shift)>> {
        let rows: Vec<HourRow> = on_pool!(self, p => sqlx::query_as(
            "SELECT weekday, opens_minute, closes_minute FROM point_hours WHERE point_id = $1 ORDER BY weekday",
        ).bind(point_id).fetch_all(p).await?);
        Ok(rows
            .into_iter()
            .map(|r| (r.weekday as u8, Shift { from: r.opens_minute as u32, to: r.closes_minute as u32 }))
            .collect())
    }

    /// Weekly hours of several points at once (for a list's "open now" badges), by point.
    pub async fn hours_of_points(&self, ids: &[i64]) -> Result<std::collections::HashMap<i64, Vec<(u8, Shift)>>> {
        let mut out: std::collections::HashMap<i64, Vec<(u8, Shift)>> = std::collections::HashMap::new();
        if ids.is_empty() {
            return Ok(out);
        }
        let rows: Vec<(i64, i64, i64, i64)> = on_pool!(self, p => {
            let mut q = sqlx::QueryBuilder::new(
                "SELECT point_id, weekday, opens_minute, closes_minute FROM point_hours WHERE point_id IN (",
            );
            let mut list = q.separated(", ");
            for id in ids.iter().take(200) {
                list.push_bind(*id);
            }
            q.push(") ORDER BY point_id, weekday");
            q.build_query_as().fetch_all(p).await?
        });
        for (point, day, from, to) in rows {
            out.entry(point).or_default().push((day as u8, Shift { from: from as u32, to: to as u32 }));
        }
        Ok(out)
    }

    /// Replaces a point's weekly hours (days not given are closed), in one transaction.
    pub async fn set_point_hours(&self, point_id: i64, agency: i64, week: &[(u8, Shift)]) -> Result<()> {
        self.open_point(point_id, agency).await?;
        write_tx!(self, tx => async {
            sqlx::query("DELETE FROM point_hours WHERE point_id = $1").bind(point_id).execute(&mut *tx).await?;
            for (day, shift) in week {
                sqlx::query("INSERT INTO point_hours (point_id, weekday, opens_minute, closes_minute) VALUES ($1, $2, $3, $4)")
                    .bind(point_id).bind(i64::from(*day)).bind(i64::from(shift.from)).bind(i64::from(shift.to))
                    .execute(&mut *tx).await?;
            }
            Ok(())
        }.await)
    }

    /// The agency's workers with an active binding, by name.
    pub async fn workers_bound_to(&self, agency: i64) -> Result<Vec<BoundWorker>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT w.id, w.name, w.phone_masked FROM bindings b JOIN workers w ON w.id = b.worker_id
             WHERE b.agency_id = $1 AND b.status = 'active' ORDER BY w.name, w.id LIMIT 1000",
        ).bind(agency).fetch_all(p).await?))
    }

    /// Puts one of the agency's workers on duty at its point. A duty that meets another duty of
    /// the worker (at any point) is refused as an overlap naming the time taken.
    pub async fn add_duty(&self, point_id: i64, agency: i64, by: i64, draft: &DutyDraft) -> Result<i64> {
        self.open_point(point_id, agency).await?;
        let outcome = write_tx!(self, tx => async {
            let bound: Option<(i64,)> = sqlx::query_as(
                "SELECT worker_id FROM bindings WHERE worker_id = $1 AND agency_id = $2 AND status = 'active'",
            ).bind(draft.worker_id).bind(agency).fetch_optional(&mut *tx).await?;
            if bound.is_none() {
                return Err(no_worker());
            }
            let clash: Option<(DateTime<Utc>, DateTime<Utc>)> = sqlx::query_as(
                "SELECT starts_at, ends_at FROM point_duties WHERE worker_id = $1 AND starts_at < $2 AND ends_at > $3
                 ORDER BY starts_at LIMIT 1",
            ).bind(draft.worker_id).bind(draft.slot.end).bind(draft.slot.start).fetch_optional(&mut *tx).await?;
            if let Some((start, end)) = clash {
                return Err(StoreError::Overlap { start, end });
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO point_duties (point_id, agency_id, worker_id, starts_at, ends_at, entered_by, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            ).bind(point_id).bind(agency).bind(draft.worker_id).bind(draft.slot.start).bind(draft.slot.end)
                .bind(by).bind(now()).fetch_one(&mut *tx).await.map_err(crate::market::overlap_or)?;
            Ok(id)
        }.await);
        match outcome {
            Err(StoreError::Overlap { start, .. }) if start == DateTime::<Utc>::MIN_UTC => {
                let clash: Option<(DateTime<Utc>, DateTime<Utc>)> = on_pool!(self, p => sqlx::query_as(
                    "SELECT starts_at, ends_at FROM point_duties WHERE worker_id = $1 AND starts_at < $2 AND ends_at > $3
                     ORDER BY starts_at LIMIT 1",
                ).bind(draft.worker_id).bind(draft.slot.end).bind(draft.slot.start).fetch_optional(p).await?);
                let (start, end) = clash.unwrap_or((draft.slot.start, draft.slot.end));
                Err(StoreError::Overlap { start, end })
            }
            other => other,
        }
    }

    pub async fn remove_duty(&self, point_id: i64, agency: i64, duty_id: i64) -> Result<()> {
        let done = on_pool!(self, p => sqlx::query(
            "DELETE FROM point_duties WHERE id = $1 AND point_id = $2 AND agency_id = $3",
        ).bind(duty_id).bind(point_id).bind(agency).execute(p).await?.rows_affected());
        if done == 1 { Ok(()) } else { Err(StoreError::NotFound) }
    }

    pub async fn add_tool(&self, point_id: i64, agency: i64, draft: &ToolDraft) -> Result<i64> {
        self.open_point(point_id, agency).await?;
        let inserted: std::result::Result<(i64,), sqlx::Error> = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO point_tools (point_id, name, count, out_count, created_at) VALUES ($1, $2, $3, 0, $4) RETURNING id",
        ).bind(point_id).bind(&draft.name).bind(draft.count).bind(now()).fetch_one(p).await);
        match inserted {
            Ok((id,)) => Ok(id),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Err(invalid(
                "name",
                Invalid::new("tool_exists", "本网点已有同名工具", "the point already has a tool of this name"),
            )),
            Err(other) => Err(other.into()),
        }
    }

    /// Lends a unit of a tool of the agency's point. Only while a unit is in: the count of units
    /// out rises only while below the tool's count, so of two check-outs of the last unit exactly
    /// one wins; the other is a conflict (`tool_all_out`).
    pub async fn check_out_tool(
        &self,
        point_id: i64,
        tool_id: i64,
        agency: i64,
        by: i64,
        draft: &CheckoutDraft,
    ) -> Result<i64> {
        self.open_point(point_id, agency).await?;
        write_tx!(self, tx => async {
            let tool: Option<(i64,)> = sqlx::query_as("SELECT id FROM point_tools WHERE id = $1 AND point_id = $2")
                .bind(tool_id).bind(point_id).fetch_optional(&mut *tx).await?;
            if tool.is_none() {
                return Err(StoreError::NotFound);
            }
            let (worker, volunteer) = match &draft.borrower {
                Borrower::Worker(id) => {
                    let bound: Option<(i64,)> = sqlx::query_as(
                        "SELECT worker_id FROM bindings WHERE worker_id = $1 AND agency_id = $2 AND status = 'active'",
                    ).bind(*id).bind(agency).fetch_optional(&mut *tx).await?;
                    if bound.is_none() {
                        return Err(no_worker());
                    }
                    (Some(*id), None)
                }
                Borrower::Volunteer(name) => (None, Some(name.clone())),
            };
            let taken = sqlx::query(
                "UPDATE point_tools SET out_count = out_count + 1 WHERE id = $1 AND out_count < count",
            ).bind(tool_id).execute(&mut *tx).await?.rows_affected();
            if taken == 0 {
                return Err(StoreError::Conflict { what: "tool_all_out", existing_id: None });
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO tool_loans (tool_id, point_id, worker_id, volunteer_name, due_on, out_at, lent_by)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            ).bind(tool_id).bind(point_id).bind(worker).bind(volunteer).bind(draft.due_on).bind(now()).bind(by)
                .fetch_one(&mut *tx).await?;
            Ok(id)
        }.await)
    }

    /// Takes a lent unit back; a loan already returned is a conflict (`already_returned`).
    pub async fn return_tool(&self, point_id: i64, loan_id: i64, agency: i64, by: i64) -> Result<()> {
        self.own_point(point_id, agency).await?;
        write_tx!(self, tx => async {
            let loan: Option<(i64, Option<DateTime<Utc>>)> = sqlx::query_as(
                "SELECT tool_id, returned_at FROM tool_loans WHERE id = $1 AND point_id = $2",
            ).bind(loan_id).bind(point_id).fetch_optional(&mut *tx).await?;
            let Some((tool_id, _)) = loan else { return Err(StoreError::NotFound) };
            let done = sqlx::query(
                "UPDATE tool_loans SET returned_at = $1, returned_by = $2 WHERE id = $3 AND returned_at IS NULL",
            ).bind(now()).bind(by).bind(loan_id).execute(&mut *tx).await?.rows_affected();
            if done == 0 {
                return Err(StoreError::Conflict { what: "already_returned", existing_id: None });
            }
            sqlx::query("UPDATE point_tools SET out_count = out_count - 1 WHERE id = $1")
                .bind(tool_id).execute(&mut *tx).await?;
            Ok(())
        }.await)
    }

    pub async fn add_point_event(&self, point_id: i64, agency: i64, by: i64, draft: &PointEventDraft) -> Result<i64> {
        self.open_point(point_id, agency).await?;
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO point_events (point_id, title, starts_at, ends_at, description, attendance, entered_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        ).bind(point_id).bind(&draft.title).bind(draft.slot.start).bind(draft.slot.end).bind(&draft.description)
            .bind(draft.attendance).bind(by).bind(now()).fetch_one(p).await?);
        Ok(id)
    }

    pub async fn set_event_attendance(&self, point_id: i64, event_id: i64, agency: i64, attendance: i64) -> Result<()> {
        self.own_point(point_id, agency).await?;
        let done = on_pool!(self, p => sqlx::query(
            "UPDATE point_events SET attendance = $1 WHERE id = $2 AND point_id = $3",
        ).bind(attendance).bind(event_id).bind(point_id).execute(p).await?.rows_affected());
        if done == 1 { Ok(()) } else { Err(StoreError::NotFound) }
    }

    /// A point's events, latest first.
    pub async fn point_events(&self, point_id: i64, limit: i64) -> Result<Vec<PointEvent>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, point_id, title, starts_at, ends_at, description, attendance FROM point_events
             WHERE point_id = $1 ORDER BY starts_at DESC, id DESC LIMIT $2",
        ).bind(point_id).bind(limit).fetch_all(p).await?))
    }

    /// Everything the agency's page of one point shows; another agency's point is not found.
    pub async fn point_operations(&self, point_id: i64, agency: i64) -> Result<PointOperations> {
        let point = self.own_point(point_id, agency).await?;
        let hours = self.point_hours(point_id).await?;
        let since = now() - chrono::Duration::days(7);
        let duties: Vec<PointDuty> = on_pool!(self, p => sqlx::query_as(
            "SELECT d.id, d.point_id, d.worker_id, w.name AS worker_name, d.starts_at, d.ends_at
             FROM point_duties d JOIN workers w ON w.id = d.worker_id
             WHERE d.point_id = $1 AND d.ends_at > $2 ORDER BY d.starts_at, d.id LIMIT 200",
        ).bind(point_id).bind(since).fetch_all(p).await?);
        let tools: Vec<PointTool> = on_pool!(self, p => sqlx::query_as(
            "SELECT id, point_id, name, count, out_count FROM point_tools WHERE point_id = $1 ORDER BY name, id",
        ).bind(point_id).fetch_all(p).await?);
        let loans_sql = sqlx::AssertSqlSafe(format!(
            "{SELECT_LOAN} WHERE l.point_id = $1 AND (l.returned_at IS NULL OR l.returned_at > $2)
             ORDER BY l.returned_at IS NOT NULL, l.due_on, l.id LIMIT 200"
        ));
        let loans: Vec<ToolLoan> =
            on_pool!(self, p => sqlx::query_as(loans_sql).bind(point_id).bind(since).fetch_all(p).await?);
        let events = self.point_events(point_id, 50).await?;
        Ok(PointOperations { point, hours, duties, tools, loans, events })
    }

    /// Loans of the agency's points not back by their date on `today`.
    pub async fn overdue_loans(&self, agency: i64, today: NaiveDate) -> Result<Vec<ToolLoan>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "{SELECT_LOAN} JOIN service_points sp ON sp.id = l.point_id
             WHERE sp.agency_id = $1 AND l.returned_at IS NULL AND l.due_on < $2 ORDER BY l.due_on, l.id LIMIT 200"
        ));
        Ok(on_pool!(self, p => sqlx::query_as(sql).bind(agency).bind(today).fetch_all(p).await?))
    }

    /// Stable relationships per agency and community: among residents with two or more completed
    /// orders with the agency in the community, those whose latest completed order had a worker
    /// who had served them on an earlier one there. Filtered by community and/or agency.
    pub async fn repeat_shares(&self, community: Option<&str>, agency: Option<i64>) -> Result<Vec<RepeatShare>> {
        // Each case its own condition: `$2 = 0 OR agency_id = $2` would scan every order for
        // an agency's page.
        let filter = match (community, agency) {
            (Some(_), Some(_)) => "o.community_code = $1 AND o.agency_id = $2",
            (Some(_), None) => "o.community_code = $1 AND $2 = 0",
            (None, Some(_)) => "o.agency_id = $2 AND $1 = ''",
            (None, None) => "$1 = '' AND $2 = 0",
        };
        let sql = format!(
            "WITH done AS (
                SELECT o.agency_id, o.community_code, o.resident_account_id, o.worker_id,
                       ROW_NUMBER() OVER (PARTITION BY o.agency_id, o.community_code, o.resident_account_id
                                          ORDER BY o.starts_at DESC, o.id DESC) AS rn,
                       COUNT(*) OVER (PARTITION BY o.agency_id, o.community_code, o.resident_account_id) AS n
                FROM orders o
                WHERE o.status IN ('completed', 'rated')
                  AND {filter}
            )
            SELECT d.agency_id, a.name AS agency_name, d.community_code, c.name AS community_name,
                   CAST(COUNT(*) AS BIGINT) AS residents,
                   CAST(SUM(CASE WHEN d.worker_id IS NOT NULL AND EXISTS (
                        SELECT 1 FROM done e WHERE e.agency_id = d.agency_id AND e.community_code = d.community_code
                          AND e.resident_account_id = d.resident_account_id AND e.rn > 1 AND e.worker_id = d.worker_id)
                       THEN 1 ELSE 0 END) AS BIGINT) AS kept
            FROM done d JOIN agencies a ON a.id = d.agency_id JOIN divisions c ON c.code = d.community_code
            WHERE d.rn = 1 AND d.n >= 2
            GROUP BY d.agency_id, a.name, d.community_code, c.name
            ORDER BY residents DESC, d.agency_id, d.community_code LIMIT 500"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(community.unwrap_or_default()).bind(agency.unwrap_or(0)).fetch_all(p).await?))
    }
}
