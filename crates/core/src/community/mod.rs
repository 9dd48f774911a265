//! The community network: service points' daily operations (hours, duty, the shared tool kit,
//! events), 家政驿站 run by schools with communities, volunteer and public-welfare service, and
//! how often residents keep the worker they had.

pub mod operations;
pub mod volunteer;
