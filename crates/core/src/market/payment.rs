//! Money for an order, as WeChat Pay API v3 moves it: the resident pays the provider, the platform
//! holds the amount against the order until the service is done, then settles it to the agency
//! (and, under the intermediary model, the worker's share); a cancellation pays the agency its
//! published fee and refunds the rest. Every movement is a balanced double-entry transaction.
//!
//! Sign convention: a posting's amount is a debit when positive and a credit when negative, so
//! `Clearing` (money at the provider) carries a positive balance and what the platform owes
//! (`Held`, `Agency`, `Worker`) a negative one.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::choice;
use crate::field::Invalid;

choice!(
    PaymentStatus {
        Pending = ("pending", "待支付", "Awaiting payment"),
        Paid = ("paid", "已支付", "Paid"),
        Closed = ("closed", "已关闭", "Closed"),
    }
);

choice!(
    RefundStatus {
        Processing = ("processing", "退款处理中", "Refund in progress"),
        Succeeded = ("succeeded", "已退款", "Refunded"),
    }
);

choice!(
    /// Why money moved.
    TxnKind {
        Payment = ("payment", "支付", "Payment"),
        Refund = ("refund", "退款", "Refund"),
        Settlement = ("settlement", "结算", "Settlement"),
        CancelFee = ("cancel_fee", "取消费", "Cancellation fee"),
    }
);

/// After a notification goes unacknowledged the provider sends it again after these waits
/// (WeChat Pay's published schedule, 24h4m in all); after the last it gives up.
pub const RETRY_SCHEDULE: [Duration; 15] = [
    Duration::from_secs(15),
    Duration::from_secs(15),
    Duration::from_secs(30),
    Duration::from_secs(3 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(20 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(60 * 60),
    Duration::from_secs(3 * 3600),
    Duration::from_secs(3 * 3600),
    Duration::from_secs(3 * 3600),
    Duration::from_secs(6 * 3600),
    Duration::from_secs(6 * 3600),
];

/// The wait before the next delivery once `attempts` deliveries have failed; `None` once the
/// schedule is spent.
pub fn next_attempt(attempts: u32) -> Option<Duration> {
    let index = usize::try_from(attempts).ok()?.checked_sub(1)?;
    RETRY_SCHEDULE.get(index).copied()
}

/// The text a notification's signature covers, as API v3 builds it.
pub fn signed_message(timestamp: &str, nonce: &str, body: &str) -> String {
    format!("{timestamp}\n{nonce}\n{body}\n")
}

/// How far a notification's timestamp may be from the receiver's clock (API v3 advises 5 minutes).
pub const TIMESTAMP_WINDOW_SECS: i64 = 300;

/// The platform's own payment number for an order's n-th payment order (API v3: 6-32 characters
/// of letters, digits, `_-|*`).
pub fn out_trade_no(order_id: i64, n: i64) -> String {
    format!("JZ{order_id:08}P{n}")
}

/// The platform's refund number: the payment's number and the refund's place among its refunds.
pub fn out_refund_no(out_trade_no: &str, n: i64) -> String {
    format!("{out_trade_no}R{n}")
}

/// A ledger account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    /// Money at the payment provider, in the platform's name.
    Clearing,
    /// Paid for an order and held until it is completed or cancelled.
    Held(i64),
    /// Owed to an agency.
    Agency(i64),
    /// Owed to a worker (their share under the intermediary model).
    Worker(i64),
    /// Owed by a district's subsidy budget (keyed by the district's code) for the subsidised
    /// orders it pays: a positive balance, like `Clearing`.
    Subsidy(i64),
}

impl Account {
    /// The stored form: `clearing`, `held:12`, `agency:3`, `worker:7`.
    pub fn key(self) -> String {
        self.to_string()
    }

    pub fn parse(key: &str) -> Option<Self> {
        if key == "clearing" {
            return Some(Self::Clearing);
        }
        let (kind, id) = key.split_once(':')?;
        let id: i64 = id.parse().ok()?;
        match kind {
            "held" => Some(Self::Held(id)),
            "agency" => Some(Self::Agency(id)),
            "worker" => Some(Self::Worker(id)),
            "subsidy" => Some(Self::Subsidy(id)),
            _ => None,
        }
    }
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Clearing => f.write_str("clearing"),
            Self::Held(id) => write!(f, "held:{id}"),
            Self::Agency(id) => write!(f, "agency:{id}"),
            Self::Worker(id) => write!(f, "worker:{id}"),
            Self::Subsidy(district) => write!(f, "subsidy:{district}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Posting {
    pub account: Account,
    pub amount_fen: i64,
}

/// Postings that sum to zero; nothing else can be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    kind: TxnKind,
    postings: Vec<Posting>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {kind} transaction does not balance: its postings sum to {sum} fen")]
pub struct Unbalanced {
    pub kind: TxnKind,
    pub sum: i128,
}

impl Transaction {
    /// Refuses postings that do not sum to zero; drops postings of nothing.
    pub fn new(kind: TxnKind, postings: Vec<Posting>) -> Result<Self, Unbalanced> {
        let sum: i128 = postings.iter().map(|p| i128::from(p.amount_fen)).sum();
        if sum != 0 {
            return Err(Unbalanced { kind, sum });
        }
        Ok(Self { kind, postings: postings.into_iter().filter(|p| p.amount_fen != 0).collect() })
    }

    /// Debits one account and credits another with the same amount.
    fn pair(kind: TxnKind, debit: Account, credit: Account, amount_fen: i64) -> Self {
        Self::new(
            kind,
            vec![Posting { account: debit, amount_fen }, Posting { account: credit, amount_fen: -amount_fen }],
        )
        .expect("a pair balances")
    }

    pub fn kind(&self) -> TxnKind {
        self.kind
    }

    pub fn postings(&self) -> &[Posting] {
        &self.postings
    }

    pub fn is_empty(&self) -> bool {
        self.postings.is_empty()
    }
}

/// Who receives an order's money on completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// Employee-based: all to the agency (it pays its employee).
    Agency { agency: i64 },
    /// Intermediary: the agency keeps its published fee percent, the worker gets the rest.
    Intermediary { agency: i64, worker: i64, fee_percent: u32 },
}

/// The money of one order: paid, refunded and released (settled or kept as a fee). What is
/// held is the difference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Holding {
    pub order_id: i64,
    pub paid_fen: i64,
    pub refunded_fen: i64,
    pub released_fen: i64,
}

impl Holding {
    pub fn new(order_id: i64) -> Self {
        Self { order_id, ..Self::default() }
    }

    pub fn held_fen(&self) -> i64 {
        self.paid_fen - self.refunded_fen - self.released_fen
    }

    /// A payment the provider confirmed: the money reaches clearing and is held for the order.
    pub fn pay(&mut self, amount_fen: i64) -> Result<Transaction, Invalid> {
        self.pay_from(Account::Clearing, amount_fen)
    }

    /// A payment by `payer` (the provider's clearing, or a district's subsidy budget).
    pub fn pay_from(&mut self, payer: Account, amount_fen: i64) -> Result<Transaction, Invalid> {
        if amount_fen <= 0 {
            return Err(Invalid::new("amount_not_positive", "金额必须大于0", "the amount must be above zero"));
        }
        self.paid_fen += amount_fen;
        Ok(Transaction::pair(TxnKind::Payment, payer, Account::Held(self.order_id), amount_fen))
    }

    /// A refund out of what is held to the provider; never more than that.
    pub fn refund(&mut self, amount_fen: i64) -> Result<Transaction, Invalid> {
        self.refund_to(Account::Clearing, amount_fen)
    }

    /// A refund out of what is held, back to whoever paid (`payer`); never more than that.
    pub fn refund_to(&mut self, payer: Account, amount_fen: i64) -> Result<Transaction, Invalid> {
        if amount_fen <= 0 {
            return Err(Invalid::new("amount_not_positive", "退款金额必须大于0", "a refund must be above zero"));
        }
        let held = self.held_fen();
        if amount_fen > held {
            return Err(Invalid::new(
                "refund_above_paid",
                format!("退款金额超过可退金额（{}）", yuan(held)),
                format!("the refund is more than can be refunded ({})", yuan(held)),
            ));
        }
        self.refunded_fen += amount_fen;
        Ok(Transaction::pair(TxnKind::Refund, Account::Held(self.order_id), payer, amount_fen))
    }

    /// A refund after some or all of the order was settled (a complaint upheld, a service cut
    /// short): what is still held goes first, the rest is taken back from the agency (under the
    /// intermediary model the agency settles with its worker). Never more than was paid and not
    /// yet refunded.
    pub fn refund_settled(&mut self, payer: Account, agency: i64, amount_fen: i64) -> Result<Transaction, Invalid> {
        if amount_fen <= 0 {
            return Err(Invalid::new("amount_not_positive", "退款金额必须大于0", "a refund must be above zero"));
        }
        let refundable = self.paid_fen - self.refunded_fen;
        if amount_fen > refundable {
            return Err(Invalid::new(
                "refund_above_paid",
                format!("退款金额超过可退金额（{}）", yuan(refundable)),
                format!("the refund is more than can be refunded ({})", yuan(refundable)),
            ));
        }
        let from_held = amount_fen.min(self.held_fen());
        let from_agency = amount_fen - from_held;
        self.refunded_fen += amount_fen;
        self.released_fen -= from_agency;
        let postings = vec![
            Posting { account: Account::Held(self.order_id), amount_fen: from_held },
            Posting { account: Account::Agency(agency), amount_fen: from_agency },
            Posting { account: payer, amount_fen: -amount_fen },
        ];
        Ok(Transaction::new(TxnKind::Refund, postings).expect("the parts make the whole"))
    }

    /// The service is done: everything held goes to whom the split says. Nothing held, nothing moves.
    pub fn settle(&mut self, split: Split) -> Transaction {
        self.settle_part(split, self.held_fen())
    }

    /// Part of what is held (at most all of it) goes to whom the split says: a long service's
    /// periods settled as they pass.
    pub fn settle_part(&mut self, split: Split, amount_fen: i64) -> Transaction {
        let held = amount_fen.clamp(0, self.held_fen());
        let from = Posting { account: Account::Held(self.order_id), amount_fen: held };
        let postings = match split {
            Split::Agency { agency } => vec![from, Posting { account: Account::Agency(agency), amount_fen: -held }],
            Split::Intermediary { agency, worker, fee_percent } => {
                let fee = agency_fee(held, fee_percent);
                vec![
                    from,
                    Posting { account: Account::Agency(agency), amount_fen: -fee },
                    Posting { account: Account::Worker(worker), amount_fen: -(held - fee) },
                ]
            }
        };
        self.released_fen += held;
        Transaction::new(TxnKind::Settlement, postings).expect("a split balances")
    }

    /// A cancellation: the fee (at most what is held) goes to the agency; the rest is to be
    /// refunded to `payer`, by the returned refund transaction and amount.
    pub fn cancel(&mut self, agency: i64, fee_fen: i64, payer: Account) -> (Transaction, Option<(Transaction, i64)>) {
        let fee = fee_fen.clamp(0, self.held_fen());
        self.released_fen += fee;
        let kept = Transaction::pair(TxnKind::CancelFee, Account::Held(self.order_id), Account::Agency(agency), fee);
        let rest = self.held_fen();
        let refund = (rest > 0).then(|| (self.refund_to(payer, rest).expect("the rest is held"), rest));
        (kept, refund)
    }
}

/// Long services are settled as they run: each whole period of this many days releases its share.
pub const SETTLEMENT_PERIOD_DAYS: i64 = 7;

/// What of `net_paid_fen` is due to the agency (and worker) after `elapsed_days` of a service of
/// `total_days`: the share of the whole periods passed, rounded down; all of it once the service
/// has run its length.
pub fn due_by_periods(net_paid_fen: i64, total_days: i64, elapsed_days: i64) -> i64 {
    if total_days <= 0 || elapsed_days >= total_days {
        return net_paid_fen.max(0);
    }
    let served = (elapsed_days.max(0) / SETTLEMENT_PERIOD_DAYS) * SETTLEMENT_PERIOD_DAYS;
    (i128::from(net_paid_fen.max(0)) * i128::from(served) / i128::from(total_days)) as i64
}

/// The agency's share under the intermediary model, rounded down (the fen goes to the worker).
pub fn agency_fee(held_fen: i64, fee_percent: u32) -> i64 {
    held_fen * i64::from(fee_percent.min(100)) / 100
}

/// ¥ and two decimals.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}¥{}.{:02}", fen.unsigned_abs() / 100, fen.unsigned_abs() % 100)
}

choice!(
    /// A line of a daily bill: a payment or a refund.
    BillKind {
        Payment = ("payment", "支付", "Payment"),
        Refund = ("refund", "退款", "Refund"),
    }
);

/// One line of a daily bill, as the provider lists it and as the platform records it. Payments
/// are listed on the day they succeeded, refunds on the day they were asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BillLine {
    pub at: DateTime<Utc>,
    pub kind: BillKind,
    pub out_trade_no: String,
    pub transaction_id: String,
    pub out_refund_no: String,
    pub refund_id: String,
    pub amount_fen: i64,
    /// `SUCCESS`, or `PROCESSING` for a refund still under way.
    pub status: String,
}

impl BillLine {
    /// The platform's number for the line: the payment's, or the refund's.
    pub fn key(&self) -> (BillKind, &str) {
        match self.kind {
            BillKind::Payment => (self.kind, &self.out_trade_no),
            BillKind::Refund => (self.kind, &self.out_refund_no),
        }
    }
}

/// A difference between the provider's bill and the platform's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Discrepancy {
    /// The provider lists it; the platform has no such line that day.
    MissingOnPlatform(BillLine),
    /// The platform has it; the provider's bill does not.
    MissingAtProvider(BillLine),
    AmountDiffers {
        kind: BillKind,
        number: String,
        provider_fen: i64,
        platform_fen: i64,
    },
    StatusDiffers {
        kind: BillKind,
        number: String,
        provider: String,
        platform: String,
    },
}

impl fmt::Display for Discrepancy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingOnPlatform(line) => {
                let (kind, number) = line.key();
                write!(f, "{} {number} {}: 平台无记录 missing on the platform", kind.label_zh(), yuan(line.amount_fen))
            }
            Self::MissingAtProvider(line) => {
                let (kind, number) = line.key();
                write!(
                    f,
                    "{} {number} {}: 账单无记录 missing from the provider's bill",
                    kind.label_zh(),
                    yuan(line.amount_fen)
                )
            }
            Self::AmountDiffers { kind, number, provider_fen, platform_fen } => write!(
                f,
                "{} {number}: 金额不符 amount differs (provider {}, platform {})",
                kind.label_zh(),
                yuan(*provider_fen),
                yuan(*platform_fen)
            ),
            Self::StatusDiffers { kind, number, provider, platform } => write!(
                f,
                "{} {number}: 状态不符 status differs (provider {provider}, platform {platform})",
                kind.label_zh()
            ),
        }
    }
}

/// Matches a provider's bill against the platform's lines of the same day, by number; every
/// difference is listed, in the bill's order and then the platform's.
pub fn reconcile(provider: &[BillLine], platform: &[BillLine]) -> Vec<Discrepancy> {
    use std::collections::HashMap;
    let ours: HashMap<(BillKind, &str), &BillLine> = platform.iter().map(|l| (l.key(), l)).collect();
    let theirs: HashMap<(BillKind, &str), &BillLine> = provider.iter().map(|l| (l.key(), l)).collect();
    let mut found = Vec::new();
    for line in provider {
        let (kind, number) = line.key();
        match ours.get(&line.key()) {
            None => found.push(Discrepancy::MissingOnPlatform(line.clone())),
            Some(mine) => {
                if mine.amount_fen != line.amount_fen {
                    found.push(Discrepancy::AmountDiffers {
                        kind,
                        number: number.to_owned(),
                        provider_fen: line.amount_fen,
                        platform_fen: mine.amount_fen,
                    });
                }
                if mine.status != line.status {
                    found.push(Discrepancy::StatusDiffers {
                        kind,
                        number: number.to_owned(),
                        provider: line.status.clone(),
                        platform: mine.status.clone(),
                    });
                }
            }
        }
    }
    found.extend(
        platform.iter().filter(|l| !theirs.contains_key(&l.key())).cloned().map(Discrepancy::MissingAtProvider),
    );
    found
}

/// The bill's columns, named as WeChat's trade bill names them.
pub const BILL_HEADER: &str =
    "交易时间,微信订单号,商户订单号,交易状态,订单金额,微信退款单号,商户退款单号,退款金额,退款状态";

/// A bill as CSV in WeChat's manner: a header, one line per payment or refund with every value
/// after a backquote (so spreadsheets keep long numbers as text), and a count and total.
pub fn bill_csv(lines: &[BillLine]) -> String {
    let mut out = String::with_capacity(64 + lines.len() * 120);
    out.push_str(BILL_HEADER);
    out.push('\n');
    let (mut paid, mut refunded) = (0_i64, 0_i64);
    for line in lines {
        let at = line.at.with_timezone(&crate::calendar::beijing()).format("%Y-%m-%d %H:%M:%S");
        let amount = yuan_plain(line.amount_fen);
        let row = match line.kind {
            BillKind::Payment => {
                paid += line.amount_fen;
                format!("`{at},`{},`{},`SUCCESS,`{amount},`,`,`0.00,`", line.transaction_id, line.out_trade_no)
            }
            BillKind::Refund => {
                refunded += line.amount_fen;
                format!(
                    "`{at},`{},`{},`REFUND,`0.00,`{},`{},`{amount},`{}",
                    line.transaction_id, line.out_trade_no, line.refund_id, line.out_refund_no, line.status
                )
            }
        };
        out.push_str(&row);
        out.push('\n');
    }
    out.push_str("总交易单数,应结订单总金额,退款总金额\n");
    out.push_str(&format!("`{},`{},`{}\n", lines.len(), yuan_plain(paid), yuan_plain(refunded)));
    out
}

/// Reads a bill written by `bill_csv` (or WeChat's, in these columns); stops at the totals.
pub fn parse_bill_csv(text: &str) -> Result<Vec<BillLine>, Invalid> {
    let mut rows = text.lines();
    match rows.next() {
        Some(header) if header.trim_start_matches('\u{feff}').trim() == BILL_HEADER => {}
        _ => return Err(Invalid::new("bad_bill", "账单表头不符", "the bill's header is not the trade bill's")),
    }
    let mut lines = Vec::new();
    for (n, row) in rows.enumerate() {
        if row.starts_with("总交易单数") {
            break;
        }
        let bad = || {
            Invalid::new(
                "bad_bill",
                format!("账单第{}行无法读取", n + 2),
                format!("line {} of the bill cannot be read", n + 2),
            )
        };
        let cells: Vec<&str> = row.split(',').map(|c| c.trim().trim_start_matches('`')).collect();
        let [at, transaction_id, out_trade_no, state, amount, refund_id, out_refund_no, refund_amount, refund_state] =
            cells[..]
        else {
            return Err(bad());
        };
        let at = chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S")
            .ok()
            .and_then(|t| t.and_local_timezone(crate::calendar::beijing()).single())
            .ok_or_else(bad)?
            .to_utc();
        let (kind, amount, status) = match state {
            "SUCCESS" => (BillKind::Payment, amount, "SUCCESS"),
            "REFUND" => (BillKind::Refund, refund_amount, refund_state),
            _ => return Err(bad()),
        };
        lines.push(BillLine {
            at,
            kind,
            out_trade_no: out_trade_no.to_owned(),
            transaction_id: transaction_id.to_owned(),
            out_refund_no: out_refund_no.to_owned(),
            refund_id: refund_id.to_owned(),
            amount_fen: parse_yuan(amount).ok_or_else(bad)?,
            status: status.to_owned(),
        });
    }
    Ok(lines)
}

fn yuan_plain(fen: i64) -> String {
    yuan(fen).replace('¥', "")
}

/// "12.34" as 1234 fen; at most two decimals.
pub fn parse_yuan(text: &str) -> Option<i64> {
    let (whole, part) = text.split_once('.').unwrap_or((text, "0"));
    if part.len() > 2
        || whole.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !part.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let cents: i64 = format!("{part:0<2}").parse().ok()?;
    whole.parse::<i64>().ok()?.checked_mul(100)?.checked_add(cents)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn sum(t: &Transaction) -> i64 {
        t.postings().iter().map(|p| p.amount_fen).sum()
    }

    #[test]
    fn the_schedule_is_weixins_and_runs_24_hours_and_4_minutes() {
        let total: u64 = RETRY_SCHEDULE.iter().map(Duration::as_secs).sum();
        assert_eq!(total, 24 * 3600 + 4 * 60);
        assert_eq!(next_attempt(0), None, "no wait before the first delivery is counted");
        assert_eq!(next_attempt(1), Some(Duration::from_secs(15)));
        assert_eq!(next_attempt(4), Some(Duration::from_secs(180)));
        assert_eq!(next_attempt(15), Some(Duration::from_secs(6 * 3600)));
        assert_eq!(next_attempt(16), None);
    }

    #[test]
    fn the_signed_message_ends_each_part_with_a_newline() {
        assert_eq!(signed_message("1700000000", "abc", "{}"), "1700000000\nabc\n{}\n");
    }

    #[test]
    fn an_unbalanced_transaction_cannot_be_built() {
        let refused = Transaction::new(
            TxnKind::Payment,
            vec![
                Posting { account: Account::Clearing, amount_fen: 100 },
                Posting { account: Account::Held(1), amount_fen: -99 },
            ],
        )
        .unwrap_err();
        assert_eq!(refused.sum, 1);
    }

    #[test]
    fn accounts_round_trip_through_their_keys() {
        for account in [
            Account::Clearing,
            Account::Held(12),
            Account::Agency(3),
            Account::Worker(7),
            Account::Subsidy(220104000000),
        ] {
            assert_eq!(Account::parse(&account.key()), Some(account));
        }
        assert_eq!(Account::parse("held:x"), None);
        assert_eq!(Account::parse("bank:1"), None);
    }

    #[test]
    fn an_intermediary_agency_keeps_its_fee_and_the_worker_the_rest() {
        let mut money = Holding::new(5);
        money.pay(10_001).unwrap();
        let settled = money.settle(Split::Intermediary { agency: 2, worker: 9, fee_percent: 20 });
        let by: BTreeMap<Account, i64> = settled.postings().iter().map(|p| (p.account, p.amount_fen)).collect();
        assert_eq!(by[&Account::Agency(2)], -2000);
        assert_eq!(by[&Account::Worker(9)], -8001);
        assert_eq!(by[&Account::Held(5)], 10_001);
        assert_eq!(money.held_fen(), 0);
        assert!(money.settle(Split::Agency { agency: 2 }).is_empty(), "nothing held settles nothing");
    }

    #[test]
    fn a_cancellation_pays_the_fee_and_refunds_the_rest() {
        let mut money = Holding::new(5);
        money.pay(20_000).unwrap();
        let (fee, refund) = money.cancel(2, 4000, Account::Clearing);
        assert_eq!(fee.postings()[1], Posting { account: Account::Agency(2), amount_fen: -4000 });
        let (refund, amount) = refund.unwrap();
        assert_eq!(amount, 16_000);
        assert_eq!(sum(&refund), 0);
        assert_eq!(money.held_fen(), 0);
        assert_eq!(money.refunded_fen, 16_000);
    }

    #[test]
    fn a_subsidised_order_is_paid_by_the_district_and_its_refund_goes_back_there() {
        let district = Account::Subsidy(220104000000);
        let mut money = Holding::new(8);
        let paid = money.pay_from(district, 12_000).unwrap();
        assert_eq!(paid.postings()[0], Posting { account: district, amount_fen: 12_000 });
        let (fee, refund) = money.cancel(2, 3000, district);
        assert_eq!(sum(&fee), 0);
        let (refund, amount) = refund.unwrap();
        assert_eq!(amount, 9000);
        assert_eq!(refund.postings()[1], Posting { account: district, amount_fen: -9000 });
        assert!(refund.postings().iter().all(|p| p.account != Account::Clearing), "no money at the provider moves");
    }

    #[test]
    fn a_long_service_is_settled_by_whole_periods() {
        // 26 days of a 月嫂 package at ¥15,600: nothing in the first week, 7/26 after it, all at the end.
        assert_eq!(due_by_periods(1_560_000, 26, 6), 0);
        assert_eq!(due_by_periods(1_560_000, 26, 7), 420_000);
        assert_eq!(due_by_periods(1_560_000, 26, 13), 420_000);
        assert_eq!(due_by_periods(1_560_000, 26, 21), 1_260_000);
        assert_eq!(due_by_periods(1_560_000, 26, 26), 1_560_000);
        assert_eq!(due_by_periods(1_560_000, 26, -3), 0);
        let mut money = Holding::new(4);
        money.pay(1_560_000).unwrap();
        let first = money.settle_part(Split::Agency { agency: 2 }, 420_000);
        assert_eq!(sum(&first), 0);
        assert_eq!(money.held_fen(), 1_140_000);
        assert_eq!(money.settle_part(Split::Agency { agency: 2 }, 9_999_999).postings()[0].amount_fen, 1_140_000);
        assert_eq!(money.held_fen(), 0, "never more than is held");
    }

    #[test]
    fn a_refund_after_settlement_takes_what_is_held_first_and_the_rest_from_the_agency() {
        let mut money = Holding::new(6);
        money.pay(10_000).unwrap();
        money.settle_part(Split::Agency { agency: 3 }, 7000);
        let refund = money.refund_settled(Account::Clearing, 3, 5000).unwrap();
        let by: BTreeMap<Account, i64> = refund.postings().iter().map(|p| (p.account, p.amount_fen)).collect();
        assert_eq!((by[&Account::Held(6)], by[&Account::Agency(3)], by[&Account::Clearing]), (3000, 2000, -5000));
        assert_eq!((money.held_fen(), money.refunded_fen), (0, 5000));
        let refused = money.refund_settled(Account::Clearing, 3, 5001).unwrap_err();
        assert!(refused.message_zh.contains("¥50.00"), "{}", refused.message_zh);
        assert!(money.refund_settled(Account::Clearing, 3, 5000).is_ok(), "the rest of what was paid");
        assert_eq!(money.refunded_fen, money.paid_fen);
    }

    #[test]
    fn a_refund_above_what_is_held_is_refused() {
        let mut money = Holding::new(1);
        money.pay(5000).unwrap();
        money.refund(3000).unwrap();
        let refused = money.refund(2001).unwrap_err();
        assert_eq!(refused.code, "refund_above_paid");
        assert!(refused.message_zh.contains("¥20.00"), "{}", refused.message_zh);
        assert_eq!(money.refunded_fen, 3000, "a refused refund changes nothing");
    }

    fn line(kind: BillKind, number: &str, amount_fen: i64, status: &str) -> BillLine {
        BillLine {
            at: "2026-12-01T02:03:04Z".parse().unwrap(),
            kind,
            out_trade_no: if kind == BillKind::Payment { number.into() } else { "JZ00000001P1".into() },
            transaction_id: format!("42{number}"),
            out_refund_no: if kind == BillKind::Refund { number.into() } else { String::new() },
            refund_id: if kind == BillKind::Refund { format!("50{number}") } else { String::new() },
            amount_fen,
            status: status.into(),
        }
    }

    #[test]
    fn a_bill_survives_its_csv_and_reconciliation_finds_each_difference() {
        let provider = vec![
            line(BillKind::Payment, "JZ00000001P1", 12_345, "SUCCESS"),
            line(BillKind::Payment, "JZ00000002P1", 500, "SUCCESS"),
            line(BillKind::Refund, "JZ00000001P1R1", 45, "SUCCESS"),
            line(BillKind::Payment, "JZ00000003P1", 900, "SUCCESS"),
        ];
        let csv = bill_csv(&provider);
        assert!(csv.contains("`123.45"), "{csv}");
        assert_eq!(parse_bill_csv(&csv).unwrap(), provider);
        let platform = vec![
            line(BillKind::Payment, "JZ00000001P1", 12_345, "SUCCESS"),
            line(BillKind::Payment, "JZ00000002P1", 501, "SUCCESS"),
            line(BillKind::Refund, "JZ00000001P1R1", 45, "PROCESSING"),
            line(BillKind::Payment, "JZ00000004P1", 70, "SUCCESS"),
        ];
        let found = reconcile(&provider, &platform);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(
            matches!(&found[0], Discrepancy::AmountDiffers { number, provider_fen: 500, platform_fen: 501, .. } if number == "JZ00000002P1")
        );
        assert!(matches!(&found[1], Discrepancy::StatusDiffers { number, .. } if number == "JZ00000001P1R1"));
        assert!(matches!(&found[2], Discrepancy::MissingOnPlatform(l) if l.out_trade_no == "JZ00000003P1"));
        assert!(matches!(&found[3], Discrepancy::MissingAtProvider(l) if l.out_trade_no == "JZ00000004P1"));
        assert!(reconcile(&provider, &provider).is_empty());
    }

    #[test]
    fn yuan_reads_at_most_two_decimals() {
        assert_eq!(parse_yuan("0.01"), Some(1));
        assert_eq!(parse_yuan("12.3"), Some(1230));
        assert_eq!(parse_yuan("7"), Some(700));
        assert_eq!(parse_yuan("1.234"), None);
        assert_eq!(parse_yuan("-1.00"), None);
        assert!(parse_bill_csv("a,b\n").is_err());
    }

    #[derive(Debug, Clone)]
    enum Op {
        Pay(i64),
        Refund(i64),
        Settle { intermediary: bool, percent: u32 },
        Cancel(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (1..1_000_000_i64).prop_map(Op::Pay),
            (-10..1_000_000_i64).prop_map(Op::Refund),
            (any::<bool>(), 0..=100_u32).prop_map(|(intermediary, percent)| Op::Settle { intermediary, percent }),
            (-10..1_000_000_i64).prop_map(Op::Cancel),
        ]
    }

    proptest! {
        #[test]
        fn any_mix_balances_and_never_refunds_more_than_paid(ops in proptest::collection::vec((0..3_i64, op()), 1..60)) {
            let mut orders: BTreeMap<i64, Holding> = BTreeMap::new();
            let mut balances: BTreeMap<Account, i64> = BTreeMap::new();
            for (order, op) in ops {
                let money = orders.entry(order).or_insert_with(|| Holding::new(order));
                let mut txns = Vec::new();
                match op {
                    Op::Pay(amount) => txns.extend(money.pay(amount).ok()),
                    Op::Refund(amount) => txns.extend(money.refund(amount).ok()),
                    Op::Settle { intermediary, percent } => txns.push(money.settle(if intermediary {
                        Split::Intermediary { agency: 1, worker: 2, fee_percent: percent }
                    } else {
                        Split::Agency { agency: 1 }
                    })),
                    Op::Cancel(fee) => {
                        let (kept, refund) = money.cancel(1, fee, Account::Clearing);
                        txns.push(kept);
                        txns.extend(refund.map(|(t, _)| t));
                    }
                }
                for txn in txns {
                    prop_assert_eq!(sum(&txn), 0);
                    for p in txn.postings() {
                        *balances.entry(p.account).or_default() += p.amount_fen;
                    }
                }
                prop_assert!(money.refunded_fen <= money.paid_fen);
                prop_assert!(money.held_fen() >= 0);
            }
            prop_assert_eq!(balances.values().sum::<i64>(), 0);
            for (id, money) in &orders {
                prop_assert_eq!(balances.get(&Account::Held(*id)).copied().unwrap_or(0), -money.held_fen());
            }
            let paid: i64 = orders.values().map(|m| m.paid_fen - m.refunded_fen).sum();
            prop_assert_eq!(balances.get(&Account::Clearing).copied().unwrap_or(0), paid);
        }
    }
}
