//! Contracts: gathering what a model contract states about its parties, keeping the exact PDF
//! each party signs, recording the signatures, and the rate of model-contract use.
//!
//! The PDF is laid out by the server (it owns the fonts); this module keeps it. A contract row is
//! never edited after drafting: the content and the PDF stay as signed, and a change of worker or
//! a cancellation voids the contract rather than altering it.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use jiazheng_core::account::{Principal, Role, Scope};
use jiazheng_core::calendar::beijing_date;
use jiazheng_core::credit::{EntryKind, SubjectKind};
use jiazheng_core::field::{FieldErrors, Invalid};
use jiazheng_core::ids::{Mobile, ResidentId};
use jiazheng_core::market::contract::{self, ContractKind, ContractStatus, Signer};
use jiazheng_core::market::menu::yuan;
use jiazheng_core::market::{CatalogItem, PriceMode};
use serde::Serialize;
use serde_json::json;

use super::orders::OrderRow;
use super::residents::phone_place;
use crate::credit::ledger::{NewEntry, append_in, ledger_tx};
use crate::{Page, PageRequest, Result, Store, StoreError, now, on_pool};

pub const MAX_LEGAL_NAME_CHARS: usize = 30;

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct ContractRow {
        pub id: i64,
        pub number: String,
        pub kind: String,
        pub template_version: String,
        pub agency_id: i64,
        pub agency_name: String,
        pub worker_id: i64,
        pub worker_name: String,
        pub order_id: Option<i64>,
        pub binding_id: Option<i64>,
        pub resident_account_id: Option<i64>,
        /// SHA-256 of the PDF, hex.
        pub sha256: String,
        pub status: String,
        pub drafted_at: DateTime<Utc>,
        pub signed_at: Option<DateTime<Utc>>,
        pub voided_at: Option<DateTime<Utc>>,
        pub void_reason: Option<String>,
    }
}

const SELECT_CONTRACT: &str = "SELECT c.id, c.number, c.kind, c.template_version, c.agency_id, a.name AS agency_name,
    c.worker_id, w.name AS worker_name, c.order_id, c.binding_id, c.resident_account_id, c.sha256, c.status,
    c.drafted_at, c.signed_at, c.voided_at, c.void_reason
    FROM contracts c JOIN agencies a ON a.id = c.agency_id JOIN workers w ON w.id = c.worker_id";

impl ContractRow {
    pub fn kind(&self) -> ContractKind {
        ContractKind::parse(&self.kind).unwrap_or(ContractKind::EmployeeService)
    }

    pub fn status(&self) -> ContractStatus {
        ContractStatus::parse(&self.status).unwrap_or(ContractStatus::Void)
    }

    /// Whether a party who read the file with digest `seen_sha256` may sign it now.
    pub fn open_to_sign(&self, seen_sha256: &str) -> Result<()> {
        if self.status() != ContractStatus::Signing {
            return Err(invalid(
                "contract",
                Invalid::new(
                    "not_signing",
                    format!("合同{}，不能签署", self.status().label_zh()),
                    format!("the contract is {}; it cannot be signed", self.status().label_en().to_lowercase()),
                ),
            ));
        }
        if !seen_sha256.trim().eq_ignore_ascii_case(&self.sha256) {
            return Err(invalid(
                "contract",
                Invalid::new(
                    "contract_changed",
                    "合同文件已更新，请重新查看后签署",
                    "the contract file changed since you opened it; read it again and sign",
                ),
            ));
        }
        Ok(())
    }
}

row! {
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct SignatureRow {
        pub signer: String,
        pub name: String,
        pub method: String,
        pub signed_at: DateTime<Utc>,
        /// The SHA-256 (hex) of the PDF the party signed.
        pub sha256: String,
    }
}

impl SignatureRow {
    pub fn signer(&self) -> Option<Signer> {
        Signer::parse(&self.signer).ok()
    }
}

/// What keeps a contract from being drafted yet, in words for the party who can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Gap {
    /// The resident has not given the name and ID number a contract states.
    ResidentIdentity,
    /// No worker is assigned.
    NoWorker,
    /// The assigned worker is no longer bound to the agency.
    NotBound,
    /// The order is over or cancelled: no contract is drafted for it.
    Closed,
}

impl Gap {
    pub fn label(self, english: bool) -> &'static str {
        match (self, english) {
            (Gap::ResidentIdentity, false) => "居民尚未填写立约人姓名和身份证号",
            (Gap::ResidentIdentity, true) => "the resident has not given the name and ID number the contract states",
            (Gap::NoWorker, false) => "尚未派单，派单后生成合同",
            (Gap::NoWorker, true) => "no worker is assigned yet; the contract is drafted once one is",
            (Gap::NotBound, false) => "服务员已不在本企业",
            (Gap::NotBound, true) => "the worker is no longer with the agency",
            (Gap::Closed, false) => "订单已结束，不再生成合同",
            (Gap::Closed, true) => "the order is over; no contract is drafted",
        }
    }
}

/// A contract ready to be laid out: whose, of which kind, and the facts its template names
/// (all but the number and the drafting day, which come with the layout).
#[derive(Debug, Clone)]
pub struct Draft {
    pub kind: ContractKind,
    pub agency_id: i64,
    pub worker_id: i64,
    pub order_id: Option<i64>,
    pub binding_id: Option<i64>,
    pub resident_account_id: Option<i64>,
    pub facts: BTreeMap<&'static str, String>,
}

/// A laid-out contract to keep.
pub struct Laid {
    pub number: String,
    pub content: serde_json::Value,
    pub template_version: String,
    pub pdf: Vec<u8>,
    pub sha256: [u8; 32],
}

row! {
    /// One agency's use of model contracts: services begun, and those under a signed contract.
    #[derive(Debug, Clone, Serialize)]
    #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
    pub struct ContractUse {
        pub agency_id: i64,
        pub agency_name: String,
        pub business_model: String,
        pub services: i64,
        pub under_contract: i64,
    }
}

impl ContractUse {
    /// Percent with one decimal, `None` when nothing began.
    pub fn rate(&self) -> Option<f64> {
        (self.services > 0).then(|| (self.under_contract as f64 * 1000.0 / self.services as f64).round() / 10.0)
    }
}

/// City-wide use: all agencies, and employee-based agencies alone (the plan's target is 100%).
#[derive(Debug, Clone, Default, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContractUseTotals {
    pub services: i64,
    pub under_contract: i64,
    pub employee_based_services: i64,
    pub employee_based_under_contract: i64,
}

fn percent(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

impl ContractUseTotals {
    pub fn rate(&self) -> Option<f64> {
        percent(self.under_contract, self.services)
    }

    pub fn employee_based_rate(&self) -> Option<f64> {
        percent(self.employee_based_under_contract, self.employee_based_services)
    }
}

/// Orders whose service began count: a contract must be signed before the work, so the rate
/// asks of every begun service whether it ran under one.
const BEGUN: &str = "('in_service', 'completed', 'rated', 'disputed')";

fn invalid(field: &str, invalid: Invalid) -> StoreError {
    StoreError::Invalid(FieldErrors(vec![invalid.at(field)]))
}

fn identity_place(account_id: i64) -> String {
    format!("resident_profiles.id:{account_id}")
}

/// The purpose a signing code is sent for: one contract, one party.
pub fn code_purpose(contract: &ContractRow, signer: Signer) -> String {
    format!("sign:{}:{}", contract.number, signer.as_str())
}

impl Store {
    /// The name and ID number a resident's contracts state; the number is sealed, shown masked.
    pub async fn set_resident_identity(&self, account_id: i64, name: &str, id_number: &str) -> Result<()> {
        let mut errors = FieldErrors::default();
        let name = errors.take("legal_name", contract::parse_legal_name(name, MAX_LEGAL_NAME_CHARS));
        let id_number: String = id_number.chars().filter(|c| !c.is_whitespace()).collect();
        let id = errors.take("id_number", ResidentId::parse(&id_number, jiazheng_core::calendar::beijing_today()));
        let (Some(name), Some(id)) = (name, id) else { return Err(StoreError::Invalid(errors)) };
        let sealed = self.crypto().seal_at(id.as_str(), &identity_place(account_id));
        let at = now();
        super::write_tx!(self, tx => async {
            let done = sqlx::query(
                "UPDATE resident_profiles SET legal_name = $1, id_cipher = $2, id_masked = $3, updated_at = $4
                 WHERE account_id = $5 AND erased_at IS NULL",
            ).bind(&name).bind(&sealed).bind(id.masked()).bind(at).bind(account_id).execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
            // A contract the resident has not signed named them as they were: it is drafted again.
            sqlx::query(
                "UPDATE contracts SET status = 'void', voided_at = $1, void_reason = $2
                 WHERE resident_account_id = $3 AND status = 'signing' AND NOT EXISTS (
                     SELECT 1 FROM contract_signatures s WHERE s.contract_id = contracts.id AND s.signer = 'resident')",
            ).bind(at).bind("居民更正了姓名或身份证号 The resident corrected their name or ID number").bind(account_id)
            .execute(&mut *tx).await?;
            Ok(())
        }.await)
    }

    /// The resident's contract name and masked ID number, once given.
    pub async fn resident_identity(&self, account_id: i64) -> Result<Option<(String, String)>> {
        let row: Option<(Option<String>, Option<String>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT legal_name, id_masked FROM resident_profiles WHERE account_id = $1",
        ).bind(account_id).fetch_optional(p).await?);
        Ok(match row {
            Some((Some(name), Some(id))) => Some((name, id)),
            _ => None,
        })
    }

    /// The facts of an order's service contract, or what is missing for it. `platform` and
    /// `regulator` are the names the contract gives them.
    pub async fn order_contract_draft(
        &self,
        order: &OrderRow,
        platform: &str,
        regulator: &str,
    ) -> Result<std::result::Result<Draft, Gap>> {
        use jiazheng_core::market::OrderStatus::*;
        if matches!(order.status(), Cancelled | Completed | Rated | Disputed) {
            return Ok(Err(Gap::Closed));
        }
        let Some(worker_id) = order.worker_id else { return Ok(Err(Gap::NoWorker)) };
        let Some((resident_name, resident_id)) = self.resident_identity(order.resident_account_id).await? else {
            return Ok(Err(Gap::ResidentIdentity));
        };
        let kind: Option<(String,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT kind FROM bindings WHERE worker_id = $1 AND agency_id = $2 AND status = 'active'",
        ).bind(worker_id).bind(order.agency_id).fetch_optional(p).await?);
        let Some((binding_kind,)) = kind else { return Ok(Err(Gap::NotBound)) };
        let kind = ContractKind::for_service(binding_kind == "employee");
        let resident_phone: Option<(Option<String>,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT phone_masked FROM resident_profiles WHERE account_id = $1",
        ).bind(order.resident_account_id).fetch_optional(p).await?);
        let (description,): (String,) = on_pool!(self, p => sqlx::query_as(
            "SELECT description FROM menu_items WHERE id = $1",
        ).bind(order.menu_item_id).fetch_one(p).await?);
        let address = format!(
            "{} {}",
            self.place_name(&order.community_code, &order.community_name).await?,
            self.order_address(order).await?
        );
        let mut facts =
            self.party_facts(order.agency_id, worker_id, beijing_date(order.starts_at), platform, regulator).await?;
        let mode = PriceMode::parse(&order.mode).map(|m| m.label_zh()).unwrap_or_default();
        let item = order.catalog_item().map(CatalogItem::label_zh).unwrap_or_default();
        let deposit = if order.is_package() {
            "本合同不收取押金；服务费用由甲方通过平台一次付清，平台按服务期结算。"
        } else {
            "本合同不收取押金。"
        };
        let cancel_percent = order.cancel_fee_percent.to_string();
        for (key, value) in [
            ("resident_name", resident_name),
            ("resident_id", resident_id),
            ("resident_phone", resident_phone.and_then(|p| p.0).unwrap_or_else(|| "—".into())),
            ("service_address", address),
            ("item", item.to_string()),
            ("mode", mode.to_string()),
            (
                "description",
                if description.trim().is_empty() {
                    "按家政企业在平台公示的该服务项目标准提供。".to_string()
                } else {
                    description
                },
            ),
            ("order_number", order.number()),
            ("schedule", order.slot().describe()),
            ("unit_price", yuan(order.unit_price_fen)),
            ("quantity", format!("{} {}", order.quantity, contract::quantity_unit(&order.mode))),
            ("total_price", yuan(order.total_fen)),
            ("deposit", deposit.to_string()),
            ("free_cancel_hours", order.free_cancel_hours.to_string()),
            ("cancel_fee_percent", cancel_percent),
            ("replacement_days", contract::replacement_days().to_string()),
        ] {
            facts.insert(key, value);
        }
        Ok(Ok(Draft {
            kind,
            agency_id: order.agency_id,
            worker_id,
            order_id: Some(order.id),
            binding_id: None,
            resident_account_id: Some(order.resident_account_id),
            facts,
        }))
    }

    /// The facts of a worker's agreement with the agency of an active binding.
    pub async fn binding_contract_draft(&self, binding_id: i64, platform: &str, regulator: &str) -> Result<Draft> {
        let row: Option<(i64, i64, String, Option<DateTime<Utc>>)> = on_pool!(self, p => sqlx::query_as(
            "SELECT worker_id, agency_id, kind, started_at FROM bindings WHERE id = $1 AND status = 'active'",
        ).bind(binding_id).fetch_optional(p).await?);
        let (worker_id, agency_id, kind, since) = row.ok_or(StoreError::NotFound)?;
        let since = since.map(beijing_date).unwrap_or_else(jiazheng_core::calendar::beijing_today);
        let mut facts = self.party_facts(agency_id, worker_id, since, platform, regulator).await?;
        let relationship = if kind == "employee" { "员工制 Employee-based" } else { "中介制 Intermediary" };
        facts.insert("relationship", relationship.to_string());
        facts.insert("bound_since", since.to_string());
        facts.insert("notice_days", contract::NOTICE_DAYS.to_string());
        Ok(Draft {
            kind: ContractKind::WorkerAgreement,
            agency_id,
            worker_id,
            order_id: None,
            binding_id: Some(binding_id),
            resident_account_id: None,
            facts,
        })
    }

    /// Agency and worker as a contract names them, the worker's records as of `day`.
    async fn party_facts(
        &self,
        agency_id: i64,
        worker_id: i64,
        day: NaiveDate,
        platform: &str,
        regulator: &str,
    ) -> Result<BTreeMap<&'static str, String>> {
        let agency = self.agency(agency_id).await?;
        let worker = self.worker(worker_id).await?;
        let records = contract::worker_record_lines(&self.worker_facts(worker_id).await?, day);
        Ok(BTreeMap::from([
            ("platform", platform.to_string()),
            ("regulator", regulator.to_string()),
            ("agency_name", agency.name),
            ("agency_uscc", agency.uscc),
            ("agency_legal", agency.legal_representative),
            ("agency_address", format!("{}{}{}", agency.district_name, agency.street_name, agency.address)),
            ("agency_phone", agency.phone),
            ("worker_name", worker.name),
            ("worker_id", worker.id_masked),
            ("worker_phone", worker.phone_masked),
            ("worker_health", records.health),
            ("worker_training", records.training),
            ("worker_insurance", records.insurance),
            ("worker_certificate", records.certificate),
        ]))
    }

    /// Keeps a laid-out contract. Two drafts of one order at once keep the first: the second
    /// gets the contract already kept.
    pub async fn keep_contract(&self, draft: &Draft, laid: &Laid) -> Result<ContractRow> {
        let kept = on_pool!(self, p => sqlx::query_as::<_, (i64,)>(
            "INSERT INTO contracts (number, kind, template_version, agency_id, worker_id, order_id, binding_id,
                 resident_account_id, content, pdf, sha256, status, drafted_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'signing', $12) RETURNING id",
        ).bind(&laid.number).bind(draft.kind.as_str()).bind(&laid.template_version).bind(draft.agency_id)
        .bind(draft.worker_id).bind(draft.order_id).bind(draft.binding_id).bind(draft.resident_account_id)
        .bind(laid.content.to_string()).bind(&laid.pdf).bind(hex::encode(laid.sha256)).bind(now())
        .fetch_one(p).await);
        match kept.map_err(StoreError::conflict_on("contract_exists")) {
            Ok((id,)) => self.contract(id).await,
            Err(StoreError::Conflict { .. }) => match (draft.order_id, draft.binding_id) {
                (Some(order), _) => self.contract_of_order(order).await?.ok_or(StoreError::NotFound),
                (None, Some(binding)) => self.contract_of_binding(binding).await?.ok_or(StoreError::NotFound),
                (None, None) => Err(StoreError::NotFound),
            },
            Err(e) => Err(e),
        }
    }

    pub async fn contract(&self, id: i64) -> Result<ContractRow> {
        let sql = format!("{SELECT_CONTRACT} WHERE c.id = $1");
        on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(p).await?)
            .ok_or(StoreError::NotFound)
    }

    /// The order's live (not void) contract.
    pub async fn contract_of_order(&self, order_id: i64) -> Result<Option<ContractRow>> {
        let sql = format!("{SELECT_CONTRACT} WHERE c.order_id = $1 AND c.status <> 'void'");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(order_id).fetch_optional(p).await?))
    }

    pub async fn contract_of_binding(&self, binding_id: i64) -> Result<Option<ContractRow>> {
        let sql = format!("{SELECT_CONTRACT} WHERE c.binding_id = $1 AND c.status <> 'void'");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(binding_id).fetch_optional(p).await?))
    }

    pub async fn contract_by_number(&self, number: &str) -> Result<Option<ContractRow>> {
        let sql = format!("{SELECT_CONTRACT} WHERE c.number = $1");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(number).fetch_optional(p).await?))
    }

    /// Contracts whose PDF has exactly this digest.
    pub async fn contracts_by_digest(&self, sha256: &[u8; 32]) -> Result<Vec<ContractRow>> {
        let sha256 = hex::encode(sha256);
        let sql = format!("{SELECT_CONTRACT} WHERE c.sha256 = $1 ORDER BY c.id");
        Ok(on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(sha256).fetch_all(p).await?))
    }

    pub async fn contract_pdf(&self, id: i64) -> Result<Vec<u8>> {
        let (pdf,): (Vec<u8>,) = on_pool!(self, p => sqlx::query_as("SELECT pdf FROM contracts WHERE id = $1")
            .bind(id).fetch_optional(p).await?)
        .ok_or(StoreError::NotFound)?;
        Ok(pdf)
    }

    pub async fn contract_signatures(&self, id: i64) -> Result<Vec<SignatureRow>> {
        Ok(on_pool!(self, p => sqlx::query_as(
            "SELECT signer, name, method, signed_at, sha256 FROM contract_signatures WHERE contract_id = $1 ORDER BY id",
        ).bind(id).fetch_all(p).await?))
    }

    /// Which party `who` is to a contract, if any: the resident of its order, the agency's
    /// accounts, the worker's own account.
    pub fn signer_in(&self, contract: &ContractRow, who: &Principal) -> Option<Signer> {
        match (&who.role, &who.scope) {
            (Role::Resident, _) if contract.resident_account_id == Some(who.account_id) => Some(Signer::Resident),
            (Role::AgencyAdmin, Scope::Agency(id)) if *id == contract.agency_id => Some(Signer::Agency),
            (Role::Worker, Scope::Worker(id)) if *id == contract.worker_id => Some(Signer::Worker),
            _ => None,
        }
        .filter(|s| contract.kind().signers().contains(s))
    }

    /// The phone a party signs with: the resident's, or the worker's own.
    pub async fn signing_phone(&self, contract: &ContractRow, signer: Signer) -> Result<Mobile> {
        let phone = match signer {
            Signer::Resident => {
                let account = contract.resident_account_id.ok_or(StoreError::NotFound)?;
                let (cipher,): (Option<Vec<u8>>,) = on_pool!(self, p => sqlx::query_as(
                    "SELECT phone_cipher FROM resident_profiles WHERE account_id = $1",
                ).bind(account).fetch_optional(p).await?)
                .ok_or(StoreError::NotFound)?;
                self.crypto().open_at(&cipher.ok_or(StoreError::NotFound)?, &phone_place(account))?
            }
            Signer::Worker => {
                let (id_hash, id_cipher, phone_cipher): (Vec<u8>, Vec<u8>, Vec<u8>) = on_pool!(self, p => sqlx::query_as(
                    "SELECT id_hash, id_cipher, phone_cipher FROM workers WHERE id = $1",
                ).bind(contract.worker_id).fetch_one(p).await?);
                self.open_worker_identifiers(&id_hash, &id_cipher, &phone_cipher)?.phone
            }
            Signer::Agency => return Err(StoreError::Refused("an agency signs with its account".into())),
        };
        Mobile::parse(&phone).map_err(|_| StoreError::Crypto("stored phone does not parse"))
    }

    /// Records `signer`'s signature of the PDF whose digest they were shown. The last signature
    /// makes the contract signed and writes its digest to the agency's credit ledger.
    pub async fn sign_contract(
        &self,
        contract_id: i64,
        signer: Signer,
        who: &Principal,
        name: &str,
        seen_sha256: &str,
    ) -> Result<ContractRow> {
        let contract = self.contract(contract_id).await?;
        if self.signer_in(&contract, who) != Some(signer) {
            return Err(StoreError::NotFound);
        }
        contract.open_to_sign(seen_sha256)?;
        let method = if signer == Signer::Agency { "account" } else { "sms_code" };
        let at = now();
        let needed = contract.kind().signers();
        let entry = NewEntry {
            subject_kind: SubjectKind::Agency,
            subject_id: contract.agency_id,
            kind: EntryKind::Contract,
            payload: json!({ "contract": contract.number, "kind": contract.kind, "sha256": contract.sha256,
                "order_id": contract.order_id, "worker_id": contract.worker_id }),
            source: format!("contract:{}", contract.number),
            recorded_by: Some(who.account_id),
            corrects: None,
        };
        ledger_tx!(self, tx => async {
            let status: (String,) = sqlx::query_as("SELECT status FROM contracts WHERE id = $1")
                .bind(contract_id).fetch_one(&mut *tx).await?;
            if status.0 != ContractStatus::Signing.as_str() {
                return Err(invalid("contract", Invalid::new("not_signing", "合同已不在签署中", "the contract is no longer open for signing")));
            }
            let (bound,): (i64,) = sqlx::query_as(
                "SELECT COUNT(*) FROM bindings WHERE worker_id = $1 AND agency_id = $2 AND status = 'active'",
            ).bind(contract.worker_id).bind(contract.agency_id).fetch_one(&mut *tx).await?;
            if bound == 0 {
                return Err(invalid("contract", Invalid::new(
                    "not_bound",
                    "服务员已不在本企业，这份合同不能再签署",
                    "the worker is no longer with the agency; this contract can no longer be signed",
                )));
            }
            sqlx::query(
                "INSERT INTO contract_signatures (contract_id, signer, account_id, name, method, sha256, signed_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            ).bind(contract_id).bind(signer.as_str()).bind(who.account_id).bind(name).bind(method).bind(&contract.sha256).bind(at)
            .execute(&mut *tx).await.map_err(StoreError::conflict_on("already_signed"))?;
            let (signed,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM contract_signatures WHERE contract_id = $1")
                .bind(contract_id).fetch_one(&mut *tx).await?;
            if signed as usize == needed.len() {
                let row = append_in!(tx, &entry)?;
                sqlx::query("UPDATE contracts SET status = 'signed', signed_at = $1, ledger_seq = $2 WHERE id = $3")
                    .bind(at).bind(row.seq).bind(contract_id).execute(&mut *tx).await?;
            }
            Ok(())
        }.await)?;
        self.contract(contract_id).await
    }

    /// Model-contract use per agency in `district` (or the city), most services first.
    pub async fn contract_use(&self, district: Option<&str>, page: PageRequest) -> Result<Page<ContractUse>> {
        let sql = format!(
            "SELECT a.id AS agency_id, a.name AS agency_name, a.business_model, COUNT(o.id) AS services,
                 COUNT(c.id) AS under_contract, COUNT(*) OVER () AS total
             FROM orders o JOIN agencies a ON a.id = o.agency_id
             LEFT JOIN contracts c ON c.order_id = o.id AND c.status = 'signed'
             WHERE o.status IN {BEGUN} AND ($3 = '' OR a.district_code = $3)
             GROUP BY a.id, a.name, a.business_model
             ORDER BY COUNT(o.id) DESC, a.id LIMIT $1 OFFSET $2"
        );
        let rows: Vec<Counted> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(page.limit()).bind(page.offset()).bind(district.unwrap_or("")).fetch_all(p).await?);
        let total = rows.first().map_or(0, |r| r.total);
        Ok(page.wrap(rows.into_iter().map(|r| r.row).collect(), total))
    }

    pub async fn contract_use_totals(&self, district: Option<&str>) -> Result<ContractUseTotals> {
        let sql = format!(
            "SELECT COUNT(o.id), COUNT(c.id),
                 COALESCE(SUM(CASE WHEN a.business_model = 'employee' THEN 1 ELSE 0 END), 0),
                 COALESCE(SUM(CASE WHEN a.business_model = 'employee' AND c.id IS NOT NULL THEN 1 ELSE 0 END), 0)
             FROM orders o JOIN agencies a ON a.id = o.agency_id
             LEFT JOIN contracts c ON c.order_id = o.id AND c.status = 'signed'
             WHERE o.status IN {BEGUN} AND ($1 = '' OR a.district_code = $1)"
        );
        let (services, under_contract, employee_based_services, employee_based_under_contract): (i64, i64, i64, i64) = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(district.unwrap_or("")).fetch_one(p).await?);
        Ok(ContractUseTotals { services, under_contract, employee_based_services, employee_based_under_contract })
    }

    /// The active binding of a worker with an agency.
    pub async fn active_binding_id(&self, worker_id: i64, agency_id: i64) -> Result<Option<i64>> {
        let row: Option<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT id FROM bindings WHERE worker_id = $1 AND agency_id = $2 AND status = 'active'",
        ).bind(worker_id).bind(agency_id).fetch_optional(p).await?);
        Ok(row.map(|r| r.0))
    }

    /// The worker's contracts still waiting for their signature.
    pub async fn contracts_waiting_for_worker(&self, worker_id: i64) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = on_pool!(self, p => sqlx::query_as(
            "SELECT c.id FROM contracts c WHERE c.worker_id = $1 AND c.kind <> 'employee_service' AND c.status = 'signing'
               AND NOT EXISTS (SELECT 1 FROM contract_signatures s WHERE s.contract_id = c.id AND s.signer = 'worker')
             ORDER BY c.id",
        ).bind(worker_id).fetch_all(p).await?);
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// Contracts waiting for this worker's signature first, then the rest, newest first.
    pub async fn contracts_of_worker(&self, worker_id: i64, page: PageRequest) -> Result<Page<ContractRow>> {
        let sql = format!(
            "{SELECT_CONTRACT} WHERE c.worker_id = $1 AND c.kind <> 'employee_service'
             ORDER BY CASE WHEN c.status = 'signing' AND NOT EXISTS (SELECT 1 FROM contract_signatures s
                 WHERE s.contract_id = c.id AND s.signer = 'worker') THEN 0 ELSE 1 END, c.id DESC LIMIT $2 OFFSET $3"
        );
        let rows: Vec<ContractRow> = on_pool!(self, p => sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(worker_id).bind(page.limit()).bind(page.offset()).fetch_all(p).await?);
        let (total,): (i64,) = on_pool!(self, p => sqlx::query_as(
            "SELECT COUNT(*) FROM contracts WHERE worker_id = $1 AND kind <> 'employee_service'",
        ).bind(worker_id).fetch_one(p).await?);
        Ok(page.wrap(rows, total))
    }
}

row! {
    struct Counted {
        #[flatten] row: ContractUse,
        total: i64,
    }
}

/// Voids an order's live contract inside the caller's transaction (a change of worker, a
/// cancellation): the signed text stays as it was, marked void with the reason.
macro_rules! void_order_contract_in {
    ($tx:ident, $order:expr, $reason:expr) => {
        sqlx::query(
            "UPDATE contracts SET status = 'void', voided_at = $1, void_reason = $2 WHERE order_id = $3 AND status <> 'void'",
        )
        .bind($crate::now())
        .bind($reason)
        .bind($order)
        .execute(&mut *$tx)
    };
}
pub(crate) use void_order_contract_in;
