//! Registry persistence: divisions, agencies, workers, bindings, service points.

pub mod agencies;
pub mod bindings;
pub mod divisions;
pub mod service_points;
pub mod workers;

use crate::{Store, on_pool};

impl Store {
    /// True when the division exists; used to answer an unknown code with a field error
    /// rather than a foreign-key failure.
    pub async fn division_exists(&self, code: &str) -> crate::Result<bool> {
        let found: Option<(String,)> = on_pool!(self, p => sqlx::query_as("SELECT code FROM divisions WHERE code = $1")
            .bind(code)
            .fetch_optional(p)
            .await?);
        Ok(found.is_some())
    }
}

impl Store {
    /// Which of these codes are divisions, in one query.
    pub async fn known_divisions(&self, codes: &[&str]) -> crate::Result<std::collections::HashSet<String>> {
        let mut known = std::collections::HashSet::new();
        for chunk in codes.chunks(500) {
            let rows: Vec<(String,)> = on_pool!(self, p => {
                let mut qb = sqlx::QueryBuilder::new("SELECT code FROM divisions WHERE code IN (");
                let mut list = qb.separated(", ");
                for code in chunk {
                    list.push_bind(code.to_string());
                }
                qb.push(")");
                qb.build_query_as().fetch_all(p).await?
            });
            known.extend(rows.into_iter().map(|(code,)| code));
        }
        Ok(known)
    }
}

pub(crate) fn unknown_division() -> jiazheng_core::field::Invalid {
    jiazheng_core::field::Invalid::new("unknown_division", "区划代码不存在", "no division has this code")
}
