//! Subsidised service: districts' yearly budgets, the residents community staff register with
//! evidence and a quota, orders the district pays for, and the month's statement with its audit
//! list. What an order took is kept on the order (`subsidy_paid_fen`, `subsidy_returned_fen`,
//! `subsidy_minutes`), and every check at booking runs under the district budget's row lock, so
//! two bookings at once cannot both spend the last of a quota or a budget.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::field::Invalid;
use jiazheng_core::market::slot::day_start;
use jiazheng_core::market::subsidy::{EvidenceType, GrantDraft, Quota, ServiceLine, SubsidyCategory};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::write_tx;
use crate::{Page, PageRequest, Result, Store, StoreError, now, on_pool};

pub const MAX_REVOKE_REASON_CHARS: usize = 200;
pub const MAX_SEARCH_CHARS: usize = 30;

fn invalid(field: &str, invalid: Invalid) -> StoreError {
    StoreError::Invalid(FieldErrors(vec![invalid.at(field)]))
}

fn id_place(grant: i64) -> String {
    format!("subsidy_grants.id_cipher:{grant}")
}

fn evidence_place(grant: i64) -> String {
    format!("subsidy_evidence.sealed:{grant}")
}

/// The journal account of a district's subsidy budget.
pub fn budget_account(district: &str) -> jiazheng_core::market::payment::Account {
    jiazheng_core::market::payment::Account::Subsidy(district.parse().unwrap_or_default())
}

row! {
    /// A district's budget for a year, with what is spent and promised.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct BudgetRow {
        pub district_code: String,
        pub district_name: String,
        pub year: i64,
        /// None until a regulator sets it: nothing is paid from a budget not set.
        pub amount_fen: Option<i64>,
        /// Paid for orders, less what cancellations and refunds returned.
        pub spent_fen: i64,
        /// The money quotas of the year's live grants (hours quotas are not counted in money).
        pub promised_fen: i64,
        pub grants: i64,
    }
}

row! {
    /// A registered resident, with how much of the quota is used (by the person in the year, across
/// any grant of theirs ended and registered again).
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct GrantRow {
        pub id: i64,
        pub district_code: String,
        pub community_code: String,
        pub community_name: String,
        pub year: i64,
        pub phone_masked: String,
        pub legal_name: String,
        pub id_masked: String,
        pub category: String,
        /// `money` (the amounts are fen) or `hours` (the amounts are minutes).
        pub quota_kind: String,
        pub quota_amount: i64,
        pub used: i64,
        pub orders: i64,
        pub evidence_note: String,
        pub registered_by: String,
        pub registered_at: DateTime<Utc>,
        pub revoked_at: Option<DateTime<Utc>>,
        pub revoke_reason: Option<String>,
    }
}

impl GrantRow {
    pub fn quota(&self) -> Quota {
        Quota::from_stored(&self.quota_kind, self.quota_amount)
    }

    pub fn left(&self) -> i64 {
        (self.quota_amount - self.used).max(0)
    }

    pub fn category(&self) -> Option<SubsidyCategory> {
        SubsidyCategory::parse(&self.category).ok()
    }

    pub fn is_live(&self) -> bool {
        self.revoked_at.is_none()
    }
}

row! {
    /// One subsidised order in a statement.
    #[derive(Debug, Clone, Serialize)]
    pub struct SubsidyLine {
        pub order_id: i64,
        pub starts_at: DateTime<Utc>,
        pub ends_at: DateTime<Utc>,
        pub status: String,
        pub item: String,
        pub total_fen: i64,
        pub subsidy_paid_fen: i64,
        pub subsidy_returned_fen: i64,
        pub subsidy_minutes: i64,
        pub agency_id: i64,
        pub agency_name: String,
        pub worker_id: Option<i64>,
        pub worker_name: Option<String>,
        pub resident_account_id: i64,
        /// The resident as an agency knows them (the masked phone), for readers who are not the district.
        pub resident_name: String,
        pub grant_id: i64,
        pub legal_name: String,
        pub category: String,
        pub district_code: String,
        pub district_name: String,
        pub community_code: String,
        pub community_name: String,
    }
}

impl SubsidyLine {
    /// What the district paid for the order in the end.
    pub fn charged_fen(&self) -> i64 {
        self.subsidy_paid_fen - self.subsidy_returned_fen
    }
}

/// Whose subsidised orders a statement lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementScope {
    City,
    District(String),
    Agency(i64),
}

impl StatementScope {
    /// The scope a viewer may read: community staff and district regulators their district, a
    /// city regulator the city, an agency its own orders.
    pub fn of(who: &Principal) -> Option<Self> {
        match (who.role, &who.scope) {
            (Role::CommunityStaff | Role::Regulator, Scope::District(d)) => Some(Self::District(d.to_string())),
            (Role::Regulator, Scope::City) => Some(Self::City),
            (Role::AgencyAdmin, Scope::Agency(id)) => Some(Self::Agency(*id)),
            _ => None,
        }
    }

    fn sql(&self) -> (&'static str, String) {
        match self {
            Self::City => ("$3 = ''", String::new()),
            Self::District(d) => ("g.district_code = $3", d.clone()),
            Self::Agency(id) => ("CAST(o.agency_id AS TEXT) = $3", id.to_string()),
        }
    }
}

/// The statement of a month: the orders and the audit's view of those workers' days.
#[derive(Debug, Clone, Default)]
pub struct Statement {
    pub lines: Vec<SubsidyLine>,
    pub services: Vec<ServiceLine>,
}

/// A live grant as booking reads it.
#[derive(Debug, Clone)]
pub struct LiveGrant {
    pub id: i64,
    pub district_code: String,
    pub year: i64,
    pub quota: Quota,
}

/// The district a community-staff account works in; anyone else registers nobody. The budget
/// and the grants are the district's: staff narrowed to a street see their count, not the list.
pub fn staff_district(who: &Principal) -> Result<DivisionCode> {
    match (who.role, &who.scope) {
        (Role::CommunityStaff, Scope::District(d)) if d.level() == jiazheng_core::division::DivisionLevel::District => {
            Ok(d.clone())
        }
        _ => Err(StoreError::Refused("only community staff register residents for subsidised service".into())),
    }
}

/// Whether `who` may read a grant of `district`: staff of the district, regulators over it.
fn may_read(who: &Principal, district: &str) -> bool {
    match (who.role, &who.scope) {
        (Role::CommunityStaff | Role::Regulator, Scope::District(d)) => d.as_str() == district,
        (Role::Regulator, Scope::City) => true,
        _ => false,
    }
}

const SELECT_GRANT: &str = "SELECT g.id, g.district_code, g.community_code, d.name AS community_name, g.year,
    g.phone_masked, g.legal_name, g.id_masked, g.category, g.quota_kind, g.quota_amount,
    CAST(COALESCE(CASE WHEN g.quota_kind = 'money' THEN u.fen ELSE u.minutes END, 0) AS BIGINT) AS used,
    CAST(COALESCE(u.orders, 0) AS BIGINT) AS orders,
    g.evidence_note, a.display_name AS registered_by, g.registered_at, g.revoked_at, g.revoke_reason
    FROM subsidy_grants g JOIN divisions d ON d.code = g.community_code JOIN accounts a ON a.id = g.registered_by
    LEFT JOIN (SELECT p.id_hash, p.year, SUM(o.subsidy_paid_fen - o.subsidy_returned_fen) AS fen,
                      SUM(o.subsidy_minutes) AS minutes, COUNT(*) AS orders
               FROM orders o JOIN subsidy_grants p ON p.id = o.subsidy_grant_id GROUP BY p.id_hash, p.year) u
        ON u.id_hash = g.id_hash AND u.year = g.year";

/// Checks a subsidised order against its grant and its district's budget, inside `$tx`, under
/// the budget's row lock. Evaluates to `Result<()>`.
macro_rules! admit_subsidy_in {
    ($tx:ident, $grant:expr, $total_fen:expr, $minutes:expr) => {
        async {
            let grant: &$crate::market::subsidies::LiveGrant = $grant;
            // The lock: every subsidised booking of the district and year queues here.
            let locked = sqlx::query(
                "UPDATE subsidy_budgets SET amount_fen = amount_fen WHERE district_code = $1 AND year = $2",
            )
            .bind(&grant.district_code)
            .bind(grant.year)
            .execute(&mut *$tx)
            .await?;
            let budget: Option<(i64,)> = if locked.rows_affected() == 0 {
                None
            } else {
                sqlx::query_as("SELECT amount_fen FROM subsidy_budgets WHERE district_code = $1 AND year = $2")
                    .bind(&grant.district_code)
                    .bind(grant.year)
                    .fetch_optional(&mut *$tx)
                    .await?
            };
            // What the person used this year under any grant, so ending and registering again
            // does not start the count afresh.
            let (live, used_fen, used_minutes): (i64, i64, i64) = sqlx::query_as(
                "SELECT CAST((SELECT COUNT(*) FROM subsidy_grants WHERE id = $1 AND revoked_at IS NULL) AS BIGINT),
                        CAST(COALESCE(SUM(o.subsidy_paid_fen - o.subsidy_returned_fen), 0) AS BIGINT),
                        CAST(COALESCE(SUM(o.subsidy_minutes), 0) AS BIGINT)
                 FROM orders o JOIN subsidy_grants p ON p.id = o.subsidy_grant_id
                 JOIN subsidy_grants g ON g.id_hash = p.id_hash AND g.year = p.year WHERE g.id = $1",
            )
            .bind(grant.id)
            .fetch_one(&mut *$tx)
            .await?;
            if live == 0 {
                return Err($crate::market::subsidies::no_grant());
            }
            let used = match grant.quota {
                ::jiazheng_core::market::subsidy::Quota::Fen(_) => used_fen,
                ::jiazheng_core::market::subsidy::Quota::Minutes(_) => used_minutes,
            };
            grant.quota.admit(used, $total_fen, $minutes).map_err(|e| $crate::market::subsidies::refused(e))?;
            let (spent,): (i64,) = sqlx::query_as(
                "SELECT CAST(COALESCE(SUM(o.subsidy_paid_fen - o.subsidy_returned_fen), 0) AS BIGINT)
                 FROM orders o JOIN subsidy_grants g ON g.id = o.subsidy_grant_id
                 WHERE g.district_code = $1 AND g.year = $2",
            )
            .bind(&grant.district_code)
            .bind(grant.year)
            .fetch_one(&mut *$tx)
            .await?;
            ::jiazheng_core::market::subsidy::admit_budget(
                i32::try_from(grant.year).unwrap_or_default(),
                budget.map(|b| b.0),
                spent,
                $total_fen,
            )
            .map_err(|e| $crate::market::subsidies::refused(e))?;
            ::std::result::Result::<(), $crate::StoreError>::Ok(())
        }
        .await
    };
}
pub(crate) use admit_subsidy_in;

/// Pays a booked order from the district's budget, inside `$tx`: the journal moves the money to
/// held, and the order keeps what it took.
macro_rules! pay_subsidy_in {
    ($tx:ident, $grant:expr, $order:expr, $total_fen:expr, $minutes:expr, $at:expr) => {
        async {
            let grant: &$crate::market::subsidies::LiveGrant = $grant;
            let order: i64 = $order;
            sqlx::query(
                "UPDATE orders SET subsidy_grant_id = $1, subsidy_paid_fen = $2, subsidy_minutes = $3 WHERE id = $4",
            )
            .bind(grant.id)
            .bind($total_fen)
            .bind($minutes)
            .bind(order)
            .execute(&mut *$tx)
            .await?;
            let mut holding = ::jiazheng_core::market::payment::Holding::new(order);
            let txn = holding
                .pay_from($crate::market::subsidies::budget_account(&grant.district_code), $total_fen)
                .map_err(|e| $crate::market::subsidies::refused(e))?;
            $crate::market::payments::post_in!($tx, &txn, order, $at)
        }
        .await
    };
}
pub(crate) use pay_subsidy_in;

pub(crate) fn refused(e: Invalid) -> StoreError {
    invalid("subsidy", e)
}

pub(crate) fn no_grant() -> StoreError {
    invalid(
        "subsidy",
        Invalid::new(
            "no_subsidy",
            "您本年度没有可用的政府补贴，请联系社区登记",
            "you have no subsidy this year; ask your community to register you",
        ),
    )
}

impl Store {
    /// Sets (or changes) a district's budget for a year. Not below what is already spent.
    pub async fn set_subsidy_budget(
        &self,
        who: &Principal,
        district: &DivisionCode,
        year: i32,
        amount_fen: i64,
    ) -> Result<()> {
        if !(who.role == Role::Regulator && may_read(who, district.as_str())) {
            return Err(StoreError::Refused("a regulator over the district sets its budget".into()));
        }
        let at = now();
        write_tx!(self, tx => async {
            let (known,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM divisions WHERE code = $1 AND level = 'district'",
            ).bind(district.as_str()).fetch_one(&mut *tx).await?;
            if known == 0 {
                return Err(invalid("district", Invalid::new("no_such_district", "没有这个区", "no such district")));
            }
            // Bookings spend under this row's lock: take it before reading what they spent.
            sqlx::query("UPDATE subsidy_budgets SET amount_fen = amount_fen WHERE district_code = $1 AND year = $2")
                .bind(district.as_str()).bind(i64::from(year)).execute(&mut *tx).await?;
            let (spent,): (i64,) = sqlx::query_as(
                "SELECT CAST(COALESCE(SUM(o.subsidy_paid_fen - o.subsidy_returned_fen), 0) AS BIGINT)
                 FROM orders o JOIN subsidy_grants g ON g.id = o.subsidy_grant_id
                 WHERE g.district_code = $1 AND g.year = $2",
            ).bind(district.as_str()).bind(i64::from(year)).fetch_one(&mut *tx).await?;
            if amount_fen < spent {
                return Err(invalid("amount", Invalid::new(
                    "below_spent",
                    format!("预算不能低于已支出的{}", jiazheng_core::market::payment::yuan(spent)),
                    format!("the budget cannot be below the {} already spent", jiazheng_core::market::payment::yuan(spent)),
                )));
            }
            sqlx::query(
                "INSERT INTO subsidy_budgets (district_code, year, amount_fen, set_by, set_at) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (district_code, year) DO UPDATE SET amount_fen = excluded.amount_fen,
                     set_by = excluded.set_by, set_at = excluded.set_at",
            ).bind(district.as_str()).bind(i64::from(year)).bind(amount_fen).bind(who.account_id).bind(at)
            .execute(&mut *tx).await?;
            Ok(())
        }.await)
    }

    /// Every district of the city (or the one given) with its budget for `year`.
    pub async fn subsidy_budgets(&self, year: i32, district: Option<&str>) -> Result<Vec<BudgetRow>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT d.code AS district_code, d.name AS district_name, CAST($1 AS BIGINT) AS year, b.amount_fen,
                CAST(COALESCE((SELECT SUM(o.subsidy_paid_fen - o.subsidy_returned_fen) FROM orders o
                     JOIN subsidy_grants g ON g.id = o.subsidy_grant_id
                     WHERE g.district_code = d.code AND g.year = $1), 0) AS BIGINT) AS spent_fen,
                CAST(COALESCE((SELECT SUM(quota_amount) FROM subsidy_grants g WHERE g.district_code = d.code
                     AND g.year = $1 AND g.quota_kind = 'money' AND g.revoked_at IS NULL), 0) AS BIGINT) AS promised_fen,
                CAST((SELECT COUNT(*) FROM subsidy_grants g WHERE g.district_code = d.code AND g.year = $1
                     AND g.revoked_at IS NULL) AS BIGINT) AS grants
             FROM divisions d LEFT JOIN subsidy_budgets b ON b.district_code = d.code AND b.year = $1
             WHERE d.level = 'district' AND ($2 = '' OR d.code = $2) ORDER BY d.code",
        ).bind(i64::from(year)).bind(district.unwrap_or("")).fetch_all(p).await?))
    }

    /// Registers a resident for subsidised service in the staff member's district: the ID
    /// number and the evidence are sealed; one live grant per phone and year.
    pub async fn register_subsidy_grant(
        &self,
        who: &Principal,
        draft: &GrantDraft,
        evidence: &[u8],
        evidence_type: EvidenceType,
    ) -> Result<i64> {
        let district = staff_district(who)?;
        if !draft.community.is_within(&district) {
            return Err(invalid(
                "community",
                Invalid::new("not_in_district", "请选择本区的社区", "pick a community of your district"),
            ));
        }
        let phone_hash = self.crypto().lookup_hash("phone", draft.phone.as_str());
        let id_hash = self.crypto().lookup_hash("resident_id", draft.id_number.as_str());
        let sha = hex::encode(Sha256::digest(evidence));
        let at = now();
        write_tx!(self, tx => async {
            let budget: Option<(i64,)> = sqlx::query_as(
                "SELECT amount_fen FROM subsidy_budgets WHERE district_code = $1 AND year = $2",
            ).bind(district.as_str()).bind(i64::from(draft.year)).fetch_optional(&mut *tx).await?;
            let (known,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM divisions WHERE code = $1 AND level = 'community'",
            ).bind(draft.community.as_str()).fetch_one(&mut *tx).await?;
            if known == 0 {
                return Err(invalid("community", Invalid::new("no_such_community", "没有这个社区", "no such community")));
            }
            let (same_person,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM subsidy_grants WHERE id_hash = $1 AND year = $2 AND revoked_at IS NULL",
            ).bind(&id_hash).bind(i64::from(draft.year)).fetch_one(&mut *tx).await?;
            if same_person > 0 {
                return Err(invalid("id_number", Invalid::new(
                    "already_registered",
                    format!("该身份证号的居民已登记{}年度补贴", draft.year),
                    format!("the resident with this ID number is already registered for {}", draft.year),
                )));
            }
            if budget.is_none() {
                return Err(invalid("year", Invalid::new(
                    "no_budget",
                    format!("本区尚未设定{}年度补贴预算，请先请区主管部门设定", draft.year),
                    format!("the district has no subsidy budget for {} yet; ask the district regulator to set it", draft.year),
                )));
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO subsidy_grants (district_code, community_code, year, phone_hash, phone_masked, legal_name,
                     id_cipher, id_hash, id_masked, category, quota_kind, quota_amount, evidence_note, registered_by,
                     registered_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
            ).bind(district.as_str()).bind(draft.community.as_str()).bind(i64::from(draft.year)).bind(&phone_hash)
            .bind(draft.phone.masked()).bind(&draft.legal_name).bind(Vec::<u8>::new()).bind(&id_hash)
            .bind(draft.id_number.masked())
            .bind(draft.category.as_str()).bind(draft.quota.kind().as_str()).bind(draft.quota.amount())
            .bind(&draft.evidence_note).bind(who.account_id).bind(at).fetch_one(&mut *tx).await
            .map_err(|e| match StoreError::conflict_on("subsidy_grant")(e) {
                StoreError::Conflict { .. } => invalid("phone", Invalid::new(
                    "already_registered",
                    format!("该手机号的居民已登记{}年度补贴", draft.year),
                    format!("the resident with this phone is already registered for {}", draft.year),
                )),
                other => other,
            })?;
            // Sealed where it is kept, so the row's own id is part of the seal.
            sqlx::query("UPDATE subsidy_grants SET id_cipher = $1 WHERE id = $2")
                .bind(self.crypto().seal_at(draft.id_number.as_str(), &id_place(id))).bind(id).execute(&mut *tx).await?;
            sqlx::query("INSERT INTO subsidy_evidence (grant_id, mime, sealed, sha256) VALUES ($1, $2, $3, $4)")
                .bind(id).bind(evidence_type.mime()).bind(self.crypto().seal_bytes_at(evidence, &evidence_place(id)))
                .bind(&sha).execute(&mut *tx).await?;
            Ok(id)
        }.await)
    }

    /// Grants of a district (or the city) for a year, newest first; `search` matches the name.
    pub async fn subsidy_grants(
        &self,
        district: Option<&str>,
        year: i32,
        search: &str,
        page: PageRequest,
    ) -> Result<Page<GrantRow>> {
        let search: String = search.trim().chars().take(MAX_SEARCH_CHARS).collect();
        let pattern = format!("%{}%", search.replace(['%', '_'], ""));
        let sql = format!(
            "{SELECT_GRANT} WHERE ($1 = '' OR g.district_code = $1) AND g.year = $2 AND g.legal_name LIKE $3
             ORDER BY g.id DESC LIMIT $4 OFFSET $5"
        );
        let rows: Vec<GrantRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(district.unwrap_or("")).bind(i64::from(year)).bind(&pattern).bind(page.limit()).bind(page.offset())
            .fetch_all(p).await?);
        let (total,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM subsidy_grants g WHERE ($1 = '' OR g.district_code = $1) AND g.year = $2
             AND g.legal_name LIKE $3",
        ).bind(district.unwrap_or("")).bind(i64::from(year)).bind(&pattern).fetch_one(p).await?);
        Ok(page.wrap(rows, total))
    }

    /// One grant, for staff of its district and regulators over it; anyone else finds nothing.
    pub async fn subsidy_grant(&self, id: i64, who: &Principal) -> Result<GrantRow> {
        let sql = format!("{SELECT_GRANT} WHERE g.id = $1");
        let row: Option<GrantRow> =
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?);
        row.filter(|g| may_read(who, &g.district_code)).ok_or(StoreError::NotFound)
    }

    /// The evidence file of a grant, opened, for whom may read the grant.
    pub async fn subsidy_evidence(&self, id: i64, who: &Principal) -> Result<(EvidenceType, Vec<u8>)> {
        self.subsidy_grant(id, who).await?;
        let (mime, sealed): (String, Vec<u8>) = on_pool!(self, p => sqlx::query_as(
            "SELECT mime, sealed FROM subsidy_evidence WHERE grant_id = $1",
        ).bind(id).fetch_optional(p).await?)
        .ok_or(StoreError::NotFound)?;
        let kind = EvidenceType::from_mime(&mime).ok_or(StoreError::Crypto("unknown evidence type"))?;
        Ok((kind, self.crypto().open_bytes_at(&sealed, &evidence_place(id))?))
    }

    /// Ends a grant: no new order draws on it; orders already paid stay paid.
    pub async fn revoke_subsidy_grant(&self, id: i64, who: &Principal, reason: &str) -> Result<()> {
        let district = staff_district(who)?;
        let reason =
            jiazheng_core::field::required_text(reason, MAX_REVOKE_REASON_CHARS).map_err(|e| invalid("reason", e))?;
        let at = now();
        write_tx!(self, tx => async {
            let done = sqlx::query(
                "UPDATE subsidy_grants SET revoked_at = $1, revoked_by = $2, revoke_reason = $3
                 WHERE id = $4 AND district_code = $5 AND revoked_at IS NULL",
            ).bind(at).bind(who.account_id).bind(&reason).bind(id).bind(district.as_str()).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        }.await)
    }

    /// The resident's live grant for a Beijing year, matched by the phone they sign in with.
    pub async fn live_grant_of_resident(&self, resident: i64, year: i32) -> Result<Option<GrantRow>> {
        let sql = format!(
            "{SELECT_GRANT} JOIN accounts r ON r.phone_hash = g.phone_hash
             WHERE r.id = $1 AND r.role = 'resident' AND g.year = $2 AND g.revoked_at IS NULL"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(resident).bind(i64::from(year))
            .fetch_optional(p).await?))
    }

    /// The grant a subsidised booking draws on: live, for the year the service starts in, and
    /// for a household in the grant's district.
    pub(crate) async fn grant_for_booking(
        &self,
        resident: i64,
        starts_at: DateTime<Utc>,
        community: &str,
    ) -> Result<LiveGrant> {
        let year = jiazheng_core::calendar::beijing_date(starts_at).year();
        let grant = self.live_grant_of_resident(resident, year).await?.ok_or_else(no_grant)?;
        let district =
            DivisionCode::parse(&grant.district_code).map_err(|_| StoreError::Crypto("bad stored district"))?;
        if !DivisionCode::parse(community).is_ok_and(|c| c.is_within(&district)) {
            return Err(invalid(
                "subsidy",
                Invalid::new(
                    "outside_district",
                    "补贴服务只在登记的区内提供，您的住址不在该区",
                    "subsidised service is given in the district you are registered in; your address is elsewhere",
                ),
            ));
        }
        Ok(LiveGrant {
            id: grant.id,
            district_code: grant.district_code.clone(),
            year: grant.year,
            quota: grant.quota(),
        })
    }

    /// The subsidised orders of a Beijing month in a scope, and for the audit every order those
    /// workers had on the month's days.
    pub async fn subsidy_statement(&self, scope: &StatementScope, first: NaiveDate) -> Result<Statement> {
        let next = first.checked_add_months(chrono::Months::new(1)).unwrap_or(first);
        let (filter, value) = scope.sql();
        let sql = format!(
            "SELECT o.id AS order_id, o.starts_at, o.ends_at, o.status, o.item, o.total_fen, o.subsidy_paid_fen,
                o.subsidy_returned_fen, o.subsidy_minutes, o.agency_id, a.name AS agency_name, o.worker_id,
                w.name AS worker_name, o.resident_account_id,
                COALESCE(rp.phone_masked, r.display_name) AS resident_name, g.id AS grant_id,
                g.legal_name, g.category,
                g.district_code, dd.name AS district_name, o.community_code, d.name AS community_name
             FROM orders o JOIN subsidy_grants g ON g.id = o.subsidy_grant_id JOIN agencies a ON a.id = o.agency_id
             JOIN divisions d ON d.code = o.community_code JOIN divisions dd ON dd.code = g.district_code
             JOIN accounts r ON r.id = o.resident_account_id
             LEFT JOIN resident_profiles rp ON rp.account_id = o.resident_account_id
             LEFT JOIN workers w ON w.id = o.worker_id
             WHERE o.starts_at >= $1 AND o.starts_at < $2 AND {filter} ORDER BY o.starts_at, o.id"
        );
        let lines: Vec<SubsidyLine> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(day_start(first)).bind(day_start(next)).bind(&value).fetch_all(p).await?);
        let ours: std::collections::HashSet<i64> =
            lines.iter().filter(|l| l.status != "cancelled").map(|l| l.order_id).collect();
        let sql = format!(
            "SELECT x.id, x.worker_id, x.resident_account_id, x.community_code, x.starts_at, x.ends_at
             FROM orders x WHERE x.status <> 'cancelled' AND x.worker_id IS NOT NULL
               AND x.starts_at >= $1 AND x.starts_at < $2
               AND x.worker_id IN (SELECT o.worker_id FROM orders o JOIN subsidy_grants g ON g.id = o.subsidy_grant_id
                                   WHERE o.starts_at >= $1 AND o.starts_at < $2 AND o.worker_id IS NOT NULL AND {filter})"
        );
        type Other = (i64, i64, i64, String, DateTime<Utc>, DateTime<Utc>);
        let others: Vec<Other> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(day_start(first)).bind(day_start(next)).bind(&value).fetch_all(p).await?);
        let services = others
            .into_iter()
            .map(|(order_id, worker_id, resident, community, starts_at, ends_at)| ServiceLine {
                order_id,
                worker_id,
                resident,
                community,
                starts_at,
                ends_at,
                subsidised: ours.contains(&order_id),
            })
            .collect();
        Ok(Statement { lines, services })
    }
}
