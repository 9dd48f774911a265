//! The plan's targets from the records: each agency's employee-based share (from counts kept by
//! triggers on `bindings`), brands the city recognises, the market's figures, and the monthly
//! series the daily job writes.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::community::coverage::CoverageTally;
pub use jiazheng_core::oversight::brand::BrandDraft;
use jiazheng_core::oversight::targets::{AgencyShare, Figure, Metric, employee_share, month_key, target_one};
use jiazheng_core::workforce::compliance::Tally;

use super::audit::{AuditRecord, audit_in};
use crate::{Result, Store, StoreError, now, on_pool};

row! {
/// An active agency's standing towards target 1, with what a person reads.
#[derive(Debug, Clone)]
pub struct AgencyStanding {
    pub agency_id: i64,
    pub name: String,
    pub district_code: String,
    pub business_model: String,
    pub active: i64,
    pub active_employee: i64,
    /// The recognised brand's name, when the city recognises one.
    pub brand: Option<String>,
}
}

impl AgencyStanding {
    pub fn share(&self) -> AgencyShare {
        AgencyShare {
            agency_id: self.agency_id,
            active: self.active,
            active_employee: self.active_employee,
            branded: self.brand.is_some(),
        }
    }
}

row! {
/// A live brand recognition.
#[derive(Debug, Clone)]
pub struct Brand {
    pub id: i64,
    pub agency_id: i64,
    pub agency_name: String,
    pub district_code: String,
    pub brand_name: String,
    pub document: String,
    pub recognised_on: NaiveDate,
}
}

row! {
/// One month of one figure of one area.
#[derive(Debug, Clone)]
pub struct MonthRow {
    pub area_code: String,
    pub month: String,
    pub metric: String,
    pub numerator: i64,
    pub denominator: i64,
    pub as_of: NaiveDate,
}
}

impl MonthRow {
    pub fn figure(&self) -> Option<Figure> {
        Metric::ALL
            .iter()
            .find(|m| m.as_str() == self.metric)
            .map(|m| Figure::new(*m, self.numerator, self.denominator))
    }
}

const STANDING: &str = "SELECT a.id AS agency_id, a.name, a.district_code, a.business_model,
        COALESCE(c.active, 0) AS active, COALESCE(c.active_employee, 0) AS active_employee, b.brand_name AS brand
     FROM agencies a
     LEFT JOIN agency_binding_counts c ON c.agency_id = a.id
     LEFT JOIN brand_recognitions b ON b.agency_id = a.id AND b.withdrawn_at IS NULL
     WHERE a.status = 'active' AND ($1 = '' OR a.district_code = $1)";

impl Store {
    /// Every active agency of `district` (or the city) with its counts, read from the running
    /// counts the triggers keep.
    pub async fn agency_standings(&self, district: Option<&str>) -> Result<Vec<AgencyStanding>> {
        let sql = format!("{STANDING} ORDER BY a.id");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(district.unwrap_or("")).fetch_all(p).await?))
    }

    /// The recognised brands' standings: all that target 1 reads (a handful of rows, not every
    /// agency, so the targets page stays cheap at thousands of agencies).
    pub async fn branded_standings(&self) -> Result<Vec<AgencyStanding>> {
        let sql = format!("{STANDING} AND b.id IS NOT NULL ORDER BY a.id");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind("").fetch_all(p).await?))
    }

    /// Active bindings and the employee-based among them, of active agencies, per district.
    pub async fn binding_totals(&self) -> Result<Vec<(String, i64, i64)>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT a.district_code, CAST(COALESCE(SUM(c.active), 0) AS BIGINT),
                    CAST(COALESCE(SUM(c.active_employee), 0) AS BIGINT)
             FROM agencies a JOIN agency_binding_counts c ON c.agency_id = a.id
             WHERE a.status = 'active' GROUP BY a.district_code ORDER BY a.district_code",
        ).fetch_all(p).await?))
    }

    /// The same, counted from the bindings themselves: what the running counts must equal.
    pub async fn agency_standings_recount(&self, district: Option<&str>) -> Result<Vec<AgencyStanding>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT a.id AS agency_id, a.name, a.district_code, a.business_model,
                 (SELECT COUNT(*) FROM bindings x WHERE x.agency_id = a.id AND x.status = 'active') AS active,
                 (SELECT COUNT(*) FROM bindings x WHERE x.agency_id = a.id AND x.status = 'active' AND x.kind = 'employee')
                     AS active_employee,
                 b.brand_name AS brand
             FROM agencies a
             LEFT JOIN brand_recognitions b ON b.agency_id = a.id AND b.withdrawn_at IS NULL
             WHERE a.status = 'active' AND ($1 = '' OR a.district_code = $1) ORDER BY a.id",
        ).bind(district.unwrap_or("")).fetch_all(p).await?))
    }

    /// Brands the city recognises now, by district and name.
    pub async fn brands(&self, district: Option<&str>) -> Result<Vec<Brand>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT b.id, b.agency_id, a.name AS agency_name, a.district_code, b.brand_name, b.document, b.recognised_on
             FROM brand_recognitions b JOIN agencies a ON a.id = b.agency_id
             WHERE b.withdrawn_at IS NULL AND ($1 = '' OR a.district_code = $1)
             ORDER BY a.district_code, b.brand_name, b.id",
        ).bind(district.unwrap_or("")).fetch_all(p).await?))
    }

    /// Recognises an agency's brand. A second live recognition of one agency is a conflict.
    pub async fn recognise_brand(&self, draft: &BrandDraft, actor: i64) -> Result<i64> {
        let agency = self.agency(draft.agency_id).await?;
        let at = now();
        let record = AuditRecord {
            actor,
            action: "brand.recognise",
            subject_kind: "agency",
            subject_id: agency.id,
            subject_label: agency.name.clone(),
            before: None,
            after: Some(serde_json::json!({
                "brand_name": draft.brand_name, "document": draft.document,
                "recognised_on": draft.recognised_on.to_string(),
            })),
        };
        let id = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO brand_recognitions (agency_id, brand_name, document, recognised_on, recognised_by, recognised_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(agency.id).bind(&draft.brand_name).bind(&draft.document).bind(draft.recognised_on)
            .bind(actor).bind(at)
            .fetch_one(&mut *tx).await
            .map_err(StoreError::conflict_on("brand_recognised"))?;
            audit_in!(&mut *tx, &record)?;
            tx.commit().await?;
            id
        });
        Ok(id)
    }

    /// Withdraws an agency's live brand recognition, with the reason.
    pub async fn withdraw_brand(&self, agency_id: i64, reason: &str, actor: i64) -> Result<()> {
        let agency = self.agency(agency_id).await?;
        let live =
            self.brands(None).await?.into_iter().find(|b| b.agency_id == agency_id).ok_or(StoreError::NotFound)?;
        let record = AuditRecord {
            actor,
            action: "brand.withdraw",
            subject_kind: "agency",
            subject_id: agency.id,
            subject_label: agency.name.clone(),
            before: Some(serde_json::json!({ "brand_name": live.brand_name, "document": live.document })),
            after: Some(serde_json::json!({ "withdrawn": true, "reason": reason })),
        };
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let changed = sqlx::query(
                "UPDATE brand_recognitions SET withdrawn_by = $1, withdrawn_at = $2, withdraw_reason = $3
                 WHERE id = $4 AND withdrawn_at IS NULL",
            )
            .bind(actor).bind(now()).bind(reason).bind(live.id)
            .execute(&mut *tx).await?.rows_affected();
            if changed == 0 {
                return Err(StoreError::NotFound);
            }
            audit_in!(&mut *tx, &record)?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The market's figures for `district` (or the city): model contracts in employee-based
    /// agencies, complaints per thousand services and the hours to resolve them, and the share of
    /// active agencies with a published price list. Services are the recorded ones (a completed
    /// order records one), which complaints are filed about.
    pub async fn market_figures(&self, district: Option<&str>) -> Result<Vec<Figure>> {
        let contracts = self.contract_use_totals(district).await?;
        let area = district.unwrap_or("");
        let (complaints,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM complaints c
             LEFT JOIN agencies a ON c.subject_kind = 'agency' AND a.id = c.subject_id
             LEFT JOIN workers w ON c.subject_kind = 'worker' AND w.id = c.subject_id
             WHERE $1 = '' OR COALESCE(a.district_code, w.district_code) = $1",
        ).bind(area).fetch_one(p).await?);
        let decided: Vec<(DateTime<Utc>, DateTime<Utc>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT c.filed_at, c.updated_at FROM complaints c
             LEFT JOIN agencies a ON c.subject_kind = 'agency' AND a.id = c.subject_id
             LEFT JOIN workers w ON c.subject_kind = 'worker' AND w.id = c.subject_id
             WHERE c.status IN ('upheld', 'dismissed') AND ($1 = '' OR COALESCE(a.district_code, w.district_code) = $1)",
        ).bind(area).fetch_all(p).await?);
        let hours: i64 = decided.iter().map(|(filed, decided)| (*decided - *filed).num_hours().max(0)).sum();
        let (services,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM service_records s JOIN agencies a ON a.id = s.agency_id
             WHERE $1 = '' OR a.district_code = $1",
        ).bind(area).fetch_one(p).await?);
        let published_sql = "SELECT COUNT(*),
                 COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM menu_items m WHERE m.agency_id = a.id AND m.withdrawn_at IS NULL)
                     THEN 1 ELSE 0 END), 0)
             FROM agencies a WHERE a.status = 'active' AND ($1 = '' OR a.district_code = $1)";
        let (agencies, publishing): (i64, i64) =
            on_pool!(self, p => sqlx::query_as(published_sql).bind(area).fetch_one(p).await?);
        Ok(vec![
            Figure::new(
                Metric::ModelContracts,
                contracts.employee_based_under_contract,
                contracts.employee_based_services,
            ),
            Figure::new(Metric::ComplaintRate, complaints, services),
            Figure::new(Metric::ResolveDays, hours, decided.len() as i64),
            Figure::new(Metric::PricePublished, publishing, agencies),
        ])
    }

    /// Every figure of every district and the city as of `today`, from the workforce tallies the
    /// daily job has just counted.
    pub async fn plan_figures(&self, workforce: &HashMap<String, Tally>) -> Result<BTreeMap<String, Vec<Figure>>> {
        let city = self.city().await?.code;
        let coverage = self.coverage().await?;
        let standings = self.agency_standings(None).await?;
        let mut areas: Vec<Option<String>> = vec![None];
        areas.extend(self.districts().await?.into_iter().map(|d| Some(d.code)));
        let mut out = BTreeMap::new();
        for area in areas {
            let code = area.clone().unwrap_or_else(|| city.clone());
            let shares: Vec<AgencyShare> = standings
                .iter()
                .filter(|s| area.as_ref().is_none_or(|a| &s.district_code == a))
                .map(AgencyStanding::share)
                .collect();
            let division = match &area {
                Some(a) => Some(jiazheng_core::division::DivisionCode::parse(a).map_err(|_| StoreError::NotFound)?),
                None => None,
            };
            let tally = match &area {
                Some(a) => workforce.get(a).copied().unwrap_or_default(),
                None => workforce.values().fold(Tally::default(), |mut t, d| {
                    t.merge(d);
                    t
                }),
            };
            let mut figures = vec![target_one(&shares), employee_share(&shares)];
            figures.extend(coverage_figures(&coverage.tally(division.as_ref())));
            figures.extend(workforce_figures(&tally));
            figures.extend(self.market_figures(area.as_deref()).await?);
            out.insert(code, figures);
        }
        Ok(out)
    }

    /// Writes `today`'s figures as the month's row; a month that has ended is never written again.
    pub async fn write_plan_month(&self, today: NaiveDate, figures: &BTreeMap<String, Vec<Figure>>) -> Result<()> {
        let month = month_key(today);
        let rows: Vec<(&String, &Figure)> = figures.iter().flat_map(|(a, fs)| fs.iter().map(move |f| (a, f))).collect();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for chunk in rows.chunks(500) {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO kpi_monthly (area_code, month, metric, numerator, denominator, as_of) ",
                );
                qb.push_values(chunk, |mut b, (area, f)| {
                    b.push_bind((*area).clone()).push_bind(month.clone()).push_bind(f.metric.as_str())
                        .push_bind(f.numerator).push_bind(f.denominator).push_bind(today);
                });
                // Only a later day of the same month replaces the row: an older run (a clock set
                // back, a replayed job) never overwrites what a newer one wrote.
                qb.push(
                    " ON CONFLICT (area_code, month, metric) DO UPDATE SET numerator = excluded.numerator,
                      denominator = excluded.denominator, as_of = excluded.as_of
                      WHERE kpi_monthly.as_of <= excluded.as_of",
                );
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The series of `area`, oldest month first.
    pub async fn plan_series(&self, area: &str) -> Result<Vec<MonthRow>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT area_code, month, metric, numerator, denominator, as_of FROM kpi_monthly
             WHERE area_code = $1 ORDER BY month, metric",
        ).bind(area).fetch_all(p).await?))
    }

    /// The latest month's rows of every area.
    pub async fn plan_latest(&self) -> Result<Vec<MonthRow>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT area_code, month, metric, numerator, denominator, as_of FROM kpi_monthly
             WHERE month = (SELECT MAX(month) FROM kpi_monthly) ORDER BY area_code, metric",
        ).fetch_all(p).await?))
    }
}

pub fn coverage_figures(tally: &CoverageTally) -> [Figure; 2] {
    [
        Figure::new(Metric::CommunityCoverage, tally.communities.covered.into(), tally.communities.total.into()),
        Figure::new(Metric::VillageCoverage, tally.all_units.covered.into(), tally.all_units.total.into()),
    ]
}

pub fn workforce_figures(t: &Tally) -> [Figure; 6] {
    let of = |metric, n| Figure::new(metric, n, t.active_workers);
    [
        of(Metric::RelatedEducation, t.education_related),
        of(Metric::PreJobTraining, t.pre_job_trained),
        of(Metric::RetrainingCurrent, t.retraining_current),
        of(Metric::HealthValid, t.health_valid),
        of(Metric::Insured, t.insured),
        of(Metric::Certified, t.certified),
    ]
}
