//! Registry persistence: divisions, agencies, workers, bindings, service points.

pub mod agencies;
pub mod bindings;
pub mod city;
pub mod divisions;
pub mod photos;
pub mod places;
pub mod service_points;
pub mod workers;

use crate::{Store, on_pool};

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

    /// Refuses unknown division codes with a field error naming the first one's field, rather
    /// than letting a foreign key fail; all codes are checked in one query.
    pub(crate) async fn require_divisions(&self, codes: &[(&str, &str)]) -> crate::Result<()> {
        let mut codes = codes.to_vec();
        codes.sort_unstable();
        codes.dedup_by_key(|(code, _)| *code);
        let list: Vec<&str> = codes.iter().map(|(code, _)| *code).collect();
        let known = self.known_divisions(&list).await?;
        match codes.iter().find(|(code, _)| !known.contains(*code)) {
            Some((_, field)) => {
                Err(crate::StoreError::Invalid(jiazheng_core::FieldErrors(vec![unknown_division().at(*field)])))
            }
            None => Ok(()),
        }
    }
}

pub(crate) fn unknown_division() -> jiazheng_core::field::Invalid {
    jiazheng_core::field::Invalid::new("unknown_division", "区划代码不存在", "no division has this code")
}
