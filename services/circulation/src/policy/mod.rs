//! The library's rules as plain functions over plain types: no database,
//! no network, no clock of their own. Each takes what it judges as values
//! of its own types ([`borrower::Borrower`], [`borrower::Item`], a loan's
//! dates, a rule's [`rule::Terms`]) and answers with a decision or a
//! refusal with its reason. The use cases (`checkout`, `checkin`,
//! `renewal`, …) gather those values from the database and the other
//! services, ask here, and write what was decided; nothing here calls back
//! into them.

pub mod borrower;
pub mod calendar;
pub mod due;
pub mod eligibility;
pub mod fees;
pub mod fines;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod history;
pub mod holds;
pub mod reader_report;
pub mod renewal;
pub mod reports;
pub mod routing;
pub mod rule;
