//! Oversight: the plan's targets, evaluation, libraries (task 13) and the plan's tasks with their
//! responsible units (tasks 33-34).

pub mod brand;
pub mod library;
pub mod plan;
pub mod targets;
