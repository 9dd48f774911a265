//! Oversight: the plan's targets, evaluation, libraries (task 13) and the plan's tasks with their
//! responsible units (tasks 33-34); agencies' subsidy claims checked against the platform's own
//! records, and rectification orders after a penalty or an upheld complaint.

pub mod brand;
pub mod claims;
pub mod evaluation;
pub mod library;
pub mod plan;
pub mod rectification;
pub mod targets;
