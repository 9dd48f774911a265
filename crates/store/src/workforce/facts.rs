//! Loading what the compliance rules read, for one worker, one agency's workers, or a range of
//! worker ids (the daily job walks the whole register in ranges). The database aggregates the
//! workers and their facts to one JSON text; the rules in core then read plain structs.

use chrono::NaiveDate;
use jiazheng_core::workforce::compliance::{CertificateFact, Facts, HealthFact, PolicyFact, TrainingFact};
use jiazheng_core::workforce::{CertificateKind, CourseKind, HealthCategory, SkillLevel, Source, Trade};
use serde_json::Value;
use sqlx::AssertSqlSafe;

use super::HealthResult;
use crate::{Engine, Result, Store, StoreError, on_pool};

/// Whose facts to load.
#[derive(Debug, Clone, Copy)]
pub enum FactsScope {
    /// Workers with an active binding to this agency.
    Agency(i64),
    /// Workers with ids in this inclusive range.
    Range(i64, i64),
}

/// A worker with what the rules and the board need.
#[derive(Debug, Clone)]
pub struct WorkerFacts {
    pub id: i64,
    pub name: String,
    pub id_masked: String,
    pub district_code: String,
    pub services: i64,
    pub education_related: bool,
    /// Agencies with an active binding.
    pub agencies: Vec<i64>,
    pub facts: Facts,
}

/// The SQL of one engine. The whole answer is one row holding a JSON array with one entry per
/// worker, each with its facts nested: SQLite hands every row to the async side across threads,
/// so two thousand rows cost more than the query itself.
fn facts_sql(engine: Engine, scope: FactsScope) -> String {
    let from = match scope {
        FactsScope::Agency(_) => {
            "FROM bindings b JOIN workers w ON w.id = b.worker_id WHERE b.agency_id = $1 AND b.status = 'active'"
        }
        FactsScope::Range(..) => "FROM workers w WHERE w.id BETWEEN $1 AND $2",
    };
    facts_sql_from(engine, from)
}

/// The facts query over the workers `from` selects (as `w`).
fn facts_sql_from(engine: Engine, from: &str) -> String {
    // (aggregate open, close) for the outer text, nested JSON aggregates, array builder, hex.
    let (outer_open, outer_close, arr, hex) = match engine {
        Engine::Sqlite => ("json_group_array(", ")", "json_array", "hex(h.result_cipher)"),
        Engine::Postgres => ("json_agg(", ")::text", "json_build_array", "encode(h.result_cipher, 'hex')"),
    };
    // The JSON array of `item` over the rows of `from`, nested as JSON (never NULL).
    let nested = |item: &str, from: &str| match engine {
        Engine::Sqlite => format!("json((SELECT json_group_array({item}) {from}))"),
        Engine::Postgres => format!("coalesce((SELECT json_agg({item}) {from}), '[]'::json)"),
    };
    let agencies = nested("a.agency_id", "FROM bindings a WHERE a.worker_id = w.id AND a.status = 'active'");
    let trainings = nested(
        &format!("{arr}(t.course_id, t.course_kind, t.completed_on, t.exam_passed, t.source)"),
        "FROM training_records t WHERE t.worker_id = w.id AND t.withdrawn_seq IS NULL",
    );
    let health = nested(
        &format!("{arr}(h.checked_on, h.category, {hex})"),
        "FROM health_checks h WHERE h.worker_id = w.id AND h.withdrawn_seq IS NULL",
    );
    let policies = nested(
        &format!("{arr}(p.starts_on, p.ends_on)"),
        "FROM insurance_policies p WHERE p.worker_id = w.id AND p.withdrawn_seq IS NULL",
    );
    let agency_policies = nested(
        &format!("{arr}(p.starts_on, p.ends_on)"),
        "FROM bindings a JOIN insurance_policies p ON p.agency_id = a.agency_id AND p.worker_id IS NULL
         WHERE a.worker_id = w.id AND a.status = 'active' AND p.withdrawn_seq IS NULL",
    );
    let certificates = nested(
        &format!("{arr}(c.kind, c.trade, c.level, c.valid_until)"),
        "FROM skill_certificates c WHERE c.worker_id = w.id AND c.withdrawn_seq IS NULL",
    );
    format!(
        "SELECT {outer_open}{arr}(w.id, w.name, w.id_masked, w.district_code, w.services, w.education_related,
            {agencies}, {trainings}, {health}, {policies}, {agency_policies}, {certificates}){outer_close}
         {from}"
    )
}

fn bad(what: &'static str) -> StoreError {
    StoreError::Crypto(what)
}

/// The entries of one nested array.
fn rows(value: &Value) -> impl Iterator<Item = &[Value]> {
    value.as_array().map(Vec::as_slice).unwrap_or_default().iter().filter_map(|v| v.as_array().map(Vec::as_slice))
}

fn text(v: &Value) -> Option<&str> {
    v.as_str()
}

fn date(v: &Value) -> Result<Option<NaiveDate>> {
    match v.as_str() {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d").map(Some).map_err(|_| bad("bad stored date")),
    }
}

fn required_date(v: &Value) -> Result<NaiveDate> {
    date(v)?.ok_or_else(|| bad("missing stored date"))
}

/// A stored boolean: SQLite gives 0/1, PostgreSQL true/false.
fn boolean(v: &Value) -> Option<bool> {
    v.as_bool().or_else(|| v.as_i64().map(|n| n != 0))
}

fn choice<T>(v: &Value, parse: impl Fn(&str) -> Result<T, jiazheng_core::field::Invalid>) -> Result<T> {
    text(v).and_then(|s| parse(s).ok()).ok_or_else(|| bad("bad stored code"))
}

fn optional_choice<T>(
    v: &Value,
    parse: impl Fn(&str) -> Result<T, jiazheng_core::field::Invalid>,
) -> Result<Option<T>> {
    match text(v) {
        None => Ok(None),
        Some(s) => parse(s).map(Some).map_err(|_| bad("bad stored code")),
    }
}

fn cell(row: &[Value], i: usize) -> &Value {
    row.get(i).unwrap_or(&Value::Null)
}

impl Store {
    /// Every worker in the scope with their facts, in id order.
    pub async fn load_worker_facts(&self, scope: FactsScope) -> Result<Vec<WorkerFacts>> {
        let sql = facts_sql(self.engine(), scope);
        let params = match scope {
            FactsScope::Agency(agency) => vec![agency],
            FactsScope::Range(lo, hi) => vec![lo, hi],
        };
        let (json,): (Option<String>,) = on_pool!(self, p => {
            let mut query = sqlx::query_as(AssertSqlSafe(sql));
            for value in &params {
                query = query.bind(*value);
            }
            query.fetch_one(p).await?
        });
        let Some(json) = json else { return Ok(Vec::new()) };
        let workers: Vec<Vec<Value>> = serde_json::from_str(&json).map_err(|_| bad("bad aggregated facts"))?;
        let mut out = workers.iter().map(|w| self.worker_facts_of(w)).collect::<Result<Vec<_>>>()?;
        out.sort_unstable_by_key(|w| w.id);
        Ok(out)
    }

    /// The facts of the listed workers (unknown ids are skipped), in id order.
    pub async fn load_facts_of_workers(&self, ids: &[i64]) -> Result<Vec<WorkerFacts>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        // Integers only, so the list is written into the text.
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let sql = facts_sql_from(self.engine(), &format!("FROM workers w WHERE w.id IN ({list})"));
        let (json,): (Option<String>,) = on_pool!(self, p => sqlx::query_as(AssertSqlSafe(sql)).fetch_one(p).await?);
        let Some(json) = json else { return Ok(Vec::new()) };
        let workers: Vec<Vec<Value>> = serde_json::from_str(&json).map_err(|_| bad("bad aggregated facts"))?;
        let mut out = workers.iter().map(|w| self.worker_facts_of(w)).collect::<Result<Vec<_>>>()?;
        out.sort_unstable_by_key(|w| w.id);
        Ok(out)
    }

    fn worker_facts_of(&self, w: &[Value]) -> Result<WorkerFacts> {
        let mut facts = Facts::default();
        for t in rows(cell(w, 7)) {
            facts.trainings.push(TrainingFact {
                course_id: cell(t, 0).as_i64(),
                kind: choice(cell(t, 1), CourseKind::parse)?,
                completed_on: date(cell(t, 2))?,
                passed: boolean(cell(t, 3)),
                source: choice(cell(t, 4), Source::parse)?,
            });
        }
        let worker_id = cell(w, 0).as_i64().ok_or_else(|| bad("bad aggregated worker"))?;
        for h in rows(cell(w, 8)) {
            let cipher = hex::decode(text(cell(h, 2)).unwrap_or("")).map_err(|_| bad("bad stored cipher"))?;
            let checked_on = required_date(cell(h, 0))?;
            let category = choice(cell(h, 1), HealthCategory::parse)?;
            let place = super::health_place(worker_id, checked_on, category.as_str());
            let passed = HealthResult::from_plain(&self.crypto().open_at(&cipher, &place)?).passed;
            facts.health_checks.push(HealthFact { checked_on, category, passed });
        }
        for p in rows(cell(w, 9)).chain(rows(cell(w, 10))) {
            facts
                .policies
                .push(PolicyFact { starts_on: required_date(cell(p, 0))?, ends_on: required_date(cell(p, 1))? });
        }
        for c in rows(cell(w, 11)) {
            facts.certificates.push(CertificateFact {
                kind: choice(cell(c, 0), CertificateKind::parse)?,
                trade: optional_choice(cell(c, 1), Trade::parse)?,
                level: optional_choice(cell(c, 2), SkillLevel::parse)?,
                valid_until: date(cell(c, 3))?,
            });
        }
        let string = |i: usize| text(cell(w, i)).map(String::from).ok_or_else(|| bad("bad aggregated worker"));
        Ok(WorkerFacts {
            id: worker_id,
            name: string(1)?,
            id_masked: string(2)?,
            district_code: string(3)?,
            services: cell(w, 4).as_i64().ok_or_else(|| bad("bad aggregated worker"))?,
            education_related: boolean(cell(w, 5)).unwrap_or(false),
            agencies: cell(w, 6).as_array().map(|a| a.iter().filter_map(Value::as_i64).collect()).unwrap_or_default(),
            facts,
        })
    }

    /// A worker checked against every service they offer, on `today`.
    pub async fn worker_compliance(
        &self,
        worker_id: i64,
        services: i64,
        today: NaiveDate,
    ) -> Result<jiazheng_core::workforce::compliance::Compliance> {
        use jiazheng_core::workforce::compliance::{Requirement, assess};
        let facts = self.worker_facts(worker_id).await?;
        let requirement = Requirement::for_services(jiazheng_core::registry::ServiceSet::from_bits(services));
        Ok(assess(&facts, &requirement, today))
    }

    /// One worker's facts.
    pub async fn worker_facts(&self, worker_id: i64) -> Result<Facts> {
        let mut found = self.load_worker_facts(FactsScope::Range(worker_id, worker_id)).await?;
        Ok(found.pop().map(|w| w.facts).unwrap_or_default())
    }
}
