//! What agencies sell and at what price. A price change is a new row of `menu_prices`, never an
//! edit, so the history is complete; orders point at the price row they were booked at.

use chrono::{DateTime, Months, Utc};
use jiazheng_core::market::menu::{CancelTerms, MenuDraft, Unit};
use jiazheng_core::market::{CatalogItem, PriceMode};
use jiazheng_core::workforce::SkillLevel;
use serde::Serialize;

use super::write_tx;
use crate::{Page, PageRequest, Result, Store, StoreError, now, on_pool};

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct MenuRow {
        pub id: i64,
        pub agency_id: i64,
        pub agency_name: String,
        pub item: String,
        pub mode: String,
        /// Minutes per visit, minimum hours, or package days, by mode.
        pub amount: i64,
        /// A skill level the package asks for; empty when none.
        pub level: String,
        pub price_fen: i64,
        pub description: String,
        pub free_cancel_hours: i64,
        pub cancel_fee_percent: i64,
        /// When the current price took effect.
        pub price_since: DateTime<Utc>,
        pub version: i64,
    }
}

impl MenuRow {
    pub fn catalog_item(&self) -> Result<CatalogItem> {
        CatalogItem::parse(&self.item).map_err(|_| StoreError::Crypto("bad stored item"))
    }

    pub fn unit(&self) -> Result<Unit> {
        let mode = PriceMode::parse(&self.mode).map_err(|_| StoreError::Crypto("bad stored mode"))?;
        Ok(Unit::from_parts(mode, u32::try_from(self.amount).unwrap_or(1)))
    }

    pub fn skill_level(&self) -> Option<SkillLevel> {
        SkillLevel::parse(&self.level).ok()
    }

    pub fn terms(&self) -> CancelTerms {
        CancelTerms {
            free_hours: u32::try_from(self.free_cancel_hours).unwrap_or(0),
            fee_percent: u32::try_from(self.cancel_fee_percent).unwrap_or(0),
        }
    }
}

const SELECT_MENU: &str = "SELECT m.id, m.agency_id, a.name AS agency_name, m.item, m.mode, m.amount, m.level,
    m.price_fen, m.description, m.free_cancel_hours, m.cancel_fee_percent, m.price_since, m.version
    FROM menu_items m JOIN agencies a ON a.id = m.agency_id";

row! {
    /// One price an item had, from when it took effect.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct PriceRow {
        pub id: i64,
        pub price_fen: i64,
        pub previous_fen: Option<i64>,
        pub effective_from: DateTime<Utc>,
    }
}

row! {
    /// An item whose price rose more than the alert rate within twelve months.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct PriceRise {
        pub menu_item_id: i64,
        pub agency_id: i64,
        pub agency_name: String,
        pub district_code: String,
        pub item: String,
        pub mode: String,
        /// Minutes per visit, minimum hours, or package days, by mode.
        pub amount: i64,
        pub level: String,
        /// The price twelve months ago (or the first price since).
        pub base_fen: i64,
        pub price_fen: i64,
        pub price_since: DateTime<Utc>,
        pub changes: i64,
    }
}

impl PriceRise {
    pub fn percent(&self) -> f64 {
        jiazheng_core::market::menu::increase_percent(self.base_fen, self.price_fen)
    }
}

impl Store {
    /// Publishes a new item on an agency's menu at its first price.
    pub async fn publish_menu_item(&self, agency_id: i64, draft: &MenuDraft, by: i64) -> Result<MenuRow> {
        let at = now();
        let id = write_tx!(self, tx => async {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO menu_items (agency_id, item, service_bit, mode, amount, level, price_fen, description,
                     free_cancel_hours, cancel_fee_percent, price_since, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
            ).bind(agency_id).bind(draft.item.as_str()).bind(draft.item.service().bit()).bind(draft.unit.mode().as_str())
            .bind(i64::from(draft.unit.amount())).bind(draft.level.map_or("", |l| l.as_str())).bind(draft.price_fen)
            .bind(&draft.description).bind(i64::from(draft.terms.free_hours)).bind(i64::from(draft.terms.fee_percent))
            .bind(at).fetch_one(&mut *tx).await.map_err(StoreError::conflict_on("menu_item_exists"))?;
            sqlx::query("INSERT INTO menu_prices (menu_item_id, price_fen, effective_from, set_by) VALUES ($1, $2, $3, $4)")
                .bind(id).bind(draft.price_fen).bind(at).bind(by).execute(&mut *tx).await?;
            Ok(id)
        }.await)?;
        self.menu_item(id).await
    }

    /// Changes an item as read at `version`: its price (a new history row when it differs), its
    /// length, description and terms. The item, mode and level are what it is; they do not change.
    pub async fn update_menu_item(
        &self,
        agency_id: i64,
        id: i64,
        version: i64,
        draft: &MenuDraft,
        by: i64,
    ) -> Result<MenuRow> {
        let current = self.own_menu_item(agency_id, id).await?;
        if current.item != draft.item.as_str()
            || current.mode != draft.unit.mode().as_str()
            || current.level != draft.level.map_or("", |l| l.as_str())
            || current.amount != i64::from(draft.unit.amount())
        {
            // A length is part of the price (the same fen for fewer hours is a rise): a new
            // length is a new item with its own price history.
            return Err(StoreError::Invalid(jiazheng_core::FieldErrors(vec![
                jiazheng_core::field::Invalid::new(
                    "fixed",
                    "项目、计价方式、等级和时长（天数）发布后不能修改；请下架后重新发布",
                    "the item, mode, level and length cannot change once published; withdraw it and publish anew",
                )
                .at("item"),
            ])));
        }
        let at = now();
        write_tx!(self, tx => async {
            let done = sqlx::query(
                "UPDATE menu_items SET amount = $1, description = $2, free_cancel_hours = $3, cancel_fee_percent = $4,
                     price_since = CASE WHEN price_fen <> $5 THEN $6 ELSE price_since END, price_fen = $5,
                     version = version + 1
                 WHERE id = $7 AND agency_id = $8 AND version = $9 AND withdrawn_at IS NULL",
            ).bind(i64::from(draft.unit.amount())).bind(&draft.description).bind(i64::from(draft.terms.free_hours))
            .bind(i64::from(draft.terms.fee_percent)).bind(draft.price_fen).bind(at).bind(id).bind(agency_id)
            .bind(version).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Stale);
            }
            if draft.price_fen != current.price_fen {
                sqlx::query(
                    "INSERT INTO menu_prices (menu_item_id, price_fen, previous_fen, effective_from, set_by)
                     VALUES ($1, $2, $3, $4, $5)",
                ).bind(id).bind(draft.price_fen).bind(current.price_fen).bind(at).bind(by).execute(&mut *tx).await?;
            }
            Ok(())
        }.await)?;
        self.menu_item(id).await
    }

    /// Takes an item off the menu; orders already placed keep it.
    pub async fn withdraw_menu_item(&self, agency_id: i64, id: i64) -> Result<()> {
        let done = on_pool!(self, p => sqlx::query(
            "UPDATE menu_items SET withdrawn_at = $1, version = version + 1
             WHERE id = $2 AND agency_id = $3 AND withdrawn_at IS NULL",
        ).bind(now()).bind(id).bind(agency_id).execute(p).await?.rows_affected());
        if done == 0 { Err(StoreError::NotFound) } else { Ok(()) }
    }

    /// An item as it was published, withdrawn or not, and the day it was withdrawn: its price
    /// history stays public after it leaves the menu.
    pub async fn published_item(&self, id: i64) -> Result<(MenuRow, Option<DateTime<Utc>>)> {
        let sql = format!("{SELECT_MENU} WHERE m.id = $1");
        let row: MenuRow =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?)
                .ok_or(StoreError::NotFound)?;
        let (withdrawn,): (Option<DateTime<Utc>>,) = on_pool!(self, p => sqlx::query_as(
            "SELECT withdrawn_at FROM menu_items WHERE id = $1",
        ).bind(id).fetch_one(p).await?);
        Ok((row, withdrawn))
    }

    /// An item on the menu now (withdrawn items are not found).
    pub async fn menu_item(&self, id: i64) -> Result<MenuRow> {
        let sql = format!("{SELECT_MENU} WHERE m.id = $1 AND m.withdrawn_at IS NULL");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    async fn own_menu_item(&self, agency_id: i64, id: i64) -> Result<MenuRow> {
        self.menu_item(id).await.and_then(|m| if m.agency_id == agency_id { Ok(m) } else { Err(StoreError::NotFound) })
    }

    /// An agency's menu in catalog order.
    pub async fn menu_of_agency(&self, agency_id: i64) -> Result<Vec<MenuRow>> {
        let sql =
            format!("{SELECT_MENU} WHERE m.agency_id = $1 AND m.withdrawn_at IS NULL ORDER BY m.item, m.mode, m.level");
        let mut rows: Vec<MenuRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(agency_id).fetch_all(p).await?);
        let rank = |r: &MenuRow| CatalogItem::ALL.iter().position(|c| c.as_str() == r.item).unwrap_or(usize::MAX);
        rows.sort_by_key(|r| (rank(r), r.mode.clone(), r.level.clone()));
        Ok(rows)
    }

    /// Every price an item had, newest first.
    pub async fn price_history(&self, menu_item_id: i64) -> Result<Vec<PriceRow>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT id, price_fen, previous_fen, effective_from FROM menu_prices WHERE menu_item_id = $1 ORDER BY id DESC LIMIT 200",
        ).bind(menu_item_id).fetch_all(p).await?))
    }

    /// The offers of one catalog item across agencies (in `district` when given), cheapest first.
    pub async fn offers_of_item(
        &self,
        item: CatalogItem,
        district: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<MenuRow>> {
        self.offers_sold_as(item, None, None, district, page).await
    }

    /// The offers of an item sold one way (`mode`) and, for packages by level, at `level`.
    pub async fn offers_sold_as(
        &self,
        item: CatalogItem,
        mode: Option<PriceMode>,
        level: Option<SkillLevel>,
        district: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<MenuRow>> {
        let mode = mode.map_or("", |m| m.as_str());
        let level = level.map_or("", |l| l.as_str());
        let filter = "m.item = $1 AND m.withdrawn_at IS NULL AND ($2 = '' OR a.district_code = $2)
            AND ($3 = '' OR m.mode = $3) AND ($4 = '' OR m.level = $4)";
        let sql = format!("{SELECT_MENU} WHERE {filter} ORDER BY m.price_fen, m.id LIMIT $5 OFFSET $6");
        let count = format!("SELECT COUNT(*) FROM menu_items m JOIN agencies a ON a.id = m.agency_id WHERE {filter}");
        let district = district.unwrap_or("");
        let rows: Vec<MenuRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(item.as_str())
            .bind(district).bind(mode).bind(level).bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let total = match page.total_if_known(rows.len()) {
            Some(total) => total,
            None => {
                on_pool!(self, p => sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(count)).bind(item.as_str())
                .bind(district).bind(mode).bind(level).fetch_one(p).await?)
                .0
            }
        };
        Ok(page.wrap(rows, total))
    }

    /// Items whose price rose more than `percent` against their price twelve months ago (or
    /// their first price since), in `area` (a district) when given, steepest first.
    pub async fn price_rises(&self, area: Option<&str>, percent: i64, page: PageRequest) -> Result<Page<PriceRise>> {
        let since = now().checked_sub_months(Months::new(12)).unwrap_or(DateTime::<Utc>::MIN_UTC);
        let inner = "SELECT m.id AS menu_item_id, m.agency_id, a.name AS agency_name, a.district_code, m.item, m.mode,
                m.amount, m.level, m.price_fen, m.price_since,
                COALESCE((SELECT p.price_fen FROM menu_prices p WHERE p.menu_item_id = m.id AND p.effective_from <= $1
                          ORDER BY p.id DESC LIMIT 1),
                         (SELECT p.price_fen FROM menu_prices p WHERE p.menu_item_id = m.id ORDER BY p.id LIMIT 1)) AS base_fen,
                (SELECT COUNT(*) FROM menu_prices p WHERE p.menu_item_id = m.id AND p.effective_from > $1
                    AND p.previous_fen IS NOT NULL) AS changes
             FROM menu_items m JOIN agencies a ON a.id = m.agency_id
             WHERE m.withdrawn_at IS NULL AND ($2 = '' OR a.district_code = $2)
               AND EXISTS (SELECT 1 FROM menu_prices p WHERE p.menu_item_id = m.id AND p.effective_from > $1
                           AND p.previous_fen IS NOT NULL)";
        let filter = "t.price_fen * 100 > t.base_fen * (100 + $3)";
        let sql = format!(
            "SELECT t.* FROM ({inner}) t WHERE {filter}
             ORDER BY (t.price_fen * 1000) / t.base_fen DESC, t.menu_item_id LIMIT $4 OFFSET $5"
        );
        let count = format!("SELECT COUNT(*) FROM ({inner}) t WHERE {filter}");
        let area = area.unwrap_or("");
        let rows: Vec<PriceRise> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(since).bind(area)
            .bind(percent).bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let total = match page.total_if_known(rows.len()) {
            Some(total) => total,
            None => {
                on_pool!(self, p => sqlx::query_as::<_, (i64,)>(sqlx::AssertSqlSafe(count)).bind(since).bind(area)
                .bind(percent).fetch_one(p).await?)
                .0
            }
        };
        Ok(page.wrap(rows, total))
    }
}
