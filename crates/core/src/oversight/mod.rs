//! Oversight: third-party evaluation of agencies, schools and communities on the plan's
//! dimensions.

pub mod evaluation;
