//! The review queue as a regulator narrows it: by kind of record, by the agency that entered
//! it, by district (city regulators), by how long it has waited, oldest or newest first. The
//! choice travels in every link and form of the desk, so a decision returns to the same view.

use jiazheng_core::credit::EntryKind;
use jiazheng_store::credit::casework::QueueFilter;

use crate::i18n::Lang;
use crate::{AppError, AppState};

/// The kinds of record the queue holds (agency-entered worker records).
pub const REVIEWED_KINDS: [EntryKind; 5] = [
    EntryKind::IdentityVerified,
    EntryKind::Training,
    EntryKind::Certificate,
    EntryKind::HealthCheck,
    EntryKind::Insurance,
];

/// Waiting longer than this many days.
pub const AGES: [u32; 3] = [3, 7, 30];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueView {
    pub kind: String,
    /// The agency as the regulator typed it: a name or a credit code.
    pub agency: String,
    pub district: String,
    pub age: String,
    pub sort: String,
    pub page: Option<u32>,
}

impl QueueView {
    /// From a query string or a form's fields; unknown fields are someone else's.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let mut view = Self::default();
        for (key, value) in pairs {
            let value = value.trim().chars().take(100).collect::<String>();
            match key.as_str() {
                "kind" => view.kind = value,
                "agency" => view.agency = value,
                "district" => view.district = value,
                "age" => view.age = value,
                "sort" => view.sort = value,
                "page" => view.page = value.parse().ok(),
                _ => {}
            }
        }
        view
    }

    /// The choices as (name, value), for hidden fields; empty ones left out.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        [
            ("kind", &self.kind),
            ("agency", &self.agency),
            ("district", &self.district),
            ("age", &self.age),
            ("sort", &self.sort),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k, v.clone()))
        .collect()
    }

    /// The choices as a query string (without the page), for links.
    pub fn query(&self) -> String {
        self.fields().iter().map(|(k, v)| format!("{k}={}", super::encode(v))).collect::<Vec<_>>().join("&")
    }

    /// The desk's address for this view at `page`, with anything `extra` adds.
    pub fn link(&self, page: Option<u32>, extra: &str) -> String {
        let mut parts: Vec<String> = Vec::new();
        let query = self.query();
        if !query.is_empty() {
            parts.push(query);
        }
        if let Some(page) = page {
            parts.push(format!("page={page}"));
        }
        if !extra.is_empty() {
            parts.push(extra.to_string());
        }
        format!("/regulator/credit?{}#review-queue", parts.join("&"))
    }

    /// The store's filter, and the reason beside the agency field when the agency typed fits none.
    pub async fn filter(&self, state: &AppState, area: Option<&str>, lang: Lang) -> (QueueFilter, Option<String>) {
        let mut filter = QueueFilter::area(area);
        filter.kind = REVIEWED_KINDS.iter().copied().find(|k| k.as_str() == self.kind);
        filter.district =
            Some(self.district.clone()).filter(|d| d.len() == 12 && d.bytes().all(|b| b.is_ascii_digit()));
        filter.entered_before = self
            .age
            .parse::<u32>()
            .ok()
            .filter(|days| AGES.contains(days))
            .map(|days| chrono::Utc::now() - chrono::Duration::days(i64::from(days)));
        filter.newest_first = self.sort == "newest";
        let mut agency_error = None;
        if !self.agency.is_empty() {
            match super::subjects::named(state, "agency", &self.agency, area).await {
                Ok(id) => filter.agency = Some(id),
                Err(AppError::Invalid(errors)) => {
                    // Nothing matches an agency that is not there.
                    filter.agency = Some(0);
                    agency_error = errors.0.first().map(|e| lang.pick(&e.message_zh, &e.message_en).to_string());
                }
                Err(other) => {
                    tracing::warn!(error = ?other, "queue agency filter");
                    filter.agency = Some(0);
                }
            }
        }
        (filter, agency_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_survives_its_own_links_and_forms() {
        let pairs: Vec<(String, String)> = [
            ("kind", "training"),
            ("agency", "安心 家政&co"),
            ("age", "7"),
            ("sort", "newest"),
            ("page", "3"),
            ("csrf", "x"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let view = QueueView::from_pairs(&pairs);
        assert_eq!(view.page, Some(3));
        let link = view.link(view.page, "decided=9");
        assert!(link.starts_with("/regulator/credit?kind=training&agency="), "{link}");
        assert!(link.ends_with("&page=3&decided=9#review-queue") && !link.contains("csrf"), "{link}");
        let query = link.trim_start_matches("/regulator/credit?").trim_end_matches("#review-queue");
        let again: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
        assert_eq!(QueueView::from_pairs(&again), view);
    }
}
