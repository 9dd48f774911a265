//! Loading what the compliance rules read, for one worker, one agency's workers, or a range of
//! worker ids (the daily job walks the whole register in ranges). Each worker comes back as one
//! row with its facts aggregated to JSON by the database: rows, not statements, are what cost
//! most on the way out of SQLite, and a worker has a dozen facts.

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

#[derive(sqlx::FromRow)]
struct FactsRow {
    id: i64,
    name: String,
    id_masked: String,
    district_code: String,
    services: i64,
    education_related: bool,
    agencies: Option<String>,
    trainings: Option<String>,
    health: Option<String>,
    policies: Option<String>,
    agency_policies: Option<String>,
    certificates: Option<String>,
}

/// The SQL of one engine: its JSON aggregate (as text), array builder and hex encoding of bytes.
fn facts_sql(engine: Engine, scope: FactsScope) -> String {
    let (open, close, arr, hex) = match engine {
        Engine::Sqlite => ("json_group_array(", ")", "json_array", "hex(h.result_cipher)"),
        Engine::Postgres => ("json_agg(", ")::text", "json_build_array", "encode(h.result_cipher, 'hex')"),
    };
    let from = match scope {
        FactsScope::Agency(_) => {
            "FROM bindings b JOIN workers w ON w.id = b.worker_id WHERE b.agency_id = $1 AND b.status = 'active'"
        }
        FactsScope::Range(..) => "FROM workers w WHERE w.id BETWEEN $1 AND $2",
    };
    format!(
        "SELECT w.id, w.name, w.id_masked, w.district_code, w.services, w.education_related,
            (SELECT {open}a.agency_id{close} FROM bindings a WHERE a.worker_id = w.id AND a.status = 'active') AS agencies,
            (SELECT {open}{arr}(t.course_id, t.course_kind, t.completed_on, t.exam_passed, t.source){close}
               FROM training_records t WHERE t.worker_id = w.id) AS trainings,
            (SELECT {open}{arr}(h.checked_on, h.category, {hex}){close}
               FROM health_checks h WHERE h.worker_id = w.id) AS health,
            (SELECT {open}{arr}(p.starts_on, p.ends_on){close}
               FROM insurance_policies p WHERE p.worker_id = w.id) AS policies,
            (SELECT {open}{arr}(p.starts_on, p.ends_on){close}
               FROM bindings a JOIN insurance_policies p ON p.agency_id = a.agency_id AND p.worker_id IS NULL
               WHERE a.worker_id = w.id AND a.status = 'active') AS agency_policies,
            (SELECT {open}{arr}(c.kind, c.trade, c.level, c.valid_until){close}
               FROM skill_certificates c WHERE c.worker_id = w.id) AS certificates
         {from}"
    )
}

fn bad(what: &'static str) -> StoreError {
    StoreError::Crypto(what)
}

/// The aggregated rows of one fact kind; absent (PostgreSQL over no rows) is empty.
fn rows(json: &Option<String>) -> Result<Vec<Vec<Value>>> {
    match json {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(text).map_err(|_| bad("bad aggregated facts")),
    }
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
        let rows_out: Vec<FactsRow> = on_pool!(self, p => {
            let mut query = sqlx::query_as(AssertSqlSafe(sql));
            for value in &params {
                query = query.bind(*value);
            }
            query.fetch_all(p).await?
        });
        let mut out = Vec::with_capacity(rows_out.len());
        for row in rows_out {
            out.push(self.worker_facts_of(row)?);
        }
        out.sort_unstable_by_key(|w| w.id);
        Ok(out)
    }

    fn worker_facts_of(&self, row: FactsRow) -> Result<WorkerFacts> {
        let mut facts = Facts::default();
        for t in rows(&row.trainings)? {
            facts.trainings.push(TrainingFact {
                course_id: cell(&t, 0).as_i64(),
                kind: choice(cell(&t, 1), CourseKind::parse)?,
                completed_on: date(cell(&t, 2))?,
                passed: boolean(cell(&t, 3)),
                source: choice(cell(&t, 4), Source::parse)?,
            });
        }
        for h in rows(&row.health)? {
            let cipher = hex::decode(text(cell(&h, 2)).unwrap_or("")).map_err(|_| bad("bad stored cipher"))?;
            facts.health_checks.push(HealthFact {
                checked_on: required_date(cell(&h, 0))?,
                category: choice(cell(&h, 1), HealthCategory::parse)?,
                passed: HealthResult::from_plain(&self.crypto().open(&cipher)?).passed,
            });
        }
        for p in rows(&row.policies)?.into_iter().chain(rows(&row.agency_policies)?) {
            facts
                .policies
                .push(PolicyFact { starts_on: required_date(cell(&p, 0))?, ends_on: required_date(cell(&p, 1))? });
        }
        for c in rows(&row.certificates)? {
            facts.certificates.push(CertificateFact {
                kind: choice(cell(&c, 0), CertificateKind::parse)?,
                trade: optional_choice(cell(&c, 1), Trade::parse)?,
                level: optional_choice(cell(&c, 2), SkillLevel::parse)?,
                valid_until: date(cell(&c, 3))?,
            });
        }
        let agencies: Vec<i64> = match &row.agencies {
            None => Vec::new(),
            Some(text) => serde_json::from_str(text).map_err(|_| bad("bad aggregated agencies"))?,
        };
        Ok(WorkerFacts {
            id: row.id,
            name: row.name,
            id_masked: row.id_masked,
            district_code: row.district_code,
            services: row.services,
            education_related: row.education_related,
            agencies,
            facts,
        })
    }

    /// One worker's facts.
    pub async fn worker_facts(&self, worker_id: i64) -> Result<Facts> {
        let mut found = self.load_worker_facts(FactsScope::Range(worker_id, worker_id)).await?;
        Ok(found.pop().map(|w| w.facts).unwrap_or_default())
    }
}
