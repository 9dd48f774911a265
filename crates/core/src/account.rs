//! Who may do what. Roles come from DESIGN.md; a scope narrows a role to one agency,
//! one district or one worker, and every object check goes through `Scope`.

use crate::choice;
use crate::division::DivisionCode;

choice!(
    Role {
        Resident = ("resident", "居民", "Resident"),
        Worker = ("worker", "家政服务员", "Worker"),
        AgencyAdmin = ("agency_admin", "企业管理员", "Agency admin"),
        CommunityStaff = ("community_staff", "社区工作人员", "Community staff"),
        School = ("school", "院校/培训基地", "School / training base"),
        Evaluator = ("evaluator", "第三方评价机构", "Evaluator"),
        Regulator = ("regulator", "监管部门", "Regulator"),
        Bank = ("bank", "金融机构", "Bank"),
        SystemAdmin = ("system_admin", "系统管理员", "System admin"),
    }
);

/// The part of the world an account acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    None,
    Agency(i64),
    Worker(i64),
    District(DivisionCode),
    City,
    /// A school or training base.
    Provider(i64),
    /// A bank (信易贷): reads the credit reports released to it.
    Bank(i64),
}

/// Facts about a worker that decide who may read the sensitive fields.
#[derive(Debug, Clone)]
pub struct WorkerAccess<'a> {
    pub worker_id: i64,
    pub district: &'a DivisionCode,
    /// Agencies with an active binding (both sides confirmed).
    pub owning_agencies: &'a [i64],
}

/// An authenticated principal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: i64,
    pub role: Role,
    pub scope: Scope,
}

impl Principal {
    /// Unmasked ID number and phone: the worker, an owning agency, a regulator in scope.
    pub fn may_read_sensitive(&self, worker: &WorkerAccess<'_>) -> bool {
        match (&self.role, &self.scope) {
            (Role::Worker, Scope::Worker(id)) => *id == worker.worker_id,
            (Role::AgencyAdmin, Scope::Agency(id)) => worker.owning_agencies.contains(id),
            (Role::Regulator, Scope::City) => true,
            (Role::Regulator, Scope::District(d)) => worker.district.is_within(d),
            _ => false,
        }
    }

    pub fn agency_id(&self) -> Option<i64> {
        match (self.role, &self.scope) {
            (Role::AgencyAdmin, Scope::Agency(id)) => Some(*id),
            _ => None,
        }
    }

    pub fn bank_id(&self) -> Option<i64> {
        match (self.role, &self.scope) {
            (Role::Bank, Scope::Bank(id)) => Some(*id),
            _ => None,
        }
    }

    pub fn provider_id(&self) -> Option<i64> {
        match (self.role, &self.scope) {
            (Role::School, Scope::Provider(id)) => Some(*id),
            _ => None,
        }
    }

    /// Whether this is a regulator whose area holds `place`.
    pub fn regulates(&self, place: &DivisionCode) -> bool {
        self.regulated_area().is_some_and(|area| area.is_none_or(|d| place.is_within(d)))
    }

    /// The district a regulator watches, or `None` for the whole city; not a regulator: no area.
    pub fn regulated_area(&self) -> Option<Option<&DivisionCode>> {
        match (self.role, &self.scope) {
            (Role::Regulator, Scope::City) => Some(None),
            (Role::Regulator, Scope::District(d)) => Some(Some(d)),
            _ => None,
        }
    }

    /// How the ledger names a regulator's decisions: `regulator:220102000000`, `regulator:city`.
    pub fn regulator_source(&self) -> Option<String> {
        self.regulated_area().map(|area| format!("regulator:{}", area.map_or("city".to_string(), |d| d.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_reads_follow_the_object_not_the_route() {
        let district = DivisionCode::parse("220102").unwrap();
        let home = DivisionCode::parse("220102001").unwrap();
        let worker = WorkerAccess { worker_id: 7, district: &home, owning_agencies: &[3] };
        let principal = |role, scope| Principal { account_id: 1, role, scope };
        assert!(principal(Role::AgencyAdmin, Scope::Agency(3)).may_read_sensitive(&worker));
        assert!(!principal(Role::AgencyAdmin, Scope::Agency(4)).may_read_sensitive(&worker));
        assert!(principal(Role::Regulator, Scope::District(district)).may_read_sensitive(&worker));
        let other = DivisionCode::parse("220103").unwrap();
        assert!(!principal(Role::Regulator, Scope::District(other)).may_read_sensitive(&worker));
        assert!(principal(Role::Regulator, Scope::City).may_read_sensitive(&worker));
        assert!(principal(Role::Worker, Scope::Worker(7)).may_read_sensitive(&worker));
        assert!(!principal(Role::Worker, Scope::Worker(8)).may_read_sensitive(&worker));
        assert!(!principal(Role::Resident, Scope::None).may_read_sensitive(&worker));
    }
}
