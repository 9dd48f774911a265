//! Home-service certificates: issued when the rules allow, signed tokens for the QR code, a
//! live status computed from today's facts, revocation as a ledger entry, and the list of
//! revoked numbers for offline checkers.

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::FieldErrors;
use jiazheng_core::credit::certificate::{self, Colour};
use jiazheng_core::credit::token::{self, Claims};
use jiazheng_core::credit::{EntryKind, SubjectKind};
use jiazheng_core::field::Invalid;
use jiazheng_core::workforce::compliance::Condition;
use serde::Serialize;
use serde_json::json;

use super::ledger::{NewEntry, append_in, ledger_tx};
use crate::{Result, Store, StoreError, now, on_pool};

row! {
    #[derive(Debug, Clone, Serialize)]
    pub struct CertificateRow {
        pub number: String,
        pub worker_id: i64,
        pub issued_at: DateTime<Utc>,
        pub valid_until: NaiveDate,
        pub issued_seq: i64,
        pub revoked_seq: Option<i64>,
        /// Which of the worker's cards this is (1, 2, ...).
        pub card: i64,
        /// The revocation barred any further card.
        pub reissue_barred: bool,
    }
}

const CERTIFICATE_COLUMNS: &str =
    "number, worker_id, issued_at, valid_until, issued_seq, revoked_seq, card, reissue_barred";

/// A freshly issued card: its number and the token its QR code carries.
#[derive(Debug, Clone, Serialize)]
pub struct Issued {
    pub number: String,
    pub token: String,
    pub valid_until: NaiveDate,
    pub status: Colour,
}

/// What the certificate says today, from current facts.
#[derive(Debug, Clone, Serialize)]
pub struct LiveStatus {
    pub number: String,
    pub worker_id: i64,
    pub name_masked: String,
    /// The services the worker meets every rule for today (what the door lists as servable).
    pub ready_services: i64,
    /// Services the worker offers but does not meet the rules for today (listed apart).
    pub other_services: i64,
    /// Skill certificates valid today.
    pub certificates: Vec<jiazheng_core::workforce::compliance::CertificateFact>,
    pub agencies: Vec<String>,
    pub status: Colour,
    pub revoked: bool,
    pub valid_until: NaiveDate,
    pub expired: bool,
    /// The digest of the worker's photo: shown only to whoever holds the card's token.
    #[serde(skip)]
    pub photo: Option<String>,
}

impl Store {
    /// Whether a ledger entry records the worker's identity as verified.
    pub async fn identity_verified(&self, worker_id: i64) -> Result<bool> {
        let (n,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM credit_ledger WHERE subject_kind = 'worker' AND subject_id = $1 AND kind = 'identity_verified'",
        ).bind(worker_id).fetch_one(p).await?);
        Ok(n > 0)
    }

    /// Records that the worker's identity was checked against the ID card (by an agency or the regulator).
    pub async fn verify_identity(&self, worker_id: i64, source: String, by: Option<i64>, method: &str) -> Result<i64> {
        self.worker(worker_id).await?;
        let entry = NewEntry {
            subject_kind: SubjectKind::Worker,
            subject_id: worker_id,
            kind: EntryKind::IdentityVerified,
            payload: json!({ "method": method }),
            source,
            recorded_by: by,
            corrects: None,
        };
        Ok(self.append_entry(&entry).await?.seq)
    }

    /// Issues the worker's certificate when identity, health check and pre-job training allow;
    /// otherwise the reasons come back as field errors and nothing is written. A card not revoked
    /// is re-issued under its number; after a revocation a new card gets a new number, unless the
    /// regulator barred re-issue. The revoked number stays revoked.
    pub async fn issue_certificate(
        &self,
        worker_id: i64,
        source: String,
        by: Option<i64>,
        today: NaiveDate,
    ) -> Result<Issued> {
        let worker = self.worker(worker_id).await?;
        let compliance = self.worker_compliance(worker_id, worker.services, today).await?;
        let verified = self.identity_verified(worker_id).await?;
        let refusals = certificate::refusals(verified, &compliance);
        if !refusals.is_empty() {
            let errors = refusals.into_iter().map(|(field, zh, en)| Invalid::new("not_eligible", zh, en).at(field));
            return Err(StoreError::Invalid(FieldErrors(errors.collect())));
        }
        let cards = self.certificates_of_worker(worker_id).await?;
        let current = cards.iter().find(|c| c.revoked_seq.is_none());
        if current.is_none() && cards.iter().any(|c| c.reissue_barred) {
            return Err(StoreError::Invalid(FieldErrors(vec![
                Invalid::new(
                    "reissue_barred",
                    "监管部门吊销此证时已禁止重新签发",
                    "the regulator barred re-issue when revoking this certificate",
                )
                .at("certificate"),
            ])));
        }
        let card = current.map_or(cards.len() as i64 + 1, |c| c.card);
        let number =
            current.map_or_else(|| certificate::number(&worker.district_code, worker_id, card), |c| c.number.clone());
        let health_expires = compliance.check(Condition::HealthCheck).date.map(|d| d.pred_opt().unwrap_or(d));
        let valid_until = certificate::valid_until(today, health_expires);
        let entry = NewEntry {
            subject_kind: SubjectKind::Worker,
            subject_id: worker_id,
            kind: EntryKind::CertificateIssued,
            payload: json!({ "number": number, "valid_until": valid_until.to_string() }),
            source,
            recorded_by: by,
            corrects: None,
        };
        let issued_at = now();
        let status = certificate::colour(verified, false, &compliance);
        let (key_id, key) = self.signing_key().await?;
        let claims = Claims {
            number: number.clone(),
            name_masked: certificate::mask_name(&worker.name),
            status,
            valid_until,
            key_id,
            issued_at,
        };
        let token = token::issue(&claims, &key);
        ledger_tx!(self, tx => async {
            let entry = append_in!(tx, &entry)?;
            // Only a card nobody revoked meanwhile is renewed; a second new card for the same
            // worker fails on the unique index of current cards.
            let done = sqlx::query(
                "INSERT INTO certificates (number, worker_id, card, issued_at, valid_until, issued_seq, token)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (number) DO UPDATE SET issued_at = excluded.issued_at, valid_until = excluded.valid_until,
                     issued_seq = excluded.issued_seq, token = excluded.token WHERE certificates.revoked_seq IS NULL",
            )
            .bind(&number).bind(worker_id).bind(card).bind(issued_at).bind(valid_until).bind(entry.seq).bind(&token)
            .execute(&mut *tx).await.map_err(StoreError::conflict_on("certificate_current"))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Stale);
            }
            Ok(())
        }.await)?;
        Ok(Issued { token, number, valid_until, status })
    }

    /// The worker's current card (not revoked) and the token its QR code carries, if it was
    /// printed since tokens are kept.
    pub async fn current_card(&self, worker_id: i64) -> Result<Option<(String, String)>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT number, token FROM certificates WHERE worker_id = $1 AND revoked_seq IS NULL AND token IS NOT NULL",
        ).bind(worker_id).fetch_optional(p).await?))
    }

    pub async fn certificate(&self, number: &str) -> Result<CertificateRow> {
        let sql = format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE number = $1");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(number).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    /// The worker's latest card, revoked or not.
    pub async fn certificate_of_worker(&self, worker_id: i64) -> Result<Option<CertificateRow>> {
        Ok(self.certificates_of_worker(worker_id).await?.pop())
    }

    /// Every card the worker was given, oldest first.
    pub async fn certificates_of_worker(&self, worker_id: i64) -> Result<Vec<CertificateRow>> {
        let sql = format!("SELECT {CERTIFICATE_COLUMNS} FROM certificates WHERE worker_id = $1 ORDER BY card");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(worker_id).fetch_all(p).await?))
    }

    /// The certificate as of today: the colour from current facts, whatever the card says.
    pub async fn live_status(&self, number: &str, today: NaiveDate) -> Result<LiveStatus> {
        let cert = self.certificate(number).await?;
        let worker = self.worker(cert.worker_id).await?;
        let facts = self.worker_facts(cert.worker_id).await?;
        let verified = self.identity_verified(cert.worker_id).await?;
        let revoked = cert.revoked_seq.is_some();
        let offered = jiazheng_core::registry::ServiceSet::from_bits(worker.services);
        let door = certificate::door_facts(verified, revoked, &facts, offered, today);
        let agencies: Vec<(String,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT a.name FROM bindings b JOIN agencies a ON a.id = b.agency_id WHERE b.worker_id = $1 AND b.status = 'active'
             ORDER BY b.id",
        ).bind(cert.worker_id).fetch_all(p).await?);
        Ok(LiveStatus {
            number: cert.number,
            worker_id: cert.worker_id,
            name_masked: certificate::mask_name(&worker.name),
            ready_services: door.ready.bits(),
            other_services: door.not_ready.bits(),
            certificates: facts.certificates.into_iter().filter(|c| c.valid_until.is_none_or(|d| d >= today)).collect(),
            agencies: agencies.into_iter().map(|(n,)| n).collect(),
            status: door.colour,
            revoked,
            valid_until: cert.valid_until,
            expired: cert.valid_until < today,
            photo: self.photo(cert.worker_id).await?.map(|p| p.digest),
        })
    }

    /// Revokes a certificate for good: a ledger entry with the reason, and the number joins the
    /// list. With `bar_reissue` no further card is issued to the worker.
    pub async fn revoke_certificate(
        &self,
        number: &str,
        reason: &str,
        bar_reissue: bool,
        source: String,
        by: Option<i64>,
    ) -> Result<i64> {
        let cert = self.certificate(number).await?;
        if cert.revoked_seq.is_some() {
            return Err(StoreError::Conflict { what: "already_revoked", existing_id: cert.revoked_seq });
        }
        let entry = NewEntry {
            subject_kind: SubjectKind::Worker,
            subject_id: cert.worker_id,
            kind: EntryKind::CertificateRevoked,
            payload: json!({ "number": number, "reason": reason, "bars_reissue": bar_reissue }),
            source,
            recorded_by: by,
            corrects: None,
        };
        ledger_tx!(self, tx => async {
            let entry = append_in!(tx, &entry)?;
            let done = sqlx::query(
                "UPDATE certificates SET revoked_seq = $1, reissue_barred = $2 WHERE number = $3 AND revoked_seq IS NULL",
            )
            .bind(entry.seq).bind(bar_reissue).bind(number).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict { what: "already_revoked", existing_id: None });
            }
            Ok(entry.seq)
        }.await)
    }

    /// Revoked certificate numbers with when they were revoked, for offline checkers.
    pub async fn revocations(&self) -> Result<Vec<(String, String)>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT c.number, l.recorded_at FROM certificates c JOIN credit_ledger l ON l.seq = c.revoked_seq ORDER BY l.seq",
        ).fetch_all(p).await?))
    }
}

impl Store {
    /// Records a background-check result from the authority. The results are sealed inside the
    /// ledger entry; the entry's date and authority stay readable.
    pub async fn record_background_check(
        &self,
        worker_id: i64,
        check: &jiazheng_core::credit::background::BackgroundCheck,
        source: String,
        by: Option<i64>,
    ) -> Result<i64> {
        self.worker(worker_id).await?;
        let sealed =
            self.crypto().seal_at(&serde_json::to_string(check).unwrap_or_default(), &background_place(worker_id));
        let entry = NewEntry {
            subject_kind: SubjectKind::Worker,
            subject_id: worker_id,
            kind: EntryKind::BackgroundCheck,
            payload: json!({
                "checked_on": check.checked_on.to_string(),
                "authority": check.authority,
                "sealed_result": hex::encode(sealed),
            }),
            source,
            recorded_by: by,
            corrects: None,
        };
        Ok(self.append_entry(&entry).await?.seq)
    }

    /// The latest background check, opened; for readers already allowed to see it.
    pub async fn latest_background_check(
        &self,
        worker_id: i64,
    ) -> Result<Option<jiazheng_core::credit::background::BackgroundCheck>> {
        let entries = self.ledger_of(SubjectKind::Worker, worker_id).await?;
        let Some(entry) = entries.iter().rev().find(|e| e.kind == EntryKind::BackgroundCheck.as_str()) else {
            return Ok(None);
        };
        let payload: serde_json::Value =
            serde_json::from_str(&entry.payload).map_err(|_| StoreError::Crypto("bad payload"))?;
        let sealed = hex::decode(payload["sealed_result"].as_str().unwrap_or(""))
            .map_err(|_| StoreError::Crypto("bad payload"))?;
        // Entries written before results were bound hold an unbound value; the ledger's hash
        // chain guards those against being moved.
        let plain =
            self.crypto().open_at(&sealed, &background_place(worker_id)).or_else(|_| self.crypto().open(&sealed))?;
        Ok(Some(serde_json::from_str(&plain).map_err(|_| StoreError::Crypto("bad sealed result"))?))
    }
}

fn background_place(worker_id: i64) -> String {
    format!("background_check:worker:{worker_id}")
}
