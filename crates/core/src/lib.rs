//! Pure domain rules for the jiazheng platform: identifiers that parse instead of validate,
//! the registry's vocabulary, and the field errors every layer reports. No IO lives here.

pub mod account;
pub mod calendar;
mod choice;
pub mod community;
pub mod credit;
pub mod division;
pub mod field;
pub mod ids;
pub mod market;
pub mod oversight;
pub mod registry;
pub mod workforce;

pub use field::{FieldError, FieldErrors};
