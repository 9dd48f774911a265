//! 家政进社区: service-point coverage, demand surveys, and the gap between what households ask
//! for and what agencies offer where they live.

pub mod coverage;
pub mod gap;
pub mod survey;
