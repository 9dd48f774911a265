//! 家政进社区: coverage of the city's communities by service points, demand surveys, and the
//! supply agencies offer where households live; service points' operations, 家政驿站, volunteer
//! service, and how often residents keep their worker.

pub mod coverage;
pub mod operations;
pub mod supply;
pub mod surveys;
pub mod volunteer;

use jiazheng_core::division::DivisionCode;

use crate::{Result, Store, on_pool};
use coverage::area_prefix;

/// Counts community staff see for their area.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct AreaFacts {
    /// Workers whose home street lies in the area (a community's staff count their street's).
    pub workers: i64,
    /// Residents with a live subsidy grant this year.
    pub subsidised: i64,
}

impl Store {
    pub async fn area_facts(&self, area: &DivisionCode, year: i32) -> Result<AreaFacts> {
        let street_or_wider = if area.level() == jiazheng_core::division::DivisionLevel::Community {
            area.street()
        } else {
            area.clone()
        };
        let home = format!("{}%", area_prefix(&street_or_wider));
        let (workers,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM workers WHERE district_code = $1 AND home_street LIKE $2",
        ).bind(area.district().as_str()).bind(&home).fetch_one(p).await?);
        let (subsidised,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM subsidy_grants WHERE district_code = $1 AND community_code LIKE $2
               AND year = $3 AND revoked_at IS NULL",
        ).bind(area.district().as_str()).bind(format!("{}%", area_prefix(area))).bind(i64::from(year)).fetch_one(p).await?);
        Ok(AreaFacts { workers, subsidised })
    }
}
