//! The `lectern` command: the whole suite in one process (`lectern up`) and
//! the desk's command line. The library half exists so the suite tests boot
//! exactly what `lectern up` boots.

pub mod bench;
pub mod cli;
pub mod demo;
pub mod postgres;
pub mod suite;
