//! Each worker's days of readiness per service, kept so the market's search can ask the database
//! for workers who meet the rules on a day instead of assessing thousands in Rust. Triggers mark a
//! worker stale when a fact the rules read changes (see migration 0016); `refresh_readiness`
//! recomputes the stale ones. A stale worker's spans may be wrong, so readers assess those
//! workers themselves.

use chrono::NaiveDate;
use jiazheng_core::registry::ServiceSet;
use jiazheng_core::workforce::compliance::{Requirement, ready_spans};
use sqlx::QueryBuilder;

use crate::{Result, Store, on_pool};

/// The end stored for a span nothing on record closes.
pub const FOREVER: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date");

struct Span {
    worker_id: i64,
    service: &'static str,
    district_code: String,
    from: NaiveDate,
    until: NaiveDate,
}

/// Spans recomputed for some stale workers, each with the mark count it was computed at; written
/// by [`Store::apply_readiness`]. Planning reads only, so it can run beside a writer.
#[derive(Default)]
pub struct ReadinessPlan {
    stale: Vec<(i64, i64)>,
    spans: Vec<Span>,
}

impl ReadinessPlan {
    /// How many stale workers the plan settles.
    pub fn len(&self) -> usize {
        self.stale.len()
    }

    pub fn is_empty(&self) -> bool {
        self.stale.is_empty()
    }
}

/// Which stale workers to plan for.
#[derive(Debug, Clone, Copy)]
pub enum StaleScope {
    /// The first `n` by id.
    First(i64),
    /// Those with ids in this inclusive range.
    Range(i64, i64),
}

impl Store {
    /// Recomputes the spans of up to `batch` stale workers from `today` on; returns how many were
    /// taken (0 when none is stale). A worker marked again while this ran stays marked.
    pub async fn refresh_readiness(&self, batch: i64, today: NaiveDate) -> Result<usize> {
        let plan = self.plan_readiness(StaleScope::First(batch), today).await?;
        self.apply_readiness(&plan).await
    }

    /// The spans of the stale workers in `scope`, from `today` on, with the marks they were read at.
    pub async fn plan_readiness(&self, scope: StaleScope, today: NaiveDate) -> Result<ReadinessPlan> {
        let stale: Vec<(i64, i64)> = match scope {
            StaleScope::First(n) => on_pool!(self, p => sqlx::query_as(
                "SELECT worker_id, marks FROM readiness_stale ORDER BY worker_id LIMIT $1",
            ).bind(n).fetch_all(p).await?),
            StaleScope::Range(lo, hi) => on_pool!(self, p => sqlx::query_as(
                "SELECT worker_id, marks FROM readiness_stale WHERE worker_id BETWEEN $1 AND $2 ORDER BY worker_id",
            ).bind(lo).bind(hi).fetch_all(p).await?),
        };
        let mut spans = Vec::new();
        for chunk in stale.chunks(5000) {
            let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
            for worker in self.load_facts_of_workers(&ids).await? {
                for service in ServiceSet::from_bits(worker.services).kinds() {
                    for (from, until) in ready_spans(&worker.facts, &Requirement::for_service(service), today) {
                        spans.push(Span {
                            worker_id: worker.id,
                            service: service.as_str(),
                            district_code: worker.district_code.clone(),
                            from,
                            until: until.unwrap_or(FOREVER),
                        });
                    }
                }
            }
        }
        Ok(ReadinessPlan { stale, spans })
    }

    /// Writes a plan's spans and clears the marks it was computed at; returns how many workers it
    /// covered. A worker marked again since the plan was read keeps its newer mark.
    pub async fn apply_readiness(&self, plan: &ReadinessPlan) -> Result<usize> {
        if plan.stale.is_empty() {
            return Ok(0);
        }
        let ReadinessPlan { stale, spans } = plan;
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for chunk in stale.chunks(1000) {
                // Integers only, so the list is written into the text.
                let list = chunk.iter().map(|(id, _)| id.to_string()).collect::<Vec<_>>().join(",");
                sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM worker_readiness WHERE worker_id IN ({list})")))
                    .execute(&mut *tx).await?;
            }
            for chunk in spans.chunks(1000) {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO worker_readiness (worker_id, service, district_code, ready_from, ready_until) ",
                );
                qb.push_values(chunk, |mut row, s| {
                    row.push_bind(s.worker_id).push_bind(s.service).push_bind(&s.district_code)
                        .push_bind(s.from).push_bind(s.until);
                });
                qb.build().execute(&mut *tx).await?;
            }
            for chunk in stale.chunks(1000) {
                let mut qb = QueryBuilder::new("DELETE FROM readiness_stale WHERE (worker_id, marks) IN (VALUES ");
                let mut pairs = qb.separated(", ");
                for (id, marks) in chunk {
                    pairs.push(format!("({id}, {marks})"));
                }
                qb.push(")");
                qb.build().execute(&mut *tx).await?;
            }
            tx.commit().await?;
        });
        Ok(stale.len())
    }

    /// Refreshes every stale worker, reporting (done, still stale at the start) as it goes.
    pub async fn refresh_all_readiness(&self, today: NaiveDate, progress: &(dyn Fn(u64, u64) + Sync)) -> Result<u64> {
        let total = self.stale_readiness().await?.max(0) as u64;
        let mut done = 0;
        loop {
            let taken = self.refresh_readiness(1000, today).await? as u64;
            if taken == 0 {
                return Ok(done);
            }
            done += taken;
            progress(done.min(total), total);
        }
    }

    /// A worker's spans: (service code, first day, first day no longer ready), in order.
    pub async fn readiness_of(&self, worker_id: i64) -> Result<Vec<(String, NaiveDate, NaiveDate)>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT service, ready_from, ready_until FROM worker_readiness WHERE worker_id = $1
             ORDER BY service, ready_from",
        ).bind(worker_id).fetch_all(p).await?))
    }

    /// How many workers wait for their readiness to be recomputed.
    pub async fn stale_readiness(&self) -> Result<i64> {
        let (count,): (i64,) =
            on_pool!(self, p => sqlx::query_as("SELECT COUNT(*) FROM readiness_stale").fetch_one(p).await?);
        Ok(count)
    }
}
