//! Oversight: the plan's targets live from the records, their monthly series, brand recognition,
//! the audit of regulator and evaluator writes, third-party evaluation, the key-agency and talent
//! libraries (task 13), the plan's tasks with their responsible units (tasks 33-34), agencies'
//! subsidy claims, rectification orders and the public disclosure section.

pub mod audit;
pub mod claims;
pub mod disclosure;
pub mod evaluation;
pub mod library;
pub mod plan;
pub mod rectification;
pub mod targets;

use jiazheng_core::account::{Principal, Role, Scope};

/// Whose records a list shows: an agency's own, or a regulator's area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Viewing {
    Agency(i64),
    /// A district, or the whole city.
    Area(Option<String>),
}

impl Viewing {
    pub fn of(who: &Principal) -> Option<Self> {
        match (who.role, &who.scope) {
            (Role::AgencyAdmin, Scope::Agency(id)) => Some(Self::Agency(*id)),
            (Role::Regulator, Scope::City) => Some(Self::Area(None)),
            (Role::Regulator, Scope::District(d)) => Some(Self::Area(Some(d.to_string()))),
            _ => None,
        }
    }

    /// The `(agency, district)` a query binds: 0 and '' for "any".
    pub(crate) fn binds(&self) -> (i64, String) {
        match self {
            Self::Agency(id) => (*id, String::new()),
            Self::Area(area) => (0, area.clone().unwrap_or_default()),
        }
    }
}
