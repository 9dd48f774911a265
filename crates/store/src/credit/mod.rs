//! Credit persistence: signing keys, the append-only ledger and its checkpoints, certificates.

pub mod casework;
pub mod certificates;
pub mod consent;
pub mod keys;
pub mod ledger;
pub mod reports;
