//! The community network (家政进社区): service-point coverage, demand surveys and the gap between
//! what households ask for and what agencies offer; service points' daily operations (hours, duty,
//! the shared tool kit, events), 家政驿站 run by schools with communities, volunteer and
//! public-welfare service, and how often residents keep the worker they had.

pub mod coverage;
pub mod gap;
pub mod operations;
pub mod survey;
pub mod volunteer;
