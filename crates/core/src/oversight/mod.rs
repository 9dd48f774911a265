//! Oversight: the plan's targets, evaluation, libraries and the plan's tasks; agencies' subsidy
//! claims checked against the platform's own records, and rectification orders after a penalty
//! or an upheld complaint.

pub mod brand;
pub mod claims;
pub mod rectification;
pub mod targets;
