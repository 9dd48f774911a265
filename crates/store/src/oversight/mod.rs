//! Oversight: the plan's targets live from the records, their monthly series, brand recognition,
//! the audit of regulator and evaluator writes, and third-party evaluation.

pub mod audit;
pub mod disclosure;
pub mod evaluation;
pub mod targets;
