//! Credit inputs and the regulator's decisions on them. Each outcome that affects credit is a
//! ledger entry written in the same transaction as the record of the decision; a status moves
//! only from the state it was read in, so two regulators acting at once cannot both win.

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::credit::casework::{
    Action, AppealOutcome, Complaint, ComplaintAction, ComplaintStatus, CreditList, ListProposal, Rating,
    ReviewDecision, ServiceRecord, may_review_listing,
};
use jiazheng_core::credit::{EntryKind, SubjectKind};
use jiazheng_core::field::Invalid;
use jiazheng_core::{FieldErrors, account::Role};
use serde::Serialize;
use serde_json::json;

use super::ledger::{NewEntry, append_in, ledger_tx};
use crate::{Page, PageRequest, Result, Store, StoreError, now, on_pool};

fn invalid(field: &str, code: &'static str, zh: &str, en: &str) -> StoreError {
    StoreError::Invalid(FieldErrors(vec![Invalid::new(code, zh, en).at(field)]))
}

/// Who acts, as the ledger names them (`agency:12`, `regulator:220102`, `resident:5`).
#[derive(Debug, Clone)]
pub struct Actor {
    pub account_id: i64,
    pub source: String,
    /// The district a regulator is limited to (its division code); `None` for the whole city.
    pub area: Option<String>,
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct ServiceRow {
        pub id: i64,
        pub agency_id: i64,
        pub agency_name: String,
        pub worker_id: i64,
        pub worker_name: String,
        pub resident_account_id: i64,
        pub service: String,
        pub performed_on: NaiveDate,
        pub confirmed_at: Option<DateTime<Utc>>,
        pub rated: bool,
        /// The platform order it came from; none for a service the agency recorded itself
        /// (delivered off the platform).
        pub order_id: Option<i64>,
    }
}

const SELECT_SERVICE: &str = "SELECT s.id, s.agency_id, a.name AS agency_name, s.worker_id, w.name AS worker_name,
    s.resident_account_id, s.service, s.performed_on, s.confirmed_at,
    EXISTS (SELECT 1 FROM ratings r WHERE r.service_id = s.id) AS rated, s.order_id
    FROM service_records s JOIN agencies a ON a.id = s.agency_id JOIN workers w ON w.id = s.worker_id";

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct ComplaintRow {
        pub id: i64,
        pub resident_account_id: i64,
        /// The resident's shown name, for the regulator handling the case.
        pub resident_name: String,
        pub subject_kind: String,
        pub subject_id: i64,
        pub subject_name: String,
        pub service_id: Option<i64>,
        pub body: String,
        pub status: String,
        pub filed_at: DateTime<Utc>,
        pub updated_at: DateTime<Utc>,
        pub decision_reason: Option<String>,
        pub ledger_seq: Option<i64>,
    }
}

const SELECT_COMPLAINT: &str = "SELECT c.id, c.resident_account_id, r.display_name AS resident_name, c.subject_kind,
    c.subject_id, COALESCE(w.name, a.name, '') AS subject_name, c.service_id, c.body, c.status, c.filed_at,
    c.updated_at, c.decision_reason, c.ledger_seq
    FROM complaints c JOIN accounts r ON r.id = c.resident_account_id
    LEFT JOIN workers w ON c.subject_kind = 'worker' AND w.id = c.subject_id
    LEFT JOIN agencies a ON c.subject_kind = 'agency' AND a.id = c.subject_id";

row! {
    /// An agency-entered worker record waiting for the regulator.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct QueuedEntry {
        pub seq: i64,
        pub worker_id: i64,
        pub worker_name: String,
        pub kind: String,
        pub payload: String,
        pub source: String,
        pub recorded_at: String,
    }
}

/// The table holding the record behind an entry of this kind, for withdrawing and restoring it.
fn record_table(kind: &str) -> Option<&'static str> {
    match kind {
        "training" => Some("training_records"),
        "health_check" => Some("health_checks"),
        "insurance" => Some("insurance_policies"),
        "certificate" => Some("skill_certificates"),
        _ => None,
    }
}

/// `UPDATE` text that withdraws (or, with NULL, restores) the record behind `entry`, if it has one.
fn withdraw_sql(entry: &super::ledger::Entry) -> Option<(String, i64)> {
    let table = record_table(&entry.kind)?;
    let payload: serde_json::Value = serde_json::from_str(&entry.payload).ok()?;
    let record = payload["record"].as_i64()?;
    Some((format!("UPDATE {table} SET withdrawn_seq = $1 WHERE id = $2"), record))
}

// The kinds of agency-entered worker records a regulator reviews are listed in the triggers that
// keep `review_queue` (migration 0009) and in the partial index `credit_ledger_reviewable`
// (migration 0008): change them together, in a new migration.

/// The review queue counts at most this many (and one more, to say "more than").
pub const QUEUE_COUNT_CAP: i64 = 10_000;

/// Complaints one resident may file in a Beijing day; a household with a real grievance files
/// one or two.
pub const COMPLAINTS_PER_DAY: i64 = 10;

/// Which waiting entries a regulator's desk shows, and in what order.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    /// The regulator's area (a district code), or none for the whole city.
    pub area: Option<String>,
    /// One district, for a city regulator narrowing the queue.
    pub district: Option<String>,
    pub kind: Option<EntryKind>,
    /// Entered by this agency.
    pub agency: Option<i64>,
    /// Waiting since before this moment.
    pub entered_before: Option<DateTime<Utc>>,
    pub newest_first: bool,
}

impl QueueFilter {
    /// Everything waiting in a regulator's area.
    pub fn area(area: Option<&str>) -> Self {
        Self { area: area.map(str::to_string), ..Self::default() }
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct ListingRow {
        pub id: i64,
        pub subject_kind: String,
        pub subject_id: i64,
        pub subject_name: String,
        pub list: String,
        pub reason: String,
        pub document: String,
        pub proposed_by: i64,
        pub proposed_at: DateTime<Utc>,
        pub status: String,
        pub reviewed_at: Option<DateTime<Utc>>,
        pub review_note: Option<String>,
        pub ledger_seq: Option<i64>,
    }
}

const SELECT_LISTING: &str = "SELECT l.id, l.subject_kind, l.subject_id, COALESCE(w.name, a.name, '') AS subject_name,
    l.list, l.reason, l.document, l.proposed_by, l.proposed_at, l.status, l.reviewed_at, l.review_note, l.ledger_seq
    FROM list_decisions l
    LEFT JOIN workers w ON l.subject_kind = 'worker' AND w.id = l.subject_id
    LEFT JOIN agencies a ON l.subject_kind = 'agency' AND a.id = l.subject_id";

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct AppealRow {
        pub id: i64,
        pub entry_seq: i64,
        pub entry_kind: String,
        pub subject_kind: String,
        pub subject_id: i64,
        pub appellant_account_id: i64,
        pub reason: String,
        pub status: String,
        pub filed_at: DateTime<Utc>,
        pub decision_reason: Option<String>,
        pub ledger_seq: Option<i64>,
    }
}

const SELECT_APPEAL: &str = "SELECT p.id, p.entry_seq, e.kind AS entry_kind, e.subject_kind, e.subject_id,
    p.appellant_account_id, p.reason, p.status, p.filed_at, p.decision_reason, p.ledger_seq
    FROM appeals p JOIN credit_ledger e ON e.seq = p.entry_seq
    LEFT JOIN workers w ON e.subject_kind = 'worker' AND w.id = e.subject_id
    LEFT JOIN agencies a ON e.subject_kind = 'agency' AND a.id = e.subject_id";

impl Store {
    /// Refuses a regulator limited to a district acting on a subject outside it.
    async fn require_in_area(&self, actor: &Actor, kind: SubjectKind, id: i64) -> Result<()> {
        let Some(area) = &actor.area else { return Ok(()) };
        let sql = match kind {
            SubjectKind::Worker => "SELECT district_code FROM workers WHERE id = $1",
            SubjectKind::Agency => "SELECT district_code FROM agencies WHERE id = $1",
        };
        let district: Option<(String,)> = on_pool!(self, p => sqlx::query_as(sql).bind(id).fetch_optional(p).await?);
        match district {
            Some((d,)) if &d == area => Ok(()),
            Some(_) => Err(StoreError::Refused(format!("{kind:?} {id} is outside {area}"))),
            None => Err(StoreError::NotFound),
        }
    }

    async fn subject_exists(&self, kind: SubjectKind, id: i64) -> Result<()> {
        let found = match kind {
            SubjectKind::Worker => self.worker(id).await.map(|_| ()),
            SubjectKind::Agency => self.agency(id).await.map(|_| ()),
        };
        found.map_err(|_| invalid("subject_id", "no_such_subject", "没有这个对象", "no such worker or agency"))
    }

    /// Records a service the agency's worker performed for a resident; it counts once confirmed.
    pub async fn record_service(&self, agency_id: i64, draft: &ServiceRecord, by: i64) -> Result<ServiceRow> {
        let (active,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM bindings WHERE worker_id = $1 AND agency_id = $2 AND status = 'active'",
        ).bind(draft.worker_id).bind(agency_id).fetch_one(p).await?);
        if active == 0 {
            return Err(invalid(
                "worker_id",
                "not_your_worker",
                "该服务员不在本企业",
                "the worker does not work for this agency",
            ));
        }
        let resident: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id FROM accounts WHERE username = $1 AND role = $2 AND disabled = FALSE",
        ).bind(&draft.resident).bind(Role::Resident.as_str()).fetch_optional(p).await?);
        let Some((resident,)) = resident else {
            return Err(invalid("resident", "no_such_resident", "没有这个居民账号", "no resident with this login"));
        };
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO service_records (agency_id, worker_id, resident_account_id, service, performed_on, recorded_by, recorded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        ).bind(agency_id).bind(draft.worker_id).bind(resident).bind(draft.service.as_str()).bind(draft.performed_on)
        .bind(by).bind(now()).fetch_one(p).await?);
        self.service_record(id).await
    }

    pub async fn service_record(&self, id: i64) -> Result<ServiceRow> {
        let sql = format!("{SELECT_SERVICE} WHERE s.id = $1");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    /// The services recorded for a resident, newest first.
    pub async fn services_of_resident(&self, account_id: i64) -> Result<Vec<ServiceRow>> {
        let sql = format!("{SELECT_SERVICE} WHERE s.resident_account_id = $1 ORDER BY s.id DESC LIMIT 100");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(account_id).fetch_all(p).await?))
    }

    /// The services an agency recorded, newest first.
    pub async fn services_of_agency(&self, agency_id: i64) -> Result<Vec<ServiceRow>> {
        let sql = format!("{SELECT_SERVICE} WHERE s.agency_id = $1 ORDER BY s.id DESC LIMIT 100");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(agency_id).fetch_all(p).await?))
    }

    /// One of the resident's services; another resident's is not found.
    pub async fn own_service(&self, service_id: i64, resident: i64) -> Result<ServiceRow> {
        let service = self.service_record(service_id).await?;
        if service.resident_account_id != resident {
            return Err(StoreError::NotFound);
        }
        Ok(service)
    }

    /// The resident confirms the service happened: a `service` entry on the worker's ledger.
    pub async fn confirm_service(&self, service_id: i64, resident: &Actor) -> Result<ServiceRow> {
        let service = self.own_service(service_id, resident.account_id).await?;
        let entry = NewEntry {
            subject_kind: SubjectKind::Worker,
            subject_id: service.worker_id,
            kind: EntryKind::Service,
            payload: json!({ "service_id": service.id, "service": service.service, "agency_id": service.agency_id,
                "performed_on": service.performed_on }),
            source: resident.source.clone(),
            recorded_by: Some(resident.account_id),
            corrects: None,
        };
        ledger_tx!(self, tx => async {
            let row = append_in!(tx, &entry)?;
            let done = sqlx::query(
                "UPDATE service_records SET confirmed_at = $1, ledger_seq = $2 WHERE id = $3 AND confirmed_at IS NULL",
            ).bind(now()).bind(row.seq).bind(service.id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict { what: "already_confirmed", existing_id: None });
            }
            Ok(())
        }.await)?;
        self.service_record(service_id).await
    }

    /// One rating per confirmed service, by the resident who received it.
    pub async fn rate_service(&self, service_id: i64, resident: &Actor, rating: &Rating) -> Result<i64> {
        let service = self.own_service(service_id, resident.account_id).await?;
        if service.confirmed_at.is_none() {
            return Err(invalid(
                "service_id",
                "unconfirmed",
                "请先确认服务已完成",
                "confirm the service happened first",
            ));
        }
        let entry = NewEntry {
            subject_kind: SubjectKind::Worker,
            subject_id: service.worker_id,
            kind: EntryKind::Rating,
            payload: json!({ "service_id": service.id, "stars": rating.stars(), "quality": rating.quality,
                "punctuality": rating.punctuality, "attitude": rating.attitude, "communication": rating.communication }),
            source: resident.source.clone(),
            recorded_by: Some(resident.account_id),
            corrects: None,
        };
        ledger_tx!(self, tx => async {
            let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM ratings WHERE service_id = $1")
                .bind(service.id).fetch_optional(&mut *tx).await?;
            if let Some((id,)) = taken {
                return Err(StoreError::Conflict { what: "already_rated", existing_id: Some(id) });
            }
            let row = append_in!(tx, &entry)?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO ratings (service_id, quality, punctuality, attitude, communication, comment, rated_at, ledger_seq)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            ).bind(service.id).bind(rating.quality).bind(rating.punctuality).bind(rating.attitude)
            .bind(rating.communication).bind(&rating.comment).bind(now()).bind(row.seq)
            .fetch_one(&mut *tx).await.map_err(StoreError::conflict_on("already_rated"))?;
            Ok(id)
        }.await)
    }

    /// A resident's complaint against a worker or an agency.
    pub async fn file_complaint(&self, resident: i64, complaint: &Complaint) -> Result<ComplaintRow> {
        // Counted per resident and Beijing day: a complaint costs a regulator's time.
        let midnight = jiazheng_core::calendar::beijing_today()
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(jiazheng_core::calendar::beijing()).single())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(now);
        let (today,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM complaints WHERE resident_account_id = $1 AND filed_at >= $2",
        ).bind(resident).bind(midnight).fetch_one(p).await?);
        if today >= COMPLAINTS_PER_DAY {
            return Err(StoreError::Limited("complaints"));
        }
        self.subject_exists(complaint.subject_kind, complaint.subject_id).await?;
        if let Some(service) = complaint.service_id {
            let Ok(service) = self.own_service(service, resident).await else {
                return Err(invalid(
                    "service_id",
                    "not_your_service",
                    "这不是您的服务记录",
                    "not one of your services",
                ));
            };
            let party = match complaint.subject_kind {
                SubjectKind::Worker => service.worker_id,
                SubjectKind::Agency => service.agency_id,
            };
            if party != complaint.subject_id {
                return Err(invalid(
                    "subject_id",
                    "not_in_service",
                    "投诉对象不是这次服务的服务员或企业",
                    "the complaint names someone who was not part of this service",
                ));
            }
        }
        let at = now();
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO complaints (resident_account_id, subject_kind, subject_id, service_id, body, status, filed_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'filed', $6, $6) RETURNING id",
        ).bind(resident).bind(complaint.subject_kind.as_str()).bind(complaint.subject_id).bind(complaint.service_id)
        .bind(&complaint.body).bind(at).fetch_one(p).await?);
        self.complaint(id).await
    }

    pub async fn complaint(&self, id: i64) -> Result<ComplaintRow> {
        let sql = format!("{SELECT_COMPLAINT} WHERE c.id = $1");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Complaints for the regulator's queue (by status) or one resident's own, oldest open first.
    pub async fn complaints(
        &self,
        status: Option<ComplaintStatus>,
        resident: Option<i64>,
        area: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<ComplaintRow>> {
        let filter = "WHERE ($1 IS NULL OR c.status = $1) AND ($2 IS NULL OR c.resident_account_id = $2)
            AND ($3 IS NULL OR COALESCE(w.district_code, a.district_code) = $3)";
        let sql = format!("{SELECT_COMPLAINT} {filter} ORDER BY c.id LIMIT $4 OFFSET $5");
        let status = status.map(|s| s.as_str());
        let items: Vec<ComplaintRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(status).bind(resident).bind(area).bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let total = match page.total_if_known(items.len()) {
            Some(n) => n,
            None => {
                let sql = format!(
                    "SELECT COUNT(*) FROM complaints c
                    LEFT JOIN workers w ON c.subject_kind = 'worker' AND w.id = c.subject_id
                    LEFT JOIN agencies a ON c.subject_kind = 'agency' AND a.id = c.subject_id {filter}"
                );
                let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(status).bind(resident).bind(area).fetch_one(p).await?);
                n
            }
        };
        Ok(page.wrap(items, total))
    }

    /// Moves a complaint one step; upholding it writes a `complaint_upheld` entry on its subject.
    pub async fn act_on_complaint(
        &self,
        id: i64,
        action: ComplaintAction,
        reason: &str,
        regulator: &Actor,
    ) -> Result<ComplaintRow> {
        let current = self.complaint(id).await?;
        let subject = SubjectKind::parse(&current.subject_kind).unwrap_or(SubjectKind::Worker);
        self.require_in_area(regulator, subject, current.subject_id).await?;
        let from = ComplaintStatus::parse(&current.status).map_err(|_| StoreError::Crypto("bad stored status"))?;
        let to = action.apply(from).map_err(|e| StoreError::Invalid(FieldErrors(vec![e.at("decision")])))?;
        let upheld = (to == ComplaintStatus::Upheld).then(|| NewEntry {
            subject_kind: SubjectKind::parse(&current.subject_kind).unwrap_or(SubjectKind::Worker),
            subject_id: current.subject_id,
            kind: EntryKind::ComplaintUpheld,
            payload: json!({ "complaint_id": id, "service_id": current.service_id, "reason": reason }),
            source: regulator.source.clone(),
            recorded_by: Some(regulator.account_id),
            corrects: None,
        });
        let reason = (!reason.is_empty()).then_some(reason);
        ledger_tx!(self, tx => async {
            let seq = match &upheld {
                Some(entry) => Some(append_in!(tx, entry)?.seq),
                None => None,
            };
            let done = sqlx::query(
                "UPDATE complaints SET status = $1, updated_at = $2, handled_by = $3,
                     decision_reason = COALESCE($4, decision_reason), ledger_seq = COALESCE($5, ledger_seq)
                 WHERE id = $6 AND status = $7",
            ).bind(to.as_str()).bind(now()).bind(regulator.account_id).bind(reason).bind(seq).bind(id)
            .bind(from.as_str()).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Stale);
            }
            Ok(())
        }.await)?;
        self.complaint(id).await
    }

    /// The entries waiting for review that `filter` selects, a page of them, oldest first
    /// unless asked otherwise.
    pub async fn review_queue(&self, filter: &QueueFilter, page: PageRequest) -> Result<Page<QueuedEntry>> {
        // The queue table (kept by triggers, migrations 0009 and 0013) holds just the entries
        // waiting, with their district, kind and agency, each indexed with the entry order.
        let mut conditions = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        let mut text = |condition: &str, value: String, conditions: &mut Vec<String>| {
            texts.push(value);
            conditions.push(condition.replace('?', &format!("${}", texts.len())));
        };
        // The area is the regulator's own and always applies; a district only narrows it.
        if let Some(area) = &filter.area {
            text("q.district_code = ?", area.clone(), &mut conditions);
        }
        if let Some(district) = filter.district.as_ref().filter(|d| Some(*d) != filter.area.as_ref()) {
            text("q.district_code = ?", district.clone(), &mut conditions);
        }
        if let Some(kind) = &filter.kind {
            text("q.kind = ?", kind.as_str().to_string(), &mut conditions);
        }
        if let Some(before) = filter.entered_before {
            text("e.recorded_at < ?", super::ledger::timestamp(before), &mut conditions);
        }
        if let Some(agency) = filter.agency {
            conditions.push(format!("q.agency_id = {agency}"));
        }
        let filter_sql =
            if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let order = if filter.newest_first { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT e.seq, e.subject_id AS worker_id, w.name AS worker_name, e.kind, e.payload, e.source, e.recorded_at
             FROM review_queue q JOIN credit_ledger e ON e.seq = q.entry_seq JOIN workers w ON w.id = q.worker_id
             {filter_sql} ORDER BY q.entry_seq {order} LIMIT {} OFFSET {}",
            page.limit(),
            page.offset()
        );
        let items: Vec<QueuedEntry> = on_pool!(self, p => {
            let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
            for value in &texts {
                query = query.bind(value);
            }
            query.fetch_all(p).await?
        });
        // A city's backlog can run to millions of records: the count stops at QUEUE_COUNT_CAP
        // (shown as "more than") instead of walking them all on every page.
        let total = match page.total_if_known(items.len()) {
            Some(n) => n,
            None => {
                // The ledger is read only when the waiting time is asked: the queue table has the rest.
                let ledger =
                    if filter.entered_before.is_some() { "JOIN credit_ledger e ON e.seq = q.entry_seq" } else { "" };
                let sql = format!(
                    "SELECT COUNT(*) FROM (SELECT 1 FROM review_queue q {ledger} {filter_sql} LIMIT {}) AS waiting",
                    QUEUE_COUNT_CAP + 1
                );
                let (n,): (i64,) = on_pool!(self, p => {
                    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql));
                    for value in &texts {
                        query = query.bind(value);
                    }
                    query.fetch_one(p).await?
                });
                n
            }
        };
        Ok(page.wrap(items, total))
    }

    /// Approves or returns an agency-entered entry. A return withdraws it by a correction; a
    /// false entry is also recorded against the agency that entered it.
    pub async fn review_entry(
        &self,
        seq: i64,
        decision: ReviewDecision,
        reason: &str,
        false_entry: bool,
        regulator: &Actor,
    ) -> Result<Option<i64>> {
        let entry = self.ledger_entry(seq).await?;
        if entry.subject_kind == "worker" {
            self.require_in_area(regulator, SubjectKind::Worker, entry.subject_id).await?;
        }
        let agency: Option<i64> = entry.source.strip_prefix("agency:").and_then(|a| a.parse().ok());
        let Some(agency) = agency.filter(|_| entry.subject_kind == "worker") else {
            return Err(invalid(
                "seq",
                "not_reviewed",
                "该记录不需要审核",
                "this entry is not an agency-entered worker record",
            ));
        };
        if false_entry && decision != ReviewDecision::Returned {
            return Err(invalid(
                "false_entry",
                "approve_false",
                "通过的记录不能认定为虚假",
                "an approved entry cannot be false",
            ));
        }
        let withdraw = (decision == ReviewDecision::Returned).then(|| NewEntry {
            subject_kind: SubjectKind::Worker,
            subject_id: entry.subject_id,
            kind: EntryKind::Correction,
            payload: json!({ "withdrawn": true, "reason": reason }),
            source: regulator.source.clone(),
            recorded_by: Some(regulator.account_id),
            corrects: Some(seq),
        });
        let against = false_entry.then(|| NewEntry {
            subject_kind: SubjectKind::Agency,
            subject_id: agency,
            kind: EntryKind::FalseEntry,
            payload: json!({ "entry": seq, "worker_id": entry.subject_id, "reason": reason }),
            source: regulator.source.clone(),
            recorded_by: Some(regulator.account_id),
            corrects: None,
        });
        ledger_tx!(self, tx => async {
            sqlx::query(
                "INSERT INTO entry_reviews (entry_seq, decision, reason, false_entry, decided_by, decided_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            ).bind(seq).bind(decision.as_str()).bind(reason).bind(false_entry).bind(regulator.account_id).bind(now())
            .execute(&mut *tx).await.map_err(StoreError::conflict_on("already_reviewed"))?;
            let mut withdrawn = None;
            if let Some(w) = &withdraw {
                withdrawn = Some(append_in!(tx, w)?.seq);
                sqlx::query("UPDATE entry_reviews SET ledger_seq = $1 WHERE entry_seq = $2")
                    .bind(withdrawn).bind(seq).execute(&mut *tx).await?;
                // The returned record stops counting for the workforce rules as well.
                if let Some((sql, record)) = withdraw_sql(&entry) {
                    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(withdrawn).bind(record).execute(&mut *tx).await?;
                }
            }
            if let Some(a) = &against {
                append_in!(tx, a)?;
            }
            Ok(withdrawn)
        }.await)
    }

    /// A reward or a penalty, straight onto the subject's ledger.
    pub async fn record_action(&self, action: &Action, regulator: &Actor) -> Result<i64> {
        self.subject_exists(action.subject_kind, action.subject_id).await?;
        self.require_in_area(regulator, action.subject_kind, action.subject_id).await?;
        let kind = match action.kind {
            jiazheng_core::credit::casework::ActionKind::Reward => EntryKind::Reward,
            jiazheng_core::credit::casework::ActionKind::Penalty => EntryKind::Penalty,
        };
        let entry = NewEntry {
            subject_kind: action.subject_kind,
            subject_id: action.subject_id,
            kind,
            payload: serde_json::to_value(action).map_err(|_| StoreError::Crypto("action payload"))?,
            source: regulator.source.clone(),
            recorded_by: Some(regulator.account_id),
            corrects: None,
        };
        Ok(self.append_entry(&entry).await?.seq)
    }

    /// Proposes listing (or removal); nothing is public until another regulator approves.
    pub async fn propose_listing(&self, proposal: &ListProposal, regulator: &Actor) -> Result<ListingRow> {
        self.subject_exists(proposal.subject_kind, proposal.subject_id).await?;
        self.require_in_area(regulator, proposal.subject_kind, proposal.subject_id).await?;
        let by = regulator.account_id;
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO list_decisions (subject_kind, subject_id, list, reason, document, proposed_by, proposed_at, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'proposed') RETURNING id",
        ).bind(proposal.subject_kind.as_str()).bind(proposal.subject_id).bind(proposal.list.as_str())
        .bind(&proposal.reason).bind(&proposal.document).bind(by).bind(now()).fetch_one(p).await
        .map_err(StoreError::conflict_on("proposal_open"))?);
        self.listing(id).await
    }

    pub async fn listing(&self, id: i64) -> Result<ListingRow> {
        let sql = format!("{SELECT_LISTING} WHERE l.id = $1");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    /// Listing proposals waiting for review.
    pub async fn open_listings(&self, area: Option<&str>) -> Result<Vec<ListingRow>> {
        let sql = format!(
            "{SELECT_LISTING} WHERE l.status = 'proposed' AND ($1 IS NULL OR COALESCE(w.district_code, a.district_code) = $1)
             ORDER BY l.id LIMIT 200"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(area).fetch_all(p).await?))
    }

    /// Another regulator approves (a `list_decision` entry) or rejects a proposal.
    pub async fn review_listing(&self, id: i64, approve: bool, note: &str, reviewer: &Actor) -> Result<ListingRow> {
        let proposal = self.listing(id).await?;
        let subject = SubjectKind::parse(&proposal.subject_kind).unwrap_or(SubjectKind::Agency);
        self.require_in_area(reviewer, subject, proposal.subject_id).await?;
        may_review_listing(proposal.proposed_by, reviewer.account_id)
            .map_err(|e| StoreError::Invalid(FieldErrors(vec![e.at("decision")])))?;
        let entry = approve.then(|| NewEntry {
            subject_kind: SubjectKind::parse(&proposal.subject_kind).unwrap_or(SubjectKind::Agency),
            subject_id: proposal.subject_id,
            kind: EntryKind::ListDecision,
            payload: json!({ "list": proposal.list, "reason": proposal.reason, "document": proposal.document,
                "proposal": id }),
            source: reviewer.source.clone(),
            recorded_by: Some(reviewer.account_id),
            corrects: None,
        });
        ledger_tx!(self, tx => async {
            let seq = match &entry {
                Some(e) => Some(append_in!(tx, e)?.seq),
                None => None,
            };
            let done = sqlx::query(
                "UPDATE list_decisions SET status = $1, reviewed_by = $2, reviewed_at = $3, review_note = $4, ledger_seq = $5
                 WHERE id = $6 AND status = 'proposed'",
            ).bind(if approve { "listed" } else { "rejected" }).bind(reviewer.account_id).bind(now()).bind(note)
            .bind(seq).bind(id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Stale);
            }
            Ok(())
        }.await)?;
        self.listing(id).await
    }

    /// Who is on a list now: the latest approved decision per subject names the list.
    pub async fn credit_list(&self, list: CreditList) -> Result<Vec<ListingRow>> {
        let sql = format!(
            "{SELECT_LISTING} WHERE l.status = 'listed' AND l.list = $1 AND l.id = (
                SELECT MAX(x.id) FROM list_decisions x
                WHERE x.subject_kind = l.subject_kind AND x.subject_id = l.subject_id AND x.status = 'listed')
             ORDER BY l.reviewed_at DESC LIMIT 500"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(list.as_str()).fetch_all(p).await?))
    }

    /// The approved list decisions about one subject, newest first.
    pub async fn listings_of(&self, kind: SubjectKind, id: i64) -> Result<Vec<ListingRow>> {
        let sql = format!(
            "{SELECT_LISTING} WHERE l.subject_kind = $1 AND l.subject_id = $2 AND l.status = 'listed' ORDER BY l.id DESC"
        );
        Ok(
            on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(kind.as_str()).bind(id).fetch_all(p).await?),
        )
    }

    /// A worker or agency appeals an entry about themselves.
    pub async fn file_appeal(
        &self,
        seq: i64,
        appellant: i64,
        own: (SubjectKind, i64),
        reason: &str,
    ) -> Result<AppealRow> {
        let entry = self.ledger_entry(seq).await?;
        if entry.subject_kind != own.0.as_str() || entry.subject_id != own.1 {
            return Err(StoreError::Refused("only the subject of an entry may appeal it".into()));
        }
        let (id,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO appeals (entry_seq, appellant_account_id, reason, status, filed_at) VALUES ($1, $2, $3, 'filed', $4)
             RETURNING id",
        ).bind(seq).bind(appellant).bind(reason).bind(now()).fetch_one(p).await
        .map_err(StoreError::conflict_on("appeal_open"))?);
        self.appeal(id).await
    }

    pub async fn appeal(&self, id: i64) -> Result<AppealRow> {
        let sql = format!("{SELECT_APPEAL} WHERE p.id = $1");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    pub async fn open_appeals(&self, area: Option<&str>) -> Result<Vec<AppealRow>> {
        let sql = format!(
            "{SELECT_APPEAL} WHERE p.status = 'filed' AND ($1 IS NULL OR COALESCE(w.district_code, a.district_code) = $1)
             ORDER BY p.id LIMIT 200"
        );
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(area).fetch_all(p).await?))
    }

    /// The regulator decides an appeal; the outcome is an `appeal` entry, and a granted appeal
    /// corrects (withdraws) the entry appealed against.
    pub async fn decide_appeal(
        &self,
        id: i64,
        outcome: AppealOutcome,
        reason: &str,
        regulator: &Actor,
    ) -> Result<AppealRow> {
        let appeal = self.appeal(id).await?;
        let subject = SubjectKind::parse(&appeal.subject_kind).unwrap_or(SubjectKind::Worker);
        self.require_in_area(regulator, subject, appeal.subject_id).await?;
        // A granted appeal withdraws the record behind the entry, or restores the record that a
        // withdrawn correction had taken away.
        let appealed = self.ledger_entry(appeal.entry_seq).await?;
        let record_change = match (outcome, appealed.corrects) {
            (AppealOutcome::Denied, _) => None,
            (AppealOutcome::Granted, Some(target)) => {
                withdraw_sql(&self.ledger_entry(target).await?).map(|(sql, record)| (sql, record, false))
            }
            (AppealOutcome::Granted, None) => withdraw_sql(&appealed).map(|(sql, record)| (sql, record, true)),
        };
        let entry = NewEntry {
            subject_kind: SubjectKind::parse(&appeal.subject_kind).unwrap_or(SubjectKind::Worker),
            subject_id: appeal.subject_id,
            kind: EntryKind::Appeal,
            payload: json!({ "appeal": id, "entry": appeal.entry_seq, "outcome": outcome.as_str(), "reason": reason }),
            source: regulator.source.clone(),
            recorded_by: Some(regulator.account_id),
            corrects: (outcome == AppealOutcome::Granted).then_some(appeal.entry_seq),
        };
        ledger_tx!(self, tx => async {
            let row = append_in!(tx, &entry)?;
            if let Some((sql, record, withdraw)) = &record_change {
                sqlx::query(sqlx::AssertSqlSafe(sql.clone())).bind(withdraw.then_some(row.seq)).bind(record)
                    .execute(&mut *tx).await?;
            }
            let done = sqlx::query(
                "UPDATE appeals SET status = $1, decided_by = $2, decided_at = $3, decision_reason = $4, ledger_seq = $5
                 WHERE id = $6 AND status = 'filed'",
            ).bind(outcome.as_str()).bind(regulator.account_id).bind(now()).bind(reason).bind(row.seq).bind(id)
            .execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Stale);
            }
            Ok(())
        }.await)?;
        self.appeal(id).await
    }
}

/// An agency's public credit record.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AgencyCredit {
    /// Rewards and penalties, newest first.
    pub actions: Vec<super::ledger::Entry>,
    /// Approved list decisions, newest first; the first names the current list.
    pub listings: Vec<ListingRow>,
    pub confirmed_services: i64,
    pub upheld_complaints: i64,
    /// Upheld complaints per 100 confirmed services.
    pub complaint_rate: Option<f64>,
    pub false_entries: i64,
    /// Rectification orders past their deadline and not accepted, today.
    pub overdue_rectifications: i64,
}

impl Store {
    pub async fn agency_credit(&self, agency_id: i64) -> Result<AgencyCredit> {
        self.agency(agency_id).await?;
        let ledger = self.ledger_of(SubjectKind::Agency, agency_id).await?;
        let kinds = [EntryKind::Reward.as_str(), EntryKind::Penalty.as_str()];
        let actions = ledger.iter().rev().filter(|e| kinds.contains(&e.kind.as_str())).cloned().collect();
        let false_entries = ledger.iter().filter(|e| e.kind == EntryKind::FalseEntry.as_str()).count() as i64;
        let (confirmed_services, upheld_complaints): (i64, i64) = on_pool!(self, p => sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM service_records WHERE agency_id = $1 AND confirmed_at IS NOT NULL),
                    (SELECT COUNT(*) FROM complaints c LEFT JOIN service_records s ON s.id = c.service_id
                     WHERE c.status = 'upheld' AND ((c.subject_kind = 'agency' AND c.subject_id = $1) OR s.agency_id = $1))",
        ).bind(agency_id).fetch_one(p).await?);
        Ok(AgencyCredit {
            actions,
            listings: self.listings_of(SubjectKind::Agency, agency_id).await?,
            confirmed_services,
            upheld_complaints,
            complaint_rate: jiazheng_core::credit::casework::complaint_rate(upheld_complaints, confirmed_services),
            false_entries,
            overdue_rectifications: self
                .overdue_rectifications(agency_id, jiazheng_core::calendar::beijing_today())
                .await?,
        })
    }
}
