//! MARC in the catalog: importing MARC21 and CNMARC files ([`import`]
//! reads and checks, [`apply`] writes, `batch` writes a whole batch of
//! records at once), exporting a school's holdings as MARC21 ([`export`]),
//! and cataloguing a book by scanning its ISBN from a metadata source such
//! as the MARC pool ([`intake`]); [`local`] imports a file held in memory
//! without a server. The MARC formats themselves live in
//! `lectern_biblio::marc`; docs/marc.md is the librarian's guide.

pub mod apply;
mod batch;
pub mod export;
pub mod import;
pub mod intake;
pub mod local;
