//! Oversight of the plan: agencies' subsidy claims checked against the platform's own records,
//! and rectification orders after a penalty or an upheld complaint.

pub mod claims;
pub mod rectification;
