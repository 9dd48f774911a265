//! The inputs to credit that people file and the regulator decides: ratings of services that
//! happened, complaints, reviews of agency-entered records, red/black list decisions, rewards
//! and penalties, and appeals. Forms parse into typed values; each status moves only forward.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::SubjectKind;
use crate::choice;
use crate::field::{FieldErrors, Invalid, required_text, string_or_number};
use crate::registry::ServiceKind;
use crate::workforce::parse_past_date;

fn stars(raw: &str) -> Result<i64, Invalid> {
    match raw.trim() {
        "" => Err(Invalid::required()),
        s => s
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=5).contains(n))
            .ok_or_else(|| Invalid::new("stars", "请给出1到5星", "give 1 to 5 stars")),
    }
}

/// A rating of one service in four dimensions, 1-5 stars each.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct RatingForm {
    #[serde(deserialize_with = "string_or_number")]
    pub quality: String,
    #[serde(deserialize_with = "string_or_number")]
    pub punctuality: String,
    #[serde(deserialize_with = "string_or_number")]
    pub attitude: String,
    #[serde(deserialize_with = "string_or_number")]
    pub communication: String,
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub quality: i64,
    pub punctuality: i64,
    pub attitude: i64,
    pub communication: i64,
    pub comment: String,
}

impl Rating {
    /// The stars the grade reads: the mean of the four dimensions.
    pub fn stars(&self) -> f64 {
        (self.quality + self.punctuality + self.attitude + self.communication) as f64 / 4.0
    }
}

impl RatingForm {
    pub fn parse(&self) -> Result<Rating, FieldErrors> {
        let mut e = FieldErrors::default();
        let quality = e.take("quality", stars(&self.quality));
        let punctuality = e.take("punctuality", stars(&self.punctuality));
        let attitude = e.take("attitude", stars(&self.attitude));
        let communication = e.take("communication", stars(&self.communication));
        let comment = e.take("comment", crate::field::optional_text(&self.comment, 500));
        match (quality, punctuality, attitude, communication, comment) {
            (Some(quality), Some(punctuality), Some(attitude), Some(communication), Some(comment)) if e.is_empty() => {
                Ok(Rating { quality, punctuality, attitude, communication, comment: comment.unwrap_or_default() })
            }
            _ => Err(e),
        }
    }
}

/// A service that happened, as the agency records it before the market exists; the resident
/// confirms it before it counts or can be rated.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ServiceRecordForm {
    pub worker_id: i64,
    /// The resident's login name on the platform.
    pub resident: String,
    /// A service code, e.g. `cleaning`.
    pub service: String,
    pub performed_on: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    pub worker_id: i64,
    pub resident: String,
    pub service: ServiceKind,
    pub performed_on: NaiveDate,
}

impl ServiceRecordForm {
    pub fn parse(&self, today: NaiveDate) -> Result<ServiceRecord, FieldErrors> {
        let mut e = FieldErrors::default();
        let resident = e.take("resident", required_text(&self.resident, 64));
        let service = e.take("service", ServiceKind::parse(&self.service));
        let performed_on = e.take("performed_on", parse_past_date(&self.performed_on, today));
        match (resident, service, performed_on) {
            (Some(resident), Some(service), Some(performed_on)) if e.is_empty() => {
                Ok(ServiceRecord { worker_id: self.worker_id, resident, service, performed_on })
            }
            _ => Err(e),
        }
    }
}

choice!(
    ComplaintStatus {
        Filed = ("filed", "已提交", "Filed"),
        Acknowledged = ("acknowledged", "已受理", "Acknowledged"),
        Investigating = ("investigating", "调查中", "Investigating"),
        Upheld = ("upheld", "投诉成立", "Upheld"),
        Dismissed = ("dismissed", "不予支持", "Dismissed"),
    }
);

choice!(
    ComplaintAction {
        Acknowledge = ("acknowledge", "受理", "Acknowledge"),
        Investigate = ("investigate", "开始调查", "Investigate"),
        Uphold = ("uphold", "认定成立", "Uphold"),
        Dismiss = ("dismiss", "不予支持", "Dismiss"),
    }
);

impl ComplaintAction {
    /// The status after this action, or why it cannot be taken from `from`.
    pub fn apply(self, from: ComplaintStatus) -> Result<ComplaintStatus, Invalid> {
        use ComplaintStatus as S;
        let to = match (self, from) {
            (Self::Acknowledge, S::Filed) => S::Acknowledged,
            (Self::Investigate, S::Filed | S::Acknowledged) => S::Investigating,
            (Self::Uphold, S::Acknowledged | S::Investigating) => S::Upheld,
            (Self::Dismiss, S::Filed | S::Acknowledged | S::Investigating) => S::Dismissed,
            _ => {
                return Err(Invalid::new(
                    "wrong_status",
                    format!("投诉当前状态为“{}”，不能{}", from.label_zh(), self.label_zh()),
                    format!("the complaint is {}; cannot {}", from.label_en().to_lowercase(), self.as_str()),
                ));
            }
        };
        Ok(to)
    }
}

/// A complaint as a resident files it.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ComplaintForm {
    /// `worker` or `agency`.
    pub subject_kind: String,
    pub subject_id: i64,
    /// The service complained about, when there is one.
    pub service_id: Option<i64>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Complaint {
    pub subject_kind: SubjectKind,
    pub subject_id: i64,
    pub service_id: Option<i64>,
    pub body: String,
}

impl ComplaintForm {
    pub fn parse(&self) -> Result<Complaint, FieldErrors> {
        let mut e = FieldErrors::default();
        let kind = e.take("subject_kind", SubjectKind::parse(&self.subject_kind));
        let body = e.take("body", crate::field::required_paragraphs(&self.body, 2000));
        match (kind, body) {
            (Some(subject_kind), Some(body)) if e.is_empty() => {
                Ok(Complaint { subject_kind, subject_id: self.subject_id, service_id: self.service_id, body })
            }
            _ => Err(e),
        }
    }
}

choice!(
    CreditList {
        Red = ("red", "红名单", "Red list"),
        Black = ("black", "黑名单", "Black list"),
        Removed = ("removed", "移出名单", "Removed from the lists"),
    }
);

/// A proposal to list (or remove) a subject; it takes effect only after review by another regulator.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ListProposalForm {
    pub subject_kind: String,
    pub subject_id: i64,
    /// `red`, `black` or `removed`.
    pub list: String,
    pub reason: String,
    /// The decision document, e.g. 长商务信〔2026〕12号.
    pub document: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListProposal {
    pub subject_kind: SubjectKind,
    pub subject_id: i64,
    pub list: CreditList,
    pub reason: String,
    pub document: String,
}

impl ListProposalForm {
    pub fn parse(&self) -> Result<ListProposal, FieldErrors> {
        let mut e = FieldErrors::default();
        let kind = e.take("subject_kind", SubjectKind::parse(&self.subject_kind));
        let list = e.take("list", CreditList::parse(&self.list));
        let reason = e.take("reason", required_text(&self.reason, 1000));
        let document = e.take("document", required_text(&self.document, 100));
        match (kind, list, reason, document) {
            (Some(subject_kind), Some(list), Some(reason), Some(document)) if e.is_empty() => {
                Ok(ListProposal { subject_kind, subject_id: self.subject_id, list, reason, document })
            }
            _ => Err(e),
        }
    }
}

/// Listing needs a second pair of eyes: the reviewer is not the proposer.
pub fn may_review_listing(proposed_by: i64, reviewer: i64) -> Result<(), Invalid> {
    if proposed_by == reviewer {
        return Err(Invalid::new(
            "same_person",
            "提出列入名单的人不能自己审核",
            "the person who proposed the listing cannot review it",
        ));
    }
    Ok(())
}

choice!(
    ActionKind {
        Reward = ("reward", "表彰奖励", "Reward"),
        Penalty = ("penalty", "行政处罚", "Penalty"),
    }
);

/// A reward or penalty as the regulator enters it, with its date and document.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct ActionForm {
    pub subject_kind: String,
    pub subject_id: i64,
    /// `reward` or `penalty`.
    pub kind: String,
    pub decided_on: String,
    pub authority: String,
    pub document: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    #[serde(skip)]
    pub subject_kind: SubjectKind,
    #[serde(skip)]
    pub subject_id: i64,
    #[serde(skip)]
    pub kind: ActionKind,
    pub decided_on: NaiveDate,
    pub authority: String,
    pub document: String,
    pub reason: String,
}

impl ActionForm {
    pub fn parse(&self, today: NaiveDate) -> Result<Action, FieldErrors> {
        let mut e = FieldErrors::default();
        let subject_kind = e.take("subject_kind", SubjectKind::parse(&self.subject_kind));
        let kind = e.take("kind", ActionKind::parse(&self.kind));
        let decided_on = e.take("decided_on", parse_past_date(&self.decided_on, today));
        let authority = e.take("authority", required_text(&self.authority, 100));
        let document = e.take("document", required_text(&self.document, 100));
        let reason = e.take("reason", required_text(&self.reason, 1000));
        match (subject_kind, kind, decided_on, authority, document, reason) {
            (Some(subject_kind), Some(kind), Some(decided_on), Some(authority), Some(document), Some(reason))
                if e.is_empty() =>
            {
                Ok(Action { subject_kind, subject_id: self.subject_id, kind, decided_on, authority, document, reason })
            }
            _ => Err(e),
        }
    }
}

choice!(
    ReviewDecision {
        Approved = ("approved", "审核通过", "Approved"),
        Returned = ("returned", "退回", "Returned"),
    }
);

choice!(
    AppealOutcome {
        Granted = ("granted", "申诉成立", "Granted"),
        Denied = ("denied", "驳回申诉", "Denied"),
    }
);

/// A decision with its reason: a review of an entry, an appeal outcome, a complaint step.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct DecisionForm {
    /// `approved`/`returned` for reviews, `granted`/`denied` for appeals,
    /// `acknowledge`/`investigate`/`uphold`/`dismiss` for complaints, `approve`/`reject` for listings.
    pub decision: String,
    pub reason: String,
    /// Reviews only: the returned entry was false, and this counts against the agency.
    pub false_entry: bool,
}

/// A decision a regulator takes on a case, and whether it must say why.
pub trait Decision: Sized {
    fn decode(raw: &str) -> Result<Self, Invalid>;
    fn needs_reason(&self) -> bool;
}

impl Decision for ComplaintAction {
    fn decode(raw: &str) -> Result<Self, Invalid> {
        Self::parse(raw)
    }

    /// Upholding or dismissing ends the case, and says why; the steps before do not need to.
    fn needs_reason(&self) -> bool {
        matches!(self, Self::Uphold | Self::Dismiss)
    }
}

impl Decision for ReviewDecision {
    fn decode(raw: &str) -> Result<Self, Invalid> {
        Self::parse(raw)
    }

    /// A returned entry tells the agency what was wrong with it.
    fn needs_reason(&self) -> bool {
        *self == Self::Returned
    }
}

impl Decision for AppealOutcome {
    fn decode(raw: &str) -> Result<Self, Invalid> {
        Self::parse(raw)
    }

    fn needs_reason(&self) -> bool {
        true
    }
}

impl Decision for ListingReview {
    fn decode(raw: &str) -> Result<Self, Invalid> {
        Self::parse(raw)
    }

    /// The proposal already carries the reason and the document.
    fn needs_reason(&self) -> bool {
        false
    }
}

impl DecisionForm {
    /// The decision and its reason (empty when the decision needs none and none was given).
    pub fn parse<T: Decision>(&self) -> Result<(T, String), FieldErrors> {
        let mut e = FieldErrors::default();
        let decision = e.take("decision", T::decode(&self.decision));
        let reason = match &decision {
            Some(d) if d.needs_reason() => e.take(
                "reason",
                required_text(&self.reason, 1000).map_err(|error| match error.code {
                    "required" => Invalid::new("required", "请写明理由", "give the reason for this decision"),
                    _ => error,
                }),
            ),
            _ => e.take("reason", crate::field::optional_text(&self.reason, 1000)).map(Option::unwrap_or_default),
        };
        match (decision, reason) {
            (Some(d), Some(r)) if e.is_empty() => Ok((d, r)),
            _ => Err(e),
        }
    }
}

choice!(
    ListingReview {
        Approve = ("approve", "同意列入", "Approve"),
        Reject = ("reject", "不同意", "Reject"),
    }
);

/// The complaint rate the public agency page shows: upheld complaints per 100 confirmed services.
pub fn complaint_rate(upheld: i64, services: i64) -> Option<f64> {
    (services > 0).then(|| (upheld as f64 * 100.0 / services as f64 * 10.0).round() / 10.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rating_needs_four_dimensions_in_range() {
        let form = RatingForm {
            quality: "5".into(),
            punctuality: "4".into(),
            attitude: "5".into(),
            communication: "4".into(),
            comment: String::new(),
        };
        assert_eq!(form.parse().unwrap().stars(), 4.5);
        let bad = RatingForm { quality: "6".into(), attitude: String::new(), ..form };
        let errors = bad.parse().unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["quality", "attitude"]);
    }

    #[test]
    fn complaints_move_forward_only_and_only_decisions_end_them() {
        use ComplaintAction as A;
        use ComplaintStatus as S;
        assert_eq!(A::Acknowledge.apply(S::Filed).unwrap(), S::Acknowledged);
        assert_eq!(A::Uphold.apply(S::Investigating).unwrap(), S::Upheld);
        assert!(A::Uphold.apply(S::Filed).is_err(), "a complaint is acknowledged before it is upheld");
        assert!(A::Acknowledge.apply(S::Upheld).is_err());
        assert!(A::Dismiss.apply(S::Dismissed).is_err());
        assert!(A::Uphold.needs_reason() && !A::Acknowledge.needs_reason());
    }

    #[test]
    fn listing_is_reviewed_by_someone_else() {
        assert!(may_review_listing(7, 7).is_err());
        assert!(may_review_listing(7, 8).is_ok());
    }

    #[test]
    fn decisions_that_end_a_case_need_a_reason() {
        let form = DecisionForm { decision: "uphold".into(), ..Default::default() };
        let errors = form.parse::<ComplaintAction>().unwrap_err();
        assert_eq!(errors.0[0].field, "reason");
        let ack = DecisionForm { decision: "acknowledge".into(), ..Default::default() };
        assert_eq!(ack.parse::<ComplaintAction>().unwrap().0, ComplaintAction::Acknowledge);
    }

    #[test]
    fn complaint_rate_is_per_hundred_services() {
        assert_eq!(complaint_rate(1, 300), Some(0.3));
        assert_eq!(complaint_rate(0, 0), None);
    }
}
