//! Who may do what. Roles come from DESIGN.md; a scope narrows a role to one agency,
//! one district or one worker, and every object check goes through `Scope`.

use crate::choice;
use crate::division::{DivisionCode, DivisionLevel};
use crate::field::{FieldErrors, Invalid, required_text};

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
    /// A third-party evaluator organisation (第三方评价机构): scores the rounds it is assigned.
    Evaluator(i64),
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

    pub fn evaluator_org(&self) -> Option<i64> {
        match (self.role, &self.scope) {
            (Role::Evaluator, Scope::Evaluator(id)) => Some(*id),
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

choice!(
    /// What a system admin did to an account, as its log names it.
    AccountEventKind {
        Created = ("created", "创建账号", "Account created"),
        PasswordReset = ("password_reset", "重置密码", "Password reset"),
        Disabled = ("disabled", "停用", "Disabled"),
        Enabled = ("enabled", "启用", "Enabled"),
        AccessChanged = ("access_changed", "更改角色和范围", "Role and scope changed"),
    }
);

/// Shorter passwords are refused here and by `jiazheng user add` alike.
pub const MIN_PASSWORD_CHARS: usize = 8;
pub const MAX_PASSWORD_CHARS: usize = 128;
pub const MAX_NAME_CHARS: usize = 64;

/// A sign-in name: lower-case letters, digits and `.`, `_`, `-`, starting with a letter or digit.
/// Nothing else, so two names that look alike on a screen or in a log (`admin` with an invisible
/// space, a Cyrillic `а`, `Admin`) cannot both exist.
pub fn parse_username(raw: &str) -> Result<String, Invalid> {
    let name = required_text(raw, MAX_NAME_CHARS)?;
    if name.chars().any(char::is_whitespace) {
        return Err(Invalid::new("whitespace", "不能包含空格", "must not contain spaces"));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-');
    if !name.chars().all(allowed) || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(Invalid::new(
            "name_characters",
            "只能使用小写英文字母、数字和 . _ -，并以字母或数字开头",
            "use lower-case letters, digits and . _ - only, starting with a letter or digit",
        ));
    }
    Ok(name)
}

/// A password as typed: kept exactly (a leading space is part of it), but bounded and free of
/// control characters, which no keyboard at the sign-in form can type back.
pub fn parse_password(raw: &str) -> Result<String, Invalid> {
    if raw.is_empty() {
        return Err(Invalid::required());
    }
    if raw.chars().any(char::is_control) {
        return Err(Invalid::new("control_characters", "不能包含控制字符", "must not contain control characters"));
    }
    match raw.chars().count() {
        n if n < MIN_PASSWORD_CHARS => Err(Invalid::new(
            "too_short",
            format!("至少{MIN_PASSWORD_CHARS}个字符"),
            format!("must have at least {MIN_PASSWORD_CHARS} characters"),
        )),
        n if n > MAX_PASSWORD_CHARS => Err(Invalid::too_long(MAX_PASSWORD_CHARS)),
        _ => Ok(raw.to_string()),
    }
}

/// Which record a role's scope names, so a form can ask for exactly that one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeNeed {
    Nothing,
    Agency,
    Worker,
    Provider,
    Bank,
    /// An evaluator organisation.
    Evaluator,
    /// A district is required (community staff).
    District,
    /// A district, or the whole city when none is picked (regulators).
    DistrictOrCity,
    City,
}

impl Role {
    pub fn scope_need(self) -> ScopeNeed {
        match self {
            Role::Resident => ScopeNeed::Nothing,
            Role::Evaluator => ScopeNeed::Evaluator,
            Role::Worker => ScopeNeed::Worker,
            Role::AgencyAdmin => ScopeNeed::Agency,
            Role::CommunityStaff => ScopeNeed::District,
            Role::School => ScopeNeed::Provider,
            Role::Regulator => ScopeNeed::DistrictOrCity,
            Role::Bank => ScopeNeed::Bank,
            Role::SystemAdmin => ScopeNeed::City,
        }
    }
}

/// The role and scope of an account form: the role's label or code and the ids the page's
/// pickers resolved (an agency found by name, a district from the list ...). Only the field the
/// role needs is read; errors are reported under `role`, `agency`, `worker`, `provider`, `bank`,
/// `evaluator` and `district`.
#[derive(Debug, Clone, Default)]
pub struct AccessForm {
    pub role: String,
    pub agency_id: Option<i64>,
    pub worker_id: Option<i64>,
    pub provider_id: Option<i64>,
    pub bank_id: Option<i64>,
    /// Evaluators only: their organisation.
    pub evaluator_id: Option<i64>,
    pub district: String,
    /// Community staff only: one street of the district, to narrow their area to it.
    pub street: String,
}

impl AccessForm {
    pub fn parse(&self) -> Result<(Role, Scope), FieldErrors> {
        let mut errors = FieldErrors::default();
        let Some(role) = errors.take("role", Role::parse(&self.role)) else {
            return Err(errors);
        };
        let picked = |field: &str, id: Option<i64>, errors: &mut FieldErrors| {
            errors.take(field, id.filter(|id| *id > 0).ok_or_else(Invalid::required))
        };
        let scope = match role.scope_need() {
            ScopeNeed::Nothing => Some(Scope::None),
            ScopeNeed::City => Some(Scope::City),
            ScopeNeed::Agency => picked("agency", self.agency_id, &mut errors).map(Scope::Agency),
            ScopeNeed::Worker => picked("worker", self.worker_id, &mut errors).map(Scope::Worker),
            ScopeNeed::Provider => picked("provider", self.provider_id, &mut errors).map(Scope::Provider),
            ScopeNeed::Bank => picked("bank", self.bank_id, &mut errors).map(Scope::Bank),
            ScopeNeed::Evaluator => picked("evaluator", self.evaluator_id, &mut errors).map(Scope::Evaluator),
            ScopeNeed::District if !self.street.trim().is_empty() => {
                errors.take("street", street_of(&self.street, &self.district)).map(Scope::District)
            }
            ScopeNeed::District => errors.take("district", district(&self.district)).map(Scope::District),
            ScopeNeed::DistrictOrCity if self.district.trim().is_empty() => Some(Scope::City),
            ScopeNeed::DistrictOrCity => errors.take("district", district(&self.district)).map(Scope::District),
        };
        match scope {
            Some(scope) if errors.is_empty() => Ok((role, scope)),
            _ => Err(errors),
        }
    }
}

/// A district of the city (not a street or the city itself): what a scoped account watches.
fn district(raw: &str) -> Result<DivisionCode, Invalid> {
    let code = DivisionCode::parse(raw)?;
    if code.level() == DivisionLevel::District {
        Ok(code)
    } else {
        Err(Invalid::new("not_a_district", "请选择一个区县", "pick a district"))
    }
}

/// A street that narrows community staff's area; when a district is picked too, it must hold it.
fn street_of(raw: &str, district: &str) -> Result<DivisionCode, Invalid> {
    let code = DivisionCode::parse(raw)?;
    if code.level() != DivisionLevel::Street {
        return Err(Invalid::new("not_a_street", "请选择一个街道（乡镇）", "pick a street or town"));
    }
    match DivisionCode::parse(district) {
        Ok(d) if !code.is_within(&d) => {
            Err(Invalid::new("street_elsewhere", "该街道不在所选的区", "this street is not in the district picked"))
        }
        _ => Ok(code),
    }
}

/// How a new account gets its first password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InitialPassword {
    /// The server makes one up and shows it once.
    Generated,
    Typed(String),
}

/// The account form of the admin's page, as typed.
#[derive(Debug, Clone, Default)]
pub struct AccountForm {
    pub username: String,
    pub display_name: String,
    /// `typed` when the admin types the password; anything else has one generated.
    pub password_mode: String,
    pub password: String,
    pub access: AccessForm,
}

/// A new account as the rules accept it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountDraft {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: Scope,
    pub password: InitialPassword,
}

impl AccountForm {
    pub fn parse(&self) -> Result<AccountDraft, FieldErrors> {
        let mut errors = FieldErrors::default();
        let username = errors.take("username", parse_username(&self.username));
        // The shown name defaults to the sign-in name, as `jiazheng user add` does.
        let shown = if self.display_name.trim().is_empty() { &self.username } else { &self.display_name };
        // An empty shown name is fine: the sign-in name's own error says what is missing.
        let display_name = if self.display_name.trim().is_empty() && username.is_none() {
            None
        } else {
            errors.take("display_name", required_text(shown, MAX_NAME_CHARS))
        };
        let password = if self.password_mode == "typed" {
            errors.take("password", parse_password(&self.password)).map(InitialPassword::Typed)
        } else {
            Some(InitialPassword::Generated)
        };
        let access = self.access.parse().map_err(|e| errors.0.extend(e.0)).ok();
        match (username, display_name, password, access) {
            (Some(username), Some(display_name), Some(password), Some((role, scope))) if errors.is_empty() => {
                Ok(AccountDraft { username, display_name, role, scope, password })
            }
            _ => Err(errors),
        }
    }
}

/// A change an admin makes to an account, for the rule below.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange {
    Disable,
    Enable,
    ResetPassword,
    Access(Role),
}

/// An admin may not lock themselves out: disabling their own account, or giving it a role
/// other than system admin, would leave nobody (or one admin fewer) able to undo it.
pub fn refuse_own_lockout(actor_id: i64, account_id: i64, change: AccountChange) -> Result<(), Invalid> {
    match change {
        _ if actor_id != account_id => Ok(()),
        AccountChange::Disable => {
            Err(Invalid::new("own_account", "不能停用自己的账号", "you cannot disable your own account"))
        }
        AccountChange::Access(role) if role != Role::SystemAdmin => Err(Invalid::new(
            "own_account",
            "不能更改自己账号的系统管理员角色",
            "you cannot take the system admin role from your own account",
        )),
        _ => Ok(()),
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

    fn access(role: &str) -> AccessForm {
        AccessForm { role: role.into(), ..Default::default() }
    }

    #[test]
    fn each_role_asks_for_its_own_scope_and_nothing_else() {
        assert_eq!(access("resident").parse().unwrap(), (Role::Resident, Scope::None));
        assert_eq!(access("system_admin").parse().unwrap(), (Role::SystemAdmin, Scope::City));
        assert_eq!(access("监管部门").parse().unwrap(), (Role::Regulator, Scope::City), "labels parse too");
        let missing = access("agency_admin").parse().unwrap_err();
        assert_eq!(missing.for_field("agency").unwrap().code, "required");
        let agency = AccessForm { agency_id: Some(4), worker_id: Some(9), ..access("agency_admin") };
        assert_eq!(agency.parse().unwrap(), (Role::AgencyAdmin, Scope::Agency(4)), "the worker is not read");
        assert_eq!(access("community_staff").parse().unwrap_err().for_field("district").unwrap().code, "required");
        assert_eq!(access("evaluator").parse().unwrap_err().for_field("evaluator").unwrap().code, "required");
        let evaluator = AccessForm { evaluator_id: Some(2), bank_id: Some(5), ..access("evaluator") };
        assert_eq!(evaluator.parse().unwrap(), (Role::Evaluator, Scope::Evaluator(2)));
        let staff = AccessForm { district: "220102".into(), street: "220102001".into(), ..access("community_staff") };
        assert_eq!(staff.parse().unwrap().1, Scope::District(DivisionCode::parse("220102001").unwrap()));
        let elsewhere = AccessForm { district: "220103".into(), ..staff.clone() };
        assert_eq!(elsewhere.parse().unwrap_err().for_field("street").unwrap().code, "street_elsewhere");
        let not_street = AccessForm { street: "220102001001".into(), ..staff };
        assert_eq!(not_street.parse().unwrap_err().for_field("street").unwrap().code, "not_a_street");
        let regulator_street =
            AccessForm { street: "220102001".into(), district: "220102".into(), ..access("regulator") };
        assert_eq!(
            regulator_street.parse().unwrap().1,
            Scope::District(DivisionCode::parse("220102").unwrap()),
            "only staff are narrowed"
        );
        let street = AccessForm { district: "220102001".into(), ..access("regulator") };
        assert_eq!(street.parse().unwrap_err().for_field("district").unwrap().code, "not_a_district");
        let district = AccessForm { district: "220102".into(), ..access("regulator") };
        let code = DivisionCode::parse("220102").unwrap();
        assert_eq!(district.parse().unwrap(), (Role::Regulator, Scope::District(code)));
        assert_eq!(access("root").parse().unwrap_err().for_field("role").unwrap().code, "unknown_choice");
    }

    #[test]
    fn an_account_form_reports_every_field_at_once() {
        let form = AccountForm {
            username: "li ming".into(),
            password_mode: "typed".into(),
            password: "short".into(),
            access: access("bank"),
            ..Default::default()
        };
        let errors = form.parse().unwrap_err();
        let codes: Vec<_> =
            ["username", "password", "bank"].iter().map(|f| errors.for_field(f).unwrap().code).collect();
        assert_eq!(codes, ["whitespace", "too_short", "required"]);
        let good = AccountForm { username: " liming ".into(), access: access("resident"), ..Default::default() };
        let draft = good.parse().unwrap();
        assert_eq!((draft.username.as_str(), draft.display_name.as_str()), ("liming", "liming"));
        assert_eq!(draft.password, InitialPassword::Generated);
        assert_eq!(parse_password("a\u{7}bcdefghi").unwrap_err().code, "control_characters");
        assert_eq!(parse_password(" spaced out ").unwrap(), " spaced out ");
        for lookalike in ["admin\u{200b}", "adm\u{200c}in", "\u{430}dmin", "Admin", "-admin", "王芳"] {
            assert_eq!(parse_username(lookalike).unwrap_err().code, "name_characters", "{lookalike:?}");
        }
        assert_eq!(parse_username("li.ming_2-a").unwrap(), "li.ming_2-a");
    }

    #[test]
    fn an_admin_cannot_lock_themselves_out() {
        assert!(refuse_own_lockout(1, 1, AccountChange::Disable).is_err());
        assert!(refuse_own_lockout(1, 1, AccountChange::Access(Role::Regulator)).is_err());
        assert!(refuse_own_lockout(1, 1, AccountChange::Access(Role::SystemAdmin)).is_ok());
        assert!(refuse_own_lockout(1, 1, AccountChange::ResetPassword).is_ok());
        assert!(refuse_own_lockout(1, 2, AccountChange::Disable).is_ok());
    }
}
