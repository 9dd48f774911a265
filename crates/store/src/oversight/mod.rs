//! Oversight: the plan's targets live from the records, their monthly series, brand recognition,
//! and the audit of regulator and evaluator writes.

pub mod audit;
pub mod targets;
