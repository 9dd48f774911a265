//! Oversight: the plan's targets live from the records, their monthly series, brand recognition,
//! the audit of regulator and evaluator writes, the key-agency and talent libraries (task 13)
//! and the plan's tasks with their responsible units (tasks 33-34).

pub mod audit;
pub mod library;
pub mod plan;
pub mod targets;
