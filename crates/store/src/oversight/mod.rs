//! Oversight: third-party evaluation on the plan's seven dimensions.

pub mod evaluation;
