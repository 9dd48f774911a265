//! The market (家政服务超市): the catalog, what agencies publish and at what price, when workers
//! are free, and the orders residents place.

pub mod assignment;
pub mod catalog;
pub mod contract;
pub mod menu;
pub mod order;
pub mod payment;
pub mod slot;
pub mod sms;
pub mod subsidy;

pub use catalog::{CatalogItem, PriceMode};
pub use order::{OrderStatus, OrderStep, Party};
