//! Workers: sealed identifiers, name-fragment search, and reads of sensitive fields that are
//! checked against the object and logged.

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::account::{Principal, WorkerAccess};
use jiazheng_core::division::DivisionCode;
use jiazheng_core::registry::ServiceKind;
use jiazheng_core::registry::binding::BindingKind;
use jiazheng_core::registry::worker::{WorkerDraft, name_grams, search_gram};
use serde::Serialize;
use sqlx::{Database, QueryBuilder};

use super::agencies::escape_like;
use sqlx::AssertSqlSafe;

use crate::{Page, PageRequest, Result, Store, StoreError, each_chunk, now, on_pool};

row! {
    /// A worker as anyone may see it: identifiers masked.
    #[derive(Debug, Clone, Serialize)]
    pub struct Worker {
        pub id: i64,
        pub name: String,
        pub id_masked: String,
        pub phone_masked: String,
        pub birth_date: NaiveDate,
        pub sex: String,
        pub ethnicity: String,
        pub education_level: String,
        pub education_major: Option<String>,
        pub education_related: bool,
        pub home_street: String,
        pub district_code: String,
        pub services: i64,
        pub registered_by: Option<i64>,
        pub version: i64,
        pub created_at: DateTime<Utc>,
    }
}

const WORKER_COLUMNS: &str = "w.id, w.name, w.id_masked, w.phone_masked, w.birth_date, w.sex, w.ethnicity,
    w.education_level, w.education_major, w.education_related, w.home_street, w.district_code, w.services,
    w.registered_by, w.version, w.created_at";

/// "Already registered" answers an agency may get a day about people it does not employ: far
/// more than honest registration meets, far fewer than a search of candidate ID numbers needs.
pub const REGISTERED_ANSWERS_PER_DAY: i64 = 50;

row! {
    /// An agency that reached the daily limit, for the regulator.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct RegistrationProbe {
        pub agency_id: i64,
        pub agency_name: String,
        pub district_code: String,
        pub answers: i64,
    }
}

row! {
    struct CountedWorker {
        #[flatten] worker: Worker,
        total: i64,
    }
}

/// The unmasked identifiers, for those allowed to read them.
#[derive(Debug, Clone, Serialize)]
pub struct Revealed {
    pub id_number: String,
    pub phone: String,
}

#[derive(Debug, Clone, Default)]
pub struct WorkerQuery {
    pub district: Option<DivisionCode>,
    pub service: Option<ServiceKind>,
    pub name: Option<String>,
    /// Workers employed by this agency (active bindings)...
    pub agency: Option<i64>,
    /// ...and, for the agency's own list, those it asked to bind who have not answered yet. A
    /// request nobody confirmed is never shown to the public as the agency's worker.
    pub pending_too: bool,
    pub page: PageRequest,
}

/// A worker to write, and the agency binding to open with it.
#[derive(Debug, Clone, Copy)]
pub struct NewWorker<'a> {
    pub draft: &'a WorkerDraft,
    pub binding: Option<NewBinding>,
}

#[derive(Debug, Clone, Copy)]
pub struct NewBinding {
    pub agency_id: i64,
    pub kind: BindingKind,
    pub active: bool,
}

/// Where a worker's sealed field lives: its column and the row's ID hash (known before the row
/// has an id, and unique).
fn place(id_hash: &[u8], column: &str) -> String {
    format!("workers.{column}:{}", hex::encode(id_hash))
}

/// A worker's ID number and phone as written: hashed for look-ups and sealed. Sealing is CPU
/// work that needs no database, so a bulk load does it on another thread.
pub struct SealedIdentity {
    id_hash: Vec<u8>,
    id_cipher: Vec<u8>,
    phone_hash: Vec<u8>,
    phone_cipher: Vec<u8>,
}

/// A worker to write with their identity sealed.
pub struct SealedWorker<'a> {
    pub worker: NewWorker<'a>,
    pub identity: SealedIdentity,
}

impl Store {
    pub fn seal_identity(&self, draft: &WorkerDraft) -> SealedIdentity {
        let c = self.crypto();
        let id_hash = c.lookup_hash("id", draft.id_number.as_str());
        let (id_cipher, phone_cipher) =
            self.seal_worker_identifiers(&id_hash, draft.id_number.as_str(), draft.phone.as_str());
        SealedIdentity { phone_hash: c.lookup_hash("phone", draft.phone.as_str()), id_cipher, phone_cipher, id_hash }
    }

    /// Seals an ID number and phone for the row with this ID hash.
    pub(crate) fn seal_worker_identifiers(&self, id_hash: &[u8], id_number: &str, phone: &str) -> (Vec<u8>, Vec<u8>) {
        let c = self.crypto();
        (c.seal_at(id_number, &place(id_hash, "id_cipher")), c.seal_at(phone, &place(id_hash, "phone_cipher")))
    }

    /// Opens a worker's sealed ID number and phone, which are bound to the row's ID hash.
    pub(crate) fn open_worker_identifiers(&self, id_hash: &[u8], id: &[u8], phone: &[u8]) -> Result<Revealed> {
        let c = self.crypto();
        Ok(Revealed {
            id_number: c.open_at(id, &place(id_hash, "id_cipher"))?,
            phone: c.open_at(phone, &place(id_hash, "phone_cipher"))?,
        })
    }

    /// The worker who holds this ID number, if any.
    pub async fn worker_id_by_id_number(&self, id_number: &str) -> Result<Option<i64>> {
        let hash = self.crypto().lookup_hash("id", id_number);
        let found: Option<(i64,)> = on_pool!(self, p => sqlx::query_as("SELECT id FROM workers WHERE id_hash = $1")
            .bind(&hash).fetch_optional(p).await?);
        Ok(found.map(|(id,)| id))
    }

    /// Registers a worker; with `agency`, the agency's binding request is created with it.
    /// A second record for the same ID number is refused with the existing record's id.
    pub async fn create_worker(&self, draft: &WorkerDraft, agency: Option<(i64, BindingKind)>) -> Result<i64> {
        let ids = self.create_workers(std::slice::from_ref(draft), agency).await?;
        Ok(ids[0])
    }

    /// Registers many workers in one transaction for one agency: all are written or none.
    pub async fn create_workers(&self, drafts: &[WorkerDraft], agency: Option<(i64, BindingKind)>) -> Result<Vec<i64>> {
        if let Some((agency_id, _)) = agency {
            self.require_registration_budget(agency_id).await?;
        }
        let binding = agency.map(|(agency_id, kind)| NewBinding { agency_id, kind, active: false });
        let rows: Vec<NewWorker> = drafts.iter().map(|draft| NewWorker { draft, binding }).collect();
        self.insert_workers(&rows).await
    }

    /// Writes workers, their name index and their bindings in one transaction. A binding made
    /// here is requested by the agency; `active` records one both sides already confirmed
    /// (demo data, or a migration from an earlier register).
    pub async fn insert_workers(&self, rows: &[NewWorker<'_>]) -> Result<Vec<i64>> {
        let sealed: Vec<SealedWorker> =
            rows.iter().map(|r| SealedWorker { worker: *r, identity: self.seal_identity(r.draft) }).collect();
        self.insert_sealed_workers(&sealed).await
    }

    /// [`Store::insert_workers`] with each worker's identity already sealed.
    pub async fn insert_sealed_workers(&self, sealed: &[SealedWorker<'_>]) -> Result<Vec<i64>> {
        let rows: Vec<NewWorker> = sealed.iter().map(|s| s.worker).collect();
        let rows = rows.as_slice();
        let streets: Vec<(&str, &str)> = rows.iter().map(|r| (r.draft.home_street.as_str(), "home_street")).collect();
        self.require_divisions(&streets).await?;
        let at = now();
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let inserted: Result<Vec<(i64,)>> = async {
                Ok(each_chunk!(sealed.chunks(500).zip(rows.chunks(500)), |(chunk, owners)| {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO workers (id_hash, id_cipher, id_masked, phone_hash, phone_cipher, phone_masked, name,
                        birth_date, sex, ethnicity, education_level, education_major, education_related, home_street,
                        district_code, services, registered_by, created_at, updated_at) ",
                );
                qb.push_values(chunk.iter().zip(owners), |mut row, (sealed, owner)| {
                    let (d, w) = (owner.draft, &sealed.identity);
                    row.push_bind(w.id_hash.clone())
                        .push_bind(w.id_cipher.clone())
                        .push_bind(d.id_number.masked())
                        .push_bind(w.phone_hash.clone())
                        .push_bind(w.phone_cipher.clone())
                        .push_bind(d.phone.masked())
                        .push_bind(d.name.clone())
                        .push_bind(d.id_number.birth_date())
                        .push_bind(d.id_number.sex().as_str())
                        .push_bind(d.ethnicity.clone())
                        .push_bind(d.education_level.as_str())
                        .push_bind(d.education_major.clone())
                        .push_bind(d.education_related)
                        .push_bind(d.home_street.as_str().to_string())
                        .push_bind(d.home_street.district().as_str().to_string())
                        .push_bind(d.services.bits())
                        .push_bind(owner.binding.map(|b| b.agency_id))
                        .push_bind(at)
                        .push_bind(at);
                });
                qb.push(" RETURNING id");
                qb
                }, |qb| qb.build_query_as::<(i64,)>().fetch_all(&mut *tx)).into_iter().flatten().collect())
            }.await;
            let ids: Vec<i64> = match inserted {
                Ok(inserted) => inserted.into_iter().map(|(id,)| id).collect(),
                Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                    drop(tx);
                    let agency = rows.iter().find_map(|r| r.binding.map(|b| b.agency_id));
                    return self.duplicate_worker_error(rows.iter().map(|r| r.draft), agency).await;
                }
                Err(e) => return Err(e),
            };
            let mut gram_rows: Vec<(String, String, i64, &WorkerDraft)> = ids
                .iter()
                .zip(rows)
                .flat_map(|(id, r)| {
                    let district = r.draft.home_street.district().to_string();
                    name_grams(&r.draft.name).into_iter().map(move |g| (g, district.clone(), *id, r.draft))
                })
                .collect();
            // In key order, consecutive inserts land on the same index pages.
            gram_rows.sort_unstable_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
            each_chunk!(gram_rows.chunks(2000), |chunk| {
                let mut grams =
                    QueryBuilder::new("INSERT INTO worker_name_grams (gram, district_code, worker_id, services, name) ");
                grams.push_values(chunk, |mut row, (gram, district, id, d)| {
                    row.push_bind(gram.clone())
                        .push_bind(district.clone())
                        .push_bind(*id)
                        .push_bind(d.services.bits())
                        .push_bind(d.name.clone());
                });
                grams
            }, |qb| qb.build().execute(&mut *tx));
            let bound: Vec<(i64, NewBinding)> =
                ids.iter().zip(rows).filter_map(|(id, r)| r.binding.map(|b| (*id, b))).collect();
            each_chunk!(bound.chunks(2000), |chunk| {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO bindings (worker_id, agency_id, kind, status, requested_by, requested_at, started_at) ",
                );
                qb.push_values(chunk, |mut row, (id, b)| {
                    row.push_bind(*id)
                        .push_bind(b.agency_id)
                        .push_bind(b.kind.as_str())
                        .push_bind(if b.active { "active" } else { "pending" })
                        .push_bind("agency")
                        .push_bind(at)
                        .push_bind(b.active.then_some(at));
                });
                qb
            }, |qb| qb.build().execute(&mut *tx));
            tx.commit().await?;
            Ok(ids)
        })
    }

    /// Takes out workers an unfinished import just wrote, with their name index and bindings.
    pub(crate) async fn remove_new_workers(&self, workers: &[(i64, &WorkerDraft)]) -> Result<()> {
        on_pool!(self, p => {
            let mut tx = p.begin().await?;
            for (id, draft) in workers {
                let district = draft.home_street.district().to_string();
                for gram in name_grams(&draft.name) {
                    sqlx::query("DELETE FROM worker_name_grams WHERE gram = $1 AND district_code = $2 AND worker_id = $3")
                        .bind(gram).bind(&district).bind(*id).execute(&mut *tx).await?;
                }
                sqlx::query("DELETE FROM bindings WHERE worker_id = $1").bind(*id).execute(&mut *tx).await?;
                sqlx::query("DELETE FROM workers WHERE id = $1").bind(*id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Refuses to register anything for an agency that used up today's "already registered"
    /// answers: every answer, yes or no, says whether a person is on the register.
    pub async fn require_registration_budget(&self, agency_id: i64) -> Result<()> {
        let day = jiazheng_core::calendar::beijing_today();
        let used: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT answers FROM registered_answers WHERE agency_id = $1 AND day = $2",
        ).bind(agency_id).bind(day).fetch_optional(p).await?);
        if used.map_or(0, |(n,)| n) >= REGISTERED_ANSWERS_PER_DAY {
            return Err(StoreError::Limited("registered_answers"));
        }
        Ok(())
    }

    /// Counts "already registered" answers about people the agency has no binding with; past the
    /// daily limit the answer is withheld and the regulator sees the agency. A pending binding
    /// counts as the agency's own: it registered the person itself (or its request was counted),
    /// so uploading its own register twice tells it nothing new.
    pub async fn count_registered_answers(&self, agency_id: i64, workers: &[i64]) -> Result<()> {
        let mut employed = 0i64;
        for chunk in workers.chunks(500) {
            let (count,): (i64,) = on_pool!(self, p => {
                let mut qb = sqlx::QueryBuilder::new("SELECT COUNT(DISTINCT worker_id) FROM bindings WHERE status IN ('pending', 'active') AND agency_id = ");
                qb.push_bind(agency_id).push(" AND worker_id IN (");
                let mut list = qb.separated(", ");
                for worker in chunk {
                    list.push_bind(*worker);
                }
                qb.push(")");
                qb.build_query_as().fetch_one(p).await?
            });
            employed += count;
        }
        let strangers = workers.len() as i64 - employed;
        if strangers <= 0 {
            return Ok(());
        }
        let day = jiazheng_core::calendar::beijing_today();
        let (total,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "INSERT INTO registered_answers (agency_id, day, answers) VALUES ($1, $2, $3)
             ON CONFLICT (agency_id, day) DO UPDATE SET answers = registered_answers.answers + excluded.answers
             RETURNING answers",
        ).bind(agency_id).bind(day).bind(strangers).fetch_one(p).await?);
        if total > REGISTERED_ANSWERS_PER_DAY {
            tracing::warn!(agency_id, total, "agency over the daily limit of already-registered answers");
            return Err(StoreError::Limited("registered_answers"));
        }
        Ok(())
    }

    /// Agencies that reached the daily limit of "already registered" answers on `day`, most first.
    pub async fn registration_probes(&self, day: NaiveDate) -> Result<Vec<RegistrationProbe>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT r.agency_id, a.name AS agency_name, a.district_code, r.answers FROM registered_answers r
             JOIN agencies a ON a.id = r.agency_id WHERE r.day = $1 AND r.answers >= $2 ORDER BY r.answers DESC",
        ).bind(day).bind(REGISTERED_ANSWERS_PER_DAY).fetch_all(p).await?))
    }

    /// Names the record that already holds one of these ID numbers (an answer that counts).
    async fn duplicate_worker_error<T>(
        &self,
        drafts: impl Iterator<Item = &WorkerDraft>,
        agency: Option<i64>,
    ) -> Result<T> {
        for d in drafts {
            if let Some(id) = self.worker_id_by_id_number(d.id_number.as_str()).await? {
                if let Some(agency) = agency {
                    self.count_registered_answers(agency, &[id]).await?;
                }
                return Err(StoreError::Conflict { what: "worker_id_number", existing_id: Some(id) });
            }
        }
        // The same number twice in one batch.
        Err(StoreError::Conflict { what: "worker_id_number", existing_id: None })
    }

    /// Saves an edit of a worker's record unless someone saved another since `version`. An edit
    /// that gives the record someone else's ID number is refused, and the refusal counts as an
    /// "already registered" answer to the editing agency.
    pub async fn update_worker(&self, id: i64, version: i64, draft: &WorkerDraft, agency: i64) -> Result<()> {
        self.require_divisions(&[(draft.home_street.as_str(), "home_street")]).await?;
        if let Some(holder) = self.worker_id_by_id_number(draft.id_number.as_str()).await?
            && holder != id
        {
            self.require_registration_budget(agency).await?;
            self.count_registered_answers(agency, &[holder]).await?;
            return Err(StoreError::Conflict { what: "worker_id_number", existing_id: None });
        }
        let before = self.worker(id).await?;
        let w = self.seal_identity(draft);
        let district = draft.home_street.district().to_string();
        let outcome: Result<u64> = on_pool!(self, p => {
            let mut tx = p.begin().await?;
            let done = sqlx::query(
                "UPDATE workers SET id_hash = $1, id_cipher = $2, id_masked = $3, phone_hash = $4, phone_cipher = $5,
                     phone_masked = $6, name = $7, birth_date = $8, sex = $9, ethnicity = $10, education_level = $11,
                     education_major = $12, education_related = $13, home_street = $14, district_code = $15,
                     services = $16, version = version + 1, updated_at = $17
                 WHERE id = $18 AND version = $19",
            )
            .bind(&w.id_hash).bind(&w.id_cipher).bind(draft.id_number.masked())
            .bind(&w.phone_hash).bind(&w.phone_cipher).bind(draft.phone.masked())
            .bind(&draft.name).bind(draft.id_number.birth_date()).bind(draft.id_number.sex().as_str())
            .bind(&draft.ethnicity).bind(draft.education_level.as_str()).bind(&draft.education_major)
            .bind(draft.education_related).bind(draft.home_street.as_str()).bind(&district)
            .bind(draft.services.bits()).bind(now()).bind(id).bind(version)
            .execute(&mut *tx)
            .await
            .map_err(StoreError::conflict_on("worker_id_number"))?
            .rows_affected();
            if done == 1 {
                // The grams of the old name and district, found through the primary key.
                for gram in name_grams(&before.name) {
                    sqlx::query("DELETE FROM worker_name_grams WHERE gram = $1 AND district_code = $2 AND worker_id = $3")
                        .bind(gram).bind(&before.district_code).bind(id).execute(&mut *tx).await?;
                }
                for gram in name_grams(&draft.name) {
                    sqlx::query(
                        "INSERT INTO worker_name_grams (gram, district_code, worker_id, services, name)
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(gram).bind(&district).bind(id).bind(draft.services.bits()).bind(&draft.name)
                    .execute(&mut *tx).await?;
                }
                tx.commit().await?;
            }
            Ok(done)
        });
        match outcome? {
            1 => Ok(()),
            _ => {
                self.worker(id).await?;
                Err(StoreError::Stale)
            }
        }
    }

    pub async fn worker(&self, id: i64) -> Result<Worker> {
        let sql = format!("SELECT {WORKER_COLUMNS} FROM workers w WHERE w.id = $1");
        on_pool!(self, p => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    /// The agencies that employ this worker now: an active binding, confirmed by both sides.
    /// They alone, among agencies, read the worker's identifiers and write records about them;
    /// a pending request, a rejected or ended binding, or having registered the record grants nothing.
    pub async fn employing_agencies(&self, worker_id: i64) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT agency_id FROM bindings WHERE worker_id = $1 AND status = 'active' ORDER BY agency_id",
        ).bind(worker_id).fetch_all(p).await?);
        Ok(rows.into_iter().map(|(a,)| a).collect())
    }

    /// Whether `principal` may read this worker's ID number and phone.
    pub async fn may_reveal(&self, principal: &Principal, worker: &Worker) -> Result<bool> {
        let owners = self.employing_agencies(worker.id).await?;
        let district = DivisionCode::parse(&worker.home_street).map_err(|_| StoreError::Crypto("bad stored code"))?;
        Ok(principal.may_read_sensitive(&WorkerAccess {
            worker_id: worker.id,
            district: &district,
            owning_agencies: &owners,
        }))
    }

    /// Opens the sealed fields for an allowed principal and logs the read; others are refused.
    pub async fn reveal_worker(&self, principal: &Principal, worker: &Worker, purpose: &str) -> Result<Revealed> {
        if !self.may_reveal(principal, worker).await? {
            return Err(StoreError::Refused("not allowed to read this worker's identifiers".into()));
        }
        let (id_hash, id_cipher, phone_cipher): (Vec<u8>, Vec<u8>, Vec<u8>) = on_pool!(self, p => sqlx::query_as(
            "SELECT id_hash, id_cipher, phone_cipher FROM workers WHERE id = $1",
        ).bind(worker.id).fetch_one(p).await?);
        let revealed = self.open_worker_identifiers(&id_hash, &id_cipher, &phone_cipher)?;
        self.log_access(principal.account_id, "worker", worker.id, "id_number,phone", purpose).await?;
        Ok(revealed)
    }

    /// One page of matching workers and the total, in one statement: a search is the busiest
    /// request, and each statement costs a round trip to the database thread.
    pub async fn search_workers(&self, query: &WorkerQuery) -> Result<Page<Worker>> {
        let rows: Vec<CountedWorker> = on_pool!(self, p => {
            let mut qb = QueryBuilder::new(format!("SELECT {WORKER_COLUMNS}, (SELECT COUNT(*) FROM ("));
            push_worker_ids(&mut qb, query);
            qb.push(") matched) AS total FROM workers w WHERE w.id IN (");
            push_worker_ids(&mut qb, query);
            qb.push(" ORDER BY wid DESC LIMIT ").push_bind(query.page.limit());
            qb.push(" OFFSET ").push_bind(query.page.offset());
            qb.push(") ORDER BY w.id DESC");
            qb.build_query_as().fetch_all(p).await?
        });
        let total = match rows.first() {
            Some(row) => row.total,
            None if query.page.total_if_known(0).is_some() => 0,
            // Past the last page: the rows cannot tell the total, so count on its own.
            None => on_pool!(self, p => {
                let mut qb = QueryBuilder::new("SELECT COUNT(*) FROM (");
                push_worker_ids(&mut qb, query);
                qb.push(") matched");
                let (n,): (i64,) = qb.build_query_as().fetch_one(p).await?;
                n
            }),
        };
        Ok(query.page.wrap(rows.into_iter().map(|r| r.worker).collect(), total))
    }

    pub async fn count_workers(&self) -> Result<i64> {
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as("SELECT COUNT(*) FROM workers").fetch_one(p).await?);
        Ok(n)
    }
}

/// The ids (as `wid`) of the workers a search matches. The most selective filter drives: an
/// agency's bindings, else a name fragment through the gram index (which carries district,
/// services and name, so no worker row is read), else the district index; the other filters
/// are checked on what it yields.
fn push_worker_ids<DB: Database>(qb: &mut QueryBuilder<DB>, query: &WorkerQuery)
where
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let name = query.name.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let gram = name.and_then(search_gram);
    let district = query.district.as_ref().map(|d| d.district().to_string());
    let street = query
        .district
        .as_ref()
        .filter(|area| Some(area.as_str()) != district.as_deref())
        .map(|a| a.street().to_string());
    // The table alias whose columns the remaining filters test.
    let (t, name_known) = match (query.agency, &gram) {
        (Some(agency), _) => {
            // Worker rows are read only when a filter needs them: they lie scattered on disk.
            let filtered = name.is_some() || district.is_some() || query.service.is_some();
            let join = if filtered { " JOIN workers w ON w.id = b.worker_id" } else { "" };
            qb.push(format!("SELECT b.worker_id AS wid FROM bindings b{join} WHERE b.agency_id = "));
            qb.push_bind(agency);
            qb.push(if query.pending_too {
                " AND b.status IN ('pending', 'active')"
            } else {
                " AND b.status = 'active'"
            });
            ("w", false)
        }
        (None, Some(gram)) => {
            qb.push("SELECT g.worker_id AS wid FROM worker_name_grams g WHERE g.gram = ").push_bind(gram.clone());
            // A fragment of one or two characters is the gram itself.
            ("g", name.is_some_and(|n| n.chars().count() <= 2))
        }
        (None, None) => {
            qb.push("SELECT w.id AS wid FROM workers w WHERE 1 = 1");
            ("w", false)
        }
    };
    if let Some(d) = &district {
        qb.push(format!(" AND {t}.district_code = ")).push_bind(d.clone());
    }
    if let Some(street) = street {
        let id = if t == "g" { "g.worker_id" } else { "w.id" };
        qb.push(format!(" AND EXISTS (SELECT 1 FROM workers s WHERE s.id = {id} AND s.home_street = "));
        qb.push_bind(street).push(")");
    }
    if let Some(name) = name.filter(|_| !name_known) {
        qb.push(format!(" AND {t}.name LIKE ")).push_bind(format!("%{}%", escape_like(name))).push(" ESCAPE '\\'");
    }
    if let Some(service) = query.service {
        qb.push(format!(" AND ({t}.services & ")).push_bind(service.bit()).push(") <> 0");
    }
}
