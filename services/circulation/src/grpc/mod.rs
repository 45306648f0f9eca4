//! The gRPC face of circulation: one file per service of
//! `lectern.circulation.v1`, each handler named after its RPC. A handler
//! takes the caller from the request, hands the request to the use case of
//! the same name and sends its answer; the use cases validate, decide and
//! write.

mod calendars;
mod fees;
mod holds;
mod loans;
mod rules;
