//! Oversight: the plan's libraries of key agencies and talent (task 13) and the tracker of the
//! plan's tasks with their responsible units (tasks 33-34).

pub mod library;
pub mod plan;
