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

pub(crate) fn unknown_division() -> jiazheng_core::field::Invalid {
    jiazheng_core::field::Invalid::new("unknown_division", "区划代码不存在", "no division has this code")
}
