//! Oversight: the plan's targets, evaluation, libraries and the plan's tasks.

pub mod brand;
pub mod evaluation;
pub mod targets;
