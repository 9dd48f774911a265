//! The community network's records: service points' operations, 家政驿站, volunteer service,
//! and how often residents keep their worker.

pub mod operations;
pub mod volunteer;
