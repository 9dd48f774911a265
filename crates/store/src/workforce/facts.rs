//! Loading what the compliance rules read, for one worker, one agency's workers, or a range of
//! worker ids (the daily job walks the whole register in ranges).

use std::collections::HashMap;

use chrono::NaiveDate;
use jiazheng_core::workforce::compliance::{CertificateFact, Facts, HealthFact, PolicyFact, TrainingFact};
use jiazheng_core::workforce::{CertificateKind, CourseKind, HealthCategory, SkillLevel, Source, Trade};
use sqlx::AssertSqlSafe;

use super::HealthResult;
use crate::{Result, Store, StoreError, on_pool};

/// Whose facts to load.
#[derive(Debug, Clone, Copy)]
pub enum FactsScope {
    /// Workers with an active binding to this agency.
    Agency(i64),
    /// Workers with ids in this inclusive range.
    Range(i64, i64),
}

fn bad(what: &'static str) -> StoreError {
    StoreError::Crypto(what)
}

fn parse<T>(
    raw: &str,
    parse: impl Fn(&str) -> Result<T, jiazheng_core::field::Invalid>,
    what: &'static str,
) -> Result<T> {
    parse(raw).map_err(|_| bad(what))
}

/// The join or filter that narrows a fact table (alias `x`) to the scope, and its parameters.
fn scope_sql(scope: FactsScope) -> (&'static str, Vec<i64>) {
    match scope {
        FactsScope::Agency(agency) => (
            "JOIN bindings b ON b.worker_id = x.worker_id AND b.status = 'active' AND b.agency_id = $1 WHERE TRUE",
            vec![agency],
        ),
        FactsScope::Range(lo, hi) => ("WHERE x.worker_id BETWEEN $1 AND $2", vec![lo, hi]),
    }
}

type TrainingRow = (i64, Option<i64>, String, Option<NaiveDate>, Option<bool>, String);
type HealthRow = (i64, NaiveDate, String, Vec<u8>);
type PolicyRow = (i64, NaiveDate, NaiveDate);
type CertificateRow = (i64, String, Option<String>, Option<String>, Option<NaiveDate>);

impl Store {
    /// The facts of every worker in the scope who has any; workers with none are absent.
    pub async fn load_facts(&self, scope: FactsScope) -> Result<HashMap<i64, Facts>> {
        let (narrow, params) = scope_sql(scope);
        let trainings_sql = format!(
            "SELECT x.worker_id, x.course_id, x.course_kind, x.completed_on, x.exam_passed, x.source
             FROM training_records x {narrow}"
        );
        let health_sql =
            format!("SELECT x.worker_id, x.checked_on, x.category, x.result_cipher FROM health_checks x {narrow}");
        let policies_sql = format!(
            "SELECT x.worker_id, x.starts_on, x.ends_on FROM insurance_policies x {narrow} AND x.worker_id IS NOT NULL"
        );
        let certificates_sql =
            format!("SELECT x.worker_id, x.kind, x.trade, x.level, x.valid_until FROM skill_certificates x {narrow}");
        // Agency-wide policies reach every worker actively bound to the agency.
        let agency_policies_sql = format!(
            "SELECT x.worker_id, p.starts_on, p.ends_on FROM bindings x
             JOIN insurance_policies p ON p.agency_id = x.agency_id AND p.worker_id IS NULL
             {} AND x.status = 'active'",
            match scope {
                FactsScope::Agency(_) => "WHERE x.agency_id = $1",
                FactsScope::Range(..) => "WHERE x.worker_id BETWEEN $1 AND $2",
            }
        );
        let (trainings, health, policies, agency_policies, certificates) = on_pool!(self, p => {
            macro_rules! fetch {
                ($sql:expr) => {{
                    let mut query = sqlx::query_as(AssertSqlSafe($sql));
                    for value in &params {
                        query = query.bind(*value);
                    }
                    query.fetch_all(p).await?
                }};
            }
            let trainings: Vec<TrainingRow> = fetch!(trainings_sql);
            let health: Vec<HealthRow> = fetch!(health_sql);
            let policies: Vec<PolicyRow> = fetch!(policies_sql);
            let agency_policies: Vec<PolicyRow> = fetch!(agency_policies_sql);
            let certificates: Vec<CertificateRow> = fetch!(certificates_sql);
            (trainings, health, policies, agency_policies, certificates)
        });
        let mut facts: HashMap<i64, Facts> = HashMap::new();
        for (worker, course_id, kind, completed_on, passed, source) in trainings {
            facts.entry(worker).or_default().trainings.push(TrainingFact {
                course_id,
                kind: parse(&kind, CourseKind::parse, "bad stored course kind")?,
                completed_on,
                passed,
                source: parse(&source, Source::parse, "bad stored source")?,
            });
        }
        for (worker, checked_on, category, cipher) in health {
            let result = HealthResult::from_plain(&self.crypto().open(&cipher)?);
            facts.entry(worker).or_default().health_checks.push(HealthFact {
                checked_on,
                category: parse(&category, HealthCategory::parse, "bad stored category")?,
                passed: result.passed,
            });
        }
        for (worker, starts_on, ends_on) in policies.into_iter().chain(agency_policies) {
            facts.entry(worker).or_default().policies.push(PolicyFact { starts_on, ends_on });
        }
        for (worker, kind, trade, level, valid_until) in certificates {
            facts.entry(worker).or_default().certificates.push(CertificateFact {
                kind: parse(&kind, CertificateKind::parse, "bad stored certificate kind")?,
                trade: trade.as_deref().map(|t| parse(t, Trade::parse, "bad stored trade")).transpose()?,
                level: level.as_deref().map(|l| parse(l, SkillLevel::parse, "bad stored level")).transpose()?,
                valid_until,
            });
        }
        Ok(facts)
    }

    /// One worker's facts.
    pub async fn worker_facts(&self, worker_id: i64) -> Result<Facts> {
        Ok(self.load_facts(FactsScope::Range(worker_id, worker_id)).await?.remove(&worker_id).unwrap_or_default())
    }
}
