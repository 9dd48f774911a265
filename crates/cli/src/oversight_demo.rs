//! Oversight in the demo: the city recognises the brands of a few employee-based agencies (so
//! target 1 has something to count, some passing and one not), and the plan's figures are
//! written for the months before this one as the daily job would have written them.

use chrono::{Datelike, Duration, NaiveDate};
use jiazheng_store::Store;
use jiazheng_store::oversight::targets::BrandDraft;

const BRANDS: &[&str] = &["春城到家", "北国暖家", "长青管家", "吉安月嫂"];

pub async fn generate(store: &Store, regulator: i64, today: NaiveDate, months: u32) -> anyhow::Result<String> {
    let mut standings = store.agency_standings(None).await?;
    // The most employee-based agencies first, so that most recognised brands pass and one may not.
    standings.sort_by_key(|s| (-(s.share().per_mille()), -s.active, s.agency_id));
    let mut recognised = 0;
    for (standing, brand) in standings.iter().filter(|s| s.active > 0 && s.brand.is_none()).zip(BRANDS) {
        let draft = BrandDraft {
            agency_id: standing.agency_id,
            brand_name: brand.to_string(),
            document: format!("长商务字〔{}〕{}号", today.year() - 1, 10 + recognised),
            recognised_on: today - Duration::days(200),
        };
        store.recognise_brand(&draft, regulator).await?;
        recognised += 1;
    }
    // The last day of each earlier month, oldest first.
    let mut first = today.with_day(1).unwrap_or(today);
    let mut ends = Vec::new();
    for _ in 0..months {
        let end = first - Duration::days(1);
        ends.push(end);
        first = end.with_day(1).unwrap_or(end);
    }
    for end in ends.iter().rev() {
        store.record_plan_month(*end).await?;
    }
    Ok(format!("{recognised} recognised brands; the plan's figures for {} earlier months", ends.len()))
}
