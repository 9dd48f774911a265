//! The key-agency and talent libraries (plan task 13). An agency nominates itself, its workers
//! (active binding) and its managers; a school its graduates (a passed course of its own) and its
//! trainers; a district regulator anyone in the district. A nomination of someone not tied to
//! the nominator is not found; a second live nomination of one subject is a conflict. The
//! entry criteria are checked against the records at nomination (kept) and again at review;
//! the overseeing city regulator publishes (every checkable criterion met) or rejects, and
//! removes a published entry with a reason; a removed entry stays in the history.

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::credit::grade::{Weights, grade};
use jiazheng_core::credit::{EntryKind, SubjectKind};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::field::Invalid;
use jiazheng_core::oversight::library::{
    AgencyFacts, CriterionCheck, EntryStatus, LibraryKind, NominationDraft, Nominator, WorkerFacts, admissible,
    check_agency, check_talent, subject_key,
};
use jiazheng_core::workforce::SkillLevel;
use serde::Serialize;

use crate::market::write_tx;
use crate::oversight::audit::{AuditRecord, audit_in};
use crate::registry::workers::Worker;
use crate::{Page, PageRequest, Result, Store, StoreError, now, on_pool};

row! {
    /// A nomination, or the entry it became.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct LibraryEntry {
        pub id: i64,
        /// `agency` or `talent`.
        pub library: String,
        /// `agency`, `skilled_worker`, `manager` or `trainer`.
        pub kind: String,
        pub agency_id: Option<i64>,
        pub agency_name: Option<String>,
        pub provider_id: Option<i64>,
        pub provider_name: Option<String>,
        pub worker_id: Option<i64>,
        /// The name shown: the agency's, the worker's, or the named person's.
        pub name: String,
        /// A manager's or trainer's role.
        pub person_role: Option<String>,
        pub district_code: String,
        pub district_name: String,
        pub reason: String,
        /// `agency`, `school` or `regulator`.
        pub nominator: String,
        pub nominated_by_name: String,
        pub nominated_at: DateTime<Utc>,
        /// `pending`, `published`, `rejected` or `removed`.
        pub status: String,
        pub decided_at: Option<DateTime<Utc>>,
        pub decision_note: Option<String>,
        pub removed_at: Option<DateTime<Utc>>,
        pub removal_reason: Option<String>,
        /// The criteria as checked at nomination (JSON list).
        #[serde(skip)]
        pub criteria: String,
    }
}

impl LibraryEntry {
    pub fn kind(&self) -> LibraryKind {
        LibraryKind::parse(&self.kind).unwrap_or(LibraryKind::Agency)
    }

    /// The criteria as checked when it was nominated.
    pub fn criteria_at_nomination(&self) -> Vec<CriterionCheck> {
        serde_json::from_str(&self.criteria).unwrap_or_default()
    }
}

const SELECT_ENTRY: &str = "SELECT e.id, e.library, e.kind, e.agency_id, ag.name AS agency_name, e.provider_id,
        tp.name AS provider_name, e.worker_id,
        COALESCE(CASE WHEN e.kind = 'agency' THEN ag.name END, w.name, e.person_name, '') AS name,
        e.person_role, e.district_code, d.name AS district_name, e.reason, e.nominator,
        a.display_name AS nominated_by_name, e.nominated_at, e.status, e.decided_at, e.decision_note,
        e.removed_at, e.removal_reason, e.criteria
    FROM library_entries e JOIN divisions d ON d.code = e.district_code JOIN accounts a ON a.id = e.nominated_by
    LEFT JOIN agencies ag ON ag.id = e.agency_id LEFT JOIN training_providers tp ON tp.id = e.provider_id
    LEFT JOIN workers w ON w.id = e.worker_id";

/// Which nominations a list shows.
#[derive(Debug, Clone, Default)]
pub struct EntryFilter {
    pub kind: Option<LibraryKind>,
    pub status: Option<EntryStatus>,
}

/// Whose nominations a viewer reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryScope {
    Agency(i64),
    School(i64),
    /// A district (or the city when `None`).
    Area(Option<DivisionCode>),
}

impl EntryScope {
    pub fn of(who: &Principal) -> Option<Self> {
        match (who.role, &who.scope) {
            (Role::AgencyAdmin, Scope::Agency(id)) => Some(Self::Agency(*id)),
            (Role::School, Scope::Provider(id)) => Some(Self::School(*id)),
            (Role::Regulator, Scope::City) => Some(Self::Area(None)),
            (Role::Regulator, Scope::District(d)) => Some(Self::Area(Some(d.clone()))),
            _ => None,
        }
    }
}

fn sql(text: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(text)
}

fn field_error(field: &str, invalid: Invalid) -> StoreError {
    StoreError::Invalid(FieldErrors(vec![invalid.at(field)]))
}

fn level_rank(level: SkillLevel) -> usize {
    SkillLevel::ALL.iter().position(|l| *l == level).unwrap_or(0)
}

/// The nominator a principal nominates as, with its agency or school.
fn nominator_of(who: &Principal) -> Result<(Nominator, Option<i64>, Option<DivisionCode>)> {
    match (who.role, &who.scope) {
        (Role::AgencyAdmin, Scope::Agency(id)) => Ok((Nominator::Agency, Some(*id), None)),
        (Role::School, Scope::Provider(id)) => Ok((Nominator::School, Some(*id), None)),
        (Role::Regulator, Scope::District(d)) => Ok((Nominator::Regulator, None, Some(d.clone()))),
        _ => Err(StoreError::Refused("agencies, schools and district regulators nominate".into())),
    }
}

fn within(code: &str, area: &DivisionCode) -> bool {
    DivisionCode::parse(code).is_ok_and(|c| c.is_within(area))
}

/// The subject of a nomination as resolved against the records.
struct Subject {
    agency_id: Option<i64>,
    provider_id: Option<i64>,
    worker_id: Option<i64>,
    person_name: Option<String>,
    person_role: Option<String>,
    district_code: String,
    label: String,
}

impl Store {
    /// Whether a worker has an active binding with an agency.
    async fn bound(&self, worker: i64, agency: i64) -> Result<bool> {
        let row: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id FROM bindings WHERE worker_id = $1 AND agency_id = $2 AND status = 'active'",
        ).bind(worker).bind(agency).fetch_optional(p).await?);
        Ok(row.is_some())
    }

    /// Whether a worker passed a course of a school (a graduate of it).
    async fn graduated(&self, worker: i64, provider: i64) -> Result<bool> {
        let row: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT tr.id FROM training_records tr JOIN courses c ON c.id = tr.course_id
             WHERE tr.worker_id = $1 AND c.provider_id = $2 AND tr.exam_passed = $3 AND tr.withdrawn_seq IS NULL
             LIMIT 1",
        ).bind(worker).bind(provider).bind(true).fetch_optional(p).await?);
        Ok(row.is_some())
    }

    /// A worker the nominator is tied to; anyone else is not found.
    async fn tied_worker(
        &self,
        worker: i64,
        nominator: Nominator,
        own: Option<i64>,
        area: Option<&DivisionCode>,
    ) -> Result<Worker> {
        let record = self.worker(worker).await?;
        let tied = match nominator {
            Nominator::Agency => self.bound(worker, own.unwrap_or_default()).await?,
            Nominator::School => self.graduated(worker, own.unwrap_or_default()).await?,
            Nominator::Regulator => area.is_some_and(|a| within(&record.district_code, a)),
        };
        if tied { Ok(record) } else { Err(StoreError::NotFound) }
    }

    /// The first agency a worker is actively bound to.
    async fn employer_of(&self, worker: i64) -> Result<Option<i64>> {
        Ok(self.employing_agencies(worker).await?.first().copied())
    }

    async fn resolve_subject(
        &self,
        draft: &NominationDraft,
        nominator: Nominator,
        own: Option<i64>,
        area: Option<&DivisionCode>,
    ) -> Result<Subject> {
        // An agency (a key agency, a manager's): the nominator's own, or one in the district.
        let agency_in_scope = |picked: Option<i64>| async move {
            let id = match nominator {
                Nominator::Agency => {
                    if picked.is_some_and(|p| Some(p) != own) {
                        return Err(StoreError::Refused("an agency nominates its own".into()));
                    }
                    own.unwrap_or_default()
                }
                _ => picked.ok_or_else(|| {
                    field_error("agency_id", Invalid::new("required", "请选择企业", "pick the agency"))
                })?,
            };
            let agency = self.agency(id).await?;
            if nominator == Nominator::Regulator && !area.is_some_and(|a| within(&agency.district_code, a)) {
                return Err(StoreError::NotFound);
            }
            Ok(agency)
        };
        let worker = match draft.worker_id {
            Some(id) => Some(self.tied_worker(id, nominator, own, area).await?),
            None => None,
        };
        let person = draft.person.as_ref();
        let named = |worker: &Option<Worker>| {
            worker.as_ref().map(|w| w.name.clone()).or_else(|| person.and_then(|p| p.name.clone())).unwrap_or_default()
        };
        Ok(match draft.kind {
            LibraryKind::Agency => {
                let agency = agency_in_scope(draft.agency_id).await?;
                Subject {
                    agency_id: Some(agency.id),
                    provider_id: None,
                    worker_id: None,
                    person_name: None,
                    person_role: None,
                    district_code: agency.district_code,
                    label: agency.name,
                }
            }
            LibraryKind::SkilledWorker => {
                let w = worker.ok_or_else(|| {
                    field_error("worker_id", Invalid::new("required", "请选择服务员", "pick the worker"))
                })?;
                let agency_id = match nominator {
                    Nominator::Agency => own,
                    _ => self.employer_of(w.id).await?,
                };
                Subject {
                    agency_id,
                    provider_id: if nominator == Nominator::School { own } else { None },
                    worker_id: Some(w.id),
                    person_name: None,
                    person_role: None,
                    district_code: w.district_code.clone(),
                    label: w.name.clone(),
                }
            }
            LibraryKind::Manager => {
                let agency = agency_in_scope(draft.agency_id).await?;
                if let Some(w) = &worker
                    && !self.bound(w.id, agency.id).await?
                {
                    return Err(StoreError::NotFound);
                }
                let name = named(&worker);
                Subject {
                    agency_id: Some(agency.id),
                    provider_id: None,
                    worker_id: worker.as_ref().map(|w| w.id),
                    person_name: Some(name.clone()),
                    person_role: person.map(|p| p.role.clone()),
                    district_code: agency.district_code,
                    label: name,
                }
            }
            LibraryKind::Trainer => {
                let provider_id = match nominator {
                    Nominator::School => own.unwrap_or_default(),
                    _ => draft.provider_id.ok_or_else(|| {
                        field_error("provider_id", Invalid::new("required", "请选择院校", "pick the school"))
                    })?,
                };
                let provider = self.provider(provider_id).await?;
                if nominator == Nominator::Regulator && !area.is_some_and(|a| within(&provider.district_code, a)) {
                    return Err(StoreError::NotFound);
                }
                let name = named(&worker);
                Subject {
                    agency_id: None,
                    provider_id: Some(provider.id),
                    worker_id: worker.as_ref().map(|w| w.id),
                    person_name: Some(name.clone()),
                    person_role: person.map(|p| p.role.clone()),
                    district_code: format!("{:0<12}", provider.district_code),
                    label: name,
                }
            }
        })
    }

    /// What the records say about an agency, for the criteria.
    pub async fn library_agency_facts(&self, agency_id: i64) -> Result<AgencyFacts> {
        let agency = self.agency(agency_id).await?;
        let facts = self.grade_facts(SubjectKind::Agency, agency_id).await?;
        let g = grade(&facts, None, &Weights::shipped());
        let black_listed = facts
            .iter()
            .rfind(|f| f.kind == EntryKind::ListDecision)
            .is_some_and(|f| f.detail.as_deref() == Some("black"));
        let standing: std::collections::HashSet<i64> =
            facts.iter().filter(|f| f.kind == EntryKind::Penalty).map(|f| f.seq).collect();
        let last_penalty_on = self
            .ledger_of(SubjectKind::Agency, agency_id)
            .await?
            .iter()
            .filter(|e| standing.contains(&e.seq))
            .filter_map(|e| {
                let payload: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
                payload["decided_on"]
                    .as_str()
                    .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                    .or_else(|| chrono::DateTime::parse_from_rfc3339(&e.recorded_at).ok().map(|t| t.date_naive()))
            })
            .max();
        Ok(AgencyFacts {
            status: agency.status,
            black_listed,
            last_penalty_on,
            grade_letter: g.letter,
            grade_score: g.score,
        })
    }

    /// What the records say about a worker, for the criteria.
    pub async fn library_worker_facts(&self, worker_id: i64, today: NaiveDate) -> Result<WorkerFacts> {
        let levels: Vec<(String,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT level FROM skill_certificates WHERE worker_id = $1 AND kind = 'occupational' AND level IS NOT NULL
               AND withdrawn_seq IS NULL AND (valid_until IS NULL OR valid_until >= $2)",
        ).bind(worker_id).bind(today).fetch_all(p).await?);
        let best_level = levels.iter().filter_map(|(l,)| SkillLevel::parse(l).ok()).max_by_key(|l| level_rank(*l));
        let facts = self.grade_facts(SubjectKind::Worker, worker_id).await?;
        Ok(WorkerFacts {
            best_level,
            upheld_complaints: facts.iter().filter(|f| f.kind == EntryKind::ComplaintUpheld).count() as i64,
            black_listed: facts
                .iter()
                .rfind(|f| f.kind == EntryKind::ListDecision)
                .is_some_and(|f| f.detail.as_deref() == Some("black")),
        })
    }

    /// The entry criteria of a subject checked against today's records.
    async fn check_subject(
        &self,
        kind: LibraryKind,
        agency: Option<i64>,
        provider: Option<i64>,
        worker: Option<i64>,
        today: NaiveDate,
    ) -> Result<Vec<CriterionCheck>> {
        if kind == LibraryKind::Agency {
            return Ok(check_agency(&self.library_agency_facts(agency.unwrap_or_default()).await?, today));
        }
        let worker_facts = match worker {
            Some(id) => Some(self.library_worker_facts(id, today).await?),
            None => None,
        };
        let affiliation = match kind {
            LibraryKind::Manager => Some(self.agency(agency.unwrap_or_default()).await?.status == "active"),
            LibraryKind::Trainer => Some(self.provider(provider.unwrap_or_default()).await.is_ok()),
            _ => None,
        };
        Ok(check_talent(kind, affiliation, worker_facts.as_ref()))
    }

    /// An entry's criteria checked against today's records.
    pub async fn entry_criteria(&self, entry: &LibraryEntry, today: NaiveDate) -> Result<Vec<CriterionCheck>> {
        self.check_subject(entry.kind(), entry.agency_id, entry.provider_id, entry.worker_id, today).await
    }

    /// Nominates a subject. Refused (403) for a role or kind the nominator may not nominate;
    /// not found for a subject not tied to the nominator; `library_duplicate` (409, naming the
    /// live entry) for a second live nomination of one subject.
    pub async fn nominate(&self, who: &Principal, draft: &NominationDraft, today: NaiveDate) -> Result<i64> {
        let (nominator, own, area) = nominator_of(who)?;
        if !nominator.may_nominate(draft.kind) {
            return Err(StoreError::Refused("this nominator does not nominate this kind".into()));
        }
        let subject = self.resolve_subject(draft, nominator, own, area.as_ref()).await?;
        let key = subject_key(
            draft.kind,
            subject.agency_id,
            subject.provider_id,
            subject.worker_id,
            subject.person_name.as_deref().unwrap_or(""),
        );
        let checks =
            self.check_subject(draft.kind, subject.agency_id, subject.provider_id, subject.worker_id, today).await?;
        let criteria = serde_json::to_string(&checks).unwrap_or_else(|_| "[]".into());
        let at = now();
        let outcome = write_tx!(self, tx => async {
            let inserted: std::result::Result<(i64,), sqlx::Error> = sqlx::query_as(
                "INSERT INTO library_entries (library, kind, subject_key, agency_id, provider_id, worker_id, person_name,
                     person_role, district_code, reason, nominator, nominated_by, nominated_at, criteria, status)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 'pending') RETURNING id",
            )
            .bind(draft.kind.library().as_str()).bind(draft.kind.as_str()).bind(&key).bind(subject.agency_id)
            .bind(subject.provider_id).bind(subject.worker_id).bind(&subject.person_name).bind(&subject.person_role)
            .bind(&subject.district_code).bind(&draft.reason).bind(nominator.as_str()).bind(who.account_id).bind(at)
            .bind(&criteria)
            .fetch_one(&mut *tx).await;
            let (id,) = match inserted {
                Ok(row) => row,
                Err(e) => return Err(StoreError::conflict_on("library_duplicate")(e)),
            };
            if nominator == Nominator::Regulator {
                let record = AuditRecord {
                    actor: who.account_id,
                    action: "library.nominate",
                    subject_kind: "library_entry",
                    subject_id: id,
                    subject_label: subject.label.clone(),
                    before: None,
                    after: Some(serde_json::json!({ "kind": draft.kind.as_str(), "status": "pending", "reason": draft.reason })),
                };
                audit_in!(&mut *tx, &record)?;
            }
            Ok(id)
        }.await);
        match outcome {
            Err(StoreError::Conflict { what: "library_duplicate", .. }) => {
                let (live,): (i64,) = on_pool!(self, p => sqlx::query_as(
                    "SELECT id FROM library_entries WHERE kind = $1 AND subject_key = $2 AND status IN ('pending', 'published')",
                ).bind(draft.kind.as_str()).bind(&key).fetch_one(p).await?);
                Err(StoreError::Conflict { what: "library_duplicate", existing_id: Some(live) })
            }
            other => other,
        }
    }

    pub async fn library_entry(&self, id: i64) -> Result<LibraryEntry> {
        let q = sql(format!("{SELECT_ENTRY} WHERE e.id = $1"));
        on_pool!(self, p => sqlx::query_as(q).bind(id).fetch_optional(p).await?).ok_or(StoreError::NotFound)
    }

    /// An entry as `who` may see it: the nominating agency or school, or a regulator whose area
    /// holds it; others: not found.
    pub async fn library_entry_for(&self, id: i64, who: &Principal) -> Result<LibraryEntry> {
        let entry = self.library_entry(id).await?;
        let sees = match EntryScope::of(who) {
            Some(EntryScope::Agency(a)) => entry.nominator == "agency" && entry.agency_id == Some(a),
            Some(EntryScope::School(s)) => entry.nominator == "school" && entry.provider_id == Some(s),
            Some(EntryScope::Area(None)) => true,
            Some(EntryScope::Area(Some(d))) => within(&entry.district_code, &d),
            None => false,
        };
        if sees { Ok(entry) } else { Err(StoreError::NotFound) }
    }

    /// Nominations a viewer reads, newest first: an agency's or school's own, a regulator's area.
    pub async fn library_nominations(
        &self,
        scope: &EntryScope,
        filter: &EntryFilter,
        page: PageRequest,
    ) -> Result<Page<LibraryEntry>> {
        let (who_sql, key): (&str, String) = match scope {
            EntryScope::Agency(id) => ("e.nominator = 'agency' AND e.agency_id = CAST($1 AS BIGINT)", id.to_string()),
            EntryScope::School(id) => ("e.nominator = 'school' AND e.provider_id = CAST($1 AS BIGINT)", id.to_string()),
            EntryScope::Area(None) => ("$1 = ''", String::new()),
            EntryScope::Area(Some(d)) => ("e.district_code LIKE $1", format!("{}%", d.significant())),
        };
        let filters = format!("WHERE {who_sql} AND ($2 = '' OR e.kind = $2) AND ($3 = '' OR e.status = $3)");
        let q = sql(format!("{SELECT_ENTRY} {filters} ORDER BY e.id DESC LIMIT $4 OFFSET $5"));
        let count = sql(format!("SELECT COUNT(*) FROM library_entries e {filters}"));
        let kind = filter.kind.map_or("", |k| k.as_str());
        let status = filter.status.map_or("", |s| s.as_str());
        let items: Vec<LibraryEntry> = on_pool!(self, p => sqlx::query_as(q)
            .bind(&key).bind(kind).bind(status).bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let total = match page.total_if_known(items.len()) {
            Some(n) => n,
            None => {
                let (n,): (i64,) =
                    on_pool!(self, p => sqlx::query_as(count).bind(&key).bind(kind).bind(status).fetch_one(p).await?);
                n
            }
        };
        Ok(page.wrap(items, total))
    }

    /// The public libraries: published entries (and, with `removed`, the removed ones), by kind.
    pub async fn public_library(
        &self,
        kind: Option<LibraryKind>,
        removed: bool,
        page: PageRequest,
    ) -> Result<Page<LibraryEntry>> {
        let status = if removed { "removed" } else { "published" };
        let order = if removed { "e.removed_at DESC, e.id DESC" } else { "e.kind, e.decided_at DESC, e.id DESC" };
        let filters = "WHERE e.status = $1 AND ($2 = '' OR e.kind = $2)";
        let q = sql(format!("{SELECT_ENTRY} {filters} ORDER BY {order} LIMIT $3 OFFSET $4"));
        let count = sql(format!("SELECT COUNT(*) FROM library_entries e {filters}"));
        let kind = kind.map_or("", |k| k.as_str());
        let items: Vec<LibraryEntry> = on_pool!(self, p => sqlx::query_as(q)
            .bind(status).bind(kind).bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let total = match page.total_if_known(items.len()) {
            Some(n) => n,
            None => {
                let (n,): (i64,) =
                    on_pool!(self, p => sqlx::query_as(count).bind(status).bind(kind).fetch_one(p).await?);
                n
            }
        };
        Ok(page.wrap(items, total))
    }

    /// The overseeing city regulator publishes a pending nomination (every criterion the records
    /// can check met, else 422 naming them) or rejects it, with an optional note.
    pub async fn decide_nomination(
        &self,
        who: &Principal,
        id: i64,
        publish: bool,
        note: Option<&str>,
        today: NaiveDate,
    ) -> Result<LibraryEntry> {
        if !self.may_oversee(who).await? {
            return Err(StoreError::Refused("the overseeing city regulator decides".into()));
        }
        let entry = self.library_entry(id).await?;
        if entry.status != EntryStatus::Pending.as_str() {
            return Err(StoreError::Conflict { what: "library_not_pending", existing_id: None });
        }
        if publish {
            let checks = self.entry_criteria(&entry, today).await?;
            admissible(&checks).map_err(StoreError::Invalid)?;
        }
        let status = if publish { EntryStatus::Published } else { EntryStatus::Rejected };
        let record = AuditRecord {
            actor: who.account_id,
            action: if publish { "library.publish" } else { "library.reject" },
            subject_kind: "library_entry",
            subject_id: id,
            subject_label: entry.name.clone(),
            before: Some(serde_json::json!({ "status": entry.status })),
            after: Some(serde_json::json!({ "status": status.as_str(), "note": note })),
        };
        write_tx!(self, tx => async {
            let done = sqlx::query(
                "UPDATE library_entries SET status = $1, decided_by = $2, decided_at = $3, decision_note = $4
                 WHERE id = $5 AND status = 'pending' AND nominated_by <> $2",
            )
            .bind(status.as_str()).bind(who.account_id).bind(now()).bind(note).bind(id)
            .execute(&mut *tx).await?.rows_affected();
            if done == 0 {
                return Err(StoreError::Conflict { what: "library_not_pending", existing_id: None });
            }
            audit_in!(&mut *tx, &record)?;
            Ok(())
        }.await)?;
        self.library_entry(id).await
    }

    /// The overseeing city regulator removes a published entry with the reason; it stays in the
    /// history, shown as removed with the date.
    pub async fn remove_library_entry(&self, who: &Principal, id: i64, reason: &str) -> Result<LibraryEntry> {
        if !self.may_oversee(who).await? {
            return Err(StoreError::Refused("the overseeing city regulator removes".into()));
        }
        let entry = self.library_entry(id).await?;
        if entry.status != EntryStatus::Published.as_str() {
            return Err(StoreError::Conflict { what: "library_not_published", existing_id: None });
        }
        let record = AuditRecord {
            actor: who.account_id,
            action: "library.remove",
            subject_kind: "library_entry",
            subject_id: id,
            subject_label: entry.name.clone(),
            before: Some(serde_json::json!({ "status": "published" })),
            after: Some(serde_json::json!({ "status": "removed", "reason": reason })),
        };
        write_tx!(self, tx => async {
            let done = sqlx::query(
                "UPDATE library_entries SET status = 'removed', removed_by = $1, removed_at = $2, removal_reason = $3
                 WHERE id = $4 AND status = 'published'",
            )
            .bind(who.account_id).bind(now()).bind(reason).bind(id)
            .execute(&mut *tx).await?.rows_affected();
            if done == 0 {
                return Err(StoreError::Conflict { what: "library_not_published", existing_id: None });
            }
            audit_in!(&mut *tx, &record)?;
            Ok(())
        }.await)?;
        self.library_entry(id).await
    }

    /// Workers a nominator may pick, by a name fragment (at most 50): an agency's bound workers,
    /// a school's graduates, a district's workers.
    pub async fn nominable_workers(&self, who: &Principal, name: &str) -> Result<Vec<(i64, String, String)>> {
        let (nominator, own, area) = nominator_of(who)?;
        let pattern = format!("%{}%", crate::registry::agencies::escape_like(name.trim()));
        let (join, condition, key): (&str, &str, String) = match nominator {
            Nominator::Agency => (
                "JOIN bindings b ON b.worker_id = w.id",
                "b.agency_id = CAST($1 AS BIGINT) AND b.status = 'active'",
                own.unwrap_or_default().to_string(),
            ),
            Nominator::School => (
                "",
                "w.id IN (SELECT tr.worker_id FROM training_records tr JOIN courses c ON c.id = tr.course_id
                          WHERE c.provider_id = CAST($1 AS BIGINT) AND tr.exam_passed = TRUE AND tr.withdrawn_seq IS NULL)",
                own.unwrap_or_default().to_string(),
            ),
            Nominator::Regulator => {
                ("", "w.district_code LIKE $1", format!("{}%", area.map(|a| a.significant().to_string()).unwrap_or_default()))
            }
        };
        let q = sql(format!(
            "SELECT w.id, w.name, w.id_masked FROM workers w {join}
             WHERE {condition} AND w.name LIKE $2 ESCAPE '\\' ORDER BY w.name, w.id LIMIT 50"
        ));
        Ok(on_pool!(self, p => sqlx::query_as(q).bind(&key).bind(&pattern).fetch_all(p).await?))
    }
}
