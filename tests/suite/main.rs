//! Suite tests: the whole Lectern suite booted in-process on loopback
//! (every service and the gateway, real gRPC between them, real databases),
//! driven through the gateway the way a desk, a script or another school
//! system would drive it.
//!
//! The databases are SQLite files by default; with
//! `LECTERN_TEST_DATABASE_URL=postgres://…` every test gets fresh PostgreSQL
//! databases of its own, dropped afterwards. Either way each is a copy of
//! its service's migrated template (`lectern_common::testing`). That both
//! backends' migrations make the same tables is checked in `tests/schema`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod access;
mod bad_input;
mod batch_lookups;
mod bench;
mod calendars;
mod circulation;
mod cli;
mod collection;
mod demo;
mod desk_statistics;
mod erasure;
mod events;
mod family;
mod fees;
mod hold_shelf;
mod holds;
mod http_edge;
mod lost;
mod marc;
mod metrics;
mod outage;
mod overdue;
mod privacy;
mod profiles;
mod reader_changes;
mod reader_report;
mod readers;
mod readiness;
mod reminders;
mod renewals;
mod reports;
mod retries;
mod roster;
mod rules;
mod school_year;
mod scopes;
mod search;
mod search_index;
mod self_service;
mod sessions;
mod sip2;
mod stocktake;
mod summary;
mod traces;
mod transits;
mod up;
mod wechat;
