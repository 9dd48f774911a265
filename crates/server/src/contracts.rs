//! Model contracts as the pages and the API both handle them: drafted once an order has a worker
//! and the resident has given the name and ID number a contract states, laid out as a PDF that
//! carries its number and a QR link to its check, signed by each party, and checked by anyone
//! holding the file.

use jiazheng_core::FieldErrors;
use jiazheng_core::account::Principal;
use jiazheng_core::field::Invalid;
use jiazheng_core::market::contract::{self, ContractStatus, Filled, Signer};
use jiazheng_core::market::sms::{CodeCheck, parse_code};
use jiazheng_store::market::contracts::{ContractRow, Draft, Gap, Laid, SignatureRow, code_purpose};
use jiazheng_store::market::orders::OrderRow;
use sha2::{Digest, Sha256};

use crate::i18n::Lang;
use crate::pdf::{Block, Cell, Font, Table};
use crate::{AppError, AppState};

/// The largest PDF a check accepts: a contract is 20-60 KB.
pub const MAX_CHECK_BYTES: usize = 2 * 1024 * 1024;

fn invalid(field: &str, invalid: Invalid) -> AppError {
    AppError::Invalid(FieldErrors(vec![invalid.at(field)]))
}

/// Where a contract is checked, as its QR code and footer give it.
pub fn check_link(origin: &str, number: &str) -> String {
    format!("{origin}/contracts/check?number={number}")
}

/// The scheme and host people reach this server by, from the request.
pub fn origin(state: &AppState, headers: &axum::http::HeaderMap) -> String {
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1:8080");
    let scheme = if state.config.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// The order's live contract, drafted now if the order is ready for one; otherwise what it waits for.
pub async fn for_order(state: &AppState, order: &OrderRow, origin: &str) -> Result<Result<ContractRow, Gap>, AppError> {
    if let Some(contract) = state.store.contract_of_order(order.id).await? {
        return Ok(Ok(contract));
    }
    let zh = Lang::Zh;
    let draft = match state.store.order_contract_draft(order, &zh.t("app.name"), &zh.t("app.regulator")).await? {
        Ok(draft) => draft,
        Err(gap) => return Ok(Err(gap)),
    };
    Ok(Ok(keep(state, draft, origin).await?))
}

/// The worker's agreement with the agency of an active binding, drafted now if there is none.
pub async fn for_binding(state: &AppState, binding_id: i64, origin: &str) -> Result<ContractRow, AppError> {
    if let Some(contract) = state.store.contract_of_binding(binding_id).await? {
        return Ok(contract);
    }
    let zh = Lang::Zh;
    let draft = state.store.binding_contract_draft(binding_id, &zh.t("app.name"), &zh.t("app.regulator")).await?;
    keep(state, draft, origin).await
}

/// Fills the template, lays out the PDF off the async workers, and keeps both.
async fn keep(state: &AppState, mut draft: Draft, origin: &str) -> Result<ContractRow, AppError> {
    let today = jiazheng_core::calendar::beijing_today();
    let number = contract::number(draft.kind, today, rand::random());
    draft.facts.insert("contract_number", number.clone());
    draft.facts.insert("drafted_on", today.to_string());
    let filled = contract::fill(draft.kind, &draft.facts).map_err(|e| AppError::Internal(e.to_string()))?;
    let link = check_link(origin, &number);
    let laid_number = number.clone();
    let (filled, pdf) = tokio::task::spawn_blocking(move || {
        let pdf = layout(&filled, &laid_number, &link);
        (filled, pdf)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let pdf = pdf.map_err(|e| AppError::Internal(e.to_string()))?;
    let laid = Laid {
        number,
        content: serde_json::to_value(&filled).map_err(|e| AppError::Internal(e.to_string()))?,
        template_version: filled.version.clone(),
        sha256: Sha256::digest(&pdf).into(),
        pdf,
    };
    let kept = state.store.keep_contract(&draft, &laid).await?;
    if kept.number == laid.number && kept.kind().signers().contains(&Signer::Worker) {
        tell_worker(state, &kept).await;
    }
    Ok(kept)
}

/// A text to the worker that a contract waits for their signature. A failed text does not undo
/// the draft: the contract also waits at the top of their contracts page.
async fn tell_worker(state: &AppState, contract: &ContractRow) {
    let text = format!(
        "【家政服务平台】{}的{}（编号{}）等待您签署，请登录平台在“我的合同”中查看并签署。",
        contract.agency_name,
        contract.kind().label_zh(),
        contract.number
    );
    let sent = match state.store.signing_phone(contract, Signer::Worker).await {
        Ok(phone) => state.texts.send_text(&phone, &text).await,
        Err(e) => Err(e.to_string()),
    };
    if let Err(error) = sent {
        tracing::warn!(contract = contract.id, %error, "could not text the worker about a contract");
    }
}

/// The contract as an A4 PDF: title, clauses, who signs and how, and the QR link to its check.
pub fn layout(filled: &Filled, number: &str, check_link: &str) -> Result<Vec<u8>, crate::pdf::PdfError> {
    let font = Font::cjk()?;
    let mut blocks = vec![
        Block::Title { text: filled.title.clone(), size: 17.0 },
        Block::Title { text: filled.subtitle.clone(), size: 10.5 },
        Block::Paragraph {
            text: format!("合同编号 Contract No. {number} · 示范文本 Model text {}", filled.version),
            size: 9.0,
        },
        Block::Gap(4.0),
    ];
    let code = qrcode::QrCode::new(check_link.as_bytes()).map_err(|e| crate::pdf::PdfError::Write(e.to_string()))?;
    // On the first page, so that the check is one scan away on any printout.
    blocks.push(Block::Qr {
        modules: code.to_colors().iter().map(|c| *c == qrcode::Color::Dark).collect(),
        width: code.width(),
        side: 72.0,
        caption: format!(
            "扫码或访问以下地址，上传本文件即可核验它是否与各方签署的文件一致：{check_link} \
             Scan or visit the address above and upload this file to check it is the one every party signed."
        ),
    });
    for clause in &filled.clauses {
        blocks.push(Block::Heading(clause.heading.clone()));
        for paragraph in &clause.paragraphs {
            blocks.push(Block::Paragraph { text: paragraph.clone(), size: 10.5 });
        }
    }
    blocks.push(Block::Table(Table {
        columns: vec![1.2, 2.0],
        header: Some(vec!["当事人 Party".into(), "签署方式 How it is signed".into()]),
        rows: filled
            .kind
            .signers()
            .iter()
            .map(|signer| {
                let how = match signer {
                    Signer::Agency => "企业账户电子签署 Signed with the agency's account",
                    _ => "手机一次性验证码电子签署 Signed with a one-time code sent to the party's phone",
                };
                vec![Cell::from(format!("{} {}", signer.label_zh(), signer.label_en())), Cell::from(how)]
            })
            .collect(),
        size: 9.5,
    }));
    let footer = |page: usize, pages: usize| format!("合同编号 {number} · 第 {page}/{pages} 页 Page {page} of {pages}");
    let subject = format!("contract {number}");
    crate::pdf::render_with_subject(font, &filled.title, Some(&subject), &blocks, footer)
}

/// The name a signature records.
async fn signer_name(
    state: &AppState,
    contract: &ContractRow,
    signer: Signer,
    who: &Principal,
) -> Result<String, AppError> {
    Ok(match signer {
        Signer::Resident => {
            state.store.resident_identity(who.account_id).await?.map(|(name, _)| name).ok_or(AppError::NotFound)?
        }
        Signer::Worker => contract.worker_name.clone(),
        Signer::Agency => {
            let account = state.store.account_listing(who.account_id).await?;
            format!("{}（经办 {}）", contract.agency_name, account.display_name)
        }
    })
}

/// The contract `who` may sign or read, and as which party; others get "not found".
pub async fn party_to(state: &AppState, contract_id: i64, who: &Principal) -> Result<(ContractRow, Signer), AppError> {
    let contract = state.store.contract(contract_id).await?;
    let signer = state.store.signer_in(&contract, who).ok_or(AppError::NotFound)?;
    Ok((contract, signer))
}

/// Sends the one-time code a resident or worker signs with, to their own phone.
pub async fn send_code(
    state: &AppState,
    contract_id: i64,
    who: &Principal,
    address: std::net::IpAddr,
) -> Result<String, AppError> {
    let (contract, signer) = party_to(state, contract_id, who).await?;
    if signer == Signer::Agency {
        return Err(invalid(
            "code",
            Invalid::new("no_code", "企业以账户签署，无需验证码", "an agency signs with its account"),
        ));
    }
    if contract.status() != ContractStatus::Signing {
        return Err(invalid(
            "code",
            Invalid::new("not_signing", "合同不在签署中", "the contract is not open for signing"),
        ));
    }
    let phone = state.store.signing_phone(&contract, signer).await?;
    let code = state.store.issue_code(&phone, &code_purpose(&contract, signer), &address.to_string()).await?;
    // The code comes first: phones offer to fill in the first number of a text.
    let text = format!(
        "【家政服务平台】验证码{code}，用于签署合同{}（{}），5分钟内有效。如非本人操作请忽略。",
        contract.number,
        contract.kind().label_zh()
    );
    state.texts.send_text(&phone, &text).await.map_err(AppError::Internal)?;
    Ok(phone.masked())
}

/// Signs as `who`'s party: the agency by its account, others with the code sent to their phone.
/// `seen_sha256` is the digest of the file the page showed, so nobody signs a file they did not see.
pub async fn sign(
    state: &AppState,
    contract_id: i64,
    who: &Principal,
    code: &str,
    seen_sha256: &str,
) -> Result<ContractRow, AppError> {
    let (contract, signer) = party_to(state, contract_id, who).await?;
    // What the store would refuse is refused before a code is spent on it.
    contract.open_to_sign(seen_sha256)?;
    if state.store.contract_signatures(contract_id).await?.iter().any(|s| s.signer() == Some(signer)) {
        return Err(
            jiazheng_store::StoreError::Conflict { what: "already_signed", existing_id: Some(contract_id) }.into()
        );
    }
    if signer != Signer::Agency {
        let typed = parse_code(code).map_err(|e| invalid("code", e))?;
        let phone = state.store.signing_phone(&contract, signer).await?;
        match state.store.check_code(&phone, &code_purpose(&contract, signer), &typed).await? {
            CodeCheck::Accepted => {}
            refused => return Err(invalid("code", refused.refusal().unwrap_or_else(Invalid::required))),
        }
    }
    let name = signer_name(state, &contract, signer, who).await?;
    Ok(state.store.sign_contract(contract_id, signer, who, &name, seen_sha256).await?)
}

/// What a check finds.
pub enum Checked {
    /// The file is byte for byte the one kept with the contract.
    Unchanged(ContractRow, Vec<SignatureRow>),
    /// A file was given for this number and it is not the one kept.
    Differs(ContractRow),
    /// Only a number was given: the contract's state, without its file.
    Found(ContractRow, Vec<SignatureRow>),
    /// Neither the number nor the file's digest is known here.
    Unknown,
}

/// Checks a contract by its number, its file, or both. Checks from one address that find nothing
/// or ask by number alone are counted: each tells whether a number exists.
pub async fn check(
    state: &AppState,
    address: std::net::IpAddr,
    number: &str,
    file: Option<&[u8]>,
) -> Result<Checked, AppError> {
    let key = address.to_string();
    if let Err(retry_after_secs) = state.limits.contract_checks.check(&key) {
        return Err(AppError::TooManyAttempts { retry_after_secs });
    }
    let checked = check_unlimited(state, number, file).await?;
    if matches!(checked, Checked::Unknown | Checked::Found(..)) {
        state.limits.contract_checks.record_failure(&key);
    }
    Ok(checked)
}

async fn check_unlimited(state: &AppState, number: &str, file: Option<&[u8]>) -> Result<Checked, AppError> {
    let number = if number.trim().is_empty() {
        None
    } else {
        Some(contract::parse_number(number).map_err(|e| invalid("number", e))?)
    };
    let file = file.filter(|f| !f.is_empty());
    if number.is_none() && file.is_none() {
        return Err(invalid(
            "file",
            Invalid::new(
                "nothing_to_check",
                "请上传合同文件或填写合同编号",
                "upload the contract file or type its number",
            ),
        ));
    }
    let by_number = match &number {
        Some(n) => state.store.contract_by_number(n).await?,
        None => None,
    };
    let Some(file) = file else {
        return Ok(match by_number {
            Some(c) => {
                let signatures = state.store.contract_signatures(c.id).await?;
                Checked::Found(c, signatures)
            }
            None => Checked::Unknown,
        });
    };
    let digest: [u8; 32] = Sha256::digest(file).into();
    let matches = state.store.contracts_by_digest(&digest).await?;
    let found = match &by_number {
        Some(c) => matches.into_iter().find(|m| m.id == c.id),
        None => matches.into_iter().next(),
    };
    // A changed file still names its contract (in its information and on every page): a file
    // that is not the one kept but carries a known number differs from that contract.
    let by_number = match (by_number, &found) {
        (None, None) => match number_in(file) {
            Some(n) => state.store.contract_by_number(&n).await?,
            None => None,
        },
        (by_number, _) => by_number,
    };
    Ok(match (found, by_number) {
        (Some(c), _) => {
            let signatures = state.store.contract_signatures(c.id).await?;
            Checked::Unchanged(c, signatures)
        }
        (None, Some(c)) => Checked::Differs(c),
        (None, None) => Checked::Unknown,
    })
}

/// The first contract number written in plain text in a file (a PDF's information holds it).
fn number_in(file: &[u8]) -> Option<String> {
    file.windows(18)
        .filter(|w| w.starts_with(b"HT") || w.starts_with(b"XY"))
        .filter_map(|w| std::str::from_utf8(w).ok())
        .find_map(|w| contract::parse_number(w).ok())
}
