//! A worker belongs to agencies over time. Starting or ending a binding takes both sides:
//! one asks, the other confirms. Nothing is deleted, so the history stays.

use crate::choice;

choice!(
    BindingKind {
        Employee = ("employee", "员工制", "Employee-based"),
        Intermediary = ("intermediary", "中介制", "Intermediary"),
    }
);

choice!(
    Side {
        Agency = ("agency", "企业", "Agency"),
        Worker = ("worker", "服务员", "Worker"),
    }
);

choice!(
    BindingStatus {
        Pending = ("pending", "待确认", "Awaiting confirmation"),
        Active = ("active", "在职", "Active"),
        Rejected = ("rejected", "已拒绝", "Rejected"),
        Cancelled = ("cancelled", "已撤回", "Cancelled"),
        Ended = ("ended", "已解除", "Ended"),
    }
);

/// What a binding is now: its status, who asked for it, and who (if anyone) asked to end it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BindingState {
    pub status: BindingStatus,
    pub requested_by: Side,
    pub end_requested_by: Option<Side>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingAction {
    Confirm,
    Reject,
    Cancel,
    RequestEnd,
    ConfirmEnd,
}

impl BindingAction {
    pub const ALL: [BindingAction; 5] = [Self::Confirm, Self::Reject, Self::Cancel, Self::RequestEnd, Self::ConfirmEnd];

    /// The code used in URLs.
    pub fn code(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Reject => "reject",
            Self::Cancel => "cancel",
            Self::RequestEnd => "request-end",
            Self::ConfirmEnd => "confirm-end",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindingError {
    #[error("the binding is {0} and cannot take this step")]
    WrongStatus(&'static str),
    #[error("the side that asked cannot also confirm")]
    SameSide,
    #[error("only the side that asked can cancel")]
    NotRequester,
}

impl BindingError {
    pub fn message_zh(&self) -> String {
        match self {
            Self::WrongStatus(s) => format!("当前状态（{s}）不能进行此操作"),
            Self::SameSide => "发起方不能自行确认，须由另一方确认".into(),
            Self::NotRequester => "只有发起方可以撤回".into(),
        }
    }
}

impl BindingState {
    pub fn requested(by: Side) -> Self {
        Self { status: BindingStatus::Pending, requested_by: by, end_requested_by: None }
    }

    /// The steps `side` may take now, as `apply` would allow them.
    pub fn actions_for(self, side: Side) -> Vec<BindingAction> {
        BindingAction::ALL.into_iter().filter(|action| self.apply(*action, side).is_ok()).collect()
    }

    /// The state after `actor` takes `action`, or why it may not.
    pub fn apply(self, action: BindingAction, actor: Side) -> Result<Self, BindingError> {
        use BindingAction::*;
        use BindingStatus::*;
        let wrong = || BindingError::WrongStatus(self.status.as_str());
        match (action, self.status) {
            (Confirm | Reject, Pending) if actor == self.requested_by => Err(BindingError::SameSide),
            (Confirm, Pending) => Ok(Self { status: Active, ..self }),
            (Reject, Pending) => Ok(Self { status: Rejected, ..self }),
            (Cancel, Pending) if actor != self.requested_by => Err(BindingError::NotRequester),
            (Cancel, Pending) => Ok(Self { status: Cancelled, ..self }),
            (RequestEnd, Active) if self.end_requested_by.is_none() => {
                Ok(Self { end_requested_by: Some(actor), ..self })
            }
            (ConfirmEnd, Active) => match self.end_requested_by {
                Some(asker) if asker == actor => Err(BindingError::SameSide),
                Some(_) => Ok(Self { status: Ended, ..self }),
                None => Err(wrong()),
            },
            _ => Err(wrong()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BindingAction::*;

    #[test]
    fn both_sides_confirm_start_and_end() {
        let asked = BindingState::requested(Side::Agency);
        assert_eq!(asked.apply(Confirm, Side::Agency), Err(BindingError::SameSide));
        let active = asked.apply(Confirm, Side::Worker).unwrap();
        assert_eq!(active.status, BindingStatus::Active);
        let ending = active.apply(RequestEnd, Side::Worker).unwrap();
        assert_eq!(ending.status, BindingStatus::Active);
        assert_eq!(ending.apply(RequestEnd, Side::Agency), Err(BindingError::WrongStatus("active")));
        assert_eq!(ending.apply(ConfirmEnd, Side::Worker), Err(BindingError::SameSide));
        assert_eq!(ending.apply(ConfirmEnd, Side::Agency).unwrap().status, BindingStatus::Ended);
    }

    #[test]
    fn each_side_is_offered_exactly_the_steps_it_may_take() {
        let asked = BindingState::requested(Side::Agency);
        assert_eq!(asked.actions_for(Side::Worker), [Confirm, Reject]);
        assert_eq!(asked.actions_for(Side::Agency), [Cancel]);
        let active = asked.apply(Confirm, Side::Worker).unwrap();
        assert_eq!(active.actions_for(Side::Agency), [RequestEnd]);
        let ending = active.apply(RequestEnd, Side::Agency).unwrap();
        assert_eq!(ending.actions_for(Side::Worker), [ConfirmEnd]);
        assert!(ending.actions_for(Side::Agency).is_empty());
        assert_eq!(BindingAction::from_code("request-end"), Some(RequestEnd));
        assert_eq!(BindingAction::from_code("fly"), None);
    }

    #[test]
    fn pending_requests_can_be_rejected_or_cancelled_by_the_right_side() {
        let asked = BindingState::requested(Side::Worker);
        assert_eq!(asked.apply(Reject, Side::Agency).unwrap().status, BindingStatus::Rejected);
        assert_eq!(asked.apply(Cancel, Side::Agency), Err(BindingError::NotRequester));
        assert_eq!(asked.apply(Cancel, Side::Worker).unwrap().status, BindingStatus::Cancelled);
        let ended = BindingState { status: BindingStatus::Ended, ..asked };
        assert!(ended.apply(Confirm, Side::Agency).is_err());
        assert!(asked.apply(ConfirmEnd, Side::Agency).is_err());
    }
}
