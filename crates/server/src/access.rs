//! Who may call what: every route of the platform with the roles that may reach its handler and
//! the rule the handler then checks on the object. The gate below enforces the first half before
//! any handler runs (and before any body is read); a route missing here is refused, and a test
//! walks the router's source so that a new route cannot ship without its line.

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use jiazheng_core::account::Role;

use crate::auth::Viewer;
use crate::{AppError, AppState};

/// Who passes the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in account; the handler checks the object (a consent, an own session).
    SignedIn,
    /// Accounts of these roles only.
    Roles(&'static [Role]),
}

impl Gate {
    /// Whether an account of `role` (or nobody) passes.
    pub fn admits(self, role: Option<Role>) -> Result<(), AppError> {
        match (self, role) {
            (Gate::Public, _) => Ok(()),
            (_, None) => Err(AppError::Unauthorized),
            (Gate::SignedIn, Some(_)) => Ok(()),
            (Gate::Roles(roles), Some(role)) if roles.contains(&role) => Ok(()),
            (Gate::Roles(_), Some(_)) => Err(AppError::Forbidden),
        }
    }
}

/// One route: method, path as the router spells it, the gate, and the object rule in words.
pub struct Rule {
    pub method: &'static str,
    pub path: &'static str,
    pub gate: Gate,
    pub object: &'static str,
}

use Gate::{Public, Roles, SignedIn};
use Role::{
    AgencyAdmin as A, Bank as B, CommunityStaff as C, Regulator as G, Resident as R, School as S, SystemAdmin as X,
    Worker as W,
};

const fn rule(method: &'static str, path: &'static str, gate: Gate, object: &'static str) -> Rule {
    Rule { method, path, gate, object }
}

#[rustfmt::skip]
pub const RULES: &[Rule] = &[
    // Registry
    rule("GET", "/api/v1/agencies", Public, ""),
    rule("POST", "/api/v1/agencies", Roles(&[G, X]), "a district regulator registers in its district"),
    rule("GET", "/api/v1/agencies/{id}", Public, ""),
    rule("PUT", "/api/v1/agencies/{id}", Roles(&[A, G, X]), "own agency (contact details only) or regulator in scope"),
    rule("POST", "/api/v1/bindings", Roles(&[A, W]), "own agency or own worker record"),
    rule("POST", "/api/v1/bindings/{id}/{action}", Roles(&[A, W]), "a side of the binding"),
    rule("GET", "/api/v1/divisions", Public, ""),
    rule("GET", "/api/v1/service-points", Public, ""),
    rule("POST", "/api/v1/service-points", Roles(&[A]), "own agency"),
    rule("POST", "/api/v1/session", Public, "limited per name and address"),
    rule("DELETE", "/api/v1/session", SignedIn, "own session"),
    rule("GET", "/api/v1/workers", Public, "masked; by district only"),
    rule("POST", "/api/v1/workers", Roles(&[A]), "daily limit of already-registered answers"),
    rule("GET", "/api/v1/workers/{id}", Public, "masked"),
    rule("PUT", "/api/v1/workers/{id}", Roles(&[A]), "an employing agency (active binding)"),
    rule("GET", "/api/v1/workers/{id}/identifiers", Roles(&[W, A, G]), "self, employing agency, regulator in scope; logged"),
    // Workforce
    rule("GET", "/api/v1/workers/{id}/workforce", Roles(&[W, A, G]), "self, employing agency, regulator in scope; logged"),
    rule("GET", "/api/v1/workers/{id}/compliance", Roles(&[W, A, G]), "self, employing agency, regulator in scope; logged"),
    rule("POST", "/api/v1/workers/{id}/trainings", Roles(&[A]), "employing agency"),
    rule("POST", "/api/v1/workers/{id}/certificates", Roles(&[A]), "employing agency"),
    rule("POST", "/api/v1/workers/{id}/health-checks", Roles(&[A]), "employing agency"),
    rule("POST", "/api/v1/workers/{id}/insurance", Roles(&[A]), "employing agency"),
    rule("PUT", "/api/v1/workers/{id}/social-insurance", Roles(&[A]), "employing agency"),
    rule("PUT", "/api/v1/workers/{id}/education", Roles(&[A]), "employing agency"),
    rule("GET", "/api/v1/agencies/{id}/insurance", Roles(&[A]), "own agency"),
    rule("POST", "/api/v1/agencies/{id}/insurance", Roles(&[A]), "own agency"),
    rule("GET", "/api/v1/agencies/{id}/compliance", Roles(&[A, G]), "own agency or regulator in scope; logged"),
    rule("GET", "/api/v1/notifications", Roles(&[W, A]), "own inbox"),
    rule("POST", "/api/v1/notifications/{id}/read", Roles(&[W, A]), "own inbox"),
    rule("GET", "/api/v1/workforce/rates", Public, ""),
    rule("GET", "/api/v1/providers", Public, ""),
    rule("POST", "/api/v1/providers", Roles(&[G, X]), ""),
    rule("GET", "/api/v1/providers/{id}", Public, ""),
    rule("GET", "/api/v1/providers/{id}/courses", Public, ""),
    rule("POST", "/api/v1/providers/{id}/courses", Roles(&[S]), "own school"),
    rule("GET", "/api/v1/courses/{id}/enrolments", Roles(&[S]), "own course"),
    rule("POST", "/api/v1/courses/{id}/enrolments", Roles(&[S]), "own course"),
    rule("PUT", "/api/v1/training-records/{id}/result", Roles(&[S]), "own course's enrolment"),
    // Credit
    rule("POST", "/api/v1/services", Roles(&[A]), "own active worker, a resident account"),
    rule("GET", "/api/v1/me/services", Roles(&[R]), "own services"),
    rule("POST", "/api/v1/services/{id}/confirmation", Roles(&[R]), "own service"),
    rule("POST", "/api/v1/services/{id}/rating", Roles(&[R]), "own confirmed service, once"),
    rule("POST", "/api/v1/complaints", Roles(&[R]), ""),
    rule("GET", "/api/v1/complaints", Roles(&[G, R]), "own complaints, or regulator in scope"),
    rule("POST", "/api/v1/complaints/{id}/decision", Roles(&[G]), "regulator in scope"),
    rule("GET", "/api/v1/credit/review-queue", Roles(&[G]), "regulator in scope"),
    rule("POST", "/api/v1/credit/entries/{seq}/review", Roles(&[G]), "regulator in scope"),
    rule("POST", "/api/v1/credit/entries/{seq}/appeals", Roles(&[W, A]), "the entry's subject"),
    rule("POST", "/api/v1/credit/actions", Roles(&[G]), "regulator in scope"),
    rule("POST", "/api/v1/credit/list-proposals", Roles(&[G]), "regulator in scope"),
    rule("GET", "/api/v1/credit/list-proposals", Roles(&[G]), "regulator in scope"),
    rule("POST", "/api/v1/credit/list-proposals/{id}/review", Roles(&[G]), "a second regulator in scope"),
    rule("GET", "/api/v1/credit/lists/{list}", Public, ""),
    rule("GET", "/api/v1/appeals", Roles(&[G]), "regulator in scope"),
    rule("POST", "/api/v1/appeals/{id}/decision", Roles(&[G]), "regulator in scope"),
    rule("GET", "/api/v1/agencies/{id}/credit", Public, ""),
    rule("POST", "/api/v1/agencies/{id}/credit-report", Roles(&[A]), "own agency, with consent"),
    rule("GET", "/api/v1/credit/reports/{id}", Roles(&[B, A, G]), "the bank named in the consent, the agency, regulator in scope"),
    rule("GET", "/api/v1/banks", SignedIn, ""),
    rule("GET", "/api/v1/credit/keys", Public, ""),
    rule("GET", "/api/v1/credit/revocations", Public, ""),
    rule("POST", "/api/v1/workers/{id}/identity-verification", Roles(&[A, G]), "employing agency or regulator in scope"),
    rule("POST", "/api/v1/workers/{id}/certificate", Roles(&[A, G]), "employing agency or regulator in scope"),
    rule("GET", "/api/v1/workers/{id}/ledger", Roles(&[W, A, G]), "self, employing agency, regulator in scope"),
    rule("POST", "/api/v1/certificates/{number}/revocation", Roles(&[G]), "regulator in scope"),
    rule("GET", "/api/v1/certificates/check", Public, ""),
    rule("POST", "/api/v1/workers/{id}/background-checks", Roles(&[G]), "regulator in scope"),
    rule("GET", "/api/v1/credit/weights", Public, ""),
    rule("GET", "/api/v1/agencies/{id}/grade", Public, ""),
    rule("GET", "/api/v1/workers/{id}/grade", SignedIn, "self, employing agency, regulator in scope, or the worker's consent"),
    rule("GET", "/api/v1/certificates/{number}/record", SignedIn, "the worker's consent (24 h), logged"),
    rule("POST", "/api/v1/certificates/{number}/consent-requests", SignedIn, ""),
    rule("POST", "/api/v1/certificates/{number}/consent-code", SignedIn, "limited per code, account and address"),
    rule("POST", "/api/v1/me/consent-codes", Roles(&[W]), "own record"),
    rule("POST", "/api/v1/consents/{id}/decision", Roles(&[W]), "a request about own record"),
    // Market
    rule("GET", "/api/v1/catalog", Public, ""),
    rule("GET", "/api/v1/agencies/{id}/menu", Public, ""),
    rule("GET", "/api/v1/menu-items/{id}/prices", Public, ""),
    rule("GET", "/api/v1/market/offers", Public, ""),
    rule("GET", "/api/v1/market/workers", Public, "masked names; a resident's earlier workers first"),
    rule("POST", "/api/v1/resident/codes", Public, "limited per number and address; same answer for every number"),
    rule("POST", "/api/v1/resident/session", Public, "code locks after 5 wrong tries; wrong codes limited per address"),
    rule("GET", "/api/v1/resident/profile", Roles(&[R]), "own profile"),
    rule("PUT", "/api/v1/resident/profile", Roles(&[R]), "own profile"),
    rule("DELETE", "/api/v1/resident/profile", Roles(&[R]), "own account; no running order"),
    rule("POST", "/api/v1/agency/menu", Roles(&[A]), "own agency"),
    rule("PUT", "/api/v1/agency/menu/{id}", Roles(&[A]), "own agency's item"),
    rule("DELETE", "/api/v1/agency/menu/{id}", Roles(&[A]), "own agency's item"),
    rule("GET", "/api/v1/workers/{id}/shifts", Roles(&[A, W]), "employing agency or self"),
    rule("PUT", "/api/v1/workers/{id}/shifts", Roles(&[A]), "employing agency"),
    rule("GET", "/api/v1/workers/{id}/calendar", Roles(&[A, W]), "employing agency or self"),
    rule("POST", "/api/v1/workers/{id}/leave", Roles(&[A, W]), "employing agency or self"),
    rule("DELETE", "/api/v1/workers/{id}/leave/{leave_id}", Roles(&[A, W]), "employing agency or self"),
    rule("POST", "/api/v1/orders", Roles(&[R]), "own order; Idempotency-Key"),
    rule("GET", "/api/v1/orders", Roles(&[R, A]), "own orders or own agency's board"),
    rule("GET", "/api/v1/orders/{id}", Roles(&[R, A, G]), "the order's resident, its agency, regulator in scope"),
    rule("POST", "/api/v1/orders/{id}/steps", Roles(&[R, A, G]), "the party whose step it is"),
    rule("POST", "/api/v1/orders/{id}/rating", Roles(&[R]), "own completed order, once"),
    rule("GET", "/api/v1/orders/{id}/payment", Roles(&[R, A, G]), "the order's resident, its agency, regulator in scope"),
    rule("POST", "/api/v1/orders/{id}/payment", Roles(&[R]), "own booked order; the pending payment order again"),
    rule("POST", "/api/v1/orders/{id}/payment/refunds", Roles(&[A, G]), "own agency's order or regulator in scope; at most what is held"),
    rule("POST", "/api/v1/payments/notify", Public, "signed by the provider's key, within 5 minutes; applied once"),
    rule("POST", "/api/v1/agency/next-day-assignment", Roles(&[A]), "own agency's orders"),
    rule("PUT", "/api/v1/agency/next-day-assignment/nightly", Roles(&[A]), "own agency"),
    rule("GET", "/api/v1/regulator/price-rises", Roles(&[G]), "regulator's area"),
    // API documents and the server itself
    rule("GET", "/api/v1/openapi.json", Public, ""),
    rule("GET", "/healthz", Public, ""),
    rule("GET", "/static/{file}", Public, ""),
    // Pages: public
    rule("GET", "/", Public, ""),
    rule("GET", "/agencies", Public, ""),
    rule("GET", "/agencies/{id}", Public, ""),
    rule("GET", "/agencies/{id}/timeline", Public, ""),
    rule("GET", "/service-points", Public, ""),
    rule("GET", "/workers", Public, "masked; by district only"),
    rule("GET", "/workers/{id}", Public, "masked"),
    rule("GET", "/credit/lists", Public, ""),
    rule("PUT", "/api/v1/resident/identity", Roles(&[R]), "own account"),
    rule("GET", "/api/v1/orders/{id}/contract", Roles(&[R, A]), "own order (resident) or the order's agency"),
    rule("POST", "/api/v1/contracts/check", Public, "the file or the number is the key; nothing is written"),
    rule("GET", "/api/v1/contracts/use", Roles(&[G]), "regulator's area"),
    rule("GET", "/api/v1/coverage", Public, "the plan's figure is public"),
    rule("PUT", "/api/v1/coverage/radius", Roles(&[G]), "a city-wide regulator only"),
    rule("GET", "/api/v1/coverage/declarations", Roles(&[G]), "into the regulator's area"),
    rule("POST", "/api/v1/coverage/declarations/{point}/{community}", Roles(&[G]), "a community in the regulator's area"),
    rule("GET", "/api/v1/surveys", Roles(&[C, G]), "own area, or the regulator's"),
    rule("POST", "/api/v1/surveys", Roles(&[C]), "for own area"),
    rule("GET", "/api/v1/surveys/{id}", Roles(&[C, G]), "a survey of own area, or of the regulator's"),
    rule("GET", "/api/v1/surveys/{id}/demand", Roles(&[C, G]), "a survey of own area, or of the regulator's"),
    rule("GET", "/api/v1/surveys/{id}/gap", Roles(&[C, G]), "a survey of own area, or of the regulator's"),
    rule("POST", "/api/v1/surveys/{id}/close", Roles(&[C]), "a survey of own area"),
    rule("GET", "/api/v1/surveys/link/{token}", Public, "whoever holds the link"),
    rule("POST", "/api/v1/surveys/link/{token}/answers", Roles(&[R]), "one answer per household (phone); open surveys only"),
    rule("GET", "/api/v1/supply", Roles(&[C, G]), "own area, or the regulator's"),
    rule("GET", "/api/v1/subsidies/budgets", Roles(&[C, G]), "own district, or the regulator's area"),
    rule("PUT", "/api/v1/subsidies/budgets", Roles(&[G]), "a district in the regulator's area"),
    rule("GET", "/api/v1/subsidies/grants", Roles(&[C, G]), "own district, or the regulator's area"),
    rule("GET", "/api/v1/subsidies/statement", Roles(&[C, G, A]), "own district, regulator's area, or own agency's orders"),
    rule("GET", "/api/v1/resident/subsidy", Roles(&[R]), "own subsidy"),
    rule("GET", "/api/v1/contracts/{id}", Roles(&[R, A, W]), "a party to the contract"),
    rule("GET", "/api/v1/contracts/{id}/pdf", Roles(&[R, A, W]), "a party to the contract"),
    rule("POST", "/api/v1/contracts/{id}/code", Roles(&[R, W]), "a party to the contract; to own phone"),
    rule("POST", "/api/v1/contracts/{id}/signatures", Roles(&[R, A, W]), "a party to the contract, own part, the file seen"),
    rule("GET", "/v/{token}", Public, ""),
    rule("GET", "/certificates/check", Public, ""),
    rule("GET", "/templates/{name}", Public, ""),
    rule("GET", "/lang/{code}", Public, ""),
    rule("GET", "/v/{token}/photo.jpg", Public, "a genuine card's token: the face printed on it"),
    rule("GET", "/login", Public, ""),
    rule("POST", "/login", Public, "limited per name and address"),
    rule("POST", "/logout", Public, "ends the session it carries"),
    rule("GET", "/login/phone", Public, ""),
    rule("GET", "/market/login", Public, "redirects to /login/phone"),
    rule("POST", "/login/phone/code", Public, "limited per number and address; same answer for every number"),
    rule("POST", "/login/phone", Public, "code locks after 5 wrong tries; wrong codes limited per address"),
    rule("GET", "/market", Public, "masked names"),
    rule("GET", "/market/book", Public, "residents; others are sent to sign in"),
    rule("GET", "/agencies/{id}/prices", Public, ""),
    rule("GET", "/prices/{id}", Public, ""),
    // Pages: signed in
    rule("GET", "/certificates/{number}/record", SignedIn, "the worker's consent (24 h), logged"),
    rule("POST", "/certificates/{number}/consent", SignedIn, ""),
    rule("POST", "/certificates/{number}/consent-code", SignedIn, "limited per code, account and address"),
    rule("GET", "/workers/{id}/timeline", Roles(&[W, A, G]), "self, employing agency, regulator in scope"),
    rule("POST", "/appeals/{seq}", Roles(&[W, A]), "the entry's subject"),
    rule("POST", "/inbox/{id}/read", Roles(&[W, A]), "own inbox"),
    // Pages: agency
    rule("GET", "/agency/workers", Roles(&[A]), "own agency"),
    rule("GET", "/agency/workers/new", Roles(&[A]), ""),
    rule("POST", "/agency/workers/new", Roles(&[A]), "daily limit of already-registered answers"),
    rule("GET", "/agency/workers/{id}/edit", Roles(&[A]), "employing agency"),
    rule("POST", "/agency/workers/{id}/edit", Roles(&[A]), "employing agency"),
    rule("GET", "/agency/bindings", Roles(&[A]), "own agency"),
    rule("POST", "/agency/bindings", Roles(&[A]), "own agency"),
    rule("POST", "/agency/bindings/{id}/{action}", Roles(&[A]), "own agency's side"),
    rule("POST", "/agency/workers/{id}/card", Roles(&[A]), "employing agency"),
    rule("GET", "/agency/workers/{id}/card", Roles(&[A]), "employing agency"),
    rule("POST", "/agency/workers/{id}/identity", Roles(&[A]), "employing agency"),
    rule("POST", "/agency/workers/{id}/photo", Roles(&[A]), "employing agency; JPEG or PNG within limits"),
    rule("POST", "/me/photo", Roles(&[W]), "own record; JPEG or PNG within limits"),
    rule("GET", "/workers/{id}/photo.jpg", Roles(&[W, A, G]), "self, employing agency, regulator in scope"),
    rule("GET", "/me/card", Roles(&[W]), "the worker's own card"),
    rule("GET", "/me/card.pdf", Roles(&[W]), "the worker's own card"),
    rule("GET", "/agency/workers/{id}/card.pdf", Roles(&[A]), "employing agency"),
    rule("GET", "/agency/credit", Roles(&[A]), "own agency"),
    rule("POST", "/agency/services", Roles(&[A]), "own active worker"),
    rule("GET", "/agency/services/new", Roles(&[A]), "own active worker"),
    rule("POST", "/agency/credit-report", Roles(&[A]), "own agency, with consent"),
    rule("GET", "/agency/import", Roles(&[A]), ""),
    rule("POST", "/agency/import", Roles(&[A]), "own agency; employed workers only"),
    rule("GET", "/agency/import/errors.xlsx", Roles(&[A]), "own last import"),
    rule("GET", "/agency/workers.xlsx", Roles(&[A]), "employed workers; logged"),
    rule("GET", "/agency/points", Roles(&[A]), "own agency"),
    rule("POST", "/agency/points", Roles(&[A]), "own agency"),
    rule("POST", "/agency/points/{id}/close", Roles(&[A]), "own point"),
    rule("GET", "/agency/compliance", Roles(&[A]), "own agency; logged"),
    rule("GET", "/agency/compliance.xlsx", Roles(&[A]), "own agency; logged"),
    rule("GET", "/agency/workers/{id}/workforce", Roles(&[A]), "employing agency; logged"),
    rule("GET", "/agency/workers/{id}/records/{kind}", Roles(&[A]), "employing agency"),
    rule("POST", "/agency/workers/{id}/records/{kind}", Roles(&[A]), "employing agency"),
    rule("GET", "/agency/inbox", Roles(&[A]), "own inbox"),
    rule("GET", "/agency/menu", Roles(&[A]), "own agency"),
    rule("POST", "/agency/menu", Roles(&[A]), "own agency"),
    rule("POST", "/agency/menu/{id}", Roles(&[A]), "own agency's item"),
    rule("POST", "/agency/menu/{id}/withdraw", Roles(&[A]), "own agency's item"),
    rule("GET", "/agency/orders", Roles(&[A]), "own agency"),
    rule("GET", "/agency/orders/{id}", Roles(&[A]), "own agency's order"),
    rule("POST", "/agency/orders/{id}/step", Roles(&[A]), "own agency's order"),
    rule("POST", "/agency/orders/assign-next-day", Roles(&[A]), "own agency's orders"),
    rule("POST", "/agency/orders/nightly-assignment", Roles(&[A]), "own agency"),
    rule("GET", "/agency/workers/{id}/availability", Roles(&[A]), "employing agency"),
    rule("POST", "/agency/workers/{id}/shifts", Roles(&[A]), "employing agency"),
    rule("POST", "/agency/workers/{id}/leave", Roles(&[A]), "employing agency"),
    rule("POST", "/agency/workers/{id}/leave/{leave_id}/remove", Roles(&[A]), "employing agency"),
    // Pages: resident, worker, school, regulator
    rule("GET", "/my/profile", Roles(&[R]), "own account"),
    rule("POST", "/my/profile", Roles(&[R]), "own account"),
    rule("POST", "/my/profile/delete", Roles(&[R]), "own account; no running order"),
    rule("GET", "/my/orders", Roles(&[R]), "own orders"),
    rule("POST", "/my/orders", Roles(&[R]), "own order; one per page key"),
    rule("GET", "/my/orders/{id}", Roles(&[R]), "own order"),
    rule("POST", "/my/orders/{id}/step", Roles(&[R]), "own order"),
    rule("POST", "/my/orders/{id}/rating", Roles(&[R]), "own completed order, once"),
    rule("POST", "/my/orders/{id}/identity", Roles(&[R]), "own account, from own order"),
    rule("GET", "/contracts/check", Public, "the number or the file itself is the key"),
    rule("POST", "/contracts/check", Public, "the file itself is the key; nothing is written"),
    rule("GET", "/contracts/{id}", Roles(&[R, A, W]), "a party to the contract"),
    rule("GET", "/contracts/{id}/pdf", Roles(&[R, A, W]), "a party to the contract"),
    rule("POST", "/contracts/{id}/code", Roles(&[R, W]), "a party to the contract; to own phone"),
    rule("POST", "/contracts/{id}/sign", Roles(&[R, A, W]), "a party to the contract, own part, the file seen"),
    rule("GET", "/me/contracts", Roles(&[W]), "own contracts"),
    rule("POST", "/agency/workers/{id}/agreement", Roles(&[A]), "own active binding"),
    rule("GET", "/regulator/contracts", Roles(&[G]), "regulator's area"),
    rule("POST", "/my/orders/{id}/pay", Roles(&[R]), "own booked order"),
    rule("GET", "/agency/statements", Roles(&[A]), "own agency"),
    rule("GET", "/agency/statements.xlsx", Roles(&[A]), "own agency"),
    rule("GET", "/community/subsidies", Roles(&[C]), "own district"),
    rule("POST", "/community/subsidies", Roles(&[C]), "own district; the community picked must be in it"),
    rule("GET", "/community/subsidies/new", Roles(&[C]), "own district"),
    rule("GET", "/community/subsidies/{id}", Roles(&[C, G]), "a grant of own district, or of the regulator's area"),
    rule("GET", "/community/subsidies/{id}/evidence", Roles(&[C, G]), "a grant of own district, or of the regulator's area"),
    rule("POST", "/community/subsidies/{id}/revoke", Roles(&[C]), "a grant of own district"),
    rule("GET", "/subsidies/statement", Roles(&[C, G, A]), "own district, regulator's area, or own agency's orders"),
    rule("GET", "/subsidies/statement.xlsx", Roles(&[C, G, A]), "own district, regulator's area, or own agency's orders"),
    rule("GET", "/regulator/subsidies", Roles(&[G]), "regulator's area"),
    rule("GET", "/coverage", Public, "the plan's figure is public; regulators also see declarations to decide"),
    rule("POST", "/coverage/radius", Roles(&[G]), "a city-wide regulator only"),
    rule("POST", "/coverage/declarations/{point}/{community}/{decision}", Roles(&[G]), "a community in the regulator's area"),
    rule("GET", "/community", Roles(&[C]), "own area"),
    rule("GET", "/community/surveys", Roles(&[C, G]), "own area, or the regulator's"),
    rule("POST", "/community/surveys", Roles(&[C]), "for own area"),
    rule("GET", "/community/surveys/new", Roles(&[C]), "own area"),
    rule("GET", "/community/surveys/{id}", Roles(&[C, G]), "a survey of own area, or of the regulator's"),
    rule("GET", "/community/surveys/{id}/demand.xlsx", Roles(&[C, G]), "a survey of own area, or of the regulator's"),
    rule("POST", "/community/surveys/{id}/close", Roles(&[C]), "a survey of own area"),
    rule("GET", "/community/supply", Roles(&[C, G]), "own area, or the regulator's"),
    rule("GET", "/surveys/{token}", Public, "whoever holds the link reads it; answering needs a resident signed in by phone"),
    rule("POST", "/surveys/{token}", Roles(&[R]), "one answer per household (phone); open surveys only"),
    rule("POST", "/regulator/subsidies", Roles(&[G]), "a district in the regulator's area"),
    rule("GET", "/sandbox/pay/{id}", Public, "the sandbox provider's cashier: whoever holds the link pays"),
    rule("POST", "/sandbox/pay/{id}", Public, "the sandbox provider's cashier: whoever holds the link pays"),
    rule("GET", "/me/leave", Roles(&[W]), "own calendar"),
    rule("POST", "/me/leave", Roles(&[W]), "own calendar"),
    rule("POST", "/me/leave/{leave_id}/remove", Roles(&[W]), "own calendar"),
    rule("GET", "/regulator/prices", Roles(&[G]), "regulator's area"),
    rule("GET", "/my/services", Roles(&[R]), "own services"),
    rule("POST", "/my/services/{id}/confirm", Roles(&[R]), "own service"),
    rule("POST", "/my/services/{id}/rating", Roles(&[R]), "own confirmed service, once"),
    rule("GET", "/my/complaints/new", Roles(&[R]), "own service, or a worker or agency page"),
    rule("POST", "/my/complaints", Roles(&[R]), "own service, or a worker or agency page"),
    rule("GET", "/me", Roles(&[W]), "own record"),
    rule("POST", "/me/bindings", Roles(&[W]), "own record"),
    rule("POST", "/me/bindings/{id}/{action}", Roles(&[W]), "own binding's side"),
    rule("POST", "/me/consents/{id}/{decision}", Roles(&[W]), "a request about own record"),
    rule("POST", "/me/consent-code", Roles(&[W]), "own record"),
    rule("GET", "/bank", Roles(&[B]), "reports released to this bank"),
    rule("GET", "/bank/reports/{id}", Roles(&[B]), "released to this bank by the agency's consent"),
    rule("GET", "/school", Roles(&[S]), "own school"),
    rule("POST", "/school/courses", Roles(&[S]), "own school"),
    rule("GET", "/school/courses/{id}", Roles(&[S]), "own course"),
    rule("POST", "/school/courses/{id}/enrol", Roles(&[S]), "own course"),
    rule("POST", "/school/records/{id}/result", Roles(&[S]), "own course's enrolment"),
    rule("POST", "/school/courses/{id}/results", Roles(&[S]), "own course; enrolled students only"),
    rule("GET", "/school/courses/{id}/results.xlsx", Roles(&[S]), "own course"),
    rule("GET", "/regulator", Roles(&[G]), "regulator's area"),
    rule("GET", "/regulator/workers", Roles(&[G]), "regulator's area"),
    rule("GET", "/regulator/workforce", Roles(&[G]), "regulator's area"),
    rule("GET", "/regulator/credit", Roles(&[G]), "regulator's area"),
    rule("POST", "/regulator/complaints/{id}", Roles(&[G]), "regulator in scope"),
    rule("POST", "/regulator/entries/{seq}", Roles(&[G]), "regulator in scope"),
    rule("POST", "/regulator/entries/approve", Roles(&[G]), "each entry: regulator in scope"),
    rule("POST", "/regulator/listings", Roles(&[G]), "regulator in scope"),
    rule("POST", "/regulator/listings/{id}", Roles(&[G]), "a second regulator in scope"),
    rule("POST", "/regulator/appeals/{id}", Roles(&[G]), "regulator in scope"),
    rule("POST", "/regulator/actions", Roles(&[G]), "regulator in scope"),
    // Oversight: the plan's targets (public), brand recognition, the audit
    rule("GET", "/targets", Public, ""),
    rule("GET", "/targets/agencies", Public, ""),
    rule("GET", "/targets.xlsx", Public, ""),
    rule("GET", "/targets/report.pdf", Public, ""),
    rule("GET", "/regulator/brands", Roles(&[G]), "a district regulator reads its district's"),
    rule("POST", "/regulator/brands", Roles(&[G]), "a city-wide regulator only"),
    rule("POST", "/regulator/brands/{agency}/withdraw", Roles(&[G]), "a city-wide regulator only"),
    rule("GET", "/regulator/audit", Roles(&[G, X]), "a city-wide regulator or a system admin"),
    rule("GET", "/api/v1/targets", Public, ""),
    rule("GET", "/api/v1/targets/series", Public, ""),
    rule("GET", "/api/v1/targets/agencies", Public, ""),
    rule("POST", "/api/v1/brands", Roles(&[G]), "a city-wide regulator only"),
    rule("POST", "/api/v1/brands/{agency}/withdrawal", Roles(&[G]), "a city-wide regulator only"),
    rule("GET", "/api/v1/audit", Roles(&[G, X]), "a city-wide regulator or a system admin"),
    // Pages: system admin
    rule("GET", "/admin/accounts", Roles(&[X]), ""),
    rule("GET", "/admin/accounts/new", Roles(&[X]), ""),
    rule("POST", "/admin/accounts/new", Roles(&[X]), ""),
    rule("GET", "/admin/accounts/{id}", Roles(&[X]), ""),
    rule("POST", "/admin/accounts/{id}/password", Roles(&[X]), "ends the account's sessions"),
    rule("POST", "/admin/accounts/{id}/disable", Roles(&[X]), "not one's own account; version checked"),
    rule("POST", "/admin/accounts/{id}/enable", Roles(&[X]), "version checked"),
    rule("POST", "/admin/accounts/{id}/access", Roles(&[X]), "not one's own role; version checked"),
    // Community operations (issue 13, parts 5-7): service points' kits, 家政驿站, volunteer service
    rule("GET", "/api/v1/service-points/{id}/operations", Roles(&[A]), "own point (another agency's: 404)"),
    rule("PUT", "/api/v1/service-points/{id}/hours", Roles(&[A]), "own point (another agency's: 404)"),
    rule("POST", "/api/v1/service-points/{id}/duties", Roles(&[A]), "own point; own worker with an active binding; no overlapping duty"),
    rule("POST", "/api/v1/service-points/{id}/tools", Roles(&[A]), "own point (another agency's: 404)"),
    rule("POST", "/api/v1/service-points/{id}/tools/{tool_id}/loans", Roles(&[A]), "own point's tool; own worker or a named volunteer; a unit in"),
    rule("POST", "/api/v1/service-points/{id}/loans/{loan_id}/return", Roles(&[A]), "own point's loan"),
    rule("POST", "/api/v1/service-points/{id}/events", Roles(&[A]), "own point (another agency's: 404)"),
    rule("GET", "/api/v1/agency/overdue-tools", Roles(&[A]), "own agency's points"),
    rule("GET", "/api/v1/stations", Roles(&[S, C]), "own school's stations, or the staff's area"),
    rule("POST", "/api/v1/stations", Roles(&[S]), "own school"),
    rule("POST", "/api/v1/stations/{id}/confirmation", Roles(&[C]), "a station in the staff's area (others: 404)"),
    rule("POST", "/api/v1/stations/{id}/end", Roles(&[S, C]), "own school's station, or one in the staff's area (others: 404)"),
    rule("GET", "/api/v1/volunteer/projects", Roles(&[C]), "the staff's area"),
    rule("POST", "/api/v1/volunteer/projects", Roles(&[C]), "for the staff's own area"),
    rule("POST", "/api/v1/volunteer/projects/{id}/events", Roles(&[C]), "a project of the staff's area; a community in it"),
    rule("GET", "/api/v1/volunteer/events", Public, ""),
    rule("POST", "/api/v1/volunteer/events/{id}/participants", Roles(&[A, S]), "as own agency or school"),
    rule("POST", "/api/v1/volunteer/participants/{id}/confirmation", Roles(&[C]), "an event in the staff's area (others: 404)"),
    rule("GET", "/api/v1/communities/{code}", Public, ""),
    rule("GET", "/agency/points/{id}", Roles(&[A]), "own point (another agency's: 404)"),
    rule("POST", "/agency/points/{id}/hours", Roles(&[A]), "own point"),
    rule("POST", "/agency/points/{id}/duties", Roles(&[A]), "own point; own worker with an active binding"),
    rule("POST", "/agency/points/{id}/duties/{duty_id}/remove", Roles(&[A]), "own point's duty"),
    rule("POST", "/agency/points/{id}/tools", Roles(&[A]), "own point"),
    rule("POST", "/agency/points/{id}/tools/{tool_id}/checkout", Roles(&[A]), "own point's tool; own worker or a named volunteer"),
    rule("POST", "/agency/points/{id}/loans/{loan_id}/return", Roles(&[A]), "own point's loan"),
    rule("POST", "/agency/points/{id}/events", Roles(&[A]), "own point"),
    rule("POST", "/agency/points/{id}/events/{event_id}/attendance", Roles(&[A]), "own point's event"),
    rule("GET", "/school/stations", Roles(&[S]), "own school"),
    rule("POST", "/school/stations", Roles(&[S]), "own school"),
    rule("POST", "/school/stations/{id}/end", Roles(&[S, C]), "own school's station (the staff's side: /community/stations)"),
    rule("GET", "/community/stations", Roles(&[C]), "the staff's area"),
    rule("POST", "/community/stations/{id}/confirm", Roles(&[C]), "a station in the staff's area (others: 404)"),
    rule("POST", "/community/stations/{id}/end", Roles(&[S, C]), "a station in the staff's area, or own school's (others: 404)"),
    rule("GET", "/community/volunteer", Roles(&[C]), "the staff's area"),
    rule("POST", "/community/volunteer", Roles(&[C]), "for the staff's own area"),
    rule("GET", "/community/volunteer/{id}", Roles(&[C]), "a project of the staff's area (others: 404)"),
    rule("POST", "/community/volunteer/{id}/events", Roles(&[C]), "a project of the staff's area; a community in it"),
    rule("POST", "/community/volunteer/participants/{id}/confirm", Roles(&[C]), "an event in the staff's area (others: 404)"),
    rule("GET", "/volunteer", Roles(&[A, S]), "own participations"),
    rule("POST", "/volunteer/events/{id}/join", Roles(&[A, S]), "as own agency or school"),
    rule("GET", "/communities/{code}", Public, ""),
];

/// The rule for a matched route, if the table has one.
pub fn rule_for(method: &Method, path: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.path == path && r.method == method.as_str())
}

/// Applies the table before the handler. The API documentation pages (`/api/docs`) are served
/// by their own router and are public.
pub async fn gate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(matched) = request.extensions().get::<MatchedPath>().map(|m| m.as_str().to_string()) else {
        return next.run(request).await;
    };
    if matched.starts_with("/api/docs") {
        return next.run(request).await;
    }
    // HEAD is answered by the GET route.
    let method = if request.method() == Method::HEAD { Method::GET } else { request.method().clone() };
    let Some(rule) = rule_for(&method, &matched) else {
        if RULES.iter().any(|r| r.path == matched) {
            // A method the route does not have: the router answers 405.
            return next.run(request).await;
        }
        tracing::error!(%matched, %method, "route without an access rule: refused");
        return AppError::Forbidden.into_response();
    };
    if rule.gate == Gate::Public {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    let viewer = match Viewer::from_request_parts(&mut parts, &state).await {
        Ok(viewer) => viewer,
        Err(error) => return error.into_response(),
    };
    if let Err(denied) = rule.gate.admits(viewer.session.as_ref().map(|s| s.principal.role)) {
        return denied.into_response();
    }
    crate::audit::record_write(&state, &viewer, &matched, Request::from_parts(parts, body), next).await
}
